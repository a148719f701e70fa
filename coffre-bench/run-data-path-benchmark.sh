#!/bin/sh
# Disk data paths (HTTPS upload/download, NBD with nbdcopy) against a durable file copy, as ratios (not a test).
# Usage: coffre-bench/run-data-path-benchmark.sh [--size 2GiB] [--parallel 8] [--rounds 3] [--warm-up-requests 2000]
# Compiles this checkout's modules and takes them from their target/classes (not from ~/.m2).
set -eu
cd "$(dirname "$0")/.."
classpath_file=$(mktemp)
trap 'rm -f "$classpath_file"' EXIT
# With -am every module writes the file in reactor order; coffre-bench, last, leaves its own classpath. The
# test-compile phase, not compile: resolving coffre-server's classpath needs coffre-core's test classes, which on a
# fresh machine (nothing installed in ~/.m2) only the reactor has. Errors go to stderr, the rest nowhere.
mvn -q -B -Dstyle.color=never -pl coffre-bench -am test-compile dependency:build-classpath \
  -Dmdep.outputFile="$classpath_file" >&2
# JAVA_OPTS (e.g. -XX:StartFlightRecording=filename=bench.jfr) goes to the benchmark JVM.
exec java ${JAVA_OPTS:-} -cp "coffre-bench/target/classes:$(cat "$classpath_file")" io.coffre.bench.DataPathBenchmark "$@"
