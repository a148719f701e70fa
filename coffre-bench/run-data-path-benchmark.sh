#!/bin/sh
# Disk data paths (HTTPS upload/download, NBD with nbdcopy) against a durable file copy, as ratios (not a test).
# Usage: coffre-bench/run-data-path-benchmark.sh [--size 2GiB] [--parallel 8] [--rounds 3] [--warm-up-requests 2000]
exec "$(dirname "$0")/run-main.sh" io.coffre.bench.DataPathBenchmark "$@"
