//! The one printer that owns stdout: data only, buffered.
//!
//! On a terminal every message is flushed at once; in a pipe output is block-buffered and flushed
//! whenever no further message is waiting, so a drain of 100k messages costs a handful of writes
//! while a script reading line by line still sees each message promptly.

use std::io::{self, BufWriter, IsTerminal, StdoutLock, Write};

use crate::client::Message;

/// How `sub` prints each message.
#[derive(Debug, Clone, Copy)]
pub struct Format {
    /// `topic payload` instead of the bare payload.
    pub verbose: bool,
}

pub struct Printer {
    out: BufWriter<StdoutLock<'static>>,
    flush_each: bool,
    format: Format,
}

impl Printer {
    pub fn stdout(format: Format) -> Printer {
        let stdout = io::stdout();
        Printer {
            flush_each: stdout.is_terminal(),
            out: BufWriter::with_capacity(64 * 1024, stdout.lock()),
            format,
        }
    }

    pub fn print(&mut self, message: &Message) -> io::Result<()> {
        if self.format.verbose {
            self.out.write_all(message.topic.as_bytes())?;
            self.out.write_all(b" ")?;
        }
        self.out.write_all(&message.payload)?;
        self.out.write_all(b"\n")?;
        if self.flush_each {
            self.out.flush()?;
        }
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
