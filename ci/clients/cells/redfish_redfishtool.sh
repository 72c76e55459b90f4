#!/bin/sh
# DMTF redfishtool with session authentication: it logs in, runs one subcommand and
# deletes its session on exit. `AccountService Roles list` follows the AccountService's
# `Roles` link (a service without it fails with "AccountsService resource does not have
# a Roles link"). redfishtool sends credentials over HTTPS only (-S Always).
set -eu
out=$(redfishtool -r "$SESSIONLAB_HOST:$SESSIONLAB_PORT" -u "$SESSIONLAB_USER" -p "$SESSIONLAB_PASSWORD" \
  -A Session -S Always AccountService Roles list)
printf '%s\n' "$out" | grep -q '"Id": "Administrator"' || { printf '%s\n' "$out" >&2; echo "no Administrator role listed" >&2; exit 1; }
echo "roles: $(printf '%s\n' "$out" | sed -n 's/.*"Id": "\([^"]*\)".*/\1/p' | tr '\n' ' ')"
