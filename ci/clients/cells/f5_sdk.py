"""F5's Python SDK (f5-sdk): `ManagementRoot` with token authentication.

Logging in reads `/mgmt/tm/sys/` (the SDK learns the TMOS version from its selfLink); the
call is `tm.sys.version.load()` (`GET /mgmt/tm/sys/version/`). The SDK has no logout
call: the session is its token, so the cell deletes it through the SDK's own token
resource (`shared.authz.tokens_s.token.load(name=...).delete()`, which GETs the token and
DELETEs it at its selfLink plus `/`). The SDK builds only https:// URLs.
"""
import os
import warnings

warnings.simplefilter("ignore")

from f5.bigip import ManagementRoot  # noqa: E402

mgmt = ManagementRoot(
    os.environ["SESSIONLAB_HOST"],
    os.environ["SESSIONLAB_USER"],
    os.environ["SESSIONLAB_PASSWORD"],
    port=int(os.environ["SESSIONLAB_PORT"]),
    token=True,
)
version = mgmt.tm.sys.version.load()
entries = next(iter(version.entries.values()))["nestedStats"]["entries"]
read = f"tmos_version={mgmt.tmos_version} Version={entries['Version']['description']}"

token = mgmt.shared.authz.tokens_s.token.load(name=mgmt.icrs.token)
token.delete()
assert getattr(token, "deleted", False), "the token was not deleted"
print(f"f5-sdk: {read}; token deleted")
