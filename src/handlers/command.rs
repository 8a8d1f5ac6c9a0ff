//! One attempt of an external command handler for one lake object.
//!
//! [`run`] starts the handler's program directly, never through a shell, and
//! waits for it under the handler's timeout and the daemon's stop signal.
//!
//! - **Arguments.** In every argument, `{path}`, `{dataset}`, `{object_id}`
//!   and `{sha256}` are replaced by the object's values ([`expand`]). The path
//!   is spliced in byte for byte, so a name with spaces, newlines, quotes, a
//!   leading dash or bytes that are not UTF-8 arrives intact, inside the one
//!   argument that named it. Other `{...}` text is left as written.
//! - **Environment.** The daemon's own environment, plus:
//!
//!   | variable             | value                                        |
//!   |----------------------|----------------------------------------------|
//!   | `DROPLAKE_OBJECT_ID` | the object's id in the warehouse, in decimal |
//!   | `DROPLAKE_DATASET`   | the object's dataset                         |
//!   | `DROPLAKE_PATH`      | the object's absolute path, byte for byte    |
//!   | `DROPLAKE_SHA256`    | the SHA-256 of its content, lowercase hex    |
//!   | `DROPLAKE_HANDLER`   | the handler's name                           |
//!   | `DROPLAKE_ATTEMPT`   | this attempt's number, counting from 1       |
//!
//! - **Standard input** carries the object's event (JSON), then end of file.
//!   A program may ignore it or exit without reading it.
//! - **Standard output and error** are read to their end as they are written,
//!   so a chatty program never stalls on a full pipe; the first
//!   `capture_limit` bytes of each are kept and the rest only counted.
//! - **Process group.** The program leads a process group of its own. On
//!   timeout, or when the daemon stops, the whole group gets SIGTERM, and
//!   SIGKILL once the grace period has passed. When the program has exited,
//!   whatever it left behind in its group gets SIGKILL too, at the latest a
//!   grace period later if it still holds the output pipes open.

use std::borrow::Cow;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;
use std::time::Duration;

/// Bytes of standard output, and of standard error, kept by default.
pub const CAPTURE_LIMIT: usize = 64 * 1024;

/// How to run a command handler: its program and its limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec {
    /// The program and its arguments, with placeholders not yet expanded.
    pub argv: Vec<String>,
    /// How long one attempt may run before its process group gets SIGTERM.
    pub timeout: Duration,
    /// How long after SIGTERM until SIGKILL; also how long a program that has
    /// exited may leave other processes holding its output open.
    pub grace: Duration,
    /// Bytes kept of standard output, and of standard error ([`CAPTURE_LIMIT`]
    /// unless configured otherwise).
    pub capture_limit: usize,
}

/// The object one attempt is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The object's absolute path; any bytes but NUL.
    pub path: PathBuf,
    /// The object's dataset.
    pub dataset: String,
    /// The object's id in the warehouse.
    pub object_id: i64,
    /// The SHA-256 of the object's content, lowercase hex.
    pub sha256: String,
    /// The handler's name.
    pub handler: String,
    /// This attempt's number, counting from 1.
    pub attempt: u32,
    /// The event (JSON) written to the program's standard input.
    pub event: Vec<u8>,
    /// The program's working directory; `None`: the daemon's.
    pub cwd: Option<PathBuf>,
}

/// The program's arguments, `argv[0]` included, with the placeholders of
/// `argv` replaced by `call`'s values: one argument out for each one in.
///
/// Each value is inserted as it is, once: a path that itself contains
/// `{dataset}` keeps that text. Unknown `{...}` text is left alone (the
/// configuration refuses it before it gets here).
pub fn expand(argv: &[String], call: &Invocation) -> Vec<OsString> {
    argv.iter().map(|arg| expand_one(arg, call)).collect()
}

fn expand_one(arg: &str, call: &Invocation) -> OsString {
    let mut out = Vec::with_capacity(arg.len());
    let mut rest = arg;
    while let Some(open) = rest.find('{') {
        out.extend_from_slice(&rest.as_bytes()[..open]);
        rest = &rest[open..];
        match placeholder(rest, call) {
            Some((len, value)) => {
                out.extend_from_slice(&value);
                rest = &rest[len..];
            }
            None => {
                out.push(b'{');
                rest = &rest[1..];
            }
        }
    }
    out.extend_from_slice(rest.as_bytes());
    OsString::from_vec(out)
}

/// The placeholder `text` starts with, if any: its length and its value.
fn placeholder<'a>(text: &str, call: &'a Invocation) -> Option<(usize, Cow<'a, [u8]>)> {
    let (name, value) = if text.starts_with("{path}") {
        ("{path}", Cow::Borrowed(call.path.as_os_str().as_bytes()))
    } else if text.starts_with("{dataset}") {
        ("{dataset}", Cow::Borrowed(call.dataset.as_bytes()))
    } else if text.starts_with("{object_id}") {
        (
            "{object_id}",
            Cow::Owned(call.object_id.to_string().into_bytes()),
        )
    } else if text.starts_with("{sha256}") {
        ("{sha256}", Cow::Borrowed(call.sha256.as_bytes()))
    } else {
        return None;
    };
    Some((name.len(), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::ffi::OsStr;

    fn invocation(path: &[u8]) -> Invocation {
        Invocation {
            path: PathBuf::from(OsStr::from_bytes(path)),
            dataset: "orders".to_owned(),
            object_id: 42,
            sha256: "ab".repeat(32),
            handler: "notify".to_owned(),
            attempt: 1,
            event: b"{}".to_vec(),
            cwd: None,
        }
    }

    fn args(argv: &[&str]) -> Vec<String> {
        argv.iter().map(|arg| (*arg).to_owned()).collect()
    }

    fn bytes(args: &[OsString]) -> Vec<&[u8]> {
        args.iter().map(|arg| arg.as_bytes()).collect()
    }

    #[test]
    fn expand_replaces_every_placeholder_in_place() {
        let call = invocation(b"/lake/orders/dt=2024-05-01/a.csv");
        let argv = args(&[
            "/bin/load",
            "--in={path}",
            "{dataset}/{object_id}",
            "{sha256}",
            "{object_id}{object_id}",
        ]);
        let sha = "ab".repeat(32);
        assert_eq!(
            bytes(&expand(&argv, &call)),
            [
                &b"/bin/load"[..],
                b"--in=/lake/orders/dt=2024-05-01/a.csv",
                b"orders/42",
                sha.as_bytes(),
                b"4242",
            ]
        );
    }

    #[test]
    fn expand_leaves_other_braces_alone() {
        let call = invocation(b"/p");
        let argv = args(&["{}", "{{path}}", "{pa", "th}", "{other}", "{", "}{path"]);
        assert_eq!(
            bytes(&expand(&argv, &call)),
            [
                &b"{}"[..],
                b"{/p}",
                b"{pa",
                b"th}",
                b"{other}",
                b"{",
                b"}{path"
            ]
        );
    }

    #[test]
    fn expand_keeps_one_argument_per_element_whatever_the_path_holds() {
        let hostile: [&[u8]; 7] = [
            b"/lake/a b\nc\td.csv",
            b"-rf",
            b"/lake/;rm -rf ~",
            b"/lake/$(id) `id` 'q' \"dq\" *",
            b"/lake/\xff\xfe not utf-8 \xc3(",
            b"/lake/{dataset}{path}",
            b"",
        ];
        for path in hostile {
            let call = invocation(path);
            let out = expand(&args(&["prog", "{path}", "x{path}y"]), &call);
            let mut framed = b"x".to_vec();
            framed.extend_from_slice(path);
            framed.push(b'y');
            assert_eq!(bytes(&out), [&b"prog"[..], path, &framed], "{path:?}");
        }
    }

    #[test]
    fn expand_handles_negative_ids_and_non_ascii_text() {
        let mut call = invocation(b"/p");
        call.object_id = -7;
        call.dataset = "données".to_owned();
        let out = expand(&args(&["é{object_id}ü", "{dataset}"]), &call);
        assert_eq!(out, [OsString::from("é-7ü"), OsString::from("données")]);
    }
}
