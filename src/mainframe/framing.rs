//! Record framing: where each record of a mainframe file begins and ends.
//!
//! - `F` and `FB`: every record is `lrecl` bytes. Blocking is invisible once
//!   a file has left the mainframe, so FB reads as F. A file whose size
//!   (less any header and footer) is not a multiple of `lrecl` is refused
//!   before a record is read, naming both numbers.
//! - `V`: each record is preceded by a 4-byte record descriptor word (RDW):
//!   a 16-bit length, big-endian, that counts the RDW itself, and two zero
//!   bytes. Transfers sometimes reverse the four bytes (`little_endian`) or
//!   leave a length that excludes the RDW (`includes_header = false`).
//! - `VB`: blocks, each preceded by a 4-byte block descriptor word (BDW,
//!   laid out like an RDW and counting itself), holding V records.
//! - `text`: lines ending in LF (a CR before it is dropped); with `lrecl`,
//!   a shorter line is padded with spaces and a longer one is an error.
//!
//! A header and a footer of fixed byte counts may be skipped. Records are
//! read through one reused buffer; each comes with its byte offset in the
//! file, so every error can say where it is. A stream of unknown length
//! (standard input) is framed the same way, except that a footer cannot be
//! told from records and the size check of F files comes at the end: a
//! record the stream ends inside is the error.
//!
//! [`frame`] goes the other way, for `droplake export`: one record written
//! as F (padded to `lrecl`), V (after its RDW) or a text line.

use std::io::{self, BufRead, Read};

/// The largest record a V file can hold (the RDW's 16-bit length).
const MAX_VARIABLE: usize = 65_535;

/// How the records of a file are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordFormat {
    /// Fixed-length records of `lrecl` bytes (F and FB).
    Fixed { lrecl: usize },
    /// Variable-length records, each after its RDW (V).
    Variable(Rdw),
    /// Blocks of variable-length records, each block after its BDW (VB).
    VariableBlocked(Rdw),
    /// Lines of text; with `lrecl`, padded to it with `pad`.
    Text { lrecl: Option<usize>, pad: u8 },
}

/// How the descriptor words of V and VB files are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rdw {
    /// The four bytes in reverse order (as some transfers leave them).
    pub little_endian: bool,
    /// Whether the length counts the 4 descriptor bytes (the z/OS standard).
    pub includes_header: bool,
}

impl Default for Rdw {
    fn default() -> Rdw {
        Rdw {
            little_endian: false,
            includes_header: true,
        }
    }
}

impl Rdw {
    /// The length of the content after a descriptor word, or why there is
    /// none.
    fn length(self, word: [u8; 4]) -> Result<usize, String> {
        let value = if self.little_endian {
            u32::from_le_bytes(word)
        } else {
            u32::from_be_bytes(word)
        };
        let (length, reserved) = ((value >> 16) as usize, value & 0xFFFF);
        if reserved != 0 {
            let hint = if !self.little_endian && reversed_is_valid(word) {
                "; the bytes look reversed: try the little-endian RDW option"
            } else if reserved & 0x0300 != 0 && !self.little_endian {
                "; spanned records (VBS) are not supported"
            } else {
                ""
            };
            return Err(format!(
                "the descriptor word {} has non-zero reserved bytes{hint}",
                hex::encode_upper(word)
            ));
        }
        let header = if self.includes_header { 4 } else { 0 };
        match length.checked_sub(header) {
            Some(0) | None => Err(format!(
                "the descriptor word {} gives a length of {length}, too short{}",
                hex::encode_upper(word),
                if self.includes_header {
                    " (it counts its own 4 bytes)"
                } else {
                    ""
                }
            )),
            Some(content) => Ok(content),
        }
    }
}

fn reversed_is_valid(word: [u8; 4]) -> bool {
    let value = u32::from_le_bytes(word);
    value & 0xFFFF == 0 && value >> 16 >= 4
}

/// A file's layout: its record format and the bytes to skip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framing {
    pub format: RecordFormat,
    /// Bytes at the start of the file that are not records.
    pub header: u64,
    /// Bytes at the end of the file that are not records.
    pub footer: u64,
}

/// Why a file cannot be split into records.
#[derive(Debug, thiserror::Error)]
pub enum FramingError {
    #[error(
        "the file has {records_bytes} bytes of records{skipped}, which is not a multiple of the record length {lrecl}"
    )]
    NotMultiple {
        records_bytes: u64,
        skipped: String,
        lrecl: usize,
    },
    #[error(
        "the file has {len} bytes, fewer than its {header}-byte header and {footer}-byte footer"
    )]
    TooShort { len: u64, header: u64, footer: u64 },
    #[error(
        "a {footer}-byte footer cannot be skipped on standard input, whose length is unknown; \
         read the file by its name"
    )]
    FooterOfStream { footer: u64 },
    #[error("at byte {offset}: {message}")]
    Descriptor { offset: u64, message: String },
    #[error("at byte {offset}: the file ends inside a record ({missing} more bytes expected)")]
    Truncated { offset: u64, missing: u64 },
    #[error("at byte {offset}: the line is {len} bytes, longer than the record length {lrecl}")]
    LongLine {
        offset: u64,
        len: usize,
        lrecl: usize,
    },
    #[error("cannot read the file: {0}")]
    Io(#[from] io::Error),
}

impl FramingError {
    /// The byte offset the error is at, when it is at one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            FramingError::Descriptor { offset, .. }
            | FramingError::Truncated { offset, .. }
            | FramingError::LongLine { offset, .. } => Some(*offset),
            _ => None,
        }
    }
}

/// The records of one file, read one at a time.
#[derive(Debug)]
pub struct Records<R> {
    reader: R,
    format: RecordFormat,
    /// The offset in the file of the next byte `reader` gives.
    offset: u64,
    /// Where the records end (the footer's start).
    end: u64,
    /// What is left of the current VB block.
    block_left: usize,
    /// The length is unknown: the records end where the stream does.
    unsized_stream: bool,
    buffer: Vec<u8>,
}

impl<R: BufRead> Records<R> {
    /// Frames a file of `len` bytes read from `reader`, which must start at
    /// the beginning of the file.
    pub fn new(mut reader: R, len: u64, framing: Framing) -> Result<Records<R>, FramingError> {
        let end = len
            .checked_sub(framing.footer)
            .filter(|end| *end >= framing.header)
            .ok_or(FramingError::TooShort {
                len,
                header: framing.header,
                footer: framing.footer,
            })?;
        if let RecordFormat::Fixed { lrecl } = framing.format {
            let records_bytes = end - framing.header;
            if lrecl == 0 || !records_bytes.is_multiple_of(lrecl as u64) {
                let skipped = if framing.header + framing.footer > 0 {
                    format!(
                        " (after a {}-byte header and a {}-byte footer)",
                        framing.header, framing.footer
                    )
                } else {
                    String::new()
                };
                return Err(FramingError::NotMultiple {
                    records_bytes,
                    skipped,
                    lrecl,
                });
            }
        }
        io::copy(&mut reader.by_ref().take(framing.header), &mut io::sink())?;
        Ok(Records {
            reader,
            format: framing.format,
            offset: framing.header,
            end,
            block_left: 0,
            unsized_stream: false,
            buffer: Vec::new(),
        })
    }

    /// Frames a stream whose length is unknown, such as standard input,
    /// which must start at the beginning of the file. `framing.footer` must
    /// be 0: a footer cannot be found without the length.
    pub fn stream(mut reader: R, framing: Framing) -> Result<Records<R>, FramingError> {
        if framing.footer > 0 {
            return Err(FramingError::FooterOfStream {
                footer: framing.footer,
            });
        }
        let header = io::copy(&mut reader.by_ref().take(framing.header), &mut io::sink())?;
        if header < framing.header {
            return Err(FramingError::TooShort {
                len: header,
                header: framing.header,
                footer: 0,
            });
        }
        if let RecordFormat::Fixed { lrecl: 0 } = framing.format {
            return Err(FramingError::NotMultiple {
                records_bytes: 0,
                skipped: String::new(),
                lrecl: 0,
            });
        }
        Ok(Records {
            reader,
            format: framing.format,
            offset: framing.header,
            end: u64::MAX,
            block_left: 0,
            unsized_stream: true,
            buffer: Vec::new(),
        })
    }

    /// Whether the records have ended: at the footer, or at the end of a
    /// stream.
    fn at_end(&mut self) -> Result<bool, FramingError> {
        Ok(self.offset >= self.end || (self.unsized_stream && self.reader.fill_buf()?.is_empty()))
    }

    /// The next record and its byte offset in the file, or `None` at the end.
    pub fn next_record(&mut self) -> Result<Option<(u64, &[u8])>, FramingError> {
        if self.at_end()? {
            // A block whose descriptor promised more than the file holds
            // is a cut file, not its end.
            if self.block_left > 0 {
                return Err(FramingError::Truncated {
                    offset: self.offset,
                    missing: self.block_left as u64,
                });
            }
            return Ok(None);
        }
        let start = self.offset;
        match self.format {
            RecordFormat::Fixed { lrecl } => self.fill(lrecl)?,
            RecordFormat::Variable(rdw) => {
                let length = self.descriptor(rdw)?;
                self.fill(length)?;
            }
            RecordFormat::VariableBlocked(rdw) => {
                while self.block_left == 0 {
                    self.block_left = self.descriptor(rdw)?;
                    if self.at_end()? {
                        return Err(FramingError::Truncated {
                            offset: self.offset,
                            missing: self.block_left as u64,
                        });
                    }
                }
                let at = self.offset;
                let length = self.descriptor(rdw)?;
                let used = length + 4;
                if used > self.block_left {
                    return Err(FramingError::Descriptor {
                        offset: at,
                        message: format!(
                            "the record ({used} bytes with its RDW) overruns its block ({} bytes left)",
                            self.block_left
                        ),
                    });
                }
                self.block_left -= used;
                self.fill(length)?;
                return Ok(Some((at, &self.buffer)));
            }
            RecordFormat::Text { lrecl, pad } => {
                self.line(lrecl, pad)?;
            }
        }
        Ok(Some((start, &self.buffer)))
    }

    /// Reads a descriptor word and returns the content length it gives.
    fn descriptor(&mut self, rdw: Rdw) -> Result<usize, FramingError> {
        let at = self.offset;
        let mut word = [0u8; 4];
        self.exact(&mut word)?;
        rdw.length(word)
            .map_err(|message| FramingError::Descriptor {
                offset: at,
                message,
            })
            .and_then(|length| {
                if length > MAX_VARIABLE {
                    Err(FramingError::Descriptor {
                        offset: at,
                        message: format!(
                            "a length of {length} is beyond the 65,535 a V record can hold"
                        ),
                    })
                } else {
                    Ok(length)
                }
            })
    }

    /// Reads exactly `len` bytes into the buffer.
    fn fill(&mut self, len: usize) -> Result<(), FramingError> {
        self.buffer.resize(len, 0);
        let mut buffer = std::mem::take(&mut self.buffer);
        let result = self.exact(&mut buffer);
        self.buffer = buffer;
        result
    }

    fn exact(&mut self, into: &mut [u8]) -> Result<(), FramingError> {
        let wanted = into.len() as u64;
        if self.offset + wanted > self.end {
            return Err(FramingError::Truncated {
                offset: self.offset,
                missing: self.offset + wanted - self.end,
            });
        }
        let mut filled = 0;
        while filled < into.len() {
            match self.reader.read(&mut into[filled..]) {
                Ok(0) => {
                    return Err(FramingError::Truncated {
                        offset: self.offset,
                        missing: wanted - filled as u64,
                    });
                }
                Ok(read) => filled += read,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(FramingError::Io(error)),
            }
        }
        self.offset += wanted;
        Ok(())
    }

    /// Reads one line (without its LF, or CR LF) into the buffer.
    fn line(&mut self, lrecl: Option<usize>, pad: u8) -> Result<(), FramingError> {
        let start = self.offset;
        self.buffer.clear();
        let limit = self.end - self.offset;
        let read = self
            .reader
            .by_ref()
            .take(limit)
            .read_until(b'\n', &mut self.buffer)?;
        self.offset += read as u64;
        if self.buffer.last() == Some(&b'\n') {
            self.buffer.pop();
            if self.buffer.last() == Some(&b'\r') {
                self.buffer.pop();
            }
        }
        if let Some(lrecl) = lrecl {
            if self.buffer.len() > lrecl {
                return Err(FramingError::LongLine {
                    offset: start,
                    len: self.buffer.len(),
                    lrecl,
                });
            }
            self.buffer.resize(lrecl, pad);
        }
        Ok(())
    }
}

/// Why a record cannot be framed for writing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("the record is {len} bytes, longer than the record length {lrecl}")]
    TooLong { len: usize, lrecl: usize },
    #[error(
        "the record is {len} bytes; a V record holds at most {} bytes after its descriptor word",
        MAX_VARIABLE - 4
    )]
    TooLongForRdw { len: usize },
    #[error("an empty record cannot be written in a V file")]
    Empty,
    #[error("droplake writes F, V and text records, not VB")]
    Blocked,
}

/// Appends one record to `out`, framed for writing: F pads it with `pad`
/// to `lrecl`; V puts its RDW before it (counting itself unless the `Rdw`
/// says otherwise, big-endian unless it says little); text ends it with a
/// line feed (padded to `lrecl` when there is one). The inverse of
/// [`Records::next_record`].
pub fn frame(
    format: RecordFormat,
    record: &[u8],
    pad: u8,
    out: &mut Vec<u8>,
) -> Result<(), FrameError> {
    match format {
        RecordFormat::Fixed { lrecl }
        | RecordFormat::Text {
            lrecl: Some(lrecl), ..
        } => {
            if record.len() > lrecl {
                return Err(FrameError::TooLong {
                    len: record.len(),
                    lrecl,
                });
            }
            out.extend_from_slice(record);
            out.resize(out.len() + lrecl - record.len(), pad);
        }
        RecordFormat::Text { lrecl: None, .. } => out.extend_from_slice(record),
        RecordFormat::Variable(rdw) => {
            if record.is_empty() {
                return Err(FrameError::Empty);
            }
            let length = record.len() + if rdw.includes_header { 4 } else { 0 };
            let length = u16::try_from(length)
                .ok()
                .filter(|_| record.len() <= MAX_VARIABLE - 4)
                .ok_or(FrameError::TooLongForRdw { len: record.len() })?;
            let word = u32::from(length) << 16;
            out.extend_from_slice(&if rdw.little_endian {
                word.to_le_bytes()
            } else {
                word.to_be_bytes()
            });
            out.extend_from_slice(record);
        }
        RecordFormat::VariableBlocked(_) => return Err(FrameError::Blocked),
    }
    if matches!(format, RecordFormat::Text { .. }) {
        out.push(b'\n');
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(bytes: &[u8], framing: Framing) -> Result<Vec<(u64, Vec<u8>)>, FramingError> {
        let mut records = Records::new(bytes, bytes.len() as u64, framing)?;
        let mut out = Vec::new();
        while let Some((offset, record)) = records.next_record()? {
            out.push((offset, record.to_vec()));
        }
        Ok(out)
    }

    fn plain(format: RecordFormat) -> Framing {
        Framing {
            format,
            header: 0,
            footer: 0,
        }
    }

    fn v(rdw: Rdw) -> Framing {
        plain(RecordFormat::Variable(rdw))
    }

    #[test]
    fn fixed_records_are_lrecl_bytes_each() {
        let read = records(b"abcdef", plain(RecordFormat::Fixed { lrecl: 3 })).expect("frames");
        assert_eq!(read, [(0, b"abc".to_vec()), (3, b"def".to_vec())]);
    }

    #[test]
    fn a_fixed_file_of_the_wrong_size_is_refused_naming_both_numbers() {
        let error =
            records(&[0; 22_020], plain(RecordFormat::Fixed { lrecl: 16 })).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "the file has 22020 bytes of records, which is not a multiple of the record length 16"
        );
    }

    #[test]
    fn a_header_and_footer_are_skipped() {
        let mut file = vec![1u8; 10];
        file.extend_from_slice(b"abcdef");
        file.extend_from_slice(&[2u8; 12]);
        let framing = Framing {
            format: RecordFormat::Fixed { lrecl: 3 },
            header: 10,
            footer: 12,
        };
        let read = records(&file, framing).expect("frames");
        assert_eq!(read, [(10, b"abc".to_vec()), (13, b"def".to_vec())]);
        let error = records(
            &file,
            Framing {
                header: 0,
                ..framing
            },
        )
        .expect_err("refused");
        assert_eq!(
            error.to_string(),
            "the file has 16 bytes of records (after a 0-byte header and a 12-byte footer), \
             which is not a multiple of the record length 3"
        );
    }

    #[test]
    fn variable_records_follow_their_rdw() {
        let file = [0, 7, 0, 0, b'a', b'b', b'c', 0, 5, 0, 0, b'd'];
        let read = records(&file, v(Rdw::default())).expect("frames");
        assert_eq!(read, [(0, b"abc".to_vec()), (7, b"d".to_vec())]);
    }

    #[test]
    fn rdw_variants_seen_after_transfers_are_options() {
        let reversed = [0, 0, 7, 0, b'a', b'b', b'c'];
        let little = Rdw {
            little_endian: true,
            includes_header: true,
        };
        assert_eq!(
            records(&reversed, v(little)).expect("frames"),
            [(0, b"abc".to_vec())]
        );
        let error = records(&reversed, v(Rdw::default())).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "at byte 0: the descriptor word 00000700 has non-zero reserved bytes; \
             the bytes look reversed: try the little-endian RDW option"
        );
        let excluding = Rdw {
            little_endian: false,
            includes_header: false,
        };
        let file = [0, 3, 0, 0, b'a', b'b', b'c'];
        assert_eq!(
            records(&file, v(excluding)).expect("frames"),
            [(0, b"abc".to_vec())]
        );
    }

    #[test]
    fn a_record_cut_short_says_where_and_by_how_much() {
        let file = [0, 9, 0, 0, b'a', b'b'];
        let error = records(&file, v(Rdw::default())).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "at byte 4: the file ends inside a record (3 more bytes expected)"
        );
        assert_eq!(error.offset(), Some(4));
        let error = records(&[0, 4, 0, 0], v(Rdw::default())).expect_err("refused");
        assert!(error.to_string().contains("too short"), "{error}");
    }

    #[test]
    fn a_blocked_file_cut_inside_a_block_is_an_error_not_its_end() {
        let blocked = plain(RecordFormat::VariableBlocked(Rdw::default()));
        // The block promises two records; the file ends after the first.
        let cut = [0, 15, 0, 0, 0, 6, 0, 0, b'a', b'b'];
        let error = records(&cut, blocked).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "at byte 10: the file ends inside a record (5 more bytes expected)"
        );
        // The file ends right after a block's descriptor.
        let error = records(&[0, 9, 0, 0], blocked).expect_err("refused");
        assert!(
            matches!(error, FramingError::Truncated { offset: 4, .. }),
            "{error}"
        );
    }

    #[test]
    fn blocked_records_are_read_block_by_block() {
        let mut file = vec![0, 15, 0, 0];
        file.extend_from_slice(&[0, 6, 0, 0, b'a', b'b', 0, 5, 0, 0, b'c']);
        file.extend_from_slice(&[0, 9, 0, 0, 0, 5, 0, 0, b'd']);
        let read =
            records(&file, plain(RecordFormat::VariableBlocked(Rdw::default()))).expect("frames");
        assert_eq!(
            read,
            [
                (4, b"ab".to_vec()),
                (10, b"c".to_vec()),
                (19, b"d".to_vec())
            ]
        );
        let overrun = [0, 8, 0, 0, 0, 6, 0, 0, b'a', b'b'];
        let error = records(
            &overrun,
            plain(RecordFormat::VariableBlocked(Rdw::default())),
        )
        .expect_err("refused");
        assert_eq!(
            error.to_string(),
            "at byte 4: the record (6 bytes with its RDW) overruns its block (4 bytes left)"
        );
    }

    #[test]
    fn text_lines_are_padded_to_the_record_length() {
        let text = plain(RecordFormat::Text {
            lrecl: Some(4),
            pad: b' ',
        });
        let read = records(b"ab\r\ncdef\ngh", text).expect("frames");
        assert_eq!(
            read,
            [
                (0, b"ab  ".to_vec()),
                (4, b"cdef".to_vec()),
                (9, b"gh  ".to_vec())
            ]
        );
        let error = records(b"abcde\n", text).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "at byte 0: the line is 5 bytes, longer than the record length 4"
        );
    }

    fn streamed(bytes: &[u8], framing: Framing) -> Result<Vec<(u64, Vec<u8>)>, FramingError> {
        let mut records = Records::stream(bytes, framing)?;
        let mut out = Vec::new();
        while let Some((offset, record)) = records.next_record()? {
            out.push((offset, record.to_vec()));
        }
        Ok(out)
    }

    #[test]
    fn a_stream_of_unknown_length_ends_where_its_bytes_do() {
        let fixed = Framing {
            format: RecordFormat::Fixed { lrecl: 3 },
            header: 2,
            footer: 0,
        };
        assert_eq!(
            streamed(b"HHabcdef", fixed).expect("frames"),
            [(2, b"abc".to_vec()), (5, b"def".to_vec())]
        );
        let blocked = plain(RecordFormat::VariableBlocked(Rdw::default()));
        let file = [0, 10, 0, 0, 0, 6, 0, 0, b'a', b'b'];
        assert_eq!(
            streamed(&file, blocked).expect("frames"),
            [(4, b"ab".to_vec())]
        );
    }

    #[test]
    fn a_stream_that_ends_inside_a_record_says_how_many_bytes_are_missing() {
        let error =
            streamed(b"abcdefg", plain(RecordFormat::Fixed { lrecl: 3 })).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "at byte 6: the file ends inside a record (2 more bytes expected)"
        );
        let error = streamed(&[0, 9, 0, 0, b'a'], v(Rdw::default())).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "at byte 4: the file ends inside a record (4 more bytes expected)"
        );
    }

    #[test]
    fn a_stream_cannot_have_a_footer() {
        let framing = Framing {
            format: RecordFormat::Fixed { lrecl: 3 },
            header: 0,
            footer: 12,
        };
        let error = streamed(b"abc", framing).expect_err("refused");
        assert!(
            error
                .to_string()
                .starts_with("a 12-byte footer cannot be skipped"),
            "{error}"
        );
    }

    #[test]
    fn framed_records_read_back_in_every_written_format() {
        let rdws = [
            Rdw::default(),
            Rdw {
                little_endian: true,
                includes_header: true,
            },
            Rdw {
                little_endian: false,
                includes_header: false,
            },
        ];
        let mut formats = vec![RecordFormat::Fixed { lrecl: 5 }];
        formats.extend(rdws.map(RecordFormat::Variable));
        for format in formats {
            let mut file = Vec::new();
            for record in [&b"abc"[..], b"defgh", b"i"] {
                frame(format, record, b'_', &mut file).expect("framed");
            }
            let read: Vec<Vec<u8>> = records(&file, plain(format))
                .expect("frames")
                .into_iter()
                .map(|(_, record)| record)
                .collect();
            let expected: Vec<&[u8]> = match format {
                RecordFormat::Fixed { .. } => vec![b"abc__", b"defgh", b"i____"],
                _ => vec![b"abc", b"defgh", b"i"],
            };
            assert_eq!(read, expected, "{format:?}");
        }
        let mut file = Vec::new();
        frame(RecordFormat::Variable(Rdw::default()), b"abc", 0, &mut file).expect("framed");
        assert_eq!(file, [0, 7, 0, 0, b'a', b'b', b'c']);
        assert_eq!(
            frame(RecordFormat::Fixed { lrecl: 2 }, b"abc", 0, &mut file)
                .expect_err("refused")
                .to_string(),
            "the record is 3 bytes, longer than the record length 2"
        );
    }
}
