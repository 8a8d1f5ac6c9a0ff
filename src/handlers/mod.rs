//! The handler kinds: what droplake can do with a lake object once it is
//! ready.
//!
//! Each kind lives in its own module and runs one attempt for one object; the
//! daemon decides when to run attempts, how many at once, and what their
//! outcomes mean (retry, dead job, receipt).
//!
//! - [`command`] runs an external program with the object's path and event.

pub mod command;
