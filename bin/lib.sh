# Sourced by the scripts in bin/: where things are, and building the jars when the sources changed.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JAR="$ROOT/node/target/bully-node.jar"
# The tools (harness, scenarios, chaos, benchmarks) run with the node's jar on the class path.
TOOLS_CP="$JAR:$ROOT/tools/target/bully-tools.jar"
# A class-data archive halves each JVM's start-up CPU; on JDK 25 or later an AOT cache cuts a start to a third.
# cluster.sh records and uses whichever its java makes.
CDS_ARCHIVE="$ROOT/node/target/bully-node.jsa"
AOT_CACHE="$ROOT/node/target/bully-node.aot"

# The feature version (17, 25, ...) of the java in $1.
java_feature_version() {
  "$1" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1
}

build_if_needed() {
  local newest="$ROOT/tools/target/bully-tools.jar"
  if [[ ! -f $JAR || ! -f $newest ]] || [[ -n $(find "$ROOT"/core/src/main "$ROOT"/node/src/main "$ROOT"/node/web \
      "$ROOT"/tools/src/main "$ROOT"/pom.xml "$ROOT"/*/pom.xml -newer "$newest" -print -quit) ]]; then
    echo "Building $JAR and the tools ..."
    rm -f "$CDS_ARCHIVE" "$AOT_CACHE"
    (cd "$ROOT" && mvn -B -q -DskipTests package) || { echo "the build failed" >&2; exit 1; }
  fi
}
