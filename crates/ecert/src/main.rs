//! `ecert`: issue, seal, store and verify electronic certificates in metrology.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// 计量电子证书系统 — electronic certificates in metrology (T/CMA).
#[derive(Debug, Parser)]
#[command(name = "ecert", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print version information.
    Version,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Version => {
            println!("ecert {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
    }
}
