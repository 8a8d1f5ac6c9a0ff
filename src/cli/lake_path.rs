//! How a command names a file in the lake: by a path relative to the
//! working directory, an absolute path, or a path relative to the lake.
//! Names may hold any bytes; nothing here assumes UTF-8.

use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use anyhow::anyhow;

use super::Failure;
use crate::exit::ExitCode;

/// A file as a command was given it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// Its absolute path, without `.` or `..` parts.
    pub file: PathBuf,
    /// Its path relative to the lake; `None` when it lies outside.
    pub relative: Option<PathBuf>,
}

impl Located {
    /// The path to show: relative to the lake when it is inside.
    pub fn shown(&self) -> String {
        self.relative
            .as_deref()
            .unwrap_or(&self.file)
            .to_string_lossy()
            .into_owned()
    }
}

/// What an OBJECT argument names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Named {
    /// An object id: the argument is all digits.
    Id(i64),
    /// A file (a file named like a number is written `./7`).
    File(Located),
}

/// Reads an OBJECT argument (`show`, `retry`): an object id when it is all
/// digits, else a file found as [`locate`] finds it.
pub fn object(lake: &Path, given: &Path) -> Result<Named, Failure> {
    let text = given.as_os_str().as_bytes();
    if !text.is_empty() && text.iter().all(u8::is_ascii_digit) {
        return given.to_string_lossy().parse().map(Named::Id).map_err(|_| {
            Failure::new(
                ExitCode::Usage,
                anyhow!("object id {} is too large", given.display()),
            )
        });
    }
    Ok(Named::File(locate(lake, given)))
}

/// Finds `given` (see the module docs): an absolute path is itself; a
/// relative one is taken from the working directory if a file is there,
/// else from the lake. For a path where nothing exists, the reading that
/// lies in the lake wins.
pub fn locate(lake: &Path, given: &Path) -> Located {
    let lake = clean(lake);
    let mut readings = Vec::new();
    if given.is_absolute() {
        readings.push(clean(given));
    } else {
        if let Ok(cwd) = std::env::current_dir() {
            readings.push(clean(&cwd.join(given)));
        }
        readings.push(clean(&lake.join(given)));
    }
    let file = readings
        .iter()
        .find(|path| path.symlink_metadata().is_ok())
        .or_else(|| readings.iter().find(|path| within(&lake, path).is_some()))
        .or(readings.first())
        .cloned()
        .unwrap_or_else(|| lake.join(given));
    let relative = within(&lake, &file);
    Located { file, relative }
}

/// `file` relative to `lake`: by their paths, or else by the real
/// directories they name (the lake or the working directory may be reached
/// through a symbolic link). The file itself is not resolved: a link in
/// the lake is a link, not the file it points to.
fn within(lake: &Path, file: &Path) -> Option<PathBuf> {
    if let Ok(relative) = file.strip_prefix(lake) {
        return Some(relative.to_path_buf());
    }
    let real_lake = lake.canonicalize().ok()?;
    let real_dir = file.parent()?.canonicalize().ok()?;
    let real = real_dir.join(file.file_name()?);
    real.strip_prefix(&real_lake).ok().map(Path::to_path_buf)
}

/// `path` without `.` parts, and with each `..` taking away the part
/// before it.
fn clean(path: &Path) -> PathBuf {
    let mut clean = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                clean.pop();
            }
            other => clean.push(other.as_os_str()),
        }
    }
    clean
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn a_path_may_be_absolute_relative_to_the_lake_or_hostile() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lake = dir.path().join("lake");
        std::fs::create_dir_all(lake.join("items")).expect("mkdir");
        let name = OsStr::from_bytes(b"caf\xe9 \n.csv");
        std::fs::write(lake.join("items").join(name), "x").expect("write");
        let absolute = locate(&lake, &lake.join("items").join(name));
        assert_eq!(
            absolute.relative.as_deref(),
            Some(Path::new("items").join(name).as_path())
        );
        let from_lake = locate(&lake, &Path::new("items").join(name));
        assert_eq!(from_lake, absolute);
        let dotted = locate(&lake, &lake.join("items/./../items").join(name));
        assert_eq!(dotted, absolute);
        let missing = locate(&lake, Path::new("items/none.csv"));
        assert_eq!(missing.file, lake.join("items/none.csv"));
        let outside = locate(&lake, dir.path());
        assert_eq!(outside.relative, None);
    }

    #[test]
    fn an_object_argument_of_digits_is_an_id_and_anything_else_a_file() {
        let lake = Path::new("/srv/lake");
        assert_eq!(object(lake, Path::new("7")).ok(), Some(Named::Id(7)));
        assert!(matches!(
            object(lake, Path::new("./7")),
            Ok(Named::File(Located { relative: Some(relative), .. })) if relative == Path::new("7")
        ));
        let error = object(lake, Path::new("99999999999999999999")).err();
        assert_eq!(error.map(|failure| failure.code), Some(ExitCode::Usage));
    }
}
