#!/usr/bin/env bash
# Runs Berth's whole test suite on a Debian/Ubuntu machine, as root.
# Installs the system packages the tests need when they are missing, builds, then runs unit and
# integration tests with node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg_bin in runc:runc crun:crun conmon:conmon tini:/usr/bin/tini-static busybox-static:/bin/busybox iptables:iptables iproute2:ip attr:setfattr util-linux:script procps:pkill docker-registry:/usr/bin/docker-registry python3:python3 openssl:openssl golang-github-containers-common:/usr/share/containers/seccomp.json gcc:gcc libc6-dev:/usr/include/stdio.h debootstrap:/usr/sbin/debootstrap; do
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
node --test --test-timeout=600000 dist/test/unit/ dist/test/integration/
