"""DMTF python-redfish-library as its README shows it: `redfish_client(...)`, a session
login, a read of the manager through the service root's links, then `logout()`."""
import os
import warnings

warnings.simplefilter("ignore")
import redfish

client = redfish.redfish_client(
    base_url=os.environ["SESSIONLAB_URL"],
    username=os.environ["SESSIONLAB_USER"],
    password=os.environ["SESSIONLAB_PASSWORD"],
    default_prefix="/redfish/v1",
)
client.login(auth="session")
try:
    managers = client.get(client.root["Managers"]["@odata.id"])
    assert managers.status == 200, managers.text
    manager = client.get(managers.dict["Members"][0]["@odata.id"])
    assert manager.status == 200, manager.text
finally:
    client.logout()
print(f"manager {manager.dict['Id']} ({manager.dict['ManagerType']}); logged out")
