#!/usr/bin/env bash
# chaos.sh [--nodes N] [--duration S] [--seed S] [--faults kill,pause,partition,restart] [--rate R] [--clients C]
#          [--payload small|mixed]
# A local cluster under write load while faults are injected; then a check that no acknowledged write
# was lost. `bin/chaos.sh --help` explains every flag.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
build_if_needed
cd "$ROOT"
exec "${JAVA:-java}" -cp "$TOOLS_CP" dev.bully.tools.chaos.ChaosRun "$@"
