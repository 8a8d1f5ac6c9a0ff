//! Fuzzes the copybook parser: no text may panic it, and a copybook it
//! accepts has a consistent layout, columns and Table Schema.
#![no_main]

use droplake::mainframe::copybook::{
    Copybook, OccursColumns, SchemaOptions, SourceFormat, columns, table_schema,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, text)) = data.split_first() else {
        return;
    };
    let format = match knobs % 3 {
        0 => SourceFormat::Auto,
        1 => SourceFormat::Fixed,
        _ => SourceFormat::Free,
    };
    let text = String::from_utf8_lossy(text);
    let Ok(copybook) = Copybook::parse(&text, "fuzz.cpy", format) else {
        return;
    };
    for item in copybook.items() {
        let record = copybook.record_of(item.id);
        assert!(item.offset + item.extent() <= record.offset + record.length);
    }
    let occurs = if knobs & 4 == 0 {
        OccursColumns::Expand
    } else {
        OccursColumns::Array
    };
    let options = SchemaOptions {
        occurs,
        enums: true,
        ..SchemaOptions::default()
    };
    if let Ok(schema) = table_schema(&copybook, &options) {
        let made = columns(&copybook, &[], occurs);
        assert_eq!(schema["fields"].as_array().map(Vec::len), Some(made.len()));
    }
});
