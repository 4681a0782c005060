//! Who may see which record: the data scopes of REQUIREMENTS.md §1, as one pure function.
//!
//! The server filters every pull through [`OrgTree::can_see`], dashboards limit their SQL to
//! [`OrgTree::visible_units`], and the engine uses the same answer before it shows anything, so
//! a region-isolation bug cannot hide in one of three copies of the rule.
//!
//! A record is attributed to an org unit (`header.org_unit_id`, which the server derives from
//! the owner). A user sees:
//! - records they own or were shared with, and unowned records they created;
//! - records of units their scope covers: their own unit's subtree (`subtree`), their
//!   region's subtree (`region`), everything (`all`);
//! - pool records (no owner) of their own unit or any unit above it: the team's and the
//!   region's public pool;
//! - records attributed to nobody at all (the product catalogue, the org tree, roles, the
//!   process configuration), which every member of the tenant needs to work offline.

use std::collections::{BTreeSet, HashMap};

use rusqlite::Connection;

use crate::me::Me;
use crate::record::{DataScope, Header, OrgLevel, OrgUnit};
use crate::{RecordId, Result};

/// The org tree of a tenant: each unit's parent, level and manager.
#[derive(Debug, Clone, Default)]
pub struct OrgTree {
    units: HashMap<RecordId, Node>,
}

#[derive(Debug, Clone)]
struct Node {
    parent: Option<RecordId>,
    level: OrgLevel,
    manager: Option<RecordId>,
}

/// The units a user sees the records of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    /// Every unit.
    All,
    /// These units (a subtree).
    Units(BTreeSet<RecordId>),
}

impl Visibility {
    /// Whether records of `unit` are visible.
    pub fn covers(&self, unit: RecordId) -> bool {
        match self {
            Visibility::All => true,
            Visibility::Units(set) => set.contains(&unit),
        }
    }
}

impl OrgTree {
    /// The tree as the `org_units` projection of a store holds it (deleted units included:
    /// their records still belong somewhere). Works on the phone's store and on the server's
    /// copy of a tenant alike, without loading a document.
    pub(crate) fn load(conn: &Connection) -> Result<OrgTree> {
        let mut tree = OrgTree::default();
        let mut stmt =
            conn.prepare_cached("SELECT id, parent_id, level, manager_id FROM org_units")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, RecordId>(0)?,
                r.get::<_, Option<RecordId>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<RecordId>>(3)?,
            ))
        })?;
        for row in rows {
            let (id, parent, level, manager) = row?;
            tree.insert(id, parent, OrgLevel::from_code(&level));
            tree.set_manager(id, manager);
        }
        Ok(tree)
    }

    /// Whether `me` manages the record with this header: their scope reaches beyond their own
    /// records and covers the unit the record is attributed to. Managers decide locations,
    /// mark reports false and plan visits for others.
    pub fn manages(&self, me: &Me, header: &Header) -> bool {
        me.manages_others()
            && header
                .org_unit_id
                .is_some_and(|unit| self.visible_units(me).covers(unit))
    }

    /// The tree made of these units (deleted units included: their records still belong
    /// somewhere).
    pub fn from_units<'a>(units: impl IntoIterator<Item = &'a OrgUnit>) -> OrgTree {
        OrgTree {
            units: units
                .into_iter()
                .map(|u| {
                    let node = Node {
                        parent: u.parent_id,
                        level: u.level.clone(),
                        manager: u.manager_id,
                    };
                    (u.header.id, node)
                })
                .collect(),
        }
    }

    /// Adds or replaces one unit.
    pub fn insert(&mut self, id: RecordId, parent: Option<RecordId>, level: OrgLevel) {
        let manager = self.units.get(&id).and_then(|n| n.manager);
        self.units.insert(
            id,
            Node {
                parent,
                level,
                manager,
            },
        );
    }

    /// Names the manager of a unit the tree knows.
    pub fn set_manager(&mut self, unit: RecordId, manager: Option<RecordId>) {
        if let Some(node) = self.units.get_mut(&unit) {
            node.manager = manager;
        }
    }

    /// The manager of `user`, whose unit is `unit`: the head of that unit, or of the nearest
    /// unit above when the user heads their own.
    pub fn manager_of(&self, user: RecordId, unit: RecordId) -> Option<RecordId> {
        self.ancestors(unit).into_iter().find_map(|u| {
            self.units
                .get(&u)
                .and_then(|n| n.manager)
                .filter(|m| *m != user)
        })
    }

    /// Whether the tree knows this unit.
    pub fn contains(&self, unit: RecordId) -> bool {
        self.units.contains_key(&unit)
    }

    /// The unit followed by its ancestors up to the root. Stops at an unknown unit or a cycle
    /// (a bad tree must not hang the server).
    pub fn ancestors(&self, unit: RecordId) -> Vec<RecordId> {
        let mut out = vec![unit];
        let mut at = unit;
        while let Some(Node {
            parent: Some(parent),
            ..
        }) = self.units.get(&at)
        {
            if out.contains(parent) {
                break;
            }
            out.push(*parent);
            at = *parent;
        }
        out
    }

    /// Whether `unit` is `root` or below it.
    pub fn is_within(&self, unit: RecordId, root: RecordId) -> bool {
        self.ancestors(unit).contains(&root)
    }

    /// The region `unit` belongs to (the unit itself when it is a region), if any.
    pub fn region_of(&self, unit: RecordId) -> Option<RecordId> {
        self.ancestors(unit).into_iter().find(|u| {
            self.units
                .get(u)
                .is_some_and(|n| matches!(n.level, OrgLevel::Region))
        })
    }

    /// `root` and every unit below it.
    pub fn subtree(&self, root: RecordId) -> BTreeSet<RecordId> {
        let mut out: BTreeSet<RecordId> = self
            .units
            .keys()
            .copied()
            .filter(|u| self.is_within(*u, root))
            .collect();
        out.insert(root);
        out
    }

    /// The units whose records `me` sees by scope (records they own or were shared come on
    /// top of this).
    pub fn visible_units(&self, me: &Me) -> Visibility {
        self.units_within(me, &me.scope)
    }

    /// The units `scope` reaches from `me`'s unit: everything (`all`), their region's
    /// subtree, their unit's subtree, none (`own`: their own records only).
    pub fn units_within(&self, me: &Me, scope: &DataScope) -> Visibility {
        match scope {
            DataScope::All => Visibility::All,
            DataScope::Region => match self.region_of(me.unit_id) {
                Some(region) => Visibility::Units(self.subtree(region)),
                // A director placed outside any region sees their own subtree, never more.
                None => Visibility::Units(self.subtree(me.unit_id)),
            },
            DataScope::Subtree => Visibility::Units(self.subtree(me.unit_id)),
            // Own, and any scope a newer version invented: the narrowest.
            _ => Visibility::Units(BTreeSet::new()),
        }
    }

    /// Whether `me` may see the record with this header.
    pub fn can_see(&self, me: &Me, header: &Header) -> bool {
        self.viewer(me).can_see(header)
    }

    /// `me`'s view computed once, to judge many records (a pull page).
    pub fn viewer<'a>(&self, me: &'a Me) -> Viewer<'a> {
        Viewer {
            me,
            visible: self.visible_units(me),
            pools: self.ancestors(me.unit_id).into_iter().collect(),
        }
    }
}

/// One user's view of the tenant, precomputed: the rule of [`OrgTree::can_see`].
#[derive(Debug, Clone)]
pub struct Viewer<'a> {
    me: &'a Me,
    visible: Visibility,
    /// The user's unit and every unit above it: whose public pools they see.
    pools: BTreeSet<RecordId>,
}

impl Viewer<'_> {
    /// The units whose records the user sees by scope.
    pub fn visible_units(&self) -> &Visibility {
        &self.visible
    }

    /// Whether the user may see the record with this header.
    pub fn can_see(&self, header: &Header) -> bool {
        let me = self.me;
        if header.owner_id == Some(me.user_id) || header.shared_with.contains(&me.user_id) {
            return true;
        }
        // The creator keeps sight of what they made only while nobody owns it (a lead they
        // put in the pool): a customer reassigned away from its creator leaves their device.
        if header.owner_id.is_none() && header.created_by == Some(me.user_id) {
            return true;
        }
        match (header.owner_id, header.org_unit_id) {
            (None, None) => true,
            (_, Some(unit)) if self.visible.covers(unit) => true,
            // The public pool of my team, my region, HQ.
            (None, Some(unit)) => self.pools.contains(&unit),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Zone;
    use crate::record::Header;
    use crate::testing::{morning, org_unit};

    /// HQ → regions East and North → one team each.
    struct Org {
        tree: OrgTree,
        hq: RecordId,
        east: RecordId,
        east_team: RecordId,
        north_team: RecordId,
    }

    fn org() -> Org {
        let hq = org_unit("HQ", OrgLevel::Hq, None);
        let east = org_unit("East", OrgLevel::Region, Some(hq.header.id));
        let north = org_unit("North", OrgLevel::Region, Some(hq.header.id));
        let east_team = org_unit("East team", OrgLevel::Team, Some(east.header.id));
        let north_team = org_unit("North team", OrgLevel::Team, Some(north.header.id));
        Org {
            hq: hq.header.id,
            east: east.header.id,
            east_team: east_team.header.id,
            north_team: north_team.header.id,
            tree: OrgTree::from_units([&hq, &east, &north, &east_team, &north_team]),
        }
    }

    fn person(unit: RecordId, scope: DataScope) -> Me {
        Me {
            hidden: Default::default(),
            user_id: RecordId::new(),
            unit_id: unit,
            roles: vec!["sales_rep".into()],
            scope,
            zone: Zone::SHANGHAI,
        }
    }

    fn owned_in(owner: &Me) -> Header {
        let mut h = Header::new(owner.user_id, morning());
        h.org_unit_id = Some(owner.unit_id);
        h
    }

    #[test]
    fn a_rep_of_the_north_never_sees_an_east_record_whatever_its_scope_says() {
        let o = org();
        let east_rep = person(o.east_team, DataScope::Own);
        let north_rep = person(o.north_team, DataScope::Own);
        let north_director = person(o.north_team, DataScope::Region);
        let record = owned_in(&east_rep);
        assert!(o.tree.can_see(&east_rep, &record));
        assert!(!o.tree.can_see(&north_rep, &record));
        assert!(!o.tree.can_see(&north_director, &record));
    }

    #[test]
    fn a_manager_sees_the_team_subtree_and_a_director_the_region_and_hq_everything() {
        let o = org();
        let rep = person(o.east_team, DataScope::Own);
        let other_rep = person(o.east_team, DataScope::Own);
        let manager = person(o.east_team, DataScope::Subtree);
        let director = person(o.east, DataScope::Region);
        let hq = person(o.hq, DataScope::All);
        let record = owned_in(&rep);
        assert!(!o.tree.can_see(&other_rep, &record));
        assert!(o.tree.can_see(&manager, &record));
        assert!(o.tree.can_see(&director, &record));
        assert!(o.tree.can_see(&hq, &record));
    }

    #[test]
    fn the_pool_of_a_region_is_seen_by_its_teams_and_not_by_other_regions() {
        let o = org();
        let mut pool_lead = Header::unowned(None, morning());
        pool_lead.org_unit_id = Some(o.east);
        assert!(
            o.tree
                .can_see(&person(o.east_team, DataScope::Own), &pool_lead)
        );
        assert!(
            !o.tree
                .can_see(&person(o.north_team, DataScope::Own), &pool_lead)
        );
    }

    #[test]
    fn a_customer_reassigned_away_from_the_rep_who_created_it_leaves_their_view() {
        let o = org();
        let a = person(o.east_team, DataScope::Own);
        let b = person(o.east_team, DataScope::Own);
        let mut customer = owned_in(&a);
        customer.owner_id = Some(b.user_id);
        assert_eq!(customer.created_by, Some(a.user_id));
        assert!(!o.tree.can_see(&a, &customer));
        assert!(o.tree.can_see(&b, &customer));
        customer.shared_with.insert(a.user_id);
        assert!(
            o.tree.can_see(&a, &customer),
            "shared back with the creator"
        );
    }
}
