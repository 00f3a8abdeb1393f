#!/usr/bin/env bash
# Runs Kubernetes' CRI validation suite (critest) through cri-dockerd against a fresh berthd and
# against the local dockerd, one after the other (some specs use fixed host ports), and prints the
# pass counts and the specs that fail on Berth only. Not part of the test suite.
#
#   npm run build && scripts/critest-compare.sh [extra critest flags, e.g. --ginkgo.focus=Conformance]
#
# Needs: the CRI tools (../shared/tools/cri beside the repository, or BERTH_CRI_TOOLS), a dockerd
# on /var/run/docker.sock with busybox:latest, socat (port-forward specs), root.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
tools="${BERTH_CRI_TOOLS:-$repo/../shared/tools/cri}"
for b in cri-dockerd critest crictl; do
  [ -x "$tools/$b" ] || { echo "missing $tools/$b (set BERTH_CRI_TOOLS)" >&2; exit 2; }
done
work="$(mktemp -d /tmp/berth-critest-XXXXXX)"
bridge="bc$(printf '%04x' $((RANDOM % 65536)))"
sock="$work/berth.sock"
pids=()

cleanup() {
  for side in berth dockerd; do
    [ -S "$work/$side-cri.sock" ] && "$tools/crictl" --runtime-endpoint "unix://$work/$side-cri.sock" rmp -a -f >/dev/null 2>&1 || true
  done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -S "$sock" ]; then
    ids=$(docker -H "unix://$sock" ps -aq 2>/dev/null || true)
    [ -n "$ids" ] && docker -H "unix://$sock" rm -f $ids >/dev/null 2>&1 || true
  fi
  [ -n "${berthd:-}" ] && kill "$berthd" 2>/dev/null && wait "$berthd" 2>/dev/null || true
  ip link del "$bridge" 2>/dev/null || true
  grep " $work" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "building the test images on dockerd (scripts/cri-images.sh) ..."
images=$("$repo/scripts/cri-images.sh" | sed -n 's/^built //p')

echo "starting berthd on $sock (bridge $bridge) ..."
node "$repo/bin/berthd" -H "unix://$sock" --data-root "$work/data" --exec-root "$work/exec" \
  --bridge "$bridge" --bip "10.$((200 + RANDOM % 50)).$((RANDOM % 250)).1/24" >"$work/berthd.log" 2>&1 &
berthd=$!
for _ in $(seq 100); do curl -sf --unix-socket "$sock" http://x/_ping >/dev/null 2>&1 && break; sleep 0.2; done
docker save $images busybox:latest | docker -H "unix://$sock" load >/dev/null

start_shim() { # side, docker endpoint, streaming port
  CRI_DOCKERD_MIN_OOM_ADJ=0 "$tools/cri-dockerd" --container-runtime-endpoint "unix://$work/$1-cri.sock" \
    --docker-endpoint "$2" --cri-dockerd-root-directory "$work/$1-cri" \
    --pod-infra-container-image berth.local/pause:3.9 --streaming-bind-addr "127.0.0.1:$3" \
    --network-plugin= --hairpin-mode none >"$work/$1-cri-dockerd.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do [ -S "$work/$1-cri.sock" ] && return; sleep 0.2; done
  echo "cri-dockerd ($1) did not start; see $work/$1-cri-dockerd.log" >&2; exit 1
}
# The unpacking wrapper is not safe to run twice at once: start the shims one after the other.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
start_shim berth "unix://$sock" "$(free_port)"
start_shim dockerd unix:///var/run/docker.sock "$(free_port)"

run_critest() { # side
  "$tools/critest" --runtime-endpoint "unix://$work/$1-cri.sock" --image-endpoint "unix://$work/$1-cri.sock" \
    --ginkgo.noColor "${@:2}" >"$work/critest-$1.log" 2>&1 || true
  sed 's/\x1b\[[0-9;]*m//g' "$work/critest-$1.log" | grep -E '^\s+\[FAIL\]' | sed 's/^\s*\[FAIL\] //; s/\[BeforeEach\]/[It]/' | sort >"$work/fail-$1.txt" || true
}
for side in dockerd berth; do
  echo "critest against $side ..."
  run_critest "$side" "$@"
done

for side in dockerd berth; do
  printf '%-8s %s\n' "$side:" "$(grep -E 'Passed \|' "$work/critest-$side.log" | sed 's/^[^0-9]*//' || echo 'no summary')"
done
echo "specs failing on Berth only:"
comm -23 "$work/fail-berth.txt" "$work/fail-dockerd.txt" | sed 's/^/  /'
echo "specs failing on dockerd only:"
comm -13 "$work/fail-berth.txt" "$work/fail-dockerd.txt" | sed 's/^/  /'
if [ -n "${KEEP_LOGS:-}" ]; then cp -r "$work" "$KEEP_LOGS" && echo "logs kept in $KEEP_LOGS"; fi
