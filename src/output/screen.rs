//! The terminal of `sub --watch`: raw mode and the alternate screen while the view runs,
//! restored when the `Screen` is dropped (every way out: the end, an error, Ctrl+C, a panic
//! unwinding), whole frames drawn at once, and keys and resizes as they come.

use std::io::{self, Write};

use crossterm::event::{Event, EventStream, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use crossterm::style::Print;
use crossterm::terminal::{self, ClearType};
use crossterm::{cursor, execute, queue};
use futures_util::StreamExt;

use super::live::Key;

/// What the terminal says.
pub enum Input {
    Key(Key),
    Resized,
    /// No more input (the terminal went away).
    Closed,
}

pub struct Screen {
    events: EventStream,
    width: usize,
    height: usize,
    out: io::Stdout,
}

impl Screen {
    /// Takes over the terminal (standard output must be one).
    pub fn open() -> io::Result<Screen> {
        terminal::enable_raw_mode()?;
        let mut out = io::stdout();
        let screen = execute!(out, terminal::EnterAlternateScreen, cursor::Hide)
            .and_then(|()| terminal::size());
        let (width, height) = match screen {
            Ok(size) => size,
            Err(err) => {
                let _ = terminal::disable_raw_mode();
                return Err(err);
            }
        };
        Ok(Screen {
            events: EventStream::new(),
            width: usize::from(width),
            height: usize::from(height),
            out,
        })
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn height(&self) -> usize {
        self.height
    }

    /// Draws `lines` from the top, each over what was there, and clears below them.
    pub fn draw(&mut self, lines: &[String]) -> io::Result<()> {
        for (row, line) in lines.iter().take(self.height).enumerate() {
            queue!(
                self.out,
                cursor::MoveTo(0, row as u16),
                Print(line),
                terminal::Clear(ClearType::UntilNewLine)
            )?;
        }
        if lines.len() < self.height {
            queue!(
                self.out,
                cursor::MoveTo(0, lines.len() as u16),
                terminal::Clear(ClearType::FromCursorDown)
            )?;
        }
        self.out.flush()
    }

    /// The next key or resize.
    pub async fn next(&mut self) -> Input {
        loop {
            match self.events.next().await {
                Some(Ok(Event::Key(key))) if key.kind != KeyEventKind::Release => {
                    if let Some(key) = our_key(key) {
                        return Input::Key(key);
                    }
                }
                Some(Ok(Event::Resize(width, height))) => {
                    self.width = usize::from(width);
                    self.height = usize::from(height);
                    return Input::Resized;
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return Input::Closed,
            }
        }
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = execute!(self.out, cursor::Show, terminal::LeaveAlternateScreen);
        let _ = terminal::disable_raw_mode();
    }
}

fn our_key(key: KeyEvent) -> Option<Key> {
    Some(match key.code {
        KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => Key::Interrupt,
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Escape,
        KeyCode::Backspace => Key::Backspace,
        _ => return None,
    })
}
