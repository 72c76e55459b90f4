"""Solace's generated SEMPv2 clients (solace-semp-config, solace-semp-monitor).

Usage: solace_semp.py config|monitor. One call that automation makes first (config:
`AllApi.get_broker()`, which requests `/SEMP/v2/config/`; monitor: `get_about_user()`),
with the `Session` cookie kept through the ApiClient's documented `cookie` parameter so
later calls reuse the session, then a logout (`PUT /SEMP/v2/action/about/user/logout`)
sent through the same client's REST layer: neither package has a logout call.
"""
import os
import sys
import warnings

warnings.simplefilter("ignore")

which = sys.argv[1]
if which == "config":
    import solace_semp_config as semp
else:
    import solace_semp_monitor as semp

url = os.environ["SESSIONLAB_URL"]
config = semp.Configuration()
config.host = f"{url}/SEMP/v2/{which}"
config.username = os.environ["SESSIONLAB_USER"]
config.password = os.environ["SESSIONLAB_PASSWORD"]
config.verify_ssl = False
client = semp.ApiClient(config)
api = semp.AllApi(client)

if which == "config":
    first = api.get_broker()
    read = f"authClientCertRevocationCheckMode={first.data.auth_client_cert_revocation_check_mode}"
else:
    first = api.get_about_user()
    read = f"globalAccessLevel={first.data.global_access_level}"
cookie = client.last_response.getheader("Set-Cookie")
assert cookie and cookie.startswith("Session="), cookie
client.cookie = cookie.split(";", 1)[0]

# The cookie alone now carries the session.
config.username = config.password = ""
again = api.get_broker() if which == "config" else api.get_about_user()
assert again.meta.response_code == 200, again.meta

logout = client.rest_client.request(
    "PUT",
    f"{url}/SEMP/v2/action/about/user/logout",
    headers={"Cookie": client.cookie, "Content-Type": "application/json"},
    body={},
)
assert logout.status == 200, logout.status
print(f"{which}: {read}; logged out")
