//! Every rule code an app developer can read about exists: the codes named in the doc
//! comments of core, the FFI and the server, and in the Kotlin and Swift libraries (bindings,
//! wrappers, samples, tests), are codes of core's one list, [`RuleCode`]. A documented code
//! that the engine never returns sends an app branching on it down a dead path.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use fieldsales_core::process::SalesProcess;
use fieldsales_core::record::SensitiveField;
use fieldsales_core::rule::RuleCode;

/// Where an `area.name` token stands for something that is not a rule: a record's field as a
/// refusal or an input error names it (`check_in.position`, `customer.legal_name`), and the
/// sensitive fields a role may hide (`product.cost`).
const FIELD_PATHS: &[&str] = &["check_in.position", "check_in.at", "customer.legal_name"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the ffi crate sits in the workspace")
        .to_path_buf()
}

/// Every `section.key` of the process configuration, however deep the section: a doc names
/// `visit.max_photo_bytes` for the file's `[fieldwork.visit] max_photo_bytes`.
fn configuration_keys() -> BTreeSet<String> {
    let text = SalesProcess::standard()
        .to_toml()
        .expect("the standard process exports");
    let value: toml::Value = toml::from_str(&text).expect("it reads back");
    let mut keys = BTreeSet::new();
    fn walk(path: &mut Vec<String>, v: &toml::Value, keys: &mut BTreeSet<String>) {
        match v {
            toml::Value::Table(t) => {
                for (k, v) in t {
                    path.push(k.clone());
                    walk(path, v, keys);
                    path.pop();
                }
            }
            toml::Value::Array(items) => {
                for item in items {
                    walk(path, item, keys);
                }
            }
            _ => {
                for start in 0..path.len().saturating_sub(1) {
                    keys.insert(path[start..].join("."));
                }
            }
        }
    }
    walk(&mut Vec::new(), &value, &mut keys);
    keys
}

/// `area.name` tokens: backticked in the doc comments of Rust, backticked or quoted anywhere
/// in Kotlin and Swift.
fn tokens(path: &Path, source: &str) -> Vec<String> {
    let rust = path.extension().is_some_and(|e| e == "rs");
    let mut out = Vec::new();
    for line in source.lines() {
        let t = line.trim_start();
        if rust && !(t.starts_with("///") || t.starts_with("//!")) {
            continue;
        }
        let quotes: &[char] = if rust { &['`'] } else { &['`', '"'] };
        for q in quotes {
            let mut parts = line.split(*q);
            parts.next();
            while let Some(inside) = parts.next() {
                let dotted = inside.split('.').count() == 2
                    && inside.split('.').all(|s| {
                        !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    });
                if dotted {
                    out.push(inside.to_owned());
                }
                parts.next();
            }
        }
    }
    out
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if !path
                .file_name()
                .is_some_and(|n| n == "target" || n == "build")
            {
                sources(&path, out);
            }
        } else if path
            .extension()
            .is_some_and(|e| e == "rs" || e == "kt" || e == "swift")
        {
            out.push(path);
        }
    }
}

/// The tokens of `files` that look like rule codes (their area is one rules use) and are
/// neither a code, a configuration key nor a documented field path.
fn unknown_codes(files: &[PathBuf], root: &Path) -> Vec<String> {
    let codes: BTreeSet<&str> = RuleCode::KNOWN.iter().map(RuleCode::as_str).collect();
    let areas: BTreeSet<&str> = codes
        .iter()
        .filter_map(|c| c.split_once('.').map(|(a, _)| a))
        .collect();
    let config = configuration_keys();
    let mut found = Vec::new();
    for file in files {
        let source = std::fs::read_to_string(file).expect("source");
        for token in tokens(file, &source) {
            let area = token.split('.').next().unwrap_or_default();
            if areas.contains(area)
                && !codes.contains(token.as_str())
                && !config.contains(&token)
                && !FIELD_PATHS.contains(&token.as_str())
                && token.parse::<SensitiveField>().is_err()
            {
                found.push(format!(
                    "{}: `{token}`",
                    file.strip_prefix(root).unwrap_or(file).display()
                ));
            }
        }
    }
    found
}

#[test]
fn every_rule_code_named_in_docs_and_in_the_kotlin_and_swift_libraries_exists() {
    let root = root();
    let mut files = Vec::new();
    for dir in ["core/src", "ffi/src", "sync-server/src", "android", "ios"] {
        sources(&root.join(dir), &mut files);
    }
    assert!(
        files.iter().any(|f| f.ends_with("fieldsales.kt"))
            && files
                .iter()
                .any(|f| f.ends_with("FieldsalesBindings.swift")),
        "the generated bindings are scanned"
    );
    let found = unknown_codes(&files, &root);
    assert!(
        found.is_empty(),
        "rule codes named but not in core's list (fieldsales_core::rule::RuleCode):\n{}",
        found.join("\n")
    );
}

#[test]
fn a_documented_code_the_engine_never_returns_is_found() {
    let dir = tempfile::tempdir().expect("temp dir");
    let doc = dir.path().join("docs.rs");
    std::fs::write(
        &doc,
        "/// Fails with `visit.outside_geofence` when outside; `geofence.outside` is real,\n\
         /// `visit.max_photo_bytes` a setting and `check_in.position` a field.\n\
         fn f() { let _ = \"visit.not_a_rule\"; }\n",
    )
    .expect("write");
    let kotlin = dir.path().join("Test.kt");
    std::fs::write(&kotlin, "assertEquals(\"stage.no_such_rule\", e.rule)\n").expect("write");
    let found = unknown_codes(&[doc, kotlin], dir.path());
    assert_eq!(
        found,
        vec![
            "docs.rs: `visit.outside_geofence`".to_string(),
            "Test.kt: `stage.no_such_rule`".to_string()
        ]
    );
}
