//! Reads ESC/POS bytes back into what a printer would do with them: a test and diagnostic
//! aid, not a printer emulator.
//!
//! It knows exactly the commands this crate sends and refuses everything else, so a test that
//! decodes a rendered receipt also proves no stray byte reached the printer: a command we did
//! not mean to send, a byte above 0x7F in the text (which prints as a different letter on
//! every code page), a style changed in the middle of a line, or text left unprinted at the
//! end. Tests elsewhere in the workspace can use it on the bytes a fake printer received.

use std::fmt;

const LF: u8 = 0x0A;
const ESC: u8 = 0x1B;
const GS: u8 = 0x1D;

/// Something the printer does, in the order it does it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Printed {
    /// `ESC @`: back to the printer's defaults.
    Init,
    /// `ESC p m t1 t2`: a pulse on the cash drawer's pin `m`, on for `t1` × 2 ms and off for
    /// `t2` × 2 ms.
    DrawerKick { pin: u8, on_time: u8, off_time: u8 },
    /// A line of text, printed when its line feed came.
    Line(PrintedLine),
    /// `GS V`: the paper cut, partially (leaving a tab) or fully.
    Cut { partial: bool },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintedLine {
    pub text: String,
    pub align: Alignment,
    pub bold: bool,
    /// Character width multiplier, 1 to 8: a line takes `text.len() × width_scale` columns.
    pub width_scale: u8,
    /// Character height multiplier, 1 to 8.
    pub height_scale: u8,
}

impl PrintedLine {
    /// How many Font A columns the line takes on paper.
    pub fn columns(&self) -> usize {
        self.text.len() * usize::from(self.width_scale)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alignment {
    Left,
    Center,
    Right,
}

/// Bytes the decoder does not accept, with where they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("byte {offset}: {byte:#04x} is not printable ASCII")]
    NotAscii { offset: usize, byte: u8 },
    #[error("byte {offset}: unknown command {bytes:02x?}")]
    UnknownCommand { offset: usize, bytes: Vec<u8> },
    #[error("byte {offset}: the bytes end in the middle of a command")]
    Truncated { offset: usize },
    #[error("byte {offset}: the print style changes in the middle of a line")]
    StyleChangedMidLine { offset: usize },
    #[error("the bytes end with text no line feed prints: {0:?}")]
    UnprintedText(String),
}

#[derive(Clone, Copy)]
struct Style {
    align: Alignment,
    bold: bool,
    width_scale: u8,
    height_scale: u8,
}

impl Style {
    const DEFAULT: Self = Self {
        align: Alignment::Left,
        bold: false,
        width_scale: 1,
        height_scale: 1,
    };
}

/// What `bytes` make a printer do, or the first thing in them this decoder does not know.
pub fn decode(bytes: &[u8]) -> Result<Vec<Printed>, DecodeError> {
    let mut printed = Vec::new();
    let mut style = Style::DEFAULT;
    let mut text = String::new();
    let mut offset = 0;
    while offset < bytes.len() {
        let byte = bytes[offset];
        match byte {
            LF => {
                printed.push(Printed::Line(PrintedLine {
                    text: std::mem::take(&mut text),
                    align: style.align,
                    bold: style.bold,
                    width_scale: style.width_scale,
                    height_scale: style.height_scale,
                }));
                offset += 1;
            }
            0x20..=0x7E => {
                text.push(char::from(byte));
                offset += 1;
            }
            ESC | GS => {
                let command = Command::read(bytes, offset)?;
                if !text.is_empty() && command.changes_style() {
                    return Err(DecodeError::StyleChangedMidLine { offset });
                }
                if !text.is_empty() && command.needs_empty_buffer() {
                    return Err(DecodeError::UnprintedText(text));
                }
                command.apply(&mut style, &mut printed);
                offset += command.len;
            }
            0x80..=0xFF => return Err(DecodeError::NotAscii { offset, byte }),
            _ => {
                return Err(DecodeError::UnknownCommand {
                    offset,
                    bytes: vec![byte],
                })
            }
        }
    }
    if !text.is_empty() {
        return Err(DecodeError::UnprintedText(text));
    }
    Ok(printed)
}

/// One `ESC` or `GS` command and how many bytes it took.
struct Command {
    kind: CommandKind,
    len: usize,
}

enum CommandKind {
    Init,
    FontA,
    Align(Alignment),
    Bold(bool),
    Size { width_scale: u8, height_scale: u8 },
    DrawerKick { pin: u8, on_time: u8, off_time: u8 },
    Cut { partial: bool },
}

impl Command {
    fn read(bytes: &[u8], offset: usize) -> Result<Self, DecodeError> {
        let arg = |index: usize| {
            bytes
                .get(offset + index)
                .copied()
                .ok_or(DecodeError::Truncated { offset })
        };
        let unknown = |len: usize| DecodeError::UnknownCommand {
            offset,
            bytes: bytes[offset..(offset + len).min(bytes.len())].to_vec(),
        };
        let (kind, len) = match (arg(0)?, arg(1)?) {
            (ESC, b'@') => (CommandKind::Init, 2),
            (ESC, b'M') => match arg(2)? {
                0 | b'0' => (CommandKind::FontA, 3),
                _ => return Err(unknown(3)),
            },
            (ESC, b'a') => {
                let align = match arg(2)? {
                    0 | b'0' => Alignment::Left,
                    1 | b'1' => Alignment::Center,
                    2 | b'2' => Alignment::Right,
                    _ => return Err(unknown(3)),
                };
                (CommandKind::Align(align), 3)
            }
            (ESC, b'E') => (CommandKind::Bold(arg(2)? & 1 == 1), 3),
            (ESC, b'p') => {
                let pin = match arg(2)? {
                    pin @ (0 | 1) => pin,
                    b'0' => 0,
                    b'1' => 1,
                    _ => return Err(unknown(3)),
                };
                let (on_time, off_time) = (arg(3)?, arg(4)?);
                let kick = CommandKind::DrawerKick {
                    pin,
                    on_time,
                    off_time,
                };
                (kick, 5)
            }
            (GS, b'!') => {
                let n = arg(2)?;
                let (width_scale, height_scale) = ((n >> 4) + 1, (n & 0x0F) + 1);
                if width_scale > 8 || height_scale > 8 {
                    return Err(unknown(3));
                }
                let size = CommandKind::Size {
                    width_scale,
                    height_scale,
                };
                (size, 3)
            }
            (GS, b'V') => match arg(2)? {
                0 | b'0' => (CommandKind::Cut { partial: false }, 3),
                1 | b'1' => (CommandKind::Cut { partial: true }, 3),
                65 => {
                    arg(3)?;
                    (CommandKind::Cut { partial: false }, 4)
                }
                66 => {
                    arg(3)?;
                    (CommandKind::Cut { partial: true }, 4)
                }
                _ => return Err(unknown(3)),
            },
            _ => return Err(unknown(2)),
        };
        Ok(Self { kind, len })
    }

    fn changes_style(&self) -> bool {
        matches!(
            self.kind,
            CommandKind::FontA
                | CommandKind::Align(_)
                | CommandKind::Bold(_)
                | CommandKind::Size { .. }
        )
    }

    /// Initialising discards the buffer and a cut comes after what was printed: text still
    /// waiting for its line feed would be lost or printed after the cut.
    fn needs_empty_buffer(&self) -> bool {
        matches!(self.kind, CommandKind::Init | CommandKind::Cut { .. })
    }

    fn apply(&self, style: &mut Style, printed: &mut Vec<Printed>) {
        match self.kind {
            CommandKind::Init => {
                *style = Style::DEFAULT;
                printed.push(Printed::Init);
            }
            CommandKind::FontA => {}
            CommandKind::Align(align) => style.align = align,
            CommandKind::Bold(bold) => style.bold = bold,
            CommandKind::Size {
                width_scale,
                height_scale,
            } => {
                style.width_scale = width_scale;
                style.height_scale = height_scale;
            }
            CommandKind::DrawerKick {
                pin,
                on_time,
                off_time,
            } => printed.push(Printed::DrawerKick {
                pin,
                on_time,
                off_time,
            }),
            CommandKind::Cut { partial } => printed.push(Printed::Cut { partial }),
        }
    }
}

impl fmt::Display for PrintedLine {
    /// The line as it would look on paper in a plain-text dump: bold in `*`, large in `^`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let large = self.width_scale > 1 || self.height_scale > 1;
        let (open, close) = match (self.bold, large) {
            (_, true) => ("^", "^"),
            (true, false) => ("*", "*"),
            (false, false) => ("", ""),
        };
        write!(f, "{open}{}{close}", self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str, align: Alignment, bold: bool, scale: (u8, u8)) -> Printed {
        Printed::Line(PrintedLine {
            text: text.to_owned(),
            align,
            bold,
            width_scale: scale.0,
            height_scale: scale.1,
        })
    }

    #[test]
    fn the_commands_we_send_decode_to_lines_and_events() {
        let bytes = [
            b"\x1b@\x1bM\x00\x1bp\x00\x19\xfa".as_slice(),
            b"\x1ba\x01\x1bE\x01\x1d!\x11TOTAL\n",
            b"\x1ba\x00\x1bE\x00\x1d!\x00plain\n\n",
            b"\x1dVB\x00",
        ]
        .concat();
        assert_eq!(
            decode(&bytes).unwrap(),
            [
                Printed::Init,
                Printed::DrawerKick {
                    pin: 0,
                    on_time: 25,
                    off_time: 250
                },
                line("TOTAL", Alignment::Center, true, (2, 2)),
                line("plain", Alignment::Left, false, (1, 1)),
                line("", Alignment::Left, false, (1, 1)),
                Printed::Cut { partial: true },
            ]
        );
    }

    #[test]
    fn anything_unknown_or_out_of_place_is_refused() {
        let refused: [(&[u8], DecodeError); 7] = [
            (
                "café\n".as_bytes(),
                DecodeError::NotAscii {
                    offset: 3,
                    byte: 0xC3,
                },
            ),
            (
                b"\x1bt\x10",
                DecodeError::UnknownCommand {
                    offset: 0,
                    bytes: vec![0x1B, b't'],
                },
            ),
            (
                b"a\tb\n",
                DecodeError::UnknownCommand {
                    offset: 1,
                    bytes: vec![b'\t'],
                },
            ),
            (b"\x1dV", DecodeError::Truncated { offset: 0 }),
            (
                b"ab\x1bE\x01c\n",
                DecodeError::StyleChangedMidLine { offset: 2 },
            ),
            (
                b"left behind",
                DecodeError::UnprintedText("left behind".into()),
            ),
            (
                b"cut off\x1dV\x01",
                DecodeError::UnprintedText("cut off".into()),
            ),
        ];
        for (bytes, error) in refused {
            assert_eq!(decode(bytes), Err(error), "{bytes:02x?}");
        }
    }
}
