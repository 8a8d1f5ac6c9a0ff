//! `droplake why`: which of the daemon's gates holds a file in the lake.
//!
//! Asked from outside the daemon, which may not be running: the answer is
//! decided from the file (its metadata, and its hash when that matters),
//! the configuration and the ledger, by the functions the daemon itself
//! decides with: the object filter, the marker rule, settling by age,
//! hashing a stable file, the ledger's duplicate rule, the marker check and
//! the handlers a dataset gets. The gates are asked in the daemon's order:
//! is it an object at all, is it the file of a registered object, would
//! anything run, is it ready, is its content new, would it be refused.
//!
//! A settling file's time is the daemon's rule for a file first seen by a
//! scan (its mtime plus `settle`; for an mtime in the future, `settle` from
//! first sight); a watching daemon that saw it arrive complete may take it
//! sooner. Reasons and hints are sentences for people (`cli::output`
//! writes their times and durations); details are for programs. Handlers a program embedding droplake
//! registers in Rust are not known here.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rusqlite::Connection;
use serde_json::{Map, Value, json};

use super::{InspectError, ObjectState};
use crate::cli::output::{duration, json_time, time_of};
use crate::config::{Duplicates, Order, Readiness, Settings};
use crate::daemon::generations::{self, Generation};
use crate::daemon::ready::{age, is_marker, marker_for, settled_by_age};
use crate::daemon::registry::Registry;
use crate::daemon::{Hashed, Holder, check_marker, hash_stable, running};
use crate::detect::scan::{self, Seen, Stat};
use crate::events;
use crate::lake::{DatasetName, Ignored};
use crate::warehouse::WarehouseError;
use crate::warehouse::ledger::{self, JobRow, JobState, ObjectRow};

/// Where a file stands; see docs/inspect.md for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    OutsideLake,
    Missing,
    NotAFile,
    NoDataset,
    Ignored,
    Marker,
    Unhandled,
    NoMarker,
    Settling,
    Unreadable,
    MarkerMismatch,
    Duplicate,
    Ready,
    Waiting,
    HeldBack,
    GenerationGap,
    InProgress,
    Retry,
    Dead,
    Done,
    Failed,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::OutsideLake => "outside_lake",
            State::Missing => "missing",
            State::NotAFile => "not_a_file",
            State::NoDataset => "no_dataset",
            State::Ignored => "ignored",
            State::Marker => "marker",
            State::Unhandled => "unhandled",
            State::NoMarker => "no_marker",
            State::Settling => "settling",
            State::Unreadable => "unreadable",
            State::MarkerMismatch => "marker_mismatch",
            State::Duplicate => "duplicate",
            State::Ready => "ready",
            State::Waiting => "waiting",
            State::HeldBack => "held_back",
            State::GenerationGap => "generation_gap",
            State::InProgress => "in_progress",
            State::Retry => "retry",
            State::Dead => "dead",
            State::Done => "done",
            State::Failed => "failed",
        }
    }

    /// Whether the daemon is finished with the file: nothing holds it.
    pub fn is_final(self) -> bool {
        matches!(self, State::Done | State::Failed | State::Duplicate)
    }
}

/// The answer: a state, one sentence saying why, what to do about it,
/// and the details (for `--json`).
#[derive(Debug, Clone)]
pub struct Explanation {
    pub state: State,
    pub reason: String,
    /// Sentences for people: what follows, or what to do.
    pub hints: Vec<String>,
    pub details: Map<String, Value>,
}

impl Explanation {
    fn new(state: State, reason: impl Into<String>) -> Explanation {
        Explanation {
            state,
            reason: reason.into(),
            hints: Vec::new(),
            details: Map::new(),
        }
    }

    fn with(mut self, key: &str, value: impl Into<Value>) -> Explanation {
        self.details.insert(key.to_owned(), value.into());
        self
    }

    fn hint(mut self, hint: impl Into<String>) -> Explanation {
        self.hints.push(hint.into());
        self
    }
}

/// Explains the file at `file` (absolute); `relative` is its path relative
/// to the lake, `None` when it lies outside. `ledger` is `None` when the
/// warehouse does not exist yet (nothing was ever registered).
pub fn explain(
    settings: &Settings,
    ledger: Option<&Connection>,
    file: &Path,
    relative: Option<&Path>,
) -> Result<Explanation, InspectError> {
    let asking = Asking {
        settings,
        ledger,
        file,
        daemon: running(&settings.warehouse),
    };
    let sql = |error| WarehouseError::from_sqlite(&settings.warehouse, error);
    let mut explanation = match relative {
        None => Ok(Explanation::new(
            State::OutsideLake,
            format!("it is not inside the lake {}", settings.lake.display()),
        )
        .with("lake", settings.lake.to_string_lossy())),
        Some(relative) => asking.gates(relative),
    }
    .map_err(|error| match error {
        Asked::Sql(error) => InspectError::Warehouse(sql(error)),
        Asked::Schema(error) => InspectError::Schema(error),
    })?;
    explanation
        .details
        .insert("file".into(), file.to_string_lossy().into());
    explanation.details.insert(
        "daemon".into(),
        json!({
            "running": asking.daemon.is_some(),
            "pid": asking.daemon.as_ref().and_then(|holder| holder.pid),
            "mode": asking.daemon.as_ref().map(Holder::mode),
        }),
    );
    Ok(explanation)
}

/// What can stop an answer.
enum Asked {
    Sql(rusqlite::Error),
    Schema(crate::schema::SchemaError),
}

impl From<rusqlite::Error> for Asked {
    fn from(error: rusqlite::Error) -> Asked {
        Asked::Sql(error)
    }
}

struct Asking<'a> {
    settings: &'a Settings,
    ledger: Option<&'a Connection>,
    file: &'a Path,
    daemon: Option<Holder>,
}

impl Asking<'_> {
    /// The gates, in the daemon's order.
    fn gates(&self, relative: &Path) -> Result<Explanation, Asked> {
        let metadata = match std::fs::symlink_metadata(self.file) {
            Ok(metadata) => metadata,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return self.missing(relative);
            }
            Err(error) => {
                return Ok(Explanation::new(
                    State::Unreadable,
                    format!("it cannot be looked at: {error}"),
                )
                .with("error", error.to_string()));
            }
        };
        if let Some(passed_over) = passed_over(relative, &metadata, self.settings) {
            return Ok(passed_over);
        }
        let Some(dataset) = scan::dataset_of(relative) else {
            return Ok(Explanation::new(
                State::NoDataset,
                "its top directory is not a dataset: its name is not valid UTF-8",
            ));
        };
        let stat = Stat::of(&metadata);
        let seen = Seen {
            dataset: dataset.clone(),
            relative: relative.to_path_buf(),
            path: self.file.to_path_buf(),
            stat,
        };
        let rule = self.settings.readiness(&dataset);
        if let Readiness::Marker(pattern) = &rule
            && is_marker(relative, pattern)
        {
            return self.marker_of(&dataset, pattern);
        }
        let raw = relative.as_os_str().as_bytes();
        let newest = match self.ledger {
            Some(ledger) => ledger::newest_at(ledger, dataset.as_str(), raw)?,
            None => None,
        };
        // The daemon knows a file by its newest object's size, mtime, inode.
        if let (Some(ledger), Some(object)) = (self.ledger, &newest)
            && (object.size, object.mtime_ns, object.inode)
                == (stat.size, stat.mtime_ns, stat.inode)
        {
            return self.registered(ledger, object);
        }
        self.unregistered(seen, &rule, newest.as_ref())
    }

    /// A file that is an object and not registered as it is: would
    /// anything run, is it ready, is its content new, would it be refused.
    /// A gate that holds it names the path's earlier object, if any.
    fn unregistered(
        &self,
        seen: Seen,
        rule: &Readiness,
        newest: Option<&ObjectRow>,
    ) -> Result<Explanation, Asked> {
        let (dataset, stat) = (seen.dataset.clone(), seen.stat);
        let raw = seen.relative.as_os_str().as_bytes().to_vec();
        let previous = match (self.ledger, newest) {
            (Some(ledger), Some(object)) => {
                let fate = ledger::fate(ledger, object.id)?;
                Some((object.id, self.object_state(ledger, object.id, &fate)?))
            }
            _ => None,
        };
        let previous = previous.as_ref();
        if let Some(held) = self.nothing_would_run(&dataset)? {
            return Ok(with_previous(held, previous));
        }
        if let Some(held) = self.not_ready(rule, stat) {
            return Ok(with_previous(held, previous));
        }
        let sha256 = match self.content(seen, previous)? {
            Content::Hashed(sha256) => sha256,
            Content::Held(held) => return Ok(held),
        };
        if let Some(ledger) = self.ledger {
            // Touched, or restored: the same content is the same object.
            if let Some(object) = ledger::find(ledger, dataset.as_str(), &raw, &sha256)? {
                return self.registered(ledger, &object);
            }
            if let Some(held) = self.duplicate_content(ledger, &dataset, &raw, &sha256)? {
                return Ok(with_previous(held, previous));
            }
        }
        if let Some(held) = self.marker_refuses(rule, stat, &sha256) {
            return Ok(with_previous(held, previous));
        }
        Ok(with_previous(self.ready(sha256), previous))
    }

    /// Gate: the dataset gets no handler (no table schema, no
    /// `[[handlers]]` entry), so nothing would ever run.
    fn nothing_would_run(&self, dataset: &DatasetName) -> Result<Option<Explanation>, Asked> {
        let registry = Registry::build(self.settings, &[]).map_err(Asked::Schema)?;
        if !registry.handlers_for(self.settings, dataset).is_empty() {
            return Ok(None);
        }
        let table = self.settings.table_of(dataset);
        let schema = self.settings.schemas.join(format!("{table}.json"));
        Ok(Some(
            Explanation::new(
                State::Unhandled,
                format!(
                    "dataset {dataset} has no table schema and no handler lists it, so nothing would ever run"
                ),
            )
            .with("dataset", dataset.as_str())
            .with("schema", schema.to_string_lossy())
            .hint(format!(
                "Add the schema {} or a [[handlers]] entry for {dataset}.",
                schema.display()
            )),
        ))
    }

    /// Gate: readiness. Its marker does not exist yet, or it has not
    /// settled.
    fn not_ready(&self, rule: &Readiness, stat: Stat) -> Option<Explanation> {
        match rule {
            Readiness::Marker(pattern) => {
                let marker = marker_for(self.file, pattern);
                (!marker.exists()).then(|| {
                    Explanation::new(
                        State::NoMarker,
                        format!(
                            "it waits for its marker {}, which does not exist yet",
                            self.lake_name(&marker)
                        ),
                    )
                    .with("marker", self.lake_name(&marker))
                })
            }
            Readiness::Settle(settle) => {
                (!settled_by_age(stat, settle.get())).then(|| self.settling(stat, *settle))
            }
        }
    }

    /// Gate: the file is read whole, unchanged meanwhile; its hash, or what
    /// kept it from being read.
    fn content(&self, seen: Seen, previous: Option<&(i64, &str)>) -> Result<Content, Asked> {
        let relative = seen.relative.clone();
        Ok(match hash_stable(seen) {
            Hashed::Stable { sha256, .. } => Content::Hashed(sha256),
            Hashed::Changed(_) => Content::Held(with_previous(
                Explanation::new(
                    State::Settling,
                    "it changed while it was read; it must settle again",
                ),
                previous,
            )),
            Hashed::Gone(_) => Content::Held(self.missing(&relative)?),
            Hashed::Failed(_, error) => Content::Held(
                Explanation::new(
                    State::Unreadable,
                    format!("it cannot be read: {error}; the daemon tries again every few seconds"),
                )
                .with("error", error.to_string()),
            ),
        })
    }

    /// Gate: its content is already another object of the dataset, and
    /// duplicates are skipped.
    fn duplicate_content(
        &self,
        ledger: &Connection,
        dataset: &DatasetName,
        raw: &[u8],
        sha256: &str,
    ) -> Result<Option<Explanation>, Asked> {
        if self.settings.dataset(dataset).duplicates != Duplicates::Skip {
            return Ok(None);
        }
        let Some(first) = ledger::first_with_content(ledger, dataset.as_str(), sha256, raw)? else {
            return Ok(None);
        };
        let name = ledger::object(ledger, first)?
            .map(|object| object.name)
            .unwrap_or_default();
        Ok(Some(
            Explanation::new(
                State::Duplicate,
                format!(
                    "its content is already object {first} ({name}); duplicates are skipped (not registered yet)"
                ),
            )
            .with("duplicate_of", first)
            .with("object", Value::Null)
            .with("sha256", sha256),
        ))
    }

    /// Gate: its marker declares a size or hash the file does not have.
    fn marker_refuses(&self, rule: &Readiness, stat: Stat, sha256: &str) -> Option<Explanation> {
        let Readiness::Marker(pattern) = rule else {
            return None;
        };
        let refusal = check_marker(self.file, pattern, stat.size, sha256)?;
        Some(
            Explanation::new(
                State::MarkerMismatch,
                format!("{refusal}; it will be refused when it is registered"),
            )
            .with("error", refusal)
            .with("object", Value::Null)
            .with("sha256", sha256),
        )
    }

    /// Every gate open: the next look registers it.
    fn ready(&self, sha256: String) -> Explanation {
        let reason = match &self.daemon {
            Some(holder) if holder.once => format!(
                "it is ready and not registered yet; {} is running, which takes only the files its first scan found: if it ends without this one, the next run takes it",
                holder.describe()
            ),
            Some(holder) => format!(
                "it is ready and not registered yet; {} picks it up at its next look",
                holder.describe()
            ),
            None => "it is ready and not registered yet, and no daemon is running".to_owned(),
        };
        let explanation = Explanation::new(State::Ready, reason).with("sha256", sha256);
        match self.daemon {
            Some(_) => explanation,
            None => explanation.hint(START_ONE),
        }
    }

    /// No file: perhaps one was registered here once.
    fn missing(&self, relative: &Path) -> Result<Explanation, Asked> {
        let mut explanation = Explanation::new(State::Missing, "there is no file at this path");
        if let (Some(ledger), Some(dataset)) = (self.ledger, scan::dataset_of(relative))
            && let Some(object) =
                ledger::newest_at(ledger, dataset.as_str(), relative.as_os_str().as_bytes())?
        {
            let fate = ledger::fate(ledger, object.id)?;
            let state = self.object_state(ledger, object.id, &fate)?;
            let hint = match &fate.removed_at {
                Some(at) => format!(
                    "Object {} ({state}) was registered here; retention removed its file at {at}.",
                    object.id
                ),
                None => format!(
                    "Object {} ({state}) was registered here; its file was deleted or moved since.",
                    object.id
                ),
            };
            explanation = explanation
                .with(
                    "previous",
                    json!({"object": object.id, "state": state, "removed_at": fate.removed_at}),
                )
                .hint(hint);
        }
        Ok(explanation)
    }

    /// The [`ObjectState`] of object `id`.
    fn object_state(
        &self,
        ledger: &Connection,
        id: i64,
        fate: &ledger::Fate,
    ) -> Result<&'static str, Asked> {
        let jobs = ledger::jobs(ledger, id)?;
        Ok(ObjectState::of(
            fate.duplicate_of.is_some(),
            fate.rows_rejected,
            jobs.iter().map(|job| job.state),
        )
        .name())
    }

    /// A marker file: whose marker it is.
    fn marker_of(&self, dataset: &DatasetName, pattern: &str) -> Result<Explanation, Asked> {
        let data = self.file.parent().and_then(|dir| {
            std::fs::read_dir(dir).ok()?.flatten().find_map(|entry| {
                let path = entry.path();
                let is_file = entry.file_type().is_ok_and(|kind| kind.is_file());
                (is_file && path != self.file && marker_for(&path, pattern) == self.file)
                    .then_some(path)
            })
        });
        let Some(data) = data else {
            return Ok(Explanation::new(
                State::Marker,
                format!(
                    "it is a marker file (marker = \"{pattern}\"), never an object, and no file it marks exists"
                ),
            )
            .with("data_file", Value::Null)
            .with("object", Value::Null));
        };
        let name = self.lake_name(&data);
        let object = match (self.ledger, data.strip_prefix(&self.settings.lake)) {
            (Some(ledger), Ok(relative)) => {
                ledger::newest_at(ledger, dataset.as_str(), relative.as_os_str().as_bytes())?
                    .map(|object| object.id)
            }
            _ => None,
        };
        let of = match object {
            Some(id) => format!("{name} (object {id})"),
            None => format!("{name} (not registered yet)"),
        };
        Ok(Explanation::new(
            State::Marker,
            format!("it is the marker of {of}, never an object itself"),
        )
        .with("data_file", name)
        .with("object", object))
    }

    /// Not settled: ready at its mtime plus `settle`, if unchanged. A
    /// modification time in the future is not trusted: the daemon counts
    /// `settle` from when it first sees the file unchanged (ready.rs).
    fn settling(&self, stat: Stat, setting: crate::config::Duration) -> Explanation {
        let settle = setting.get();
        let span = jiff::SignedDuration::try_from(settle).unwrap_or_default();
        let now = jiff::Timestamp::now();
        let mtime = jiff::Timestamp::from_nanosecond(i128::from(stat.mtime_ns)).unwrap_or(now);
        let details = |explanation: Explanation, ready_at: jiff::Timestamp| {
            explanation
                .with("modified_at", json_time(mtime))
                .with("settle_ms", settle.as_millis() as u64)
                .with("ready_at", json_time(ready_at))
        };
        if mtime > now {
            let ready_at = now.checked_add(span).unwrap_or(now);
            return details(
                Explanation::new(
                    State::Settling,
                    format!(
                        "its modification time {} is in the future (the clock that wrote it is ahead), so the daemon counts settle = {setting} from when it first sees the file unchanged: seen now, it is ready at {}",
                        time_of(mtime),
                        time_of(ready_at)
                    ),
                ),
                ready_at,
            );
        }
        let ready_at = mtime.checked_add(span).unwrap_or(mtime);
        details(
            Explanation::new(
                State::Settling,
                format!(
                    "it changed {} ago and is not settled yet: it is ready at {} if unchanged until then (settle = {setting})",
                    duration(age(stat)),
                    time_of(ready_at)
                ),
            ),
            ready_at,
        )
    }

    /// A registered object: its [`ObjectState`], told apart further where
    /// that helps (a dead object refused by its marker; a waiting one that
    /// waits for a retry), with its jobs.
    fn registered(&self, ledger: &Connection, object: &ObjectRow) -> Result<Explanation, Asked> {
        let found = Found {
            ledger,
            object,
            fate: ledger::fate(ledger, object.id)?,
            jobs: ledger::jobs(ledger, object.id)?,
        };
        let state = ObjectState::of(
            found.fate.duplicate_of.is_some(),
            found.fate.rows_rejected,
            found.jobs.iter().map(|job| job.state),
        );
        match state {
            ObjectState::Duplicate => found.duplicate(),
            ObjectState::Unhandled => Ok(found.unhandled()),
            ObjectState::Dead => found.dead(),
            ObjectState::Failed | ObjectState::Done => Ok(found.finished(state)),
            ObjectState::InProgress => Ok(self.in_progress(&found)),
            ObjectState::Waiting => Ok(self.waiting(&found)),
        }
    }

    /// A job runs: the daemon holds its lease (or held it when it stopped).
    fn in_progress(&self, found: &Found<'_>) -> Explanation {
        let explanation = found.explained(
            State::InProgress,
            format!(
                "it is object {}, in progress: {}",
                found.object.id,
                found.open_jobs()
            ),
        );
        match &self.daemon {
            Some(holder) => explanation.hint(format!(
                "Its handler is running now, under {}.",
                holder.describe()
            )),
            None => explanation.hint(format!(
                "No daemon is running: a daemon that stopped held the job; the next one to start runs it again. {START_ONE}"
            )),
        }
    }

    /// Jobs remain and none runs: one waits for its retry, or an ordered
    /// handler holds them back, or they wait their turn.
    fn waiting(&self, found: &Found<'_>) -> Explanation {
        let id = found.object.id;
        if let Some(job) = found.jobs.iter().find(|job| job.state == JobState::Retry) {
            let at = jiff::Timestamp::from_millisecond(job.next_at_ms).unwrap_or_default();
            let explanation = found
                .explained(
                    State::Retry,
                    format!(
                        "it is object {id}, and handler {} failed {}; its next attempt is at {}: {}",
                        job.handler,
                        times(job.attempts.saturating_sub(job.retry_base)),
                        time_of(at),
                        job.last_error.as_deref().unwrap_or("no error was recorded")
                    ),
                )
                .with("next_attempt_at", json_time(at))
                .hint(format!("`droplake retry {id}` tries it now."));
            return match self.daemon {
                Some(_) => explanation,
                None => explanation.hint(START_ONE),
            };
        }
        if let Some(held) = self.held_back(found) {
            return held;
        }
        if let Some(gap) = self.generation_gap(found) {
            return gap;
        }
        let explanation = found.explained(
            State::Waiting,
            format!("it is object {id}, waiting: {}", found.open_jobs()),
        );
        match &self.daemon {
            Some(holder) => explanation.hint(format!(
                "Each job starts when the handlers in its `after` are done and its handler has a free slot ({} is running).",
                holder.describe()
            )),
            None => explanation.hint(format!("No daemon is running. {START_ONE}")),
        }
    }

    /// Held back: a pending job of an ordered handler waits behind an
    /// earlier object of the dataset whose job is dead or waits for a
    /// retry. The daemon starts nothing of the dataset for that handler
    /// until the earlier one is done.
    fn held_back(&self, found: &Found<'_>) -> Option<Explanation> {
        let id = found.object.id;
        let ordered = |name: &str| {
            self.settings
                .handlers
                .iter()
                .any(|handler| handler.name == name && handler.ordered)
        };
        let (job, head, blocking) = found
            .jobs
            .iter()
            .filter(|job| job.state == JobState::Pending && ordered(&job.handler))
            .find_map(|job| {
                let (head, blocking) =
                    ledger::ordered_head(found.ledger, &found.object.dataset, &job.handler)
                        .ok()??;
                let holds =
                    head.id != id && matches!(blocking.state, JobState::Dead | JobState::Retry);
                holds.then_some((job, head, blocking))
            })?;
        let how = match blocking.state {
            JobState::Dead => format!(
                "is dead: {}",
                blocking
                    .last_error
                    .as_deref()
                    .unwrap_or("no error was recorded")
            ),
            _ => format!(
                "failed and waits for its retry at {}",
                jiff::Timestamp::from_millisecond(blocking.next_at_ms)
                    .map(time_of)
                    .unwrap_or_default()
            ),
        };
        Some(
            found
                .explained(
                    State::HeldBack,
                    format!(
                        "it is object {id}, held back: handler {} takes dataset {}'s objects in order, and the earlier object {} ({}) {how}",
                        job.handler, found.object.dataset, head.id, head.name
                    ),
                )
                .with(
                    "held_by",
                    json!({"object": head.id, "handler": job.handler, "state": blocking.state.name()}),
                )
                .hint(format!(
                    "Nothing of the dataset runs for {} until object {} is done: fix the cause, then `droplake retry {}`; the later objects follow.",
                    job.handler, head.id, head.id
                )),
        )
    }

    /// Held back by a missing generation: the dataset is ordered by GDG
    /// generation with `gap_check`, and an earlier generation has not
    /// arrived (the daemon's own rule: the generations replayed from the
    /// ledger).
    fn generation_gap(&self, found: &Found<'_>) -> Option<Explanation> {
        let object = found.object;
        let dataset = DatasetName::new(&object.dataset).ok()?;
        let Order::Generation { gap_check: true } = self.settings.dataset(&dataset).order else {
            return None;
        };
        let sequence = generations::replay(found.ledger, dataset.as_str(), true).ok()?;
        let missing = sequence.missing().filter(|_| sequence.is_held(object.id))?;
        let label = |absolute: i64| Generation::label(generations::number_of(absolute));
        let own = Generation::of(Path::new(&object.name)).map_or_else(String::new, |generation| {
            format!(" (generation {})", Generation::label(generation.number))
        });
        Some(
            found
                .explained(
                    State::GenerationGap,
                    format!(
                        "it is object {}{own}, held back: generation {} of dataset {dataset} has not arrived, and later generations wait for it (gap_check)",
                        object.id,
                        label(missing)
                    ),
                )
                .with("missing", label(missing))
                .with("after", sequence.complete().map(label).unwrap_or_default())
                .hint(format!(
                    "It goes, in order, as soon as {} arrives. If it never will, set gap_check = false for {dataset} and reload the daemon.",
                    label(missing)
                )),
        )
    }

    /// A path for people: relative to the lake when it is inside.
    fn lake_name(&self, path: &Path) -> String {
        path.strip_prefix(&self.settings.lake)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned()
    }
}

/// What the content gate found: the file's hash, or what holds it.
enum Content {
    Hashed(String),
    Held(Explanation),
}

/// `explanation`, naming the path's earlier object (its id and state) if
/// there is one: the file changed since it was registered.
fn with_previous(explanation: Explanation, previous: Option<&(i64, &str)>) -> Explanation {
    match previous {
        Some((id, state)) => explanation
            .with("previous", json!({"object": id, "state": state}))
            .hint(format!(
                "Object {id} ({state}) was this path's earlier content; the file changed since."
            )),
        None => explanation,
    }
}

/// A registered object and what the ledger holds about it.
struct Found<'a> {
    ledger: &'a Connection,
    object: &'a ObjectRow,
    fate: ledger::Fate,
    jobs: Vec<JobRow>,
}

impl Found<'_> {
    /// An explanation with the details every registered object has.
    fn explained(&self, state: State, reason: String) -> Explanation {
        Explanation::new(state, reason)
            .with("object", self.object.id)
            .with("sha256", self.object.sha256.clone())
            .with("jobs", self.jobs.iter().map(job_json).collect::<Vec<_>>())
            .with("rows_loaded", self.fate.rows_loaded)
            .with("rows_rejected", self.fate.rows_rejected)
    }

    /// The jobs not final yet, as `handler state`.
    fn open_jobs(&self) -> String {
        self.jobs
            .iter()
            .filter(|job| !job.state.is_final())
            .map(|job| format!("{} {}", job.handler, job.state.name()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn duplicate(&self) -> Result<Explanation, Asked> {
        let (id, first) = (self.object.id, self.fate.duplicate_of.unwrap_or_default());
        let name = ledger::object(self.ledger, first)?
            .map(|object| object.name)
            .unwrap_or_default();
        Ok(self
            .explained(
                State::Duplicate,
                format!(
                    "it is object {id}, whose content is already object {first} ({name}); duplicates are skipped"
                ),
            )
            .with("duplicate_of", first))
    }

    fn unhandled(&self) -> Explanation {
        self.explained(
            State::Unhandled,
            format!(
                "it is object {}, but dataset {} had no table schema and no handler when it was registered, so nothing ran",
                self.object.id, self.object.dataset
            ),
        )
    }

    /// A dead job: refused by its marker, or a handler that failed for
    /// good (and those that died with it).
    fn dead(&self) -> Result<Explanation, Asked> {
        let id = self.object.id;
        let dead: Vec<&JobRow> = self
            .jobs
            .iter()
            .filter(|job| job.state == JobState::Dead)
            .collect();
        let refused = events::refused_by_marker(self.ledger, id, dead.iter().copied())?;
        if refused {
            let error = dead
                .iter()
                .find_map(|job| job.last_error.clone())
                .unwrap_or_default();
            return Ok(self
                .explained(
                    State::MarkerMismatch,
                    format!("it is object {id}, refused: {error}"),
                )
                .with("error", error)
                .hint(format!(
                    "Fix the marker or the file; the producer may also deliver it again. `droplake retry {id}` checks the marker again."
                )));
        }
        // The handler that failed, rather than the ones that died with it.
        let cause = dead
            .iter()
            .find(|job| job.attempts > job.retry_base)
            .or(dead.first())
            .copied();
        let reason = match cause {
            Some(job) => format!(
                "it is object {id}, and handler {} is dead after {}: {}",
                job.handler,
                attempts(job.attempts),
                job.last_error.as_deref().unwrap_or("no error was recorded")
            ),
            None => format!("it is object {id}, and a job is dead"),
        };
        let others: Vec<&str> = dead
            .iter()
            .filter(|job| Some(**job) != cause)
            .map(|job| job.handler.as_str())
            .collect();
        let mut explanation = self.explained(State::Dead, reason);
        if !others.is_empty() {
            explanation = explanation.hint(format!("Also dead: {}.", others.join(", ")));
        }
        Ok(explanation.hint(format!(
            "Fix the cause, then run `droplake retry {id}` (or `droplake show {id}` for every attempt)."
        )))
    }

    /// Every job final: done, or failed with rejected rows.
    fn finished(&self, state: ObjectState) -> Explanation {
        let id = self.object.id;
        let counts = match (self.fate.rows_loaded, self.fate.rows_rejected) {
            (Some(loaded), Some(rejected)) => format!(
                ": {loaded} row{} loaded, {rejected} rejected",
                if loaded == 1 { "" } else { "s" }
            ),
            _ => String::new(),
        };
        if state == ObjectState::Failed {
            return self
                .explained(
                    State::Failed,
                    format!("it was processed as object {id}, with rejected rows{counts}"),
                )
                .hint(format!(
                    "`droplake show {id}` tells its whole story, with the rejected rows."
                ));
        }
        self.explained(
            State::Done,
            format!("it was processed as object {id}{counts}"),
        )
        .hint(format!("`droplake show {id}` tells its whole story."))
    }
}

/// Why the file at `relative` is not an object at all, if it is not: not a
/// regular file, outside any dataset, or a name the filter ignores.
fn passed_over(
    relative: &Path,
    metadata: &std::fs::Metadata,
    settings: &Settings,
) -> Option<Explanation> {
    if !metadata.is_file() {
        let (kind, reason) = if metadata.is_dir() {
            ("directory", "it is a directory; objects are files")
        } else if metadata.is_symlink() {
            (
                "symlink",
                "it is a symbolic link; the daemon does not follow links in the lake",
            )
        } else {
            (
                "other",
                "it is not a regular file (a device, socket or pipe)",
            )
        };
        return Some(Explanation::new(State::NotAFile, reason).with("kind", kind));
    }
    let ignored = settings.filter.ignored(relative)?;
    let explanation = Explanation::new(State::Ignored, ignored.to_string());
    Some(match ignored {
        Ignored::OutsideDataset | Ignored::NotADataset(_) => Explanation {
            state: State::NoDataset,
            ..explanation
        },
        Ignored::Hidden(name) => explanation.with("rule", "hidden").with("name", name),
        Ignored::Temporary(name) => explanation.with("rule", "temporary").with("name", name),
        Ignored::Glob(pattern) => explanation.with("rule", "glob").with("pattern", pattern),
    })
}

const START_ONE: &str = "Start the daemon (`droplake run`), or run `droplake run --once`.";

fn job_json(job: &JobRow) -> Value {
    let next = (job.state == JobState::Retry)
        .then(|| jiff::Timestamp::from_millisecond(job.next_at_ms).ok())
        .flatten()
        .map(json_time);
    json!({
        "handler": job.handler,
        "state": job.state.name(),
        "attempts": job.attempts,
        "next_attempt_at": next,
        "error": job.last_error,
    })
}

fn attempts(n: u32) -> String {
    if n == 1 {
        "1 attempt".into()
    } else {
        format!("{n} attempts")
    }
}

fn times(n: u32) -> String {
    if n == 1 {
        "once".into()
    } else {
        format!("{n} times")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_is_documented() {
        let docs = include_str!("../../docs/inspect.md");
        let states = [
            State::OutsideLake,
            State::Missing,
            State::NotAFile,
            State::NoDataset,
            State::Ignored,
            State::Marker,
            State::Unhandled,
            State::NoMarker,
            State::Settling,
            State::Unreadable,
            State::MarkerMismatch,
            State::Duplicate,
            State::Ready,
            State::Waiting,
            State::HeldBack,
            State::GenerationGap,
            State::InProgress,
            State::Retry,
            State::Dead,
            State::Done,
            State::Failed,
        ];
        for state in states {
            assert!(
                docs.contains(&format!("| `{}` |", state.name())),
                "docs/inspect.md has a row for {}",
                state.name()
            );
        }
    }
}
