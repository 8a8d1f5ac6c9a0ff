//! Fuzzes the jsonl reader: no input may panic it or make it loop.
#![no_main]

mod common;

use droplake::formats::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| common::read_all(data, Format::Jsonl));
