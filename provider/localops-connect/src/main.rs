//! `localops-connect`: the LocalOps connection toolkit.
//!
//! One module per subcommand under [`commands`]; each is a thin layer over the library
//! crates. Standard output carries only the command's answers; usage errors are one line on
//! standard error with exit status 2.

mod commands;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// LocalOps connection toolkit.
#[derive(Debug, Parser)]
#[command(name = "localops-connect", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// IAM policy tools.
    #[command(subcommand)]
    Policy(commands::policy::PolicyCommand),
}

/// Exit status for bad command-line usage.
const USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                // Help and version go to standard output, as asked for.
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            let message = match e.kind() {
                ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
                | ErrorKind::MissingSubcommand => {
                    "a subcommand is required (see localops-connect --help)".to_owned()
                }
                _ => first_line(&e.to_string()),
            };
            usage_error(&message);
            return ExitCode::from(USAGE);
        }
    };
    match cli.command {
        Command::Policy(cmd) => commands::policy::run(cmd),
    }
}

/// The first meaningful line of a clap error, without its `error: ` prefix.
fn first_line(rendered: &str) -> String {
    let line = rendered
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("invalid usage");
    let line = line.strip_prefix("error: ").unwrap_or(line).trim_end();
    let line = line.trim_end_matches(':');
    format!("{line} (see localops-connect --help)")
}

/// Prints a one-line usage error on standard error.
pub(crate) fn usage_error(message: &str) {
    eprintln!("localops-connect: error: {message}");
}
