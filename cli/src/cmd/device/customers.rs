//! `fieldsales device ... customer`: customers on the simulated phone. Lists are tables;
//! `show` prints the whole customer: every field, the owner and collaborators by name, the
//! contacts and the deals.

use std::path::Path;

use fieldsales_cli::ExitKind;
use fieldsales_core::engine::Engine;
use fieldsales_core::record::{
    Contact, Customer, Header, Kind, Opportunity, SensitiveField, UserProfile,
};
use fieldsales_core::store::{ListFilter, StoreRead};
use fieldsales_core::{GeoPoint, Money, RecordId, Timestamp};
use serde::Serialize;

use super::{CustomerCommand, engine_failure, resume};
use crate::CommandResult;
use crate::output::text::{Table, local_time, money, or_dash};
use crate::output::{Failure, Output};

/// A customer in a list.
#[derive(Serialize)]
struct CustomerRow {
    id: RecordId,
    legal_name: String,
    address: Option<String>,
    tier: Option<String>,
    industry: Option<String>,
    tags: Vec<String>,
    owner_id: Option<RecordId>,
}

impl From<&Customer> for CustomerRow {
    fn from(c: &Customer) -> Self {
        CustomerRow {
            id: c.header.id,
            legal_name: c.legal_name.clone(),
            address: c.address.clone(),
            tier: c.tier.clone(),
            industry: c.industry.clone(),
            tags: c.tags.iter().cloned().collect(),
            owner_id: c.header.owner_id,
        }
    }
}

#[derive(Serialize)]
struct CustomerList {
    customers: Vec<CustomerRow>,
}

fn print_list(out: &Output, customers: &[Customer]) {
    let list = CustomerList {
        customers: customers.iter().map(CustomerRow::from).collect(),
    };
    out.result(&list, |w| {
        if list.customers.is_empty() {
            return writeln!(w, "no customers");
        }
        let mut table = Table::new(&["customer", "tier", "industry", "address", "tags", "id"])
            .left(&[1, 2, 3, 4, 5]);
        for c in &list.customers {
            table.row(vec![
                c.legal_name.clone(),
                or_dash(c.tier.as_deref()),
                or_dash(c.industry.as_deref()),
                or_dash(c.address.as_deref()),
                c.tags.join(", "),
                c.id.to_string(),
            ]);
        }
        table.write(w)
    });
}

/// Someone named on a record: their profile id and name (`None` when this phone does not
/// hold their profile).
#[derive(Serialize)]
struct Person {
    id: RecordId,
    name: Option<String>,
}

impl Person {
    fn of(engine: &Engine, id: RecordId) -> Person {
        Person {
            id,
            name: engine.store().get::<UserProfile>(id).ok().map(|p| p.name),
        }
    }

    fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.id.to_string())
    }
}

#[derive(Serialize)]
struct ContactView {
    id: RecordId,
    name: String,
    title: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    decision_role: String,
    /// The fields the user's roles hide (`phone`, `email`): shown as hidden, not empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hidden: Vec<&'static str>,
}

#[derive(Serialize)]
struct DealView {
    id: RecordId,
    name: String,
    stage: String,
    amount: Money,
}

#[derive(Serialize)]
struct ProposalView {
    point: GeoPoint,
    accuracy_m: f64,
    proposed_by: Person,
    proposed_at: Timestamp,
    status: String,
}

#[derive(Serialize)]
struct OwnershipView {
    rule: String,
    winner: Person,
    decided_at: Timestamp,
}

/// The whole customer, as `customer show` prints it.
#[derive(Serialize)]
struct CustomerView {
    id: RecordId,
    legal_name: String,
    registered_name_verified: bool,
    short_name: Option<String>,
    english_name: Option<String>,
    customer_type: Option<String>,
    industry: Option<String>,
    scale: Option<String>,
    tier: Option<String>,
    source: Option<String>,
    address: Option<String>,
    location: Option<GeoPoint>,
    location_proposal: Option<ProposalView>,
    owner: Option<Person>,
    collaborators: Vec<Person>,
    created_at: Timestamp,
    created_by: Option<Person>,
    tags: Vec<String>,
    custom_fields: std::collections::BTreeMap<String, String>,
    ownership: Option<OwnershipView>,
    notes: String,
    contacts: Vec<ContactView>,
    opportunities: Vec<DealView>,
}

fn related<T: fieldsales_core::record::Record>(
    engine: &Engine,
    kind: Kind,
    customer: RecordId,
) -> Result<Vec<T>, Failure> {
    let rows = engine
        .store()
        .list(&ListFilter {
            kind: Some(kind),
            customer: Some(customer),
            limit: Some(10_000),
            ..ListFilter::default()
        })
        .map_err(engine_failure)?;
    rows.into_iter()
        .map(|row| engine.store().get::<T>(row.id).map_err(engine_failure))
        .collect()
}

fn view(engine: &Engine, c: &Customer) -> Result<CustomerView, Failure> {
    let contacts = related::<Contact>(engine, Kind::Contact, c.header.id)?
        .into_iter()
        .filter(|k| k.header.deleted.is_none())
        .map(|k| ContactView {
            id: k.header.id,
            name: k.name,
            title: k.title,
            phone: k.phone,
            email: k.email,
            decision_role: k.decision_role.to_string(),
            hidden: SensitiveField::of_kind(Kind::Contact)
                .filter(|f| engine.me().hidden.hides(*f))
                .map(SensitiveField::field)
                .collect(),
        })
        .collect();
    let opportunities = related::<Opportunity>(engine, Kind::Opportunity, c.header.id)?
        .into_iter()
        .filter(|o| o.header.deleted.is_none())
        .map(|o| DealView {
            id: o.header.id,
            name: o.name,
            stage: o.stage,
            amount: o.amount,
        })
        .collect();
    Ok(CustomerView {
        id: c.header.id,
        legal_name: c.legal_name.clone(),
        registered_name_verified: c.registered_name_verified,
        short_name: c.short_name.clone(),
        english_name: c.english_name.clone(),
        customer_type: c.customer_type.clone(),
        industry: c.industry.clone(),
        scale: c.scale.clone(),
        tier: c.tier.clone(),
        source: c.source.clone(),
        address: c.address.clone(),
        location: c.location,
        location_proposal: c.location_proposal.as_ref().map(|p| ProposalView {
            point: p.point,
            accuracy_m: p.accuracy_m,
            proposed_by: Person::of(engine, p.proposed_by),
            proposed_at: p.proposed_at,
            status: p.status.to_string(),
        }),
        owner: c.header.owner_id.map(|id| Person::of(engine, id)),
        collaborators: c
            .header
            .shared_with
            .iter()
            .map(|id| Person::of(engine, *id))
            .collect(),
        created_at: c.header.created_at,
        created_by: c.header.created_by.map(|id| Person::of(engine, id)),
        tags: c.tags.iter().cloned().collect(),
        custom_fields: c.custom_fields.clone(),
        ownership: c.ownership.as_ref().map(|o| OwnershipView {
            rule: o.rule.clone(),
            winner: Person::of(engine, o.winner_id),
            decided_at: o.decided_at,
        }),
        notes: c.notes.as_str().to_owned(),
        contacts,
        opportunities,
    })
}

fn place(p: GeoPoint) -> String {
    format!("{:.5}, {:.5}", p.lat, p.lon)
}

fn print_whole(out: &Output, engine: &Engine, c: &Customer) -> Result<(), Failure> {
    let v = view(engine, c)?;
    let zone = engine.me().zone.clone();
    let process = engine.process().map_err(engine_failure)?;
    let stage_name = |key: &str| {
        process
            .stages
            .iter()
            .find(|s| s.key == key)
            .map_or_else(|| key.to_owned(), |s| s.name.clone())
    };
    out.result(&v, |w| {
        writeln!(w, "{}", v.legal_name)?;
        let field = |w: &mut dyn std::io::Write, label: &str, value: String| {
            writeln!(w, "  {label:<14} {value}")
        };
        field(
            w,
            "registered",
            if v.registered_name_verified {
                "checked against the business registry".into()
            } else {
                "not checked".into()
            },
        )?;
        for (label, value) in [
            ("short name", &v.short_name),
            ("English name", &v.english_name),
            ("type", &v.customer_type),
            ("industry", &v.industry),
            ("scale", &v.scale),
            ("tier", &v.tier),
            ("source", &v.source),
            ("address", &v.address),
        ] {
            field(w, label, or_dash(value.as_deref()))?;
        }
        field(w, "location", or_dash(v.location.map(place)))?;
        if let Some(p) = &v.location_proposal {
            field(
                w,
                "proposed at",
                format!(
                    "{} (±{:.0} m) by {} on {}: {}",
                    place(p.point),
                    p.accuracy_m,
                    p.proposed_by.label(),
                    local_time(p.proposed_at, &zone),
                    p.status
                ),
            )?;
        }
        field(w, "owner", or_dash(v.owner.as_ref().map(Person::label)))?;
        field(
            w,
            "collaborators",
            if v.collaborators.is_empty() {
                "-".into()
            } else {
                v.collaborators
                    .iter()
                    .map(Person::label)
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        )?;
        field(
            w,
            "created",
            format!(
                "{}{}",
                local_time(v.created_at, &zone),
                v.created_by
                    .as_ref()
                    .map(|p| format!(" by {}", p.label()))
                    .unwrap_or_default()
            ),
        )?;
        field(
            w,
            "tags",
            if v.tags.is_empty() {
                "-".into()
            } else {
                v.tags.join(", ")
            },
        )?;
        for (key, value) in &v.custom_fields {
            field(w, key, value.clone())?;
        }
        if let Some(o) = &v.ownership {
            field(
                w,
                "ownership",
                format!(
                    "{} won by rule {} on {}",
                    o.winner.label(),
                    o.rule,
                    local_time(o.decided_at, &zone)
                ),
            )?;
        }
        if !v.notes.trim().is_empty() {
            field(
                w,
                "notes",
                v.notes.trim().replace('\n', "\n                 "),
            )?;
        }
        field(w, "id", v.id.to_string())?;
        writeln!(w)?;
        if v.contacts.is_empty() {
            writeln!(w, "  no contacts")?;
        } else {
            let mut contacts =
                Table::new(&["contact", "title", "role", "phone", "e-mail"]).left(&[1, 2, 3, 4]);
            for k in &v.contacts {
                contacts.row(vec![
                    k.name.clone(),
                    or_dash(k.title.as_deref()),
                    k.decision_role.replace('_', " "),
                    shown(k, "phone", k.phone.as_deref()),
                    shown(k, "email", k.email.as_deref()),
                ]);
            }
            contacts.indent(2).write(w)?;
        }
        if v.opportunities.is_empty() {
            writeln!(w, "  no deals")
        } else {
            let mut deals = Table::new(&["deal", "stage", "amount"]).left(&[1]);
            for d in &v.opportunities {
                deals.row(vec![d.name.clone(), stage_name(&d.stage), money(d.amount)]);
            }
            deals.indent(2).write(w)
        }
    });
    Ok(())
}

/// A contact's field as the table shows it: "hidden" when the user's roles hide it.
fn shown(contact: &ContactView, field: &str, value: Option<&str>) -> String {
    if contact.hidden.contains(&field) {
        "hidden".to_string()
    } else {
        or_dash(value)
    }
}

/// Runs a customer command on the phone at `path`.
pub fn run(path: &Path, command: CustomerCommand, out: &Output) -> CommandResult {
    let mut engine = resume(path)?;
    match command {
        CustomerCommand::Add {
            name,
            address,
            tier,
            lat,
            lon,
        } => {
            let me = engine.me().user_id;
            let mut c = Customer::new(Header::new(me, engine.now()), name);
            c.address = address;
            c.tier = tier;
            if let (Some(lat), Some(lon)) = (lat, lon) {
                c.location = Some(GeoPoint::new(lat, lon).map_err(|e| {
                    Failure::new(ExitKind::Usage, "bad_position", anyhow::anyhow!("{e}"))
                })?);
            }
            let (created, near) = engine.create_customer(c).map_err(engine_failure)?;
            #[derive(Serialize)]
            struct Added {
                id: RecordId,
                near_duplicates: usize,
            }
            out.result(
                &Added {
                    id: created.header.id,
                    near_duplicates: near.len(),
                },
                |w| {
                    writeln!(
                        w,
                        "customer {} created (id {}){}",
                        created.legal_name,
                        created.header.id,
                        if near.is_empty() {
                            String::new()
                        } else {
                            format!("; {} similar name(s) exist already", near.len())
                        }
                    )
                },
            );
        }
        CustomerCommand::List => {
            let customers = engine.visible_customers().map_err(engine_failure)?;
            print_list(out, &customers);
        }
        CustomerCommand::Search { text } => {
            let hits = engine
                .search_visible(&text, &[Kind::Customer], 50)
                .map_err(engine_failure)?;
            let mut customers = Vec::new();
            for hit in hits {
                customers.push(engine.customer(hit.id).map_err(engine_failure)?);
            }
            print_list(out, &customers);
        }
        CustomerCommand::Show { id } => {
            let c = engine.customer(id).map_err(engine_failure)?;
            print_whole(out, &engine, &c)?;
        }
        CustomerCommand::Edit {
            id,
            address,
            tier,
            industry,
            tag,
        } => {
            if address.is_none() && tier.is_none() && industry.is_none() && tag.is_none() {
                return Err(Failure::new(
                    ExitKind::Usage,
                    "nothing_to_change",
                    anyhow::anyhow!("give at least one of --address, --tier, --industry, --tag"),
                ));
            }
            let c = engine
                .update_customer(id, |c| {
                    if address.is_some() {
                        c.address = address;
                    }
                    if tier.is_some() {
                        c.tier = tier;
                    }
                    if industry.is_some() {
                        c.industry = industry;
                    }
                    if let Some(tag) = tag {
                        c.tags.insert(tag);
                    }
                })
                .map_err(engine_failure)?;
            print_whole(out, &engine, &c)?;
        }
        CustomerCommand::Share { id, with } => {
            let c = engine.share_customer(id, with).map_err(engine_failure)?;
            print_whole(out, &engine, &c)?;
        }
    }
    Ok(ExitKind::Ok)
}
