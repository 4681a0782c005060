//! Who is calling: passwords at sign-in, then a per-device bearer token on every request.
//!
//! A token is 32 random bytes handed to the device once; the store keeps only its SHA-256
//! (a slow hash is pointless for 256 bits of randomness, and a fast one keeps every request
//! cheap). Passwords are hashed with argon2id; hashing is costly on purpose, so it runs on a
//! fixed set of workers with memory of their own behind a bounded queue ([`Passwords`]). A
//! sign-in for an unknown login still verifies against a decoy hash, so response time does
//! not tell which logins exist; wrong passwords slow further attempts per login and per
//! address ([`Throttle`]).

mod passwords;
mod session;
pub mod throttle;
mod token;

pub use passwords::{Lane, PasswordError, Passwords};
pub use session::{AdminSession, Session, judge};
pub use throttle::{Lockout, Throttle};
pub use token::{BearerToken, TOKEN_PREFIX};
