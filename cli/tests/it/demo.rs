//! `fieldsales demo --exit --json` on a fresh data folder: the managers' dashboards, read
//! from their synced phones, count what the simulated day did.

use serde_json::Value;

use crate::support::{path_str, run};

fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("a count, got {v}"))
}

fn i(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("an amount, got {v}"))
}

/// A funnel against the simulation's own count for the same people: open deals and their
/// amounts per stage now, stages entered on the day, deals won and lost on the day.
fn funnel_matches(unit: &str, funnel: &Value, sim: &Value) {
    let total = &funnel["total"];
    let stages = total["stages"].as_array().expect("stage figures");
    let count = |map: &str, stage: &str| sim[map].get(stage).map_or(0, n);
    let amount = |stage: &str| sim["open_amount_by_stage"].get(stage).map_or(0, i);
    let mut open = 0;
    for s in stages {
        let key = s["stage"].as_str().expect("stage key");
        assert_eq!(
            n(&s["open"]),
            count("open_by_stage", key),
            "{unit}: open in {key}"
        );
        assert_eq!(
            i(&s["open_amount"]["minor"]),
            amount(key),
            "{unit}: amount open in {key}"
        );
        assert_eq!(
            n(&s["entered"]),
            count("entered_by_stage", key),
            "{unit}: entered {key} on the day"
        );
        open += n(&s["open"]);
    }
    let simulated_open: u64 = sim["open_by_stage"]
        .as_object()
        .expect("open by stage")
        .values()
        .map(n)
        .sum();
    assert_eq!(open, simulated_open, "{unit}: every open deal in a stage");
    assert!(open > 0, "{unit}: a pipeline to show");
    assert_eq!(n(&total["won"]), n(&sim["won"]), "{unit} won");
    assert_eq!(
        i(&total["won_amount"]["minor"]),
        i(&sim["won_amount_minor"]),
        "{unit} won amount"
    );
    assert_eq!(n(&total["lost"]), n(&sim["lost"]), "{unit} lost");
}

#[test]
fn the_managers_dashboards_count_what_the_simulated_day_did() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("demo");
    let out = run(&["demo", "--exit", "--json", "--data", path_str(&data)], "");
    out.expect_code(0);
    let report = out.json();
    let simulated = &report["simulated"];
    let teams = simulated["teams"].as_object().expect("teams");
    let regions = simulated["regions"].as_object().expect("regions");
    let dashboards = report["dashboards"].as_array().expect("dashboards");
    let (managers, directors): (Vec<&Value>, Vec<&Value>) =
        dashboards.iter().partition(|d| d["level"] == "team");
    assert_eq!(managers.len(), 4, "a manager per team");
    assert_eq!(directors.len(), 2, "a director per region");
    assert_eq!(teams.len(), 4);
    assert_eq!(regions.len(), 2);

    // Every manager's funnel holds what their people's phones did to the pipeline.
    for d in dashboards {
        let unit = d["unit"].as_str().expect("unit");
        let sim = if d["level"] == "team" {
            &teams[unit]
        } else {
            &regions[unit]
        };
        funnel_matches(unit, &d["funnel"], sim);
    }
    // A director sees the region's two teams, each as one row.
    for d in &directors {
        let unit = d["unit"].as_str().expect("unit");
        let sim = &regions[unit];
        assert_eq!(
            d["reports"]["groups"].as_array().expect("rows").len(),
            2,
            "{unit}: a row per team"
        );
        assert_eq!(
            n(&d["visits"]["total"]["check_ins"]),
            n(&sim["check_ins"]),
            "{unit} check-ins"
        );
        assert_eq!(
            n(&d["reports"]["total"]["missing"]),
            n(&sim["reports_missing"]),
            "{unit} missing reports"
        );
    }

    let mut check_ins = 0;
    for d in managers {
        let team = d["unit"].as_str().expect("team");
        let sim = &teams[team];
        let visits = &d["visits"]["total"];
        let reports = &d["reports"]["total"];
        assert_eq!(
            n(&visits["check_ins"]),
            n(&sim["check_ins"]),
            "{team} check-ins"
        );
        assert_eq!(n(&visits["outside"]), n(&sim["outside"]), "{team} outside");
        assert_eq!(n(&visits["planned"]), n(&sim["planned"]), "{team} planned");
        assert_eq!(
            n(&visits["planned_done"]),
            n(&sim["planned"]),
            "{team} plans kept"
        );
        assert_eq!(
            n(&visits["unplanned"]),
            n(&sim["unplanned"]),
            "{team} unplanned"
        );
        assert_eq!(
            n(&visits["checked_out"]),
            n(&sim["checked_out"]),
            "{team} check-outs"
        );
        // A mock location and a poor fix are flagged (outside is a fence status of its own);
        // a poor fix cannot tell inside from outside.
        assert_eq!(
            n(&visits["flagged"]),
            n(&sim["mock_location"]) + n(&sim["poor_accuracy"]),
            "{team} flagged check-ins"
        );
        assert_eq!(
            n(&visits["cannot_tell"]),
            n(&sim["poor_accuracy"]),
            "{team} poor fixes"
        );
        assert_eq!(
            n(&visits["inside"]),
            n(&sim["inside"]) + n(&sim["mock_location"]),
            "{team} inside (a mock location claims to be)"
        );
        assert_eq!(
            n(&reports["on_time"]),
            n(&sim["reports_on_time"]),
            "{team} on time"
        );
        assert_eq!(n(&reports["late"]), n(&sim["reports_late"]), "{team} late");
        // The rep who filed nothing: missing, and counted as unfiled.
        assert_eq!(
            n(&reports["missing"]),
            n(&sim["reports_missing"]),
            "{team} missing"
        );
        assert_eq!(
            n(&reports["missing_unfiled"]),
            n(&sim["reports_missing"]),
            "{team} unfiled"
        );
        // The discounts over a rep's limit waited for this manager, who approved them all.
        assert_eq!(
            n(&d["approvals_waiting"]),
            n(&sim["approvals_requested"]),
            "{team} approvals waiting"
        );
        assert_eq!(
            n(&sim["approvals_approved"]),
            n(&sim["approvals_requested"])
        );
        assert_eq!(
            n(&d["approvals_waiting_after"]),
            0,
            "{team} nothing left waiting"
        );
        check_ins += n(&visits["check_ins"]);
        // A team manager sees their own team's three reps and no one else's.
        let reps = d["reports"]["groups"]
            .as_array()
            .expect("report rows")
            .len();
        assert_eq!(reps, 3, "{team}: one report row per rep");
    }

    // The default seed's day, fixed: each special case where the simulation puts it.
    let total = &simulated["total"];
    assert_eq!(check_ins, n(&total["check_ins"]));
    assert_eq!(n(&total["customers"]), 300);
    assert_eq!(n(&total["contacts"]), 300);
    assert_eq!(n(&total["tasks"]), 12, "a task for tomorrow per rep");
    assert_eq!(n(&total["check_ins"]), 64);
    assert_eq!(n(&total["planned"]), 52);
    assert_eq!(n(&total["unplanned"]), 12, "one visit off the plan per rep");
    assert_eq!(n(&total["outside"]), 3);
    assert_eq!(n(&total["mock_location"]), 1);
    assert_eq!(n(&total["poor_accuracy"]), 1);
    assert_eq!(n(&total["refused"]), 0, "the default fence is soft");
    assert_eq!(n(&total["reports_on_time"]), 9);
    assert_eq!(n(&total["reports_late"]), 2);
    assert_eq!(n(&total["reports_missing"]), 1);
    assert_eq!(n(&total["approvals_requested"]), 2);
    assert_eq!(n(&total["approvals_approved"]), 2);
    assert_eq!(
        n(&total["follow_ups"]),
        n(&total["check_ins"]),
        "a follow-up per visit"
    );
    // The pipeline, fixed for the default seed: five deals per rep; on the day every rep
    // moves the first on, half the second, two thirds the third; a third win and a third
    // lose their bid; one move lacks the stage's form and one skips a stage.
    assert_eq!(n(&total["opportunities"]), 60);
    assert_eq!(n(&total["won"]), 4);
    assert_eq!(n(&total["lost"]), 4);
    assert_eq!(n(&total["stage_moves"]), 12 + 6 + 8 + 4 + 4);
    assert_eq!(n(&total["stage_moves_refused"]), 2);
    let refused = simulated["refused_moves"]
        .as_array()
        .expect("refused moves");
    let rules: Vec<&str> = refused
        .iter()
        .map(|m| m["rule"].as_str().expect("rule"))
        .collect();
    assert_eq!(
        rules,
        ["stage.required_fields", "stage.skip"],
        "{refused:?}"
    );
    assert!(
        i(&total["won_amount_minor"]) > 0,
        "the won deals are worth something"
    );
    assert!(
        report["dashboard_url"]
            .as_str()
            .is_some_and(|u| u.starts_with("http://127.0.0.1:") && u.ends_with("/dashboard")),
        "{}",
        report["dashboard_url"]
    );
}
