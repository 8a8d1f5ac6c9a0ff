//! Mainframe batch data: COBOL copybooks, EBCDIC code pages, and the
//! numbers and records of the files mainframes write.
//!
//! `copybook` reads record layouts; `codepage` turns the bytes of text
//! fields into characters and back; `decimal` and `number` read and write
//! zoned, packed, binary and floating-point fields as exact decimals;
//! `framing` splits a file into records (F, FB, V, VB, text lines);
//! `record` decodes a record's fields by its copybook, and `json` prints
//! one as a flat JSON object. `encode` writes a record from its fields'
//! values, and `extract` feeds it the rows of a query, for `droplake
//! export`.

pub mod codepage;
pub mod copybook;
pub mod decimal;
pub mod encode;
pub mod extract;
pub mod framing;
pub mod json;
pub mod number;
pub mod record;
