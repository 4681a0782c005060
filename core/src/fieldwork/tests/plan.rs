use super::*;
use crate::money::BasisPoints;

struct Day {
    start: Timestamp,
    visits: Vec<ActualVisit>,
}

impl Day {
    fn new() -> Self {
        Day {
            start: t("2026-03-10T09:00:00+08:00"),
            visits: Vec::new(),
        }
    }

    /// The rep visits `customer` at `hour` o'clock.
    fn visit(mut self, customer: RecordId, hour: i64) -> Self {
        self.visits.push(ActualVisit {
            visit_id: RecordId::new(),
            customer_id: customer,
            checked_in_at: self.start.plus_secs((hour - 9) * 3600),
        });
        self
    }
}

#[test]
fn a_day_with_a_skipped_customer_and_a_walk_in() {
    let (a, b, c, d) = (
        RecordId::new(),
        RecordId::new(),
        RecordId::new(),
        RecordId::new(),
    );
    let day = Day::new().visit(d, 11).visit(a, 10).visit(c, 15);
    let result = compare_plan(&[a, b, c], &day.visits);
    let outcomes: Vec<_> = result
        .lines
        .iter()
        .map(|l| (l.customer_id, l.outcome.clone()))
        .collect();
    assert_eq!(
        outcomes,
        vec![
            (a, PlanOutcome::PlannedDone),
            (b, PlanOutcome::PlannedNotDone),
            (c, PlanOutcome::PlannedDone),
            (d, PlanOutcome::Unplanned),
        ]
    );
    assert_eq!(result.lines[0].visit_id, Some(day.visits[1].visit_id));
    assert_eq!(result.lines[1].visit_id, None);
    assert_eq!(result.completion(), Some(BasisPoints(6666)));
}

#[test]
fn a_second_visit_to_a_customer_planned_once_is_unplanned_and_the_first_one_counts() {
    let a = RecordId::new();
    let day = Day::new().visit(a, 16).visit(a, 10);
    let result = compare_plan(&[a], &day.visits);
    assert_eq!(result.count(&PlanOutcome::PlannedDone), 1);
    assert_eq!(result.count(&PlanOutcome::Unplanned), 1);
    // The 10 o'clock visit fulfils the plan whatever order the visits came in.
    assert_eq!(result.lines[0].visit_id, Some(day.visits[1].visit_id));
    assert_eq!(result.lines[1].visit_id, Some(day.visits[0].visit_id));
}

#[test]
fn a_customer_planned_twice_and_visited_once_is_half_done() {
    let a = RecordId::new();
    let day = Day::new().visit(a, 10);
    let result = compare_plan(&[a, a], &day.visits);
    assert_eq!(result.count(&PlanOutcome::PlannedDone), 1);
    assert_eq!(result.count(&PlanOutcome::PlannedNotDone), 1);
    assert_eq!(result.completion(), Some(BasisPoints(5000)));
}

#[test]
fn a_day_without_a_plan_has_no_completion_rate() {
    let day = Day::new().visit(RecordId::new(), 10);
    let result = compare_plan(&[], &day.visits);
    assert_eq!(result.count(&PlanOutcome::Unplanned), 1);
    assert_eq!(result.completion(), None);
    assert_eq!(compare_plan(&[], &[]), PlanVsActual::default());
}
