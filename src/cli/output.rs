//! How commands print: for people, aligned tables that fit 80 columns,
//! section headings, sentences wrapped to 80 columns, times, durations and
//! ages, and colour only where it is wanted; for programs, one JSON style.
//! Every inspection command prints through these functions, so a name, a
//! time or a duration reads the same everywhere.
//!
//! A [`Table`] sizes each column to its widest cell, right-aligns numbers,
//! and when the whole is wider than [`WIDTH`] it narrows the columns that may
//! be cut (widest first), cutting their cells with an ellipsis: free text
//! keeps its start, paths keep their end. Nothing wraps. Width is counted in
//! characters, after control characters are made visible ([`clean`]: a
//! newline is `\n`).
//!
//! Colour is emphasis only: [`Style::paint`] wraps text in ANSI codes when
//! the style has colour and returns it unchanged otherwise, so the output
//! without colour is the output with colour less its escape codes. Whether
//! to colour is decided once, by [`colour_wanted`]: only for a terminal, and
//! never when `NO_COLOR` is set (<https://no-color.org>).

use std::io::IsTerminal;

/// The width every table and line of free text is fitted to.
pub const WIDTH: usize = 80;

/// The narrowest a column that may be cut becomes (or its title, if wider).
const MIN_CUT_WIDTH: usize = 8;

/// Whether to colour what goes to `stream`: a terminal, and `NO_COLOR`
/// unset or empty.
pub fn colour_wanted(stream: &impl IsTerminal) -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
    !no_color && stream.is_terminal()
}

/// What a piece of text means, which decides its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tone {
    #[default]
    Plain,
    /// Finished well: green.
    Good,
    /// Failed or dead: red.
    Bad,
    /// Waiting, retrying, running: yellow.
    Busy,
    /// Beside the point (duplicates, placeholders): dim.
    Faint,
    /// Headings and titles: bold.
    Strong,
}

impl Tone {
    /// The tone of an object or job state (`done`, `dead`, `retry`, ...).
    pub fn of_state(state: &str) -> Tone {
        match state {
            "done" | "loaded" => Tone::Good,
            "dead" | "failed" | "aborted" => Tone::Bad,
            "waiting" | "in_progress" | "pending" | "running" | "retry" | "partial"
            | "held_back" | "unhandled" => Tone::Busy,
            "duplicate" | "interrupted" => Tone::Faint,
            _ => Tone::Plain,
        }
    }

    /// The tone of an event kind (`job.dead`, `job.failed`, ...).
    pub fn of_event(kind: &str) -> Tone {
        match kind {
            "job.dead" | "object.marker_mismatch" => Tone::Bad,
            "job.failed" | "dataset.held_back" | "dataset.gap" => Tone::Busy,
            "job.done" => Tone::Good,
            "object.duplicate" => Tone::Faint,
            _ => Tone::Plain,
        }
    }

    fn code(self) -> Option<&'static str> {
        match self {
            Tone::Plain => None,
            Tone::Good => Some("32"),
            Tone::Bad => Some("31"),
            Tone::Busy => Some("33"),
            Tone::Faint => Some("2"),
            Tone::Strong => Some("1"),
        }
    }
}

/// Colour or not, decided once per command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    colour: bool,
}

impl Style {
    /// The style for standard output: colour only on a terminal without
    /// `NO_COLOR`.
    pub fn stdout() -> Style {
        Style {
            colour: colour_wanted(&std::io::stdout()),
        }
    }

    /// No colour at all.
    pub fn plain() -> Style {
        Style { colour: false }
    }

    /// `text` in the colour of `tone`, or as it is without colour.
    pub fn paint(self, text: &str, tone: Tone) -> String {
        match tone.code() {
            Some(code) if self.colour && !text.is_empty() => format!("\x1b[{code}m{text}\x1b[0m"),
            _ => text.to_owned(),
        }
    }

    /// A section heading: its text, bold, on a line of its own.
    pub fn heading(self, text: &str) -> String {
        format!("{}\n", self.paint(&fit(text), Tone::Strong))
    }
}

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    /// Numbers: right-aligned, title too.
    Right,
}

/// What a column gives up when the table is too wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Never cut.
    Never,
    /// Keep the start, end with `…` (free text).
    End,
    /// Keep the end, start with `…` (paths: the name is at the end).
    Start,
}

/// One column of a [`Table`].
#[derive(Debug, Clone)]
pub struct Column {
    title: String,
    align: Align,
    cut: Cut,
}

impl Column {
    /// Left-aligned text, never cut.
    pub fn text(title: &str) -> Column {
        Column {
            title: title.to_owned(),
            align: Align::Left,
            cut: Cut::Never,
        }
    }

    /// A right-aligned number, never cut.
    pub fn number(title: &str) -> Column {
        Column {
            align: Align::Right,
            ..Column::text(title)
        }
    }

    /// Free text, cut at its end when the table is too wide.
    pub fn free(title: &str) -> Column {
        Column {
            cut: Cut::End,
            ..Column::text(title)
        }
    }

    /// A path, cut at its start when the table is too wide.
    pub fn path(title: &str) -> Column {
        Column {
            cut: Cut::Start,
            ..Column::text(title)
        }
    }

    /// The same column, cut as `cut` says.
    pub fn cut(self, cut: Cut) -> Column {
        Column { cut, ..self }
    }
}

/// One cell: its text and its tone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cell {
    text: String,
    tone: Tone,
}

impl Cell {
    /// `text` in `tone`.
    pub fn toned(text: impl Into<String>, tone: Tone) -> Cell {
        Cell {
            text: clean(&text.into()),
            tone,
        }
    }

    /// A state, coloured by what it means.
    pub fn state(state: &str) -> Cell {
        Cell::toned(state, Tone::of_state(state))
    }

    /// A count, red when it is not zero (dead, failed).
    pub fn alarm(count: u64) -> Cell {
        Cell::toned(
            count.to_string(),
            if count > 0 { Tone::Bad } else { Tone::Plain },
        )
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell::toned(text, Tone::Plain)
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::toned(text, Tone::Plain)
    }
}

impl From<u64> for Cell {
    fn from(number: u64) -> Cell {
        Cell::from(number.to_string())
    }
}

impl From<i64> for Cell {
    fn from(number: i64) -> Cell {
        Cell::from(number.to_string())
    }
}

/// An aligned table: a title row, a row of dashes, then the rows.
#[derive(Debug, Clone)]
pub struct Table {
    columns: Vec<Column>,
    rows: Vec<Vec<Cell>>,
    /// Spaces before every line.
    indent: usize,
}

impl Table {
    pub fn new(columns: Vec<Column>) -> Table {
        Table {
            columns,
            rows: Vec::new(),
            indent: 0,
        }
    }

    /// The same table, every line indented by `spaces`.
    pub fn indent(self, spaces: usize) -> Table {
        Table {
            indent: spaces,
            ..self
        }
    }

    /// Adds a row; missing cells are empty, extra cells are dropped.
    pub fn push(&mut self, mut cells: Vec<Cell>) {
        cells.resize(self.columns.len(), Cell::default());
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// How many rows it has.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// The table's lines, each ending in a newline and no trailing space.
    pub fn render(&self, style: Style) -> String {
        let widths = self.widths();
        let titles: Vec<Cell> = self
            .columns
            .iter()
            .map(|column| Cell::toned(column.title.as_str(), Tone::Strong))
            .collect();
        let dashes: Vec<Cell> = widths
            .iter()
            .map(|width| Cell::from("-".repeat(*width)))
            .collect();
        let mut out = String::new();
        for row in [&titles, &dashes].into_iter().chain(&self.rows) {
            out.push_str(&self.line(row, &widths, style));
            out.push('\n');
        }
        out
    }

    /// The width of each column: its widest cell, narrowed until the table
    /// fits [`WIDTH`] by taking one character at a time from the widest
    /// column that may be cut.
    fn widths(&self) -> Vec<usize> {
        let mut widths: Vec<usize> = self
            .columns
            .iter()
            .map(|column| width(&column.title))
            .collect();
        for row in &self.rows {
            for (width_so_far, cell) in widths.iter_mut().zip(row) {
                *width_so_far = (*width_so_far).max(width(&cell.text));
            }
        }
        let floors: Vec<usize> = self
            .columns
            .iter()
            .zip(&widths)
            .map(|(column, natural)| match column.cut {
                Cut::Never => *natural,
                Cut::End | Cut::Start => width(&column.title).max(MIN_CUT_WIDTH).min(*natural),
            })
            .collect();
        let gaps = 2 * self.columns.len().saturating_sub(1);
        let mut total = self.indent + gaps + widths.iter().sum::<usize>();
        while total > WIDTH {
            let widest = (0..widths.len())
                .filter(|&index| widths[index] > floors[index])
                .max_by_key(|&index| (widths[index], usize::MAX - index));
            let Some(index) = widest else {
                break;
            };
            widths[index] -= 1;
            total -= 1;
        }
        widths
    }

    fn line(&self, cells: &[Cell], widths: &[usize], style: Style) -> String {
        let mut line = " ".repeat(self.indent);
        let last = self.columns.len().saturating_sub(1);
        for (index, ((column, cell), width)) in
            self.columns.iter().zip(cells).zip(widths).enumerate()
        {
            if index > 0 {
                line.push_str("  ");
            }
            let text = match column.cut {
                Cut::Never | Cut::End => cut_end(&cell.text, *width),
                Cut::Start => cut_start(&cell.text, *width),
            };
            let padding = " ".repeat(width.saturating_sub(self::width(&text)));
            let painted = style.paint(&text, cell.tone);
            match column.align {
                Align::Right => {
                    line.push_str(&padding);
                    line.push_str(&painted);
                }
                Align::Left if index == last => line.push_str(&painted),
                Align::Left => {
                    line.push_str(&painted);
                    line.push_str(&padding);
                }
            }
        }
        line.trim_end().to_owned()
    }
}

/// How many columns `text` takes: its characters (after [`clean`]).
pub fn width(text: &str) -> usize {
    text.chars().count()
}

/// Text fit for one line, as people see names and messages everywhere:
/// control characters escaped (`\n`, `\t`, `\u{1b}`; a file name may hold
/// a newline), the rest as it is.
pub fn clean(text: &str) -> String {
    let mut clean = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            clean.extend(c.escape_default());
        } else {
            clean.push(c);
        }
    }
    clean
}

/// `text` as a sentence: its first letter capitalised, ending in a stop.
pub fn sentence(text: &str) -> String {
    let text = text.trim();
    let mut chars = text.chars();
    let mut sentence: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !sentence.ends_with(['.', '!', '?']) {
        sentence.push('.');
    }
    sentence
}

/// `text` ([`clean`]ed) wrapped at spaces into lines of at most [`WIDTH`]
/// columns, each starting with `indent` spaces; a word longer than a line
/// is cut.
pub fn wrap(text: &str, indent: usize) -> String {
    let room = WIDTH.saturating_sub(indent).max(20);
    let clean = clean(text);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in clean.split(' ').filter(|word| !word.is_empty()) {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let used = line.chars().count();
            let needed = if used == 0 {
                word.len()
            } else {
                used + 1 + word.len()
            };
            if needed <= room {
                if used > 0 {
                    line.push(' ');
                }
                line.extend(word.iter());
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            let rest = word.split_off(room);
            lines.push(word.iter().collect());
            word = rest;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    let pad = " ".repeat(indent);
    lines.iter().map(|line| format!("{pad}{line}\n")).collect()
}

/// `text` in at most `max` columns, its end replaced by `…` if cut.
pub fn cut_end(text: &str, max: usize) -> String {
    if width(text) <= max {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
    short.push('…');
    short
}

/// `text` in at most `max` columns, its start replaced by `…` if cut.
pub fn cut_start(text: &str, max: usize) -> String {
    let count = width(text);
    if count <= max {
        return text.to_owned();
    }
    let keep = max.saturating_sub(1);
    let mut short = String::from("…");
    short.extend(text.chars().skip(count - keep));
    short
}

/// One line of free text (cleaned) cut to [`WIDTH`].
pub fn fit(text: &str) -> String {
    cut_end(&clean(text), WIDTH)
}

/// A stored time (RFC 3339) for people: UTC, to the second, such as
/// `2026-11-26T12:00:00Z`; text that is not a time is shown as it is.
pub fn time(stored: &str) -> String {
    match stored.parse::<jiff::Timestamp>() {
        Ok(time) => time_of(time),
        Err(_) => stored.to_owned(),
    }
}

/// A time for people: UTC, to the second (`2026-11-26T12:00:00Z`).
pub fn time_of(time: jiff::Timestamp) -> String {
    time.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A time for programs, in every JSON output: RFC 3339 in UTC with the
/// fraction it has, up to nanoseconds (`2026-11-26T12:00:00.123456789Z`,
/// `2026-11-26T12:00:01.25Z`, `2026-11-26T12:00:00Z`), as the ledger
/// stores times.
pub fn json_time(time: jiff::Timestamp) -> String {
    time.to_string()
}

/// A measured length of time for people: `12ms` under a second, `1.5s`
/// under ten, `45s` under a minute, then two units at most, as [`age`]
/// writes them (`3m5s`, `2h10m`).
pub fn duration(duration: std::time::Duration) -> String {
    let millis = duration.as_millis();
    match millis {
        0..1_000 => format!("{millis}ms"),
        1_000..10_000 => format!("{:.1}s", duration.as_secs_f64()),
        _ => age(i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)),
    }
}

/// A length of time in at most two units, largest first: `45s`, `3m`,
/// `1h30m`, `2d4h`; under a second, `0s`.
pub fn age(seconds: i64) -> String {
    const UNITS: [(&str, i64); 4] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)];
    let seconds = seconds.max(0);
    let Some(first) = UNITS.iter().position(|(_, length)| seconds >= *length) else {
        return "0s".to_owned();
    };
    let (unit, length) = UNITS[first];
    let mut text = format!("{}{unit}", seconds / length);
    if let Some((next, next_length)) = UNITS.get(first + 1) {
        let rest = (seconds % length) / next_length;
        if rest > 0 {
            text.push_str(&format!("{rest}{next}"));
        }
    }
    text
}

/// How long before `now` the stored time `then` was, as `3m ago`.
pub fn ago(then: &str, now: jiff::Timestamp) -> String {
    match then.parse::<jiff::Timestamp>() {
        Ok(then) => format!("{} ago", age(now.duration_since(then).as_secs())),
        Err(_) => String::from("?"),
    }
}

/// `1 attempt`, `2 attempts`.
pub fn plural(count: u64, noun: &str) -> String {
    if count == 1 {
        format!("{count} {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(columns: Vec<Column>, rows: &[&[&str]]) -> String {
        let mut table = Table::new(columns);
        for row in rows {
            table.push(row.iter().map(|cell| Cell::from(*cell)).collect());
        }
        table.render(Style::plain())
    }

    #[test]
    fn columns_are_as_wide_as_their_widest_cell_and_numbers_align_right() {
        let text = table(
            vec![
                Column::text("name"),
                Column::number("rows"),
                Column::text("state"),
            ],
            &[&["items", "5", "done"], &["orders-archive", "1234", "dead"]],
        );
        assert_eq!(
            text,
            "\
name            rows  state
--------------  ----  -----
items              5  done
orders-archive  1234  dead
"
        );
    }

    #[test]
    fn a_wide_table_cuts_its_free_text_and_keeps_the_end_of_paths() {
        let path = format!("items/dt=2026-11-26/{}.csv", "a".repeat(60));
        let message = "m".repeat(70);
        let text = table(
            vec![
                Column::number("id"),
                Column::path("path"),
                Column::free("message"),
            ],
            &[&["1", &path, &message]],
        );
        for line in text.lines() {
            assert!(width(line) <= WIDTH, "{line}");
        }
        let row = text.lines().nth(2).expect("a row");
        assert!(row.contains("  …aaa") && row.contains("aaa.csv  "), "{row}");
        assert!(row.ends_with("mmm…"), "{row}");
        assert_eq!(width(row), WIDTH, "the space is used, not wasted: {row}");
    }

    #[test]
    fn columns_that_may_not_be_cut_are_never_cut() {
        let long = "x".repeat(100);
        let text = table(
            vec![Column::text("a"), Column::free("b")],
            &[&[&long, "short text"]],
        );
        assert!(text.contains(&long));
    }

    #[test]
    fn colour_only_adds_escape_codes() {
        let mut table = Table::new(vec![Column::text("state"), Column::number("n")]);
        table.push(vec![Cell::state("dead"), Cell::alarm(3)]);
        table.push(vec![Cell::state("done"), Cell::alarm(0)]);
        let plain = table.render(Style::plain());
        let coloured = table.render(Style { colour: true });
        assert!(coloured.contains("\x1b[31mdead\x1b[0m"), "{coloured:?}");
        assert!(!plain.contains('\x1b'));
        let stripped = regex::Regex::new("\x1b\\[[0-9;]*m")
            .expect("regex")
            .replace_all(&coloured, "");
        assert_eq!(stripped, plain);
    }

    #[test]
    fn control_characters_never_break_a_line() {
        assert_eq!(clean("a\nb\tc\u{7}"), "a\\nb\\tc\\u{7}");
        assert_eq!(fit(&"y".repeat(200)).chars().count(), WIDTH);
    }

    #[test]
    fn sentences_are_capitalised_stopped_and_wrapped_to_80_columns() {
        assert_eq!(sentence("it is ready"), "It is ready.");
        assert_eq!(sentence("'.a' is hidden."), "'.a' is hidden.");
        let long = "word ".repeat(40);
        let wrapped = wrap(&long, 2);
        assert!(wrapped.lines().all(|line| line.chars().count() <= WIDTH));
        assert!(wrapped.lines().all(|line| line.starts_with("  word")));
        let cut = wrap(&"x".repeat(100), 2);
        assert_eq!(cut.lines().count(), 2);
        assert_eq!(wrap("a\nb", 0), "a\\nb\n");
    }

    #[test]
    fn durations_and_ages_read_alike() {
        use std::time::Duration;
        assert_eq!(duration(Duration::from_millis(12)), "12ms");
        assert_eq!(duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(duration(Duration::from_secs(12)), "12s");
        assert_eq!(duration(Duration::from_secs(185)), "3m5s");
        assert_eq!(duration(Duration::from_secs(7800)), "2h10m");
        assert_eq!(age(185), "3m5s");
    }

    #[test]
    fn json_times_keep_their_fraction_and_people_see_seconds() {
        let time: jiff::Timestamp = "2026-11-26T12:00:01.25Z".parse().expect("time");
        assert_eq!(json_time(time), "2026-11-26T12:00:01.25Z");
        assert_eq!(time_of(time), "2026-11-26T12:00:01Z");
    }

    #[test]
    fn cutting_keeps_the_side_that_matters() {
        assert_eq!(cut_end("abcdef", 4), "abc…");
        assert_eq!(cut_start("abcdef", 4), "…def");
        assert_eq!(cut_start("abc", 4), "abc");
    }

    #[test]
    fn ages_use_two_units_at_most() {
        assert_eq!(age(0), "0s");
        assert_eq!(age(45), "45s");
        assert_eq!(age(180), "3m");
        assert_eq!(age(5_400), "1h30m");
        assert_eq!(age(2 * 86_400 + 4 * 3_600 + 59), "2d4h");
        assert_eq!(age(-5), "0s");
    }

    #[test]
    fn times_are_shown_to_the_second_in_utc() {
        assert_eq!(
            time("2026-11-26T12:00:00.123456789Z"),
            "2026-11-26T12:00:00Z"
        );
        assert_eq!(time("2026-11-26T13:00:00+01:00"), "2026-11-26T12:00:00Z");
        assert_eq!(time("soon"), "soon");
    }
}
