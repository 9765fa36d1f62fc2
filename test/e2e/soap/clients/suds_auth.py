#!/usr/bin/python3
"""suds (Debian python3-suds) against the SOAP 1.1 port: how its HTTP Basic options reach the gateway.

Usage: suds_auth.py BASE_URL USER PASSWORD REQUEST_ID_PREFIX
Calls ListMachineConfigurations once with suds' HttpAuthenticated transport (urllib's Basic handler: credentials
only after a 401) and once with the Authorization header set up front. Each call carries its own X-Request-Id
(PREFIX-challenge, PREFIX-preemptive) so the suite can count the audit records. Prints one JSON line.
"""
import base64
import json
import sys

import suds
from suds.client import Client
from suds.transport.https import HttpAuthenticated

BASE, USER, PASSWORD, RID = sys.argv[1:5]
out = {"suds": suds.__version__}


def call(tag, make):
    try:
        client = make()
        svc = client.service["CimiGatewayPort"]
        client.set_options(headers={**client.options.headers, "X-Request-Id": f"{RID}-{tag}"})
        r = svc.ListMachineConfigurations()
        out[tag] = {"ok": True, "count": int(getattr(r, "count", -1))}
    except Exception as e:  # reported, the suite decides
        out[tag] = {"ok": False, "error": f"{type(e).__name__}: {e}"[:500]}


def challenge():
    return Client(BASE + "/soap?wsdl", transport=HttpAuthenticated(username=USER, password=PASSWORD))


def preemptive():
    # wsdl/README.md's tip, verbatim (08-suds-interop.spec.ts checks it)
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    client = Client(BASE + "/soap?wsdl", headers={"Authorization": "Basic " + token})
    return client


call("challenge", challenge)
call("preemptive", preemptive)
print(json.dumps(out))
