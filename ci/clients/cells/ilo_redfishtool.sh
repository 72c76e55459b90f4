#!/bin/sh
# DMTF redfishtool against an emulated iLO: -A Session logs in, reads the
# SessionService and deletes its session when the command ends. redfishtool sends
# credentials only over HTTPS (-S Always), so the row is https only.
set -eu
host="$SESSIONLAB_HOST:$SESSIONLAB_PORT"
out=$(redfishtool -r "$host" -S Always -A Session -u "$SESSIONLAB_USER" -p "$SESSIONLAB_PASSWORD" SessionService)
printf '%s\n' "$out" | python -c 'import json,sys; b=json.load(sys.stdin); print("redfishtool:", b["@odata.id"], "ServiceEnabled=%s" % b["ServiceEnabled"])'
