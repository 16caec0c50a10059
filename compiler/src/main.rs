//! The `convlytics` command.

fn main() -> std::process::ExitCode {
    convlytics::cli::main()
}
