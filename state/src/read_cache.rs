//! The read cache: every record a snapshot needs, as one file that `plan` reads without sled.
//!
//! sled 0.34 cannot open a database without writing to it, so a read-only snapshot straight
//! from the database means copying sled's files and opening the copy (see the crate docs),
//! which at 100k resources costs more than planning. Instead, the last read-write store of a
//! process writes `read-cache.bin` when it closes, while it still holds its session lock:
//! the raw stored bytes (envelopes, so checksummed, with secrets still sealed) of the trees a
//! [`Snapshot`](crate::Snapshot) reads. [`Store::open`](crate::Store::open) deletes the file
//! before anything can write, so a writer that crashes leaves no cache behind, only a database.
//!
//! The cache is used only when it provably matches the database: its own checksum holds, and
//! the size and modification time of every sled file are the ones recorded when it was
//! written. Anything else (a cache from an older build, a database changed by other means)
//! reads as no cache, and the reader falls back to the database.
//!
//! ```text
//! magic "CRNCACHE" | u16 format | u32 n, n × fingerprint entry | 5 × tree | u32 crc32
//! fingerprint entry: u32 len, relative path | u64 size | u64 modified (ns since epoch)
//! tree: u64 n, n × (u32 len, key | u32 len, value)      (all integers big-endian)
//! ```

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use crate::lock;
use crate::secrets;

/// The cache's name inside the state directory.
pub(crate) const CACHE_FILE: &str = "read-cache.bin";
/// Where the cache is written before it is renamed into place.
const PARTIAL_FILE: &str = "read-cache.bin.partial";
const MAGIC: &[u8; 8] = b"CRNCACHE";
const FORMAT: u16 = 1;

/// The raw entries of the trees a snapshot reads, in this order (which is also their order in
/// the file): `metadata`, `resources`, `outputs`, `bindings`, `journal`; each in key order.
pub(crate) type RawTrees<B> = [Vec<(B, B)>; 5];

/// Removes the cache of `dir`. Call with the exclusive lock held, before the first write.
pub(crate) fn invalidate(dir: &Path) -> io::Result<()> {
    match fs::remove_file(dir.join(CACHE_FILE)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Writes the cache of `dir` from `trees`. Call with the exclusive lock held, once sled has
/// closed its files, so that the fingerprint is that of the final database.
pub(crate) fn write<B: AsRef<[u8]>>(dir: &Path, trees: &RawTrees<B>) -> io::Result<()> {
    let mut out = Vec::from(*MAGIC);
    out.extend_from_slice(&FORMAT.to_be_bytes());
    let prints = fingerprint(dir)?;
    put_len(&mut out, prints.len())?;
    for (path, size, modified) in &prints {
        put_bytes(&mut out, path.as_bytes())?;
        out.extend_from_slice(&size.to_be_bytes());
        out.extend_from_slice(&modified.to_be_bytes());
    }
    for tree in trees {
        out.extend_from_slice(&(tree.len() as u64).to_be_bytes());
        for (key, value) in tree {
            put_bytes(&mut out, key.as_ref())?;
            put_bytes(&mut out, value.as_ref())?;
        }
    }
    out.extend_from_slice(&crc32fast::hash(&out).to_be_bytes());
    let partial = dir.join(PARTIAL_FILE);
    let mut file = fs::File::create(&partial)?;
    file.write_all(&out)?;
    file.sync_all()?;
    fs::rename(&partial, dir.join(CACHE_FILE))
}

/// The cache file of `dir`, when it exists, is whole, and matches the database files.
/// Call with a lock held. Why a cache is not used is logged at debug level.
pub(crate) fn load(dir: &Path) -> Option<CacheFile> {
    let bytes = match fs::read(dir.join(CACHE_FILE)) {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::debug!(dir = %dir.display(), error = %e, "no read cache");
            return None;
        }
    };
    match CacheFile::check(dir, bytes) {
        Ok(cache) => Some(cache),
        Err(reason) => {
            tracing::debug!(dir = %dir.display(), reason, "read cache not used");
            None
        }
    }
}

/// A checked cache file.
pub(crate) struct CacheFile {
    bytes: Vec<u8>,
    /// Where the trees start.
    trees_at: usize,
}

impl CacheFile {
    fn check(dir: &Path, bytes: Vec<u8>) -> Result<CacheFile, &'static str> {
        let (body, crc) = bytes.split_at_checked(bytes.len().wrapping_sub(4)).ok_or("too short")?;
        if crc32fast::hash(body).to_be_bytes() != crc {
            return Err("checksum mismatch");
        }
        let mut reader = Reader { bytes: body, at: 0 };
        if reader.take(MAGIC.len())? != MAGIC || reader.take(2)? != FORMAT.to_be_bytes() {
            return Err("another format");
        }
        let count = reader.u32()?;
        let mut recorded = Vec::new();
        for _ in 0..count {
            let path = String::from_utf8(reader.bytes()?.to_vec()).map_err(|_| "bad path")?;
            recorded.push((path, reader.u64()?, reader.u64()?));
        }
        if fingerprint(dir).map_err(|_| "unreadable database files")? != recorded {
            return Err("the database changed since the cache was written");
        }
        let trees_at = reader.at;
        Ok(CacheFile { bytes, trees_at })
    }

    /// The entries of the trees, borrowed from the file.
    ///
    /// # Errors
    ///
    /// What is malformed, for a file whose checksum held but whose layout does not.
    pub(crate) fn trees(&self) -> Result<RawTrees<&[u8]>, &'static str> {
        let body = &self.bytes[..self.bytes.len() - 4];
        let mut reader = Reader { bytes: body, at: self.trees_at };
        let mut trees: RawTrees<&[u8]> = Default::default();
        for tree in &mut trees {
            let count = reader.u64()?;
            for _ in 0..count {
                tree.push((reader.bytes()?, reader.bytes()?));
            }
        }
        if reader.at != body.len() {
            return Err("trailing bytes");
        }
        Ok(trees)
    }
}

/// The path (relative to `dir`), size and modification time (ns) of every file of sled's
/// database in `dir`, sorted: everything but the lock files, the secrets key and the cache.
fn fingerprint(dir: &Path) -> io::Result<Vec<(String, u64, u64)>> {
    let mut prints = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        for entry in fs::read_dir(dir.join(&relative))? {
            let entry = entry?;
            let name = relative.join(entry.file_name());
            let top_level = relative.as_os_str().is_empty();
            let ours =
                [lock::LOCK_FILE, lock::SESSION_FILE, secrets::KEY_FILE, CACHE_FILE, PARTIAL_FILE];
            if top_level && ours.iter().any(|file| entry.file_name() == *file) {
                continue;
            }
            let metadata = entry.metadata()?;
            if metadata.is_dir() {
                pending.push(name);
                continue;
            }
            let modified = metadata.modified()?.duration_since(UNIX_EPOCH).unwrap_or_default();
            let modified = u64::try_from(modified.as_nanos()).unwrap_or(u64::MAX);
            prints.push((name.to_string_lossy().into_owned(), metadata.len(), modified));
        }
    }
    prints.sort();
    Ok(prints)
}

fn put_len(out: &mut Vec<u8>, len: usize) -> io::Result<()> {
    let len = u32::try_from(len).map_err(|_| io::Error::other("a value over 4 GiB"))?;
    out.extend_from_slice(&len.to_be_bytes());
    Ok(())
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) -> io::Result<()> {
    put_len(out, bytes.len())?;
    out.extend_from_slice(bytes);
    Ok(())
}

/// Reads the cache's big-endian integers and length-prefixed byte strings.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], &'static str> {
        let end = self.at.checked_add(len).filter(|end| *end <= self.bytes.len());
        let taken = end.map(|end| &self.bytes[self.at..end]).ok_or("truncated")?;
        self.at += len;
        Ok(taken)
    }

    fn u32(&mut self) -> Result<u32, &'static str> {
        let bytes = self.take(4)?;
        Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn u64(&mut self) -> Result<u64, &'static str> {
        let mut bytes = [0; 8];
        bytes.copy_from_slice(self.take(8)?);
        Ok(u64::from_be_bytes(bytes))
    }

    fn bytes(&mut self) -> Result<&'a [u8], &'static str> {
        let len = self.u32()? as usize;
        self.take(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{OperationKind, ResourceRecord, Store};

    /// Every (key, value) of the cached trees, in cache order.
    type Entries = Vec<(Vec<u8>, Vec<u8>)>;

    fn written(dir: &Path) -> Result<Entries, crate::StateError> {
        let store = Store::open(dir)?;
        let apply = store.begin_apply(OperationKind::Apply, 1)?;
        store.put_resource(
            apply,
            &ResourceRecord {
                urn: "urn:cairn:t::b::aws:ec2/Vpc::vpc".into(),
                type_token: "aws:ec2/Vpc".into(),
                name: "vpc".into(),
                binding: "b".into(),
                inputs: serde_json::json!({"cidr_block": "10.0.0.0/16"}),
                outputs: serde_json::json!({"id": "vpc-1"}),
                dependencies: Vec::new(),
            },
        )?;
        drop(store);
        let raw = Store::open_read_only(dir)?.raw_trees()?;
        Ok(raw.into_iter().flatten().map(|(k, v)| (k.to_vec(), v.to_vec())).collect())
    }

    fn cached(dir: &Path) -> Option<Entries> {
        let cache = load(dir)?;
        let trees = cache.trees().ok()?;
        Some(trees.into_iter().flatten().map(|(k, v)| (k.to_vec(), v.to_vec())).collect())
    }

    #[test]
    fn the_cache_holds_the_stored_bytes_and_survives_reads_but_not_a_reopen() {
        let temp = tempfile::tempdir().expect("temp dir");
        let stored = written(temp.path()).expect("write");

        assert_eq!(cached(temp.path()).as_ref(), Some(&stored), "written on close, matching");
        Store::read_snapshot(temp.path()).expect("read");
        Store::open_read_only(temp.path()).expect("read only").snapshot().expect("snapshot");
        assert_eq!(cached(temp.path()).as_ref(), Some(&stored), "readers leave it valid");

        // sled alone (no cairn store) changes its files and leaves the cache: it must not match.
        drop(sled::open(temp.path()).expect("sled opens"));
        crate::lock::wait_until_unlocked(&temp.path().join(crate::lock::DB_FILE));
        assert!(temp.path().join(CACHE_FILE).is_file());
        assert_eq!(cached(temp.path()), None, "a database changed behind it is detected");
    }
}
