"""Solace's generated SEMPv2 config client (solace-semp-config) on the broker's objects.

A scripted round as automation runs it, with the `Session` cookie kept through the
ApiClient's documented `cookie` parameter: create a queue in VPN `default`, read it, list
it with `where` and `select`, update it, delete it; create a client username; read the
built-in ACL profile `#acl-profile` (sent as `%23acl-profile`). Then a logout, the control
API's reset of the device, and a second session that finds the broker as the profile
ships it (no queue, no client username) and logs out. Neither generated package has a
logout call: it goes through the client's own REST layer, as in solace_semp.py.
"""
import json
import os
import sys
import urllib.request
import warnings

warnings.simplefilter("ignore")

import solace_semp_config as semp
from solace_semp_config.rest import ApiException

url = os.environ["SESSIONLAB_URL"]
VPN = "default"
QUEUE = "sessionlab-ready-check"
USER = "sessionlab-app"


def session():
    """A config client whose first call opens a session; later calls send its cookie."""
    config = semp.Configuration()
    config.host = f"{url}/SEMP/v2/config"
    config.username = os.environ["SESSIONLAB_USER"]
    config.password = os.environ["SESSIONLAB_PASSWORD"]
    config.verify_ssl = False
    client = semp.ApiClient(config)
    api = semp.AllApi(client)
    api.get_about_user()
    cookie = client.last_response.getheader("Set-Cookie")
    assert cookie and cookie.startswith("Session="), cookie
    client.cookie = cookie.split(";", 1)[0]
    config.username = config.password = ""
    return client, api


def logout(client):
    reply = client.rest_client.request(
        "PUT",
        f"{url}/SEMP/v2/action/about/user/logout",
        headers={"Cookie": client.cookie, "Content-Type": "application/json"},
        body={},
    )
    assert reply.status == 200, reply.status


def missing(call, *args):
    """Whether the call fails with SEMP's NOT_FOUND (HTTP 400, code 6)."""
    try:
        call(*args)
    except ApiException as e:
        error = json.loads(e.body)["meta"]["error"]
        return e.status == 400 and error["status"] == "NOT_FOUND"
    return False


client, api = session()
created = api.create_msg_vpn_queue(VPN, semp.MsgVpnQueue(msg_vpn_name=VPN, queue_name=QUEUE, max_ttl=60))
assert created.data.queue_name == QUEUE and created.data.access_type == "exclusive", created.data
read = api.get_msg_vpn_queue(VPN, QUEUE)
assert read.data.max_ttl == 60, read.data
listed = api.get_msg_vpn_queues(VPN, where=["queueName==sessionlab*"], select=["queueName"])
assert [q.queue_name for q in listed.data] == [QUEUE], listed.data
updated = api.update_msg_vpn_queue(
    VPN, QUEUE, semp.MsgVpnQueue(ingress_enabled=True, egress_enabled=True, permission="consume")
)
assert updated.data.permission == "consume" and updated.data.max_ttl == 60, updated.data
deleted = api.delete_msg_vpn_queue(VPN, QUEUE)
assert deleted.meta.response_code == 200, deleted.meta
assert missing(api.get_msg_vpn_queue, VPN, QUEUE)
api.create_msg_vpn_queue(VPN, semp.MsgVpnQueue(queue_name=QUEUE))
user = api.create_msg_vpn_client_username(
    VPN, semp.MsgVpnClientUsername(client_username=USER, password="app-secret", enabled=True)
)
assert user.data.enabled and user.data.password is None, user.data
acl = api.get_msg_vpn_acl_profile(VPN, "#acl-profile")
assert acl.data.acl_profile_name == "#acl-profile", acl.data
logout(client)

control = os.environ["SESSIONLAB_CONTROL_URL"]
device = os.environ["SESSIONLAB_DEVICE"]
reset = urllib.request.Request(f"{control}/_sessionlab/devices/{device}/reset", method="POST")
with urllib.request.urlopen(reset) as reply:
    assert reply.status == 200, reply.status

client, api = session()
assert missing(api.get_msg_vpn_queue, VPN, QUEUE)
assert missing(api.get_msg_vpn_client_username, VPN, USER)
users = sorted(u.client_username for u in api.get_msg_vpn_client_usernames(VPN).data)
logout(client)
print(f"queue created, read, updated, deleted; after reset client usernames {users}; logged out")
sys.exit(0)
