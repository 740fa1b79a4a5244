//! `cairn new DIR`: writes a program crate of the user's own, outside cairn, that depends on
//! cairn and has every command: a typed config, a program with a VPC, a subnet and a
//! KMS-encrypted bucket, a config for the emulator, an offline test and a README.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// Why a crate could not be written.
#[derive(Debug, Error)]
pub enum ScaffoldError {
    /// The directory holds something already.
    #[error("{} is not empty: choose a new directory, or an empty one, for the program", .0.display())]
    NotEmpty(PathBuf),
    /// The name cannot be a crate name.
    #[error(
        "`{0}` cannot name a Rust crate: use ASCII letters, digits, `-` and `_`, starting with a \
         letter (pass --name NAME, or choose another directory name)"
    )]
    BadName(String),
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
}

/// What to write.
#[derive(Clone, Debug)]
pub struct Scaffold {
    /// The new crate's directory: missing or empty.
    pub dir: PathBuf,
    /// The crate's name (`my-infra`).
    pub name: String,
    /// The cairn checkout the crate depends on, by path.
    pub cairn_checkout: PathBuf,
    /// The target directory to build into, shared with that checkout's; `None` gives the
    /// crate its own.
    pub shared_target_dir: Option<PathBuf>,
    /// The lock file to start from (the checkout's), so the crate builds with the versions
    /// cairn is tested with and fetches nothing new.
    pub lock_file: Option<Vec<u8>>,
}

/// The crate name a directory suggests: its last component.
pub fn name_for(dir: &Path) -> Result<String, ScaffoldError> {
    let name = dir.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    check_name(&name)?;
    Ok(name)
}

fn check_name(name: &str) -> Result<(), ScaffoldError> {
    let mut characters = name.chars();
    let starts_with_letter = characters.next().is_some_and(|first| first.is_ascii_alphabetic());
    let rest_is_plain =
        characters.all(|character| character.is_ascii_alphanumeric() || "-_".contains(character));
    if starts_with_letter && rest_is_plain {
        Ok(())
    } else {
        Err(ScaffoldError::BadName(name.to_owned()))
    }
}

impl Scaffold {
    /// Writes the crate; returns the files written, relative to its directory. Nothing is
    /// written when the directory is not empty or the name is not a crate name.
    pub fn write(&self) -> Result<Vec<PathBuf>, ScaffoldError> {
        check_name(&self.name)?;
        let occupied =
            std::fs::read_dir(&self.dir).is_ok_and(|mut entries| entries.next().is_some());
        if occupied || self.dir.is_file() {
            return Err(ScaffoldError::NotEmpty(self.dir.clone()));
        }
        let mut written = Vec::new();
        for (path, contents) in self.files() {
            let full = self.dir.join(&path);
            if let Some(parent) = full.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|source| ScaffoldError::Write { path: parent.to_owned(), source })?;
            }
            std::fs::write(&full, contents)
                .map_err(|source| ScaffoldError::Write { path: full.clone(), source })?;
            written.push(path);
        }
        Ok(written)
    }

    /// Every file of the crate with its contents.
    fn files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let text = |template: &str| self.fill(template).into_bytes();
        let mut files = vec![
            ("Cargo.toml", text(include_str!("../templates/Cargo.toml.in"))),
            ("src/lib.rs", text(include_str!("../templates/lib.rs.in"))),
            ("src/main.rs", text(include_str!("../templates/main.rs.in"))),
            ("config/local.toml", text(include_str!("../templates/local.toml.in"))),
            ("tests/plan.rs", text(include_str!("../templates/plan_test.rs.in"))),
            ("README.md", text(include_str!("../templates/README.md.in"))),
            (".gitignore", text(include_str!("../templates/gitignore.in"))),
        ];
        if self.shared_target_dir.is_some() {
            files.push((
                ".cargo/config.toml",
                text(include_str!("../templates/cargo-config.toml.in")),
            ));
        }
        if let Some(lock) = &self.lock_file {
            files.push(("Cargo.lock", lock.clone()));
        }
        files.into_iter().map(|(path, contents)| (PathBuf::from(path), contents)).collect()
    }

    /// `template` with its placeholders filled in.
    fn fill(&self, template: &str) -> String {
        let target = self.shared_target_dir.as_deref().unwrap_or(Path::new(""));
        template
            .replace("{{name}}", &self.name)
            .replace("{{crate}}", &self.name.replace('-', "_"))
            .replace("{{cairn}}", &toml_path(&self.cairn_checkout))
            .replace("{{target_dir}}", &toml_path(target))
    }
}

/// `path` as it can stand in a TOML string: forward slashes, quotes and backslashes escaped.
fn toml_path(path: &Path) -> String {
    path.display().to_string().replace('\\', "/").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scaffold(dir: &Path) -> Scaffold {
        Scaffold {
            dir: dir.to_owned(),
            name: "my-infra".into(),
            cairn_checkout: PathBuf::from("/opt/cairn"),
            shared_target_dir: Some(PathBuf::from("/opt/cairn/target")),
            lock_file: Some(b"# lock".to_vec()),
        }
    }

    #[test]
    fn writes_every_file_with_its_placeholders_filled() {
        let temp = tempfile::tempdir().expect("temp dir");
        let dir = temp.path().join("my-infra");
        let written = scaffold(&dir).write().expect("written");
        assert_eq!(written.len(), 9, "{written:?}");
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("manifest");
        assert!(manifest.contains("name = \"my-infra\""), "{manifest}");
        assert!(manifest.contains("cairn = { path = \"/opt/cairn/cairn\" }"), "{manifest}");
        let main = std::fs::read_to_string(dir.join("src/main.rs")).expect("main");
        assert!(main.contains("cairn::run(&my_infra::Infra)"), "{main}");
        let config = std::fs::read_to_string(dir.join(".cargo/config.toml")).expect("config");
        assert!(config.contains("target-dir = \"/opt/cairn/target\""), "{config}");
        for (path, _) in scaffold(&dir).files() {
            let text = std::fs::read_to_string(dir.join(&path)).expect("text");
            assert!(!text.contains("{{"), "{} has a placeholder left: {text}", path.display());
        }
    }

    #[test]
    fn refuses_a_directory_that_holds_anything_and_writes_nothing() {
        let temp = tempfile::tempdir().expect("temp dir");
        std::fs::write(temp.path().join("notes.txt"), "mine").expect("a file");
        let error = scaffold(temp.path()).write().expect_err("not empty");
        assert!(error.to_string().contains("is not empty"), "{error}");
        let entries = std::fs::read_dir(temp.path()).expect("dir").count();
        assert_eq!(entries, 1, "nothing was added");
    }

    #[test]
    fn refuses_names_that_cannot_name_a_crate() {
        for bad in ["", "9lives", "my infra", "../up", "naïve"] {
            assert!(matches!(check_name(bad), Err(ScaffoldError::BadName(_))), "{bad:?}");
        }
        assert_eq!(name_for(Path::new("/work/my-infra")).expect("good"), "my-infra");
        let temp = tempfile::tempdir().expect("temp dir");
        let mut bad = scaffold(&temp.path().join("x"));
        bad.name = "has space".into();
        assert!(bad.write().is_err());
        assert!(!temp.path().join("x").exists(), "nothing was written");
    }
}
