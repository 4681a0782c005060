//! A file handed to `fieldsales import`: CSV or an Excel workbook (the first byte of the input
//! chooses which, and whether the import is a dry run), imported as customers, contacts or
//! products into a store that knows a team. A report or a typed error with words in it; after
//! every 128 real imports the store's projections still equal its documents (and a fresh store
//! takes its place).
#![no_main]

use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use fieldsales_cli::transfer::{Entity, ImportOptions, NoProgress, import_file};
use fieldsales_core::record::org::OrgLevel;
use fieldsales_core::store::Store;
use fieldsales_core::{RecordId, testing};
use libfuzzer_sys::fuzz_target;

struct Team {
    _dir: tempfile::TempDir,
    folder: PathBuf,
    store: Store,
    real_imports: u64,
}

/// A store in a fresh folder with a team of three reps.
fn new_team() -> Team {
    let dir = tempfile::tempdir().expect("temp dir");
    let folder = dir.path().to_path_buf();
    let mut store = Store::open(folder.join("store.sqlite3")).expect("store");
    let unit = testing::org_unit("华东大区上海一组", OrgLevel::Team, Some(RecordId::new()));
    let unit_id = unit.header.id;
    store.create(unit).expect("unit");
    for (no, name) in [("E1001", "王芳"), ("E1002", "李强"), ("E1003", "张伟")] {
        let mut user = testing::user(name, unit_id, "sales_rep");
        user.employee_no = no.to_owned();
        store.create(user).expect("user");
    }
    Team {
        _dir: dir,
        folder,
        store,
        real_imports: 0,
    }
}

fn team() -> &'static Mutex<Team> {
    static TEAM: OnceLock<Mutex<Team>> = OnceLock::new();
    TEAM.get_or_init(|| Mutex::new(new_team()))
}

/// Real imports into one store before it is checked and replaced by a fresh one: a store
/// that grew without end would make every case slower than the last.
const IMPORTS_PER_STORE: u64 = 128;

const ENTITIES: [Entity; 3] = [Entity::Customers, Entity::Contacts, Entity::Products];

fuzz_target!(|data: &[u8]| {
    let Some((&choice, content)) = data.split_first() else {
        return;
    };
    let mut team = team().lock().unwrap_or_else(|e| e.into_inner());
    let extension = if choice & 1 == 0 { "csv" } else { "xlsx" };
    let entity = ENTITIES[usize::from(choice >> 1) % 3];
    // Mostly dry runs: a real import grows the store every case and slows the run down.
    let dry_run = choice >> 3 != 0;
    let file = team.folder.join(format!("input.{extension}"));
    std::fs::write(&file, content).expect("written");
    let options = ImportOptions {
        dry_run,
        default_owner: (choice & 0x80 != 0).then(|| "E1001".to_owned()),
        ..ImportOptions::default()
    };
    match import_file(&mut team.store, entity, &file, &options, &NoProgress) {
        Ok(_) if !dry_run => {
            team.real_imports += 1;
            // The consistency check reads the whole store: once per store, before it goes.
            if team.real_imports >= IMPORTS_PER_STORE {
                let report = team.store.check_consistency().expect("checked");
                assert!(report.is_consistent(), "{report:?}");
                *team = new_team();
            }
        }
        Ok(_) => {}
        Err(e) => assert!(!e.to_string().is_empty(), "an empty error"),
    }
});
