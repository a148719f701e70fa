#!/bin/sh
# One DES key rotated with many disks and copies of its wrapped key: setup and rotation time, key-service
# operations (not a test).
# Usage: coffre-bench/run-rotation-benchmark.sh [--disks 10000] [--copies 100000]
exec "$(dirname "$0")/run-main.sh" io.coffre.bench.RotationBenchmark "$@"
