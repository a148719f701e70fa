#!/bin/sh
# Disk data paths (HTTPS upload/download, NBD with nbdcopy) against a durable file copy, as ratios (not a test).
# Usage: coffre-bench/run-data-path-benchmark.sh [--size 2GiB] [--parallel 8] [--rounds 3] [--warm-up-requests 2000]
# Compiles this checkout's modules and takes them from their target/classes (not from ~/.m2).
set -eu
cd "$(dirname "$0")/.."
classpath_file=$(mktemp)
trap 'rm -f "$classpath_file"' EXIT
# With -am every module writes the file in reactor order; coffre-bench, last, leaves its own classpath.
mvn -q -B -pl coffre-bench -am compile dependency:build-classpath -Dmdep.outputFile="$classpath_file" >/dev/null
# JAVA_OPTS (e.g. -XX:StartFlightRecording=filename=bench.jfr) goes to the benchmark JVM.
exec java ${JAVA_OPTS:-} -cp "coffre-bench/target/classes:$(cat "$classpath_file")" io.coffre.bench.DataPathBenchmark "$@"
