"""bigrest: `BIGIP(f"{host}:{port}", user, password, request_token=True)`.

Constructing it logs in (`POST /mgmt/shared/authn/login`); the call is
`load("/mgmt/tm/sys/version")`. bigrest has no logout: the cell deletes its own token
with bigrest's `delete()` (`DELETE /mgmt/shared/authz/tokens/<token>`, sent with the token,
which bigrest keeps in its session's `X-F5-Auth-Token` header). bigrest builds only
https:// URLs.
"""
import os
import warnings

warnings.simplefilter("ignore")

from bigrest.bigip import BIGIP  # noqa: E402

device = BIGIP(
    f"{os.environ['SESSIONLAB_HOST']}:{os.environ['SESSIONLAB_PORT']}",
    os.environ["SESSIONLAB_USER"],
    os.environ["SESSIONLAB_PASSWORD"],
    session_verify=False,
    request_token=True,
)
version = device.load("/mgmt/tm/sys/version")
entries = next(iter(version.properties["entries"].values()))["nestedStats"]["entries"]
read = f"Version={entries['Version']['description']}"

token = device.session.headers["X-F5-Auth-Token"]
device.delete(f"/mgmt/shared/authz/tokens/{token}")
print(f"bigrest: {read}; token deleted")
