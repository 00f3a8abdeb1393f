#!/usr/bin/env bash
# Runs Berth's whole test suite on a Debian/Ubuntu machine, as root.
# Installs the system packages the tests need when they are missing, builds, then runs unit and
# integration tests with node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg_bin in runc:runc crun:crun runsc:runsc conmon:conmon tini:/usr/bin/tini-static busybox-static:/bin/busybox iptables:iptables iproute2:ip attr:setfattr util-linux:script procps:pkill docker-registry:/usr/bin/docker-registry python3:python3 openssl:openssl golang-github-containers-common:/usr/share/containers/seccomp.json gcc:gcc libc6-dev:/usr/include/stdio.h debootstrap:/usr/sbin/debootstrap containernetworking-plugins:/usr/lib/cni/bridge wget:wget; do
  pkg=${pkg_bin%%:*}; bin=${pkg_bin#*:}
  command -v "$bin" >/dev/null 2>&1 || [ -e "$bin" ] || need+=("$pkg")
done
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
  # The tests start their own registries; the package's system service is not wanted.
  if [[ " ${need[*]} " == *" docker-registry "* ]] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now docker-registry >/dev/null 2>&1 || true
  fi
fi
if [ ! -x /usr/local/bin/docker ] && ! command -v docker >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq docker.io >/dev/null
fi

npm ci --no-audit --no-fund --loglevel=error
npm run build --silent
# The checks are cheap and say more than a failing test: lint, then the direction of imports.
npm run lint --silent
node scripts/check-imports.js

# Unit tests first, on their own: a few measure timing (event-loop delay) and want a quiet machine.
# Then the integration files, several at a time: each starts its own daemons on their own
# socket, data root, bridge and leased subnet (harness.ts, network/free-subnet.ts), so files do
# not see each other. The few that change state the whole host shares run afterwards, alone.
# The file list comes from test/ (not dist/), so a stale compiled test never runs.
SERIAL=(
  # Inserts its own rule into the host's FORWARD chain, runs containers on the host network and
  # scans the whole iptables ruleset for leftovers.
  test/integration/network/networks.test.ts
  # Adds and removes a group in the host's /etc/group.
  test/integration/daemon/socket-group.test.ts
  # Adds and removes a user (and its /etc/subuid, /etc/subgid range) for the rootless daemon.
  test/integration/daemon/rootless.test.ts
  test/integration/daemon/rootless-fuse.test.ts
  # Adds and removes users and their ranges in /etc/passwd, /etc/subuid and /etc/subgid.
  test/integration/containers/userns-remap.test.ts
  # Kubernetes' CRI validation suite: 80 specs, many pods at once, minutes of the machine's time.
  test/integration/cri/critest.test.ts
  # kubelet writes its pod logs, their links and its device-plugin socket to fixed host paths
  # (one kubelet at a time), and must not race other pods for the machine's two cores.
  test/integration/cri/kubelet.test.ts
)
compiled() { for f in "$@"; do f=${f#test/}; echo "dist/test/${f%.ts}.js"; done; }
parallel=()
while IFS= read -r f; do
  [[ " ${SERIAL[*]} " == *" $f "* ]] || parallel+=("$f")
done < <(find test/integration -name '*.test.ts' | sort)
mapfile -t parallel_js < <(compiled "${parallel[@]}")
mapfile -t serial_js < <(compiled "${SERIAL[@]}")

status=0
node --test --test-timeout=600000 dist/test/unit/ || status=1
node --test --test-timeout=600000 --test-concurrency="${BERTH_TEST_CONCURRENCY:-4}" "${parallel_js[@]}" || status=1
node --test --test-timeout=600000 --test-concurrency=1 "${serial_js[@]}" || status=1
# The container tests once more with Berth's own runtime as every daemon's default
# (BERTH_TEST_DEFAULT_RUNTIME, see harness.ts), once `npm run build` built it (about 2 minutes more).
if [ -x dist/src/runtime/builtin/berth-runtime ]; then
  mapfile -t containers_js < <(compiled $(find test/integration/containers -name '*.test.ts' | sort))
  BERTH_TEST_DEFAULT_RUNTIME=berth node --test --test-timeout=600000 --test-concurrency="${BERTH_TEST_CONCURRENCY:-4}" "${containers_js[@]}" || status=1
fi
exit $status
