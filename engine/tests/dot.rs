//! The dot export renders with Graphviz without warnings.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::network_stack;
use serde_json::json;

#[test]
fn the_graph_renders_with_graphviz_without_warnings() {
    let spec = network_stack("10.0.0.0/16", "a", [1, 2], json!({"Statement": []}));
    let plan = cairn_engine::plan(&spec, &cairn_engine::Snapshot::default()).expect("plan");
    let dot = cairn_engine::to_dot(&plan);
    assert!(dot.contains("subgraph cluster_0"), "{dot}");
    assert!(dot.contains("account 000000000001 / test-1"), "{dot}");
    assert_eq!(dot.matches(" -> ").count(), 3, "one edge per dependency: {dot}");

    let mut graphviz = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("graphviz's `dot` is installed: run scripts/setup");
    graphviz.stdin.take().expect("stdin").write_all(dot.as_bytes()).expect("write dot");
    let rendered = graphviz.wait_with_output().expect("dot runs");
    assert!(rendered.status.success());
    assert!(
        rendered.stderr.is_empty(),
        "dot warned: {}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    assert!(String::from_utf8_lossy(&rendered.stdout).contains("<svg"));
}
