#!/usr/bin/python3
"""Enumerate through Debian's python3-winrm (pywinrm 0.3) Protocol.send_message with the wsmancli envelopes of
../shared/wsman-captures/02-wsmancli-enumerate-optimized.txt (requests 006 Enumerate, 007 Pull) and
06-... (request 039 Release), adapted: our ResourceURI, a fresh MessageID, a MaxEnvelopeSize header.

usage: 22-pywinrm-enumerate.py URL USER PASS RESOURCE_URI MODE(optimized|pulled) MAX_ELEMENTS MAX_ENVELOPE_SIZE
prints one JSON object: names (the Name / DeviceID / InstanceID of every item, in order), pages, largest response
size, whether the last response carried a context, and the fault pywinrm reports for a Pull on the released context.
"""
import json
import sys
import uuid
import xml.etree.ElementTree as ET

from winrm.exceptions import WinRMError
from winrm.protocol import Protocol

URL, USER, PASS, RURI, MODE, MAXEL, MAXENV = sys.argv[1:8]

NS = {
    's': 'http://www.w3.org/2003/05/soap-envelope',
    'wsa': 'http://schemas.xmlsoap.org/ws/2004/08/addressing',
    'wsman': 'http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd',
    'wsen': 'http://schemas.xmlsoap.org/ws/2004/09/enumeration',
}

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
        'xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" '
        'xmlns:wsen="http://schemas.xmlsoap.org/ws/2004/09/enumeration"><s:Header>'
        '<wsa:Action s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/09/enumeration/{action}</wsa:Action>'
        '<wsa:To s:mustUnderstand="true">http://127.0.0.1:47321/wsman</wsa:To>'
        '<wsman:ResourceURI s:mustUnderstand="true">{ruri}</wsman:ResourceURI>'
        '<wsa:MessageID s:mustUnderstand="true">uuid:{mid}</wsa:MessageID>'
        '<wsa:ReplyTo><wsa:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:Address></wsa:ReplyTo>'
        '<wsman:MaxEnvelopeSize s:mustUnderstand="true">{maxenv}</wsman:MaxEnvelopeSize>'
        '<wsman:RequestTotalItemsCountEstimate/></s:Header><s:Body>')
TAIL = '</s:Body></s:Envelope>'


def envelope(action, body):
    return HEAD.format(action=action, ruri=RURI, mid=uuid.uuid4(), maxenv=MAXENV) + body + TAIL


proto = Protocol(endpoint=URL, transport='basic', username=USER, password=PASS, server_cert_validation='ignore')

if MODE == 'optimized':
    body = ('<wsen:Enumerate><wsman:OptimizeEnumeration/><wsman:EnumerationMode>EnumerateObjectAndEPR</wsman:EnumerationMode>'
            '<wsman:MaxElements>{0}</wsman:MaxElements></wsen:Enumerate>').format(MAXEL)
else:
    body = '<wsen:Enumerate/>'

names = []
pages = 0
largest = 0
estimate = None
last_had_context = None
context = None
reply = proto.send_message(envelope('Enumerate', body))
while True:
    pages += 1
    largest = max(largest, len(reply))
    root = ET.fromstring(reply)
    est = root.find('s:Header/wsman:TotalItemsCountEstimate', NS)
    if est is not None:
        estimate = int(est.text)
    resp = root.find('s:Body/wsen:EnumerateResponse', NS)
    if resp is None:
        resp = root.find('s:Body/wsen:PullResponse', NS)
    items = resp.find('wsman:Items', NS)
    if items is None:
        items = resp.find('wsen:Items', NS)
    for item in (list(items) if items is not None else []):
        inst = item[0] if item.tag == '{%s}Item' % NS['wsman'] else item
        for child in inst:
            if child.tag.split('}')[1] in ('Name', 'DeviceID', 'InstanceID'):
                names.append(child.text)
                break
    ctx_el = resp.find('wsen:EnumerationContext', NS)
    context = ctx_el.text if ctx_el is not None and ctx_el.text else None
    last_had_context = ctx_el is not None
    # wsmancli's rule (docs/wsman.md §7.2): pull while the context has text
    if not context:
        break
    reply = proto.send_message(envelope('Pull', '<wsen:Pull><wsen:EnumerationContext>{0}</wsen:EnumerationContext>'
                                                '<wsen:MaxElements>{1}</wsen:MaxElements></wsen:Pull>'.format(context, MAXEL)))

# a second enumeration, released at once (capture 06 request 039), then pulled: InvalidEnumerationContext
root = ET.fromstring(proto.send_message(envelope('Enumerate', '<wsen:Enumerate/>')))
released = root.find('s:Body/wsen:EnumerateResponse/wsen:EnumerationContext', NS).text
proto.send_message(envelope('Release', '<wsen:Release><wsen:EnumerationContext>{0}</wsen:EnumerationContext></wsen:Release>'.format(released)))
fault = None
try:
    proto.send_message(envelope('Pull', '<wsen:Pull><wsen:EnumerationContext>{0}</wsen:EnumerationContext></wsen:Pull>'.format(released)))
except WinRMError as err:
    fault = str(err)

print(json.dumps({'names': names, 'pages': pages, 'largest': largest, 'estimate': estimate,
                  'lastHadContext': last_had_context, 'releasedPullFault': fault}))
