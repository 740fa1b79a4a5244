//! The framing of every stored value: magic bytes, schema version, checksum, payload.
//!
//! ```text
//! offset 0  4 bytes  magic "CRN1"
//! offset 4  2 bytes  schema version, big-endian u16
//! offset 6  4 bytes  crc32 of the payload, big-endian
//! offset 10 ...      payload (serde_json)
//! ```
//!
//! The header layout never changes between schema versions, so an old build can always tell a
//! newer record ([`Opened::Newer`]) from a damaged one.

/// The schema version this build writes and the newest it reads.
pub const SCHEMA_VERSION: u16 = 1;

const MAGIC: [u8; 4] = *b"CRN1";
const HEADER_LEN: usize = 10;

/// The result of opening an envelope that is not damaged.
#[derive(Debug, PartialEq)]
pub(crate) enum Opened<'a> {
    /// A record this build can read: its version and its checksummed payload.
    Current { version: u16, payload: &'a [u8] },
    /// A record written by a newer build.
    Newer { version: u16 },
}

/// Frames `payload` as a current-version record.
pub(crate) fn seal(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&SCHEMA_VERSION.to_be_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// Checks the header and checksum of a stored value; the error is the reason it is corrupt.
pub(crate) fn open(bytes: &[u8]) -> Result<Opened<'_>, String> {
    let Some((header, payload)) = bytes.split_at_checked(HEADER_LEN) else {
        return Err(format!(
            "{} bytes long, shorter than the {HEADER_LEN}-byte header",
            bytes.len()
        ));
    };
    let (magic, rest) = header.split_at(4);
    if magic != MAGIC {
        return Err("not a cairn record: bad magic bytes".to_owned());
    }
    let version = u16::from_be_bytes([rest[0], rest[1]]);
    if version > SCHEMA_VERSION {
        return Ok(Opened::Newer { version });
    }
    if version == 0 {
        return Err("schema version 0 does not exist".to_owned());
    }
    let crc = u32::from_be_bytes([rest[2], rest[3], rest[4], rest[5]]);
    if crc32fast::hash(payload) != crc {
        return Err("checksum mismatch".to_owned());
    }
    Ok(Opened::Current { version, payload })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let sealed = seal(b"{\"a\":1}");
        assert_eq!(open(&sealed), Ok(Opened::Current { version: 1, payload: b"{\"a\":1}" }));
    }

    #[test]
    fn every_flipped_payload_bit_is_caught() {
        let sealed = seal(b"{\"a\":1}");
        for i in HEADER_LEN * 8..sealed.len() * 8 {
            let mut damaged = sealed.clone();
            damaged[i / 8] ^= 1 << (i % 8);
            assert_eq!(open(&damaged), Err("checksum mismatch".to_owned()), "bit {i}");
        }
    }

    #[test]
    fn short_and_foreign_values_are_corrupt() {
        assert!(open(b"CRN1").expect_err("too short").contains("shorter"));
        assert!(open(b"{\"json\": \"but no header\"}").expect_err("no magic").contains("magic"));
    }

    #[test]
    fn newer_version_is_reported_before_the_checksum() {
        let mut sealed = seal(b"{}");
        sealed[4..6].copy_from_slice(&7u16.to_be_bytes());
        sealed[6] ^= 0xff;
        assert_eq!(open(&sealed), Ok(Opened::Newer { version: 7 }));
    }
}
