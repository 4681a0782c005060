//! The demo's deals: a pipeline each rep carries into the day, and the stage moves they make
//! on it, all through the engine's stage rules so the phone refuses what the server would.
//!
//! Stage fields are filled from the process configuration's forms rather than from a list
//! of known keys, so the demo keeps working when an admin adds a required field.

use fieldsales_core::engine::{Engine, NewOpportunity, StageMoveResult};
use fieldsales_core::process::stage::ordered_open_stages;
use fieldsales_core::process::{FieldType, FieldValue, FieldValues, SalesProcess, StageOutcome};
use fieldsales_core::record::opportunity::OpportunityProduct;
use fieldsales_core::time::ManualClock;
use fieldsales_core::{Clock, Error, GeoPoint, LocalDate, Money, RecordId};

use super::DemoError;
use super::catalogue::PRODUCTS;
use super::day::{MINUTE_MS, RepDay};
use super::error::engine_error;
use super::report::{RefusedMove, Tally};

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
    let engine_error = engine_error(login, "open a deal");
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
    let engine_error = engine_error(login, "move a deal");
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

/// The deals a rep carries into the day and the moves they make on it.
impl RepDay {
    /// The deals the rep carries into the day: one in each open stage, each moved there
    /// stage by stage with the forms filled, over the days before.
    pub(super) fn seed_pipeline(
        &self,
        engine: &mut Engine,
        login: &str,
        clock: &ManualClock,
        customers: &[(RecordId, GeoPoint)],
        names: &[String],
        tally: &mut Tally,
    ) -> Result<Vec<Deal>, DemoError> {
        let mut rng = fastrand::Rng::with_seed(
            self.seed ^ (self.index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        let mut catalogue = Vec::new();
        for (code, _, _) in PRODUCTS {
            if let Some(p) = engine
                .product_by_code(code)
                .map_err(engine_error(login, "read the catalogue"))?
            {
                catalogue.push((p.header.id, p.list_price));
            }
        }
        let chain = open_chain(engine, login)?;
        let on = clock.now().local_date(&self.zone);
        let mut deals = Vec::new();
        for (k, deal_name) in DEALS.iter().enumerate().take(chain.len()) {
            // The deals sit on the rep's last customers; the day's visits are spread over all.
            let c = customers.len().saturating_sub(DEALS.len()) + k;
            let (Some(&(customer, _)), Some(name)) = (customers.get(c), names.get(c)) else {
                continue;
            };
            let products: Vec<(RecordId, i64, Money)> = catalogue
                .get(k % catalogue.len().max(1))
                .map(|&(id, price)| (id, 5 + rng.i64(0..40), price))
                .into_iter()
                .collect();
            let mut deal = open(engine, login, (customer, name), deal_name, &products, on)?;
            tally.opportunities += 1;
            for to in &chain[1..=k] {
                clock.advance_millis(20 * MINUTE_MS);
                match move_to(engine, login, &mut deal, to, None, true, on)? {
                    Moved::Done => {}
                    // A process whose stage waits for an approver: the deal stays here.
                    Moved::AwaitingApproval => break,
                    Moved::Refused { rule, detail } => {
                        return Err(DemoError::Engine {
                            login: login.to_owned(),
                            step: "build the pipeline",
                            source: fieldsales_core::Error::RuleViolated {
                                rule: fieldsales_core::rule::RuleCode::from_code(&rule),
                                detail,
                            },
                        });
                    }
                }
            }
            deals.push(deal);
        }
        Ok(deals)
    }

    /// The day's work on the pipeline, after the visits: deals move on, one is won or lost,
    /// a new one is opened at the last customer visited, and a rep or two tries a move the
    /// stage rules refuse.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn work_pipeline(
        &self,
        engine: &mut Engine,
        login: &str,
        clock: &ManualClock,
        deals: &mut Vec<Deal>,
        last_visited: (RecordId, &str),
        tally: &mut Tally,
        refused: &mut Vec<RefusedMove>,
    ) -> Result<(), DemoError> {
        let chain = open_chain(engine, login)?;
        let process = engine
            .process()
            .map_err(engine_error(login, "read the process"))?;
        let outcome = |o: StageOutcome| {
            process
                .stages
                .iter()
                .find(|s| s.outcome.as_ref() == Some(&o))
                .map(|s| s.key.clone())
        };
        let (won, lost) = (outcome(StageOutcome::Won), outcome(StageOutcome::Lost));
        clock.set(self.at(16, 0));
        let on = self.date;
        let third = self.index % 3;
        // (deal, target, reason, forms filled first)
        let mut plan: Vec<(usize, Option<String>, Option<&str>, bool)> = vec![
            (0, chain.get(1).cloned(), None, true),
            (1, chain.get(2).cloned(), None, self.index.is_multiple_of(2)),
            (2, chain.get(3).cloned(), None, third != 2),
        ];
        match third {
            0 => plan.push((3, won.clone(), Some("技术评分第一，客户发来中标通知"), true)),
            1 => plan.push((3, lost.clone(), Some("客户选择了报价更低的竞争对手"), true)),
            _ => {}
        }
        for (d, to, reason, prepared) in plan {
            let (Some(deal), Some(to)) = (deals.get_mut(d), to) else {
                continue;
            };
            // A rep who has not filled the next stage's form leaves the deal where it is,
            // except one who presses on and hears why not.
            if !prepared && self.index != MISSING_FIELDS_REP {
                continue;
            }
            clock.advance_millis(7 * MINUTE_MS);
            let from = deal.stage.clone();
            match move_to(engine, login, deal, &to, reason, prepared, on)? {
                Moved::Done => {
                    tally.stage_moves += 1;
                    if Some(&to) == won.as_ref() {
                        tally.won += 1;
                        tally.won_amount_minor += deal.amount.minor;
                    } else if Some(&to) == lost.as_ref() {
                        tally.lost += 1;
                    } else {
                        *tally.entered_by_stage.entry(to.clone()).or_default() += 1;
                    }
                }
                Moved::AwaitingApproval => {}
                Moved::Refused { rule, detail } => {
                    tally.stage_moves_refused += 1;
                    refused.push(RefusedMove {
                        login: login.to_owned(),
                        opportunity: deal.name.clone(),
                        from,
                        to,
                        rule,
                        detail,
                    });
                }
            }
        }

        // A new deal from the last visit of the day.
        clock.advance_millis(7 * MINUTE_MS);
        let catalogue = engine
            .product_by_code(PRODUCTS[3].0)
            .map_err(engine_error(login, "read the catalogue"))?;
        let products: Vec<(RecordId, i64, Money)> = catalogue
            .map(|p| (p.header.id, 1 + (self.index as i64 % 3), p.list_price))
            .into_iter()
            .collect();
        let mut fresh = open(engine, login, last_visited, NEW_DEAL, &products, on)?;
        tally.opportunities += 1;
        *tally
            .entered_by_stage
            .entry(fresh.stage.clone())
            .or_default() += 1;
        // One rep wants the new deal in the last open stage at once: a skip, refused.
        if self.index == SKIPPING_REP
            && let Some(last) = chain.last()
        {
            clock.advance_millis(3 * MINUTE_MS);
            let from = fresh.stage.clone();
            if let Moved::Refused { rule, detail } =
                move_to(engine, login, &mut fresh, last, None, false, on)?
            {
                tally.stage_moves_refused += 1;
                refused.push(RefusedMove {
                    login: login.to_owned(),
                    opportunity: fresh.name.clone(),
                    from,
                    to: last.clone(),
                    rule,
                    detail,
                });
            }
        }
        deals.push(fresh);

        let terminal = |key: &str| {
            process
                .stages
                .iter()
                .any(|s| s.key == key && s.is_terminal())
        };
        for deal in deals.iter().filter(|d| !terminal(&d.stage)) {
            *tally.open_by_stage.entry(deal.stage.clone()).or_default() += 1;
            *tally
                .open_amount_by_stage
                .entry(deal.stage.clone())
                .or_default() += deal.amount.minor;
        }
        Ok(())
    }
}

/// The open stages an opportunity moves along, in order (the lead stage left out).
fn open_chain(engine: &Engine, login: &str) -> Result<Vec<String>, DemoError> {
    let process = engine
        .process()
        .map_err(engine_error(login, "read the process"))?;
    Ok(ordered_open_stages(&process.stages)
        .into_iter()
        .filter(|s| !s.lead_stage)
        .map(|s| s.key.clone())
        .collect())
}

/// The deals a rep carries into the day, the first in the opening stage, each next one a
/// stage further.
const DEALS: [&str; 4] = [
    "产线传感器改造",
    "智能网关升级",
    "控制系统扩容",
    "新厂区自动化项目",
];
/// The deal a rep opens after the day's last visit.
const NEW_DEAL: &str = "年度维保合同";
/// The rep who tries to move a deal on without filling the next stage's form.
const MISSING_FIELDS_REP: usize = 3;
/// The rep who tries to take a new deal straight to the last open stage.
const SKIPPING_REP: usize = 10;
/// How many days before the simulated day the pipeline was opened.
pub(super) const PIPELINE_DAYS_BEFORE: i64 = 3;
