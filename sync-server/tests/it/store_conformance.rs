//! The storage conformance suite: what every `Store` backend must do, written once against
//! `&dyn Store`. Each backend instantiates it with `store_conformance!(factory)`: SQLite and
//! PostgreSQL (a real server, started by the tests on a Unix socket, a fresh database per
//! case) do so below, with the same cases.

use fieldsales_core::{RecordId, Timestamp};
use fieldsales_server::audit::Actor;
use fieldsales_server::model::{
    AccountId, ActorId, DeviceId, DisplayName, Login, TenantId, TenantSlug,
};
use fieldsales_server::store::{
    NewAccount, NewBrowserSession, NewSession, NewTenant, PasswordChange, PasswordHash,
    SessionDevice, Store, StoreError, TokenHash,
};

/// Instantiates every case for one backend. `$factory` is an async expression returning a
/// value that derefs to `dyn Store` (and keeps whatever the store needs alive).
macro_rules! store_conformance {
    ($factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let store = $factory.await;
                super::cases::$case(&*store).await;
            }
        )*
    };
}

mod sqlite {
    use std::ops::Deref;

    use fieldsales_server::{SqliteStore, Store};
    use tempfile::TempDir;

    /// A fresh SQLite store in its own directory.
    pub struct Fresh {
        store: SqliteStore,
        _dir: TempDir,
    }

    impl Deref for Fresh {
        type Target = dyn Store;
        fn deref(&self) -> &Self::Target {
            &self.store
        }
    }

    async fn fresh() -> Fresh {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(
            dir.path().join("server.sqlite3"),
            crate::support::sqlite_options(),
        )
        .await
        .expect("store opens");
        Fresh { store, _dir: dir }
    }

    store_conformance!(fresh();
        a_fresh_store_is_healthy,
        a_tenant_slug_is_taken_once,
        logins_and_profiles_are_unique_within_a_tenant_only,
        an_account_needs_an_existing_tenant,
        lookups_never_cross_tenants,
        accounts_are_listed_by_login,
        a_password_hash_is_replaced_in_place,
        a_first_sign_in_writes_device_token_and_actor_together,
        a_new_sign_in_on_a_device_revokes_its_earlier_tokens_and_keeps_its_actors,
        a_sign_in_on_a_revoked_or_foreign_device_writes_nothing,
        revoking_an_account_revokes_its_devices_and_keeps_the_first_instant,
        revoking_a_device_keeps_the_first_instant,
        a_token_is_revoked_once,
        devices_are_listed_oldest_first,
        a_browser_session_is_a_token_on_no_device_and_is_revoked_alone,
        each_account_write_appends_one_chained_audit_entry_in_its_transaction,
    );
}

mod postgres {
    use std::ops::Deref;

    use fieldsales_server::postgres::PgOptions;
    use fieldsales_server::postgres::testing::LocalCluster;
    use fieldsales_server::{PostgresStore, Store};

    /// A fresh PostgreSQL store in its own database.
    pub struct Fresh(PostgresStore);

    impl Deref for Fresh {
        type Target = dyn Store;
        fn deref(&self) -> &Self::Target {
            &self.0
        }
    }

    async fn fresh() -> Fresh {
        let url = LocalCluster::shared().database().await.expect("a database");
        let store = PostgresStore::open(&PgOptions { url, pool_size: 4 })
            .await
            .expect("store opens");
        Fresh(store)
    }

    store_conformance!(fresh();
        a_fresh_store_is_healthy,
        a_tenant_slug_is_taken_once,
        logins_and_profiles_are_unique_within_a_tenant_only,
        an_account_needs_an_existing_tenant,
        lookups_never_cross_tenants,
        accounts_are_listed_by_login,
        a_password_hash_is_replaced_in_place,
        a_first_sign_in_writes_device_token_and_actor_together,
        a_new_sign_in_on_a_device_revokes_its_earlier_tokens_and_keeps_its_actors,
        a_sign_in_on_a_revoked_or_foreign_device_writes_nothing,
        revoking_an_account_revokes_its_devices_and_keeps_the_first_instant,
        revoking_a_device_keeps_the_first_instant,
        a_token_is_revoked_once,
        devices_are_listed_oldest_first,
        a_browser_session_is_a_token_on_no_device_and_is_revoked_alone,
        each_account_write_appends_one_chained_audit_entry_in_its_transaction,
    );
}

mod cases {
    use super::*;

    const T0: i64 = 1_773_018_000_000;

    fn at(minutes: i64) -> Timestamp {
        Timestamp::from_millis(T0 + minutes * 60_000)
    }

    fn new_tenant(slug: &str) -> NewTenant {
        NewTenant {
            id: TenantId::new(),
            slug: TenantSlug::parse(slug).unwrap(),
            name: DisplayName::parse(&format!("{slug} Ltd")).unwrap(),
            created_at: at(0),
        }
    }

    fn new_account(tenant: TenantId, login: &str) -> NewAccount {
        NewAccount {
            id: AccountId::new(),
            tenant_id: tenant,
            login: Login::parse(login).unwrap(),
            password_hash: PasswordHash(format!("$argon2id$hash-of-{login}")),
            profile_id: RecordId::new(),
            is_admin: false,
            created_at: at(0),
        }
    }

    fn token(n: u8) -> TokenHash {
        TokenHash([n; 32])
    }

    fn actor(n: u8) -> ActorId {
        ActorId::from_bytes([n; 16])
    }

    struct SessionBuilder(NewSession);

    impl SessionBuilder {
        fn new_device(tenant: TenantId, account: AccountId, token_n: u8, when: Timestamp) -> Self {
            SessionBuilder(NewSession {
                tenant_id: tenant,
                account_id: account,
                device: SessionDevice::New(DeviceId::new()),
                device_name: DisplayName::parse("phone").unwrap(),
                token_hash: token(token_n),
                actor: actor(token_n),
                issued_at: when,
                expires_at: Timestamp::from_millis(when.millis() + 30 * 86_400_000),
            })
        }

        fn existing(mut self, device: DeviceId) -> Self {
            self.0.device = SessionDevice::Existing(device);
            self
        }

        fn named(mut self, name: &str) -> Self {
            self.0.device_name = DisplayName::parse(name).unwrap();
            self
        }

        fn build(self) -> NewSession {
            self.0
        }
    }

    /// A tenant with one rep account.
    async fn tenant_with_rep(store: &dyn Store, slug: &str) -> (TenantId, AccountId) {
        let tenant = store.create_tenant(new_tenant(slug)).await.unwrap();
        let rep = store
            .create_account(new_account(tenant.id, "rep"), &Actor::SERVER)
            .await
            .unwrap();
        (tenant.id, rep.id)
    }

    pub async fn a_fresh_store_is_healthy(store: &dyn Store) {
        store.health().await.unwrap();
        assert!(store.token(token(1)).await.unwrap().is_none());
    }

    pub async fn a_tenant_slug_is_taken_once(store: &dyn Store) {
        let acme = store.create_tenant(new_tenant("acme")).await.unwrap();
        let err = store.create_tenant(new_tenant("acme")).await.unwrap_err();
        assert!(
            matches!(err, StoreError::TenantExists { ref slug } if slug.as_str() == "acme"),
            "{err:?}"
        );
        let found = store
            .tenant_by_slug(&TenantSlug::parse("ACME").unwrap())
            .await
            .unwrap();
        assert_eq!(found, Some(acme));
        assert!(
            store
                .tenant_by_slug(&TenantSlug::parse("globex").unwrap())
                .await
                .unwrap()
                .is_none()
        );
    }

    pub async fn logins_and_profiles_are_unique_within_a_tenant_only(store: &dyn Store) {
        let acme = store.create_tenant(new_tenant("acme")).await.unwrap();
        let globex = store.create_tenant(new_tenant("globex")).await.unwrap();
        let first = store
            .create_account(new_account(acme.id, "zhang.wei"), &Actor::SERVER)
            .await
            .unwrap();
        // The same login in another tenant is another person.
        store
            .create_account(new_account(globex.id, "zhang.wei"), &Actor::SERVER)
            .await
            .unwrap();

        let err = store
            .create_account(new_account(acme.id, "Zhang.Wei"), &Actor::SERVER)
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::LoginTaken { ref login } if login.as_str() == "zhang.wei"),
            "{err:?}"
        );

        let mut same_person = new_account(acme.id, "wei.zhang");
        same_person.profile_id = first.profile_id;
        let err = store
            .create_account(same_person, &Actor::SERVER)
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::ProfileTaken { profile_id } if profile_id == first.profile_id),
            "{err:?}"
        );
        assert_eq!(store.accounts(acme.id).await.unwrap().len(), 1);
    }

    pub async fn an_account_needs_an_existing_tenant(store: &dyn Store) {
        let ghost = TenantId::new();
        let err = store
            .create_account(new_account(ghost, "rep"), &Actor::SERVER)
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::TenantNotFound { tenant_id } if tenant_id == ghost),
            "{err:?}"
        );
    }

    pub async fn lookups_never_cross_tenants(store: &dyn Store) {
        let (acme, acme_rep) = tenant_with_rep(store, "acme").await;
        let (globex, _) = tenant_with_rep(store, "globex").await;
        let device = store
            .start_session(SessionBuilder::new_device(acme, acme_rep, 1, at(1)).build())
            .await
            .unwrap();

        assert!(store.account(acme, acme_rep).await.unwrap().is_some());
        assert!(store.account(globex, acme_rep).await.unwrap().is_none());
        assert!(store.device(globex, device.id).await.unwrap().is_none());
        assert!(store.devices(globex, acme_rep).await.unwrap().is_empty());
        assert!(store.actor(globex, actor(1)).await.unwrap().is_none());
        assert!(
            store
                .device_actors(globex, device.id)
                .await
                .unwrap()
                .is_empty()
        );
        let err = store
            .revoke_account(globex, acme_rep, at(2), &Actor::SERVER)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::AccountNotFound { .. }), "{err:?}");
        let err = store
            .revoke_device(globex, device.id, at(2), &Actor::SERVER)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::DeviceNotFound { .. }), "{err:?}");
        let err = store
            .set_password_hash(
                globex,
                acme_rep,
                PasswordHash("x".to_owned()),
                PasswordChange::Own {
                    by: Actor::SERVER,
                    at: at(0),
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::AccountNotFound { .. }), "{err:?}");
        // Nothing of the above touched acme's rep.
        let rep = store.account(acme, acme_rep).await.unwrap().unwrap();
        assert_eq!(rep.revoked_at, None);
        assert_eq!(
            store
                .device(acme, device.id)
                .await
                .unwrap()
                .unwrap()
                .revoked_at,
            None
        );
    }

    pub async fn accounts_are_listed_by_login(store: &dyn Store) {
        let acme = store.create_tenant(new_tenant("acme")).await.unwrap();
        for login in ["wang.fang", "li.na", "zhang.wei"] {
            store
                .create_account(new_account(acme.id, login), &Actor::SERVER)
                .await
                .unwrap();
        }
        let logins: Vec<String> = store
            .accounts(acme.id)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.login.as_str().to_owned())
            .collect();
        assert_eq!(logins, ["li.na", "wang.fang", "zhang.wei"]);
    }

    pub async fn a_password_hash_is_replaced_in_place(store: &dyn Store) {
        let (acme, rep) = tenant_with_rep(store, "acme").await;
        let login = Login::parse("rep").unwrap();
        let before = store.credentials(acme, &login).await.unwrap().unwrap();
        assert_eq!(before.password_hash.0, "$argon2id$hash-of-rep");
        assert_eq!(before.account.id, rep);
        store
            .set_password_hash(
                acme,
                rep,
                PasswordHash("$argon2id$new".to_owned()),
                PasswordChange::Own {
                    by: Actor::SERVER,
                    at: at(0),
                },
            )
            .await
            .unwrap();
        let after = store.credentials(acme, &login).await.unwrap().unwrap();
        assert_eq!(after.password_hash.0, "$argon2id$new");
        assert_eq!(after.account, before.account);
        assert!(
            store
                .credentials(acme, &Login::parse("nobody").unwrap())
                .await
                .unwrap()
                .is_none()
        );
        let err = store
            .set_password_hash(
                acme,
                AccountId::new(),
                PasswordHash("x".to_owned()),
                PasswordChange::Own {
                    by: Actor::SERVER,
                    at: at(0),
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::AccountNotFound { .. }), "{err:?}");
    }

    pub async fn a_first_sign_in_writes_device_token_and_actor_together(store: &dyn Store) {
        let (acme, rep) = tenant_with_rep(store, "acme").await;
        let session = SessionBuilder::new_device(acme, rep, 7, at(5))
            .named("Zhang Wei's phone")
            .build();
        let SessionDevice::New(device_id) = session.device else {
            unreachable!()
        };
        let device = store.start_session(session.clone()).await.unwrap();
        assert_eq!(device.id, device_id);
        assert_eq!(device.account_id, rep);
        assert_eq!(device.name.as_str(), "Zhang Wei's phone");
        assert_eq!(device.registered_at, at(5));
        assert_eq!(device.last_login_at, at(5));
        assert_eq!(device.revoked_at, None);

        let record = store.token(token(7)).await.unwrap().unwrap();
        assert_eq!(record.token_hash, token(7));
        assert_eq!(record.device, Some(device.clone()));
        assert_eq!(record.account.id, rep);
        assert_eq!(record.issued_at, at(5));
        assert_eq!(record.expires_at, session.expires_at);
        assert_eq!(record.revoked_at, None);

        let owner = store.actor(acme, actor(7)).await.unwrap().unwrap();
        assert_eq!(owner.device_id, device.id);
        assert_eq!(owner.account_id, rep);
        assert_eq!(owner.registered_at, at(5));
        assert_eq!(
            store.device_actors(acme, device.id).await.unwrap(),
            vec![owner]
        );
    }

    pub async fn a_new_sign_in_on_a_device_revokes_its_earlier_tokens_and_keeps_its_actors(
        store: &dyn Store,
    ) {
        let (acme, rep) = tenant_with_rep(store, "acme").await;
        let device = store
            .start_session(SessionBuilder::new_device(acme, rep, 1, at(0)).build())
            .await
            .unwrap();
        let again = store
            .start_session(
                SessionBuilder::new_device(acme, rep, 2, at(60))
                    .existing(device.id)
                    .named("renamed phone")
                    .build(),
            )
            .await
            .unwrap();
        assert_eq!(again.id, device.id);
        assert_eq!(again.registered_at, at(0));
        assert_eq!(again.last_login_at, at(60));
        assert_eq!(again.name.as_str(), "renamed phone");

        let old = store.token(token(1)).await.unwrap().unwrap();
        assert_eq!(old.revoked_at, Some(at(60)));
        let new = store.token(token(2)).await.unwrap().unwrap();
        assert_eq!(new.revoked_at, None);

        // Changes made offline with the first actor still belong to this device.
        let actors: Vec<ActorId> = store
            .device_actors(acme, device.id)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.actor)
            .collect();
        assert_eq!(actors, vec![actor(1), actor(2)]);
        assert_eq!(store.devices(acme, rep).await.unwrap().len(), 1);
    }

    pub async fn a_sign_in_on_a_revoked_or_foreign_device_writes_nothing(store: &dyn Store) {
        let (acme, rep) = tenant_with_rep(store, "acme").await;
        let other = store
            .create_account(new_account(acme, "other.rep"), &Actor::SERVER)
            .await
            .unwrap();
        let lost = store
            .start_session(SessionBuilder::new_device(acme, rep, 1, at(0)).build())
            .await
            .unwrap();
        store
            .revoke_device(acme, lost.id, at(10), &Actor::SERVER)
            .await
            .unwrap();

        let err = store
            .start_session(
                SessionBuilder::new_device(acme, rep, 2, at(20))
                    .existing(lost.id)
                    .build(),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::DeviceUnavailable { device_id } if device_id == lost.id),
            "{err:?}"
        );

        let shared = store
            .start_session(SessionBuilder::new_device(acme, rep, 3, at(30)).build())
            .await
            .unwrap();
        let err = store
            .start_session(
                SessionBuilder::new_device(acme, other.id, 4, at(40))
                    .existing(shared.id)
                    .build(),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::DeviceUnavailable { .. }),
            "{err:?}"
        );

        for refused in [2, 4] {
            assert!(store.token(token(refused)).await.unwrap().is_none());
            assert!(store.actor(acme, actor(refused)).await.unwrap().is_none());
        }
        // The refused sign-in did not revoke the device's live token either.
        assert_eq!(
            store.token(token(3)).await.unwrap().unwrap().revoked_at,
            None
        );
        assert_eq!(
            store
                .device(acme, shared.id)
                .await
                .unwrap()
                .unwrap()
                .last_login_at,
            at(30)
        );
    }

    pub async fn revoking_an_account_revokes_its_devices_and_keeps_the_first_instant(
        store: &dyn Store,
    ) {
        let (acme, rep) = tenant_with_rep(store, "acme").await;
        let colleague = store
            .create_account(new_account(acme, "colleague"), &Actor::SERVER)
            .await
            .unwrap();
        let phone = store
            .start_session(SessionBuilder::new_device(acme, rep, 1, at(0)).build())
            .await
            .unwrap();
        let tablet = store
            .start_session(SessionBuilder::new_device(acme, rep, 2, at(1)).build())
            .await
            .unwrap();
        store
            .revoke_device(acme, tablet.id, at(5), &Actor::SERVER)
            .await
            .unwrap();
        let theirs = store
            .start_session(SessionBuilder::new_device(acme, colleague.id, 3, at(2)).build())
            .await
            .unwrap();

        let revoked = store
            .revoke_account(acme, rep, at(10), &Actor::SERVER)
            .await
            .unwrap();
        assert_eq!(revoked.revoked_at, Some(at(10)));
        let again = store
            .revoke_account(acme, rep, at(20), &Actor::SERVER)
            .await
            .unwrap();
        assert_eq!(again.revoked_at, Some(at(10)));

        assert_eq!(
            store
                .device(acme, phone.id)
                .await
                .unwrap()
                .unwrap()
                .revoked_at,
            Some(at(10))
        );
        // A device revoked earlier keeps its own instant.
        assert_eq!(
            store
                .device(acme, tablet.id)
                .await
                .unwrap()
                .unwrap()
                .revoked_at,
            Some(at(5))
        );
        assert_eq!(
            store
                .device(acme, theirs.id)
                .await
                .unwrap()
                .unwrap()
                .revoked_at,
            None
        );
        assert_eq!(
            store
                .token(token(1))
                .await
                .unwrap()
                .unwrap()
                .account
                .revoked_at,
            Some(at(10))
        );
        assert_eq!(
            store
                .account(acme, colleague.id)
                .await
                .unwrap()
                .unwrap()
                .revoked_at,
            None
        );
    }

    pub async fn revoking_a_device_keeps_the_first_instant(store: &dyn Store) {
        let (acme, rep) = tenant_with_rep(store, "acme").await;
        let phone = store
            .start_session(SessionBuilder::new_device(acme, rep, 1, at(0)).build())
            .await
            .unwrap();
        let revoked = store
            .revoke_device(acme, phone.id, at(3), &Actor::SERVER)
            .await
            .unwrap();
        assert_eq!(revoked.revoked_at, Some(at(3)));
        let again = store
            .revoke_device(acme, phone.id, at(9), &Actor::SERVER)
            .await
            .unwrap();
        assert_eq!(again.revoked_at, Some(at(3)));
        assert_eq!(
            store
                .token(token(1))
                .await
                .unwrap()
                .unwrap()
                .device
                .and_then(|d| d.revoked_at),
            Some(at(3))
        );
        let err = store
            .revoke_device(acme, DeviceId::new(), at(9), &Actor::SERVER)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::DeviceNotFound { .. }), "{err:?}");
    }

    pub async fn a_token_is_revoked_once(store: &dyn Store) {
        let (acme, rep) = tenant_with_rep(store, "acme").await;
        store
            .start_session(SessionBuilder::new_device(acme, rep, 1, at(0)).build())
            .await
            .unwrap();
        assert!(store.revoke_token(token(1), at(4)).await.unwrap());
        assert!(!store.revoke_token(token(1), at(8)).await.unwrap());
        assert!(!store.revoke_token(token(99), at(8)).await.unwrap());
        assert_eq!(
            store.token(token(1)).await.unwrap().unwrap().revoked_at,
            Some(at(4))
        );
    }

    pub async fn each_account_write_appends_one_chained_audit_entry_in_its_transaction(
        store: &dyn Store,
    ) {
        use fieldsales_server::audit::{AuditQuery, verify};
        let (acme, rep) = tenant_with_rep(store, "acme").await;
        let (globex, _) = tenant_with_rep(store, "globex").await;
        let device = store
            .start_session(SessionBuilder::new_device(acme, rep, 1, at(0)).build())
            .await
            .unwrap();
        store
            .set_password_hash(
                acme,
                rep,
                PasswordHash("$argon2id$reset".to_owned()),
                PasswordChange::Reset {
                    by: Actor::SERVER,
                    at: at(1),
                },
            )
            .await
            .unwrap();
        assert!(
            store
                .token(token(1))
                .await
                .unwrap()
                .unwrap()
                .revoked_at
                .is_some(),
            "a reset signs the devices out"
        );
        store
            .revoke_device(acme, device.id, at(2), &Actor::SERVER)
            .await
            .unwrap();
        // A refused write appends nothing.
        store
            .revoke_device(acme, DeviceId::new(), at(3), &Actor::SERVER)
            .await
            .unwrap_err();
        let all = AuditQuery {
            limit: 100,
            ..AuditQuery::default()
        };
        let ops: Vec<String> = store
            .audit_entries(acme, &all)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.operation)
            .collect();
        assert_eq!(
            ops,
            [
                "account.create",
                "auth.sign_in",
                "password.reset",
                "device.revoke"
            ]
        );
        let by_device = AuditQuery {
            record: Some(*device.id.as_uuid()),
            ..all.clone()
        };
        assert_eq!(
            store.audit_entries(acme, &by_device).await.unwrap().len(),
            2
        );
        assert_eq!(store.audit_entries(globex, &all).await.unwrap().len(), 1);
        let heads = store.audit_heads().await.unwrap();
        assert_eq!(heads.len(), 2, "one accounts chain per tenant");
        for head in &heads {
            let report = verify::chain(store, head).await.unwrap();
            assert!(report.holds(), "{report}");
        }
    }

    pub async fn devices_are_listed_oldest_first(store: &dyn Store) {
        let (acme, rep) = tenant_with_rep(store, "acme").await;
        let mut made = Vec::new();
        for (n, minute) in [(1u8, 30), (2, 10), (3, 20)] {
            let d = store
                .start_session(SessionBuilder::new_device(acme, rep, n, at(minute)).build())
                .await
                .unwrap();
            made.push((minute, d.id));
        }
        made.sort();
        let listed: Vec<DeviceId> = store
            .devices(acme, rep)
            .await
            .unwrap()
            .into_iter()
            .map(|d| d.id)
            .collect();
        assert_eq!(
            listed,
            made.into_iter().map(|(_, id)| id).collect::<Vec<_>>()
        );
    }

    pub async fn a_browser_session_is_a_token_on_no_device_and_is_revoked_alone(store: &dyn Store) {
        let (acme, rep) = tenant_with_rep(store, "acme").await;
        store
            .start_session(SessionBuilder::new_device(acme, rep, 1, at(0)).build())
            .await
            .unwrap();
        for (n, minute) in [(2u8, 1), (3, 2)] {
            store
                .start_browser_session(NewBrowserSession {
                    tenant_id: acme,
                    account_id: rep,
                    token_hash: token(n),
                    issued_at: at(minute),
                    expires_at: at(minute + 60),
                })
                .await
                .unwrap();
        }
        let browser = store.token(token(2)).await.unwrap().unwrap();
        assert_eq!(browser.account.id, rep);
        assert_eq!(browser.device, None, "a browser session is no device");
        assert_eq!(browser.issued_at, at(1));
        assert_eq!(browser.expires_at, at(61));
        assert_eq!(
            store.devices(acme, rep).await.unwrap().len(),
            1,
            "only the phone is a device"
        );
        let err = store
            .start_browser_session(NewBrowserSession {
                tenant_id: TenantId::new(),
                account_id: rep,
                token_hash: token(9),
                issued_at: at(1),
                expires_at: at(61),
            })
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::AccountNotFound { .. }), "{err:?}");
        assert!(store.token(token(9)).await.unwrap().is_none());

        // Signing out ends one; an admin ends the rest; the phone's token lives on.
        assert!(store.revoke_token(token(2), at(5)).await.unwrap());
        assert_eq!(
            store.token(token(2)).await.unwrap().unwrap().revoked_at,
            Some(at(5))
        );
        assert_eq!(
            store
                .revoke_browser_sessions(acme, rep, at(6), Actor::SERVER)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            store.token(token(3)).await.unwrap().unwrap().revoked_at,
            Some(at(6))
        );
        assert_eq!(
            store
                .revoke_browser_sessions(acme, rep, at(7), Actor::SERVER)
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            store.token(token(1)).await.unwrap().unwrap().revoked_at,
            None
        );

        // Each browser sign-in and sign-out is in the audit log, on no device; the admin's
        // revocation once (the second found nothing live and wrote nothing).
        let about_rep = fieldsales_server::audit::AuditQuery {
            record: Some(*rep.as_uuid()),
            limit: 100,
            ..Default::default()
        };
        let entries = store.audit_entries(acme, &about_rep).await.unwrap();
        let browser: Vec<(&str, Option<&str>, bool)> = entries
            .iter()
            .filter(|e| e.operation.starts_with("auth."))
            .map(|e| {
                (
                    e.operation.as_str(),
                    e.detail.as_deref(),
                    e.device_id.is_none(),
                )
            })
            .collect();
        assert_eq!(
            browser,
            [
                ("auth.sign_in", Some("browser"), true),
                ("auth.sign_in", Some("browser"), true),
                ("auth.sign_out", Some("browser"), true),
                (
                    "auth.sign_out",
                    Some("browser sessions ended by an admin: 1"),
                    true
                ),
            ],
            "{entries:#?}"
        );
        assert_eq!(entries[entries.len() - 1].account_id, None, "by the server");
    }
}
