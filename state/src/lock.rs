//! Who holds the state: the OS locks, and the lock record that names the holder.
//!
//! A writer first takes `flock(LOCK_EX | LOCK_NB)` on `session.lock` and keeps it for its
//! whole session, including what it does after sled has closed the database (writing the read
//! cache); sled 0.34 then takes its own exclusive lock on `db`. Readers take shared locks on
//! both. The OS drops these locks when the process exits, however it exits. The lock record
//! `lock.json` only says who holds them: it is written as soon as the session lock is
//! obtained (before sled opens), removed before the locks are released, and a record left
//! behind by a crash is simply overwritten by the next holder. A run refused in the instant
//! between another's lock and its record waits a moment for the record to name the holder.

use std::fs::{self, File, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::StateError;

/// The lock record's name inside the state directory.
pub(crate) const LOCK_FILE: &str = "lock.json";
/// sled's data file, which sled locks.
pub(crate) const DB_FILE: &str = "db";
/// The file a writer locks for its whole session.
pub(crate) const SESSION_FILE: &str = "session.lock";
/// How long [`ReleaseWait`] waits for sled's last I/O before giving up.
const RELEASE_TIMEOUT: Duration = Duration::from_secs(5);

/// The contents of `lock.json`.
#[derive(Debug, Serialize, Deserialize)]
struct LockRecord {
    pid: u32,
    started_at_unix: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hostname: Option<String>,
}

/// The written lock record of a read-write store; dropping it removes the record.
#[derive(Debug)]
pub(crate) struct LockRecordGuard {
    path: PathBuf,
}

impl Drop for LockRecordGuard {
    fn drop(&mut self) {
        if let Err(e) = fs::remove_file(&self.path) {
            tracing::warn!(path = %self.path.display(), error = %e, "could not remove the lock record");
        }
    }
}

/// Placed after the sled handles, waits on drop until sled's lock on `db` is really released.
///
/// sled 0.34 finishes log writes on background threads that keep `db` (and so its lock) open
/// for a moment after the last handle is dropped; without this wait, reopening the state right
/// away in the same process would fail with [`StateError::Locked`], and the files could still
/// change after the store is gone.
pub(crate) struct ReleaseWait {
    db: PathBuf,
    while_locked: Option<Box<dyn FnOnce() + Send + Sync>>,
    /// The writer's session lock, released last.
    _session: File,
}

impl ReleaseWait {
    /// Waits for the release of sled's lock on `dir/db`, then releases `session`.
    pub(crate) fn new(dir: &Path, session: File) -> Self {
        ReleaseWait { db: dir.join(DB_FILE), while_locked: None, _session: session }
    }

    /// Runs `task` once sled has released `db`, while this process still holds the session
    /// lock: no other store can open the state in between.
    pub(crate) fn then_while_locked(&mut self, task: Box<dyn FnOnce() + Send + Sync>) {
        self.while_locked = Some(task);
    }
}

impl Drop for ReleaseWait {
    fn drop(&mut self) {
        if let Some(_released) = wait_until_unlocked(&self.db)
            && let Some(task) = self.while_locked.take()
        {
            task();
        }
    }
}

/// Waits until nothing holds a lock on `db` (sled's background threads let go of it a moment
/// after the last handle is dropped), and returns it locked by this call: released again
/// when dropped. `None` when it does not exist, or is still locked after a few seconds.
pub(crate) fn wait_until_unlocked(db: &Path) -> Option<File> {
    let file = File::open(db).ok()?;
    let deadline = Instant::now() + RELEASE_TIMEOUT;
    loop {
        match file.try_lock() {
            Ok(()) => return Some(file),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => {
                tracing::warn!(path = %db.display(), error = %e, "sled's lock was not released in time");
                return None;
            }
        }
    }
}

/// Writes `dir/lock.json` for this process. Call only while holding the session lock on
/// `dir`, which no other writer can hold.
pub(crate) fn write_record(dir: &Path) -> Result<LockRecordGuard, StateError> {
    let path = dir.join(LOCK_FILE);
    if let Some(stale) = read_record(&path) {
        tracing::warn!(pid = stale.pid, "replacing the lock record left by a process that is gone");
    }
    let record = LockRecord {
        pid: std::process::id(),
        started_at_unix: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        hostname: fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|h| h.trim().to_owned()),
    };
    let text = serde_json::to_vec_pretty(&record).map_err(io::Error::other);
    text.and_then(|text| fs::write(&path, text))
        .map_err(|e| StateError::io("write the lock record", &path, e))?;
    Ok(LockRecordGuard { path })
}

/// Whether `error` is sled's "could not acquire lock" on open.
pub(crate) fn is_conflict(error: &sled::Error) -> bool {
    matches!(error, sled::Error::Io(e) if e.to_string().contains("could not acquire lock"))
}

/// How often, [`RECORD_POLL`] apart, a refused run looks for the holder's lock record before
/// saying it could not name the holder (a second in all).
const RECORD_LOOKS: u32 = 100;
/// The pause between two looks for the lock record.
const RECORD_POLL: Duration = Duration::from_millis(10);

/// The [`StateError::Locked`] for `dir`, with the holder from its lock record when readable.
/// A holder that has just taken the lock writes its record a moment later: this looks again
/// for a while before it gives up naming the holder.
pub(crate) fn locked(dir: &Path) -> StateError {
    let path = dir.join(LOCK_FILE);
    let record = (0..RECORD_LOOKS).find_map(|look| {
        if look > 0 {
            std::thread::sleep(RECORD_POLL);
        }
        read_record(&path)
    });
    StateError::Locked {
        dir: dir.to_owned(),
        pid: record.as_ref().map(|r| r.pid),
        since: record.and_then(|r| rfc3339(r.started_at_unix)),
    }
}

/// Takes the writer's session lock on `dir` (creating the directory and `session.lock` when
/// missing); it is released when the returned file is dropped.
pub(crate) fn hold_session(dir: &Path) -> Result<File, StateError> {
    fs::create_dir_all(dir).map_err(|e| StateError::io("create the state directory", dir, e))?;
    let path = dir.join(SESSION_FILE);
    let opened = fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path);
    let file = opened.map_err(|e| StateError::io("open the session lock", &path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(locked(dir)),
        Err(TryLockError::Error(e)) => Err(StateError::io("lock the state", path, e)),
    }
}

/// Shared locks on a state directory, held by a reader.
pub(crate) struct SharedHold {
    _session: Option<File>,
    _db: File,
}

/// Takes shared locks on `dir/session.lock` (when a writer ever made it) and `dir/db` without
/// writing anything, so that no writer can start while they are held. `Ok(None)` when there
/// is no database file.
pub(crate) fn hold_shared(dir: &Path) -> Result<Option<SharedHold>, StateError> {
    let Some(session) = lock_shared(dir, SESSION_FILE)? else {
        return Ok(lock_shared(dir, DB_FILE)?.map(|db| SharedHold { _session: None, _db: db }));
    };
    Ok(lock_shared(dir, DB_FILE)?.map(|db| SharedHold { _session: Some(session), _db: db }))
}

/// A shared lock on `dir/name`; `Ok(None)` when there is no such file.
fn lock_shared(dir: &Path, name: &str) -> Result<Option<File>, StateError> {
    let path = dir.join(name);
    let file = match File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StateError::io("open the state database", path, e)),
    };
    match file.try_lock_shared() {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::WouldBlock) => Err(locked(dir)),
        Err(TryLockError::Error(e)) => Err(StateError::io("lock the state database", path, e)),
    }
}

fn read_record(path: &Path) -> Option<LockRecord> {
    let text = fs::read(path).ok()?;
    serde_json::from_slice(&text).ok()
}

/// `unix` seconds as RFC 3339 in UTC, e.g. `2025-01-31T08:00:00Z`.
fn rfc3339(unix: u64) -> Option<String> {
    let at = time::OffsetDateTime::from_unix_timestamp(i64::try_from(unix).ok()?).ok()?;
    at.format(&time::format_description::well_known::Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_is_utc() {
        assert_eq!(rfc3339(0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(rfc3339(1_738_310_400).as_deref(), Some("2025-01-31T08:00:00Z"));
    }

    #[test]
    fn a_run_refused_before_the_holders_record_is_written_still_names_the_holder() {
        let dir = tempfile::tempdir().expect("temp dir");
        let holder = hold_session(dir.path()).expect("the first run takes the session");
        let writer = {
            let path = dir.path().to_owned();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(30));
                write_record(&path).expect("record")
            })
        };
        let refused = hold_session(dir.path()).expect_err("the second run is refused");
        let StateError::Locked { pid, .. } = refused else { panic!("not Locked: {refused}") };
        assert_eq!(pid, Some(std::process::id()), "the holder is named");
        drop(writer.join().expect("writer"));
        drop(holder);
    }

    #[test]
    fn locked_reads_the_record_and_tolerates_garbage() {
        let dir = tempfile::tempdir().expect("temp dir");
        let guard = write_record(dir.path()).expect("write");
        let StateError::Locked { pid, since, .. } = locked(dir.path()) else {
            panic!("not Locked")
        };
        assert_eq!(pid, Some(std::process::id()));
        assert!(since.is_some());
        drop(guard);
        assert!(!dir.path().join(LOCK_FILE).exists());
        fs::write(dir.path().join(LOCK_FILE), "garbage").expect("write");
        let message = locked(dir.path()).to_string();
        assert!(message.starts_with("state is locked by another process in `"), "{message}");
    }
}
