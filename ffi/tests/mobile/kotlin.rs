//! The Kotlin library under `android/` compiles against the committed bindings and passes its
//! JUnit tests on a plain JVM, calling the host build of the Rust library through JNA, the way
//! uniffi tests its own Kotlin output. An Android build runs the same tests under Gradle.
//!
//! kotlinc is slow to start, so everything (bindings, library, tests) is compiled in one call,
//! into `<target>/<profile>/kotlin-jvm-tests/<hash of every input>/`, and reused while no input
//! changes. The tools come from `scripts/install-test-tools.sh`; when one is missing this test
//! fails and says so.

use std::collections::hash_map::DefaultHasher;
use std::ffi::OsString;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::support::{files_under, host_cdylib, profile_dir, project_root};

const INSTALL_HINT: &str = "run scripts/install-test-tools.sh (it installs kotlinc from the npm \
     package kotlin-compiler into .tools/, JNA from libjna-java and JUnit 4 from junit4)";

/// Kotlin source folders of the Android library, relative to the project root.
const SOURCE_DIRS: [&str; 3] = [
    "android/fieldsales/src/generated/kotlin",
    "android/fieldsales/src/main/kotlin",
    "android/fieldsales/src/test/kotlin",
];

/// Warnings fail the build: the generated bindings are warning-free, and so is our code.
const KOTLINC_FLAGS: [&str; 3] = ["-jvm-target", "17", "-Werror"];

const COMPILE_TIMEOUT: Duration = Duration::from_secs(600);
const RUN_TIMEOUT: Duration = Duration::from_secs(180);

struct Tools {
    kotlinc: PathBuf,
    java: PathBuf,
    /// For the compiler: everything the sources import.
    compile_classpath: Vec<PathBuf>,
    /// For the run: the above plus the Kotlin standard library and JUnit's hamcrest.
    run_classpath: Vec<PathBuf>,
}

fn env_path(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// Finds every tool, or lists all that are missing.
fn find_tools() -> Result<Tools, String> {
    let mut missing = Vec::new();
    let local_kotlinc = project_root().join(".tools/npm/node_modules/kotlin-compiler/bin/kotlinc");
    let kotlinc = env_path("FIELDSALES_KOTLINC")
        .or_else(|| local_kotlinc.is_file().then_some(local_kotlinc))
        .or_else(|| on_path("kotlinc"));
    let kotlin_lib = kotlinc
        .as_ref()
        .and_then(|k| std::fs::canonicalize(k).ok())
        .and_then(|k| Some(k.parent()?.parent()?.join("lib")));
    if kotlinc.is_none() {
        missing.push("kotlinc (set FIELDSALES_KOTLINC, or install into .tools/)".to_string());
    }
    let java = env_path("JAVA_HOME")
        .map(|home| home.join("bin/java"))
        .filter(|j| j.is_file())
        .or_else(|| on_path("java"));
    if java.is_none() {
        missing.push("java (set JAVA_HOME or put it on PATH)".to_string());
    }

    let mut jar = |var: &str, default: PathBuf| -> PathBuf {
        let path = env_path(var).unwrap_or(default);
        if !path.is_file() {
            missing.push(format!("{} (or set {var})", path.display()));
        }
        path
    };
    let lib = kotlin_lib.unwrap_or_default();
    let coroutines = jar(
        "FIELDSALES_COROUTINES_JAR",
        lib.join("kotlinx-coroutines-core-jvm.jar"),
    );
    let kotlin_test = jar("FIELDSALES_KOTLIN_TEST_JAR", lib.join("kotlin-test.jar"));
    let kotlin_test_junit = jar(
        "FIELDSALES_KOTLIN_TEST_JUNIT_JAR",
        lib.join("kotlin-test-junit.jar"),
    );
    let stdlib = jar(
        "FIELDSALES_KOTLIN_STDLIB_JAR",
        lib.join("kotlin-stdlib.jar"),
    );
    let jna = jar("FIELDSALES_JNA_JAR", "/usr/share/java/jna.jar".into());
    let junit = jar("FIELDSALES_JUNIT_JAR", "/usr/share/java/junit4.jar".into());
    let hamcrest = jar(
        "FIELDSALES_HAMCREST_JAR",
        "/usr/share/java/hamcrest-core.jar".into(),
    );

    match (kotlinc, java) {
        (Some(kotlinc), Some(java)) if missing.is_empty() => {
            let compile_classpath = vec![coroutines, kotlin_test, kotlin_test_junit, jna, junit];
            let mut run_classpath = compile_classpath.clone();
            run_classpath.extend([stdlib, hamcrest]);
            Ok(Tools {
                kotlinc,
                java,
                compile_classpath,
                run_classpath,
            })
        }
        _ => Err(missing.join("\n  ")),
    }
}

fn classpath(entries: &[PathBuf]) -> OsString {
    std::env::join_paths(entries).expect("class path entries without separators")
}

/// Runs `cmd` to completion or until `timeout`, with its output in `log`.
fn run_logged(mut cmd: Command, log: &Path, timeout: Duration) -> (Option<ExitStatus>, String) {
    let file = std::fs::File::create(log).expect("a log file in the target folder");
    let err = file.try_clone().expect("a second handle on the log");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("waiting for {cmd:?}: {e}"),
        }
    };
    (status, std::fs::read_to_string(log).unwrap_or_default())
}

/// A hash of everything the compiled classes depend on.
fn inputs_key(tools: &Tools, sources: &[PathBuf]) -> String {
    let mut h = DefaultHasher::new();
    tools.kotlinc.hash(&mut h);
    KOTLINC_FLAGS.hash(&mut h);
    if let Some(home) = std::fs::canonicalize(&tools.kotlinc)
        .ok()
        .and_then(|k| Some(k.parent()?.parent()?.to_path_buf()))
    {
        std::fs::read(home.join("build.txt"))
            .unwrap_or_default()
            .hash(&mut h);
    }
    for jar in &tools.compile_classpath {
        jar.hash(&mut h);
        std::fs::metadata(jar)
            .map(|m| m.len())
            .unwrap_or(0)
            .hash(&mut h);
    }
    for source in sources {
        source.hash(&mut h);
        std::fs::read(source).unwrap_or_default().hash(&mut h);
    }
    format!("{:016x}", h.finish())
}

/// Compiles bindings, library and tests once, or reuses the classes of an earlier run.
fn compiled_classes(tools: &Tools) -> PathBuf {
    let root = project_root();
    let sources: Vec<PathBuf> = SOURCE_DIRS
        .iter()
        .flat_map(|dir| {
            let dir = root.join(dir);
            files_under(&dir, Some("kt"))
                .into_iter()
                .map(move |f| dir.join(f))
        })
        .collect();
    assert!(
        sources
            .iter()
            .any(|s| s.ends_with("app/fieldsales/ffi/fieldsales.kt")),
        "the generated Kotlin bindings are missing; run scripts/generate-bindings.sh"
    );

    let cache = profile_dir().join("kotlin-jvm-tests");
    let key = inputs_key(tools, &sources);
    let out = cache.join(&key);
    let classes = out.join("classes");
    if out.join("complete").is_file() {
        return classes;
    }
    // Classes of older inputs are of no further use.
    if let Ok(entries) = std::fs::read_dir(&cache) {
        for entry in entries.flatten() {
            if entry.file_name() != key.as_str() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&classes).expect("a folder for the compiled classes");

    let mut kotlinc = Command::new(&tools.kotlinc);
    kotlinc
        .arg("-d")
        .arg(&classes)
        .arg("-classpath")
        .arg(classpath(&tools.compile_classpath))
        .args(KOTLINC_FLAGS)
        .args(&sources);
    if let Some(java_home) = tools.java.parent().and_then(Path::parent) {
        kotlinc.env("JAVA_HOME", java_home);
    }
    let (status, log) = run_logged(kotlinc, &out.join("kotlinc.log"), COMPILE_TIMEOUT);
    assert!(
        status.is_some_and(|s| s.success()),
        "kotlinc failed ({}) on the Android library and its tests:\n{log}",
        status.map_or_else(|| "timed out".to_string(), |s| s.to_string())
    );
    std::fs::write(out.join("complete"), "").expect("marking the classes complete");
    classes
}

/// Fully qualified names of the JUnit test classes among the compiled classes.
fn test_classes(classes: &Path) -> Vec<String> {
    files_under(classes, Some("class"))
        .into_iter()
        .filter_map(|f| {
            let name = f.with_extension("");
            let name = name.to_str()?.replace(std::path::MAIN_SEPARATOR, ".");
            (name.ends_with("Test") && !name.contains('$')).then_some(name)
        })
        .collect()
}

#[test]
fn kotlin_library_passes_its_jvm_tests_against_the_host_library() {
    let tools = find_tools().unwrap_or_else(|missing| {
        panic!("the Kotlin JVM tests cannot run; missing:\n  {missing}\n{INSTALL_HINT}")
    });
    let library = host_cdylib();
    let classes = compiled_classes(&tools);
    let tests = test_classes(&classes);
    assert!(!tests.is_empty(), "no *Test classes were compiled");

    let servers = crate::server::start();
    let mut run_classpath = vec![classes.clone()];
    run_classpath.extend(tools.run_classpath.iter().cloned());
    let mut java = Command::new(&tools.java);
    java.arg(format!(
        "-Djna.library.path={}",
        library
            .parent()
            .expect("the library is in a folder")
            .display()
    ))
    .arg("-classpath")
    .arg(classpath(&run_classpath))
    .arg("org.junit.runner.JUnitCore")
    .args(&tests)
    .envs(servers.env.iter().map(|(k, v)| (k, v)));
    let log = classes
        .parent()
        .expect("classes sit in the cache folder")
        .join("junit.log");
    let (status, output) = run_logged(java, &log, RUN_TIMEOUT);
    drop(servers);
    println!("{output}");

    assert!(
        status.is_some_and(|s| s.success()),
        "the Kotlin tests failed ({}):\n{output}",
        status.map_or_else(|| "timed out".to_string(), |s| s.to_string())
    );
    // JUnit's summary of a clean run: "OK (N tests)".
    let ran: usize = output
        .lines()
        .find_map(|l| l.strip_prefix("OK (")?.split(' ').next()?.parse().ok())
        .unwrap_or(0);
    assert!(ran > 0, "JUnit reported no test run:\n{output}");
}
