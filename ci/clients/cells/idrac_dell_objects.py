"""DMTF python-redfish-library, unmodified, through the Dell objects iDRAC tools read first
(issue 18): the manager's DellAttributes sets, the job queue, the firmware inventory (with
`$expand=*($levels=1)` where the service root advertises it, as Dell's
iDRAC-Redfish-Scripting scripts send it), a PATCH of a Dell attribute, logout; then the
control API resets the device and a second login finds the attribute restored."""
import os
import urllib.request
import warnings

warnings.simplefilter("ignore")
import redfish

MANAGER = "/redfish/v1/Managers/iDRAC.Embedded.1"
SYSTEM_SET = MANAGER + "/Oem/Dell/DellAttributes/System.Embedded.1"
ATTRIBUTE = "AcquisitionInfo.1.CostCenter"


def connect():
    client = redfish.redfish_client(
        base_url=os.environ["SESSIONLAB_URL"],
        username=os.environ["SESSIONLAB_USER"],
        password=os.environ["SESSIONLAB_PASSWORD"],
        default_prefix="/redfish/v1",
    )
    client.login(auth="session")
    return client


def ok(response, what):
    assert response.status == 200, f"{what}: {response.status} {response.text}"
    return response.dict


def members(client, uri, expand):
    """A collection's members, whole: in one GET with $expand when the service takes it,
    else one GET per member."""
    if expand:
        body = ok(client.get(uri + "?$expand=*($levels=1)"), uri)
        return body["Members"]
    body = ok(client.get(uri), uri)
    return [ok(client.get(m["@odata.id"]), m["@odata.id"]) for m in body["Members"]]


client = connect()
try:
    expand = client.root.get("ProtocolFeaturesSupported", {}).get("ExpandQuery", {})
    expand_all = bool(expand.get("ExpandAll") and expand.get("Levels"))
    manager = ok(client.get(MANAGER), "manager")
    sets = manager["Links"]["Oem"]["Dell"]["DellAttributes"]
    assert isinstance(sets, list), f"DellAttributes is not an array: {sets!r}"
    assert manager["Links"]["Oem"]["Dell"]["DellAttributes@odata.count"] == len(sets)
    attributes = sum(len(ok(client.get(s["@odata.id"]), s["@odata.id"])["Attributes"]) for s in sets)
    jobs = members(client, MANAGER + "/Jobs", expand_all)
    firmware = members(client, "/redfish/v1/UpdateService/FirmwareInventory", expand_all)
    idrac = [f for f in firmware if f["Id"].endswith("__iDRAC.Embedded.1-1")]
    assert idrac and idrac[0]["Version"] == manager["FirmwareVersion"], firmware
    patched = client.patch(SYSTEM_SET, body={"Attributes": {ATTRIBUTE: "sessionlab"}})
    assert patched.status == 200, patched.text
    assert ok(client.get(SYSTEM_SET), "system set")["Attributes"][ATTRIBUTE] == "sessionlab"
finally:
    client.logout()

control = os.environ["SESSIONLAB_CONTROL_URL"].rstrip("/")
device = os.environ["SESSIONLAB_DEVICE"]
reset = urllib.request.Request(f"{control}/_sessionlab/devices/{device}/reset", data=b"", method="POST")
with urllib.request.urlopen(reset) as answer:
    assert answer.status in (200, 204), answer.status

client = connect()
try:
    restored = ok(client.get(SYSTEM_SET), "system set")["Attributes"][ATTRIBUTE]
finally:
    client.logout()
assert restored == "", f"reset did not restore {ATTRIBUTE}: {restored!r}"
print(
    f"{len(sets)} DellAttributes sets ({attributes} attributes), {len(jobs)} jobs, "
    f"{len(firmware)} firmware items (iDRAC {idrac[0]['Version']}), "
    f"$expand {'used' if expand_all else 'not advertised'}; PATCH, reset restored; logged out"
)
