//! The `usalama` command: the server, the demo, imports and administration, as subcommands
//! of one binary. This is the only crate that reads the environment, files and flags; it
//! turns them into a configuration once and passes it down.
//!
//! Exit codes: 0 success; 1 any other failure; 2 bad usage; 3 bad configuration or store
//! location; 4 the store cannot be opened (unreachable, corrupt, foreign or newer);
//! 5 the server cannot listen on its address; 6 an import file cannot be read at all.

mod access;
mod alerts;
mod backtest;
mod backup;
mod cli;
mod config;
mod demo;
mod keys;
mod malloc;
mod progress;
mod recompute;
mod report;
mod serve;
mod vault_cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Parsing starts no thread, so the cap still comes before any.
    let cli = cli::Cli::parse();
    if cli.command.serves() {
        malloc::limit_arenas();
    }
    if cli.command.imports() {
        malloc::no_fastbins();
    }
    match cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("usalama: {}", one_line(&e));
            ExitCode::from(exit_code(&e))
        }
    }
}

/// The error and its causes on one line.
fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let s = cause.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
    }
    parts.join(": ").replace('\n', " ")
}

/// The documented exit code for an error.
fn exit_code(e: &anyhow::Error) -> u8 {
    use usalama_store::StoreError;
    for cause in e.chain() {
        if let Some(s) = cause.downcast_ref::<StoreError>() {
            return match s {
                StoreError::InvalidLocation(_) => 3,
                _ => 4,
            };
        }
        if let Some(app) = cause.downcast_ref::<usalama_app::AppError>() {
            return match app {
                usalama_app::AppError::Store(StoreError::InvalidLocation(_)) => 3,
                usalama_app::AppError::Store(_) => 4,
                usalama_app::AppError::Import(_) => 6,
                usalama_app::AppError::Invalid { .. } => 2,
                _ => 1,
            };
        }
        if cause.downcast_ref::<serve::BindError>().is_some() {
            return 5;
        }
        if cause.downcast_ref::<cli::ConfigError>().is_some() {
            return 3;
        }
    }
    1
}
