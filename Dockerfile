# Builds an image that runs berthd. The base image is a build argument:
#   docker build --build-arg BASE=debian:12-slim -t berth .
# Run it privileged with its own data root, e.g.:
#   docker run -d --privileged -v /var/lib/berth -v /run/berth-sock:/var/run berth
ARG BASE=debian:12-slim

FROM ${BASE} AS build
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
RUN npm install --no-audit --no-fund
COPY src ./src
COPY test ./test
COPY bench ./bench
# The build precompiles the request validators from the OpenAPI document.
COPY openapi ./openapi
RUN npm run build && npm prune --omit=dev

FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs runc crun conmon iptables iproute2 attr ca-certificates \
 && rm -rf /var/lib/apt/lists/*
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
