#!/usr/bin/env bash
# Container smoke test: builds the image from the real Dockerfile and runs it against the local Selligent
# simulator, on a machine with no Docker engine and no registry.
#
#   - podman (with runc) builds and runs the image; a local stand-in for node:24-bookworm-slim is made
#     once with debootstrap plus Node.js 24 from the npm registry (scripts/node24.sh) and this machine's
#     npm, and cached;
#   - the image runs the way digdag's Docker executor runs it (project mounted at the same path, working
#     directory, -e variables, the command as given), and with its default command and env only: the
#     multi_segment and basic samples, a bad setting through digdag's own task-script form and the retry
#     wrapper, workflows/selligent_export.dig's exporter task on gzip CSV from an S3-compatible server
#     (s3rver on the host), and a run stopped by SIGTERM;
#   - checks: exit codes, the run report, the simulator's List and Segments, the non-root user, one
#     Node process with the heap cap, SIGTERM handling, the tools digdag's ECS executor needs,
#     `node --version` in the image (Node.js 24); the image size is printed;
#   - both Dockerfile linters run (dockerfile-utils, dockerfilelint).
#
# Needs root (apt-get, debootstrap, rootful podman). Run after `npm ci`: `npm run test:container`.
# Everything it starts it stops; it can be run again (the base image and the build cache are reused).
#
# Environment: SMOKE_IMAGE (default localhost/selligent-export:smoke), SMOKE_CACHE_DIR (default
# /var/tmp/selligent-export-smoke), SMOKE_KEEP=1 keeps the scratch directory for a look afterwards.
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
IMAGE=${SMOKE_IMAGE:-localhost/selligent-export:smoke}
BASE_IMAGE=docker.io/library/node:24-bookworm-slim
# The stand-in an earlier version of this test made for the Node.js 20 base; removed when found.
OLD_BASE_IMAGES=(docker.io/library/node:20-bookworm-slim)
CACHE=${SMOKE_CACHE_DIR:-/var/tmp/selligent-export-smoke}
KEY=simulator-key
SECRET=simulator-secret
STARTED=$(date +%s)

FAILURES=0
PIDS=()
CONTAINERS=()
WORK=

log() { printf '\n== %s\n' "$*"; }
pass() { printf '  ok   %s\n' "$*"; }
fail() { printf '  FAIL %s\n' "$*"; FAILURES=$((FAILURES + 1)); }
die() { printf 'smoke: %s\n' "$*" >&2; exit 1; }
check() { # check DESCRIPTION COMMAND...: passes when the command succeeds
  local what=$1; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
check_eq() { # check_eq DESCRIPTION EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then pass "$1 ($3)"; else fail "$1: expected [$2], got [$3]"; fi
}

cleanup() {
  local code=$?
  set +e
  for c in "${CONTAINERS[@]}"; do podman rm -f --time 2 "$c" >/dev/null 2>&1; done
  for pid in "${PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null
    fi
  done
  if [ -n "$WORK" ] && [ -d "$WORK" ]; then
    if [ "${SMOKE_KEEP:-}" = 1 ]; then echo "smoke: kept $WORK"; else rm -rf "$WORK"; fi
  fi
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ "$(id -u)" = 0 ] || die "run as root: apt-get, debootstrap and rootful podman need it"
cd "$ROOT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/selligent-export-smoke.XXXXXX")
chmod 0755 "$WORK"
mkdir -p "$CACHE"

# ------------------------------------------------------------------------------------------------
log "tools"
missing=()
for tool in podman buildah runc debootstrap curl; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman buildah runc debootstrap curl >/dev/null
fi
# crun fails here ("cgroups in hybrid mode not supported") and rlimits above the ones in force give
# EPERM: use runc and default ulimits no higher than this machine's hard limits.
nofile=$(ulimit -Hn); [ "$nofile" = unlimited ] && nofile=1048576; [ "$nofile" -gt 65536 ] && nofile=65536
nproc=$(ulimit -Hu); [ "$nproc" = unlimited ] && nproc=4096; [ "$nproc" -gt 4096 ] && nproc=4096
cat > "$CACHE/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]

[engine]
runtime = "runc"
EOF
export CONTAINERS_CONF="$CACHE/containers.conf"
echo "CONTAINERS_CONF=$CONTAINERS_CONF (runc, nofile=$nofile, nproc=$nproc)"
podman --version
runc --version | head -n 1

# ------------------------------------------------------------------------------------------------
log "base image $BASE_IMAGE"
debian_mirror() {
  # The Debian mirror this machine's apt uses for bookworm (not the security archive).
  local uri=
  if [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)
  fi
  if [ -z "$uri" ]; then
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -f "$f" ] || continue
      uri=$(awk '
        function flush() { if (deb && suite && uri != "" && !found) { print uri; found = 1 } deb = 0; suite = 0; uri = "" }
        /^[[:space:]]*$/ { flush(); next }
        /^Types:/ { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
        /^URIs:/ { uri = $2 }
        /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") suite = 1 }
        END { flush() }' "$f")
      [ -n "$uri" ] && break
    done
  fi
  [ -n "$uri" ] || return 1
  printf '%s\n' "$uri"
}

# Bump when the recipe below changes: a cached base made by another recipe is made again.
BASE_RECIPE=3
for old in "${OLD_BASE_IMAGES[@]}"; do
  if [ -n "$(podman image inspect --format '{{index .Labels "selligent-export.smoke.base-recipe"}}' "$old" 2>/dev/null || true)" ]; then
    podman rmi "$old" >/dev/null 2>&1 && echo "removed the earlier stand-in $old" || true
  fi
done
# Node.js 24 from the npm registry (the node-linux-<arch> package carries the official binary), cached.
node_dir=$(bash scripts/node24.sh) || die "could not install Node.js 24 from the npm registry (scripts/node24.sh)"
node_bin="$node_dir/node"
node_version=$("$node_bin" --version)
case $node_version in v24.*) ;; *) die "scripts/node24.sh gave Node.js $node_version, not 24" ;; esac
cached_recipe=$(podman image inspect --format '{{index .Labels "selligent-export.smoke.base-recipe"}}' "$BASE_IMAGE" 2>/dev/null || true)
cached_node=$(podman image inspect --format '{{index .Labels "selligent-export.smoke.node"}}' "$BASE_IMAGE" 2>/dev/null || true)
if [ "$cached_recipe" = "$BASE_RECIPE" ] && [ "$cached_node" = "$node_version" ]; then
  echo "cached: $(podman image inspect --format '{{.Id}}' "$BASE_IMAGE" | cut -c1-12)"
else
  mirror=$(debian_mirror) || die "no Debian bookworm mirror found in /etc/apt/sources.list or /etc/apt/sources.list.d/*.sources"
  npm_dir="$(npm root -g)/npm"
  [ -f "$npm_dir/bin/npm-cli.js" ] || die "npm not found at $npm_dir"
  echo "debootstrap bookworm from $mirror; Node.js $node_version from $node_bin; npm $(node "$npm_dir/bin/npm-cli.js" --version) from $npm_dir"
  old_base_id=$(podman image inspect --format '{{.Id}}' "$BASE_IMAGE" 2>/dev/null || true)
  rootfs="$CACHE/rootfs"
  rm -rf "${rootfs:?}"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" > "$CACHE/debootstrap.log" 2>&1 \
    || { tail -n 20 "$CACHE/debootstrap.log"; die "debootstrap failed (log: $CACHE/debootstrap.log)"; }
  # The layout of the official image: node and npm under /usr/local, a node user with uid/gid 1000,
  # ENTRYPOINT docker-entrypoint.sh, CMD node.
  install -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/usr/local/lib/node_modules"
  cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  cat > "$rootfs/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -e
# Run the command with node when the first argument is an option or not a command.
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"
EOF
  chmod 0755 "$rootfs/usr/local/bin/docker-entrypoint.sh"
  chroot "${rootfs:?}" groupadd --gid 1000 node
  chroot "${rootfs:?}" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  # The container settings of Debian's official images: no apt caches or translations in layers,
  # compressed indexes, and the slim variant's excluded paths (documentation, man pages, locales).
  cat > "${rootfs:?}/etc/apt/apt.conf.d/docker-clean" <<'APTCLEAN'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APTCLEAN
  echo 'Acquire::GzipIndexes "true";' > "${rootfs:?}/etc/apt/apt.conf.d/docker-gzip-indexes"
  echo 'Acquire::Languages "none";' > "${rootfs:?}/etc/apt/apt.conf.d/docker-no-languages"
  echo 'Apt::AutoRemove::SuggestsImportant "false";' > "${rootfs:?}/etc/apt/apt.conf.d/docker-autoremove-suggests"
  cat > "${rootfs:?}/etc/dpkg/dpkg.cfg.d/docker" <<'DPKGSLIM'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
DPKGSLIM
  find "${rootfs:?}/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "${rootfs:?}/usr/share/doc" -mindepth 1 -type d -empty -delete
  for dir in groff info linda lintian/overrides locale man; do
    if [ -d "${rootfs:?}/usr/share/$dir" ]; then find "${rootfs:?}/usr/share/$dir" -mindepth 1 -delete; fi
  done
  rm -rf "${rootfs:?}"/var/lib/apt/lists/* "${rootfs:?}"/var/cache/apt/archives/*.deb "${rootfs:?}"/var/cache/apt/*.bin "${rootfs:?}"/var/log/*.log
  tar -C "$rootfs" --numeric-owner -cf - . | podman import \
    --change "ENV NODE_VERSION=${node_version#v}" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
    --change 'CMD ["node"]' \
    --change "LABEL selligent-export.smoke.base-recipe=$BASE_RECIPE" \
    --change "LABEL selligent-export.smoke.node=$node_version" \
    --quiet --message "local stand-in for node:24-bookworm-slim (debootstrap minbase + Node.js $node_version)" \
    - "$BASE_IMAGE" >/dev/null
  rm -rf "${rootfs:?}"
  echo "imported: $(podman image inspect --format '{{.Id}}' "$BASE_IMAGE" | cut -c1-12)"
fi
base_size=$(podman image inspect --format '{{.Size}}' "$BASE_IMAGE")

# ------------------------------------------------------------------------------------------------
log "lint the Dockerfile"
if npx --no-install dockerfile-utils lint Dockerfile; then pass "dockerfile-utils lint: no problems"; else fail "dockerfile-utils lint"; fi
if npx --no-install dockerfilelint Dockerfile; then pass "dockerfilelint: no problems"; else fail "dockerfilelint"; fi

# ------------------------------------------------------------------------------------------------
log "build $IMAGE"
version=$(node -p 'require("./package.json").version')
build_args=(--build-arg "VERSION=$version")
source_url=$(git config --get remote.origin.url 2>/dev/null || true)
[ -n "$source_url" ] && build_args+=(--build-arg "SOURCE=$source_url")
ca_args=()
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  # npm inside the build must trust this machine's CA (a TLS-inspecting proxy): mount the certificates
  # for the RUN steps and name the bundle through the build stages' ARG NODE_EXTRA_CA_CERTS. They are
  # mounted on /mnt (empty in the base, so the mount leaves no trace in a layer), not over the image's
  # /etc/ssl/certs: the runtime stage installs ca-certificates, whose set-up writes
  # /etc/ssl/certs/ca-certificates.crt and fails on a read-only mount there.
  ca_args=(--volume /etc/ssl/certs:/mnt:ro --build-arg NODE_EXTRA_CA_CERTS=/mnt/ca-certificates.crt)
fi
old_id=$(podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
build_started=$(date +%s)
podman build --pull=never --network host "${ca_args[@]}" "${build_args[@]}" -t "$IMAGE" -f Dockerfile . \
  || die "podman build failed"
echo "built in $(( $(date +%s) - build_started )) s"
new_id=$(podman image inspect --format '{{.Id}}' "$IMAGE")
if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then podman rmi "$old_id" >/dev/null 2>&1 || true; fi
# A base made by an earlier recipe is no longer used by anything of ours.
if [ -n "${old_base_id:-}" ]; then podman rmi "$old_base_id" >/dev/null 2>&1 || true; fi

# ------------------------------------------------------------------------------------------------
log "image"
run() { podman run --rm --pull=never "$@"; }
image_size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
check_eq "image user" node "$(podman image inspect --format '{{.Config.User}}' "$IMAGE")"
check_eq "image workdir" /work "$(podman image inspect --format '{{.Config.WorkingDir}}' "$IMAGE")"
check_eq "entrypoint" "[/usr/bin/tini --]" "$(podman image inspect --format '{{.Config.Entrypoint}}' "$IMAGE")"
check_eq "cmd" "[selligent-export run]" "$(podman image inspect --format '{{.Config.Cmd}}' "$IMAGE")"
check_eq "label org.opencontainers.image.version" "$version" \
  "$(podman image inspect --format '{{index .Labels "org.opencontainers.image.version"}}' "$IMAGE")"
check_eq "label org.opencontainers.image.licenses" "Apache-2.0" \
  "$(podman image inspect --format '{{index .Labels "org.opencontainers.image.licenses"}}' "$IMAGE")"
check_eq "process user id (id -u) in the container" 1000 "$(run "$IMAGE" id -u)"
check_eq "selligent-export --version" "$version" "$(run "$IMAGE" selligent-export --version)"
check_eq "node --version in the image (the base's Node.js 24)" "$node_version" "$(run "$IMAGE" node --version)"
check_eq "NODE_ENV" production "$(run "$IMAGE" /bin/sh -c 'echo "$NODE_ENV"')"
check "bash, curl, tar, tini and selligent-export are on PATH (digdag's ECS executor needs bash, curl, tar)" \
  run "$IMAGE" /bin/bash -c 'command -v bash curl tar tini selligent-export >/dev/null && curl --version >/dev/null && tar --version >/dev/null'
check "no dev dependencies in the image (typescript, tsx)" \
  run "$IMAGE" /bin/sh -c '! [ -e /opt/selligent-export/node_modules/typescript ] && ! [ -e /opt/selligent-export/node_modules/tsx ]'
check "no sources, tests or lock files in the image" \
  run "$IMAGE" /bin/sh -c '! [ -e /opt/selligent-export/src ] && ! [ -e /opt/selligent-export/test ] && [ -f /opt/selligent-export/dist/cli.js ]'
check "the working directory is writable by the image user" run "$IMAGE" /bin/sh -c 'touch /work/probe'
check "the build-time CA mount left nothing in the image" run "$IMAGE" /bin/sh -c '[ -z "$(ls -A /mnt)" ]'
# On Node 20 the SDK warns at the first client that its later releases need Node 22; on the image's Node 24
# it must load with no output at all, without the opt-out variable.
sdk_out=$(run -w /opt/selligent-export "$IMAGE" node -e 'import("@aws-sdk/client-s3").then((m) => { new m.S3Client({ region: "us-east-1" }).destroy(); setTimeout(() => console.log("loaded"), 50); })' 2>&1 || true)
check_eq "the S3 client loads in the image (pruned node_modules), with no warning and no opt-out set" loaded "$sdk_out"
check "the export pipeline and the S3 reader load in the image" \
  run -w /opt/selligent-export "$IMAGE" node -e 'Promise.all([import("./dist/run.js"), import("./dist/source/s3.js")]).catch((e) => { console.error(e); process.exit(1); })'

# ------------------------------------------------------------------------------------------------
log "simulator"
start_simulator() { # start_simulator VAR NAME ARGS...: starts a simulator, sets VAR to its port, records its PID
  local var=$1 name=$2; shift 2
  local out="$WORK/$name.out"
  node dist/cli.js simulate --port 0 --host 127.0.0.1 "$@" >"$out" 2>"$WORK/$name.err" &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 100); do
    if head -n 1 "$out" 2>/dev/null | grep -q '^Selligent simulator listening on http://'; then
      printf -v "$var" '%s' "$(head -n 1 "$out" | sed -E 's#.*:([0-9]+)$#\1#')"
      echo "simulator $name at http://127.0.0.1:${!var} (pid $pid)"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$WORK/$name.err" >&2
  return 1
}
echo "npm run build (the simulator runs on the host from dist/)"
npm run build --silent || die "npm run build failed"
start_simulator PORT sim --config digdag-samples/simulator.yml || die "the simulator did not start"
BASE_URL="http://127.0.0.1:$PORT"
API="$BASE_URL/Portal/Api/organizations/my_org/lists"
HDR="X-ApiKey: $KEY:$SECRET"
record_count() { curl -fsS -H "$HDR" "$API/$1/records" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).count))'; }
members() {
  curl -fsS -H "$HDR" -H 'Content-Type: application/json' -X POST "$API/$1/segments/$2/data/search" \
    -d '{"fields":["CUSTOMER_IDENTIFIER"],"skip":0,"take":100}' \
    | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log((JSON.parse(s||"{}").data||[]).map(r=>r[0]).sort().join(",")))'
}
report_field() { node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(process.argv[2].split(".").reduce((o,k)=>o==null?o:o[k],r))' "$1" "$2"; }
owner_uid() { stat -c %u "$1"; }
count_before=$(record_count master_contacts)
echo "List master_contacts: $count_before records before the runs"

# A scratch digdag project: a sample folder, the workflow scripts, .digdag/tmp.
PROJECT="$WORK/project"
mkdir -p "$PROJECT/.digdag/tmp"
cp -r digdag-samples/multi_segment digdag-samples/basic "$PROJECT/"
mkdir -p "$PROJECT/scripts" && cp workflows/scripts/selligent_export.sh "$PROJECT/scripts/"
chmod -R a+rX "$PROJECT"
# The image runs as uid 1000: that user writes the report into .digdag/tmp.
chown 1000:1000 "$PROJECT/.digdag/tmp"
CRED_ENV=(-e "SELLIGENT_BASE_URL=$BASE_URL" -e "SELLIGENT_API_KEY=$KEY" -e "SELLIGENT_API_SECRET=$SECRET")

# ------------------------------------------------------------------------------------------------
log "run 1: digdag Docker executor form, multi_segment sample (--settings, --input)"
set +e
podman run --rm --pull=never --network host -v "$PROJECT:$PROJECT:rw" -w "$PROJECT" "${CRED_ENV[@]}" -e LOG_LEVEL=warn \
  "$IMAGE" /bin/sh -c 'exec selligent-export run --settings multi_segment/multi_segment.settings.yml --input multi_segment/multi_segment.csv'
code=$?
set -e
check_eq "exit code" 0 "$code"
REPORT="$PROJECT/.digdag/tmp/selligent-export-report.json"
if [ -f "$REPORT" ]; then
  pass "report written to .digdag/tmp/ of the working directory"
  check_eq "report status" succeeded "$(report_field "$REPORT" status)"
  check_eq "report exit_code" 0 "$(report_field "$REPORT" exit_code)"
  check_eq "report accounting.loaded" 3 "$(report_field "$REPORT" accounting.loaded)"
  check_eq "report accounting.balanced" true "$(report_field "$REPORT" accounting.balanced)"
  check_eq "report written by uid 1000 (not root)" 1000 "$(owner_uid "$REPORT")"
  check "report carries no secret" bash -c "! grep -q -e '$SECRET' -e '$KEY' '$REPORT'"
else
  fail "no report at $REPORT"
fi
check_eq "List master_contacts record count" "$((count_before + 3))" "$(record_count master_contacts)"
check_eq "Segment vip_customers members" C101 "$(members master_contacts vip_customers)"
check_eq "Segment re_engagement members" C204 "$(members master_contacts re_engagement)"
check_eq "Segment standard_customers members" C319 "$(members master_contacts standard_customers)"

# ------------------------------------------------------------------------------------------------
log "run 2: plain podman run with the image's CMD and env only, basic sample"
OUT="$WORK/out"
mkdir -p "$OUT" && chown 1000:1000 "$OUT"
set +e
podman run --rm --pull=never --network host \
  -v "$PROJECT/basic:/data:ro" -v "$OUT:/work" \
  "${CRED_ENV[@]}" -e "RESULT_SETTINGS=$(cat digdag-samples/basic/basic.settings.yml)" -e INPUT_URI=/data/basic.csv \
  "$IMAGE"
code=$?
set -e
check_eq "exit code" 0 "$code"
if [ -f "$OUT/selligent-export-report.json" ]; then
  pass "report written to the image's working directory /work"
  check_eq "report status" succeeded "$(report_field "$OUT/selligent-export-report.json" status)"
  check_eq "report settings_source" "env RESULT_SETTINGS" "$(report_field "$OUT/selligent-export-report.json" settings_source)"
else
  fail "no report in /work"
fi
check_eq "List master_contacts record count" "$((count_before + 6))" "$(record_count master_contacts)"
check_eq "Segment active_customers members" C001,C002,C003 "$(members master_contacts active_customers)"

# ------------------------------------------------------------------------------------------------
log "run 3: digdag's own task form (/bin/sh .digdag/tmp/digdag-sh-*/runner.sh, result_settings as JSON), a bad setting"
# digdag writes the task's script into a private (0700) directory owned by the user digdag runs as, and
# passes the result_settings map as JSON text in the environment variable result_settings. The
# container therefore runs as that user (docker.run_options: [--user, UID:GID]).
TASK_DIR="$PROJECT/.digdag/tmp/digdag-sh-3-smoke"
mkdir -p "$TASK_DIR" && chmod 0700 "$TASK_DIR"
echo 'sh scripts/selligent_export.sh --input multi_segment/multi_segment.csv' > "$TASK_DIR/runner.sh"
bad_settings='{"organization":"my_org","list_api_name":"master_contacts","segment_column":"selligent_segment","key_fields":"CUSTOMER_IDENTIFIER","segment_data_import_option":"Replace"}'
set +e
podman run --rm --pull=never --network host --user "$(id -u):$(id -g)" -v "$PROJECT:$PROJECT:rw" -w "$PROJECT" \
  "${CRED_ENV[@]}" -e "result_settings=$bad_settings" -e LOG_LEVEL=warn -e EXPORT_RETRY_INTERVAL=1 \
  "$IMAGE" /bin/sh .digdag/tmp/digdag-sh-3-smoke/runner.sh 2>&1 | tee "$WORK/run3.log"
code=${PIPESTATUS[0]}
set -e
check_eq "exit code (configuration error, not retried by the wrapper)" 2 "$code"
check "the error names the setting and the allowed values" grep -q 'segment_data_import_option: expected one of append, replace, got "Replace"' "$WORK/run3.log"
check_eq "the wrapper ran the exporter once" 1 "$(grep -c 'selligent-export: failed' "$WORK/run3.log")"
check_eq "report status" failed "$(report_field "$REPORT" status)"
check_eq "report exit_code" 2 "$(report_field "$REPORT" exit_code)"
check_eq "List master_contacts record count unchanged" "$((count_before + 6))" "$(record_count master_contacts)"

# ------------------------------------------------------------------------------------------------
log "run 4: workflows/selligent_export.dig's exporter task: gzip CSV from S3 (s3rver), result_settings as JSON"
# The task's own command and settings, with its parameters filled in as digdag would.
task_json=$(node test/container/helpers.mjs task workflows/selligent_export.dig +load_into_selligent)
json_get() { node -e 'const v=JSON.parse(process.argv[1]);const r=process.argv[2].split(".").reduce((o,k)=>o==null?o:o[k],v);console.log(typeof r==="string"?r:JSON.stringify(r))' "$task_json" "$1"; }
S3_BUCKET=$(json_get export.s3_bucket)
S3_PREFIX=$(json_get export.s3_prefix)
SESSION_DATE=2026-11-27
task_command=$(json_get command)
task_command=${task_command//'${s3_bucket}'/$S3_BUCKET}
task_command=${task_command//'${s3_prefix}'/$S3_PREFIX}
task_command=${task_command//'${session_date}'/$SESSION_DATE}
echo "command: $task_command"
mkdir -p "$WORK/s3data"
node test/container/helpers.mjs s3 "$WORK/s3data" "$S3_BUCKET" "$S3_PREFIX/$SESSION_DATE/result.csv.gz" workflows/data/selligent_export.csv \
  >"$WORK/s3.out" 2>"$WORK/s3.err" &
PIDS+=("$!")
for _ in $(seq 100); do grep -q '^s3 server listening' "$WORK/s3.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^s3 server listening' "$WORK/s3.out" || { cat "$WORK/s3.err" >&2; die "the S3 server did not start"; }
S3_ENDPOINT=$(sed -nE 's#^s3 server listening on (http://[0-9.:]+)$#\1#p' "$WORK/s3.out")
echo "s3 server at $S3_ENDPOINT (pid ${PIDS[-1]}), object s3://$S3_BUCKET/$S3_PREFIX/$SESSION_DATE/result.csv.gz"
set +e
podman run --rm --pull=never --network host -v "$PROJECT:$PROJECT:rw" -w "$PROJECT" "${CRED_ENV[@]}" -e LOG_LEVEL=warn \
  -e "result_settings=$(json_get result_settings)" \
  -e AWS_ACCESS_KEY_ID=S3RVER -e AWS_SECRET_ACCESS_KEY=S3RVER -e AWS_REGION=us-east-1 \
  -e "AWS_ENDPOINT_URL_S3=$S3_ENDPOINT" -e S3_FORCE_PATH_STYLE=true \
  "$IMAGE" /bin/sh -c "$task_command"
code=$?
set -e
check_eq "exit code" 0 "$code"
check_eq "report status" succeeded "$(report_field "$REPORT" status)"
check_eq "report settings_source" "env result_settings" "$(report_field "$REPORT" settings_source)"
check_eq "report input.location" "s3://$S3_BUCKET/$S3_PREFIX/$SESSION_DATE/" "$(report_field "$REPORT" input.location)"
check_eq "report input.compression" gzip "$(report_field "$REPORT" input.compression)"
check_eq "report input.rows" 3 "$(report_field "$REPORT" input.rows)"
check_eq "report list.updated (the rows of run 1 again: a rerun converges)" 3 "$(report_field "$REPORT" list.updated)"
check "report carries no secret" bash -c "! grep -q -e '$SECRET' -e 'S3RVER' '$REPORT'"
check_eq "List master_contacts record count unchanged" "$((count_before + 6))" "$(record_count master_contacts)"
check_eq "Segment vip_customers members" C101 "$(members master_contacts vip_customers)"

# ------------------------------------------------------------------------------------------------
log "run 5: SIGTERM reaches the exporter (tini as PID 1), which stops and writes its report"
start_simulator SLOW_PORT slow --config digdag-samples/simulator.yml --latency-ms 1500 || die "the slow simulator did not start"
SIGOUT="$WORK/sigterm"
mkdir -p "$SIGOUT" && chown 1000:1000 "$SIGOUT"
NAME="selligent-export-smoke-$$"
CONTAINERS+=("$NAME")
podman run -d --pull=never --name "$NAME" --network host -v "$PROJECT/multi_segment:/data:ro" -v "$SIGOUT:/work" \
  -e "SELLIGENT_BASE_URL=http://127.0.0.1:$SLOW_PORT" -e "SELLIGENT_API_KEY=$KEY" -e "SELLIGENT_API_SECRET=$SECRET" \
  -e "RESULT_SETTINGS=$(cat digdag-samples/multi_segment/multi_segment.settings.yml)" -e INPUT_URI=/data/multi_segment.csv \
  "$IMAGE" >/dev/null
for _ in $(seq 100); do podman logs "$NAME" 2>&1 | grep -q 'export starting' && break; sleep 0.1; done
sleep 1
podman top "$NAME" user pid args 2>/dev/null | tee "$WORK/top.txt" || true
check "the exporter process runs as node, not root" bash -c "grep -q 'selligent-export' '$WORK/top.txt' && ! grep -E '^root[[:space:]]' '$WORK/top.txt' | grep -q ."
# Node names its main thread, so count the processes by their command line's program, not by comm.
podman top "$NAME" pid args 2>/dev/null | tee "$WORK/args.txt" || true
check_eq "Node processes in the container (the heap cap on node's command line: no second, capped one)" 1 \
  "$(awk '$2 ~ /(^|\/)node$/' "$WORK/args.txt" | wc -l)"
check "that process has the heap cap" grep -q -- '--max-old-space-size=192' "$WORK/args.txt"
term_sent=$(date +%s)
podman kill --signal TERM "$NAME" >/dev/null
code=$(podman wait "$NAME")
took=$(( $(date +%s) - term_sent ))
podman logs "$NAME" > "$WORK/run4.log" 2>&1 || true
check_eq "exit code after SIGTERM (5: interrupted, safe to run again)" 5 "$code"
check "stopped within 10 s of the signal (${took} s)" test "$took" -le 10
check "the exporter logged the signal" grep -q 'received SIGTERM' "$WORK/run4.log"
if [ -f "$SIGOUT/selligent-export-report.json" ]; then
  check_eq "report status" failed "$(report_field "$SIGOUT/selligent-export-report.json" status)"
  check_eq "report error.code" INTERRUPTED "$(report_field "$SIGOUT/selligent-export-report.json" error.code)"
else
  fail "no report after SIGTERM"
fi
podman rm -f "$NAME" >/dev/null 2>&1 || true

# ------------------------------------------------------------------------------------------------
log "summary"
human() { numfmt --to=iec-i --suffix=B --format='%.1f' "$1"; }
echo "image $IMAGE: $(human "$image_size") ($image_size bytes); base $BASE_IMAGE: $(human "$base_size"); added by the Dockerfile: $(human $((image_size - base_size)))"
podman images --filter "reference=$IMAGE" --format '{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}'
echo "duration: $(( $(date +%s) - STARTED )) s"
if [ "$FAILURES" -gt 0 ]; then
  echo "smoke: $FAILURES check(s) failed"
  exit 1
fi
echo "smoke: all checks passed"
