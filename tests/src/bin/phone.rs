//! A phone as its own process for the device crash test: resumes the user signed in on the
//! store file named by its one argument, syncs in small pages and prints each step's progress
//! on stdout (`page <pages> up <records pushed> down <records pulled>`), then `done`. The
//! test kills it with SIGKILL while its sync is in flight.

use std::io::Write;
use std::time::Duration;

use fieldsales_core::engine::Engine;
use fieldsales_core::store::Store;
use fieldsales_core::sync::{self, CancelToken, SyncOptions};

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    fieldsales_tests::install_crypto_provider();
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: fieldsales-test-phone <store file>");
        std::process::exit(2);
    };
    let store = Store::open(&path).expect("the store opens");
    let mut engine = Engine::resume(store)
        .expect("the store resumes")
        .expect("someone is signed in");
    let options = SyncOptions {
        push_records: 5,
        page_limit: 5,
        max_attempts: 1,
        request_timeout: Duration::from_secs(30),
        ..SyncOptions::default()
    };
    let report = sync::sync_now(
        &mut engine,
        &options,
        &|p| {
            say(&format!(
                "page {} up {} down {}",
                p.pages, p.records_up, p.records_down
            ))
        },
        &CancelToken::new(),
    )
    .await;
    match report {
        Ok(_) => say("done"),
        Err(e) => {
            say(&format!("failed {e}"));
            std::process::exit(1);
        }
    }
}
