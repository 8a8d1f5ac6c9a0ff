//! Names in the lake: datasets and the objects inside them.
//!
//! A dataset name becomes a directory under the lake and, by default, the name
//! of its warehouse table, so it is held to the rules of both: letters, digits,
//! `-`, `_` and `.`, at most [`DatasetName::MAX_LEN`] bytes (PostgreSQL's
//! identifier limit), never hidden. Object names are file names: any bytes but
//! `/` and NUL, because producers we cannot change choose them.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::str::FromStr;

/// A validated dataset name: one directory level directly under the lake.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DatasetName(String);

/// Why a dataset name was refused. Each message says what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatasetNameError {
    #[error("a dataset name cannot be empty; use letters, digits, '-', '_' and '.'")]
    Empty,
    #[error(
        "'{0}' is not a dataset name: '.' and '..' refer to directories; use letters, digits, '-', '_' and '.'"
    )]
    DotName(String),
    #[error(
        "'{0}' is an absolute path, not a dataset name; give the name of one directory under the lake, such as 'orders'"
    )]
    Absolute(String),
    #[error(
        "'{0}' contains a path separator; a dataset is one directory level under the lake, such as 'orders'"
    )]
    Separator(String),
    #[error("{0:?} contains a control character; use letters, digits, '-', '_' and '.'")]
    Control(String),
    #[error(
        "'{0}' starts with '{1}', which marks hidden names that are never loaded; start with a letter or digit"
    )]
    Hidden(String, char),
    #[error("'{name}' is {len} bytes long; a dataset name may have at most {max} bytes", max = DatasetName::MAX_LEN)]
    TooLong { name: String, len: usize },
    #[error("'{0}' contains {1:?}; a dataset name may hold only letters, digits, '-', '_' and '.'")]
    Character(String, char),
}

impl DatasetName {
    /// The longest name allowed, in bytes: PostgreSQL truncates identifiers
    /// beyond 63 bytes, and a dataset name is a table name by default.
    pub const MAX_LEN: usize = 63;

    /// Checks `name` against the dataset naming rules.
    pub fn new(name: &str) -> Result<Self, DatasetNameError> {
        use DatasetNameError as E;
        let owned = || name.to_owned();
        if name.is_empty() {
            return Err(E::Empty);
        }
        if name == "." || name == ".." {
            return Err(E::DotName(owned()));
        }
        if name.starts_with('/') {
            return Err(E::Absolute(owned()));
        }
        if name.contains(['/', '\\']) {
            return Err(E::Separator(owned()));
        }
        if name.chars().any(char::is_control) {
            return Err(E::Control(owned()));
        }
        if let Some(first @ ('.' | '_')) = name.chars().next() {
            return Err(E::Hidden(owned(), first));
        }
        if name.len() > Self::MAX_LEN {
            return Err(E::TooLong {
                name: owned(),
                len: name.len(),
            });
        }
        if let Some(bad) = name
            .chars()
            .find(|&c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return Err(E::Character(owned(), bad));
        }
        Ok(DatasetName(owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for DatasetName {
    type Err = DatasetNameError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        DatasetName::new(name)
    }
}

impl fmt::Display for DatasetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<OsStr> for DatasetName {
    fn as_ref(&self) -> &OsStr {
        OsStr::new(&self.0)
    }
}

/// A validated object file name: the last component of an object's path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectName(OsString);

/// Why a file name cannot name an object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObjectNameError {
    #[error("an object name cannot be empty")]
    Empty,
    #[error("{0:?} is not a file name; give a name such as 'orders.csv'")]
    DotName(OsString),
    #[error("{0:?} contains '/'; an object name is a single file name, such as 'orders.csv'")]
    Separator(OsString),
    #[error("{0:?} contains a NUL byte, which no file name can hold")]
    Nul(OsString),
    #[error("{name:?} is {len} bytes long; a file name may have at most {max} bytes", max = ObjectName::MAX_LEN)]
    TooLong { name: OsString, len: usize },
}

impl ObjectName {
    /// The longest file name most Linux filesystems accept (`NAME_MAX`).
    pub const MAX_LEN: usize = 255;

    /// Checks that `name` is a single, storable file name. Whether the lake
    /// would treat it as an object is the [`ObjectFilter`](super::ObjectFilter)'s call.
    pub fn new(name: impl Into<OsString>) -> Result<Self, ObjectNameError> {
        use ObjectNameError as E;
        let name = name.into();
        let bytes = name.as_bytes();
        if bytes.is_empty() {
            return Err(E::Empty);
        }
        if bytes == b"." || bytes == b".." {
            return Err(E::DotName(name));
        }
        if bytes.contains(&b'/') {
            return Err(E::Separator(name));
        }
        if bytes.contains(&0) {
            return Err(E::Nul(name));
        }
        if bytes.len() > Self::MAX_LEN {
            let len = bytes.len();
            return Err(E::TooLong { name, len });
        }
        Ok(ObjectName(name))
    }

    /// The name as an operating-system string (it need not be UTF-8).
    pub fn as_os_str(&self) -> &OsStr {
        &self.0
    }
}

impl AsRef<OsStr> for ObjectName {
    fn as_ref(&self) -> &OsStr {
        &self.0
    }
}

impl fmt::Display for ObjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.to_string_lossy())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_dataset_names_are_accepted() {
        for name in ["orders", "Orders-2024", "sales.eu", "a", "kunden_ä", "x_y"] {
            assert!(DatasetName::new(name).is_ok(), "{name}");
        }
        assert!(DatasetName::new(&"a".repeat(63)).is_ok());
    }

    #[test]
    fn each_refused_dataset_name_says_what_is_allowed() {
        use DatasetNameError as E;
        type Expect = fn(&DatasetNameError) -> bool;
        let cases: [(&str, Expect); 11] = [
            ("", |e| matches!(e, E::Empty)),
            (".", |e| matches!(e, E::DotName(_))),
            ("..", |e| matches!(e, E::DotName(_))),
            ("/etc", |e| matches!(e, E::Absolute(_))),
            ("a/b", |e| matches!(e, E::Separator(_))),
            ("a\\b", |e| matches!(e, E::Separator(_))),
            ("tab\there", |e| matches!(e, E::Control(_))),
            ("_staging", |e| matches!(e, E::Hidden(_, '_'))),
            (".git", |e| matches!(e, E::Hidden(_, '.'))),
            ("with space", |e| matches!(e, E::Character(_, ' '))),
            ("semi;colon", |e| matches!(e, E::Character(_, ';'))),
        ];
        for (name, expected) in cases {
            let error = DatasetName::new(name).expect_err(name);
            assert!(expected(&error), "{name:?} gave {error:?}");
            let message = error.to_string();
            assert!(
                message.contains("letters")
                    || message.contains("directory")
                    || message.contains("start with"),
                "{name:?}: message does not say what is allowed: {message}"
            );
        }
    }

    #[test]
    fn a_dataset_name_one_byte_too_long_is_refused() {
        let error = DatasetName::new(&"a".repeat(64)).expect_err("64 bytes");
        assert_eq!(
            error.to_string(),
            format!(
                "'{}' is 64 bytes long; a dataset name may have at most 63 bytes",
                "a".repeat(64)
            )
        );
    }

    #[test]
    fn object_names_may_hold_any_byte_but_slash_and_nul() {
        use std::os::unix::ffi::OsStringExt;
        let hostile = OsString::from_vec(b"-rf ;$(id)\n\xff.csv".to_vec());
        assert!(ObjectName::new(hostile).is_ok());
        assert!(matches!(ObjectName::new(""), Err(ObjectNameError::Empty)));
        assert!(matches!(
            ObjectName::new(".."),
            Err(ObjectNameError::DotName(_))
        ));
        assert!(matches!(
            ObjectName::new("a/b"),
            Err(ObjectNameError::Separator(_))
        ));
        assert!(matches!(
            ObjectName::new("a\0b"),
            Err(ObjectNameError::Nul(_))
        ));
        assert!(ObjectName::new("n".repeat(255)).is_ok());
        assert!(matches!(
            ObjectName::new("n".repeat(256)),
            Err(ObjectNameError::TooLong { len: 256, .. })
        ));
    }
}
