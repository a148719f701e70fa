#!/bin/sh
# RSA-3072 RSA-OAEP-256 wrap/unwrap rates: raw JCA vs the in-process KeyService vs HTTPS (not a test).
# Usage: coffre-bench/run-key-service-benchmark.sh [--seconds 3] [--clients 4]
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
exec java -cp "coffre-bench/target/classes:$(cat "$classpath_file")" io.coffre.bench.KeyServiceBenchmark "$@"
