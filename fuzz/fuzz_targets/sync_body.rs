//! A sync body as the server and the phone receive it (gzip, then CBOR): a value or a typed
//! error, within the decoder's limit.
#![no_main]

use fieldsales_core::sync::protocol::{self, SyncRequest, SyncResponse};
use libfuzzer_sys::fuzz_target;

const LIMIT: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let plain = protocol::decode::<SyncRequest>(data, LIMIT);
    let mut reserved = 0usize;
    let metered = protocol::decode_metered::<SyncRequest>(data, LIMIT, &mut |n| {
        reserved += n;
        true
    });
    assert!(reserved <= LIMIT, "reserved {reserved} over the limit");
    assert_eq!(plain.is_ok(), metered.is_ok());
    let _ = protocol::decode::<SyncResponse>(data, LIMIT);
});
