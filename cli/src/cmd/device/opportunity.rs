//! `fieldsales device ... opportunity`: deals on the simulated phone, moved through the
//! tenant's stages by the same engine call the apps make, so a move the stage rules refuse
//! offline is refused here too (exit code 3, the rule's code in the message and the JSON).
//!
//! Stage-field values come as `--field key=value`; the process configuration says what type
//! each key holds, so `budget=120000` is an amount and `latest_bid_date=2026-03-01` a day
//! without the script spelling out types.

use std::path::Path;

use clap::Subcommand;
use fieldsales_cli::ExitKind;
use fieldsales_core::engine::{Engine, NewOpportunity, StageMoveResult};
use fieldsales_core::process::text::parse_money;
use fieldsales_core::process::{FieldType, FieldValue, FieldValues, SalesProcess, StageOutcome};
use fieldsales_core::record::opportunity::OpportunityProduct;
use fieldsales_core::record::{Kind, Opportunity, UserProfile};
use fieldsales_core::store::ListFilter;
use fieldsales_core::store::StoreRead;
use fieldsales_core::{Currency, LocalDate, Money, RecordId};
use serde_json::{Value, json};

use super::{engine_failure, resume};
use crate::CommandResult;
use crate::output::text::{Table, local_time, money, or_dash};
use crate::output::{Failure, Output};

#[derive(Debug, Subcommand)]
pub enum OpportunityCommand {
    /// Open a deal in the process's opening stage, owned by the signed-in user.
    Create {
        /// The customer.
        #[arg(long)]
        customer: RecordId,
        /// The deal's name (unique within the customer).
        #[arg(long)]
        name: String,
        /// The expected amount (`120000`, `1,200.50`, `¥98000`); with no products, required.
        #[arg(long)]
        amount: Option<String>,
        /// The currency of the amount.
        #[arg(long, default_value = "CNY")]
        currency: String,
        /// The expected close date (YYYY-MM-DD).
        #[arg(long)]
        expected_close: Option<LocalDate>,
        /// A product the deal is about, `CODE:QUANTITY` (repeatable); without `--amount`
        /// the amount is the products' list value.
        #[arg(long = "product", value_name = "CODE:QUANTITY")]
        products: Vec<String>,
        /// A stage-field value, `key=value` (repeatable).
        #[arg(long = "field", value_name = "KEY=VALUE")]
        fields: Vec<String>,
    },
    /// The deals this device can see.
    List {
        /// Only this customer's.
        #[arg(long)]
        customer: Option<RecordId>,
        /// Only those in this stage.
        #[arg(long)]
        stage: Option<String>,
    },
    /// One deal with its stage history.
    Show {
        /// The deal.
        id: RecordId,
    },
    /// The process's stages, in order, with what each asks for.
    Stages,
    /// Fill stage-field values without moving.
    Fields {
        /// The deal.
        id: RecordId,
        /// A value, `key=value` (repeatable).
        #[arg(long = "field", value_name = "KEY=VALUE", required = true)]
        fields: Vec<String>,
    },
    /// Move a deal to the next stage, back to an earlier one (with a reason) or to an
    /// outcome (with a reason).
    Move {
        /// The deal.
        id: RecordId,
        /// The stage key.
        #[arg(long)]
        to: String,
        /// Why (moving back or closing).
        #[arg(long)]
        reason: Option<String>,
        /// Values filled before the move, `key=value` (repeatable).
        #[arg(long = "field", value_name = "KEY=VALUE")]
        fields: Vec<String>,
    },
    /// Close a deal as won (from the last open stage).
    Win {
        /// The deal.
        id: RecordId,
        /// Why it was won.
        #[arg(long)]
        reason: Option<String>,
        /// Values the won stage asks for, `key=value` (repeatable).
        #[arg(long = "field", value_name = "KEY=VALUE")]
        fields: Vec<String>,
    },
    /// Close a deal as lost (from any open stage).
    Lose {
        /// The deal.
        id: RecordId,
        /// Why it was lost.
        #[arg(long)]
        reason: Option<String>,
    },
}

fn usage(code: &'static str, message: String) -> Failure {
    Failure::new(ExitKind::Usage, code, anyhow::anyhow!(message))
}

/// Reads `key=value` pairs by the type the process gives each key.
fn field_values(process: &SalesProcess, pairs: &[String]) -> Result<FieldValues, Failure> {
    let mut values = FieldValues::new();
    for pair in pairs {
        let Some((key, text)) = pair.split_once('=') else {
            return Err(usage(
                "bad_field",
                format!("--field {pair}: expected key=value"),
            ));
        };
        let key = key.trim();
        let kind = process
            .stages
            .iter()
            .flat_map(|s| {
                s.fields
                    .iter()
                    .chain(s.steps.iter().flat_map(|t| &t.fields))
            })
            .find(|f| f.key == key)
            .map(|f| f.kind.clone())
            .ok_or_else(|| {
                usage(
                    "unknown_field",
                    format!(
                        "--field {key}: no stage of the process asks for `{key}` \
                         (see `opportunity stages`)"
                    ),
                )
            })?;
        let bad = |expected: &str| {
            usage(
                "bad_field",
                format!("--field {key}: `{text}` is not {expected}"),
            )
        };
        let list = || {
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        let value = match kind {
            FieldType::Number => {
                FieldValue::Number(text.trim().parse().map_err(|_| bad("a whole number"))?)
            }
            FieldType::Money => FieldValue::Money(
                amount(text, Currency::CNY).map_err(|_| bad("an amount such as 120000.00"))?,
            ),
            FieldType::Date => {
                FieldValue::Date(text.trim().parse().map_err(|_| bad("a day (YYYY-MM-DD)"))?)
            }
            FieldType::Attachment => FieldValue::Attachments(list()),
            FieldType::List => FieldValue::List(list()),
            FieldType::Flag => FieldValue::Flag(match text.trim() {
                "true" | "yes" | "1" => true,
                "false" | "no" | "0" => false,
                _ => return Err(bad("true or false")),
            }),
            FieldType::Text | FieldType::Other(_) => FieldValue::Text(text.to_owned()),
        };
        values.insert(key.to_owned(), value);
    }
    Ok(values)
}

/// An amount as people type it: `120000`, `1,200.50`, `¥98000`, `98000 CNY`.
fn amount(text: &str, currency: Currency) -> Result<Money, ()> {
    let trimmed = text
        .trim()
        .trim_start_matches(['¥', '￥', '$'])
        .replace(',', "");
    let with_code = if trimmed.split_whitespace().count() == 1 {
        format!("{trimmed} {currency}")
    } else {
        trimmed
    };
    parse_money(&with_code).map_err(|_| ())
}

fn view(o: &Opportunity, process: &SalesProcess) -> Value {
    let stage_name = process
        .stages
        .iter()
        .find(|s| s.key == o.stage)
        .map_or(o.stage.as_str(), |s| s.name.as_str());
    json!({
        "id": o.header.id,
        "customer_id": o.customer_id,
        "owner_id": o.header.owner_id,
        "name": o.name,
        "amount": o.amount,
        "expected_close": o.expected_close,
        "stage": o.stage,
        "stage_name": stage_name,
        "outcome": o.outcome.as_ref().map(|x| json!({
            "kind": x.kind.as_str(), "reason": x.reason, "at": x.at,
        })),
        "products": o.products.iter().map(|p| json!({
            "product_id": p.product_id, "quantity": p.quantity,
        })).collect::<Vec<_>>(),
        "fields": o.fields,
        "history": o.stage_history,
    })
}

fn stage_name<'a>(process: &'a SalesProcess, key: &'a str) -> &'a str {
    process
        .stages
        .iter()
        .find(|s| s.key == key)
        .map_or(key, |s| s.name.as_str())
}

/// A stage-field value as people read it.
fn field_text(value: &FieldValue) -> String {
    match value {
        FieldValue::Text(s) => s.clone(),
        FieldValue::Number(n) => n.to_string(),
        FieldValue::Money(m) => money(*m),
        FieldValue::Date(d) => d.to_string(),
        FieldValue::Attachments(items) | FieldValue::List(items) => items.join(", "),
        FieldValue::Flag(true) => "yes".into(),
        FieldValue::Flag(false) => "no".into(),
    }
}

/// One deal in one line: name, stage, amount, outcome.
fn line(
    w: &mut dyn std::io::Write,
    o: &Opportunity,
    process: &SalesProcess,
) -> std::io::Result<()> {
    writeln!(
        w,
        "{}: {}, {}{}",
        o.name,
        stage_name(process, &o.stage),
        money(o.amount),
        o.outcome
            .as_ref()
            .map(|x| format!(", {}", x.kind))
            .unwrap_or_default()
    )
}

/// The whole deal: its customer, owner, amount, dates, stage fields, products and history.
fn whole(
    w: &mut dyn std::io::Write,
    engine: &Engine,
    o: &Opportunity,
    process: &SalesProcess,
) -> std::io::Result<()> {
    let zone = &engine.me().zone;
    let customer = engine
        .customer(o.customer_id)
        .map(|c| c.legal_name)
        .unwrap_or_else(|_| o.customer_id.to_string());
    let person = |id: RecordId| {
        engine
            .store()
            .get::<UserProfile>(id)
            .map(|p| p.name)
            .unwrap_or_else(|_| id.to_string())
    };
    writeln!(w, "{}", o.name)?;
    let field = |w: &mut dyn std::io::Write, label: &str, value: String| {
        writeln!(w, "  {label:<15} {value}")
    };
    field(w, "customer", customer)?;
    field(w, "owner", or_dash(o.header.owner_id.map(person)))?;
    field(
        w,
        "stage",
        format!("{} ({})", stage_name(process, &o.stage), o.stage),
    )?;
    field(w, "amount", money(o.amount))?;
    field(w, "expected close", or_dash(o.expected_close))?;
    if let Some(x) = &o.outcome {
        field(
            w,
            "outcome",
            format!("{} on {}: {}", x.kind, local_time(x.at, zone), x.reason),
        )?;
    }
    for (key, value) in &o.fields {
        field(w, key, field_text(value))?;
    }
    for p in &o.products {
        let name = engine
            .store()
            .get::<fieldsales_core::record::Product>(p.product_id)
            .map(|p| format!("{} {}", p.code, p.name))
            .unwrap_or_else(|_| p.product_id.to_string());
        field(w, "product", format!("{name} × {}", p.quantity))?;
    }
    field(w, "id", o.header.id.to_string())?;
    if o.stage_history.is_empty() {
        return Ok(());
    }
    let mut history = Table::new(&["when", "move", "from", "to", "by", "reason"])
        .left(&[1, 2, 3, 4, 5])
        .indent(2);
    for c in &o.stage_history {
        history.row(vec![
            local_time(c.at, zone),
            c.kind.to_string(),
            c.from
                .as_deref()
                .map_or_else(|| "-".to_owned(), |f| stage_name(process, f).to_owned()),
            stage_name(process, &c.to).to_owned(),
            person(c.by),
            or_dash(c.reason.as_deref()),
        ]);
    }
    history.write(w)
}

fn process(engine: &Engine) -> Result<SalesProcess, Failure> {
    engine.process().map_err(engine_failure)
}

fn outcome_stage(process: &SalesProcess, outcome: StageOutcome) -> Result<String, Failure> {
    process
        .stages
        .iter()
        .find(|s| s.outcome.as_ref() == Some(&outcome))
        .map(|s| s.key.clone())
        .ok_or_else(|| {
            Failure::new(
                ExitKind::Refused,
                "rule_violated",
                anyhow::anyhow!("the process has no {outcome} stage"),
            )
        })
}

pub fn run(path: &Path, command: OpportunityCommand, out: &Output) -> CommandResult {
    let mut engine = resume(path)?;
    let process = process(&engine)?;
    match command {
        OpportunityCommand::Create {
            customer,
            name,
            amount: given,
            currency,
            expected_close,
            products,
            fields,
        } => {
            let currency: Currency = currency.parse().map_err(|_| {
                usage(
                    "bad_currency",
                    format!("--currency {currency}: not an ISO 4217 code"),
                )
            })?;
            let mut lines = Vec::new();
            let mut list_value = 0i64;
            for p in &products {
                let (code, quantity) = p.rsplit_once(':').ok_or_else(|| {
                    usage(
                        "bad_product",
                        format!("--product {p}: expected CODE:QUANTITY"),
                    )
                })?;
                let quantity: i64 =
                    quantity
                        .trim()
                        .parse()
                        .ok()
                        .filter(|q| *q > 0)
                        .ok_or_else(|| {
                            usage(
                                "bad_product",
                                format!(
                                    "--product {p}: the quantity must be a whole number above 0"
                                ),
                            )
                        })?;
                let product = engine
                    .product_by_code(code.trim())
                    .map_err(engine_failure)?
                    .ok_or_else(|| {
                        Failure::new(
                            ExitKind::Refused,
                            "unknown_product",
                            anyhow::anyhow!(
                                "--product {p}: no product with code `{code}` on this device"
                            ),
                        )
                    })?;
                list_value =
                    list_value.saturating_add(product.list_price.minor.saturating_mul(quantity));
                lines.push(OpportunityProduct {
                    product_id: product.header.id,
                    quantity,
                });
            }
            let amount = match given {
                Some(text) => amount(&text, currency).map_err(|_| {
                    usage(
                        "bad_amount",
                        format!("--amount {text}: expected an amount such as 120000.00"),
                    )
                })?,
                None if !lines.is_empty() => Money::new(list_value, currency),
                None => {
                    return Err(usage(
                        "missing_amount",
                        "give --amount, or --product lines to take the amount from".into(),
                    ));
                }
            };
            let fields = field_values(&process, &fields)?;
            let created = engine
                .create_opportunity(NewOpportunity {
                    customer_id: customer,
                    name,
                    amount,
                    expected_close,
                    fields,
                })
                .map_err(engine_failure)?;
            let o = if lines.is_empty() {
                created
            } else {
                engine
                    .set_opportunity_products(created.header.id, lines)
                    .map_err(engine_failure)?
            };
            let v = view(&o, &process);
            out.result(&v, |w| line(w, &o, &process));
        }
        OpportunityCommand::List { customer, stage } => {
            let tree = engine.org_tree().map_err(engine_failure)?;
            let rows = engine
                .store()
                .list(&ListFilter {
                    kind: Some(Kind::Opportunity),
                    customer,
                    status: stage,
                    limit: Some(100_000),
                    ..ListFilter::default()
                })
                .map_err(engine_failure)?;
            let mut deals = Vec::new();
            for row in rows {
                let o: Opportunity = engine.store().get(row.id).map_err(engine_failure)?;
                if tree.can_see(engine.me(), &o.header) {
                    deals.push(o);
                }
            }
            let views: Vec<Value> = deals.iter().map(|o| view(o, &process)).collect();
            out.result(&json!({ "opportunities": views }), |w| {
                if deals.is_empty() {
                    return writeln!(w, "no deals");
                }
                let mut table =
                    Table::new(&["deal", "stage", "amount", "expected close", "outcome", "id"])
                        .left(&[1, 3, 4, 5]);
                for o in &deals {
                    table.row(vec![
                        o.name.clone(),
                        stage_name(&process, &o.stage).to_owned(),
                        money(o.amount),
                        or_dash(o.expected_close),
                        or_dash(o.outcome.as_ref().map(|x| x.kind.to_string())),
                        o.header.id.to_string(),
                    ]);
                }
                table.write(w)
            });
        }
        OpportunityCommand::Show { id } => {
            let o = visible(&engine, id)?;
            let v = view(&o, &process);
            out.result(&v, |w| whole(w, &engine, &o, &process));
        }
        OpportunityCommand::Stages => {
            let stages: Vec<Value> = process
                .stages
                .iter()
                .map(|s| {
                    json!({
                        "key": s.key, "name": s.name, "next": s.next,
                        "outcome": s.outcome.as_ref().map(|o| o.as_str()),
                        "lead_stage": s.lead_stage,
                        "win_probability": s.win_probability,
                        "required_fields": s.fields.iter().filter(|f| f.required).map(|f| json!({
                            "key": f.key, "label": f.label, "type": f.kind.as_str(),
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            out.result(&json!({ "stages": stages }), |w| {
                for s in &process.stages {
                    let required: Vec<String> = s
                        .fields
                        .iter()
                        .filter(|f| f.required)
                        .map(|f| format!("{} ({}, {})", f.key, f.label, f.kind))
                        .collect();
                    writeln!(
                        w,
                        "{:<22} {}{}{}",
                        s.key,
                        s.name,
                        s.outcome
                            .as_ref()
                            .map(|o| format!("  [{o}]"))
                            .unwrap_or_default(),
                        if required.is_empty() {
                            String::new()
                        } else {
                            format!("  needs: {}", required.join(", "))
                        }
                    )?;
                }
                Ok(())
            });
        }
        OpportunityCommand::Fields { id, fields } => {
            let values = field_values(&process, &fields)?;
            let o = engine
                .set_opportunity_fields(id, values)
                .map_err(engine_failure)?;
            let v = view(&o, &process);
            out.result(&v, |w| line(w, &o, &process));
        }
        OpportunityCommand::Move {
            id,
            to,
            reason,
            fields,
        } => return move_to(&mut engine, &process, id, &to, reason, &fields, out),
        OpportunityCommand::Win { id, reason, fields } => {
            let to = outcome_stage(&process, StageOutcome::Won)?;
            return move_to(&mut engine, &process, id, &to, reason, &fields, out);
        }
        OpportunityCommand::Lose { id, reason } => {
            let to = outcome_stage(&process, StageOutcome::Lost)?;
            return move_to(&mut engine, &process, id, &to, reason, &[], out);
        }
    }
    Ok(ExitKind::Ok)
}

fn visible(engine: &Engine, id: RecordId) -> Result<Opportunity, Failure> {
    let o: Opportunity = engine.store().get(id).map_err(engine_failure)?;
    if engine.can_see(&o.header).map_err(engine_failure)? {
        Ok(o)
    } else {
        Err(engine_failure(fieldsales_core::Error::not_found(
            Kind::Opportunity,
            id,
        )))
    }
}

fn move_to(
    engine: &mut Engine,
    process: &SalesProcess,
    id: RecordId,
    to: &str,
    reason: Option<String>,
    fields: &[String],
    out: &Output,
) -> CommandResult {
    let values = field_values(process, fields)?;
    visible(engine, id)?;
    if !values.is_empty() {
        engine
            .set_opportunity_fields(id, values)
            .map_err(engine_failure)?;
    }
    match engine
        .move_opportunity(id, to, reason.as_deref())
        .map_err(engine_failure)?
    {
        StageMoveResult::Moved(o) => {
            let v = view(&o, process);
            out.result(&v, |w| line(w, &o, process));
        }
        StageMoveResult::AwaitingApproval(a) => {
            let v = json!({"awaiting_approval": a.header.id, "opportunity_id": id, "to": to});
            out.result(&v, |w| {
                writeln!(
                    w,
                    "entering {to} needs an approval first: approval {} is waiting",
                    a.header.id
                )
            });
        }
    }
    Ok(ExitKind::Ok)
}
