//! Mainframe batch interop: COBOL copybooks describe the fixed-width records
//! that mainframes write; [`copybook`] reads them into a byte layout that
//! decoders, loaders and extract writers share.

pub mod copybook;
