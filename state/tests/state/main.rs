//! Integration tests of the state store, one binary for all (sled links once).

mod common;
mod corruption;
mod crash;
mod damage;
mod files;
mod history;
mod journal;
mod locking;
mod model;
mod read_cache;
mod records;
mod secrets;
