//! PICTURE strings: their symbols, category, digits, scale and size.
//!
//! A picture is read into runs of symbols (`S9(7)V99` is `S`, seven `9`s,
//! `V`, two `9`s) and classified:
//!
//! - **alphanumeric** (`X`, or `X`/`A`/`9` mixed), **alphabetic** (`A`
//!   only), **alphanumeric-edited** (those with `B`, `0` or `/`): text, one
//!   character a position;
//! - **numeric** (`9`, `S`, `V`, `P`): `digits` counts the `9`s, `scale` is
//!   the number of digits after the decimal point: the `9`s after `V`, or,
//!   with scaling positions, `P`s before the digits (`PPP9(5)`: scale 8, so
//!   `30503` is 0.00030503) or after them (`9(5)PPP`: scale -3, so `30503`
//!   is 30503000). Like Cobrix, droplake also reads an explicit point among
//!   these symbols (`S9(3).99`) as a numeric display item whose point takes a
//!   character: the standard would call that numeric-edited and refuse `S`.
//! - **numeric-edited** (`Z`, `*`, `+`, `-`, `CR`, `DB`, `$`, `.`, `,`, `B`,
//!   `0`, `/` with digit positions): the digit positions are `9`, `Z`, `*`,
//!   and every symbol of a floating `+`, `-` or `$` string but its first;
//!   the scale counts those after the point (`.` or `V`).
//!
//! `size` is the number of characters the picture takes in DISPLAY usage:
//! every symbol but `S`, `V` and `P` (a separate sign is the SIGN clause's
//! and counted by the item). Not supported, each with its own message:
//! national and DBCS pictures (`N`, `G`, `U`), boolean (`1`), floating-point
//! edited pictures (`E`), `P` in an edited picture, and currency signs other
//! than `$`. `DECIMAL-POINT IS COMMA` is not known to a copybook, so `.` is
//! always the decimal point.

use std::fmt;

use super::Problem;
use super::source::SourcePosition;

/// The most digits a numeric item may have.
pub const MAX_DIGITS: u32 = 38;

/// The most characters one picture may describe.
const MAX_SIZE: u32 = 1 << 28;

/// One symbol of a picture string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Symbol {
    /// `9`: a digit.
    Nine,
    /// `A`: a letter or space.
    Alphabetic,
    /// `X`: any character.
    Any,
    /// `S`: the item is signed (no character of its own unless SEPARATE).
    Sign,
    /// `V`: the implied decimal point (no character).
    ImpliedPoint,
    /// `P`: a scaling position (an assumed zero, no character).
    Scaling,
    /// `Z`: a digit, blank when it is a leading zero.
    ZeroSuppress,
    /// `*`: a digit, `*` when it is a leading zero.
    CheckProtect,
    /// `+`: the sign, `+` or `-` (floating when repeated).
    Plus,
    /// `-`: the sign, blank or `-` (floating when repeated).
    Minus,
    /// `CR`: two characters, `CR` when negative.
    Credit,
    /// `DB`: two characters, `DB` when negative.
    Debit,
    /// `$`: the currency sign (floating when repeated).
    Currency,
    /// `.`: the explicit decimal point.
    Point,
    /// `,`: an inserted comma.
    Comma,
    /// `B`: an inserted blank.
    Blank,
    /// `0`: an inserted zero.
    Zero,
    /// `/`: an inserted slash.
    Slash,
}

impl Symbol {
    /// The symbol as written in a picture.
    pub fn text(self) -> &'static str {
        match self {
            Symbol::Nine => "9",
            Symbol::Alphabetic => "A",
            Symbol::Any => "X",
            Symbol::Sign => "S",
            Symbol::ImpliedPoint => "V",
            Symbol::Scaling => "P",
            Symbol::ZeroSuppress => "Z",
            Symbol::CheckProtect => "*",
            Symbol::Plus => "+",
            Symbol::Minus => "-",
            Symbol::Credit => "CR",
            Symbol::Debit => "DB",
            Symbol::Currency => "$",
            Symbol::Point => ".",
            Symbol::Comma => ",",
            Symbol::Blank => "B",
            Symbol::Zero => "0",
            Symbol::Slash => "/",
        }
    }

    /// The characters one occurrence takes in DISPLAY usage.
    fn width(self) -> u32 {
        match self {
            Symbol::Sign | Symbol::ImpliedPoint | Symbol::Scaling => 0,
            Symbol::Credit | Symbol::Debit => 2,
            _ => 1,
        }
    }
}

/// A symbol repeated `count` times (`9(7)` or `9999999`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PictureRun {
    pub symbol: Symbol,
    pub count: u32,
}

/// What kind of data a picture describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// `A` only: letters and spaces.
    Alphabetic,
    /// `X` (or `X`, `A` and `9` mixed): any characters.
    Alphanumeric,
    /// `X` or `A` with `B`, `0` or `/` insertions: characters.
    AlphanumericEdited,
    /// `9`, `S`, `V`, `P` (and, as Cobrix reads it, one `.`): a number.
    Numeric,
    /// A number with editing symbols, as printed on a report.
    NumericEdited,
}

impl Category {
    /// Whether the item holds a number.
    pub fn is_numeric(self) -> bool {
        matches!(self, Category::Numeric | Category::NumericEdited)
    }
}

/// A parsed PICTURE string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    /// The picture as written, upper-cased (`S9(7)V99`).
    pub text: String,
    /// The symbols in order; adjacent runs of one symbol are merged.
    pub runs: Vec<PictureRun>,
    /// What the picture describes.
    pub category: Category,
    /// Digit positions (see the module documentation); 0 for text.
    pub digits: u32,
    /// Digits after the decimal point: negative with trailing `P`s, more
    /// than `digits` with leading ones; 0 for text.
    pub scale: i32,
    /// `S`, or an editing sign (`+`, `-`, `CR`, `DB`).
    pub signed: bool,
    /// A numeric picture with `.` (a character, unlike `V`).
    pub explicit_point: bool,
    /// Characters in DISPLAY usage, without a separate sign.
    pub size: u32,
}

impl fmt::Display for Picture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Picture {
    /// Total occurrences of `symbol`.
    fn count(&self, symbol: Symbol) -> u32 {
        self.runs
            .iter()
            .filter(|run| run.symbol == symbol)
            .map(|run| run.count)
            .sum()
    }

    fn has(&self, symbol: Symbol) -> bool {
        self.runs.iter().any(|run| run.symbol == symbol)
    }
}

/// Parses the picture string `text` found at `position`.
pub(super) fn parse(text: &str, position: SourcePosition) -> Result<Picture, Problem> {
    let upper = text.to_ascii_uppercase();
    let problem = |message: String| Problem::new(position, format!("PIC {text}: {message}"));
    let runs = runs(&upper).map_err(problem)?;
    let mut picture = Picture {
        text: upper,
        runs,
        category: Category::Alphanumeric,
        digits: 0,
        scale: 0,
        signed: false,
        explicit_point: false,
        size: 0,
    };
    let size = picture
        .runs
        .iter()
        .try_fold(0u32, |size, run| {
            run.count
                .checked_mul(run.symbol.width())
                .and_then(|width| size.checked_add(width))
                .filter(|size| *size <= MAX_SIZE)
        })
        .ok_or_else(|| problem(format!("more than {MAX_SIZE} characters")))?;
    picture.size = size;
    classify(&mut picture).map_err(problem)?;
    Ok(picture)
}

/// The symbols of an upper-cased picture string, with repetition counts
/// applied and adjacent runs of one symbol merged.
fn runs(text: &str) -> Result<Vec<PictureRun>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut runs: Vec<PictureRun> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (symbol, width) = match (chars[i], chars.get(i + 1)) {
            ('9', _) => (Symbol::Nine, 1),
            ('A', _) => (Symbol::Alphabetic, 1),
            ('X', _) => (Symbol::Any, 1),
            ('S', _) => (Symbol::Sign, 1),
            ('V', _) => (Symbol::ImpliedPoint, 1),
            ('P', _) => (Symbol::Scaling, 1),
            ('Z', _) => (Symbol::ZeroSuppress, 1),
            ('*', _) => (Symbol::CheckProtect, 1),
            ('+', _) => (Symbol::Plus, 1),
            ('-', _) => (Symbol::Minus, 1),
            ('C', Some('R')) => (Symbol::Credit, 2),
            ('D', Some('B')) => (Symbol::Debit, 2),
            ('$', _) => (Symbol::Currency, 1),
            ('.', _) => (Symbol::Point, 1),
            (',', _) => (Symbol::Comma, 1),
            ('B', _) => (Symbol::Blank, 1),
            ('0', _) => (Symbol::Zero, 1),
            ('/', _) => (Symbol::Slash, 1),
            ('N' | 'G' | 'U', _) => {
                return Err(format!(
                    "{} (national or DBCS characters) is not supported; only single-byte \
                     pictures (X, A, 9 and the numeric symbols) are",
                    chars[i]
                ));
            }
            ('1', _) => return Err("boolean pictures (1) are not supported".to_string()),
            ('E', _) => {
                return Err("floating-point edited pictures (E) are not supported".to_string());
            }
            ('(', _) => return Err("a repetition count ( ) must follow a symbol".to_string()),
            (other, _) => {
                return Err(format!(
                    "{other:?} is not a PICTURE symbol; expected X, A, 9, S, V, P or an editing \
                     symbol (Z * + - CR DB $ . , B 0 /)"
                ));
            }
        };
        i += width;
        let mut count = 1u32;
        if chars.get(i) == Some(&'(') {
            let close = chars[i..]
                .iter()
                .position(|c| *c == ')')
                .map(|at| i + at)
                .ok_or("a repetition count ( has no closing )")?;
            let digits: String = chars[i + 1..close].iter().collect();
            count = digits
                .parse::<u32>()
                .ok()
                .filter(|count| *count > 0 && digits.chars().all(|c| c.is_ascii_digit()))
                .ok_or_else(|| {
                    format!("({digits}) is not a repetition count; expected a whole number from 1")
                })?;
            i = close + 1;
        }
        match runs.last_mut() {
            Some(last) if last.symbol == symbol => {
                last.count = last.count.checked_add(count).ok_or("too many positions")?;
            }
            _ => runs.push(PictureRun { symbol, count }),
        }
    }
    if runs.is_empty() {
        return Err("the picture is empty".to_string());
    }
    Ok(runs)
}

/// Sets the category, digits, scale and sign of a picture from its runs.
fn classify(picture: &mut Picture) -> Result<(), String> {
    use Symbol::*;
    let textual = picture.has(Any) || picture.has(Alphabetic);
    if textual {
        if let Some(run) = picture
            .runs
            .iter()
            .find(|run| !matches!(run.symbol, Any | Alphabetic | Nine | Blank | Zero | Slash))
        {
            return Err(format!(
                "{} cannot be mixed with X or A: a picture is either text or a number",
                run.symbol.text()
            ));
        }
        picture.category = if picture.has(Blank) || picture.has(Zero) || picture.has(Slash) {
            Category::AlphanumericEdited
        } else if picture.has(Any) || picture.has(Nine) {
            Category::Alphanumeric
        } else {
            Category::Alphabetic
        };
        return Ok(());
    }
    for once in [Sign, ImpliedPoint, Point, Credit, Debit] {
        if picture.count(once) > 1 {
            return Err(format!("{} may appear only once", once.text()));
        }
    }
    if picture.has(ImpliedPoint) && picture.has(Point) {
        return Err("V and . both place the decimal point; use one".to_string());
    }
    if picture
        .runs
        .iter()
        .all(|run| matches!(run.symbol, Nine | Sign | ImpliedPoint | Scaling | Point))
    {
        numeric(picture)
    } else {
        numeric_edited(picture)
    }
}

/// A picture of `9`, `S`, `V`, `P` and at most one `.`.
fn numeric(picture: &mut Picture) -> Result<(), String> {
    use Symbol::*;
    let runs = &picture.runs;
    if let Some(at) = runs.iter().position(|run| run.symbol == Sign)
        && at != 0
    {
        return Err("S must come first".to_string());
    }
    let nines: Vec<usize> = (0..runs.len())
        .filter(|i| runs[*i].symbol == Nine)
        .collect();
    let (Some(&first_nine), Some(&last_nine)) = (nines.first(), nines.last()) else {
        return Err("a numeric picture needs at least one 9".to_string());
    };
    let scaling: Vec<usize> = (0..runs.len())
        .filter(|i| runs[*i].symbol == Scaling)
        .collect();
    let leading = scaling.iter().all(|i| *i < first_nine) && !scaling.is_empty();
    let trailing = scaling.iter().all(|i| *i > last_nine) && !scaling.is_empty();
    if !scaling.is_empty() && !leading && !trailing {
        return Err(
            "P (scaling) may only stand before all the 9s or after all of them".to_string(),
        );
    }
    let point = runs
        .iter()
        .position(|run| matches!(run.symbol, ImpliedPoint | Point));
    let digits = picture.count(Nine);
    let positions = picture.count(Scaling);
    let scale = if leading {
        if point.is_some_and(|at| at > scaling[0]) {
            return Err(
                "with leading P the decimal point is before the P; write V first".to_string(),
            );
        }
        i64::from(positions) + i64::from(digits)
    } else if trailing {
        if point.is_some_and(|at| at < scaling[scaling.len() - 1]) {
            return Err("with trailing P the decimal point is after the P".to_string());
        }
        -i64::from(positions)
    } else {
        match point {
            Some(at) => runs[at..]
                .iter()
                .filter(|run| run.symbol == Nine)
                .map(|run| i64::from(run.count))
                .sum(),
            None => 0,
        }
    };
    if digits > MAX_DIGITS {
        return Err(format!(
            "{digits} digits; droplake reads numbers of at most {MAX_DIGITS} digits"
        ));
    }
    picture.category = Category::Numeric;
    picture.digits = digits;
    picture.scale = i32::try_from(scale).map_err(|_| "too many scaling positions".to_string())?;
    picture.signed = picture.has(Sign);
    picture.explicit_point = picture.has(Point);
    Ok(())
}

/// A numeric-edited picture.
fn numeric_edited(picture: &mut Picture) -> Result<(), String> {
    use Symbol::*;
    if picture.has(Sign) {
        return Err(
            "S cannot be used in an edited picture; the sign is written with + - CR or DB"
                .to_string(),
        );
    }
    if picture.has(Scaling) {
        return Err("P in an edited picture is not supported".to_string());
    }
    // A floating string (`+++9`, `$$,$$9`): its first symbol is the sign or
    // currency sign, each further one a digit position.
    let floating = |symbol: Symbol| picture.count(symbol) > 1;
    let mut seen = Vec::new();
    let mut digits = 0u32;
    let mut after_point = 0u32;
    let mut point_seen = false;
    for run in &picture.runs {
        let first = !seen.contains(&run.symbol);
        seen.push(run.symbol);
        let here = match run.symbol {
            Point | ImpliedPoint => {
                point_seen = true;
                0
            }
            Nine | ZeroSuppress | CheckProtect => run.count,
            Plus | Minus | Currency if floating(run.symbol) => run.count - u32::from(first),
            _ => 0,
        };
        digits += here;
        if point_seen {
            after_point += here;
        }
    }
    if digits == 0 {
        return Err(
            "an edited picture needs digit positions (9, Z, * or a floating + - $)".to_string(),
        );
    }
    if digits > MAX_DIGITS {
        return Err(format!(
            "{digits} digits; droplake reads numbers of at most {MAX_DIGITS} digits"
        ));
    }
    picture.category = Category::NumericEdited;
    picture.digits = digits;
    picture.scale = i32::try_from(after_point).map_err(|_| "too many digits".to_string())?;
    picture.signed =
        picture.has(Plus) || picture.has(Minus) || picture.has(Credit) || picture.has(Debit);
    picture.explicit_point = picture.has(Point);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pic(text: &str) -> Picture {
        parse(text, SourcePosition::default()).expect("a valid picture")
    }

    fn error(text: &str) -> String {
        parse(
            text,
            SourcePosition {
                line: 3,
                column: 20,
            },
        )
        .expect_err("an invalid picture")
        .message
    }

    #[test]
    fn repetition_counts_and_repeated_symbols_merge_into_runs() {
        let picture = pic("s9(4)99v9(2)");
        assert_eq!(picture.text, "S9(4)99V9(2)");
        assert_eq!(
            picture.runs,
            [
                PictureRun {
                    symbol: Symbol::Sign,
                    count: 1
                },
                PictureRun {
                    symbol: Symbol::Nine,
                    count: 6
                },
                PictureRun {
                    symbol: Symbol::ImpliedPoint,
                    count: 1
                },
                PictureRun {
                    symbol: Symbol::Nine,
                    count: 2
                },
            ]
        );
        assert_eq!(
            (picture.digits, picture.scale, picture.signed),
            (8, 2, true)
        );
        assert_eq!(picture.size, 8, "S and V take no character");
        assert_eq!(picture.category, Category::Numeric);
    }

    #[test]
    fn text_pictures_are_sized_by_their_characters() {
        assert_eq!(pic("X(20)").size, 20);
        assert_eq!(pic("X(20)").category, Category::Alphanumeric);
        assert_eq!(pic("A(10)").category, Category::Alphabetic);
        assert_eq!(pic("AAX9").category, Category::Alphanumeric);
        let edited = pic("XXBXX/XX");
        assert_eq!(
            (edited.category, edited.size),
            (Category::AlphanumericEdited, 8)
        );
    }

    #[test]
    fn scaling_positions_move_the_decimal_point_without_taking_space() {
        let leading = pic("PPP9(5)");
        assert_eq!((leading.digits, leading.scale, leading.size), (5, 8, 5));
        let signed_leading = pic("SPP99999");
        assert_eq!((signed_leading.digits, signed_leading.scale), (5, 7));
        let after_v = pic("SVPP99");
        assert_eq!((after_v.digits, after_v.scale), (2, 4));
        let trailing = pic("9(5)PPP");
        assert_eq!((trailing.digits, trailing.scale, trailing.size), (5, -3, 5));
        assert!(error("9P9").contains("P (scaling) may only stand"));
        assert!(error("PP9V9").contains("before the P"));
    }

    #[test]
    fn an_explicit_point_in_a_numeric_picture_takes_a_character() {
        let picture = pic("S9(3).99");
        assert_eq!(picture.category, Category::Numeric);
        assert!(picture.explicit_point);
        assert_eq!((picture.digits, picture.scale, picture.size), (5, 2, 6));
        assert_eq!(pic("9(8).9(2)").size, 11);
    }

    #[test]
    fn the_cobrix_edited_pictures_have_their_digits_scale_and_size() {
        // (picture, digits, scale, signed, size) as the Cobrix test6 layout has them.
        let cases = [
            ("+9(8)", 8, 0, true, 9),
            ("9(8)+", 8, 0, true, 9),
            ("-9(8)", 8, 0, true, 9),
            ("Z(8)-", 8, 0, true, 9),
            ("+9(6)V99", 8, 2, true, 9),
            ("Z(6)VZZ-", 8, 2, true, 9),
            ("9(6).99-", 8, 2, true, 10),
        ];
        for (text, digits, scale, signed, size) in cases {
            let picture = pic(text);
            assert_eq!(picture.category, Category::NumericEdited, "{text}");
            assert_eq!(
                (picture.digits, picture.scale, picture.signed, picture.size),
                (digits, scale, signed, size),
                "{text}"
            );
        }
    }

    #[test]
    fn floating_insertion_strings_give_all_but_their_first_symbol_as_digits() {
        let money = pic("$$,$$9.99CR");
        assert_eq!((money.digits, money.scale, money.size), (6, 2, 11));
        assert!(money.signed);
        let plus = pic("++++9");
        assert_eq!((plus.digits, plus.size), (4, 5));
        let stars = pic("**,**9.99");
        assert_eq!((stars.digits, stars.scale, stars.signed), (7, 2, false));
    }

    #[test]
    fn malformed_pictures_are_refused_with_the_reason() {
        assert!(error("X(").contains("no closing )"));
        assert!(error("X(0)").contains("(0) is not a repetition count"));
        assert!(error("9(A)").contains("(A) is not a repetition count"));
        assert!(error("(5)").contains("must follow a symbol"));
        assert!(error("9S9").contains("S must come first"));
        assert!(error("S9V9V9").contains("V may appear only once"));
        assert!(error("99V.99").contains("use one"));
        assert!(error("X(5)V9").contains("cannot be mixed with X or A"));
        assert!(error("N(10)").contains("national"));
        assert!(error("+9.9E+99").contains("floating-point edited"));
        assert!(error("9(39)").contains("at most 38 digits"));
        assert!(error("SV").contains("at least one 9"));
        assert!(error("9#9").contains("'#' is not a PICTURE symbol"));
        assert!(error("SZZ9").contains("S cannot be used in an edited picture"));
        let message = error("X(");
        assert!(message.starts_with("PIC X(: "), "{message}");
    }
}
