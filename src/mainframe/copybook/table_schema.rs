//! The Table Schema of a warehouse table that holds a copybook's records.
//!
//! One field per column (see [`super::columns`]), typed so that no value is
//! rounded:
//!
//! - text (PIC X, A): `string` with `maxLength` the item's length;
//! - whole numbers of up to 18 digits (no `V`, trailing `P`s counted):
//!   `integer`; binary COMP-5 items by their storage, which may exceed the
//!   picture (an unsigned 8-byte COMP-5 does not fit a 64-bit integer);
//! - larger whole numbers: `number` with `decimalPlaces: 0`, an exact
//!   decimal of up to 38 digits;
//! - decimals (`V`, `.`, leading `P`): `number` with `decimalPlaces` the
//!   scale, stored exactly by the warehouse; above 18 places, which
//!   `decimalPlaces` cannot say, a `string` holding the decimal's text;
//! - COMP-1 and COMP-2: `number` (a binary float is what they are);
//! - a column holding all occurrences of an OCCURS: `array`.
//!
//! A field whose condition names (level 88) list single values only gets
//! them as an `enum` constraint (text without its trailing spaces, as
//! `decode` gives it; SPACES is the empty, missing value); a THRU range, a
//! figurative constant other than SPACES or ZEROS, a hexadecimal literal, or
//! a value the field cannot hold leaves the field without one. No field is
//! `required`: REDEFINES alternatives, occurrences beyond an OCCURS
//! DEPENDING ON count and fields a decoder cannot read are null. Each field
//! carries the item's place and type in its `description` and in an
//! `x-cobol` property (`name`, `offset` from 0, `length`, `picture`,
//! `usage`, `occurrence` from 1, `conditions`), which other tools ignore.

use serde_json::{Map, Value as Json, json};

use super::columns::{Column, ColumnShape, OccursColumns, column_count, columns};
use super::item::{
    Binary, ConditionValue, DataType, Elementary, Figurative, Item, ItemId, Literal, Precision,
};
use super::{Copybook, CopybookError};

/// The most fields a table may have: SQLite's 2,000 columns, less the
/// warehouse's `_load_id`.
pub const MAX_FIELDS: usize = 1999;

/// The most `decimalPlaces` droplake's exact decimals have.
const MAX_PLACES: i32 = 18;

/// What [`table_schema`] makes.
#[derive(Debug, Clone, Default)]
pub struct SchemaOptions {
    /// Only this record (by name); every record when `None`.
    pub record: Option<String>,
    /// Columns per occurrence, or one array column per OCCURS item.
    pub occurs: OccursColumns,
    /// Whether condition names become `enum` constraints.
    pub enums: bool,
}

/// The Table Schema (JSON) for a table of the copybook's records.
pub fn table_schema(copybook: &Copybook, options: &SchemaOptions) -> Result<Json, CopybookError> {
    let records: Vec<ItemId> = match &options.record {
        Some(name) => vec![copybook.record_named(name)?.id],
        None => copybook.records().map(|record| record.id).collect(),
    };
    let count = column_count(copybook, &records, options.occurs);
    if count > MAX_FIELDS as u64 {
        return Err(CopybookError::TooManyColumns {
            origin: copybook.origin().to_string(),
            count,
            limit: MAX_FIELDS,
        });
    }
    let columns = columns(copybook, &records, options.occurs);
    let fields: Vec<Json> = columns
        .iter()
        .map(|column| field(copybook, column, options.enums))
        .collect();
    let described: Vec<String> = records
        .iter()
        .map(|id| {
            let record = copybook.item(*id);
            format!("{} ({} bytes)", record.display_name(), record.length)
        })
        .collect();
    Ok(json!({
        "$schema": "https://datapackage.org/profiles/2.0/tableschema.json",
        "description": format!(
            "Records of the copybook {}: {}. Made by droplake schema from-copybook.",
            copybook.origin(),
            described.join(", ")
        ),
        "fields": fields,
        "missingValues": [""],
    }))
}

/// One column's field.
fn field(copybook: &Copybook, column: &Column, enums: bool) -> Json {
    let item = copybook.item(column.item);
    let mut field = Map::new();
    field.insert("name".into(), json!(column.name));
    let elementary = item.elementary();
    let mut constraints = Map::new();
    match (&column.shape, elementary) {
        (ColumnShape::Array { .. }, _) | (_, None) => {
            field.insert("type".into(), json!("array"));
        }
        (ColumnShape::Value { .. }, Some(elementary)) => {
            let kind = kind_of(elementary);
            field.insert("type".into(), json!(kind.type_name()));
            if let Kind::Exact(places) = kind {
                field.insert("decimalPlaces".into(), json!(places));
            }
            if elementary.data == DataType::Text {
                constraints.insert("maxLength".into(), json!(item.length));
            }
            if enums && let Some(members) = enum_members(item, elementary, kind) {
                constraints.insert("enum".into(), Json::Array(members));
            }
        }
    }
    field.insert(
        "description".into(),
        json!(description(copybook, item, column)),
    );
    if !constraints.is_empty() {
        field.insert("constraints".into(), Json::Object(constraints));
    }
    field.insert("x-cobol".into(), cobol(copybook, item, column));
    Json::Object(field)
}

/// A column's Table Schema type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Integer,
    /// `number` with `decimalPlaces`.
    Exact(i32),
    /// A decimal with more places than `decimalPlaces` allows: its text.
    DecimalText,
    Float,
}

impl Kind {
    fn type_name(self) -> &'static str {
        match self {
            Kind::Text | Kind::DecimalText => "string",
            Kind::Integer => "integer",
            Kind::Exact(_) | Kind::Float => "number",
        }
    }
}

fn kind_of(elementary: &Elementary) -> Kind {
    let decimal = match elementary.data {
        DataType::Text => return Kind::Text,
        DataType::Float(_) => return Kind::Float,
        DataType::Binary(Binary {
            decimal,
            bytes,
            native: true,
        }) => {
            // COMP-5 may use all of its storage.
            let fits = decimal.scale == 0 && (bytes < 8 || (bytes == 8 && decimal.signed));
            return if fits {
                Kind::Integer
            } else {
                decimal_kind(decimal, 20)
            };
        }
        DataType::Zoned(zoned) => zoned.decimal,
        DataType::Edited(decimal) | DataType::Packed(decimal) => decimal,
        DataType::Binary(binary) => binary.decimal,
    };
    decimal_kind(decimal, decimal.digits)
}

/// The kind of a decimal whose digits (without scaling) may number `digits`.
fn decimal_kind(decimal: Precision, digits: u32) -> Kind {
    if decimal.scale <= 0 {
        let whole = i64::from(digits) - i64::from(decimal.scale);
        if whole <= 18 {
            Kind::Integer
        } else {
            Kind::Exact(0)
        }
    } else if decimal.scale <= MAX_PLACES {
        Kind::Exact(decimal.scale)
    } else {
        Kind::DecimalText
    }
}

/// The values of the item's condition names, as members of an `enum` of
/// `kind`; `None` when they cannot all be said that way.
fn enum_members(item: &Item, elementary: &Elementary, kind: Kind) -> Option<Vec<Json>> {
    if item.conditions.is_empty() || elementary.justified_right {
        return None;
    }
    let mut members: Vec<Json> = Vec::new();
    for condition in &item.conditions {
        for value in &condition.values {
            let ConditionValue::Single(literal) = value else {
                return None;
            };
            let member = match (kind, literal) {
                (_, Literal::Figurative(Figurative::Spaces)) if kind == Kind::Text => continue,
                (Kind::Text, Literal::Text(text)) => {
                    let text = text.trim_end_matches(' ');
                    if text.chars().count() > item.length {
                        return None;
                    }
                    json!(text)
                }
                (Kind::Integer, Literal::Number(number)) if number.scale == 0 => {
                    json!(i64::try_from(number.mantissa).ok()?)
                }
                (Kind::Integer, Literal::Figurative(Figurative::Zeros)) => json!(0),
                (Kind::Exact(places), Literal::Number(number))
                    if i64::from(number.scale) <= i64::from(places) =>
                {
                    json!(number.to_string())
                }
                (Kind::Exact(_), Literal::Figurative(Figurative::Zeros)) => json!("0"),
                _ => return None,
            };
            if !members.contains(&member) {
                members.push(member);
            }
        }
    }
    (!members.is_empty()).then_some(members)
}

/// `CUST-ID OF CUSTOMER (2): bytes 41-64, X(24)`.
fn description(copybook: &Copybook, item: &Item, column: &Column) -> String {
    let name = copybook.qualified_name(item.id);
    let kind = item
        .elementary()
        .map_or_else(|| "group".to_string(), ToString::to_string);
    match &column.shape {
        ColumnShape::Value { indices } => {
            let subscript = if indices.is_empty() {
                String::new()
            } else {
                let numbers: Vec<String> = indices.iter().map(|i| (i + 1).to_string()).collect();
                format!(" ({})", numbers.join(", "))
            };
            format!(
                "{name}{subscript}: {}, {kind}",
                bytes(column.offset, item.length)
            )
        }
        ColumnShape::Array { .. } => {
            let counts: Vec<String> = copybook
                .dimensions(item.id)
                .iter()
                .map(|table| {
                    copybook
                        .item(*table)
                        .occurs
                        .map_or(1, |occurs| occurs.max)
                        .to_string()
                })
                .collect();
            format!(
                "{name}: {} occurrences of {kind}, the first at {}",
                counts.join(" x "),
                bytes(column.offset, item.length)
            )
        }
    }
}

/// `bytes 6-8`, or `byte 6` for one byte (1-based positions).
fn bytes(offset: usize, length: usize) -> String {
    if length == 1 {
        format!("byte {}", offset + 1)
    } else {
        format!("bytes {}-{}", offset + 1, offset + length)
    }
}

/// The `x-cobol` property: where the value is and how it is written.
fn cobol(copybook: &Copybook, item: &Item, column: &Column) -> Json {
    let mut cobol = Map::new();
    cobol.insert("name".into(), json!(item.display_name()));
    cobol.insert("offset".into(), json!(column.offset));
    cobol.insert("length".into(), json!(item.length));
    if let Some(elementary) = item.elementary() {
        if let Some(picture) = &elementary.picture {
            cobol.insert("picture".into(), json!(picture.text));
        }
        cobol.insert("usage".into(), json!(elementary.usage.keyword()));
    }
    match &column.shape {
        ColumnShape::Value { indices } if !indices.is_empty() => {
            let occurrence: Vec<u32> = indices.iter().map(|i| i + 1).collect();
            cobol.insert("occurrence".into(), json!(occurrence));
        }
        ColumnShape::Array { .. } => {
            let occurs: Vec<u32> = copybook
                .dimensions(item.id)
                .iter()
                .map(|table| copybook.item(*table).occurs.map_or(1, |o| o.max))
                .collect();
            cobol.insert("occurs".into(), json!(occurs));
        }
        ColumnShape::Value { .. } => {}
    }
    if !item.conditions.is_empty() {
        let conditions: Vec<Json> = item
            .conditions
            .iter()
            .map(|condition| {
                let values: Vec<String> =
                    condition.values.iter().map(ToString::to_string).collect();
                json!({"name": condition.name, "values": values})
            })
            .collect();
        cobol.insert("conditions".into(), Json::Array(conditions));
    }
    Json::Object(cobol)
}

#[cfg(test)]
mod tests {
    use super::super::SourceFormat;
    use super::*;

    fn schema_of(text: &str, options: &SchemaOptions) -> Json {
        let copybook = Copybook::parse(text, "test.cpy", SourceFormat::Free).expect("valid");
        table_schema(&copybook, options).expect("a schema")
    }

    fn field<'j>(schema: &'j Json, name: &str) -> &'j Json {
        schema["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .find(|field| field["name"] == name)
            .expect("a field of that name")
    }

    fn enums() -> SchemaOptions {
        SchemaOptions {
            enums: true,
            ..SchemaOptions::default()
        }
    }

    #[test]
    fn types_keep_every_value_exact() {
        let schema = schema_of(
            "01 R.
               05 NAME PIC X(20).
               05 COUNT-18 PIC S9(18) COMP-3.
               05 COUNT-19 PIC 9(19).
               05 THOUSANDS PIC 9(5)PPP.
               05 AMOUNT PIC S9(7)V99 COMP-3.
               05 TINY PIC PPP9(5).
               05 PRECISE PIC V9(20).
               05 RATE COMP-2.
               05 NATIVE-S PIC S9(18) COMP-5.
               05 NATIVE-U PIC 9(18) COMP-5.
               05 EDITED PIC Z(6)VZZ-.",
            &SchemaOptions::default(),
        );
        let types: Vec<(String, Json, Json)> = schema["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .map(|f| {
                (
                    f["name"].as_str().unwrap_or("").to_string(),
                    f["type"].clone(),
                    f["decimalPlaces"].clone(),
                )
            })
            .collect();
        let expected = [
            ("name", json!("string"), Json::Null),
            ("count_18", json!("integer"), Json::Null),
            ("count_19", json!("number"), json!(0)),
            ("thousands", json!("integer"), Json::Null),
            ("amount", json!("number"), json!(2)),
            ("tiny", json!("number"), json!(8)),
            ("precise", json!("string"), Json::Null),
            ("rate", json!("number"), Json::Null),
            ("native_s", json!("integer"), Json::Null),
            ("native_u", json!("number"), json!(0)),
            ("edited", json!("number"), json!(2)),
        ];
        let expected: Vec<(String, Json, Json)> = expected
            .into_iter()
            .map(|(name, kind, places)| (name.to_string(), kind, places))
            .collect();
        assert_eq!(types, expected);
        assert_eq!(
            field(&schema, "name")["constraints"],
            json!({"maxLength": 20})
        );
    }

    #[test]
    fn fields_describe_their_place_and_type() {
        let schema = schema_of(
            "01 R. 05 ID PIC 9(4) COMP. 05 T OCCURS 2. 10 V PIC S9(3)V99 COMP-3.",
            &SchemaOptions::default(),
        );
        let second = field(&schema, "v_2");
        assert_eq!(
            second["description"],
            "V OF T OF R (2): bytes 6-8, S9(3)V99 COMP-3"
        );
        assert_eq!(
            second["x-cobol"],
            json!({"name": "V", "offset": 5, "length": 3, "picture": "S9(3)V99", "usage": "COMP-3", "occurrence": [2]})
        );
        let schema = schema_of(
            "01 R. 05 T OCCURS 2. 10 V PIC S9(3)V99 COMP-3.",
            &SchemaOptions {
                occurs: OccursColumns::Array,
                ..SchemaOptions::default()
            },
        );
        let v = field(&schema, "v");
        assert_eq!(v["type"], "array");
        assert_eq!(
            v["description"],
            "V OF T OF R: 2 occurrences of S9(3)V99 COMP-3, the first at bytes 1-3"
        );
        assert_eq!(v["x-cobol"]["occurs"], json!([2]));
    }

    #[test]
    fn discrete_condition_names_become_enums() {
        let schema = schema_of(
            "01 R.
               05 STATUS PIC X(2). 88 OPEN VALUE 'O '. 88 SHUT VALUES 'C' 'X' SPACES.
               05 KIND PIC 9. 88 KNOWN VALUE 1 2 ZERO.
               05 RATE PIC 9V99. 88 USUAL VALUE 1.5 2.25.
               05 RANGE PIC 9. 88 LOW VALUE 1 THRU 3.
               05 TOO-FINE PIC 9V9. 88 ODD VALUE 1.25.
               05 HEXED PIC X. 88 NUL VALUE X'00'.",
            &enums(),
        );
        assert_eq!(
            field(&schema, "status")["constraints"]["enum"],
            json!(["O", "C", "X"])
        );
        assert_eq!(
            field(&schema, "kind")["constraints"]["enum"],
            json!([1, 2, 0])
        );
        assert_eq!(
            field(&schema, "rate")["constraints"]["enum"],
            json!(["1.5", "2.25"])
        );
        for name in ["range", "too_fine", "hexed"] {
            assert!(
                field(&schema, name)["constraints"]["enum"].is_null(),
                "{name}"
            );
        }
        assert_eq!(
            field(&schema, "status")["x-cobol"]["conditions"],
            json!([{"name": "OPEN", "values": ["'O '"]}, {"name": "SHUT", "values": ["'C'", "'X'", "SPACES"]}])
        );
        let without = schema_of(
            "01 R. 05 STATUS PIC X. 88 OPEN VALUE 'O'.",
            &SchemaOptions::default(),
        );
        assert!(field(&without, "status")["constraints"]["enum"].is_null());
    }

    #[test]
    fn one_record_can_be_chosen_by_name() {
        let text = "01 HEADER. 05 RUN-DATE PIC 9(8). 01 DETAIL. 05 AMOUNT PIC 9(5).";
        let copybook = Copybook::parse(text, "test.cpy", SourceFormat::Free).expect("valid");
        let options = SchemaOptions {
            record: Some("detail".into()),
            ..SchemaOptions::default()
        };
        let schema = table_schema(&copybook, &options).expect("a schema");
        assert_eq!(schema["fields"].as_array().map(Vec::len), Some(1));
        let options = SchemaOptions {
            record: Some("TRAILER".into()),
            ..SchemaOptions::default()
        };
        let error = table_schema(&copybook, &options).expect_err("no such record");
        assert!(matches!(error, CopybookError::NoSuchRecord { .. }));
    }

    #[test]
    fn too_many_columns_is_an_error_that_suggests_arrays() {
        let text = "01 R. 05 T OCCURS 1000. 10 A PIC X. 10 B PIC X. 05 U OCCURS 99999 PIC X.";
        let copybook = Copybook::parse(text, "test.cpy", SourceFormat::Free).expect("valid");
        let error = table_schema(&copybook, &SchemaOptions::default()).expect_err("2000 columns");
        assert!(error.to_string().contains("101999 columns"), "{error}");
        let arrays = SchemaOptions {
            occurs: OccursColumns::Array,
            ..SchemaOptions::default()
        };
        assert!(table_schema(&copybook, &arrays).is_ok());
    }
}
