#!/usr/bin/python3
"""Independent client for the OVF operations (issue 17): zeep (Debian python3-zeep) loads /soap?wsdl.

Usage: zeep_ovf.py BASE_URL ADMIN PASSWORD OVF_FILE
Imports the descriptor as xsd:base64Binary, exports the template as an OVA and imports that back; then sends a
descriptor with a DTD and reports the typed fault. Prints one JSON line.
"""
import json
import sys

from requests import Session
from zeep import Client, Settings
from zeep.exceptions import Fault
from zeep.transports import Transport

BASE, USER, PASSWORD, FILE = sys.argv[1:5]
session = Session()
session.auth = (USER, PASSWORD)
out = {}
for port in ["CimiGatewayPort", "CimiGatewayPort12"]:
    svc = Client(BASE + "/soap?wsdl", transport=Transport(session=session, timeout=30), settings=Settings(strict=True)).bind("CimiGatewayService", port)
    with open(FILE, "rb") as f:
        descriptor = f.read()
    imp = svc.ImportSystemTemplate(ovfPackage=descriptor)
    ova = svc.ExportSystemTemplate(id=imp["resource"]["id"], format="application/x-ova")
    back = svc.ImportSystemTemplate(ovfPackage=ova["ovfPackage"])
    r = {
        "job": imp["job"]["state"],
        "components": sorted(d["name"] + ":" + d["type"] for d in imp["resource"]["componentDescriptors"]),
        "warnings": list(imp["warning"] or []),
        "ovaName": ova["fileName"],
        "ovaMedia": ova["mediaType"],
        "ustar": ova["ovfPackage"][257:262].decode("latin1"),
        "backComponents": sorted(d["name"] + ":" + d["type"] for d in back["resource"]["componentDescriptors"]),
    }
    try:
        svc.ImportSystemTemplate(ovfPackage=b'<!DOCTYPE Envelope [<!ENTITY x "y">]><Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1"/>')
        r["dtd"] = "imported"
    except Fault as f:
        detail = {el.tag.split("}")[1]: el.text for el in f.detail[0]} if f.detail is not None and len(f.detail) else {}
        r["dtd"] = {"code": f.code, "detail": detail}
    out[port] = r
print(json.dumps(out, default=str))
