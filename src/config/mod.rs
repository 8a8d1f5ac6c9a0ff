//! Configuration: `droplake.toml`, environment overrides, embedded defaults.
//!
//! Loading has two stages (STYLE.md rule 2). First each source is read into a
//! [`raw::RawConfig`]: the file named by `--config` (or `DROPLAKE_CONFIG`),
//! else `./droplake.toml`, else `/etc/droplake/droplake.toml`, and then the
//! `DROPLAKE_*` variables. Then [`Settings::load`] merges them over the
//! defaults, validates every value, and records where each one came from.
//! The rest of droplake only ever sees [`Settings`]. The daemon's keys
//! (`shutdown_timeout`, `metrics`, `[detect]`, readiness and retention of datasets,
//! `[[handlers]]`) are validated in `daemon.rs`.
//!
//! Relative paths in a file are relative to the file's directory; relative
//! paths from the environment or the defaults are relative to the working
//! directory. Settings hold absolute paths, so a later change of working
//! directory changes nothing.

mod daemon;
mod duration;
mod fixed;
mod raw;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use toml::Spanned;

pub use daemon::{COMMAND_PLACEHOLDERS, LOADER, MARKER_PLACEHOLDERS, placeholders};
pub use duration::{Duration, DurationError};
use raw::{RawConfig, RawDataset, RawFormat, RawOnError, RawTable, RawWriteMode};

use crate::exit::{ExitCode, HasExitCode};
use crate::formats::{Dialect, Format, ReadOptions, TextEncoding};
use crate::lake::{DatasetName, ObjectFilter};
use crate::warehouse::{LoadOptions, OnError, WriteMode};

/// Where droplake looks for its configuration when none is named.
pub const SEARCH_PATH: [&str; 2] = ["droplake.toml", "/etc/droplake/droplake.toml"];

/// The validated configuration droplake runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The lake directory (absolute).
    pub lake: PathBuf,
    /// The directory of Table Schema files (absolute).
    pub schemas: PathBuf,
    /// The warehouse database file (absolute).
    pub warehouse: PathBuf,
    /// Decides which files in the lake are objects; holds the ignore globs.
    pub filter: ObjectFilter,
    /// Datasets configured with `[datasets.NAME]`; others use the defaults.
    pub datasets: BTreeMap<DatasetName, DatasetSettings>,
    /// Tables configured with `[tables.NAME]`; others use the defaults.
    pub tables: BTreeMap<String, TableSettings>,
    /// How the daemon notices new files (`[detect]`).
    pub detect: DetectSettings,
    /// The handlers configured with `[[handlers]]`, in file order. The
    /// built-in loader is not listed unless a `[[handlers]]` entry named
    /// `loader` (without `command`) tunes it.
    pub handlers: Vec<HandlerSettings>,
    /// How long a stopping daemon waits for loads and handlers before it
    /// rolls back and kills them (`shutdown_timeout`, default 30s).
    pub shutdown_timeout: Duration,
    /// Where the daemon serves Prometheus metrics (`metrics`); `None`: it
    /// serves none.
    pub metrics: Option<SocketAddr>,
    /// The configuration file that was read, if any.
    pub file: Option<PathBuf>,
    /// Where each setting's value came from, by dotted key.
    pub origins: BTreeMap<String, Origin>,
}

/// How one dataset's objects are read and loaded.
#[derive(Debug, Clone, Default)]
pub struct DatasetSettings {
    /// The table its objects load into; `None`: the table named like it.
    pub table: Option<String>,
    /// How its files are read (format, dialect, encoding).
    pub read: ReadOptions,
    /// What a bad row does to its load.
    pub on_error: OnError,
    /// When a file is ready to be processed (`ready`, `settle`, `marker`).
    pub ready: Readiness,
    /// The order its objects are handed to handlers (`order`).
    pub order: Order,
    /// What happens to the same content under another name (`duplicates`).
    pub duplicates: Duplicates,
    /// Where receipts (`<name>.ack.json`, `<name>.nak.json`) are written
    /// (`receipts`, absolute); `None`: no receipts.
    pub receipts: Option<PathBuf>,
    /// How long objects stay in the lake after every handler is done with
    /// them (`retain`); `None`: forever.
    pub retain: Option<Duration>,
    /// Where retained objects are moved when their time is up (`archive`,
    /// absolute); `None` with `retain` set: they are deleted.
    pub archive: Option<PathBuf>,
}

/// When a file in a dataset is ready to be processed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// `ready = "settle"`: when it arrived by rename, was closed after
    /// writing, or its size and mtime have not changed for this long
    /// (`settle`, default 2s).
    Settle(Duration),
    /// `ready = "marker"`: when its marker file exists; the pattern names
    /// the marker (`marker`, default `{name}.done`; `{name}` is the file's
    /// name, `{stem}` the name without its last extension).
    Marker(String),
}

impl Default for Readiness {
    fn default() -> Self {
        Readiness::Settle(Duration::from(std::time::Duration::from_secs(2)))
    }
}

/// The order of a dataset's objects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Order {
    /// By modification time, then name (`order = "arrival"`).
    #[default]
    Arrival,
    /// By path, bytewise (`order = "name"`).
    Name,
    /// By the generation in GDG names such as `CUST.DAILY.G0042V00`
    /// (`order = "generation"`); with `gap_check`, later generations wait
    /// while one is missing.
    Generation { gap_check: bool },
}

/// What happens to an object whose content another object of the dataset
/// already has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Duplicates {
    /// Recorded as a duplicate of the first; no handler runs (`skip`).
    #[default]
    Skip,
    /// Handled like any other object (`process`).
    Process,
}

/// `[detect]`: how the daemon notices new files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectSettings {
    pub mode: DetectMode,
    /// The period of the reconciliation scan (`scan_interval`, default 60s).
    pub scan_interval: Duration,
    /// The period of polling, in poll mode or when watching failed
    /// (`poll_interval`, default 1s).
    pub poll_interval: Duration,
}

impl Default for DetectSettings {
    fn default() -> Self {
        DetectSettings {
            mode: DetectMode::Auto,
            scan_interval: Duration::from(std::time::Duration::from_secs(60)),
            poll_interval: Duration::from(std::time::Duration::from_secs(1)),
        }
    }
}

/// `[detect] mode`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DetectMode {
    /// Watch, plus the periodic reconciliation scan; poll if watching fails.
    #[default]
    Auto,
    /// Watch only (plus the startup scan and the scans overflow forces).
    Watch,
    /// Poll only.
    Poll,
}

/// One `[[handlers]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerSettings {
    /// Unique; `loader` is the built-in loader.
    pub name: String,
    /// The datasets it handles; empty: every dataset.
    pub datasets: Vec<DatasetName>,
    /// The argument vector; `None` only for the built-in loader. Arguments
    /// may hold `{path}`, `{dataset}`, `{object_id}` and `{sha256}`.
    pub command: Option<Vec<String>>,
    /// How long one attempt may run (`timeout`, default 5m).
    pub timeout: Duration,
    /// After the timeout's SIGTERM, how long until SIGKILL (`grace`, default 10s).
    pub grace: Duration,
    /// Attempts after the first before the job is dead (`retries`, default 5).
    pub retries: u32,
    /// Attempts running at once (`concurrency`, default 1).
    pub concurrency: usize,
    /// Handlers that must be done with an object before this one runs.
    pub after: Vec<String>,
    /// One object of a dataset at a time, in order; a failing one holds the
    /// later ones back (`ordered`, default false).
    pub ordered: bool,
    /// The first retry's delay, doubled each attempt (`backoff`, default 1s).
    pub backoff: Duration,
    /// The longest delay between attempts (`max_backoff`, default 10m).
    pub max_backoff: Duration,
}

impl HandlerSettings {
    /// A handler named `name` with every option at its default.
    pub fn new(name: &str) -> HandlerSettings {
        let seconds = |n| Duration::from(std::time::Duration::from_secs(n));
        HandlerSettings {
            name: name.to_owned(),
            datasets: Vec::new(),
            command: None,
            timeout: seconds(300),
            grace: seconds(10),
            retries: 5,
            concurrency: 1,
            after: Vec::new(),
            ordered: false,
            backoff: seconds(1),
            max_backoff: seconds(600),
        }
    }
}

/// How loads meet the rows already in one table.
#[derive(Debug, Clone, Copy, Default)]
pub struct TableSettings {
    pub write_mode: WriteMode,
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// droplake's embedded default.
    Default,
    /// A line of a configuration file.
    File { path: PathBuf, line: usize },
    /// An environment variable.
    Env { var: &'static str },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::File { path, line } => write!(f, "{}:{line}", path.display()),
            Origin::Env { var } => write!(f, "environment {var}"),
        }
    }
}

/// Where to find configuration: the explicitly named file, the files to try
/// otherwise, and the environment. [`Sources::from_process`] describes the
/// running process; tests build their own.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// A file named with `--config` or `DROPLAKE_CONFIG`; it must exist.
    pub explicit: Option<PathBuf>,
    /// Files tried in order when none is named; the first that exists is used.
    pub search: Vec<PathBuf>,
    /// The `DROPLAKE_*` environment variables.
    pub env: Vec<(String, OsString)>,
}

impl Sources {
    /// The sources of the running process: `explicit` from `--config`, else
    /// a non-empty `DROPLAKE_CONFIG`.
    pub fn from_process(explicit: Option<PathBuf>) -> Sources {
        let env: Vec<(String, OsString)> = std::env::vars_os()
            .filter_map(|(key, value)| Some((key.into_string().ok()?, value)))
            .filter(|(key, _)| key.starts_with("DROPLAKE_"))
            .collect();
        let from_env = env
            .iter()
            .find(|(key, value)| key == "DROPLAKE_CONFIG" && !value.is_empty())
            .map(|(_, value)| PathBuf::from(value));
        Sources {
            explicit: explicit.or(from_env),
            search: SEARCH_PATH.iter().map(PathBuf::from).collect(),
            env,
        }
    }
}

/// A configuration that cannot be used. It names the file and line, or the
/// environment variable, and says what is expected.
#[derive(Debug, thiserror::Error)]
#[error("{place}: {message}")]
pub struct ConfigError {
    /// Where the problem is: `file:line:column`, a file, or a variable.
    pub place: String,
    /// What is wrong and what is expected.
    pub message: String,
}

impl HasExitCode for ConfigError {
    fn exit_code(&self) -> ExitCode {
        ExitCode::Config
    }
}

/// A configuration file's text, kept to turn byte offsets into lines.
struct FileLayer {
    path: PathBuf,
    text: String,
    raw: RawConfig,
}

impl FileLayer {
    fn read(path: &Path) -> Result<FileLayer, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError {
            place: path.display().to_string(),
            message: format!("cannot read the configuration file: {error}"),
        })?;
        let raw = toml::from_str(&text).map_err(|error| {
            let offset = error.span().map_or(0, |span| span.start);
            // serde's words for TOML's: a key, an array, an integer.
            let message = error
                .message()
                .replace("unknown field", "unknown key")
                .replace("expected a sequence", "expected an array")
                .replace("expected i64", "expected an integer");
            let message = match raw::key_at(&text, offset) {
                Some(key) if !message.contains(&format!("`{key}`")) => {
                    format!("`{key}`: {message}")
                }
                _ => message,
            };
            ConfigError {
                place: place_in(path, &text, offset),
                message,
            }
        })?;
        Ok(FileLayer {
            path: path.to_path_buf(),
            text,
            raw,
        })
    }
}

/// `path:line:column` of byte `offset` in `text`.
fn place_in(path: &Path, text: &str, offset: usize) -> String {
    let (line, column) = line_column(text, offset);
    format!("{}:{line}:{column}", path.display())
}

/// The line and column (both counting from 1, columns in characters) of byte
/// `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |last| last.chars().count())
        + 1;
    (line, column)
}

/// The overrides found in the environment, and the variable behind each key.
struct EnvLayer {
    raw: RawConfig,
    vars: BTreeMap<&'static str, &'static str>,
}

impl EnvLayer {
    fn read(env: &[(String, OsString)]) -> Result<EnvLayer, ConfigError> {
        let mut layer = EnvLayer {
            raw: RawConfig::default(),
            vars: BTreeMap::new(),
        };
        for (name, value) in env {
            let Some(&(var, key)) = raw::ENV_SETTINGS.iter().find(|(var, _)| var == name) else {
                if !raw::ENV_OTHER.contains(&name.as_str()) {
                    tracing::warn!(
                        var = name,
                        "Ignoring an environment variable that is not a droplake setting."
                    );
                }
                continue;
            };
            let error = |message: String| ConfigError {
                place: format!("environment {var}"),
                message,
            };
            let value = value.to_str().ok_or_else(|| {
                error("is not valid UTF-8; droplake settings must be UTF-8 text".into())
            })?;
            // Environment values have no position; the span is empty.
            let spanned = |value| Some(Spanned::new(0..0, value));
            match key {
                "lake" => layer.raw.lake = spanned(value.to_owned()),
                "schemas" => layer.raw.schemas = spanned(value.to_owned()),
                "warehouse" => layer.raw.warehouse = spanned(value.to_owned()),
                "metrics" => {
                    let value = toml::Value::String(value.to_owned());
                    layer.raw.metrics = Some(Spanned::new(0..0, value));
                }
                "ignore" => {
                    let globs = env_list(value).map_err(error)?;
                    layer.raw.ignore = Some(Spanned::new(
                        0..0,
                        globs
                            .into_iter()
                            .map(|glob| Spanned::new(0..0, glob))
                            .collect(),
                    ));
                }
                _ => unreachable!("every key in ENV_SETTINGS is handled"),
            }
            layer.vars.insert(key, var);
        }
        Ok(layer)
    }
}

/// A list from the environment: a TOML array of strings, one item, or empty.
fn env_list(value: &str) -> Result<Vec<String>, String> {
    if value.trim().is_empty() {
        return Ok(Vec::new());
    }
    if !value.trim_start().starts_with('[') {
        return Ok(vec![value.to_owned()]);
    }
    #[derive(serde::Deserialize)]
    struct List {
        list: Vec<String>,
    }
    toml::from_str::<List>(&format!("list = {value}"))
        .map(|parsed| parsed.list)
        .map_err(|_| {
            format!(
                "{value:?} is not a TOML array of strings; write it like [\"*.bak\", \"*.old\"]"
            )
        })
}

impl FileLayer {
    /// Where byte `offset` of this file is, as an origin.
    fn origin(&self, offset: usize) -> Origin {
        Origin::File {
            path: self.path.clone(),
            line: line_column(&self.text, offset).0,
        }
    }

    /// An error about `key` at byte `offset` of this file.
    fn error_at(&self, key: &str, offset: usize, message: impl fmt::Display) -> ConfigError {
        ConfigError {
            place: place_in(&self.path, &self.text, offset),
            message: format!("`{key}`: {message}"),
        }
    }

    /// The absolute path `value` of `key` names: relative to this file's
    /// directory. An empty path is refused.
    fn path_of(&self, key: &str, value: &Spanned<String>) -> Result<PathBuf, ConfigError> {
        let error = |message: String| self.error_at(key, value.span().start, message);
        if value.get_ref().is_empty() {
            return Err(error("must not be empty; give a path".to_string()));
        }
        let base = self
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        std::path::absolute(base.join(value.get_ref()))
            .map_err(|problem| error(format!("cannot be made absolute: {problem}")))
    }
}

fn on_error_name(on_error: OnError) -> &'static str {
    match on_error {
        OnError::Continue => "continue",
        OnError::SkipFile => "skip_file",
        OnError::Abort => "abort",
    }
}

/// Validates `[datasets.NAME]` and records where each value came from.
fn dataset_settings(
    file: &FileLayer,
    name: &str,
    raw: &RawDataset,
    origins: &mut BTreeMap<String, Origin>,
) -> Result<DatasetSettings, ConfigError> {
    let mut settings = DatasetSettings::default();
    let mut format_origins = BTreeMap::new();
    let mut note = |key: &str, offset: usize| {
        origins.insert(format!("datasets.{name}.{key}"), file.origin(offset));
    };
    if let Some(table) = &raw.table {
        note("table", table.span().start);
        settings.table = Some(table.get_ref().clone());
    }
    if let Some(format) = &raw.format {
        note("format", format.span().start);
        let key = format!("datasets.{name}.format");
        match format.get_ref() {
            RawFormat::Name(text) if text.eq_ignore_ascii_case("fixed") => {
                return Err(file.error_at(
                    &key,
                    format.span().start,
                    "a fixed-width format needs its copybook: write format = { type = \"fixed\", copybook = \"copybooks/cust.cpy\", recfm = \"F\", lrecl = 200, encoding = \"cp037\" }",
                ));
            }
            RawFormat::Name(text) => {
                let parsed = text.parse::<Format>();
                settings.read.format =
                    Some(parsed.map_err(|error| file.error_at(&key, format.span().start, error))?);
            }
            RawFormat::Fixed(fixed) => {
                settings.read.format = Some(Format::Fixed);
                settings.read.fixed = Some(fixed::layout(
                    file,
                    name,
                    fixed,
                    format.span().start,
                    &mut format_origins,
                )?);
            }
        }
    }
    if let Some(encoding) = &raw.encoding {
        note("encoding", encoding.span().start);
        let parsed = encoding.get_ref().parse::<TextEncoding>();
        settings.read.encoding = parsed.map_err(|error| {
            file.error_at(
                &format!("datasets.{name}.encoding"),
                encoding.span().start,
                error,
            )
        })?;
    }
    if let Some(dialect) = &raw.dialect {
        note("dialect", dialect.span().start);
        let key = format!("datasets.{name}.dialect");
        let loaded = match dialect.get_ref() {
            toml::Value::String(path) => {
                let base = file.path.parent().map(Path::to_path_buf).unwrap_or_default();
                Dialect::from_file(&base.join(path)).map_err(|error| error.to_string())
            }
            toml::Value::Table(table) => serde_json::to_string(table)
                .map_err(|error| error.to_string())
                .and_then(|json| Dialect::from_json(&json, &key).map_err(|error| error.to_string())),
            _ => Err("expected the path of a Table Dialect JSON file, or an inline table such as { delimiter = \";\" }".to_string()),
        };
        settings.read.dialect =
            loaded.map_err(|message| file.error_at(&key, dialect.span().start, message))?;
    }
    if let Some(on_error) = &raw.on_error {
        note("on_error", on_error.span().start);
        settings.on_error = match on_error.get_ref() {
            RawOnError::Continue => OnError::Continue,
            RawOnError::SkipFile => OnError::SkipFile,
            RawOnError::Abort => OnError::Abort,
        };
    }
    origins.extend(format_origins);
    daemon::dataset_lifecycle(file, name, raw, &mut settings, origins)?;
    Ok(settings)
}

/// Validates `[tables.NAME]` and records where each value came from.
fn table_settings(
    file: &FileLayer,
    name: &str,
    raw: &RawTable,
    origins: &mut BTreeMap<String, Origin>,
) -> TableSettings {
    let mut settings = TableSettings::default();
    if let Some(mode) = &raw.write_mode {
        origins.insert(
            format!("tables.{name}.write_mode"),
            file.origin(mode.span().start),
        );
        settings.write_mode = match mode.get_ref() {
            RawWriteMode::Append => WriteMode::Append,
            RawWriteMode::Upsert => WriteMode::Upsert,
        };
    }
    settings
}

/// A value chosen for one key, before validation.
struct Chosen<T> {
    value: T,
    origin: Origin,
    /// Resolves a relative path: the file's directory for file values.
    base: PathBuf,
}

/// The layers in order of precedence: environment, then file, then default.
struct Merge<'a> {
    file: Option<&'a FileLayer>,
    env: &'a EnvLayer,
}

impl Merge<'_> {
    fn choose<T: Clone>(
        &self,
        key: &'static str,
        pick: fn(&RawConfig) -> &Option<Spanned<T>>,
        default: T,
    ) -> Chosen<T> {
        if let (Some(value), Some(&var)) = (pick(&self.env.raw), self.env.vars.get(key)) {
            return Chosen {
                value: value.get_ref().clone(),
                origin: Origin::Env { var },
                base: PathBuf::new(),
            };
        }
        if let Some(file) = self.file
            && let Some(value) = pick(&file.raw)
        {
            let line = line_column(&file.text, value.span().start).0;
            let origin = Origin::File {
                path: file.path.clone(),
                line,
            };
            let base = file
                .path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            return Chosen {
                value: value.get_ref().clone(),
                origin,
                base,
            };
        }
        Chosen {
            value: default,
            origin: Origin::Default,
            base: PathBuf::new(),
        }
    }

    /// An error about `key`, placed at byte `offset` of the file when the
    /// value came from one, else at its environment variable.
    fn error(
        &self,
        key: &str,
        origin: &Origin,
        offset: usize,
        message: impl fmt::Display,
    ) -> ConfigError {
        let place = match (origin, self.file) {
            (Origin::File { .. }, Some(file)) => place_in(&file.path, &file.text, offset),
            (origin, _) => origin.to_string(),
        };
        ConfigError {
            place,
            message: format!("`{key}`: {message}"),
        }
    }

    /// The byte offset of `key`'s value in the file, for messages.
    fn offset<T>(&self, pick: fn(&RawConfig) -> &Option<Spanned<T>>) -> usize {
        self.file
            .and_then(|file| pick(&file.raw).as_ref())
            .map_or(0, |value| value.span().start)
    }
}

impl Settings {
    /// Reads and validates the configuration from `sources`.
    pub fn load(sources: &Sources) -> Result<Settings, ConfigError> {
        let path = match &sources.explicit {
            Some(path) => match std::fs::metadata(path) {
                Ok(metadata) if metadata.is_file() => Some(path.clone()),
                Ok(_) => {
                    return Err(ConfigError {
                        place: path.display().to_string(),
                        message: "is not a file; name a droplake.toml file".into(),
                    });
                }
                Err(error) => {
                    return Err(ConfigError {
                        place: path.display().to_string(),
                        message: format!(
                            "cannot open the configuration file ({error}); check the --config path or DROPLAKE_CONFIG"
                        ),
                    });
                }
            },
            None => sources.search.iter().find(|path| path.is_file()).cloned(),
        };
        let file = path.as_deref().map(FileLayer::read).transpose()?;
        let env = EnvLayer::read(&sources.env)?;
        let layers = Merge {
            file: file.as_ref(),
            env: &env,
        };

        let mut origins = BTreeMap::new();
        let mut path_setting =
            |key: &'static str, pick: fn(&RawConfig) -> &Option<Spanned<String>>, default: &str| {
                let chosen = layers.choose(key, pick, default.to_owned());
                let place =
                    |message: &str| layers.error(key, &chosen.origin, layers.offset(pick), message);
                if chosen.value.is_empty() {
                    return Err(place("must not be empty; give a path"));
                }
                let path = std::path::absolute(chosen.base.join(&chosen.value))
                    .map_err(|error| place(&format!("cannot be made absolute: {error}")))?;
                origins.insert(key.to_string(), chosen.origin);
                Ok(path)
            };
        let lake = path_setting("lake", |raw| &raw.lake, "./lake")?;
        let schemas = path_setting("schemas", |raw| &raw.schemas, "./warehouse-schema")?;
        let warehouse = path_setting("warehouse", |raw| &raw.warehouse, "./warehouse.db")?;

        let ignore = layers.choose("ignore", |raw| &raw.ignore, Vec::new());
        let patterns: Vec<String> = ignore
            .value
            .iter()
            .map(|glob| glob.get_ref().clone())
            .collect();
        let filter = ObjectFilter::new(&patterns).map_err(|error| {
            let offset = ignore
                .value
                .get(error.index)
                .map_or(0, |glob| glob.span().start);
            layers.error("ignore", &ignore.origin, offset, error)
        })?;
        origins.insert("ignore".to_string(), ignore.origin);

        let metrics = layers.choose("metrics", |raw| &raw.metrics, daemon::metrics_off());
        let offset = layers.offset(|raw| &raw.metrics);
        let metrics_address = daemon::metrics_address(&metrics.value)
            .map_err(|message| layers.error("metrics", &metrics.origin, offset, message))?;
        origins.insert("metrics".to_string(), metrics.origin);

        let mut datasets = BTreeMap::new();
        let mut tables = BTreeMap::new();
        let mut shutdown_timeout = daemon::default_shutdown_timeout();
        let mut detect = DetectSettings::default();
        let mut handlers = Vec::new();
        if let Some(file) = &file {
            shutdown_timeout = daemon::shutdown_timeout(file, &mut origins);
            detect = daemon::detect_settings(file, &mut origins)?;
            for (name, raw) in file.raw.datasets.iter().flatten() {
                let offset = raw.span().start;
                let dataset = DatasetName::new(name)
                    .map_err(|error| file.error_at(&format!("datasets.{name}"), offset, error))?;
                let settings = dataset_settings(file, name, raw.get_ref(), &mut origins)?;
                // Receipts or archived files inside the lake would come
                // back as new objects.
                for (key, dir) in [
                    ("receipts", &settings.receipts),
                    ("archive", &settings.archive),
                ] {
                    if let Some(dir) = dir
                        && dir.starts_with(&lake)
                    {
                        return Err(file.error_at(
                            &format!("datasets.{name}.{key}"),
                            offset,
                            format!(
                                "the {key} directory {} is inside the lake {}, where its files would become objects; choose a directory outside it",
                                dir.display(),
                                lake.display()
                            ),
                        ));
                    }
                }
                datasets.insert(dataset, settings);
            }
            for (name, raw) in file.raw.tables.iter().flatten() {
                tables.insert(
                    name.clone(),
                    table_settings(file, name, raw.get_ref(), &mut origins),
                );
            }
            handlers = daemon::handler_settings(file, &mut origins)?;
        }

        Ok(Settings {
            lake,
            schemas,
            warehouse,
            filter,
            datasets,
            tables,
            detect,
            handlers,
            shutdown_timeout,
            metrics: metrics_address,
            file: path,
            origins,
        })
    }

    /// The settings of `dataset`: configured, or the defaults.
    pub fn dataset(&self, dataset: &DatasetName) -> DatasetSettings {
        self.datasets.get(dataset).cloned().unwrap_or_default()
    }

    /// When `dataset`'s files are ready; asked for every file a scan sees,
    /// so it copies only the readiness, not the whole dataset's settings.
    pub fn readiness(&self, dataset: &DatasetName) -> Readiness {
        self.datasets
            .get(dataset)
            .map_or_else(Readiness::default, |settings| settings.ready.clone())
    }

    /// The table `dataset` loads into.
    pub fn table_of(&self, dataset: &DatasetName) -> String {
        self.datasets
            .get(dataset)
            .and_then(|settings| settings.table.clone())
            .unwrap_or_else(|| dataset.to_string())
    }

    /// How a load of `dataset` into `table` behaves.
    pub fn load_options(&self, dataset: &DatasetName, table: &str) -> LoadOptions {
        LoadOptions {
            on_error: self.dataset(dataset).on_error,
            mode: self
                .tables
                .get(table)
                .map(|settings| settings.write_mode)
                .unwrap_or_default(),
            force: false,
        }
    }

    /// Every setting with its value and origin, in the order a file lists
    /// them; keys are dotted (`datasets.orders.on_error`). Handlers come
    /// last, in file order, each under `handlers.NAME.KEY` starting with
    /// its `name`; KEY never holds a dot, though NAME may.
    pub fn report(&self) -> Vec<(String, toml::Value, Origin)> {
        let path = |path: &Path| toml::Value::String(path.display().to_string());
        let globs = self
            .filter
            .patterns()
            .iter()
            .map(|glob| toml::Value::String(glob.clone()))
            .collect();
        let values = [
            ("lake", path(&self.lake)),
            ("schemas", path(&self.schemas)),
            ("warehouse", path(&self.warehouse)),
            ("ignore", toml::Value::Array(globs)),
            (
                "shutdown_timeout",
                toml::Value::String(self.shutdown_timeout.to_string()),
            ),
        ];
        let text = |value: &str| toml::Value::String(value.to_string());
        let mut report: Vec<(String, toml::Value, Origin)> = Vec::new();
        let mut push = |key: String, value: toml::Value| {
            let origin = self.origins.get(&key).cloned().unwrap_or(Origin::Default);
            report.push((key, value, origin));
        };
        for (key, value) in values {
            push(key.to_string(), value);
        }
        if let Some(address) = self.metrics {
            push("metrics".to_string(), text(&address.to_string()));
        }
        for (key, value) in daemon::report_detect(&self.detect) {
            push(format!("detect.{key}"), value);
        }
        for (name, dataset) in &self.datasets {
            let mut entry =
                |key: &str, value: toml::Value| push(format!("datasets.{name}.{key}"), value);
            entry(
                "table",
                text(dataset.table.as_deref().unwrap_or(name.as_str())),
            );
            match (&dataset.read.fixed, dataset.read.format) {
                (Some(layout), _) => {
                    for (key, value) in fixed::report(layout) {
                        entry(&format!("format.{key}"), value);
                    }
                }
                (None, Some(format)) => entry("format", text(format.name())),
                (None, None) => {}
            }
            if dataset.read.fixed.is_none() {
                entry("encoding", text(&dataset.read.encoding.to_string()));
            }
            entry("on_error", text(on_error_name(dataset.on_error)));
            for (key, value) in daemon::report_dataset(dataset) {
                entry(key, value);
            }
        }
        for (name, table) in &self.tables {
            let mode = match table.write_mode {
                WriteMode::Append => "append",
                WriteMode::Upsert => "upsert",
            };
            push(format!("tables.{name}.write_mode"), text(mode));
        }
        for handler in &self.handlers {
            for (key, value) in daemon::report_handler(handler) {
                push(format!("handlers.{}.{key}", handler.name), value);
            }
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(dir: &Path, explicit: Option<&str>, env: &[(&str, &str)]) -> Sources {
        Sources {
            explicit: explicit.map(|name| dir.join(name)),
            search: vec![dir.join("droplake.toml"), dir.join("etc-droplake.toml")],
            env: env
                .iter()
                .map(|(key, value)| (key.to_string(), OsString::from(value)))
                .collect(),
        }
    }

    #[test]
    fn the_first_file_of_the_search_path_that_exists_is_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("etc-droplake.toml"),
            "warehouse = \"system.db\"\n",
        )
        .expect("write");
        let settings = Settings::load(&sources(dir.path(), None, &[])).expect("load");
        assert_eq!(
            settings.file.as_deref(),
            Some(dir.path().join("etc-droplake.toml").as_path())
        );
        assert_eq!(settings.warehouse, dir.path().join("system.db"));

        std::fs::write(
            dir.path().join("droplake.toml"),
            "warehouse = \"local.db\"\n",
        )
        .expect("write");
        let settings = Settings::load(&sources(dir.path(), None, &[])).expect("load");
        assert_eq!(settings.warehouse, dir.path().join("local.db"));
        assert_eq!(
            settings.origins["warehouse"],
            Origin::File {
                path: dir.path().join("droplake.toml"),
                line: 1
            }
        );
    }

    #[test]
    fn with_nothing_found_the_embedded_defaults_apply() {
        let dir = tempfile::tempdir().expect("tempdir");
        let settings = Settings::load(&sources(dir.path(), None, &[])).expect("load");
        assert_eq!(settings.file, None);
        let here = std::env::current_dir().expect("cwd");
        assert_eq!(settings.lake, here.join("lake"));
        assert_eq!(settings.schemas, here.join("warehouse-schema"));
        assert_eq!(settings.warehouse, here.join("warehouse.db"));
        assert!(settings.filter.patterns().is_empty());
        assert!(
            settings
                .report()
                .iter()
                .all(|(_, _, origin)| *origin == Origin::Default)
        );
    }

    #[test]
    fn environment_values_are_taken_literally_and_relative_to_the_working_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("droplake.toml"), "lake = \"in-file\"\n").expect("write");
        let env = [
            ("DROPLAKE_LAKE", "relative/lake"),
            ("DROPLAKE_IGNORE", "{a,b}.bak"),
            ("DROPLAKE_UNRELATED", "x"),
        ];
        let settings = Settings::load(&sources(dir.path(), None, &env)).expect("load");
        assert_eq!(
            settings.lake,
            std::env::current_dir().expect("cwd").join("relative/lake")
        );
        assert_eq!(
            settings.origins["lake"],
            Origin::Env {
                var: "DROPLAKE_LAKE"
            }
        );
        assert_eq!(settings.filter.patterns(), ["{a,b}.bak"]);
    }

    #[test]
    fn datasets_and_tables_take_their_own_settings() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("semicolon.json"), r#"{"delimiter": ";"}"#)
            .expect("dialect");
        let text = r#"
[datasets.orders]
format = "csv"
encoding = "latin1"
dialect = "semicolon.json"
on_error = "skip_file"

[datasets.eu-sales]
table = "sales"
dialect = { delimiter = "|", header = false }

[tables.sales]
write_mode = "upsert"
"#;
        std::fs::write(dir.path().join("droplake.toml"), text).expect("write");
        let settings = Settings::load(&sources(dir.path(), None, &[])).expect("load");
        let orders = DatasetName::new("orders").expect("name");
        let sales = DatasetName::new("eu-sales").expect("name");
        let dataset = settings.dataset(&orders);
        assert_eq!(dataset.read.format, Some(Format::Csv));
        assert_eq!(dataset.read.dialect.delimiter, Some(b';'));
        assert_eq!(dataset.read.encoding.to_string(), "windows-1252");
        assert_eq!(dataset.on_error, OnError::SkipFile);
        assert_eq!(settings.table_of(&orders), "orders");
        assert_eq!(settings.table_of(&sales), "sales");
        assert_eq!(settings.dataset(&sales).read.dialect.delimiter, Some(b'|'));
        assert!(!settings.dataset(&sales).read.dialect.header);
        assert_eq!(
            settings.load_options(&sales, "sales").mode,
            WriteMode::Upsert
        );
        assert_eq!(
            settings.load_options(&orders, "orders").mode,
            WriteMode::Append
        );
        let origin = Origin::File {
            path: dir.path().join("droplake.toml"),
            line: 6,
        };
        assert_eq!(settings.origins["datasets.orders.on_error"], origin);
    }

    #[test]
    fn bad_dataset_settings_are_refused_with_their_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cases = [
            (
                "[datasets.orders]\non_error = \"ignore\"\n",
                ":2:12: `datasets.orders.on_error`: unknown variant `ignore`",
            ),
            (
                "[datasets.orders]\nformat = \"xml\"\n",
                ":2:10: `datasets.orders.format`: unknown format `xml`",
            ),
            (
                "[datasets.orders]\nsettel = \"2s\"\n",
                ":2:1: `datasets.orders.settel`: unknown key `settel`",
            ),
            (
                "[datasets.\"bad name\"]\ntable = \"x\"\n",
                "`datasets.bad name`: 'bad name' contains ' '",
            ),
            (
                "[tables.t]\nwrite_mode = \"merge\"\n",
                ":2:14: `tables.t.write_mode`: unknown variant `merge`",
            ),
        ];
        for (text, expected) in cases {
            std::fs::write(dir.path().join("droplake.toml"), text).expect("write");
            let error = Settings::load(&sources(dir.path(), None, &[]))
                .expect_err(text)
                .to_string();
            assert!(error.contains(expected), "{text:?}: {error}");
        }
    }

    const COPYBOOK: &str = "       01  DETAIL-REC.
           05  REC-TYPE   PIC X.
           05  CUST-ID    PIC 9(6).
           05  BALANCE    PIC S9(7)V99 COMP-3.
       01  TRAILER-REC.
           05  TRL-TYPE   PIC X.
           05  TRL-COUNT  PIC 9(9).
           05  FILLER     PIC X(2).
";

    #[test]
    fn a_fixed_width_format_is_read_with_its_copybook_and_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("copybooks")).expect("mkdir");
        std::fs::write(dir.path().join("copybooks/cust.cpy"), COPYBOOK).expect("copybook");
        let text = r#"
[datasets.cust.format]
type = "fixed"
copybook = "copybooks/cust.cpy"
record = "DETAIL-REC"
recfm = "FB"
lrecl = 12
encoding = "cp500"
record_type = "REC-TYPE"
routes = { D = "DETAIL-REC", T = "TRAILER-REC" }
trailer = "T"
count = "TRL-COUNT"
"#;
        std::fs::write(dir.path().join("droplake.toml"), text).expect("write");
        let settings = Settings::load(&sources(dir.path(), None, &[])).expect("load");
        let cust = settings.dataset(&DatasetName::new("cust").expect("name"));
        assert_eq!(cust.read.format, Some(Format::Fixed));
        let layout = cust.read.fixed.as_ref().expect("a layout");
        assert_eq!(layout.labels(), ["rec_type", "cust_id", "balance"]);
        assert_eq!(layout.lrecl(), Some(12));
        let report = settings.report();
        let value = |key: &str| {
            report
                .iter()
                .find(|(name, _, _)| name == key)
                .map(|(_, value, origin)| (value.to_string(), origin.to_string()))
        };
        let file = dir.path().join("droplake.toml").display().to_string();
        assert_eq!(
            value("datasets.cust.format.encoding"),
            Some(("\"cp500\"".into(), format!("{file}:8")))
        );
        assert_eq!(
            value("datasets.cust.format.routes").map(|(value, _)| value),
            Some(r#"{ D = "DETAIL-REC", T = "TRAILER-REC" }"#.into())
        );
        assert_eq!(
            value("datasets.cust.format.count_includes").map(|(value, _)| value),
            Some("\"details\"".into())
        );
    }

    #[test]
    fn a_bad_fixed_width_format_is_placed_by_line_and_column() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("cust.cpy"), COPYBOOK).expect("copybook");
        std::fs::write(
            dir.path().join("broken.cpy"),
            "01 R.\n   05 A PIC X(3)\n   05 B PIC 9.\n",
        )
        .expect("copybook");
        let head = "[datasets.cust]\nformat = { type = \"fixed\", copybook = \"cust.cpy\", ";
        let cases = [
            (
                format!("{head}recfm = \"U\" }}\n"),
                ":2:59: `datasets.cust.format.recfm`: unknown record format \"U\"",
            ),
            (
                format!("{head}recfm = \"F\", lrecl = 4 }}\n"),
                ":2:72: `datasets.cust.format.lrecl`: 4 is shorter than the 12 bytes",
            ),
            (
                format!("{head}record_type = \"REC-TYPE\", routes = {{ D = \"NOPE\" }} }}\n"),
                ":2:92: `datasets.cust.format.routes`: \"D\": the copybook",
            ),
            (
                format!("{head}count = \"TRL-COUNT\" }}\n"),
                ":2:59: `datasets.cust.format.count`: needs trailer",
            ),
            (
                format!("{head}lrecel = 12 }}\n"),
                ":2:51: `datasets.cust.format.lrecel`: unknown key `lrecel`",
            ),
            (
                "[datasets.cust]\nformat = \"fixed\"\n".to_string(),
                ":2:10: `datasets.cust.format`: a fixed-width format needs its copybook",
            ),
            (
                "[datasets.cust]\nformat = { type = \"fixed\", copybook = \"broken.cpy\" }\n"
                    .to_string(),
                "broken.cpy:3:4: expected a period",
            ),
        ];
        for (text, expected) in cases {
            std::fs::write(dir.path().join("droplake.toml"), &text).expect("write");
            let error = Settings::load(&sources(dir.path(), None, &[]))
                .expect_err(&text)
                .to_string();
            assert!(error.contains(expected), "{text:?}: {error}");
        }
        let error = Settings::load(&sources(dir.path(), None, &[]))
            .expect_err("broken")
            .to_string();
        assert!(
            error.contains("it is the copybook of `datasets.cust.format.copybook`"),
            "{error}"
        );
    }

    #[test]
    fn the_environment_sets_or_turns_off_the_metrics_endpoint() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("droplake.toml"), "metrics = 9464\n").expect("write");
        let load = |value: &str| {
            Settings::load(&sources(dir.path(), None, &[("DROPLAKE_METRICS", value)]))
        };
        let settings = load("[::1]:9100").expect("load");
        assert_eq!(
            settings.metrics,
            Some("[::1]:9100".parse().expect("address"))
        );
        assert_eq!(
            settings.origins["metrics"],
            Origin::Env {
                var: "DROPLAKE_METRICS"
            }
        );
        assert_eq!(
            load("9200").expect("load").metrics,
            Some("127.0.0.1:9200".parse().expect("address"))
        );
        assert_eq!(load("").expect("load").metrics, None);
        let error = load("nine").expect_err("not an address");
        assert!(
            error
                .to_string()
                .starts_with("environment DROPLAKE_METRICS: `metrics`: \"nine\" is not an address"),
            "{error}"
        );
    }

    #[test]
    fn a_setting_from_the_environment_must_be_utf8() {
        use std::os::unix::ffi::OsStringExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let mut sources = sources(dir.path(), None, &[]);
        sources.env.push((
            "DROPLAKE_LAKE".into(),
            OsString::from_vec(b"/tmp/\xff".to_vec()),
        ));
        let error = Settings::load(&sources).expect_err("not UTF-8");
        assert_eq!(
            error.to_string(),
            "environment DROPLAKE_LAKE: is not valid UTF-8; droplake settings must be UTF-8 text"
        );
    }

    #[test]
    fn a_named_file_that_is_a_directory_is_refused_as_such() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("conf.d")).expect("mkdir");
        let error =
            Settings::load(&sources(dir.path(), Some("conf.d"), &[])).expect_err("a directory");
        assert!(error.message.contains("is not a file"), "{error}");
        let error =
            Settings::load(&sources(dir.path(), Some("nope.toml"), &[])).expect_err("missing");
        assert!(error.message.contains("No such file"), "{error}");
    }

    #[test]
    fn a_bad_value_deep_in_a_file_is_placed_by_line_and_column() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("droplake.toml"),
            "# café\nignore = [\"ok\", \"[bad\"]\n",
        )
        .expect("write");
        let error = Settings::load(&sources(dir.path(), None, &[])).expect_err("bad glob");
        assert_eq!(
            error.place,
            format!("{}:2:17", dir.path().join("droplake.toml").display())
        );
        assert!(
            error
                .message
                .starts_with("`ignore`: ignore glob '[bad' is not valid"),
            "{}",
            error.message
        );
    }

    #[test]
    fn line_and_column_count_characters_from_one() {
        assert_eq!(line_column("ab\ncé = 1", 0), (1, 1));
        assert_eq!(line_column("ab\ncé = 1", 3), (2, 1));
        assert_eq!(line_column("ab\ncé = 1", 6), (2, 3));
        assert_eq!(line_column("ab", 99), (1, 3));
    }
}
