//! Copybook source text as lines of code, each character with its column.
//!
//! Fixed format (the mainframe's card layout): columns 1–6 are the sequence
//! area and ignored; column 7 is the indicator (`*` or `/` a comment line,
//! `-` a continuation line, `D` a debugging line, read as a comment); code
//! is in columns 8–72; columns 73 and beyond are the identification area and
//! ignored. Copybooks that begin their entries in column 7 (seen in the
//! Cobrix samples) are read leniently: a column 7 that holds no indicator is
//! code. Free format has no columns: a line is code from its first
//! character, and a line whose first non-blank character is `*` (which
//! covers `*>`) is a comment. In both, `*>` starts a comment that runs to
//! the end of the line (the lexer removes those, as only it knows where
//! literals are).
//!
//! Tabs advance to the next multiple of 8 columns (plus one) when deciding
//! which area a character falls in; positions in messages count characters,
//! so a tab counts as one. [`SourceFormat::Auto`] reads fixed format unless
//! a line contradicts it (see [`detect`]).

use std::fmt;

/// How copybook source is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourceFormat {
    /// Fixed format unless a line contradicts it, then free format.
    #[default]
    Auto,
    /// Columns: sequence area 1–6, indicator 7, code 8–72.
    Fixed,
    /// No columns: every character of a line is code.
    Free,
}

impl fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SourceFormat::Auto => "auto",
            SourceFormat::Fixed => "fixed",
            SourceFormat::Free => "free",
        })
    }
}

/// A place in the copybook's source: line and column, both counting from 1;
/// columns count characters of the line as written (a tab is one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct SourcePosition {
    /// The line, from 1.
    pub line: u32,
    /// The column, from 1.
    pub column: u32,
}

impl fmt::Display for SourcePosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// One character of code and where it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Char {
    pub c: char,
    pub position: SourcePosition,
}

/// One line that holds code (comment and blank lines are left out).
#[derive(Debug, Clone)]
pub(super) struct Line {
    /// A fixed-format line with `-` in column 7: its first non-blank
    /// character continues the previous line's last word or literal.
    pub continuation: bool,
    /// The code area's characters, trailing blanks included.
    pub chars: Vec<Char>,
    /// In fixed format, how many blanks the line is short of column 72: a
    /// literal continued onto the next line runs to column 72, so these
    /// belong to it.
    pub padding: u32,
    /// The line number, for positions past the last character.
    pub number: u32,
}

impl Line {
    /// The position just after the line's last character.
    pub fn end(&self) -> SourcePosition {
        match self.chars.last() {
            Some(last) => SourcePosition {
                line: last.position.line,
                column: last.position.column + 1,
            },
            None => SourcePosition {
                line: self.number,
                column: 1,
            },
        }
    }
}

/// The code of a copybook, and the format it was read in.
#[derive(Debug, Clone)]
pub(super) struct Source {
    /// `Fixed` or `Free`, never `Auto`.
    pub format: SourceFormat,
    pub lines: Vec<Line>,
}

/// The last column of the code area in fixed format.
const CODE_END: u32 = 72;

/// Splits `text` into code lines in `format` (`Auto` decided by [`detect`]).
pub(super) fn read(text: &str, format: SourceFormat) -> Source {
    let text = without_end_of_file_mark(text.strip_prefix('\u{feff}').unwrap_or(text));
    let raw: Vec<Vec<Expanded>> = text.split('\n').map(expand).collect();
    let format = match format {
        SourceFormat::Auto => detect(&raw),
        chosen => chosen,
    };
    let lines = raw
        .iter()
        .zip(1u32..)
        .filter_map(|(line, number)| match format {
            SourceFormat::Free => free_line(line, number),
            _ => fixed_line(line, number),
        })
        .collect();
    Source { format, lines }
}

/// Text without a DOS end-of-file mark (Ctrl-Z, 0x1A) at its very end, as
/// some copybooks transferred from PCs carry.
fn without_end_of_file_mark(text: &str) -> &str {
    let trimmed = text.trim_end();
    match trimmed.strip_suffix('\u{1a}') {
        Some(before) => before,
        None => text,
    }
}

/// A character with its column as written and its column once tabs are
/// expanded.
#[derive(Debug, Clone, Copy)]
struct Expanded {
    c: char,
    column: u32,
    expanded: u32,
}

/// A line's characters (without the line end) with both columns.
fn expand(line: &str) -> Vec<Expanded> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let mut expanded = 1u32;
    line.chars()
        .zip(1u32..)
        .map(|(c, column)| {
            let here = Expanded {
                c,
                column,
                expanded,
            };
            expanded = if c == '\t' {
                (expanded - 1) / 8 * 8 + 9
            } else {
                expanded + 1
            };
            here
        })
        .collect()
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// The character whose expanded column is `column`, if one starts there.
fn at(line: &[Expanded], column: u32) -> Option<char> {
    line.iter().find(|e| e.expanded == column).map(|e| e.c)
}

/// Whether the lines read as fixed format. Fixed unless a line that is not
/// a fixed-format comment has something in columns 1–6 that cannot be a
/// sequence number or tag (a tag starts in column 1 and has no blanks, like
/// `000100` or `CHG042`: `01 CUST` or `    05` is code written from column
/// 1), or has code running from column 72 into column 73.
fn detect(lines: &[Vec<Expanded>]) -> SourceFormat {
    let contradicts_fixed = |line: &Vec<Expanded>| {
        if matches!(at(line, 7), Some('*' | '/')) {
            return false;
        }
        let sequence: String = line
            .iter()
            .filter(|e| e.expanded <= 6)
            .map(|e| if is_blank(e.c) { ' ' } else { e.c })
            .collect();
        let sequence = sequence.trim_end();
        let odd_sequence = !sequence.is_empty() && sequence.contains(' ');
        let runs_past_72 = matches!(
            (at(line, CODE_END), at(line, CODE_END + 1)),
            (Some(a), Some(b)) if !is_blank(a) && !is_blank(b)
        );
        odd_sequence || runs_past_72
    };
    if lines.iter().any(contradicts_fixed) {
        SourceFormat::Free
    } else {
        SourceFormat::Fixed
    }
}

/// A fixed-format line's code, or `None` for a comment or blank line.
fn fixed_line(line: &[Expanded], number: u32) -> Option<Line> {
    let indicator = at(line, 7).unwrap_or(' ');
    let (first, continuation) = match indicator {
        '*' | '/' | 'D' | 'd' => return None,
        '-' => (8, true),
        ' ' | '\t' => (8, false),
        // Lenient: an entry begun in column 7 (no indicator there).
        _ => (7, false),
    };
    let chars: Vec<Char> = line
        .iter()
        .filter(|e| e.expanded >= first && e.expanded <= CODE_END)
        .map(|e| Char {
            c: e.c,
            position: SourcePosition {
                line: number,
                column: e.column,
            },
        })
        .collect();
    if !continuation && chars.iter().all(|c| is_blank(c.c)) {
        return None;
    }
    let reached = line
        .iter()
        .rfind(|e| e.expanded <= CODE_END)
        .map_or(0, |e| e.expanded);
    Some(Line {
        continuation,
        chars,
        padding: CODE_END.saturating_sub(reached.max(first - 1)),
        number,
    })
}

/// A free-format line's code, or `None` for a comment or blank line.
fn free_line(line: &[Expanded], number: u32) -> Option<Line> {
    match line.iter().find(|e| !is_blank(e.c)) {
        None => None,
        Some(first) if first.c == '*' => None,
        Some(_) => Some(Line {
            continuation: false,
            chars: line
                .iter()
                .map(|e| Char {
                    c: e.c,
                    position: SourcePosition {
                        line: number,
                        column: e.column,
                    },
                })
                .collect(),
            padding: 0,
            number,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(source: &Source) -> Vec<String> {
        source
            .lines
            .iter()
            .map(|line| line.chars.iter().map(|c| c.c).collect::<String>())
            .collect()
    }

    #[test]
    fn fixed_format_keeps_columns_8_to_72_and_drops_comments() {
        let first = format!("{:<72}SEQ00001", "000100 01  CUST-REC.");
        let text = first
            + "\n\
                    000200*    a comment\n\
                    000300/    a page-eject comment\n\
                    000400D    05 DEBUG-ONLY PIC X.\n\
                    \n\
                    000500     05 CUST-ID PIC X(10).";
        let source = read(&text, SourceFormat::Auto);
        assert_eq!(source.format, SourceFormat::Fixed);
        let lines = code(&source);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].trim_end(), "01  CUST-REC.");
        assert_eq!(lines[0].chars().count(), 65, "columns 8 to 72");
        assert_eq!(lines[1], "    05 CUST-ID PIC X(10).");
        assert_eq!(
            source.lines[1].chars[4].position,
            SourcePosition {
                line: 6,
                column: 12
            }
        );
    }

    #[test]
    fn comment_lines_of_asterisks_from_column_1_are_comments_by_the_column_7_rule() {
        let text = "***********************************************************\n\
                    *******                   EDGE CASES\n\
                    ********** String\n\
                    \x20         10  STRING-VAL           PIC X(10).\n";
        let source = read(text, SourceFormat::Auto);
        assert_eq!(source.format, SourceFormat::Fixed);
        assert_eq!(code(&source), ["   10  STRING-VAL           PIC X(10)."]);
    }

    #[test]
    fn an_entry_begun_in_column_7_is_read_as_code() {
        let source = read("      01 RECORD.\n         05 A PIC X.", SourceFormat::Auto);
        assert_eq!(source.format, SourceFormat::Fixed);
        assert_eq!(code(&source)[0], "01 RECORD.");
        assert_eq!(source.lines[0].chars[0].position.column, 7);
    }

    #[test]
    fn code_written_from_column_1_is_free_format() {
        let text = "01 CUST-REC.\n  05 CUST-ID PIC X(10). *> the key\n* a comment\n*> another";
        let source = read(text, SourceFormat::Auto);
        assert_eq!(source.format, SourceFormat::Free);
        assert_eq!(
            code(&source),
            ["01 CUST-REC.", "  05 CUST-ID PIC X(10). *> the key"]
        );
    }

    #[test]
    fn code_running_past_column_72_is_free_format() {
        let long = format!("       01 R. 05 A {} PIC X.", "X".repeat(70));
        assert_eq!(read(&long, SourceFormat::Auto).format, SourceFormat::Free);
        assert_eq!(read(&long, SourceFormat::Fixed).format, SourceFormat::Fixed);
    }

    #[test]
    fn tabs_count_to_the_next_tab_stop_for_areas_and_as_one_column_in_positions() {
        let source = read("\t\t\t REDEFINES X PIC X(3).", SourceFormat::Fixed);
        let first = source.lines[0]
            .chars
            .iter()
            .find(|c| !is_blank(c.c))
            .expect("code");
        assert_eq!(first.c, 'R');
        assert_eq!(first.position.column, 5);
    }

    #[test]
    fn a_dos_end_of_file_mark_ends_the_text() {
        let source = read("       01 R PIC X.\r\n\u{1a}", SourceFormat::Auto);
        assert_eq!(code(&source).len(), 1);
        assert!(!code(&source)[0].contains('\r'));
    }

    #[test]
    fn continuation_lines_are_marked_and_short_lines_padded_to_column_72() {
        let source = read(
            "       01 R PIC X(70) VALUE 'ABC\n      -    'DEF'.",
            SourceFormat::Fixed,
        );
        assert!(!source.lines[0].continuation);
        assert_eq!(source.lines[0].padding, 72 - 32);
        assert!(source.lines[1].continuation);
    }
}
