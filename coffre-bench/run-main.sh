#!/bin/sh
# Runs one benchmark's main class: run-main.sh CLASS [ARGS...]; the run-*-benchmark.sh scripts call it.
# Compiles this checkout's modules and takes them from their target/classes (not from ~/.m2).
# JAVA_OPTS (e.g. -XX:StartFlightRecording=filename=bench.jfr) goes to the benchmark JVM.
set -eu
cd "$(dirname "$0")/.."
main_class=$1
shift
classpath_file=$(mktemp)
trap 'rm -f "$classpath_file"' EXIT
# With -am every module writes the file in reactor order; coffre-bench, last, leaves its own classpath. The
# test-compile phase, not compile: resolving coffre-server's classpath needs coffre-core's test classes, which on a
# fresh machine (nothing installed in ~/.m2) only the reactor has. Errors go to stderr, the rest nowhere.
mvn -q -B -Dstyle.color=never -pl coffre-bench -am test-compile dependency:build-classpath \
  -Dmdep.outputFile="$classpath_file" >&2
classpath=$(cat "$classpath_file")
rm -f "$classpath_file"
exec java ${JAVA_OPTS:-} -cp "coffre-bench/target/classes:$classpath" "$main_class" "$@"
