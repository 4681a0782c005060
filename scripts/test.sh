#!/usr/bin/env bash
# Runs every test of the project: the Rust workspace (unit, integration, end-to-end against
# real servers on loopback) and the Kotlin JVM tests of the mobile bindings, which the ffi
# test binary drives. Installs the few outside tools those tests need first (idempotent).
#
#   bash scripts/test.sh            # everything
#   bash scripts/test.sh -p fieldsales-core   # extra arguments go to `cargo test`
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/install-test-tools.sh

# Tests start servers and child processes of their own; two jobs keep a 2-core machine
# responsive while still overlapping compilation and tests.
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
cargo test --workspace --no-fail-fast --locked "$@"
