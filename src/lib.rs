//! droplake: a file-drop data lake with a warehouse behind it.
//!
//! Producers drop raw files into a lake directory, one folder per dataset.
//! This crate holds everything the `droplake` binary does, so that Rust
//! programs can embed it:
//!
//! - [`config`] turns `droplake.toml`, `DROPLAKE_*` variables and the
//!   embedded defaults into validated [`config::Settings`];
//! - [`detect`] notices files arriving in the lake: filesystem
//!   notifications as hints, which a scan confirms;
//! - [`lake`] owns the lake's layout: dataset and object names, which files
//!   are objects, and the atomic writer behind [`lake::Lake::put`];
//! - [`formats`] streams records out of CSV, TSV, JSON Lines and JSON files,
//!   through gzip and text-encoding layers, with bounded memory;
//! - [`schema`] loads Table Schemas, casts cells to typed values and
//!   validates rows against them;
//! - [`mainframe`] reads COBOL copybooks into the byte layout of
//!   mainframe records;
//! - [`handlers`] runs one attempt of a handler for one lake object;
//! - [`inspect`] reads the ledger for `status`, `files`, `show` and `why`;
//! - [`retry`] makes dead jobs pending again for `droplake retry`;
//! - [`cli`] is the command line, one module per subcommand;
//! - [`exit`] maps every outcome to a sysexits-style exit code.
//!
//! The invariants that hold across all of it are listed in `ARCHITECTURE.md`.

pub mod cli;
pub mod config;
pub mod daemon;
pub mod detect;
pub mod events;
pub mod exit;
pub mod formats;
pub mod handlers;
pub mod inspect;
pub mod lake;
pub mod loader;
pub mod mainframe;
pub mod retry;
pub mod schema;
pub mod warehouse;
