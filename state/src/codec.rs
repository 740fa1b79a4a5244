//! Records to bytes and back: secrets sealed, JSON, envelope.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::envelope::{self, Opened, SCHEMA_VERSION};
use crate::error::StateError;
use crate::keys;
use crate::secrets::{SecretError, Secrets};

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
