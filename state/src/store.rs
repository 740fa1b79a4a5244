//! The [`Store`]: one state directory, its sled trees, and every read and write.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sled::transaction::{
    ConflictableTransactionError, ConflictableTransactionResult, TransactionError, Transactional,
    TransactionalTree,
};
use sled::{IVec, Tree};
use tempfile::TempDir;

use crate::codec::{Codec, Record};
use crate::envelope::SCHEMA_VERSION;
use crate::error::StateError;
use crate::keys::{self, HistoryKey};
use crate::lock::{self, LockRecordGuard, ReleaseWait};
use crate::manifest::{self, Manifest};
use crate::model::{
    AppliedChanges, ApplyId, Finished, Metadata, OperationKind, PendingKind, PendingOperation,
    ResourceRecord, Snapshot,
};
use crate::read_cache::{self, RawTrees};
use crate::secrets::{self, SecretError, Secrets};

/// The most memory sled's page cache may use (its default is 1 GiB). A snapshot decodes every
/// record once, so a bigger cache buys nothing.
const SLED_CACHE_BYTES: u64 = 128 * 1024 * 1024;

/// How many applies [`Store::history`] keeps.
pub const HISTORY_LIMIT: u64 = 20;

/// A handle on one state directory. Cheap to clone; every clone shares the same database, and
/// the lock is released when the last clone is dropped.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

/// Field order is drop order, and it matters: the lock record goes before sled releases its
/// lock, the wait for that release (which then writes the read cache, and last releases the
/// session lock) comes after the sled handles, and a read-only copy is deleted after the
/// database that uses it has closed.
struct Inner {
    /// `Some` for a read-write store; `None` for a read-only one.
    lock_record: Option<LockRecordGuard>,
    dir: PathBuf,
    db: sled::Db,
    trees: Trees,
    codec: Codec,
    lock_release: Option<ReleaseWait>,
    /// The serial the manifest was last written with by this store.
    remembered_serial: Mutex<Option<u64>>,
    _copy: Option<TempDir>,
}

struct Trees {
    metadata: Tree,
    resources: Tree,
    outputs: Tree,
    bindings: Tree,
    journal: Tree,
    history: Tree,
}

impl Trees {
    fn open(db: &sled::Db) -> sled::Result<Self> {
        Ok(Trees {
            metadata: db.open_tree(keys::METADATA)?,
            resources: db.open_tree(keys::RESOURCES)?,
            outputs: db.open_tree(keys::OUTPUTS)?,
            bindings: db.open_tree(keys::BINDINGS)?,
            journal: db.open_tree(keys::JOURNAL)?,
            history: db.open_tree(keys::HISTORY)?,
        })
    }

    /// The raw entries of the trees a snapshot reads, as [`RawTrees`] orders them.
    fn raw(&self) -> sled::Result<RawTrees<IVec>> {
        Ok([
            raw_entries(&self.metadata)?,
            raw_entries(&self.resources)?,
            raw_entries(&self.outputs)?,
            raw_entries(&self.bindings)?,
            raw_entries(&self.journal)?,
        ])
    }
}

/// Every entry of `tree`, in key order, as stored.
fn raw_entries(tree: &Tree) -> sled::Result<Vec<(IVec, IVec)>> {
    tree.iter().collect()
}

/// The payload of the one record in the `metadata` tree.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct StateRecord {
    lineage: String,
    serial: u64,
    last_apply: u64,
}

/// The payload of an apply's header in the `history` tree.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct ApplyHeader {
    kind: OperationKind,
    started_at_unix: u64,
}

type TxResult<T> = ConflictableTransactionResult<T, StateError>;

impl Store {
    /// Opens the state in `dir` for reading and writing, creating it if missing.
    ///
    /// Takes sled's exclusive lock, then writes the lock record `dir/lock.json` (pid, start
    /// time, host name), which is removed when the last clone of the store is dropped. A new
    /// state gets its lineage and its secrets key (`dir/secrets.key`, mode 0600) here.
    ///
    /// Opening and dropping, even without writes, changes files of `dir`: see the crate docs.
    ///
    /// # Errors
    ///
    /// [`StateError::Locked`] when another store holds `dir`, or any error of reading the
    /// directory.
    pub fn open(dir: &Path) -> Result<Store, StateError> {
        let session = lock::hold_session(dir)?;
        // Named at once, before sled takes its time to open: a second writer that finds the
        // session taken must find who holds it.
        let lock = lock::write_record(dir)?;
        let db = sled_config(dir).open().map_err(|e| {
            if lock::is_conflict(&e) { lock::locked(dir) } else { StateError::database(dir, e) }
        })?;
        let trees = Trees::open(&db).map_err(|e| StateError::database(dir, e))?;
        let stored =
            trees.metadata.get(keys::STATE_KEY).map_err(|e| StateError::database(dir, e))?;
        // Before anything is written (a new state's key and lineage included): a lost or
        // older database is not a new or current state. A corrupt metadata record is reported,
        // naming it, where it is read.
        let stored_metadata = match stored.as_deref() {
            None => Ok(unwritten_metadata()),
            Some(bytes) => metadata_from(&Codec::new(Secrets::load(dir)?), Some(bytes)),
        };
        if let Ok(metadata) = stored_metadata {
            manifest::check(dir, &metadata)?;
        }
        read_cache::invalidate(dir).map_err(|e| {
            StateError::io("remove the read cache", dir.join(read_cache::CACHE_FILE), e)
        })?;
        let is_new = stored.is_none();
        let secrets = if is_new { Secrets::load_or_create(dir)? } else { Secrets::load(dir)? };
        let store = Store::assemble(Some((lock, session)), dir, db, trees, secrets, None);
        if is_new {
            store.initialize()?;
        }
        Ok(store)
    }

    /// Opens the state in `dir` for reading only, and changes nothing in `dir`.
    ///
    /// sled rewrites files when it opens a database, so this copies the database files (not
    /// the lock files or the key) to a temporary directory, holding shared locks on the state
    /// during the copy, and opens the copy. Writes return [`StateError::ReadOnly`]. A missing
    /// state reads as empty, with an empty lineage and serial 0; `dir` is not created.
    ///
    /// # Errors
    ///
    /// [`StateError::Locked`] when a read-write store holds `dir`, or any error of reading it.
    pub fn open_read_only(dir: &Path) -> Result<Store, StateError> {
        let shared = lock::hold_shared(dir)?;
        Store::open_copy(dir, shared.is_some())
    }

    /// A read-only store over a copy of the database in `dir` (an empty one when `exists` is
    /// false). Call holding shared locks on `dir`.
    fn open_copy(dir: &Path, exists: bool) -> Result<Store, StateError> {
        let copy = tempfile::Builder::new().prefix("cairn-state-").tempdir().map_err(|e| {
            StateError::io("create a temporary directory in", std::env::temp_dir(), e)
        })?;
        if exists {
            copy_database(dir, copy.path())?;
        }
        let db = sled_config(copy.path()).open().map_err(|e| StateError::database(dir, e))?;
        let trees = Trees::open(&db).map_err(|e| StateError::database(dir, e))?;
        let store = Store::assemble(None, dir, db, trees, Secrets::load(dir)?, Some(copy));
        if let Ok(metadata) = store.metadata() {
            manifest::check(dir, &metadata)?;
        }
        Ok(store)
    }

    fn assemble(
        locks: Option<(LockRecordGuard, fs::File)>,
        dir: &Path,
        db: sled::Db,
        trees: Trees,
        secrets: Secrets,
        copy: Option<TempDir>,
    ) -> Store {
        // Only a writer updates the manifest, from what it says at open.
        let remembered = locks.as_ref().and_then(|_| manifest::read(dir)).map(|read| read.serial);
        let (lock_record, lock_release) = match locks {
            Some((record, session)) => (Some(record), Some(ReleaseWait::new(dir, session))),
            None => (None, None),
        };
        let codec = Codec::new(secrets);
        let dir = dir.to_owned();
        let inner = Inner {
            lock_record,
            dir,
            db,
            trees,
            codec,
            lock_release,
            remembered_serial: Mutex::new(remembered),
            _copy: copy,
        };
        Store { inner: Arc::new(inner) }
    }

    /// Writes the metadata of a new state and makes it durable.
    fn initialize(&self) -> Result<(), StateError> {
        let mut lineage = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut lineage);
        let lineage = lineage.iter().map(|b| format!("{b:02x}")).collect();
        let state = StateRecord { lineage, serial: 0, last_apply: 0 };
        let bytes = self.encode(keys::METADATA, keys::STATE_KEY, &state)?;
        self.trees().metadata.insert(keys::STATE_KEY, bytes).map_err(|e| self.db_error(e))?;
        tracing::info!(dir = %self.dir().display(), lineage = %state.lineage, "created a new state");
        self.flush()
    }

    /// The state directory this store was opened on.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The schema version, lineage and serial.
    ///
    /// # Errors
    ///
    /// A corrupt or newer metadata record, or a database failure.
    pub fn metadata(&self) -> Result<Metadata, StateError> {
        let bytes = self.trees().metadata.get(keys::STATE_KEY).map_err(|e| self.db_error(e))?;
        metadata_from(&self.inner.codec, bytes.as_deref())
    }

    /// Everything in the state: metadata, resources, stack outputs, bindings and journal.
    ///
    /// Consistent as long as nothing writes meanwhile (the lock sees to that across processes).
    ///
    /// # Errors
    ///
    /// The first record that is corrupt, newer, or has a secret that cannot be decrypted: no
    /// record is ever skipped.
    pub fn snapshot(&self) -> Result<Snapshot, StateError> {
        decode_snapshot(&self.inner.codec, &self.raw_trees()?)
    }

    /// Everything in the state in `dir`, as [`Store::open_read_only`] and then
    /// [`Store::snapshot`] would read it, and changing nothing in `dir` either; but from the
    /// read cache that the last writer left (one file read, no sled) when it matches the
    /// database, which is what makes `plan` of a large state fast. See the crate docs.
    ///
    /// # Errors
    ///
    /// As [`Store::open_read_only`] and [`Store::snapshot`].
    pub fn read_snapshot(dir: &Path) -> Result<Snapshot, StateError> {
        let Some(_shared) = lock::hold_shared(dir)? else {
            let metadata = unwritten_metadata();
            manifest::check(dir, &metadata)?;
            return Ok(Snapshot { metadata, ..Snapshot::default() });
        };
        if let Some(cache) = read_cache::load(dir) {
            match cache.trees() {
                Ok(trees) => {
                    let snapshot = decode_snapshot(&Codec::new(Secrets::load(dir)?), &trees)?;
                    manifest::check(dir, &snapshot.metadata)?;
                    return Ok(snapshot);
                }
                Err(reason) => tracing::debug!(reason, "read cache not used"),
            }
        }
        Store::open_copy(dir, true)?.snapshot()
    }

    /// Registers a new apply (or destroy or refresh) in the history and returns its id; drops
    /// what history holds about all but the last [`HISTORY_LIMIT`] applies.
    ///
    /// # Errors
    ///
    /// [`StateError::ReadOnly`], a corrupt metadata record, or a database failure.
    pub fn begin_apply(
        &self,
        kind: OperationKind,
        started_at_unix: u64,
    ) -> Result<ApplyId, StateError> {
        self.writable()?;
        let header = ApplyHeader { kind, started_at_unix };
        let trees = self.trees();
        let id = self.transact((&trees.metadata, &trees.history), |(metadata, history)| {
            let mut state = self.state_in(metadata)?;
            state.last_apply += 1;
            self.put_in(metadata, keys::METADATA, keys::STATE_KEY, &state)?;
            self.put_in(history, keys::HISTORY, &keys::apply_header(state.last_apply), &header)?;
            Ok(state.last_apply)
        })?;
        self.prune_history(id)?;
        Ok(ApplyId(id))
    }

    /// Writes `record` (under `record.urn`) as part of `apply`; returns the serial after it.
    ///
    /// The serial and history change only when the stored record differs from `record`.
    /// Durable at the next [`flush`](Store::flush) (sled also flushes every 500 ms, and on drop).
    ///
    /// # Errors
    ///
    /// [`StateError::UnknownApply`], [`StateError::ReadOnly`], a secret without a key, a corrupt
    /// record in the way, or a database failure. On error nothing was written.
    pub fn put_resource(&self, apply: ApplyId, record: &ResourceRecord) -> Result<u64, StateError> {
        self.change(apply, &record.urn, Some(record), false)
    }

    /// Removes the record of `urn` as part of `apply`; returns the serial after it (unchanged
    /// when there was no such record).
    ///
    /// # Errors
    ///
    /// As [`put_resource`](Store::put_resource).
    pub fn remove_resource(&self, apply: ApplyId, urn: &str) -> Result<u64, StateError> {
        self.change(apply, urn, None, false)
    }

    /// Inserts or overwrites the given provider binding configurations; others stay.
    ///
    /// # Errors
    ///
    /// [`StateError::ReadOnly`], a secret without a key, or a database failure.
    pub fn put_bindings(&self, bindings: &BTreeMap<String, Value>) -> Result<(), StateError> {
        self.writable()?;
        let mut batch = sled::Batch::default();
        for (name, config) in bindings {
            batch.insert(name.as_bytes(), self.encode(keys::BINDINGS, name.as_bytes(), config)?);
        }
        self.trees().bindings.apply_batch(batch).map_err(|e| self.db_error(e))
    }

    /// Removes the provider binding configuration `name`, if any.
    ///
    /// # Errors
    ///
    /// [`StateError::ReadOnly`], or a database failure.
    pub fn remove_binding(&self, name: &str) -> Result<(), StateError> {
        self.writable()?;
        self.trees().bindings.remove(name).map(drop).map_err(|e| self.db_error(e))
    }

    /// Replaces the whole set of stack outputs as part of `apply`, which records the previous
    /// set in history the first time it replaces them. Does not change the serial.
    ///
    /// # Errors
    ///
    /// [`StateError::UnknownApply`], [`StateError::ReadOnly`], a secret without a key, or a
    /// database failure.
    pub fn replace_outputs(
        &self,
        apply: ApplyId,
        outputs: &BTreeMap<String, Value>,
    ) -> Result<(), StateError> {
        self.writable()?;
        let encoded = IVec::from(self.encode(keys::OUTPUTS, keys::OUTPUTS_KEY, outputs)?);
        let empty = IVec::from(self.encode(
            keys::OUTPUTS,
            keys::OUTPUTS_KEY,
            &BTreeMap::<String, Value>::new(),
        )?);
        let trees = self.trees();
        self.transact((&trees.outputs, &trees.history), |(stored, history)| {
            require_apply(history, apply)?;
            let old = stored.get(keys::OUTPUTS_KEY)?;
            let old_outputs: BTreeMap<String, Value> = match &old {
                Some(bytes) => self.decode_in(keys::OUTPUTS, keys::OUTPUTS_KEY, bytes)?,
                None => BTreeMap::new(),
            };
            if old_outputs == *outputs {
                return Ok(());
            }
            let entry = keys::apply_outputs(apply.0);
            if history.get(&entry)?.is_none() {
                history.insert(entry, old.unwrap_or_else(|| empty.clone()))?;
            }
            stored.insert(keys::OUTPUTS_KEY, encoded.clone())?;
            Ok(())
        })
    }

    /// Records that the provider call described by `op` is about to start, durably (flushed)
    /// before returning. One entry per URN: a second begin replaces the first.
    ///
    /// # Errors
    ///
    /// [`StateError::ReadOnly`], a secret without a key, or a database failure.
    pub fn journal_begin(&self, op: &PendingOperation) -> Result<(), StateError> {
        self.journal_begin_all(std::slice::from_ref(op))
    }

    /// Records that the provider calls described by `ops` are about to start, durably, with
    /// one flush for all of them (a group commit: calls that start together pay once).
    pub fn journal_begin_all(&self, ops: &[PendingOperation]) -> Result<(), StateError> {
        self.writable()?;
        for op in ops {
            let key = keys::journal(&op.urn, op.kind);
            let bytes = self.encode(keys::JOURNAL, &key, op)?;
            self.trees().journal.insert(key, bytes).map_err(|e| self.db_error(e))?;
        }
        self.flush()
    }

    /// Clears the journal entry of `urn` for a call of `kind`, durably: after a call that
    /// failed (so nothing changed), or one whose end changes no record.
    /// [`PendingKind::DeleteReplaced`] has its own entry; the other kinds share one per URN.
    ///
    /// # Errors
    ///
    /// [`StateError::ReadOnly`], or a database failure.
    pub fn journal_clear(&self, urn: &str, kind: PendingKind) -> Result<(), StateError> {
        self.writable()?;
        self.trees().journal.remove(keys::journal(urn, kind)).map_err(|e| self.db_error(e))?;
        self.flush()
    }

    /// After a successful create or update: in one transaction writes `record`, its history
    /// entry and the serial, and clears its journal entry. Returns the serial.
    ///
    /// Durable at the next [`flush`](Store::flush): callers finishing several operations at
    /// once flush after the last (a group commit). Until then the journal entry written
    /// before the call is what survives a crash, and recovery settles it with the cloud, so
    /// a crash never loses or doubles a resource.
    ///
    /// # Errors
    ///
    /// As [`put_resource`](Store::put_resource). On error nothing was written, and the journal
    /// entry stays.
    pub fn finish_put(&self, apply: ApplyId, record: &ResourceRecord) -> Result<u64, StateError> {
        self.change(apply, &record.urn, Some(record), true)
    }

    /// After several operations finished: records them all in one transaction (clearing
    /// their journal entries), as [`finish_put`](Store::finish_put) and
    /// [`finish_remove`](Store::finish_remove) do one by one. Returns the serial.
    ///
    /// # Errors
    ///
    /// As [`put_resource`](Store::put_resource). On error nothing was written.
    pub fn finish_all(&self, apply: ApplyId, finished: &[Finished<'_>]) -> Result<u64, StateError> {
        self.change_all(apply, finished, true)
    }

    /// Records `changes` in one transaction as part of `apply`, leaving the journal alone:
    /// for what was learned rather than done (a refresh). Returns the serial.
    ///
    /// # Errors
    ///
    /// As [`put_resource`](Store::put_resource). On error nothing was written.
    pub fn record_all(&self, apply: ApplyId, changes: &[Finished<'_>]) -> Result<u64, StateError> {
        self.change_all(apply, changes, false)
    }

    /// After a successful delete: in one transaction removes the record of `urn`, writes its
    /// history entry and the serial, and clears its journal entry. Returns the serial.
    /// Durable at the next [`flush`](Store::flush), as for [`finish_put`](Store::finish_put).
    ///
    /// # Errors
    ///
    /// As [`finish_put`](Store::finish_put).
    pub fn finish_remove(&self, apply: ApplyId, urn: &str) -> Result<u64, StateError> {
        self.change(apply, urn, None, true)
    }

    /// The journal: calls that started and were neither finished nor cleared, by URN.
    ///
    /// # Errors
    ///
    /// A corrupt or newer journal record, or a database failure.
    pub fn pending_operations(&self) -> Result<Vec<PendingOperation>, StateError> {
        let journal = self.raw_tree(&self.trees().journal)?;
        Ok(self.inner.codec.decode_entries(keys::JOURNAL, &journal)?.into_values().collect())
    }

    /// The retained applies, newest first, each with the versions it replaced.
    ///
    /// # Errors
    ///
    /// A corrupt or newer history record, or a database failure.
    pub fn history(&self) -> Result<Vec<AppliedChanges>, StateError> {
        let mut applies: Vec<AppliedChanges> = Vec::new();
        for entry in self.trees().history.iter() {
            let (key, bytes) = entry.map_err(|e| self.db_error(e))?;
            let parsed = keys::parse_history(&key);
            let current = applies
                .last_mut()
                .filter(|changes| Some(changes.id.0) == parsed.as_ref().map(history_id));
            match (parsed, current) {
                (Some(HistoryKey::Header(id)), _) => {
                    let header: ApplyHeader = self.decode(keys::HISTORY, &key, &bytes)?;
                    applies.push(AppliedChanges {
                        id: ApplyId(id),
                        kind: header.kind,
                        started_at_unix: header.started_at_unix,
                        previous_resources: BTreeMap::new(),
                        previous_outputs: None,
                    });
                }
                (Some(HistoryKey::Resource(_, urn)), Some(changes)) => {
                    let previous = self.decode(keys::HISTORY, &key, &bytes)?;
                    changes.previous_resources.insert(urn.to_owned(), previous);
                }
                (Some(HistoryKey::Outputs(_)), Some(changes)) => {
                    changes.previous_outputs = Some(self.decode(keys::HISTORY, &key, &bytes)?);
                }
                _ => return Err(corrupt(keys::HISTORY, &key, "it belongs to no registered apply")),
            }
        }
        applies.reverse();
        Ok(applies)
    }

    /// Makes every write so far durable (fsync). When the state has no manifest yet (a new
    /// state), the flush writes it; otherwise the store updates it as it closes: once per run
    /// rather than per flush, as a file write per group commit would cost more than the commit.
    ///
    /// # Errors
    ///
    /// A database failure.
    pub fn flush(&self) -> Result<(), StateError> {
        // Read before the flush: what the manifest claims must be durable already.
        let durable = self.metadata()?;
        self.inner.db.flush().map_err(|e| self.db_error(e))?;
        if self.inner.remembered().is_none() {
            self.inner.remember(&durable);
        }
        Ok(())
    }

    /// The one write path for resources: `new` replaces (`Some`) or removes (`None`) the record
    /// of `urn`; serial and history change only if the stored record changes.
    fn change(
        &self,
        apply: ApplyId,
        urn: &str,
        new: Option<&ResourceRecord>,
        clear_journal: bool,
    ) -> Result<u64, StateError> {
        let finished = match new {
            Some(record) => Finished::Put(record),
            None => Finished::Remove(urn),
        };
        self.change_all(apply, std::slice::from_ref(&finished), clear_journal)
    }

    /// Applies `changes` in one transaction: each record written or removed with its history
    /// entry, the serial bumped once per real change, journal entries cleared if asked, and
    /// the entries of replaced resources still to delete journaled.
    fn change_all(
        &self,
        apply: ApplyId,
        changes: &[Finished<'_>],
        clear_journal: bool,
    ) -> Result<u64, StateError> {
        self.writable()?;
        let mut prepared = Vec::with_capacity(changes.len());
        for change in changes {
            let urn = change.urn();
            let encoded = match change.record() {
                Some(record) => {
                    Some(IVec::from(self.encode(keys::RESOURCES, urn.as_bytes(), record)?))
                }
                None => None,
            };
            let replaced = match change {
                Finished::Replaced { replaced, .. } => {
                    let key = keys::journal(&replaced.urn, PendingKind::DeleteReplaced);
                    let bytes = IVec::from(self.encode(keys::JOURNAL, &key, *replaced)?);
                    Some((key, bytes))
                }
                Finished::Put(_) | Finished::Remove(_) => None,
            };
            let entry = keys::apply_resource(apply.0, urn);
            prepared.push((urn, change.record(), encoded, entry, replaced));
        }
        let absent = IVec::from(self.encode(keys::HISTORY, b"", &None::<ResourceRecord>)?);
        let trees = self.trees();
        let serial = self.transact(
            (&trees.metadata, &trees.resources, &trees.journal, &trees.history),
            |(metadata, resources, journal, history)| {
                require_apply(history, apply)?;
                let mut state = self.state_in(metadata)?;
                let before = state.serial;
                for (urn, new, encoded, entry, replaced) in &prepared {
                    if clear_journal {
                        journal.remove(urn.as_bytes())?;
                    }
                    if let Some((key, bytes)) = replaced {
                        journal.insert(key.as_slice(), bytes.clone())?;
                    }
                    let old = resources.get(urn.as_bytes())?;
                    if !self.differs(urn, old.as_ref(), *new)? {
                        continue;
                    }
                    if history.get(entry)?.is_none() {
                        history.insert(entry.as_slice(), old.unwrap_or_else(|| absent.clone()))?;
                    }
                    match encoded {
                        Some(bytes) => resources.insert(urn.as_bytes(), bytes.clone())?,
                        None => resources.remove(urn.as_bytes())?,
                    };
                    state.serial += 1;
                }
                if state.serial != before {
                    self.put_in(metadata, keys::METADATA, keys::STATE_KEY, &state)?;
                }
                Ok(state.serial)
            },
        )?;
        tracing::debug!(changes = changes.len(), serial, "recorded resource changes");
        Ok(serial)
    }

    /// Whether writing `new` over `old` (the stored bytes of `urn`) changes anything.
    fn differs(
        &self,
        urn: &str,
        old: Option<&IVec>,
        new: Option<&ResourceRecord>,
    ) -> TxResult<bool> {
        Ok(match (old, new) {
            (None, None) => false,
            (Some(bytes), Some(new)) => {
                self.decode_in::<ResourceRecord>(keys::RESOURCES, urn.as_bytes(), bytes)? != *new
            }
            _ => true,
        })
    }

    /// Removes every history entry of applies older than the last [`HISTORY_LIMIT`].
    fn prune_history(&self, newest: u64) -> Result<(), StateError> {
        let keep_from = newest.saturating_sub(HISTORY_LIMIT - 1);
        let history = &self.trees().history;
        let mut batch = sled::Batch::default();
        for entry in history.range(..keys::apply_start(keep_from)) {
            batch.remove(entry.map_err(|e| self.db_error(e))?.0);
        }
        history.apply_batch(batch).map_err(|e| self.db_error(e))
    }

    /// The raw entries of the trees a snapshot reads.
    pub(crate) fn raw_trees(&self) -> Result<RawTrees<IVec>, StateError> {
        self.trees().raw().map_err(|e| self.db_error(e))
    }

    /// Every entry of `tree`, in key order, as stored.
    fn raw_tree(&self, tree: &Tree) -> Result<Vec<(IVec, IVec)>, StateError> {
        raw_entries(tree).map_err(|e| self.db_error(e))
    }

    /// The state record, inside a transaction.
    fn state_in(&self, metadata: &TransactionalTree) -> TxResult<StateRecord> {
        let bytes = metadata.get(keys::STATE_KEY)?;
        let bytes = bytes
            .ok_or_else(|| abort(corrupt(keys::METADATA, keys::STATE_KEY, "it is missing")))?;
        self.decode_in(keys::METADATA, keys::STATE_KEY, &bytes)
    }

    /// Encodes and inserts `record`, inside a transaction.
    fn put_in<R: Record>(
        &self,
        tx: &TransactionalTree,
        tree: &'static str,
        key: &[u8],
        record: &R,
    ) -> TxResult<()> {
        tx.insert(key, self.encode(tree, key, record).map_err(abort)?)?;
        Ok(())
    }

    fn decode_in<R: Record>(&self, tree: &'static str, key: &[u8], bytes: &[u8]) -> TxResult<R> {
        self.decode(tree, key, bytes).map_err(abort)
    }

    fn encode<R: Record>(
        &self,
        tree: &'static str,
        key: &[u8],
        record: &R,
    ) -> Result<Vec<u8>, StateError> {
        self.inner.codec.encode(tree, key, record)
    }

    fn decode<R: Record>(
        &self,
        tree: &'static str,
        key: &[u8],
        bytes: &[u8],
    ) -> Result<R, StateError> {
        self.inner.codec.decode(tree, key, bytes)
    }

    /// Runs a sled transaction over `trees`, mapping its errors.
    fn transact<T, Trees: Transactional<StateError>>(
        &self,
        trees: Trees,
        body: impl Fn(&Trees::View) -> TxResult<T>,
    ) -> Result<T, StateError> {
        trees.transaction(body).map_err(|e| match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => self.db_error(e),
        })
    }

    fn writable(&self) -> Result<(), StateError> {
        match self.inner.lock_record {
            Some(_) => Ok(()),
            None => Err(StateError::ReadOnly),
        }
    }

    fn trees(&self) -> &Trees {
        &self.inner.trees
    }

    fn db_error(&self, e: sled::Error) -> StateError {
        StateError::database(self.dir(), e)
    }
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.inner.dir)
            .field("read_only", &self.inner.lock_record.is_none())
            .finish_non_exhaustive()
    }
}

impl Inner {
    /// The serial the manifest was last written with by this store.
    fn remembered(&self) -> Option<u64> {
        *self.remembered_serial.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Writes the manifest of a read-write store when `durable` (already flushed) is newer
    /// than what it says. A manifest that cannot be written only weakens the next damage
    /// check: it is logged.
    fn remember(&self, durable: &Metadata) {
        if self.lock_record.is_none() {
            return;
        }
        let mut remembered =
            self.remembered_serial.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if remembered.is_some_and(|serial| serial >= durable.serial) {
            return;
        }
        let manifest = Manifest { lineage: durable.lineage.clone(), serial: durable.serial };
        match manifest::write(&self.dir, &manifest) {
            Ok(()) => *remembered = Some(durable.serial),
            Err(error) => {
                tracing::warn!(dir = %self.dir.display(), %error, "could not write the state manifest")
            }
        }
    }

    /// As the store closes: flushes, then has the manifest remember the final serial.
    fn remember_at_close(&self) {
        let bytes = self.trees.metadata.get(keys::STATE_KEY).ok().flatten();
        let Ok(durable) = metadata_from(&self.codec, bytes.as_deref()) else { return };
        if self.db.flush().is_ok() {
            self.remember(&durable);
        }
    }
}

impl Drop for Inner {
    /// A read-write store leaves the manifest up to date and the read cache behind, written
    /// under its lock once sled has closed the database. A cache that cannot be written is
    /// only a slower next `plan`.
    fn drop(&mut self) {
        if self.lock_release.is_none() {
            return;
        }
        self.remember_at_close();
        let Some(release) = self.lock_release.as_mut() else { return };
        let raw = match self.trees.raw() {
            Ok(raw) => raw,
            Err(e) => {
                tracing::warn!(dir = %self.dir.display(), error = %e, "could not read the state to write its read cache");
                return;
            }
        };
        let dir = self.dir.clone();
        release.then_while_locked(Box::new(move || {
            if let Err(e) = read_cache::write(&dir, &raw) {
                tracing::warn!(dir = %dir.display(), error = %e, "could not write the read cache");
            }
        }));
    }
}

/// The snapshot in the raw entries of its trees.
fn decode_snapshot<B: AsRef<[u8]> + Sync>(
    codec: &Codec,
    [metadata, resources, outputs, bindings, journal]: &RawTrees<B>,
) -> Result<Snapshot, StateError> {
    Ok(Snapshot {
        metadata: metadata_from(codec, find(metadata, keys::STATE_KEY))?,
        resources: codec.decode_entries(keys::RESOURCES, resources)?,
        outputs: match find(outputs, keys::OUTPUTS_KEY) {
            Some(bytes) => codec.decode(keys::OUTPUTS, keys::OUTPUTS_KEY, bytes)?,
            None => BTreeMap::new(),
        },
        bindings: codec.decode_entries(keys::BINDINGS, bindings)?,
        pending: codec.decode_entries(keys::JOURNAL, journal)?.into_values().collect(),
    })
}

/// The value stored under `key` among `entries`.
fn find<'a, B: AsRef<[u8]>>(entries: &'a [(B, B)], key: &[u8]) -> Option<&'a [u8]> {
    entries.iter().find(|(k, _)| k.as_ref() == key).map(|(_, value)| value.as_ref())
}

/// The metadata of a state that has not been written yet.
fn unwritten_metadata() -> Metadata {
    Metadata { schema_version: SCHEMA_VERSION, lineage: String::new(), serial: 0 }
}

/// The metadata from the stored state record; that of a state not created yet without one.
fn metadata_from(codec: &Codec, bytes: Option<&[u8]>) -> Result<Metadata, StateError> {
    let Some(bytes) = bytes else { return Ok(unwritten_metadata()) };
    let (schema_version, state): (u16, StateRecord) =
        codec.decode_versioned(keys::METADATA, keys::STATE_KEY, bytes)?;
    Ok(Metadata { schema_version, lineage: state.lineage, serial: state.serial })
}

/// sled's configuration for the database in `path`.
fn sled_config(path: &Path) -> sled::Config {
    sled::Config::new().path(path).cache_capacity(SLED_CACHE_BYTES)
}

/// Fails the transaction unless `apply` has a header in `history`.
fn require_apply(history: &TransactionalTree, apply: ApplyId) -> TxResult<()> {
    match history.get(keys::apply_header(apply.0))? {
        Some(_) => Ok(()),
        None => Err(abort(StateError::UnknownApply { id: apply.0 })),
    }
}

fn history_id(key: &HistoryKey<'_>) -> u64 {
    match *key {
        HistoryKey::Header(id) | HistoryKey::Resource(id, _) | HistoryKey::Outputs(id) => id,
    }
}

fn abort(e: StateError) -> ConflictableTransactionError<StateError> {
    ConflictableTransactionError::Abort(e)
}

fn corrupt(tree: &'static str, key: &[u8], reason: &str) -> StateError {
    StateError::CorruptRecord { tree, key: keys::display(tree, key), reason: reason.to_owned() }
}

/// Copies sled's files from the state directory `from` into `to`: everything but the lock
/// files and the secrets key.
fn copy_database(from: &Path, to: &Path) -> Result<(), StateError> {
    let entries =
        fs::read_dir(from).map_err(|e| StateError::io("read the state directory", from, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| StateError::io("read the state directory", from, e))?;
        let name = entry.file_name();
        if name == lock::LOCK_FILE || name == lock::SESSION_FILE || name == secrets::KEY_FILE {
            continue;
        }
        copy_entry(&entry.path(), &to.join(name))?;
    }
    Ok(())
}

fn copy_entry(from: &Path, to: &Path) -> Result<(), StateError> {
    let is_dir = fs::metadata(from).map_err(|e| StateError::io("read", from, e))?.is_dir();
    if !is_dir {
        return fs::copy(from, to).map(drop).map_err(|e| StateError::io("copy", from, e));
    }
    fs::create_dir(to).map_err(|e| StateError::io("create", to, e))?;
    let entries = fs::read_dir(from).map_err(|e| StateError::io("read", from, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| StateError::io("read", from, e))?;
        copy_entry(&entry.path(), &to.join(entry.file_name()))?;
    }
    Ok(())
}

impl Record for StateRecord {}

impl Record for ApplyHeader {}

impl Record for ResourceRecord {
    fn for_each_value(
        &mut self,
        f: &mut dyn FnMut(&mut Value) -> Result<(), SecretError>,
    ) -> Result<(), SecretError> {
        f(&mut self.inputs)?;
        f(&mut self.outputs)
    }
}

impl Record for PendingOperation {
    fn for_each_value(
        &mut self,
        f: &mut dyn FnMut(&mut Value) -> Result<(), SecretError>,
    ) -> Result<(), SecretError> {
        f(&mut self.inputs)?;
        f(&mut self.prior_outputs)
    }
}

impl Record for Option<ResourceRecord> {
    fn for_each_value(
        &mut self,
        f: &mut dyn FnMut(&mut Value) -> Result<(), SecretError>,
    ) -> Result<(), SecretError> {
        self.as_mut().map_or(Ok(()), |record| record.for_each_value(f))
    }
}

impl Record for Value {
    fn for_each_value(
        &mut self,
        f: &mut dyn FnMut(&mut Value) -> Result<(), SecretError>,
    ) -> Result<(), SecretError> {
        f(self)
    }
}

impl Record for BTreeMap<String, Value> {
    fn for_each_value(
        &mut self,
        f: &mut dyn FnMut(&mut Value) -> Result<(), SecretError>,
    ) -> Result<(), SecretError> {
        self.values_mut().try_for_each(f)
    }
}
