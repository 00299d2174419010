#!/usr/bin/env bash
# cluster.sh — run a local bully-cluster from conf/node<ID>.json, one background process per node.
#
#   bin/cluster.sh up [N]       build the jar if needed, start a cluster of N members (default: all that conf/
#                               configures, 5), nodes 1..N, and wait until they are ready
#   bin/cluster.sh down         stop every node: SIGTERM, then SIGKILL after a timeout
#   bin/cluster.sh status       one line per node: id, pid, process state, role, term
#   bin/cluster.sh start ID     start one node and wait until it is ready
#   bin/cluster.sh kill ID      SIGKILL one node (a crash)
#   bin/cluster.sh pause ID     SIGSTOP one node (a hung process that keeps its sockets)
#   bin/cluster.sh resume ID    SIGCONT a paused node
#   bin/cluster.sh logs ID [-f] print (or follow) one node's log
#   bin/cluster.sh rolling-restart
#                               build the jar if the sources changed, then restart every running node in turn:
#                               SIGTERM (a coordinator hands over first), start, wait until ready and caught up;
#                               followers first (highest id first), the coordinator last
#
# Logs go to logs/node<ID>.log and PIDs to run/node<ID>.pid. Processes are only ever signalled by
# the PID this script recorded, after checking that the PID is still a bully node. The nodes run
# from run/conf/: the configurations of conf/ read and checked by the node's own loader, with
# cluster.nodes cut to the N members that 'up N' starts (a smaller cluster keeps its data apart,
# in data/cluster-of-N/).
# Environment: JAVA (java), JAVA_OPTS (small heap, serial GC), BULLY_CONF_DIR (conf),
#              BULLY_RUN_DIR (run), BULLY_LOG_DIR (logs), READY_TIMEOUT_S (60), STOP_TIMEOUT_S (20).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# The class-data archive (4.2 s to 2.2 s of start-up CPU here), or with a JAVA of JDK 25 or later the AOT cache
# (a node ready in 1.0-1.3 s instead of 3.6-3.8 s), is recorded by node 1 when it stops; later starts share it; a
# rebuild deletes it.
CONF_DIR=${BULLY_CONF_DIR:-$ROOT/conf}
RUN_DIR=${BULLY_RUN_DIR:-$ROOT/run}
LOG_DIR=${BULLY_LOG_DIR:-$ROOT/logs}
JAVA=${JAVA:-java}
JAVA_OPTS=${JAVA_OPTS:--Xms256m -Xmx256m -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError}
READY_TIMEOUT_S=${READY_TIMEOUT_S:-60}
STOP_TIMEOUT_S=${STOP_TIMEOUT_S:-20}

die() { echo "cluster.sh: $*" >&2; exit 1; }

usage() {
  sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit "${1:-0}"
}

SOURCE_CONF_DIR=$CONF_DIR
ACTIVE_CONF_DIR=$RUN_DIR/conf
conf_of() { echo "$ACTIVE_CONF_DIR/node$1.json"; }
pid_file() { echo "$RUN_DIR/node$1.pid"; }
log_file() { echo "$LOG_DIR/node$1.log"; }

# Writes run/conf/ for a cluster of $1 members (all that conf/ configures if empty), read by the node's own loader.
prepare_conf() {
  local count=${1:-} all
  all=$(ls "$SOURCE_CONF_DIR"/node*.json 2>/dev/null | wc -l)
  ((all > 0)) || die "there is no configuration in $SOURCE_CONF_DIR (node1.json, node2.json, ...)"
  build_if_needed
  rm -rf "$ACTIVE_CONF_DIR"
  "$JAVA" -cp "$JAR" dev.bully.config.LocalConfigs "$SOURCE_CONF_DIR" "${count:-$all}" "$ACTIVE_CONF_DIR" || exit 1
}

# The active cluster's configuration: what 'up' wrote, or, before any 'up', every member of conf/.
ensure_conf() {
  [[ -f $ACTIVE_CONF_DIR/ports ]] || prepare_conf ""
}

# Field $2 (2 host, 3 httpPort, 4 clusterPort) of node $1's line in run/conf/ports.
port_field() { ensure_conf; awk -v id="$1" -v f="$2" '$1 == id { print $f }' "$ACTIVE_CONF_DIR/ports"; }

require_id() {
  [[ ${1:-} =~ ^[0-9]+$ ]] || die "expected a node id, got '${1:-}'"
  ensure_conf
  [[ -f $(conf_of "$1") ]] || die "unknown node id $1: the running cluster's members are $(configured_ids | tr '\n' ' ')(see $ACTIVE_CONF_DIR)"
}

http_port() { port_field "$1" 3; }
member_port() { port_field "$1" 4; }

# The PID of node $1 if it is running and is really our node process, else nothing.
running_pid() {
  local file pid
  file=$(pid_file "$1")
  [[ -f $file ]] || return 0
  pid=$(cat "$file")
  if [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "bully-node.jar"; then
    echo "$pid"
  else
    rm -f "$file"
  fi
}

configured_ids() { ensure_conf; awk '{ print $1 }' "$ACTIVE_CONF_DIR/ports"; }

# The ids of the nodes this script started that are still running.
running_ids() {
  local file id
  for file in "$RUN_DIR"/node*.pid; do
    [[ -e $file ]] || continue
    id=${file##*/node}; id=${id%.pid}
    [[ -n $(running_pid "$id") ]] && echo "$id"
  done
}

port_in_use() { [[ -n $(ss -ltnH "sport = :$1" 2>/dev/null) ]]; }

launch() {
  local id=$1 pid port
  require_id "$id"
  pid=$(running_pid "$id")
  [[ -z $pid ]] || die "node $id is already running (pid $pid)"
  for port in "$(http_port "$id")" "$(member_port "$id")"; do
    [[ -z $port ]] || ! port_in_use "$port" || die "node $id cannot start: port $port is already in use"
  done
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  local cds="" version
  version=$(java_feature_version "$JAVA")
  if ((${version:-17} >= 25)); then
    # An AOT cache (JEP 483, 514): classes loaded and linked, with their profiles. Hazelcast uses sun.misc.Unsafe.
    cds="--sun-misc-unsafe-memory-access=allow -Xlog:aot=off -Xlog:cds=off"
    if [[ -f $AOT_CACHE && $AOT_CACHE -nt $JAR ]]; then
      cds="$cds -XX:AOTCache=$AOT_CACHE"
    elif [[ $id == 1 ]]; then
      cds="$cds -XX:AOTCacheOutput=$AOT_CACHE"
    fi
  elif [[ -f $CDS_ARCHIVE && $CDS_ARCHIVE -nt $JAR ]]; then
    cds="-XX:SharedArchiveFile=$CDS_ARCHIVE -Xlog:cds=off -Xlog:cds+dynamic=off"
  elif [[ $id == 1 ]]; then
    cds="-XX:ArchiveClassesAtExit=$CDS_ARCHIVE -Xlog:cds=off -Xlog:cds+dynamic=off"
  fi
  # Relative dataDir values in conf/ are relative to the repository root.
  (cd "$ROOT" && exec "$JAVA" $JAVA_OPTS $cds -jar "$JAR" -conf "$(conf_of "$id")" >>"$(log_file "$id")" 2>&1) &
  echo $! >"$(pid_file "$id")"
  disown $! 2>/dev/null || true
}

wait_ready() {
  local id=$1 port deadline pid
  port=$(http_port "$id")
  deadline=$((SECONDS + READY_TIMEOUT_S))
  while ((SECONDS < deadline)); do
    pid=$(running_pid "$id")
    if [[ -z $pid ]]; then
      echo "cluster.sh: node $id exited during start-up; the end of $(log_file "$id"):" >&2
      tail -n 5 "$(log_file "$id")" >&2
      return 1
    fi
    curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$port/health/ready" && return 0
    sleep 0.2
  done
  echo "cluster.sh: node $id was not ready within ${READY_TIMEOUT_S}s; see $(log_file "$id")" >&2
  return 1
}

signal() {
  local id=$1 sig=$2 pid
  require_id "$id"
  pid=$(running_pid "$id")
  [[ -n $pid ]] || die "node $id is not running"
  kill "-$sig" "$pid"
  echo "node $id (pid $pid): sent SIG$sig"
}

cmd_up() {
  local n=${1:-} id failed=0 t0=$SECONDS
  [[ -z $n || $n =~ ^[0-9]+$ ]] && [[ $n != 0 ]] || die "up takes a node count, got '$n'"
  local running current
  running=$(running_ids)
  if [[ -n $running ]]; then
    current=$(wc -l <"$ACTIVE_CONF_DIR/ports")
    [[ -z $n || $n == "$current" ]] || die "a cluster of $current members is running (nodes $(echo $running)); 'bin/cluster.sh down' first"
  else
    prepare_conf "$n"
  fi
  n=$(wc -l <"$ACTIVE_CONF_DIR/ports")
  for ((id = 1; id <= n; id++)); do
    [[ -z $(running_pid "$id") ]] || { echo "node $id is already running"; continue; }
    launch "$id"
    # Five members starting at once spend seconds agreeing on a Hazelcast master; joining one that
    # is already up takes a fraction of that, so the first node goes first.
    if ((id == 1 && n > 1)); then wait_ready 1 || failed=1; fi
  done
  for ((id = 1; id <= n; id++)); do wait_ready "$id" || failed=1; done
  ((failed == 0)) || die "not every node became ready; 'bin/cluster.sh down' stops the others"
  echo "A cluster of $n nodes is ready in $((SECONDS - t0)) s (majority $((n / 2 + 1))). Dashboard: http://127.0.0.1:$(http_port 1)/"
}

cmd_down() {
  local id pid pids=() deadline
  for id in $(configured_ids); do
    pid=$(running_pid "$id")
    [[ -n $pid ]] || continue
    kill -CONT "$pid" 2>/dev/null || true # a paused node cannot handle SIGTERM
    kill -TERM "$pid" 2>/dev/null || true
    pids+=("$id:$pid")
  done
  deadline=$((SECONDS + STOP_TIMEOUT_S))
  for entry in "${pids[@]}"; do
    id=${entry%%:*}; pid=${entry##*:}
    while [[ -e /proc/$pid ]] && ((SECONDS < deadline)); do sleep 0.1; done
    if [[ -e /proc/$pid ]]; then
      kill -KILL "$pid" 2>/dev/null || true
      echo "node $id (pid $pid) did not stop in ${STOP_TIMEOUT_S}s: killed"
    else
      echo "node $id (pid $pid) stopped"
    fi
    rm -f "$(pid_file "$id")"
  done
  ((${#pids[@]} > 0)) || echo "no node is running"
}

# The value of a top-level number field (or null) in a JSON object, e.g. json_field "$body" commitIndex.
json_field() { grep -oE "\"$2\":(-?[0-9]+|null)" <<<"$1" | head -n 1 | cut -d: -f2; }

node_status() { curl -sf --max-time 1 "http://127.0.0.1:$(http_port "$1")/api/status"; }

# The id of the running node that reports itself coordinator, or nothing.
coordinator_id() {
  local id body
  for id in $(configured_ids); do
    [[ -n $(running_pid "$id") ]] || continue
    body=$(node_status "$id") || continue
    if [[ $body == *'"role":"COORDINATOR"'* ]]; then echo "$id"; return; fi
  done
}

stop_one() {
  local id=$1 pid deadline
  pid=$(running_pid "$id")
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + STOP_TIMEOUT_S))
  while [[ -e /proc/$pid ]] && ((SECONDS < deadline)); do sleep 0.1; done
  if [[ -e /proc/$pid ]]; then
    kill -KILL "$pid" 2>/dev/null || true
    echo "node $id (pid $pid) did not stop in ${STOP_TIMEOUT_S}s: killed"
  fi
  rm -f "$(pid_file "$id")"
}

# Waits until node $1 follows a coordinator and has committed what the coordinator had committed when it came back.
wait_caught_up() {
  local id=$1 deadline coordinator target body
  deadline=$((SECONDS + READY_TIMEOUT_S))
  while ((SECONDS < deadline)); do
    coordinator=$(coordinator_id)
    if [[ -n $coordinator ]] && body=$(node_status "$coordinator"); then
      target=$(json_field "$body" commitIndex)
      break
    fi
    sleep 0.2
  done
  [[ -n ${target:-} ]] || { echo "cluster.sh: no coordinator within ${READY_TIMEOUT_S}s" >&2; return 1; }
  while ((SECONDS < deadline)); do
    if body=$(node_status "$id") && [[ $(json_field "$body" coordinatorId) != null ]] \
        && (($(json_field "$body" commitIndex) >= target)); then
      echo "$target"
      return 0
    fi
    sleep 0.2
  done
  echo "cluster.sh: node $id did not catch up to commit index $target within ${READY_TIMEOUT_S}s" >&2
  return 1
}

cmd_rolling_restart() {
  local id coordinator order=() t0 index
  for id in $(configured_ids); do
    [[ -n $(running_pid "$id") ]] && order+=("$id")
  done
  ((${#order[@]} > 0)) || die "no node is running"
  build_if_needed
  # A cluster that just started may still be due a priority takeover: let the highest node take the lead first, so
  # that leadership does not move during the restarts to a node that was already restarted.
  local highest=${order[-1]} deadline=$((SECONDS + 30))
  while [[ $(coordinator_id) != "$highest" ]] && ((SECONDS < deadline)); do sleep 0.5; done
  coordinator=$(coordinator_id)
  if [[ -n $coordinator ]]; then
    # Highest first: the likely successor has long been back and warm when the coordinator hands over to it.
    order=($(printf '%s\n' "${order[@]}" | grep -vx "$coordinator" | sort -rn) "$coordinator")
  fi
  echo "rolling restart of nodes ${order[*]}${coordinator:+ (coordinator $coordinator last)}"
  for id in "${order[@]}"; do
    t0=$SECONDS
    stop_one "$id"
    launch "$id"
    wait_ready "$id" || die "node $id did not come back; stopping the rolling restart here"
    index=$(wait_caught_up "$id") || die "stopping the rolling restart here"
    echo "node $id restarted and caught up (commit index $index) in $((SECONDS - t0)) s"
  done
  echo "rolling restart done; coordinator now: $(coordinator_id)"
}

cmd_status() {
  local id pid state port body role term
  printf '%-4s %-8s %-8s %-12s %s\n' ID PID PROCESS ROLE TERM
  for id in $(configured_ids); do
    pid=$(running_pid "$id"); role=-; term=-
    if [[ -z $pid ]]; then
      state=stopped; pid=-
    elif [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == T ]]; then
      state=paused
    else
      state=running
      port=$(http_port "$id")
      if body=$(curl -sf --max-time 1 "http://127.0.0.1:$port/api/status"); then
        role=$(grep -oE '"role":"[A-Z]+"' <<<"$body" | cut -d'"' -f4)
        term=$(grep -oE '"term":[0-9]+' <<<"$body" | cut -d: -f2)
      else
        role=unreachable
      fi
    fi
    printf '%-4s %-8s %-8s %-12s %s\n' "$id" "$pid" "$state" "$role" "$term"
  done
}

cmd=${1:-}
shift || true
case $cmd in
  up) cmd_up "$@" ;;
  down) cmd_down ;;
  rolling-restart) cmd_rolling_restart ;;
  status) cmd_status ;;
  start) require_id "${1:-}"; build_if_needed; launch "$1"; wait_ready "$1" && echo "node $1 ready" ;;
  kill) signal "${1:-}" KILL; rm -f "$(pid_file "$1")" ;;
  pause) signal "${1:-}" STOP ;;
  resume) signal "${1:-}" CONT ;;
  logs)
    require_id "${1:-}"
    [[ -f $(log_file "$1") ]] || die "node $1 has no log yet ($(log_file "$1"))"
    if [[ ${2:-} == -f ]]; then tail -n 50 -f "$(log_file "$1")"; else cat "$(log_file "$1")"; fi ;;
  -h | --help | help) usage 0 ;;
  "") usage 1 ;;
  *) echo "cluster.sh: unknown command '$cmd'" >&2; usage 1 ;;
esac
