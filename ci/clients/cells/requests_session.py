"""A `requests.Session` that keeps the SEMP `Session` cookie, as scripts and Solace's own
examples do: Basic credentials on the first request, the cookie on later ones, then the
SEMPv2 logout action."""
import os
import warnings

warnings.simplefilter("ignore")
import requests

url = os.environ["SESSIONLAB_URL"]
http = requests.Session()
http.verify = False
first = http.get(
    f"{url}/SEMP/v2/monitor/about/user",
    auth=(os.environ["SESSIONLAB_USER"], os.environ["SESSIONLAB_PASSWORD"]),
)
first.raise_for_status()
assert "Session" in http.cookies, first.headers
broker = http.get(f"{url}/SEMP/v2/config")
broker.raise_for_status()
idle = broker.json()["data"]["serviceSempSessionIdleTimeout"]
logout = http.put(f"{url}/SEMP/v2/action/about/user/logout", json={})
logout.raise_for_status()
print(f"{first.json()['data']['globalAccessLevel']}; idle timeout {idle} min; logged out")
