#!/usr/bin/python3
"""Independent client for the Meter operations (issue 14 §1): zeep (Debian python3-zeep) loads /soap?wsdl.

Usage: zeep_meters.py BASE_URL USER PASSWORD METER_ID FROM TO INTERVAL
Reads the Meter, its raw samples and its samples aggregated per INTERVAL seconds in [FROM, TO), then asks for
interval 0 (a fault). Prints one JSON line.
"""
import json
import sys

from requests import Session
from zeep import Client, Settings
from zeep.exceptions import Fault
from zeep.transports import Transport

BASE, USER, PASSWORD, METER, FROM, TO, INTERVAL = sys.argv[1:8]
session = Session()
session.auth = (USER, PASSWORD)
svc = Client(BASE + "/soap?wsdl", transport=Transport(session=session, timeout=30), settings=Settings(strict=True)).bind("CimiGatewayService", "CimiGatewayPort")


def sample(s):
    return {k: (s[k].isoformat() if hasattr(s[k], "isoformat") else s[k]) for k in ("timestamp", "value", "start", "min", "max", "avg", "count") if s[k] is not None}


out = {}
m = svc.GetMeter(id=METER)
out["meter"] = {"id": m["id"], "metric": m["metric"], "units": m["units"], "target": m["targetResource"]["id"]}
out["listed"] = [x["id"] for x in (svc.ListMeters(first=1, last=1000)["item"] or [])]
raw = svc.ListMeterSamples(id=METER)
out["raw"] = [sample(s) for s in raw["item"] or []]
agg = svc.ListMeterSamples(id=METER, **{"from": FROM}, to=TO, interval=int(INTERVAL))
out["agg"] = {"count": agg["count"], "items": [sample(s) for s in agg["item"] or []]}
try:
    svc.ListMeterSamples(id=METER, interval=0)
    out["zero"] = "accepted"
except Fault as f:
    detail = {el.tag.split("}")[1]: el.text for el in f.detail[0]} if f.detail is not None and len(f.detail) else {}
    out["zero"] = {"code": f.code, "detail": detail}
print(json.dumps(out, default=str))
