#!/usr/bin/env bash
# Creates the client matrix's Python virtual environments under target/clients/ from the
# pinned requirements beside this script. Run by .ci/run; run it yourself once to let
# `cargo test` drive the real clients (without it their cells are SKIPPED).
#
# With CI=true a client that cannot be installed fails the run; otherwise it is a warning.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venvs="${SESSIONLAB_CLIENTS_DIR:-${CARGO_TARGET_DIR:-$root/target}/clients}"
strict="${CI:-false}"
status=0

fail() {
  if [ "$strict" = "true" ]; then
    echo "error: $*" >&2
    status=1
  else
    echo "warning: $* (the cells that need it will be SKIPPED)" >&2
  fi
}

make_venv() { # name, requirement files (the second one installed with --no-deps)
  local name="$1" reqs="$2" nodeps="${3:-}"
  local dir="$venvs/$name" stamp
  stamp="$(cat "$here/requirements/$reqs" ${nodeps:+"$here/requirements/$nodeps"} | sha256sum | cut -c1-16)"
  if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$stamp" ]; then
    echo "clients: $name environment is up to date ($dir)"
    return 0
  fi
  echo "clients: installing the $name environment into $dir"
  rm -rf "$dir"
  if ! python3 -m venv "$dir"; then
    fail "cannot create a Python virtual environment (apt-get install python3-venv)"
    return 1
  fi
  if ! "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements/$reqs"; then
    fail "cannot install the clients of requirements/$reqs"
    return 1
  fi
  if [ -n "$nodeps" ] && ! "$dir/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$here/requirements/$nodeps"; then
    fail "cannot install the clients of requirements/$nodeps"
    return 1
  fi
  echo "$stamp" > "$dir/.stamp"
}

if ! command -v python3 >/dev/null 2>&1; then
  fail "python3 is missing"
  exit "$status"
fi
mkdir -p "$venvs"
make_venv main main.txt main-nodeps.txt
make_venv hpe hpe.txt
# The dashboard and metrics tests (issue 16): Prometheus' Python parsers and Selenium.
make_venv monitor monitor.txt
exit "$status"
