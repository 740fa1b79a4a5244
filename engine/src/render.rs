//! Rendering a plan for people: Terraform-like symbols, only changed properties, and
//! structural diffs of JSON documents and multi-line values.

use std::fmt::Write as _;

use owo_colors::{OwoColorize, Style};
use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use crate::plan::{Action, OutputChange, Plan, Step};
use crate::refresh::{DriftKind, DriftReport};
use crate::value::{contains_secret, is_secret, is_unknown};

/// How to render.
#[derive(Clone, Copy, Debug, Default)]
pub struct RenderOptions {
    /// Emit ANSI colours. The CLI turns this on only for a terminal without `NO_COLOR`.
    pub color: bool,
}

/// What an unknown value reads as.
pub const KNOWN_AFTER_APPLY: &str = "(known after apply)";
/// What a sensitive value reads as.
pub const SENSITIVE: &str = "(sensitive value)";

/// Longest single-line rendering of a list or object before it is shown as a block.
const INLINE_LIMIT: usize = 60;

/// Renders `plan` as text, ending with the summary line (or `No changes.`).
pub fn render_plan(plan: &Plan, options: RenderOptions) -> String {
    let mut out = Renderer { options, text: String::new(), indent: "" };
    out.plan(plan);
    out.text
}

/// Renders what a refresh found: each drifted resource with the properties that changed
/// outside cairn, what could not be read, and the summary line.
pub fn render_drift(report: &DriftReport, options: RenderOptions) -> String {
    let mut out = Renderer { options, text: String::new(), indent: "" };
    out.drift(report);
    out.text
}

/// The one-line summary of a refresh: `Drift: N changed, M deleted, K in sync.`, or
/// `No drift.` when the cloud is as the state records it.
pub fn drift_summary_line(report: &DriftReport) -> String {
    let deleted = report.drift.iter().filter(|d| d.kind == DriftKind::Deleted).count();
    let changed = report.drift.len() - deleted;
    let unread = match report.failed.len() {
        0 => String::new(),
        n => format!(", {n} could not be read"),
    };
    if report.drift.is_empty() {
        return format!("No drift: {} in sync{unread}.", report.in_sync);
    }
    format!("Drift: {changed} changed, {deleted} deleted, {} in sync{unread}.", report.in_sync)
}

/// The one-line summary: `Plan: N to add, M to change, K to destroy.`
pub fn summary_line(plan: &Plan) -> String {
    if plan.is_empty() {
        return "No changes. Your infrastructure matches the configuration.".to_owned();
    }
    let summary = plan.summary();
    let reads = match summary.read {
        0 => String::new(),
        n => format!(" ({n} to read)"),
    };
    format!(
        "Plan: {} to add, {} to change, {} to destroy.{reads}",
        summary.add, summary.change, summary.destroy
    )
}

struct Renderer {
    options: RenderOptions,
    text: String,
    /// Prefixed to every line: the indentation of a component's group.
    indent: &'static str,
}

/// The symbol and colour of each action.
fn symbol(action: Action) -> (&'static str, Style) {
    match action {
        Action::Create => ("  +", Style::new().green()),
        Action::Read => (" <=", Style::new().cyan()),
        Action::Update => ("  ~", Style::new().yellow()),
        Action::Replace => ("-/+", Style::new().magenta()),
        Action::Delete => ("  -", Style::new().red()),
        Action::NoOp => ("   ", Style::new()),
    }
}

impl Renderer {
    fn paint(&self, text: &str, style: Style) -> String {
        if self.options.color { text.style(style).to_string() } else { text.to_owned() }
    }

    fn line(&mut self, text: &str) {
        if !text.is_empty() {
            self.text.push_str(self.indent);
        }
        self.text.push_str(text);
        self.text.push('\n');
    }

    fn plan(&mut self, plan: &Plan) {
        for urn in &plan.interrupted {
            let warning = format!(
                "Warning: the last operation on {urn} was interrupted; apply checks the cloud for \
                 it before doing anything else."
            );
            let painted = self.paint(&warning, Style::new().yellow());
            self.line(&painted);
        }
        for finding in &plan.policy_findings {
            let (label, style) = match &finding.waived {
                Some(_) => ("Waived", Style::new().cyan()),
                None => ("Policy warning", Style::new().yellow()),
            };
            let line = format!("{}: {finding}", self.paint(label, style));
            self.line(&line);
        }
        if !plan.policy_findings.is_empty() {
            self.line("");
        }
        let changing: Vec<&Step> = plan
            .steps
            .iter()
            .filter(|step| step.action != Action::NoOp || step.renamed_from.is_some())
            .collect();
        if !changing.is_empty() {
            self.line("cairn will perform the following actions:");
            for (component, steps) in by_component(&changing) {
                if let Some(component) = component {
                    self.line("");
                    let header = format!("  component \"{component}\" ({} changing):", steps.len());
                    let painted = self.paint(&header, Style::new().bold());
                    self.line(&painted);
                    self.indent = "  ";
                }
                for step in steps {
                    self.line("");
                    self.step(plan, step);
                }
                self.indent = "";
            }
            self.line("");
        }
        if !plan.output_changes.is_empty() {
            self.line("Changes to outputs:");
            for change in &plan.output_changes {
                self.output_change(change);
            }
            self.line("");
        }
        let summary = summary_line(plan);
        let painted = self.paint(&summary, Style::new().bold());
        self.line(&painted);
    }

    fn drift(&mut self, report: &DriftReport) {
        if !report.drift.is_empty() {
            self.line("Objects changed outside cairn:");
        }
        for drift in &report.drift {
            self.line("");
            let (action, note) = match drift.kind {
                DriftKind::Deleted => (Action::Delete, " was deleted"),
                DriftKind::Changed(_) => (Action::Update, " changed"),
            };
            let (mark, style) = symbol(action);
            let header = format!(
                "{} {} \"{}\" in {}{note}",
                self.paint(mark, style),
                drift.type_token,
                drift.name,
                drift.binding
            );
            self.line(&header);
            if let DriftKind::Changed(properties) = &drift.kind {
                let width = properties.iter().map(|p| p.property.len()).max().unwrap_or(0);
                for change in properties {
                    let name = format!("{:width$}", change.property);
                    let style = Style::new().yellow();
                    let (old, new) = (Some(&change.recorded), Some(&change.observed));
                    self.property("~", style, &name, old, new, false);
                }
            }
        }
        if !report.failed.is_empty() {
            self.line("");
            self.line("Could not read (nothing is recorded about them):");
            for failure in &report.failed {
                let line = format!("  {}: {}", failure.name, failure.message);
                self.line(&line);
            }
        }
        self.line("");
        let summary = drift_summary_line(report);
        let painted = self.paint(&summary, Style::new().bold());
        self.line(&painted);
    }

    fn step(&mut self, plan: &Plan, step: &Step) {
        let (mark, style) = symbol(step.action);
        let place = plan
            .bindings
            .get(&step.binding)
            .map(|binding| format!("{} ({})", step.binding, binding.location()))
            .unwrap_or_else(|| step.binding.clone());
        let header = format!(
            "{} {} \"{}\" in {place}{}",
            self.paint(mark, style),
            step.type_token,
            step.name,
            action_note(step)
        );
        self.line(&header);
        match step.action {
            Action::Create | Action::Read => {
                let width = step.planned.keys().map(String::len).max().unwrap_or(0);
                for (property, value) in &step.planned {
                    let name = format!("{property:width$}");
                    self.property("+", Style::new().green(), &name, None, Some(value), false);
                }
            }
            Action::Update | Action::Replace => self.changes(step),
            Action::NoOp => self.renamed(step),
            Action::Delete => {}
        }
    }

    /// The note on a resource the program renamed: the state's record is renamed, the cloud's
    /// resource kept.
    fn renamed(&mut self, step: &Step) {
        if let Some(old) = &step.renamed_from {
            let name = old.as_str().rsplit("::").next().unwrap_or(old.as_str());
            let note =
                format!("      # moved from \"{name}\": the same resource, renamed in the state");
            self.line(&note);
        }
    }

    fn changes(&mut self, step: &Step) {
        self.renamed(step);
        if let Some(from) = &step.moved_from {
            let note = format!("      # moves from {from}: forces replacement");
            self.line(&note);
        }
        let old_inputs = step.prior.as_ref().and_then(|prior| prior.inputs.as_object());
        let width = step.changes.iter().map(|change| change.property.len()).max().unwrap_or(0);
        for change in &step.changes {
            let old = old_inputs.and_then(|inputs| inputs.get(&change.property));
            let new = step.planned.get(&change.property);
            let (mark, style) = match (old, new) {
                (None, _) => ("+", Style::new().green()),
                (_, None) => ("-", Style::new().red()),
                _ => ("~", Style::new().yellow()),
            };
            let name = format!("{:width$}", change.property);
            self.property(mark, style, &name, old, new, change.forces_replacement);
        }
    }

    fn property(
        &mut self,
        mark: &str,
        style: Style,
        name: &str,
        old: Option<&Value>,
        new: Option<&Value>,
        forces: bool,
    ) {
        let suffix = if forces {
            self.paint(" # forces replacement", Style::new().red())
        } else {
            String::new()
        };
        let mark = self.paint(mark, style);
        let old_block = old.and_then(block_lines);
        let new_block = new.and_then(block_lines);
        if old_block.is_some() || new_block.is_some() {
            let header = format!("      {mark} {} ={suffix}", name.trim_end());
            self.line(&header);
            self.block(old, old_block, new, new_block);
            return;
        }
        let text = match (old, new) {
            (Some(old), Some(new)) => format!("{} -> {}", inline(old), inline(new)),
            (Some(old), None) => format!("{} -> null", inline(old)),
            (None, Some(new)) => inline(new),
            (None, None) => "null".to_owned(),
        };
        let line = format!("      {mark} {name} = {text}{suffix}");
        self.line(&line);
    }

    /// A multi-line value: the whole of it for a create, a line diff for a change.
    fn block(
        &mut self,
        old: Option<&Value>,
        old_block: Option<String>,
        new: Option<&Value>,
        new_block: Option<String>,
    ) {
        let old_text = old_block.or_else(|| old.map(inline)).unwrap_or_default();
        let new_text = new_block.or_else(|| new.map(inline)).unwrap_or_default();
        let diff = TextDiff::from_lines(&old_text, &new_text);
        for change in diff.iter_all_changes() {
            let (mark, style) = match change.tag() {
                ChangeTag::Delete => ("-", Style::new().red()),
                ChangeTag::Insert => ("+", Style::new().green()),
                ChangeTag::Equal => (" ", Style::new()),
            };
            let content = change.value().trim_end_matches('\n');
            let line = format!("          {} {content}", self.paint(mark, style));
            self.line(&line);
        }
    }

    fn output_change(&mut self, change: &OutputChange) {
        let (mark, style, text) = match (&change.old, &change.new) {
            (None, Some(new)) => ("+", Style::new().green(), inline(new)),
            (Some(old), Some(new)) => {
                ("~", Style::new().yellow(), format!("{} -> {}", inline(old), inline(new)))
            }
            (Some(old), None) => ("-", Style::new().red(), inline(old)),
            (None, None) => return,
        };
        let line = format!("  {} {} = {text}", self.paint(mark, style), change.name);
        self.line(&line);
    }
}

fn action_note(step: &Step) -> String {
    match step.action {
        Action::Replace if step.create_before_delete => " (create replacement, then delete)".into(),
        Action::Replace => " (delete, then create replacement)".into(),
        Action::Read => " (read)".into(),
        Action::Delete => step
            .prior
            .as_ref()
            .and_then(|prior| prior.outputs.get("id"))
            .and_then(Value::as_str)
            .map(|id| format!(" (id {id})"))
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// `steps` in groups: those of no component first, then each component's, in the order
/// components first appear.
fn by_component<'s>(steps: &[&'s Step]) -> Vec<(Option<&'s str>, Vec<&'s Step>)> {
    let mut groups: Vec<(Option<&str>, Vec<&Step>)> = vec![(None, Vec::new())];
    for step in steps {
        let component = step.component.as_deref();
        match groups.iter_mut().find(|(name, _)| *name == component) {
            Some((_, members)) => members.push(step),
            None => groups.push((component, vec![step])),
        }
    }
    groups.retain(|(_, members)| !members.is_empty());
    groups
}

/// A value on one line: JSON for known values, placeholders for unknown and secret ones.
fn inline(value: &Value) -> String {
    if is_unknown(value) {
        return KNOWN_AFTER_APPLY.to_owned();
    }
    if is_secret(value) {
        return SENSITIVE.to_owned();
    }
    match value {
        Value::Array(items) if items.iter().any(is_placeholder) => {
            let parts: Vec<String> = items.iter().map(inline).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(entries) if entries.values().any(is_placeholder) => {
            let parts: Vec<String> =
                entries.iter().map(|(key, entry)| format!("{key:?}: {}", inline(entry))).collect();
            format!("{{{}}}", parts.join(", "))
        }
        other => other.to_string(),
    }
}

fn is_placeholder(value: &Value) -> bool {
    is_unknown(value) || contains_secret(value)
}

/// The lines of a value that reads better as a block: a JSON document inside a string, a
/// multi-line string, or a long list or object. `None` for short plain values.
fn block_lines(value: &Value) -> Option<String> {
    if is_unknown(value) || contains_secret(value) {
        return None;
    }
    match value {
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(document @ (Value::Object(_) | Value::Array(_))) => pretty(&document),
            _ if text.contains('\n') => Some(text.clone()),
            _ => None,
        },
        Value::Array(_) | Value::Object(_) if value.to_string().len() > INLINE_LIMIT => {
            pretty(value)
        }
        _ => None,
    }
}

fn pretty(value: &Value) -> Option<String> {
    let mut text = serde_json::to_string_pretty(value).ok()?;
    let _ = writeln!(text);
    Some(text)
}
