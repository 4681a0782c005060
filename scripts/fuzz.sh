#!/usr/bin/env bash
# Coverage-guided fuzzing of the decoders in fuzz/ with libFuzzer.
#
#   scripts/fuzz.sh build                  build every target (needs a nightly toolchain)
#   scripts/fuzz.sh run TARGET SECONDS     fuzz one target for SECONDS, at the lowest priority
#   scripts/fuzz.sh merge TARGET           fold what a run found into the kept corpus, minimised
#
# Targets: sync_body (gzip + CBOR, as received), sync_cbor (the CBOR, compressed by the target
# so every case reaches the message decoder), process_toml (the sales process file and its
# round trip). The flags are those `cargo fuzz build` passes, without AddressSanitizer (the
# code under test is safe Rust); `cargo fuzz run TARGET` works too where cargo-fuzz is
# installed. A run works on a scratch copy of fuzz/corpus/TARGET under fuzz/target/; a
# crashing input is written to fuzz/artifacts/TARGET/ and reproduced with
# `fuzz/target/x86_64-unknown-linux-gnu/release/TARGET INPUT`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fuzz="$root/fuzz"
triple="x86_64-unknown-linux-gnu"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$fuzz/target}"
bin="$CARGO_TARGET_DIR/$triple/release"

case "${1:-}" in
  build)
    cd "$fuzz"
    RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks" \
      cargo +nightly build --release --target "$triple" --bins
    ;;
  run)
    target="$2"
    seconds="$3"
    work="$CARGO_TARGET_DIR/corpus-$target"
    mkdir -p "$work" "$fuzz/artifacts/$target"
    cp -n "$fuzz/corpus/$target/"* "$work/" 2>/dev/null || true
    nice -n 19 "$bin/$target" -max_total_time="$seconds" -rss_limit_mb=1024 -print_final_stats=1 \
      -artifact_prefix="$fuzz/artifacts/$target/" "$work"
    ;;
  merge)
    target="$2"
    mkdir -p "$fuzz/corpus/$target"
    "$bin/$target" -merge=1 "$fuzz/corpus/$target" "$CARGO_TARGET_DIR/corpus-$target"
    ;;
  *)
    sed -n '2,14p' "$0"
    exit 2
    ;;
esac
