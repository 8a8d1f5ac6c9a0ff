//! A program that embeds droplake and registers a Rust handler.
//!
//! It runs one batch (`run --once`) over the lake of the current
//! directory: the built-in loader loads every object into its table, and
//! `LineCounter` runs after it on each object, appending "<object id>
//! <lines>" to `line-counts.txt`. Try it from the repository root:
//!
//! ```text
//! cargo run --example embedded_handler
//! ```

use std::io::{BufRead, Write};
use std::sync::Arc;

use droplake::config::{HandlerSettings, Settings, Sources};
use droplake::daemon::{self, Options};
use droplake::handlers::embedded::{Delivery, Embedded, Handler, Refusal};

/// Counts the lines of each object.
struct LineCounter;

impl Handler for LineCounter {
    fn handle(&self, delivery: &Delivery<'_>) -> Result<(), Refusal> {
        let file = std::fs::File::open(delivery.path)
            .map_err(|error| Refusal::Retry(format!("cannot open the object: {error}")))?;
        let lines = std::io::BufReader::new(file).lines().count();
        // The object id is the idempotency key: a repeated delivery
        // appends the same line again, which a reader can dedupe.
        let mut out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open("line-counts.txt")
            .map_err(|error| Refusal::Retry(error.to_string()))?;
        writeln!(out, "{} {lines}", delivery.object_id)
            .map_err(|error| Refusal::Retry(error.to_string()))
    }
}

fn main() -> std::process::ExitCode {
    let sources = Sources::from_process(None);
    let settings = match Settings::load(&sources) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("embedded_handler: {error}");
            return std::process::ExitCode::from(78);
        }
    };
    let mut counter = HandlerSettings::new("line-counter");
    counter.after = vec![daemon::LOADER.to_owned()];
    counter.retries = 3;
    let options = Options {
        once: true,
        sources,
        embedded: vec![Embedded {
            settings: counter,
            handler: Arc::new(LineCounter),
        }],
        ..Options::default()
    };
    match daemon::run(settings, options) {
        Ok(ended) => {
            println!("finished: {ended:?}");
            ended.exit_code().into()
        }
        Err(error) => {
            eprintln!("embedded_handler: {error}");
            std::process::ExitCode::from(1)
        }
    }
}
