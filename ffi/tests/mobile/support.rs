//! Where the tests find the project, the host library and the tools.

use std::path::{Path, PathBuf};

/// The root of the project.
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("ffi/ sits inside the project")
        .to_path_buf()
}

/// The profile folder this test binary was built into (`<target>/debug`), which is also where
/// cargo put the host cdylib of `fieldsales-ffi`: the test binary lives in its `deps/`.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let deps = exe
        .parent()
        .expect("test binaries live in <target>/<profile>/deps");
    deps.parent()
        .expect("deps/ sits in the profile folder")
        .to_path_buf()
}

/// The host cdylib built alongside this test.
pub fn host_cdylib() -> PathBuf {
    let name = format!(
        "{}fieldsales_ffi{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    // Built as a dependency of this test the library stays in `deps/`; cargo copies it up to
    // the profile folder only when the library itself is built, so that copy may be stale.
    let newest = [
        profile_dir().join("deps").join(&name),
        profile_dir().join(&name),
    ]
    .into_iter()
    .filter(|p| p.is_file())
    .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok());
    let lib = newest.unwrap_or_else(|| profile_dir().join(&name));
    assert!(
        lib.is_file(),
        "the host library {} is missing; `cargo test -p fieldsales-ffi` builds it",
        lib.display()
    );
    lib
}

/// Every file under `dir` with extension `ext`, sorted, as paths relative to `dir`.
pub fn files_under(dir: &Path, ext: Option<&str>) -> Vec<PathBuf> {
    fn walk(base: &Path, dir: &Path, ext: Option<&str>, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(base, &path, ext, out);
            } else if ext.is_none_or(|e| path.extension().is_some_and(|x| x == e)) {
                out.push(path.strip_prefix(base).unwrap_or(&path).to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, ext, &mut out);
    out.sort();
    out
}
