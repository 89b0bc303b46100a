//! `ecert`: issue, seal, store and verify electronic certificates in metrology.
#![forbid(unsafe_code)]

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// 计量电子证书系统 — electronic certificates in metrology (T/CMA).
#[derive(Debug, Parser)]
#[command(name = "ecert", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// 网格矩阵码 (Grid Matrix, GB/T 27766).
    #[command(subcommand)]
    Gm(GmCommand),
    /// 电子证书标识 (certificate identifiers, R-4.5.5).
    #[command(subcommand)]
    Id(IdCommand),
    /// 验证电子证书的签章 (verify the seals and signatures of an OFD file).
    Verify(cli::verify::VerifyArgs),
}

#[derive(Debug, Subcommand)]
enum GmCommand {
    /// Encode text as a Grid Matrix symbol.
    Encode(cli::gm::EncodeArgs),
}

#[derive(Debug, Subcommand)]
enum IdCommand {
    /// Parse and validate an identifier.
    Check(cli::id::CheckArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Verify(args) => return cli::verify::run(args),
        Command::Gm(GmCommand::Encode(args)) => cli::gm::encode(args),
        Command::Id(IdCommand::Check(args)) => cli::id::check(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("错误 (error): {e:#}");
            ExitCode::FAILURE
        }
    }
}
