//! uniffi's own binding generator, built from the same uniffi version as the library so the
//! generated Kotlin and Swift always speak the runtime's contract.

fn main() {
    uniffi::uniffi_bindgen_main();
}
