//! Mainframe batch data: EBCDIC code pages and the numbers of COBOL records.
//!
//! `codepage` turns the bytes of text fields into characters and back;
//! `number` reads and writes zoned, packed, binary and floating-point
//! fields as exact decimals.

pub mod codepage;
pub mod decimal;
pub mod framing;
pub mod number;
