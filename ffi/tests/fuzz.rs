//! Mutation fuzzing of the strings an app hands the library: record ids, dates, times of day,
//! zones, currencies, search queries and the text fields of a customer or contact, mutated
//! from valid ones (`fieldsales_core::testing::fuzz`) and decoded as UTF-8 as uniffi hands
//! them over. Every call must end in a value or an error an app can act on: never a panic,
//! and never `Internal` (which is how a panic in the store's work reaches the app). A
//! `FUZZ_CASES` environment variable runs more cases (see RELIABILITY.md).

use std::sync::Arc;

use fieldsales_core::RecordId;
use fieldsales_core::testing::fuzz;
use fieldsales_ffi::{
    ContactDraft, Engine, FieldsalesError, Money, SignedInUser, format_money, local_date_of,
    local_time_on, open_engine, parse_record_id, start_of_local_day, validate_zone,
};

mod common;

/// A local day, as the apps' date pickers give it.
fn day(text: &str) -> fieldsales_core::LocalDate {
    text.parse().expect("a calendar day")
}
use common::customer_at_site;

fn corpus() -> Vec<Vec<u8>> {
    [
        RecordId::new().to_string().as_str(),
        "2026-03-09",
        "2026-12-31",
        "18:30",
        "00:00",
        "Asia/Shanghai",
        "America/New_York",
        "UTC",
        "CNY",
        "USD",
        "上海明远贸易有限公司",
        "Acme Trading Co., Ltd.",
        "华为",
        "customer",
        "opportunity",
        "decision_maker",
        "+86 21 5555 0101",
        "buyer@example.com",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

/// An error an app can act on: anything but `Internal`.
fn acted_on<T: std::fmt::Debug>(what: &str, case: u64, result: Result<T, FieldsalesError>) {
    if let Err(FieldsalesError::Internal { detail }) = &result {
        panic!("{what} case {case}: Internal: {detail}");
    }
}

async fn calls(phone: Arc<Engine>, customer: String, case: u64, s: String, t: String) {
    acted_on("parse_record_id", case, parse_record_id(s.clone()));
    acted_on("validate_zone", case, validate_zone(s.clone()));
    acted_on(
        "local_date_of",
        case,
        local_date_of(
            fieldsales_core::Timestamp::from_millis(case as i64 * 7_919_993),
            s.clone(),
        ),
    );
    acted_on(
        "start_of_local_day",
        case,
        start_of_local_day(day("2026-03-09"), t.clone()),
    );
    acted_on(
        "local_time_on",
        case,
        local_time_on(day("2026-03-09"), s.clone(), t.clone()),
    );
    let money = Money {
        minor: (case as i64).wrapping_mul(1_000_003),
        currency: s.clone(),
    };
    acted_on("format_money", case, format_money(money));
    acted_on(
        "get_customer",
        case,
        phone.clone().get_customer(s.clone()).await,
    );
    acted_on(
        "report_due",
        case,
        phone.clone().report_due(day("2026-03-09")).await,
    );
    acted_on(
        "claim_lead",
        case,
        phone.clone().claim_lead(s.clone()).await,
    );
    acted_on(
        "accept_task",
        case,
        phone.clone().accept_task(s.clone()).await,
    );
    acted_on(
        "search",
        case,
        phone
            .clone()
            .search(s.clone(), vec![fieldsales_ffi::RecordKind::Customer], 20)
            .await,
    );
    acted_on(
        "search",
        case,
        phone.clone().search(s.clone(), Vec::new(), 20).await,
    );
    let mut draft = customer_at_site(&s, &[&t]);
    draft.tier = Some(t.clone());
    draft.short_name = Some(t.clone());
    acted_on(
        "check_customer_duplicates",
        case,
        phone.clone().check_customer_duplicates(draft.clone()).await,
    );
    acted_on(
        "create_customer",
        case,
        phone.clone().create_customer(draft.clone()).await,
    );
    acted_on(
        "update_customer",
        case,
        phone.clone().update_customer(customer.clone(), draft).await,
    );
    let contact = ContactDraft {
        name: s.clone(),
        title: Some(t.clone()),
        phone: Some(t.clone()),
        email: Some(s.clone()),
        decision_role: fieldsales_ffi::DecisionRole::Unknown,
    };
    acted_on(
        "create_contact",
        case,
        phone
            .clone()
            .create_contact(customer.clone(), contact)
            .await,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutated_strings_from_an_app_end_in_a_value_or_an_error_it_can_act_on() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rep = SignedInUser {
        user_id: RecordId::new().to_string(),
        unit_id: RecordId::new().to_string(),
        roles: vec!["sales_rep".into()],
        scope: fieldsales_ffi::DataScope::Own,
        zone: "Asia/Shanghai".into(),
        hidden_fields: Vec::new(),
    };
    let path = dir.path().join("rep.sqlite").to_string_lossy().into_owned();
    let phone = open_engine(path, rep, None).await.expect("the store opens");
    let customer = phone
        .clone()
        .create_customer(customer_at_site("上海明远贸易有限公司", &["展会"]))
        .await
        .expect("a customer to edit")
        .customer
        .id;
    let corpus = corpus();
    for case in 0..fuzz::cases(150) {
        let s = String::from_utf8_lossy(&fuzz::input(&corpus, case)).into_owned();
        let t = String::from_utf8_lossy(&fuzz::input(&corpus, case ^ 0x5555)).into_owned();
        let run = calls(phone.clone(), customer.clone(), case, s.clone(), t.clone());
        // A panic in the calling thread's part of a call, not only in the store's work.
        if let Err(e) = futures_catch(run).await {
            panic!("case {case} panicked ({e}) on {s:?} / {t:?}");
        }
    }
    let count = phone.clone().pending_count().await.expect("still usable");
    assert!(count >= 1);
}

/// Runs `future` on its own task: a panic inside it comes back as an error.
async fn futures_catch(
    future: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    tokio::spawn(future).await.map_err(|e| e.to_string())
}

/// The corpus is valid input before it is mutated, so the mutations start from calls that
/// succeed.
#[test]
fn the_corpus_is_valid_input_before_mutation() {
    let id = String::from_utf8(corpus()[0].clone()).expect("UTF-8");
    assert!(parse_record_id(id).is_ok());
    assert!(validate_zone("Asia/Shanghai".into()).is_ok());
    assert!(start_of_local_day(day("2026-03-09"), "Asia/Shanghai".into()).is_ok());
    assert!(local_time_on(day("2026-03-09"), "18:30".into(), "UTC".into()).is_ok());
}
