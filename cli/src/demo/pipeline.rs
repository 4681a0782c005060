//! The demo's deals: a pipeline each rep carries into the day, and the stage moves they make
//! on it, all through the engine's stage rules so the phone refuses what the server would.
//!
//! Stage fields are filled from the process configuration's forms rather than from a list
//! of known keys, so the demo keeps working when an admin adds a required field.

use fieldsales_core::engine::{Engine, NewOpportunity, StageMoveResult};
use fieldsales_core::process::{FieldType, FieldValue, FieldValues, SalesProcess};
use fieldsales_core::record::opportunity::OpportunityProduct;
use fieldsales_core::{Error, LocalDate, Money, RecordId};

use super::DemoError;

/// A deal on a rep's phone, as the simulation last left it.
#[derive(Debug, Clone)]
pub(super) struct Deal {
    /// The opportunity.
    pub id: RecordId,
    /// Its name.
    pub name: String,
    /// The stage it is in.
    pub stage: String,
    /// Its amount.
    pub amount: Money,
    /// The customer's name, for filling forms.
    pub customer: String,
}

/// What a move attempt came to.
pub(super) enum Moved {
    /// The deal is in the new stage.
    Done,
    /// The stage asks for an approval first; the request is made and the deal stays.
    AwaitingApproval,
    /// The phone refused the move: the rule's code and what the rep was told.
    Refused { rule: String, detail: String },
}

/// The values a stage's required fields ask for, made up for a deal of `amount` at
/// `customer` on `on`.
pub(super) fn fill(
    process: &SalesProcess,
    stage: &str,
    amount: Money,
    customer: &str,
    on: LocalDate,
) -> FieldValues {
    let Some(rule) = process.stages.iter().find(|s| s.key == stage) else {
        return FieldValues::new();
    };
    rule.fields
        .iter()
        .filter(|f| f.required)
        .map(|f| {
            let value = match f.kind {
                FieldType::Text => FieldValue::Text(format!("{customer}：{}", f.label)),
                FieldType::Number => FieldValue::Number(1),
                FieldType::Money => FieldValue::Money(amount),
                FieldType::Date => FieldValue::Date(later(on, 30)),
                FieldType::Attachment => {
                    FieldValue::Attachments(vec![format!("{}-{customer}.pdf", f.label)])
                }
                FieldType::List => FieldValue::List(vec![customer.to_owned()]),
                FieldType::Flag => FieldValue::Flag(true),
                FieldType::Other(_) => FieldValue::Text(f.label.clone()),
            };
            (f.key.clone(), value)
        })
        .collect()
}

fn later(on: LocalDate, days: usize) -> LocalDate {
    (0..days).fold(on, |d, _| d.succ())
}

/// Opens a deal about `products` (product, quantity, list price) in the opening stage; its
/// amount is the products' list value.
pub(super) fn open(
    engine: &mut Engine,
    login: &str,
    customer: (RecordId, &str),
    name: &str,
    products: &[(RecordId, i64, Money)],
    on: LocalDate,
) -> Result<Deal, DemoError> {
    let engine_error = super::engine_error(login, "open a deal");
    let process = engine.process().map_err(&engine_error)?;
    let currency = products
        .first()
        .map_or(fieldsales_core::Currency::CNY, |p| p.2.currency);
    let minor = products
        .iter()
        .map(|&(_, quantity, price)| price.minor.saturating_mul(quantity))
        .fold(0i64, i64::saturating_add);
    let amount = Money::new(minor, currency);
    let opening = fieldsales_core::process::stage::opening_stage(&process.stages)
        .map(|s| s.key.clone())
        .unwrap_or_default();
    let created = engine
        .create_opportunity(NewOpportunity {
            customer_id: customer.0,
            name: name.to_owned(),
            amount,
            expected_close: Some(later(on, 60)),
            fields: fill(&process, &opening, amount, customer.1, on),
        })
        .map_err(&engine_error)?;
    engine
        .set_opportunity_products(
            created.header.id,
            products
                .iter()
                .map(|&(product_id, quantity, _)| OpportunityProduct {
                    product_id,
                    quantity,
                })
                .collect(),
        )
        .map_err(&engine_error)?;
    Ok(Deal {
        id: created.header.id,
        name: created.name,
        stage: created.stage,
        amount,
        customer: customer.1.to_owned(),
    })
}

/// Moves `deal` to `to` on `on`. When `prepared`, the target stage's form is filled first,
/// as a rep would before pressing the button; otherwise the move goes as it is. A refusal by
/// the stage rules is an answer, not a failure.
pub(super) fn move_to(
    engine: &mut Engine,
    login: &str,
    deal: &mut Deal,
    to: &str,
    reason: Option<&str>,
    prepared: bool,
    on: LocalDate,
) -> Result<Moved, DemoError> {
    let engine_error = super::engine_error(login, "move a deal");
    if prepared {
        let process = engine.process().map_err(&engine_error)?;
        let values = fill(&process, to, deal.amount, &deal.customer, on);
        if !values.is_empty() {
            engine
                .set_opportunity_fields(deal.id, values)
                .map_err(&engine_error)?;
        }
    }
    match engine.move_opportunity(deal.id, to, reason) {
        Ok(StageMoveResult::Moved(o)) => {
            deal.stage = o.stage;
            Ok(Moved::Done)
        }
        Ok(StageMoveResult::AwaitingApproval(_)) => Ok(Moved::AwaitingApproval),
        Err(Error::StageMove(refused)) => Ok(Moved::Refused {
            rule: fieldsales_core::authority::opportunity::refusal_code(&refused).to_string(),
            detail: refused.to_string(),
        }),
        Err(Error::RuleViolated { rule, detail }) => Ok(Moved::Refused {
            rule: rule.to_string(),
            detail,
        }),
        Err(e) => Err(engine_error(e)),
    }
}
