//! terraform-provider-localops: Terraform starts this binary and talks plugin protocol 6 to it.

mod docs;
mod provider;
mod resources;
mod settings;

use std::process::ExitCode;

const REGISTRY_ADDRESS: &str = "registry.terraform.io/localops/localops";

fn main() -> ExitCode {
    // Hidden subcommand for maintainers: regenerate or check docs/ (see src/docs.rs).
    if std::env::args_os().nth(1).is_some_and(|a| a == "docs") {
        return docs::run(std::env::args_os().skip(2));
    }
    let mut debug = false;
    for argument in std::env::args().skip(1) {
        match argument.as_str() {
            "--version" | "-version" | "version" => {
                println!("terraform-provider-localops {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            "--debug" | "-debug" => debug = true,
            other => {
                eprintln!(
                    "terraform-provider-localops: unknown argument {other:?}.\n\
                     Usage: terraform-provider-localops [--debug | --version]"
                );
                return ExitCode::from(2);
            }
        }
    }
    tfplugin::serve(
        provider::LocalOpsProvider::new(),
        tfplugin::ServeOptions {
            address: REGISTRY_ADDRESS.to_owned(),
            debug,
        },
    )
}
