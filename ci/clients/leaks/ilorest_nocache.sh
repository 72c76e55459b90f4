#!/bin/sh
# HPE ilorest with --nocache keeps its session in memory only, so every run logs in
# again (F. Donzé, "Managing iLO sessions with Redfish", HPE, 2018: four `ilorest
# --nocache` runs left four sessions). ilorest 7.4 logs out after each command when it
# has no cache (rdmc.py: `if self.app.cache: save() else: _locked_app_logout()`), but
# that logout is best effort and works only over HTTPS on port 443: against an iLO on
# any other port (a port forward, a proxy) each run leaves its session.
# Usage: ilorest_nocache.sh RUNS. Run it only in a network namespace with only loopback
# up: ilorest also probes an iLO address of its own.
runs=${1:-4}
if [ "$SESSIONLAB_PORT" = 443 ]; then
  url=$SESSIONLAB_HOST
else
  url=https://$SESSIONLAB_HOST:$SESSIONLAB_PORT
fi
i=1
while [ "$i" -le "$runs" ]; do
  ilorest --nocache login "$url" -u "$SESSIONLAB_USER" -p "$SESSIONLAB_PASSWORD"
  rc=$?
  echo "ilorest run $i: exit status $rc"
  # The first run must log in; later ones may be refused once the table is full.
  if [ "$i" -eq 1 ] && [ "$rc" -ne 0 ]; then
    exit "$rc"
  fi
  i=$((i + 1))
done
