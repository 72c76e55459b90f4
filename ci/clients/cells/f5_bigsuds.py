"""bigsuds: F5's iControl SOAP library, `BIGIP(hostname, username, password, port=N)`.

bigsuds takes the port as `port=` (a `host:port` hostname becomes `https://host:port:443/`)
and fetches `?WSDL=System.SystemInfo` and `?WSDL=System.Session` before the calls
(`System.SystemInfo.get_version()`, `System.Session.get_session_timeout()`). Both run in
the user's default SOAP session, keyed by user name: iControl SOAP has no call that ends
a session, which lives until the idle timeout (System::Session, set_session_timeout), so
the cell leaves one session open. bigsuds builds only https:// URLs.
"""
import os
import warnings

warnings.simplefilter("ignore")

import bigsuds  # noqa: E402

bigip = bigsuds.BIGIP(
    hostname=os.environ["SESSIONLAB_HOST"],
    username=os.environ["SESSIONLAB_USER"],
    password=os.environ["SESSIONLAB_PASSWORD"],
    port=int(os.environ["SESSIONLAB_PORT"]),
)
version = bigip.System.SystemInfo.get_version()
timeout = bigip.System.Session.get_session_timeout()
print(f"bigsuds: {version}, session timeout {timeout} s; default session left to idle out")
