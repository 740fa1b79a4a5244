//! `network-baseline plan|apply|destroy|refresh|graph`: every command of cairn for the
//! network baseline.

fn main() -> std::process::ExitCode {
    cairn::run(&network_baseline::NetworkBaseline)
}
