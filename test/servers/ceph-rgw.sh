#!/usr/bin/env bash
# A one-node Ceph cluster with the RADOS Gateway (S3) on 127.0.0.1, for running the S3 tests against a
# real S3 implementation: one monitor, one memstore OSD (data lives in memory), radosgw with the beast
# frontend, cephx off, and an S3 user.
#
#   ceph-rgw.sh start DIR            start (installing the Debian packages if missing); prints the
#                                    S3_TEST_* variables as `export` lines on stdout (eval-able) and
#                                    writes them to DIR/env
#   ceph-rgw.sh stop DIR             stop the daemons recorded in DIR/pids and wait for them to exit
#   ceph-rgw.sh run DIR -- CMD...    start, run CMD with the S3_TEST_* environment, always stop,
#                                    exit with CMD's status
#
# Overridable: CEPH_MON_PORT (16789), CEPH_RGW_PORT (17480), CEPH_RGW_ACCESS_KEY, CEPH_RGW_SECRET_KEY,
# CEPH_RGW_BUCKET (exporter-test), CEPH_START_TIMEOUT (seconds per step, 90).
# Needs root (or sudo) for apt-get the first time; about 1 GB of memory while running.
set -euo pipefail

MON_PORT="${CEPH_MON_PORT:-16789}"
RGW_PORT="${CEPH_RGW_PORT:-17480}"
ACCESS_KEY="${CEPH_RGW_ACCESS_KEY:-EXPORTERTESTACCESSKEY}"
SECRET_KEY="${CEPH_RGW_SECRET_KEY:-exporter-test-secret-key}"
BUCKET="${CEPH_RGW_BUCKET:-exporter-test}"
STEP_TIMEOUT="${CEPH_START_TIMEOUT:-90}"
HOST=127.0.0.1
PACKAGES=(radosgw ceph-mon ceph-osd ceph-common)
COMMANDS=(ceph ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph-authtool)

log() { printf '[ceph-rgw] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

ensure_packages() {
  local missing=0 cmd
  for cmd in "${COMMANDS[@]}"; do command -v "$cmd" >/dev/null 2>&1 || missing=1; done
  [ "$missing" = 0 ] && return 0
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "Ceph is not installed and this is not root: apt-get install ${PACKAGES[*]}"
    sudo=(sudo)
  fi
  log "installing ${PACKAGES[*]} (apt-get)"
  local started=$SECONDS
  if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" >&2; then
    log "install failed; refreshing the package lists and trying again"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" >&2
  fi
  for cmd in "${COMMANDS[@]}"; do command -v "$cmd" >/dev/null 2>&1 || die "$cmd is still missing after installing ${PACKAGES[*]}"; done
  log "installed in $((SECONDS - started)) s"
}

# True when something accepts connections on 127.0.0.1:$1.
port_busy() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# The PID is alive and is one of this cluster's daemons (its command line names our ceph.conf).
our_pid() {
  local pid=$1 state
  [ -r "/proc/$pid/cmdline" ] || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
  [ "$state" != Z ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$CONF"
}

# The PID still exists and is not a zombie (an exiting process loses its cmdline before it is gone).
alive() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

stop_cluster() {
  [ -d "$D/pids" ] || return 0
  local f pid pids=() waited=0 since=$SECONDS
  for f in "$D"/pids/*; do
    [ -e "$f" ] || continue
    pid=$(cat "$f")
    if our_pid "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  # Wait for every daemon to exit (a new cluster must not start while the old one is shutting down).
  while :; do
    local running=()
    for pid in "${pids[@]}"; do alive "$pid" && running+=("$pid"); done
    [ "${#running[@]}" = 0 ] && break
    if [ "$waited" -ge 300 ]; then # 30 s
      log "still running after 30 s, killing: ${running[*]}"
      kill -KILL "${running[@]}" 2>/dev/null || true
    fi
    sleep 0.1
    waited=$((waited + 1))
    [ "$waited" -ge 400 ] && die "daemons did not exit: ${running[*]}"
  done
  # Reap our own children, if they are ours (run mode).
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$D/pids"
  [ "${#pids[@]}" = 0 ] || log "stopped (${#pids[@]} daemons) in $((SECONDS - since)) s"
}

wait_until() { # description, command...
  local what=$1 deadline=$((SECONDS + STEP_TIMEOUT))
  shift
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "timed out after ${STEP_TIMEOUT} s waiting for $what"
      return 1
    fi
    check_daemons || return 1
    sleep 0.25
  done
}

check_daemons() {
  local f name
  for f in "$D"/pids/*; do
    [ -e "$f" ] || continue
    name=$(basename "$f")
    if ! our_pid "$(cat "$f")"; then
      log "$name exited; last lines of its log:"
      tail -n 15 "$D/log/$name.out" "$D/log/"*"$name"*.log >&2 2>/dev/null || true
      return 1
    fi
  done
}

spawn() { # name, command...
  local name=$1
  shift
  "$@" </dev/null >>"$D/log/$name.out" 2>&1 &
  echo $! >"$D/pids/$name"
}

ceph_cli() { timeout 20 ceph -c "$CONF" --connect-timeout 10 "$@"; }

osd_up() { ceph_cli osd stat 2>/dev/null | grep -q '1 up'; }
rgw_up() { curl -fsS -o /dev/null "http://$HOST:$RGW_PORT/"; }

write_conf() {
  local fsid=$1
  cat >"$CONF" <<EOF
[global]
fsid = $fsid
mon_host = v1:$HOST:$MON_PORT
mon_initial_members = a
public_network = 127.0.0.0/8
ms_bind_msgr2 = false
ms_bind_ipv6 = false
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
keyring = $D/keyring
run_dir = $D/run
admin_socket = $D/run/\$cluster-\$name.\$pid.asok
log_file = $D/log/\$cluster-\$name.log
pid_file = $D/run/\$cluster-\$name.pid
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
mon_data_avail_warn = 1
mon_data_avail_crit = 0
osd_memory_target = 939524096

[mon]
mon_data = $D/mon

[osd]
# With cephx off, an OSD may send its start-up "osd crush create-or-move / set-device-class" commands
# before it has the monmap, with a zero fsid; the monitor refuses them ("wrong fsid") and the OSD exits.
# The OSD is placed in the CRUSH map by this script instead.
osd_crush_update_on_start = false
osd_class_update_on_start = false
osd_data = $D/osd\$id
osd_objectstore = memstore
memstore_device_bytes = 4294967296

[client.rgw.a]
rgw_frontends = beast endpoint=$HOST:$RGW_PORT
rgw_data = $D/rgw
rgw_enable_usage_log = false
EOF
}

setup_cluster() {
  rm -rf "$D/mon" "$D"/osd* "$D/run" "$D/rgw" "$D/log" "$D/pids" "$D/env" "$D/monmap" "$D/keyring"
  mkdir -p "$D/mon" "$D/run" "$D/rgw" "$D/log" "$D/pids"
  local fsid uuid id
  fsid=$(cat /proc/sys/kernel/random/uuid)
  write_conf "$fsid"
  ceph-authtool --create-keyring "$D/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null || return 1
  monmaptool --create --addv a "[v1:$HOST:$MON_PORT]" --fsid "$fsid" "$D/monmap" >/dev/null || return 1
  ceph-mon -c "$CONF" -i a --mkfs --monmap "$D/monmap" --keyring "$D/keyring" >>"$D/log/mkfs.out" 2>&1 || {
    log "ceph-mon --mkfs failed"
    tail -n 15 "$D/log/mkfs.out" >&2
    return 1
  }
  spawn mon ceph-mon -c "$CONF" -i a -f
  wait_until "the monitor" ceph_cli mon stat || return 1

  uuid=$(cat /proc/sys/kernel/random/uuid)
  id=$(ceph_cli osd new "$uuid") || return 1
  mkdir -p "$D/osd$id"
  ceph-osd -c "$CONF" -i "$id" --mkfs --osd-uuid "$uuid" >>"$D/log/mkfs.out" 2>&1 || return 1
  ceph_cli osd crush add "osd.$id" 1.0 root=default >>"$D/log/mkfs.out" 2>&1 || return 1
  spawn osd ceph-osd -c "$CONF" -i "$id" -f
  wait_until "the OSD to be up" osd_up || return 1

  spawn rgw radosgw -c "$CONF" -n client.rgw.a -f
  wait_until "radosgw on $HOST:$RGW_PORT" rgw_up || return 1

  timeout 60 radosgw-admin -c "$CONF" user create --uid=exporter-test --display-name="exporter tests" \
    --access-key="$ACCESS_KEY" --secret="$SECRET_KEY" >>"$D/log/admin.out" 2>&1 || {
    log "radosgw-admin user create failed"
    tail -n 15 "$D/log/admin.out" >&2
    return 1
  }
}

write_env() {
  cat >"$D/env" <<EOF
export S3_TEST_ENDPOINT=http://$HOST:$RGW_PORT
export S3_TEST_ACCESS_KEY=$ACCESS_KEY
export S3_TEST_SECRET_KEY=$SECRET_KEY
export S3_TEST_BUCKET=$BUCKET
export S3_TEST_REGION=us-east-1
EOF
}

start_cluster() {
  ensure_packages
  stop_cluster
  local port waited
  for port in "$MON_PORT" "$RGW_PORT"; do
    waited=0
    while port_busy "$port"; do
      [ "$waited" -ge 60 ] && die "port $port on $HOST is in use by another process (set CEPH_MON_PORT / CEPH_RGW_PORT)"
      [ "$waited" = 0 ] && log "waiting for port $port to be free"
      sleep 0.5
      waited=$((waited + 1))
    done
  done
  local started=$SECONDS attempt
  rm -rf "$D"/log.failed-*
  for attempt in 1 2; do
    log "starting (attempt $attempt): mon $HOST:$MON_PORT, memstore OSD, radosgw $HOST:$RGW_PORT"
    if setup_cluster; then
      write_env
      log "ready in $((SECONDS - started)) s; env in $D/env"
      return 0
    fi
    stop_cluster
    rm -rf "$D/log.failed-$attempt"
    mv "$D/log" "$D/log.failed-$attempt"
    log "start failed (logs kept in $D/log.failed-$attempt)"
  done
  die "Ceph RGW did not start after 2 attempts"
}

[ $# -ge 2 ] || usage
command=$1
mkdir -p "$2"
D=$(cd "$2" && pwd)
CONF="$D/ceph.conf"
shift 2

case "$command" in
  start)
    start_cluster
    cat "$D/env"
    ;;
  stop)
    stop_cluster
    ;;
  run)
    [ "${1:-}" = "--" ] && shift
    [ $# -ge 1 ] || usage
    trap 'stop_cluster' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    start_cluster
    # shellcheck disable=SC1091
    . "$D/env"
    set +e
    "$@"
    status=$?
    set -e
    log "command exited with status $status"
    exit "$status"
    ;;
  *)
    usage
    ;;
esac
