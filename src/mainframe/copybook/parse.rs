//! Data description entries from tokens: each entry's level number, name
//! and clauses with their positions, checked for form. What the entries
//! mean together (nesting, sizes, references) is `layout`'s job.
//!
//! An entry is `level [name | FILLER] clause... .`, clauses in any order,
//! keywords in any case. Accepted clauses: `PIC`/`PICTURE [IS]`, `[USAGE
//! [IS]] usage`, `[SIGN [IS]] LEADING|TRAILING [SEPARATE [CHARACTER]]`,
//! `OCCURS [m TO] n [TIMES] [DEPENDING [ON] name [OF|IN group]...]` with
//! `ASCENDING|DESCENDING [KEY] [IS] names` and `INDEXED [BY] names`
//! (ignored), `REDEFINES name`, `VALUE [IS]`/`VALUES [ARE]` with literals and
//! `THRU` ranges (kept for level 88, ignored elsewhere), `JUSTIFIED`/`JUST
//! [RIGHT]`, `BLANK [WHEN] ZERO`, `SYNC`/`SYNCHRONIZED [LEFT|RIGHT]`,
//! `GLOBAL` and `EXTERNAL` (ignored). The listing directives `EJECT` and
//! `SKIP1`–`SKIP3` are skipped between entries.

use super::Problem;
use super::item::{ConditionValue, Figurative, Literal, NumericLiteral, SignPosition, Usage};
use super::lexer::{Token, TokenKind};
use super::source::SourcePosition;

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Spanned<T> {
    pub value: T,
    pub position: SourcePosition,
}

/// One data description entry, as written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Entry {
    /// 1–49, 77 or 88 (66 is refused here).
    pub level: u8,
    /// Where the level number is.
    pub position: SourcePosition,
    /// The name; `None` for FILLER or an entry without a name.
    pub name: Option<String>,
    pub picture: Option<Spanned<String>>,
    pub usage: Option<Spanned<Usage>>,
    pub sign: Option<Spanned<SignClause>>,
    pub occurs: Option<Spanned<OccursClause>>,
    pub redefines: Option<Spanned<String>>,
    pub values: Option<Spanned<Vec<ConditionValue>>>,
    pub justified: Option<SourcePosition>,
    pub blank_when_zero: Option<SourcePosition>,
    pub synchronized: Option<SourcePosition>,
}

impl Entry {
    /// The entry's name for messages.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or("FILLER")
    }
}

/// `SIGN IS LEADING|TRAILING [SEPARATE]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct SignClause {
    pub position: SignPosition,
    pub separate: bool,
}

/// `OCCURS [m TO] n DEPENDING ON name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct OccursClause {
    pub min: Option<u32>,
    pub max: u32,
    pub depending_on: Option<Spanned<QualifiedName>>,
}

/// `name [OF|IN group]...`: the qualifiers go outward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct QualifiedName {
    pub name: String,
    pub qualifiers: Vec<String>,
}

impl std::fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)?;
        for qualifier in &self.qualifiers {
            write!(f, " OF {qualifier}")?;
        }
        Ok(())
    }
}

/// Words that begin or belong to a clause: an entry's name cannot be one
/// of them, and a list of names (INDEXED BY) ends at one.
const CLAUSE_WORDS: &[&str] = &[
    "PIC",
    "PICTURE",
    "USAGE",
    "IS",
    "ARE",
    "VALUE",
    "VALUES",
    "OCCURS",
    "TIMES",
    "TO",
    "DEPENDING",
    "ASCENDING",
    "DESCENDING",
    "INDEXED",
    "REDEFINES",
    "RENAMES",
    "SIGN",
    "LEADING",
    "TRAILING",
    "SEPARATE",
    "JUSTIFIED",
    "JUST",
    "BLANK",
    "SYNC",
    "SYNCHRONIZED",
    "GLOBAL",
    "EXTERNAL",
];

/// The supported usages, by every spelling.
const USAGES: &[(&str, Usage)] = &[
    ("DISPLAY", Usage::Display),
    ("COMP", Usage::Binary),
    ("COMPUTATIONAL", Usage::Binary),
    ("COMP-0", Usage::Binary),
    ("COMPUTATIONAL-0", Usage::Binary),
    ("COMP-4", Usage::Binary),
    ("COMPUTATIONAL-4", Usage::Binary),
    ("BINARY", Usage::Binary),
    ("COMP-5", Usage::NativeBinary),
    ("COMPUTATIONAL-5", Usage::NativeBinary),
    ("COMP-3", Usage::Packed),
    ("COMPUTATIONAL-3", Usage::Packed),
    ("PACKED-DECIMAL", Usage::Packed),
    ("COMP-1", Usage::Float),
    ("COMPUTATIONAL-1", Usage::Float),
    ("COMP-2", Usage::Double),
    ("COMPUTATIONAL-2", Usage::Double),
];

/// Usages that exist but that droplake does not read.
const UNSUPPORTED_USAGES: &[&str] = &[
    "COMP-6",
    "COMPUTATIONAL-6",
    "COMP-X",
    "COMPUTATIONAL-X",
    "COMP-N",
    "COMP-9",
    "INDEX",
    "POINTER",
    "POINTER-32",
    "PROCEDURE-POINTER",
    "FUNCTION-POINTER",
    "OBJECT",
    "NATIONAL",
    "DISPLAY-1",
    "FLOAT-SHORT",
    "FLOAT-LONG",
    "FLOAT-EXTENDED",
    "UTF-8",
];

const SUPPORTED_USAGES: &str =
    "DISPLAY, COMP/COMP-4/BINARY, COMP-5, COMP-3/PACKED-DECIMAL, COMP-1 or COMP-2";

const CLAUSES: &str = "PIC, USAGE, OCCURS, REDEFINES, VALUE, SIGN, JUSTIFIED, BLANK WHEN ZERO \
                       or SYNC";

fn is_one_of(word: &str, words: &[&str]) -> bool {
    words.iter().any(|w| word.eq_ignore_ascii_case(w))
}

fn usage_of(word: &str) -> Option<Usage> {
    USAGES
        .iter()
        .find(|(spelling, _)| word.eq_ignore_ascii_case(spelling))
        .map(|(_, usage)| *usage)
}

fn is_clause_word(word: &str) -> bool {
    is_one_of(word, CLAUSE_WORDS) || usage_of(word).is_some() || is_one_of(word, UNSUPPORTED_USAGES)
}

/// A level number: one or two digits.
fn level_of(word: &str) -> Option<u8> {
    (1..=2)
        .contains(&word.len())
        .then(|| word.parse::<u8>().ok())
        .flatten()
        .filter(|_| word.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether `word` can name a data item: letters, digits, hyphens and
/// underscores, at least one letter, no hyphen first or last.
fn is_data_name(word: &str) -> bool {
    word.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && word.chars().any(|c| c.is_ascii_alphabetic())
        && !word.starts_with('-')
        && !word.ends_with('-')
}

/// The entries of a copybook's tokens.
pub(super) fn entries(tokens: &[Token]) -> Result<Vec<Entry>, Problem> {
    let mut parser = Parser { tokens, at: 0 };
    let mut entries = Vec::new();
    while let Some(entry) = parser.entry()? {
        entries.push(entry);
    }
    Ok(entries)
}

struct Parser<'t> {
    tokens: &'t [Token],
    at: usize,
}

/// How a token reads in a message.
fn describe(token: Option<&Token>) -> String {
    match token.map(|t| &t.kind) {
        None => "the end of the copybook".to_string(),
        Some(TokenKind::Word(word)) => word.clone(),
        Some(TokenKind::Text(text)) => format!("the literal '{text}'"),
        Some(TokenKind::Hex(bytes)) => format!("the literal X'{}'", hex::encode_upper(bytes)),
        Some(TokenKind::Period) => "a period".to_string(),
    }
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn peek_word(&self) -> Option<&str> {
        match self.peek().map(|t| &t.kind) {
            Some(TokenKind::Word(word)) => Some(word),
            _ => None,
        }
    }

    /// Consumes the next token if it is one of `words`.
    fn eat(&mut self, words: &[&str]) -> bool {
        if self.peek_word().is_some_and(|word| is_one_of(word, words)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// Where the next token is, or just after the last one.
    fn position(&self) -> SourcePosition {
        match self.peek().or(self.tokens.last()) {
            Some(token) => token.position,
            None => SourcePosition { line: 1, column: 1 },
        }
    }

    /// A problem at the next token, saying what was expected there.
    fn expected(&self, what: &str) -> Problem {
        Problem::new(
            self.position(),
            format!("expected {what}, found {}", describe(self.peek())),
        )
    }

    /// The next token as a word, or the problem of it not being one.
    fn word(&mut self, what: &str) -> Result<Spanned<String>, Problem> {
        match self.peek() {
            Some(Token {
                kind: TokenKind::Word(word),
                position,
            }) => {
                let spanned = Spanned {
                    value: word.clone(),
                    position: *position,
                };
                self.at += 1;
                Ok(spanned)
            }
            _ => Err(self.expected(what)),
        }
    }

    /// A whole number (an OCCURS count).
    fn integer(&mut self, what: &str) -> Result<u32, Problem> {
        let position = self.position();
        let word = self.word(what)?;
        word.value
            .parse::<u32>()
            .ok()
            .filter(|_| word.value.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| Problem::new(position, format!("expected {what}, found {}", word.value)))
    }

    /// The next entry, or `None` at the end of the tokens.
    fn entry(&mut self) -> Result<Option<Entry>, Problem> {
        while self.eat(&["EJECT", "SKIP1", "SKIP2", "SKIP3"]) {
            if matches!(self.peek().map(|t| &t.kind), Some(TokenKind::Period)) {
                self.at += 1;
            }
        }
        let Some(first) = self.peek() else {
            return Ok(None);
        };
        let position = first.position;
        if self
            .peek_word()
            .is_some_and(|w| is_one_of(w, &["COPY", "REPLACE"]))
        {
            return Err(Problem::new(
                position,
                "COPY and REPLACE statements are not supported: paste the copied member's text \
                 into this copybook instead",
            ));
        }
        let level = match self.peek_word().and_then(level_of) {
            Some(level) => level,
            None => {
                return Err(self.expected(
                    "a level number (01–49, 77 or 88) to begin a data description entry",
                ));
            }
        };
        self.at += 1;
        match level {
            1..=49 | 77 | 88 => {}
            66 => {
                return Err(Problem::new(
                    position,
                    "level 66 (RENAMES) is not supported: droplake cannot give a second name to \
                     a range of fields. Remove the 66 entry (the fields it renames keep their \
                     own names), or describe the range as a group that REDEFINES the first of \
                     them",
                ));
            }
            other => {
                return Err(Problem::new(
                    position,
                    format!(
                        "level number {other} is not valid: data items use 01–49, standalone \
                         items 77 and condition names 88"
                    ),
                ));
            }
        }
        let mut entry = Entry {
            level,
            position,
            ..Entry::default()
        };
        if let Some(word) = self.peek_word()
            && !is_clause_word(word)
        {
            let name = self.word("a name")?;
            if name.value.eq_ignore_ascii_case("FILLER") {
                if level == 88 {
                    return Err(Problem::new(
                        name.position,
                        "a condition name (level 88) cannot be FILLER",
                    ));
                }
            } else if is_data_name(&name.value) {
                entry.name = Some(name.value);
            } else {
                return Err(Problem::new(
                    name.position,
                    format!(
                        "{} is not a valid data name: names use letters, digits, hyphens and \
                         underscores, with at least one letter and no hyphen first or last",
                        name.value
                    ),
                ));
            }
        }
        if level == 88 && entry.name.is_none() {
            return Err(self.expected("the name of the condition (level 88)"));
        }
        self.clauses(&mut entry)?;
        if level == 88 && entry.values.is_none() {
            return Err(Problem::new(
                entry.position,
                format!(
                    "condition {} (level 88) has no VALUE clause; give it the values it stands for",
                    entry.display_name()
                ),
            ));
        }
        Ok(Some(entry))
    }

    /// The clauses up to and including the period that ends the entry.
    fn clauses(&mut self, entry: &mut Entry) -> Result<(), Problem> {
        loop {
            let Some(token) = self.peek() else {
                return Err(Problem::new(
                    self.position(),
                    format!(
                        "the entry for {} ({}) has no period at its end",
                        entry.display_name(),
                        entry.position
                    ),
                ));
            };
            let position = token.position;
            let word = match &token.kind {
                TokenKind::Period => {
                    self.at += 1;
                    return Ok(());
                }
                TokenKind::Word(word) => word.clone(),
                _ => return Err(self.unexpected(entry)),
            };
            if entry.level == 88 && !is_one_of(&word, &["VALUE", "VALUES"]) {
                return Err(self.expected(&format!(
                    "VALUE or the period that ends condition {}",
                    entry.display_name()
                )));
            }
            self.at += 1;
            let upper = word.to_ascii_uppercase();
            let twice = |clause: &str| {
                Problem::new(
                    position,
                    format!(
                        "{clause} is given twice in the entry for {}",
                        entry.display_name()
                    ),
                )
            };
            match upper.as_str() {
                "PIC" | "PICTURE" => {
                    if entry.picture.is_some() {
                        return Err(twice("PICTURE"));
                    }
                    self.eat(&["IS"]);
                    entry.picture = Some(self.word("a picture string such as X(10) or S9(7)V99")?);
                }
                "USAGE" => {
                    self.eat(&["IS"]);
                    let usage = self.word(&format!("a usage ({SUPPORTED_USAGES})"))?;
                    self.usage(entry, usage)?;
                }
                "SIGN" | "LEADING" | "TRAILING" => {
                    if entry.sign.is_some() {
                        return Err(twice("SIGN"));
                    }
                    let side = if upper == "SIGN" {
                        self.eat(&["IS"]);
                        self.word("LEADING or TRAILING")?.value.to_ascii_uppercase()
                    } else {
                        upper.clone()
                    };
                    let side = match side.as_str() {
                        "LEADING" => SignPosition::Leading,
                        "TRAILING" => SignPosition::Trailing,
                        _ => {
                            self.at -= 1;
                            return Err(self.expected("LEADING or TRAILING"));
                        }
                    };
                    let separate = self.eat(&["SEPARATE"]);
                    if separate {
                        self.eat(&["CHARACTER"]);
                    }
                    entry.sign = Some(Spanned {
                        value: SignClause {
                            position: side,
                            separate,
                        },
                        position,
                    });
                }
                "OCCURS" => {
                    if entry.occurs.is_some() {
                        return Err(twice("OCCURS"));
                    }
                    entry.occurs = Some(Spanned {
                        value: self.occurs()?,
                        position,
                    });
                }
                "REDEFINES" => {
                    if entry.redefines.is_some() {
                        return Err(twice("REDEFINES"));
                    }
                    entry.redefines = Some(self.word("the name of the item redefined")?);
                }
                "VALUE" | "VALUES" => {
                    if entry.values.is_some() {
                        return Err(twice("VALUE"));
                    }
                    self.eat(&["IS", "ARE"]);
                    entry.values = Some(Spanned {
                        value: self.values()?,
                        position,
                    });
                }
                "JUSTIFIED" | "JUST" => {
                    self.eat(&["RIGHT"]);
                    entry.justified = Some(position);
                }
                "BLANK" => {
                    self.eat(&["WHEN"]);
                    if !self.eat(&["ZERO", "ZEROS", "ZEROES"]) {
                        return Err(self.expected("ZERO (BLANK WHEN ZERO)"));
                    }
                    entry.blank_when_zero = Some(position);
                }
                "SYNC" | "SYNCHRONIZED" => {
                    self.eat(&["LEFT", "RIGHT"]);
                    entry.synchronized = Some(position);
                }
                "IS" if self
                    .peek_word()
                    .is_some_and(|w| is_one_of(w, &["GLOBAL", "EXTERNAL"])) => {}
                "GLOBAL" | "EXTERNAL" => {}
                "RENAMES" => {
                    return Err(Problem::new(
                        position,
                        "RENAMES is not supported (and belongs to level 66 entries)",
                    ));
                }
                _ if usage_of(&word).is_some() || is_one_of(&word, UNSUPPORTED_USAGES) => {
                    self.usage(
                        entry,
                        Spanned {
                            value: word,
                            position,
                        },
                    )?;
                }
                _ => {
                    self.at -= 1;
                    return Err(self.unexpected(entry));
                }
            }
        }
    }

    /// The problem of an unexpected token inside an entry: a level number
    /// most likely means the period before it is missing.
    fn unexpected(&self, entry: &Entry) -> Problem {
        if self.peek_word().and_then(level_of).is_some() {
            return Problem::new(
                self.position(),
                format!(
                    "expected a period to end the entry for {} ({}) before the next entry begins \
                     with {}",
                    entry.display_name(),
                    entry.position,
                    describe(self.peek())
                ),
            );
        }
        Problem::new(
            self.position(),
            format!(
                "unexpected {} in the entry for {}; expected a clause ({CLAUSES}) or the period \
                 that ends the entry",
                describe(self.peek()),
                entry.display_name()
            ),
        )
    }

    fn usage(&mut self, entry: &mut Entry, word: Spanned<String>) -> Result<(), Problem> {
        let Some(usage) = usage_of(&word.value) else {
            let what = if is_one_of(&word.value, UNSUPPORTED_USAGES) {
                format!("USAGE {} is not supported", word.value.to_ascii_uppercase())
            } else {
                format!("{} is not a usage", word.value)
            };
            return Err(Problem::new(
                word.position,
                format!("{what}; droplake reads {SUPPORTED_USAGES}"),
            ));
        };
        if entry.usage.is_some() {
            return Err(Problem::new(
                word.position,
                format!(
                    "USAGE is given twice in the entry for {}",
                    entry.display_name()
                ),
            ));
        }
        entry.usage = Some(Spanned {
            value: usage,
            position: word.position,
        });
        Ok(())
    }

    /// After OCCURS: `[m TO] n [TIMES] [DEPENDING [ON] name] [keys] [indexes]`.
    fn occurs(&mut self) -> Result<OccursClause, Problem> {
        let first = self.integer("the number of occurrences")?;
        let (min, max) = if self.eat(&["TO"]) {
            (
                Some(first),
                self.integer("the most occurrences (OCCURS m TO n)")?,
            )
        } else {
            (None, first)
        };
        self.eat(&["TIMES"]);
        let mut depending_on = None;
        if self.eat(&["DEPENDING"]) {
            self.eat(&["ON"]);
            let name = self.word("the name of the item that holds the count")?;
            let mut qualifiers = Vec::new();
            while self.eat(&["OF", "IN"]) {
                qualifiers.push(self.word("the name of a group")?.value);
            }
            depending_on = Some(Spanned {
                value: QualifiedName {
                    name: name.value,
                    qualifiers,
                },
                position: name.position,
            });
        } else if min.is_some() {
            return Err(
                self.expected("DEPENDING ON: OCCURS m TO n needs the item that holds the count")
            );
        }
        loop {
            if self.eat(&["ASCENDING", "DESCENDING"]) {
                self.eat(&["KEY"]);
                self.eat(&["IS"]);
                self.names("the name of a key")?;
            } else if self.eat(&["INDEXED"]) {
                self.eat(&["BY"]);
                self.names("the name of an index")?;
            } else {
                break;
            }
        }
        Ok(OccursClause {
            min,
            max,
            depending_on,
        })
    }

    /// One or more names (keys, indexes), which droplake ignores.
    fn names(&mut self, what: &str) -> Result<(), Problem> {
        self.word(what)?;
        while self
            .peek_word()
            .is_some_and(|word| !is_clause_word(word) && level_of(word).is_none())
        {
            self.at += 1;
        }
        Ok(())
    }

    /// The literals and ranges of a VALUE clause.
    fn values(&mut self) -> Result<Vec<ConditionValue>, Problem> {
        let mut values = Vec::new();
        loop {
            let Some(from) = self.literal()? else {
                if values.is_empty() {
                    return Err(self.expected(
                        "a literal ('text', a number or a figurative constant such as SPACES)",
                    ));
                }
                return Ok(values);
            };
            if self.eat(&["THRU", "THROUGH"]) {
                let Some(to) = self.literal()? else {
                    return Err(self.expected("the literal that ends the THRU range"));
                };
                values.push(ConditionValue::Range(from, to));
            } else {
                values.push(ConditionValue::Single(from));
            }
        }
    }

    /// A literal, if the next token is one.
    fn literal(&mut self) -> Result<Option<Literal>, Problem> {
        let Some(token) = self.peek() else {
            return Ok(None);
        };
        let position = token.position;
        let literal = match &token.kind {
            TokenKind::Text(text) => Literal::Text(text.clone()),
            TokenKind::Hex(bytes) => Literal::Hex(bytes.clone()),
            TokenKind::Period => return Ok(None),
            TokenKind::Word(word) => {
                let upper = word.to_ascii_uppercase();
                if upper == "ALL" {
                    self.at += 1;
                    return match self.literal()? {
                        Some(Literal::All(_)) | Some(Literal::Number(_)) | None => {
                            Err(Problem::new(
                                position,
                                "ALL must be followed by a 'literal' or a figurative constant",
                            ))
                        }
                        Some(literal) => Ok(Some(Literal::All(Box::new(literal)))),
                    };
                }
                if let Some(figurative) = figurative(&upper) {
                    Literal::Figurative(figurative)
                } else if let Some(number) = numeric_literal(word) {
                    Literal::Number(number)
                } else if looks_numeric(word) {
                    return Err(Problem::new(
                        position,
                        format!(
                            "{word} is not a numeric literal (at most 38 digits, a sign and one \
                             decimal point)"
                        ),
                    ));
                } else {
                    return Ok(None);
                }
            }
        };
        self.at += 1;
        Ok(Some(literal))
    }
}

/// Whether a word was meant as a number: it starts like one and has no
/// letters.
fn looks_numeric(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | '.'))
        && !word.chars().any(|c| c.is_ascii_alphabetic())
}

fn figurative(upper: &str) -> Option<Figurative> {
    Some(match upper {
        "SPACE" | "SPACES" => Figurative::Spaces,
        "ZERO" | "ZEROS" | "ZEROES" => Figurative::Zeros,
        "HIGH-VALUE" | "HIGH-VALUES" => Figurative::HighValues,
        "LOW-VALUE" | "LOW-VALUES" => Figurative::LowValues,
        "QUOTE" | "QUOTES" => Figurative::Quotes,
        "NULL" | "NULLS" => Figurative::Nulls,
        _ => return None,
    })
}

/// `[+|-]digits[.digits]` (or `.digits`), at most 38 digits.
fn numeric_literal(word: &str) -> Option<NumericLiteral> {
    let (negative, unsigned) = match word.as_bytes().first()? {
        b'-' => (true, &word[1..]),
        b'+' => (false, &word[1..]),
        _ => (false, word),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = format!("{whole}{fraction}");
    if digits.is_empty() || digits.len() > 38 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude: i128 = digits.parse().ok()?;
    Some(NumericLiteral {
        mantissa: if negative { -magnitude } else { magnitude },
        scale: u32::try_from(fraction.len()).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::super::lexer::tokens;
    use super::super::source::{SourceFormat, read};
    use super::*;

    fn parse(text: &str) -> Result<Vec<Entry>, Problem> {
        let source = read(text, SourceFormat::Free);
        entries(&tokens(&source.lines)?)
    }

    fn one(text: &str) -> Entry {
        let mut entries = parse(text).expect("valid entries");
        assert_eq!(entries.len(), 1);
        entries.remove(0)
    }

    fn problem(text: &str) -> Problem {
        parse(text).expect_err("an invalid entry")
    }

    #[test]
    fn clauses_come_in_any_order_and_any_case() {
        let entry = one("05 amount value zero comp-3 pic is s9(7)v99 sync.");
        assert_eq!(entry.level, 5);
        assert_eq!(entry.name.as_deref(), Some("amount"));
        assert_eq!(entry.picture.map(|p| p.value).as_deref(), Some("s9(7)v99"));
        assert_eq!(entry.usage.map(|u| u.value), Some(Usage::Packed));
        assert!(entry.synchronized.is_some());
        let entry = one("05 TOTAL USAGE IS COMPUTATIONAL-4 PICTURE S9(9).");
        assert_eq!(entry.usage.map(|u| u.value), Some(Usage::Binary));
    }

    #[test]
    fn filler_and_omitted_names_are_unnamed() {
        assert_eq!(one("05 FILLER PIC X(3).").name, None);
        assert_eq!(one("05 PIC X(3).").name, None);
        assert_eq!(one("05 COMP-3 PIC 9.").name, None);
    }

    #[test]
    fn sign_clauses_with_and_without_the_keyword() {
        let entry = one("10 N PIC S9(9) SIGN IS LEADING SEPARATE CHARACTER.");
        assert_eq!(
            entry.sign.map(|s| s.value),
            Some(SignClause {
                position: SignPosition::Leading,
                separate: true
            })
        );
        let entry = one("10 N PIC S9(9) TRAILING.");
        assert_eq!(
            entry.sign.map(|s| s.value),
            Some(SignClause {
                position: SignPosition::Trailing,
                separate: false
            })
        );
    }

    #[test]
    fn occurs_in_all_its_forms() {
        let entry = one("05 T OCCURS 10 TIMES ASCENDING KEY IS K1 K2 INDEXED BY IX1 IX2 PIC X.");
        let occurs = entry.occurs.expect("occurs").value;
        assert_eq!(
            (occurs.min, occurs.max, occurs.depending_on),
            (None, 10, None)
        );
        assert!(
            entry.picture.is_some(),
            "the clause after the index names is read"
        );
        let entry = one("05 T OCCURS 1 TO 80 DEPENDING ON N-ACCTS OF HEADER INDEXED IX.");
        let occurs = entry.occurs.expect("occurs").value;
        assert_eq!((occurs.min, occurs.max), (Some(1), 80));
        let name = occurs.depending_on.expect("depending on").value;
        assert_eq!(name.to_string(), "N-ACCTS OF HEADER");
        let entry = one("05 T OCCURS 5 DEPENDING CNT.");
        assert_eq!(entry.occurs.expect("occurs").value.min, None);
    }

    #[test]
    fn condition_values_with_ranges_and_figurative_constants() {
        let entries = parse(
            "05 STATUS PIC X. 88 OPEN VALUE 'O' 'A'. 88 WEIRD VALUES ARE SPACES, LOW-VALUES \
             'A' THRU 'F' ALL '*'. 05 N PIC S99. 88 SMALL VALUE -5 THROUGH +1.5.",
        )
        .expect("valid");
        let values = |index: usize| entries[index].values.clone().expect("values").value;
        assert_eq!(
            values(1),
            [
                ConditionValue::Single(Literal::Text("O".into())),
                ConditionValue::Single(Literal::Text("A".into())),
            ]
        );
        assert_eq!(
            values(2),
            [
                ConditionValue::Single(Literal::Figurative(Figurative::Spaces)),
                ConditionValue::Single(Literal::Figurative(Figurative::LowValues)),
                ConditionValue::Range(Literal::Text("A".into()), Literal::Text("F".into())),
                ConditionValue::Single(Literal::All(Box::new(Literal::Text("*".into())))),
            ]
        );
        assert_eq!(
            values(4),
            [ConditionValue::Range(
                Literal::Number(NumericLiteral {
                    mantissa: -5,
                    scale: 0
                }),
                Literal::Number(NumericLiteral {
                    mantissa: 15,
                    scale: 1
                }),
            )]
        );
    }

    #[test]
    fn listing_directives_between_entries_are_skipped() {
        let entries = parse("01 R. EJECT 05 A PIC X. SKIP2. 05 B PIC X.").expect("valid");
        assert_eq!(entries.len(), 3);
    }

    #[test]
    fn renames_is_refused_with_what_to_do() {
        let found = problem("01 R.\n  05 A PIC X.\n  66 ALIAS RENAMES A.");
        assert_eq!(found.position, SourcePosition { line: 3, column: 3 });
        assert!(
            found
                .message
                .contains("level 66 (RENAMES) is not supported"),
            "{}",
            found.message
        );
        assert!(found.message.contains("REDEFINES"), "{}", found.message);
    }

    #[test]
    fn a_missing_period_is_reported_at_the_next_level_number() {
        let found = problem("01 R.\n  05 A PIC X(3)\n  05 B PIC X.");
        assert_eq!(found.position, SourcePosition { line: 3, column: 3 });
        assert!(
            found
                .message
                .contains("expected a period to end the entry for A (line 2, column 3)"),
            "{}",
            found.message
        );
    }

    #[test]
    fn errors_say_what_was_expected_and_where() {
        let cases = [
            ("01 R PIC.", (1, 9), "expected a picture string"),
            (
                "01 R PIC X OCCURS MANY.",
                (1, 19),
                "expected the number of occurrences, found MANY",
            ),
            (
                "01 R PIC X OCCURS 1 TO 5.",
                (1, 25),
                "needs the item that holds the count",
            ),
            ("01 R PIC X VALUE.", (1, 17), "expected a literal"),
            (
                "01 R PIC X SIGN IS UP.",
                (1, 20),
                "expected LEADING or TRAILING, found UP",
            ),
            ("01 R PIC X BLANK WHEN NEVER.", (1, 23), "expected ZERO"),
            (
                "01 R PIC X FROB.",
                (1, 12),
                "unexpected FROB in the entry for R",
            ),
            ("01 R USAGE INDEX.", (1, 12), "USAGE INDEX is not supported"),
            ("01 R PIC X PIC X.", (1, 12), "PICTURE is given twice"),
            ("01 R COMP COMP-3.", (1, 11), "USAGE is given twice"),
            ("50 R PIC X.", (1, 1), "level number 50 is not valid"),
            ("R PIC X.", (1, 1), "expected a level number"),
            (
                "01 CUST@ID PIC X.",
                (1, 4),
                "CUST@ID is not a valid data name",
            ),
            (
                "01 R PIC X",
                (1, 10),
                "the entry for R (line 1, column 1) has no period",
            ),
            (
                "01 R PIC X. 88 OK.",
                (1, 13),
                "condition OK (level 88) has no VALUE",
            ),
            (
                "01 R PIC X. 88 OK PIC X.",
                (1, 19),
                "expected VALUE or the period",
            ),
            (
                "01 R PIC X. 88 FILLER VALUE 1.",
                (1, 16),
                "cannot be FILLER",
            ),
            (
                "01 R PIC X. 88 OK VALUE 1 THRU.",
                (1, 31),
                "the literal that ends the THRU",
            ),
            (
                "01 R PIC X VALUE 1.2.3.",
                (1, 18),
                "1.2.3 is not a numeric literal",
            ),
            (
                "COPY CUSTREC.",
                (1, 1),
                "COPY and REPLACE statements are not supported",
            ),
        ];
        for (text, (line, column), message) in cases {
            let found = problem(text);
            assert_eq!(
                found.position,
                SourcePosition { line, column },
                "{text}: {}",
                found.message
            );
            assert!(found.message.contains(message), "{text}: {}", found.message);
        }
    }
}
