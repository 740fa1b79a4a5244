//! The stack config file: TOML, every key documented in `config/README.md`, unknown keys
//! refused, with environment overrides applied on top.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

/// The prefix of environment variables that override config keys: `CAIRN_CONFIG__` followed
/// by the key's path joined with `__`, for example `CAIRN_CONFIG__ANALYTICS__REGION`.
pub const OVERRIDE_PREFIX: &str = "CAIRN_CONFIG__";

/// Why a stack config could not be loaded.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read stack config {path}: {reason}; pass an existing file with --config")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error (part of this message, so not its source: the command line prints
        /// each cause once).
        reason: std::io::Error,
    },
    /// The file is not valid TOML or does not match the format.
    #[error("stack config {path} is invalid: {message}; see config/README.md for the format")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What the parser said, with the key and line.
        message: String,
    },
    /// An environment override names no key or has a value of the wrong shape.
    #[error("environment override {variable} is invalid: {message}")]
    Override {
        /// The variable.
        variable: String,
        /// What is wrong.
        message: String,
    },
}

/// Reads `path`, applies `overrides` (variable name, value) and deserializes it as `T`.
pub fn load<T: for<'de> Deserialize<'de>>(
    path: &Path,
    overrides: &[(String, String)],
) -> Result<T, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|reason| ConfigError::Read { path: path.to_owned(), reason })?;
    let mut document: toml::Table =
        toml::from_str(&text).map_err(|error| invalid(path, error.to_string()))?;
    for (variable, value) in overrides {
        apply_override(&mut document, variable, value)?;
    }
    T::deserialize(document).map_err(|error| invalid(path, error.to_string()))
}

fn invalid(path: &Path, message: String) -> ConfigError {
    ConfigError::Invalid { path: path.to_owned(), message: message.trim().replace('\n', " ") }
}

/// The overrides among `variables` (the process environment, given by the binary).
pub fn overrides_from(
    variables: impl IntoIterator<Item = (String, String)>,
) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> =
        variables.into_iter().filter(|(name, _)| name.starts_with(OVERRIDE_PREFIX)).collect();
    found.sort();
    found
}

/// Sets the key a `CAIRN_CONFIG__A__B` variable names. Environment variables are upper
/// case, config keys are not: each part matches the key the file already has whatever its
/// case (`CAIRN_CONFIG__TAGS__ENVIRONMENT` sets `Environment`), is refused when two keys
/// match it, and is a new lower-case key when none does. Where the file has a string there,
/// the value stays a string (an account id is not a number); otherwise it is read as TOML
/// when it parses as a TOML value (numbers, booleans, arrays), else as a string.
fn apply_override(
    document: &mut toml::Table,
    variable: &str,
    value: &str,
) -> Result<(), ConfigError> {
    let path: Vec<&str> = variable.trim_start_matches(OVERRIDE_PREFIX).split("__").collect();
    let error = |message: String| ConfigError::Override { variable: variable.to_owned(), message };
    let Some((last, parents)) = path.split_last() else {
        return Err(error("it names no key".into()));
    };
    if last.is_empty() {
        return Err(error("it names no key: write CAIRN_CONFIG__SECTION__KEY".into()));
    }
    let mut table = document;
    for part in parents {
        let key = key_for(table, part).map_err(&error)?;
        table = table
            .entry(key.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .ok_or_else(|| error(format!("`{key}` is not a table in the config")))?;
    }
    let key = key_for(table, last).map_err(&error)?;
    let typed = match table.get(&key) {
        Some(toml::Value::String(_)) => toml::Value::String(value.to_owned()),
        _ => parse_override_value(value),
    };
    table.insert(key, typed);
    Ok(())
}

/// The key of `table` that the variable's `part` names, compared without case; a new key,
/// in lower case, when there is none.
fn key_for(table: &toml::Table, part: &str) -> Result<String, String> {
    let matching: Vec<&String> =
        table.keys().filter(|key| key.eq_ignore_ascii_case(part)).collect();
    match matching.as_slice() {
        [] => Ok(part.to_ascii_lowercase()),
        [key] => Ok((*key).clone()),
        several => Err(format!(
            "it matches {} keys that differ only in case ({}): rename all but one in the config",
            several.len(),
            several.iter().map(|key| format!("`{key}`")).collect::<Vec<_>>().join(", ")
        )),
    }
}

fn parse_override_value(value: &str) -> toml::Value {
    let probe = format!("value = {value}");
    toml::from_str::<toml::Table>(&probe)
        .ok()
        .and_then(|mut table| table.remove("value"))
        .unwrap_or_else(|| toml::Value::String(value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        name: String,
        side: Side,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Side {
        region: String,
        count: u32,
    }

    fn write(text: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), text).expect("write config");
        file
    }

    #[test]
    fn overrides_replace_nested_keys_and_parse_numbers() {
        let file = write("name = \"a\"\n[side]\nregion = \"r1\"\ncount = 1\n");
        let overrides = overrides_from([
            ("CAIRN_CONFIG__SIDE__REGION".to_owned(), "r2".to_owned()),
            ("CAIRN_CONFIG__SIDE__COUNT".to_owned(), "3".to_owned()),
            ("HOME".to_owned(), "/root".to_owned()),
        ]);
        let sample: Sample = load(file.path(), &overrides).expect("valid");
        assert_eq!(sample.side, Side { region: "r2".into(), count: 3 });
    }

    #[test]
    fn an_override_of_a_string_stays_a_string() {
        let file = write("name = \"a\"\n[side]\nregion = \"r1\"\ncount = 1\n");
        let overrides = [("CAIRN_CONFIG__NAME".to_owned(), "123456789012".to_owned())];
        let sample: Sample = load(file.path(), &overrides).expect("valid");
        assert_eq!(sample.name, "123456789012");
    }

    #[test]
    fn an_override_sets_the_key_as_the_file_writes_it() {
        let file = write("[tags]\nEnvironment = \"sandbox\"\nCostCenter = \"cc-1\"\n");
        let overrides = [("CAIRN_CONFIG__TAGS__ENVIRONMENT".to_owned(), "staging".to_owned())];
        let document: toml::Table = load(file.path(), &overrides).expect("valid");
        let tags = document["tags"].as_table().expect("tags");
        assert_eq!(tags["Environment"].as_str(), Some("staging"));
        assert_eq!(tags.len(), 2, "no second, lower-case tag: {tags:?}");
    }

    #[test]
    fn an_override_matching_two_keys_that_differ_only_in_case_is_refused() {
        let file = write("[tags]\nEnv = \"a\"\nENV = \"b\"\n");
        let overrides = [("CAIRN_CONFIG__TAGS__ENV".to_owned(), "c".to_owned())];
        let error = load::<toml::Table>(file.path(), &overrides).expect_err("ambiguous");
        let message = error.to_string();
        assert!(message.contains("CAIRN_CONFIG__TAGS__ENV"), "{message}");
        assert!(message.contains("`ENV`") && message.contains("`Env`"), "{message}");
    }

    #[test]
    fn unknown_keys_are_refused_with_the_key_named() {
        let file = write("name = \"a\"\ncolour = 1\n[side]\nregion = \"r\"\ncount = 1\n");
        let error = load::<Sample>(file.path(), &[]).expect_err("unknown key");
        assert!(error.to_string().contains("colour"), "{error}");
    }

    #[test]
    fn wrong_types_name_the_key() {
        let file = write("name = \"a\"\n[side]\nregion = \"r\"\ncount = \"many\"\n");
        let error = load::<Sample>(file.path(), &[]).expect_err("wrong type");
        assert!(error.to_string().contains("count"), "{error}");
    }
}
