//! Records to bytes and back: secrets sealed, JSON, envelope.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::envelope::{self, Opened, SCHEMA_VERSION};
use crate::error::StateError;
use crate::keys;
use crate::secrets::{SecretError, Secrets};

/// Fewer records than this are decoded on one thread: below it, starting threads costs more
/// than it saves.
const DECODE_CHUNK_MIN: usize = 4_096;

/// A value stored in a tree.
pub(crate) trait Record: Serialize + DeserializeOwned + Clone {
    /// Calls `f` on every JSON value of the record that may hold secrets.
    fn for_each_value(
        &mut self,
        _f: &mut dyn FnMut(&mut Value) -> Result<(), SecretError>,
    ) -> Result<(), SecretError> {
        Ok(())
    }
}

/// Encodes and decodes records with the state's secrets key.
pub(crate) struct Codec {
    secrets: Secrets,
}

impl Codec {
    /// A codec that seals and unseals secrets with `secrets`.
    pub(crate) fn new(secrets: Secrets) -> Self {
        Codec { secrets }
    }

    /// The stored form of `record`, meant for `key` in `tree`.
    pub(crate) fn encode<R: Record>(
        &self,
        tree: &'static str,
        key: &[u8],
        record: &R,
    ) -> Result<Vec<u8>, StateError> {
        let mut sealed = record.clone();
        sealed
            .for_each_value(&mut |value| self.secrets.seal(value))
            .map_err(|e| self.secret_error(e, tree, key))?;
        let payload = serde_json::to_vec(&sealed).map_err(|e| StateError::Encode {
            tree,
            key: keys::display(tree, key),
            reason: e.to_string(),
        })?;
        Ok(envelope::seal(&payload))
    }

    /// Decodes the value stored under `key` in `tree`.
    pub(crate) fn decode<R: Record>(
        &self,
        tree: &'static str,
        key: &[u8],
        bytes: &[u8],
    ) -> Result<R, StateError> {
        self.decode_versioned(tree, key, bytes).map(|(_, record)| record)
    }

    /// Decodes the value stored under `key` in `tree`, with the schema version it was written
    /// with.
    pub(crate) fn decode_versioned<R: Record>(
        &self,
        tree: &'static str,
        key: &[u8],
        bytes: &[u8],
    ) -> Result<(u16, R), StateError> {
        let corrupt = |reason: String| StateError::CorruptRecord {
            tree,
            key: keys::display(tree, key),
            reason,
        };
        let (version, payload) = match envelope::open(bytes).map_err(corrupt)? {
            Opened::Current { version, payload } => (version, payload),
            Opened::Newer { version } => {
                return Err(StateError::NewerSchema {
                    tree,
                    key: keys::display(tree, key),
                    found: version,
                    supported: SCHEMA_VERSION,
                });
            }
        };
        let mut record: R = serde_json::from_slice(payload)
            .map_err(|e| corrupt(format!("its payload does not decode: {e}")))?;
        record
            .for_each_value(&mut |value| self.secrets.unseal(value))
            .map_err(|e| self.secret_error(e, tree, key))?;
        Ok((version, record))
    }

    /// Decodes every entry of `tree` (raw key and stored bytes, as in [`decode`](Codec::decode)),
    /// keyed by its UTF-8 key; large trees are split across all available cores.
    ///
    /// # Errors
    ///
    /// The first entry that does not decode, or whose key is not UTF-8: none is skipped.
    pub(crate) fn decode_entries<R: Record + Send, B: AsRef<[u8]> + Sync>(
        &self,
        tree: &'static str,
        entries: &[(B, B)],
    ) -> Result<BTreeMap<String, R>, StateError> {
        let workers = std::thread::available_parallelism().map_or(1, usize::from);
        let chunk_len = entries.len().div_ceil(workers).max(DECODE_CHUNK_MIN);
        let decode_chunk = |chunk: &[(B, B)]| -> Result<Vec<(String, R)>, StateError> {
            chunk
                .iter()
                .map(|(key, bytes)| self.decode_entry(tree, key.as_ref(), bytes.as_ref()))
                .collect()
        };
        let decoded = std::thread::scope(|scope| {
            let mut chunks = entries.chunks(chunk_len);
            let first = chunks.next().unwrap_or_default();
            let others: Vec<_> =
                chunks.map(|chunk| scope.spawn(move || decode_chunk(chunk))).collect();
            let mut decoded = vec![decode_chunk(first)];
            decoded.extend(others.into_iter().map(|worker| {
                worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            }));
            decoded
        });
        let mut records = BTreeMap::new();
        for chunk in decoded {
            records.extend(chunk?);
        }
        Ok(records)
    }

    /// Decodes one entry of `tree` with its UTF-8 key.
    fn decode_entry<R: Record>(
        &self,
        tree: &'static str,
        key: &[u8],
        bytes: &[u8],
    ) -> Result<(String, R), StateError> {
        let record = self.decode(tree, key, bytes)?;
        let key = std::str::from_utf8(key).map_err(|_| StateError::CorruptRecord {
            tree,
            key: keys::display(tree, key),
            reason: "its key is not UTF-8".to_owned(),
        })?;
        Ok((key.to_owned(), record))
    }

    fn secret_error(&self, error: SecretError, tree: &'static str, key: &[u8]) -> StateError {
        let path = self.secrets.path().to_owned();
        let key = keys::display(tree, key);
        match error {
            SecretError::KeyMissing => StateError::SecretsKeyMissing { path, tree, key },
            SecretError::Decrypt => StateError::SecretDecrypt { path, tree, key },
            SecretError::Encrypt(reason) => StateError::Encode { tree, key, reason },
        }
    }
}
