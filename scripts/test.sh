#!/usr/bin/env bash
# Runs every test of the project: the Rust workspace (unit, integration, end-to-end against
# real servers on loopback) and the Kotlin JVM tests of the mobile bindings, which the ffi
# test binary drives, then a short run of the coverage-guided fuzz targets. Installs the few
# outside tools those tests need first (idempotent).
#
#   bash scripts/test.sh            # everything
#   bash scripts/test.sh -p fieldsales-core   # extra arguments go to `cargo test` (no fuzzing)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/install-test-tools.sh

# Tests start servers and child processes of their own; two jobs keep a 2-core machine
# responsive while still overlapping compilation and tests.
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
cargo test --workspace --no-fail-fast --locked "$@"

# A short coverage-guided run of every fuzz target (fuzz/, RELIABILITY.md) when the whole suite
# runs: the unoptimised build (a few minutes), FUZZ_SMOKE_SECS seconds each from the kept
# corpora. A crash fails the run and leaves its input in fuzz/artifacts/.
if [ "$#" -eq 0 ]; then
  FUZZ_PROFILE=dev bash scripts/fuzz.sh build
  FUZZ_PROFILE=dev bash scripts/fuzz.sh smoke "${FUZZ_SMOKE_SECS:-10}"
fi
