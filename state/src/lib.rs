//! The state store of cairn: what exists, as recorded after every provider call.
//!
//! One [`Store`] is one state directory (default `.cairn/state`), a sled database with six
//! trees: `resources` (URN -> [`ResourceRecord`]), `outputs` (the stack outputs), `bindings`
//! (provider binding configurations), `metadata` (lineage, serial), `journal` (one
//! [`PendingOperation`] per provider call in flight) and `history` (for each of the last
//! [`HISTORY_LIMIT`] applies, the previous version of every record it changed: audit and
//! rollback without copying the state).
//!
//! ```
//! use std::collections::BTreeMap;
//! use cairn_state::{OperationKind, PendingKind, PendingOperation, ResourceRecord, Store};
//! use serde_json::json;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let store = Store::open(dir.path())?;
//! let apply = store.begin_apply(OperationKind::Apply, 1_700_000_000)?;
//!
//! let vpc = ResourceRecord {
//!     urn: "urn:cairn:dev::trading::aws:ec2/Vpc::trading-vpc".into(),
//!     type_token: "aws:ec2/Vpc".into(),
//!     name: "trading-vpc".into(),
//!     binding: "trading".into(),
//!     inputs: json!({"cidrBlock": "10.0.0.0/16", "token": {"$secret": "s3cr3t"}}),
//!     outputs: json!({"id": "vpc-0abc"}),
//!     dependencies: vec![],
//! };
//! // Before the provider call: durable journal entry. After it: one transaction.
//! store.journal_begin(&PendingOperation {
//!     urn: vpc.urn.clone(),
//!     type_token: vpc.type_token.clone(),
//!     name: vpc.name.clone(),
//!     binding: vpc.binding.clone(),
//!     kind: PendingKind::Create,
//!     inputs: vpc.inputs.clone(),
//!     prior_outputs: json!(null),
//!     started_at_unix: 1_700_000_001,
//!     dependencies: Vec::new(),
//! })?;
//! let serial = store.finish_put(apply, &vpc)?;
//!
//! let snapshot = store.snapshot()?;
//! assert_eq!(serial, 1);
//! assert_eq!(snapshot.metadata.serial, 1);
//! assert_eq!(snapshot.resources[&vpc.urn], vpc); // the secret decrypts back
//! assert!(snapshot.pending.is_empty());
//! assert_eq!(store.history()?[0].previous_resources[&vpc.urn], None); // it was a create
//! # Ok(())
//! # }
//! ```
//!
//! # Records
//!
//! Every stored value is an envelope: the magic bytes `CRN1`, the schema version (u16), a
//! crc32 of the payload, then the payload (JSON). A value that fails any of these is
//! [`StateError::CorruptRecord`] or [`StateError::NewerSchema`], naming the tree and the key:
//! never a panic, never silently skipped.
//!
//! # Serial, lineage, history
//!
//! The lineage is a random id made when the state is created. The serial grows by one with
//! every change to the resources (a put that changes the stored record, a remove of a record
//! that exists), in the same sled transaction as the change, its history entry, and (for the
//! `finish_*` calls) the clearing of its journal entry. Stack outputs and bindings do not move
//! the serial. [`Store::begin_apply`] registers an apply and prunes history to the last
//! [`HISTORY_LIMIT`] applies.
//!
//! # Secrets
//!
//! Any JSON object of the exact form `{"$secret": v}` in resource inputs or outputs, stack
//! outputs, bindings, or journal entries is stored as `{"$secret_ciphertext": "<base64>"}`
//! (ChaCha20-Poly1305, random nonce) and read back as `{"$secret": v}`. The key is
//! `secrets.key` in the state directory, 32 random bytes in base64, created with the state
//! with mode 0600: back it up with the state; without it the secrets cannot be read
//! ([`StateError::SecretsKeyMissing`]).
//!
//! # Locking
//!
//! [`Store::open`] first takes an exclusive OS lock (`flock`) on `session.lock` (created with
//! the directory) and holds it for the store's whole life; sled then takes its own on `db`.
//! The OS drops both when the process exits, however it exits. After obtaining them,
//! [`Store::open`] writes `lock.json` (pid, start time, host name); the last clone of the
//! store removes it on drop, then waits until sled's background I/O threads have closed `db`
//! (they hold it, and its lock, for a moment after the last handle is gone), writes the read
//! cache, and only then releases `session.lock`: no other writer can slip in between sled's
//! close and the cache, and once the drop returns the state can be opened again, even by the
//! same process, and its files no longer change. Readers take shared locks on both files.
//! A second open gets [`StateError::Locked`] with that pid and time. A `lock.json` left by a
//! crashed process does not block: its locks are gone with the process, so the next open
//! succeeds and overwrites the record.
//!
//! # What opening does to the files of the directory
//!
//! Measured on sled 0.34.7:
//!
//! - [`Store::open`] of a new directory creates `conf`, `db`, `blobs/`, `secrets.key` and
//!   `lock.json` and `session.lock`, and writes the metadata; its drop writes
//!   `read-cache.bin` (see below).
//! - [`Store::open`] + [`Store::snapshot`] + drop of an existing state, **without writes**,
//!   does change files. The first such open after a session that wrote pads `db` to a whole
//!   512 KiB segment and adds a snapshot file `snap.<lsn>` (sled's recovery checkpoint); every
//!   later one rewrites the tail of `db` with the same bytes, so its modification time changes
//!   each time. `lock.json` is created and removed again (so the directory's own modification
//!   time changes too). The records read back the same, but the directory is not byte-for-byte
//!   the same. sled 0.34 has no read-only mode: `Config::open` always opens `db` read-write,
//!   takes the exclusive lock and runs recovery, which writes; none of its options avoid that.
//! - [`Store::open_read_only`] therefore never opens the directory's database with sled. It
//!   takes a shared `flock` on `db` (which conflicts with a writer's exclusive lock, so it
//!   reports [`StateError::Locked`] while an apply runs), copies sled's files (not
//!   `lock.json`, not `secrets.key`) to a temporary directory, releases the shared lock, and
//!   opens the copy. It writes nothing into the state directory and creates nothing when the
//!   state does not exist (which reads as empty, with an empty lineage).
//! - Copying and opening sled's files costs more than planning once the state is large, so
//!   the last read-write store of a process, as it closes and while it still holds the lock,
//!   writes `read-cache.bin`: the stored bytes of every record a [`Snapshot`] needs (secrets
//!   still sealed) and the size and modification time of every sled file. [`Store::open`]
//!   deletes it before anything can write, so a crashed writer leaves none behind.
//!   [`Store::read_snapshot`] reads it, under the same shared lock, when it is whole and the
//!   sled files are still the ones it recorded, and otherwise reads through
//!   [`Store::open_read_only`]: the same snapshot either way. `plan`, and every command
//!   until it is sure to write, should use it; a command that then writes opens the state
//!   with [`Store::open`] and compares lineage and serial with what it read.
//!
//! # Concurrency
//!
//! A `Store` is `Send + Sync` and cheap to clone: concurrent writers from one process (parallel
//! apply steps) are serialized by sled's transactions.

mod codec;
mod envelope;
mod error;
mod keys;
mod lock;
mod manifest;
mod model;
mod read_cache;
mod secrets;
mod store;

pub use envelope::SCHEMA_VERSION;
pub use error::StateError;
pub use model::{
    AppliedChanges, ApplyId, Finished, Metadata, OperationKind, PendingKind, PendingOperation,
    ResourceRecord, Snapshot,
};
pub use secrets::{seal_document, unseal_document};
pub use store::{HISTORY_LIMIT, Store};
