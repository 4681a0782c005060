//! What a person reads: a rep's day on `fieldsales device` without `--json` is tables and
//! sentences, times on the rep's own clock face, money as `¥1,234.00`, and never a Rust
//! debug dump; `customer show` shows the whole customer.

use crate::device::{Phone, acme_server, team};
use crate::support::Run;

impl Phone {
    /// Runs a command for a person to read; it must succeed and read as text.
    fn text(&self, args: &[&str]) -> String {
        let mut all = vec!["device", "--store", crate::support::path_str(&self.store)];
        all.extend_from_slice(args);
        let out = crate::support::run(&all, "");
        out.expect_code(0);
        readable(&out);
        out.stdout
    }
}

/// Fails on what only a programmer could read: debug dumps of options, structs and values.
fn readable(out: &Run) {
    for dump in [
        "Some(",
        "None",
        "{",
        "}",
        "Verdict",
        "Timestamp(",
        "RecordId(",
        "Money(",
        " CNY",
        "\\",
    ] {
        assert!(
            !out.stdout.contains(dump),
            "`{dump}` in text meant for people:\n{}",
            out.stdout
        );
    }
}

/// `2026-03-09 09:05`: a wall-clock time, not an RFC 3339 instant.
fn has_local_time(text: &str) -> bool {
    text.split_whitespace().any(|word| {
        let b = word.as_bytes();
        b.len() == 5 && b[2] == b':' && b[..2].iter().chain(&b[3..]).all(u8::is_ascii_digit)
    }) && !text.contains('Z')
}

#[test]
fn a_reps_day_reads_as_sentences_and_tables_and_a_customer_is_shown_whole() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (server, base) = acme_server(dir.path());
    let (_wang, li) = team(&base);
    let wang = Phone::new(dir.path(), "wangfang");
    wang.login(&base, "wangfang");

    let added = wang.text(&[
        "customer",
        "add",
        "--name",
        "上海华鑫电子科技有限公司",
        "--address",
        "上海市黄浦区人民大道1号",
        "--tier",
        "A",
        "--lat",
        "31.2304",
        "--lon",
        "121.4737",
    ]);
    assert!(added.contains("上海华鑫电子科技有限公司"), "{added}");
    let id = wang.ok(&["customer", "search", "华鑫"])["customers"][0]["id"]
        .as_str()
        .expect("the customer's id")
        .to_owned();
    wang.text(&["customer", "share", &id, "--with", &li]);

    // The list is a table with a header.
    let list = wang.text(&["customer", "list"]);
    assert!(list.starts_with("customer"), "{list}");
    assert!(list.contains("上海华鑫电子科技有限公司"), "{list}");

    // A check-in on the doorstep, then one from a mock-location app: verdicts in words.
    let inside = wang.text(&[
        "check-in",
        "--customer",
        &id,
        "--lat",
        "31.2305",
        "--lon",
        "121.4738",
    ]);
    assert!(
        inside.contains("checked in at 上海华鑫电子科技有限公司"),
        "{inside}"
    );
    assert!(inside.contains("inside the fence"), "{inside}");
    assert!(has_local_time(&inside), "{inside}");
    let visit = wang.ok(&[
        "check-in",
        "--customer",
        &id,
        "--lat",
        "31.2305",
        "--lon",
        "121.4738",
        "--mock",
    ])["visit_id"]
        .as_str()
        .expect("visit id")
        .to_owned();
    let out = wang.text(&["check-out", "--visit", &visit]);
    assert!(
        out.starts_with("checked out of 上海华鑫电子科技有限公司"),
        "{out}"
    );

    // A deal's amount is money as people write it.
    let deal = wang.text(&[
        "opportunity",
        "create",
        "--customer",
        &id,
        "--name",
        "产线传感器改造",
        "--amount",
        "120000",
    ]);
    assert!(deal.contains("¥120,000.00"), "{deal}");
    let deals = wang.text(&["opportunity", "list"]);
    assert!(
        deals.contains("¥120,000.00") && deals.starts_with("deal"),
        "{deals}"
    );

    // A task due later: the agenda shows it on the rep's clock face.
    let due = crate::device::later_today();
    wang.text(&["task", "add", "--title", "给华鑫发报价", "--due", &due]);
    let agenda = wang.text(&["task", "list"]);
    assert!(
        agenda.contains("给华鑫发报价") && has_local_time(&agenda),
        "{agenda}"
    );

    let report = wang.text(&["report", "draft", "--summary", "拜访华鑫"]);
    let report_id = wang.ok(&["report", "draft"])["report_id"]
        .as_str()
        .expect("report id")
        .to_owned();
    assert!(report.contains("report for"), "{report}");
    let submitted = wang.text(&["report", "submit", &report_id]);
    assert!(submitted.contains("submitted"), "{submitted}");

    let synced = wang.text(&["sync"]);
    assert!(synced.starts_with("synced:"), "{synced}");
    assert!(
        wang.text(&["approve"])
            .contains("no approval waits for you")
    );
    assert!(wang.text(&["rejected"]).contains("refused none"));
    let day = wang.text(&["dashboard"]);
    assert!(day.contains("¥120,000.00"), "{day}");

    // The whole customer: every field, people by name, the contacts and the deals.
    let shown = wang.text(&["customer", "show", &id]);
    for expected in [
        "上海华鑫电子科技有限公司",
        "上海市黄浦区人民大道1号",
        "tier           A",
        "owner          王芳",
        "collaborators  李强",
        "location       31.23040, 121.47370",
        "no contacts",
        "产线传感器改造",
        "¥120,000.00",
    ] {
        assert!(shown.contains(expected), "`{expected}` missing:\n{shown}");
    }
    let whole = wang.customer(&id);
    assert_eq!(whole["owner"]["name"], "王芳", "{whole}");
    assert_eq!(whole["collaborators"][0]["id"], li.as_str(), "{whole}");
    assert_eq!(whole["opportunities"][0]["amount"]["minor"], 12_000_000);
    assert_eq!(server.stop("TERM"), 0);
}
