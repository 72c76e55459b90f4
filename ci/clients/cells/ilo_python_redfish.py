"""DMTF python-redfish-library against an emulated iLO: session login, the session
collection (HPE's own "Session authentication" example for the DMTF library), logout.
Checks what came back: a 32-hex token, an absolute Location ending in `/`, one member,
and the Oem MySession link naming the new session."""

import os

import redfish

oem = "Hp" if os.environ["SESSIONLAB_PROFILE"] == "ilo4" else "Hpe"
client = redfish.redfish_client(
    base_url=os.environ["SESSIONLAB_URL"],
    username=os.environ["SESSIONLAB_USER"],
    password=os.environ["SESSIONLAB_PASSWORD"],
    default_prefix="/redfish/v1/",
)
client.login(auth="session")
key = client.get_session_key()
location = client.get_session_location()
assert key and len(key) == 32, key
assert location.endswith("/"), location
response = client.get("/redfish/v1/SessionService/Sessions/")
if response.status != 200:
    raise SystemExit(f"GET Sessions answered {response.status}: {response.text}")
body = response.dict
mine = body["Oem"][oem]["Links"]["MySession"]["@odata.id"]
assert body["Members@odata.count"] == 1, body
assert location.endswith(mine), (location, mine)
client.logout()
print(f"python-redfish-library: 1 session, MySession {mine}; logged out")
