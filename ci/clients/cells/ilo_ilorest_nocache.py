"""Seed 000's story with HPE's iLOrest 7.4: an `ilorest --nocache` run leaves its session.

iLOrest 7.4 logs out at the end of a successful --nocache run, but not when the command
fails: the error path (rdmc.py run -> handle_exceptions) skips the logout, and with no
cache nothing remembers the session. Each such run holds one REST session until
UserExpires, a delete or an iLO reset, so a script repeating it fills the session table
(HPE's "Managing iLO sessions with Redfish"). The command asks for a property iLO's
SessionService does not have, so it fails the same way on a real iLO.

The cell runs it once, expects iLOrest's error and exit code 6, and leaves exactly one
session (the row declares it).
"""

import os
import subprocess
import sys
import tempfile

scheme, host, port = (os.environ[f"SESSIONLAB_{k}"] for k in ("SCHEME", "HOST", "PORT"))
# iLO's address as users give it: no port when it is HTTPS's own (see ilo_ilorest.py).
url = f"{scheme}://{host}" if (scheme, port) == ("https", "443") else os.environ["SESSIONLAB_URL"]
command = [
    "ilorest", "--nocache", "--nologo",
    "get", "NoSuchProperty", "--select", "SessionService.",
    "--url", url, "-u", os.environ["SESSIONLAB_USER"], "-p", os.environ["SESSIONLAB_PASSWORD"],
]
with tempfile.TemporaryDirectory() as work:  # iLOrest writes ilorest_logs/ into its cwd
    done = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=50)
out = (done.stdout + done.stderr).strip()
if done.returncode != 6 or "No get contents found" not in out:
    last = out.splitlines()[-1] if out else "(no output)"
    sys.exit(f"ilorest --nocache get exited {done.returncode}: {last}")
print(f"ilorest --nocache: exit {done.returncode}, '{out.splitlines()[-1]}', session left open")
