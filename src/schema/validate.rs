//! The validator: a reader's header, then each record, against a schema.
//!
//! [`Validator::new`] matches the header's labels to the fields (by position
//! for `fieldsMatch: exact`, by name otherwise) and keeps the header's
//! errors. [`Validator::check_row`] casts every cell, checks every
//! constraint and key, writes the row's typed values into the caller's
//! buffer and appends every error of the row, as frictionless-py reports
//! them: a blank row gives only `blank-row`; a cell that fails its type gets
//! no constraint errors; a missing value is checked only against `required`;
//! duplicates are reported on the later rows.
//!
//! Uniqueness is checked without keeping rows: a key of one integer field is
//! kept exactly (as runs of consecutive ids, or the integer itself), any
//! other key as a 64-bit hash of its typed values (see `keys.rs`). Two
//! different hashed keys collide with probability about n²/2⁶⁵ over n rows:
//! about 3 in 10⁸ for a million rows, 3 in 10⁴ for a hundred million. A
//! collision reports a false duplicate; it never hides a true one.

use std::fmt;
use std::hash::{BuildHasher, Hasher};

use serde::Serialize;

use super::cast::cast_into;
use super::constraint::Constraint;
use super::keys::KeySet;
use super::value::Value;
use super::{FieldsMatch, Schema};
use crate::formats::{Cell, ReadError, Record};

/// The kind of an error, named as in Frictionless reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorType {
    /// A cell is not of its field's type.
    TypeError,
    /// A cell's value breaks one of its field's constraints.
    ConstraintError,
    /// A row is shorter than the header: this cell is absent.
    MissingCell,
    /// A row is longer than the header: this cell has no field.
    ExtraCell,
    /// Every cell of the row is empty.
    BlankRow,
    /// The row's primary key was already seen.
    PrimaryKey,
    /// The row's value of a unique field or key was already seen.
    UniqueError,
    /// A header label repeats an earlier one.
    DuplicateLabel,
    /// The header lacks a schema field.
    MissingLabel,
    /// The header has a label that matches no schema field.
    ExtraLabel,
    /// A header label differs from the schema's field at its position.
    IncorrectLabel,
    /// A header label is empty.
    BlankLabel,
    /// The record's bytes are not valid in the input's encoding.
    EncodingError,
    /// The record is malformed (a bad quote, invalid JSON, over-long).
    FormatError,
    /// The row refers to a key that the referenced table does not hold
    /// (found by the warehouse at load time).
    ForeignKey,
    /// The file does not match what it declares of itself: a trailer's
    /// record count or control total.
    ChecksumError,
}

impl ErrorType {
    /// The name in reports, such as `type-error`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorType::TypeError => "type-error",
            ErrorType::ConstraintError => "constraint-error",
            ErrorType::MissingCell => "missing-cell",
            ErrorType::ExtraCell => "extra-cell",
            ErrorType::BlankRow => "blank-row",
            ErrorType::PrimaryKey => "primary-key",
            ErrorType::UniqueError => "unique-error",
            ErrorType::DuplicateLabel => "duplicate-label",
            ErrorType::MissingLabel => "missing-label",
            ErrorType::ExtraLabel => "extra-label",
            ErrorType::IncorrectLabel => "incorrect-label",
            ErrorType::BlankLabel => "blank-label",
            ErrorType::EncodingError => "encoding-error",
            ErrorType::FormatError => "format-error",
            ErrorType::ForeignKey => "foreign-key",
            ErrorType::ChecksumError => "checksum-error",
        }
    }
}

impl fmt::Display for ErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One error in a table, with its position; serialises with exactly the
/// keys `type`, `row`, `field`, `fieldNumber`, `value`, `constraint`,
/// `message` (absent parts are `null`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RowError {
    /// What kind of error.
    #[serde(rename = "type")]
    pub kind: ErrorType,
    /// The row, in the standard's numbering (the header is row 1).
    pub row: u64,
    /// The schema field's name; `None` for errors of a whole row.
    pub field: Option<String>,
    /// The 1-based position of the cell in the row (of the field in the
    /// schema when the data has no cell for it).
    pub field_number: Option<usize>,
    /// The raw text of the cell or label.
    pub value: Option<String>,
    /// The constraint broken, for constraint errors.
    pub constraint: Option<Constraint>,
    /// What was expected, for a person.
    pub message: String,
}

impl RowError {
    /// The error for a record a reader could not read.
    pub fn from_read_error(error: &ReadError) -> RowError {
        let (position, kind, message) = match error {
            ReadError::Undecodable(record) => {
                let position = record.position;
                return RowError {
                    kind: ErrorType::FormatError,
                    row: position.row,
                    field: record.field.clone(),
                    field_number: record.field_number,
                    value: record.value.clone(),
                    constraint: None,
                    message: format!(
                        "{} (record {}, byte {})",
                        record.message, position.row, position.byte
                    ),
                };
            }
            ReadError::Refused { position, message } => {
                return RowError {
                    kind: ErrorType::ChecksumError,
                    row: position.row,
                    field: None,
                    field_number: None,
                    value: None,
                    constraint: None,
                    message: format!(
                        "{message} (record {}, byte {})",
                        position.row, position.byte
                    ),
                };
            }
            ReadError::Record {
                position,
                kind,
                message,
            } => {
                let kind = if *kind == "encoding-error" {
                    ErrorType::EncodingError
                } else {
                    ErrorType::FormatError
                };
                (position, kind, message)
            }
            ReadError::Fatal { position, message } => (position, ErrorType::FormatError, message),
        };
        RowError {
            kind,
            row: position.row,
            field: None,
            field_number: None,
            value: None,
            constraint: None,
            message: format!("{message} (line {}, byte {})", position.line, position.byte),
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row {}", self.row)?;
        if let Some(field) = &self.field {
            write!(f, ", field {field}")?;
        } else if let Some(number) = self.field_number {
            write!(f, ", cell {number}")?;
        }
        write!(f, ": {}: {}", self.kind, self.message)
    }
}

/// What a key check reports on a duplicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    PrimaryKey,
    Unique,
}

/// One key whose uniqueness is checked.
#[derive(Debug)]
struct KeyCheck {
    kind: KeyKind,
    /// Indexes into the schema's fields.
    fields: Vec<usize>,
    /// Every key seen so far.
    seen: KeySet,
}

/// Validates the rows of one table against one schema.
#[derive(Debug)]
pub struct Validator<'s> {
    schema: &'s Schema,
    /// For each field, the index of its cell in a record; `None` when the
    /// header has no label for it (by-name matching), so it is always null.
    columns: Vec<Option<usize>>,
    /// How many cells a row should have; more are `extra-cell`s.
    width: usize,
    /// The errors of the header, found by `new`.
    header_errors: Vec<RowError>,
    /// Primary key first, then unique fields, then unique keys.
    keys: Vec<KeyCheck>,
    /// Seeds the key hashes; fixed, so runs are reproducible.
    hasher: foldhash::quality::FixedState,
    /// Per field, whether this row's cell failed to cast; reused.
    failed: Vec<bool>,
    /// Per field, whether it has constraints on present values: most fields
    /// have none, and skipping the call spares looking at each of them.
    constrained: Vec<bool>,
}

impl<'s> Validator<'s> {
    /// A validator for data whose header has `labels` (`None` when the data
    /// has no header: fields are then matched by position). The header's
    /// errors, at row 1, are in [`Validator::header_errors`].
    pub fn new(schema: &'s Schema, labels: Option<&[String]>) -> Validator<'s> {
        let mut validator = Validator {
            schema,
            columns: (0..schema.fields.len()).map(Some).collect(),
            width: schema.fields.len(),
            header_errors: Vec::new(),
            keys: Vec::new(),
            hasher: foldhash::quality::FixedState::with_seed(0x6472_6f70_6c61_6b65),
            failed: vec![false; schema.fields.len()],
            constrained: schema
                .fields
                .iter()
                .map(|field| field.constraints.checks_values())
                .collect(),
        };
        if !schema.primary_key.is_empty() {
            validator.keys.push(KeyCheck {
                kind: KeyKind::PrimaryKey,
                fields: schema.primary_key.clone(),
                seen: KeySet::default(),
            });
        }
        for (index, field) in schema.fields.iter().enumerate() {
            if field.constraints.unique && schema.primary_key != [index] {
                validator.keys.push(KeyCheck {
                    kind: KeyKind::Unique,
                    fields: vec![index],
                    seen: KeySet::default(),
                });
            }
        }
        for key in &schema.unique_keys {
            validator.keys.push(KeyCheck {
                kind: KeyKind::Unique,
                fields: key.clone(),
                seen: KeySet::default(),
            });
        }
        if let Some(labels) = labels {
            validator.match_header(labels);
        }
        validator
    }

    /// The schema rows are checked against.
    pub fn schema(&self) -> &'s Schema {
        self.schema
    }

    /// The errors of the header row.
    pub fn header_errors(&self) -> &[RowError] {
        &self.header_errors
    }

    /// For each field, the index of its cell in a record, if the data has it.
    pub fn columns(&self) -> &[Option<usize>] {
        &self.columns
    }

    fn header_error(
        &mut self,
        kind: ErrorType,
        field: Option<usize>,
        number: usize,
        label: Option<&str>,
        message: String,
    ) {
        self.header_errors.push(RowError {
            kind,
            row: 1,
            field: field.map(|index| self.schema.fields[index].name.clone()),
            field_number: Some(number),
            value: label.map(str::to_string),
            constraint: None,
            message,
        });
    }

    fn match_header(&mut self, labels: &[String]) {
        let schema = self.schema;
        let fields = &schema.fields;
        // Positions already reported as blank or duplicate labels: not also
        // incorrect ones, as in frictionless-py.
        let mut reported = vec![false; labels.len()];
        for (index, label) in labels.iter().enumerate() {
            reported[index] = true;
            if label.trim().is_empty() {
                let field = (schema.fields_match == FieldsMatch::Exact && index < fields.len())
                    .then_some(index);
                let expected = field
                    .map(|field| format!("; expected {:?}", fields[field].name))
                    .unwrap_or_default();
                self.header_error(
                    ErrorType::BlankLabel,
                    field,
                    index + 1,
                    Some(label),
                    format!("label {} is blank{expected}", index + 1),
                );
            } else if let Some(first) = labels[..index].iter().position(|seen| seen == label) {
                let field = (schema.fields_match == FieldsMatch::Exact && index < fields.len())
                    .then_some(index);
                self.header_error(
                    ErrorType::DuplicateLabel,
                    field,
                    index + 1,
                    Some(label),
                    format!("label {label:?} repeats label {}", first + 1),
                );
            } else {
                reported[index] = false;
            }
        }
        if schema.fields_match == FieldsMatch::Exact {
            // Cells under extra labels were reported in the header, not as
            // extra cells of every row.
            self.width = labels.len().max(fields.len());
            for index in 0..labels.len().max(fields.len()) {
                match (labels.get(index), fields.get(index)) {
                    (Some(label), Some(field)) if *label != field.name => {
                        if reported.get(index) == Some(&true) {
                            continue;
                        }
                        let hint = if label.eq_ignore_ascii_case(&field.name) {
                            " (labels are case-sensitive)"
                        } else {
                            ""
                        };
                        self.header_error(
                            ErrorType::IncorrectLabel,
                            Some(index),
                            index + 1,
                            Some(label),
                            format!("expected label {:?}, found {label:?}{hint}", field.name),
                        );
                    }
                    (None, Some(field)) => self.header_error(
                        ErrorType::MissingLabel,
                        Some(index),
                        index + 1,
                        None,
                        format!(
                            "the header has no label {:?} at position {}",
                            field.name,
                            index + 1
                        ),
                    ),
                    (Some(label), None) => self.header_error(
                        ErrorType::ExtraLabel,
                        None,
                        index + 1,
                        Some(label),
                        format!("label {label:?} is not a field of the schema"),
                    ),
                    _ => {}
                }
            }
            return;
        }
        // By name.
        self.width = labels.len();
        self.columns = fields
            .iter()
            .map(|field| labels.iter().position(|label| *label == field.name))
            .collect();
        let none_matched = self.columns.iter().all(Option::is_none);
        let report_missing = match schema.fields_match {
            FieldsMatch::Equal | FieldsMatch::Subset => true,
            FieldsMatch::Partial => none_matched,
            _ => false,
        };
        if report_missing {
            let absent: Vec<usize> = (0..fields.len())
                .filter(|&index| self.columns[index].is_none())
                .collect();
            for index in absent {
                {
                    let name = &fields[index].name;
                    self.header_error(
                        ErrorType::MissingLabel,
                        Some(index),
                        index + 1,
                        None,
                        format!("the header has no label {name:?}"),
                    );
                }
            }
        }
        if matches!(
            schema.fields_match,
            FieldsMatch::Equal | FieldsMatch::Superset
        ) {
            for (index, label) in labels.iter().enumerate() {
                if !label.trim().is_empty() && !fields.iter().any(|field| field.name == *label) {
                    self.header_error(
                        ErrorType::ExtraLabel,
                        None,
                        index + 1,
                        Some(label),
                        format!("label {label:?} is not a field of the schema"),
                    );
                }
            }
        }
    }

    /// Checks one record: fills `values` with one typed value per schema
    /// field (null where the cell is missing or failed), appends the row's
    /// errors to `errors`, and says whether the row is valid.
    ///
    /// `values` is cleared first; keep it between rows with
    /// [`recycle`](super::recycle) so that no row allocates.
    pub fn check_row<'r>(
        &mut self,
        record: &'r Record,
        values: &mut Vec<Value<'r>>,
        errors: &mut Vec<RowError>,
    ) -> bool {
        let before = errors.len();
        let row = record.position.row;
        let fields = &self.schema.fields;
        values.clear();
        if self.is_blank(record) {
            values.extend(fields.iter().map(|_| Value::Null));
            errors.push(RowError {
                kind: ErrorType::BlankRow,
                row,
                field: None,
                field_number: None,
                value: None,
                constraint: None,
                message: "the row is empty".to_string(),
            });
            return false;
        }
        // One fill of nulls, then each slot is cast into in place: pushing a
        // value per field costs a store-forwarding stall per cell.
        values.resize_with(fields.len(), || Value::Null);
        for ((index, field), slot) in fields.iter().enumerate().zip(values.iter_mut()) {
            self.failed[index] = false;
            let column = self.columns[index];
            let number = column.map_or(index + 1, |column| column + 1);
            let cell = column.and_then(|column| record.get(column));
            let error = |kind, raw: &str, constraint, message| RowError {
                kind,
                row,
                field: Some(field.name.clone()),
                field_number: Some(number),
                value: Some(raw.to_string()),
                constraint,
                message,
            };
            let Some(cell) = cell else {
                // There is no cell, so no raw value to report.
                let absent = |kind, constraint, message| RowError {
                    value: None,
                    ..error(kind, "", constraint, message)
                };
                if column.is_some() {
                    errors.push(absent(
                        ErrorType::MissingCell,
                        None,
                        format!("the row has no cell for field {:?}", field.name),
                    ));
                } else if field.constraints.required {
                    errors.push(absent(
                        ErrorType::ConstraintError,
                        Some(Constraint::Required),
                        "a value is required, and the data has no such column".to_string(),
                    ));
                }
                continue;
            };
            let text = match cell {
                Cell::Text(text) => text,
                Cell::Json(serde_json::Value::String(text)) => text.as_str(),
                Cell::Json(_) => "",
            };
            match cast_into(field, cell, slot) {
                Ok(()) => {
                    let value = &*slot;
                    if value.is_null() {
                        if field.constraints.required {
                            errors.push(error(
                                ErrorType::ConstraintError,
                                &raw(cell),
                                Some(Constraint::Required),
                                "a value is required".to_string(),
                            ));
                        }
                        continue;
                    }
                    if !self.constrained[index] {
                        continue;
                    }
                    field.constraints.check(value, text, |violation| {
                        errors.push(error(
                            ErrorType::ConstraintError,
                            &raw(cell),
                            Some(violation.constraint),
                            violation.message,
                        ));
                    });
                }
                Err(cast_error) => {
                    self.failed[index] = true;
                    let detail = cast_error
                        .detail
                        .map(|detail| format!(": {detail}"))
                        .unwrap_or_default();
                    let raw = raw(cell);
                    let message = format!("{raw:?} is not {}{detail}", field.kind);
                    errors.push(error(ErrorType::TypeError, &raw, None, message));
                }
            }
        }
        for column in self.width..record.len() {
            errors.push(RowError {
                kind: ErrorType::ExtraCell,
                row,
                field: None,
                field_number: Some(column + 1),
                value: record.get(column).map(|cell| raw(cell)),
                constraint: None,
                message: format!(
                    "the row has {} cells, the header {}",
                    record.len(),
                    self.width
                ),
            });
        }
        self.check_keys(row, values, errors);
        errors.len() == before
    }

    /// Checks a row whose values arrived already typed (a source that
    /// decodes its own fields): one value per schema field, in schema order.
    /// Checks `required`, the constraints and the keys as
    /// [`Validator::check_row`] does after casting; reports carry each
    /// value's canonical text. Says whether the row is valid. Values missing
    /// at the end count as nulls, and the row's keys are then not checked.
    pub fn check_values(
        &mut self,
        row: u64,
        values: &[Value<'_>],
        errors: &mut Vec<RowError>,
    ) -> bool {
        let before = errors.len();
        let fields = &self.schema.fields;
        for (index, field) in fields.iter().enumerate() {
            self.failed[index] = false;
            let value = values.get(index).unwrap_or(&Value::Null);
            let error = |constraint, message| RowError {
                kind: ErrorType::ConstraintError,
                row,
                field: Some(field.name.clone()),
                field_number: Some(index + 1),
                value: Some(value.to_string()),
                constraint: Some(constraint),
                message,
            };
            if value.is_null() {
                if field.constraints.required {
                    errors.push(error(
                        Constraint::Required,
                        "a value is required".to_string(),
                    ));
                }
                continue;
            }
            let text = match value {
                Value::String(text) => text.as_ref(),
                _ => "",
            };
            field.constraints.check(value, text, |violation| {
                errors.push(error(violation.constraint, violation.message));
            });
        }
        if values.len() >= fields.len() {
            self.check_keys(row, values, errors);
        }
        errors.len() == before
    }

    fn is_blank(&self, record: &Record) -> bool {
        record.cells().all(|cell| match cell {
            Cell::Text(text) => {
                text.is_empty() || self.schema.missing_values.iter().any(|m| m == text)
            }
            Cell::Json(serde_json::Value::Null) => true,
            Cell::Json(serde_json::Value::String(text)) => text.is_empty(),
            Cell::Json(_) => false,
        })
    }

    fn check_keys(&mut self, row: u64, values: &[Value<'_>], errors: &mut Vec<RowError>) {
        let schema = self.schema;
        for key in &mut self.keys {
            // A key with a null or a failed cell is not checked: nulls are
            // distinct as in SQL, and a failed cell has no value to compare.
            if key
                .fields
                .iter()
                .any(|&field| self.failed[field] || values[field].is_null())
            {
                continue;
            }
            let new = match (key.fields.as_slice(), values) {
                // One integer field: kept exactly, no hashing.
                ([field], values) if matches!(values[*field], Value::Integer(_)) => {
                    let Value::Integer(n) = values[*field] else {
                        continue;
                    };
                    key.seen.insert_integer(n)
                }
                _ => {
                    let mut hasher = self.hasher.build_hasher();
                    for &field in &key.fields {
                        values[field].hash_key(&mut hasher);
                    }
                    key.seen.insert_hash(hasher.finish())
                }
            };
            if new {
                continue;
            }
            let names: Vec<&str> = key
                .fields
                .iter()
                .map(|&field| schema.fields[field].name.as_str())
                .collect();
            let shown: Vec<String> = key
                .fields
                .iter()
                .map(|&field| values[field].to_string())
                .collect();
            let single = (key.fields.len() == 1).then(|| key.fields[0]);
            let (kind, what) = match key.kind {
                KeyKind::PrimaryKey => (ErrorType::PrimaryKey, "primary key"),
                KeyKind::Unique => (ErrorType::UniqueError, "unique key"),
            };
            errors.push(RowError {
                kind,
                row,
                field: match key.kind {
                    KeyKind::Unique => single.map(|field| schema.fields[field].name.clone()),
                    KeyKind::PrimaryKey => None,
                },
                field_number: match key.kind {
                    KeyKind::Unique => single.map(|field| field + 1),
                    KeyKind::PrimaryKey => None,
                },
                value: Some(shown.join(", ")),
                constraint: (kind == ErrorType::UniqueError && single.is_some())
                    .then_some(Constraint::Unique),
                message: format!(
                    "the {what} ({}) = ({}) is already in an earlier row",
                    names.join(", "),
                    shown.join(", ")
                ),
            });
        }
    }
}

/// The raw text of a cell, for reports: the text, or the JSON value (a JSON
/// string without its quotes).
fn raw(cell: Cell<'_>) -> String {
    match cell {
        Cell::Text(text) => text.to_string(),
        Cell::Json(serde_json::Value::String(text)) => text.clone(),
        Cell::Json(serde_json::Value::Null) => String::new(),
        Cell::Json(json) => json.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::formats::Position;
    use crate::schema::recycle;

    fn orders() -> Schema {
        let document = json!({
            "fields": [
                {"name": "id", "type": "integer"},
                {"name": "email", "format": "email", "constraints": {"required": true}},
                {"name": "amount", "type": "number", "constraints": {"minimum": 0}},
                {"name": "quantity", "type": "integer", "constraints": {"minimum": 1, "maximum": 1000}},
                {"name": "status", "constraints": {"enum": ["new", "paid", "sent", "done", "void"]}}
            ],
            "primaryKey": ["id"]
        });
        Schema::parse("orders", Path::new("orders.json"), &document.to_string())
            .expect("a valid schema")
    }

    fn labels(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    fn record(row: u64, cells: &[&str]) -> Record {
        let mut record = Record::new();
        let text = record.text_mut();
        for cell in cells {
            text.push_field(cell);
        }
        record.position = Position {
            row,
            line: row,
            byte: 0,
        };
        record
    }

    /// (row, field, type, constraint) of each error, for compact assertions.
    fn summary(errors: &[RowError]) -> Vec<(u64, Option<&str>, &str, Option<&str>)> {
        errors
            .iter()
            .map(|error| {
                (
                    error.row,
                    error.field.as_deref(),
                    error.kind.name(),
                    error.constraint.map(Constraint::name),
                )
            })
            .collect()
    }

    fn check(validator: &mut Validator<'_>, rows: &[&[&str]]) -> Vec<RowError> {
        let mut errors = Vec::new();
        let mut spare: Vec<Value<'static>> = Vec::new();
        for (index, cells) in rows.iter().enumerate() {
            let record = record(index as u64 + 2, cells);
            let mut values = recycle(std::mem::take(&mut spare));
            validator.check_row(&record, &mut values, &mut errors);
            assert_eq!(values.len(), validator.schema.fields.len());
            spare = recycle(values);
        }
        errors
    }

    const HEADER: [&str; 5] = ["id", "email", "amount", "quantity", "status"];

    #[test]
    fn a_valid_row_gives_its_typed_values_and_no_errors() {
        let schema = orders();
        let mut validator = Validator::new(&schema, Some(&labels(&HEADER)));
        assert!(validator.header_errors().is_empty());
        let record = record(2, &["7", "a@b.co", "12.50", "3", "paid"]);
        let mut values = Vec::new();
        let mut errors = Vec::new();
        assert!(validator.check_row(&record, &mut values, &mut errors));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(values[0], Value::Integer(7));
        assert_eq!(values[2].to_string(), "12.50");
        assert_eq!(values[4], Value::String("paid".into()));
    }

    #[test]
    fn every_error_of_a_row_is_reported() {
        let schema = orders();
        let mut validator = Validator::new(&schema, Some(&labels(&HEADER)));
        let errors = check(&mut validator, &[&["x", "", "-1", "0", "lost"]]);
        assert_eq!(
            summary(&errors),
            [
                (2, Some("id"), "type-error", None),
                (2, Some("email"), "constraint-error", Some("required")),
                (2, Some("amount"), "constraint-error", Some("minimum")),
                (2, Some("quantity"), "constraint-error", Some("minimum")),
                (2, Some("status"), "constraint-error", Some("enum")),
            ]
        );
        assert_eq!(errors[0].field_number, Some(1));
        assert_eq!(errors[0].value.as_deref(), Some("x"));
        assert_eq!(errors[0].message, "\"x\" is not an integer");
    }

    #[test]
    fn a_cell_that_fails_its_type_gets_no_constraint_errors() {
        let schema = orders();
        let mut validator = Validator::new(&schema, None);
        let errors = check(&mut validator, &[&["1", "a@b.co", "1", "many", "new"]]);
        assert_eq!(
            summary(&errors),
            [(2, Some("quantity"), "type-error", None)]
        );
    }

    #[test]
    fn a_missing_value_is_checked_only_against_required() {
        let schema = orders();
        let mut validator = Validator::new(&schema, None);
        let errors = check(&mut validator, &[&["1", "a@b.co", "", "", ""]]);
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn a_blank_row_gives_only_blank_row() {
        let schema = orders();
        let mut validator = Validator::new(&schema, None);
        let errors = check(&mut validator, &[&["", "", "", "", ""], &[]]);
        assert_eq!(
            summary(&errors),
            [(2, None, "blank-row", None), (3, None, "blank-row", None)]
        );
    }

    #[test]
    fn short_rows_miss_each_absent_cell_and_long_rows_check_the_rest() {
        let schema = orders();
        let mut validator = Validator::new(&schema, None);
        let errors = check(
            &mut validator,
            &[
                &["1", "a@b.co", "1"],
                &["2", "a@b.co", "x", "5", "new", "extra", "more"],
            ],
        );
        assert_eq!(
            summary(&errors),
            [
                (2, Some("quantity"), "missing-cell", None),
                (2, Some("status"), "missing-cell", None),
                (3, Some("amount"), "type-error", None),
                (3, None, "extra-cell", None),
                (3, None, "extra-cell", None),
            ]
        );
        assert_eq!(errors[0].value, None, "a missing cell has no value");
        assert_eq!(errors[0].field_number, Some(4));
        assert_eq!(errors[3].field_number, Some(6));
        assert_eq!(errors[4].value.as_deref(), Some("more"));
    }

    #[test]
    fn a_duplicate_key_is_reported_on_the_later_rows_only() {
        let schema = orders();
        let mut validator = Validator::new(&schema, None);
        let row = |id| [id, "a@b.co", "1", "1", "new"];
        let errors = check(
            &mut validator,
            &[&row("1"), &row("2"), &row("01"), &row("x"), &row("1")],
        );
        assert_eq!(
            summary(&errors),
            [
                (4, None, "primary-key", None),
                (5, Some("id"), "type-error", None),
                (6, None, "primary-key", None),
            ]
        );
        assert_eq!(errors[0].value.as_deref(), Some("1"));
        assert!(
            errors[0].message.contains("(id) = (1)"),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn primary_key_fields_are_implicitly_required() {
        let schema = orders();
        let mut validator = Validator::new(&schema, None);
        let errors = check(&mut validator, &[&["", "a@b.co", "1", "1", "new"]]);
        assert_eq!(
            summary(&errors),
            [(2, Some("id"), "constraint-error", Some("required"))]
        );
    }

    #[test]
    fn unique_fields_compare_values_not_text_and_skip_nulls() {
        let document = json!({"fields": [
            {"name": "price", "type": "number", "constraints": {"unique": true}},
            {"name": "note"}
        ]});
        let schema =
            Schema::parse("t", Path::new("t.json"), &document.to_string()).expect("a valid schema");
        let mut validator = Validator::new(&schema, None);
        let errors = check(
            &mut validator,
            &[
                &["1.5", "a"],
                &["", "b"],
                &["1.50", "c"],
                &["", "d"],
                &["2", "e"],
            ],
        );
        assert_eq!(
            summary(&errors),
            [(4, Some("price"), "unique-error", Some("unique"))]
        );
    }

    #[test]
    fn composite_unique_keys_treat_nulls_as_distinct() {
        let document = json!({
            "fields": [{"name": "a"}, {"name": "b"}],
            "uniqueKeys": [["a", "b"]]
        });
        let schema =
            Schema::parse("t", Path::new("t.json"), &document.to_string()).expect("a valid schema");
        let mut validator = Validator::new(&schema, None);
        let errors = check(
            &mut validator,
            &[
                &["x", "1"],
                &["x", ""],
                &["x", ""],
                &["x", "2"],
                &["x", "1"],
            ],
        );
        assert_eq!(summary(&errors), [(6, None, "unique-error", None)]);
    }

    #[test]
    fn a_composite_primary_key_needs_every_part_and_is_unique_as_a_whole() {
        let document = json!({
            "fields": [{"name": "day", "type": "date"}, {"name": "shop", "type": "integer"}],
            "primaryKey": ["day", "shop"]
        });
        let schema =
            Schema::parse("t", Path::new("t.json"), &document.to_string()).expect("a valid schema");
        let mut validator = Validator::new(&schema, None);
        let errors = check(
            &mut validator,
            &[
                &["2024-01-01", "1"],
                &["2024-01-01", "2"],
                &["2024-01-02", "1"],
                &["2024-01-01", ""],
                &["2024-01-01", ""],
                &["2024-01-01", "01"],
            ],
        );
        assert_eq!(
            summary(&errors),
            [
                (5, Some("shop"), "constraint-error", Some("required")),
                (6, Some("shop"), "constraint-error", Some("required")),
                (7, None, "primary-key", None),
            ]
        );
        assert_eq!(errors[2].value.as_deref(), Some("2024-01-01, 1"));
    }

    #[test]
    fn typed_rows_are_checked_for_constraints_and_keys_without_casting() {
        let schema = orders();
        let mut validator = Validator::new(&schema, None);
        let mut errors = Vec::new();
        let row = |id, quantity| {
            vec![
                Value::Integer(id),
                Value::String("a@b.co".into()),
                Value::Null,
                Value::Integer(quantity),
                Value::String("new".into()),
            ]
        };
        assert!(validator.check_values(2, &row(1, 5), &mut errors));
        assert!(!validator.check_values(3, &row(1, 5000), &mut errors));
        assert_eq!(
            summary(&errors),
            [
                (3, Some("quantity"), "constraint-error", Some("maximum")),
                (3, None, "primary-key", None),
            ]
        );
        assert_eq!(errors[0].value.as_deref(), Some("5000"));
    }

    #[test]
    fn a_wrong_label_is_reported_and_data_still_matches_by_position() {
        let schema = orders();
        let mut validator = Validator::new(
            &schema,
            Some(&labels(&["ID", "email", "total", "quantity", "status"])),
        );
        assert_eq!(
            summary(validator.header_errors()),
            [
                (1, Some("id"), "incorrect-label", None),
                (1, Some("amount"), "incorrect-label", None),
            ]
        );
        assert!(
            validator.header_errors()[0]
                .message
                .contains("case-sensitive")
        );
        assert_eq!(validator.header_errors()[1].value.as_deref(), Some("total"));
        let errors = check(&mut validator, &[&["1", "a@b.co", "-5", "1", "new"]]);
        assert_eq!(
            summary(&errors),
            [(2, Some("amount"), "constraint-error", Some("minimum"))]
        );
    }

    #[test]
    fn header_problems_blank_duplicate_missing_and_extra() {
        let schema = orders();
        let validator = Validator::new(&schema, Some(&labels(&["id", "", "id"])));
        assert_eq!(
            summary(validator.header_errors()),
            [
                (1, Some("email"), "blank-label", None),
                (1, Some("amount"), "duplicate-label", None),
                (1, Some("quantity"), "missing-label", None),
                (1, Some("status"), "missing-label", None),
            ]
        );
        let mut long = HEADER.to_vec();
        long.push("note");
        let validator = Validator::new(&schema, Some(&labels(&long)));
        assert_eq!(
            summary(validator.header_errors()),
            [(1, None, "extra-label", None)]
        );
        assert_eq!(validator.header_errors()[0].field_number, Some(6));
    }

    fn by_name(mode: &str) -> Schema {
        let document = json!({
            "fields": [{"name": "a", "type": "integer"}, {"name": "b", "constraints": {"required": true}}],
            "fieldsMatch": mode
        });
        Schema::parse("t", Path::new("t.json"), &document.to_string()).expect("a valid schema")
    }

    #[test]
    fn fields_match_by_name_maps_reordered_columns() {
        let schema = by_name("equal");
        let mut validator = Validator::new(&schema, Some(&labels(&["b", "a"])));
        assert!(validator.header_errors().is_empty());
        let record = record(2, &["text", "5"]);
        let mut values = Vec::new();
        let mut errors = Vec::new();
        assert!(validator.check_row(&record, &mut values, &mut errors));
        assert_eq!(values, [Value::Integer(5), Value::String("text".into())]);
    }

    #[test]
    fn fields_match_modes_decide_which_labels_may_be_missing_or_extra() {
        let header = |mode: &str, names: &[&str]| {
            let schema = by_name(mode);
            let validator = Validator::new(&schema, Some(&labels(names)));
            validator
                .header_errors()
                .iter()
                .map(|error| (error.field.clone(), error.kind.name()))
                .collect::<Vec<_>>()
        };
        let missing_b = (Some("b".to_string()), "missing-label");
        let extra = (None, "extra-label");
        assert_eq!(
            header("equal", &["a", "c"]),
            [missing_b.clone(), extra.clone()]
        );
        assert_eq!(
            header("subset", &["a", "c"]),
            std::slice::from_ref(&missing_b)
        );
        assert_eq!(header("subset", &["c", "b", "a"]), []);
        assert_eq!(
            header("superset", &["a", "c"]),
            std::slice::from_ref(&extra)
        );
        assert_eq!(header("superset", &["a"]), []);
        assert_eq!(header("partial", &["a", "c"]), []);
        assert_eq!(header("partial", &["c"]).len(), 2);
    }

    #[test]
    fn a_field_absent_from_a_superset_header_is_null_and_checked_for_required() {
        let schema = by_name("superset");
        let mut validator = Validator::new(&schema, Some(&labels(&["a"])));
        let errors = check(&mut validator, &[&["1"]]);
        assert_eq!(
            summary(&errors),
            [(2, Some("b"), "constraint-error", Some("required"))]
        );
    }

    #[test]
    fn json_records_are_validated_by_position() {
        let schema = orders();
        let mut validator = Validator::new(&schema, None);
        let mut record = Record::new();
        record.position.row = 2;
        record.json_mut().extend([
            json!(1),
            json!("a@b.co"),
            json!(2.5),
            json!(1001),
            serde_json::Value::Null,
        ]);
        let mut values = Vec::new();
        let mut errors = Vec::new();
        validator.check_row(&record, &mut values, &mut errors);
        assert_eq!(
            summary(&errors),
            [(2, Some("quantity"), "constraint-error", Some("maximum"))]
        );
        assert_eq!(errors[0].value.as_deref(), Some("1001"));
        assert_eq!(values[2].to_string(), "2.5");
    }

    #[test]
    fn errors_serialise_with_the_frictionless_keys() {
        let schema = orders();
        let mut validator = Validator::new(&schema, None);
        let errors = check(&mut validator, &[&["1", "a@b.co", "1", "5000", "new"]]);
        let json = serde_json::to_value(&errors[0]).expect("serialisable");
        assert_eq!(
            json,
            json!({
                "type": "constraint-error",
                "row": 2,
                "field": "quantity",
                "fieldNumber": 4,
                "value": "5000",
                "constraint": "maximum",
                "message": "expected a value at most 1000"
            })
        );
        let blank = check(&mut validator, &[&[""]]);
        let json = serde_json::to_value(&blank[0]).expect("serialisable");
        assert_eq!(json["field"], serde_json::Value::Null);
        assert_eq!(json["type"], "blank-row");
    }

    #[test]
    fn read_errors_become_row_errors_of_their_kind() {
        let error = ReadError::Record {
            position: Position {
                row: 9,
                line: 10,
                byte: 300,
            },
            kind: "encoding-error",
            message: "invalid UTF-8".to_string(),
        };
        let row_error = RowError::from_read_error(&error);
        assert_eq!(row_error.kind, ErrorType::EncodingError);
        assert_eq!(row_error.row, 9);
        assert_eq!(row_error.message, "invalid UTF-8 (line 10, byte 300)");
        let fatal = ReadError::Fatal {
            position: Position::default(),
            message: "unterminated quote".to_string(),
        };
        assert_eq!(
            RowError::from_read_error(&fatal).kind,
            ErrorType::FormatError
        );
    }
}
