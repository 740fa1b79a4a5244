//! The one error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong while reading or writing the state.
///
/// Every message says what went wrong and what to do about it, so a binary can print it as is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// Another [`Store`](crate::Store) holds the state directory open (another `cairn apply`, or
    /// a second handle in this process).
    #[error(
        "state is locked by another process{holder} in `{}`: wait for it to finish and retry; \
         the lock is released automatically when that process exits, so if it hangs, stop it \
         (never delete files of the state directory to break the lock)",
        dir.display(),
        holder = holder(*pid, since.as_deref())
    )]
    Locked {
        /// The state directory.
        dir: PathBuf,
        /// The process id from the lock record, when the record is readable.
        pid: Option<u32>,
        /// When that process took the lock (RFC 3339, UTC), when the record is readable.
        since: Option<String>,
    },

    /// A file of the state directory could not be read or written.
    #[error(
        "could not {action} `{}`: {source}: check that the path exists, is on a writable disk \
         with free space, and that you have permission to use it",
        path.display()
    )]
    Io {
        /// What was being done, e.g. `read the lock record`.
        action: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// The embedded database (sled) failed below the level of single records.
    #[error(
        "the state database in `{}` failed: {source}: if the disk is full or read-only, fix \
         that and retry; if the database is damaged, restore the state directory from a backup",
        dir.display()
    )]
    Database {
        /// The state directory.
        dir: PathBuf,
        /// The database's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// The database is behind the serial (or not of the lineage) its manifest remembers: it
    /// was deleted, truncated or replaced by an older copy.
    #[error(
        "the state in `{}` is damaged: its database holds {found}, but the manifest written \
         with its last change says serial {expected_serial} of lineage {expected_lineage}; the \
         database was deleted, truncated or replaced by an older copy. Nothing was changed: \
         read as it is, the state would plan resources that exist as new and create them a \
         second time. Restore the state directory from a backup taken at serial \
         {expected_serial} or later",
        dir.display()
    )]
    Damaged {
        /// The state directory.
        dir: PathBuf,
        /// What the database holds, in words.
        found: String,
        /// The serial the manifest remembers.
        expected_serial: u64,
        /// The lineage the manifest remembers.
        expected_lineage: String,
    },

    /// The secrets of a document kept outside the state (a saved plan) could not be sealed or
    /// unsealed with the state's key.
    #[error(
        "the secrets in {what} could not be {done} with the state's key `{}` ({reason}): save \
         the plan again with `plan --out` against this state",
        path.display()
    )]
    DocumentSecrets {
        /// The key file.
        path: PathBuf,
        /// The document, in words (`plan file plan.json`).
        what: String,
        /// `sealed` or `unsealed`.
        done: &'static str,
        /// Why.
        reason: String,
    },

    /// A stored record failed its checksum, its header or its decoding.
    #[error(
        "state record `{key}` in tree `{tree}` is corrupt ({reason}): restore the state \
         directory from a backup; nothing was changed"
    )]
    CorruptRecord {
        /// The sled tree that holds the record.
        tree: &'static str,
        /// The record's key, made readable.
        key: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A stored record was written by a newer cairn than this one.
    #[error(
        "state record `{key}` in tree `{tree}` was written by a newer cairn (schema {found}, \
         this build reads up to {supported}): upgrade cairn; nothing was changed"
    )]
    NewerSchema {
        /// The sled tree that holds the record.
        tree: &'static str,
        /// The record's key, made readable.
        key: String,
        /// The schema version found in the record.
        found: u16,
        /// The newest schema version this build reads.
        supported: u16,
    },

    /// A record holds (or is about to hold) an encrypted secret, but the state has no key.
    #[error(
        "state record `{key}` in tree `{tree}` needs the secrets key `{}`, which is missing: \
         restore that file from a backup of this state directory (it is created once, with the \
         state, and cannot be recreated)",
        path.display()
    )]
    SecretsKeyMissing {
        /// Where the key file should be.
        path: PathBuf,
        /// The sled tree that holds the record.
        tree: &'static str,
        /// The record's key, made readable.
        key: String,
    },

    /// The secrets key file exists but does not hold a key.
    #[error(
        "the secrets key `{}` is invalid ({reason}): restore it from a backup of this state \
         directory",
        path.display()
    )]
    SecretsKeyInvalid {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// An encrypted secret could not be decrypted with the state's key.
    #[error(
        "a secret in state record `{key}` in tree `{tree}` could not be decrypted with the key \
         `{}`: the key file does not belong to this state or the record is damaged; restore \
         the matching secrets.key (or the whole state directory) from a backup",
        path.display()
    )]
    SecretDecrypt {
        /// The key file used.
        path: PathBuf,
        /// The sled tree that holds the record.
        tree: &'static str,
        /// The record's key, made readable.
        key: String,
    },

    /// A write named an apply that [`Store::begin_apply`](crate::Store::begin_apply) did not
    /// register, or that history has pruned since.
    #[error(
        "apply {id} is not registered in the state history: call `Store::begin_apply` first and \
         use the id it returns (this is a bug in the caller)"
    )]
    UnknownApply {
        /// The apply id that was passed.
        id: u64,
    },

    /// A write was attempted on a store opened with
    /// [`Store::open_read_only`](crate::Store::open_read_only).
    #[error(
        "the state was opened read-only, so it cannot be changed: open it with `Store::open` \
         to write (this is a bug in the caller)"
    )]
    ReadOnly,

    /// A record could not be encoded (or a secret in it encrypted).
    #[error(
        "could not encode state record `{key}` for tree `{tree}` ({reason}): this is a bug in \
         cairn, please report it; nothing was changed"
    )]
    Encode {
        /// The sled tree the record was meant for.
        tree: &'static str,
        /// The record's key, made readable.
        key: String,
        /// What failed.
        reason: String,
    },
}

/// Formats ` (pid N since T)` for [`StateError::Locked`], or nothing when the record is unknown.
fn holder(pid: Option<u32>, since: Option<&str>) -> String {
    match (pid, since) {
        (Some(pid), Some(since)) => format!(" (pid {pid} since {since})"),
        (Some(pid), None) => format!(" (pid {pid})"),
        _ => String::new(),
    }
}

impl StateError {
    /// Wraps an I/O error with what was being done and on which path.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        StateError::Io { action, path: path.into(), source }
    }

    /// Wraps a sled error for the state directory `dir`.
    pub(crate) fn database(dir: impl Into<PathBuf>, source: sled::Error) -> Self {
        StateError::Database { dir: dir.into(), source: Box::new(source) }
    }
}
