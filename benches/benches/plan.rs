//! Planning: a no-change plan of a large stack, state load included, and planning alone.
//!
//! `cargo bench -p cairn-benches --bench plan`

use cairn_benches::{stack, write_applied_state};
use cairn_state::Store;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

fn no_change_plan(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("no_change_plan");
    group.sample_size(10);
    for count in [1_000usize, 10_000, 100_000] {
        let spec = stack(count);
        let dir = tempfile::tempdir().expect("temp dir");
        let state = dir.path().join("state");
        write_applied_state(&state, &spec).expect("state written");
        let read_cache = || Store::read_snapshot(&state);
        let database = || Store::open_read_only(&state)?.snapshot();
        // The usual path (the read cache the last apply left), and the fallback without it.
        for (name, load) in [
            ("state_load_and_plan", &read_cache as &dyn Fn() -> _),
            ("state_load_from_database_and_plan", &database),
        ] {
            group.bench_with_input(BenchmarkId::new(name, count), &count, |bench, _| {
                bench.iter(|| {
                    let snapshot = load().expect("snapshot");
                    let plan = cairn_engine::plan(&spec, &snapshot).expect("plan");
                    assert!(plan.is_empty(), "the state matches the stack");
                    plan
                });
            });
        }
        let snapshot = Store::read_snapshot(&state).expect("snapshot");
        group.bench_with_input(BenchmarkId::new("plan_only", count), &count, |bench, _| {
            bench.iter(|| cairn_engine::plan(&spec, &snapshot).expect("plan"));
        });
    }
    group.finish();
}

criterion_group!(benches, no_change_plan);
criterion_main!(benches);
