//! Readers that turn the bytes of a lake object into records.
//!
//! A reader streams: it holds one record at a time, reuses its buffers, and
//! refuses a record longer than a configured limit instead of growing without
//! bound. It knows nothing of schemas; it yields the header labels (when the
//! format has them) and then [`Record`]s whose cells are either text, to be
//! cast by the schema (CSV, TSV, fixed-width text), or values that arrived
//! already typed (JSON).

mod record;

pub use record::{Cell, Position, ReadError, Record, RecordReader};
