//! The handler kinds: what droplake can do with a lake object once it is
//! ready.
//!
//! Each kind runs one attempt for one object; the daemon decides when to
//! run attempts, how many at once, and what their outcomes mean (retry,
//! dead job, receipt).
//!
//! - [`loader`] loads the object into its table, with its job, in one
//!   transaction;
//! - [`command`] runs an external program with the object's path and event;
//! - [`embedded`] is the [`embedded::Handler`] trait for Rust programs that
//!   embed droplake.

pub mod command;
pub mod embedded;
pub mod loader;
