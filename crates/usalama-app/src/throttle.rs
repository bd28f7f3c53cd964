//! Log-in throttling. Per account, failures are counted in the store (so that every
//! instance and the command line see them, and an administrator can lift a lock); per
//! client, in this process's memory only: the client key (an IP address) is never stored or
//! logged. Both back off exponentially.

use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

/// When failed log-ins lock an account or block a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginPolicy {
    /// Failures of one account before it is locked.
    pub account_free_failures: u32,
    /// Failures from one client before it is blocked.
    pub client_free_failures: u32,
    /// The first lock's length; each further failure doubles it.
    pub base_lock_secs: i64,
    /// The longest lock.
    pub max_lock_secs: i64,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        Self {
            account_free_failures: 5,
            client_free_failures: 20,
            base_lock_secs: 30,
            max_lock_secs: 3600,
        }
    }
}

impl LoginPolicy {
    /// How long to lock after `failures` failures when `free` are allowed: nothing up to
    /// `free`, then `base`, `2·base`, `4·base`… up to the maximum.
    pub fn lock_for(&self, failures: u32, free: u32) -> Option<Duration> {
        if failures < free {
            return None;
        }
        let doublings = (failures - free).min(30);
        let secs = self
            .base_lock_secs
            .saturating_mul(1i64 << doublings)
            .min(self.max_lock_secs);
        Some(Duration::seconds(secs))
    }
}

/// Most clients remembered; the map is emptied when full (an attacker rotating addresses
/// then only resets its own counters, while accounts stay locked in the store).
const MAX_CLIENTS: usize = 100_000;

/// A client's failures and the end of its block.
type ClientState = (u32, Option<DateTime<Utc>>);

/// Failed log-ins per client key, in memory.
#[derive(Default)]
pub(crate) struct ClientThrottle {
    clients: Mutex<HashMap<String, ClientState>>,
}

impl ClientThrottle {
    /// Until when the client is blocked, if it is.
    pub fn blocked_until(&self, client: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let g = self.clients.lock().ok()?;
        g.get(client)
            .and_then(|(_, until)| *until)
            .filter(|u| *u > now)
    }

    /// Counts a failure of the client and blocks it per the policy.
    pub fn failed(&self, client: &str, now: DateTime<Utc>, policy: &LoginPolicy) {
        if let Ok(mut g) = self.clients.lock() {
            if g.len() >= MAX_CLIENTS {
                g.clear();
            }
            let e = g.entry(client.to_string()).or_insert((0, None));
            e.0 = e.0.saturating_add(1);
            e.1 = policy
                .lock_for(e.0, policy.client_free_failures)
                .map(|d| now + d);
        }
    }

    /// Forgets the client's failures (after a successful log-in).
    pub fn succeeded(&self, client: &str) {
        if let Ok(mut g) = self.clients.lock() {
            g.remove(client);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_double_up_to_the_maximum() {
        let p = LoginPolicy::default();
        assert_eq!(p.lock_for(4, 5), None);
        assert_eq!(p.lock_for(5, 5), Some(Duration::seconds(30)));
        assert_eq!(p.lock_for(6, 5), Some(Duration::seconds(60)));
        assert_eq!(p.lock_for(8, 5), Some(Duration::seconds(240)));
        assert_eq!(p.lock_for(1000, 5), Some(Duration::seconds(3600)));
    }

    #[test]
    fn clients_are_blocked_after_their_free_failures() {
        let p = LoginPolicy {
            client_free_failures: 2,
            ..Default::default()
        };
        let t = ClientThrottle::default();
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        t.failed("a", now, &p);
        assert_eq!(t.blocked_until("a", now), None);
        t.failed("a", now, &p);
        assert_eq!(t.blocked_until("a", now), Some(now + Duration::seconds(30)));
        assert_eq!(t.blocked_until("b", now), None);
        assert_eq!(t.blocked_until("a", now + Duration::seconds(31)), None);
        t.succeeded("a");
        assert_eq!(t.blocked_until("a", now), None);
    }
}
