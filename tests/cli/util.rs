//! A temporary working directory with a lake, and a way to run droplake in it.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// The `items` table: an integer id (its primary key) and a label.
pub const ITEMS: &str = r#"{"fields": [{"name": "id", "type": "integer"}, {"name": "label", "type": "string"}], "primaryKey": ["id"]}"#;

/// A scratch directory that holds `lake/` and is droplake's working directory.
pub struct TestEnv {
    dir: tempfile::TempDir,
}

impl TestEnv {
    /// A fresh directory with an empty `lake/`.
    pub fn new() -> TestEnv {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        std::fs::create_dir(dir.path().join("lake")).expect("create lake/");
        TestEnv { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn lake(&self) -> PathBuf {
        self.root().join("lake")
    }

    /// Writes `content` to `relative` under the root, creating directories.
    pub fn write(&self, relative: impl AsRef<Path>, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.root().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent directories");
        }
        std::fs::write(&path, content).expect("write test file");
        path
    }

    /// A `droplake` command running in the root with no inherited
    /// `DROPLAKE_*` variables and no standard input.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = Command::new(env!("CARGO_BIN_EXE_droplake"));
        command
            .args(args)
            .current_dir(self.root())
            .stdin(Stdio::null());
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("DROPLAKE_") {
                command.env_remove(key);
            }
        }
        command
    }

    /// Runs droplake with `args` and returns what it did.
    pub fn run<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Run::from(self.command(args).output().expect("run droplake"))
    }

    /// Every file under the lake, as paths relative to it, sorted.
    pub fn lake_files(&self) -> Vec<String> {
        let mut files = walk(&self.lake()).files;
        files.sort();
        files
    }

    /// Every directory under the lake, relative to it, sorted.
    pub fn lake_dirs(&self) -> Vec<String> {
        let mut dirs = walk(&self.lake()).dirs;
        dirs.sort();
        dirs
    }

    /// Every file under the root outside the lake, sorted.
    pub fn files_outside_lake(&self) -> Vec<String> {
        let mut files = walk(self.root()).files;
        files.retain(|file| !file.starts_with("lake/"));
        files.sort();
        files
    }

    /// The absolute path of `relative` under the root, as droplake prints it.
    pub fn display(&self, relative: &str) -> String {
        self.root().join(relative).display().to_string()
    }
}

/// The files and directories under a directory, relative to it.
#[derive(Default)]
pub struct Listing {
    pub files: Vec<String>,
    pub dirs: Vec<String>,
}

/// Lists everything under `base`, tolerating entries that vanish while it
/// looks (a temporary file renamed away).
pub fn walk(base: &Path) -> Listing {
    let mut listing = Listing::default();
    let mut pending = vec![base.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let relative = path
                .strip_prefix(base)
                .expect("under base")
                .to_string_lossy()
                .into_owned();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => {
                    listing.dirs.push(relative);
                    pending.push(path);
                }
                Ok(_) => listing.files.push(relative),
                Err(_) => {}
            }
        }
    }
    listing
}

/// Makes a file look settled: modified a minute ago, so that the daemon
/// takes it as soon as it sees it.
pub fn settled(path: &Path) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .expect("open")
        .set_modified(std::time::SystemTime::now() - Duration::from_secs(60))
        .expect("set the modification time");
}

/// Writes `content` at `relative` in the lake, settled (see [`settled`]).
pub fn drop_settled(
    env: &TestEnv,
    relative: impl AsRef<Path>,
    content: impl AsRef<[u8]>,
) -> PathBuf {
    let path = env.write(Path::new("lake").join(relative), content);
    settled(&path);
    path
}

/// The outcome of one droplake run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Asserts the exit code, showing the output when it differs.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "exit code\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    /// The JSON documents printed on standard output, one per line.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON line"))
            .collect()
    }
}

/// The partition `put` writes into today, relative to the lake. A test that
/// straddles midnight UTC could see two dates, so callers compare with care.
pub fn today_partition(dataset: &str) -> String {
    format!(
        "{dataset}/dt={}",
        droplake::lake::today_utc().strftime("%Y-%m-%d")
    )
}
