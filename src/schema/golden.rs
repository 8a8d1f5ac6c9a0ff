//! Golden tests: every type, format and constraint, at and just past each
//! boundary, and the schema problems each bad schema must report.

use std::borrow::Cow;
use std::path::Path;

use jiff::civil;
use serde_json::{Value as Json, json};

use super::*;
use crate::formats::Cell;

fn schema(document: Json) -> Schema {
    Schema::parse("t", Path::new("t.json"), &document.to_string()).expect("a valid schema")
}

fn field(definition: Json) -> Field {
    schema(json!({ "fields": [definition] }))
        .fields
        .into_iter()
        .next()
        .expect("one field")
}

fn text<'a>(field: &Field, text: &'a str) -> Result<Value<'a>, CastError> {
    cast(field, Cell::Text(text))
}

fn accepts(field: &Field, cells: &[&str]) {
    for cell in cells {
        let value = text(field, cell);
        assert!(
            matches!(value, Ok(ref v) if !v.is_null()),
            "{} should accept {cell:?}, got {value:?}",
            field.kind
        );
    }
}

fn rejects(field: &Field, cells: &[&str]) {
    for cell in cells {
        let value = text(field, cell);
        assert!(
            value.is_err(),
            "{} should reject {cell:?}, got {value:?}",
            field.kind
        );
    }
}

fn number(text: &str) -> Decimal {
    match super::cast::cast_text(
        &FieldType::Number(NumberOptions {
            decimal_char: '.',
            group_char: None,
            bare_number: true,
            decimal_places: None,
        }),
        text,
    ) {
        Ok(Value::Number(n)) => n,
        other => panic!("{text} is not a number: {other:?}"),
    }
}

/// The names of the constraints a cell breaks.
fn broken(field: &Field, cell: &str) -> Vec<&'static str> {
    let value = text(field, cell).expect("the cell casts");
    let mut names = Vec::new();
    field.constraints.check(&value, cell, |violation| {
        names.push(violation.constraint.name())
    });
    names
}

fn problems(document: &str) -> Vec<String> {
    match Schema::parse(
        "orders",
        Path::new("warehouse-schema/orders.json"),
        document,
    ) {
        Ok(_) => Vec::new(),
        Err(SchemaError::Invalid { problems, .. }) => {
            problems.iter().map(ToString::to_string).collect()
        }
        Err(error) => panic!("unexpected {error}"),
    }
}

// ---- string ------------------------------------------------------------

#[test]
fn a_default_string_is_the_cell_as_it_is_spaces_included() {
    let f = field(json!({"name": "s"}));
    assert_eq!(text(&f, " a b "), Ok(Value::String(Cow::Borrowed(" a b "))));
    assert!(matches!(text(&f, "x"), Ok(Value::String(Cow::Borrowed(_)))));
    assert_eq!(text(&f, ""), Ok(Value::Null));
}

#[test]
fn email_addresses_need_a_local_part_and_a_dotted_domain() {
    let f = field(json!({"name": "e", "format": "email"}));
    accepts(
        &f,
        &["a@b.co", "first.last+tag@sub.example.org", "ü@exämple.de"],
    );
    rejects(
        &f,
        &[
            "a@b",
            "@b.co",
            "a@",
            "a b@c.de",
            "a@@b.co",
            "a..b@c.de",
            ".a@c.de",
            "a@-b.co",
            "a@b..co",
        ],
    );
}

#[test]
fn uris_need_a_scheme_and_no_spaces() {
    let f = field(json!({"name": "u", "format": "uri"}));
    accepts(
        &f,
        &["https://example.org/a?b=c", "mailto:x@y.z", "urn:isbn:123"],
    );
    rejects(&f, &["example.org", "https://a b", "1http://x", "http:"]);
}

#[test]
fn uuids_are_hyphenated_hex_in_either_case() {
    let f = field(json!({"name": "u", "format": "uuid"}));
    accepts(
        &f,
        &[
            "123e4567-e89b-12d3-a456-426614174000",
            "123E4567-E89B-12D3-A456-426614174000",
        ],
    );
    rejects(
        &f,
        &[
            "123e4567e89b12d3a456426614174000",
            "123e4567-e89b-12d3-a456-42661417400",
            "123e4567-e89b-12d3-a456-42661417400g",
        ],
    );
}

#[test]
fn binary_strings_are_decoded_from_base64() {
    let f = field(json!({"name": "b", "format": "binary"}));
    assert_eq!(text(&f, "aGk="), Ok(Value::Binary(b"hi".to_vec())));
    rejects(&f, &["aGk", "a*k="]);
}

// ---- integer -----------------------------------------------------------

#[test]
fn integers_fill_64_bits_and_not_one_more() {
    let f = field(json!({"name": "i", "type": "integer"}));
    assert_eq!(
        text(&f, "9223372036854775807"),
        Ok(Value::Integer(i64::MAX))
    );
    assert_eq!(
        text(&f, "-9223372036854775808"),
        Ok(Value::Integer(i64::MIN))
    );
    for too_big in [
        "9223372036854775808",
        "-9223372036854775809",
        "99999999999999999999999",
    ] {
        let error = text(&f, too_big).expect_err("too big");
        assert_eq!(
            error.detail,
            Some("it does not fit in 64 bits"),
            "{too_big}"
        );
    }
}

#[test]
fn integers_take_a_sign_and_leading_zeros_but_nothing_else() {
    let f = field(json!({"name": "i", "type": "integer"}));
    assert_eq!(text(&f, "007"), Ok(Value::Integer(7)));
    assert_eq!(text(&f, "+5"), Ok(Value::Integer(5)));
    assert_eq!(text(&f, "-0"), Ok(Value::Integer(0)));
    rejects(
        &f,
        &[
            "1.0", "1e3", " 1", "1 ", "-", "+", "1,000", "$1", "0x10", "١",
        ],
    );
}

#[test]
fn integer_group_characters_and_non_bare_numbers() {
    let grouped = field(json!({"name": "i", "type": "integer", "groupChar": ","}));
    assert_eq!(text(&grouped, "1,000,000"), Ok(Value::Integer(1_000_000)));
    rejects(&grouped, &[",100", "1.000"]);
    let dressed = field(json!({"name": "i", "type": "integer", "bareNumber": false}));
    assert_eq!(text(&dressed, "$150"), Ok(Value::Integer(150)));
    assert_eq!(text(&dressed, "15%"), Ok(Value::Integer(15)));
    assert_eq!(text(&dressed, "EUR -3"), Ok(Value::Integer(-3)));
    rejects(&dressed, &["$", "1.5"]);
}

// ---- number ------------------------------------------------------------

#[test]
fn numbers_are_exact_decimals_that_keep_their_precision() {
    let f = field(json!({"name": "n", "type": "number"}));
    let Ok(Value::Number(amount)) = text(&f, "12.50") else {
        panic!("12.50 is a number")
    };
    assert_eq!(amount.to_string(), "12.50");
    assert_eq!(amount, number("12.5"));
    assert_eq!(number("0.1").to_string(), "0.1");
    assert_eq!(number("-0.005").to_string(), "-0.005");
    assert_eq!(number("1e3"), number("1000"));
    assert_eq!(number("1.5E-3"), number("0.0015"));
    assert_eq!(number(".5"), number("0.5"));
    assert_eq!(number("5."), number("5"));
    assert_eq!(number("+5"), number("5"));
    assert_eq!(number("00012.0"), number("12"));
    assert!(number("NaN").is_nan());
    assert!(!number("INF").is_finite() && !number("INF").is_negative());
    assert!(!number("-INF").is_finite() && number("-INF").is_negative());
    assert_eq!(number("INF").to_string(), "INF");
    rejects(
        &f,
        &[
            "abc", "1.2.3", "1e", "e3", ".", " 1", "1 ", "1,5", "nan", "Infinity", "1_000",
        ],
    );
}

#[test]
fn numbers_keep_38_significant_digits_and_refuse_more() {
    let f = field(json!({"name": "n", "type": "number"}));
    let digits38 = "12345678901234567890123456789012345678";
    assert!(text(&f, digits38).is_ok());
    assert!(text(&f, &format!("0.0000{digits38}")).is_ok());
    assert_eq!(
        text(&f, &format!("{digits38}000")),
        Ok(Value::Number(number(&format!("{digits38}E3"))))
    );
    assert!(text(&f, &format!("{digits38}.000")).is_ok());
    assert!(text(&f, &format!("{digits38}001")).is_err());
    let error = text(&f, &format!("{digits38}9")).expect_err("39 digits");
    assert_eq!(error.detail, Some("it has more than 38 significant digits"));
    assert_eq!(number(digits38).to_string(), digits38);
}

#[test]
fn decimal_places_make_a_number_an_exact_decimal_of_that_scale() {
    let money = field(json!({"name": "amount", "type": "number", "decimalPlaces": 2}));
    accepts(
        &money,
        &[
            "12.50",
            "12.5",
            "12",
            "-0.01",
            "1e-2",
            "99999999999999999.99",
        ],
    );
    rejects(&money, &["12.505", "0.001", "NaN", "INF", "-INF"]);
    let error = text(&money, "1.234").expect_err("three places");
    assert_eq!(
        error.detail,
        Some("it has more decimal places than the field's decimalPlaces")
    );
    assert_eq!(
        money.kind.to_string(),
        "a number with at most 2 decimal places"
    );
    let json_cell = json!(0.125);
    assert!(
        cast(&money, Cell::Json(&json_cell)).is_err(),
        "JSON numbers are held to it too"
    );

    let whole = field(json!({"name": "units", "type": "number", "decimalPlaces": 0}));
    accepts(&whole, &["7", "7.0", "70e-1"]);
    rejects(&whole, &["7.5"]);
    for bad in ["-1", "19", "2.5", "\"2\""] {
        let found = problems(&format!(
            r#"{{"fields": [{{"name": "a", "type": "number", "decimalPlaces": {bad}}}]}}"#
        ));
        assert_eq!(
            found,
            ["/fields/0/decimalPlaces: expected an integer from 0 to 18"],
            "{bad}"
        );
    }
}

#[test]
fn number_decimal_and_group_characters() {
    let f = field(json!({"name": "n", "type": "number", "decimalChar": ",", "groupChar": "."}));
    assert_eq!(
        text(&f, "1.234.567,89"),
        Ok(Value::Number(number("1234567.89")))
    );
    assert_eq!(text(&f, "0,5"), Ok(Value::Number(number("0.5"))));
    rejects(&f, &["1,2,3", "0.5.5,1,1"]);
    let spaced =
        field(json!({"name": "n", "type": "number", "decimalChar": ",", "groupChar": "\u{202f}"}));
    assert_eq!(
        text(&spaced, "1\u{202f}000,5"),
        Ok(Value::Number(number("1000.5")))
    );
    let dressed = field(json!({"name": "n", "type": "number", "bareNumber": false}));
    assert_eq!(
        text(&dressed, "€ 12.50"),
        Ok(Value::Number(number("12.50")))
    );
    assert_eq!(text(&dressed, "12.5%"), Ok(Value::Number(number("12.5"))));
    assert_eq!(
        text(&dressed, "-3.5 USD"),
        Ok(Value::Number(number("-3.5")))
    );
}

// ---- boolean -----------------------------------------------------------

#[test]
fn booleans_take_the_default_or_the_given_true_and_false_values() {
    let f = field(json!({"name": "b", "type": "boolean"}));
    for yes in ["true", "True", "TRUE", "1"] {
        assert_eq!(text(&f, yes), Ok(Value::Boolean(true)), "{yes}");
    }
    for no in ["false", "False", "FALSE", "0"] {
        assert_eq!(text(&f, no), Ok(Value::Boolean(false)), "{no}");
    }
    rejects(&f, &["yes", "tRue", " true", "2"]);
    let custom = field(
        json!({"name": "b", "type": "boolean", "trueValues": ["ja"], "falseValues": ["nein"]}),
    );
    assert_eq!(text(&custom, "ja"), Ok(Value::Boolean(true)));
    assert_eq!(text(&custom, "nein"), Ok(Value::Boolean(false)));
    rejects(&custom, &["true", "0"]);
}

// ---- dates and times ---------------------------------------------------

#[test]
fn dates_are_iso_and_know_leap_years() {
    let f = field(json!({"name": "d", "type": "date"}));
    assert_eq!(
        text(&f, "2024-02-29"),
        Ok(Value::Date(civil::date(2024, 2, 29)))
    );
    accepts(&f, &["2000-02-29", "0001-01-01", "9999-12-31"]);
    rejects(
        &f,
        &[
            "2023-02-29",
            "1900-02-29",
            "2024-02-30",
            "2024-00-10",
            "2024-1-1",
            "20240101",
            "2024-01-01T00:00:00",
        ],
    );
}

#[test]
fn dates_in_any_form_and_by_pattern() {
    let any = field(json!({"name": "d", "type": "date", "format": "any"}));
    accepts(&any, &["2024-02-29", "20240229"]);
    rejects(&any, &["29/02/2024"]);
    let pattern = field(json!({"name": "d", "type": "date", "format": "%d/%m/%Y"}));
    assert_eq!(
        text(&pattern, "29/02/2024"),
        Ok(Value::Date(civil::date(2024, 2, 29)))
    );
    rejects(&pattern, &["29/02/2023", "2024-02-29", "29/2/24x"]);
    let v1 = field(json!({"name": "d", "type": "date", "format": "fmt:%d.%m.%Y"}));
    accepts(&v1, &["01.02.2024"]);
}

#[test]
fn times_take_fractions_and_offsets() {
    let f = field(json!({"name": "t", "type": "time"}));
    accepts(
        &f,
        &[
            "00:00:00",
            "23:59:59",
            "12:00:00.5",
            "12:00:00.123456789",
            "12:00:00Z",
            "12:00:00+05:30",
            "12:00:00.25-08:00",
        ],
    );
    rejects(
        &f,
        &[
            "24:00:00",
            "12:60:00",
            "12:00:60",
            "12:00",
            "12:00:00.",
            "12:00:00.1234567891",
            "12:00:00+0530",
            "1:00:00",
        ],
    );
    let Ok(Value::Time(t)) = text(&f, "10:00:00+01:00") else {
        panic!("a time")
    };
    assert_eq!(t.to_string(), "10:00:00+01:00");
    let pattern = field(json!({"name": "t", "type": "time", "format": "%H%M"}));
    assert_eq!(
        text(&pattern, "0930"),
        Ok(Value::Time(Time {
            time: civil::time(9, 30, 0, 0),
            offset: None
        }))
    );
}

#[test]
fn datetimes_take_fractions_and_offsets_and_any_or_patterns() {
    let f = field(json!({"name": "dt", "type": "datetime"}));
    accepts(
        &f,
        &[
            "2024-02-29T23:59:59",
            "2024-02-29T23:59:59Z",
            "2024-02-29T23:59:59.999+14:00",
            "2024-01-01T00:00:00.000000001-12:00",
        ],
    );
    rejects(
        &f,
        &[
            "2024-02-29 23:59:59",
            "2024-02-29",
            "2023-02-29T00:00:00Z",
            "2024-01-01T00:00:00ZZ",
            "2024-01-01T00:00:00+1",
        ],
    );
    let Ok(Value::Datetime(dt)) = text(&f, "2024-02-29T23:59:59.5Z") else {
        panic!("a datetime")
    };
    assert_eq!(
        dt.datetime,
        civil::date(2024, 2, 29).at(23, 59, 59, 500_000_000)
    );
    assert_eq!(dt.to_string(), "2024-02-29T23:59:59.5Z");
    let any = field(json!({"name": "dt", "type": "datetime", "format": "any"}));
    accepts(
        &any,
        &[
            "2024-02-29 23:59:59",
            "2024-02-29t23:59z",
            "Thu, 29 Feb 2024 23:59:59 +0000",
        ],
    );
    let pattern = field(json!({"name": "dt", "type": "datetime", "format": "%d/%m/%Y %H:%M %z"}));
    let Ok(Value::Datetime(dt)) = text(&pattern, "29/02/2024 10:30 +0100") else {
        panic!("a datetime")
    };
    assert_eq!(dt.offset.map(|offset| offset.seconds()), Some(3600));
}

#[test]
fn years_and_yearmonths_are_four_digit_years() {
    let year = field(json!({"name": "y", "type": "year"}));
    assert_eq!(text(&year, "2024"), Ok(Value::Year(2024)));
    accepts(&year, &["0000", "9999"]);
    rejects(&year, &["24", "02024", "-2024", "20x4"]);
    let ym = field(json!({"name": "ym", "type": "yearmonth"}));
    assert_eq!(
        text(&ym, "2024-02"),
        Ok(Value::YearMonth {
            year: 2024,
            month: 2
        })
    );
    accepts(&ym, &["2024-01", "2024-12"]);
    rejects(&ym, &["2024-00", "2024-13", "2024-2", "2024", "2024/02"]);
    let pair = json!([2024, 3]);
    let json_ym = cast(&ym, Cell::Json(&pair));
    assert_eq!(
        json_ym,
        Ok(Value::YearMonth {
            year: 2024,
            month: 3
        })
    );
}

#[test]
fn durations_are_iso_8601() {
    let f = field(json!({"name": "d", "type": "duration"}));
    accepts(&f, &["P1Y2M3DT4H5M6S", "PT0.5S", "P1W", "-P1D", "PT36H"]);
    rejects(&f, &["1h", "P", "PT", "1 day", "P1H"]);
}

// ---- object, array, list, any ------------------------------------------

#[test]
fn objects_and_arrays_are_json_of_their_kind() {
    let object = field(json!({"name": "o", "type": "object"}));
    assert_eq!(
        text(&object, r#"{"a": 1}"#),
        Ok(Value::Json(Box::new(Cow::Owned(json!({"a": 1})))))
    );
    rejects(&object, &["[1]", "{", "1"]);
    let array = field(json!({"name": "a", "type": "array"}));
    accepts(&array, &["[]", "[1, \"x\"]"]);
    rejects(&array, &["{}", "1,2"]);
    let json_object = json!({"k": [1]});
    assert_eq!(
        cast(&object, Cell::Json(&json_object)),
        Ok(Value::Json(Box::new(Cow::Borrowed(&json_object))))
    );
}

#[test]
fn lists_cast_each_item_by_the_item_type() {
    let f = field(json!({"name": "l", "type": "list", "itemType": "integer"}));
    assert_eq!(
        text(&f, "1,2,3"),
        Ok(Value::List(vec![
            Value::Integer(1),
            Value::Integer(2),
            Value::Integer(3)
        ]))
    );
    rejects(&f, &["1,x", "1,,2", "1;2"]);
    let dates = field(json!({"name": "l", "type": "list", "itemType": "date", "delimiter": "; "}));
    accepts(&dates, &["2024-01-01; 2024-02-29"]);
    rejects(&dates, &["2024-01-01;2024-02-29"]);
    let strings = field(json!({"name": "l", "type": "list"}));
    let Ok(Value::List(items)) = text(&strings, "a,b") else {
        panic!("a list")
    };
    assert_eq!(items.len(), 2);
    let items = json!([1, "2"]);
    let from_json = cast(&f, Cell::Json(&items));
    assert_eq!(
        from_json,
        Ok(Value::List(vec![Value::Integer(1), Value::Integer(2)]))
    );
}

#[test]
fn any_takes_everything() {
    let f = field(json!({"name": "x", "type": "any"}));
    accepts(&f, &["1", "abc", " "]);
    assert_eq!(
        cast(&f, Cell::Json(&json!(5))),
        Ok(Value::Json(Box::new(Cow::Owned(json!(5)))))
    );
}

// ---- JSON cells --------------------------------------------------------

#[test]
fn json_cells_cast_by_their_json_type() {
    let integer = field(json!({"name": "i", "type": "integer"}));
    assert_eq!(cast(&integer, Cell::Json(&json!(5))), Ok(Value::Integer(5)));
    assert_eq!(
        cast(&integer, Cell::Json(&json!(5.0))),
        Ok(Value::Integer(5))
    );
    assert_eq!(
        cast(&integer, Cell::Json(&json!("7"))),
        Ok(Value::Integer(7))
    );
    assert_eq!(cast(&integer, Cell::Json(&Json::Null)), Ok(Value::Null));
    assert_eq!(cast(&integer, Cell::Json(&json!(""))), Ok(Value::Null));
    assert!(cast(&integer, Cell::Json(&json!(5.5))).is_err());
    assert!(cast(&integer, Cell::Json(&json!(true))).is_err());
    assert!(cast(&integer, Cell::Json(&json!(u64::MAX))).is_err());
    let amount = field(json!({"name": "n", "type": "number"}));
    assert_eq!(
        cast(&amount, Cell::Json(&json!(0.1))),
        Ok(Value::Number(number("0.1")))
    );
    assert_eq!(
        cast(&amount, Cell::Json(&json!(-12))),
        Ok(Value::Number(number("-12")))
    );
    let boolean = field(json!({"name": "b", "type": "boolean"}));
    assert_eq!(
        cast(&boolean, Cell::Json(&json!(false))),
        Ok(Value::Boolean(false))
    );
    let string = field(json!({"name": "s"}));
    assert!(cast(&string, Cell::Json(&json!(5))).is_err());
    let owner = json!("borrowed");
    assert!(matches!(
        cast(&string, Cell::Json(&owner)),
        Ok(Value::String(Cow::Borrowed(_)))
    ));
}

// ---- missing values ----------------------------------------------------

#[test]
fn missing_values_are_schema_wide_unless_a_field_has_its_own() {
    let s = schema(json!({
        "missingValues": ["NA", "-"],
        "fields": [
            {"name": "a", "type": "integer"},
            {"name": "b", "type": "integer", "missingValues": ["n/a"]},
            {"name": "c"}
        ]
    }));
    let [a, b, c] = &s.fields[..] else {
        panic!("three fields")
    };
    assert_eq!(text(a, "NA"), Ok(Value::Null));
    assert_eq!(text(a, "-"), Ok(Value::Null));
    assert!(text(a, "").is_err(), "\"\" is no longer missing");
    assert_eq!(text(b, "n/a"), Ok(Value::Null));
    assert!(text(b, "NA").is_err());
    assert_eq!(text(c, ""), Ok(Value::String(Cow::Borrowed(""))));
    let labelled = schema(
        json!({"missingValues": [{"value": "?", "label": "unknown"}], "fields": [{"name": "x"}]}),
    );
    assert_eq!(text(&labelled.fields[0], "?"), Ok(Value::Null));
}

// ---- constraints -------------------------------------------------------

#[test]
fn lengths_count_characters_not_bytes() {
    let f = field(json!({"name": "s", "constraints": {"minLength": 2, "maxLength": 5}}));
    assert!(broken(&f, "héllo").is_empty(), "5 characters, 6 bytes");
    assert!(broken(&f, "ab").is_empty());
    assert_eq!(broken(&f, "héllo!"), ["maxLength"]);
    assert_eq!(broken(&f, "é"), ["minLength"]);
    // Byte lengths on either side of the limits, characters within them.
    assert!(broken(&f, "éééé").is_empty(), "4 characters, 8 bytes");
    assert!(broken(&f, "𝄞𝄞").is_empty(), "2 characters, 8 bytes");
    assert_eq!(broken(&f, "𝄞"), ["minLength"]);
    assert_eq!(broken(&f, "𝄞𝄞𝄞𝄞𝄞𝄞"), ["maxLength"]);
    let list = field(json!({"name": "l", "type": "list", "constraints": {"maxLength": 2}}));
    assert!(broken(&list, "a,b").is_empty());
    assert_eq!(broken(&list, "a,b,c"), ["maxLength"]);
    let array = field(json!({"name": "a", "type": "array", "constraints": {"minLength": 1}}));
    assert_eq!(broken(&array, "[]"), ["minLength"]);
}

#[test]
fn integer_bounds_inclusive_and_exclusive() {
    let f = field(
        json!({"name": "q", "type": "integer", "constraints": {"minimum": 1, "maximum": 1000}}),
    );
    assert!(broken(&f, "1").is_empty());
    assert!(broken(&f, "1000").is_empty());
    assert_eq!(broken(&f, "0"), ["minimum"]);
    assert_eq!(broken(&f, "1001"), ["maximum"]);
    let open = field(
        json!({"name": "q", "type": "integer", "constraints": {"exclusiveMinimum": 1, "exclusiveMaximum": 10}}),
    );
    assert!(broken(&open, "2").is_empty());
    assert!(broken(&open, "9").is_empty());
    assert_eq!(broken(&open, "1"), ["exclusiveMinimum"]);
    assert_eq!(broken(&open, "10"), ["exclusiveMaximum"]);
}

#[test]
fn number_bounds_compare_exactly() {
    let f = field(
        json!({"name": "amount", "type": "number", "constraints": {"minimum": 0, "maximum": "99.99"}}),
    );
    assert!(broken(&f, "0").is_empty());
    assert!(broken(&f, "-0.00").is_empty());
    assert!(broken(&f, "99.990").is_empty());
    assert_eq!(broken(&f, "-0.01"), ["minimum"]);
    assert_eq!(broken(&f, "99.991"), ["maximum"]);
    assert_eq!(broken(&f, "1e2"), ["maximum"]);
    let open =
        field(json!({"name": "p", "type": "number", "constraints": {"exclusiveMinimum": 0.5}}));
    assert_eq!(broken(&open, "0.5"), ["exclusiveMinimum"]);
    assert!(broken(&open, "0.5000000000000000000001").is_empty());
    assert_eq!(broken(&open, "NaN"), ["exclusiveMinimum"]);
}

#[test]
fn temporal_bounds() {
    let date = field(
        json!({"name": "d", "type": "date", "constraints": {"minimum": "2024-01-01", "maximum": "2024-12-31"}}),
    );
    assert!(broken(&date, "2024-01-01").is_empty());
    assert!(broken(&date, "2024-12-31").is_empty());
    assert_eq!(broken(&date, "2023-12-31"), ["minimum"]);
    assert_eq!(broken(&date, "2025-01-01"), ["maximum"]);
    let dt = field(
        json!({"name": "dt", "type": "datetime", "constraints": {"maximum": "2024-01-01T00:00:00Z"}}),
    );
    assert!(
        broken(&dt, "2024-01-01T01:00:00+01:00").is_empty(),
        "the same instant"
    );
    assert_eq!(broken(&dt, "2024-01-01T00:00:00.000000001Z"), ["maximum"]);
    let year = field(json!({"name": "y", "type": "year", "constraints": {"minimum": 2000}}));
    assert_eq!(broken(&year, "1999"), ["minimum"]);
    let ym = field(
        json!({"name": "ym", "type": "yearmonth", "constraints": {"exclusiveMaximum": "2024-03"}}),
    );
    assert!(broken(&ym, "2024-02").is_empty());
    assert_eq!(broken(&ym, "2024-03"), ["exclusiveMaximum"]);
    let duration =
        field(json!({"name": "d", "type": "duration", "constraints": {"maximum": "PT1H"}}));
    assert!(broken(&duration, "PT60M").is_empty());
    assert_eq!(broken(&duration, "PT3601S"), ["maximum"]);
}

#[test]
fn patterns_match_the_whole_text() {
    let f = field(json!({"name": "s", "constraints": {"pattern": "a+|b"}}));
    assert!(broken(&f, "aaa").is_empty());
    assert!(broken(&f, "b").is_empty());
    assert_eq!(broken(&f, "aab"), ["pattern"]);
    assert_eq!(broken(&f, "ba"), ["pattern"]);
    assert_eq!(broken(&f, "xaaa"), ["pattern"]);
}

#[test]
fn enums_compare_typed_values() {
    let s = field(json!({"name": "s", "constraints": {"enum": ["new", "paid"]}}));
    assert!(broken(&s, "paid").is_empty());
    assert_eq!(broken(&s, "Paid"), ["enum"]);
    let i = field(json!({"name": "i", "type": "integer", "constraints": {"enum": [1, 2]}}));
    assert!(broken(&i, "02").is_empty());
    assert_eq!(broken(&i, "3"), ["enum"]);
    let n = field(json!({"name": "n", "type": "number", "constraints": {"enum": [1.5, "2"]}}));
    assert!(broken(&n, "1.50").is_empty());
    assert!(broken(&n, "2.0").is_empty());
    assert_eq!(broken(&n, "1.51"), ["enum"]);
}

#[test]
fn categories_are_checked_like_an_enum() {
    let f = field(json!({"name": "c", "categories": ["x", {"value": "y", "label": "Why"}]}));
    assert!(broken(&f, "x").is_empty());
    assert!(broken(&f, "y").is_empty());
    assert_eq!(broken(&f, "z"), ["categories"]);
}

#[test]
fn several_broken_constraints_are_all_reported() {
    let f = field(
        json!({"name": "s", "constraints": {"maxLength": 2, "pattern": "[a-z]*", "enum": ["ab"]}}),
    );
    assert_eq!(broken(&f, "ABC"), ["maxLength", "pattern", "enum"]);
}

// ---- schema problems ---------------------------------------------------

#[test]
fn every_problem_of_a_schema_is_reported_with_its_json_pointer() {
    let problems = problems(
        r#"{
            "fields": [
                {"name": "id", "type": "integr"},
                {"name": "email", "format": "mail"},
                {"name": "n", "type": "number", "constraints": {"pattern": "x"}},
                {"name": "code", "constraints": {"pattern": "(unclosed"}},
                {"name": "q", "type": "integer", "constraints": {"minLenght": 1, "minimum": "abc"}},
                {"name": "q"}
            ],
            "primaryKey": ["id", "missing"]
        }"#,
    );
    let expected = [
        "/fields/0/type: unknown type \"integr\" (did you mean \"integer\"?)",
        "/fields/1/format: unknown format \"mail\" for type string",
        "/fields/2/constraints/pattern: constraint pattern does not apply to type number",
        "/fields/3/constraints/pattern: invalid regular expression \"(unclosed\": unclosed group",
        "/fields/4/constraints/minLenght: unknown constraint \"minLenght\" (did you mean \"minLength\"?)",
        "/fields/4/constraints/minimum: \"abc\" is not an integer",
        "/fields/5/name: duplicate field name \"q\", first used by /fields/4",
        "/primaryKey/1: no field named \"missing\"",
    ];
    for (problem, expected) in problems.iter().zip(expected) {
        assert!(
            problem.starts_with(expected),
            "{problem}\n  should start with\n{expected}"
        );
    }
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");
}

#[test]
fn key_problems_name_the_missing_field() {
    let problems = problems(
        r#"{"fields": [{"name": "id"}, {"name": "b"}],
            "primaryKey": ["id", "nope"],
            "uniqueKeys": [["b", "b"], "b"]}"#,
    );
    assert_eq!(
        problems,
        [
            "/primaryKey/1: no field named \"nope\"",
            "/uniqueKeys/0/1: field \"b\" appears twice in the key",
            "/uniqueKeys/1: expected an array of field names",
        ]
    );
}

#[test]
fn a_schema_error_names_the_file_on_every_line_and_means_a_config_error() {
    let error = Schema::parse(
        "orders",
        Path::new("warehouse-schema/orders.json"),
        r#"{"fields": [{"name": "a", "type": "x"}, {"name": "b", "type": "y"}]}"#,
    )
    .expect_err("two unknown types");
    let text = error.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0].starts_with("warehouse-schema/orders.json: /fields/0/type: unknown type \"x\"")
    );
    assert!(
        lines[1].starts_with("warehouse-schema/orders.json: /fields/1/type: unknown type \"y\"")
    );
    assert_eq!(
        crate::exit::HasExitCode::exit_code(&error),
        crate::exit::ExitCode::Config
    );
}

#[test]
fn bad_json_is_one_problem_with_its_line() {
    let problems = problems("{\"fields\": [\n{\"name\": }]}");
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].starts_with("not valid JSON: "),
        "{}",
        problems[0]
    );
    assert!(problems[0].contains("line 2"), "{}", problems[0]);
}

#[test]
fn custom_properties_are_ignored_but_not_inside_constraints() {
    let fine = problems(
        r#"{"x-owner": "billing", "name": "orders", "fields": [
            {"name": "a", "title": "A", "description": "d", "example": "e", "rdfType": "x", "x-note": 1}
        ]}"#,
    );
    assert!(fine.is_empty(), "{fine:?}");
    let bad = problems(r#"{"fields": [{"name": "a", "constraints": {"x-note": 1}}]}"#);
    assert_eq!(bad.len(), 1);
    assert!(bad[0].starts_with("/fields/0/constraints/x-note: unknown constraint"));
}

#[test]
fn strptime_patterns_are_checked_when_the_schema_loads() {
    let bad = problems(
        r#"{"fields": [{"name": "d", "type": "date", "format": "%d/%m/%"}, {"name": "e", "type": "date", "format": "iso"}]}"#,
    );
    assert_eq!(bad.len(), 2, "{bad:?}");
    assert!(bad[0].starts_with("/fields/0/format: invalid pattern"));
    assert!(bad[1].starts_with("/fields/1/format: unknown format \"iso\""));
}

#[test]
fn primary_keys_in_v1_and_v2_forms_make_their_fields_required() {
    let v1 = schema(json!({"fields": [{"name": "id"}, {"name": "x"}], "primaryKey": "id"}));
    assert_eq!(v1.primary_key, [0]);
    assert!(v1.fields[0].constraints.required);
    assert!(!v1.fields[1].constraints.required);
    let v2 = schema(json!({"fields": [{"name": "a"}, {"name": "b"}], "primaryKey": ["b", "a"]}));
    assert_eq!(v2.primary_key, [1, 0]);
}

#[test]
fn foreign_keys_must_be_well_formed() {
    let fine = schema(json!({
        "fields": [{"name": "id"}, {"name": "parent"}, {"name": "customer"}],
        "foreignKeys": [
            {"fields": "parent", "reference": {"resource": "", "fields": "id"}},
            {"fields": ["customer"], "reference": {"resource": "customers", "fields": ["id"]}}
        ]
    }));
    assert_eq!(fine.foreign_keys.len(), 2);
    assert_eq!(fine.foreign_keys[0].resource, None);
    assert_eq!(fine.foreign_keys[1].resource.as_deref(), Some("customers"));
    let bad = problems(
        r#"{"fields": [{"name": "id"}, {"name": "parent"}],
            "foreignKeys": [
                {"fields": ["parent", "id"], "reference": {"resource": "x", "fields": ["id"]}},
                {"fields": "parent", "reference": {"resource": "", "fields": "nope"}},
                {"fields": "ghost", "reference": {"resource": "x", "fields": "id"}},
                {"fields": "parent"}
            ]}"#,
    );
    assert_eq!(bad.len(), 4, "{bad:#?}");
    assert!(
        bad[0].starts_with("/foreignKeys/0/reference/fields: 1 referenced fields for 2 fields")
    );
    assert!(bad[1].starts_with("/foreignKeys/1/reference/fields: no field named \"nope\""));
    assert!(bad[2].starts_with("/foreignKeys/2/fields: no field named \"ghost\""));
    assert!(bad[3].starts_with("/foreignKeys/3/reference: expected an object"));
}

#[test]
fn fields_match_takes_the_five_modes() {
    for (mode, expected) in [
        ("exact", FieldsMatch::Exact),
        ("equal", FieldsMatch::Equal),
        ("subset", FieldsMatch::Subset),
        ("superset", FieldsMatch::Superset),
        ("partial", FieldsMatch::Partial),
    ] {
        let s = schema(json!({"fields": [{"name": "a"}], "fieldsMatch": mode}));
        assert_eq!(s.fields_match, expected);
    }
    let bad = problems(r#"{"fields": [{"name": "a"}], "fieldsMatch": "loose"}"#);
    assert!(bad[0].starts_with("/fieldsMatch: unknown fieldsMatch"));
}

#[test]
fn options_of_the_wrong_shape_are_problems() {
    let bad = problems(
        r#"{"fields": [
            {"name": "n", "type": "number", "decimalChar": ",,", "groupChar": 1},
            {"name": "b", "type": "boolean", "trueValues": "yes"},
            {"name": "l", "type": "list", "itemType": "object"},
            {"name": "s", "constraints": {"minLength": -1, "maxLength": 1, "required": "yes"}},
            {"name": "g", "type": "geopoint"},
            {"name": "e", "constraints": {"enum": []}}
        ]}"#,
    );
    let pointers: Vec<&str> = bad
        .iter()
        .map(|p| p.split(": ").next().unwrap_or(""))
        .collect();
    assert_eq!(
        pointers,
        [
            "/fields/0/decimalChar",
            "/fields/0/groupChar",
            "/fields/1/trueValues",
            "/fields/2/itemType",
            "/fields/3/constraints/minLength",
            "/fields/3/constraints/required",
            "/fields/4/type",
            "/fields/5/constraints/enum",
        ],
        "{bad:#?}"
    );
}

#[test]
fn min_above_max_is_a_problem() {
    let bad = problems(
        r#"{"fields": [{"name": "i", "type": "integer", "constraints": {"minimum": 5, "maximum": 4}}]}"#,
    );
    assert_eq!(bad.len(), 1);
    assert!(bad[0].starts_with("/fields/0/constraints/minimum: minimum 5 is above maximum 4"));
}

#[test]
fn enums_of_many_strings_find_every_member() {
    let members = ["new", "paid", "sent", "done", "void"];
    let f = field(json!({"name": "s", "constraints": {"enum": members}}));
    for member in members {
        assert!(broken(&f, member).is_empty(), "{member}");
    }
}

#[test]
fn enums_of_more_strings_than_a_list_holds_use_a_set() {
    let members: Vec<String> = (0..40).map(|n| format!("m{n}")).collect();
    let f = field(json!({"name": "s", "constraints": {"enum": members}}));
    assert!(matches!(
        f.constraints.enumeration,
        Some(Members::Strings(_))
    ));
    assert!(broken(&f, "m39").is_empty());
    assert_eq!(broken(&f, "m40"), ["enum"]);
}

#[test]
fn surrounding_whitespace_is_kept_in_strings_and_a_type_error_elsewhere() {
    let s = field(json!({"name": "s", "constraints": {"required": true}}));
    assert_eq!(
        text(&s, "  "),
        Ok(Value::String(Cow::Borrowed("  "))),
        "not missing"
    );
    for kind in [
        "integer", "number", "boolean", "date", "datetime", "time", "year",
    ] {
        let f = field(json!({"name": "x", "type": kind}));
        let valid = match kind {
            "integer" | "number" => "1",
            "boolean" => "true",
            "date" => "2024-01-01",
            "datetime" => "2024-01-01T00:00:00",
            "time" => "00:00:00",
            _ => "2024",
        };
        accepts(&f, &[valid]);
        rejects(
            &f,
            &[
                &format!(" {valid}"),
                &format!("{valid} "),
                &format!("\t{valid}"),
            ],
        );
    }
}

#[test]
fn a_boolean_text_cannot_be_both_true_and_false() {
    let bad = problems(
        r#"{"fields": [{"name": "b", "type": "boolean", "trueValues": ["y", "1"], "falseValues": ["n", "1"]}]}"#,
    );
    assert_eq!(bad.len(), 1);
    assert!(
        bad[0].starts_with("/fields/0/falseValues: \"1\" is both"),
        "{}",
        bad[0]
    );
}

#[test]
fn schema_files_load_with_the_table_named_after_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("orders.json");
    std::fs::write(&path, r#"{"fields": [{"name": "id", "type": "integer"}]}"#).expect("write");
    let schema = Schema::load_table(dir.path(), "orders").expect("a valid schema");
    assert_eq!(schema.name, "orders");
    assert_eq!(schema.field_index("id"), Some(0));
    let missing = Schema::load(&dir.path().join("nope.json")).expect_err("no such file");
    assert_eq!(
        crate::exit::HasExitCode::exit_code(&missing),
        crate::exit::ExitCode::NoInput
    );
}

#[test]
fn cast_into_agrees_with_cast_and_leaves_the_slot_on_error() {
    let cases = [
        (json!({"name": "s"}), vec!["", "a", " b "]),
        (
            json!({"name": "e", "format": "email"}),
            vec!["a@b.co", "nope", ""],
        ),
        (
            json!({"name": "u", "format": "uuid"}),
            vec!["123e4567-e89b-12d3-a456-426614174000", "x"],
        ),
        (json!({"name": "i", "type": "integer"}), vec!["7", "x", ""]),
        (json!({"name": "n", "type": "number"}), vec!["1.50", "x"]),
        (json!({"name": "b", "type": "boolean"}), vec!["true", "yes"]),
        (
            json!({"name": "d", "type": "date"}),
            vec!["2024-02-29", "2023-02-29"],
        ),
        (
            json!({"name": "t", "type": "time"}),
            vec!["10:00:00", "25:00:00"],
        ),
        (
            json!({"name": "dt", "type": "datetime"}),
            vec!["2024-01-01T00:00:00Z", "x"],
        ),
        (json!({"name": "y", "type": "year"}), vec!["2024", "x"]),
        (
            json!({"name": "l", "type": "list", "itemType": "integer"}),
            vec!["1,2", "1,x"],
        ),
        (json!({"name": "a", "type": "any"}), vec!["anything"]),
    ];
    for (definition, cells) in cases {
        let f = field(definition);
        for cell in cells {
            let mut slot = Value::Boolean(true);
            let into = cast_into(&f, Cell::Text(cell), &mut slot);
            match text(&f, cell) {
                Ok(value) => {
                    assert_eq!(into, Ok(()), "{} {cell:?}", f.name);
                    assert_eq!(slot, value, "{} {cell:?}", f.name);
                }
                Err(error) => {
                    assert_eq!(into, Err(error), "{} {cell:?}", f.name);
                    assert_eq!(slot, Value::Boolean(true), "{} {cell:?}", f.name);
                }
            }
        }
    }
}

#[test]
fn random_text_never_panics_any_cast() {
    let kinds = [
        json!({"name": "x"}),
        json!({"name": "x", "format": "email"}),
        json!({"name": "x", "format": "uri"}),
        json!({"name": "x", "format": "uuid"}),
        json!({"name": "x", "format": "binary"}),
        json!({"name": "x", "type": "integer", "groupChar": ",", "bareNumber": false}),
        json!({"name": "x", "type": "number", "decimalChar": ",", "groupChar": " ", "bareNumber": false}),
        json!({"name": "x", "type": "number"}),
        json!({"name": "x", "type": "boolean"}),
        json!({"name": "x", "type": "date"}),
        json!({"name": "x", "type": "date", "format": "any"}),
        json!({"name": "x", "type": "date", "format": "%d/%m/%Y"}),
        json!({"name": "x", "type": "time", "format": "any"}),
        json!({"name": "x", "type": "datetime"}),
        json!({"name": "x", "type": "datetime", "format": "any"}),
        json!({"name": "x", "type": "year"}),
        json!({"name": "x", "type": "yearmonth"}),
        json!({"name": "x", "type": "duration"}),
        json!({"name": "x", "type": "object"}),
        json!({"name": "x", "type": "array"}),
        json!({"name": "x", "type": "list", "itemType": "datetime"}),
    ];
    let fields: Vec<Field> = kinds.into_iter().map(field).collect();
    let alphabet: Vec<char> = "0123456789-+:.,eE TZtz%/PYMDHS@[]{}\"é\u{202f}NaIF"
        .chars()
        .collect();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..20_000 {
        let length = (next() % 40) as usize;
        let cell: String = (0..length)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        for f in &fields {
            if let Ok(value) = text(f, &cell) {
                let _ = value.to_string();
                f.constraints.check(&value, &cell, |_| {});
            }
        }
    }
}
