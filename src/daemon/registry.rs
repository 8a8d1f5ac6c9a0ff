//! The handlers and tables a daemon runs with, built from the settings.
//!
//! Built at startup and again on SIGHUP; a registry that cannot be built (a
//! schema that does not parse) stops startup, and on reload keeps the old
//! one running.

use std::collections::HashMap;
use std::sync::Arc;

use crate::config::{HandlerSettings, Settings};
use crate::handlers::embedded::{Embedded, Handler};
use crate::lake::DatasetName;
use crate::loader::Table;
use crate::schema::SchemaError;

/// The name of the built-in loader.
pub const LOADER: &str = "loader";

/// What a handler runs.
#[derive(Clone)]
pub enum Kind {
    Loader,
    Command(Vec<String>),
    Embedded(Arc<dyn Handler>),
}

/// The handlers (the loader first) and the tables.
#[derive(Clone)]
pub struct Registry {
    pub handlers: Vec<(HandlerSettings, Kind)>,
    pub tables: HashMap<String, Arc<Table>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("handlers", &self.settings())
            .field("tables", &self.tables.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Registry {
    /// Reads every schema and lists the handlers of `settings` plus the
    /// embedded ones.
    pub fn build(settings: &Settings, embedded: &[Embedded]) -> Result<Registry, SchemaError> {
        let mut tables = HashMap::new();
        if let Ok(entries) = std::fs::read_dir(&settings.schemas) {
            let mut names: Vec<String> = entries
                .flatten()
                .filter_map(|entry| {
                    let name = entry.file_name().to_str()?.to_owned();
                    let stem = name.strip_suffix(".json")?;
                    (!stem.starts_with('.')).then(|| stem.to_owned())
                })
                .collect();
            names.sort();
            for name in names {
                let table = Table::load(&settings.schemas, &name)?;
                tables.insert(name, Arc::new(table));
            }
        }
        let mut loader = HandlerSettings::new(LOADER);
        let mut others = Vec::new();
        for handler in &settings.handlers {
            match &handler.command {
                None if handler.name == LOADER => loader = handler.clone(),
                Some(argv) => others.push((handler.clone(), Kind::Command(argv.clone()))),
                None => {}
            }
        }
        for handler in embedded {
            others.push((
                handler.settings.clone(),
                Kind::Embedded(Arc::clone(&handler.handler)),
            ));
        }
        let mut handlers = vec![(loader, Kind::Loader)];
        handlers.extend(others);
        Ok(Registry { handlers, tables })
    }

    /// Every handler's settings.
    pub fn settings(&self) -> Vec<HandlerSettings> {
        self.handlers
            .iter()
            .map(|(settings, _)| settings.clone())
            .collect()
    }

    pub fn get(&self, name: &str) -> Option<&(HandlerSettings, Kind)> {
        self.handlers
            .iter()
            .find(|(settings, _)| settings.name == name)
    }

    /// The table `dataset` loads into, if its schema exists.
    pub fn table_of(&self, settings: &Settings, dataset: &DatasetName) -> Option<Arc<Table>> {
        self.tables.get(&settings.table_of(dataset)).cloned()
    }

    /// The handlers that get a job for an object of `dataset`: the loader
    /// when the dataset has a table, and every handler that lists the
    /// dataset (or lists none).
    pub fn handlers_for(&self, settings: &Settings, dataset: &DatasetName) -> Vec<String> {
        self.handlers
            .iter()
            .filter(|(handler, kind)| {
                let listed = handler.datasets.is_empty() || handler.datasets.contains(dataset);
                match kind {
                    Kind::Loader => listed && self.table_of(settings, dataset).is_some(),
                    _ => listed,
                }
            })
            .map(|(handler, _)| handler.name.clone())
            .collect()
    }
}
