//! `graph`: Writes the planned resources as a Graphviz dot graph: one cluster per account and region, nodes coloured by planned action. Render it with dot -Tsvg.

use std::process::ExitCode;

use cairn_programs::cli::{GraphArgs, graph, main_with};

fn main() -> ExitCode {
    main_with::<GraphArgs>(
        "graph",
        "Writes the planned resources as a Graphviz dot graph: one cluster per account and region, nodes coloured by planned action. Render it with dot -Tsvg.",
        graph,
    )
}
