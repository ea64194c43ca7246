//! `cpnctl path`: answer path queries offline against a topology file, one
//! request or a JSONL batch, as a readable table or as JSON.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use super::render;
use crate::document::{self, answer_json, error_json};
use crate::engine::{Engine, QueryError};
use crate::model::Topology;

/// `cpnctl path`
#[derive(Debug, Args)]
pub struct PathArgs {
    /// The topology file (offline mode).
    #[arg(long)]
    pub topology: Option<PathBuf>,
    /// One request (YAML or JSON); `-` reads standard input.
    #[arg(
        long,
        conflicts_with = "requests",
        required_unless_present = "requests"
    )]
    pub request: Option<PathBuf>,
    /// Many requests, one JSON object per line; one answer per line out.
    #[arg(long)]
    pub requests: Option<PathBuf>,
    /// Print JSON instead of tables.
    #[arg(long, conflicts_with = "dot")]
    pub json: bool,
    /// Print Graphviz DOT of the topology with the path (and backup)
    /// highlighted: `... --dot | dot -Tsvg > path.svg`.
    #[arg(long, conflicts_with = "requests")]
    pub dot: bool,
}

/// Exit status for "nothing feasible".
pub const EXIT_INFEASIBLE: u8 = 2;

/// Reads a file, or standard input for `-`.
pub fn read_input(path: &Path) -> anyhow::Result<String> {
    if path == Path::new("-") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)?;
        return Ok(s);
    }
    std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Runs `cpnctl path` offline.
pub fn run(args: PathArgs) -> anyhow::Result<ExitCode> {
    let Some(topology) = &args.topology else {
        anyhow::bail!("--topology FILE is needed (or --server URL for the controller)");
    };
    let t = super::topology::load(topology)?;
    let engine = Engine::new();
    if let Some(batch) = &args.requests {
        return batch_mode(&t, &engine, batch);
    }
    let file = args
        .request
        .as_ref()
        .expect("clap requires --request or --requests");
    let text = read_input(file)?;
    let doc =
        document::parse_request(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let request =
        document::resolve(&doc, &t).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let mut out = std::io::stdout().lock();
    match engine.query(&t, &request) {
        Ok(answer) => {
            let json = answer_json(&t, &answer);
            if args.dot {
                write!(out, "{}", super::dot::dot(&t, Some(&json)))?;
            } else if args.json {
                serde_json::to_writer_pretty(&mut out, &json)?;
                writeln!(out)?;
            } else {
                write!(
                    out,
                    "{}",
                    render::answer(&json, Some(t.router(answer.headend).msd))
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(QueryError::Invalid(e)) => Err(anyhow::anyhow!("{}: {e}", file.display())),
        Err(QueryError::NoPlacement(e)) => {
            if args.dot {
                eprintln!("{}", e.message);
                write!(out, "{}", super::dot::dot(&t, None))?;
            } else if args.json {
                serde_json::to_writer_pretty(&mut out, &error_json(&t, &e))?;
                writeln!(out)?;
            } else {
                writeln!(out, "{}\n", e.message)?;
                write!(
                    out,
                    "{}",
                    render::rejected(&document::rejections_json(&t, &e.rejected))
                )?;
            }
            Ok(ExitCode::from(EXIT_INFEASIBLE))
        }
    }
}

/// One answer (or `{"error": ...}`) per input line, in order. Exit status: 0
/// when every line got an answer, 2 when some had nothing feasible, 1 when
/// some line was bad input (the others are still answered).
fn batch_mode(t: &Topology, engine: &Engine, file: &Path) -> anyhow::Result<ExitCode> {
    let input: Box<dyn BufRead> = if file == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        let f =
            std::fs::File::open(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        Box::new(std::io::BufReader::new(f))
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let (mut bad, mut infeasible) = (false, false);
    for (n, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        // Bad input: the document, its ids, or the request's values.
        let query = document::parse_request(&line)
            .and_then(|doc| document::resolve(&doc, t).map_err(|e| e.to_string()))
            .map(|req| engine.query(t, &req));
        let bad_line = |e: &dyn std::fmt::Display| document::ErrorJson {
            error: format!("line {}: {e}", n + 1),
            rejected: None,
        };
        match query {
            Ok(Ok(a)) => serde_json::to_writer(&mut out, &answer_json(t, &a))?,
            Err(e) => {
                bad = true;
                serde_json::to_writer(&mut out, &bad_line(&e))?;
            }
            Ok(Err(QueryError::Invalid(e))) => {
                bad = true;
                serde_json::to_writer(&mut out, &bad_line(&e))?;
            }
            Ok(Err(QueryError::NoPlacement(e))) => {
                infeasible = true;
                serde_json::to_writer(&mut out, &error_json(t, &e))?;
            }
        }
        writeln!(out)?;
    }
    out.flush()?;
    Ok(if bad {
        ExitCode::from(1)
    } else if infeasible {
        ExitCode::from(EXIT_INFEASIBLE)
    } else {
        ExitCode::SUCCESS
    })
}
