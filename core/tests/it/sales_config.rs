//! An admin imports the sales process as a file: a good file replaces the running process and
//! syncs to phones; a bad one is refused with the line and field of each problem, and the
//! running process stays exactly as it was.

use fieldsales_core::Error;
use fieldsales_core::engine::Engine;
use fieldsales_core::process::{ConfigErrors, ConfigProblem, SalesProcess};
use fieldsales_core::record::ProcessConfig;

use crate::sales_world::{Who, World, sync};

const TENANT: &str = "acme";

fn admin_with_standard(world: &World) -> (Engine, String) {
    let mut admin = world.phone(Who::Admin);
    let text = SalesProcess::standard().to_toml().unwrap();
    admin.import_process_toml(TENANT, &text).unwrap();
    let running = admin.export_process_toml().unwrap();
    (admin, running)
}

fn refused(admin: &mut Engine, text: &str) -> ConfigErrors {
    match admin.import_process_toml(TENANT, text).unwrap_err() {
        Error::ProcessConfig(errors) => errors,
        other => panic!("expected the file's errors, got {other:?}"),
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn the_consultative_preset_imports_and_reaches_a_reps_phone() {
    let world = World::new();
    let (mut admin, _) = admin_with_standard(&world);
    let text = SalesProcess::consultative().to_toml().unwrap();
    let config = admin.import_process_toml(TENANT, &text).unwrap();
    assert_eq!(config.revision, 2);
    let keys: Vec<&str> = config
        .process
        .stages
        .iter()
        .map(|s| s.key.as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "initial_contact",
            "needs_analysis",
            "proposal",
            "negotiation",
            "won",
            "lost"
        ]
    );
    let mut li = world.phone(Who::RepLi);
    sync(&admin, &mut li, ProcessConfig::id_for(TENANT));
    assert_eq!(li.process().unwrap(), SalesProcess::consultative());
    assert_eq!(
        SalesProcess::from_toml(&admin.export_process_toml().unwrap()).unwrap(),
        SalesProcess::consultative(),
        "the export imports back unchanged"
    );
}

#[test]
fn an_approval_rule_naming_an_unknown_stage_is_refused_at_its_line() {
    let world = World::new();
    let (mut admin, running) = admin_with_standard(&world);
    let bad = running.replacen(
        "amount_over = \"50000 CNY\"",
        "amount_over = \"50000 CNY\"\nstage = \"contract_signing\"",
        1,
    );
    let errors = refused(&mut admin, &bad);
    let e = &errors.0[0];
    assert_eq!(e.field.to_string(), "approvals.rules[0].stage");
    assert_eq!(e.line, line_of(&bad, "contract_signing"));
    assert!(
        matches!(e.problem, ConfigProblem::UnknownStage { .. }),
        "{e}"
    );
    assert_eq!(admin.export_process_toml().unwrap(), running, "unchanged");
}

#[test]
fn a_negative_rate_is_refused_at_its_line() {
    let world = World::new();
    let (mut admin, running) = admin_with_standard(&world);
    let bad = running.replacen("base_rate = \"3%\"", "base_rate = \"-3%\"", 1);
    let errors = refused(&mut admin, &bad);
    let e = &errors.0[0];
    assert_eq!(e.field.to_string(), "commission.base_rate");
    assert_eq!(e.line, line_of(&bad, "-3%"));
    assert!(
        matches!(e.problem, ConfigProblem::NegativeRate { .. }),
        "{e}"
    );
    assert_eq!(admin.export_process_toml().unwrap(), running, "unchanged");
}

#[test]
fn a_cyclic_stage_order_is_refused_at_its_line() {
    let world = World::new();
    let (mut admin, running) = admin_with_standard(&world);
    // Opportunity jumps to bidding, while initiation and formal communication lead to each
    // other in a loop no deal can leave.
    let bad = running
        .replacen("next = \"bidding\"", "next = \"initiation\"", 1)
        .replacen("next = \"initiation\"", "next = \"bidding\"", 1);
    assert_ne!(bad, running);
    let errors = refused(&mut admin, &bad);
    let cycle = errors
        .0
        .iter()
        .find(|e| matches!(e.problem, ConfigProblem::CyclicStageOrder { .. }))
        .unwrap_or_else(|| panic!("no cycle reported: {errors}"));
    assert!(cycle.field.to_string().ends_with(".next"), "{cycle}");
    let pointed = bad.lines().nth(cycle.line - 1).unwrap();
    assert!(
        pointed.starts_with("next = "),
        "line {}: {pointed}",
        cycle.line
    );
    assert!(errors.to_string().contains("line "), "{errors}");
    assert_eq!(admin.export_process_toml().unwrap(), running, "unchanged");
}

#[test]
fn only_an_admin_imports_a_process() {
    let world = World::new();
    let mut wang = world.phone(Who::ManagerWang);
    let text = SalesProcess::consultative().to_toml().unwrap();
    assert!(matches!(
        wang.import_process_toml(TENANT, &text),
        Err(Error::NotAllowed(_))
    ));
    assert_eq!(wang.process().unwrap(), SalesProcess::standard());
}
