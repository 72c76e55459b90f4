"""A poller written with the generated SEMPv2 monitor client (solace-semp-monitor).

The generated client keeps no cookies and has no logout: every call authenticates with
Basic credentials, and the broker opens a SEMP session for each one (answered with a
Set-Cookie the client ignores). Polling N times takes N session slots until the broker
answers 529 "No SEMP Session Available".

Usage: semp_monitor_poll.py CALLS
"""

import os
import sys

import solace_semp_monitor
from solace_semp_monitor.rest import ApiException

conf = solace_semp_monitor.Configuration()
conf.host = os.environ["SESSIONLAB_URL"] + "/SEMP/v2/monitor"
conf.username = os.environ["SESSIONLAB_USER"]
conf.password = os.environ["SESSIONLAB_PASSWORD"]
conf.verify_ssl = False
api = solace_semp_monitor.AllApi(solace_semp_monitor.ApiClient(conf))
for i in range(1, int(sys.argv[1]) + 1):
    try:
        about = api.get_about_user()
        print(f"poll {i}: {about.meta.response_code}, access {about.data.global_access_level}")
    except ApiException as e:
        print(f"poll {i}: HTTP {e.status} {e.reason}")
        break
