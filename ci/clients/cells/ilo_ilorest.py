"""HPE iLOrest CLI against an emulated iLO: login, read the SessionService, logout.

The three commands a script runs, as HPE's iLOrest documentation shows them. The
session cache lives in a temporary directory (--cache-dir), and iLOrest's own log
directory (ilorest_logs/, written to the working directory) goes there too, so cells
never share state and leave nothing behind.

Run it only where nothing but loopback is reachable (the matrix row sets netns = true):
iLOrest 7.x probes a vendor network address of its own whatever URL it is given.
"""

import json
import os
import subprocess
import sys
import tempfile

# iLO's address as users give it: with no port when the port is HTTPS's own. iLO writes
# the session's Location without a port, and iLOrest 7.4 turns an explicit ":443" (any
# explicit port) into a logout URL of "/none:443/:443/redfish/...", leaving the session.
SCHEME = os.environ["SESSIONLAB_SCHEME"]
HOST = os.environ["SESSIONLAB_HOST"]
PORT = os.environ["SESSIONLAB_PORT"]
URL = f"{SCHEME}://{HOST}" if (SCHEME, PORT) == ("https", "443") else os.environ["SESSIONLAB_URL"]
USER = os.environ["SESSIONLAB_USER"]
PASSWORD = os.environ["SESSIONLAB_PASSWORD"]


def ilorest(work, *args):
    command = ["ilorest", "--nologo", "--cache-dir", os.path.join(work, "cache")]
    done = subprocess.run(
        command + list(args), cwd=work, capture_output=True, text=True, timeout=50
    )
    if done.returncode != 0:
        lines = (done.stdout + done.stderr).strip().splitlines() or ["(no output)"]
        # iLOrest prints a bare "ERROR: " for some exceptions; its log names them.
        log = os.path.join(work, "ilorest_logs", "iLORest.log")
        if os.path.exists(log):
            with open(log, encoding="utf-8", errors="replace") as f:
                lines += [line.split("]: ", 1)[-1] for line in f if "Exception:" in line]
        sys.exit(f"ilorest {args[0]} exited {done.returncode}: {lines[-1].strip()}")
    return done.stdout


with tempfile.TemporaryDirectory() as work:
    ilorest(work, "login", URL, "-u", USER, "-p", PASSWORD)
    out = ilorest(work, "rawget", "/redfish/v1/SessionService/")
    ilorest(work, "logout")

body = json.loads(out[out.index("{"):])
print(f"ilorest: {body['@odata.id']} ServiceEnabled={body['ServiceEnabled']}")
