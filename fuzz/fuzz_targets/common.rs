//! Shared by the fuzz targets: read every record of `data` in `format`,
//! with options chosen by the first byte, and check the reader's promises.

use std::io::Cursor;
use std::path::Path;

use droplake::formats::{Dialect, Format, ReadError, ReadOptions, Record, from_reader};

pub fn read_all(data: &[u8], format: Format) {
    let Some((&knobs, data)) = data.split_first() else {
        return;
    };
    let dialect = Dialect {
        header: knobs & 1 == 0,
        comment_char: (knobs & 2 != 0).then_some(b'#'),
        escape_char: (knobs & 4 != 0).then_some(b'\\'),
        double_quote: knobs & 8 == 0,
        skip_initial_space: knobs & 16 != 0,
        null_sequence: (knobs & 32 != 0).then(|| "\\N".to_owned()),
        ..Dialect::default()
    };
    let options = ReadOptions {
        format: Some(format),
        dialect,
        // Small buffers and limits reach the refill and overflow paths.
        buffer_bytes: if knobs & 64 != 0 { 3 } else { 4096 },
        max_record_bytes: if knobs & 128 != 0 { 16 } else { 1 << 20 },
        ..ReadOptions::default()
    };
    let Ok(mut reader) = from_reader(
        Box::new(Cursor::new(data.to_vec())),
        Path::new("fuzz"),
        format,
        &options,
    ) else {
        return;
    };
    let mut record = Record::new();
    let mut last_row = 0;
    loop {
        match reader.read(&mut record) {
            Ok(true) => {
                assert!(record.position.row > last_row, "row numbers increase");
                last_row = record.position.row;
                assert!(record.position.byte <= data.len() as u64 * 4 + 8);
                let _ = record.to_json();
            }
            Ok(false) | Err(ReadError::Fatal { .. } | ReadError::Refused { .. }) => break,
            Err(ReadError::Record { .. } | ReadError::Undecodable(_)) => {}
        }
    }
}
