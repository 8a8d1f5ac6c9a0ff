//! Detection: how the daemon notices files in the lake.
//!
//! Notifications are hints and the scan is the truth: a lost notification
//! is found by the next reconciliation scan. [`watch`] turns the kernel's
//! filesystem notifications into [`watch::Hint`]s; the scanner that
//! reconciles the lake (and polls it where watching is impossible) comes
//! later.

pub mod watch;
