#!/usr/bin/python3
"""Calls one operation of the gateway's WSDL with a zeep generated client and zeep's WS-Security plugins.

Reads a JSON request on stdin, prints a JSON result: {"status", "result"} or {"status", "fault": {code, message}}.
Run with Debian's /usr/bin/python3 (python3-zeep, python3-xmlsec). Keys:
  wsdl: URL of ?wsdl; port: "CimiGatewayPort" | "CimiGatewayPort12"; op; args: keyword arguments
  username: {user, password, digest}
  signature: {key, cert, signature_method, digest_method}   (BinarySignature over Body + Timestamp)
  tamper: {"from": text, "to": text}   (changes the envelope after the wsse steps, before sending)
"""
import datetime
import json
import sys

import xmlsec
from lxml import etree
from zeep import Client, Settings
from zeep.exceptions import Fault
from zeep.helpers import serialize_object
from zeep.transports import Transport
from zeep.wsse import Compose
from zeep.wsse.signature import BinarySignature
from zeep.wsse.username import UsernameToken
from zeep.wsse.utils import WSU, get_security_header, get_timestamp


class AddTimestamp:
    """wsse plugin: a wsu:Timestamp in wsse:Security, added before signing so the signature covers it."""

    def apply(self, envelope, headers):
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        get_security_header(envelope).append(
            WSU.Timestamp(WSU.Created(get_timestamp(now, True)),
                          WSU.Expires(get_timestamp(now + datetime.timedelta(seconds=300), True))))
        return envelope, headers

    def verify(self, envelope):
        return envelope


class SignRequestsOnly(BinarySignature):
    """The gateway does not sign responses; stock zeep would reject every reply."""

    def verify(self, envelope):
        return envelope


class Tamper:
    """wsse step placed after the signer (zeep runs its plugins before wsse): edits the signed envelope in flight."""

    def __init__(self, old, new):
        self.old, self.new = old, new

    def apply(self, envelope, headers):
        text = etree.tostring(envelope).decode("utf-8")
        assert self.old in text, "tamper target not found"
        return etree.fromstring(text.replace(self.old, self.new).encode("utf-8")), headers

    def verify(self, envelope):
        return envelope


class RecordingTransport(Transport):
    status = None

    def post(self, address, message, headers):
        response = super().post(address, message, headers)
        RecordingTransport.status = response.status_code
        return response


def main():
    req = json.load(sys.stdin)
    wsse = None
    tamper = [Tamper(req["tamper"]["from"], req["tamper"]["to"])] if "tamper" in req else []
    if "username" in req:
        u = req["username"]
        wsse = Compose([UsernameToken(u["user"], u["password"], use_digest=u.get("digest", False))] + tamper)
    elif "signature" in req:
        s = req["signature"]
        wsse = Compose([AddTimestamp(), SignRequestsOnly(
            s["key"], s["cert"],
            signature_method=getattr(xmlsec.Transform, s.get("signature_method", "RSA_SHA256")),
            digest_method=getattr(xmlsec.Transform, s.get("digest_method", "SHA256")))] + tamper)
    client = Client(req["wsdl"], wsse=wsse, transport=RecordingTransport(timeout=20),
                    settings=Settings(strict=True))
    service = client.bind("CimiGatewayService", req.get("port", "CimiGatewayPort"))
    try:
        result = getattr(service, req["op"])(**req.get("args", {}))
        out = {"status": RecordingTransport.status, "result": serialize_object(result, dict)}
    except Fault as f:
        subcodes = [q.text if hasattr(q, "text") else str(q) for q in (getattr(f, "subcodes", None) or [])]
        out = {"status": RecordingTransport.status, "fault": {"code": str(f.code), "subcodes": subcodes, "message": f.message}}
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main()
