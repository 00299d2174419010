#!/usr/bin/env bash
# bench.sh WHAT [ARGS] — measurements on real node processes, printed as figures.
#
#   bench.sh failover [TRIALS] [--agreement-only]
#                                kill -9 the coordinator of 5 nodes TRIALS times (default 20); time until a
#                                client's write is acknowledged, and until every survivor agrees on the new
#                                coordinator: min / median / p90 / max
#   bench.sh writes [SECONDS]    3 nodes; after 64 clients warmed the JVMs up (rounds of 10 s until steady),
#                                1 client, then 64 clients, post writes to the coordinator for
#                                SECONDS each (default 20): writes/s and latency p50 / p90 / p99 / max
#                                (load from hey when installed, as in the etcd peer scripts)
#   bench.sh writes SECONDS --size BYTES
#                                3 nodes with the default heap; 64 clients (hey) post writes of BYTES each
#                                (e.g. 1m, the default api.maxWriteBytes) for SECONDS: writes/s, each node's
#                                resident memory every 30 s, and whether a node ran out of memory, died or
#                                lost the lead
#   bench.sh compare [SECONDS]   etcd and ZooKeeper (whichever is installed; Debian etcd-server, zookeeper) and
#                                bully-cluster, 3 members each, one after another, fsync on for all: 1 and 64
#                                clients for SECONDS each (default 20): writes/s, p50, p99, and our ratios
#   bench.sh reads [SECONDS]     etcd (when installed) and bully-cluster, 3 members each, one after another:
#                                linearizable reads of one document on the leader at 1 and 64 clients, then
#                                local (etcd: serializable) reads at 64 clients on one follower and spread over
#                                all three, SECONDS each (default 10): reads/s, p50, p99, and the ratios
#   bench.sh catchup [ENTRIES]   3 nodes; node 1 is stopped while the others commit ENTRIES writes
#                                (default 100000), then restarted: entries/s until it holds them all
#   bench.sh restart [TRIALS] [--rate R]
#                                3 nodes; a follower killed and restarted under R writes/s (default 2000), TRIALS
#                                times (default 10): time to ready and to caught up; then every node killed at once
#                                and restarted together: time to the first acknowledged write; each start's phases
#   bench.sh snapshot [--documents D] [--updates U] [--behind B] [--retain R]
#                                3 nodes keeping R applied entries (default 100000): store size every 100,000 of U puts
#                                (default 1000000) to D documents (default 1000); node 1 stopped while B new documents
#                                come (default 100000), then restarted: snapshot install time and documents/s; a new node
#                                (empty data folder) joining under 200 writes/s: time to caught up
#   bench.sh soak [SECONDS] [--rate R] [--reader]
#                                3 nodes under R writes/s (default 2000) for SECONDS (default 600), no fault: the
#                                term must not change; every 30 s each node's term, role and failure timeout
#                                (--reader: a client also pages through the whole log from every node)
#   bench.sh handoff [SECONDS] [--rate R] [--no-rolling]
#                                5 nodes under a steady writer (R writes/s, default 200): step-downs for SECONDS (default 60), then one
#                                rolling restart; time from each hand-off's start to the successor leading,
#                                min / median / p90 / max, and each run's history check
#   bench.sh rejoin [SECONDS] [--rate R] [--seed S] [--fault-seconds MIN-MAX] [--tcp-rto-max-ms MS]
#                                3 nodes, each in a network namespace of its own, under R writes/s (default 200);
#                                for SECONDS (default 90) one node after another is cut off by iptables for 1-4 s
#                                (--fault-seconds):
#                                time from each heal to that node following, caught up; min / median / p90 / max
#                                and the history check (needs root, ip and iptables); --tcp-rto-max-ms sets
#                                net.ipv4.tcp_rto_max_ms in the namespaces (Linux 6.15 or later)
#
# Each run starts its own cluster on free loopback ports under target/bench/ and stops it by PID.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
build_if_needed
cd "$ROOT"
case ${1:-} in
  failover) shift; exec "${JAVA:-java}" -cp "$TOOLS_CP" dev.bully.tools.FailoverBench "$@" ;;
  writes) shift; exec "${JAVA:-java}" -cp "$TOOLS_CP" dev.bully.tools.WriteBench "$@" ;;
  compare) shift; exec "${JAVA:-java}" -cp "$TOOLS_CP" dev.bully.tools.CompareBench "$@" ;;
  reads) shift; exec "${JAVA:-java}" -cp "$TOOLS_CP" dev.bully.tools.ReadBench "$@" ;;
  catchup) shift; exec "${JAVA:-java}" -cp "$TOOLS_CP" dev.bully.tools.CatchUpBench "$@" ;;
  restart) shift; exec "${JAVA:-java}" -cp "$TOOLS_CP" dev.bully.tools.RestartBench "$@" ;;
  soak) shift; exec "${JAVA:-java}" -cp "$TOOLS_CP" dev.bully.tools.SoakBench "$@" ;;
  snapshot) shift; exec "${JAVA:-java}" -cp "$TOOLS_CP" dev.bully.tools.SnapshotBench "$@" ;;
  handoff) shift; exec "${JAVA:-java}" -cp "$TOOLS_CP" dev.bully.tools.chaos.HandOffBench "$@" ;;
  rejoin) shift; exec "${JAVA:-java}" -cp "$TOOLS_CP" dev.bully.tools.chaos.RejoinBench "$@" ;;
  *) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 2 ;;
esac
