#!/bin/sh
# A well-behaved Redfish client in curl: log in, read the managers, log out. It stands in
# for your own client in ci/github-actions-example.yml; the hygiene step passes it
# SESSIONLAB_URL, SESSIONLAB_USER and SESSIONLAB_PASSWORD.
set -eu
url=${SESSIONLAB_URL:?}
headers=$(mktemp)
trap 'rm -f "$headers"' EXIT
curl -fsS -D "$headers" -o /dev/null -X POST "$url/redfish/v1/SessionService/Sessions" \
    -H 'Content-Type: application/json' \
    -d "{\"UserName\":\"${SESSIONLAB_USER:?}\",\"Password\":\"${SESSIONLAB_PASSWORD:?}\"}"
token=$(tr -d '\r' <"$headers" | awk 'tolower($1) == "x-auth-token:" { print $2 }')
session=$(tr -d '\r' <"$headers" | awk 'tolower($1) == "location:" { print $2 }')
case "$session" in http*) ;; *) session="$url$session" ;; esac
curl -fsS -H "X-Auth-Token: $token" "$url/redfish/v1/Managers" >/dev/null
curl -fsS -X DELETE -H "X-Auth-Token: $token" "$session" >/dev/null
echo "logged in, read /redfish/v1/Managers, logged out"
