//! The committed Kotlin and Swift bindings are what `scripts/generate-bindings.sh` would write
//! now.
//!
//! The script runs the in-tree `uniffi-bindgen generate --library <host cdylib> --no-format`
//! once per language into the two folders below; this test makes the same call of the same
//! uniffi version (`uniffi::generate`, which is all that command does) into a temporary folder
//! and compares every file, both ways.

use std::path::{Path, PathBuf};

use uniffi::{GenerateOptions, TargetLanguage};

use crate::support::{files_under, host_cdylib, project_root};

#[path = "../../bindgen/swift_cases.rs"]
mod swift_cases;

/// Output folders of the script, per language. Keep in step with scripts/generate-bindings.sh.
const OUTPUTS: [(TargetLanguage, &str); 2] = [
    (
        TargetLanguage::Kotlin,
        "android/fieldsales/src/generated/kotlin",
    ),
    (TargetLanguage::Swift, "ios/Sources/FieldsalesBindings"),
];

fn generate(language: TargetLanguage, out_dir: &Path) {
    let library = host_cdylib();
    let swift = matches!(language, TargetLanguage::Swift);
    uniffi::generate(GenerateOptions {
        languages: vec![language],
        source: library.to_str().expect("a UTF-8 target path").into(),
        out_dir: out_dir.to_str().expect("a UTF-8 temporary path").into(),
        config_override: None,
        format: false,
        crate_filter: None,
        metadata_no_deps: false,
    })
    .expect("uniffi-bindgen reads the host library");
    // The generator binary lowers the Swift error enum's cases after generating; so does this.
    if swift {
        for file in files_under(out_dir, Some("swift")) {
            let path = out_dir.join(file);
            let text = std::fs::read_to_string(&path).expect("generated Swift");
            std::fs::write(&path, swift_cases::lower_error_cases(&text)).expect("rewritten");
        }
    }
}

fn differences(committed: &Path, fresh: &Path) -> Vec<String> {
    let committed_files = files_under(committed, None);
    let fresh_files = files_under(fresh, None);
    let mut found = Vec::new();
    for file in &fresh_files {
        let now = std::fs::read_to_string(fresh.join(file)).unwrap_or_default();
        match std::fs::read_to_string(committed.join(file)) {
            Err(_) => found.push(format!("{} is not committed", file.display())),
            Ok(old) if old != now => {
                let line = old
                    .lines()
                    .zip(now.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or_else(|| old.lines().count().min(now.lines().count()));
                found.push(format!("{} differs from line {}", file.display(), line + 1));
            }
            Ok(_) => {}
        }
    }
    let stale: Vec<&PathBuf> = committed_files
        .iter()
        .filter(|f| !fresh_files.contains(f))
        .collect();
    for file in stale {
        found.push(format!("{} is no longer generated", file.display()));
    }
    found
}

#[test]
fn committed_bindings_match_what_the_generator_writes_now() {
    let root = project_root();
    let scratch = tempfile::tempdir().expect("a temporary folder");
    let mut drift = Vec::new();
    for (language, folder) in OUTPUTS {
        let fresh = scratch.path().join(folder);
        generate(language, &fresh);
        assert!(
            !files_under(&fresh, None).is_empty(),
            "the generator wrote nothing for {folder}"
        );
        for d in differences(&root.join(folder), &fresh) {
            drift.push(format!("{folder}: {d}"));
        }
    }
    assert!(
        drift.is_empty(),
        "the committed bindings are out of date; run scripts/generate-bindings.sh and commit \
         the result:\n  {}",
        drift.join("\n  ")
    );
}

/// Kotlin's unsigned types are experimental in spirit and awkward in an app's code (`1u`,
/// `toULong()`), so the library's public API speaks `Int` and `Long` only: the generated
/// bindings name an unsigned type nowhere a caller sees it (uniffi writes API types fully
/// qualified, `kotlin.UInt`; its own converters use the bare names internally).
#[test]
fn the_kotlin_api_has_no_unsigned_types() {
    let dir = project_root().join(OUTPUTS[0].1);
    let mut found = Vec::new();
    let files = files_under(&dir, Some("kt"));
    assert!(
        !files.is_empty(),
        "no generated Kotlin under {}",
        dir.display()
    );
    for file in files {
        let text = std::fs::read_to_string(dir.join(&file)).expect("generated Kotlin");
        for (n, line) in text.lines().enumerate() {
            for unsigned in [
                "kotlin.UByte",
                "kotlin.UShort",
                "kotlin.UInt",
                "kotlin.ULong",
            ] {
                if line.contains(unsigned) {
                    found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "unsigned types in the Kotlin API:\n{}",
        found.join("\n")
    );
}
