//! The peering program with every command as a subcommand: `vpc-peering plan`, `apply`, ...

fn main() -> std::process::ExitCode {
    cairn::run(&vpc_peering::Peering)
}
