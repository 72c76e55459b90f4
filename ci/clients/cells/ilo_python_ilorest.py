"""HPE python-ilorest-library against an emulated iLO: session login, one GET, logout.

As HPE's library documentation shows it: RedfishClient(...) (7.x has no redfish_client),
login(auth="session"), get, logout. Its logout rebuilds the session URL from the
Location header, which iLO writes without a port, so it reaches the session only when
the base URL has no port, i.e. on 443 (the matrix row fixes the port and runs the cell
in a private network namespace).
"""

import os

import redfish

scheme, host, port = (os.environ[f"SESSIONLAB_{k}"] for k in ("SCHEME", "HOST", "PORT"))
# iLO's address as users give it: no port when it is HTTPS's own (see above).
url = f"{scheme}://{host}" if (scheme, port) == ("https", "443") else os.environ["SESSIONLAB_URL"]
client = redfish.RedfishClient(
    base_url=url,
    username=os.environ["SESSIONLAB_USER"],
    password=os.environ["SESSIONLAB_PASSWORD"],
    default_prefix="/redfish/v1/",
)
client.login(auth="session")
response = client.get("/redfish/v1/SessionService/Sessions/")
if response.status != 200:
    raise SystemExit(f"GET Sessions answered {response.status}: {response.text}")
client.logout()
print(f"python-ilorest-library: {response.dict['Members@odata.count']} session(s) listed")
