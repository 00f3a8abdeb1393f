#!/usr/bin/env bash
# What root sets up once so that USER can run a rootless berthd (docs/rootless.md): Debian's
# uidmap (newuidmap/newgidmap), rootlesskit and slirp4netns, a subordinate uid and gid range of
# 65536 ids for USER (kept when USER has one), and /dev/net/tun and /dev/fuse usable by users
# (Debian's udev default, 0666; slirp4netns and fuse-overlayfs open them). Idempotent. Usage (as root): bash scripts/setup-rootless.sh USER
set -euo pipefail
user=${1:?usage: bash scripts/setup-rootless.sh USER}
[ "$(id -u)" = 0 ] || { echo "run this as root" >&2; exit 1; }
id "$user" >/dev/null 2>&1 || { echo "no such user: $user" >&2; exit 1; }

missing=()
for pkg in uidmap rootlesskit slirp4netns; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

uid=$(id -u "$user")
# A range of 65536 ids after every range either file already hands out (at least 100000).
has_range() { grep -qE "^($user|$uid):[0-9]+:[1-9]" "$1" 2>/dev/null; }
next_free() {
  cat /etc/subuid /etc/subgid 2>/dev/null | awk -F: 'BEGIN { n = 100000 } NF >= 3 && $2 + $3 > n { n = $2 + $3 } END { print n }'
}
if ! has_range /etc/subuid || ! has_range /etc/subgid; then
  start=$(next_free)
  end=$((start + 65535))
  has_range /etc/subuid || usermod --add-subuids "$start-$end" "$user"
  has_range /etc/subgid || usermod --add-subgids "$start-$end" "$user"
fi

if [ -c /dev/net/tun ] && [ "$(stat -c %a /dev/net/tun)" != 666 ]; then
  chmod 0666 /dev/net/tun
fi
# fuse-overlayfs (the storage driver where overlayfs cannot mount in the user namespace) opens it.
if [ -c /dev/fuse ] && [ "$(stat -c %a /dev/fuse)" != 666 ]; then
  chmod 0666 /dev/fuse
fi
if [ "$(cat /proc/sys/kernel/unprivileged_userns_clone 2>/dev/null || echo 1)" = 0 ]; then
  echo "note: kernel.unprivileged_userns_clone is 0; enable it: sysctl -w kernel.unprivileged_userns_clone=1" >&2
fi

echo "rootless set-up done for $user ($(grep -E "^($user|$uid):" /etc/subuid | head -1 | cut -d: -f2-) in /etc/subuid)."
echo "As $user: XDG_RUNTIME_DIR=/run/user/$uid bin/berthd, then export DOCKER_HOST=unix:///run/user/$uid/berth.sock"
