//! `localops-connect policy ...`: IAM policy tools over the `iam-policy` crate.

mod eval;

use clap::Subcommand;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub(crate) enum PolicyCommand {
    /// Evaluate requests against IAM policies (identity, trust, boundary, SCPs).
    ///
    /// With --jsonl, reads one JSON object per line on standard input and writes one JSON
    /// answer per line on standard output, in the same order.
    Eval(eval::EvalArgs),
}

pub(crate) fn run(cmd: PolicyCommand) -> ExitCode {
    match cmd {
        PolicyCommand::Eval(args) => eval::run(&args),
    }
}
