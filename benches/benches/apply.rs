//! Apply: makespan against the critical path, and the cost of the per-step journal.
//!
//! `cargo bench -p cairn-benches --bench apply`

use std::sync::Arc;
use std::time::Duration;

use cairn_benches::{CHILD, PARENT, stack};
use cairn_engine::memory::MemoryCloud;
use cairn_engine::{ApplyOptions, NoProgress, Provider, RunKind};
use cairn_state::Store;
use criterion::{Criterion, criterion_group, criterion_main};

/// Applies `count` resources (parents then children: a critical path of two operations)
/// with `latency` per call and `parallelism`, into a fresh state.
fn apply_once(count: usize, latency: Duration, parallelism: usize) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("state")).expect("state");
    let cloud = Arc::new(MemoryCloud::new());
    cloud.set_latency(PARENT.type_token, latency);
    cloud.set_latency(CHILD.type_token, latency);
    let spec = stack(count);
    let plan = cairn_engine::plan(&spec, &store.snapshot().expect("snapshot")).expect("plan");
    let provider: Arc<dyn Provider> = cloud;
    let options = ApplyOptions { parallelism, kind: RunKind::Apply, started_at_unix: 1 };
    let report = runtime
        .block_on(cairn_engine::apply(&plan, &store, provider, options, &NoProgress))
        .expect("apply");
    assert!(report.succeeded());
}

fn makespan(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("apply_makespan");
    group.sample_size(10);
    // 200 resources, 50 ms a call, unbounded parallelism: the critical path is 100 ms.
    group.bench_function("200_resources_50ms_calls_unbounded", |bench| {
        bench.iter(|| apply_once(200, Duration::from_millis(50), 10_000));
    });
    group.finish();
}

fn journal(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("apply_journal");
    group.sample_size(10);
    // No latency at all: what remains is the engine plus one durable journal entry and one
    // state transaction per operation.
    group.bench_function("1000_resources_no_latency_parallelism_10", |bench| {
        bench.iter(|| apply_once(1_000, Duration::ZERO, 10));
    });
    group.finish();
}

criterion_group!(benches, makespan, journal);
criterion_main!(benches);
