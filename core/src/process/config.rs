//! The process configuration as one value, with the presets an admin starts from.
//!
//! One value holds everything an admin tunes (stages, lead pool, approvals, discounts, prices,
//! commissions) so it can be one synced record, imported and exported as one file, and checked
//! as a whole: an approval rule naming a stage that does not exist is caught before any phone
//! sees it. Further sections (field work: geofence, daily report) join as fields that implement
//! [`ConfigSection`].

use std::borrow::Cow;

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::fieldwork::FieldworkSettings;
use crate::money::{Currency, Money};

use super::approval::{ApprovalRule, ApprovalRules, ApprovalStep};
use super::commission::CommissionRules;
use super::customer::CustomerRules;
use super::deal::DealRules;
use super::fields::{FieldType, StageField};
use super::lead::LeadRules;
use super::permissions::{RolePermissions, default_permissions};
use super::pricing::{DiscountRules, PriceRules};
use super::stage::{StageOutcome, StageRule, StageStep, ordered_open_stages, validate_stages};
use super::validate::{ConfigProblem, ConfigSection, FieldPath, Known, Problem, Problems};

/// A role users may hold. Roles are data: an admin adds one here, gives it a permission
/// matrix, and may then name it in approval steps and discount limits. Two roles are equal
/// when they grant the same: one without a matrix equals one with its code's defaults.
#[derive(Debug, Clone, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(deny_unknown_fields)]
pub struct RoleDef {
    /// Stable code (`sales_manager`).
    pub code: String,
    /// What people see (`销售经理`).
    pub name: String,
    /// What the role may do with each kind of record and its rights; `None` (a configuration
    /// written before matrices existed) takes the defaults of the role's code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[autosurgeon(missing = "Option::default")]
    pub permissions: Option<RolePermissions>,
}

impl PartialEq for RoleDef {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code
            && self.name == other.name
            && self.permissions() == other.permissions()
    }
}

impl RoleDef {
    /// A role with the default permissions of its code.
    pub fn new(code: &str, name: &str) -> Self {
        RoleDef {
            code: code.to_string(),
            name: name.to_string(),
            permissions: Some(default_permissions(code)),
        }
    }

    /// The role's permission matrix: its own, or the defaults of its code.
    pub fn permissions(&self) -> Cow<'_, RolePermissions> {
        match &self.permissions {
            Some(p) => Cow::Borrowed(p),
            None => Cow::Owned(default_permissions(&self.code)),
        }
    }
}

/// The sales process of a tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(deny_unknown_fields)]
pub struct SalesProcess {
    /// What the admin calls this configuration.
    pub name: String,
    /// The roles.
    pub roles: Vec<RoleDef>,
    /// The stages: open stages linked by `next`, and the outcomes.
    pub stages: Vec<StageRule>,
    /// Lead pool rules.
    #[serde(default)]
    pub leads: LeadRules,
    /// Approval rules.
    #[serde(default = "ApprovalRules::empty")]
    pub approvals: ApprovalRules,
    /// Manual discount limits per role.
    #[serde(default)]
    pub discounts: DiscountRules,
    /// Tier, volume and promotion prices.
    #[serde(default)]
    pub pricing: PriceRules,
    /// Commission rules.
    #[serde(default)]
    pub commission: CommissionRules,
    /// Customer rules: what a duplicate hit shows.
    #[serde(default)]
    #[autosurgeon(missing = "CustomerRules::default")]
    pub customers: CustomerRules,
    /// Field work: geofence, visits, daily reports, device clock (`[fieldwork.geofence]`...).
    #[serde(default)]
    #[autosurgeon(missing = "FieldworkSettings::default")]
    pub fieldwork: FieldworkSettings,
    /// Deal rules: the fine for progress a manager finds false (`[deals]`).
    #[serde(default)]
    #[autosurgeon(missing = "DealRules::default")]
    pub deals: DealRules,
}

impl ApprovalRules {
    fn empty() -> Self {
        ApprovalRules { rules: Vec::new() }
    }

    /// The source documents' defaults: contracts over 50,000 need the sales manager; over
    /// 100,000 the sales manager and then the regional director; a discount beyond the
    /// requester's limit needs the sales manager, one beyond 20% the director.
    pub fn defaults(currency: Currency) -> Self {
        let rule = |name: &str, over: Option<i64>, steps: Vec<ApprovalStep>| ApprovalRule {
            name: name.to_string(),
            kinds: vec!["order".to_string()],
            amount_over: over.map(|units| Money::major(units, currency)),
            discount_over: None,
            discount_over_role_limit: false,
            stage: None,
            steps,
        };
        let manager = ApprovalStep::single("sales_manager");
        let director = ApprovalStep::single("regional_director");
        ApprovalRules {
            rules: vec![
                rule("contract over 50,000", Some(50_000), vec![manager.clone()]),
                rule(
                    "contract over 100,000",
                    Some(100_000),
                    vec![manager.clone(), director.clone()],
                ),
                ApprovalRule {
                    discount_over_role_limit: true,
                    ..rule("discount beyond the requester's limit", None, vec![manager])
                },
                ApprovalRule {
                    discount_over: Some(crate::money::BasisPoints::percent(20)),
                    ..rule("discount over 20%", None, vec![director])
                },
            ],
        }
    }
}

impl Default for SalesProcess {
    fn default() -> Self {
        SalesProcess::standard()
    }
}

impl SalesProcess {
    /// The chain of the usage rules: lead → opportunity → initiation → formal communication →
    /// bidding → won / lost, with their time limits and required fields.
    pub fn standard() -> Self {
        use FieldType as T;
        let f = StageField::required;
        let lead = StageRule {
            lead_stage: true,
            steps: vec![StageStep {
                name: "线索分配".to_string(),
                actor_role: "sales_rep".to_string(),
                approver_role: None,
                fields: vec![
                    f("lead_source", "线索来源", T::Text),
                    f("customer_name", "客户名称", T::Text),
                    f("contact", "联系方式", T::Text),
                ],
                overdue_after_hours: Some(2),
            }],
            ..StageRule::open("lead", "线索", Some("opportunity"), Some(30), 5)
        };
        let stages = vec![
            lead,
            StageRule::open("opportunity", "商机", Some("initiation"), Some(14), 10),
            StageRule::open(
                "initiation",
                "立项",
                Some("formal_communication"),
                Some(30),
                25,
            )
            .with_fields(vec![
                f("budget", "预算", T::Money),
                f("expected_amount", "预计我司金额", T::Money),
                f("latest_bid_date", "预计最晚投标时间", T::Date),
                f("design_unit", "设计单位", T::List),
                f("decision_unit", "决策单位", T::List),
                f("user_unit", "使用单位", T::List),
                f("decision_chain_visits", "决策链拜访", T::List),
            ]),
            StageRule::open(
                "formal_communication",
                "正式沟通",
                Some("bidding"),
                Some(30),
                50,
            )
            .with_fields(vec![
                f("expected_bid_date", "预计投标时间", T::Date),
                f("expected_winning_amount", "预计中标金额", T::Money),
            ]),
            StageRule::open("bidding", "投标", None, Some(60), 70).with_fields(vec![
                f("tender_documents", "招标文件存档", T::Attachment),
                f("bid_documents", "投标文件存档", T::Attachment),
                f("tender_issue_date", "发标时间", T::Date),
                f("bid_response_date", "应标时间", T::Date),
                StageField::optional("competitor_documents", "竞争对手文件", T::Attachment),
            ]),
            StageRule::outcome("won", "中标", StageOutcome::Won).with_fields(vec![f(
                "award_notice",
                "中标通知书存档",
                T::Attachment,
            )]),
            StageRule::outcome("lost", "丢单", StageOutcome::Lost),
        ];
        SalesProcess::with_stages("标准销售流程", stages)
    }

    /// The other common chain: 初步接洽 → 需求分析 → 方案报价 → 谈判中 → 成交 / 丢单. The
    /// source gives no time limits for it; the preset's limits are a starting point to tune.
    pub fn consultative() -> Self {
        use FieldType as T;
        let f = StageField::required;
        let stages = vec![
            StageRule::open(
                "initial_contact",
                "初步接洽",
                Some("needs_analysis"),
                Some(14),
                10,
            ),
            StageRule::open("needs_analysis", "需求分析", Some("proposal"), Some(14), 25)
                .with_fields(vec![
                    f("customer_needs", "客户需求", T::Text),
                    f("decision_makers", "决策人", T::List),
                ]),
            StageRule::open("proposal", "方案报价", Some("negotiation"), Some(30), 50).with_fields(
                vec![
                    f("quoted_amount", "报价金额", T::Money),
                    f("proposal_documents", "方案文件", T::Attachment),
                ],
            ),
            StageRule::open("negotiation", "谈判中", None, Some(30), 75).with_fields(vec![f(
                "expected_close_date",
                "预计成交日期",
                T::Date,
            )]),
            StageRule::outcome("won", "成交", StageOutcome::Won).with_fields(vec![f(
                "contract",
                "合同存档",
                T::Attachment,
            )]),
            StageRule::outcome("lost", "丢单", StageOutcome::Lost),
        ];
        SalesProcess::with_stages("顾问式销售流程", stages)
    }

    fn with_stages(name: &str, stages: Vec<StageRule>) -> Self {
        SalesProcess {
            name: name.to_string(),
            roles: vec![
                RoleDef::new("sales_rep", "销售代表"),
                RoleDef::new("sales_manager", "销售经理"),
                RoleDef::new("regional_director", "大区总监"),
                RoleDef::new("finance", "财务"),
                RoleDef::new("admin", "系统管理员"),
            ],
            stages,
            leads: LeadRules::default(),
            approvals: ApprovalRules::defaults(Currency::CNY),
            discounts: DiscountRules::default(),
            pricing: PriceRules::default(),
            commission: CommissionRules::default(),
            customers: CustomerRules::default(),
            fieldwork: FieldworkSettings::default(),
            deals: DealRules::default(),
        }
    }

    /// The stage with this key.
    pub fn stage(&self, key: &str) -> Option<&StageRule> {
        self.stages.iter().find(|s| s.key == key)
    }

    /// The open stages in chain order.
    pub fn open_stages(&self) -> Vec<&StageRule> {
        ordered_open_stages(&self.stages)
    }

    /// The lead stage, if the chain starts with one.
    pub fn lead_stage(&self) -> Option<&StageRule> {
        self.stages.iter().find(|s| s.lead_stage)
    }

    /// Every problem of the configuration, with its path; empty when it may be used.
    pub fn problems(&self) -> Vec<Problem> {
        let known = Known {
            stages: self.stages.iter().map(|s| s.key.clone()).collect(),
            roles: self.roles.iter().map(|r| r.code.clone()).collect(),
        };
        let root = FieldPath::root();
        let mut out = Problems::default();
        out.non_blank(&self.name, root.key("name"));
        for (i, r) in self.roles.iter().enumerate() {
            out.non_blank(&r.code, root.key("roles").index(i).key("code"));
            out.non_blank(&r.name, root.key("roles").index(i).key("name"));
            if let Some(p) = &r.permissions {
                p.validate(&root.key("roles").index(i).key("permissions"), &mut out);
            }
        }
        out.unique_keys(
            self.roles
                .iter()
                .enumerate()
                .map(|(i, r)| (root.key("roles").index(i).key("code"), r.code.as_str())),
        );
        validate_stages(&self.stages, &root.key("stages"), &known, &mut out);
        let sections: [(&'static str, &dyn ConfigSection); 8] = [
            ("leads", &self.leads),
            ("approvals", &self.approvals),
            ("discounts", &self.discounts),
            ("pricing", &self.pricing),
            ("commission", &self.commission),
            ("customers", &self.customers),
            ("fieldwork", &self.fieldwork),
            ("deals", &self.deals),
        ];
        for (key, section) in sections {
            section.validate(&root.key(key), &known, &mut out);
        }
        out.0
    }

    /// Checks the configuration, for one that did not come through [`SalesProcess::from_toml`]
    /// (the admin API, a synced document).
    pub fn validate(&self) -> Result<(), Vec<Problem>> {
        let problems = self.problems();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

impl ConfigSection for FieldworkSettings {
    fn validate(&self, at: &FieldPath, _known: &Known, out: &mut Problems) {
        let Err(invalid) = FieldworkSettings::validate(self) else {
            return;
        };
        for bad in invalid.problems {
            let mut path = at.clone();
            for part in bad.setting.key().split('.') {
                path = path.key(part);
            }
            out.push(
                path,
                ConfigProblem::Invalid {
                    message: bad.to_string(),
                },
            );
        }
    }
}
