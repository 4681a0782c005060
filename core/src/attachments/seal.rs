//! Photos sealed at rest on an encrypted store (feature `encryption`).
//!
//! A sealed file is `FSSEALD1` followed by records, each a piece of the content of at most
//! [`RECORD_BYTES`]: its plaintext length (4 bytes, little-endian), a random 24-byte nonce,
//! and the piece sealed with XChaCha20-Poly1305 (its 16-byte tag at the end) under the
//! store's photo key. Records let a download cut short keep what it received (each piece a
//! record, appended as it arrives; a record torn by a crash is cut off when the download
//! resumes) and an upload read any range without opening the whole file. What the records
//! hold together is checked as a plain file is: against the SHA-256 that names it.
//!
//! Without the feature, [`Seal`] has no value: every attachment folder is plain.

#[cfg(not(feature = "encryption"))]
pub(crate) use plain::Seal;
#[cfg(feature = "encryption")]
pub(crate) use sealed::Seal;

/// The most content one record holds, bytes.
pub(crate) const RECORD_BYTES: usize = 64 * 1024;

#[cfg(feature = "encryption")]
mod sealed {
    use std::io::{self, Read, Seek, SeekFrom, Write};

    use chacha20poly1305::aead::{Aead, KeyInit};
    use chacha20poly1305::{Key as XKey, XChaCha20Poly1305, XNonce};

    use super::RECORD_BYTES;
    use crate::store::AttachmentKey;

    const MAGIC: &[u8; 8] = b"FSSEALD1";
    const NONCE: usize = 24;
    const TAG: usize = 16;

    fn damaged(what: &str) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, format!("sealed photo: {what}"))
    }

    /// The photo cipher of one encrypted store.
    pub(crate) struct Seal {
        cipher: XChaCha20Poly1305,
    }

    impl std::fmt::Debug for Seal {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Seal(..)")
        }
    }

    impl Seal {
        pub(crate) fn new(key: &AttachmentKey) -> Seal {
            Seal {
                cipher: XChaCha20Poly1305::new(&XKey::from(*key.0)),
            }
        }

        /// Starts a sealed file.
        pub(crate) fn begin(&self, out: &mut impl Write) -> io::Result<()> {
            out.write_all(MAGIC)
        }

        /// Appends `plain` as records.
        pub(crate) fn append(&self, out: &mut impl Write, plain: &[u8]) -> io::Result<()> {
            for piece in plain.chunks(RECORD_BYTES) {
                let mut nonce = [0u8; NONCE];
                getrandom::fill(&mut nonce).map_err(|e| io::Error::other(e.to_string()))?;
                let sealed = self
                    .cipher
                    .encrypt(&XNonce::from(nonce), piece)
                    .map_err(|_| io::Error::other("sealing a photo failed"))?;
                let len = u32::try_from(piece.len()).map_err(|_| damaged("record too long"))?;
                out.write_all(&len.to_le_bytes())?;
                out.write_all(&nonce)?;
                out.write_all(&sealed)?;
            }
            Ok(())
        }

        /// Whether the file begins as a sealed file does (a photo stored before its store was
        /// encrypted does not); leaves the file just after that beginning.
        pub(crate) fn is_sealed(&self, file: &mut (impl Read + Seek)) -> io::Result<bool> {
            file.seek(SeekFrom::Start(0))?;
            let mut magic = [0u8; 8];
            match file.read_exact(&mut magic) {
                Ok(()) => Ok(&magic == MAGIC),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
                Err(e) => Err(e),
            }
        }

        /// The content of a whole sealed file; an error when any record fails to open.
        pub(crate) fn open_all(&self, file: &mut (impl Read + Seek)) -> io::Result<Vec<u8>> {
            let mut out = Vec::new();
            self.read_records(file, 0, u64::MAX, &mut out)?;
            Ok(out)
        }

        /// `len` bytes of content from `offset` (fewer at the end).
        pub(crate) fn read_range(
            &self,
            file: &mut (impl Read + Seek),
            offset: u64,
            len: u64,
        ) -> io::Result<Vec<u8>> {
            let mut out = Vec::new();
            self.read_records(file, offset, len, &mut out)?;
            Ok(out)
        }

        /// The content length of the whole records of a file a download is filling, and the
        /// byte length they take on disk (where a torn record begins). Reads lengths only.
        pub(crate) fn whole_records(
            &self,
            file: &mut (impl Read + Seek),
        ) -> io::Result<(u64, u64)> {
            file.seek(SeekFrom::Start(0))?;
            let end = file.seek(SeekFrom::End(0))?;
            file.seek(SeekFrom::Start(0))?;
            let mut magic = [0u8; 8];
            if end < 8 || file.read_exact(&mut magic).is_err() || &magic != MAGIC {
                return Ok((0, 0));
            }
            let (mut plain, mut at) = (0u64, 8u64);
            loop {
                let mut len = [0u8; 4];
                if at + 4 > end {
                    return Ok((plain, at));
                }
                file.read_exact(&mut len)?;
                let len = u64::from(u32::from_le_bytes(len));
                let next = at + 4 + NONCE as u64 + len + TAG as u64;
                if len as usize > RECORD_BYTES || next > end {
                    return Ok((plain, at));
                }
                file.seek(SeekFrom::Start(next))?;
                plain += len;
                at = next;
            }
        }

        fn read_records(
            &self,
            file: &mut (impl Read + Seek),
            offset: u64,
            len: u64,
            out: &mut Vec<u8>,
        ) -> io::Result<()> {
            if !self.is_sealed(file)? {
                return Err(damaged("not a sealed file"));
            }
            let stop = offset.saturating_add(len);
            let mut at = 0u64;
            let mut sealed = Vec::new();
            loop {
                let mut head = [0u8; 4];
                match file.read_exact(&mut head) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
                    Err(e) => return Err(e),
                }
                let piece = u32::from_le_bytes(head) as usize;
                if piece > RECORD_BYTES {
                    return Err(damaged("a record longer than any written"));
                }
                let body = NONCE + piece + TAG;
                let next = at + piece as u64;
                if next <= offset {
                    file.seek(SeekFrom::Current(body as i64))?;
                } else {
                    sealed.resize(body, 0);
                    file.read_exact(&mut sealed)
                        .map_err(|_| damaged("torn record"))?;
                    let (nonce, data) = sealed.split_at(NONCE);
                    let nonce: [u8; NONCE] = nonce.try_into().map_err(|_| damaged("nonce"))?;
                    let plain = self
                        .cipher
                        .decrypt(&XNonce::from(nonce), data)
                        .map_err(|_| damaged("a record does not open under this store's key"))?;
                    let from = offset.saturating_sub(at) as usize;
                    let to = (stop.min(next) - at) as usize;
                    out.extend_from_slice(&plain[from..to]);
                }
                at = next;
                if at >= stop {
                    return Ok(());
                }
            }
        }
    }
}

#[cfg(not(feature = "encryption"))]
mod plain {
    use std::io::{self, Read, Seek, Write};

    use crate::store::AttachmentKey;

    /// No photo cipher in a build without encryption.
    #[derive(Debug)]
    pub(crate) enum Seal {}

    impl Seal {
        pub(crate) fn new(key: &AttachmentKey) -> Seal {
            match *key {}
        }
        pub(crate) fn begin(&self, _: &mut impl Write) -> io::Result<()> {
            match *self {}
        }
        pub(crate) fn append(&self, _: &mut impl Write, _: &[u8]) -> io::Result<()> {
            match *self {}
        }
        pub(crate) fn open_all(&self, _: &mut (impl Read + Seek)) -> io::Result<Vec<u8>> {
            match *self {}
        }
        pub(crate) fn read_range(
            &self,
            _: &mut (impl Read + Seek),
            _: u64,
            _: u64,
        ) -> io::Result<Vec<u8>> {
            match *self {}
        }
        pub(crate) fn whole_records(&self, _: &mut (impl Read + Seek)) -> io::Result<(u64, u64)> {
            match *self {}
        }
        pub(crate) fn is_sealed(&self, _: &mut (impl Read + Seek)) -> io::Result<bool> {
            match *self {}
        }
    }
}
