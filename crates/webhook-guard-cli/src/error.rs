//! The one error type of the commands: a message of one line.

use std::fmt;

/// A failure to report on one line, exit code 2.
#[derive(Debug)]
pub(crate) struct CliError(pub(crate) String);

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, whatever the source said.
        f.write_str(&self.0.replace('\n', " "))
    }
}

/// A command's result: the exit code, or an error.
pub(crate) type Result<T> = std::result::Result<T, CliError>;

/// Builds a [`CliError`] from anything printable.
pub(crate) fn fail(message: impl fmt::Display) -> CliError {
    CliError(message.to_string())
}

/// Reads a file named on the command line (`-` is standard input).
pub(crate) fn read_input(path: &std::path::Path) -> Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)
            .map_err(|e| fail(format!("cannot read standard input: {e}")))?;
        return Ok(bytes);
    }
    std::fs::read(path).map_err(|e| fail(format!("cannot read {}: {e}", path.display())))
}
