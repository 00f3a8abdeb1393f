#!/usr/bin/env bash
# Builds, from the local busybox:latest and without any pull, the images Kubernetes' CRI
# validation suite (critest 1.26) and cri-dockerd ask for, tagged with the names they use, on the
# daemon DOCKER_HOST points at (dockerd or berthd). Nothing here can reach a registry, so the
# images only imitate the upstream ones: the web servers are busybox httpd behind a script named
# after the real server (so `pidof nginx` and /var/run/nginx.pid work), the pause image sleeps
# until SIGTERM.
#   DOCKER_HOST=unix:///tmp/x/b.sock scripts/cri-images.sh
set -euo pipefail
ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
export DOCKER_BUILDKIT=0

build() { # tag, Dockerfile text
  printf '%s\n' "$2" >"$ctx/Dockerfile"
  docker build -q -t "$1" "$ctx" >/dev/null 2>"$ctx/err" || { cat "$ctx/err" >&2; exit 1; }
  echo "built $1"
}

# A web server that names itself `$1` in ps, writes its pid file and serves / on port $2.
cat >"$ctx/webserver" <<'SH'
#!/bin/sh
name="$(basename "$0" .sh)"; name="${name%-foreground}"; port="${PORT:-80}"
mkdir -p /var/run /www && echo "<html><body>Welcome to $name</body></html>" >/www/index.html
echo $$ >"/var/run/$name.pid"
echo "$name -D FOREGROUND"
trap 'kill $child 2>/dev/null; exit 0' TERM INT
httpd -f -p "$port" -h /www & child=$!
wait $child
SH
chmod 755 "$ctx/webserver"

build berth.local/pause:3.9 'FROM busybox:latest
ENTRYPOINT ["/bin/sh", "-c", "trap \"exit 0\" TERM INT; while :; do sleep 3600 & wait $!; done"]'
# The upstream busybox image links its applets hard (so a masked /bin/ls masks ls alone) and
# has ipcs; Debian's busybox-static lacks that applet: a script reads /proc/sysvipc/shm instead.
cat >"$ctx/ipcs" <<'SH'
#!/bin/sh
echo "------ Shared Memory Segments --------"
echo "key        shmid      owner      perms      bytes      nattch     status"
awk 'NR > 1 { printf "0x%08x %-10s %-10s %-10s %-10s %s\n", $1, $2, $8, $3, $4, $7 }' /proc/sysvipc/shm
SH
chmod 755 "$ctx/ipcs"
# pgrep NAME: the pids whose command name is NAME (Debian's busybox-static lacks the applet too).
cat >"$ctx/pgrep" <<'SH'
#!/bin/sh
found=1
for d in /proc/[0-9]*; do
  [ "$(cat "$d/comm" 2>/dev/null)" = "$1" ] && { echo "${d#/proc/}"; found=0; }
done
exit $found
SH
chmod 755 "$ctx/pgrep"
build registry.k8s.io/e2e-test-images/busybox:1.29-2 'FROM busybox:latest
RUN for f in /bin/*; do [ -L "$f" ] && [ "$(readlink "$f")" = busybox ] && ln -f /bin/busybox "$f"; done; true
COPY ipcs pgrep /bin/'
# Its command line names the master process, as the real nginx's pid 1 does.
build registry.k8s.io/e2e-test-images/nginx:1.14-2 'FROM busybox:latest
COPY webserver /usr/sbin/nginx
EXPOSE 80
CMD ["/usr/sbin/nginx", "-g", "daemon off;", "nginx: master process"]'
build gcr.io/k8s-staging-cri-tools/hostnet-nginx-amd64:latest 'FROM busybox:latest
COPY webserver /usr/sbin/nginx
ENV PORT=12003
CMD ["/usr/sbin/nginx"]'
build registry.k8s.io/e2e-test-images/httpd:2.4.39-4 'FROM busybox:latest
COPY webserver /usr/local/bin/httpd-foreground
EXPOSE 80
CMD ["/usr/local/bin/httpd-foreground"]'
# A set-user-ID root program printing its effective uid: 0 unless no_new_privs stops the switch.
cat >"$ctx/nnp.c" <<'C'
#include <stdio.h>
#include <unistd.h>
int main(void) { printf("Effective uid: %d\n", (int)geteuid()); return 0; }
C
gcc -static -O2 -o "$ctx/nnp" "$ctx/nnp.c"
build registry.k8s.io/e2e-test-images/nonewprivs:1.3 'FROM busybox:latest
COPY nnp /usr/local/bin/nnp
RUN chmod 4755 /usr/local/bin/nnp
CMD ["/usr/local/bin/nnp"]'
withwww='FROM busybox:latest
RUN grep -q "^www-data:" /etc/passwd || { echo "www-data:x:33:33:www-data:/var/www:/bin/false" >>/etc/passwd; echo "www-data:x:33:" >>/etc/group; }'
build gcr.io/k8s-staging-cri-tools/test-image-user-uid:latest "$withwww
USER 1002"
build gcr.io/k8s-staging-cri-tools/test-image-user-username:latest "$withwww
USER www-data"
build gcr.io/k8s-staging-cri-tools/test-image-user-uid-group:latest "$withwww
USER 1003:1004"
build gcr.io/k8s-staging-cri-tools/test-image-user-username-group:latest "$withwww
USER www-data:1004"
build gcr.io/k8s-staging-cri-tools/test-image-predefined-group:latest 'FROM busybox:latest
RUN grep -q "^[^:]*:x:1000:" /etc/passwd || echo "default-user:x:1000:1000::/home/default-user:/bin/sh" >>/etc/passwd; u=$(grep "^[^:]*:x:1000:" /etc/passwd | cut -d: -f1) && echo "group-defined-in-image:x:50000:$u" >>/etc/group
USER 1000'
# critest's image-service specs: a tagged and an untagged image, three different images and one
# image under three tags.
build gcr.io/k8s-staging-cri-tools/test-image-latest:latest 'FROM busybox:latest
LABEL cri-test=latest'
build gcr.io/k8s-staging-cri-tools/test-image-tag:test 'FROM busybox:latest
LABEL cri-test=tag'
build gcr.io/k8s-staging-cri-tools/test-image-tag:all 'FROM busybox:latest
LABEL cri-test=all'
for i in 1 2 3; do
  build "gcr.io/k8s-staging-cri-tools/test-image-$i:latest" "FROM busybox:latest
LABEL cri-test=image-$i"
done
build gcr.io/k8s-staging-cri-tools/test-image-tags:1 'FROM busybox:latest
LABEL cri-test=tags'
docker tag gcr.io/k8s-staging-cri-tools/test-image-tags:1 gcr.io/k8s-staging-cri-tools/test-image-tags:2
docker tag gcr.io/k8s-staging-cri-tools/test-image-tags:1 gcr.io/k8s-staging-cri-tools/test-image-tags:3
