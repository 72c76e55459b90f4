#!/bin/sh
# sessionlab in a CI job: start the emulator, wait until it is healthy, check that a
# client logs out, run the conformance scenarios with a JUnit report, stop.
#
#   ci/sessionlab-ci.sh start [EMULATOR FLAGS...]   start sessionlab-emulator in the background, then `wait`
#   ci/sessionlab-ci.sh wait                        wait until `sessionlab-emulator healthcheck` passes
#   ci/sessionlab-ci.sh hygiene -- COMMAND...       run COMMAND against the device; fail if it leaves sessions open
#   ci/sessionlab-ci.sh conformance [SCENARIOS...]  run scenarios against the device, write a JUnit report
#   ci/sessionlab-ci.sh stop                        stop the emulator started by `start`
#
# Configuration (environment):
#   SESSIONLAB_TARGET        device URL                      (default http://127.0.0.1:8000)
#   SESSIONLAB_BASE_PORT     first device's port for `start` (default: the port of SESSIONLAB_TARGET)
#   SESSIONLAB_CONTROL_PORT  control API port                (default 7780)
#   SESSIONLAB_CONTROL_URL   control API URL                 (default http://127.0.0.1:$SESSIONLAB_CONTROL_PORT)
#   SESSIONLAB_JUNIT         JUnit report of `conformance`   (default sessionlab-junit.xml)
#   SESSIONLAB_HYGIENE_JSON  JSON report of `hygiene`        (default sessionlab-hygiene.json)
#   SESSIONLAB_WAIT_SECS     how long `wait` waits           (default 30)
#   SESSIONLAB_PIDFILE       where `start` keeps the PID     (default .sessionlab-emulator.pid)
#   SESSIONLAB_LOG           the emulator's log              (default sessionlab-emulator.log)
#   SESSIONLAB_EMULATOR, SESSIONLAB_CONFORMANCE   the binaries (default: found on PATH)
# The emulator and sessionlab-conformance read their other SESSIONLAB_* variables
# themselves (see their --help).
set -eu

emulator=${SESSIONLAB_EMULATOR:-sessionlab-emulator}
conformance=${SESSIONLAB_CONFORMANCE:-sessionlab-conformance}
control_port=${SESSIONLAB_CONTROL_PORT:-7780}
target=${SESSIONLAB_TARGET:-http://127.0.0.1:8000}
control=${SESSIONLAB_CONTROL_URL:-http://127.0.0.1:$control_port}
pidfile=${SESSIONLAB_PIDFILE:-.sessionlab-emulator.pid}

usage() {
    sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

wait_healthy() {
    tries=$(( ${SESSIONLAB_WAIT_SECS:-30} * 5 ))
    i=0
    while [ "$i" -lt "$tries" ]; do
        if "$emulator" healthcheck --control-port "$control_port" >/dev/null 2>&1; then
            echo "sessionlab-ci: emulator healthy (control API on port $control_port)"
            return 0
        fi
        if [ -f "$pidfile" ] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
            echo "sessionlab-ci: the emulator exited; its log:" >&2
            cat "${SESSIONLAB_LOG:-sessionlab-emulator.log}" >&2 2>/dev/null || true
            return 1
        fi
        sleep 0.2
        i=$((i + 1))
    done
    "$emulator" healthcheck --control-port "$control_port" >&2 || true
    echo "sessionlab-ci: the emulator is not healthy after ${SESSIONLAB_WAIT_SECS:-30}s" >&2
    return 1
}

[ $# -ge 1 ] || usage
command=$1
shift
case "$command" in
    start)
        log=${SESSIONLAB_LOG:-sessionlab-emulator.log}
        # The first device listens where SESSIONLAB_TARGET points, unless told otherwise.
        target_port=${target#*://}
        target_port=${target_port%%/*}
        case "$target_port" in
            *:*) target_port=${target_port##*:} ;;
            *) case "$target" in https://*) target_port=443 ;; *) target_port=80 ;; esac ;;
        esac
        SESSIONLAB_BASE_PORT=${SESSIONLAB_BASE_PORT:-$target_port}
        export SESSIONLAB_BASE_PORT
        "$emulator" --control-port "$control_port" "$@" >"$log" 2>&1 &
        echo $! >"$pidfile"
        echo "sessionlab-ci: started sessionlab-emulator (pid $(cat "$pidfile"), log $log)"
        wait_healthy
        ;;
    wait)
        wait_healthy
        ;;
    hygiene)
        [ "${1:-}" = "--" ] && shift
        [ $# -ge 1 ] || usage
        exec "$conformance" hygiene --target "$target" --control "$control" \
            --json "${SESSIONLAB_HYGIENE_JSON:-sessionlab-hygiene.json}" -- "$@"
        ;;
    conformance)
        [ $# -ge 1 ] || set -- scenarios
        exec "$conformance" run "$@" --target "$target" --control "$control" \
            --junit "${SESSIONLAB_JUNIT:-sessionlab-junit.xml}"
        ;;
    stop)
        if [ -f "$pidfile" ]; then
            pid=$(cat "$pidfile")
            kill "$pid" 2>/dev/null || true
            i=0
            while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 50 ]; do
                sleep 0.1
                i=$((i + 1))
            done
            rm -f "$pidfile"
            echo "sessionlab-ci: stopped sessionlab-emulator (pid $pid)"
        fi
        ;;
    *)
        usage
        ;;
esac
