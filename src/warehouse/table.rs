//! Warehouse tables from table schemas: the DDL, how each type is stored, and
//! how a typed value is bound to a column.
//!
//! | Table Schema type | SQLite storage |
//! |---|---|
//! | string (default, email, uri, uuid) | TEXT |
//! | string, format binary | BLOB |
//! | integer, year | INTEGER |
//! | number | REAL |
//! | number with `decimalPlaces: N` | TEXT, exactly N places (`12.50`) |
//! | boolean | INTEGER 0 or 1 |
//! | date, time, yearmonth, duration | TEXT, ISO 8601 |
//! | datetime | TEXT, ISO 8601; with an offset, converted to UTC (`...Z`) |
//! | object, array, list | TEXT, JSON (usable with `json_extract`) |
//! | any | TEXT, the cell as it was |
//!
//! `docs/warehouse.md` explains the choices. Every table also gets
//! `_load_id`, the load that wrote the row, indexed.

use std::fmt::Write as _;

use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};

use crate::schema::{Decimal, FieldType, Schema, StringFormat, Value};

/// How a field's values are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    Text,
    Blob,
    Integer,
    Real,
    Boolean,
    /// An exact decimal with this many places, as TEXT.
    Decimal(u8),
    /// A datetime: TEXT, in UTC when the value had an offset.
    Datetime,
    /// Object, array, list: JSON TEXT.
    Json,
}

impl Storage {
    /// How values of `kind` are stored.
    pub fn of(kind: &FieldType) -> Storage {
        match kind {
            FieldType::String(StringFormat::Binary) => Storage::Blob,
            FieldType::String(_) | FieldType::Any => Storage::Text,
            FieldType::Integer(_) | FieldType::Year => Storage::Integer,
            FieldType::Number(options) => options
                .decimal_places
                .map_or(Storage::Real, Storage::Decimal),
            FieldType::Boolean(_) => Storage::Boolean,
            FieldType::Date(_)
            | FieldType::Time(_)
            | FieldType::YearMonth
            | FieldType::Duration => Storage::Text,
            FieldType::Datetime(_) => Storage::Datetime,
            FieldType::Object | FieldType::Array | FieldType::List(_) => Storage::Json,
        }
    }

    /// The declared column type. TEXT for exact decimals on purpose: a
    /// NUMERIC column would turn `12.50` into a binary float.
    fn sql_type(self) -> &'static str {
        match self {
            Storage::Text | Storage::Decimal(_) | Storage::Datetime | Storage::Json => "TEXT",
            Storage::Blob => "BLOB",
            Storage::Integer | Storage::Boolean => "INTEGER",
            Storage::Real => "REAL",
        }
    }
}

/// `name` as an SQL identifier, quoted.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The statements that create `schema`'s table and its indexes.
pub fn create_statements(schema: &Schema) -> Vec<String> {
    let table = quote(&schema.name);
    let mut columns = Vec::new();
    for (index, field) in schema.fields.iter().enumerate() {
        let storage = Storage::of(&field.kind);
        let mut column = format!("{} {}", quote(&field.name), storage.sql_type());
        if field.constraints.required || schema.primary_key.contains(&index) {
            column.push_str(" NOT NULL");
        }
        if field.constraints.unique && schema.primary_key != [index] {
            column.push_str(" UNIQUE");
        }
        if storage == Storage::Boolean {
            let _ = write!(column, " CHECK ({} IN (0, 1))", quote(&field.name));
        }
        columns.push(column);
    }
    columns
        .push("\"_load_id\" INTEGER NOT NULL REFERENCES \"_droplake_loads\" (\"id\")".to_string());
    let names = |indexes: &[usize]| -> String {
        indexes
            .iter()
            .map(|&index| quote(&schema.fields[index].name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !schema.primary_key.is_empty() {
        columns.push(format!("PRIMARY KEY ({})", names(&schema.primary_key)));
    }
    for key in &schema.unique_keys {
        columns.push(format!("UNIQUE ({})", names(key)));
    }
    for key in &schema.foreign_keys {
        let target = key.resource.as_deref().map_or_else(|| table.clone(), quote);
        let referenced: Vec<String> = key
            .reference_fields
            .iter()
            .map(|name| quote(name))
            .collect();
        columns.push(format!(
            "FOREIGN KEY ({}) REFERENCES {target} ({})",
            names(&key.fields),
            referenced.join(", ")
        ));
    }
    vec![
        format!("CREATE TABLE {table} (\n    {}\n)", columns.join(",\n    ")),
        format!(
            "CREATE INDEX {} ON {table} (\"_load_id\")",
            quote(&format!("{}__load_id", schema.name))
        ),
    ]
}

/// The statement that inserts one row (and, for `upsert`, replaces the row
/// with the same primary key).
pub fn insert_statement(schema: &Schema, upsert: bool) -> String {
    let table = quote(&schema.name);
    let mut names: Vec<String> = schema
        .fields
        .iter()
        .map(|field| quote(&field.name))
        .collect();
    names.push("\"_load_id\"".into());
    let placeholders: Vec<String> = (1..=names.len())
        .map(|number| format!("?{number}"))
        .collect();
    let mut sql = format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        names.join(", "),
        placeholders.join(", ")
    );
    if upsert && !schema.primary_key.is_empty() {
        let key: Vec<String> = schema
            .primary_key
            .iter()
            .map(|&index| quote(&schema.fields[index].name))
            .collect();
        let updates: Vec<String> = names
            .iter()
            .map(|name| format!("{name} = excluded.{name}"))
            .collect();
        let _ = write!(
            sql,
            " ON CONFLICT ({}) DO UPDATE SET {}",
            key.join(", "),
            updates.join(", ")
        );
    }
    sql
}

/// A typed value as a parameter for a column stored as `storage`.
pub fn bind<'v>(value: &'v Value<'_>, storage: Storage) -> ToSqlOutput<'v> {
    let owned = |value: SqlValue| ToSqlOutput::Owned(value);
    match (value, storage) {
        (Value::Null, _) => ToSqlOutput::Borrowed(ValueRef::Null),
        (Value::String(text), _) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
        (Value::Binary(bytes), _) => ToSqlOutput::Borrowed(ValueRef::Blob(bytes)),
        (Value::Integer(n), _) => owned(SqlValue::Integer(*n)),
        (Value::Year(year), _) => owned(SqlValue::Integer(i64::from(*year))),
        (Value::Boolean(b), _) => owned(SqlValue::Integer(i64::from(*b))),
        (Value::Number(n), Storage::Decimal(places)) => owned(SqlValue::Text(fixed(*n, places))),
        (Value::Number(n), _) => owned(SqlValue::Real(n.to_f64())),
        (Value::Datetime(datetime), _) if datetime.offset.is_some() => {
            owned(SqlValue::Text(format!("{}Z", datetime.instant_key())))
        }
        (Value::List(items), _) => {
            let items: Vec<serde_json::Value> = items.iter().map(json_item).collect();
            owned(SqlValue::Text(serde_json::Value::Array(items).to_string()))
        }
        (Value::Json(json), _) => owned(SqlValue::Text(json.to_string())),
        (value, _) => owned(SqlValue::Text(value.to_string())),
    }
}

/// A list item as JSON: numbers and booleans as themselves, the rest as text.
fn json_item(value: &Value<'_>) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Integer(n) => (*n).into(),
        Value::Boolean(b) => (*b).into(),
        other => other.to_string().into(),
    }
}

/// `number` written with exactly `places` digits after the point. The
/// validator has checked that no non-zero digit lies beyond them.
///
/// Every decimal bound goes through here, so it composes the text on the
/// stack, from the right, with one allocation for the result (dividing a
/// `u64` is an instruction, a `u128` a call: the common case takes the
/// first).
pub fn fixed(number: Decimal, places: u8) -> String {
    let shift = number.exponent() + i32::from(places);
    let factor = 10u128.checked_pow(shift.unsigned_abs());
    let scaled = match (shift >= 0, factor) {
        (true, Some(factor)) => number.coefficient().checked_mul(factor),
        (false, Some(factor)) => Some(number.coefficient() / factor),
        // Every digit lies beyond the places kept: the validator allows
        // that only for zeros.
        (false, None) => Some(0),
        (true, None) => None,
    };
    // A coefficient too large to scale: fall back to the exact text.
    let Some(scaled) = scaled else {
        return number.to_string();
    };
    // 39 digits, the point, the sign, and up to 255 places.
    let mut text = [0u8; 300];
    let mut at = text.len();
    let mut push = |byte: u8| {
        at -= 1;
        text[at] = byte;
    };
    let mut digits = Digits::new(scaled);
    for _ in 0..places {
        push(digits.next_digit());
    }
    if places > 0 {
        push(b'.');
    }
    loop {
        push(digits.next_digit());
        if digits.is_done() {
            break;
        }
    }
    if number.is_negative() {
        push(b'-');
    }
    String::from_utf8_lossy(&text[at..]).into_owned()
}

/// The decimal digits of a number, least significant first; then zeros.
struct Digits {
    small: u64,
    large: u128,
}

impl Digits {
    fn new(value: u128) -> Digits {
        match u64::try_from(value) {
            Ok(small) => Digits { small, large: 0 },
            Err(_) => Digits {
                small: 0,
                large: value,
            },
        }
    }

    fn next_digit(&mut self) -> u8 {
        if self.large == 0 {
            let digit = (self.small % 10) as u8;
            self.small /= 10;
            return b'0' + digit;
        }
        let digit = (self.large % 10) as u8;
        self.large /= 10;
        if let Ok(small) = u64::try_from(self.large) {
            (self.small, self.large) = (small, 0);
        }
        b'0' + digit
    }

    fn is_done(&self) -> bool {
        self.small == 0 && self.large == 0
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn schema(json: serde_json::Value) -> Schema {
        Schema::parse("orders", Path::new("orders.json"), &json.to_string()).expect("valid schema")
    }

    #[test]
    fn columns_follow_the_fields_with_their_constraints() {
        let schema = schema(serde_json::json!({
            "fields": [
                {"name": "id", "type": "integer"},
                {"name": "email", "type": "string", "constraints": {"required": true, "unique": true}},
                {"name": "amount", "type": "number", "decimalPlaces": 2},
                {"name": "paid", "type": "boolean"},
                {"name": "at", "type": "datetime"},
                {"name": "odd \"name\"", "type": "object"}
            ],
            "primaryKey": ["id"],
            "uniqueKeys": [["email", "at"]]
        }));
        let statements = create_statements(&schema);
        assert_eq!(
            statements[0],
            "CREATE TABLE \"orders\" (
    \"id\" INTEGER NOT NULL,
    \"email\" TEXT NOT NULL UNIQUE,
    \"amount\" TEXT,
    \"paid\" INTEGER CHECK (\"paid\" IN (0, 1)),
    \"at\" TEXT,
    \"odd \"\"name\"\"\" TEXT,
    \"_load_id\" INTEGER NOT NULL REFERENCES \"_droplake_loads\" (\"id\"),
    PRIMARY KEY (\"id\"),
    UNIQUE (\"email\", \"at\")
)"
        );
        assert_eq!(
            statements[1],
            "CREATE INDEX \"orders__load_id\" ON \"orders\" (\"_load_id\")"
        );
        let connection = rusqlite::Connection::open_in_memory().expect("sqlite");
        connection
            .execute_batch("CREATE TABLE _droplake_loads (id INTEGER PRIMARY KEY)")
            .expect("loads");
        for statement in statements {
            connection
                .execute_batch(&statement)
                .expect("the DDL is valid SQLite");
        }
    }

    #[test]
    fn upsert_replaces_every_column_of_the_row_with_the_same_key() {
        let schema = schema(serde_json::json!({
            "fields": [{"name": "id", "type": "integer"}, {"name": "v", "type": "string"}],
            "primaryKey": ["id"]
        }));
        assert_eq!(
            insert_statement(&schema, false),
            "INSERT INTO \"orders\" (\"id\", \"v\", \"_load_id\") VALUES (?1, ?2, ?3)"
        );
        assert_eq!(
            insert_statement(&schema, true),
            "INSERT INTO \"orders\" (\"id\", \"v\", \"_load_id\") VALUES (?1, ?2, ?3) ON CONFLICT (\"id\") DO UPDATE SET \"id\" = excluded.\"id\", \"v\" = excluded.\"v\", \"_load_id\" = excluded.\"_load_id\""
        );
    }

    #[test]
    fn exact_decimals_are_written_with_exactly_their_places() {
        let decimal =
            |negative, coefficient, exponent| Decimal::new(negative, coefficient, exponent);
        assert_eq!(fixed(decimal(false, 1250, -2), 2), "12.50");
        assert_eq!(fixed(decimal(false, 125, -1), 2), "12.50");
        assert_eq!(fixed(decimal(false, 12, 0), 2), "12.00");
        assert_eq!(fixed(decimal(false, 5, -2), 2), "0.05");
        assert_eq!(fixed(decimal(true, 1, -2), 2), "-0.01");
        assert_eq!(fixed(decimal(false, 12500, -3), 2), "12.50");
        assert_eq!(fixed(decimal(false, 70, -1), 0), "7");
        assert_eq!(fixed(decimal(false, 12, 3), 1), "12000.0");
        assert_eq!(fixed(decimal(false, 0, 0), 2), "0.00");
        assert_eq!(fixed(decimal(false, 0, -60), 2), "0.00");
        let big = u128::from(u64::MAX) * 1000 + 7;
        assert_eq!(
            fixed(decimal(true, big, -3), 4),
            format!("-{}.{:03}0", big / 1000, big % 1000)
        );
    }

    #[test]
    fn values_bind_as_documented() {
        use crate::formats::{Cell, Record};
        let schema = schema(serde_json::json!({"fields": [
            {"name": "at", "type": "datetime"},
            {"name": "naive", "type": "datetime"},
            {"name": "ok", "type": "boolean"},
            {"name": "tags", "type": "list", "itemType": "integer"},
            {"name": "x", "type": "number"}
        ]}));
        let mut record = Record::new();
        let cells = record.text_mut();
        for cell in [
            "2026-01-01T10:00:00+05:30",
            "2026-01-01T10:00:00.5",
            "true",
            "1,2",
            "0.1",
        ] {
            cells.push_field(cell);
        }
        let bound: Vec<SqlValue> = schema
            .fields
            .iter()
            .enumerate()
            .map(|(index, field)| {
                let cell = record.get(index).expect("cell");
                let value = crate::schema::cast(field, cell)
                    .unwrap_or_else(|error| panic!("{} does not cast: {error:?}", field.name));
                match bind(&value, Storage::of(&field.kind)) {
                    ToSqlOutput::Owned(value) => value,
                    ToSqlOutput::Borrowed(value) => SqlValue::try_from(value).expect("valid UTF-8"),
                    _ => unreachable!("only owned and borrowed values are bound"),
                }
            })
            .collect();
        assert!(matches!(record.get(0), Some(Cell::Text(_))));
        assert_eq!(
            bound,
            [
                SqlValue::Text("2026-01-01T04:30:00Z".into()),
                SqlValue::Text("2026-01-01T10:00:00.5".into()),
                SqlValue::Integer(1),
                SqlValue::Text("[1,2]".into()),
                SqlValue::Real(0.1),
            ]
        );
    }

    proptest::proptest! {
        #[test]
        fn fixed_agrees_with_plain_formatting(
            coefficient in 0u128..10u128.pow(21),
            negative in proptest::bool::ANY,
            exponent in -12i32..4,
            places in 0u8..14,
        ) {
            let number = Decimal::new(negative, coefficient, exponent);
            // The plain way: scale, print, pad, split.
            let shift = exponent + i32::from(places);
            let scaled = if shift >= 0 {
                coefficient * 10u128.pow(shift.unsigned_abs())
            } else {
                coefficient / 10u128.pow(shift.unsigned_abs())
            };
            let width = usize::from(places);
            let digits = format!("{scaled:0>width$}", width = width + 1);
            let (whole, fraction) = digits.split_at(digits.len() - width);
            let sign = if number.is_negative() { "-" } else { "" };
            let expected = if width == 0 {
                format!("{sign}{whole}")
            } else {
                format!("{sign}{whole}.{fraction}")
            };
            proptest::prop_assert_eq!(fixed(number, places), expected);
        }
    }
}
