#!/usr/bin/python3
"""Independent client for the SOAP admin operations (issue 16 §2): zeep (Debian python3-zeep) loads /soap?wsdl.

Usage: zeep_admin.py BASE_URL ADMIN PASSWORD TENANT
Prints one JSON line with what it saw; the jest suite asserts on it.
"""
import json
import sys

from requests import Session
from zeep import Client, Settings
from zeep.exceptions import Fault
from zeep.transports import Transport

BASE, USER, PASSWORD, TENANT = sys.argv[1:5]
session = Session()
session.auth = (USER, PASSWORD)
svc = Client(BASE + "/soap?wsdl", transport=Transport(session=session, timeout=30), settings=Settings(strict=True)).bind("CimiGatewayService", "CimiGatewayPort")
out = {}
svc.CreateTenant(name=TENANT)
svc.CreateUser(userName="z-" + TENANT, password="password-123", tenant=TENANT, roles=["user"])
out["listed"] = [{"name": t["name"], "disabled": t["disabled"]} for t in svc.ListTenants()["item"] if t["name"] == TENANT]
out["disabled"] = svc.DisableUser(userName="z-" + TENANT)["disabled"]
out["roles"] = svc.SetUserRoles(userName="z-" + TENANT, roles=["reader", "user"])["roles"]
out["resetLength"] = len(svc.ResetUserPassword(userName="z-" + TENANT)["password"])
try:
    svc.DeleteTenant(name=TENANT)
    out["deleteNonEmpty"] = "deleted"
except Fault as f:
    detail = {el.tag.split("}")[1]: el.text for el in f.detail[0]} if f.detail is not None and len(f.detail) else {}
    out["deleteNonEmpty"] = {"code": f.code, "message": f.message, "detail": detail}
svc.DeleteUser(userName="z-" + TENANT)
svc.DeleteTenant(name=TENANT)
out["afterDelete"] = [t["name"] for t in svc.ListTenants()["item"] if t["name"] == TENANT]
print(json.dumps(out, default=str))
