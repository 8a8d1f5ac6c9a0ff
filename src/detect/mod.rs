//! Detection: how the daemon notices files in the lake.
//!
//! Notifications are hints and the scan is the truth: a lost notification
//! is found by the next reconciliation scan. [`watch`] turns the kernel's
//! filesystem notifications into [`watch::Hint`]s; [`scan`] walks the lake
//! for the startup reconciliation, the periodic one, and polling.

pub mod scan;
pub mod watch;
