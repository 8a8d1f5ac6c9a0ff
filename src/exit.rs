//! Process exit codes, after BSD `sysexits.h`.
//!
//! Every command ends in one of these. Library errors say which one they mean
//! through [`HasExitCode`], so the binary never guesses from a message.

use std::fmt;

/// How a droplake process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Everything asked for was done.
    Ok,
    /// The command ran, and found problems (invalid rows, failed objects).
    Problems,
    /// The command line was wrong (`EX_USAGE`).
    Usage,
    /// Input data was malformed (`EX_DATAERR`).
    DataErr,
    /// An input file did not exist or could not be read (`EX_NOINPUT`).
    NoInput,
    /// An output file could not be created, or already exists (`EX_CANTCREAT`).
    CantCreate,
    /// Reading or writing failed part way, for example a full disk (`EX_IOERR`).
    IoErr,
    /// A temporary failure: the same command may succeed later (`EX_TEMPFAIL`).
    TempFail,
    /// Run as a user that must not do this, such as root on a warehouse
    /// another user owns (`EX_NOPERM`).
    NoPerm,
    /// The configuration or a schema is wrong (`EX_CONFIG`).
    Config,
    /// Stopped by a signal; exits with 128 + the signal number, as shells do.
    Signal(i32),
}

impl ExitCode {
    /// The numeric status handed to the operating system.
    pub fn code(self) -> u8 {
        match self {
            ExitCode::Ok => 0,
            ExitCode::Problems => 1,
            ExitCode::Usage => 64,
            ExitCode::DataErr => 65,
            ExitCode::NoInput => 66,
            ExitCode::CantCreate => 73,
            ExitCode::IoErr => 74,
            ExitCode::TempFail => 75,
            ExitCode::NoPerm => 77,
            ExitCode::Config => 78,
            ExitCode::Signal(signal) => 128u8.saturating_add(u8::try_from(signal).unwrap_or(0)),
        }
    }

    /// The more serious of two outcomes: any failure beats success, and the
    /// first failure seen is kept, because it is usually the cause of the rest.
    pub fn worst(self, other: ExitCode) -> ExitCode {
        if self == ExitCode::Ok { other } else { self }
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        std::process::ExitCode::from(code.code())
    }
}

impl fmt::Display for ExitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

/// Errors that know how the process should end when they reach the top.
pub trait HasExitCode {
    /// The exit code this error stands for.
    fn exit_code(&self) -> ExitCode;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_sysexits() {
        let table = [
            (ExitCode::Ok, 0),
            (ExitCode::Problems, 1),
            (ExitCode::Usage, 64),
            (ExitCode::DataErr, 65),
            (ExitCode::NoInput, 66),
            (ExitCode::CantCreate, 73),
            (ExitCode::IoErr, 74),
            (ExitCode::TempFail, 75),
            (ExitCode::NoPerm, 77),
            (ExitCode::Config, 78),
            (ExitCode::Signal(15), 143),
        ];
        for (code, number) in table {
            assert_eq!(code.code(), number, "{code:?}");
        }
    }

    #[test]
    fn the_first_failure_is_kept() {
        assert_eq!(
            ExitCode::Ok.worst(ExitCode::CantCreate),
            ExitCode::CantCreate
        );
        assert_eq!(
            ExitCode::NoInput.worst(ExitCode::CantCreate),
            ExitCode::NoInput
        );
        assert_eq!(ExitCode::Ok.worst(ExitCode::Ok), ExitCode::Ok);
    }
}
