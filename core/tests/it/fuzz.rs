//! Mutation fuzzing of the decoders that take outside input on the phone and the server: the
//! sync body (gzip, then CBOR) and the process file (TOML). Every case must end in a value or
//! a typed error, never a panic, and memory stays within the decoder's limit. `FUZZ_CASES`
//! runs more cases (see RELIABILITY.md); a failing case is reproduced from its number.

use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};

use fieldsales_core::fieldwork::ClockOffset;
use fieldsales_core::process::SalesProcess;
use fieldsales_core::sync::protocol::{
    self, Ack, Bytes, PROTOCOL_VERSION, PulledRecord, PushRecord, RejectedRecord, SyncRequest,
    SyncResponse, WireError,
};
use fieldsales_core::testing::fuzz;
use fieldsales_core::{RecordId, Timestamp};

/// Runs `check` on every case, naming the case that panicked.
fn run(name: &str, corpus: &[Vec<u8>], default_cases: u64, check: impl Fn(&[u8])) {
    for case in 0..fuzz::cases(default_cases) {
        let input = fuzz::input(corpus, case);
        if catch_unwind(AssertUnwindSafe(|| check(&input))).is_err() {
            panic!(
                "{name}: case {case} panicked on {} bytes: {input:02x?}",
                input.len()
            );
        }
    }
}

fn sync_corpus() -> Vec<Vec<u8>> {
    let request = SyncRequest {
        version: PROTOCOL_VERSION,
        cursor: 42,
        push: vec![PushRecord {
            id: RecordId::new(),
            changes: Bytes(vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3]),
            heads: Bytes(vec![9; 32]),
        }],
        page_limit: 500,
        clock_offset: Some(ClockOffset {
            offset_ms: -250,
            uncertainty_ms: 12,
            measured_at: Timestamp::from_millis(1_773_018_000_000),
        }),
        sent_at: Some(Timestamp::from_millis(1_773_018_000_250)),
        epoch: Some(0x0123_4567_89ab_cdef),
    };
    let response = SyncResponse {
        server_time: Timestamp::from_millis(1_773_018_000_000),
        acks: vec![Ack {
            id: RecordId::new(),
            heads: Bytes(vec![7; 32]),
        }],
        rejected: vec![RejectedRecord {
            id: RecordId::new(),
            rule: "immutable.check_in".into(),
            field: Some("check_in.position".into()),
            detail: "a check-in is never edited".into(),
            server_doc: Some(Bytes(vec![1, 2, 3])),
            server_heads: Bytes(vec![5; 32]),
        }],
        records: vec![PulledRecord {
            id: RecordId::new(),
            doc: Bytes(vec![0x85, 0x6f, 0x4a, 0x83]),
            heads: Bytes(vec![3; 32]),
        }],
        removed: vec![RecordId::new()],
        cursor: 7,
        has_more: true,
        me: Some(fieldsales_core::testing::rep()),
        epoch: Some(0x0123_4567_89ab_cdef),
    };
    let mut corpus = Vec::new();
    for cbor in [
        cbor_of(&request),
        cbor_of(&response),
        cbor_of(&SyncRequest {
            push: Vec::new(),
            clock_offset: None,
            ..request.clone()
        }),
    ] {
        corpus.push(cbor);
    }
    corpus
}

fn cbor_of<T: serde::Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).expect("encoded");
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).expect("compressed");
    gz.finish().expect("compressed")
}

const LIMIT: usize = 1 << 20;

fn decode_both(body: &[u8]) {
    let plain = protocol::decode::<SyncRequest>(body, LIMIT);
    let mut reserved = 0usize;
    let metered = protocol::decode_metered::<SyncRequest>(body, LIMIT, &mut |n| {
        reserved += n;
        true
    });
    assert!(reserved <= LIMIT, "reserved {reserved} over the limit");
    assert_eq!(plain.is_ok(), metered.is_ok(), "{plain:?} / {metered:?}");
    let _ = protocol::decode::<SyncResponse>(body, LIMIT);
    if let Err(e) = plain {
        assert!(!matches!(e, WireError::OverBudget));
    }
}

#[test]
fn mutated_sync_bodies_decode_or_fail_with_a_typed_error() {
    let cbor = sync_corpus();
    // The CBOR mutated then compressed, so cases reach the message decoder.
    run("sync cbor", &cbor, 3_000, |input| decode_both(&gzip(input)));
    // The compressed bytes mutated, for the gzip reader.
    let gzipped: Vec<Vec<u8>> = cbor.iter().map(|c| gzip(c)).collect();
    run("sync gzip", &gzipped, 2_000, decode_both);
}

#[test]
fn mutated_process_files_load_or_fail_with_errors_that_name_a_place() {
    let corpus: Vec<Vec<u8>> = [
        include_str!("../../src/process/testdata/standard.toml"),
        include_str!("../../src/process/testdata/consultative.toml"),
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    run("process toml", &corpus, 1_500, |input| {
        let text = String::from_utf8_lossy(input);
        match SalesProcess::from_toml(&text) {
            Ok(process) => {
                // What loads writes back out and loads again the same.
                let written = process.to_toml().expect("a loaded process writes out");
                let again = SalesProcess::from_toml(&written).expect("what it wrote loads");
                assert_eq!(again, process);
            }
            Err(errors) => assert!(!errors.to_string().is_empty()),
        }
    });
}

/// Real sync messages of every kind: a phone's first push of one record of each kind (their
/// Automerge changes as the outbox holds them) and the server's answer carrying the same
/// documents whole. They seed the coverage-guided corpora of `fuzz/` (`real-*` in
/// `fuzz/corpus/sync_cbor` and `fuzz/corpus/sync_body`), which start from these instead of
/// from nothing.
fn real_messages() -> (SyncRequest, SyncResponse) {
    let rep = RecordId::new();
    use fieldsales_core::store::StoreRead;
    let mut store = fieldsales_core::store::Store::open_in_memory().expect("store");
    let mut request = SyncRequest {
        cursor: 0,
        push: Vec::new(),
        page_limit: 500,
        clock_offset: None,
        sent_at: Some(Timestamp::from_millis(1_773_018_000_250)),
        version: PROTOCOL_VERSION,
        epoch: Some(0x0123_4567_89ab_cdef),
    };
    let mut response = SyncResponse {
        server_time: Timestamp::from_millis(1_773_018_000_000),
        acks: Vec::new(),
        rejected: Vec::new(),
        records: Vec::new(),
        removed: Vec::new(),
        cursor: 0,
        has_more: false,
        me: Some(fieldsales_core::testing::rep()),
        epoch: Some(0x0123_4567_89ab_cdef),
    };
    for record in fieldsales_core::testing::one_of_each(rep) {
        let id = record.header().id;
        store
            .transaction(|tx| tx.create_any(record))
            .expect("created");
        let heads = Bytes(fieldsales_core::doc::encode_heads(
            &store.heads(id).expect("heads"),
        ));
        request.push.push(PushRecord {
            id,
            changes: Bytes(store.unacked_changes(id).expect("changes")),
            heads: heads.clone(),
        });
        let doc = store.document_bytes(id).expect("read").expect("a document");
        response.records.push(PulledRecord {
            id,
            doc: Bytes(doc),
            heads: heads.clone(),
        });
        response.acks.push(Ack { id, heads });
        response.cursor += 1;
    }
    (request, response)
}

#[test]
fn real_sync_messages_seed_the_coverage_guided_corpora() {
    let (request, response) = real_messages();
    let seeds = [
        (
            "real-request",
            protocol::encode(&request).expect("encodes"),
            cbor_of(&request),
        ),
        (
            "real-response",
            protocol::encode(&response).expect("encodes"),
            cbor_of(&response),
        ),
    ];
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    if std::env::var_os("FUZZ_SEED_WRITE").is_some() {
        for (name, body, cbor) in &seeds {
            std::fs::write(corpus.join("sync_body").join(name), body).expect("written");
            std::fs::write(corpus.join("sync_cbor").join(name), cbor).expect("written");
        }
    }
    // The kept seeds still decode as the protocol is today: a seed the decoder refuses
    // would only exercise its first check. (Their bytes differ from a fresh encoding: the
    // ids and the documents' actors are random.)
    let body = std::fs::read(corpus.join("sync_body/real-request")).expect("a kept seed");
    let kept = protocol::decode::<SyncRequest>(&body, LIMIT).expect("the kept request decodes");
    assert_eq!(kept.push.len(), request.push.len());
    let body = std::fs::read(corpus.join("sync_body/real-response")).expect("a kept seed");
    let kept = protocol::decode::<SyncResponse>(&body, LIMIT).expect("the kept answer decodes");
    assert_eq!(kept.records.len(), response.records.len());
    for name in ["real-request", "real-response"] {
        let cbor = std::fs::read(corpus.join("sync_cbor").join(name)).expect("a kept seed");
        assert!(
            protocol::decode::<SyncRequest>(&gzip(&cbor), LIMIT).is_ok()
                || protocol::decode::<SyncResponse>(&gzip(&cbor), LIMIT).is_ok(),
            "{name} decodes"
        );
    }
}
