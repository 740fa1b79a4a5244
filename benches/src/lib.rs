//! Criterion benchmarks of the cairn engine and state store.
