"""F5's iControl REST session (f5-icontrol-rest): `iControlRESTSession(..., token=True)`.

The first request logs in (`POST /mgmt/shared/authn/login`, Basic credentials beside the
body) and every request carries `X-F5-Auth-Token`; the call reads `/mgmt/tm/sys/version`.
The package has no logout call: the cell deletes its own token through the same session
(`DELETE /mgmt/shared/authz/tokens/<token>`, F5's logout). The token auth refuses any
scheme but https (`InvalidScheme`).
"""
import os
import warnings

warnings.simplefilter("ignore")

from icontrol.session import iControlRESTSession  # noqa: E402

base = f"https://{os.environ['SESSIONLAB_HOST']}:{os.environ['SESSIONLAB_PORT']}/mgmt"
icr = iControlRESTSession(
    os.environ["SESSIONLAB_USER"], os.environ["SESSIONLAB_PASSWORD"], token=True
)
version = icr.get(f"{base}/tm/sys/version").json()
entries = next(iter(version["entries"].values()))["nestedStats"]["entries"]
read = f"Version={entries['Version']['description']}"

gone = icr.delete(f"{base}/shared/authz/tokens/{icr.token}")
assert gone.status_code == 200, gone.status_code
print(f"f5-icontrol-rest: {read}; token deleted")
