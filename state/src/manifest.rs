//! The manifest: the lineage and serial of the state, remembered outside the database.
//!
//! A database that was deleted, truncated, or replaced by an older copy opens without an
//! error: sled reads what is left, which may be nothing. Read as it is, that state would plan
//! every resource as new and an apply would build a second copy of the stack beside the
//! first. So every flush of a read-write store also writes `manifest.json` with the serial it
//! made durable, and every read compares the database with it: a database behind its
//! manifest (or of another lineage) is refused as damaged, naming both.
//!
//! The manifest is written after the database is flushed, with the serial read before the
//! flush, so it never claims more than the database holds; written by rename, so it is whole
//! or absent; and once per run (as the store closes, or at its first flush when there is no
//! manifest yet), so it may lag a run that was killed, which only narrows what it proves. An absent or unreadable manifest proves nothing and is not an error (a state
//! written by an older cairn has none).

use std::fs;
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::StateError;
use crate::model::Metadata;

/// The manifest's name inside the state directory.
pub(crate) const MANIFEST_FILE: &str = "manifest.json";
/// Where the manifest is written before it is renamed into place.
const PARTIAL_FILE: &str = "manifest.json.partial";

/// What the manifest remembers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Manifest {
    /// The state's lineage.
    pub lineage: String,
    /// The serial the database held, at least, when the manifest was written.
    pub serial: u64,
}

/// Writes the manifest of `dir`. Call holding the exclusive lock, after the database has made
/// `remembered` durable.
pub(crate) fn write(dir: &Path, remembered: &Manifest) -> io::Result<()> {
    let text = serde_json::to_vec_pretty(remembered).map_err(io::Error::other)?;
    let partial = dir.join(PARTIAL_FILE);
    fs::write(&partial, text)?;
    fs::rename(&partial, dir.join(MANIFEST_FILE))
}

/// The manifest of `dir`, when there is a readable one.
pub(crate) fn read(dir: &Path) -> Option<Manifest> {
    let path = dir.join(MANIFEST_FILE);
    let bytes = fs::read(&path).ok()?;
    match serde_json::from_slice(&bytes) {
        Ok(manifest) => Some(manifest),
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "the state manifest is unreadable; not checked");
            None
        }
    }
}

/// Checks the database's `metadata` against the manifest of `dir`.
///
/// # Errors
///
/// [`StateError::Damaged`] when the database is behind the manifest or of another lineage.
pub(crate) fn check(dir: &Path, metadata: &Metadata) -> Result<(), StateError> {
    let Some(manifest) = read(dir) else { return Ok(()) };
    let behind = metadata.serial < manifest.serial;
    let other_lineage = metadata.lineage != manifest.lineage;
    if manifest.serial == 0 || !(behind || other_lineage) {
        return Ok(());
    }
    let found = if metadata.lineage.is_empty() {
        "no state at all".to_owned()
    } else {
        format!("serial {} of lineage {}", metadata.serial, metadata.lineage)
    };
    Err(StateError::Damaged {
        dir: dir.to_owned(),
        found,
        expected_serial: manifest.serial,
        expected_lineage: manifest.lineage,
    })
}
