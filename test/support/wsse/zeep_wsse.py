#!/usr/bin/python3
"""Builds a WS-Security envelope with zeep's own wsse plugins (the independent client), offline.

Reads one JSON request (prints the envelope) or a JSON list of them (prints a JSON list of envelopes) on stdin. Run with Debian's /usr/bin/python3 (python3-zeep,
python3-xmlsec). Keys:
  soap: "1.1" | "1.2"; body: XML of the Body child (namespace-qualified)
  username: {user, password, digest: bool, created_offset: seconds (optional)}
  timestamp: {offset: seconds added to now for Created, ttl: seconds}
  signature: {key, cert, binary: bool, signature_method: "RSA_SHA256"|"RSA_SHA1"|..., digest_method: "SHA256"|...}
"""
import datetime
import json
import sys

import xmlsec
from lxml import etree
from zeep.wsse.signature import BinarySignature, Signature
from zeep.wsse.username import UsernameToken
from zeep.wsse.utils import WSU, get_security_header, get_timestamp

SOAP_NS = {"1.1": "http://schemas.xmlsoap.org/soap/envelope/", "1.2": "http://www.w3.org/2003/05/soap-envelope"}


def build(req):
    ns = SOAP_NS[req.get("soap", "1.1")]
    envelope = etree.Element("{%s}Envelope" % ns, nsmap={"soap-env": ns})
    etree.SubElement(envelope, "{%s}Header" % ns)
    body = etree.SubElement(envelope, "{%s}Body" % ns)
    body.append(etree.fromstring(req["body"]))
    headers = {}
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)

    if "username" in req:
        u = req["username"]
        created = now + datetime.timedelta(seconds=u["created_offset"]) if "created_offset" in u else None
        token = UsernameToken(u["user"], u["password"], use_digest=u.get("digest", False), created=created,
                              zulu_timestamp=u.get("zulu", False))
        envelope, headers = token.apply(envelope, headers)

    if "timestamp" in req:  # the wsu:Timestamp goes in before signing, so the signature covers it
        t = req["timestamp"]
        created = now + datetime.timedelta(seconds=t.get("offset", 0))
        stamp = WSU.Timestamp(WSU.Created(get_timestamp(created, True)),
                              WSU.Expires(get_timestamp(created + datetime.timedelta(seconds=t.get("ttl", 300)), True)))
        get_security_header(envelope).append(stamp)

    if "signature" in req:
        s = req["signature"]
        cls = BinarySignature if s.get("binary") else Signature
        signer = cls(s["key"], s["cert"],
                     signature_method=getattr(xmlsec.Transform, s.get("signature_method", "RSA_SHA256")),
                     digest_method=getattr(xmlsec.Transform, s.get("digest_method", "SHA256")))
        envelope, headers = signer.apply(envelope, headers)

    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8").decode("utf-8")


def main():
    req = json.load(sys.stdin)
    sys.stdout.write(json.dumps([build(r) for r in req]) if isinstance(req, list) else build(req))


if __name__ == "__main__":
    main()
