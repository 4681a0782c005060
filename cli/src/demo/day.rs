//! The simulated day: one rep's working day on their phone with no signal, on a manual
//! clock set to that day. They create their customers and carry a pipeline in, plan their
//! visits, check in and out (one outside the fence, one with a mock location, one with a
//! poor fix, by index), log follow-ups, work their deals, add a task, send a discount over
//! their limit for approval and file (or fail to file) their daily report.

use fieldsales_core::engine::follow_ups::NewFollowUp;
use fieldsales_core::engine::reports::ReportSections;
use fieldsales_core::engine::tasks::NewTask;
use fieldsales_core::engine::visits::CheckInRequest;
use fieldsales_core::engine::{ConfirmOutcome, NewOrder, NewOrderLine};
use fieldsales_core::fieldwork::check_in::DevicePosition;
use fieldsales_core::fieldwork::geofence::destination;
use fieldsales_core::record::contact::{Contact, DecisionRole};
use fieldsales_core::record::follow_up::FollowUpMethod;
use fieldsales_core::record::task::TaskKind;
use fieldsales_core::record::visit_plan::PlannedVisit;
use fieldsales_core::record::{Customer, Header, Kind, RecordRef};
use fieldsales_core::time::ManualClock;
use fieldsales_core::{BasisPoints, Clock, GeoPoint, LocalDate, RecordId, Timestamp, Zone};

use super::catalogue::PRODUCTS;
use super::error::engine_error;
use super::org::Person;
use super::pipeline::PIPELINE_DAYS_BEFORE;
use super::report::{RefusedMove, Tally};
use super::{DemoError, data, phones};

/// A rep's manual discount on the orders that need approval (above the default 10% limit).
const BIG_DISCOUNT_PERCENT: u32 = 15;
pub(super) const HOUR_MS: i64 = 3_600_000;
pub(super) const MINUTE_MS: i64 = 60_000;

/// One rep's day: which special cases fall on them is fixed by their index, so the whole
/// org always shows each case once or twice whatever the seed.
pub(super) struct RepDay {
    /// The rep's place among all reps, which fixes their special cases.
    pub index: usize,
    /// How many reps there are.
    pub reps: usize,
    /// The day.
    pub date: LocalDate,
    /// The reps' zone.
    pub zone: Zone,
    /// How many customers the rep creates.
    pub customers: usize,
    /// The number of the rep's first customer in the tenant, for unique names.
    pub first_customer: usize,
    /// The run's seed: the pipeline draws from its own generator derived from it, so adding
    /// deals does not change the visits a seed gives.
    pub seed: u64,
}

#[derive(Clone, Copy, PartialEq)]
enum Stand {
    Inside,
    Outside,
    Mock,
    PoorAccuracy,
}

impl RepDay {
    /// `hour:minute` on the day in the rep's zone (hours may run below 0 or past 24).
    pub(super) fn at(&self, hour: i64, minute: i64) -> Timestamp {
        self.date
            .start(&self.zone)
            .plus_millis(hour * HOUR_MS + minute * MINUTE_MS)
    }

    fn stand(&self, visit: usize) -> Stand {
        match (self.index, visit) {
            (0 | 4 | 8, 1) => Stand::Outside,
            (6, 2) => Stand::Mock,
            (9, 0) => Stand::PoorAccuracy,
            _ => Stand::Inside,
        }
    }

    /// The rep's day on their phone, with no signal: what it did, and the stage moves the
    /// phone refused.
    pub(super) fn simulate(
        &self,
        rep: &Person,
        city: &data::City,
        rng: &mut fastrand::Rng,
    ) -> Result<(Tally, Vec<RefusedMove>), DemoError> {
        // The customers and the pipeline the rep carries into the day date from a few days
        // before it.
        let clock = ManualClock::new(self.at(9 - 24 * PIPELINE_DAYS_BEFORE, 0));
        let mut engine = phones::open(&rep.store, &rep.login, Some(clock.clone()))?;
        let login = rep.login.as_str();
        let mut tally = Tally::default();
        let mut refused = Vec::new();
        let mut names = Vec::new();

        let mut customers = Vec::new();
        for n in 0..self.customers {
            let seed = data::customer(rng, city, self.first_customer + n + 1);
            let mut c = Customer::new(
                Header::new(engine.me().user_id, clock.now()),
                seed.legal_name,
            );
            c.english_name = seed.english_name;
            c.industry = Some(seed.industry.into());
            c.tier = Some(seed.tier.into());
            c.address = Some(seed.address);
            c.location = Some(seed.location);
            c.source = Some("demo".into());
            let (created, _) = engine
                .create_customer(c)
                .map_err(engine_error(login, "create a customer"))?;
            customers.push((created.header.id, seed.location));
            names.push(created.legal_name.clone());
            tally.customers += 1;
            let contact = Contact {
                header: Header::new(engine.me().user_id, clock.now()),
                customer_id: created.header.id,
                name: data::person_name(rng),
                title: Some(["采购经理", "总经理", "技术总监", "设备主管"][rng.usize(..4)].into()),
                phone: Some(format!("+86 13{:09}", rng.u32(..1_000_000_000))),
                email: None,
                decision_role: DecisionRole::DecisionMaker,
            };
            engine
                .add_contact(contact)
                .map_err(engine_error(login, "add a contact"))?;
            tally.contacts += 1;
            clock.advance_millis(1_000);
        }

        let mut deals =
            self.seed_pipeline(&mut engine, login, &clock, &customers, &names, &mut tally)?;
        clock.set(self.at(8, 0));

        // The morning's plan: every visit but the last, which comes up during the day.
        let visits = 4 + rng.usize(..3);
        let day: Vec<(RecordId, GeoPoint)> = (0..visits)
            // Distinct customers: one in each run of four.
            .map(|v| customers[(v * 4 + rng.usize(..4)) % customers.len()])
            .collect();
        let planned: Vec<PlannedVisit> = day[..visits - 1]
            .iter()
            .enumerate()
            .map(|(v, (customer_id, _))| PlannedVisit {
                customer_id: *customer_id,
                planned_at: Some(self.at(9 + (v as i64 * 8) / 5, 0)),
                purpose: Some("拜访".into()),
            })
            .collect();
        tally.planned = planned.len() as u64;
        tally.unplanned = 1;
        let me = engine.me().user_id;
        engine
            .plan_visits(me, self.date, planned)
            .map_err(engine_error(login, "plan the day"))?;
        // Where and when the rep left the last customer: the next check-in comes after the
        // drive (the server judges the journey from the check-out).
        let mut left: Option<(Timestamp, GeoPoint)> = None;
        for (v, &(customer_id, location)) in day.iter().enumerate() {
            let slot = self.at(9 + (v as i64 * 8) / 5, rng.i64(0..20));
            clock.set(left.map_or(slot, |(at, from)| {
                slot.max(at.plus_millis(drive_ms(from, location)))
            }));
            let stand = self.stand(v);
            let position = position(location, stand, clock.now(), rng);
            let checked = engine.check_in(CheckInRequest {
                customer_id,
                position,
                note: String::new(),
                photos: Vec::new(),
            });
            let visit = match checked {
                Ok(c) => c.visit,
                Err(fieldsales_core::Error::RuleViolated { .. }) => {
                    tally.refused += 1;
                    continue;
                }
                Err(e) => return Err(engine_error(login, "check in")(e)),
            };
            tally.check_ins += 1;
            match stand {
                Stand::Inside => tally.inside += 1,
                Stand::Outside => tally.outside += 1,
                Stand::Mock => tally.mock_location += 1,
                Stand::PoorAccuracy => tally.poor_accuracy += 1,
            }
            clock.advance_millis((30 + rng.i64(0..40)) * MINUTE_MS);
            let out = position_near(location, clock.now(), rng);
            engine
                .check_out(visit.header.id, Some(out))
                .map_err(engine_error(login, "check out"))?;
            left = Some((clock.now(), location));
            tally.checked_out += 1;
            clock.advance_millis(5 * MINUTE_MS);
            engine
                .log_follow_up(NewFollowUp {
                    subject: RecordRef {
                        kind: Kind::Customer,
                        id: customer_id,
                    },
                    method: FollowUpMethod::Visit,
                    occurred_at: None,
                    text: FOLLOW_UPS[rng.usize(..FOLLOW_UPS.len())].into(),
                    next_step: Some("下周电话确认报价".into()),
                    visit_id: Some(visit.header.id),
                })
                .map_err(engine_error(login, "log a follow-up"))?;
            tally.follow_ups += 1;
        }

        if let Some(&(last, _)) = day.last() {
            let name = names
                .iter()
                .zip(&customers)
                .find(|(_, (id, _))| *id == last)
                .map_or("", |(n, _)| n.as_str());
            self.work_pipeline(
                &mut engine,
                login,
                &clock,
                &mut deals,
                (last, name),
                &mut tally,
                &mut refused,
            )?;
        }

        // A task for tomorrow morning from the day's last visit.
        let me = engine.me().user_id;
        engine
            .create_task(NewTask {
                assignee: me,
                kind: TaskKind::Task,
                title: "把报价单发给客户".into(),
                description: String::new(),
                due_at: Some(self.date.succ().start(&self.zone).plus_millis(10 * HOUR_MS)),
                start_at: None,
                end_at: None,
                reminder_at: None,
                related: day.last().map(|&(id, _)| RecordRef {
                    kind: Kind::Customer,
                    id,
                }),
            })
            .map_err(engine_error(login, "add a task"))?;
        tally.tasks += 1;

        // Two reps offer a discount over their limit: the order waits for the manager.
        if matches!(self.index, 1 | 5)
            && let Some(&(customer_id, _)) = customers.first()
        {
            clock.set(self.at(16, 30));
            let order = engine
                .create_order(NewOrder {
                    customer_id,
                    opportunity_id: None,
                    number: format!("SO-{}-{:03}", self.date, self.index + 1),
                    lines: vec![NewOrderLine {
                        product_code: PRODUCTS[1].0.into(),
                        quantity: 20,
                        manual_discount: BasisPoints::percent(BIG_DISCOUNT_PERCENT),
                    }],
                    on: self.date,
                })
                .map_err(engine_error(login, "create an order"))?;
            match engine
                .confirm_order(order.header.id)
                .map_err(engine_error(login, "confirm the order"))?
            {
                ConfirmOutcome::AwaitingApproval(_) => tally.approvals_requested += 1,
                ConfirmOutcome::Confirmed(_) => {}
            }
        }

        // The last rep files nothing; two file after the deadline; the rest before it.
        if self.index + 1 == self.reps {
            tally.reports_missing += 1;
            return Ok((tally, refused));
        }
        let late = matches!(self.index, 2 | 7);
        clock.set(if late {
            self.at(21, 10 + rng.i64(0..30))
        } else {
            self.at(17, 20 + rng.i64(0..30))
        });
        let draft = engine
            .report_draft(self.date)
            .map_err(engine_error(login, "draft the report"))?;
        engine
            .edit_report(
                draft.header.id,
                ReportSections {
                    summary: Some(format!("今日拜访{}家客户。", tally.check_ins)),
                    results: Some("两家客户同意试用新品。".into()),
                    problems: Some("一家客户对交期有顾虑。".into()),
                    plan_tomorrow: Some("整理报价，回访重点客户。".into()),
                },
            )
            .map_err(engine_error(login, "write the report"))?;
        engine
            .submit_report(draft.header.id)
            .map_err(engine_error(login, "submit the report"))?;
        if late {
            tally.reports_late += 1;
        } else {
            tally.reports_on_time += 1;
        }
        Ok((tally, refused))
    }
}

/// What a rep writes after a visit.
const FOLLOW_UPS: [&str; 5] = [
    "介绍了新一代产品，客户对价格敏感。",
    "与采购经理确认了下季度需求。",
    "技术交流，客户希望安排样品测试。",
    "拜访老板，讨论年度框架协议。",
    "处理上批货的售后问题，客户满意。",
];

/// Where the phone reports itself when the rep stands as `stand` near `location`.
fn position(
    location: GeoPoint,
    stand: Stand,
    now: Timestamp,
    rng: &mut fastrand::Rng,
) -> DevicePosition {
    let bearing = rng.f64() * 360.0;
    let (distance, accuracy, mock) = match stand {
        Stand::Inside => (20.0 + rng.f64() * 150.0, 5.0 + rng.f64() * 20.0, false),
        Stand::Outside => (1_500.0 + rng.f64() * 1_500.0, 8.0, false),
        Stand::Mock => (10.0, 3.0, true),
        Stand::PoorAccuracy => (150.0, 900.0, false),
    };
    DevicePosition {
        point: destination(location, bearing, distance),
        accuracy_m: accuracy,
        fix_time: now.plus_millis(-4_000),
        mock,
        integrity: None,
        since_boot_ms: None,
    }
}

/// A good fix near `location`.
/// Driving across a city: 30 km/h door to door, and ten minutes to park and walk in.
fn drive_ms(from: GeoPoint, to: GeoPoint) -> i64 {
    let km = fieldsales_core::fieldwork::geofence::distance_m(from, to) / 1000.0;
    (km / 30.0 * HOUR_MS as f64) as i64 + 10 * MINUTE_MS
}

fn position_near(location: GeoPoint, now: Timestamp, rng: &mut fastrand::Rng) -> DevicePosition {
    position(location, Stand::Inside, now, rng)
}
