//! Who is acting: the signed-in user as the rules see them, and the one place that decides it
//! from the tenant's records.
//!
//! The server decides a user's [`Me`] at sign-in and at every sync from its copy of the
//! tenant (profile, unit, roles, the widest data scope among the roles); the phone keeps what
//! the server said at sign-in and takes what every sync answer says (an admin's change of role
//! or team reaches the phone's own rules at its next sync). Both call [`resolve`], over any store, so the answer cannot drift between
//! a backend and another.

use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use crate::record::DataScope;
use crate::record::private::Hidden;
use crate::store::{StoreRead, read::sql};
use crate::{Error, RecordId, Result, Zone};

/// Who is acting on this device: what the server said at sign-in or at the last sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    /// The user's profile record.
    pub user_id: RecordId,
    /// The org unit the user belongs to.
    pub unit_id: RecordId,
    /// Role codes (`sales_rep`, `sales_manager`, ...).
    pub roles: Vec<String>,
    /// How much of the org the user sees.
    pub scope: DataScope,
    /// The user's own time zone: "today" and report deadlines follow it.
    pub zone: Zone,
    /// The sensitive fields the user's roles hide: their companions never reach the user's
    /// devices, and the phone shows them as hidden.
    #[serde(default)]
    pub hidden: Hidden,
}

impl Me {
    /// Whether the user's scope reaches beyond their own records (a manager, a director, an
    /// admin). A scope this version does not know counts as the narrowest.
    pub fn manages_others(&self) -> bool {
        matches!(
            self.scope,
            DataScope::Subtree | DataScope::Region | DataScope::All
        )
    }

    /// Whether the user holds a role.
    pub fn has_role(&self, code: &str) -> bool {
        self.roles.iter().any(|r| r == code)
    }
}

/// How much a scope shows; a scope this version does not know shows the least.
pub fn breadth(scope: &DataScope) -> u8 {
    match scope {
        DataScope::All => 3,
        DataScope::Region => 2,
        DataScope::Subtree => 1,
        _ => 0,
    }
}

/// The user whose profile record is `profile`, with the widest data scope of their live
/// roles; `None` when the store holds no live, active profile of that id. Reads the `users`
/// and `roles` projections, loading no document.
pub fn resolve<S: StoreRead + ?Sized>(store: &S, profile: RecordId) -> Result<Option<Me>> {
    let conn = sql(store);
    let row: Option<(RecordId, String, String, bool, bool)> = conn
        .prepare_cached("SELECT unit_id, roles, zone, active, deleted FROM users WHERE id = ?1")?
        .query_row([profile], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?;
    let Some((unit_id, roles, zone, active, deleted)) = row else {
        return Ok(None);
    };
    if deleted || !active {
        return Ok(None);
    }
    let roles: Vec<String> = roles.split_whitespace().map(str::to_owned).collect();
    let mut scope = DataScope::Own;
    let mut hidden = Vec::new();
    let mut stmt =
        conn.prepare_cached("SELECT code, data_scope, hidden_fields FROM roles WHERE deleted = 0")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    for row in rows {
        let (code, data_scope, hides) = row?;
        if roles.contains(&code) {
            hidden.push(hides);
            let candidate = DataScope::from_code(&data_scope);
            if breadth(&candidate) > breadth(&scope) {
                scope = candidate;
            }
        }
    }
    Ok(Some(Me {
        user_id: profile,
        unit_id,
        roles,
        scope,
        hidden: Hidden::common(hidden.iter().map(String::as_str)),
        zone: zone.parse().map_err(|_| {
            Error::Internal(format!(
                "the profile {profile} is stored with an unknown zone"
            ))
        })?,
    }))
}
