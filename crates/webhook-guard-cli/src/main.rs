//! `webhook-guard`: sign and send sample webhooks of every provider of the catalogue (Parallel,
//! Sixtyfour, FullEnrich, ParseFlow, GitHub, Stripe), diagnose a request whose signature fails,
//! and run the demo. See the README.

#![forbid(unsafe_code)]

/// `println!` that does not panic on a closed standard output (`webhook-guard samples | head`):
/// the rest of the output is dropped.
macro_rules! say {
    () => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout());
    }};
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod body_form;
mod dedup;
mod demo;
mod error;
mod headers_file;
mod inbox;
mod provider;
mod samples;
mod send;
mod server;
mod sign;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Sign, send and check webhooks; run the demo.
#[derive(Debug, Parser)]
#[command(name = "webhook-guard", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start an in-process receiver and send it every sample event, correctly signed, then a
    /// duplicate, a tampered, a stale delivery and a concurrent burst; print what happened.
    Demo(demo::Args),
    /// Sign a sample event (or your own body) and post it to a URL; with --count, a small
    /// load generator.
    Send(send::Args),
    /// Print the signature headers of a body, and a ready-to-run curl command.
    Sign(sign::Args),
    /// Explain why a captured request passes or fails verification.
    Verify(verify::Args),
    /// List the sample event types, or print one sample body.
    Samples(samples::Args),
    /// Show or forget a delivery's record in the receivers' shared store (`REDIS_URL` or
    /// `DATABASE_URL`), so a redelivery runs the handler again.
    Dedup(dedup::Args),
    /// Operate the durable inbox on `REDIS_URL` or `DATABASE_URL`: stats, list, show
    /// (verifies the stored body again), replay, pause, resume, purge.
    Inbox(inbox::Args),
}

fn main() -> ExitCode {
    use clap::{CommandFactory as _, FromArgMatches as _};
    let mut command = Cli::command();
    for name in ["sign", "send", "verify"] {
        command = command.mut_subcommand(name, provider::with_secret_args);
    }
    let parsed = command.try_get_matches().and_then(|matches| {
        if let Some((_, sub)) = matches.subcommand() {
            provider::keep_secrets(sub);
        }
        Cli::from_arg_matches(&matches)
    });
    let cli = match parsed {
        Ok(cli) => cli,
        Err(error) if !error.use_stderr() => {
            // --help and --version.
            let _ = error.print();
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("webhook-guard: {}", one_line(&error.to_string()));
            return ExitCode::from(2);
        }
    };
    let outcome = match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Send(args) => send::run(&args),
        Command::Sign(args) => sign::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Samples(args) => samples::run(&args),
        Command::Dedup(args) => dedup::run(&args),
        Command::Inbox(args) => inbox::run(&args),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("webhook-guard: {error}");
            ExitCode::from(2)
        }
    }
}

/// A usage error of clap on one line: its lines joined, without the `error:` prefix and the
/// pointer to `--help`.
fn one_line(text: &str) -> String {
    let joined: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("For more information"))
        .collect();
    let line = joined.join(" ");
    let line = line.strip_prefix("error: ").unwrap_or(&line);
    format!("{line} (see --help)")
}
