"""sushy logs out only when its Sushy object is finalised: a process stopped by a signal
leaves its session open.

sushy.Sushy.__del__ closes the session (DELETE), and at a normal interpreter exit it
does. A CI job that is cancelled, a timeout(1) or a container stop sends SIGTERM, whose
default action ends the process without running finalisers. This script logs in and
then receives SIGTERM as such a runner would send it.
"""

import os
import signal

import sushy

base = os.environ["SESSIONLAB_URL"] + "/redfish/v1"
root = sushy.Sushy(
    base,
    auth=sushy.auth.SessionAuth(os.environ["SESSIONLAB_USER"], os.environ["SESSIONLAB_PASSWORD"]),
    verify=False,
)
manager = root.get_manager()
print("logged in, session", root._auth.get_session_resource_id(), "manager", manager.identity, flush=True)
os.kill(os.getpid(), signal.SIGTERM)  # the runner's timeout
