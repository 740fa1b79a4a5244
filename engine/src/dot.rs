//! Graph export: the plan's resources as Graphviz dot, one cluster per provider binding
//! (account and region) with a cluster inside it per component, nodes coloured by planned
//! action, edges for dependencies.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use crate::plan::{Action, Plan, Step};

/// The fill colour of each action, and its legend label.
fn appearance(action: Action) -> (&'static str, &'static str) {
    match action {
        Action::NoOp => ("#e8e8e8", "no change"),
        Action::Create => ("#b7e4c7", "create"),
        Action::Read => ("#bde0fe", "read"),
        Action::Update => ("#ffe8a3", "update"),
        Action::Replace => ("#e0b0ff", "replace"),
        Action::Delete => ("#ffb3b3", "delete"),
    }
}

/// Renders the resources of `plan` as a dot graph that `dot -Tsvg` renders without warnings.
pub fn to_dot(plan: &Plan) -> String {
    let mut out = String::new();
    out.push_str("digraph cairn {\n");
    out.push_str("  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=11, compound=true];\n");
    out.push_str(
        "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10];\n",
    );
    out.push_str("  edge [color=\"#555555\"];\n");
    let mut clusters: BTreeMap<&str, Vec<&Step>> = BTreeMap::new();
    for step in &plan.steps {
        clusters.entry(step.binding.as_str()).or_default().push(step);
    }
    for (number, (binding, steps)) in clusters.iter().enumerate() {
        let label = plan
            .bindings
            .get(*binding)
            .map(|found| format!("{binding}: account {} / {}", found.account_id, found.region))
            .unwrap_or_else(|| (*binding).to_owned());
        let _ = writeln!(out, "  subgraph cluster_{number} {{");
        let _ = writeln!(out, "    label={};", quote(&label));
        out.push_str("    style=\"rounded\";\n    color=\"#888888\";\n");
        let mut components: BTreeMap<&str, Vec<&Step>> = BTreeMap::new();
        for step in steps {
            match step.component.as_deref() {
                Some(component) => components.entry(component).or_default().push(step),
                None => node(&mut out, "    ", step),
            }
        }
        for (inner, (component, members)) in components.iter().enumerate() {
            let _ = writeln!(out, "    subgraph cluster_{number}_{inner} {{");
            let _ = writeln!(out, "      label={};", quote(&format!("component {component}")));
            out.push_str("      style=\"rounded,dashed\";\n      color=\"#aaaaaa\";\n");
            for step in members {
                node(&mut out, "      ", step);
            }
            out.push_str("    }\n");
        }
        out.push_str("  }\n");
    }
    let known: HashSet<&str> = plan.steps.iter().map(|step| step.urn.as_str()).collect();
    for step in &plan.steps {
        for dependency in &step.dependencies {
            if known.contains(dependency.as_str()) {
                let _ = writeln!(
                    out,
                    "  {} -> {};",
                    quote(dependency.as_str()),
                    quote(step.urn.as_str())
                );
            }
        }
    }
    out.push_str("}\n");
    out
}

/// The node of `step`, coloured by its action, indented by `indent`.
fn node(out: &mut String, indent: &str, step: &Step) {
    let (fill, action) = appearance(step.action);
    let label = format!("{}\n{}\n({action})", step.name, step.type_token);
    let _ = writeln!(
        out,
        "{indent}{} [label={}, fillcolor=\"{fill}\"];",
        quote(step.urn.as_str()),
        quote(&label)
    );
}

/// A dot double-quoted string.
fn quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for character in text.chars() {
        match character {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            other => quoted.push(other),
        }
    }
    quoted.push('"');
    quoted
}
