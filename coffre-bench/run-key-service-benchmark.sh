#!/bin/sh
# RSA-3072 RSA-OAEP-256 wrap/unwrap rates: raw JCA vs the in-process KeyService vs HTTPS (not a test).
# Usage: coffre-bench/run-key-service-benchmark.sh [--seconds 3] [--clients 4]
exec "$(dirname "$0")/run-main.sh" io.coffre.bench.KeyServiceBenchmark "$@"
