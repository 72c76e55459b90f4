"""bigrest: a round through LTM objects, then the control API's reset.

`BIGIP(..., request_token=True)` logs in; then `create`, `load`, `exist`, `modify`
(PATCH), `save` (PUT of the loaded object), `delete` on a node, a pool, a pool member and
a virtual server, as bigrest's documentation shows them. Before logging out it creates one
more pool and resets the device through the emulator's control API
(`POST /_sessionlab/devices/<name>/reset`), then checks with a new login that the pool is
gone. bigrest has no logout: the cell deletes its own token, as f5_bigrest.py does.
"""
import os
import urllib.request
import warnings

warnings.simplefilter("ignore")

from bigrest.bigip import BIGIP  # noqa: E402
from bigrest.common.exceptions import RESTAPIError  # noqa: E402


def connect():
    return BIGIP(
        f"{os.environ['SESSIONLAB_HOST']}:{os.environ['SESSIONLAB_PORT']}",
        os.environ["SESSIONLAB_USER"],
        os.environ["SESSIONLAB_PASSWORD"],
        session_verify=False,
        request_token=True,
    )


device = connect()
POOL = "/mgmt/tm/ltm/pool/~Common~br-pool"

device.create("/mgmt/tm/ltm/node", {"name": "br-node", "address": "198.51.100.20"})
device.create("/mgmt/tm/ltm/pool", {"name": "br-pool", "partition": "Common"})
device.create(f"{POOL}/members", {"name": "br-node:8080", "partition": "Common"})
device.create(
    "/mgmt/tm/ltm/virtual",
    {"name": "br-vs", "destination": "198.51.100.200:80", "pool": "br-pool"},
)
try:
    device.create("/mgmt/tm/ltm/node", {"name": "br-node", "address": "198.51.100.20"})
    raise SystemExit("a duplicate node was created")
except RESTAPIError as e:
    assert "409" in str(e), str(e)

pool = device.load(POOL)
assert pool.properties["fullPath"] == "/Common/br-pool"
members = device.load(f"{POOL}/members")
assert [m.properties["address"] for m in members] == ["198.51.100.20"]
device.modify(POOL, {"loadBalancingMode": "ratio-member"})
pool = device.load(POOL)
pool.properties["description"] = "saved"
saved = device.save(pool)
assert saved.properties["description"] == "saved"
assert saved.properties["loadBalancingMode"] == "ratio-member"
vs = device.modify("/mgmt/tm/ltm/virtual/~Common~br-vs", {"disabled": True})
assert vs.properties.get("disabled") is True and "enabled" not in vs.properties

device.delete("/mgmt/tm/ltm/virtual/~Common~br-vs")
device.delete(f"{POOL}/members/~Common~br-node:8080")
device.delete(POOL)
device.delete("/mgmt/tm/ltm/node/~Common~br-node")
assert not device.exist(POOL)
read = "node, pool, member and virtual created, loaded, modified, saved, deleted"

device.create("/mgmt/tm/ltm/pool", {"name": "br-before-reset"})
control = os.environ["SESSIONLAB_CONTROL_URL"].rstrip("/")
name = os.environ["SESSIONLAB_DEVICE"]
urllib.request.urlopen(urllib.request.Request(
    f"{control}/_sessionlab/devices/{name}/reset", data=b"{}", method="POST",
    headers={"Content-Type": "application/json"}))

device = connect()  # the reset ended every token
assert not device.exist("/mgmt/tm/ltm/pool/~Common~br-before-reset")
read += "; reset restored the profile's (empty) LTM configuration"

token = device.session.headers["X-F5-Auth-Token"]
device.delete(f"/mgmt/shared/authz/tokens/{token}")
print(f"bigrest: {read}; token deleted")
