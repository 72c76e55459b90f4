#!/bin/sh
# DMTF redfishtool: `SessionService login` creates a session and prints its token for
# the caller to use and delete; nothing deletes it. redfishtool speaks HTTPS only
# (run with `hygiene --tls`).
exec redfishtool -r "$SESSIONLAB_HOST:$SESSIONLAB_PORT" -u "$SESSIONLAB_USER" \
  -p "$SESSIONLAB_PASSWORD" -A Session -S Always SessionService login
