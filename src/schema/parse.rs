//! From JSON text to a checked [`Schema`], collecting every problem.
//!
//! The parser walks the document by hand (not serde derive) so that it can
//! keep going after a problem and name each one by its JSON pointer. Custom
//! properties are ignored, as the standard allows, except inside
//! `constraints`, where an unknown key is almost always a misspelling.

use jiff::fmt::strtime;
use regex::Regex;
use serde_json::{Map, Value as Json};

use super::cast::cast_json;
use super::constraint::{Constraint, Constraints, Members, Pattern};
use super::field::{
    BooleanOptions, Field, FieldType, IntegerOptions, ItemType, ListOptions, NumberOptions,
    StringFormat, TemporalFormat,
};
use super::value::Value;
use super::{FieldsMatch, ForeignKey, Problem, Schema};

const TYPES: [&str; 14] = [
    "string",
    "number",
    "integer",
    "boolean",
    "date",
    "time",
    "datetime",
    "year",
    "yearmonth",
    "duration",
    "object",
    "array",
    "list",
    "any",
];

/// Collects problems while the schema is built.
struct Parser {
    problems: Vec<Problem>,
}

impl Parser {
    fn problem(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            pointer: pointer.into(),
            message: message.into(),
        });
    }
}

/// Parses and checks a schema document.
pub(super) fn parse(name: &str, text: &str) -> Result<Schema, Vec<Problem>> {
    let document: Json = serde_json::from_str(text).map_err(|error| {
        vec![Problem {
            pointer: String::new(),
            message: format!("not valid JSON: {error}"),
        }]
    })?;
    let mut parser = Parser {
        problems: Vec::new(),
    };
    let schema = parser.schema(name, &document);
    if parser.problems.is_empty() {
        Ok(schema)
    } else {
        Err(parser.problems)
    }
}

impl Parser {
    fn schema(&mut self, name: &str, document: &Json) -> Schema {
        let mut schema = Schema {
            name: name.to_string(),
            fields: Vec::new(),
            missing_values: vec![String::new()],
            primary_key: Vec::new(),
            unique_keys: Vec::new(),
            foreign_keys: Vec::new(),
            fields_match: FieldsMatch::Exact,
        };
        let Some(object) = document.as_object() else {
            self.problem("", "a table schema must be a JSON object with \"fields\"");
            return schema;
        };
        if let Some(missing) = object.get("missingValues") {
            schema.missing_values = self.missing_values("/missingValues", missing);
        }
        match object.get("fields") {
            None => self.problem("", "missing \"fields\": a schema needs an array of fields"),
            Some(Json::Array(fields)) => {
                let mut names: Vec<&str> = Vec::new();
                for (index, field) in fields.iter().enumerate() {
                    let pointer = format!("/fields/{index}");
                    if let Some(name) = field.get("name").and_then(Json::as_str) {
                        if let Some(first) = names.iter().position(|seen| *seen == name) {
                            self.problem(
                                format!("{pointer}/name"),
                                format!(
                                    "duplicate field name {name:?}, first used by /fields/{first}"
                                ),
                            );
                        }
                        names.push(name);
                    }
                    if let Some(field) = self.field(&pointer, field, &schema.missing_values) {
                        schema.fields.push(field);
                    }
                }
                if fields.is_empty() {
                    self.problem("/fields", "a schema needs at least one field");
                }
            }
            Some(_) => self.problem("/fields", "expected an array of fields"),
        }
        // Keys refer to fields by name: check them against every declared
        // name, even of fields that had problems, so that one broken field
        // does not hide the key problems. The indexes are those of the
        // fields array, which are the model's when there are no problems.
        let fields_json = object.get("fields").and_then(Json::as_array);
        let declared: Vec<Option<&str>> = fields_json
            .map(|fields| {
                fields
                    .iter()
                    .map(|f| f.get("name").and_then(Json::as_str))
                    .collect()
            })
            .unwrap_or_default();
        let check = fields_json.is_some();
        if let Some(key) = object.get("primaryKey") {
            schema.primary_key = self.key("/primaryKey", key, &declared, check);
            for &index in &schema.primary_key {
                if let Some(field) = schema.fields.get_mut(index) {
                    field.constraints.required = true;
                }
            }
        }
        if let Some(keys) = object.get("uniqueKeys") {
            match keys {
                Json::Array(keys) => {
                    for (index, key) in keys.iter().enumerate() {
                        let pointer = format!("/uniqueKeys/{index}");
                        if !key.is_array() {
                            self.problem(pointer, "expected an array of field names");
                            continue;
                        }
                        let key = self.key(&pointer, key, &declared, check);
                        if !key.is_empty() {
                            schema.unique_keys.push(key);
                        }
                    }
                }
                _ => self.problem("/uniqueKeys", "expected an array of arrays of field names"),
            }
        }
        if let Some(keys) = object.get("foreignKeys") {
            schema.foreign_keys = self.foreign_keys(keys, &declared, check);
        }
        if let Some(fields_match) = object.get("fieldsMatch") {
            schema.fields_match = match fields_match.as_str() {
                Some("exact") => FieldsMatch::Exact,
                Some("equal") => FieldsMatch::Equal,
                Some("subset") => FieldsMatch::Subset,
                Some("superset") => FieldsMatch::Superset,
                Some("partial") => FieldsMatch::Partial,
                _ => {
                    self.problem(
                        "/fieldsMatch",
                        format!(
                            "unknown fieldsMatch {fields_match}; expected one of \"exact\", \
                             \"equal\", \"subset\", \"superset\", \"partial\""
                        ),
                    );
                    FieldsMatch::Exact
                }
            };
        }
        schema
    }

    /// `missingValues`: strings, or (v2) objects with a `value`.
    fn missing_values(&mut self, pointer: &str, json: &Json) -> Vec<String> {
        let Some(items) = json.as_array() else {
            self.problem(pointer, "expected an array of strings");
            return vec![String::new()];
        };
        let mut values = Vec::new();
        for (index, item) in items.iter().enumerate() {
            match item {
                Json::String(text) => values.push(text.clone()),
                Json::Object(object) => match object.get("value").and_then(Json::as_str) {
                    Some(text) => values.push(text.to_string()),
                    None => self.problem(
                        format!("{pointer}/{index}/value"),
                        "expected a string value",
                    ),
                },
                _ => self.problem(
                    format!("{pointer}/{index}"),
                    "expected a string, or an object with a string \"value\"",
                ),
            }
        }
        values
    }

    /// One field; `None` if it is too broken to keep.
    fn field(&mut self, pointer: &str, json: &Json, schema_missing: &[String]) -> Option<Field> {
        let Some(object) = json.as_object() else {
            self.problem(pointer, "expected a field object with a \"name\"");
            return None;
        };
        let name = match object.get("name") {
            Some(Json::String(name)) if !name.is_empty() => Some(name.clone()),
            Some(Json::String(_)) => {
                self.problem(format!("{pointer}/name"), "a field name cannot be empty");
                None
            }
            Some(_) => {
                self.problem(format!("{pointer}/name"), "expected a string");
                None
            }
            None => {
                self.problem(pointer, "missing \"name\"");
                None
            }
        };
        let kind = self.field_type(pointer, object);
        let missing_values = match object.get("missingValues") {
            Some(json) => self.missing_values(&format!("{pointer}/missingValues"), json),
            None => schema_missing.to_vec(),
        };
        let kind = kind?;
        let mut constraints = Constraints::default();
        if let Some(json) = object.get("constraints") {
            self.constraints(
                &format!("{pointer}/constraints"),
                json,
                &kind,
                &mut constraints,
            );
        }
        if let Some(json) = object.get("categories") {
            constraints.categories = self.categories(&format!("{pointer}/categories"), json, &kind);
        }
        if let Some(json) = object.get("categoriesOrdered")
            && !json.is_boolean()
        {
            self.problem(
                format!("{pointer}/categoriesOrdered"),
                "expected true or false",
            );
        }
        Some(Field {
            name: name?,
            kind,
            missing_values,
            constraints,
        })
    }

    fn field_type(&mut self, pointer: &str, object: &Map<String, Json>) -> Option<FieldType> {
        let type_name = match object.get("type") {
            None => "string",
            Some(Json::String(name)) => name.as_str(),
            Some(_) => {
                self.problem(format!("{pointer}/type"), "expected a string");
                return None;
            }
        };
        let format = match object.get("format") {
            None => "default",
            Some(Json::String(format)) => format.as_str(),
            Some(_) => {
                self.problem(format!("{pointer}/format"), "expected a string");
                return None;
            }
        };
        let format_pointer = format!("{pointer}/format");
        let only_default = |parser: &mut Parser, kind: FieldType| {
            if format == "default" {
                Some(kind)
            } else {
                parser.problem(
                    &format_pointer,
                    format!(
                        "unknown format {format:?} for type {type_name}; it has only \"default\""
                    ),
                );
                None
            }
        };
        let kind = match type_name {
            "string" => {
                let format = match format {
                    "default" => StringFormat::Default,
                    "email" => StringFormat::Email,
                    "uri" => StringFormat::Uri,
                    "uuid" => StringFormat::Uuid,
                    "binary" => StringFormat::Binary,
                    _ => {
                        self.problem(
                            &format_pointer,
                            format!(
                                "unknown format {format:?} for type string; expected one of \
                                 \"default\", \"email\", \"uri\", \"uuid\", \"binary\""
                            ),
                        );
                        return None;
                    }
                };
                FieldType::String(format)
            }
            "integer" => {
                let options = IntegerOptions {
                    bare_number: self.boolean(pointer, object, "bareNumber", true),
                    group_char: self.character(pointer, object, "groupChar"),
                };
                only_default(self, FieldType::Integer(options))?
            }
            "number" => {
                let options = NumberOptions {
                    decimal_char: self
                        .character(pointer, object, "decimalChar")
                        .unwrap_or('.'),
                    group_char: self.character(pointer, object, "groupChar"),
                    bare_number: self.boolean(pointer, object, "bareNumber", true),
                    decimal_places: self.decimal_places(pointer, object),
                };
                if Some(options.decimal_char) == options.group_char {
                    self.problem(
                        format!("{pointer}/groupChar"),
                        "the group character cannot be the decimal character",
                    );
                }
                only_default(self, FieldType::Number(options))?
            }
            "boolean" => {
                let mut options = BooleanOptions::default();
                if let Some(values) = self.strings(pointer, object, "trueValues") {
                    options.true_values = values;
                }
                if let Some(values) = self.strings(pointer, object, "falseValues") {
                    options.false_values = values;
                }
                if let Some(both) = options
                    .true_values
                    .iter()
                    .find(|value| options.false_values.contains(value))
                {
                    self.problem(
                        format!("{pointer}/falseValues"),
                        format!("{both:?} is both a true and a false value"),
                    );
                }
                only_default(self, FieldType::Boolean(options))?
            }
            "date" | "time" | "datetime" => {
                let temporal = match format {
                    "default" => TemporalFormat::Default,
                    "any" => TemporalFormat::Any,
                    pattern => {
                        self.strptime(&format_pointer, pattern)?;
                        TemporalFormat::Pattern(pattern.to_string())
                    }
                };
                match type_name {
                    "date" => FieldType::Date(temporal),
                    "time" => FieldType::Time(temporal),
                    _ => FieldType::Datetime(temporal),
                }
            }
            "year" => only_default(self, FieldType::Year)?,
            "yearmonth" => only_default(self, FieldType::YearMonth)?,
            "duration" => only_default(self, FieldType::Duration)?,
            "object" => only_default(self, FieldType::Object)?,
            "array" => only_default(self, FieldType::Array)?,
            "any" => only_default(self, FieldType::Any)?,
            "list" => {
                let delimiter = match object.get("delimiter") {
                    None => ",".to_string(),
                    Some(Json::String(text)) if !text.is_empty() => text.clone(),
                    Some(_) => {
                        self.problem(
                            format!("{pointer}/delimiter"),
                            "expected a non-empty string",
                        );
                        ",".to_string()
                    }
                };
                let item_type = match object.get("itemType") {
                    None => ItemType::String,
                    Some(json) => match json.as_str() {
                        Some("string") => ItemType::String,
                        Some("integer") => ItemType::Integer,
                        Some("number") => ItemType::Number,
                        Some("boolean") => ItemType::Boolean,
                        Some("date") => ItemType::Date,
                        Some("time") => ItemType::Time,
                        Some("datetime") => ItemType::Datetime,
                        _ => {
                            self.problem(
                                format!("{pointer}/itemType"),
                                format!(
                                    "unknown itemType {json}; expected one of \"string\", \
                                     \"integer\", \"number\", \"boolean\", \"date\", \"time\", \
                                     \"datetime\""
                                ),
                            );
                            ItemType::String
                        }
                    },
                };
                let list = FieldType::List(ListOptions {
                    delimiter,
                    item_type,
                    item: Box::new(item_type.field_type()),
                });
                only_default(self, list)?
            }
            "geopoint" | "geojson" => {
                self.problem(
                    format!("{pointer}/type"),
                    format!(
                        "type {type_name:?} is in the standard but droplake does not support it yet"
                    ),
                );
                return None;
            }
            unknown => {
                let hint = suggest(unknown, &TYPES)
                    .map(|near| format!(" (did you mean {near:?}?)"))
                    .unwrap_or_default();
                self.problem(
                    format!("{pointer}/type"),
                    format!(
                        "unknown type {unknown:?}{hint}; expected one of {}",
                        TYPES.join(", ")
                    ),
                );
                return None;
            }
        };
        Some(kind)
    }

    /// Checks a strptime pattern by formatting a sample instant with it.
    fn strptime(&mut self, pointer: &str, pattern: &str) -> Option<()> {
        let bare = pattern.strip_prefix("fmt:").unwrap_or(pattern);
        if !bare.contains('%') {
            self.problem(
                pointer,
                format!(
                    "unknown format {pattern:?}; expected \"default\", \"any\" or a strptime \
                     pattern such as \"%d/%m/%Y\""
                ),
            );
            return None;
        }
        let sample = jiff::Timestamp::UNIX_EPOCH.to_zoned_datetime(jiff::tz::TimeZone::UTC);
        match strtime::format(bare, &sample) {
            Ok(_) => Some(()),
            Err(error) => {
                self.problem(pointer, format!("invalid pattern {pattern:?}: {error}"));
                None
            }
        }
    }

    fn boolean(
        &mut self,
        pointer: &str,
        object: &Map<String, Json>,
        key: &str,
        default: bool,
    ) -> bool {
        match object.get(key) {
            None => default,
            Some(Json::Bool(value)) => *value,
            Some(_) => {
                self.problem(format!("{pointer}/{key}"), "expected true or false");
                default
            }
        }
    }

    /// droplake's `decimalPlaces` on a number: an integer from 0 to 18.
    fn decimal_places(&mut self, pointer: &str, object: &Map<String, Json>) -> Option<u8> {
        let json = object.get("decimalPlaces")?;
        match json
            .as_u64()
            .and_then(|places| u8::try_from(places).ok())
            .filter(|places| *places <= 18)
        {
            Some(places) => Some(places),
            None => {
                self.problem(
                    format!("{pointer}/decimalPlaces"),
                    "expected an integer from 0 to 18",
                );
                None
            }
        }
    }

    fn character(&mut self, pointer: &str, object: &Map<String, Json>, key: &str) -> Option<char> {
        let json = object.get(key)?;
        let mut chars = json.as_str().map(str::chars);
        match chars.as_mut().map(|chars| (chars.next(), chars.next())) {
            Some((Some(c), None)) if !c.is_ascii_digit() => Some(c),
            _ => {
                self.problem(
                    format!("{pointer}/{key}"),
                    "expected a string of one character, not a digit",
                );
                None
            }
        }
    }

    fn strings(
        &mut self,
        pointer: &str,
        object: &Map<String, Json>,
        key: &str,
    ) -> Option<Vec<String>> {
        let json = object.get(key)?;
        let values: Option<Vec<String>> = json.as_array().and_then(|items| {
            items
                .iter()
                .map(|item| item.as_str().map(str::to_string))
                .collect()
        });
        if values.is_none() {
            self.problem(format!("{pointer}/{key}"), "expected an array of strings");
        }
        values
    }

    fn constraints(&mut self, pointer: &str, json: &Json, kind: &FieldType, out: &mut Constraints) {
        let Some(object) = json.as_object() else {
            self.problem(pointer, "expected an object of constraints");
            return;
        };
        let names: Vec<&str> = Constraint::ALL
            .iter()
            .filter(|c| **c != Constraint::Categories)
            .map(|c| c.name())
            .collect();
        for (key, value) in object {
            let here = format!("{pointer}/{key}");
            let Some(constraint) = Constraint::ALL
                .into_iter()
                .find(|c| c.name() == key && *c != Constraint::Categories)
            else {
                if key == "jsonSchema" {
                    self.problem(here, "jsonSchema constraints are not supported by droplake");
                    continue;
                }
                let hint = suggest(key, &names)
                    .map(|near| format!(" (did you mean {near:?}?)"))
                    .unwrap_or_default();
                self.problem(
                    here,
                    format!(
                        "unknown constraint {key:?}{hint}; expected one of {}",
                        names.join(", ")
                    ),
                );
                continue;
            };
            if !applies(constraint, kind) {
                self.problem(
                    here,
                    format!("constraint {key} does not apply to type {}", kind.name()),
                );
                continue;
            }
            match constraint {
                Constraint::Required | Constraint::Unique => match value {
                    Json::Bool(flag) => {
                        if constraint == Constraint::Required {
                            out.required = *flag;
                        } else {
                            out.unique = *flag;
                        }
                    }
                    _ => self.problem(here, "expected true or false"),
                },
                Constraint::MinLength | Constraint::MaxLength => {
                    match value.as_u64().and_then(|n| usize::try_from(n).ok()) {
                        Some(n) if constraint == Constraint::MinLength => out.min_length = Some(n),
                        Some(n) => out.max_length = Some(n),
                        None => self.problem(here, "expected a non-negative integer"),
                    }
                }
                Constraint::Minimum
                | Constraint::Maximum
                | Constraint::ExclusiveMinimum
                | Constraint::ExclusiveMaximum => {
                    let bound = self.typed(&here, value, kind);
                    match constraint {
                        Constraint::Minimum => out.minimum = bound,
                        Constraint::Maximum => out.maximum = bound,
                        Constraint::ExclusiveMinimum => out.exclusive_minimum = bound,
                        _ => out.exclusive_maximum = bound,
                    }
                }
                Constraint::Pattern => match value.as_str() {
                    Some(source) => match Regex::new(source)
                        .and_then(|_| Regex::new(&format!("^(?:{source})$")))
                    {
                        Ok(regex) => {
                            out.pattern = Some(Pattern {
                                source: source.to_string(),
                                regex,
                            })
                        }
                        Err(error) => {
                            // The regex crate draws the error under the
                            // pattern on several lines; its last line says
                            // what is wrong.
                            let error = error.to_string();
                            let reason = error
                                .lines()
                                .rev()
                                .find_map(|line| line.trim().strip_prefix("error: "))
                                .unwrap_or(error.as_str())
                                .to_string();
                            self.problem(
                                here,
                                format!("invalid regular expression {source:?}: {reason}"),
                            );
                        }
                    },
                    None => self.problem(here, "expected a string"),
                },
                Constraint::Enum => out.enumeration = self.members(&here, value, kind, false),
                Constraint::Categories => {}
            }
        }
        if let (Some(min), Some(max)) = (out.min_length, out.max_length)
            && min > max
        {
            self.problem(
                format!("{pointer}/minLength"),
                format!("minLength {min} is above maxLength {max}"),
            );
        }
        if let (Some(min), Some(max)) = (&out.minimum, &out.maximum)
            && min.compare(max) == Some(std::cmp::Ordering::Greater)
        {
            self.problem(
                format!("{pointer}/minimum"),
                format!("minimum {min} is above maximum {max}"),
            );
        }
    }

    /// A value of the field's type, as bounds and enum members are written.
    fn typed(&mut self, pointer: &str, json: &Json, kind: &FieldType) -> Option<Value<'static>> {
        let cast = match json {
            Json::Null => Err(super::CastError { detail: None }),
            json => cast_json(kind, json).map(Value::into_owned),
        };
        match cast {
            Ok(value) => Some(value),
            Err(error) => {
                let detail = error.detail.map(|d| format!(": {d}")).unwrap_or_default();
                self.problem(pointer, format!("{json} is not {kind}{detail}"));
                None
            }
        }
    }

    fn members(
        &mut self,
        pointer: &str,
        json: &Json,
        kind: &FieldType,
        labelled: bool,
    ) -> Option<Members> {
        let Some(items) = json.as_array() else {
            self.problem(pointer, "expected an array of values");
            return None;
        };
        if items.is_empty() {
            self.problem(pointer, "expected at least one value");
            return None;
        }
        let mut values = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let (item, here) = match item {
                Json::Object(object) if labelled => match object.get("value") {
                    Some(value) => (value, format!("{pointer}/{index}/value")),
                    None => {
                        self.problem(
                            format!("{pointer}/{index}"),
                            "expected an object with a \"value\"",
                        );
                        continue;
                    }
                },
                item => (item, format!("{pointer}/{index}")),
            };
            if let Some(value) = self.typed(&here, item, kind) {
                values.push(value);
            }
        }
        if matches!(kind, FieldType::String(format) if *format != StringFormat::Binary) {
            let strings = values
                .into_iter()
                .filter_map(|value| match value {
                    Value::String(text) => Some(text.into_owned().into_boxed_str()),
                    _ => None,
                })
                .collect();
            Some(Members::strings(strings))
        } else {
            Some(Members::Values(values))
        }
    }

    fn categories(&mut self, pointer: &str, json: &Json, kind: &FieldType) -> Option<Members> {
        if !matches!(kind, FieldType::String(_) | FieldType::Integer(_)) {
            self.problem(
                pointer,
                "categories apply only to string and integer fields",
            );
            return None;
        }
        self.members(pointer, json, kind, true)
    }

    /// A key: a field name (v1) or an array of names; each must name a field.
    fn key(
        &mut self,
        pointer: &str,
        json: &Json,
        fields: &[Option<&str>],
        check: bool,
    ) -> Vec<usize> {
        let names = match self.names(pointer, json) {
            Some(names) => names,
            None => return Vec::new(),
        };
        let mut key = Vec::with_capacity(names.len());
        for (index, name) in names.iter().enumerate() {
            let here = if json.is_array() {
                format!("{pointer}/{index}")
            } else {
                pointer.to_string()
            };
            match fields
                .iter()
                .position(|field| *field == Some(name.as_str()))
            {
                Some(field) if key.contains(&field) => {
                    self.problem(here, format!("field {name:?} appears twice in the key"));
                }
                Some(field) => key.push(field),
                None if check => self.problem(here, format!("no field named {name:?}")),
                None => {}
            }
        }
        key
    }

    fn names(&mut self, pointer: &str, json: &Json) -> Option<Vec<String>> {
        let names = match json {
            Json::String(name) => Some(vec![name.clone()]),
            Json::Array(items) if !items.is_empty() => items
                .iter()
                .map(|item| item.as_str().map(str::to_string))
                .collect(),
            _ => None,
        };
        if names.is_none() {
            self.problem(
                pointer,
                "expected a field name or a non-empty array of field names",
            );
        }
        names
    }

    fn foreign_keys(
        &mut self,
        json: &Json,
        fields: &[Option<&str>],
        check: bool,
    ) -> Vec<ForeignKey> {
        let Some(items) = json.as_array() else {
            self.problem("/foreignKeys", "expected an array of foreign keys");
            return Vec::new();
        };
        let mut keys = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let pointer = format!("/foreignKeys/{index}");
            let Some(object) = item.as_object() else {
                self.problem(
                    pointer,
                    "expected an object with \"fields\" and \"reference\"",
                );
                continue;
            };
            let Some(own) = object.get("fields") else {
                self.problem(pointer, "missing \"fields\"");
                continue;
            };
            let own_names = self.names(&format!("{pointer}/fields"), own);
            let own = self.key(&format!("{pointer}/fields"), own, fields, check);
            let Some(reference) = object.get("reference").and_then(Json::as_object) else {
                self.problem(
                    format!("{pointer}/reference"),
                    "expected an object with \"resource\" and \"fields\"",
                );
                continue;
            };
            let resource = match reference.get("resource") {
                None => None,
                Some(Json::String(name)) if name.is_empty() => None,
                Some(Json::String(name)) => Some(name.clone()),
                Some(_) => {
                    self.problem(format!("{pointer}/reference/resource"), "expected a string");
                    continue;
                }
            };
            let here = format!("{pointer}/reference/fields");
            let Some(referenced) = reference.get("fields") else {
                self.problem(format!("{pointer}/reference"), "missing \"fields\"");
                continue;
            };
            let Some(reference_fields) = self.names(&here, referenced) else {
                continue;
            };
            if own_names
                .as_ref()
                .is_some_and(|own| own.len() != reference_fields.len())
            {
                self.problem(
                    here.clone(),
                    format!(
                        "{} referenced fields for {} fields: a foreign key needs as many on \
                         each side",
                        reference_fields.len(),
                        own_names.as_ref().map_or(0, Vec::len)
                    ),
                );
                continue;
            }
            if resource.is_none() && check {
                // A reference to this same table: its fields must exist here.
                self.key(&here, referenced, fields, check);
            }
            if own.len() == reference_fields.len() {
                keys.push(ForeignKey {
                    fields: own,
                    resource,
                    reference_fields,
                });
            }
        }
        keys
    }
}

/// Whether a constraint applies to a type, as frictionless-py's fields
/// declare it.
fn applies(constraint: Constraint, kind: &FieldType) -> bool {
    use Constraint::*;
    match constraint {
        Required => true,
        Unique | Enum => !matches!(kind, FieldType::List(_)),
        MinLength | MaxLength => matches!(
            kind,
            FieldType::String(_) | FieldType::Array | FieldType::List(_) | FieldType::Object
        ),
        Minimum | Maximum | ExclusiveMinimum | ExclusiveMaximum => matches!(
            kind,
            FieldType::Integer(_)
                | FieldType::Number(_)
                | FieldType::Date(_)
                | FieldType::Time(_)
                | FieldType::Datetime(_)
                | FieldType::Year
                | FieldType::YearMonth
                | FieldType::Duration
        ),
        Pattern => matches!(kind, FieldType::String(_)),
        Categories => matches!(kind, FieldType::String(_) | FieldType::Integer(_)),
    }
}

/// The known name closest to a misspelt one, if it is close (edit distance
/// at most 2, ignoring case).
fn suggest<'a>(wrong: &str, known: &[&'a str]) -> Option<&'a str> {
    let wrong: Vec<char> = wrong.to_lowercase().chars().collect();
    known
        .iter()
        .map(|name| {
            let name_chars: Vec<char> = name.to_lowercase().chars().collect();
            (edit_distance(&wrong, &name_chars), *name)
        })
        .filter(|(distance, _)| *distance <= 2)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            let value = (previous[j] + cost)
                .min(previous[j + 1] + 1)
                .min(current[j] + 1);
            current.push(value);
        }
        previous = current;
    }
    previous[b.len()]
}
