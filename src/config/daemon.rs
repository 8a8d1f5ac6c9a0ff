//! The daemon's settings: `shutdown_timeout`, `metrics`, `[detect]`, the keys of
//! `[datasets.NAME]` that say when a file is ready and what becomes of it
//! (`ready`, `settle`, `marker`, `order`, `gap_check`, `duplicates`, `receipts`,
//! `retain`, `archive`), and the `[[handlers]]` list.
//!
//! These keys come only from a file. Each function takes the raw values,
//! refuses what cannot work with the file, line, column and dotted key, and
//! records where each value came from, as [`super::dataset_settings`] does.
//! Handlers are checked one by one, then as a whole: unique names, `after`
//! naming known handlers, and no cycle among them. The `report_*` functions
//! give the validated values back for `droplake config`.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};

use toml::Spanned;

use super::raw::{RawDataset, RawDetectMode, RawDuplicates, RawHandler, RawOrder, RawReady};
use super::{
    ConfigError, DatasetSettings, DetectMode, DetectSettings, Duplicates, Duration, FileLayer,
    HandlerSettings, Order, Origin, Readiness,
};
use crate::lake::DatasetName;

/// The name of the built-in loader among the handlers.
pub const LOADER: &str = "loader";

/// The placeholders a handler's command may hold: the object's absolute
/// path, its dataset, its object id and the SHA-256 of its content.
pub const COMMAND_PLACEHOLDERS: [&str; 4] = ["path", "dataset", "object_id", "sha256"];

/// The placeholders a marker pattern may hold: the file's name, and its
/// name without the last extension.
pub const MARKER_PLACEHOLDERS: [&str; 2] = ["name", "stem"];

/// The most attempts of one handler that may run at once.
const MAX_CONCURRENCY: i64 = 256;

/// The longest handler name, in characters.
const MAX_HANDLER_NAME: usize = 63;

/// How long a stopping daemon waits before it rolls back and kills.
pub(super) fn default_shutdown_timeout() -> Duration {
    Duration::from(std::time::Duration::from_secs(30))
}

/// The marker pattern of `ready = "marker"` when `marker` is not given.
fn default_marker() -> String {
    "{name}.done".to_string()
}

/// The placeholders in `text`: each `{word}` whose word is ASCII letters,
/// digits and `_`, with the byte offset of its `{`. Other braces are plain
/// text, so an argument such as `{print $1}` passes through unchanged.
pub fn placeholders(text: &str) -> impl Iterator<Item = (usize, &str)> + '_ {
    text.match_indices('{').filter_map(|(start, _)| {
        // `{` is one byte, so `start + 1` is a character boundary.
        let rest = text.get(start + 1..)?;
        let word = &rest[..rest.find('}')?];
        let is_word = !word.is_empty()
            && word
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_');
        is_word.then_some((start, word))
    })
}

/// `{a}, {b} and {c}` (with `conjunction` "and"), for messages.
fn braced_list(words: &[&str], conjunction: &str) -> String {
    let braced: Vec<String> = words.iter().map(|word| format!("{{{word}}}")).collect();
    match braced.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} {conjunction} {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// `shutdown_timeout`: any duration; zero stops without waiting.
pub(super) fn shutdown_timeout(
    file: &FileLayer,
    origins: &mut BTreeMap<String, Origin>,
) -> Duration {
    match &file.raw.shutdown_timeout {
        Some(timeout) => {
            origins.insert(
                "shutdown_timeout".to_string(),
                file.origin(timeout.span().start),
            );
            *timeout.get_ref()
        }
        None => default_shutdown_timeout(),
    }
}

/// `metrics` when it is not given: no endpoint.
pub(super) fn metrics_off() -> toml::Value {
    toml::Value::String(String::new())
}

/// The address `metrics` names: `"127.0.0.1:9464"`, `"[::1]:9464"`, or a
/// port alone (`9464` or `"9464"`), which means loopback (127.0.0.1). An
/// empty string or `"off"` (how the environment turns a file's endpoint
/// off) means none. Port 0 asks the system for a free port, which the
/// daemon logs.
pub(super) fn metrics_address(value: &toml::Value) -> Result<Option<SocketAddr>, String> {
    const EXPECTED: &str = "give an address and port such as \"127.0.0.1:9464\" or \"[::1]:9464\", or a port alone such as 9464 (on loopback)";
    let loopback = |port: Option<u16>, written: &dyn fmt::Display| {
        port.map(|port| Some(SocketAddr::from((Ipv4Addr::LOCALHOST, port))))
            .ok_or_else(|| format!("port {written} is out of range (0 to 65535); {EXPECTED}"))
    };
    match value {
        toml::Value::Integer(port) => loopback(u16::try_from(*port).ok(), port),
        toml::Value::String(text) => {
            let text = text.trim();
            if text.is_empty() || text == "off" {
                Ok(None)
            } else if text.bytes().all(|byte| byte.is_ascii_digit()) {
                loopback(text.parse().ok(), &text)
            } else {
                text.parse::<SocketAddr>()
                    .map(Some)
                    .map_err(|_| format!("{text:?} is not an address and port; {EXPECTED}"))
            }
        }
        other => Err(format!(
            "expected an address, found {}; {EXPECTED}",
            other.type_str()
        )),
    }
}

/// Where a value that was given starts in the file.
fn start<T>(value: &Option<Spanned<T>>) -> Option<usize> {
    value.as_ref().map(|value| value.span().start)
}

/// A period, which must not be zero: a timer of zero would spin.
fn period(
    file: &FileLayer,
    key: &str,
    value: &Spanned<Duration>,
    example: &str,
) -> Result<Duration, ConfigError> {
    let duration = *value.get_ref();
    if duration.get().is_zero() {
        return Err(file.error_at(
            key,
            value.span().start,
            format!("must be longer than zero; give a duration such as \"{example}\""),
        ));
    }
    Ok(duration)
}

/// Validates `[detect]` and records where each value came from.
pub(super) fn detect_settings(
    file: &FileLayer,
    origins: &mut BTreeMap<String, Origin>,
) -> Result<DetectSettings, ConfigError> {
    let mut settings = DetectSettings::default();
    let Some(raw) = &file.raw.detect else {
        return Ok(settings);
    };
    let raw = raw.get_ref();
    if let Some(mode) = &raw.mode {
        origins.insert("detect.mode".to_string(), file.origin(mode.span().start));
        settings.mode = match mode.get_ref() {
            RawDetectMode::Auto => DetectMode::Auto,
            RawDetectMode::Watch => DetectMode::Watch,
            RawDetectMode::Poll => DetectMode::Poll,
        };
    }
    let periods = [
        (
            "scan_interval",
            &raw.scan_interval,
            &mut settings.scan_interval,
            "60s",
        ),
        (
            "poll_interval",
            &raw.poll_interval,
            &mut settings.poll_interval,
            "1s",
        ),
    ];
    for (key, value, slot, example) in periods {
        if let Some(value) = value {
            let key = format!("detect.{key}");
            *slot = period(file, &key, value, example)?;
            origins.insert(key, file.origin(value.span().start));
        }
    }
    Ok(settings)
}

/// Validates the daemon's keys of `[datasets.NAME]` into `settings` and
/// records where each value came from.
pub(super) fn dataset_lifecycle(
    file: &FileLayer,
    name: &str,
    raw: &RawDataset,
    settings: &mut DatasetSettings,
    origins: &mut BTreeMap<String, Origin>,
) -> Result<(), ConfigError> {
    let key = |key: &str| format!("datasets.{name}.{key}");
    let given = [
        ("ready", start(&raw.ready)),
        ("settle", start(&raw.settle)),
        ("marker", start(&raw.marker)),
        ("order", start(&raw.order)),
        ("gap_check", start(&raw.gap_check)),
        ("duplicates", start(&raw.duplicates)),
        ("receipts", start(&raw.receipts)),
        ("retain", start(&raw.retain)),
        ("archive", start(&raw.archive)),
    ];
    for (field, offset) in given {
        if let Some(offset) = offset {
            origins.insert(key(field), file.origin(offset));
        }
    }

    let ready = raw.ready.as_ref().map(|ready| *ready.get_ref());
    let ready_text = match ready {
        None => "ready = \"settle\" (the default)",
        Some(RawReady::Settle) => "ready = \"settle\"",
        Some(RawReady::Marker) => "ready = \"marker\"",
    };
    let only_with = |other: &str, value_key: &str, offset: usize| {
        file.error_at(
            &key(value_key),
            offset,
            format!(
                "applies only with ready = \"{other}\", and this dataset has {ready_text}; set ready = \"{other}\" or remove {value_key}"
            ),
        )
    };
    settings.ready = match ready {
        None | Some(RawReady::Settle) => {
            if let Some(marker) = &raw.marker {
                return Err(only_with("marker", "marker", marker.span().start));
            }
            match &raw.settle {
                Some(settle) => Readiness::Settle(*settle.get_ref()),
                None => Readiness::default(),
            }
        }
        Some(RawReady::Marker) => {
            if let Some(settle) = &raw.settle {
                return Err(only_with("settle", "settle", settle.span().start));
            }
            match &raw.marker {
                Some(marker) => {
                    Readiness::Marker(marker_pattern(marker.get_ref()).map_err(|message| {
                        file.error_at(&key("marker"), marker.span().start, message)
                    })?)
                }
                None => Readiness::Marker(default_marker()),
            }
        }
    };

    if let Some(order) = &raw.order {
        settings.order = match order.get_ref() {
            RawOrder::Arrival => Order::Arrival,
            RawOrder::Name => Order::Name,
            RawOrder::Generation => Order::Generation { gap_check: false },
        };
    }
    if let Some(gap_check) = &raw.gap_check {
        match &mut settings.order {
            Order::Generation { gap_check: on } => *on = *gap_check.get_ref(),
            _ => {
                return Err(file.error_at(
                    &key("gap_check"),
                    gap_check.span().start,
                    "applies only with order = \"generation\": it holds later generations (NAME.G0043V00) back while one is missing; set order = \"generation\" or remove gap_check",
                ));
            }
        }
    }
    if let Some(duplicates) = &raw.duplicates {
        settings.duplicates = match duplicates.get_ref() {
            RawDuplicates::Skip => Duplicates::Skip,
            RawDuplicates::Process => Duplicates::Process,
        };
    }
    if let Some(receipts) = &raw.receipts {
        settings.receipts = Some(file.path_of(&key("receipts"), receipts)?);
    }
    settings.retain = raw.retain.as_ref().map(|retain| *retain.get_ref());
    if let Some(archive) = &raw.archive {
        if settings.retain.is_none() {
            return Err(file.error_at(
                &key("archive"),
                archive.span().start,
                "applies only with retain: objects move to the archive when their time in the lake is up; add retain (such as retain = \"30d\") or remove archive",
            ));
        }
        settings.archive = Some(file.path_of(&key("archive"), archive)?);
    }
    Ok(())
}

/// Checks a marker pattern: a file name in the object's directory, built
/// from the object's `{name}` or `{stem}`.
fn marker_pattern(pattern: &str) -> Result<String, String> {
    let allowed = braced_list(&MARKER_PLACEHOLDERS, "and");
    if pattern.contains(['/', '\0']) {
        return Err(format!(
            "{pattern:?} is not a file name: the marker lies in the object's directory, so it cannot hold '/' or NUL; write a name such as \"{}\"",
            default_marker()
        ));
    }
    let mut known = false;
    for (_, word) in placeholders(pattern) {
        if !MARKER_PLACEHOLDERS.contains(&word) {
            return Err(format!(
                "unknown placeholder `{{{word}}}`; a marker may hold {allowed}"
            ));
        }
        known = true;
    }
    if !known {
        return Err(format!(
            "{pattern:?} holds no placeholder, so every file would share one marker; use {}, such as \"{}\"",
            braced_list(&MARKER_PLACEHOLDERS, "or"),
            default_marker()
        ));
    }
    if pattern == "{name}" {
        return Err(format!(
            "\"{{name}}\" names the file itself, which would always be ready; write a name such as \"{}\"",
            default_marker()
        ));
    }
    Ok(pattern.to_owned())
}

/// Validates `[[handlers]]`, in file order, and records where each value
/// came from under `handlers.NAME.KEY`.
pub(super) fn handler_settings(
    file: &FileLayer,
    origins: &mut BTreeMap<String, Origin>,
) -> Result<Vec<HandlerSettings>, ConfigError> {
    let entries = file.raw.handlers.as_deref().unwrap_or_default();
    let mut handlers: Vec<HandlerSettings> = Vec::with_capacity(entries.len());
    // Each name and the byte offset of its value, to point at the first of
    // two handlers sharing a name.
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (index, entry) in entries.iter().enumerate() {
        let handler = handler(file, index, entry, origins)?;
        if let Some(name) = &entry.get_ref().name {
            let offset = name.span().start;
            if let Some(&first) = seen.get(name.get_ref().as_str()) {
                let (line, _) = super::line_column(&file.text, first);
                return Err(file.error_at(
                    "handlers.name",
                    offset,
                    format!(
                        "`{}` is already the name of the handler at line {line}; give each handler its own name",
                        handler.name
                    ),
                ));
            }
            seen.insert(name.get_ref(), offset);
        }
        handlers.push(handler);
    }
    check_after(file, entries, &handlers)?;
    Ok(handlers)
}

/// Checks a handler name: letters, digits, `-`, `_` and `.` (ASCII), one
/// to 63 characters.
fn handler_name(name: &str) -> Result<(), String> {
    let rule = format!(
        "a handler name holds 1 to {MAX_HANDLER_NAME} ASCII letters, digits, '-', '_' and '.'"
    );
    if name.is_empty() {
        return Err(format!("is empty; {rule}"));
    }
    if let Some(bad) = name
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!("'{name}' contains {bad:?}; {rule}"));
    }
    let length = name.chars().count();
    if length > MAX_HANDLER_NAME {
        return Err(format!("'{name}' is {length} characters long; {rule}"));
    }
    Ok(())
}

/// Validates one `[[handlers]]` entry, the `index`th (from zero), on its own.
fn handler(
    file: &FileLayer,
    index: usize,
    entry: &Spanned<RawHandler>,
    origins: &mut BTreeMap<String, Origin>,
) -> Result<HandlerSettings, ConfigError> {
    let raw = entry.get_ref();
    let Some(name) = &raw.name else {
        return Err(file.error_at(
            "handlers.name",
            entry.span().start,
            format!(
                "is missing from [[handlers]] entry {}; give every handler a unique name (`{LOADER}` tunes the built-in loader)",
                index + 1
            ),
        ));
    };
    handler_name(name.get_ref())
        .map_err(|message| file.error_at("handlers.name", name.span().start, message))?;
    let mut settings = HandlerSettings::new(name.get_ref());
    let prefix = format!("handlers.{}", settings.name);
    let key = |key: &str| format!("{prefix}.{key}");
    let error =
        |field: &str, offset: usize, message: String| file.error_at(&key(field), offset, message);
    origins.insert(key("name"), file.origin(name.span().start));

    let given = [
        ("datasets", start(&raw.datasets)),
        ("command", start(&raw.command)),
        ("timeout", start(&raw.timeout)),
        ("grace", start(&raw.grace)),
        ("retries", start(&raw.retries)),
        ("concurrency", start(&raw.concurrency)),
        ("after", start(&raw.after)),
        ("ordered", start(&raw.ordered)),
        ("backoff", start(&raw.backoff)),
        ("max_backoff", start(&raw.max_backoff)),
    ];
    for (field, offset) in given {
        if let Some(offset) = offset {
            origins.insert(key(field), file.origin(offset));
        }
    }

    if let Some(datasets) = &raw.datasets {
        for dataset in datasets.get_ref() {
            let offset = dataset.span().start;
            let parsed = DatasetName::new(dataset.get_ref())
                .map_err(|problem| error("datasets", offset, problem.to_string()))?;
            if settings.datasets.contains(&parsed) {
                return Err(error(
                    "datasets",
                    offset,
                    format!("names `{parsed}` twice; list each dataset once"),
                ));
            }
            settings.datasets.push(parsed);
        }
    }

    settings.command = command(&settings.name, entry.span().start, raw.command.as_ref())
        .map_err(|(offset, message)| error("command", offset, message))?;

    if let Some(timeout) = &raw.timeout {
        settings.timeout = period(file, &key("timeout"), timeout, "5m")?;
    }
    if let Some(grace) = &raw.grace {
        settings.grace = *grace.get_ref();
    }
    if let Some(retries) = &raw.retries {
        settings.retries = u32::try_from(*retries.get_ref()).map_err(|_| {
            error(
                "retries",
                retries.span().start,
                format!(
                    "must be a whole number from 0 to {}: the attempts after the first",
                    u32::MAX
                ),
            )
        })?;
    }
    if let Some(concurrency) = &raw.concurrency {
        let value = *concurrency.get_ref();
        if !(1..=MAX_CONCURRENCY).contains(&value) {
            return Err(error(
                "concurrency",
                concurrency.span().start,
                format!(
                    "must be a whole number from 1 to {MAX_CONCURRENCY}: the attempts running at once"
                ),
            ));
        }
        settings.concurrency = usize::try_from(value).unwrap_or(1);
    }
    if let Some(after) = &raw.after {
        settings.after = after
            .get_ref()
            .iter()
            .map(|name| name.get_ref().clone())
            .collect();
    }
    if let Some(ordered) = &raw.ordered {
        settings.ordered = *ordered.get_ref();
    }
    if let Some(backoff) = &raw.backoff {
        settings.backoff = *backoff.get_ref();
    }
    if let Some(max_backoff) = &raw.max_backoff {
        settings.max_backoff = *max_backoff.get_ref();
    }
    if settings.max_backoff < settings.backoff {
        // Point at the value that was written; if both were, at max_backoff.
        let (field, offset) = match (&raw.max_backoff, &raw.backoff) {
            (Some(max), _) => ("max_backoff", max.span().start),
            (None, Some(backoff)) => ("backoff", backoff.span().start),
            (None, None) => ("max_backoff", entry.span().start),
        };
        return Err(error(
            field,
            offset,
            format!(
                "max_backoff ({}) is shorter than backoff ({}); max_backoff must be at least backoff",
                settings.max_backoff, settings.backoff
            ),
        ));
    }
    Ok(settings)
}

/// Checks a handler's `command`; an error comes with its byte offset.
/// `entry` is the offset of the `[[handlers]]` entry, for a missing command.
fn command(
    name: &str,
    entry: usize,
    command: Option<&Spanned<Vec<Spanned<String>>>>,
) -> Result<Option<Vec<String>>, (usize, String)> {
    let example =
        format!("such as command = [\"/usr/local/bin/{name}\", \"--object\", \"{{path}}\"]");
    let Some(command) = command else {
        if name == LOADER {
            return Ok(None);
        }
        return Err((
            entry,
            format!("is missing; give the program and its arguments, {example}"),
        ));
    };
    if name == LOADER {
        return Err((
            command.span().start,
            format!(
                "`{LOADER}` is the built-in loader, which runs no command; remove command, or give this handler another name"
            ),
        ));
    }
    let Some((program, arguments)) = command.get_ref().split_first() else {
        return Err((
            command.span().start,
            format!("must not be empty; give the program and its arguments, {example}"),
        ));
    };
    if program.get_ref().is_empty() {
        return Err((
            program.span().start,
            format!("the program (the first element) must not be empty; name it, {example}"),
        ));
    }
    if let Some((_, word)) = placeholders(program.get_ref()).next() {
        return Err((
            program.span().start,
            format!(
                "the program (the first element) holds the placeholder `{{{word}}}`; name a fixed program, and pass the object in the arguments, {example}"
            ),
        ));
    }
    for argument in arguments {
        if let Some((_, word)) =
            placeholders(argument.get_ref()).find(|(_, word)| !COMMAND_PLACEHOLDERS.contains(word))
        {
            return Err((
                argument.span().start,
                format!(
                    "unknown placeholder `{{{word}}}`; a command may hold {}",
                    braced_list(&COMMAND_PLACEHOLDERS, "and")
                ),
            ));
        }
    }
    Ok(Some(
        command
            .get_ref()
            .iter()
            .map(|argument| argument.get_ref().clone())
            .collect(),
    ))
}

/// Checks every handler's `after`: each names the loader or another
/// handler, once, and no handler waits on itself through others.
fn check_after(
    file: &FileLayer,
    entries: &[Spanned<RawHandler>],
    handlers: &[HandlerSettings],
) -> Result<(), ConfigError> {
    let known = |name: &str| name == LOADER || handlers.iter().any(|other| other.name == name);
    // Each handler's `after`, with the byte offset of every name.
    let mut graph: BTreeMap<&str, Vec<(&str, usize)>> = BTreeMap::new();
    for (entry, handler) in entries.iter().zip(handlers) {
        let key = format!("handlers.{}.after", handler.name);
        let after = entry
            .get_ref()
            .after
            .as_ref()
            .map_or(&[][..], |after| after.get_ref());
        let edges = graph.entry(handler.name.as_str()).or_default();
        for other in after {
            let (name, offset) = (other.get_ref().as_str(), other.span().start);
            let problem = if name == handler.name {
                Some("is this handler itself; a handler cannot wait for itself".to_string())
            } else if !known(name) {
                let others: Vec<String> = handlers
                    .iter()
                    .map(|other| other.name.as_str())
                    .filter(|other| *other != handler.name && *other != LOADER)
                    .map(|other| format!("`{other}`"))
                    .collect();
                let others = if others.is_empty() {
                    "none is configured".to_string()
                } else {
                    format!("here {}", others.join(", "))
                };
                Some(format!(
                    "names no handler; name the built-in `{LOADER}` or another handler of [[handlers]] ({others})"
                ))
            } else if edges.iter().any(|(seen, _)| *seen == name) {
                Some("is listed twice; list each handler once".to_string())
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(file.error_at(&key, offset, format!("`{name}` {problem}")));
            }
            edges.push((name, offset));
        }
    }
    for handler in handlers {
        let mut marks = BTreeMap::new();
        let mut stack = Vec::new();
        if let Some((cycle, offset)) = find_cycle(&graph, &handler.name, &mut marks, &mut stack) {
            let from = cycle[cycle.len() - 2];
            let to = cycle[cycle.len() - 1];
            return Err(file.error_at(
                &format!("handlers.{from}.after"),
                offset,
                format!(
                    "`{to}` closes a cycle ({}); handlers in a cycle would wait for each other forever, so remove one of these",
                    cycle.join(" -> ")
                ),
            ));
        }
    }
    Ok(())
}

/// Whether a handler is being visited or finished, in [`find_cycle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Visiting,
    Done,
}

/// A cycle of `after` reachable from `node`, depth first: the handlers on
/// it, starting and ending with the same one, and the offset of the `after`
/// entry that closes it.
fn find_cycle<'a>(
    graph: &BTreeMap<&'a str, Vec<(&'a str, usize)>>,
    node: &'a str,
    marks: &mut BTreeMap<&'a str, Mark>,
    stack: &mut Vec<&'a str>,
) -> Option<(Vec<&'a str>, usize)> {
    marks.insert(node, Mark::Visiting);
    stack.push(node);
    for &(next, offset) in graph.get(node).into_iter().flatten() {
        match marks.get(next) {
            Some(Mark::Visiting) => {
                let start = stack.iter().position(|name| *name == next).unwrap_or(0);
                let mut cycle = stack[start..].to_vec();
                cycle.push(next);
                return Some((cycle, offset));
            }
            Some(Mark::Done) => {}
            None => {
                if let Some(found) = find_cycle(graph, next, marks, stack) {
                    return Some(found);
                }
            }
        }
    }
    stack.pop();
    marks.insert(node, Mark::Done);
    None
}

/// `[detect]`'s values for the report, by key under `detect.`.
pub(super) fn report_detect(detect: &DetectSettings) -> Vec<(&'static str, toml::Value)> {
    let mode = match detect.mode {
        DetectMode::Auto => "auto",
        DetectMode::Watch => "watch",
        DetectMode::Poll => "poll",
    };
    vec![
        ("mode", text(mode)),
        ("scan_interval", duration(detect.scan_interval)),
        ("poll_interval", duration(detect.poll_interval)),
    ]
}

/// A dataset's daemon values for the report, by key under
/// `datasets.NAME.`; what is not set (`receipts`, `retain`, `archive`) is
/// left out.
pub(super) fn report_dataset(dataset: &DatasetSettings) -> Vec<(&'static str, toml::Value)> {
    let mut values = match &dataset.ready {
        Readiness::Settle(settle) => vec![("ready", text("settle")), ("settle", duration(*settle))],
        Readiness::Marker(marker) => vec![("ready", text("marker")), ("marker", text(marker))],
    };
    let order = match dataset.order {
        Order::Arrival => "arrival",
        Order::Name => "name",
        Order::Generation { .. } => "generation",
    };
    let duplicates = match dataset.duplicates {
        Duplicates::Skip => "skip",
        Duplicates::Process => "process",
    };
    values.push(("order", text(order)));
    if let Order::Generation { gap_check } = dataset.order {
        values.push(("gap_check", toml::Value::Boolean(gap_check)));
    }
    values.push(("duplicates", text(duplicates)));
    if let Some(receipts) = &dataset.receipts {
        values.push(("receipts", text(&receipts.display().to_string())));
    }
    if let Some(retain) = dataset.retain {
        values.push(("retain", duration(retain)));
    }
    if let Some(archive) = &dataset.archive {
        values.push(("archive", text(&archive.display().to_string())));
    }
    values
}

/// A handler's values for the report, by key under `handlers.NAME.`,
/// `name` first; the loader has no `command`.
pub(super) fn report_handler(handler: &HandlerSettings) -> Vec<(&'static str, toml::Value)> {
    let list =
        |items: &mut dyn Iterator<Item = &str>| toml::Value::Array(items.map(text).collect());
    let mut values = vec![
        ("name", text(&handler.name)),
        (
            "datasets",
            list(&mut handler.datasets.iter().map(DatasetName::as_str)),
        ),
    ];
    if let Some(command) = &handler.command {
        values.push(("command", list(&mut command.iter().map(String::as_str))));
    }
    values.extend([
        ("timeout", duration(handler.timeout)),
        ("grace", duration(handler.grace)),
        ("retries", toml::Value::Integer(i64::from(handler.retries))),
        (
            "concurrency",
            toml::Value::Integer(i64::try_from(handler.concurrency).unwrap_or(i64::MAX)),
        ),
        ("after", list(&mut handler.after.iter().map(String::as_str))),
        ("ordered", toml::Value::Boolean(handler.ordered)),
        ("backoff", duration(handler.backoff)),
        ("max_backoff", duration(handler.max_backoff)),
    ]);
    values
}

fn text(value: &str) -> toml::Value {
    toml::Value::String(value.to_owned())
}

fn duration(value: Duration) -> toml::Value {
    toml::Value::String(value.to_string())
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::super::{Settings, Sources};
    use super::*;

    /// Loads `text` as the `droplake.toml` of a fresh directory.
    fn load(text: &str) -> (tempfile::TempDir, Result<Settings, ConfigError>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("droplake.toml");
        std::fs::write(&path, text).expect("write");
        let sources = Sources {
            explicit: None,
            search: vec![path],
            env: Vec::new(),
        };
        let settings = Settings::load(&sources);
        (dir, settings)
    }

    fn seconds(n: u64) -> Duration {
        Duration::from(std::time::Duration::from_secs(n))
    }

    fn line(dir: &Path, line: usize) -> Origin {
        Origin::File {
            path: dir.join("droplake.toml"),
            line,
        }
    }

    #[test]
    fn without_a_file_the_daemon_runs_on_its_defaults() {
        let (_dir, settings) = load("");
        let settings = settings.expect("load");
        assert_eq!(settings.shutdown_timeout, seconds(30));
        assert_eq!(
            settings.detect,
            DetectSettings {
                mode: DetectMode::Auto,
                scan_interval: seconds(60),
                poll_interval: seconds(1),
            }
        );
        assert!(settings.handlers.is_empty());
        let dataset = settings.dataset(&DatasetName::new("orders").expect("name"));
        assert_eq!(dataset.ready, Readiness::Settle(seconds(2)));
        assert_eq!(dataset.order, Order::Arrival);
        assert_eq!(dataset.duplicates, Duplicates::Skip);
        assert_eq!(
            (dataset.receipts, dataset.retain, dataset.archive),
            (None, None, None)
        );
    }

    #[test]
    fn shutdown_timeout_and_detect_are_read_with_their_lines() {
        let (dir, settings) = load(
            "shutdown_timeout = \"2m\"\n\n[detect]\nmode = \"poll\"\nscan_interval = \"5m\"\npoll_interval = \"250ms\"\n",
        );
        let settings = settings.expect("load");
        assert_eq!(settings.shutdown_timeout, seconds(120));
        assert_eq!(settings.detect.mode, DetectMode::Poll);
        assert_eq!(settings.detect.scan_interval, seconds(300));
        assert_eq!(
            settings.detect.poll_interval,
            Duration::from(std::time::Duration::from_millis(250))
        );
        assert_eq!(settings.origins["shutdown_timeout"], line(dir.path(), 1));
        assert_eq!(settings.origins["detect.mode"], line(dir.path(), 4));
        assert_eq!(
            settings.origins["detect.poll_interval"],
            line(dir.path(), 6)
        );

        for (mode, expected) in [
            ("auto", DetectMode::Auto),
            ("watch", DetectMode::Watch),
            ("poll", DetectMode::Poll),
        ] {
            let (_dir, settings) = load(&format!("[detect]\nmode = \"{mode}\"\n"));
            assert_eq!(settings.expect(mode).detect.mode, expected);
        }
    }

    #[test]
    fn a_dataset_says_when_its_files_are_ready_and_what_becomes_of_them() {
        let (dir, settings) = load(
            r#"
[datasets.orders]
ready = "settle"
settle = "10s"
order = "name"
duplicates = "process"
receipts = "receipts/orders"
retain = "30d"
archive = "/srv/archive"

[datasets.invoices]
ready = "marker"
marker = "{stem}.ok"
"#,
        );
        let settings = settings.expect("load");
        let orders = settings.dataset(&DatasetName::new("orders").expect("name"));
        assert_eq!(orders.ready, Readiness::Settle(seconds(10)));
        assert_eq!(orders.order, Order::Name);
        assert_eq!(orders.duplicates, Duplicates::Process);
        assert_eq!(
            orders.receipts,
            Some(dir.path().join("receipts/orders")),
            "relative to the file's directory"
        );
        assert_eq!(orders.retain, Some(seconds(30 * 86_400)));
        assert_eq!(orders.archive, Some(PathBuf::from("/srv/archive")));
        assert_eq!(
            settings.origins["datasets.orders.retain"],
            line(dir.path(), 8)
        );

        let invoices = settings.dataset(&DatasetName::new("invoices").expect("name"));
        assert_eq!(invoices.ready, Readiness::Marker("{stem}.ok".into()));
        assert_eq!(invoices.order, Order::Arrival);
        assert_eq!(invoices.duplicates, Duplicates::Skip);
        assert_eq!(invoices.receipts, None);
    }

    #[test]
    fn readiness_takes_its_default_detail() {
        let (_dir, settings) =
            load("[datasets.a]\nready = \"marker\"\n\n[datasets.b]\nsettle = \"5s\"\n");
        let settings = settings.expect("load");
        let ready = |name| {
            settings
                .dataset(&DatasetName::new(name).expect("name"))
                .ready
        };
        assert_eq!(ready("a"), Readiness::Marker("{name}.done".into()));
        assert_eq!(ready("b"), Readiness::Settle(seconds(5)));
    }

    #[test]
    fn handlers_are_kept_in_file_order_with_their_options() {
        let (dir, settings) = load(
            r#"
[[handlers]]
name = "billing-sync"
datasets = ["orders", "eu.sales"]
command = ["/usr/local/bin/billing-sync", "--object", "{path}", "--id={object_id}:{sha256}", "{dataset}"]
timeout = "2m"
grace = "0s"
retries = 0
concurrency = 256
after = ["loader", "audit"]
ordered = true
backoff = "5s"
max_backoff = "5s"

[[handlers]]
name = "loader"
concurrency = 4

[[handlers]]
name = "audit"
command = ["/usr/bin/awk", "{print $1}"]
"#,
        );
        let settings = settings.expect("load");
        let names: Vec<&str> = settings.handlers.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["billing-sync", "loader", "audit"]);

        let billing = &settings.handlers[0];
        let datasets: Vec<&str> = billing.datasets.iter().map(DatasetName::as_str).collect();
        assert_eq!(datasets, ["orders", "eu.sales"]);
        assert_eq!(
            billing.command.as_deref(),
            Some(
                &[
                    "/usr/local/bin/billing-sync",
                    "--object",
                    "{path}",
                    "--id={object_id}:{sha256}",
                    "{dataset}"
                ]
                .map(String::from)[..]
            )
        );
        assert_eq!(billing.timeout, seconds(120));
        assert_eq!(billing.grace, seconds(0));
        assert_eq!(billing.retries, 0);
        assert_eq!(billing.concurrency, 256);
        assert_eq!(billing.after, ["loader", "audit"]);
        assert!(billing.ordered);
        assert_eq!(
            (billing.backoff, billing.max_backoff),
            (seconds(5), seconds(5))
        );
        assert_eq!(
            settings.origins["handlers.billing-sync.timeout"],
            line(dir.path(), 6)
        );

        let loader = &settings.handlers[1];
        assert_eq!(loader.command, None, "the loader runs no command");
        assert_eq!(loader.concurrency, 4);

        let audit = &settings.handlers[2];
        assert_eq!(
            *audit,
            HandlerSettings {
                command: Some(vec!["/usr/bin/awk".into(), "{print $1}".into()]),
                ..HandlerSettings::new("audit")
            },
            "what is not given keeps its default; braces around more than a word are text"
        );
    }

    #[test]
    fn bad_daemon_settings_are_refused_with_place_and_key() {
        let command = "command = [\"/bin/x\"]\n";
        let cases = [
            (
                "shutdown_timeout = \"soon\"\n".to_string(),
                ":1:20: `shutdown_timeout`: 'soon' is not a duration",
            ),
            (
                "lake = \"lake\"\n[datasets.orders]\nreceipts = \"lake/receipts\"\n".into(),
                "`datasets.orders.receipts`: the receipts directory /",
            ),
            (
                "[detect]\nmode = \"inotify\"\n".into(),
                ":2:8: `detect.mode`: unknown variant `inotify`, expected one of `auto`, `watch`, `poll`",
            ),
            (
                "metrics = \"localhost:9464\"\n".into(),
                ":1:11: `metrics`: \"localhost:9464\" is not an address and port; give an address and port such as \"127.0.0.1:9464\"",
            ),
            (
                "metrics = 70000\n".into(),
                ":1:11: `metrics`: port 70000 is out of range (0 to 65535)",
            ),
            (
                "metrics = \"99999\"\n".into(),
                ":1:11: `metrics`: port 99999 is out of range (0 to 65535)",
            ),
            (
                "metrics = true\n".into(),
                ":1:11: `metrics`: expected an address, found boolean",
            ),
            (
                "[detect]\nscan_interval = \"0s\"\n".into(),
                ":2:17: `detect.scan_interval`: must be longer than zero",
            ),
            (
                "[detect]\npoll_interval = \"0ms\"\n".into(),
                ":2:17: `detect.poll_interval`: must be longer than zero",
            ),
            (
                "[datasets.orders]\nready = \"settle\"\nmarker = \"{name}.ok\"\n".into(),
                ":3:10: `datasets.orders.marker`: applies only with ready = \"marker\", and this dataset has ready = \"settle\";",
            ),
            (
                "[datasets.orders]\nmarker = \"{name}.ok\"\n".into(),
                ":2:10: `datasets.orders.marker`: applies only with ready = \"marker\", and this dataset has ready = \"settle\" (the default);",
            ),
            (
                "[datasets.orders]\nready = \"marker\"\nsettle = \"2s\"\n".into(),
                ":3:10: `datasets.orders.settle`: applies only with ready = \"settle\"",
            ),
            (
                "[datasets.orders]\nready = \"marker\"\nmarker = \"{file}.ok\"\n".into(),
                ":3:10: `datasets.orders.marker`: unknown placeholder `{file}`; a marker may hold {name} and {stem}",
            ),
            (
                "[datasets.orders]\nready = \"marker\"\nmarker = \"../{name}.ok\"\n".into(),
                ":3:10: `datasets.orders.marker`: \"../{name}.ok\" is not a file name",
            ),
            (
                "[datasets.orders]\nready = \"marker\"\nmarker = \"DONE\"\n".into(),
                ":3:10: `datasets.orders.marker`: \"DONE\" holds no placeholder",
            ),
            (
                "[datasets.orders]\nready = \"marker\"\nmarker = \"{name}\"\n".into(),
                ":3:10: `datasets.orders.marker`: \"{name}\" names the file itself",
            ),
            (
                "[datasets.orders]\nready = \"eventually\"\n".into(),
                ":2:9: `datasets.orders.ready`: unknown variant `eventually`, expected `settle` or `marker`",
            ),
            (
                "[datasets.orders]\norder = \"size\"\n".into(),
                ":2:9: `datasets.orders.order`: unknown variant `size`",
            ),
            (
                "[datasets.orders]\nduplicates = \"keep\"\n".into(),
                ":2:14: `datasets.orders.duplicates`: unknown variant `keep`",
            ),
            (
                "[datasets.orders]\narchive = \"/srv/archive\"\n".into(),
                ":2:11: `datasets.orders.archive`: applies only with retain",
            ),
            (
                "[datasets.orders]\nreceipts = \"\"\n".into(),
                ":2:12: `datasets.orders.receipts`: must not be empty",
            ),
            (
                "[datasets.orders]\nretain = \"forever\"\n".into(),
                ":2:10: `datasets.orders.retain`: 'forever' is not a duration",
            ),
            (
                "[[handlers]]\nname = \"a\"\ncommand = [\"/bin/x\", \"--in={file}\"]\n".into(),
                ":3:22: `handlers.a.command`: unknown placeholder `{file}`; a command may hold {path}, {dataset}, {object_id} and {sha256}",
            ),
            (
                "[[handlers]]\nname = \"a\"\ncommand = [\"{path}\"]\n".into(),
                ":3:12: `handlers.a.command`: the program (the first element) holds the placeholder `{path}`",
            ),
            (
                "[[handlers]]\nname = \"a\"\ncommand = []\n".into(),
                ":3:11: `handlers.a.command`: must not be empty",
            ),
            (
                "[[handlers]]\nname = \"a\"\ncommand = [\"\", \"{path}\"]\n".into(),
                ":3:12: `handlers.a.command`: the program (the first element) must not be empty",
            ),
            (
                "[[handlers]]\nname = \"a\"\ncommand = \"/bin/x {path}\"\n".into(),
                ":3:11: `handlers.a.command`: invalid type: string \"/bin/x {path}\", expected an array",
            ),
            (
                "[[handlers]]\nname = \"a\"\n".into(),
                ":1:1: `handlers.a.command`: is missing; give the program and its arguments",
            ),
            (
                "[[handlers]]\nname = \"loader\"\ncommand = [\"/bin/load\"]\n".into(),
                ":3:11: `handlers.loader.command`: `loader` is the built-in loader, which runs no command",
            ),
            (
                format!("[[handlers]]\n{command}\n[[handlers]]\nname = \"b\"\n{command}"),
                ":1:1: `handlers.name`: is missing from [[handlers]] entry 1",
            ),
            (
                "[[handlers]]\nname = \"billing sync\"\n".into(),
                ":2:8: `handlers.name`: 'billing sync' contains ' '",
            ),
            (
                format!("[[handlers]]\nname = \"{}\"\n", "x".repeat(64)),
                "is 64 characters long; a handler name holds 1 to 63",
            ),
            (
                format!(
                    "[[handlers]]\nname = \"a\"\n{command}\n[[handlers]]\nname = \"a\"\n{command}"
                ),
                ":6:8: `handlers.name`: `a` is already the name of the handler at line 2",
            ),
            (
                format!("[[handlers]]\nname = \"a\"\n{command}concurrency = 0\n"),
                ":4:15: `handlers.a.concurrency`: must be a whole number from 1 to 256",
            ),
            (
                format!("[[handlers]]\nname = \"a\"\n{command}concurrency = 257\n"),
                ":4:15: `handlers.a.concurrency`: must be a whole number from 1 to 256",
            ),
            (
                format!("[[handlers]]\nname = \"a\"\n{command}retries = -1\n"),
                ":4:11: `handlers.a.retries`: must be a whole number from 0 to",
            ),
            (
                format!("[[handlers]]\nname = \"a\"\n{command}retries = \"5\"\n"),
                ":4:11: `handlers.a.retries`: invalid type: string \"5\", expected an integer",
            ),
            (
                format!("[[handlers]]\nname = \"a\"\n{command}timeout = \"0s\"\n"),
                ":4:11: `handlers.a.timeout`: must be longer than zero",
            ),
            (
                format!("[[handlers]]\nname = \"a\"\n{command}timout = \"1m\"\n"),
                ":4:1: `handlers.a.timout`: unknown key `timout`, expected one of",
            ),
            (
                format!(
                    "[[handlers]]\nname = \"a\"\n{command}backoff = \"1m\"\nmax_backoff = \"30s\"\n"
                ),
                ":5:15: `handlers.a.max_backoff`: max_backoff (30s) is shorter than backoff (1m)",
            ),
            (
                format!("[[handlers]]\nname = \"a\"\n{command}backoff = \"1h\"\n"),
                ":4:11: `handlers.a.backoff`: max_backoff (10m) is shorter than backoff (1h)",
            ),
            (
                format!("[[handlers]]\nname = \"a\"\n{command}datasets = [\"orders\", \"../x\"]\n"),
                ":4:23: `handlers.a.datasets`: '../x' contains a path separator",
            ),
            (
                format!("[[handlers]]\nname = \"a\"\n{command}after = [\"loader\", \"b\"]\n"),
                ":4:20: `handlers.a.after`: `b` names no handler; name the built-in `loader` or another handler of [[handlers]] (none is configured)",
            ),
            (
                format!("[[handlers]]\nname = \"a\"\n{command}after = [\"a\"]\n"),
                ":4:10: `handlers.a.after`: `a` is this handler itself",
            ),
            (
                format!(
                    "[[handlers]]\nname = \"a\"\n{command}after = [\"b\"]\n\n\
                     [[handlers]]\nname = \"b\"\n{command}after = [\"c\"]\n\n\
                     [[handlers]]\nname = \"c\"\n{command}after = [\"a\"]\n"
                ),
                ":14:10: `handlers.c.after`: `a` closes a cycle (a -> b -> c -> a)",
            ),
            (
                format!(
                    "[[handlers]]\nname = \"loader\"\nafter = [\"a\"]\n\n\
                     [[handlers]]\nname = \"a\"\n{command}after = [\"loader\"]\n"
                ),
                ":8:10: `handlers.a.after`: `loader` closes a cycle (loader -> a -> loader)",
            ),
        ];
        for (text, expected) in cases {
            let (_dir, settings) = load(&text);
            let error = settings.expect_err(&text).to_string();
            assert!(error.contains(expected), "{text:?}:\n{error}");
        }
    }

    #[test]
    fn placeholders_are_words_in_braces() {
        let found: Vec<(usize, &str)> =
            placeholders("{path} {print $1} {{sha256}} {} {a-b} {x_1}").collect();
        assert_eq!(found, [(0, "path"), (19, "sha256"), (38, "x_1")]);
    }

    #[test]
    fn the_report_lists_each_handler_from_its_name() {
        let (dir, settings) = load(
            "[[handlers]]\nname = \"loader\"\n\n[[handlers]]\nname = \"x.y\"\ncommand = [\"/bin/x\"]\n",
        );
        let settings = settings.expect("load");
        let keys: Vec<String> = settings
            .report()
            .into_iter()
            .map(|(key, _, _)| key)
            .skip_while(|key| !key.starts_with("handlers."))
            .collect();
        let fields = [
            "name",
            "datasets",
            "timeout",
            "grace",
            "retries",
            "concurrency",
            "after",
            "ordered",
            "backoff",
            "max_backoff",
        ];
        let mut expected: Vec<String> = fields
            .iter()
            .map(|f| format!("handlers.loader.{f}"))
            .collect();
        let mut with_command = fields.to_vec();
        with_command.insert(2, "command");
        expected.extend(with_command.iter().map(|f| format!("handlers.x.y.{f}")));
        assert_eq!(
            keys, expected,
            "handlers come last, the loader without a command"
        );
        let name = settings
            .report()
            .into_iter()
            .find(|(key, _, _)| key == "handlers.x.y.name")
            .map(|(_, value, origin)| (value, origin));
        assert_eq!(
            name,
            Some((toml::Value::String("x.y".into()), line(dir.path(), 5)))
        );
    }

    #[test]
    fn metrics_is_an_address_or_a_port_on_loopback() {
        let cases = [
            ("metrics = \"127.0.0.1:9464\"", Some("127.0.0.1:9464")),
            ("metrics = \"[::1]:9464\"", Some("[::1]:9464")),
            ("metrics = \"0.0.0.0:9100\"", Some("0.0.0.0:9100")),
            ("metrics = 9464", Some("127.0.0.1:9464")),
            ("metrics = \" 9464 \"", Some("127.0.0.1:9464")),
            ("metrics = 0", Some("127.0.0.1:0")),
            ("metrics = \"off\"", None),
            ("metrics = \"\"", None),
            ("", None),
        ];
        for (text, expected) in cases {
            let (dir, settings) = load(&format!("lake = \"lake\"\n{text}\n"));
            let settings = settings.expect(text);
            let address = settings.metrics.map(|address| address.to_string());
            assert_eq!(address.as_deref(), expected, "{text}");
            let reported = settings
                .report()
                .into_iter()
                .find(|(key, _, _)| key == "metrics")
                .map(|(_, value, origin)| (value, origin));
            let expected = expected.map(|address| (text_value(address), line(dir.path(), 2)));
            assert_eq!(reported, expected, "{text}");
        }
    }

    fn text_value(text: &str) -> toml::Value {
        toml::Value::String(text.to_owned())
    }
}
