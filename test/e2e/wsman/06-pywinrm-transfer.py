#!/usr/bin/python3
"""Drive the gateway's /wsman with Debian's python3-winrm (pywinrm 0.3): Protocol.send_message with the
envelopes of ../shared/wsman-captures (03 invoke, 04 get/put, 06 create/delete, 08 identify and shell) adapted to
our classes and keys. Prints one JSON object of parsed results; the jest spec asserts on it.

usage: 06-pywinrm-transfer.py URL USER PASSWORD MACHINE_ID CONFIG_ID IMAGE_ID
"""
import json
import sys
import time
import xml.etree.ElementTree as ET

import winrm
from winrm.exceptions import InvalidCredentialsError, WinRMError, WinRMTransportError
from winrm.protocol import Protocol

URL, USER, PASSWORD, MACHINE, CONFIG, IMAGE = sys.argv[1:7]
S = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSMAN = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
WXF = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
WSMID = "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"
CS = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ComputerSystem"
VM = "http://schemas.cimi-gateway.invalid/wbem/wscim/1/cim-schema/2/CIMIGW_Machine"
JOB = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ConcreteJob"
ANON = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"

proto = Protocol(endpoint=URL, transport="basic", username=USER, password=PASSWORD, server_cert_validation="ignore")
out = {}


def body_child(xml):
    root = ET.fromstring(xml)
    body = root.find(f"{{{S}}}Body")
    return root, (list(body)[0] if len(body) else None)


def props(el):
    """instance element -> {property: text or None (xsi:nil)}; repeated elements joined with ','"""
    res = {}
    for c in el:
        name = c.tag.split("}")[1]
        nil = c.get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true"
        val = None if nil else "".join(c.itertext())
        res[name] = val if name not in res else f"{res[name]},{val}"
    return res


def selectors(el):
    return {s.get("Name"): s.text for s in el.iter(f"{{{WSMAN}}}Selector")}


# capture 08 request 003: Identify exactly as pywinrm sends it (no XML declaration)
identify = ('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
            'xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd">'
            '<s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>')
_, ir = body_child(proto.send_message(identify))
out["identify"] = {"tag": ir.tag, "protocol": ir.findtext(f"{{{WSMID}}}ProtocolVersion"), "vendor": ir.findtext(f"{{{WSMID}}}ProductVendor"),
                   "profiles": [e.text for e in ir.iter(f"{{{WSMID}}}SecurityProfileName")]}

# capture 04: wsmancli Get (selectors reversed, fractional timeout, Locale) with our keys
get = ('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Header>'
       '<wsa:Action s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/09/transfer/Get</wsa:Action>'
       '<wsa:To s:mustUnderstand="true">http://127.0.0.1:47321/wsman</wsa:To>'
       f'<wsman:ResourceURI s:mustUnderstand="true">{CS}</wsman:ResourceURI>'
       '<wsa:MessageID s:mustUnderstand="true">uuid:476ff10f-60f5-10f5-8002-01000000fc02</wsa:MessageID>'
       '<wsman:OperationTimeout>PT60.0S</wsman:OperationTimeout><wsman:MaxEnvelopeSize>153600</wsman:MaxEnvelopeSize>'
       '<wsman:Locale xml:lang="en-US" s:mustUnderstand="false"/>'
       f'<wsa:ReplyTo><wsa:Address>{ANON}</wsa:Address></wsa:ReplyTo>'
       f'<wsman:SelectorSet><wsman:Selector Name="Name">{MACHINE}</wsman:Selector><wsman:Selector Name="CreationClassName">CIM_ComputerSystem</wsman:Selector></wsman:SelectorSet>'
       '</s:Header><s:Body/></s:Envelope>')
root, inst = body_child(proto.send_message(get))
out["get"] = {"tag": inst.tag, "relatesTo": root.findtext(f".//{{{WSA}}}RelatesTo"), "action": root.findtext(f".//{{{WSA}}}Action"), "props": props(inst)}

# capture 04: the Put wsmancli sends after its Get (the base class element, ElementName changed)
put = get.replace("transfer/Get<", "transfer/Put<").replace("<s:Body/>", (
    f'<s:Body><p:CIM_ComputerSystem xmlns:p="{CS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    f'<p:CreationClassName>CIM_ComputerSystem</p:CreationClassName><p:ElementName>renamed-by-pywinrm</p:ElementName>'
    f'<p:EnabledState>{props(inst)["EnabledState"]}</p:EnabledState><p:Name>{MACHINE}</p:Name></p:CIM_ComputerSystem></s:Body>'))
_, pinst = body_child(proto.send_message(put))
out["put"] = props(pinst)

# capture 03: invoke RequestStateChange with __cimnamespace and an OptionSet (n1 declared on the Envelope)
invoke = ('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" '
          f'xmlns:n1="{CS}"><s:Header>'
          f'<wsa:Action s:mustUnderstand="true">{CS}/RequestStateChange</wsa:Action>'
          '<wsa:To s:mustUnderstand="true">http://127.0.0.1:47321/wsman</wsa:To>'
          f'<wsman:ResourceURI s:mustUnderstand="true">{CS}</wsman:ResourceURI>'
          '<wsa:MessageID s:mustUnderstand="true">uuid:478077a0-60f5-10f5-8002-01000000fc02</wsa:MessageID>'
          f'<wsa:ReplyTo><wsa:Address>{ANON}</wsa:Address></wsa:ReplyTo>'
          f'<wsman:SelectorSet><wsman:Selector Name="Name">{MACHINE}</wsman:Selector><wsman:Selector Name="CreationClassName">CIM_ComputerSystem</wsman:Selector>'
          '<wsman:Selector Name="__cimnamespace">root/cimv2</wsman:Selector></wsman:SelectorSet>'
          '<wsman:OptionSet><wsman:Option Name="foo">bar</wsman:Option></wsman:OptionSet>'
          '</s:Header><s:Body><n1:RequestStateChange_INPUT><n1:RequestedState>10</n1:RequestedState></n1:RequestStateChange_INPUT></s:Body></s:Envelope>')
_, rsc = body_child(proto.send_message(invoke))
job = rsc.find(f"{{{CS}}}Job")
out["invoke"] = {"tag": rsc.tag, "returnValue": rsc.findtext(f"{{{CS}}}ReturnValue"), "jobUri": job.findtext(f".//{{{WSMAN}}}ResourceURI"), "job": selectors(job)}

# poll the CIM_ConcreteJob
jobget = get.replace(CS, JOB).replace(
    f'<wsman:Selector Name="Name">{MACHINE}</wsman:Selector><wsman:Selector Name="CreationClassName">CIM_ComputerSystem</wsman:Selector>',
    f'<wsman:Selector Name="InstanceID">{out["invoke"]["job"]["InstanceID"]}</wsman:Selector>')
for _ in range(200):
    _, j = body_child(proto.send_message(jobget))
    jp = props(j)
    if jp["JobState"] in ("7", "8", "10"):
        break
    time.sleep(0.05)
out["job"] = jp

# capture 06: Create (body re-prefixed n1, declared on the Envelope) of the vendor class with its create inputs
create = ('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" '
          f'xmlns:n1="{VM}"><s:Header>'
          '<wsa:Action s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/09/transfer/Create</wsa:Action>'
          '<wsa:To s:mustUnderstand="true">http://127.0.0.1:47321/wsman</wsa:To>'
          f'<wsman:ResourceURI s:mustUnderstand="true">{CS}</wsman:ResourceURI>'
          '<wsa:MessageID s:mustUnderstand="true">uuid:477199a9-60f5-10f5-8002-01000000fc02</wsa:MessageID>'
          f'<wsa:ReplyTo><wsa:Address>{ANON}</wsa:Address></wsa:ReplyTo></s:Header>'
          f'<s:Body><n1:CIMIGW_Machine><n1:ElementName>vm-2</n1:ElementName><n1:MachineConfiguration>{CONFIG}</n1:MachineConfiguration>'
          f'<n1:MachineImage>{IMAGE}</n1:MachineImage></n1:CIMIGW_Machine></s:Body></s:Envelope>')
_, rc = body_child(proto.send_message(create))
out["create"] = {"tag": rc.tag, "uri": rc.findtext(f".//{{{WSMAN}}}ResourceURI"), "selectors": selectors(rc)}

# capture 06: Delete of a Machine that does not exist -> a SOAP fault pywinrm raises as WinRMError
delete = ('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Header>'
          '<wsa:Action s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete</wsa:Action>'
          '<wsa:To s:mustUnderstand="true">http://127.0.0.1:47321/wsman</wsa:To>'
          f'<wsman:ResourceURI s:mustUnderstand="true">{CS}</wsman:ResourceURI>'
          '<wsa:MessageID s:mustUnderstand="true">uuid:47728182-60f5-10f5-8002-01000000fc02</wsa:MessageID>'
          f'<wsa:ReplyTo><wsa:Address>{ANON}</wsa:Address></wsa:ReplyTo>'
          '<wsman:SelectorSet><wsman:Selector Name="Name">00000000-0000-4000-8000-000000000000</wsman:Selector><wsman:Selector Name="CreationClassName">CIM_ComputerSystem</wsman:Selector></wsman:SelectorSet>'
          '</s:Header><s:Body/></s:Envelope>')
try:
    proto.send_message(delete)
    out["deleteMissing"] = {"raised": None}
except WinRMError as e:
    out["deleteMissing"] = {"raised": "WinRMError", "message": str(e), "code": getattr(e, "code", None)}
except WinRMTransportError as e:
    out["deleteMissing"] = {"raised": "WinRMTransportError", "code": e.code, "text": e.response_text[:300]}

# capture 08 request 004: pywinrm's own shell (run_cmd) against a CIM endpoint -> DestinationUnreachable
try:
    winrm.Session(URL, auth=(USER, PASSWORD), transport="basic").run_cmd("ipconfig", ["/all"])
    out["shell"] = {"raised": None}
except WinRMError as e:
    out["shell"] = {"raised": "WinRMError", "message": str(e)}
except WinRMTransportError as e:
    out["shell"] = {"raised": "WinRMTransportError", "code": e.code, "text": e.response_text[:300]}

# wrong password -> 401 -> InvalidCredentialsError
try:
    Protocol(endpoint=URL, transport="basic", username=USER, password="wrong-password", server_cert_validation="ignore").send_message(get)
    out["badPassword"] = None
except InvalidCredentialsError as e:
    out["badPassword"] = "InvalidCredentialsError"

print(json.dumps(out))
