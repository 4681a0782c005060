//! Customers: the duplicate check (voided records too, and without revealing a colleague's
//! customer), sharing, and ownership conflicts settled by the three rules.

use fieldsales_core::process::OwnershipRule;
use fieldsales_core::record::Customer;
use fieldsales_core::store::StoreRead;
use fieldsales_core::{Error, testing};

use crate::sales_world::{Who, World, sync};

#[test]
fn a_voided_customer_still_blocks_creating_the_same_company() {
    let world = World::new();
    let mut li = world.phone(Who::RepLi);
    let li_id = world.id(Who::RepLi);
    let (c, _) = li
        .create_customer(Customer::new(testing::header(li_id), "华为技术有限公司"))
        .unwrap();
    li.store_mut()
        .delete(c.header.id, Some(li_id), Some("录错".into()))
        .unwrap();
    let again = li
        .create_customer(Customer::new(testing::header(li_id), "华为技术 有限公司"))
        .unwrap_err();
    assert!(
        matches!(again, Error::DuplicateCustomer { existing_id, .. } if existing_id == c.header.id)
    );
    let hit = li
        .check_customer_duplicates(&Customer::new(testing::header(li_id), "华为技术有限公司"))
        .unwrap()
        .exact
        .unwrap();
    assert!(hit.voided);
}

#[test]
fn a_hit_on_a_colleagues_customer_shows_only_the_configured_fields() {
    let world = World::new();
    let mut zhao = world.phone(Who::RepZhao);
    let mut theirs = Customer::new(
        testing::header(world.id(Who::RepZhao)),
        "深圳某科技有限公司",
    );
    theirs.industry = Some("电子".into());
    theirs.address = Some("深圳市南山区".into());
    theirs.tier = Some("A".into());
    let (theirs, _) = zhao.create_customer(theirs).unwrap();
    // The document is on Li's phone (as the server's check sees every customer), but Li may
    // not read it.
    let mut li = world.phone(Who::RepLi);
    sync(&zhao, &mut li, theirs.header.id);

    let check = li
        .check_customer_duplicates(&Customer::new(
            testing::header(world.id(Who::RepLi)),
            "深圳某科技有限公司",
        ))
        .unwrap();
    let hit = check.exact.unwrap();
    assert!(!hit.visible);
    assert_eq!(hit.legal_name.as_deref(), Some("深圳某科技有限公司"));
    assert_eq!(
        hit.owner_id,
        Some(world.id(Who::RepZhao)),
        "whom to ask for a share"
    );
    assert_eq!(hit.industry, None);
    assert_eq!(hit.address, None);
    assert_eq!(hit.tier, None);

    // Their manager sees the whole record.
    let mut wang = world.phone(Who::ManagerWang);
    sync(&zhao, &mut wang, theirs.header.id);
    let full = wang
        .check_customer_duplicates(&Customer::new(
            testing::header(world.id(Who::ManagerWang)),
            "深圳某科技有限公司",
        ))
        .unwrap()
        .exact
        .unwrap();
    assert!(full.visible);
    assert_eq!(full.address.as_deref(), Some("深圳市南山区"));
}

#[test]
fn the_owner_shares_a_customer_with_a_collaborator() {
    let world = World::new();
    let mut li = world.phone(Who::RepLi);
    let (c, _) = li
        .create_customer(Customer::new(
            testing::header(world.id(Who::RepLi)),
            "宁波某港务有限公司",
        ))
        .unwrap();
    let shared = li
        .share_customer(c.header.id, world.id(Who::RepZhao))
        .unwrap();
    assert!(shared.header.shared_with.contains(&world.id(Who::RepZhao)));
    let mut zhao = world.phone(Who::RepZhao);
    sync(&li, &mut zhao, c.header.id);
    assert!(zhao.can_see(&shared.header).unwrap());
    assert!(
        zhao.share_customer(c.header.id, world.id(Who::ManagerWang))
            .is_err(),
        "a collaborator does not share further"
    );
}

fn two_reps_follow_one_company(
    world: &World,
    li_name: &str,
    zhao_name: &str,
) -> (
    fieldsales_core::engine::Engine,
    [fieldsales_core::RecordId; 2],
) {
    let mut wang = world.phone(Who::ManagerWang);
    let li_c = wang
        .store_mut()
        .create(Customer::new(world.header(Who::RepLi), li_name))
        .unwrap();
    let zhao_c = wang
        .store_mut()
        .create(Customer::new(world.header(Who::RepZhao), zhao_name))
        .unwrap();
    (wang, [li_c.header.id, zhao_c.header.id])
}

#[test]
fn the_record_with_the_registered_full_name_wins_and_the_rule_is_recorded() {
    let world = World::new();
    let (mut wang, contenders) = two_reps_follow_one_company(&world, "华为技术有限公司", "华为");
    let verdict = wang
        .resolve_customer_ownership(Some("华为技术有限公司"), &contenders)
        .unwrap();
    assert_eq!(verdict.owner, world.id(Who::RepLi));
    assert_eq!(verdict.rule, OwnershipRule::RegisteredFullName);
    for id in contenders {
        let c: Customer = wang.store().get(id).unwrap();
        let decision = c.ownership.unwrap();
        assert_eq!(decision.rule, "registered_full_name");
        assert_eq!(decision.winner_id, world.id(Who::RepLi));
    }
}

#[test]
fn otherwise_the_first_follow_up_wins() {
    let world = World::new();
    let (mut wang, contenders) = two_reps_follow_one_company(&world, "华为", "Huawei");
    let mut late = testing::follow_up(world.id(Who::RepLi), contenders[0], "电话");
    late.header = world.header(Who::RepLi);
    late.occurred_at = world.now().plus_secs(3_600);
    let mut early = testing::follow_up(world.id(Who::RepZhao), contenders[1], "上门拜访");
    early.header = world.header(Who::RepZhao);
    early.occurred_at = world.now();
    wang.store_mut().create(late).unwrap();
    wang.store_mut().create(early).unwrap();
    let verdict = wang
        .resolve_customer_ownership(Some("华为技术有限公司"), &contenders)
        .unwrap();
    assert_eq!(verdict.owner, world.id(Who::RepZhao));
    assert_eq!(verdict.rule, OwnershipRule::FirstFollowUp);
}

#[test]
fn a_rep_cannot_settle_an_ownership_conflict() {
    let world = World::new();
    let mut li = world.phone(Who::RepLi);
    assert!(matches!(
        li.resolve_customer_ownership(None, &[]),
        Err(Error::NotAllowed(_))
    ));
}

#[test]
fn a_rep_edits_a_customer_but_only_a_manager_moves_its_location() {
    let world = World::new();
    let mut li = world.phone(Who::RepLi);
    let (c, _) = li
        .create_customer(Customer::new(
            world.header(Who::RepLi),
            "苏州精工机械有限公司",
        ))
        .unwrap();
    let edited = li
        .update_customer(c.header.id, |c| c.tier = Some("A".into()))
        .unwrap();
    assert_eq!(edited.tier.as_deref(), Some("A"));

    let elsewhere = fieldsales_core::GeoPoint::new(31.30, 120.60).unwrap();
    match li.update_customer(c.header.id, |c| c.location = Some(elsewhere)) {
        Err(Error::RuleViolated { rule, .. }) => {
            assert_eq!(rule, "customer.location_needs_approval")
        }
        other => panic!("a rep moved the customer: {other:?}"),
    }
    assert_eq!(li.customer(c.header.id).unwrap().location, c.location);

    let mut wang = world.phone(Who::ManagerWang);
    sync(&li, &mut wang, c.header.id);
    let moved = wang
        .update_customer(c.header.id, |c| c.location = Some(elsewhere))
        .unwrap();
    assert_eq!(moved.location, Some(elsewhere));
}

#[test]
fn deleting_a_customer_voids_its_contacts_with_it_as_the_matrix_allows() {
    let world = World::new();
    let mut li = world.phone(Who::RepLi);
    let li_id = world.id(Who::RepLi);
    let (c, _) = li
        .create_customer(Customer::new(testing::header(li_id), "华为技术有限公司"))
        .unwrap();
    let contact = li
        .add_contact(testing::contact(li_id, c.header.id, "周杰"))
        .unwrap();
    // The standard matrix lets no rep delete a customer, their own included.
    let err = li.delete_customer(c.header.id, None).unwrap_err();
    assert!(
        matches!(err, Error::NotAllowed(ref m) if m.starts_with("customer.delete")),
        "{err:?}"
    );
    // A colleague's phone holding it (as a duplicate hit would) cannot even find it.
    let mut zhao = world.phone(Who::RepZhao);
    sync(&li, &mut zhao, c.header.id);
    let err = zhao.delete_customer(c.header.id, None).unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");

    // Their manager voids it, and its contact with it, in one write.
    let mut wang = world.phone(Who::ManagerWang);
    let wang_id = world.id(Who::ManagerWang);
    sync(&li, &mut wang, c.header.id);
    sync(&li, &mut wang, contact.header.id);
    wang.delete_customer(c.header.id, Some("录错".into()))
        .unwrap();
    let voided: Customer = wang.store().get(c.header.id).unwrap();
    let tombstone = voided.header.deleted.expect("voided");
    assert_eq!(tombstone.by, Some(wang_id));
    assert_eq!(tombstone.reason.as_deref(), Some("录错"));
    let gone: fieldsales_core::record::Contact = wang.store().get(contact.header.id).unwrap();
    assert!(gone.header.is_deleted(), "its contact goes with it");
    // Deleting again changes nothing.
    wang.delete_customer(c.header.id, None).unwrap();
    wang.delete_contact(contact.header.id, None).unwrap();
    let still: Customer = wang.store().get(c.header.id).unwrap();
    assert_eq!(
        still.header.deleted.and_then(|t| t.reason).as_deref(),
        Some("录错")
    );
}
