//! Which files in the lake are objects.
//!
//! Producers write partial files under temporary names and tools leave
//! bookkeeping behind (`.DS_Store`, `_SUCCESS`, `_temporary/`), so a file is an
//! object only if no part of its path is hidden, its name is not a temporary
//! name, and no configured ignore glob matches it. The filter answers with the
//! reason, so that the CLI can say why a file was passed over.

use std::ffi::OsStr;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use super::DatasetName;

/// Suffixes of names that are still being written, compared without regard to
/// ASCII case because Windows transfer tools write them in either.
const TEMPORARY_SUFFIXES: [&str; 5] = [".tmp", ".part", ".partial", ".filepart", ".crdownload"];

/// Decides whether a path under the lake names an object.
#[derive(Debug, Clone)]
pub struct ObjectFilter {
    /// The configured globs, in the order given (for messages).
    patterns: Vec<String>,
    /// Globs without a `/`, matched against the file name alone.
    name_globs: GlobSet,
    /// Globs with a `/`, matched against the path relative to the lake.
    path_globs: GlobSet,
    /// Indexes into `patterns`, one per glob in `name_globs` and `path_globs`.
    name_index: Vec<usize>,
    path_index: Vec<usize>,
}

/// Why a path is not an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ignored {
    /// The file lies directly in the lake, outside any dataset.
    OutsideDataset,
    /// The top-level directory is not a valid dataset name.
    NotADataset(String),
    /// A component of the path starts with `.` or `_`.
    Hidden(String),
    /// The file name marks a file still being written.
    Temporary(String),
    /// A configured ignore glob matches.
    Glob(String),
}

impl fmt::Display for Ignored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ignored::OutsideDataset => write!(
                f,
                "it lies in the lake itself; objects live in a dataset directory such as lake/orders/"
            ),
            Ignored::NotADataset(reason) => {
                write!(f, "its top directory is not a dataset: {reason}")
            }
            Ignored::Hidden(part) => write!(
                f,
                "'{part}' starts with '.' or '_', which marks hidden files"
            ),
            Ignored::Temporary(name) => write!(
                f,
                "'{name}' is a temporary name, used while a file is still being written"
            ),
            Ignored::Glob(pattern) => write!(f, "it matches the ignore glob '{pattern}'"),
        }
    }
}

/// An ignore glob that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("ignore glob '{pattern}' is not valid: {reason}")]
pub struct IgnoreGlobError {
    /// The pattern's position in the list given.
    pub index: usize,
    /// The pattern as written.
    pub pattern: String,
    /// What the glob parser objected to.
    pub reason: String,
}

impl ObjectFilter {
    /// Builds a filter with the built-in rules plus `patterns`. A pattern
    /// holding `/` is matched against the path relative to the lake
    /// (`orders/archive/**`); any other against the file name (`*.bak`).
    pub fn new(patterns: &[String]) -> Result<Self, IgnoreGlobError> {
        let (mut names, mut paths) = (GlobSetBuilder::new(), GlobSetBuilder::new());
        let (mut name_index, mut path_index) = (Vec::new(), Vec::new());
        for (index, pattern) in patterns.iter().enumerate() {
            let glob = GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
                .map_err(|error| IgnoreGlobError {
                    index,
                    pattern: pattern.clone(),
                    reason: error.kind().to_string(),
                })?;
            if pattern.contains('/') {
                paths.add(glob);
                path_index.push(index);
            } else {
                names.add(glob);
                name_index.push(index);
            }
        }
        let build = |builder: GlobSetBuilder| {
            builder.build().map_err(|error| IgnoreGlobError {
                index: 0,
                pattern: patterns.join(", "),
                reason: error.to_string(),
            })
        };
        Ok(ObjectFilter {
            patterns: patterns.to_vec(),
            name_globs: build(names)?,
            path_globs: build(paths)?,
            name_index,
            path_index,
        })
    }

    /// The configured ignore globs.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Why the file at `relative` (a path relative to the lake root) is not an
    /// object, or `None` when it is one.
    pub fn ignored(&self, relative: &Path) -> Option<Ignored> {
        let mut parts = relative.components().filter_map(|part| match part {
            Component::Normal(part) => Some(part),
            _ => None,
        });
        let dataset = parts.next()?;
        let Some(mut name) = parts.next() else {
            return Some(Ignored::OutsideDataset);
        };
        if let Err(error) = DatasetName::new(&dataset.to_string_lossy()) {
            return Some(Ignored::NotADataset(error.to_string()));
        }
        for part in parts {
            if is_hidden(name) {
                return Some(Ignored::Hidden(name.to_string_lossy().into_owned()));
            }
            name = part;
        }
        if let Some(reason) = self.name_ignored(name) {
            return Some(reason);
        }
        let matched = self.path_globs.matches(relative);
        matched
            .first()
            .map(|&glob| Ignored::Glob(self.patterns[self.path_index[glob]].clone()))
    }

    /// Whether the file at `relative` (relative to the lake root) is an object.
    pub fn is_object(&self, relative: &Path) -> bool {
        self.ignored(relative).is_none()
    }

    /// Why a file called `name` would not be an object, whatever directory it
    /// is in; `None` when the name itself is fine.
    pub fn name_ignored(&self, name: &OsStr) -> Option<Ignored> {
        let lossy = || name.to_string_lossy().into_owned();
        if is_hidden(name) {
            return Some(Ignored::Hidden(lossy()));
        }
        if is_temporary(name) {
            return Some(Ignored::Temporary(lossy()));
        }
        let matched = self.name_globs.matches(Path::new(name));
        matched
            .first()
            .map(|&glob| Ignored::Glob(self.patterns[self.name_index[glob]].clone()))
    }
}

fn is_hidden(name: &OsStr) -> bool {
    matches!(name.as_bytes().first(), Some(b'.' | b'_'))
}

fn is_temporary(name: &OsStr) -> bool {
    let bytes = name.as_bytes();
    bytes.starts_with(b"~")
        || TEMPORARY_SUFFIXES.iter().any(|suffix| {
            bytes.len() > suffix.len()
                && bytes[bytes.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(globs: &[&str]) -> ObjectFilter {
        let globs: Vec<String> = globs.iter().map(|glob| glob.to_string()).collect();
        ObjectFilter::new(&globs).expect("valid globs")
    }

    #[test]
    fn files_in_datasets_are_objects_at_any_depth() {
        let filter = filter(&[]);
        for path in [
            "orders/a.csv",
            "orders/dt=2026-11-26/a.csv",
            "orders/2026/11/26/a b.csv",
            "orders/x.tmp.csv",
        ] {
            assert!(filter.is_object(Path::new(path)), "{path}");
        }
    }

    #[test]
    fn hidden_and_temporary_names_are_never_objects() {
        let filter = filter(&[]);
        let cases = [
            ("orders/.a.csv", Ignored::Hidden(".a.csv".into())),
            ("orders/_SUCCESS", Ignored::Hidden("_SUCCESS".into())),
            (
                "orders/_temporary/0/part-0000.csv",
                Ignored::Hidden("_temporary".into()),
            ),
            ("orders/.staging/a.csv", Ignored::Hidden(".staging".into())),
            ("orders/a.csv.tmp", Ignored::Temporary("a.csv.tmp".into())),
            ("orders/a.csv.TMP", Ignored::Temporary("a.csv.TMP".into())),
            ("orders/a.csv.part", Ignored::Temporary("a.csv.part".into())),
            (
                "orders/a.csv.partial",
                Ignored::Temporary("a.csv.partial".into()),
            ),
            (
                "orders/a.csv.filepart",
                Ignored::Temporary("a.csv.filepart".into()),
            ),
            (
                "orders/a.csv.crdownload",
                Ignored::Temporary("a.csv.crdownload".into()),
            ),
            ("orders/~a.csv", Ignored::Temporary("~a.csv".into())),
        ];
        for (path, reason) in cases {
            assert_eq!(filter.ignored(Path::new(path)), Some(reason), "{path}");
        }
    }

    #[test]
    fn files_outside_a_valid_dataset_are_not_objects() {
        let filter = filter(&[]);
        assert_eq!(
            filter.ignored(Path::new("loose.csv")),
            Some(Ignored::OutsideDataset)
        );
        assert!(matches!(
            filter.ignored(Path::new("bad name/a.csv")),
            Some(Ignored::NotADataset(_))
        ));
        assert!(matches!(
            filter.ignored(Path::new(".trash/a.csv")),
            Some(Ignored::NotADataset(_))
        ));
    }

    #[test]
    fn globs_without_a_slash_match_names_and_with_one_match_paths() {
        let filter = filter(&["*.bak", "orders/archive/**"]);
        assert_eq!(
            filter.ignored(Path::new("orders/deep/x.bak")),
            Some(Ignored::Glob("*.bak".into()))
        );
        assert_eq!(
            filter.ignored(Path::new("orders/archive/2020/x.csv")),
            Some(Ignored::Glob("orders/archive/**".into()))
        );
        assert!(filter.is_object(Path::new("orders/current/x.csv")));
        assert!(filter.is_object(Path::new("sales/archive/x.csv")));
    }

    #[test]
    fn a_bad_glob_is_reported_with_its_pattern() {
        let error = ObjectFilter::new(&["[unclosed".to_string()]).expect_err("bad glob");
        assert_eq!(error.pattern, "[unclosed");
        assert!(
            error
                .to_string()
                .starts_with("ignore glob '[unclosed' is not valid"),
            "{error}"
        );
    }
}
