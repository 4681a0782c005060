//! Wrong passwords slow further sign-ins: per login and per client address.
//!
//! After `auth.lockout_after` wrong passwords in a row for one login (or
//! `auth.address_lockout_after` from one address), further attempts are answered `429
//! too_many_attempts` with `Retry-After` — before the password is checked at all, so a
//! guesser costs the server nothing — and each further failure doubles the wait, from one
//! second up to `auth.lockout_max`. A successful sign-in clears its login's count. The counts
//! live in the instance's memory, bounded in size: a flood of fresh logins or addresses
//! evicts the oldest entries rather than growing without end.

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
        if f.count < after {
            return None;
        }
        let doublings = (f.count - after).min(30);
        let wait = Duration::from_secs(1u64 << doublings).min(max);
        f.until = now.plus_millis(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX));
        Some(wait)
    }

    /// Whether `key` failed within `max` before `now`.
    fn failed_lately(&self, key: &K, now: Timestamp, max: Duration) -> bool {
        let horizon = now.plus_millis(-i64::try_from(max.as_millis()).unwrap_or(i64::MAX));
        self.entries.get(key).is_some_and(|f| f.last > horizon)
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

/// The sign-in throttle of one server instance.
#[derive(Debug)]
pub struct Throttle {
    logins: Mutex<Counts<(String, String)>>,
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
            addresses: Mutex::new(Counts::default()),
            lockout_after: lockout_after.max(1),
            address_lockout_after: address_lockout_after.max(1),
            lockout_max,
        }
    }

    fn key(tenant: &str, login: &str) -> (String, String) {
        (tenant.to_ascii_lowercase(), login.to_lowercase())
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

    /// Records a wrong password; returns the wait it starts, if it starts one (the login's
    /// count reached its threshold: a lockout).
    pub fn failed(
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
        by_login.max(by_address)
    }

    /// Whether neither the login nor the address failed lately (within `auth.lockout_max`):
    /// such a sign-in is checked before those of clients that did, so a flood of wrong
    /// passwords does not hold up the people who know theirs.
    pub fn clean(
        &self,
        tenant: &str,
        login: &str,
        address: Option<IpAddr>,
        now: Timestamp,
    ) -> bool {
        let login_failed = self
            .logins
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .failed_lately(&Self::key(tenant, login), now, self.lockout_max);
        let address_failed = address.is_some_and(|a| {
            self.addresses
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .failed_lately(&a, now, self.lockout_max)
        });
        !login_failed && !address_failed
    }

    /// A successful sign-in: the login's count starts again.
    pub fn succeeded(&self, tenant: &str, login: &str) {
        self.logins
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear(&Self::key(tenant, login));
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
            assert_eq!(t.failed("acme", "li.na", None, at(n)), None);
            assert_eq!(t.wait("acme", "li.na", None, at(n)), None);
        }
        assert_eq!(
            t.failed("acme", "li.na", None, at(4)),
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
            t.failed("acme", "li.na", None, at(5)),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            t.failed("acme", "li.na", None, at(7)),
            Some(Duration::from_secs(4))
        );
        assert_eq!(
            t.failed("acme", "li.na", None, at(11)),
            Some(Duration::from_secs(8))
        );
        assert_eq!(
            t.failed("acme", "li.na", None, at(19)),
            Some(Duration::from_secs(8))
        );
        // Another login of the tenant is not slowed; a success clears the count.
        assert_eq!(t.wait("acme", "zhao.min", None, at(19)), None);
        t.succeeded("acme", "li.na");
        assert_eq!(t.wait("acme", "li.na", None, at(19)), None);
        assert_eq!(t.failed("acme", "li.na", None, at(20)), None);
    }

    #[test]
    fn one_address_guessing_many_logins_is_slowed_too() {
        let t = Throttle::new(5, 3, Duration::from_secs(60));
        let guesser: IpAddr = "203.0.113.9".parse().unwrap();
        let other: IpAddr = "198.51.100.7".parse().unwrap();
        for (n, login) in ["a", "b"].into_iter().enumerate() {
            assert_eq!(t.failed("acme", login, Some(guesser), at(n as i64)), None);
        }
        assert!(t.failed("acme", "c", Some(guesser), at(2)).is_some());
        assert!(t.wait("acme", "d", Some(guesser), at(2)).is_some());
        assert_eq!(t.wait("acme", "d", Some(other), at(2)), None);
    }

    #[test]
    fn a_flood_of_fresh_logins_stays_bounded() {
        let t = Throttle::new(5, u32::MAX, Duration::from_secs(1));
        for n in 0..(MAX_ENTRIES as i64 + 10) {
            t.failed("acme", &format!("user{n}"), None, at(n / 1_000));
        }
        assert!(t.logins.lock().unwrap().entries.len() <= MAX_ENTRIES);
    }

    #[test]
    fn a_login_or_address_that_failed_lately_is_not_clean_until_the_longest_wait_has_passed() {
        let t = Throttle::new(5, 30, Duration::from_secs(60));
        let office: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(t.clean("acme", "li.na", Some(office), at(0)));
        t.failed("acme", "wang.fang", Some(office), at(0));
        assert!(
            !t.clean("acme", "li.na", Some(office), at(1)),
            "the address failed"
        );
        assert!(
            !t.clean("acme", "wang.fang", Some(other), at(1)),
            "the login failed"
        );
        assert!(t.clean("acme", "li.na", Some(other), at(1)));
        t.succeeded("acme", "wang.fang");
        assert!(t.clean("acme", "wang.fang", Some(other), at(2)));
        assert!(
            t.clean("acme", "li.na", Some(office), at(61)),
            "a typo older than the longest wait is forgiven"
        );
    }
}
