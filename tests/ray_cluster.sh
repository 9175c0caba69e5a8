#!/usr/bin/env bash
# A real two-node Ray cluster on this one machine, and the Ray half of
# tests/test_executor_contract.py against it.
#
# Ray advertises a node by the machine's interface address, not 127.0.0.1,
# whatever --node-ip-address says for the head; inside a network namespace
# that has only a loopback device there is no other address to pick, so the
# head, the second node and the test driver all talk over 127.0.0.1 and no
# packet leaves the machine. Needs root (ip netns).
#
#   RAY_PYTHON=/path/to/venv/bin/python tests/ray_cluster.sh [extra pytest args]
#
# RAY_PYTHON: a Python with requirements.txt, requirements-ray.txt and pytest
# (default .venv/bin/python, where `make test-ray` installs Ray). Everything the
# script starts lives in the namespace; on exit (always, by a trap) those
# processes are ended by their ids and the namespace is removed.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${RAY_PYTHON:-$ROOT/.venv/bin/python}
RAY=$(dirname "$PY")/ray
NS=pgray-$$
PORT=6390
TMP=$(mktemp -d /tmp/pgray.XXXXXX)

if [ "$(id -u)" != 0 ]; then
    echo "ray_cluster.sh: needs root for ip netns" >&2
    exit 2
fi
if [ ! -x "$PY" ] || [ ! -x "$RAY" ]; then
    echo "ray_cluster.sh: no Ray environment at $PY (make test-ray installs it)" >&2
    exit 2
fi

cleanup() {
    local pids
    pids=$(ip netns pids "$NS" 2>/dev/null || true)
    if [ -n "$pids" ]; then
        # shellcheck disable=SC2086
        kill -TERM $pids 2>/dev/null || true
        for _ in $(seq 50); do
            pids=$(ip netns pids "$NS" 2>/dev/null || true)
            [ -z "$pids" ] && break
            sleep 0.1
        done
        # shellcheck disable=SC2086
        [ -n "$pids" ] && kill -KILL $pids 2>/dev/null || true
    fi
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
inside() { ip netns exec "$NS" env PYTHONPATH="$ROOT" RAY_USAGE_STATS_ENABLED=0 "$@"; }

started=$(date +%s%N)
cd "$ROOT"
inside "$RAY" start --head --port=$PORT --num-cpus=1 --node-ip-address=127.0.0.1 --temp-dir="$TMP" \
    --include-dashboard=false --disable-usage-stats >"$TMP/head.log" 2>&1 \
    || { cat "$TMP/head.log"; exit 1; }
inside "$RAY" start --address=127.0.0.1:$PORT --num-cpus=1 --node-ip-address=127.0.0.1 \
    --disable-usage-stats >"$TMP/node.log" 2>&1 || { cat "$TMP/node.log"; exit 1; }
up=$(date +%s%N)

status=0
inside PLAYGROUND_TEST_RAY_ADDRESS=127.0.0.1:$PORT PLAYGROUND_TEST_RAY=1 PLAYGROUND_TEST_RAY_NODES=2 \
    "$PY" -m pytest -q -s -p no:cacheprovider tests/test_executor_contract.py -k ray "$@" || status=$?
ended=$(date +%s%N)
ms() { echo $((($2 - $1) / 1000000)); }
echo "ray_cluster.sh: cluster up in $(ms "$started" "$up") ms, tests $(ms "$up" "$ended") ms," \
    "$(ms "$started" "$ended") ms in all"
exit $status
