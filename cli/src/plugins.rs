//! Where the AWS provider plugin comes from. A program's binary links no AWS SDK: commands
//! that reach the cloud start `cairn-provider-aws`, a process of its own, and speak to it
//! over stdio ([`cairn_plugin`]).
//!
//! The plugin is found, in order:
//! 1. at the path in `CAIRN_PROVIDER_AWS`;
//! 2. built from the cairn checkout this program was compiled against (its `cargo build` is
//!    a no-op once built, so the plugin is always the one of that checkout, never stale);
//! 3. beside the program's own executable;
//! 4. on `PATH`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use anyhow::{Context, bail};
use cairn_engine::Provider;
use cairn_plugin::PluginProvider;
use cairn_plugin::protocol::Configure;

use crate::ProviderSource;

/// The plugin's executable name.
pub const AWS_PLUGIN: &str = "cairn-provider-aws";

/// The variable naming the plugin's executable.
pub const AWS_PLUGIN_VARIABLE: &str = "CAIRN_PROVIDER_AWS";

/// The cairn checkout this crate was compiled from.
const CAIRN_CHECKOUT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// Starts the AWS provider plugin for the commands that reach the cloud.
pub struct AwsPlugin {
    /// How much the plugin logs (`-v` counted).
    pub verbosity: u8,
}

impl ProviderSource for AwsPlugin {
    fn provider(&self, endpoint_url: Option<&str>) -> anyhow::Result<Arc<dyn Provider>> {
        let program = locate_aws_plugin()?;
        let settings = Configure {
            endpoint_url: endpoint_url.map(str::to_owned),
            verbosity: self.verbosity,
            ..Configure::default()
        };
        Ok(Arc::new(PluginProvider::start(&program, settings)?))
    }
}

/// The cairn checkout this program was compiled against, when it is still there.
pub fn cairn_checkout() -> Option<PathBuf> {
    let checkout = Path::new(CAIRN_CHECKOUT);
    checkout
        .join("providers/aws/Cargo.toml")
        .is_file()
        .then(|| checkout.canonicalize().unwrap_or_else(|_| checkout.to_owned()))
}

/// The target directory cargo builds `checkout` into (`CARGO_TARGET_DIR` and cargo's
/// config included).
pub fn target_dir_of(checkout: &Path) -> anyhow::Result<PathBuf> {
    let output = cargo()
        .args(["metadata", "--no-deps", "--format-version", "1", "--manifest-path"])
        .arg(checkout.join("Cargo.toml"))
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run `cargo metadata`: install Rust (cargo) to build cairn programs")?;
    if !output.status.success() {
        bail!("`cargo metadata` failed on {} (its message is above)", checkout.display());
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)
        .context("`cargo metadata` printed something that is not JSON")?;
    metadata["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .context("`cargo metadata` named no target directory")
}

/// A `cargo` command (the one that runs this program, `CARGO`, else `cargo` on `PATH`)
/// without the variables `cargo run` and `cargo test` set for the process they start
/// (`CARGO_PKG_NAME`, `CARGO_MANIFEST_DIR`, `OUT_DIR`, ...). Build scripts of the SDK's
/// dependencies rerun when those change, so a build started with them would compile the SDK
/// again instead of finding it built.
pub fn cargo() -> std::process::Command {
    let mut command =
        std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let set_for_a_run = ["CARGO_PKG_", "CARGO_BIN_", "CARGO_CRATE_"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
            || ["CARGO_MANIFEST_DIR", "CARGO_MANIFEST_PATH", "CARGO_PRIMARY_PACKAGE"]
                .contains(&name.as_ref())
            || ["CARGO_TARGET_TMPDIR", "OUT_DIR"].contains(&name.as_ref());
        if set_for_a_run {
            command.env_remove(name.as_ref());
        }
    }
    command
}

/// Finds (or builds) the AWS provider plugin.
pub fn locate_aws_plugin() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os(AWS_PLUGIN_VARIABLE) {
        let path = PathBuf::from(path);
        if !path.is_file() {
            bail!(
                "{AWS_PLUGIN_VARIABLE} names {}, which is not a file: point it at the \
                 {AWS_PLUGIN} executable or unset it",
                path.display()
            );
        }
        return Ok(path);
    }
    if let Some(checkout) = cairn_checkout() {
        return build_from_checkout(&checkout);
    }
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(AWS_PLUGIN)))
        .filter(|path| path.is_file());
    if let Some(path) = beside {
        return Ok(path);
    }
    on_path().with_context(|| {
        format!(
            "cannot find the AWS provider plugin {AWS_PLUGIN}: install it on PATH, put it \
             beside this program, or set {AWS_PLUGIN_VARIABLE} to its path"
        )
    })
}

/// Builds the plugin in the cairn checkout (a no-op when it is up to date) and returns the
/// executable cargo reports for it.
fn build_from_checkout(checkout: &Path) -> anyhow::Result<PathBuf> {
    let manifest = checkout.join("Cargo.toml");
    let output = cargo()
        .args(["build", "--quiet", "--message-format=json-render-diagnostics"])
        // The whole workspace's binaries, as `cargo build --bins` in the checkout builds
        // them: the same features, so the SDK compiled there is reused, never compiled again.
        .args(["--workspace", "--bins", "--manifest-path"])
        .arg(&manifest)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| {
            format!(
                "cannot run cargo to build the AWS provider plugin from {}: install Rust, or \
                 set {AWS_PLUGIN_VARIABLE} to a built {AWS_PLUGIN}",
                manifest.display()
            )
        })?;
    if !output.status.success() {
        bail!(
            "building the AWS provider plugin from {} failed (cargo's messages are above): fix \
             the checkout, or set {AWS_PLUGIN_VARIABLE} to a built {AWS_PLUGIN}",
            manifest.display()
        );
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["target"]["name"] == AWS_PLUGIN)
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .with_context(|| format!("cargo built {AWS_PLUGIN} but did not say where it put it"))
}

fn on_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(AWS_PLUGIN)).find(|path| path.is_file())
}
