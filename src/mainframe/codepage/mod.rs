//! Code pages: how the bytes of a text field become characters, and back.
//!
//! The EBCDIC pages are full tables of 256 entries (generated into
//! `tables.rs` by `tools/codepages.py` from the IBM mappings), so every byte
//! decodes to exactly one character and every character of a page encodes
//! back to exactly one byte. `ascii` takes 0x00–0x7F; `latin1` all 256 bytes.
//!
//! Decoding is lenient by default, as an inspection tool and most loads
//! want: a byte that is a control character in the page (binary data in a
//! text field) still decodes to that control character. Strict decoding
//! refuses it, and for `ascii` also refuses bytes above 0x7F, naming the
//! byte and its offset. Zoned decimals never come through here: they are
//! read from their nibbles (see `number`).

mod tables;

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

/// A code page a text field may be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodePage {
    Cp037,
    Cp273,
    Cp500,
    Cp1047,
    Cp1140,
    Cp1141,
    Cp1142,
    Cp1143,
    Cp1144,
    Cp1145,
    Cp1146,
    Cp1147,
    Cp1148,
    Ascii,
    Latin1,
}

/// Every code page, with the name it is chosen by.
const NAMES: [(CodePage, &str); 15] = [
    (CodePage::Cp037, "cp037"),
    (CodePage::Cp273, "cp273"),
    (CodePage::Cp500, "cp500"),
    (CodePage::Cp1047, "cp1047"),
    (CodePage::Cp1140, "cp1140"),
    (CodePage::Cp1141, "cp1141"),
    (CodePage::Cp1142, "cp1142"),
    (CodePage::Cp1143, "cp1143"),
    (CodePage::Cp1144, "cp1144"),
    (CodePage::Cp1145, "cp1145"),
    (CodePage::Cp1146, "cp1146"),
    (CodePage::Cp1147, "cp1147"),
    (CodePage::Cp1148, "cp1148"),
    (CodePage::Ascii, "ascii"),
    (CodePage::Latin1, "latin1"),
];

impl CodePage {
    /// The name it is chosen by, such as `cp037`.
    pub fn name(self) -> &'static str {
        NAMES
            .iter()
            .find(|(page, _)| *page == self)
            .map_or("", |(_, name)| name)
    }

    /// Whether it is an EBCDIC page (digits at 0xF0–0xF9, space at 0x40).
    pub fn is_ebcdic(self) -> bool {
        !matches!(self, CodePage::Ascii | CodePage::Latin1)
    }

    /// The byte a space is written as.
    pub fn space(self) -> u8 {
        if self.is_ebcdic() { 0x40 } else { b' ' }
    }

    fn table(self) -> Option<&'static [u16; 256]> {
        Some(match self {
            CodePage::Cp037 => &tables::CP037,
            CodePage::Cp273 => &tables::CP273,
            CodePage::Cp500 => &tables::CP500,
            CodePage::Cp1047 => &tables::CP1047,
            CodePage::Cp1140 => &tables::CP1140,
            CodePage::Cp1141 => &tables::CP1141,
            CodePage::Cp1142 => &tables::CP1142,
            CodePage::Cp1143 => &tables::CP1143,
            CodePage::Cp1144 => &tables::CP1144,
            CodePage::Cp1145 => &tables::CP1145,
            CodePage::Cp1146 => &tables::CP1146,
            CodePage::Cp1147 => &tables::CP1147,
            CodePage::Cp1148 => &tables::CP1148,
            CodePage::Ascii | CodePage::Latin1 => return None,
        })
    }
}

impl fmt::Display for CodePage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for CodePage {
    type Err = String;

    /// Accepts `cp037`, `CP037`, `ibm-037`, `ibm037` and `037` alike, and
    /// `us-ascii`/`iso-8859-1` for the two ASCII pages.
    fn from_str(name: &str) -> Result<CodePage, String> {
        let lower = name.trim().to_ascii_lowercase();
        let key = match lower.as_str() {
            "us-ascii" => "ascii",
            "iso-8859-1" | "iso8859-1" | "latin-1" => "latin1",
            other => other,
        };
        let digits = key
            .strip_prefix("cp")
            .or_else(|| key.strip_prefix("ibm-"))
            .or_else(|| key.strip_prefix("ibm"))
            .unwrap_or(key);
        NAMES
            .iter()
            .find(|(_, known)| *known == key || known.strip_prefix("cp") == Some(digits))
            .map(|(page, _)| *page)
            .ok_or_else(|| {
                let known: Vec<&str> = NAMES.iter().map(|(_, name)| *name).collect();
                format!("unknown code page {name:?}; known: {}", known.join(", "))
            })
    }
}

/// Which EBCDIC byte is the line feed.
///
/// IBM's tables map 0x15 to NEL (U+0085) and 0x25 to LF. z/OS UNIX and
/// some transfer programs swap the two, so that 0x15 is LF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Newline {
    /// 0x15 is NEL, 0x25 is LF: the IBM tables.
    #[default]
    Nel,
    /// 0x15 is LF, 0x25 is NEL.
    Lf,
}

/// A byte of a text field that the code page cannot take as text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("byte 0x{byte:02X} at offset {offset} is not a printable character in {page}")]
pub struct Unmappable {
    pub byte: u8,
    /// The offset of the byte within the bytes decoded.
    pub offset: usize,
    pub page: CodePage,
}

/// A character that has no byte in the code page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unencodable {
    pub character: char,
    pub page: CodePage,
}

impl fmt::Display for Unencodable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = u32::from(self.character);
        write!(
            f,
            "character {:?} (U+{code:04X}) cannot be written in {}",
            self.character, self.page
        )
    }
}

impl std::error::Error for Unencodable {}

/// A code page with its choices, ready to decode and encode text.
#[derive(Debug, Clone, Copy)]
pub struct Charset {
    page: CodePage,
    newline: Newline,
    /// Byte to character, or `None` for ascii above 0x7F.
    decode: [Option<char>; 256],
    /// Byte to the ASCII byte of its character, or 0x80 (never valid
    /// UTF-8 alone) when the character is not ASCII: the fast path.
    ascii: [u8; 256],
}

impl Charset {
    pub fn new(page: CodePage, newline: Newline) -> Charset {
        let mut decode = [None; 256];
        for (byte, slot) in decode.iter_mut().enumerate() {
            let code = match page.table() {
                Some(table) => u32::from(table[byte]),
                None if page == CodePage::Ascii && byte > 0x7F => continue,
                None => byte as u32,
            };
            *slot = char::from_u32(code);
        }
        if page.is_ebcdic() && newline == Newline::Lf {
            decode.swap(0x15, 0x25);
        }
        let mut ascii = [0x80; 256];
        for (slot, character) in ascii.iter_mut().zip(decode) {
            if let Some(byte) = character
                .and_then(|c| u8::try_from(c).ok())
                .filter(u8::is_ascii)
            {
                *slot = byte;
            }
        }
        Charset {
            page,
            newline,
            decode,
            ascii,
        }
    }

    pub fn page(&self) -> CodePage {
        self.page
    }

    pub fn newline(&self) -> Newline {
        self.newline
    }

    /// The character of one byte: `None` only for ascii above 0x7F.
    pub fn char_of(&self, byte: u8) -> Option<char> {
        self.decode[usize::from(byte)]
    }

    /// Decodes `bytes` leniently: control bytes become their control
    /// characters, and ascii bytes above 0x7F become U+FFFD.
    pub fn decode_lossy(&self, bytes: &[u8], out: &mut String) {
        // Most text is ASCII once decoded: a byte for a byte through a
        // table, and one check that no byte stood for anything else.
        let mapped: Vec<u8> = bytes
            .iter()
            .map(|&byte| self.ascii[usize::from(byte)])
            .collect();
        if let Ok(text) = String::from_utf8(mapped) {
            if out.is_empty() {
                *out = text;
            } else {
                out.push_str(&text);
            }
            return;
        }
        out.reserve(bytes.len());
        for &byte in bytes {
            out.push(self.decode[usize::from(byte)].unwrap_or(char::REPLACEMENT_CHARACTER));
        }
    }

    /// Decodes `bytes`, refusing any byte that is not a printable character.
    pub fn decode_strict(&self, bytes: &[u8], out: &mut String) -> Result<(), Unmappable> {
        out.reserve(bytes.len());
        for (offset, &byte) in bytes.iter().enumerate() {
            match self.decode[usize::from(byte)] {
                Some(character) if !character.is_control() => out.push(character),
                _ => {
                    return Err(Unmappable {
                        byte,
                        offset,
                        page: self.page,
                    });
                }
            }
        }
        Ok(())
    }

    /// The byte of one character.
    pub fn byte_of(&self, character: char) -> Result<u8, Unencodable> {
        let unencodable = Unencodable {
            character,
            page: self.page,
        };
        let Some(table) = self.page.table() else {
            let code = u32::from(character);
            let limit = if self.page == CodePage::Ascii {
                0x7F
            } else {
                0xFF
            };
            return u8::try_from(code)
                .ok()
                .filter(|byte| u32::from(*byte) <= limit)
                .ok_or(unencodable);
        };
        let byte = reverse(self.page, table)
            .binary_search_by_key(&u32::from(character), |(code, _)| u32::from(*code))
            .map(|at| reverse(self.page, table)[at].1)
            .map_err(|_| unencodable)?;
        Ok(match (self.newline, byte) {
            (Newline::Lf, 0x15) => 0x25,
            (Newline::Lf, 0x25) => 0x15,
            _ => byte,
        })
    }

    /// Encodes `text` into `out`.
    pub fn encode(&self, text: &str, out: &mut Vec<u8>) -> Result<(), Unencodable> {
        out.reserve(text.len());
        for character in text.chars() {
            out.push(self.byte_of(character)?);
        }
        Ok(())
    }
}

/// The page's characters sorted, each with its byte: built once per page.
fn reverse(page: CodePage, table: &[u16; 256]) -> &'static [(u16, u8)] {
    static REVERSE: [OnceLock<Vec<(u16, u8)>>; NAMES.len()] = [const { OnceLock::new() }; 15];
    let index = NAMES
        .iter()
        .position(|(known, _)| *known == page)
        .unwrap_or(0);
    REVERSE[index].get_or_init(|| {
        let mut pairs: Vec<(u16, u8)> = (0..=255u8)
            .map(|byte| (table[usize::from(byte)], byte))
            .collect();
        pairs.sort_unstable();
        pairs
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(page: CodePage, bytes: &[u8]) -> String {
        let mut out = String::new();
        Charset::new(page, Newline::Nel).decode_lossy(bytes, &mut out);
        out
    }

    #[test]
    fn every_ebcdic_page_has_digits_letters_and_space_where_ebcdic_puts_them() {
        for (page, _) in NAMES.iter().filter(|(page, _)| page.is_ebcdic()) {
            assert_eq!(decode(*page, &[0xF0, 0xF9, 0x40]), "09 ", "{page}");
            assert_eq!(
                decode(*page, &[0xC1, 0xC9, 0xD1, 0xE2, 0xE9]),
                "AIJSZ",
                "{page}"
            );
            assert_eq!(decode(*page, &[0x81, 0xA9]), "az", "{page}");
        }
    }

    #[test]
    fn the_euro_pages_put_the_euro_sign_at_0x9f() {
        for page in [CodePage::Cp1140, CodePage::Cp1141, CodePage::Cp1148] {
            assert_eq!(decode(page, &[0x9F]), "€", "{page}");
        }
        assert_eq!(decode(CodePage::Cp037, &[0x9F]), "¤");
    }

    #[test]
    fn pages_differ_where_ibm_says_they_do() {
        // The brackets: cp037 0xBA/0xBB, cp1047 0xAD/0xBD, cp500 0x4A/0x5A.
        assert_eq!(decode(CodePage::Cp037, &[0xBA, 0xBB]), "[]");
        assert_eq!(decode(CodePage::Cp1047, &[0xAD, 0xBD]), "[]");
        assert_eq!(decode(CodePage::Cp500, &[0x4A, 0x5A]), "[]");
        assert_eq!(decode(CodePage::Cp273, &[0x4A, 0xC0, 0xBC]), "Ää‾");
    }

    #[test]
    fn the_newline_choice_swaps_0x15_and_0x25() {
        let ibm = Charset::new(CodePage::Cp1047, Newline::Nel);
        let unix = Charset::new(CodePage::Cp1047, Newline::Lf);
        assert_eq!(ibm.char_of(0x15), Some('\u{85}'));
        assert_eq!(ibm.char_of(0x25), Some('\n'));
        assert_eq!(unix.char_of(0x15), Some('\n'));
        assert_eq!(unix.byte_of('\n'), Ok(0x15));
        assert_eq!(unix.byte_of('\u{85}'), Ok(0x25));
    }

    #[test]
    fn every_byte_of_every_page_encodes_back_to_itself() {
        for (page, _) in NAMES {
            for newline in [Newline::Nel, Newline::Lf] {
                let charset = Charset::new(page, newline);
                for byte in 0..=255u8 {
                    if let Some(character) = charset.char_of(byte) {
                        assert_eq!(charset.byte_of(character), Ok(byte), "{page} 0x{byte:02X}");
                    }
                }
            }
        }
    }

    #[test]
    fn strict_decoding_refuses_control_bytes_and_names_the_offset() {
        let charset = Charset::new(CodePage::Cp037, Newline::Nel);
        let mut out = String::new();
        let error = charset
            .decode_strict(&[0xC1, 0x00], &mut out)
            .expect_err("refused");
        assert_eq!(error.offset, 1);
        assert_eq!(
            error.to_string(),
            "byte 0x00 at offset 1 is not a printable character in cp037"
        );
        let ascii = Charset::new(CodePage::Ascii, Newline::Nel);
        assert!(ascii.decode_strict(b"ok\xE9", &mut String::new()).is_err());
        let mut lossy = String::new();
        ascii.decode_lossy(b"ok\xE9", &mut lossy);
        assert_eq!(lossy, "ok\u{FFFD}");
    }

    #[test]
    fn characters_a_page_lacks_are_refused_by_name() {
        let charset = Charset::new(CodePage::Cp037, Newline::Nel);
        let error = charset
            .encode("price: 5€", &mut Vec::new())
            .expect_err("refused");
        assert_eq!(
            error.to_string(),
            "character '€' (U+20AC) cannot be written in cp037"
        );
        let mut out = Vec::new();
        Charset::new(CodePage::Cp1140, Newline::Nel)
            .encode("5€", &mut out)
            .expect("cp1140 has the euro");
        assert_eq!(out, [0xF5, 0x9F]);
    }

    #[test]
    fn names_are_read_the_ways_people_write_them() {
        for name in ["cp037", "CP037", "ibm-037", "IBM037", "037"] {
            assert_eq!(name.parse::<CodePage>(), Ok(CodePage::Cp037), "{name}");
        }
        assert_eq!("ISO-8859-1".parse::<CodePage>(), Ok(CodePage::Latin1));
        let error = "cp999".parse::<CodePage>().expect_err("refused");
        assert!(
            error.starts_with("unknown code page \"cp999\"; known: cp037, cp273"),
            "{error}"
        );
    }
}
