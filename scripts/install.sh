#!/usr/bin/env bash
# Installs Berth's dependencies on Debian/Ubuntu, builds it and starts berthd with its defaults
# (socket /var/run/berth.sock, data root /var/lib/berth, default runtime crun, else runc; bridge
# networks and pods on the CNI reference plugins in /usr/lib/cni). Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
# gcc and libc6-dev build, during npm run build, the native addon (conmon's attach socket) and the
# executor of Berth's built-in OCI runtime (`--runtime berth`, the default where neither runc nor crun is).
pkgs=(runc crun conmon tini iptables iproute2 attr curl golang-github-containers-common gcc libc6-dev containernetworking-plugins)
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
apt-get update -qq
apt-get install -y -qq "${pkgs[@]}" >/dev/null
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "Berth needs Node.js >= 20 (found $(node --version)); install it (e.g. from NodeSource) and re-run." >&2
  exit 1
fi
npm ci --no-audit --no-fund --loglevel=error
npm run build --silent
if [ -S /var/run/berth.sock ] && curl -sf --unix-socket /var/run/berth.sock http://localhost/_ping >/dev/null 2>&1; then
  echo "berthd is already running on /var/run/berth.sock"; exit 0
fi
if [ -d /run/systemd/system ]; then
  cat > /etc/systemd/system/berthd.service <<UNIT
[Unit]
Description=Berth container engine
After=network.target

[Service]
# bin/berthd's #! line carries its node options; PATH leads env to this node.
Environment=PATH=$(dirname "$(command -v node)"):/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ExecStart=$(pwd)/bin/berthd
KillMode=process
Restart=on-failure

[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
  systemctl enable --now berthd
else
  nohup "$(pwd)/bin/berthd" >>/var/log/berthd.log 2>&1 &
fi
for _ in $(seq 1 100); do
  [ -S /var/run/berth.sock ] && break
  sleep 0.1
done
echo "berthd is running: export DOCKER_HOST=unix:///var/run/berth.sock"
