use std::process::ExitCode;

fn main() -> ExitCode {
    tillpoint_server::cli::main()
}
