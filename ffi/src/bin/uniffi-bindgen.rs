//! uniffi's own binding generator, built from the same uniffi version as the library so the
//! generated Kotlin and Swift always speak the runtime's contract. After a Swift generation the
//! error enum's cases are written in lowerCamelCase (`bindgen/swift_cases.rs`).

#[path = "../../bindgen/swift_cases.rs"]
mod swift_cases;

fn main() {
    uniffi::uniffi_bindgen_main();
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    if value("--language").as_deref() != Some("swift") {
        return;
    }
    let Some(out_dir) = value("--out-dir") else {
        return;
    };
    for entry in std::fs::read_dir(&out_dir)
        .expect("the generated folder")
        .flatten()
    {
        let path = entry.path();
        if path.extension().is_some_and(|x| x == "swift") {
            let text = std::fs::read_to_string(&path).expect("generated Swift");
            std::fs::write(&path, swift_cases::lower_error_cases(&text)).expect("rewritten");
        }
    }
}
