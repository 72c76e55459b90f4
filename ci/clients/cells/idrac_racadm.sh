#!/bin/sh
# racadm over SSH as seed 002's shell tooling runs it: OpenSSH with sshpass, one racadm
# command per connection. A web GUI session left behind by someone else is opened
# through the control API; `racadm getssninfo` must list it, and `racadm closessn -i`
# closes it, as an administrator clears a stale slot (ilo-idrac.md 2.6). Each SSH
# connection is itself a session of the `ssh` pool and ends when the command exits.
set -eu
: "${SESSIONLAB_SSH_PORT:?the device serves no SSH}"

racadm() {
  sshpass -p "$SESSIONLAB_PASSWORD" ssh -q -p "$SESSIONLAB_SSH_PORT" \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
    -o PubkeyAuthentication=no -o PreferredAuthentications=password,keyboard-interactive \
    "$SESSIONLAB_USER@$SESSIONLAB_HOST" racadm "$@"
}

gui=$(curl -sf -X POST -H 'Content-Type: application/json' \
  -d "{\"user\": \"$SESSIONLAB_USER\", \"session_type\": \"gui\", \"client_addr\": \"192.0.2.10\"}" \
  "${SESSIONLAB_CONTROL_URL%/}/_sessionlab/devices/$SESSIONLAB_DEVICE/sessions")
id=$(printf '%s' "$gui" | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p')
[ -n "$id" ] || { echo "no GUI session: $gui" >&2; exit 1; }

table=$(racadm getssninfo)
printf '%s\n' "$table" | grep -q 'GUI' || { printf '%s\n' "$table" >&2; echo "getssninfo does not list the GUI session" >&2; exit 1; }
ssnid=$(printf '%s\n' "$table" | awk '$2 == "GUI" { print $1; exit }')
closed=$(racadm closessn -i "$ssnid")
after=$(racadm getssninfo)
if printf '%s\n' "$after" | grep -q 'GUI'; then
  printf '%s\n' "$after" >&2; echo "the GUI session is still listed" >&2; exit 1
fi
echo "getssninfo listed GUI session $ssnid; closessn: $closed"
