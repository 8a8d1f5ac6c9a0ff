//! Tokens of copybook code: words, literals and the periods that end entries.
//!
//! COBOL separates words by blanks; a period, comma or semicolon is a
//! separator only when a blank or the end of a line follows it, so a picture
//! string such as `9(6).99-` or `$$,$$9.99` stays one word. Alphanumeric
//! literals are quoted with `'` or `"` (the quote doubled inside); `X'C1C2'`
//! is a hexadecimal literal. `*>` outside a literal comments out the rest of
//! the line. In fixed format a line with `-` in column 7 continues the
//! previous line: a word goes on with the continuation line's first
//! non-blank character; a literal left open runs to column 72 and goes on
//! after the quote that opens the continuation line.

use super::Problem;
use super::source::{Char, Line, SourcePosition};

/// What a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TokenKind {
    /// A COBOL word: a keyword, a name, a level number, a numeric literal or
    /// a picture string, as written.
    Word(String),
    /// An alphanumeric literal, without its quotes.
    Text(String),
    /// A hexadecimal literal's bytes.
    Hex(Vec<u8>),
    /// The period that ends an entry.
    Period,
}

/// A token and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Token {
    pub kind: TokenKind,
    pub position: SourcePosition,
}

/// The tokens of `lines`, in order.
pub(super) fn tokens(lines: &[Line]) -> Result<Vec<Token>, Problem> {
    let mut lexer = Lexer {
        lines,
        line: 0,
        index: 0,
        tokens: Vec::new(),
    };
    lexer.run()?;
    Ok(lexer.tokens)
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn is_quote(c: char) -> bool {
    c == '\'' || c == '"'
}

struct Lexer<'s> {
    lines: &'s [Line],
    /// The current line and the index of the next character in it.
    line: usize,
    index: usize,
    tokens: Vec<Token>,
}

impl Lexer<'_> {
    fn char_at(&self, ahead: usize) -> Option<Char> {
        self.lines
            .get(self.line)
            .and_then(|line| line.chars.get(self.index + ahead))
            .copied()
    }

    fn peek(&self) -> Option<char> {
        self.char_at(0).map(|c| c.c)
    }

    /// Whether a separator may follow at `ahead`: a blank or the line's end.
    fn blank_or_end_at(&self, ahead: usize) -> bool {
        self.char_at(ahead).is_none_or(|c| is_blank(c.c))
    }

    /// The position of the next character, or the end of the current line.
    fn position(&self) -> SourcePosition {
        match self.char_at(0) {
            Some(c) => c.position,
            None => self.lines[self.line].end(),
        }
    }

    /// Whether only blanks are left on the current line.
    fn rest_is_blank(&self) -> bool {
        self.lines[self.line].chars[self.index.min(self.lines[self.line].chars.len())..]
            .iter()
            .all(|c| is_blank(c.c))
    }

    fn next_is_continuation(&self) -> bool {
        self.lines
            .get(self.line + 1)
            .is_some_and(|line| line.continuation)
    }

    /// Moves to the first non-blank character of the next line (a
    /// continuation line).
    fn continue_on_next_line(&mut self) {
        self.line += 1;
        self.index = self.lines[self.line]
            .chars
            .iter()
            .position(|c| !is_blank(c.c))
            .unwrap_or(self.lines[self.line].chars.len());
    }

    fn push(&mut self, kind: TokenKind, position: SourcePosition) {
        self.tokens.push(Token { kind, position });
    }

    fn run(&mut self) -> Result<(), Problem> {
        while self.line < self.lines.len() {
            let Some(c) = self.char_at(0) else {
                self.line += 1;
                self.index = 0;
                continue;
            };
            match c.c {
                c if is_blank(c) => self.index += 1,
                '*' if self.char_at(1).is_some_and(|next| next.c == '>') => {
                    self.index = self.lines[self.line].chars.len();
                }
                '.' if self.blank_or_end_at(1) => {
                    self.push(TokenKind::Period, c.position);
                    self.index += 1;
                }
                ',' | ';' if self.blank_or_end_at(1) => self.index += 1,
                quote if is_quote(quote) => {
                    let text = self.literal(c)?;
                    self.push(TokenKind::Text(text), c.position);
                }
                control if control.is_control() => {
                    return Err(Problem::new(
                        c.position,
                        format!(
                            "unexpected control character U+{:04X}; a copybook is text",
                            u32::from(control)
                        ),
                    ));
                }
                _ => self.word(c.position)?,
            }
        }
        Ok(())
    }

    /// A word, or a hexadecimal literal when the word is `X` followed by a
    /// quote.
    fn word(&mut self, start: SourcePosition) -> Result<(), Problem> {
        let mut text = String::new();
        loop {
            match self.char_at(0) {
                None => {
                    if self.next_is_continuation() {
                        self.continue_on_next_line();
                        continue;
                    }
                    break;
                }
                Some(c) if is_blank(c.c) => {
                    if self.rest_is_blank() && self.next_is_continuation() {
                        self.continue_on_next_line();
                        continue;
                    }
                    break;
                }
                Some(c) if is_quote(c.c) => {
                    if text.eq_ignore_ascii_case("X") {
                        let digits = self.literal(c)?;
                        self.push(TokenKind::Hex(hex_bytes(&digits, start)?), start);
                        return Ok(());
                    }
                    if ["N", "G", "Z", "NX", "U"]
                        .iter()
                        .any(|prefix| text.eq_ignore_ascii_case(prefix))
                    {
                        return Err(Problem::new(
                            start,
                            format!(
                                "{text}-literals (national, DBCS and null-terminated) are not \
                                 supported; write the value as an alphanumeric 'literal'"
                            ),
                        ));
                    }
                    break;
                }
                Some(c) if matches!(c.c, '.' | ',' | ';') && self.blank_or_end_at(1) => break,
                Some(c) => {
                    text.push(c.c);
                    self.index += 1;
                }
            }
        }
        self.push(TokenKind::Word(text), start);
        Ok(())
    }

    /// An alphanumeric literal opened by `open` at the cursor, with its
    /// doubled quotes undone and its continuations joined.
    fn literal(&mut self, open: Char) -> Result<String, Problem> {
        let quote = open.c;
        let mut text = String::new();
        self.index += 1;
        loop {
            match self.peek() {
                Some(c) if c == quote => {
                    if self.char_at(1).is_some_and(|next| next.c == quote) {
                        text.push(quote);
                        self.index += 2;
                    } else {
                        self.index += 1;
                        return Ok(text);
                    }
                }
                Some(c) => {
                    text.push(c);
                    self.index += 1;
                }
                None if self.next_is_continuation() => {
                    let padding = self.lines[self.line].padding as usize;
                    text.extend(std::iter::repeat_n(' ', padding));
                    self.continue_on_next_line();
                    match self.char_at(0) {
                        Some(c) if c.c == quote => self.index += 1,
                        found => {
                            let what =
                                found.map_or("nothing".to_string(), |c| format!("{:?}", c.c));
                            return Err(Problem::new(
                                self.position(),
                                format!(
                                    "the literal opened at {} is continued on this line, which \
                                     must go on with a {quote} before the rest of it; found {what}",
                                    open.position
                                ),
                            ));
                        }
                    }
                }
                None => {
                    return Err(Problem::new(
                        open.position,
                        format!(
                            "this literal has no closing {quote}: close it on the same line, or \
                             in fixed format continue it on the next line with '-' in column 7 \
                             and a {quote} before the rest"
                        ),
                    ));
                }
            }
        }
    }
}

/// The bytes of a hexadecimal literal's digits.
fn hex_bytes(digits: &str, start: SourcePosition) -> Result<Vec<u8>, Problem> {
    hex::decode(digits).map_err(|_| {
        Problem::new(
            start,
            format!(
                "X'{digits}' is not a hexadecimal literal: it needs an even number of the digits \
                 0-9 and A-F"
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::super::source::{SourceFormat, read};
    use super::*;

    fn lex(text: &str, format: SourceFormat) -> Result<Vec<TokenKind>, Problem> {
        let source = read(text, format);
        tokens(&source.lines).map(|tokens| tokens.into_iter().map(|t| t.kind).collect())
    }

    fn word(text: &str) -> TokenKind {
        TokenKind::Word(text.to_string())
    }

    #[test]
    fn a_period_ends_an_entry_only_before_a_blank_or_the_line_end() {
        let kinds = lex(
            "05 AMOUNT PIC 9(6).99-. 05 B PIC $$,$$9.99, VALUE 1.5.",
            SourceFormat::Free,
        )
        .expect("valid");
        assert_eq!(
            kinds,
            [
                word("05"),
                word("AMOUNT"),
                word("PIC"),
                word("9(6).99-"),
                TokenKind::Period,
                word("05"),
                word("B"),
                word("PIC"),
                word("$$,$$9.99"),
                word("VALUE"),
                word("1.5"),
                TokenKind::Period,
            ]
        );
    }

    #[test]
    fn literals_keep_blanks_and_undo_doubled_quotes() {
        let kinds = lex(
            r#"88 A VALUE 'IT''S' "say ""hi""" X'C1f2' ' '."#,
            SourceFormat::Free,
        )
        .expect("valid");
        assert_eq!(
            kinds[3..],
            [
                TokenKind::Text("IT'S".into()),
                TokenKind::Text("say \"hi\"".into()),
                TokenKind::Hex(vec![0xC1, 0xF2]),
                TokenKind::Text(" ".into()),
                TokenKind::Period,
            ]
        );
    }

    #[test]
    fn floating_comments_are_dropped_outside_literals() {
        let kinds = lex(
            "05 A PIC X. *> the 'key'\n88 B VALUE '*>'.",
            SourceFormat::Free,
        )
        .expect("valid");
        assert_eq!(
            kinds[5..],
            [
                word("88"),
                word("B"),
                word("VALUE"),
                TokenKind::Text("*>".into()),
                TokenKind::Period
            ]
        );
    }

    #[test]
    fn a_literal_continued_in_fixed_format_runs_to_column_72() {
        let first = format!("       88 LONG VALUE 'ABC{}", " ".repeat(10));
        let text = format!("{first}\n      -    'DEF'.");
        let kinds = lex(&text, SourceFormat::Fixed).expect("valid");
        let expected = format!("ABC{}DEF", " ".repeat(72 - 25));
        assert_eq!(kinds[3], TokenKind::Text(expected));
    }

    #[test]
    fn a_word_continued_in_fixed_format_joins_without_a_blank() {
        let text = "       05 CUSTOMER-NA\n      -    ME PIC X.";
        let kinds = lex(text, SourceFormat::Fixed).expect("valid");
        assert_eq!(kinds[1], word("CUSTOMER-NAME"));
        assert_eq!(kinds[2], word("PIC"));
    }

    #[test]
    fn an_unclosed_literal_is_an_error_at_its_quote() {
        let problem = lex(
            "       88 A VALUE 'ABC.\n       88 B VALUE 'D'.",
            SourceFormat::Fixed,
        )
        .expect_err("unclosed");
        assert_eq!(
            problem.position,
            SourcePosition {
                line: 1,
                column: 19
            }
        );
        assert!(
            problem.message.contains("no closing '"),
            "{}",
            problem.message
        );
    }

    #[test]
    fn a_continuation_must_resume_a_literal_with_a_quote() {
        let problem = lex(
            "       88 A VALUE 'ABC\n      -    DEF'.",
            SourceFormat::Fixed,
        )
        .expect_err("no quote");
        assert_eq!(
            problem.position,
            SourcePosition {
                line: 2,
                column: 12
            }
        );
        assert!(
            problem.message.contains("line 1, column 19"),
            "{}",
            problem.message
        );
    }

    #[test]
    fn bad_hexadecimal_and_national_literals_are_errors() {
        let problem = lex("88 A VALUE X'C1F'.", SourceFormat::Free).expect_err("odd digits");
        assert!(problem.message.contains("X'C1F'"), "{}", problem.message);
        let problem = lex("88 A VALUE N'AB'.", SourceFormat::Free).expect_err("national");
        assert!(
            problem.message.contains("not supported"),
            "{}",
            problem.message
        );
    }
}
