//! Test-data builders: realistic records of every kind, so tests read as field scenarios
//! instead of pages of setup. Compiled for this crate's tests and, with the `testing` feature,
//! for other crates' tests.

use std::collections::BTreeMap;

use autosurgeon::Text;

use crate::fieldwork::DevicePosition;
use crate::process::{ApprovalChain, ApprovalStep, FieldValue, MoveKind, StageChange};
use crate::record::approval::ApprovalStatus;
use crate::record::contact::DecisionRole;
use crate::record::daily_report::ReportState;
use crate::record::follow_up::FollowUpMethod;
use crate::record::lead::{LeadEvent, LeadEventKind, LeadStatus};
use crate::record::order::{DeliveryStatus, OrderStatus, Payment};
use crate::record::org::{DataScope, OrgLevel};
use crate::record::target::{PeriodKind, TargetMetric, TargetSubject};
use crate::record::task::{TaskKind, TaskStatus};
use crate::record::visit::CheckIn;
use crate::record::visit_plan::PlannedVisit;
use crate::record::*;
use crate::{BasisPoints, Currency, GeoPoint, LocalDate, Money, RecordId, Timestamp, Zone};

/// 2026-03-10 09:00 in Shanghai: the morning of a working day.
pub fn morning() -> Timestamp {
    Timestamp::parse_rfc3339("2026-03-10T09:00:00+08:00").unwrap_or_default()
}

/// A header owned by `owner`, created in the morning.
/// A rep of their own unit who sees only their own records, in Shanghai.
pub fn rep() -> crate::me::Me {
    crate::me::Me {
        hidden: Default::default(),
        user_id: RecordId::new(),
        unit_id: RecordId::new(),
        roles: vec!["sales_rep".into()],
        scope: DataScope::Own,
        zone: Zone::SHANGHAI,
    }
}

pub fn header(owner: RecordId) -> Header {
    Header::new(owner, morning())
}

/// ¥ in whole yuan.
pub fn yuan(units: i64) -> Money {
    Money::major(units, Currency::CNY)
}

/// The Shanghai office of a customer, at People's Square.
pub fn shanghai() -> GeoPoint {
    GeoPoint {
        lat: 31.2304,
        lon: 121.4737,
    }
}

/// An org unit.
pub fn org_unit(name: &str, level: OrgLevel, parent: Option<RecordId>) -> OrgUnit {
    OrgUnit {
        header: Header::unowned(None, morning()),
        name: name.into(),
        level,
        parent_id: parent,
        manager_id: None,
        zone: Some(Zone::SHANGHAI),
    }
}

/// A rep's profile in `unit`.
pub fn user(name: &str, unit: RecordId, role: &str) -> UserProfile {
    UserProfile {
        header: Header::unowned(None, morning()),
        name: name.into(),
        employee_no: format!("E{:05}", name.len() * 7919 % 100_000),
        unit_id: unit,
        roles: StringSet::from_iter([role.to_string()]),
        phone: Some("+86 138 0000 0000".into()),
        email: Some("rep@example.com".into()),
        title: Some("销售代表".into()),
        zone: Zone::SHANGHAI,
        active: true,
        started_on: None,
        left_on: None,
        leave: Vec::new(),
    }
}

/// A role.
pub fn role(code: &str, scope: DataScope) -> Role {
    Role {
        header: Header::unowned(None, morning()),
        code: code.into(),
        name: code.replace('_', " "),
        data_scope: scope,
        permissions: StringSet::from_iter(["view".to_string()]),
        hidden_fields: StringSet::new(),
    }
}

/// A customer owned by `owner`, located in Shanghai.
pub fn customer(owner: RecordId, legal_name: &str) -> Customer {
    let mut c = Customer::new(header(owner), legal_name);
    c.industry = Some("电子".into());
    c.tier = Some("A".into());
    c.location = Some(shanghai());
    c.address = Some("上海市黄浦区人民大道".into());
    c.tags = StringSet::from_iter(["重点".to_string()]);
    c.custom_fields = BTreeMap::from([("erp_code".to_string(), "C-0001".to_string())]);
    c
}

/// A contact at `customer`.
pub fn contact(owner: RecordId, customer: RecordId, name: &str) -> Contact {
    Contact {
        header: header(owner),
        customer_id: customer,
        name: name.into(),
        title: Some("采购经理".into()),
        phone: Some("+86 21 5555 0101".into()),
        email: Some("buyer@example.com".into()),
        decision_role: DecisionRole::DecisionMaker,
    }
}

/// A follow-up call about `customer`.
pub fn follow_up(owner: RecordId, customer: RecordId, text: &str) -> FollowUp {
    FollowUp {
        header: header(owner),
        subject: RecordRef {
            kind: Kind::Customer,
            id: customer,
        },
        customer_id: Some(customer),
        method: FollowUpMethod::Call,
        occurred_at: morning().plus_secs(3600),
        text: Text::with_value(text),
        next_step: Some("send quotation".into()),
        visit_id: None,
    }
}

/// A lead assigned to `owner`.
pub fn lead(owner: RecordId, company: &str) -> Lead {
    Lead {
        header: header(owner),
        company_name: company.into(),
        contact_name: Some("王经理".into()),
        phone: Some("13800000000".into()),
        email: None,
        source: Some("trade_show".into()),
        status: LeadStatus::Assigned,
        assigned_at: Some(morning()),
        last_follow_up_at: None,
        events: vec![LeadEvent {
            kind: LeadEventKind::Assigned,
            rep_id: Some(owner),
            by: None,
            at: morning(),
        }],
        releases: Vec::new(),
        conversion: None,
        notes: Text::default(),
    }
}

/// An opportunity in its first stage.
pub fn opportunity(owner: RecordId, customer: RecordId, name: &str, amount: Money) -> Opportunity {
    Opportunity {
        header: header(owner),
        customer_id: customer,
        name: name.into(),
        amount,
        expected_close: LocalDate::from_ymd(2026, 6, 30),
        stage: "opportunity".into(),
        stage_history: vec![StageChange {
            from: None,
            to: "opportunity".into(),
            kind: MoveKind::Open,
            at: morning(),
            by: owner,
            reason: None,
        }],
        fields: BTreeMap::from([("budget".to_string(), FieldValue::Money(yuan(500_000)))]),
        products: Vec::new(),
        outcome: None,
        notes: Text::with_value("客户关注交付周期"),
        overdue_reminded_at: None,
        marked_false: None,
    }
}

/// A position as a phone reports it, `metres_north` of the Shanghai office.
pub fn position_near_shanghai(metres_north: f64, accuracy_m: f64) -> DevicePosition {
    DevicePosition {
        point: GeoPoint {
            lat: shanghai().lat + metres_north / 111_195.0,
            lon: shanghai().lon,
        },
        accuracy_m,
        fix_time: morning(),
        mock: false,
        integrity: None,
        since_boot_ms: None,
    }
}

/// A visit checked in at `customer` in the morning, 20 m from its office.
pub fn visit(owner: RecordId, customer: RecordId) -> Visit {
    Visit {
        header: header(owner),
        customer_id: customer,
        plan_id: None,
        check_in: CheckIn {
            at: morning(),
            position: position_near_shanghai(20.0, 8.0),
            zone: Zone::SHANGHAI,
            clock_offset_ms: Some(120),
            synced_at: None,
            recorded_after: None,
        },
        check_out: None,
        note: Text::with_value("见了采购经理"),
        photos: Vec::new(),
        verdict: None,
        received_at: None,
    }
}

/// A plan to visit `customers` on the morning's day.
pub fn visit_plan(owner: RecordId, customers: &[RecordId]) -> VisitPlan {
    VisitPlan {
        header: header(owner),
        date: morning().local_date(&Zone::SHANGHAI),
        zone: Zone::SHANGHAI,
        planned_by: owner,
        items: customers
            .iter()
            .map(|c| PlannedVisit {
                customer_id: *c,
                planned_at: None,
                purpose: Some("拜访".into()),
            })
            .collect(),
    }
}

/// A draft daily report for the morning's day.
pub fn daily_report(owner: RecordId) -> DailyReport {
    DailyReport {
        header: header(owner),
        date: morning().local_date(&Zone::SHANGHAI),
        zone: Zone::SHANGHAI,
        summary: Text::with_value("拜访两家客户"),
        results: Text::default(),
        problems: Text::with_value("交付周期偏长"),
        plan_tomorrow: Text::with_value("准备报价"),
        visit_ids: Vec::new(),
        follow_up_ids: Vec::new(),
        task_ids: Vec::new(),
        state: ReportState::Draft,
        submitted_at: None,
        submitted_clock_offset_ms: None,
        received_at: None,
        comments: Vec::new(),
        read_by: IdSet::new(),
        marked_false: None,
        verdict: None,
    }
}

/// A task `assigner` gives `assignee`, due in the afternoon.
pub fn task(assignee: RecordId, assigner: RecordId, title: &str) -> Task {
    let mut h = header(assignee);
    if assigner != assignee {
        h.shared_with.insert(assigner);
    }
    Task {
        header: h,
        kind: TaskKind::Task,
        title: title.into(),
        description: Text::default(),
        assigner_id: assigner,
        due_at: Some(morning().plus_secs(8 * 3600)),
        start_at: None,
        end_at: None,
        reminder_at: Some(morning().plus_secs(7 * 3600)),
        status: if assigner == assignee {
            TaskStatus::Open
        } else {
            TaskStatus::Proposed
        },
        reject_reason: None,
        completed_at: None,
        postponements: Vec::new(),
        related: None,
    }
}

/// A pending approval for an order of `amount`.
pub fn approval(requester: RecordId, order: RecordId, amount: Money) -> Approval {
    Approval {
        header: header(requester),
        subject: RecordRef {
            kind: Kind::Order,
            id: order,
        },
        rule: "amount_over_50000".into(),
        title: format!("Order of {amount}"),
        amount: Some(amount),
        discount: None,
        chain: ApprovalChain {
            steps: vec![ApprovalStep::single("sales_manager")],
            because: vec!["contract over 50,000".into()],
        },
        decisions: Vec::new(),
        status: ApprovalStatus::Pending,
        decided_at: None,
    }
}

/// A product of the catalogue.
pub fn product(code: &str, name: &str, list_price: Money) -> Product {
    Product {
        header: Header::unowned(None, morning()),
        code: code.into(),
        name: name.into(),
        spec: Some("标准版".into()),
        unit: Some("套".into()),
        list_price,
        cost: Some(Money::new(list_price.minor / 2, list_price.currency)),
        category: Some("软件".into()),
        product_line: Some("CRM".into()),
        tier_prices: BTreeMap::from([(
            "A".to_string(),
            Money::new(list_price.minor * 95 / 100, list_price.currency),
        )]),
        volume_breaks: Vec::new(),
        promotions: Vec::new(),
        active: true,
    }
}

/// A confirmed order of one product line at the rep's 5% discount.
pub fn order(owner: RecordId, customer: RecordId, product: &Product, quantity: u32) -> Order {
    let line = crate::process::price_line(
        &crate::process::PriceRules::default(),
        &crate::process::LineRequest {
            product: crate::process::ProductFacts {
                code: &product.code,
                list_price: product.list_price,
            },
            quantity,
            customer_tier: None,
            on: morning().local_date(&Zone::SHANGHAI),
            manual_discount: BasisPoints(500),
        },
    );
    let lines: Vec<crate::process::OrderLine> = line.into_iter().collect();
    let total = lines
        .iter()
        .fold(Money::zero(product.list_price.currency), |sum, l| {
            sum.checked_add(l.amount).unwrap_or(sum)
        });
    Order {
        header: header(owner),
        customer_id: customer,
        opportunity_id: None,
        number: "SO-2026-0001".into(),
        lines,
        total,
        status: OrderStatus::Confirmed,
        approval_id: None,
        confirmed_at: Some(morning()),
        new_customer: false,
        payments: vec![Payment {
            id: RecordId::new(),
            amount: Money::new(total.minor / 2, total.currency),
            received_at: morning().plus_secs(86_400),
            method: Some("bank_transfer".into()),
            note: None,
        }],
        delivery: DeliveryStatus::Pending,
    }
}

/// A quarterly target for a rep.
pub fn target(rep: RecordId, amount: Money) -> Target {
    Target {
        header: header(rep),
        period: PeriodKind::Quarter,
        period_start: LocalDate::from_ymd(2026, 1, 1)
            .unwrap_or(LocalDate::from_naive(chrono::NaiveDate::MIN)),
        subject: TargetSubject::Rep,
        subject_id: rep,
        metric: TargetMetric::WonAmount,
        amount,
    }
}

/// The tenant's process configuration.
pub fn process_config() -> ProcessConfig {
    let mut header = Header::unowned(None, morning());
    header.id = ProcessConfig::id_for("test-tenant");
    ProcessConfig {
        header,
        revision: 1,
        process: crate::process::SalesProcess::standard(),
    }
}

/// One record of every kind, related to each other as in real life.
pub fn one_of_each(rep: RecordId) -> Vec<AnyRecord> {
    let hq = org_unit("总部", OrgLevel::Hq, None);
    let region = org_unit("华东大区", OrgLevel::Region, Some(hq.header.id));
    let profile = user("张伟", region.header.id, "sales_rep");
    let c = customer(rep, "华为技术有限公司");
    let p = product("CRM-STD", "CRM 标准版", yuan(20_000));
    let o = order(rep, c.header.id, &p, 3);
    // A contact's e-mail in its companion, written on its own (the contact's own creation
    // writes its companions too).
    let other = contact(rep, c.header.id, "王芳");
    let email = private::PrivateField::new(
        SensitiveField::ContactEmail,
        &other.header,
        private::Value {
            text: Some("wang@example.com".into()),
            amount: None,
        },
    );
    vec![
        hq.into(),
        region.into(),
        profile.into(),
        role("sales_rep", DataScope::Own).into(),
        contact(rep, c.header.id, "李娜").into(),
        follow_up(rep, c.header.id, "电话沟通需求").into(),
        lead(rep, "深圳某科技公司").into(),
        opportunity(rep, c.header.id, "华为 CRM 项目", yuan(800_000)).into(),
        visit(rep, c.header.id).into(),
        visit_plan(rep, &[c.header.id]).into(),
        daily_report(rep).into(),
        task(rep, rep, "准备报价单").into(),
        approval(rep, o.header.id, yuan(57_000)).into(),
        o.into(),
        p.into(),
        target(rep, yuan(1_000_000)).into(),
        process_config().into(),
        c.into(),
        email.into(),
    ]
}

/// A mutation fuzzer for decoders of outside input: each case takes a seed from a corpus and
/// flips, inserts, deletes, repeats or splices bytes, or cuts it short, with a seeded random
/// source so a failing case is reproduced from its number.
pub mod fuzz {
    /// How many cases a fuzz test runs: `FUZZ_CASES` from the environment, else `default`.
    pub fn cases(default: u64) -> u64 {
        std::env::var("FUZZ_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }

    /// The input of case `case` over `corpus` (reproducible: the same case, the same bytes).
    pub fn input(corpus: &[Vec<u8>], case: u64) -> Vec<u8> {
        let mut rng = fastrand::Rng::with_seed(case.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xF5);
        if corpus.is_empty() || rng.u8(..) < 8 {
            let len = rng.usize(..512);
            return (0..len).map(|_| rng.u8(..)).collect();
        }
        let mut bytes = corpus[rng.usize(..corpus.len())].clone();
        for _ in 0..rng.usize(1..8) {
            mutate(&mut bytes, corpus, &mut rng);
        }
        bytes
    }

    fn mutate(bytes: &mut Vec<u8>, corpus: &[Vec<u8>], rng: &mut fastrand::Rng) {
        let at = |rng: &mut fastrand::Rng, len: usize| if len == 0 { 0 } else { rng.usize(..len) };
        match rng.u8(..8) {
            0 if !bytes.is_empty() => {
                let i = at(rng, bytes.len());
                bytes[i] ^= 1 << rng.u8(..8);
            }
            1 => {
                let i = at(rng, bytes.len() + 1).min(bytes.len());
                let interesting = [0u8, 0xff, 0x7f, 0x80, b'"', b'[', b'=', b'\n', 0x1f, 0x8b];
                bytes.insert(i, interesting[rng.usize(..interesting.len())]);
            }
            2 if !bytes.is_empty() => {
                let i = at(rng, bytes.len());
                let n = rng.usize(1..=16).min(bytes.len() - i);
                bytes.drain(i..i + n);
            }
            3 if !bytes.is_empty() => {
                let i = at(rng, bytes.len());
                let n = rng.usize(1..=32).min(bytes.len() - i);
                let piece: Vec<u8> = bytes[i..i + n].to_vec();
                let times = rng.usize(1..64);
                for _ in 0..times {
                    bytes.splice(i..i, piece.iter().copied());
                }
            }
            4 if !bytes.is_empty() => {
                let cut = at(rng, bytes.len());
                bytes.truncate(cut);
            }
            5 if !corpus.is_empty() => {
                let other = &corpus[rng.usize(..corpus.len())];
                if !other.is_empty() {
                    let from = at(rng, other.len());
                    let n = rng.usize(1..=64).min(other.len() - from);
                    let i = at(rng, bytes.len() + 1).min(bytes.len());
                    bytes.splice(i..i, other[from..from + n].iter().copied());
                }
            }
            6 if !bytes.is_empty() => {
                let i = at(rng, bytes.len());
                bytes[i] = rng.u8(..);
            }
            _ => {
                let i = at(rng, bytes.len() + 1).min(bytes.len());
                let digits = [
                    "-1",
                    "0",
                    "4294967296",
                    "9999999999999999999",
                    "1e308",
                    "NaN",
                ];
                bytes.splice(i..i, digits[rng.usize(..digits.len())].bytes());
            }
        }
    }
}

/// A time later today in `zone` than `now`: an hour on, or halfway to midnight when less than
/// an hour of the day is left — a test of "later today" that runs at any hour.
pub fn later_today(now: crate::Timestamp, zone: &crate::Zone) -> crate::Timestamp {
    let midnight = now.local_date(zone).succ().start(zone);
    now.plus_millis(3_600_000.min(midnight.millis_since(now) / 2))
}

#[cfg(test)]
mod later_today_tests {
    use super::later_today;
    use crate::{Timestamp, Zone};

    #[test]
    fn later_today_stays_on_the_same_local_day_at_any_hour() {
        let zone = Zone::SHANGHAI;
        let start = Timestamp::parse_rfc3339("2026-12-05T00:00:00+08:00").unwrap();
        for minute in (0..24 * 60).step_by(7) {
            let now = start.plus_millis(minute * 60_000);
            let later = later_today(now, &zone);
            assert!(later > now, "{minute}");
            assert_eq!(later.local_date(&zone), now.local_date(&zone), "{minute}");
        }
    }
}
