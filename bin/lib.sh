# Sourced by the scripts in bin/: where things are, and building the jars when the sources changed.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JAR="$ROOT/node/target/bully-node.jar"
# The tools (harness, scenarios, chaos, benchmarks) run with the node's jar on the class path.
TOOLS_CP="$JAR:$ROOT/tools/target/bully-tools.jar"
# A class-data archive halves each JVM's start-up CPU; cluster.sh records and uses it.
CDS_ARCHIVE="$ROOT/node/target/bully-node.jsa"

build_if_needed() {
  local newest="$ROOT/tools/target/bully-tools.jar"
  if [[ ! -f $JAR || ! -f $newest ]] || [[ -n $(find "$ROOT"/core/src/main "$ROOT"/node/src/main "$ROOT"/node/web \
      "$ROOT"/tools/src/main "$ROOT"/pom.xml "$ROOT"/*/pom.xml -newer "$newest" -print -quit) ]]; then
    echo "Building $JAR and the tools ..."
    rm -f "$CDS_ARCHIVE"
    (cd "$ROOT" && mvn -B -q -DskipTests package) || { echo "the build failed" >&2; exit 1; }
  fi
}
