//! `droplake completions SHELL` and `droplake man [--dir DIR]`: shell
//! completion scripts and man pages, generated from the clap definition.
//!
//! Both are rendered from [`Cli::command`] alone, so they can never drift from
//! the real command line, and they never read the configuration: they work
//! where `droplake.toml` is missing or broken (`run` dispatches them before
//! loading it). Output is rendered into memory first and then written, so a
//! closed pipe is an ordinary error rather than a panic inside the generator.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::{Cli, Failure};
use crate::exit::ExitCode;

/// Arguments of `droplake completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write a completion script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Arguments of `droplake man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write one page per command (droplake.1, droplake-run.1, ...) into DIR,
    /// creating it, instead of droplake.1 to standard output.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Writes the completion script for one shell to standard output.
pub fn completions(args: CompletionsArgs) -> Result<ExitCode, Failure> {
    write_stdout(&completion_script(args.shell))
}

/// Writes droplake.1 to standard output, or every page into a directory.
pub fn man(args: ManArgs) -> Result<ExitCode, Failure> {
    match args.dir {
        None => write_stdout(&man_page().map_err(|error| Failure::new(ExitCode::IoErr, error))?),
        Some(dir) => {
            write_man_pages(&dir).map_err(|error| {
                Failure::new(
                    ExitCode::CantCreate,
                    anyhow::anyhow!("cannot write man pages into {}: {error}", dir.display()),
                )
            })?;
            Ok(ExitCode::Ok)
        }
    }
}

/// The completion script for `shell`, completing the `droplake` binary.
fn completion_script(shell: Shell) -> Vec<u8> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "droplake", &mut script);
    script
}

/// The top-level page, droplake.1, which lists the subcommands.
fn man_page() -> io::Result<Vec<u8>> {
    let mut page = Vec::new();
    clap_mangen::Man::new(man_definition()).render(&mut page)?;
    Ok(page)
}

/// The command line as the man pages describe it: without the `help`
/// subcommand, which has no page of its own (`generate_to` drops it too).
fn man_definition() -> clap::Command {
    Cli::command().disable_help_subcommand(true)
}

/// droplake.1 and a page per subcommand, nested ones included
/// (droplake-schema-check.1), into `dir`.
fn write_man_pages(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    clap_mangen::generate_to(man_definition(), dir)
}

fn write_stdout(bytes: &[u8]) -> Result<ExitCode, Failure> {
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(Failure::stdout)?;
    Ok(ExitCode::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).expect("UTF-8")
    }

    /// The first line after the two-line preamble (`.ie`/`.el`) that defines
    /// the apostrophe string for groff and other troffs.
    fn title_line(page: &str) -> &str {
        page.lines()
            .find(|line| !line.starts_with(".ie ") && !line.starts_with(".el "))
            .unwrap_or_default()
    }

    #[test]
    fn every_shell_gets_a_script_naming_the_binary() {
        for shell in [
            Shell::Bash,
            Shell::Zsh,
            Shell::Fish,
            Shell::Elvish,
            Shell::PowerShell,
        ] {
            let script = text(completion_script(shell));
            assert!(script.contains("droplake"), "{shell}: {script}");
        }
    }

    #[test]
    fn the_man_page_is_roff_and_lists_the_subcommands() {
        let page = text(man_page().expect("render"));
        assert!(title_line(&page).starts_with(".TH droplake 1"), "{page}");
        for name in Cli::command()
            .get_subcommands()
            .map(|command| command.get_name())
        {
            let reference = format!("droplake\\-{name}(1)");
            assert!(page.contains(&reference), "{reference} in {page}");
        }
        assert!(
            !page.contains("droplake\\-help"),
            "no page to refer to: {page}"
        );
    }
}
