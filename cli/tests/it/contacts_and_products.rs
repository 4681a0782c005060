//! Contacts find their customer by name; product codes stay unique.

use fieldsales_cli::transfer::{Entity, ImportOptions, NoProgress, Reason, import_file};
use fieldsales_core::record::{Contact, Kind};

use crate::support::Team;

fn import(
    team: &Team,
    entity: Entity,
    name: &str,
    text: &str,
) -> fieldsales_cli::transfer::ImportReport {
    let file = team.path(name);
    std::fs::write(&file, text).expect("write");
    let mut store = team.store();
    import_file(
        &mut store,
        entity,
        &file,
        &ImportOptions::default(),
        &NoProgress,
    )
    .expect("import")
}

#[test]
fn a_contact_joins_its_customer_found_by_any_spelling_and_takes_its_owner() {
    let team = Team::new();
    let customer = team.with_customer("E1002", "华为技术有限公司");
    let report = import(
        &team,
        Entity::Contacts,
        "联系人.csv",
        "客户名称,姓名,职务,手机,决策角色\n\
         华为技术（有限公司）,陈静,采购经理,13800138000,决策人\n\
         中兴通讯,赵磊,工程师,,影响者\n\
         华为技术有限公司,刘洋,,,老板\n\
         华为技术有限公司,陈静,采购总监,138 0013 8000,\n",
    );
    assert_eq!(report.imported, 1);
    let refused: Vec<(usize, &Reason)> = report
        .rejected
        .iter()
        .map(|p| (p.row, &p.reasons[0]))
        .collect();
    assert!(
        matches!(refused[0], (3, Reason::UnknownCustomer { .. })),
        "{refused:?}"
    );
    assert!(
        matches!(
            refused[1],
            (
                4,
                Reason::BadValue {
                    field: "decision_role",
                    ..
                }
            )
        ),
        "{refused:?}"
    );
    assert!(
        matches!(
            refused[2],
            (5, Reason::DuplicateInFile { first_row: 2, .. })
        ),
        "the same person with the phone written another way: {refused:?}"
    );
    let contact = Contact::try_from(team.all(Kind::Contact).remove(0)).expect("contact");
    assert_eq!(contact.customer_id, customer.header.id);
    assert_eq!(contact.header.owner_id, customer.header.owner_id);

    let later = import(
        &team,
        Entity::Contacts,
        "联系人-更新.csv",
        "customer,name,phone
华为技术有限公司,陈静,138-0013-8000
",
    );
    assert_eq!(later.imported, 0);
    assert_eq!(
        later.already_present.len(),
        1,
        "the same phone written another way"
    );
}

#[test]
fn a_product_code_in_use_for_another_product_is_refused() {
    let team = Team::new();
    let first = import(
        &team,
        Entity::Products,
        "products.csv",
        "code,name,list_price,cost\nCRM-STD,销售云标准版,19999,9999.5\n",
    );
    assert_eq!(first.imported, 1);
    let second = import(
        &team,
        Entity::Products,
        "products-2.csv",
        "产品编码,产品名称,价格\ncrm-std,销售云旗舰版,39999\nCRM-STD,销售云标准版,19999\n",
    );
    assert_eq!(second.imported, 0);
    assert!(
        matches!(
            &second.rejected[0].reasons[0],
            Reason::ProductCodeTaken { existing_name, .. } if existing_name == "销售云标准版"
        ),
        "{:?}",
        second.rejected
    );
    assert_eq!(second.already_present.len(), 1);
    assert_eq!(second.already_present[0].row, 3);
    assert_eq!(team.count(Kind::Product), 1);
}
