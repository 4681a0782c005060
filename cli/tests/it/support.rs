//! Builders for the tests: a store with a sales team, workbooks and CSV files, and running
//! the binary.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use fieldsales_core::record::org::OrgLevel;
use fieldsales_core::record::{AnyRecord, Customer};
use fieldsales_core::store::StoreRead;
use fieldsales_core::store::{ListFilter, Store};
use fieldsales_core::{RecordId, testing};
use rust_xlsxwriter::Workbook;

/// A rep of the team, as the store knows them.
#[derive(Debug, Clone)]
pub struct Rep {
    pub id: RecordId,
    pub employee_no: String,
}

/// A local store with the East China team in it: 王芳 (E1001), 李强 (E1002), and two reps
/// both called 张伟 (E1003, E1004).
pub struct Team {
    pub dir: tempfile::TempDir,
    pub store_path: PathBuf,
    pub reps: Vec<Rep>,
}

impl Team {
    pub fn new() -> Team {
        let dir = tempfile::tempdir().expect("temp dir");
        let store_path = dir.path().join("store.sqlite3");
        let mut store = Store::open(&store_path).expect("store");
        let unit = testing::org_unit("华东大区上海一组", OrgLevel::Team, Some(RecordId::new()));
        let unit_id = unit.header.id;
        store.create(unit).expect("unit");
        let mut reps = Vec::new();
        for (no, name) in [
            ("E1001", "王芳"),
            ("E1002", "李强"),
            ("E1003", "张伟"),
            ("E1004", "张伟"),
        ] {
            let mut user = testing::user(name, unit_id, "sales_rep");
            user.employee_no = no.to_owned();
            let user = store.create(user).expect("user");
            reps.push(Rep {
                id: user.header.id,
                employee_no: no.to_owned(),
            });
        }
        Team {
            dir,
            store_path,
            reps,
        }
    }

    pub fn rep(&self, employee_no: &str) -> &Rep {
        self.reps
            .iter()
            .find(|r| r.employee_no == employee_no)
            .expect("a rep of the team")
    }

    pub fn store(&self) -> Store {
        Store::open(&self.store_path).expect("store")
    }

    /// A customer already in the store, owned by `employee_no`.
    pub fn with_customer(&self, employee_no: &str, legal_name: &str) -> Customer {
        let owner = self.rep(employee_no).id;
        self.store()
            .create(testing::customer(owner, legal_name))
            .expect("customer")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn count(&self, kind: fieldsales_core::record::Kind) -> usize {
        self.store()
            .list(&ListFilter {
                kind: Some(kind),
                limit: Some(1_000_000),
                ..ListFilter::default()
            })
            .expect("list")
            .len()
    }

    pub fn all(&self, kind: fieldsales_core::record::Kind) -> Vec<AnyRecord> {
        let store = self.store();
        store
            .list(&ListFilter {
                kind: Some(kind),
                limit: Some(1_000_000),
                ..ListFilter::default()
            })
            .expect("list")
            .into_iter()
            .map(|s| store.get_any(s.id).expect("record"))
            .collect()
    }
}

/// A cell of a test sheet.
#[derive(Debug, Clone)]
pub enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

pub fn t(s: &str) -> Cell {
    Cell::Text(s.to_owned())
}

pub fn n(x: f64) -> Cell {
    Cell::Number(x)
}

/// Writes a workbook whose first sheet holds `header` at row 1 and `rows` below it.
pub fn write_workbook(path: &Path, header: &[&str], rows: &[Vec<Cell>]) {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).expect("header");
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32 + 1, c as u16);
            match cell {
                Cell::Text(s) => {
                    sheet.write_string(r, c, s).expect("cell");
                }
                Cell::Number(x) => {
                    sheet.write_number(r, c, *x).expect("cell");
                }
                Cell::Empty => {}
            }
        }
    }
    workbook.save(path).expect("save workbook");
}

/// What a run of the binary gave.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}):\n{}", self.stdout))
    }

    /// Asserts the run ended with `code` and no panic.
    pub fn expect_code(&self, code: i32) -> &Run {
        assert!(
            !self.stderr.contains("panicked"),
            "the binary panicked:\n{}",
            self.stderr
        );
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// The binary with no `FIELDSALES_*` settings from the environment of the test run.
pub fn fieldsales() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fieldsales"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("FIELDSALES_") {
            command.env_remove(name);
        }
    }
    command
}

/// Runs the binary with `args`, feeding `stdin`.
pub fn run(args: &[&str], stdin: &str) -> Run {
    run_with(fieldsales().args(args), stdin)
}

pub fn run_with(command: &mut Command, stdin: &str) -> Run {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn fieldsales");
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.as_bytes()).expect("stdin");
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().expect("wait");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

impl Team {
    /// The employee number of a user of this team, for comparing owners across stores.
    pub fn employee_no(&self, id: Option<RecordId>) -> String {
        match id {
            None => String::new(),
            Some(id) => self
                .reps
                .iter()
                .find(|r| r.id == id)
                .map(|r| r.employee_no.clone())
                .unwrap_or_else(|| id.to_string()),
        }
    }
}
