//! Approvals decided on approvers' phones: parallel steps, never by the requester, and two
//! approvers deciding the same step offline, where the first decision the server accepts wins.

use fieldsales_core::authority::Outcome;
use fieldsales_core::engine::Engine;
use fieldsales_core::process::{ApprovalChain, ApprovalStep, DecisionRefused, StepMode, Verdict};
use fieldsales_core::record::Approval;
use fieldsales_core::record::approval::ApprovalStatus;
use fieldsales_core::store::StoreRead;
use fieldsales_core::{Error, RecordId, testing};

use crate::sales_world::{Server, Who, World, sync};

/// A request by rep Li with these steps, on Li's phone.
fn request(world: &World, steps: Vec<ApprovalStep>) -> (Engine, RecordId) {
    let mut li = world.phone(Who::RepLi);
    let mut approval = testing::approval(
        world.id(Who::RepLi),
        RecordId::new(),
        testing::yuan(120_000),
    );
    approval.header = world.header(Who::RepLi);
    approval.chain = ApprovalChain {
        steps,
        because: vec!["contract over 100,000".into()],
    };
    let id = li.store_mut().create(approval).unwrap().header.id;
    (li, id)
}

fn decide(
    world: &World,
    who: Who,
    from: &Engine,
    id: RecordId,
    verdict: Verdict,
) -> (Engine, Approval) {
    let mut phone = world.phone(who);
    sync(from, &mut phone, id);
    let a = phone.decide_approval(id, verdict, None).unwrap();
    (phone, a)
}

#[test]
fn a_parallel_all_of_step_waits_for_every_role() {
    let world = World::new();
    let (li, id) = request(
        &world,
        vec![ApprovalStep::parallel(
            &["sales_manager", "regional_director"],
            StepMode::AllOf,
        )],
    );
    let (wang, after_manager) = decide(&world, Who::ManagerWang, &li, id, Verdict::Approve);
    assert_eq!(after_manager.status, ApprovalStatus::Pending);
    let (_, after_director) = decide(&world, Who::DirectorChen, &wang, id, Verdict::Approve);
    assert_eq!(after_director.status, ApprovalStatus::Approved);
    assert!(after_director.decided_at.is_some());
}

#[test]
fn a_parallel_any_of_step_is_settled_by_one_approval() {
    let world = World::new();
    let (li, id) = request(
        &world,
        vec![ApprovalStep::parallel(
            &["sales_manager", "regional_director"],
            StepMode::AnyOf,
        )],
    );
    let (_, after) = decide(&world, Who::DirectorChen, &li, id, Verdict::Approve);
    assert_eq!(after.status, ApprovalStatus::Approved);
}

#[test]
fn serial_steps_go_in_order() {
    let world = World::new();
    let (li, id) = request(
        &world,
        vec![
            ApprovalStep::single("sales_manager"),
            ApprovalStep::single("regional_director"),
        ],
    );
    let mut chen = world.phone(Who::DirectorChen);
    sync(&li, &mut chen, id);
    let early = chen
        .decide_approval(id, Verdict::Approve, None)
        .unwrap_err();
    assert!(matches!(
        early,
        Error::Decision(DecisionRefused::NotAnApprover { .. })
    ));
    let (wang, _) = decide(&world, Who::ManagerWang, &li, id, Verdict::Approve);
    let (_, done) = decide(&world, Who::DirectorChen, &wang, id, Verdict::Approve);
    assert_eq!(done.status, ApprovalStatus::Approved);
}

#[test]
fn a_manager_cannot_approve_their_own_request_on_the_phone() {
    let world = World::new();
    let mut wang = world.phone(Who::ManagerWang);
    let mut approval = testing::approval(
        world.id(Who::ManagerWang),
        RecordId::new(),
        testing::yuan(60_000),
    );
    approval.header = world.header(Who::ManagerWang);
    let id = wang.store_mut().create(approval).unwrap().header.id;
    let refused = wang
        .decide_approval(id, Verdict::Approve, None)
        .unwrap_err();
    assert!(matches!(
        refused,
        Error::Decision(DecisionRefused::OwnRequest)
    ));
}

#[test]
fn the_server_refuses_a_requester_approving_their_own_request() {
    let world = World::new();
    let wang_id = world.id(Who::ManagerWang);
    let mut approval = testing::approval(wang_id, RecordId::new(), testing::yuan(60_000));
    approval.header = world.header(Who::ManagerWang);
    let mut server = Server::new(&world);
    server.store.create(approval.clone()).unwrap();
    // A tampered phone appends the decision its own check would have refused.
    let mut forged = approval.clone();
    forged
        .decisions
        .push(fieldsales_core::process::ApprovalDecision {
            step: 0,
            by: wang_id,
            role: "sales_manager".into(),
            verdict: Verdict::Approve,
            at: world.now(),
            comment: None,
        });
    forged.status = ApprovalStatus::Approved;
    let rejection = server.push(&world, Who::ManagerWang, &forged).unwrap_err();
    assert_eq!(rejection.rule, "approval.own_request");
}

#[test]
fn the_server_recomputes_a_status_the_decisions_do_not_support() {
    let world = World::new();
    let (li, id) = request(&world, vec![ApprovalStep::single("sales_manager")]);
    let mut server = Server::new(&world);
    server.push_doc(&world, Who::RepLi, &li, id).unwrap();
    let mut forged: Approval = li.store().get(id).unwrap();
    forged.status = ApprovalStatus::Approved;
    match server.push(&world, Who::RepLi, &forged).unwrap() {
        Outcome::Amend(amended) => {
            let fieldsales_core::record::AnyRecord::Approval(a) = *amended else {
                panic!("an approval");
            };
            assert_eq!(a.status, ApprovalStatus::Pending);
        }
        Outcome::Accept => panic!("a status without decisions must not stand"),
    }
}

#[test]
fn two_approvers_decide_offline_and_the_first_decision_the_server_accepts_wins() {
    let world = World::new();
    let (li, id) = request(
        &world,
        vec![ApprovalStep::parallel(
            &["sales_manager", "regional_director"],
            StepMode::AnyOf,
        )],
    );
    let mut server = Server::new(&world);
    server.push_doc(&world, Who::RepLi, &li, id).unwrap();

    // Both approvers got the request, then lost signal and decided.
    let (wang, _) = decide(&world, Who::ManagerWang, &li, id, Verdict::Approve);
    let (chen, _) = decide(&world, Who::DirectorChen, &li, id, Verdict::Reject);

    // The manager's phone syncs first.
    assert!(server.push_doc(&world, Who::ManagerWang, &wang, id).is_ok());
    // The director's push merges a second decision on a settled request: refused, and told.
    let rejection = server
        .push_doc(&world, Who::DirectorChen, &chen, id)
        .unwrap_err();
    assert_eq!(rejection.rule, "approval.already_decided");

    let stands: Approval = server.store.get(id).unwrap();
    assert_eq!(stands.status, ApprovalStatus::Approved);
    assert_eq!(stands.decisions.len(), 1);
    assert_eq!(stands.decisions[0].by, world.id(Who::ManagerWang));
}

#[test]
fn an_approver_cannot_decide_in_another_users_name() {
    let world = World::new();
    let (li, id) = request(&world, vec![ApprovalStep::single("sales_manager")]);
    let mut server = Server::new(&world);
    server.push_doc(&world, Who::RepLi, &li, id).unwrap();
    let (wang, _) = decide(&world, Who::ManagerWang, &li, id, Verdict::Approve);
    let rejection = server
        .push_doc(&world, Who::DirectorChen, &wang, id)
        .unwrap_err();
    assert_eq!(rejection.rule, "approval.decided_for_another");
}
