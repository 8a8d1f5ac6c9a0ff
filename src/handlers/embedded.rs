//! Handlers written in Rust, for programs that embed droplake as a library.
//!
//! A program implements [`Handler`] and passes it to
//! [`crate::daemon::run`] with its settings (name, datasets, retries,
//! concurrency, `after`, `ordered`, timeout), exactly like a `[[handlers]]`
//! entry. The handler runs on a blocking thread; it gets the same event a
//! command handler reads on its standard input. See `examples/`.

use std::path::Path;
use std::sync::Arc;

use crate::config::HandlerSettings;

/// One object, as a Rust handler sees it.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    /// The object id: the idempotency key (delivery is at least once).
    pub object_id: i64,
    pub dataset: &'a str,
    /// The object's file.
    pub path: &'a Path,
    pub sha256: &'a str,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The fully detailed event, as a command handler gets it on stdin.
    pub event: &'a serde_json::Value,
}

/// Why a handler did not finish an object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Try again later, with backoff, until the retries are spent.
    #[error("{0}")]
    Retry(String),
    /// This object can never succeed: dead now.
    #[error("{0}")]
    Dead(String),
}

/// A consumer of a dataset's objects, in Rust.
pub trait Handler: Send + Sync + 'static {
    /// Handles one object. It may be called again for the same object
    /// (after a crash or a retry): use `object_id` to stay idempotent.
    fn handle(&self, delivery: &Delivery<'_>) -> Result<(), Refusal>;
}

/// A Rust handler with its settings, ready to register.
#[derive(Clone)]
pub struct Embedded {
    pub settings: HandlerSettings,
    pub handler: Arc<dyn Handler>,
}

impl std::fmt::Debug for Embedded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedded")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}
