# Sourced by the scripts in bin/: where things are, and building the jar when the sources changed.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JAR="$ROOT/target/bully-node.jar"
# A class-data archive halves each JVM's start-up CPU; cluster.sh records and uses it.
CDS_ARCHIVE="$ROOT/target/bully-node.jsa"

build_if_needed() {
  if [[ ! -f $JAR ]] || [[ -n $(find "$ROOT/src/main" "$ROOT/web" "$ROOT/pom.xml" -newer "$JAR" -print -quit) ]]; then
    echo "Building $JAR ..."
    rm -f "$CDS_ARCHIVE"
    (cd "$ROOT" && mvn -B -q -DskipTests package) || { echo "the build failed" >&2; exit 1; }
  fi
}
