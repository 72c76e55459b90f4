"""DMTF python-redfish-library against an emulated iLO: session login, one GET, logout."""

import os

import redfish

client = redfish.redfish_client(
    base_url=os.environ["SESSIONLAB_URL"],
    username=os.environ["SESSIONLAB_USER"],
    password=os.environ["SESSIONLAB_PASSWORD"],
    default_prefix="/redfish/v1/",
)
client.login(auth="session")
response = client.get("/redfish/v1/SessionService/")
if response.status != 200:
    raise SystemExit(f"GET SessionService answered {response.status}: {response.text}")
client.logout()
print(f"python-redfish-library: {response.dict['@odata.id']} ServiceEnabled={response.dict['ServiceEnabled']}")
