"""OpenStack sushy against an emulated iLO: session auth, read the manager, close."""

import os

import sushy
from sushy import auth

root = sushy.Sushy(
    os.environ["SESSIONLAB_URL"] + "/redfish/v1/",
    auth=auth.SessionAuth(os.environ["SESSIONLAB_USER"], os.environ["SESSIONLAB_PASSWORD"]),
    verify=False,
)
manager = root.get_manager(root.get_manager_collection().members_identities[0])
firmware = manager.firmware_version
root._auth.close()  # sushy's documented way to end a SessionAuth session
print(f"sushy: manager {manager.identity} firmware {firmware}")
