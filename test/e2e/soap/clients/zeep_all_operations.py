#!/usr/bin/python3
"""Generated-client interop: zeep (Debian python3-zeep) loads /soap?wsdl and calls EVERY operation on both ports.

Usage: zeep_all_operations.py BASE_URL USER PASSWORD
Prints one JSON line: {"wsdlWarnings": [...], "operations": [...], "ports": {port: {"called": {op: "ok"}, "error": str|None}},
"faults": [...]}. The jest suite asserts on it; this script only drives the client and reports.
"""
import json
import sys
import time
import traceback
import uuid
import warnings

from requests import Session
from zeep import Client, Settings
from zeep.exceptions import Fault
from zeep.transports import Transport

BASE, USER, PASSWORD = sys.argv[1], sys.argv[2], sys.argv[3]
SERVICE, PORTS = "CimiGatewayService", ["CimiGatewayPort", "CimiGatewayPort12"]
FINAL = ("SUCCESS", "FAILED", "STOPPED")

session = Session()
session.auth = (USER, PASSWORD)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    client = Client(BASE + "/soap?wsdl", transport=Transport(session=session, timeout=30), settings=Settings(strict=True))
wsdl_warnings = [str(w.message) for w in caught if "cgi" not in str(w.message)]
operations = sorted(client.wsdl.bindings[list(client.wsdl.bindings)[0]]._operations.keys())


class Port:
    def __init__(self, name):
        self.svc = client.bind(SERVICE, name)
        self.called = {}
        self.tag = "p11" if name == "CimiGatewayPort" else "p12"

    def __call__(self, op, **kw):
        """zeep returns the only child of a response wrapper itself (Get*: the resource, Delete*: the Job)."""
        r = getattr(self.svc, op)(**kw)
        self.called[op] = "ok"
        return r

    def wait(self, job, want="SUCCESS"):
        for _ in range(600):
            j = self("GetJob", id=job["id"])
            if j["state"] in FINAL:
                assert j["state"] in want.split("|"), "job %s %s ended %s: %s" % (j["id"], j["action"], j["state"], j["statusMessage"])
                return j
            time.sleep(0.02)
        raise AssertionError("job %s did not end" % job["id"])

    def state(self, getter, rid, want):
        for _ in range(300):
            s = self(getter, id=rid)["state"]
            if s == want:
                return
            time.sleep(0.02)
        raise AssertionError("%s %s is %s, not %s" % (getter, rid, s, want))


def catalog(p, t, n):
    """Create/Get/List/Update/Delete of a type created by value; returns the id of a second, kept instance."""
    first = p("Create" + t, name="%s-%s-tmp" % (n, p.tag), **VALUES[t])
    assert first["job"]["state"] == "SUCCESS", first["job"]
    rid = first["resource"]["id"]
    assert p("Get" + t, id=rid)["name"] == "%s-%s-tmp" % (n, p.tag)
    lst = p("List" + t + "s", filter={"condition": [{"attribute": "name", "operator": "eq", "stringValue": "%s-%s-tmp" % (n, p.tag)}]})
    assert lst["count"] == 1 and lst["item"][0]["id"] == rid, lst
    upd = p("Update" + t, id=rid, description="updated", expectedVersion=first["resource"]["version"])
    assert upd["resource"]["description"] == "updated" and upd["job"]["action"] == "edit"
    assert p("Delete" + t, id=rid)["state"] == "SUCCESS"
    return p("Create" + t, name="%s-%s" % (n, p.tag), **VALUES[t])["resource"]["id"]


VALUES = {}


def scenario(p):
    global VALUES
    # --- catalog: configurations and templates by value ---
    VALUES = {
        "MachineConfiguration": {"cpu": 2, "memory": 2097152, "disks": [{"capacity": 1000000, "format": "ext4"}], "cpuArch": "x86_64"},
        "VolumeConfiguration": {"capacity": 2000000, "format": "ext4"},
        "NetworkConfiguration": {"networkType": "PRIVATE", "mtu": 1500},
        "NetworkPortConfiguration": {"portType": "ACCESS"},
        "CredentialTemplate": {"userName": "ops", "password": "s3cret-pw"},
    }
    mc = catalog(p, "MachineConfiguration", "mc")
    vc = catalog(p, "VolumeConfiguration", "vc")
    nc = catalog(p, "NetworkConfiguration", "nc")
    npc = catalog(p, "NetworkPortConfiguration", "npc")
    catalog(p, "CredentialTemplate", "ct")

    # --- images ---
    mi = p("CreateMachineImage", name="img-" + p.tag, imageLocation="http://images.example/%s.qcow2" % p.tag, type="IMAGE")
    assert mi["resource"]["state"] == "CREATING"
    p.wait(mi["job"])
    mi_id = mi["resource"]["id"]
    assert p("GetMachineImage", id=mi_id)["state"] == "AVAILABLE"
    assert p("ListMachineImages", filter={"condition": [{"attribute": "name", "operator": "eq", "stringValue": "img-" + p.tag}]})["count"] == 1
    p("UpdateMachineImage", id=mi_id, description="golden")
    vi = p("CreateVolumeImage", name="vimg-" + p.tag, imageLocation="http://images.example/%s.raw" % p.tag, bootable=True)
    p.wait(vi["job"])
    vi_id = vi["resource"]["id"]
    p("GetVolumeImage", id=vi_id)
    p("ListVolumeImages", orderBy=[{"attribute": "name", "descending": True}], first=1, last=5)
    p("UpdateVolumeImage", id=vi_id, description="raw")

    VALUES.update({
        "MachineTemplate": {"machineConfig": {"ref": mc}, "machineImage": {"ref": mi_id}, "initialState": "STOPPED"},
        "VolumeTemplate": {"volumeConfig": {"ref": vc}},
        "NetworkTemplate": {"networkConfig": {"ref": nc}},
    })
    mt = catalog(p, "MachineTemplate", "mt")
    vt = catalog(p, "VolumeTemplate", "vt")
    nt = catalog(p, "NetworkTemplate", "nt")

    # --- credentials ---
    cr = p("CreateCredential", name="cred-tmp-" + p.tag, credentialTemplate={"value": {"userName": "root", "password": "pw-123456"}})
    cr_id = cr["resource"]["id"]
    got = p("GetCredential", id=cr_id)
    assert got["userName"] == "root" and got["password"] is None, got  # secrets never come back
    p("ListCredentials")
    p("UpdateCredential", id=cr_id, userName="admin2")
    p("DeleteCredential", id=cr_id)
    cred = p("CreateCredential", name="cred-" + p.tag, credentialTemplate={"ref": catalog_ct_id(p)})["resource"]["id"]

    # --- networks, ports, addresses, forwarding groups ---
    net = p("CreateNetwork", name="net-" + p.tag, networkTemplate={"ref": nt})
    p.wait(net["job"])
    net_id = net["resource"]["id"]
    p.wait(p("StartNetwork", id=net_id)["job"])
    p.state("GetNetwork", net_id, "STARTED")
    p.wait(p("StopNetwork", id=net_id)["job"])
    p("ListNetworks")
    p("UpdateNetwork", id=net_id, description="lan")
    VALUES.update({
        "NetworkPortTemplate": {"network": net_id, "networkPortConfig": {"ref": npc}},
        "AddressTemplate": {"ip": "10.0.0.5", "allocation": "static", "protocol": "IPv4", "dns": ["10.0.0.1", "10.0.0.2"], "network": net_id},
        "ForwardingGroupTemplate": {"networks": [net_id]},
    })
    npt = catalog(p, "NetworkPortTemplate", "npt")
    at = catalog(p, "AddressTemplate", "at")
    fgt = catalog(p, "ForwardingGroupTemplate", "fgt")
    port = p("CreateNetworkPort", name="port-" + p.tag, networkPortTemplate={"ref": npt})
    p.wait(port["job"])
    port_id = port["resource"]["id"]
    p.wait(p("StartNetworkPort", id=port_id)["job"])
    p.wait(p("StopNetworkPort", id=port_id)["job"])
    p("GetNetworkPort", id=port_id)
    p("ListNetworkPorts")
    p("UpdateNetworkPort", id=port_id, description="p")
    addr = p("CreateAddress", name="addr-" + p.tag, addressTemplate={"ref": at, "value": {"ip": "10.0.0.6"}})
    assert addr["resource"]["ip"] == "10.0.0.6" and addr["resource"]["dns"] == ["10.0.0.1", "10.0.0.2"], addr["resource"]
    addr_id = addr["resource"]["id"]
    p("GetAddress", id=addr_id)
    p("ListAddresses")
    p("UpdateAddress", id=addr_id, hostname="h1")
    fg = p("CreateForwardingGroup", name="fg-" + p.tag, forwardingGroupTemplate={"ref": fgt})
    fg_id = fg["resource"]["id"]
    p("GetForwardingGroup", id=fg_id)
    p("ListForwardingGroups")
    p("UpdateForwardingGroup", id=fg_id, description="fg")

    # --- volumes ---
    vol = p("CreateVolume", name="vol-" + p.tag, volumeTemplate={"ref": vt})
    p.wait(vol["job"])
    vol_id = vol["resource"]["id"]
    assert p("GetVolume", id=vol_id)["capacity"] == 2000000
    p("ListVolumes")
    p("UpdateVolume", id=vol_id, description="data")
    restored = p("RestoreVolume", id=vol_id, image=vi_id)
    assert restored["resource"]["state"] == "RESTORING", restored
    p.wait(restored["job"])

    # --- machines: every action, attach/detach, sub-collections ---
    m = p("CreateMachine", name="vm-" + p.tag, machineTemplate={"ref": mt, "value": {"networkInterfaces": [{"network": net_id}], "credential": {"ref": cred}}})
    assert m["resource"]["state"] == "CREATING" and m["job"]["state"] in ("QUEUED", "RUNNING")
    p.wait(m["job"])
    m_id = m["resource"]["id"]
    got = p("GetMachine", id=m_id)
    assert got["state"] == "STOPPED" and got["cpu"] == 2 and isinstance(got["cpu"], int), got
    assert p("ListMachines", filter={"combine": "all", "condition": [{"attribute": "cpu", "operator": "ge", "intValue": 2}, {"attribute": "name", "operator": "eq", "stringValue": "vm-" + p.tag}]})["count"] == 1
    for action, want in [("StartMachine", "STARTED"), ("PauseMachine", "PAUSED"), ("StartMachine", "STARTED"), ("SuspendMachine", "SUSPENDED")]:
        r = p(action, id=m_id)
        assert r["job"]["action"] == action[: -len("Machine")].lower(), r["job"]
        p.wait(r["job"])
        p.state("GetMachine", m_id, want)
    p.wait(p("StopMachine", id=m_id, force=True)["job"])
    p.wait(p("RestartMachine", id=m_id, force=False)["job"])
    p.state("GetMachine", m_id, "STARTED")
    # --- its Meters while it runs (the suite samples every second: METER_SAMPLE_SECONDS=1) ---
    meters = []
    for _ in range(200):
        meters = [x for x in (p("ListMeters", first=1, last=1000)["item"] or []) if x["targetResource"]["id"] == m_id]
        if meters:
            break
        time.sleep(0.05)
    assert meters, "no Meter of the running Machine"
    cpu = [x for x in meters if x["metric"] == "cpu.time"][0]
    assert p("GetMeter", id=cpu["id"])["units"] == "nanoseconds"
    agg = p("ListMeterSamples", id=cpu["id"], interval=3600)
    assert agg["count"] >= 1 and agg["item"][0]["count"] >= 1 and agg["item"][0]["min"] <= agg["item"][0]["max"], agg
    stopped = p("StopMeter", id=cpu["id"])
    assert stopped["meter"]["state"] == "STOPPED" and stopped["meter"]["stopTime"] is not None and stopped["job"]["state"] == "SUCCESS", stopped
    started = p("StartMeter", id=cpu["id"])
    assert started["meter"]["state"] == "STARTED" and started["meter"]["stopTime"] is None, started
    # a Meter from a MeterTemplate (DSP0263 2.0.0 5.17.4.1): configuration and template by value, then the Meter
    VALUES["MeterConfiguration"] = {"aspect": "urn:cimi-gateway:meter:memory.used", "units": "KB", "timeScope": "Point", "isContinuous": True}
    mcfg = catalog(p, "MeterConfiguration", "mcfg")
    VALUES["MeterTemplate"] = {"targetResource": {"type": "Machine", "id": m_id}, "meterConfig": {"ref": mcfg}}
    mtpl = catalog(p, "MeterTemplate", "mtpl")
    made = p("CreateMeter", name="mem-" + p.tag, meterTemplate={"ref": mtpl})
    assert made["meter"]["metric"] == "memory.used" and made["meter"]["targetResource"]["id"] == m_id and made["job"]["state"] == "SUCCESS", made
    assert p("GetMeter", id=made["meter"]["id"])["name"] == "mem-" + p.tag
    assert p("DeleteMeter", id=made["meter"]["id"])["state"] == "SUCCESS"
    p("DeleteMeterTemplate", id=mtpl)
    p("DeleteMeterConfiguration", id=mcfg)
    p.wait(p("StopMachine", id=m_id)["job"])
    p("UpdateMachine", id=m_id, description="web server", properties={"property": [{"key": "tier", "value": "web"}]})
    assert p("GetMachine", id=m_id)["properties"]["property"][0]["value"] == "web"
    att = p("AttachVolume", machineId=m_id, volume=vol_id, initialLocation="/dev/vdb")
    p.wait(att["job"])
    mv_id = att["resource"]["id"]
    assert p("ListMachineVolumes", machineId=m_id)["count"] == 1
    assert p("GetMachineVolume", machineId=m_id, id=mv_id)["volume"] == vol_id
    disks = p("ListMachineDisks", machineId=m_id)
    assert disks["count"] == 1
    p("GetMachineDisk", machineId=m_id, id=disks["item"][0]["id"])
    nics = p("ListMachineNetworkInterfaces", machineId=m_id)
    assert nics["count"] == 1 and nics["item"][0]["network"] == net_id, nics
    p("GetMachineNetworkInterface", machineId=m_id, id=nics["item"][0]["id"])
    p.wait(p("DetachVolume", machineId=m_id, machineVolumeId=mv_id))

    # --- jobs: stop a running one (restore is slowed by SIM_STEP_LATENCY_MS), delete a finished one ---
    restore = p("RestoreMachine", id=m_id, image=mi_id)
    stopped = retry_conflict(lambda: p("StopJob", id=restore["job"]["id"]))
    assert stopped["state"] == "STOPPING", stopped
    # the engine honours a stop between provider steps; a one-step job may still complete (DSP0263 2.0.0 5.17.1)
    p.wait(stopped, want="STOPPED|SUCCESS")
    jobs = p("ListJobs", filter={"condition": [{"attribute": "action", "operator": "eq", "stringValue": "restore"}]})
    assert jobs["count"] >= 1
    p("DeleteJob", id=restore["job"]["id"])

    # --- systems ---
    VALUES["SystemTemplate"] = {"componentDescriptors": [
        {"name": "web", "type": "Machine", "quantity": 2, "machineTemplate": {"ref": mt}},
        {"name": "data", "type": "Volume", "volumeTemplate": {"ref": vt}},
    ]}
    st = catalog(p, "SystemTemplate", "st")
    got = p("GetSystemTemplate", id=st)
    assert got["componentDescriptors"][0]["machineTemplate"]["ref"] == mt, got
    sysr = p("CreateSystem", name="sys-" + p.tag, systemTemplate={"ref": st})
    p.wait(sysr["job"])
    s_id = sysr["resource"]["id"]
    for action in ["StartSystem", "PauseSystem", "StopSystem", "RestartSystem", "SuspendSystem", "StopSystem"]:
        p.wait(p(action, id=s_id, **({"force": True} if action == "StopSystem" else {}))["job"])
    comps = p("ListSystemComponents", systemId=s_id, componentType="Machine")
    assert comps["count"] == 2 and comps["item"][0]["componentType"] == "Machine", comps
    p("GetSystemComponent", systemId=s_id, componentType="Machine", id=comps["item"][0]["id"])
    p("GetSystem", id=s_id)
    p("ListSystems")
    p("UpdateSystem", id=s_id, description="two web servers")
    # --- subscriptions (issue 14 §2): zeep unwraps the one-child responses to the Subscription ---
    sub = p("Subscribe", notifyTo="http://127.0.0.1:9/zeep-" + p.tag)
    assert p("GetSubscription", id=sub["id"])["notifyTo"] == sub["notifyTo"], sub
    assert p("RenewSubscription", id=sub["id"])["expires"] >= sub["expires"], sub
    assert sub["id"] in [x["id"] for x in (p("ListSubscriptions")["item"] or [])], sub
    p("Unsubscribe", id=sub["id"])
    # --- OVF (issue 17): the package as xsd:base64Binary both ways ---
    ex = p("ExportSystem", id=s_id)
    assert ex["mediaType"] == "application/ovf+xml" and b"VirtualSystem" in ex["ovfPackage"], ex["fileName"]
    imp = p("ImportSystemTemplate", ovfPackage=ex["ovfPackage"])
    assert imp["job"]["state"] == "SUCCESS" and len(imp["resource"]["componentDescriptors"]) >= 2, imp
    ova = p("ExportSystemTemplate", id=imp["resource"]["id"], format="application/x-ova")
    assert ova["fileName"].endswith(".ova") and ova["ovfPackage"][257:262] == b"ustar", ova["fileName"]
    # DSP0263 2.0.0 5.13.2: the package's templates and a System from them, one Job
    sysimp = p("ImportSystem", ovfPackage=ex["ovfPackage"])
    assert sysimp["resource"]["id"] and sysimp["job"]["state"] in ("QUEUED", "RUNNING", "SUCCESS"), sysimp
    p.wait(sysimp["job"])
    p.wait(p("DeleteSystem", id=sysimp["resource"]["id"]))
    p.wait(p("DeleteSystem", id=s_id))

    # --- admin ---
    tenant = "t-" + p.tag + "-" + uuid.uuid4().hex[:6]
    assert p("CreateTenant", name=tenant)["name"] == tenant
    u = p("CreateUser", userName="u-" + tenant, password="password-123", tenant=tenant, roles=["user", "reader"])
    assert u["roles"] == ["user", "reader"]
    assert any(x["userName"] == "u-" + tenant for x in p("ListUsers")["item"])
    assert any(x["name"] == tenant for x in p("ListTenants")["item"])
    assert p("DisableTenant", name=tenant)["disabled"] is True and p("EnableTenant", name=tenant)["disabled"] is False
    assert p("SetUserRoles", userName="u-" + tenant, roles=["reader"])["roles"] == ["reader"]
    p("SetUserPassword", userName="u-" + tenant, password="password-456")
    assert len(p("ResetUserPassword", userName="u-" + tenant)["password"]) >= 16
    assert p("DisableUser", userName="u-" + tenant)["disabled"] is True and p("EnableUser", userName="u-" + tenant)["disabled"] is False

    # --- WS-Security trust store (admin) ---
    c = p("RegisterCertificate", userName="u-" + tenant, certificate=throwaway_certificate("cert-" + tenant))
    assert c["userName"] == "u-" + tenant and len(c["fingerprint"]) == 64, c
    assert [x["id"] for x in p("ListCertificates", userName="u-" + tenant)["item"]] == [c["id"]]
    p("RemoveCertificate", id=c["id"])
    assert p("ListCertificates", userName="u-" + tenant)["count"] == 0
    # --- quotas (admin) ---
    q = p("SetQuota", tenant=tenant, limit=[{"metric": "machines", "max": 5}, {"metric": "storage"}])
    assert q["tenant"] == tenant and {m["metric"]: m["limit"] for m in q["metric"]}["machines"] == 5, q
    assert {m["metric"]: m["used"] for m in p("GetQuota", tenant=tenant)["metric"]}["machines"] == 0
    p("DeleteUser", userName="u-" + tenant)
    p("DeleteTenant", name=tenant)

    # --- the Machine's EventLog and state Events, and the CADF audit trail (admin) ---
    logs = p("ListEventLogs", first=1, last=1000)
    assert m_id in [x["id"] for x in logs["item"]], logs["count"]
    log = p("GetEventLog", id=m_id)
    assert log["targetResource"]["type"] == "Machine" and log["targetResource"]["id"] == m_id and log["persistence"] == "durable", log
    evs = p("ListEvents", eventLog=m_id, filter={"condition": [{"attribute": "state", "operator": "eq", "stringValue": "STARTED"}]}, last=1000)
    assert evs["count"] >= 2 and all(e["content"]["state"] == "STARTED" and e["eventLog"] == m_id for e in evs["item"]), evs
    ev = p("GetEvent", eventLog=m_id, id=evs["item"][0]["id"])
    assert ev["content"]["resource"]["id"] == m_id and ev["type"] == "http://schemas.dmtf.org/cimi/2/event/state", ev
    assert p("GetAuditLog")["id"] == "audit"
    mine = [{"attribute": "target", "operator": "eq", "stringValue": m_id}, {"attribute": "protocol", "operator": "eq", "stringValue": "soap"}]
    recs = p("ListAuditEvents", filter={"condition": mine}, last=1000)
    assert recs["count"] >= 1 and all(r["target"]["id"] == m_id and r["initiator"]["agent"] == "soap" for r in recs["item"]), recs
    rec = p("GetAuditEvent", id=recs["item"][0]["id"])
    assert rec["reason"]["reasonType"] == "cimi-gateway" and rec["observer"]["id"] == "cimi-gateway", rec

    # --- deletes, in dependency order ---
    p.wait(p("DeleteMachine", id=m_id))
    p.wait(p("DeleteVolume", id=vol_id))
    p("DeleteAddress", id=addr_id)
    p("DeleteForwardingGroup", id=fg_id)
    p.wait(p("DeleteNetworkPort", id=port_id))
    p.wait(p("DeleteNetwork", id=net_id))
    p.wait(p("DeleteMachineImage", id=mi_id))
    p.wait(p("DeleteVolumeImage", id=vi_id))
    p("DeleteCredential", id=cred)


def throwaway_certificate(cn):
    """A self-signed RSA-2048 certificate (python3-cryptography) in PEM, valid from yesterday for two days."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def catalog_ct_id(p):
    lst = p.svc.ListCredentialTemplates(filter={"condition": [{"attribute": "name", "operator": "eq", "stringValue": "ct-" + p.tag}]})
    return lst["item"][0]["id"]


def retry_conflict(call, attempts=50):
    """A Job the engine is updating at that moment answers a Conflict fault (GENERIC.CONCURRENT_MODIFICATION): retry."""
    for i in range(attempts):
        try:
            return call()
        except Fault as f:
            kind = f.detail is not None and len(f.detail) and f.detail[0].find("{urn:cimi-gateway:soap:1:types}kind").text
            if kind != "conflict" or i == attempts - 1:
                raise
            time.sleep(0.02)


def fault_info(call):
    try:
        call()
    except Fault as f:
        detail = {}
        if f.detail is not None and len(f.detail):
            detail = {el.tag.split("}")[1]: el.text for el in f.detail[0]}
        return {"code": f.code, "message": f.message, "subcodes": [str(q) for q in (getattr(f, "subcodes", None) or [])], "detail": detail}
    return None


report = {"wsdlWarnings": wsdl_warnings, "operations": operations, "ports": {}, "faults": []}
for name in PORTS:
    p = Port(name)
    error = None
    try:
        scenario(p)
    except Exception as e:  # reported to jest, which fails the test with the message
        error = "%s: %s (after %s)\n%s" % (type(e).__name__, e, list(p.called)[-1:], traceback.format_exc(limit=-2))
    report["ports"][name] = {"called": p.called, "error": error}
    missing = "00000000-0000-0000-0000-000000000000"
    report["faults"].append({"port": name, "case": "not-found", **fault_info(lambda: p.svc.GetMachine(id=missing))})
    report["faults"].append({"port": name, "case": "invalid-argument", **fault_info(lambda: p.svc.ListMachines(first=0))})
    m = p.svc.ListMachineConfigurations(first=1, last=1)
    report["faults"].append({"port": name, "case": "precondition", **(fault_info(lambda: p.svc.DeleteMachineConfiguration(id=m["item"][0]["id"], expectedVersion=999)) or {})})
print(json.dumps(report, default=str))
