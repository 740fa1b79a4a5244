//! The whole first plan of the default config, as `plan`, `plan --json` and `graph` print
//! it, against golden files: what the user sees does not change unless a golden file
//! changes with it, in review. The plan document is compared with the one recorded before
//! the program moved onto cairn's public API and its sides became components: every step is
//! the same but for the component it now names.
//!
//! After an intended change to the text or the graph:
//! `CAIRN_UPDATE_GOLDEN=1 cargo test -p vpc-peering --test golden`.

use std::path::{Path, PathBuf};

use vpc_peering::Peering;

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name)
}

/// Compares `actual` with the golden file `name`, or rewrites it when asked to.
fn assert_golden(name: &str, actual: &str) {
    let path = golden(name);
    if std::env::var_os("CAIRN_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("golden file written");
        return;
    }
    let expected = std::fs::read_to_string(&path).expect("golden file");
    if expected != actual {
        let diff = similar_lines(&expected, actual);
        panic!(
            "{name} changed (first differences below); if intended, rerun with CAIRN_UPDATE_GOLDEN=1\n{diff}"
        );
    }
}

/// The first few lines that differ, numbered.
fn similar_lines(expected: &str, actual: &str) -> String {
    let expected: Vec<&str> = expected.lines().collect();
    let actual: Vec<&str> = actual.lines().collect();
    (0..expected.len().max(actual.len()))
        .filter(|&line| expected.get(line) != actual.get(line))
        .take(10)
        .map(|line| {
            let was = expected.get(line).copied().unwrap_or("(none)");
            let now = actual.get(line).copied().unwrap_or("(none)");
            format!("line {}:\n  golden: {was}\n  now:    {now}", line + 1)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn first_plan() -> cairn::Plan {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/local.toml");
    cairn::testing::plan_config(&Peering, &config).expect("the default config plans")
}

#[test]
fn the_first_plan_reads_as_recorded() {
    assert_golden("default-plan.txt", &cairn::testing::render(&first_plan()));
}

#[test]
fn the_first_plan_document_is_the_one_recorded_before_components_but_for_them() {
    let recorded = std::fs::read_to_string(golden("default-plan-before-components.json"))
        .expect("golden file");
    let mut recorded: serde_json::Value = serde_json::from_str(&recorded).expect("JSON");
    let mut now = serde_json::to_value(first_plan()).expect("serializes");
    let mut components = std::collections::BTreeSet::new();
    for step in now["steps"].as_array_mut().expect("steps") {
        if let Some(component) = step.as_object_mut().and_then(|step| step.remove("component")) {
            components.insert(component.as_str().unwrap_or_default().to_owned());
        }
    }
    assert_eq!(components, ["analytics".to_owned(), "trading".to_owned()].into());
    // Declaring a side as one component declares its network and security together, so the
    // steps come in another order: compare them by URN.
    for document in [&mut recorded, &mut now] {
        let steps = document["steps"].as_array_mut().expect("steps");
        steps.sort_by(|a, b| a["urn"].as_str().cmp(&b["urn"].as_str()));
    }
    assert_eq!(now, recorded, "the plan document changed beyond the components");
}

#[test]
fn the_first_graph_is_as_recorded() {
    assert_golden("default-graph.dot", &cairn_engine::to_dot(&first_plan()));
}
