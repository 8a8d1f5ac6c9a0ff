//! Fuzzes the validator behind the CSV reader: any bytes, against a schema
//! that uses every type and constraint, must be read, cast and checked
//! without a panic.
#![no_main]

use std::io::Cursor;
use std::path::Path;
use std::sync::OnceLock;

use droplake::formats::{Format, ReadError, ReadOptions, Record, from_reader};
use droplake::schema::{Schema, Validator, recycle};
use libfuzzer_sys::fuzz_target;

const SCHEMA: &str = r#"{
  "fields": [
    {"name": "id", "type": "integer", "constraints": {"minimum": 0}},
    {"name": "name", "type": "string", "constraints": {"maxLength": 8, "pattern": "[a-z]*"}},
    {"name": "email", "type": "string", "format": "email"},
    {"name": "amount", "type": "number", "decimalPlaces": 2, "groupChar": ","},
    {"name": "ok", "type": "boolean"},
    {"name": "day", "type": "date", "constraints": {"maximum": "2030-01-01"}},
    {"name": "at", "type": "datetime"},
    {"name": "t", "type": "time"},
    {"name": "y", "type": "year"},
    {"name": "ym", "type": "yearmonth"},
    {"name": "d", "type": "duration"},
    {"name": "o", "type": "object"},
    {"name": "a", "type": "array", "constraints": {"maxLength": 3}},
    {"name": "l", "type": "list", "itemType": "integer"},
    {"name": "s", "type": "string", "constraints": {"enum": ["x", "y"]}},
    {"name": "u", "type": "string", "format": "uuid", "constraints": {"unique": true}}
  ],
  "primaryKey": ["id"],
  "uniqueKeys": [["name", "email"]]
}"#;

fn schema() -> &'static Schema {
    static SCHEMA_CELL: OnceLock<Schema> = OnceLock::new();
    SCHEMA_CELL.get_or_init(|| {
        Schema::parse("fuzz", Path::new("fuzz.json"), SCHEMA).expect("the fuzz schema is valid")
    })
}

fuzz_target!(|data: &[u8]| {
    let options = ReadOptions {
        max_record_bytes: 1 << 16,
        ..ReadOptions::default()
    };
    let Ok(mut reader) = from_reader(
        Box::new(Cursor::new(data.to_vec())),
        Path::new("fuzz"),
        Format::Csv,
        &options,
    ) else {
        return;
    };
    let mut validator = Validator::new(schema(), reader.labels());
    let mut record = Record::new();
    let (mut spare, mut errors) = (Vec::new(), Vec::new());
    loop {
        match reader.read(&mut record) {
            Ok(true) => {}
            Ok(false) | Err(ReadError::Fatal { .. } | ReadError::Refused { .. }) => break,
            Err(ReadError::Record { .. } | ReadError::Undecodable(_)) => continue,
        }
        errors.clear();
        let mut values = recycle(std::mem::take(&mut spare));
        let valid = validator.check_row(&record, &mut values, &mut errors);
        assert_eq!(
            valid,
            errors.is_empty(),
            "a row is valid exactly when it has no errors"
        );
        assert_eq!(values.len(), schema().fields.len(), "one value per field");
        spare = recycle(values);
    }
});
