#!/usr/bin/env bash
# bench.sh WHAT [ARGS] — measurements on real node processes, printed as figures.
#
#   bench.sh failover [TRIALS]   kill -9 the coordinator of 5 nodes TRIALS times (default 20); time until
#                                every survivor agrees on the new coordinator: min / median / p90 / max
#
# Each run starts its own cluster on free loopback ports under target/bench/ and stops it by PID.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JAR="$ROOT/target/bully-node.jar"
if [[ ! -f $JAR ]] || [[ -n $(find "$ROOT/src/main" "$ROOT/pom.xml" -newer "$JAR" -print -quit) ]]; then
  echo "Building $JAR ..."
  (cd "$ROOT" && mvn -B -q -DskipTests package)
fi
cd "$ROOT"
case ${1:-} in
  failover) shift; exec "${JAVA:-java}" -cp "$JAR" dev.bully.tools.FailoverBench "$@" ;;
  *) sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
