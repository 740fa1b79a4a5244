//! `refresh` of the peering program: `cargo run --bin refresh -- --help`.

fn main() -> std::process::ExitCode {
    cairn::run_command(&vpc_peering::Peering, cairn::Command::Refresh)
}
