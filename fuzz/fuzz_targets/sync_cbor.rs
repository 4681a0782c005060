//! The CBOR inside a sync body: the input is compressed first, so every case reaches the
//! message decoder. A value or a typed error, within the decoder's limit.
#![no_main]

use std::io::Write;

use fieldsales_core::sync::protocol::{self, SyncRequest, SyncResponse};
use libfuzzer_sys::fuzz_target;

const LIMIT: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).expect("compressed");
    let body = gz.finish().expect("compressed");
    let request = protocol::decode::<SyncRequest>(&body, LIMIT);
    if let Ok(request) = request {
        // What decodes encodes and decodes again the same.
        let again = protocol::encode(&request).expect("encodes");
        let back = protocol::decode::<SyncRequest>(&again, LIMIT).expect("decodes again");
        assert_eq!(format!("{back:?}"), format!("{request:?}"));
    }
    let _ = protocol::decode::<SyncResponse>(&body, LIMIT);
});
