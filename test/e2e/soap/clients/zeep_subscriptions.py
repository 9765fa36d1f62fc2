#!/usr/bin/python3
"""Independent client for the subscription operations (issue 14 §2): zeep (Debian python3-zeep) loads /soap?wsdl.

Usage: zeep_subscriptions.py BASE_URL USER PASSWORD NOTIFY_TO
       zeep_subscriptions.py BASE_URL USER PASSWORD --parse NOTIFICATION_FILE
The first form subscribes NOTIFY_TO to STOPPED Events on the SOAP 1.1 port, reads, renews and lists it, asks
for a bad address (a fault), and makes and unsubscribes a second one on the SOAP 1.2 port; the subscription to
NOTIFY_TO stays. The second form decodes a notification the gateway sent (t:EventNotification) with the WSDL's
types, as a receiver generated from the WSDL would. Prints one JSON line.
"""
import datetime
import json
import sys

from lxml import etree
from requests import Session
from zeep import Client, Settings
from zeep.exceptions import Fault
from zeep.transports import Transport

BASE, USER, PASSWORD = sys.argv[1:4]
session = Session()
session.auth = (USER, PASSWORD)
client = Client(BASE + "/soap?wsdl", transport=Transport(session=session, timeout=30), settings=Settings(strict=True))
TNS = "urn:cimi-gateway:soap:1:types"

if sys.argv[4] == "--parse":
    root = etree.parse(sys.argv[5]).getroot()
    body = root.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    note = client.get_element("{%s}EventNotification" % TNS).parse(body[0], client.wsdl.types)
    header = root.find("{http://schemas.xmlsoap.org/soap/envelope/}Header/{%s}NotificationId" % TNS)
    ev = note["event"]
    print(json.dumps({"subscription": note["subscription"], "notificationId": note["notificationId"], "header": header.text,
                      "event": {"id": ev["id"], "eventLog": ev["eventLog"], "state": ev["content"]["state"], "resource": ev["content"]["resource"]["id"]}}))
    sys.exit(0)

NOTIFY_TO = sys.argv[4]
out = {}
svc = client.bind("CimiGatewayService", "CimiGatewayPort")
flt = {"condition": [{"attribute": "state", "operator": "eq", "stringValue": "STOPPED"}]}
s = svc.Subscribe(notifyTo=NOTIFY_TO, filter=flt)
out["subscribed"] = {"id": s["id"], "door": s["door"], "notifyTo": s["notifyTo"]}
out["got"] = svc.GetSubscription(id=s["id"])["id"]
at = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + datetime.timedelta(hours=1)
out["renewed"] = svc.RenewSubscription(id=s["id"], expires=at)["expires"].isoformat() == at.isoformat()
listed = svc.ListSubscriptions()
out["listed"] = [x["id"] for x in listed["item"] or []]
try:
    svc.Subscribe(notifyTo="file:///etc/passwd")
    out["bad"] = "accepted"
except Fault as f:
    detail = {el.tag.split("}")[1]: el.text for el in f.detail[0]} if f.detail is not None and len(f.detail) else {}
    out["bad"] = {"code": detail.get("code"), "kind": detail.get("kind")}
svc12 = client.bind("CimiGatewayService", "CimiGatewayPort12")
s12 = svc12.Subscribe(notifyTo=NOTIFY_TO + "-12")
svc12.Unsubscribe(id=s12["id"])
try:
    svc12.GetSubscription(id=s12["id"])
    out["after12"] = "found"
except Fault as f:
    out["after12"] = {el.tag.split("}")[1]: el.text for el in f.detail[0]}.get("kind")
print(json.dumps(out, default=str))
