//! `droplake load [DATASET...]`: loads every object of the given datasets (or
//! of every dataset that has a table) that was not processed before, oldest
//! first (or by generation), and reports per object.
//!
//! An object was processed when a load of the same path with the same
//! content is recorded, whatever its outcome: a failed load is not retried
//! by a scan (fix the data and put it again, or `insert --force`).

use std::io::{self, Write};

use clap::Args;

use super::Failure;
use super::insert::{code_of, print_report};
use super::progress::{self, Bar};
use crate::config::{Order, Settings};
use crate::daemon::generations;
use crate::exit::{ExitCode, HasExitCode};
use crate::lake::{DatasetName, Found, Lake, sha256_of};
use crate::loader::{self, Table};
use crate::warehouse::{ObjectRef, Warehouse};

/// Arguments of `droplake load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Datasets to load; by default every dataset that has a table schema.
    pub datasets: Vec<DatasetName>,

    /// Print one JSON object per object loaded.
    #[arg(long)]
    pub json: bool,
}

pub fn run(settings: &Settings, args: LoadArgs) -> Result<ExitCode, Failure> {
    let lake = Lake::open(&settings.lake, settings.filter.clone())
        .map_err(|error| Failure::new(ExitCode::Config, error))?;
    let datasets = if args.datasets.is_empty() {
        let all = lake.datasets().map_err(|error| {
            Failure::new(
                ExitCode::IoErr,
                anyhow::anyhow!("cannot list {}: {error}", lake.root().display()),
            )
        })?;
        all.into_iter()
            .filter(|dataset| {
                let table = settings.table_of(dataset);
                settings.schemas.join(format!("{table}.json")).is_file()
            })
            .collect()
    } else {
        args.datasets.clone()
    };
    let mut warehouse = Warehouse::open(&settings.warehouse)?;
    let mut outcome = ExitCode::Ok;
    let mut loaded = 0;
    let mut stdout = io::stdout().lock();
    // The objects are listed first, so that the bar knows how many.
    let objects: Vec<_> = datasets
        .iter()
        .map(|dataset| (dataset, in_order(settings, dataset, lake.objects(dataset))))
        .collect();
    let total = objects.iter().map(|(_, found)| found.len() as u64).sum();
    let overall = (total > 1).then(|| Bar::objects("objects", total));
    let mut examined = 0;
    for (dataset, found_in_dataset) in objects {
        let table_name = settings.table_of(dataset);
        let table = Table::load(&settings.schemas, &table_name)?;
        let read = settings.dataset(dataset).read;
        let options = settings.load_options(dataset, &table_name);
        for found in found_in_dataset {
            if let Some(overall) = &overall {
                overall.set(examined, total);
            }
            examined += 1;
            let sha256 = match sha256_of(&found.path) {
                Ok(sha256) => hex::encode(sha256),
                Err(error) => {
                    progress::suspend(|| {
                        eprintln!(
                            "droplake: cannot read {}: {error}; skipped",
                            found.path.display()
                        )
                    });
                    outcome = outcome.worst(ExitCode::IoErr);
                    continue;
                }
            };
            let path = found.relative.to_string_lossy().into_owned();
            if warehouse.was_processed(&path, &sha256)? {
                continue;
            }
            let object = ObjectRef {
                path,
                sha256,
                size: found.size,
            };
            let bar = Bar::bytes(&found.path, found.size);
            let loaded_file = loader::load_file(
                &mut warehouse,
                &table,
                &found.path,
                &object,
                &read,
                options,
                |file| bar.reader(file),
            );
            drop(bar);
            match loaded_file {
                Ok(report) => {
                    loaded += u32::from(report.outcome != crate::warehouse::Outcome::Duplicate);
                    outcome = outcome.worst(code_of(&report));
                    progress::suspend(|| {
                        print_report(
                            &mut stdout,
                            &found.path,
                            &object.sha256,
                            &table_name,
                            &report,
                            args.json,
                        )
                    })
                    .map_err(Failure::stdout)?;
                }
                Err(error) => {
                    progress::suspend(|| {
                        eprintln!("droplake: loading {}: {error}", found.path.display())
                    });
                    outcome = outcome.worst(error.exit_code());
                }
            }
        }
    }
    drop(overall);
    if !args.json {
        let _ = writeln!(
            stdout,
            "{loaded} new object(s) loaded from {} dataset(s)",
            datasets.len()
        );
    }
    Ok(outcome)
}

/// A dataset's files in its order: oldest first, or by generation
/// (`order = "generation"`; `load` does not hold files back for a missing
/// generation, the daemon does).
fn in_order(settings: &Settings, dataset: &DatasetName, found: Vec<Found>) -> Vec<Found> {
    if !matches!(settings.dataset(dataset).order, Order::Generation { .. }) {
        return found;
    }
    let nanos = |time: std::time::SystemTime| {
        time.duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| {
                i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
            })
    };
    let ranks = generations::ranks(
        found
            .iter()
            .map(|file| (file.relative.as_path(), nanos(file.modified))),
    );
    let mut ranked: Vec<(i64, Found)> = ranks.into_iter().zip(found).collect();
    ranked.sort_by_key(|(rank, _)| *rank);
    ranked.into_iter().map(|(_, file)| file).collect()
}
