//! Integration tests: the real `droplake` binary, run in temporary
//! directories against real files. One test binary, one module per command.

mod cobrix;
mod completions;
mod config;
mod conformance;
mod copybook;
mod daemon;
mod decode;
mod durability;
mod export;
mod fixed;
mod gnucobol;
mod insert;
mod inspect;
mod load;
mod logging;
mod metrics;
mod notify;
mod progress;
mod put;
mod query;
mod retry;
mod schema;
mod util;
mod validate;
mod why;
