//! Decoding layers between a file's bytes and a reader: gzip, byte order
//! marks, legacy text encodings, and the buffered input readers parse from.
//!
//! [`decoded`] peeks at the first bytes of the input. The gzip magic
//! (`1f 8b`) means gzip, whatever the file is called; a `.gz` name without
//! the magic is read as it is. Then a byte order mark decides the encoding,
//! over the configured one: the UTF-8 mark is dropped, a UTF-16 mark selects
//! UTF-16. Without a mark the configured [`TextEncoding`] applies: UTF-8 is
//! passed through untouched (readers validate it themselves, so that a bad
//! byte becomes an `encoding-error` for one record), anything else is
//! transcoded to UTF-8 by `encoding_rs`. Byte offsets in positions are
//! therefore offsets in the decompressed, UTF-8 text after any mark.
//!
//! [`Input`] is the large read buffer every reader parses from; memory stays
//! at its size whatever the file size.

use std::fmt;
use std::io::{self, Cursor, Read};
use std::str::FromStr;

use encoding_rs::Encoding;

/// The text encoding of the input, when it has no byte order mark.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TextEncoding(&'static Encoding);

impl TextEncoding {
    /// UTF-8, the default.
    pub const UTF_8: TextEncoding = TextEncoding(encoding_rs::UTF_8);

    /// The encoding's canonical name, as `encoding_rs` spells it.
    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

impl Default for TextEncoding {
    fn default() -> Self {
        TextEncoding::UTF_8
    }
}

impl fmt::Debug for TextEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

impl fmt::Display for TextEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

/// An encoding name droplake does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown text encoding `{0}`; use utf-8, latin1 (iso-8859-1), windows-1252, utf-16le or utf-16be"
)]
pub struct UnknownEncoding(pub String);

impl FromStr for TextEncoding {
    type Err = UnknownEncoding;

    /// Accepts the WHATWG Encoding Standard's labels, case-insensitively.
    /// As in browsers, `latin1` and `iso-8859-1` mean windows-1252, which
    /// differs from ISO-8859-1 only by printing 0x80–0x9F instead of
    /// treating them as C1 control codes.
    fn from_str(label: &str) -> Result<Self, Self::Err> {
        let encoding = Encoding::for_label(label.trim().as_bytes())
            .ok_or_else(|| UnknownEncoding(label.to_owned()))?;
        // "replacement" is a WHATWG trap encoding that turns everything into
        // one U+FFFD; it is never what a producer meant.
        if encoding == encoding_rs::REPLACEMENT {
            return Err(UnknownEncoding(label.to_owned()));
        }
        Ok(TextEncoding(encoding))
    }
}

/// A source of bytes a reader may own and move between threads.
pub type Source = Box<dyn Read + Send>;

/// Reads up to `count` bytes from the start of `input` and returns them with
/// a reader that yields them again followed by the rest.
fn peek(mut input: Source, count: usize) -> io::Result<(Vec<u8>, Source)> {
    let mut head = vec![0; count];
    let mut filled = 0;
    while filled < count {
        match input.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    head.truncate(filled);
    let rest: Source = Box::new(Cursor::new(head.clone()).chain(input));
    Ok((head, rest))
}

/// Wraps `input` in the layers its first bytes and `encoding` call for,
/// yielding UTF-8 (or, for UTF-8 input, bytes that claim to be UTF-8).
pub fn decoded(input: Source, encoding: TextEncoding) -> io::Result<Source> {
    let (head, input) = peek(input, 2)?;
    let input: Source = if head == [0x1f, 0x8b] {
        Box::new(flate2::read::MultiGzDecoder::new(input))
    } else {
        input
    };
    let (head, input) = peek(input, 3)?;
    if head.starts_with(&[0xef, 0xbb, 0xbf]) {
        let mut input = input;
        let mut bom = [0; 3];
        input.read_exact(&mut bom)?;
        return Ok(input);
    }
    let utf16 = head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]);
    if !utf16 && encoding.0 == encoding_rs::UTF_8 {
        return Ok(input);
    }
    // The builder sniffs (and drops) any byte order mark, which overrides
    // the configured encoding.
    let decoder = encoding_rs_io::DecodeReaderBytesBuilder::new()
        .encoding(Some(encoding.0))
        .bom_sniffing(true)
        .bom_override(true)
        .strip_bom(true)
        .build(input);
    Ok(Box::new(decoder))
}

/// The default size of the read buffer.
pub const BUFFER_SIZE: usize = 256 * 1024;

/// A large read buffer over a decoded source, tracking how many bytes went
/// before it so that readers can give byte offsets.
///
/// Invariant: `pos <= end <= buf.len()`; `buf[pos..end]` is unread input and
/// `consumed` counts the input bytes before `buf[0]`.
pub(crate) struct Input {
    source: Source,
    buf: Box<[u8]>,
    pub(crate) pos: usize,
    pub(crate) end: usize,
    consumed: u64,
    eof: bool,
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Input")
            .field("offset", &self.offset())
            .field("eof", &self.eof)
            .finish_non_exhaustive()
    }
}

impl Input {
    pub(crate) fn new(source: Source, capacity: usize) -> Input {
        Input {
            source,
            buf: vec![0; capacity.max(1)].into_boxed_slice(),
            pos: 0,
            end: 0,
            consumed: 0,
            eof: false,
        }
    }

    /// The offset of the next unread byte in the whole input.
    #[inline]
    pub(crate) fn offset(&self) -> u64 {
        self.consumed + self.pos as u64
    }

    /// The unread bytes in the buffer.
    #[inline]
    pub(crate) fn available(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    /// Refills the buffer when it is used up. Returns `false` at the end of
    /// the input. An I/O error (including a truncated gzip stream) is final.
    #[inline]
    pub(crate) fn fill(&mut self) -> io::Result<bool> {
        if self.pos < self.end {
            return Ok(true);
        }
        self.refill()
    }

    /// Reads the next chunk of the source into the emptied buffer.
    #[cold]
    fn refill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        self.consumed += self.end as u64;
        self.pos = 0;
        self.end = 0;
        loop {
            match self.source.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end = n;
                    return Ok(true);
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => {
                    self.eof = true;
                    return Err(error);
                }
            }
        }
    }

    /// The next byte, without consuming it.
    #[inline]
    pub(crate) fn peek_byte(&mut self) -> io::Result<Option<u8>> {
        if self.fill()? {
            Ok(Some(self.buf[self.pos]))
        } else {
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn decode_all(bytes: Vec<u8>, encoding: &str) -> io::Result<Vec<u8>> {
        let encoding = encoding.parse().map_err(io::Error::other)?;
        let mut out = Vec::new();
        decoded(Box::new(Cursor::new(bytes)), encoding)?.read_to_end(&mut out)?;
        Ok(out)
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).expect("writing to a Vec");
        encoder.finish().expect("writing to a Vec")
    }

    #[test]
    fn utf8_passes_through_with_its_bom_dropped() {
        assert_eq!(
            decode_all(b"a,b\n".to_vec(), "utf-8").expect("decodes"),
            b"a,b\n"
        );
        assert_eq!(
            decode_all(b"\xef\xbb\xbfa,b\n".to_vec(), "utf-8").expect("decodes"),
            b"a,b\n"
        );
        // Invalid UTF-8 is left for the reader to report per record.
        assert_eq!(
            decode_all(b"a\xff\n".to_vec(), "utf-8").expect("decodes"),
            b"a\xff\n"
        );
    }

    #[test]
    fn gzip_is_recognised_by_its_magic_bytes() {
        assert_eq!(
            decode_all(gzip(b"x,y\n"), "utf-8").expect("decodes"),
            b"x,y\n"
        );
        assert_eq!(
            decode_all(gzip(b"\xef\xbb\xbfx\n"), "utf-8").expect("decodes"),
            b"x\n"
        );
    }

    #[test]
    fn a_truncated_gzip_is_an_io_error() {
        let mut bytes = gzip(&b"some text that compresses, ".repeat(100));
        bytes.truncate(bytes.len() / 2);
        assert!(decode_all(bytes, "utf-8").is_err());
    }

    #[test]
    fn legacy_encodings_are_transcoded_by_configuration() {
        assert_eq!(
            decode_all(b"caf\xe9\n".to_vec(), "latin1").expect("decodes"),
            "café\n".as_bytes()
        );
        assert_eq!(
            decode_all(b"\x80\n".to_vec(), "windows-1252").expect("decodes"),
            "€\n".as_bytes()
        );
        assert_eq!(
            decode_all(b"a\0,\0b\0".to_vec(), "utf-16le").expect("decodes"),
            b"a,b"
        );
        assert_eq!(
            decode_all(b"\0a\0,\0b".to_vec(), "utf-16be").expect("decodes"),
            b"a,b"
        );
    }

    #[test]
    fn a_utf16_bom_wins_over_the_configured_encoding() {
        assert_eq!(
            decode_all(b"\xff\xfea\0\n\0".to_vec(), "utf-8").expect("decodes"),
            b"a\n"
        );
        assert_eq!(
            decode_all(b"\xfe\xff\0a\0\n".to_vec(), "latin1").expect("decodes"),
            b"a\n"
        );
    }

    #[test]
    fn unknown_encodings_are_refused_with_the_choices() {
        let error = "ebcdic-37".parse::<TextEncoding>().expect_err("unknown");
        assert!(error.to_string().contains("windows-1252"), "{error}");
        assert!("replacement".parse::<TextEncoding>().is_err());
    }

    #[test]
    fn the_input_counts_offsets_across_refills() {
        let mut input = Input::new(Box::new(Cursor::new(b"abcdefghij".to_vec())), 4);
        let mut seen = Vec::new();
        while input.fill().expect("decodes") {
            seen.extend_from_slice(input.available());
            input.pos = input.end;
        }
        assert_eq!(seen, b"abcdefghij");
        assert_eq!(input.offset(), 10);
    }
}
