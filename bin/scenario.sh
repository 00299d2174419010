#!/usr/bin/env bash
# scenario.sh NAME — run a scenario file (scenarios/NAME.txt: the Bully seed cases and the rejoin
# case) on a fresh 5-node cluster of real processes.
#
#   NAME: case1 case2 case3a case3b case4 case5.1 case5.2 rejoin, or all
#
# Each run starts its own cluster on free loopback ports under target/scenarios/, waits for
# coordinator 5, runs the file's steps (kill -9, SIGSTOP, or an admin chaos endpoint that only this
# cluster enables, with a random token), prints the merged transcript and the messages sent by
# type, checks the file's expectations and stops every node it started. Exit code 0 when all are
# met. The simulator runs the same files and checks their transcripts exactly.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
build_if_needed
cd "$ROOT"
exec "${JAVA:-java}" -cp "$TOOLS_CP" dev.bully.tools.Scenarios "$@"
