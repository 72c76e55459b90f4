"""OpenStack sushy with session authentication, as its documentation shows it: the auth
object is a context manager, so leaving the block deletes the session."""
import os
import warnings

warnings.simplefilter("ignore")
import sushy

url = os.environ["SESSIONLAB_URL"]
with sushy.auth.SessionAuth(os.environ["SESSIONLAB_USER"], os.environ["SESSIONLAB_PASSWORD"]) as auth:
    root = sushy.Sushy(url + "/redfish/v1", auth=auth, verify=False)
    manager = root.get_manager()
    timeout = root.get_session_service().session_timeout
print(f"manager {manager.identity} ({manager.manager_type.value}); session timeout {timeout} s; logged out")
