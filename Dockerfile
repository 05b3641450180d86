# selligent-export: loads a Treasure Data query result into a Selligent (Marigold Engage) List and its
# static Segments. See docs/container.md (docker run) and docs/digdag.md (digdag's Docker/ECS executors).
#
#   docker build -t selligent-export:0.1.0 --build-arg VERSION=0.1.0 .
#   docker run --rm -e RESULT_SETTINGS -e INPUT_URI -e SELLIGENT_BASE_URL -e SELLIGENT_API_KEY \
#     -e SELLIGENT_API_SECRET selligent-export:0.1.0            # CMD: selligent-export run
#   docker run --rm ... selligent-export:0.1.0 /bin/sh -c '...'  # any command, run as given

# ---------------------------------------------------------------------------------------------------
# build: all dependencies, then compile TypeScript to dist/
FROM node:24-bookworm-slim AS build
# Path of an extra CA bundle (PEM) for npm behind a TLS-inspecting proxy. Only the path is passed; the
# file is mounted at build time (e.g. podman build --volume) and never copied into an image layer.
ARG NODE_EXTRA_CA_CERTS
ENV NPM_CONFIG_AUDIT=false NPM_CONFIG_FUND=false NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && chmod 0755 dist/cli.js

# ---------------------------------------------------------------------------------------------------
# deps: production dependencies only (no TypeScript, no test tools), without type declarations,
# source maps and read-me files, which nothing loads at run time
FROM node:24-bookworm-slim AS deps
ARG NODE_EXTRA_CA_CERTS
ENV NPM_CONFIG_AUDIT=false NPM_CONFIG_FUND=false NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts \
 && find node_modules -type f \( -name '*.d.ts' -o -name '*.d.cts' -o -name '*.d.mts' -o -name '*.map' -o -name '*.md' \) -delete \
 && find node_modules -type d -name dist-types -prune -exec rm -rf {} +

# ---------------------------------------------------------------------------------------------------
# runtime
FROM node:24-bookworm-slim AS runtime

# tini: PID 1 that forwards SIGTERM/SIGINT to the exporter and reaps children.
# curl, tar, bash: digdag's ECS command executor wraps the task in `/bin/bash -c` and moves the project
# archive in and .digdag/tmp/ out with curl and tar (bash and tar come with the base image).
# ca-certificates: for curl's https (Node.js carries its own CA store).
# /work: the working directory, writable by the unprivileged user (reports, digdag's ECS archive).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tini curl ca-certificates \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
 && install -d -o node -g node -m 0755 /work \
 && ln -s /opt/selligent-export/bin/selligent-export /usr/local/bin/selligent-export

# glibc's allocator as src/heap.ts sets it for the heap-capped child, also for a run without that child
# (a container whose memory limit already caps the heap): most of a run's memory is outside the JS heap.
ENV NODE_ENV=production MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072
WORKDIR /opt/selligent-export
COPY --from=deps /build/node_modules ./node_modules
COPY package.json ./
COPY --from=build /build/dist ./dist
# The command: Node with the heap cap on its command line, so a run is one process (see the script).
COPY container/selligent-export ./bin/selligent-export
# The run report's JSON Schema, read by `selligent-export report` (from dist/, one directory up).
COPY docs/report.schema.json ./docs/

# Release builds pass these: --build-arg VERSION=<package.json version> --build-arg SOURCE=<repository URL>
ARG VERSION=dev
ARG SOURCE=
LABEL org.opencontainers.image.title="selligent-export" \
      org.opencontainers.image.description="Loads a Treasure Data query result from object storage into a Selligent (Marigold Engage) List and its static Segments" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0"

WORKDIR /work
USER node
# `docker run IMAGE` runs an export configured from the environment (RESULT_SETTINGS or result_settings,
# INPUT_URI, SELLIGENT_*); `docker run IMAGE CMD...` runs CMD as given (digdag passes its own command).
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["selligent-export", "run"]
