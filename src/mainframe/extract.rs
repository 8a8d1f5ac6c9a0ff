//! Extracts: the rows of a query as the records of a copybook, for
//! `droplake export`.
//!
//! [`Binding`] decides which column feeds which field. A column matches a
//! field by name, ignoring case: the flattened column name of
//! `copybook::columns` (`cust_id`; under OCCURS one column per occurrence,
//! `tx_amt_1` … `tx_amt_3`, or one JSON array column, `tx_amt`), the COBOL
//! name (`CUST-ID`, an array under OCCURS), or the decoder's qualified name
//! (`ADDRESS OF PERSON`). A column that matches no field, a field no
//! column feeds and two columns for one field are errors, unless told to
//! ignore unknown columns or to write missing fields blank. A field need
//! not be fed when it is the count of a table whose fields come as arrays
//! (the arrays give the count), or when it belongs to a REDEFINES
//! alternative none of whose fields has a column while another alternative
//! has them.
//!
//! [`Row`] is one row of values as the encoder's [`Source`]: INTEGER as an
//! exact number, REAL as a binary float, TEXT as text, NULL as null; an
//! array column's JSON is read with its numbers as exact decimal text.
//!
//! [`Control`] is a header or trailer record: each of its fields set to a
//! literal, the count of data records (`{count}`) or the exact total of a
//! data field (`{sum:FIELD}`), kept by [`Totals`] as the rows go by.

use std::collections::HashMap;

use rusqlite::types::Value as SqlValue;

use super::copybook::{
    Column, ColumnShape, Copybook, Item, ItemId, OccursColumns, column_name, columns,
};
use super::decimal::Decimal;
use super::encode::{Encoder, Source, decimal_of};
use super::record::Value;
use crate::exit::{ExitCode, HasExitCode};

/// Why the columns of a query cannot feed a record, or a header or
/// trailer cannot be described.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindError {
    #[error(
        "the column(s) {} match no field of {record}; name them after fields in the query \
         (SELECT x AS cust_id), or pass --ignore-unknown",
        columns.join(", ")
    )]
    Unknown {
        record: String,
        columns: Vec<String>,
    },
    #[error(
        "no column gives the field(s) {} of {record}; add them to the query, or pass \
         --allow-missing to write them blank (spaces, or zero for numbers)",
        fields.join(", ")
    )]
    Missing { record: String, fields: Vec<String> },
    #[error("the columns {first} and {second} both give the field {field}")]
    Twice {
        field: String,
        first: String,
        second: String,
    },
    #[error("{record} has no field {name}")]
    NoField { record: String, name: String },
    #[error("{0}")]
    Control(String),
}

impl HasExitCode for BindError {
    fn exit_code(&self) -> ExitCode {
        ExitCode::Usage
    }
}

/// What feeds one elementary item.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Bound {
    /// One column: the item is under no OCCURS.
    Scalar(usize),
    /// A column per occurrence, by indices.
    Expanded(HashMap<Vec<u32>, usize>),
    /// One column with every occurrence in a JSON array.
    Array(usize),
}

/// How a query's columns map to a record's fields.
#[derive(Debug)]
pub struct Binding {
    /// The query's column names, for messages.
    names: Vec<String>,
    /// What feeds each bound elementary item.
    items: HashMap<ItemId, Bound>,
    /// The query columns that hold JSON arrays.
    arrays: Vec<usize>,
}

/// How strictly columns must match fields.
#[derive(Debug, Clone, Default)]
pub struct BindOptions {
    /// Fields no column gives are written blank instead of refused.
    pub allow_missing: bool,
    /// Columns that match no field are left out instead of refused.
    pub ignore_unknown: bool,
    /// Columns always left out (droplake's `_load_id`).
    pub skip: Vec<String>,
}

/// A column name a field goes by, and the shape of the values it holds.
#[derive(Debug, Clone)]
struct Name {
    item: ItemId,
    shape: ColumnShape,
}

/// Every name a column of `record` may have, lower-cased: the flattened
/// names (expanded, then arrays), then COBOL names, then the decoder's
/// qualified names. An earlier name wins.
fn names(copybook: &Copybook, encoder: &Encoder<'_>) -> HashMap<String, Name> {
    let record = encoder.record().id;
    let mut names: HashMap<String, Name> = HashMap::new();
    let expanded = columns(copybook, &[record], OccursColumns::Expand);
    let arrays = columns(copybook, &[record], OccursColumns::Array);
    for Column {
        name, item, shape, ..
    } in expanded.into_iter().chain(arrays)
    {
        names
            .entry(name.to_lowercase())
            .or_insert(Name { item, shape });
    }
    for item in copybook.descendants(record) {
        if item.is_filler() || item.elementary().is_none() {
            continue;
        }
        let dimensions = copybook.dimensions(item.id).len();
        let shape = if dimensions == 0 {
            ColumnShape::Value {
                indices: Vec::new(),
            }
        } else {
            ColumnShape::Array { dimensions }
        };
        for name in [item.display_name(), encoder.name(item.id)] {
            names.entry(name.to_lowercase()).or_insert(Name {
                item: item.id,
                shape: shape.clone(),
            });
        }
    }
    names
}

impl Binding {
    /// Maps the query's `columns` to the fields of the encoder's record.
    pub fn new(
        encoder: &Encoder<'_>,
        columns: &[String],
        options: &BindOptions,
    ) -> Result<Binding, BindError> {
        let copybook = encoder.copybook();
        let record_name = encoder.record().display_name().to_string();
        let lookup = names(copybook, encoder);
        let mut binding = Binding {
            names: columns.to_vec(),
            items: HashMap::new(),
            arrays: Vec::new(),
        };
        let mut unknown = Vec::new();
        for (index, column) in columns.iter().enumerate() {
            if options
                .skip
                .iter()
                .any(|skip| skip.eq_ignore_ascii_case(column))
            {
                continue;
            }
            let Some(name) = lookup.get(&column.to_lowercase()) else {
                unknown.push(column.clone());
                continue;
            };
            let twice = |earlier: usize| BindError::Twice {
                field: copybook.qualified_name(name.item),
                first: columns[earlier].clone(),
                second: column.clone(),
            };
            match (&name.shape, binding.items.get_mut(&name.item)) {
                (ColumnShape::Value { indices }, Some(Bound::Expanded(occurrences)))
                    if !indices.is_empty() =>
                {
                    if let Some(earlier) = occurrences.insert(indices.clone(), index) {
                        return Err(twice(earlier));
                    }
                }
                (_, Some(existing)) => {
                    let earlier = match existing {
                        Bound::Scalar(earlier) | Bound::Array(earlier) => *earlier,
                        Bound::Expanded(occurrences) => {
                            occurrences.values().min().copied().unwrap_or(index)
                        }
                    };
                    return Err(twice(earlier));
                }
                (ColumnShape::Array { .. }, None) => {
                    binding.items.insert(name.item, Bound::Array(index));
                    binding.arrays.push(index);
                }
                (ColumnShape::Value { indices }, None) if indices.is_empty() => {
                    binding.items.insert(name.item, Bound::Scalar(index));
                }
                (ColumnShape::Value { indices }, None) => {
                    let occurrences = HashMap::from([(indices.clone(), index)]);
                    binding
                        .items
                        .insert(name.item, Bound::Expanded(occurrences));
                }
            }
        }
        if !unknown.is_empty() && !options.ignore_unknown {
            return Err(BindError::Unknown {
                record: record_name,
                columns: unknown,
            });
        }
        if !options.allow_missing {
            let mut missing = Vec::new();
            binding.missing(encoder, encoder.record(), &mut missing);
            if !missing.is_empty() {
                return Err(BindError::Missing {
                    record: record_name,
                    fields: missing,
                });
            }
        }
        Ok(binding)
    }

    /// The query's column names.
    pub fn columns(&self) -> &[String] {
        &self.names
    }

    /// Whether any field under `item` (or `item` itself) has a column.
    fn feeds(&self, copybook: &Copybook, item: &Item) -> bool {
        std::iter::once(item)
            .chain(copybook.descendants(item.id))
            .any(|item| self.items.contains_key(&item.id))
    }

    /// Adds to `missing` the fields under `item` that need a column and
    /// have none.
    fn missing(&self, encoder: &Encoder<'_>, item: &Item, missing: &mut Vec<String>) {
        let copybook = encoder.copybook();
        if item.elementary().is_some() {
            if item.is_filler() || self.counts_from_arrays(copybook, item) {
                return;
            }
            let expected = columns_of(copybook, item);
            match self.items.get(&item.id) {
                None => missing.push(shown(copybook, item)),
                Some(Bound::Expanded(occurrences)) => missing.extend(
                    expected
                        .into_iter()
                        .filter(|(indices, _)| !occurrences.contains_key(indices))
                        .map(|(_, name)| name),
                ),
                Some(_) => {}
            }
            return;
        }
        for child in copybook.children(item.id) {
            if child.redefines.is_some() {
                continue;
            }
            let set: Vec<&Item> = std::iter::once(child)
                .chain(child.redefined_by.iter().map(|id| copybook.item(*id)))
                .collect();
            let fed: Vec<&Item> = set
                .iter()
                .copied()
                .filter(|member| self.feeds(copybook, member))
                .collect();
            if fed.is_empty() {
                self.missing(encoder, child, missing);
            }
            for member in fed {
                self.missing(encoder, member, missing);
            }
        }
    }

    /// Whether `item` counts a table whose fields all come as arrays.
    fn counts_from_arrays(&self, copybook: &Copybook, item: &Item) -> bool {
        let tables: Vec<&Item> = copybook
            .items()
            .iter()
            .filter(|table| table.occurs.and_then(|o| o.depending_on) == Some(item.id))
            .collect();
        !tables.is_empty()
            && tables.iter().all(|table| {
                std::iter::once(*table)
                    .chain(copybook.descendants(table.id))
                    .filter(|field| field.elementary().is_some() && !field.is_filler())
                    .any(|field| matches!(self.items.get(&field.id), Some(Bound::Array(_))))
            })
    }

    /// Sees the values of one row through this binding.
    pub fn row<'r>(&'r self, copybook: &'r Copybook, values: &'r [SqlValue]) -> Row<'r> {
        let arrays = self
            .arrays
            .iter()
            .map(|&column| {
                let parsed = match values.get(column) {
                    Some(SqlValue::Text(text)) => json::parse(text).map_err(|error| {
                        format!(
                            "the column {} does not hold a JSON array: {error}",
                            self.names[column]
                        )
                    }),
                    Some(SqlValue::Null) | None => Ok(json::Json::Null),
                    Some(_) => Err(format!(
                        "the column {} holds no text, so no JSON array",
                        self.names[column]
                    )),
                };
                (column, parsed)
            })
            .collect();
        Row {
            binding: self,
            copybook,
            values,
            arrays,
        }
    }
}

/// The expanded column names of an item under OCCURS, by indices.
fn columns_of(copybook: &Copybook, item: &Item) -> Vec<(Vec<u32>, String)> {
    let record = copybook.record_of(item.id).id;
    columns(copybook, &[record], OccursColumns::Expand)
        .into_iter()
        .filter(|column| column.item == item.id)
        .filter_map(|column| match column.shape {
            ColumnShape::Value { indices } => Some((indices, column.name)),
            ColumnShape::Array { .. } => None,
        })
        .collect()
}

/// How a field is named in a message: its column name and COBOL name.
fn shown(copybook: &Copybook, item: &Item) -> String {
    let record = copybook.record_of(item.id).id;
    let column = columns(copybook, &[record], OccursColumns::Array)
        .into_iter()
        .find(|column| column.item == item.id)
        .map_or_else(|| column_name(item.display_name()), |column| column.name);
    format!("{column} ({})", item.display_name())
}

/// A row's values as the encoder sees them.
#[derive(Debug)]
pub struct Row<'r> {
    binding: &'r Binding,
    copybook: &'r Copybook,
    values: &'r [SqlValue],
    /// The parsed arrays of the row, by column.
    arrays: HashMap<usize, Result<json::Json, String>>,
}

/// A value of a column as the encoder takes it.
fn from_sql(value: &SqlValue) -> Result<Value, String> {
    match value {
        SqlValue::Null => Ok(Value::Null),
        SqlValue::Integer(integer) => Ok(Value::Number(Decimal::new(i128::from(*integer), 0))),
        SqlValue::Real(real) => Ok(Value::Float(*real)),
        SqlValue::Text(text) => Ok(Value::Text(text.clone())),
        SqlValue::Blob(_) => Err("a BLOB cannot be written to a field".to_string()),
    }
}

impl Row<'_> {
    fn column(&self, column: usize) -> Result<Value, String> {
        self.values.get(column).map_or(Ok(Value::Null), from_sql)
    }

    fn array(&self, column: usize) -> Result<&json::Json, String> {
        match self.arrays.get(&column) {
            Some(Ok(json)) => Ok(json),
            Some(Err(error)) => Err(error.clone()),
            None => Err(format!("the column {column} is not an array")),
        }
    }
}

impl Source for Row<'_> {
    fn value(&self, item: &Item, indices: &[u32]) -> Result<Option<Value>, String> {
        match self.binding.items.get(&item.id) {
            None => Ok(None),
            Some(Bound::Scalar(column)) => self.column(*column).map(Some),
            Some(Bound::Expanded(occurrences)) => occurrences
                .get(indices)
                .map(|column| self.column(*column))
                .transpose(),
            Some(Bound::Array(column)) => match self.array(*column)?.at(indices) {
                Some(json::Json::Array(_)) => Err(format!(
                    "the array of the column {} is nested deeper than the field's OCCURS",
                    self.binding.names[*column]
                )),
                Some(leaf) => leaf.value().map(Some),
                None => Ok(None),
            },
        }
    }

    fn occurrences(&self, table: &Item, indices: &[u32]) -> Result<Option<u32>, String> {
        let mut found: Option<(u32, usize)> = None;
        for field in std::iter::once(table).chain(self.copybook.descendants(table.id)) {
            let Some(Bound::Array(column)) = self.binding.items.get(&field.id) else {
                continue;
            };
            let count = match self.array(*column)?.at(indices) {
                Some(json::Json::Array(items)) => items.len(),
                Some(json::Json::Null) | None => continue,
                Some(_) => {
                    return Err(format!(
                        "the column {} holds a value where an array of {} is expected",
                        self.binding.names[*column],
                        table.display_name()
                    ));
                }
            };
            let count = u32::try_from(count).unwrap_or(u32::MAX);
            match found {
                Some((earlier, first)) if earlier != count => {
                    return Err(format!(
                        "the arrays of the columns {} and {} hold {earlier} and {count} \
                         occurrences",
                        self.binding.names[first], self.binding.names[*column]
                    ));
                }
                Some(_) => {}
                None => found = Some((count, *column)),
            }
        }
        Ok(found.map(|(count, _)| count))
    }

    fn given(&self, item: &Item, indices: &[u32]) -> bool {
        let given = |column: &usize| {
            self.values
                .get(*column)
                .is_some_and(|value| *value != SqlValue::Null)
        };
        match self.binding.items.get(&item.id) {
            None => false,
            Some(Bound::Scalar(column)) => given(column),
            Some(Bound::Expanded(occurrences)) => occurrences
                .iter()
                .any(|(at, column)| at.starts_with(indices) && given(column)),
            Some(Bound::Array(column)) => self
                .array(*column)
                .ok()
                .and_then(|json| json.at(indices))
                .is_some_and(json::Json::has_value),
        }
    }
}

/// What a field of a header or trailer is set to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlValue {
    /// The text as given (a number's decimal text for a number field).
    Literal(String),
    /// `{count}`: the number of data records.
    Count,
    /// `{sum:FIELD}`: the exact total of a data field over every record.
    Sum(ItemId),
}

/// A header or trailer record: a record of the copybook, with the values
/// of its fields. Fields not set are written blank (spaces, or zero).
#[derive(Debug, Clone)]
pub struct Control {
    pub record: ItemId,
    fields: Vec<(ItemId, ControlValue)>,
}

impl Control {
    /// A control record `record` with its `FIELD=VALUE` settings; fields
    /// summed are found among the data record's (through `data`'s names).
    pub fn new(
        copybook: &Copybook,
        record: ItemId,
        settings: &[String],
        data: &Encoder<'_>,
    ) -> Result<Control, BindError> {
        let record_item = copybook.item(record);
        let record_name = record_item.display_name().to_string();
        let data_names = names(copybook, data);
        let mut fields = Vec::new();
        for setting in settings {
            let (name, value) = setting.split_once('=').ok_or_else(|| {
                BindError::Control(format!(
                    "{setting:?} sets no field; write FIELD=VALUE, such as REC-COUNT={{count}}"
                ))
            })?;
            let name = name.trim();
            let field = copybook
                .descendants(record)
                .iter()
                .find(|item| {
                    item.elementary().is_some()
                        && (item.is_named(name)
                            || column_name(item.display_name()).eq_ignore_ascii_case(name))
                })
                .ok_or_else(|| BindError::NoField {
                    record: record_name.clone(),
                    name: name.to_string(),
                })?;
            if !copybook.dimensions(field.id).is_empty() {
                return Err(BindError::Control(format!(
                    "{} is under OCCURS; a header or trailer field set here must occur once",
                    field.display_name()
                )));
            }
            let value = if value == "{count}" {
                ControlValue::Count
            } else if let Some(summed) = value
                .strip_prefix("{sum:")
                .and_then(|rest| rest.strip_suffix('}'))
            {
                let summed = data_names
                    .get(&summed.trim().to_lowercase())
                    .filter(|name| matches!(&name.shape, ColumnShape::Value { indices } if indices.is_empty()))
                    .map(|name| copybook.item(name.item))
                    .ok_or_else(|| BindError::NoField {
                        record: data.record().display_name().to_string(),
                        name: summed.to_string(),
                    })?;
                let decimal = summed
                    .elementary()
                    .and_then(|elementary| elementary.data.decimal());
                if decimal.is_none() {
                    return Err(BindError::Control(format!(
                        "{} is not a decimal field, so it has no exact total",
                        summed.display_name()
                    )));
                }
                ControlValue::Sum(summed.id)
            } else {
                ControlValue::Literal(value.to_string())
            };
            fields.push((field.id, value));
        }
        Ok(Control { record, fields })
    }

    /// The data fields this record totals.
    pub fn sums(&self) -> impl Iterator<Item = ItemId> + '_ {
        self.fields.iter().filter_map(|(_, value)| match value {
            ControlValue::Sum(item) => Some(*item),
            _ => None,
        })
    }

    /// Whether its values depend on the data (a count or a total).
    pub fn counts(&self) -> bool {
        self.fields
            .iter()
            .any(|(_, value)| !matches!(value, ControlValue::Literal(_)))
    }

    /// Its values, with the counts and totals of `totals`.
    pub fn values<'t>(&'t self, totals: &'t Totals) -> ControlValues<'t> {
        ControlValues {
            control: self,
            totals,
        }
    }
}

/// The count of data records and the totals of the summed fields.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    pub count: u64,
    sums: HashMap<ItemId, Decimal>,
}

impl Totals {
    /// Totals of `fields`, all zero.
    pub fn new(fields: impl IntoIterator<Item = ItemId>) -> Totals {
        Totals {
            count: 0,
            sums: fields
                .into_iter()
                .map(|field| (field, Decimal::ZERO))
                .collect(),
        }
    }

    /// Counts one record and adds its values (nulls and missing fields add
    /// nothing); an error names the field whose total overflows.
    pub fn add(&mut self, copybook: &Copybook, row: &dyn Source) -> Result<(), String> {
        self.count += 1;
        for (field, sum) in &mut self.sums {
            let item = copybook.item(*field);
            let value = match row.value(item, &[])? {
                None | Some(Value::Null) => continue,
                Some(Value::Text(text)) if text.trim().is_empty() => continue,
                Some(value) => decimal_of(&value)?,
            };
            *sum = sum
                .checked_add(value)
                .ok_or_else(|| format!("the total of {} passes 38 digits", item.display_name()))?;
        }
        Ok(())
    }
}

/// A control record's values, as the encoder's source.
#[derive(Debug)]
pub struct ControlValues<'t> {
    control: &'t Control,
    totals: &'t Totals,
}

impl Source for ControlValues<'_> {
    fn value(&self, item: &Item, _indices: &[u32]) -> Result<Option<Value>, String> {
        let Some((_, value)) = self.control.fields.iter().find(|(id, _)| *id == item.id) else {
            return Ok(None);
        };
        Ok(Some(match value {
            ControlValue::Literal(text) => Value::Text(text.clone()),
            ControlValue::Count => Value::Number(Decimal::new(i128::from(self.totals.count), 0)),
            ControlValue::Sum(field) => Value::Number(
                self.totals
                    .sums
                    .get(field)
                    .copied()
                    .unwrap_or(Decimal::ZERO),
            ),
        }))
    }

    fn occurrences(&self, _table: &Item, _indices: &[u32]) -> Result<Option<u32>, String> {
        Ok(None)
    }

    fn given(&self, item: &Item, _indices: &[u32]) -> bool {
        self.control.fields.iter().any(|(id, _)| *id == item.id)
    }
}

/// JSON arrays with their numbers kept as written, so that a decimal in an
/// array column is exact (serde_json would read it as a binary float).
mod json {
    use super::Value;
    use crate::mainframe::decimal::Decimal;

    /// A JSON value of an array column.
    #[derive(Debug, Clone, PartialEq)]
    pub enum Json {
        Null,
        Bool(bool),
        /// The number as written.
        Number(String),
        Text(String),
        Array(Vec<Json>),
    }

    impl Json {
        /// The element at `indices`, following one array per index;
        /// `Some(Null)` inside a null.
        pub fn at(&self, indices: &[u32]) -> Option<&Json> {
            let mut at = self;
            for &index in indices {
                at = match at {
                    Json::Array(items) => items.get(index as usize)?,
                    Json::Null => return Some(&Json::Null),
                    _ => return None,
                };
            }
            Some(at)
        }

        /// Whether it is, or holds, a value other than null.
        pub fn has_value(&self) -> bool {
            match self {
                Json::Null => false,
                Json::Array(items) => items.iter().any(Json::has_value),
                _ => true,
            }
        }

        /// A scalar as the encoder takes it.
        pub fn value(&self) -> Result<Value, String> {
            match self {
                Json::Null => Ok(Value::Null),
                Json::Number(text) => text
                    .parse::<Decimal>()
                    .map(Value::Number)
                    .map_err(|error| error.to_string()),
                Json::Text(text) => Ok(Value::Text(text.clone())),
                Json::Bool(value) => Err(format!("{value} is not a value a field can hold")),
                Json::Array(_) => Err("an array is not a value a field can hold".to_string()),
            }
        }
    }

    /// Parses `text`, which must be one JSON array or null.
    pub fn parse(text: &str) -> Result<Json, String> {
        let mut parser = Parser {
            text,
            at: 0,
            depth: 0,
        };
        let value = parser.value()?;
        parser.blank();
        if parser.at != text.len() {
            return Err(format!("unexpected text at byte {}", parser.at));
        }
        match value {
            Json::Array(_) | Json::Null => Ok(value),
            _ => Err("the value is not an array".to_string()),
        }
    }

    struct Parser<'t> {
        text: &'t str,
        at: usize,
        depth: u32,
    }

    impl Parser<'_> {
        fn error(&self, what: &str) -> String {
            format!("{what} at byte {}", self.at)
        }

        fn blank(&mut self) {
            let rest = &self.text[self.at..];
            self.at += rest.len() - rest.trim_start().len();
        }

        fn value(&mut self) -> Result<Json, String> {
            self.blank();
            let rest = &self.text[self.at..];
            match rest.as_bytes().first() {
                Some(b'[') => {
                    self.depth += 1;
                    if self.depth > 64 {
                        return Err(self.error("arrays nested too deep"));
                    }
                    self.at += 1;
                    let mut items = Vec::new();
                    self.blank();
                    if self.text[self.at..].starts_with(']') {
                        self.at += 1;
                        self.depth -= 1;
                        return Ok(Json::Array(items));
                    }
                    loop {
                        items.push(self.value()?);
                        self.blank();
                        match self.text.as_bytes().get(self.at) {
                            Some(b',') => self.at += 1,
                            Some(b']') => {
                                self.at += 1;
                                self.depth -= 1;
                                return Ok(Json::Array(items));
                            }
                            _ => return Err(self.error("expected , or ]")),
                        }
                    }
                }
                Some(b'"') => {
                    // The string's end: the first quote not escaped.
                    let bytes = rest.as_bytes();
                    let mut end = 1;
                    while end < bytes.len() && bytes[end] != b'"' {
                        end += if bytes[end] == b'\\' { 2 } else { 1 };
                    }
                    let literal = rest
                        .get(..=end)
                        .ok_or_else(|| self.error("an unterminated string"))?;
                    let text: String = serde_json::from_str(literal)
                        .map_err(|problem| self.error(&format!("a bad string ({problem})")))?;
                    self.at += literal.len();
                    Ok(Json::Text(text))
                }
                Some(b'n') if rest.starts_with("null") => {
                    self.at += 4;
                    Ok(Json::Null)
                }
                Some(b't') if rest.starts_with("true") => {
                    self.at += 4;
                    Ok(Json::Bool(true))
                }
                Some(b'f') if rest.starts_with("false") => {
                    self.at += 5;
                    Ok(Json::Bool(false))
                }
                Some(b'-' | b'0'..=b'9') => {
                    let len = rest
                        .find(|c: char| !matches!(c, '-' | '+' | '.' | 'e' | 'E' | '0'..='9'))
                        .unwrap_or(rest.len());
                    self.at += len;
                    Ok(Json::Number(rest[..len].to_string()))
                }
                _ => Err(self.error("expected a JSON value")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mainframe::codepage::{Charset, CodePage, Newline};
    use crate::mainframe::copybook::SourceFormat;
    use crate::mainframe::encode::Options;

    const ACCOUNT: &str = "
        01 ACCOUNT.
           05 CUST-ID    PIC 9(4).
           05 KIND       PIC X.
           05 PERSON.
              10 FIRST-NAME PIC X(6).
           05 COMPANY REDEFINES PERSON.
              10 COMPANY-NAME PIC X(6).
           05 N-TX       PIC 9.
           05 TX OCCURS 0 TO 3 TIMES DEPENDING ON N-TX.
              10 TX-CODE PIC X.
              10 TX-AMT  PIC S9(3)V99 COMP-3.
        01 TOTALS.
           05 REC-TYPE   PIC X(3).
           05 REC-COUNT  PIC 9(5).
           05 AMOUNT     PIC S9(9)V99 COMP-3.";

    fn copybook() -> Copybook {
        Copybook::parse(ACCOUNT, "account.cpy", SourceFormat::Free).expect("valid")
    }

    fn encoder(book: &Copybook) -> Encoder<'_> {
        let record = book.record_named("ACCOUNT").expect("a record").id;
        let options = Options::new(Charset::new(CodePage::Ascii, Newline::Nel));
        Encoder::new(book, record, options, None)
    }

    fn bind(
        book: &Copybook,
        columns: &[&str],
        options: &BindOptions,
    ) -> Result<Binding, BindError> {
        let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
        Binding::new(&encoder(book), &columns, options)
    }

    fn text(value: &str) -> SqlValue {
        SqlValue::Text(value.to_string())
    }

    fn encode(book: &Copybook, columns: &[&str], values: &[SqlValue]) -> Result<String, String> {
        let binding = bind(book, columns, &BindOptions::default()).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        encoder(book)
            .encode(&binding.row(book, values), &mut out)
            .map_err(|error| error.to_string())?;
        Ok(hex::encode_upper(out))
    }

    #[test]
    fn columns_match_flattened_names_or_cobol_names_in_any_case() {
        let book = copybook();
        let expanded = encode(
            &book,
            &[
                "CUST_ID",
                "kind",
                "first_name",
                "n_tx",
                "tx_code_1",
                "tx_amt_1",
                "tx_code_2",
                "tx_amt_2",
                "tx_code_3",
                "tx_amt_3",
            ],
            &[
                SqlValue::Integer(42),
                text("P"),
                text("ADA"),
                SqlValue::Integer(1),
                text("D"),
                text("12.50"),
                SqlValue::Null,
                SqlValue::Null,
                SqlValue::Null,
                SqlValue::Null,
            ],
        );
        let arrays = encode(
            &book,
            &["Cust-Id", "KIND", "FIRST-NAME", "TX-CODE", "tx_amt"],
            &[
                SqlValue::Integer(42),
                text("P"),
                text("ADA"),
                text(r#"["D"]"#),
                text("[12.50]"),
            ],
        );
        assert_eq!(expanded, arrays);
        assert_eq!(
            expanded.expect("encodes"),
            // 0042 P ADA___ 1 D 01250C, then two empty occurrences.
            "30303432504144412020203144".to_string() + "01250C" + &"20".repeat(8)
        );
    }

    #[test]
    fn unknown_columns_missing_fields_and_doubled_columns_are_refused() {
        let book = copybook();
        let all = ["cust_id", "kind", "first_name", "tx_code", "tx_amt"];
        let mut extra = all.to_vec();
        extra.push("_load_id");
        assert_eq!(
            bind(&book, &extra, &BindOptions::default())
                .expect_err("unknown")
                .to_string(),
            "the column(s) _load_id match no field of ACCOUNT; name them after fields in the \
             query (SELECT x AS cust_id), or pass --ignore-unknown"
        );
        let skip = BindOptions {
            skip: vec!["_load_id".into()],
            ..BindOptions::default()
        };
        assert!(bind(&book, &extra, &skip).is_ok());
        assert_eq!(
            bind(
                &book,
                &["kind", "tx_code_1", "tx_amt_1"],
                &BindOptions::default()
            )
            .expect_err("missing")
            .to_string(),
            "no column gives the field(s) cust_id (CUST-ID), first_name (FIRST-NAME), n_tx \
             (N-TX), tx_code_2, tx_code_3, tx_amt_2, tx_amt_3 of ACCOUNT; add them to the \
             query, or pass --allow-missing to write them blank (spaces, or zero for numbers)"
        );
        let lenient = BindOptions {
            allow_missing: true,
            ..BindOptions::default()
        };
        assert!(bind(&book, &["kind"], &lenient).is_ok());
        assert_eq!(
            bind(&book, &["cust_id", "CUST-ID"], &lenient)
                .expect_err("twice")
                .to_string(),
            "the columns cust_id and CUST-ID both give the field CUST-ID OF ACCOUNT"
        );
    }

    #[test]
    fn array_columns_keep_their_decimals_exact_and_must_agree() {
        let book = copybook();
        let columns = ["cust_id", "kind", "company_name", "tx_code", "tx_amt"];
        let values = |codes: &str, amounts: &str| {
            vec![
                SqlValue::Integer(1),
                text("C"),
                text("ACME"),
                text(codes),
                text(amounts),
            ]
        };
        // 0.1 + 0.2 read as binary floats would not be 0.30 exactly.
        let written =
            encode(&book, &columns, &values(r#"["a","b"]"#, "[0.1, 0.20]")).expect("encodes");
        assert!(
            written.contains("00010C") && written.contains("00020C"),
            "{written}"
        );
        assert_eq!(
            encode(&book, &columns, &values(r#"["a"]"#, "[1, 2]")).expect_err("disagree"),
            "field TX: the arrays of the columns tx_code and tx_amt hold 1 and 2 occurrences"
        );
        assert_eq!(
            encode(&book, &columns, &values("[\"a\"", "[1]")).expect_err("bad JSON"),
            "field TX: the column tx_code does not hold a JSON array: expected , or ] at byte 4"
        );
    }

    #[test]
    fn a_trailer_counts_records_and_totals_a_field_exactly() {
        let book = copybook();
        let data = encoder(&book);
        let totals_record = book.record_named("TOTALS").expect("TOTALS").id;
        let control = Control::new(
            &book,
            totals_record,
            &[
                "REC-TYPE=TRL".into(),
                "rec_count={count}".into(),
                "AMOUNT={sum:tx_amt}".into(),
            ],
            &data,
        );
        assert_eq!(
            control.expect_err("tx_amt occurs").to_string(),
            "ACCOUNT has no field tx_amt"
        );
        let control = Control::new(
            &book,
            totals_record,
            &[
                "REC-TYPE=TRL".into(),
                "rec_count={count}".into(),
                "AMOUNT={sum:cust_id}".into(),
            ],
            &data,
        )
        .expect("a trailer");
        let binding = bind(
            &book,
            &["cust_id", "kind", "first_name", "tx_code", "tx_amt"],
            &BindOptions::default(),
        )
        .expect("binds");
        let mut totals = Totals::new(control.sums());
        for id in [7, 35] {
            let values = [
                SqlValue::Integer(id),
                text("P"),
                text("X"),
                text("[]"),
                text("[]"),
            ];
            totals
                .add(&book, &binding.row(&book, &values))
                .expect("adds");
        }
        let options = Options::new(Charset::new(CodePage::Ascii, Newline::Nel));
        let trailer = Encoder::new(&book, totals_record, options, None);
        let mut out = Vec::new();
        trailer
            .encode(&control.values(&totals), &mut out)
            .expect("encodes");
        assert_eq!(hex::encode_upper(out), "54524C303030303200000004200C");
    }
}
