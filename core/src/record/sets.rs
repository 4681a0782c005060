//! Sets that merge well.
//!
//! A list in Automerge merges concurrent inserts by keeping both, so two devices that each add
//! the same collaborator would leave it twice. These sets are stored as a map from member to
//! `true`: concurrent adds of one member collapse into one key, and a removal deletes only that
//! key.

use std::collections::BTreeSet;

use autosurgeon::{
    Hydrate, HydrateError, ReadDoc, Reconcile, Reconciler,
    reconcile::{MapReconciler, NoKey},
};
use serde::{Deserialize, Serialize};

use crate::RecordId;

macro_rules! map_backed_set {
    ($(#[$meta:meta])* $name:ident, $item:ty, $parse:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub BTreeSet<$item>);

        impl $name {
            /// An empty set.
            pub fn new() -> Self {
                Self(BTreeSet::new())
            }
            /// Adds a member; `true` when it was not there.
            pub fn insert(&mut self, item: $item) -> bool {
                self.0.insert(item)
            }
            /// Removes a member; `true` when it was there.
            pub fn remove(&mut self, item: &$item) -> bool {
                self.0.remove(item)
            }
            /// Whether the member is in the set.
            pub fn contains(&self, item: &$item) -> bool {
                self.0.contains(item)
            }
            /// Members in order.
            pub fn iter(&self) -> impl Iterator<Item = &$item> {
                self.0.iter()
            }
            /// How many members.
            pub fn len(&self) -> usize {
                self.0.len()
            }
            /// Whether the set is empty.
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl FromIterator<$item> for $name {
            fn from_iter<I: IntoIterator<Item = $item>>(iter: I) -> Self {
                Self(iter.into_iter().collect())
            }
        }

        impl Reconcile for $name {
            type Key<'a> = NoKey;
            fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
                let mut map = reconciler.map()?;
                let keys: Vec<String> = self.0.iter().map(|i| i.to_string()).collect();
                map.retain(|k, _| keys.iter().any(|key| key == k))?;
                for key in &keys {
                    map.put(key, true)?;
                }
                Ok(())
            }
        }

        impl Hydrate for $name {
            fn hydrate_map<D: ReadDoc>(
                doc: &D,
                obj: &automerge::ObjId,
            ) -> Result<Self, HydrateError> {
                let parse: fn(&str) -> Option<$item> = $parse;
                let mut set = BTreeSet::new();
                for item in doc.map_range(obj, ..) {
                    if let Some(member) = parse(&item.key) {
                        set.insert(member);
                    }
                }
                Ok(Self(set))
            }
            fn hydrate_none() -> Result<Self, HydrateError> {
                Ok(Self::new())
            }
        }
    };
}

map_backed_set!(
    /// A set of record IDs (collaborators, readers).
    IdSet,
    RecordId,
    |s| s.parse().ok()
);

map_backed_set!(
    /// A set of short strings (tags, role codes, permissions).
    StringSet,
    String,
    |s| Some(s.to_string())
);

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::{ActorId, AutoCommit};
    use autosurgeon::{hydrate_prop, reconcile_prop};

    #[test]
    fn concurrent_adds_of_the_same_member_collapse() {
        let user = RecordId::new();
        let mut a = AutoCommit::new().with_actor(ActorId::random());
        reconcile_prop(&mut a, automerge::ROOT, "shared", IdSet::new()).unwrap();
        let mut b = a.fork().with_actor(ActorId::random());

        let mut set_a: IdSet = hydrate_prop(&a, &automerge::ROOT, "shared").unwrap();
        set_a.insert(user);
        reconcile_prop(&mut a, automerge::ROOT, "shared", &set_a).unwrap();
        let mut set_b: IdSet = hydrate_prop(&b, &automerge::ROOT, "shared").unwrap();
        set_b.insert(user);
        reconcile_prop(&mut b, automerge::ROOT, "shared", &set_b).unwrap();

        a.merge(&mut b).unwrap();
        let merged: IdSet = hydrate_prop(&a, &automerge::ROOT, "shared").unwrap();
        assert_eq!(merged.len(), 1);
        assert!(merged.contains(&user));
    }

    #[test]
    fn a_removal_and_a_concurrent_add_of_another_member_both_hold() {
        let (x, y) = (RecordId::new(), RecordId::new());
        let mut a = AutoCommit::new().with_actor(ActorId::random());
        reconcile_prop(&mut a, automerge::ROOT, "s", IdSet::from_iter([x])).unwrap();
        let mut b = a.fork().with_actor(ActorId::random());
        reconcile_prop(&mut a, automerge::ROOT, "s", IdSet::new()).unwrap();
        reconcile_prop(&mut b, automerge::ROOT, "s", IdSet::from_iter([x, y])).unwrap();
        a.merge(&mut b).unwrap();
        let merged: IdSet = hydrate_prop(&a, &automerge::ROOT, "s").unwrap();
        assert_eq!(merged, IdSet::from_iter([y]));
    }
}
