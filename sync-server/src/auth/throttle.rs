//! Wrong passwords slow further sign-ins: per login and per client address.
//!
//! After `auth.lockout_after` wrong passwords in a row for one login (or
//! `auth.address_lockout_after` from one address), further attempts are answered `429
//! too_many_attempts` with `Retry-After` — before the password is checked at all, so a
//! guesser costs the server nothing — and each further failure doubles the wait, from one
//! second up to `auth.lockout_max`. A successful sign-in clears its login's count. The counts
//! live in the instance's memory, bounded in size: a flood of fresh logins or addresses
//! evicts the oldest entries rather than growing without end. Where several instances share
//! one store (PostgreSQL), a login's count is also kept in the store
//! (`Store::sign_in_failed`), so a guesser spreading guesses over the instances is slowed
//! after the same number of wrong passwords as one talking to a single instance.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use fieldsales_core::Timestamp;

/// Entries kept per map at most.
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Timestamp,
    until: Timestamp,
}

#[derive(Debug)]
struct Counts<K> {
    entries: HashMap<K, Failures>,
}

impl<K> Default for Counts<K> {
    fn default() -> Self {
        Counts {
            entries: HashMap::new(),
        }
    }
}

impl<K: Hash + Eq + Clone> Counts<K> {
    fn wait(&self, key: &K, now: Timestamp) -> Option<Duration> {
        let f = self.entries.get(key)?;
        (f.until > now).then(|| Duration::from_millis((f.until.millis() - now.millis()) as u64))
    }

    fn fail(&mut self, key: K, now: Timestamp, after: u32, max: Duration) -> Option<Duration> {
        if self.entries.len() >= MAX_ENTRIES && !self.entries.contains_key(&key) {
            self.evict(now, max);
        }
        let f = self.entries.entry(key).or_insert(Failures {
            count: 0,
            last: now,
            until: now,
        });
        f.count = f.count.saturating_add(1);
        f.last = now;
        let wait = backoff(f.count, after, max)?;
        f.until = now.plus_millis(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX));
        Some(wait)
    }

    fn clear(&mut self, key: &K) {
        self.entries.remove(key);
    }

    /// Drops entries whose wait is over and whose last failure is older than the longest
    /// wait; if the map is still full, the oldest failures.
    fn evict(&mut self, now: Timestamp, max: Duration) {
        let horizon = now.plus_millis(-i64::try_from(max.as_millis()).unwrap_or(i64::MAX));
        self.entries
            .retain(|_, f| f.until > now || f.last > horizon);
        if self.entries.len() >= MAX_ENTRIES {
            let mut ages: Vec<Timestamp> = self.entries.values().map(|f| f.last).collect();
            ages.sort();
            let cut = ages[ages.len() / 2];
            self.entries.retain(|_, f| f.last > cut);
        }
    }
}

/// The wait after `count` wrong passwords in a row, when `after` of them start one: one
/// second, doubling with each further failure, up to `max`.
pub fn backoff(count: u32, after: u32, max: Duration) -> Option<Duration> {
    if count < after.max(1) {
        return None;
    }
    let doublings = (count - after.max(1)).min(30);
    Some(Duration::from_secs(1u64 << doublings).min(max))
}

/// How long a login that signed in stays trusted (checked first under a flood).
const TRUSTED_FOR_MS: i64 = 30 * 24 * 3_600_000;

/// The waits one wrong password started: each is a lockout, which the audit log records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lockout {
    /// The login must wait this long.
    pub login: Option<Duration>,
    /// The address must wait this long.
    pub address: Option<Duration>,
}

impl Lockout {
    /// The longer wait, if any.
    pub fn wait(&self) -> Option<Duration> {
        self.login.max(self.address)
    }
}

/// The sign-in throttle of one server instance.
#[derive(Debug)]
pub struct Throttle {
    logins: Mutex<Counts<(String, String)>>,
    signed_in: Mutex<HashMap<(String, String), Timestamp>>,
    addresses: Mutex<Counts<IpAddr>>,
    lockout_after: u32,
    address_lockout_after: u32,
    lockout_max: Duration,
}

impl Throttle {
    /// A throttle with the configured thresholds.
    pub fn new(lockout_after: u32, address_lockout_after: u32, lockout_max: Duration) -> Self {
        Throttle {
            logins: Mutex::new(Counts::default()),
            signed_in: Mutex::new(HashMap::new()),
            addresses: Mutex::new(Counts::default()),
            lockout_after: lockout_after.max(1),
            address_lockout_after: address_lockout_after.max(1),
            lockout_max,
        }
    }

    /// The key a login's failures are counted under: the tenant as signed in with and the
    /// login, both without case.
    pub fn key(tenant: &str, login: &str) -> (String, String) {
        (tenant.to_ascii_lowercase(), login.to_lowercase())
    }

    /// How many wrong passwords in a row start a login's wait.
    pub fn lockout_after(&self) -> u32 {
        self.lockout_after
    }

    /// The longest wait.
    pub fn lockout_max(&self) -> Duration {
        self.lockout_max
    }

    /// How long a sign-in for `login` of `tenant` from `address` must wait, if it must.
    pub fn wait(
        &self,
        tenant: &str,
        login: &str,
        address: Option<IpAddr>,
        now: Timestamp,
    ) -> Option<Duration> {
        let by_login = self
            .logins
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .wait(&Self::key(tenant, login), now);
        let by_address = address.and_then(|a| {
            self.addresses
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .wait(&a, now)
        });
        by_login.max(by_address)
    }

    /// Records a wrong password; returns the waits it starts, if it starts any (the login's
    /// or the address's count reached its threshold: a lockout).
    pub fn failed(
        &self,
        tenant: &str,
        login: &str,
        address: Option<IpAddr>,
        now: Timestamp,
    ) -> Lockout {
        let by_login = self
            .logins
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .fail(
                Self::key(tenant, login),
                now,
                self.lockout_after,
                self.lockout_max,
            );
        let by_address = address.and_then(|a| {
            self.addresses
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .fail(a, now, self.address_lockout_after, self.lockout_max)
        });
        Lockout {
            login: by_login,
            address: by_address,
        }
    }

    /// Whether the login signed in successfully within the last 30 days and has not failed
    /// since: such a sign-in is checked before the others, so a flood of wrong passwords
    /// (from logins that never succeed) waits behind the people who know theirs.
    pub fn trusted(&self, tenant: &str, login: &str, now: Timestamp) -> bool {
        let key = Self::key(tenant, login);
        let failed = self
            .logins
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entries
            .contains_key(&key);
        let recent = self
            .signed_in
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .is_some_and(|at| at.millis() + TRUSTED_FOR_MS > now.millis());
        recent && !failed
    }

    /// A successful sign-in: the login's count starts again.
    pub fn succeeded(&self, tenant: &str, login: &str, now: Timestamp) {
        let key = Self::key(tenant, login);
        self.logins
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear(&key);
        let mut signed_in = self
            .signed_in
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if signed_in.len() >= MAX_ENTRIES && !signed_in.contains_key(&key) {
            // Bounded: the older half goes.
            let mut ages: Vec<Timestamp> = signed_in.values().copied().collect();
            ages.sort();
            let cut = ages[ages.len() / 2];
            signed_in.retain(|_, at| *at > cut);
        }
        signed_in.insert(key, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_millis(1_800_000_000_000 + secs * 1_000)
    }

    #[test]
    fn five_wrong_passwords_lock_the_login_with_a_wait_that_doubles_up_to_the_most() {
        let t = Throttle::new(5, 100, Duration::from_secs(8));
        for n in 0..4 {
            assert_eq!(t.failed("acme", "li.na", None, at(n)).wait(), None);
            assert_eq!(t.wait("acme", "li.na", None, at(n)), None);
        }
        assert_eq!(
            t.failed("acme", "li.na", None, at(4)).wait(),
            Some(Duration::from_secs(1))
        );
        assert!(
            t.wait("acme", "LI.NA", None, at(4)).is_some(),
            "logins compare without case"
        );
        assert_eq!(
            t.wait("acme", "li.na", None, at(5)),
            None,
            "the wait is over"
        );
        assert_eq!(
            t.failed("acme", "li.na", None, at(5)).wait(),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            t.failed("acme", "li.na", None, at(7)).wait(),
            Some(Duration::from_secs(4))
        );
        assert_eq!(
            t.failed("acme", "li.na", None, at(11)).wait(),
            Some(Duration::from_secs(8))
        );
        assert_eq!(
            t.failed("acme", "li.na", None, at(19)).wait(),
            Some(Duration::from_secs(8))
        );
        // Another login of the tenant is not slowed; a success clears the count.
        assert_eq!(t.wait("acme", "zhao.min", None, at(19)), None);
        t.succeeded("acme", "li.na", at(0));
        assert_eq!(t.wait("acme", "li.na", None, at(19)), None);
        assert_eq!(t.failed("acme", "li.na", None, at(20)).wait(), None);
    }

    #[test]
    fn one_address_guessing_many_logins_is_slowed_too() {
        let t = Throttle::new(5, 3, Duration::from_secs(60));
        let guesser: IpAddr = "203.0.113.9".parse().unwrap();
        let other: IpAddr = "198.51.100.7".parse().unwrap();
        for (n, login) in ["a", "b"].into_iter().enumerate() {
            assert_eq!(
                t.failed("acme", login, Some(guesser), at(n as i64)).wait(),
                None
            );
        }
        assert!(t.failed("acme", "c", Some(guesser), at(2)).wait().is_some());
        assert!(t.wait("acme", "d", Some(guesser), at(2)).is_some());
        assert_eq!(t.wait("acme", "d", Some(other), at(2)), None);
    }

    #[test]
    fn a_flood_of_fresh_logins_stays_bounded() {
        let t = Throttle::new(5, u32::MAX, Duration::from_secs(1));
        for n in 0..(MAX_ENTRIES as i64 + 10) {
            t.failed("acme", &format!("user{n}"), None, at(n / 1_000))
                .wait();
        }
        assert!(t.logins.lock().unwrap().entries.len() <= MAX_ENTRIES);
    }

    #[test]
    fn a_login_is_trusted_after_signing_in_until_it_fails_or_thirty_days_pass() {
        let t = Throttle::new(5, 30, Duration::from_secs(60));
        assert!(!t.trusted("acme", "li.na", at(0)), "never signed in");
        t.succeeded("acme", "li.na", at(0));
        assert!(t.trusted("acme", "LI.NA", at(1)));
        assert!(!t.trusted("acme", "wang.fang", at(1)));
        t.failed("acme", "li.na", None, at(2)).wait();
        assert!(!t.trusted("acme", "li.na", at(3)), "failed since");
        t.succeeded("acme", "li.na", at(4));
        assert!(t.trusted("acme", "li.na", at(5)));
        assert!(
            !t.trusted("acme", "li.na", at(4 + 30 * 24 * 3600)),
            "thirty days later"
        );
    }
}
