//! `fieldsales device` against `fieldsales server` on loopback, as a script would drive two
//! phones: both reps edit the same customer with no signal, sync, and both see one record
//! holding both edits.

use std::path::{Path, PathBuf};

use fieldsales_cli::demo::{Admin, PASSWORD};
use fieldsales_core::record::{DataScope, OrgLevel};
use serde_json::{Value, json};

use crate::server::Server;
use crate::support::{fieldsales, path_str, run, run_with};

pub const ADMIN_PASSWORD: &str = "correct horse battery";

pub struct Phone {
    pub store: PathBuf,
}

impl Phone {
    pub fn new(dir: &Path, login: &str) -> Phone {
        Phone {
            store: dir.join(format!("{login}.sqlite3")),
        }
    }

    pub fn run(&self, args: &[&str]) -> crate::support::Run {
        let mut all = vec!["device", "--store", path_str(&self.store), "--json"];
        all.extend_from_slice(args);
        run(&all, "")
    }

    pub fn ok(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        out.expect_code(0);
        out.json()
    }

    pub fn login(&self, base: &str, login: &str) -> Value {
        let out = run_with(
            fieldsales().args([
                "device",
                "--store",
                path_str(&self.store),
                "--json",
                "login",
                "--server",
                base,
                "--tenant",
                "acme",
                "--login",
                login,
            ]),
            &format!("{PASSWORD}\n"),
        );
        out.expect_code(0);
        out.json()
    }

    /// The whole customer as `customer show --json` gives it.
    pub fn customer(&self, id: &str) -> Value {
        self.ok(&["customer", "show", id])
    }
}

/// A tenant with one team and two reps in it; returns the reps' profile ids.
pub fn team(base: &str) -> (String, String) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let admin = Admin::sign_in(base, "acme", "admin", ADMIN_PASSWORD)
            .await
            .expect("admin signs in");
        admin
            .role("sales_rep", "销售代表", DataScope::Own)
            .await
            .expect("role");
        let hq = admin.unit("总部", OrgLevel::Hq, None).await.expect("hq");
        let team = admin
            .unit("上海一组", OrgLevel::Team, Some(hq))
            .await
            .expect("team");
        let wang = admin
            .person("wangfang", "王芳", team, "sales_rep")
            .await
            .expect("王芳");
        let li = admin
            .person("liqiang", "李强", team, "sales_rep")
            .await
            .expect("李强");
        (wang.to_string(), li.to_string())
    })
}

/// `fieldsales server` on loopback over a fresh data folder in `dir` holding the tenant
/// `acme` with its first admin.
pub fn acme_server(dir: &Path) -> (Server, String) {
    let data = dir.join("server");
    run_with(
        fieldsales()
            .args([
                "admin", "tenant", "create", "--tenant", "acme", "--name", "Acme", "--login",
                "admin", "--data",
            ])
            .arg(&data)
            .env("FIELDSALES_BOOTSTRAP_PASSWORD", ADMIN_PASSWORD),
        "",
    )
    .expect_code(0);
    let server = Server::start(&data);
    let base = format!("http://{}", server.address);
    (server, base)
}

#[test]
fn two_reps_edit_a_shared_customer_offline_and_both_see_the_merged_record() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (server, base) = acme_server(dir.path());
    let (_wang_id, li_id) = team(&base);

    let wang = Phone::new(dir.path(), "wangfang");
    let li = Phone::new(dir.path(), "liqiang");
    wang.login(&base, "wangfang");
    li.login(&base, "liqiang");

    // 王芳 adds a customer and shares it with 李强; both phones sync.
    let added = wang.ok(&[
        "customer",
        "add",
        "--name",
        "上海华鑫电子科技有限公司",
        "--address",
        "上海市黄浦区人民大道1号",
        "--tier",
        "B",
    ]);
    let id = added["id"].as_str().expect("id").to_owned();
    wang.ok(&["customer", "share", &id, "--with", &li_id]);
    wang.ok(&["sync"]);
    li.ok(&["sync"]);
    assert_eq!(
        li.customer(&id)["tier"],
        "B",
        "李强 sees the shared customer"
    );

    // No signal: each edits a different field.
    wang.ok(&[
        "customer",
        "edit",
        &id,
        "--address",
        "上海市浦东新区世纪大道100号",
    ]);
    li.ok(&["customer", "edit", &id, "--tier", "A", "--tag", "重点"]);

    // Signal again: both sync, 王芳 once more to pull 李强's edit.
    wang.ok(&["sync"]);
    li.ok(&["sync"]);
    wang.ok(&["sync"]);
    for phone in [&wang, &li] {
        let c = phone.customer(&id);
        assert_eq!(c["address"], "上海市浦东新区世纪大道100号", "{c}");
        assert_eq!(c["tier"], "A", "{c}");
        assert_eq!(c["tags"], json!(["重点"]), "{c}");
    }
    assert_eq!(
        wang.customer(&id),
        li.customer(&id),
        "one record on both phones"
    );

    // Nothing was refused on either phone, and no approval waits for a rep.
    for phone in [&wang, &li] {
        assert_eq!(phone.ok(&["rejected"])["rejected"], json!([]));
        assert_eq!(phone.ok(&["approve"])["waiting"], json!([]));
    }

    // A task for later today: on the agenda until done.
    let due = later_today();
    let task = wang.ok(&["task", "add", "--title", "给华鑫发报价", "--due", &due]);
    let task_id = task["id"].as_str().expect("task id").to_owned();
    let listed = wang.ok(&["task", "list"]);
    assert!(
        listed["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .any(|t| t["id"] == task_id.as_str()),
        "{listed}"
    );
    assert_eq!(wang.ok(&["task", "done", &task_id])["status"], "completed");
    wang.run(&["task", "add", "--title", "x", "--due", "tomorrow"])
        .expect_code(2);

    // A device that never signed in is an authentication failure; a bad option a usage one.
    Phone::new(dir.path(), "nobody")
        .run(&["sync"])
        .expect_code(4);
    wang.run(&["customer", "edit", &id]).expect_code(2);
    assert_eq!(server.stop("TERM"), 0);
}

/// A time later today in Shanghai (the reps' zone), RFC 3339 in UTC: an hour from now, or
/// sooner when the day ends before.
pub fn later_today() -> String {
    let now = fieldsales_core::Timestamp::now();
    fieldsales_core::testing::later_today(now, &fieldsales_core::Zone::SHANGHAI)
        .to_utc()
        .to_rfc3339()
}

#[test]
fn a_device_whose_server_is_unreachable_fails_with_the_network_code() {
    let dir = tempfile::tempdir().expect("temp dir");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = closed.local_addr().expect("address");
    drop(closed);
    let out = run_with(
        fieldsales().args([
            "device",
            "--store",
            path_str(&dir.path().join("phone.sqlite3")),
            "--json",
            "login",
            "--server",
            &format!("http://{address}"),
            "--tenant",
            "acme",
            "--login",
            "wangfang",
        ]),
        "password\n",
    );
    out.expect_code(5);
    assert_eq!(out.json()["error"]["code"], "offline");
}
