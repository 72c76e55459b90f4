"""F5's Python SDK (f5-sdk): a round through LTM objects, then the control API's reset.

`ManagementRoot` with token authentication, then what automation does most: create a
node, a pool with a member and a virtual server that uses the pool
(`mgmt.tm.ltm.pools.pool.create`, `pool.members_s.members.create`, ...), read them back
(`load`, `exists`), change them (`modify` is PATCH, `update` is PUT), delete them, and
check that a duplicate create is refused with 409 and a deleted object no longer exists.
Before logging out it creates one more pool and asks the emulator's control API to reset
the device (`POST /_sessionlab/devices/<name>/reset`): the pool must be gone, as the profile has no LTM objects. The token is
deleted through the SDK's own token resource, as in f5_sdk.py. The SDK builds only
https:// URLs.
"""
import json
import os
import urllib.request
import warnings

warnings.simplefilter("ignore")

from f5.bigip import ManagementRoot  # noqa: E402
from icontrol.exceptions import iControlUnexpectedHTTPError  # noqa: E402

mgmt = ManagementRoot(
    os.environ["SESSIONLAB_HOST"],
    os.environ["SESSIONLAB_USER"],
    os.environ["SESSIONLAB_PASSWORD"],
    port=int(os.environ["SESSIONLAB_PORT"]),
    token=True,
)
ltm = mgmt.tm.ltm

node = ltm.nodes.node.create(name="sl-node1", partition="Common", address="192.0.2.10")
pool = ltm.pools.pool.create(name="sl-pool", partition="Common", loadBalancingMode="round-robin")
member = pool.members_s.members.create(name="sl-node1:80", partition="Common")
virtual = ltm.virtuals.virtual.create(
    name="sl-vs", partition="Common", destination="/Common/192.0.2.100:443", pool="/Common/sl-pool"
)

try:
    ltm.pools.pool.create(name="sl-pool", partition="Common")
    raise SystemExit("a duplicate pool was created")
except iControlUnexpectedHTTPError as e:
    assert e.response.status_code == 409, e.response.status_code
    assert "already exists" in e.response.json()["message"], e.response.text

loaded = ltm.pools.pool.load(name="sl-pool", partition="Common")
assert loaded.fullPath == "/Common/sl-pool", loaded.fullPath
assert [m.name for m in loaded.members_s.get_collection()] == ["sl-node1:80"]
assert member.address == "192.0.2.10", member.address

loaded.modify(loadBalancingMode="least-connections-member", description="patched")
assert loaded.loadBalancingMode == "least-connections-member"
generation = loaded.generation
loaded.description = "put"
loaded.update()
assert loaded.description == "put" and loaded.generation > generation
node.modify(ratio=3)
assert ltm.nodes.node.load(name="sl-node1", partition="Common").ratio == 3
virtual.modify(description="front door")
assert ltm.virtuals.virtual.load(name="sl-vs", partition="Common").pool == "/Common/sl-pool"

virtual.delete()
member.delete()
loaded.delete()
node.delete()
for collection, name in ((ltm.virtuals.virtual, "sl-vs"), (ltm.pools.pool, "sl-pool"),
                         (ltm.nodes.node, "sl-node1")):
    assert not collection.exists(name=name, partition="Common"), name
read = "node, pool, member and virtual created, loaded, modified, updated, deleted"

ltm.pools.pool.create(name="sl-before-reset", partition="Common")
control = os.environ["SESSIONLAB_CONTROL_URL"].rstrip("/")
device = os.environ["SESSIONLAB_DEVICE"]
reset = urllib.request.Request(f"{control}/_sessionlab/devices/{device}/reset", data=b"{}",
                               method="POST", headers={"Content-Type": "application/json"})
json.load(urllib.request.urlopen(reset))

# The reset also ended every session: log in again to look, and to log out.
mgmt = ManagementRoot(
    os.environ["SESSIONLAB_HOST"],
    os.environ["SESSIONLAB_USER"],
    os.environ["SESSIONLAB_PASSWORD"],
    port=int(os.environ["SESSIONLAB_PORT"]),
    token=True,
)
assert not mgmt.tm.ltm.pools.pool.exists(name="sl-before-reset", partition="Common")
assert mgmt.tm.ltm.pools.get_collection() == []
read += "; reset restored the profile's (empty) LTM configuration"

token = mgmt.shared.authz.tokens_s.token.load(name=mgmt.icrs.token)
token.delete()
assert getattr(token, "deleted", False), "the token was not deleted"
print(f"f5-sdk: {read}; token deleted")
