#!/bin/sh
# One DES key rotated with many disks and copies of its wrapped key: setup and rotation time, key-service
# operations (not a test).
# Usage: coffre-bench/run-rotation-benchmark.sh [--disks 10000] [--copies 100000]
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
exec java -cp "coffre-bench/target/classes:$(cat "$classpath_file")" io.coffre.bench.RotationBenchmark "$@"
