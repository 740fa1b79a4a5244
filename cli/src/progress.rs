//! Progress of a long apply: a bar with the current operation on a terminal, one line per
//! finished operation everywhere.

use std::io::Write;
use std::sync::Mutex;

use cairn_engine::{Operation, OperationKind, Plan, Progress};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Progress on standard error.
pub struct ConsoleProgress {
    bar: ProgressBar,
    lines: Mutex<anstream::Stderr>,
}

impl ConsoleProgress {
    /// Progress for the operations of `plan`.
    pub fn new(plan: &Plan) -> Self {
        let total: u64 = plan
            .steps
            .iter()
            .map(|step| match step.action {
                cairn_engine::Action::NoOp => 0,
                cairn_engine::Action::Replace if !step.data_source => 2,
                _ => 1,
            })
            .sum();
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} [{pos}/{len}] {elapsed} {wide_msg}")
        {
            bar.set_style(style);
        }
        ConsoleProgress { bar, lines: Mutex::new(anstream::stderr()) }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    fn print(&self, line: &str) {
        if self.bar.is_hidden() {
            if let Ok(mut stderr) = self.lines.lock() {
                let _ = writeln!(stderr, "{line}");
            }
        } else {
            self.bar.println(line);
        }
    }
}

fn verb(kind: OperationKind) -> (&'static str, &'static str) {
    match kind {
        OperationKind::Create => ("Creating", "Created"),
        OperationKind::Read => ("Reading", "Read"),
        OperationKind::Update => ("Updating", "Updated"),
        OperationKind::Delete => ("Destroying", "Destroyed"),
        OperationKind::CreateReplacement => ("Creating replacement of", "Created replacement of"),
        OperationKind::DeleteReplaced => ("Destroying replaced", "Destroyed replaced"),
    }
}

impl Progress for ConsoleProgress {
    fn started(&self, operation: &Operation) {
        let (doing, _) = verb(operation.kind);
        self.bar.set_message(format!("{doing} {} {}...", operation.type_token, operation.name));
    }

    fn finished(&self, operation: &Operation, error: Option<&str>) {
        self.bar.inc(1);
        let (doing, done) = verb(operation.kind);
        let line = match error {
            None => format!("  {done} {} {}", operation.type_token, operation.name),
            Some(message) => {
                format!("  {doing} {} {} failed: {message}", operation.type_token, operation.name)
            }
        };
        self.print(&line);
    }
}
