//! Stack outputs after apply: printed, and written as one flat JSON object of strings.

use std::collections::BTreeMap;
use std::path::Path;

use cairn_engine::value::{contains_secret, reveal};
use serde_json::Value;

use super::Io;
use super::commands::write_file;

/// The outputs as one flat object of strings. Strings stay as they are, other values become
/// their JSON text; sensitive outputs are left out, never written in clear.
pub fn flat_outputs(outputs: &BTreeMap<String, Value>) -> BTreeMap<String, String> {
    outputs
        .iter()
        .filter(|(_, value)| !contains_secret(value))
        .map(|(name, value)| {
            let text = match reveal(value) {
                Value::String(text) => text,
                other => other.to_string(),
            };
            (name.clone(), text)
        })
        .collect()
}

/// Prints the outputs, sensitive ones redacted.
pub fn print_outputs(outputs: &BTreeMap<String, Value>, io: &mut Io<'_>) -> anyhow::Result<()> {
    if outputs.is_empty() {
        return Ok(());
    }
    writeln!(io.out, "\nOutputs:\n")?;
    let flat = flat_outputs(outputs);
    let width = outputs.keys().map(String::len).max().unwrap_or(0);
    for name in outputs.keys() {
        match flat.get(name) {
            Some(text) => writeln!(io.out, "{name:width$} = {text:?}")?,
            None => writeln!(io.out, "{name:width$} = {}", cairn_engine::SENSITIVE)?,
        }
    }
    Ok(())
}

/// Writes the flat outputs to `path` as pretty JSON.
pub fn write_flat_outputs(outputs: &BTreeMap<String, Value>, path: &Path) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(&flat_outputs(outputs))?;
    text.push('\n');
    write_file(path, text.as_bytes())
}
