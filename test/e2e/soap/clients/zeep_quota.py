#!/usr/bin/python3
"""Independent client for the quota operations (issue 16 §3): zeep (Debian python3-zeep) loads /soap?wsdl.

Usage: zeep_quota.py BASE_URL ADMIN PASSWORD TENANT MACHINE_CONFIG_ID MACHINE_IMAGE_ID
Sets the tenant's machine limit to what it uses, tries one more machine, removes the limit. Prints one JSON line.
"""
import json
import sys

from requests import Session
from zeep import Client, Settings
from zeep.exceptions import Fault
from zeep.transports import Transport

BASE, USER, PASSWORD, TENANT, CONFIG, IMAGE = sys.argv[1:7]
session = Session()
session.auth = (USER, PASSWORD)
svc = Client(BASE + "/soap?wsdl", transport=Transport(session=session, timeout=30), settings=Settings(strict=True)).bind("CimiGatewayService", "CimiGatewayPort")


def lines(quota):
    return {m["metric"]: {"limit": m["limit"], "used": m["used"]} for m in quota["metric"]}


out = {}
used = lines(svc.GetQuota(tenant=TENANT))["machines"]["used"]
out["set"] = lines(svc.SetQuota(tenant=TENANT, limit=[{"metric": "machines", "max": used}, {"metric": "cpu", "max": 1000}]))
try:
    svc.CreateMachine(name="zeep-over-quota", machineTemplate={"value": {"machineConfig": {"ref": CONFIG}, "machineImage": {"ref": IMAGE}}})
    out["create"] = "created"
except Fault as f:
    detail = {el.tag.split("}")[1]: el.text for el in f.detail[0]} if f.detail is not None and len(f.detail) else {}
    out["create"] = {"code": f.code, "message": f.message, "detail": detail}
out["cleared"] = lines(svc.SetQuota(tenant=TENANT, limit=[{"metric": "machines"}, {"metric": "cpu"}]))
print(json.dumps(out, default=str))
