//! The fact layer holds: only core speaks core's SQL. No crate other than core reaches a
//! store's connection or names one of core's tables in SQL; the server keeps its own tables
//! (change sequence, holdings, accounts) and reads core's records through core's typed
//! queries, so the phone and the server always read the same facts the same way.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The workspace's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace")
        .to_path_buf()
}

/// Core's tables, as its migrations create them.
fn core_tables(root: &Path) -> BTreeSet<String> {
    let mut tables = BTreeSet::new();
    let dir = root.join("core/src/store/schema");
    for entry in std::fs::read_dir(&dir).expect("core's migrations") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "sql") {
            continue;
        }
        let sql = std::fs::read_to_string(&path).expect("migration");
        tables.extend(created_tables(&sql));
    }
    tables
}

/// The names after `CREATE [VIRTUAL] TABLE [IF NOT EXISTS]`.
fn created_tables(sql: &str) -> Vec<String> {
    let words: Vec<String> = sql
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        if w != "create" {
            continue;
        }
        let mut j = i + 1;
        if words.get(j).map(String::as_str) == Some("virtual") {
            j += 1;
        }
        if words.get(j).map(String::as_str) != Some("table") {
            continue;
        }
        j += 1;
        if words.get(j).map(String::as_str) == Some("if") {
            j += 3;
        }
        if let Some(name) = words.get(j) {
            out.push(name.clone());
        }
    }
    out
}

/// The string literals of a Rust source file (plain and raw), roughly: enough to find SQL.
fn string_literals(source: &str) -> Vec<String> {
    let b = source.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'\'' => {
                // A char literal ('"' among them) or a lifetime: skip what a char can be.
                if b.get(i + 2) == Some(&b'\'') {
                    i += 3;
                } else if b.get(i + 1) == Some(&b'\\') {
                    i += 2;
                    while i < b.len() && b[i] != b'\'' {
                        i += 1;
                    }
                    i += 1;
                } else {
                    i += 1;
                }
            }
            b'r' if matches!(b.get(i + 1), Some(b'"' | b'#'))
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
            {
                let mut j = i + 1;
                let mut hashes = 0;
                while b.get(j) == Some(&b'#') {
                    hashes += 1;
                    j += 1;
                }
                if b.get(j) != Some(&b'"') {
                    i += 1;
                    continue;
                }
                let start = j + 1;
                let close: Vec<u8> = std::iter::once(b'"')
                    .chain(std::iter::repeat_n(b'#', hashes))
                    .collect();
                let mut k = start;
                while k + close.len() <= b.len() && b[k..k + close.len()] != close[..] {
                    k += 1;
                }
                out.push(String::from_utf8_lossy(&b[start..k.min(b.len())]).into_owned());
                i = k + close.len();
            }
            b'"' => {
                let start = i + 1;
                let mut k = start;
                while k < b.len() && b[k] != b'"' {
                    if b[k] == b'\\' {
                        k += 1;
                    }
                    k += 1;
                }
                out.push(String::from_utf8_lossy(&b[start..k.min(b.len())]).into_owned());
                i = k + 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// The core tables a piece of SQL names after FROM, JOIN, INTO, UPDATE or TABLE.
fn named_tables(sql: &str, tables: &BTreeSet<String>) -> Vec<String> {
    let words: Vec<String> = sql
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    words
        .windows(2)
        .filter(|w| matches!(w[0].as_str(), "from" | "join" | "into" | "update" | "table"))
        .filter(|w| tables.contains(&w[1]))
        .map(|w| w[1].clone())
        .collect()
}

/// What breaks the layering in one file, as lines of text.
fn violations(source: &str, tables: &BTreeSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    for (n, line) in source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        if code.contains(".connection()") || code.contains(".test_connection()") {
            out.push(format!("line {}: reaches a store's connection", n + 1));
        }
    }
    for literal in string_literals(source) {
        for table in named_tables(&literal, tables) {
            out.push(format!(
                "SQL names core's table `{table}`: {}",
                literal.trim()
            ));
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_crate_but_core_reaches_a_store_connection_or_names_a_core_table() {
    let root = root();
    let tables = core_tables(&root);
    for expected in [
        "documents",
        "records",
        "visits",
        "customers",
        "users",
        "outbox",
    ] {
        assert!(tables.contains(expected), "core's tables: {tables:?}");
    }
    let mut files = Vec::new();
    for dir in ["sync-server", "cli", "ffi", "tests"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 50, "found only {} files", files.len());
    let this_file = root.join("tests/it/layering.rs");
    let mut found = Vec::new();
    for file in files.iter().filter(|f| **f != this_file) {
        let source = std::fs::read_to_string(file).expect("source");
        for v in violations(&source, &tables) {
            found.push(format!(
                "{}: {v}",
                file.strip_prefix(&root).unwrap_or(file).display()
            ));
        }
    }
    assert!(
        found.is_empty(),
        "only core speaks core's SQL; move these behind core's typed queries:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_finds_a_connection_call_and_a_core_table_in_sql() {
    let tables: BTreeSet<String> = created_tables(
        "CREATE TABLE documents (id BLOB); CREATE VIRTUAL TABLE search USING fts5(x);
         CREATE TABLE IF NOT EXISTS outbox (id BLOB)",
    )
    .into_iter()
    .collect();
    assert_eq!(
        tables,
        ["documents", "outbox", "search"]
            .into_iter()
            .map(String::from)
            .collect()
    );
    let offending = r##"
        fn f(store: &Store) {
            store.connection().execute("DELETE FROM outbox", []);
            let q = r#"SELECT doc
                       FROM documents WHERE id = ?1"#;
            let c = '"';
        }
    "##;
    let found = violations(offending, &tables);
    assert_eq!(found.len(), 3, "{found:?}");
    let fine = r#"
        // The documents FROM documents of the phone are the truth (a comment, not SQL).
        fn g(tx: &Tx) { tx.extension_sql().execute("UPDATE sync_log SET seq = 1", []); }
        /// Reads from documents: prose.
        fn h() {}
    "#;
    assert_eq!(violations(fine, &tables), Vec::<String>::new());
}
