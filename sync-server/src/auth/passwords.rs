//! Password hashing on a fixed set of workers with memory of their own.
//!
//! argon2 needs 19 MiB per check. Run on tokio's blocking pool, a flood of sign-ins spread
//! the checks over ever new threads, each keeping its own allocator arena of freed blocks: 30
//! clients sending wrong passwords held gigabytes. Here a fixed number of worker threads
//! (`auth.max_concurrent_hashes`) each own one block buffer, reused for every check, so the
//! memory is the workers' count times one buffer, whatever the load; and the queue in front of
//! them is bounded, so a flood beyond it is told "busy" at once instead of piling up.
//!
//! The queue has two lanes. Sign-ins whose login and address have not failed lately
//! ([`Lane::Clean`]) are checked before the others ([`Lane::Suspect`]), so a flood of wrong
//! passwords waits behind the people who know theirs instead of in front of them.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use argon2::password_hash::PasswordHasher;
use argon2::password_hash::phc::PasswordHash as Phc;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;

use crate::model::Password;
use crate::store::PasswordHash;

/// Hashing failed on the server side (never because of the password given).
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// argon2 refused to hash (out of memory, random source failed).
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// A stored hash is not a valid PHC string.
    #[error("a stored password hash is damaged")]
    StoredHashDamaged,
    /// Every worker is busy and the queue in front of them is full: try again shortly.
    #[error("password checks are busy")]
    Busy,
    /// The workers stopped (shutting down).
    #[error("password hashing is shut down")]
    Closed,
}

/// The largest argon2 memory a worker's buffer grows to, in KiB blocks: a stored hash asking
/// for more (not one this server wrote) is refused rather than allocated.
const MAX_BLOCKS: usize = 64 * 1024;

/// How many checks may wait per worker before new ones are told "busy".
const QUEUE_PER_WORKER: usize = 8;

enum Job {
    Verify {
        clear: String,
        hash: String,
        reply: oneshot::Sender<Result<bool, PasswordError>>,
    },
    Hash {
        clear: String,
        reply: oneshot::Sender<Result<PasswordHash, PasswordError>>,
    },
}

/// Which lane of the queue a check waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Neither the login nor the address failed lately: checked first.
    Clean,
    /// Failed lately (or unknown): checked when no clean check waits.
    Suspect,
}

#[derive(Debug, Default)]
struct Waiting {
    clean: VecDeque<Job>,
    suspect: VecDeque<Job>,
    closed: bool,
}

/// The bounded two-lane queue in front of the workers.
#[derive(Debug)]
struct Queue {
    waiting: Mutex<Waiting>,
    ready: Condvar,
    per_lane: usize,
}

impl Queue {
    fn push(&self, lane: Lane, job: Job) -> Result<(), PasswordError> {
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        if waiting.closed {
            return Err(PasswordError::Closed);
        }
        let line = match lane {
            Lane::Clean => &mut waiting.clean,
            Lane::Suspect => &mut waiting.suspect,
        };
        if line.len() >= self.per_lane {
            return Err(PasswordError::Busy);
        }
        line.push_back(job);
        drop(waiting);
        self.ready.notify_one();
        Ok(())
    }

    /// The next job, clean lane first; `None` once closed.
    fn pop(&self) -> Option<Job> {
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(job) = waiting.clean.pop_front() {
                return Some(job);
            }
            if let Some(job) = waiting.suspect.pop_front() {
                return Some(job);
            }
            if waiting.closed {
                return None;
            }
            waiting = self
                .ready
                .wait(waiting)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn close(&self) {
        self.waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .closed = true;
        self.ready.notify_all();
    }
}

/// Stops the workers when the last handle goes.
#[derive(Debug)]
struct Closer(Arc<Queue>);

impl Drop for Closer {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// Hashes and verifies passwords on a fixed set of worker threads.
#[derive(Debug, Clone)]
pub struct Passwords {
    queue: Arc<Queue>,
    _closer: Arc<Closer>,
    decoy: Arc<PasswordHash>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Job::Verify { .. } => "Verify",
            Job::Hash { .. } => "Hash",
        })
    }
}

fn hash_blocking(clear: &str) -> Result<PasswordHash, PasswordError> {
    // argon2id, 19 MiB, 2 passes, 1 lane: the OWASP recommendation. The parameters are
    // stored in each PHC string, so raising them later still verifies older hashes.
    let hash: Phc = Argon2::default()
        .hash_password(clear.as_bytes())
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(PasswordHash(hash.to_string()))
}

/// Checks `clear` against the PHC string `stored` with the worker's own `blocks`.
fn verify_with(blocks: &mut Vec<Block>, clear: &str, stored: &str) -> Result<bool, PasswordError> {
    let parsed = Phc::new(stored).map_err(|_| PasswordError::StoredHashDamaged)?;
    let algorithm =
        Algorithm::new(parsed.algorithm).map_err(|_| PasswordError::StoredHashDamaged)?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|_| PasswordError::StoredHashDamaged)?
        .unwrap_or_default();
    let params = Params::try_from(&parsed).map_err(|_| PasswordError::StoredHashDamaged)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(PasswordError::StoredHashDamaged);
    };
    let count = params.block_count();
    if count > MAX_BLOCKS {
        return Err(PasswordError::StoredHashDamaged);
    }
    if blocks.len() < count {
        blocks.resize(count, Block::default());
    }
    let salt: &[u8] = salt.as_ref();
    let expected = expected.as_bytes();
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(clear.as_bytes(), salt, &mut out, &mut blocks[..count])
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    // Every byte compared whatever the first difference: the time says nothing.
    Ok(out
        .iter()
        .zip(expected)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0)
}

fn work(queue: Arc<Queue>) {
    let mut blocks: Vec<Block> = vec![Block::default(); Params::default().block_count()];
    while let Some(job) = queue.pop() {
        match job {
            Job::Verify { clear, hash, reply } => {
                let _ = reply.send(verify_with(&mut blocks, &clear, &hash));
            }
            Job::Hash { clear, reply } => {
                let _ = reply.send(hash_blocking(&clear));
            }
        }
    }
}

impl Passwords {
    /// A hasher with `workers` worker threads. Computes the decoy hash.
    pub async fn new(workers: usize) -> Result<Self, PasswordError> {
        let workers = workers.max(1);
        let queue = Arc::new(Queue {
            waiting: Mutex::new(Waiting::default()),
            ready: Condvar::new(),
            per_lane: workers * QUEUE_PER_WORKER,
        });
        for n in 0..workers {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("passwords-{n}"))
                .spawn(move || work(queue))
                .map_err(|e| PasswordError::Hash(e.to_string()))?;
        }
        let mut passwords = Passwords {
            _closer: Arc::new(Closer(Arc::clone(&queue))),
            queue,
            decoy: Arc::new(PasswordHash(String::new())),
        };
        passwords.decoy = Arc::new(
            passwords
                .hash(&Password::new("decoy password, never valid"))
                .await?,
        );
        Ok(passwords)
    }

    /// Hashes a new password.
    pub async fn hash(&self, password: &Password) -> Result<PasswordHash, PasswordError> {
        let (reply, answer) = oneshot::channel();
        self.queue.push(
            Lane::Clean,
            Job::Hash {
                clear: password.expose().to_owned(),
                reply,
            },
        )?;
        answer.await.map_err(|_| PasswordError::Closed)?
    }

    /// Whether `password` matches `stored`, checked in the clean lane. With no stored hash
    /// (unknown login) it checks a decoy and answers `false`, taking the same time as a real
    /// check.
    pub async fn verify(
        &self,
        password: &Password,
        stored: Option<&PasswordHash>,
    ) -> Result<bool, PasswordError> {
        self.verify_in(Lane::Clean, password, stored).await
    }

    /// [`Passwords::verify`], waiting in `lane`.
    pub async fn verify_in(
        &self,
        lane: Lane,
        password: &Password,
        stored: Option<&PasswordHash>,
    ) -> Result<bool, PasswordError> {
        let real = stored.is_some();
        let (reply, answer) = oneshot::channel();
        self.queue.push(
            lane,
            Job::Verify {
                clear: password.expose().to_owned(),
                hash: stored.unwrap_or(&self.decoy).0.clone(),
                reply,
            },
        )?;
        let matched = answer.await.map_err(|_| PasswordError::Closed)??;
        Ok(real && matched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only_and_never_contains_it() {
        let passwords = Passwords::new(2).await.unwrap();
        let right = Password::new("correct horse battery staple");
        let hash = passwords.hash(&right).await.unwrap();
        assert!(hash.0.starts_with("$argon2id$"));
        assert!(!hash.0.contains("horse"));
        assert!(passwords.verify(&right, Some(&hash)).await.unwrap());
        let wrong = Password::new("correct horse battery stapler");
        assert!(!passwords.verify(&wrong, Some(&hash)).await.unwrap());
    }

    #[tokio::test]
    async fn an_unknown_login_never_verifies_even_with_the_decoy_password() {
        let passwords = Passwords::new(1).await.unwrap();
        let decoy = Password::new("decoy password, never valid");
        assert!(!passwords.verify(&decoy, None).await.unwrap());
    }

    #[tokio::test]
    async fn a_hash_written_by_the_library_itself_verifies_on_the_workers() {
        // A hash as `Argon2::hash_password` writes it, as the accounts store holds them.
        let stored = hash_blocking("tiger lily 1927").unwrap();
        let passwords = Passwords::new(1).await.unwrap();
        assert!(
            passwords
                .verify(&Password::new("tiger lily 1927"), Some(&stored))
                .await
                .unwrap()
        );
        assert!(
            !passwords
                .verify(&Password::new("tiger lily 1928"), Some(&stored))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn a_damaged_hash_or_one_asking_for_huge_memory_is_refused_not_allocated() {
        let passwords = Passwords::new(1).await.unwrap();
        let pw = Password::new("anything at all");
        for stored in [
            "not a phc string",
            "$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g",
        ] {
            let err = passwords
                .verify(&pw, Some(&PasswordHash(stored.into())))
                .await
                .unwrap_err();
            assert!(matches!(err, PasswordError::StoredHashDamaged), "{err}");
        }
    }

    #[tokio::test]
    async fn a_flood_beyond_the_queue_is_told_busy_at_once() {
        let passwords = Passwords::new(1).await.unwrap();
        let stored = passwords.hash(&Password::new("a password")).await.unwrap();
        let calls: Vec<_> = (0..(QUEUE_PER_WORKER * 4))
            .map(|_| {
                let passwords = passwords.clone();
                let stored = stored.clone();
                tokio::spawn(async move {
                    passwords
                        .verify(&Password::new("wrong"), Some(&stored))
                        .await
                })
            })
            .collect();
        let mut busy = 0;
        for call in calls {
            match call.await.unwrap() {
                Ok(matched) => assert!(!matched),
                Err(PasswordError::Busy) => busy += 1,
                Err(other) => panic!("{other}"),
            }
        }
        assert!(busy > 0, "the queue is bounded");
    }

    #[tokio::test]
    async fn a_clean_check_goes_before_every_suspect_one_waiting() {
        let passwords = Passwords::new(1).await.unwrap();
        let stored = passwords.hash(&Password::new("a password")).await.unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        let call = |lane: Lane, tag: &'static str| {
            let (passwords, stored, order) =
                (passwords.clone(), stored.clone(), Arc::clone(&order));
            tokio::spawn(async move {
                let r = passwords
                    .verify_in(lane, &Password::new("wrong"), Some(&stored))
                    .await;
                order.lock().unwrap().push(tag);
                r
            })
        };
        // The one worker is kept busy while suspects queue, then a clean check arrives.
        let mut calls = vec![call(Lane::Suspect, "first suspect")];
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        for _ in 0..5 {
            calls.push(call(Lane::Suspect, "suspect"));
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        calls.push(call(Lane::Clean, "clean"));
        for c in calls {
            assert!(!c.await.unwrap().unwrap());
        }
        let order = order.lock().unwrap().clone();
        let clean_at = order.iter().position(|t| *t == "clean").unwrap();
        assert!(
            clean_at <= 2,
            "the clean check waited only for the checks already running: {order:?}"
        );
    }
}
