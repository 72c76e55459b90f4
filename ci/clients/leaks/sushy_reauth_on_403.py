"""sushy logs in again on a 403 and forgets the session it had.

Run by `sessionlab-conformance hygiene --profile redfish --user readonly ...`: a careful
script that uses sushy's context manager (which logs out on exit) and asks for a
Manager.Reset that its read-only account may not do. The service answers 403. sushy
treats every AccessError (401 or 403) on a session as an expired session
(connector.py `_op`): `refresh_session()` drops the token and session URI without a
DELETE (`reset_session_attrs`) and logs in again, then retries once and raises. The
context manager closes the second session; the first stays open on the BMC.
"""

import os

import sushy
from sushy import exceptions

base = os.environ["SESSIONLAB_URL"] + "/redfish/v1"
user, password = os.environ["SESSIONLAB_USER"], os.environ["SESSIONLAB_PASSWORD"]

with sushy.auth.SessionAuth(user, password) as auth:
    root = sushy.Sushy(base, auth=auth, verify=False)
    manager = root.get_manager()
    print("logged in as", user, "session", auth.get_session_resource_id())
    try:
        manager.reset_manager(sushy.RESET_MANAGER_GRACEFUL_RESTART)
        print("reset accepted")
    except exceptions.AccessError as e:
        print("reset refused:", e.status_code, "session now", auth.get_session_resource_id())
print("closed the session sushy knows about")
