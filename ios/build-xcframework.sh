#!/usr/bin/env bash
# Builds ios/build/FieldsalesFFI.xcframework, the binary target of the Swift package: the Rust
# library (static, with the workspace's size-tuned `mobile` profile) for
#
#   iPhone          aarch64-apple-ios
#   iOS simulator   aarch64-apple-ios-sim + x86_64-apple-ios, one fat library
#   macOS           aarch64-apple-darwin + x86_64-apple-darwin, so `swift test` runs on a Mac
#
# with the generated C header and module map that scripts/generate-bindings.sh committed next
# to the Swift bindings. Needs macOS with Xcode's command line tools and rustup.
#
#   ios/build-xcframework.sh            # then: cd ios && swift test
set -euo pipefail

if [ "$(uname -s)" != "Darwin" ]; then
    echo "build-xcframework: needs macOS with Xcode (xcodebuild, lipo)" >&2
    exit 1
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

profile="mobile"
lib="libfieldsales_ffi.a"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
out="$root/ios/build"
staging="$out/staging"
bindings="$root/ios/Sources/FieldsalesBindings"

# Keep in step with the platforms in Package.swift.
export IPHONEOS_DEPLOYMENT_TARGET="15.0"
export MACOSX_DEPLOYMENT_TARGET="12.0"

targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin x86_64-apple-darwin)
rustup target add "${targets[@]}"
for target in "${targets[@]}"; do
    cargo build -p fieldsales-ffi --lib --profile "$profile" --target "$target"
done

built() { echo "$target_dir/$1/$profile/$lib"; }

rm -rf "$out/FieldsalesFFI.xcframework" "$staging"
mkdir -p "$staging/ios" "$staging/ios-simulator" "$staging/macos"

cp "$(built aarch64-apple-ios)" "$staging/ios/$lib"
lipo -create "$(built aarch64-apple-ios-sim)" "$(built x86_64-apple-ios)" \
    -output "$staging/ios-simulator/$lib"
lipo -create "$(built aarch64-apple-darwin)" "$(built x86_64-apple-darwin)" \
    -output "$staging/macos/$lib"

# The header and module map go in a folder named after the module: an app that links another
# XCFramework with a top-level module.modulemap would otherwise see two definitions.
headers="$staging/headers"
mkdir -p "$headers/FieldsalesFFI"
cp "$bindings/FieldsalesFFI.h" "$headers/FieldsalesFFI/FieldsalesFFI.h"
cp "$bindings/FieldsalesFFI.modulemap" "$headers/FieldsalesFFI/module.modulemap"

xcodebuild -create-xcframework \
    -library "$staging/ios/$lib" -headers "$headers" \
    -library "$staging/ios-simulator/$lib" -headers "$headers" \
    -library "$staging/macos/$lib" -headers "$headers" \
    -output "$out/FieldsalesFFI.xcframework"

rm -rf "$staging"
echo "build-xcframework: ios/build/FieldsalesFFI.xcframework"
