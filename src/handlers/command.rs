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
//! - **Environment.** The daemon's own environment less systemd's
//!   `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID`, plus:
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
use std::fmt;
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use jiff::Timestamp;
use rustix::process::{Pid, Signal, kill_process_group};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::watch;
use tokio::time::{Instant, sleep, sleep_until};

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

/// How one attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// When the attempt began (before the spawn).
    pub started: Timestamp,
    /// When it ended: the program exited and its output was read, or given up.
    pub finished: Timestamp,
    /// The program's process id, also its process group's; `None` if it never
    /// started.
    pub pid: Option<u32>,
    /// How it ended.
    pub status: Status,
    /// What it wrote to standard output.
    pub stdout: Captured,
    /// What it wrote to standard error.
    pub stderr: Captured,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// The program exited with this code.
    Exited(i32),
    /// The program was ended by this signal, not sent by droplake.
    Signaled(i32),
    /// The timeout passed and the process group got SIGTERM; `killed`: it
    /// needed SIGKILL when the grace period was over.
    TimedOut { killed: bool },
    /// The daemon is shutting down: the program was stopped as on a timeout,
    /// or not started at all.
    Stopped,
    /// The program could not be started; the message names it and says why.
    SpawnFailed(String),
    /// The program started but its exit status could not be collected; its
    /// process group has been killed.
    WaitFailed(String),
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Exited(code) => write!(f, "exited with status {code}"),
            Status::Signaled(signal) => write!(f, "ended by signal {signal}"),
            Status::TimedOut { killed: false } => f.write_str("timed out and ended on SIGTERM"),
            Status::TimedOut { killed: true } => {
                f.write_str("timed out and was killed with SIGKILL after the grace period")
            }
            Status::Stopped => f.write_str("stopped because droplake is shutting down"),
            Status::SpawnFailed(message) | Status::WaitFailed(message) => f.write_str(message),
        }
    }
}

/// The start of one output stream, and how much more there was.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    /// The first bytes written, at most the capture limit.
    pub bytes: Vec<u8>,
    /// Bytes read after the limit was reached, and not kept.
    pub dropped: u64,
}

impl Captured {
    /// Keeps what still fits under `limit` of `chunk`, counts the rest.
    fn take(&mut self, chunk: &[u8], limit: usize) {
        let room = limit.saturating_sub(self.bytes.len()).min(chunk.len());
        self.bytes.extend_from_slice(&chunk[..room]);
        self.dropped += (chunk.len() - room) as u64;
    }
}

/// How long to keep reading after the process group has been killed: only a
/// process that left the group can still hold the pipes open by then.
const AFTER_KILL: Duration = Duration::from_secs(1);

/// Runs one attempt of the command handler `spec` for the object `call`.
///
/// Never fails: every outcome, including a program that cannot be started,
/// is a [`Status`]. Returns once the program has exited and nothing of its
/// process group is left. If `stop` is already true, nothing is started and
/// the status is [`Status::Stopped`].
pub async fn run(
    spec: &CommandSpec,
    call: &Invocation,
    mut stop: watch::Receiver<bool>,
) -> Finished {
    let started = Timestamp::now();
    let finish = |pid, status, stdout, stderr| Finished {
        started,
        finished: Timestamp::now(),
        pid,
        status,
        stdout,
        stderr,
    };
    let not_started = |status| finish(None, status, Captured::default(), Captured::default());
    // Starting a program only to stop it at once could leave half its work
    // done; the daemon is stopping, so nothing starts.
    if *stop.borrow_and_update() {
        return not_started(Status::Stopped);
    }

    let mut child = match spawn(spec, call) {
        Ok(child) => child,
        Err(message) => {
            tracing::warn!(
                handler = call.handler,
                object_id = call.object_id,
                %message,
                "Could not start the handler's command."
            );
            return not_started(Status::SpawnFailed(message));
        }
    };
    let pid = child.id();
    // The id is there until the child has been waited for, which it has not.
    let mut group = Group::new(pid.and_then(|pid| Pid::from_raw(i32::try_from(pid).ok()?)));
    let pid_field = pid.unwrap_or(0);
    tracing::debug!(
        handler = call.handler,
        object_id = call.object_id,
        pid = pid_field,
        attempt = call.attempt,
        "Started the handler's command."
    );

    let writer = child.stdin.take().map(|stdin| {
        tokio::spawn(write_event(
            stdin,
            call.event.clone(),
            call.handler.clone(),
            call.object_id,
            pid_field,
        ))
    });

    let mut stdout = Captured::default();
    let mut stderr = Captured::default();
    let out_pipe = child.stdout.take();
    let err_pipe = child.stderr.take();
    let limit = spec.capture_limit;
    // Polled alongside everything below and dropped once given up on; the
    // captures outlive it, holding whatever was read.
    let mut readers = Box::pin(async {
        tokio::join!(
            read_to_end(out_pipe, &mut stdout, limit),
            read_to_end(err_pipe, &mut stderr, limit)
        );
    });
    let mut readers_done = false;

    let deadline = after(spec.timeout);
    let mut ending = None;
    let mut kill_at = None;
    let mut killed = false;
    let waited = loop {
        tokio::select! {
            waited = child.wait() => break waited,
            () = &mut readers, if !readers_done => readers_done = true,
            () = sleep_until(deadline), if ending.is_none() => {
                tracing::warn!(
                    handler = call.handler,
                    object_id = call.object_id,
                    pid = pid_field,
                    timeout = ?spec.timeout,
                    "The handler timed out, so its process group gets SIGTERM."
                );
                group.signal(Signal::TERM);
                ending = Some(Ending::TimedOut);
                kill_at = Some(after(spec.grace));
            }
            () = stop_requested(&mut stop), if ending.is_none() => {
                tracing::info!(
                    handler = call.handler,
                    object_id = call.object_id,
                    pid = pid_field,
                    "The daemon is stopping, so the handler's process group gets SIGTERM."
                );
                group.signal(Signal::TERM);
                ending = Some(Ending::Stopped);
                kill_at = Some(after(spec.grace));
            }
            () = sleep_until(kill_at.unwrap_or(deadline)), if kill_at.is_some() && !killed => {
                tracing::warn!(
                    handler = call.handler,
                    object_id = call.object_id,
                    pid = pid_field,
                    grace = ?spec.grace,
                    "The handler's process group outlived its grace period, so it gets SIGKILL."
                );
                group.signal(Signal::KILL);
                killed = true;
            }
        }
    };

    // The program has exited, but what it started may still hold the pipes
    // open: give the readers until the grace period is over (unless the
    // group has had its SIGKILL already).
    let mut grace_over = false;
    if !readers_done && !killed {
        let until = kill_at.unwrap_or_else(|| after(spec.grace));
        tokio::select! {
            () = &mut readers => readers_done = true,
            () = sleep_until(until) => grace_over = true,
            () = stop_requested(&mut stop), if ending.is_none() => {}
        }
    }
    // Nothing of the group outlives the attempt.
    let swept = group.sweep();
    if grace_over && swept {
        if ending.is_some() {
            killed = true;
            tracing::warn!(
                handler = call.handler,
                object_id = call.object_id,
                pid = pid_field,
                grace = ?spec.grace,
                "The handler's process group outlived its grace period, so it got SIGKILL."
            );
        } else {
            tracing::warn!(
                handler = call.handler,
                object_id = call.object_id,
                pid = pid_field,
                "The handler's command exited but left processes holding its output open, so they got SIGKILL."
            );
        }
    }
    if !readers_done {
        tokio::select! {
            () = &mut readers => {}
            () = sleep(AFTER_KILL) => tracing::warn!(
                handler = call.handler,
                object_id = call.object_id,
                pid = pid_field,
                "A process outside the handler's process group holds its output open, so droplake stopped reading it."
            ),
        }
    }
    drop(readers);
    if let Some(writer) = writer {
        writer.abort();
    }

    let status = match (ending, waited) {
        (Some(Ending::TimedOut), _) => Status::TimedOut { killed },
        (Some(Ending::Stopped), _) => Status::Stopped,
        (None, Ok(exit)) => match (exit.code(), exit.signal()) {
            (Some(code), _) => Status::Exited(code),
            (None, Some(signal)) => Status::Signaled(signal),
            (None, None) => Status::WaitFailed(format!(
                "`{}` ended with {exit}, neither an exit code nor a signal",
                program(spec)
            )),
        },
        (None, Err(error)) => {
            tracing::error!(
                handler = call.handler,
                object_id = call.object_id,
                pid = pid_field,
                %error,
                "Could not collect the exit status of the handler's command."
            );
            Status::WaitFailed(format!(
                "could not collect the exit status of `{}`: {error}",
                program(spec)
            ))
        }
    };
    tracing::debug!(
        handler = call.handler,
        object_id = call.object_id,
        pid = pid_field,
        %status,
        stdout_dropped = stdout.dropped,
        stderr_dropped = stderr.dropped,
        "The handler's command finished."
    );
    finish(pid, status, stdout, stderr)
}

/// Why droplake ended the program itself.
#[derive(Debug, Clone, Copy)]
enum Ending {
    TimedOut,
    Stopped,
}

/// The program as configured, for messages.
fn program(spec: &CommandSpec) -> &str {
    spec.argv.first().map_or("", String::as_str)
}

/// Starts the program in a process group of its own, with the environment,
/// directory and pipes of the module documentation.
fn spawn(spec: &CommandSpec, call: &Invocation) -> Result<Child, String> {
    let mut argv = expand(&spec.argv, call).into_iter();
    let Some(program) = argv.next() else {
        return Err(format!("handler `{}` has an empty command", call.handler));
    };
    let mut command = Command::new(&program);
    command
        .args(argv)
        .env("DROPLAKE_OBJECT_ID", call.object_id.to_string())
        .env("DROPLAKE_DATASET", &call.dataset)
        .env("DROPLAKE_PATH", call.path.as_os_str())
        .env("DROPLAKE_SHA256", &call.sha256)
        .env("DROPLAKE_HANDLER", &call.handler)
        .env("DROPLAKE_ATTEMPT", call.attempt.to_string())
        // systemd's notification socket and watchdog are the daemon's, not
        // the handler's (see daemon::notify).
        .env_remove("NOTIFY_SOCKET")
        .env_remove("WATCHDOG_USEC")
        .env_remove("WATCHDOG_PID")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        // The last resort if this future is dropped midway; the group guard
        // takes care of the rest of the group.
        .kill_on_drop(true);
    if let Some(cwd) = &call.cwd {
        command.current_dir(cwd);
    }
    command.spawn().map_err(|error| {
        let program = Path::new(&program).display();
        match &call.cwd {
            Some(cwd) => format!("could not start `{program}` in {}: {error}", cwd.display()),
            None => format!("could not start `{program}`: {error}"),
        }
    })
}

/// Writes the event to the program's standard input, then closes it. A
/// program that exits or closes its input without reading is no error.
async fn write_event(
    mut stdin: ChildStdin,
    event: Vec<u8>,
    handler: String,
    object_id: i64,
    pid: u32,
) {
    match stdin.write_all(&event).await {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => {
            tracing::debug!(
                handler,
                object_id,
                pid,
                "The handler's command closed its input before reading the whole event."
            );
        }
        Err(error) => {
            tracing::warn!(
                handler,
                object_id,
                pid,
                %error,
                "Could not write the event to the handler's command."
            );
        }
    }
}

/// Reads `pipe` to its end into `into`, in chunks, so memory stays bounded by
/// the limit whatever the program writes.
async fn read_to_end(pipe: Option<impl AsyncRead + Unpin>, into: &mut Captured, limit: usize) {
    let Some(mut pipe) = pipe else { return };
    let mut chunk = vec![0; 16 * 1024];
    loop {
        match pipe.read(&mut chunk).await {
            Ok(0) => return,
            Ok(n) => into.take(&chunk[..n], limit),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => {
                tracing::warn!(%error, "Could not read the output of a handler's command.");
                return;
            }
        }
    }
}

/// Resolves once `stop` is true; never if its sender is gone while it is
/// false.
async fn stop_requested(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// `duration` from now, or as good as never if that overflows.
fn after(duration: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(duration)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

/// The program's process group. Dropped before [`Group::sweep`] (the attempt
/// was cancelled), it kills the whole group.
///
/// The group's id is the program's pid. Once the program has been reaped and
/// the rest of its group is gone too, that number is free again; a signal
/// sent then could only reach a new group if the kernel's pids wrapped around
/// to it within the grace period.
#[derive(Debug)]
struct Group {
    /// `None` if the program's pid was unknown (never, once spawned) or
    /// after the sweep.
    pgid: Option<Pid>,
}

impl Group {
    fn new(pgid: Option<Pid>) -> Group {
        Group { pgid }
    }

    /// Sends `signal` to every process of the group still there; true if
    /// there was one (a zombie not yet reaped counts).
    fn signal(&self, signal: Signal) -> bool {
        let Some(pgid) = self.pgid else { return false };
        match kill_process_group(pgid, signal) {
            Ok(()) => true,
            Err(rustix::io::Errno::SRCH) => false,
            Err(error) => {
                tracing::warn!(
                    pid = pgid.as_raw_nonzero().get(),
                    %error,
                    "Could not signal a handler's process group."
                );
                false
            }
        }
    }

    /// Kills whatever is left of the group, true if anything was; then the
    /// group is gone.
    fn sweep(&mut self) -> bool {
        let hit = self.signal(Signal::KILL);
        self.pgid = None;
        hit
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.sweep();
    }
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

/// [`run`] against real processes: `/bin/sh` scripts, `cat`, `head`, `sleep`.
#[cfg(test)]
mod run_tests {
    use super::*;

    use std::ffi::OsStr;
    use std::fs;
    use std::time::Instant;

    use tempfile::TempDir;

    /// Time for spawning, signals and reaping on a busy machine.
    const SLACK: Duration = Duration::from_millis(100);

    /// Asserts that an attempt expected to take `expected` took no less, and
    /// no more than 10% and a little more.
    fn assert_took(elapsed: Duration, expected: Duration) {
        assert!(elapsed >= expected, "{elapsed:?} < {expected:?}");
        let most = expected.mul_f64(1.1) + SLACK;
        assert!(elapsed <= most, "{elapsed:?} > {most:?}");
    }

    fn invocation(path: &[u8]) -> Invocation {
        Invocation {
            path: PathBuf::from(OsStr::from_bytes(path)),
            dataset: "orders".to_owned(),
            object_id: 42,
            sha256: "0123456789abcdef".repeat(4),
            handler: "notify".to_owned(),
            attempt: 3,
            event: br#"{"object_id":42,"dataset":"orders"}"#.to_vec(),
            cwd: None,
        }
    }

    fn spec(argv: &[&str]) -> CommandSpec {
        CommandSpec {
            argv: argv.iter().map(|arg| (*arg).to_owned()).collect(),
            timeout: Duration::from_secs(5),
            grace: Duration::from_secs(1),
            capture_limit: CAPTURE_LIMIT,
        }
    }

    /// `/bin/sh -c script sh args...`: the script sees `args` as `$1`...
    fn sh(script: &str, args: &[&str]) -> CommandSpec {
        let mut argv = vec!["/bin/sh", "-c", script, "sh"];
        argv.extend_from_slice(args);
        spec(&argv)
    }

    fn timed(spec: CommandSpec, timeout_ms: u64, grace_ms: u64) -> CommandSpec {
        CommandSpec {
            timeout: Duration::from_millis(timeout_ms),
            grace: Duration::from_millis(grace_ms),
            ..spec
        }
    }

    /// A stop signal that never comes.
    fn never() -> watch::Receiver<bool> {
        watch::channel(false).1
    }

    async fn run_plain(spec: &CommandSpec) -> Finished {
        run(spec, &invocation(b"/lake/orders/a.csv"), never()).await
    }

    fn path_str(path: &Path) -> &str {
        path.to_str().expect("temporary paths are UTF-8")
    }

    /// Asserts that `pid` is gone, or only a zombie waiting for its new
    /// parent, within a second: a killed process closes its files before it
    /// is marked dead, so it can look alive just after its pipes reach their end.
    async fn assert_dies_soon(pid: i32) {
        let stat = || fs::read_to_string(format!("/proc/{pid}/stat"));
        let dead = |stat: &io::Result<String>| match stat {
            Err(_) => true,
            Ok(stat) => stat
                .rsplit_once(") ")
                .is_some_and(|(_, rest)| rest.starts_with(['Z', 'X'])),
        };
        for _ in 0..100 {
            if dead(&stat()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("process {pid} still runs: {:?}", stat());
    }

    fn read_pid(path: &Path) -> i32 {
        let text = fs::read_to_string(path).expect("the script wrote its pid");
        text.trim().parse().expect("a pid")
    }

    #[tokio::test]
    async fn exit_codes_are_reported() {
        for code in [0, 1, 75] {
            let finished = run_plain(&sh(&format!("exit {code}"), &[])).await;
            assert_eq!(finished.status, Status::Exited(code));
            assert!(finished.pid.is_some());
            assert!(finished.started <= finished.finished);
        }
    }

    #[tokio::test]
    async fn a_signal_the_program_dies_of_is_reported() {
        let finished = run_plain(&sh("kill -KILL $$", &[])).await;
        assert_eq!(finished.status, Status::Signaled(9));
    }

    #[tokio::test]
    async fn stdout_and_stderr_are_captured_apart() {
        let finished = run_plain(&sh("printf out; printf err >&2", &[])).await;
        assert_eq!(finished.status, Status::Exited(0));
        assert_eq!(
            finished.stdout,
            Captured {
                bytes: b"out".to_vec(),
                dropped: 0
            }
        );
        assert_eq!(
            finished.stderr,
            Captured {
                bytes: b"err".to_vec(),
                dropped: 0
            }
        );
    }

    #[tokio::test]
    async fn a_flood_of_output_keeps_the_first_bytes_and_counts_the_rest() {
        const OUT: u64 = 50 * 1024 * 1024;
        const ERR: u64 = 1024 * 1024;
        let script = format!("printf start; head -c {OUT} /dev/zero; head -c {ERR} /dev/zero >&2");
        let finished = run_plain(&sh(&script, &[])).await;
        assert_eq!(finished.status, Status::Exited(0));

        assert_eq!(finished.stdout.bytes.len(), CAPTURE_LIMIT);
        assert!(finished.stdout.bytes.starts_with(b"start\0\0"));
        assert_eq!(finished.stdout.dropped, 5 + OUT - CAPTURE_LIMIT as u64);
        assert_eq!(finished.stderr.bytes.len(), CAPTURE_LIMIT);
        assert_eq!(finished.stderr.dropped, ERR - CAPTURE_LIMIT as u64);
    }

    #[tokio::test]
    async fn the_capture_limit_is_the_specs() {
        let spec = CommandSpec {
            capture_limit: 4,
            ..sh("printf 0123456789", &[])
        };
        let finished = run_plain(&spec).await;
        assert_eq!(
            finished.stdout,
            Captured {
                bytes: b"0123".to_vec(),
                dropped: 6
            }
        );
    }

    #[tokio::test]
    async fn the_event_arrives_on_stdin_then_end_of_file() {
        let dir = TempDir::new().expect("temporary directory");
        let out = dir.path().join("event");
        let call = invocation(b"/lake/orders/a.csv");
        let finished = run(&sh(r#"cat > "$1""#, &[path_str(&out)]), &call, never()).await;
        assert_eq!(finished.status, Status::Exited(0));
        assert_eq!(fs::read(&out).expect("cat wrote the event"), call.event);
    }

    #[tokio::test]
    async fn a_program_that_never_reads_its_input_is_no_failure() {
        let mut call = invocation(b"/lake/orders/a.csv");
        call.event = vec![b' '; 4 * 1024 * 1024];
        let start = Instant::now();
        let finished = run(&sh("exit 0", &[]), &call, never()).await;
        assert_eq!(finished.status, Status::Exited(0));
        assert!(
            start.elapsed() < Duration::from_millis(500),
            "{:?}",
            start.elapsed()
        );
    }

    #[tokio::test]
    async fn hostile_file_names_arrive_as_one_byte_identical_argument() {
        let dir = TempDir::new().expect("temporary directory");
        let out = dir.path().join("arg");
        // Exits 9 unless exactly two arguments arrive.
        let script = r#"[ "$#" -eq 2 ] || exit 9; printf '%s' "$1" > "$2""#;
        let names: [&[u8]; 10] = [
            b"/lake/orders/with space.csv",
            b"/lake/orders/new\nline\n",
            b"-n",
            b"--help",
            b"/lake/orders/;rm -rf ~",
            b"/lake/orders/$(id) `id` ${HOME}",
            b"/lake/orders/'single' \"double\" \\ * ? [a]",
            b"/lake/orders/\xff\xfe not utf-8 \xc3(",
            b"/lake/orders/{dataset}{path}",
            b"/lake/orders/\t\x01\x7f",
        ];
        for name in names {
            let spec = sh(script, &["{path}", path_str(&out)]);
            let finished = run(&spec, &invocation(name), never()).await;
            assert_eq!(
                finished.status,
                Status::Exited(0),
                "{}",
                name.escape_ascii()
            );
            assert_eq!(fs::read(&out).expect("the script wrote $1"), name);
        }
    }

    #[tokio::test]
    async fn the_environment_describes_the_object_and_keeps_the_daemons() {
        let dir = TempDir::new().expect("temporary directory");
        let out = dir.path().join("environ");
        let path = b"/lake/orders/\xff odd name.csv";
        let call = invocation(path);
        let spec = sh(r#"cat /proc/self/environ > "$1""#, &[path_str(&out)]);
        let finished = run(&spec, &call, never()).await;
        assert_eq!(finished.status, Status::Exited(0));

        let environ = fs::read(&out).expect("cat wrote its environment");
        let var = |name: &str| -> Option<Vec<u8>> {
            environ.split(|&b| b == 0).find_map(|entry| {
                let value = entry.strip_prefix(name.as_bytes())?.strip_prefix(b"=")?;
                Some(value.to_vec())
            })
        };
        assert_eq!(var("DROPLAKE_OBJECT_ID").as_deref(), Some(&b"42"[..]));
        assert_eq!(var("DROPLAKE_DATASET").as_deref(), Some(&b"orders"[..]));
        assert_eq!(var("DROPLAKE_PATH").as_deref(), Some(&path[..]));
        assert_eq!(
            var("DROPLAKE_SHA256").as_deref(),
            Some(call.sha256.as_bytes())
        );
        assert_eq!(var("DROPLAKE_HANDLER").as_deref(), Some(&b"notify"[..]));
        assert_eq!(var("DROPLAKE_ATTEMPT").as_deref(), Some(&b"3"[..]));
        let daemons = std::env::var_os("PATH").expect("the test runs with a PATH");
        assert_eq!(var("PATH").as_deref(), Some(daemons.as_bytes()));
    }

    #[tokio::test]
    async fn the_working_directory_is_the_calls() {
        let dir = TempDir::new().expect("temporary directory");
        let mut call = invocation(b"/lake/orders/a.csv");
        call.cwd = Some(dir.path().to_owned());
        let finished = run(&sh("pwd -P", &[]), &call, never()).await;
        let expected = dir.path().canonicalize().expect("the directory exists");
        assert_eq!(
            finished.stdout.bytes,
            [expected.as_os_str().as_bytes(), b"\n"].concat()
        );
    }

    #[tokio::test]
    async fn a_program_running_past_its_timeout_ends_on_sigterm() {
        let spec = timed(sh("sleep 10", &[]), 1000, 1000);
        let start = Instant::now();
        let finished = run_plain(&spec).await;
        let elapsed = start.elapsed();
        assert_eq!(finished.status, Status::TimedOut { killed: false });
        assert_took(elapsed, spec.timeout);
    }

    #[tokio::test]
    async fn a_program_ignoring_sigterm_gets_sigkill_after_the_grace_period() {
        let spec = timed(sh("trap '' TERM; sleep 10", &[]), 500, 500);
        let start = Instant::now();
        let finished = run_plain(&spec).await;
        let elapsed = start.elapsed();
        assert_eq!(finished.status, Status::TimedOut { killed: true });
        assert_took(elapsed, spec.timeout + spec.grace);
    }

    #[tokio::test]
    async fn a_grandchild_holding_stdout_open_is_killed_after_the_grace_period() {
        let dir = TempDir::new().expect("temporary directory");
        let pid_file = dir.path().join("pid");
        let spec = timed(
            sh(
                r#"sleep 100 & echo $! > "$1"; exit 0"#,
                &[path_str(&pid_file)],
            ),
            500,
            500,
        );
        let start = Instant::now();
        let finished = run_plain(&spec).await;
        let elapsed = start.elapsed();
        assert_eq!(finished.status, Status::Exited(0));
        assert_took(elapsed, spec.grace);
        assert_dies_soon(read_pid(&pid_file)).await;
    }

    #[tokio::test]
    async fn a_grandchild_ignoring_sigterm_gets_sigkill_after_its_parent_ended_on_the_timeout() {
        let dir = TempDir::new().expect("temporary directory");
        let pid_file = dir.path().join("pid");
        let script = r#"sh -c "trap '' TERM; sleep 100" & echo $! > "$1"; sleep 100"#;
        let spec = timed(sh(script, &[path_str(&pid_file)]), 500, 500);
        let start = Instant::now();
        let finished = run_plain(&spec).await;
        let elapsed = start.elapsed();
        assert_eq!(finished.status, Status::TimedOut { killed: true });
        assert_took(elapsed, spec.timeout + spec.grace);
        assert_dies_soon(read_pid(&pid_file)).await;
    }

    #[tokio::test]
    async fn output_held_open_from_outside_the_group_is_given_up_on() {
        let dir = TempDir::new().expect("temporary directory");
        let pid_file = dir.path().join("pid");
        // setsid puts the sleep in a session, and a group, of its own.
        let script = r#"setsid sleep 10 & echo $! > "$1"; printf kept"#;
        let spec = timed(sh(script, &[path_str(&pid_file)]), 500, 300);
        let start = Instant::now();
        let finished = run_plain(&spec).await;
        let elapsed = start.elapsed();
        let escaped = Pid::from_raw(read_pid(&pid_file)).expect("a valid pid");
        let _ = rustix::process::kill_process(escaped, Signal::KILL);
        assert_eq!(finished.status, Status::Exited(0));
        assert_eq!(finished.stdout.bytes, b"kept");
        assert_took(elapsed, spec.grace + AFTER_KILL);
    }

    #[tokio::test]
    async fn stopping_the_daemon_ends_the_program_as_a_timeout_would() {
        let (stop, receiver) = watch::channel(false);
        let spec = sh("sleep 10", &[]);
        let call = invocation(b"/lake/orders/a.csv");
        let start = Instant::now();
        let attempt = run(&spec, &call, receiver);
        let signal = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            stop.send_replace(true);
        };
        let (finished, ()) = tokio::join!(attempt, signal);
        assert_eq!(finished.status, Status::Stopped);
        assert_took(start.elapsed(), Duration::from_millis(200));
    }

    #[tokio::test]
    async fn a_stop_ignored_gets_sigkill_after_the_grace_period() {
        let (stop, receiver) = watch::channel(false);
        let spec = timed(sh("trap '' TERM; sleep 10", &[]), 5000, 300);
        let call = invocation(b"/lake/orders/a.csv");
        let start = Instant::now();
        let attempt = run(&spec, &call, receiver);
        let signal = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            stop.send_replace(true);
        };
        let (finished, ()) = tokio::join!(attempt, signal);
        assert_eq!(finished.status, Status::Stopped);
        let elapsed = start.elapsed();
        assert_took(elapsed, Duration::from_millis(500));
    }

    #[tokio::test]
    async fn dropping_the_attempt_kills_the_whole_group() {
        let dir = TempDir::new().expect("temporary directory");
        let pid_file = dir.path().join("pid");
        let script = r#"sleep 100 & echo $! > "$1"; sleep 100"#;
        let spec = sh(script, &[path_str(&pid_file)]);
        let attempt = run_plain(&spec);
        let cut = tokio::time::timeout(Duration::from_millis(300), attempt).await;
        assert!(cut.is_err(), "the attempt ran to its end: {cut:?}");
        assert_dies_soon(read_pid(&pid_file)).await;
    }

    #[tokio::test]
    async fn nothing_starts_once_the_daemon_is_stopping() {
        let dir = TempDir::new().expect("temporary directory");
        let marker = dir.path().join("ran");
        let (_stop, receiver) = watch::channel(true);
        let spec = sh(r#"touch "$1""#, &[path_str(&marker)]);
        let finished = run(&spec, &invocation(b"/lake/orders/a.csv"), receiver).await;
        assert_eq!(finished.status, Status::Stopped);
        assert_eq!(finished.pid, None);
        assert!(!marker.exists());
    }

    #[tokio::test]
    async fn a_missing_program_is_a_spawn_failure_naming_it() {
        let finished = run_plain(&spec(&["/nonexistent/droplake-handler", "{path}"])).await;
        let Status::SpawnFailed(message) = &finished.status else {
            panic!("expected a spawn failure, got {:?}", finished.status);
        };
        assert!(
            message.contains("/nonexistent/droplake-handler"),
            "{message}"
        );
        assert!(message.contains("No such file or directory"), "{message}");
        assert_eq!(finished.pid, None);
    }

    #[tokio::test]
    async fn a_program_that_is_not_executable_is_a_spawn_failure() {
        let dir = TempDir::new().expect("temporary directory");
        let program = dir.path().join("handler.sh");
        fs::write(&program, "#!/bin/sh\nexit 0\n").expect("write the program");
        let finished = run_plain(&spec(&[path_str(&program)])).await;
        let Status::SpawnFailed(message) = &finished.status else {
            panic!("expected a spawn failure, got {:?}", finished.status);
        };
        assert!(message.contains(path_str(&program)), "{message}");
        assert!(message.contains("Permission denied"), "{message}");
    }

    #[tokio::test]
    async fn a_missing_working_directory_is_a_spawn_failure_naming_it() {
        let mut call = invocation(b"/lake/orders/a.csv");
        call.cwd = Some(PathBuf::from("/nonexistent/droplake-cwd"));
        let finished = run(&spec(&["/bin/true"]), &call, never()).await;
        let Status::SpawnFailed(message) = &finished.status else {
            panic!("expected a spawn failure, got {:?}", finished.status);
        };
        assert!(message.contains("/nonexistent/droplake-cwd"), "{message}");
    }

    #[tokio::test]
    async fn an_empty_command_is_a_spawn_failure() {
        let finished = run_plain(&spec(&[])).await;
        assert!(
            matches!(finished.status, Status::SpawnFailed(_)),
            "{:?}",
            finished.status
        );
    }
}
