//! The sync wire format: one request carries a device's unacknowledged changes and its pull
//! cursor; one response carries the verdict on every pushed record and the next page of
//! records the user may see.
//!
//! Bodies are CBOR (compact, binary: Automerge change bytes travel as byte strings, not
//! base64) compressed with gzip as a whole, since a page repeats the same keys thousands of
//! times. Inflating is bounded by the receiver's limit, so a small body that inflates to
//! gigabytes is refused instead of exhausting memory.
//!
//! ```
//! use fieldsales_core::sync::protocol::{SyncRequest, decode, encode, PROTOCOL_VERSION};
//! let request = SyncRequest::new(0);
//! let body = encode(&request).unwrap();
//! let back: SyncRequest = decode(&body, 1 << 20).unwrap();
//! assert_eq!(back.version, PROTOCOL_VERSION);
//! ```

use std::io::{Read, Write};

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::fieldwork::ClockOffset;
use crate::{RecordId, Timestamp};

/// The protocol version this build speaks; a request of another version is refused.
pub const PROTOCOL_VERSION: u32 = 1;
/// The media type of sync bodies (before compression).
pub const CONTENT_TYPE: &str = "application/vnd.fieldsales.sync+cbor";
/// The one sync path.
pub const SYNC_PATH: &str = "/v1/sync";

/// Raw bytes that travel as a CBOR byte string (serde's default would be an array of
/// integers, nearly twice the size).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Bytes(pub Vec<u8>);

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bytes({} bytes)", self.0.len())
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Bytes;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Bytes, E> {
                Ok(Bytes(v.to_vec()))
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Bytes, E> {
                Ok(Bytes(v))
            }
        }
        d.deserialize_byte_buf(V)
    }
}

/// One sync round trip from a device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncRequest {
    /// Must equal [`PROTOCOL_VERSION`].
    pub version: u32,
    /// The sequence number of the last page this device committed (0: never pulled).
    pub cursor: u64,
    /// Records with changes the server has not acknowledged.
    pub push: Vec<PushRecord>,
    /// The most records the device wants in this page (the server caps it).
    pub page_limit: u32,
    /// The device's clock offset, when it has measured one. Advice only: the server measures
    /// the device's clock itself from `sent_at`.
    pub clock_offset: Option<ClockOffset>,
    /// The device's clock when it sent this request (set again on every retry). The server
    /// compares it with its own receive time, so every push measures the device's clock and a
    /// clock wound back between two syncs cannot hide behind an older measurement. Absent
    /// from older clients; their pushes are then judged with no measured clock.
    #[serde(default)]
    pub sent_at: Option<Timestamp>,
    /// The server epoch the cursor belongs to, as the last answer gave it (absent: never
    /// told, or a client older than epochs). A server restored from a backup has a new epoch:
    /// it then ignores this request's push, pulls from the start and answers with its epoch
    /// (see [`SyncResponse::epoch`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<u64>,
}

impl SyncRequest {
    /// An empty request at `cursor`.
    pub fn new(cursor: u64) -> Self {
        SyncRequest {
            version: PROTOCOL_VERSION,
            cursor,
            push: Vec::new(),
            page_limit: 1_000,
            clock_offset: None,
            sent_at: None,
            epoch: None,
        }
    }
}

/// A record's changes the server has not acknowledged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushRecord {
    /// The record.
    pub id: RecordId,
    /// Concatenated Automerge changes since the heads the server last acknowledged.
    pub changes: Bytes,
    /// The device's heads of the document after these changes (sorted 32-byte hashes).
    pub heads: Bytes,
}

/// The server's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncResponse {
    /// The server's clock when it answered.
    pub server_time: Timestamp,
    /// Pushed records the server now holds, with the device heads it holds.
    pub acks: Vec<Ack>,
    /// Pushed records the server refused.
    pub rejected: Vec<RejectedRecord>,
    /// Records to merge, whole saved documents.
    pub records: Vec<PulledRecord>,
    /// Records the device must delete: they left the user's view.
    pub removed: Vec<RecordId>,
    /// The cursor to send next time, once this page is committed.
    pub cursor: u64,
    /// Whether more pages wait beyond `cursor`.
    pub has_more: bool,
    /// Who the user is now, as the server resolved them for this sync (unit, roles, widest
    /// scope, zone): an admin's change of role or team reaches the phone's own rules at the
    /// next sync, not at the next sign-in. Absent from servers older than the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub me: Option<crate::me::Me>,
    /// The epoch of the server's change sequence, which `cursor` belongs to: random, and new
    /// whenever the server is restored from a backup (its sequence then starts over from an
    /// older state). When it differs from the epoch the request carried, the server ignored
    /// the request's push and this page starts from the beginning of its sequence, with every
    /// record the user may see sent whole: the device forgets what the server acknowledged,
    /// follows the pages to the end, then offers again what the server turned out to lack.
    /// Absent from servers older than the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<u64>,
}

/// A pushed record the server accepted (possibly with its own amendments, which arrive
/// by pull).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ack {
    /// The record.
    pub id: RecordId,
    /// The device's heads the server now holds.
    pub heads: Bytes,
}

/// A pushed record the server refused, with its own version for the device to adopt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectedRecord {
    /// The record.
    pub id: RecordId,
    /// Stable reason code (`immutable.check_in`, `sync.foreign_actor`, ...).
    pub rule: String,
    /// The field concerned, if any.
    pub field: Option<String>,
    /// What to tell the user.
    pub detail: String,
    /// The server's whole document; `None` when the server has no such record.
    pub server_doc: Option<Bytes>,
    /// The server's heads.
    pub server_heads: Bytes,
}

/// A record pulled from the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PulledRecord {
    /// The record.
    pub id: RecordId,
    /// The saved Automerge document.
    pub doc: Bytes,
    /// Its heads.
    pub heads: Bytes,
}

/// Why a body could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The body inflates beyond the limit.
    #[error("the body inflates beyond {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body is not gzip, or is cut short.
    #[error("the body is not complete gzip: {0}")]
    Compression(String),
    /// The inflated body is not the expected CBOR.
    #[error("the body is not a valid sync message: {0}")]
    Shape(String),
    /// The caller's budget for inflated bytes refused a chunk (see [`decode_metered`]).
    #[error("no room for the inflated body now")]
    OverBudget,
}

/// CBOR-encodes and gzips a message.
pub fn encode<T: Serialize>(message: &T) -> Result<Vec<u8>, WireError> {
    let mut cbor = Vec::new();
    ciborium::into_writer(message, &mut cbor).map_err(|e| WireError::Shape(e.to_string()))?;
    let mut gz = flate2::write::GzEncoder::new(
        Vec::with_capacity(cbor.len() / 3 + 64),
        flate2::Compression::fast(),
    );
    gz.write_all(&cbor)
        .map_err(|e| WireError::Compression(e.to_string()))?;
    gz.finish()
        .map_err(|e| WireError::Compression(e.to_string()))
}

/// Inflates (at most `limit` bytes) and decodes a message.
pub fn decode<T: for<'de> Deserialize<'de>>(body: &[u8], limit: usize) -> Result<T, WireError> {
    decode_metered(body, limit, &mut |_| true)
}

/// Inflates (at most `limit` bytes) and decodes a message, asking `reserve` for room before
/// each chunk of inflated bytes is held: when it answers `false` the body is dropped with
/// [`WireError::OverBudget`]. A server shares one budget among every request so that many
/// small bodies that inflate hugely cannot exhaust its memory together.
pub fn decode_metered<T: for<'de> Deserialize<'de>>(
    body: &[u8],
    limit: usize,
    reserve: &mut dyn FnMut(usize) -> bool,
) -> Result<T, WireError> {
    const CHUNK: usize = 64 * 1024;
    // Chunks of their exact size, never reallocated: what was reserved is what is held.
    let mut decoder = flate2::read::GzDecoder::new(body);
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    let mut total = 0usize;
    let read = |decoder: &mut flate2::read::GzDecoder<&[u8]>, into: &mut [u8]| loop {
        match decoder.read(into) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(WireError::Compression(e.to_string())),
        }
    };
    loop {
        let room = limit - total;
        if room == 0 {
            // Full: one more byte means the body is larger than it may be.
            if read(&mut decoder, &mut [0u8; 1])? > 0 {
                return Err(WireError::TooLarge { limit });
            }
            break;
        }
        let want = room.min(CHUNK);
        if !reserve(want) {
            return Err(WireError::OverBudget);
        }
        let mut chunk = vec![0u8; want];
        let mut filled = 0;
        while filled < want {
            let n = read(&mut decoder, &mut chunk[filled..])?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        chunk.truncate(filled);
        total += filled;
        let ended = filled < want;
        chunks.push(chunk);
        if ended {
            break;
        }
    }
    ciborium::from_reader(Chunks {
        chunks: &chunks,
        at: 0,
        offset: 0,
    })
    .map_err(|e| WireError::Shape(e.to_string()))
}

/// Reads a list of chunks as one stream.
struct Chunks<'a> {
    chunks: &'a [Vec<u8>],
    at: usize,
    offset: usize,
}

impl Read for Chunks<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while let Some(chunk) = self.chunks.get(self.at) {
            let rest = &chunk[self.offset..];
            if rest.is_empty() {
                self.at += 1;
                self.offset = 0;
                continue;
            }
            let n = rest.len().min(buf.len());
            buf[..n].copy_from_slice(&rest[..n]);
            self.offset += n;
            return Ok(n);
        }
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metered_decode_asks_for_every_chunk_and_stops_when_refused() {
        let message = sample();
        let body = encode(&message).unwrap();
        let mut asked = 0;
        let decoded: SyncResponse = decode_metered(&body, 1 << 20, &mut |n| {
            asked += n;
            true
        })
        .unwrap();
        assert_eq!(decoded.acks.len(), message.acks.len());
        assert!(asked >= 64 * 1024, "asked for {asked}");

        let bomb = {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            gz.write_all(&vec![0u8; 4 << 20]).unwrap();
            gz.finish().unwrap()
        };
        let mut granted = 0;
        let refused = decode_metered::<SyncResponse>(&bomb, 8 << 20, &mut |n| {
            granted += n;
            granted <= 1 << 20
        });
        assert!(matches!(refused, Err(WireError::OverBudget)), "{refused:?}");
        let too_large = decode_metered::<SyncResponse>(&bomb, 1 << 20, &mut |_| true);
        assert!(
            matches!(too_large, Err(WireError::TooLarge { .. })),
            "{too_large:?}"
        );
    }

    fn sample() -> SyncResponse {
        SyncResponse {
            server_time: Timestamp::from_millis(1_773_018_000_000),
            acks: vec![Ack {
                id: RecordId::new(),
                heads: Bytes(vec![7; 32]),
            }],
            rejected: vec![RejectedRecord {
                id: RecordId::new(),
                rule: "immutable.check_in".into(),
                field: Some("check_in.position".into()),
                detail: "a check-in cannot move".into(),
                server_doc: Some(Bytes(vec![1, 2, 3])),
                server_heads: Bytes(vec![9; 32]),
            }],
            records: vec![PulledRecord {
                id: RecordId::new(),
                doc: Bytes(vec![200; 300]),
                heads: Bytes(vec![3; 32]),
            }],
            removed: vec![RecordId::new()],
            cursor: 42,
            has_more: true,
            me: Some(crate::testing::rep()),
            epoch: Some(0x5eed_cafe_f00d),
        }
    }

    #[test]
    fn a_response_survives_the_wire_unchanged() {
        let response = sample();
        let body = encode(&response).expect("encodes");
        let back: SyncResponse = decode(&body, 1 << 20).expect("decodes");
        assert_eq!(back, response);
    }

    /// A request or an answer of a peer older than epochs (no `epoch` key) still decodes,
    /// as having none; one without an epoch writes no key an older peer would trip on.
    #[test]
    fn messages_without_an_epoch_decode_both_ways() {
        #[derive(Serialize)]
        struct OldRequest {
            version: u32,
            cursor: u64,
            push: Vec<PushRecord>,
            page_limit: u32,
            clock_offset: Option<ClockOffset>,
        }
        let old = encode(&OldRequest {
            version: PROTOCOL_VERSION,
            cursor: 7,
            push: Vec::new(),
            page_limit: 10,
            clock_offset: None,
        })
        .unwrap();
        let request: SyncRequest = decode(&old, 1 << 20).unwrap();
        assert_eq!((request.cursor, request.epoch), (7, None));

        let mut response = sample();
        response.epoch = None;
        let mut cbor = Vec::new();
        ciborium::into_writer(&response, &mut cbor).unwrap();
        let value: ciborium::Value = ciborium::from_reader(cbor.as_slice()).unwrap();
        let keys: Vec<String> = value
            .as_map()
            .unwrap()
            .iter()
            .filter_map(|(k, _)| k.as_text().map(str::to_owned))
            .collect();
        assert!(!keys.contains(&"epoch".to_owned()), "{keys:?}");
        let back: SyncResponse = decode(&encode(&response).unwrap(), 1 << 20).unwrap();
        assert_eq!(back.epoch, None);
    }

    #[test]
    fn change_bytes_travel_as_byte_strings_not_integer_arrays() {
        let mut cbor = Vec::new();
        ciborium::into_writer(&Bytes(vec![250; 1000]), &mut cbor).expect("encodes");
        assert!(cbor.len() < 1010, "{} bytes", cbor.len());
    }

    #[test]
    fn a_body_that_inflates_beyond_the_limit_is_refused() {
        let huge = SyncRequest {
            push: vec![PushRecord {
                id: RecordId::new(),
                changes: Bytes(vec![0; 2_000_000]),
                heads: Bytes(Vec::new()),
            }],
            ..SyncRequest::new(0)
        };
        let body = encode(&huge).expect("encodes");
        assert!(body.len() < 20_000, "zeros compress well: {}", body.len());
        assert!(matches!(
            decode::<SyncRequest>(&body, 1_000_000),
            Err(WireError::TooLarge { limit: 1_000_000 })
        ));
    }

    #[test]
    fn a_truncated_or_foreign_body_is_an_error_not_a_panic() {
        let body = encode(&sample()).expect("encodes");
        for cut in [0, 1, 10, body.len() / 2, body.len() - 1] {
            assert!(
                decode::<SyncResponse>(&body[..cut], 1 << 20).is_err(),
                "cut at {cut}"
            );
        }
        assert!(matches!(
            decode::<SyncResponse>(b"{\"json\": true}", 1 << 20),
            Err(WireError::Compression(_))
        ));
        let not_a_response = encode(&SyncRequest::new(3)).expect("encodes");
        assert!(matches!(
            decode::<SyncResponse>(&not_a_response, 1 << 20),
            Err(WireError::Shape(_))
        ));
    }
}
