//! Secrets at rest: the key file and the rewriting of `{"$secret": v}` values.
//!
//! A secret is stored as `{"$secret_ciphertext": base64(nonce ++ ciphertext)}`, where the
//! ciphertext is ChaCha20-Poly1305 over the JSON text of `v` with a random 96-bit nonce, under
//! the 32-byte key kept (base64, mode 0600) in `secrets.key` beside the database.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use rand::rngs::OsRng;
use serde_json::{Map, Value};

use crate::error::StateError;

/// The key file's name inside the state directory.
pub(crate) const KEY_FILE: &str = "secrets.key";
/// The marker of a plaintext secret, as callers write it.
const SECRET: &str = "$secret";
/// The marker of an encrypted secret, as it is stored.
const CIPHERTEXT: &str = "$secret_ciphertext";
const NONCE_LEN: usize = 12;

/// Why a secret could not be sealed or unsealed; the codec adds which record it was.
#[derive(Debug, PartialEq)]
pub(crate) enum SecretError {
    /// There is no key file.
    KeyMissing,
    /// Decryption failed, or the stored ciphertext is malformed.
    Decrypt,
    /// Encryption or encoding of the plaintext failed.
    Encrypt(String),
}

/// The state's secrets key, if it has one.
pub(crate) struct Secrets {
    path: PathBuf,
    cipher: Option<ChaCha20Poly1305>,
}

impl Secrets {
    /// Loads the key in `dir`; a missing file gives a store that can only handle records
    /// without secrets.
    pub(crate) fn load(dir: &Path) -> Result<Self, StateError> {
        let path = dir.join(KEY_FILE);
        let cipher = match fs::read_to_string(&path) {
            Ok(text) => Some(parse_key(&path, &text)?),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(StateError::io("read the secrets key", path, e)),
        };
        Ok(Secrets { path, cipher })
    }

    /// Loads the key in `dir`, first creating a new random one if there is none.
    pub(crate) fn load_or_create(dir: &Path) -> Result<Self, StateError> {
        let path = dir.join(KEY_FILE);
        match create_private(&path) {
            Ok(mut file) => {
                let mut key = [0u8; 32];
                OsRng.fill_bytes(&mut key);
                let written = file
                    .write_all(format!("{}\n", BASE64.encode(key)).as_bytes())
                    .and_then(|()| file.sync_all());
                written.map_err(|e| StateError::io("write the secrets key", &path, e))?;
                tracing::info!(path = %path.display(), "created a new secrets key");
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(StateError::io("create the secrets key", path, e)),
        }
        Self::load(dir)
    }

    /// The key file's path, for error messages.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Replaces every `{"$secret": v}` inside `value` by its encrypted form.
    pub(crate) fn seal(&self, value: &mut Value) -> Result<(), SecretError> {
        rewrite(value, SECRET, &mut |plain| {
            let cipher = self.cipher.as_ref().ok_or(SecretError::KeyMissing)?;
            let text =
                serde_json::to_vec(plain).map_err(|e| SecretError::Encrypt(e.to_string()))?;
            let mut nonce = [0u8; NONCE_LEN];
            OsRng.fill_bytes(&mut nonce);
            let sealed = cipher
                .encrypt(Nonce::from_slice(&nonce), text.as_slice())
                .map_err(|_| SecretError::Encrypt("the cipher refused the plaintext".to_owned()))?;
            let mut blob = nonce.to_vec();
            blob.extend_from_slice(&sealed);
            Ok(marked(CIPHERTEXT, Value::String(BASE64.encode(blob))))
        })
    }

    /// Replaces every `{"$secret_ciphertext": ..}` inside `value` by the `{"$secret": v}` it
    /// was made from.
    pub(crate) fn unseal(&self, value: &mut Value) -> Result<(), SecretError> {
        rewrite(value, CIPHERTEXT, &mut |stored| {
            let cipher = self.cipher.as_ref().ok_or(SecretError::KeyMissing)?;
            let blob = stored
                .as_str()
                .and_then(|text| BASE64.decode(text).ok())
                .ok_or(SecretError::Decrypt)?;
            let (nonce, sealed) = blob.split_at_checked(NONCE_LEN).ok_or(SecretError::Decrypt)?;
            let text = cipher
                .decrypt(Nonce::from_slice(nonce), sealed)
                .map_err(|_| SecretError::Decrypt)?;
            let plain = serde_json::from_slice(&text).map_err(|_| SecretError::Decrypt)?;
            Ok(marked(SECRET, plain))
        })
    }
}

/// Seals every `{"$secret": v}` inside `document` with the secrets key of the state in `dir`,
/// for a document kept outside the state (a saved plan): the secrets in it are then as safe
/// as in the state itself. A state without a key (a new one) gets its key now, when the
/// document holds a secret; one without secrets is left as it is.
///
/// # Errors
///
/// [`StateError::DocumentSecrets`] when the key cannot be read or made, or encryption fails.
pub fn seal_document(dir: &Path, what: &str, document: &mut Value) -> Result<(), StateError> {
    let sealed = Secrets::load(dir)?.seal(document);
    let sealed = match sealed {
        Err(SecretError::KeyMissing) => {
            fs::create_dir_all(dir)
                .map_err(|e| StateError::io("create the state directory", dir, e))?;
            Secrets::load_or_create(dir)?.seal(document)
        }
        other => other,
    };
    sealed.map_err(|error| document_error(dir, what, "sealed", &error))
}

/// Unseals what [`seal_document`] sealed, with the secrets key of the state in `dir`.
///
/// # Errors
///
/// [`StateError::DocumentSecrets`] when the state has no key, or not the one that sealed them.
pub fn unseal_document(dir: &Path, what: &str, document: &mut Value) -> Result<(), StateError> {
    Secrets::load(dir)?
        .unseal(document)
        .map_err(|error| document_error(dir, what, "unsealed", &error))
}

fn document_error(dir: &Path, what: &str, done: &'static str, error: &SecretError) -> StateError {
    let reason = match error {
        SecretError::KeyMissing => "the state has no secrets key".to_owned(),
        SecretError::Decrypt => "it was sealed with another state's key, or is damaged".to_owned(),
        SecretError::Encrypt(reason) => reason.clone(),
    };
    StateError::DocumentSecrets { path: dir.join(KEY_FILE), what: what.to_owned(), done, reason }
}

/// Parses the key file's text: base64 of exactly 32 bytes.
fn parse_key(path: &Path, text: &str) -> Result<ChaCha20Poly1305, StateError> {
    let invalid = |reason: String| StateError::SecretsKeyInvalid { path: path.to_owned(), reason };
    let bytes = BASE64.decode(text.trim()).map_err(|e| invalid(format!("not base64: {e}")))?;
    if bytes.len() != 32 {
        return Err(invalid(format!("{} bytes instead of 32", bytes.len())));
    }
    Ok(ChaCha20Poly1305::new(Key::from_slice(&bytes)))
}

/// Creates `path` for writing, failing if it exists; readable by its owner only.
fn create_private(path: &Path) -> io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// `{marker: inner}`.
fn marked(marker: &str, inner: Value) -> Value {
    let mut map = Map::with_capacity(1);
    map.insert(marker.to_owned(), inner);
    Value::Object(map)
}

/// Replaces every object of the exact form `{marker: inner}` inside `value` by `f(inner)`,
/// without looking inside `inner`.
fn rewrite(
    value: &mut Value,
    marker: &str,
    f: &mut dyn FnMut(&Value) -> Result<Value, SecretError>,
) -> Result<(), SecretError> {
    match value {
        Value::Object(map) => {
            if let (1, Some(inner)) = (map.len(), map.get(marker)) {
                *value = f(inner)?;
                return Ok(());
            }
            map.values_mut().try_for_each(|child| rewrite(child, marker, f))
        }
        Value::Array(items) => items.iter_mut().try_for_each(|child| rewrite(child, marker, f)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn secrets() -> (tempfile::TempDir, Secrets) {
        let dir = tempfile::tempdir().expect("temp dir");
        let secrets = Secrets::load_or_create(dir.path()).expect("new key");
        (dir, secrets)
    }

    #[test]
    fn seal_hides_and_unseal_restores_nested_secrets() {
        let (_dir, secrets) = secrets();
        let original = json!({
            "plain": "visible",
            "list": [{"$secret": "hunter2"}, {"$secret": {"nested": [1, 2]}}],
            "not_a_secret": {"$secret": "x", "other": 1},
        });
        let mut value = original.clone();
        secrets.seal(&mut value).expect("seal");
        let text = value.to_string();
        assert!(!text.contains("hunter2") && !text.contains("nested"), "{text}");
        assert!(text.contains("\"other\":1"), "objects with more keys are not secrets: {text}");
        assert_eq!(value["list"][0].as_object().map(|m| m.contains_key(CIPHERTEXT)), Some(true));
        secrets.unseal(&mut value).expect("unseal");
        assert_eq!(value, original);
    }

    #[test]
    fn same_secret_gets_a_fresh_nonce_each_time() {
        let (_dir, secrets) = secrets();
        let (mut a, mut b) = (json!({"$secret": "s"}), json!({"$secret": "s"}));
        secrets.seal(&mut a).expect("seal a");
        secrets.seal(&mut b).expect("seal b");
        assert_ne!(a, b);
    }

    #[test]
    fn wrong_key_tampering_and_missing_key_are_errors() {
        let (_dir, secrets) = secrets();
        let (_other_dir, other) = self::secrets();
        let mut value = json!({"$secret": "s"});
        secrets.seal(&mut value).expect("seal");
        assert_eq!(other.unseal(&mut value.clone()), Err(SecretError::Decrypt));
        let mut tampered = json!({CIPHERTEXT: "AAAA"});
        assert_eq!(secrets.unseal(&mut tampered), Err(SecretError::Decrypt));
        let keyless = Secrets { path: PathBuf::from("k"), cipher: None };
        assert_eq!(keyless.unseal(&mut value), Err(SecretError::KeyMissing));
        assert_eq!(keyless.seal(&mut json!({"$secret": 1})), Err(SecretError::KeyMissing));
        assert_eq!(keyless.seal(&mut json!({"no": "secret"})), Ok(()));
    }

    #[test]
    fn key_file_is_private_and_reused() {
        let (dir, secrets) = secrets();
        let mut value = json!({"$secret": "s"});
        secrets.seal(&mut value).expect("seal");
        let again = Secrets::load_or_create(dir.path()).expect("reload");
        again.unseal(&mut value).expect("same key after reload");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(KEY_FILE)).expect("stat").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn malformed_key_file_is_invalid() {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::write(dir.path().join(KEY_FILE), "c2hvcnQ=\n").expect("write");
        let err = Secrets::load(dir.path()).err().expect("invalid key");
        assert!(err.to_string().contains("5 bytes instead of 32"), "{err}");
    }
}
