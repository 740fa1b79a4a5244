//! Apply: makespan against the critical path, and the cost of the per-step journal.
//!
//! `cargo bench -p cairn-benches --bench apply`

use std::sync::Arc;
use std::time::Duration;

use cairn_benches::{CHILD, PARENT, stack};
use cairn_engine::memory::MemoryCloud;
use cairn_engine::{ApplyOptions, NoProgress, Provider, RunKind};
use cairn_state::Store;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

/// Everything an apply needs, made before the clock starts.
struct Prepared {
    runtime: tokio::runtime::Runtime,
    store: Store,
    provider: Arc<dyn Provider>,
    plan: cairn_engine::Plan,
    parallelism: usize,
    _dir: tempfile::TempDir,
}

/// A fresh state and cloud for `count` resources (parents then children: a critical path
/// of two operations) with `latency` per call.
fn prepare(count: usize, latency: Duration, parallelism: usize) -> Prepared {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("state")).expect("state");
    let cloud = Arc::new(MemoryCloud::new());
    cloud.set_latency(PARENT.type_token, latency);
    cloud.set_latency(CHILD.type_token, latency);
    let plan =
        cairn_engine::plan(&stack(count), &store.snapshot().expect("snapshot")).expect("plan");
    Prepared { runtime, store, provider: cloud, plan, parallelism, _dir: dir }
}

/// The timed part: the apply alone.
fn apply(prepared: Prepared) -> Prepared {
    let options = ApplyOptions {
        parallelism: prepared.parallelism,
        kind: RunKind::Apply,
        started_at_unix: 1,
    };
    let report = prepared
        .runtime
        .block_on(cairn_engine::apply(
            &prepared.plan,
            &prepared.store,
            prepared.provider.clone(),
            options,
            &NoProgress,
        ))
        .expect("apply");
    assert!(report.succeeded());
    prepared
}

fn makespan(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("apply_makespan");
    group.sample_size(10);
    // 200 resources, unbounded parallelism, two operations on the critical path: 100 ms
    // with 50 ms calls, 1 s with 500 ms calls (AWS calls take that long and more).
    for latency in [50, 500] {
        group.bench_function(format!("200_resources_{latency}ms_calls_unbounded"), |bench| {
            bench.iter_batched(
                || prepare(200, Duration::from_millis(latency), 10_000),
                apply,
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

fn journal(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("apply_journal");
    group.sample_size(10);
    // No latency at all: what remains is the engine plus one durable journal entry and one
    // state transaction per operation.
    group.bench_function("1000_resources_no_latency_parallelism_10", |bench| {
        bench.iter_batched(|| prepare(1_000, Duration::ZERO, 10), apply, BatchSize::PerIteration);
    });
    group.finish();
}

criterion_group!(benches, makespan, journal);
criterion_main!(benches);
