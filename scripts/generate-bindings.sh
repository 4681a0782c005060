#!/usr/bin/env bash
# Regenerates the committed Kotlin and Swift bindings from the host build of fieldsales-ffi.
#
#   scripts/generate-bindings.sh
#
# Run it after any change to what ffi/ exports, and commit the result: ffi/tests/bindings.rs
# fails while the committed files differ from what this produces. It builds the library and the
# in-tree uniffi-bindgen (same uniffi version, by construction) for the host, then lets
# uniffi-bindgen read the exported interface from the library and write:
#
#   android/fieldsales/src/generated/kotlin/   Kotlin (package app.fieldsales.ffi)
#   ios/Sources/FieldsalesBindings/            Swift, plus the C header and modulemap that
#                                              ios/build-xcframework.sh packs with the library
#
# Each output folder is emptied first: it holds generated files only. Names and packages come
# from ffi/uniffi.toml. Formatting is off (--no-format) so the output does not depend on
# whether ktlint or swift-format happen to be installed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

cargo="${CARGO:-cargo}"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
case "$(uname -s)" in
    Darwin) lib_name="libfieldsales_ffi.dylib" ;;
    *) lib_name="libfieldsales_ffi.so" ;;
esac

"$cargo" build --quiet -p fieldsales-ffi --features bindgen-cli --lib --bin uniffi-bindgen
library="$target_dir/debug/$lib_name"
bindgen="$target_dir/debug/uniffi-bindgen"

generate() {
    local language="$1" out_dir="$2"
    rm -rf "$out_dir"
    mkdir -p "$out_dir"
    "$bindgen" generate --library "$library" --language "$language" --no-format \
        --out-dir "$out_dir"
    echo "generate-bindings: $language -> ${out_dir#"$root"/}"
}

generate kotlin "$root/android/fieldsales/src/generated/kotlin"
generate swift "$root/ios/Sources/FieldsalesBindings"
