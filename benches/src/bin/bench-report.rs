//! `bench-report`: compares criterion's saved estimates and the load tool's JSON with
//! `benches/targets.toml` and prints one Markdown table (figure, seed claim, target, measured,
//! ratio, met). Exits 1 when a target is missed or a measurement is missing, saying which.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use wasmbed_benches::report::{self, Inputs, Targets, Verdict};

/// Compare measurements with benches/targets.toml.
#[derive(Debug, Parser)]
#[command(name = "bench-report", version)]
struct Cli {
    /// The targets file (default: the one built into this binary, benches/targets.toml).
    #[arg(long)]
    targets: Option<PathBuf>,
    /// Criterion's output directory (default: `$CRITERION_HOME` or `<target dir>/criterion`).
    #[arg(long)]
    criterion_dir: Option<PathBuf>,
    /// Directory the `[files]` paths are relative to (default: the cargo target directory).
    #[arg(long)]
    results_dir: Option<PathBuf>,
    /// A result file by name, e.g. --result idle-sessions=/tmp/idle.json (repeatable).
    #[arg(long = "result", value_parser = parse_result)]
    results: Vec<(String, PathBuf)>,
}

fn parse_result(text: &str) -> Result<(String, PathBuf), String> {
    let (name, path) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not NAME=PATH"))?;
    Ok((name.to_owned(), PathBuf::from(path)))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let text = match &cli.targets {
        None => report::TARGETS_TOML.to_owned(),
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", path.display());
                return ExitCode::from(2);
            }
        },
    };
    let targets = match Targets::parse(&text) {
        Ok(targets) => targets,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut inputs = Inputs::defaults();
    if let Some(dir) = cli.criterion_dir {
        inputs.criterion_dir = dir;
    }
    if let Some(dir) = cli.results_dir {
        inputs.results_dir = dir;
    }
    for (name, path) in cli.results {
        if !targets.files.contains_key(&name) {
            let known: Vec<_> = targets.files.keys().cloned().collect();
            eprintln!(
                "error: --result {name}: no such result; known: {}",
                known.join(", ")
            );
            return ExitCode::from(2);
        }
        inputs.overrides.insert(name, path);
    }
    let rows = report::evaluate(&targets, &inputs);
    print!("{}", report::render(&rows));
    let missed: Vec<_> = rows
        .iter()
        .filter(|(_, v)| matches!(v, Verdict::Missed(_)))
        .map(|(f, _)| f.id.as_str())
        .collect();
    let missing: Vec<_> = rows
        .iter()
        .filter(|(_, v)| matches!(v, Verdict::Missing(_)))
        .map(|(f, _)| f.id.as_str())
        .collect();
    if missed.is_empty() && missing.is_empty() {
        eprintln!("every target met");
        return ExitCode::SUCCESS;
    }
    if !missed.is_empty() {
        eprintln!("missed: {}", missed.join(", "));
    }
    if !missing.is_empty() {
        eprintln!("missing: {}", missing.join(", "));
    }
    ExitCode::FAILURE
}
