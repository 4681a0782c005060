#!/usr/bin/env bash
# Coverage-guided fuzzing of the decoders in fuzz/ with libFuzzer.
#
#   scripts/fuzz.sh build                  build every target (stable Rust; libFuzzer is built
#                                          from source by libfuzzer-sys)
#   scripts/fuzz.sh run TARGET SECONDS     fuzz one target for SECONDS, at the lowest priority
#   scripts/fuzz.sh merge TARGET           fold what a run found into the kept corpus, minimised
#   scripts/fuzz.sh smoke SECONDS          every target for SECONDS each from a sample of its kept
#                                          corpus; fails on the first crash (the CI run)
#
# Targets: sync_body (gzip + CBOR, as received), sync_cbor (the CBOR, compressed by the target
# so every case reaches the message decoder), process_toml (the sales process file and its
# round trip), import (CSV and Excel files imported into a store), ffi_strings (strings an app
# hands the library), attachment_ranges (uploads and downloads with byte ranges through the
# server's router). The flags are those `cargo fuzz build` passes, without AddressSanitizer
# (the code under test is safe Rust, and sanitizers need a nightly toolchain; these flags do
# not); `cargo fuzz run TARGET` works too where cargo-fuzz is installed. A run works on a
# scratch copy of fuzz/corpus/TARGET under fuzz/target/; a crashing input is written to
# fuzz/artifacts/TARGET/ and reproduced with `fuzz/target/x86_64-unknown-linux-gnu/release/TARGET INPUT`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fuzz="$root/fuzz"
triple="x86_64-unknown-linux-gnu"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$fuzz/target}"
# FUZZ_PROFILE=dev builds without optimisation: about half the build time, for the short
# run in CI; long runs want the release build (several times the executions per second).
profile="${FUZZ_PROFILE:-release}"
if [ "$profile" = dev ]; then
  bin="$CARGO_TARGET_DIR/$triple/debug"
else
  bin="$CARGO_TARGET_DIR/$triple/$profile"
fi

case "${1:-}" in
  build)
    cd "$fuzz"
    RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks" \
      cargo build --locked --profile "$profile" --target "$triple" --bins
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
  smoke)
    seconds="$2"
    for target in sync_body sync_cbor process_toml import ffi_strings attachment_ranges; do
      work="$(mktemp -d)"
      # At most 200 of the kept inputs: the unoptimised build runs some targets at a few
      # cases a second, and the whole corpus would take the run's time to load.
      find "$fuzz/corpus/$target" -type f | shuf -n 200 | xargs -r cp -t "$work/"
      mkdir -p "$fuzz/artifacts/$target"
      echo "fuzzing $target for $seconds s"
      status=0
      "$bin/$target" -max_total_time="$seconds" -rss_limit_mb=1024 -print_final_stats=1 \
        -artifact_prefix="$fuzz/artifacts/$target/" "$work" > "$work.log" 2>&1 || status=$?
      grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)" "$work.log" || true
      if [ "$status" != 0 ]; then
        tail -n 40 "$work.log" >&2
      fi
      rm -f "$work.log"
      rm -rf "$work"
      if [ "$status" != 0 ]; then
        echo "fuzz target $target failed (status $status); the input is in fuzz/artifacts/$target/" >&2
        exit 1
      fi
    done
    ;;
  *)
    sed -n '2,22p' "$0"
    exit 2
    ;;
esac
