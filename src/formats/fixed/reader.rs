//! One fixed-width file read as records: framed, sorted by record type,
//! decoded into cells.
//!
//! Each record is framed (`mainframe::framing`), then told apart by its
//! record type: a header or trailer record goes to the control checks and
//! is not a row; any other record is a detail, decoded by the layout its
//! type routes to (or the table's record) into one row. A detail that
//! cannot be decoded (a bad packed field, a type routed nowhere) is a
//! [`ReadError::Undecodable`] carrying its record number, byte offset and
//! bytes, and reading goes on. A file that cannot be framed (an F file
//! whose size is not a multiple of its record length, a broken RDW) ends
//! with a [`ReadError::Fatal`]; one whose records are out of place or whose
//! trailer does not match it ends with a [`ReadError::Refused`], after its
//! last record, so that nothing of it loads. A row's position is its record
//! number (counting every record of the file, from 1) and byte offset.

use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use super::FixedLayout;
use super::cells::{Captured, Cells, Row};
use super::control::{Kind, Tally, TrailerValues};
use crate::formats::{Position, ReadError, Record, RecordReader, Undecodable};
use crate::mainframe::framing::{FramingError, Records};
use crate::mainframe::record::{Decoder, RecordError};

/// The read buffer: records are small, files large.
const BUFFER: usize = 256 * 1024;

type Input = BufReader<Box<dyn Read + Send>>;

/// The records of the file, or why it cannot be framed (told at the first
/// read, so that the failure is recorded as the load's).
enum Frames {
    Ready(Records<Input>),
    Broken(Option<FramingError>),
}

/// Reads one fixed-width file; see the module doc.
pub(crate) struct FixedReader {
    layout: Arc<FixedLayout>,
    /// Owns a copy of the layout's copybook, so the reader can move to the
    /// loader's thread on its own.
    decoder: Decoder<'static>,
    /// The file, for the warning of a mismatch that only warns.
    name: String,
    frames: Frames,
    row: Row,
    tally: Tally,
    /// Records framed so far.
    number: u64,
    ended: bool,
}

impl std::fmt::Debug for FixedReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FixedReader")
            .field("file", &self.name)
            .field("records", &self.number)
            .finish()
    }
}

impl FixedReader {
    /// Reads `input`, the `len` bytes of the file `name`, by `layout`.
    pub(crate) fn new(
        input: Box<dyn Read + Send>,
        len: u64,
        name: &Path,
        layout: Arc<FixedLayout>,
    ) -> FixedReader {
        let decoder = Decoder::owning(
            layout.copybook.clone(),
            layout.options.clone(),
            layout.routing.clone(),
        );
        let input = BufReader::with_capacity(BUFFER, input);
        let frames = match Records::new(input, len, layout.framing) {
            Ok(records) => Frames::Ready(records),
            Err(error) => Frames::Broken(Some(error)),
        };
        FixedReader {
            layout,
            decoder,
            name: name.display().to_string(),
            frames,
            row: Row::default(),
            tally: Tally::default(),
            number: 0,
            ended: false,
        }
    }

    /// The end of the file: the control checks.
    fn end(&mut self) -> Result<bool, ReadError> {
        match self.tally.finish(&self.layout) {
            Ok(()) => Ok(false),
            Err((_, message, true))
                if self.layout.control.on_mismatch == super::OnMismatch::Warn =>
            {
                tracing::warn!(file = %self.name, problem = %message, "A trailer does not match its file; loading it anyway (on_mismatch = \"warn\").");
                Ok(false)
            }
            Err((position, message, _)) => Err(ReadError::Refused { position, message }),
        }
    }
}

impl RecordReader for FixedReader {
    fn labels(&self) -> Option<&[String]> {
        Some(self.layout.labels())
    }

    fn read(&mut self, record: &mut Record) -> Result<bool, ReadError> {
        loop {
            if self.ended {
                return Ok(false);
            }
            let FixedReader {
                layout,
                decoder,
                frames,
                row,
                tally,
                number,
                ended,
                ..
            } = self;
            let records = match frames {
                Frames::Ready(records) => records,
                Frames::Broken(error) => {
                    *ended = true;
                    let message = error
                        .take()
                        .map_or_else(String::new, |error| error.to_string());
                    return Err(ReadError::Fatal {
                        position: Position::default(),
                        message,
                    });
                }
            };
            let at = |number: u64, byte: u64| Position {
                row: number,
                line: number,
                byte,
            };
            let (offset, bytes) = match records.next_record() {
                Ok(Some(framed)) => framed,
                Ok(None) => {
                    *ended = true;
                    return self.end();
                }
                Err(FramingError::LongLine { offset, len, lrecl }) => {
                    *number += 1;
                    let position = at(*number, offset);
                    // A line too long to decode is still a detail record
                    // of the file: the trailer's count includes it.
                    if let Err(message) = tally.record(layout, Kind::Detail, position) {
                        *ended = true;
                        return Err(ReadError::Refused { position, message });
                    }
                    return Err(ReadError::Record {
                        position,
                        kind: "format-error",
                        message: format!(
                            "the line is {len} bytes, longer than the record length {lrecl}"
                        ),
                    });
                }
                Err(error) => {
                    *ended = true;
                    let position = at(*number + 1, error.offset().unwrap_or(0));
                    return Err(ReadError::Fatal {
                        position,
                        message: error.to_string(),
                    });
                }
            };
            *number += 1;
            let position = at(*number, offset);
            let control = &layout.control;
            let value = decoder.record_type(bytes);
            let kind = match &value {
                Some(value) if control.header.as_ref() == Some(value) => Kind::Header,
                Some(value) if control.trailer.as_ref() == Some(value) => Kind::Trailer,
                _ => Kind::Detail,
            };
            if let Err(message) = tally.record(layout, kind, position) {
                *ended = true;
                return Err(ReadError::Refused { position, message });
            }
            let undecodable = |message: String, failed: Option<(Option<usize>, Vec<u8>)>| {
                let (field, value) = match failed {
                    Some((column, bytes)) => (column, Some(hex::encode_upper(bytes))),
                    None => (None, None),
                };
                ReadError::Undecodable(Box::new(Undecodable {
                    position,
                    field: field.map(|column| layout.columns[column].name.clone()),
                    field_number: field.map(|column| column + 1),
                    value,
                    message,
                    record: hex::encode_upper(bytes),
                }))
            };
            match kind {
                Kind::Header => continue,
                Kind::Trailer => {
                    let mut values = TrailerValues {
                        layout,
                        captured: vec![Captured::Missing; layout.capture_count],
                    };
                    let trailer = decoder.copybook().item(control.trailer_record);
                    if let Err(error) = decoder.decode_as(trailer, bytes, &mut values) {
                        *ended = true;
                        return Err(ReadError::Refused {
                            position,
                            message: format!("the trailer record cannot be decoded: {error}"),
                        });
                    }
                    tally.trailer(position, values.captured);
                    continue;
                }
                Kind::Detail => {}
            }
            let routing = layout.routing.as_ref();
            let target = match (&value, routing) {
                (_, None) => Some(layout.default_record),
                (None, Some(routing)) => {
                    let field = decoder.name(routing.field).to_string();
                    return Err(undecodable(
                        format!("the record type {field} cannot be read"),
                        None,
                    ));
                }
                (Some(value), Some(routing)) => {
                    match layout.record_routes.iter().find(|(key, _)| key == value) {
                        Some((_, record)) => Some(*record),
                        None if routing.routes.is_empty()
                            || routing.routes.iter().any(|(key, _)| key == value) =>
                        {
                            Some(layout.default_record)
                        }
                        None => None,
                    }
                }
            };
            let Some(target) = target else {
                let known: Vec<String> = routing
                    .iter()
                    .flat_map(|routing| routing.routes.iter())
                    .map(|(key, _)| format!("{key:?}"))
                    .chain(
                        control
                            .header
                            .iter()
                            .chain(&control.trailer)
                            .map(|key| format!("{key:?}")),
                    )
                    .collect();
                let field = routing.map_or("", |routing| decoder.name(routing.field));
                return Err(undecodable(
                    format!(
                        "the record type {field} = {:?} is not one the format routes ({})",
                        value.unwrap_or_default(),
                        known.join(", ")
                    ),
                    None,
                ));
            };
            row.clear(layout);
            let record_item = decoder.copybook().item(target);
            let decoded = decoder.decode_as(
                record_item,
                bytes,
                &mut Cells {
                    layout,
                    row: &mut *row,
                },
            );
            tally.add(control, &layout.captures, &row.captured);
            match decoded {
                Ok(()) => {
                    row.fill(record.text_mut());
                    record.position = position;
                    return Ok(true);
                }
                Err(error) => {
                    let failed = match (&error, row.failed.take()) {
                        (RecordError::Field(_), Some((column, field))) => {
                            Some((column, field.bytes))
                        }
                        _ => None,
                    };
                    return Err(undecodable(
                        format!("the record cannot be decoded: {error}"),
                        failed,
                    ));
                }
            }
        }
    }
}
