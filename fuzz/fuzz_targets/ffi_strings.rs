//! Strings an app hands the library through the FFI: the input is cut into two strings
//! (decoded as uniffi decodes them), passed as ids, local days (read as the FFI reads a
//! `YYYY-MM-DD` it is given), times of day, zones, currencies, search queries and the fields of
//! a customer (its custom fields included) and a contact to the exported functions and to a
//! rep's engine on a real store. Every call ends in a value or an error an app can act on:
//! never a panic, never `Internal` (how a panic in the store's work reaches the app).
#![no_main]

use std::sync::{Arc, OnceLock};

use fieldsales_core::{LocalDate, Timestamp};
use fieldsales_ffi::{
    ContactDraft, CustomerDraft, DataScope, DecisionRole, Engine, FieldsalesError, GeoPoint,
    Money, RecordKind, SignedInUser, format_money, local_date_of, local_time_on, open_engine,
    parse_record_id, start_of_local_day, validate_zone,
};
use libfuzzer_sys::fuzz_target;

struct Phone {
    _dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
    engine: Arc<Engine>,
    customer: String,
}

fn draft(legal_name: &str, tag: &str) -> CustomerDraft {
    CustomerDraft {
        legal_name: legal_name.into(),
        short_name: None,
        english_name: None,
        customer_type: None,
        industry: Some("制造业".into()),
        scale: None,
        address: Some("上海市黄浦区人民大道200号".into()),
        location: Some(GeoPoint {
            lat: 31.2304,
            lon: 121.4737,
        }),
        tier: Some("A".into()),
        source: None,
        tags: vec![tag.to_owned()],
        custom_fields: [(tag.to_owned(), legal_name.to_owned())].into(),
    }
}

fn phone() -> &'static Phone {
    static PHONE: OnceLock<Phone> = OnceLock::new();
    PHONE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let rep = SignedInUser {
            user_id: fieldsales_core::RecordId::new().to_string(),
            unit_id: fieldsales_core::RecordId::new().to_string(),
            roles: vec!["sales_rep".into()],
            scope: DataScope::Own,
            zone: "Asia/Shanghai".into(),
            hidden_fields: Vec::new(),
        };
        let path = dir.path().join("rep.sqlite").to_string_lossy().into_owned();
        let (engine, customer) = runtime.block_on(async {
            let engine = open_engine(path, rep, None).await.expect("the store opens");
            let customer = engine
                .clone()
                .create_customer(draft("上海明远贸易有限公司", "展会"))
                .await
                .expect("a customer to edit")
                .customer
                .id;
            (engine, customer)
        });
        Phone {
            _dir: dir,
            runtime,
            engine,
            customer,
        }
    })
}

fn acted_on<T: std::fmt::Debug>(what: &str, result: Result<T, FieldsalesError>) {
    if let Err(FieldsalesError::Internal { detail }) = &result {
        panic!("{what}: Internal: {detail}");
    }
}

fuzz_target!(|data: &[u8]| {
    // The two strings are separated by the first zero byte.
    let (a, b) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &data[..0]),
    };
    let s = String::from_utf8_lossy(a).into_owned();
    let t = String::from_utf8_lossy(b).into_owned();
    let millis = data
        .iter()
        .fold(0i64, |n, &b| n.wrapping_mul(31).wrapping_add(i64::from(b)));
    acted_on("parse_record_id", parse_record_id(s.clone()));
    acted_on("validate_zone", validate_zone(s.clone()));
    // Within the calendar's range, as the FFI checks an instant it is given.
    let at = Timestamp::from_millis(millis % 8_000_000_000_000_000);
    acted_on("local_date_of", local_date_of(at, s.clone()));
    let day = s.parse::<LocalDate>().ok();
    if let Some(day) = day {
        acted_on("start_of_local_day", start_of_local_day(day, t.clone()));
        acted_on("local_time_on", local_time_on(day, t.clone(), t.clone()));
    }
    acted_on(
        "format_money",
        format_money(Money {
            minor: millis,
            currency: s.clone(),
        }),
    );
    let phone = phone();
    let engine = &phone.engine;
    phone.runtime.block_on(async {
        acted_on("get_customer", engine.clone().get_customer(s.clone()).await);
        if let Some(day) = day {
            acted_on("report_due", engine.clone().report_due(day).await);
        }
        acted_on("claim_lead", engine.clone().claim_lead(s.clone()).await);
        acted_on("accept_task", engine.clone().accept_task(s.clone()).await);
        acted_on(
            "search",
            engine
                .clone()
                .search(s.clone(), vec![RecordKind::Customer], 20)
                .await,
        );
        let mut customer = draft(&s, &t);
        customer.tier = Some(t.clone());
        customer.short_name = Some(t.clone());
        acted_on(
            "check_customer_duplicates",
            engine
                .clone()
                .check_customer_duplicates(customer.clone())
                .await,
        );
        // Writes only now and then: each one grows the store.
        if millis % 16 == 0 {
            acted_on(
                "create_customer",
                engine.clone().create_customer(customer.clone()).await,
            );
            acted_on(
                "update_customer",
                engine
                    .clone()
                    .update_customer(phone.customer.clone(), customer)
                    .await,
            );
            let contact = ContactDraft {
                name: s.clone(),
                title: Some(t.clone()),
                phone: Some(t.clone()),
                email: Some(s.clone()),
                decision_role: DecisionRole::Unknown,
            };
            acted_on(
                "create_contact",
                engine
                    .clone()
                    .create_contact(phone.customer.clone(), contact)
                    .await,
            );
        }
    });
});
