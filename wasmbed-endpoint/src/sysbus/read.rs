//! The script reader: [`read_writes`] and what it returns.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::MemoryOp;

/// Longest piece of a script line kept in a [`ReadError`], in characters; longer lines are cut
/// and end in `...`. Keeps errors small whatever the input.
pub const MAX_ERROR_TEXT_LEN: usize = 160;

/// Longest operand kept in a [`ReadError`]'s reason, in characters; longer ones end in `...`.
pub const MAX_ERROR_OPERAND_LEN: usize = 48;

/// One memory operation from a script, with its 1-based line number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MemoryWrite {
    /// The 1-based line of the script on which the command starts.
    pub line: usize,
    /// What the command does to memory.
    pub op: MemoryOp,
}

/// A memory operation that does not lie wholly inside the region it was applied to.
///
/// Returned by [`MemoryWrite::apply`], which then has written nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "line {line}: `{op}` touches {} byte(s) from {:#x}, not all inside the region \
     {base:#x}..{:#x} ({region_len} bytes); nothing was written: put the write inside the \
     region or apply it to a region that covers it",
    op.len(),
    op.address(),
    u128::from(*base) + *region_len as u128
)]
pub struct OutsideRegion {
    line: usize,
    op: MemoryOp,
    base: u64,
    region_len: usize,
}

impl OutsideRegion {
    /// The script line of the operation.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The operation that did not fit.
    pub fn op(&self) -> MemoryOp {
        self.op
    }

    /// The bus address the region was mapped at.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// The region's length in bytes.
    pub fn region_len(&self) -> usize {
        self.region_len
    }
}

impl MemoryWrite {
    /// Apply to `region` which is mapped at `base`. Err(OutsideRegion) (no partial write) when any byte of the op falls outside base..base+region.len().
    ///
    /// A zero-length range is accepted anywhere from `base` to `base + region.len()` and
    /// changes nothing. The length of a range is only compared with the region, never used to
    /// allocate, so any length is safe to apply.
    ///
    /// # Errors
    ///
    /// [`OutsideRegion`] as above; `region` is then unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use wasmbed_endpoint::sysbus::{MemoryOp, MemoryWrite};
    ///
    /// let mut region = [0u8; 8];
    /// let write = MemoryWrite { line: 1, op: MemoryOp::DoubleWord { address: 0x1004, value: 0x342e3031 } };
    /// write.apply(0x1000, &mut region)?;
    /// assert_eq!(&region[4..], b"10.4");
    ///
    /// let past_end = MemoryWrite { line: 2, op: MemoryOp::DoubleWord { address: 0x1006, value: 1 } };
    /// assert!(past_end.apply(0x1000, &mut region).is_err());
    /// assert_eq!(&region[4..], b"10.4"); // untouched
    /// # Ok::<(), wasmbed_endpoint::sysbus::OutsideRegion>(())
    /// ```
    pub fn apply(&self, base: u64, region: &mut [u8]) -> Result<(), OutsideRegion> {
        let region_len = region.len();
        let outside = || OutsideRegion {
            line: self.line,
            op: self.op,
            base,
            region_len,
        };
        let start = self
            .op
            .address()
            .checked_sub(base)
            .and_then(|offset| usize::try_from(offset).ok())
            .ok_or_else(outside)?;
        let len = usize::try_from(self.op.len()).map_err(|_| outside())?;
        let end = start.checked_add(len).ok_or_else(outside)?;
        let target = region.get_mut(start..end).ok_or_else(outside)?;
        match self.op {
            MemoryOp::DoubleWord { value, .. } => target.copy_from_slice(&value.to_le_bytes()),
            MemoryOp::Zero { .. } => target.fill(0),
        }
        Ok(())
    }
}

/// Why a line of a script could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReadErrorKind {
    /// An operand is not a literal number: not `0x` + hex digits, not decimal digits (a `$var`,
    /// `0X10`, `0x2000100G`, `12ab`, ...).
    NotANumber,
    /// An operand is a negative number.
    Negative,
    /// A number does not fit its operand: a value above `0xffffffff`, an address or size above
    /// `u64::MAX`, or a range whose end passes `u64::MAX`.
    TooLarge,
    /// The command has fewer operands than it needs.
    MissingOperand,
    /// The command has more operands than it takes.
    ExtraOperand,
    /// An absolute range `<first, last>` whose first address is above its last, or a range
    /// that is not two numbers inside `<` `>`.
    BadRange,
    /// A `sysbus` command that writes memory but is not one the reader models.
    UnsupportedWrite,
    /// A quoted string or a `macro` body that never ends.
    Unterminated,
}

/// A script line the reader refused: which line, its text, and why.
///
/// Displays as `line 7: "sysbus WriteDoubleWord 0x2000100G 0x1": address "0x2000100G" is not
/// a number (expected 0x-prefixed hex or decimal)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: \"{text}\": {reason}")]
pub struct ReadError {
    line: usize,
    text: String,
    kind: ReadErrorKind,
    reason: String,
}

impl ReadError {
    /// The 1-based line number.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The line's text without surrounding white space, cut to [`MAX_ERROR_TEXT_LEN`]
    /// characters.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// What kind of problem it is.
    pub fn kind(&self) -> ReadErrorKind {
        self.kind
    }

    /// The reason in words, naming the operand: `address "0x2000100G" is not a number ...`.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// Parse every `sysbus WriteDoubleWord` / `sysbus ZeroRange` line in text order (also those inside
/// `macro reset """ ... """` blocks); every other Renode command is ignored; `#` comments ignored.
///
/// See the [module documentation](super) for the exact syntax accepted.
///
/// # Errors
///
/// The first line that is one of the two commands but malformed (see [`ReadErrorKind`]), that
/// uses a `sysbus` write the reader does not model, or that opens a string or macro body
/// never closed.
///
/// # Examples
///
/// ```
/// use wasmbed_endpoint::sysbus::{read_writes, ReadErrorKind};
///
/// let err = read_writes("using sysbus\nsysbus WriteDoubleWord 0x20001000 0x100000000\n").unwrap_err();
/// assert_eq!(err.line(), 2);
/// assert_eq!(err.kind(), ReadErrorKind::TooLarge);
/// ```
pub fn read_writes(script: &str) -> Result<Vec<MemoryWrite>, ReadError> {
    let mut writes = Vec::new();
    let mut lexer = Lexer::new(script);
    while let Some(statement) = lexer.next_statement()? {
        if let Some(op) = interpret(&statement).map_err(|(kind, reason)| {
            ReadError::new(script, statement.start, statement.line, kind, reason)
        })? {
            writes.push(MemoryWrite {
                line: statement.line,
                op,
            });
        }
    }
    Ok(writes)
}

impl ReadError {
    fn new(script: &str, at: usize, line: usize, kind: ReadErrorKind, reason: String) -> ReadError {
        let line_start = script[..at].rfind('\n').map_or(0, |i| i + 1);
        let line_end = script[at..].find('\n').map_or(script.len(), |i| at + i);
        ReadError {
            line,
            text: truncate(script[line_start..line_end].trim(), MAX_ERROR_TEXT_LEN),
            kind,
            reason,
        }
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

/// One lexical token of the monitor language, as far as the reader needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    /// A run of non-space characters: a command, method, number, `$var`, `@path`.
    Word(&'a str),
    /// The inside of `<...>`.
    Range(&'a str),
    /// A quoted string, a triple-quoted string or a backtick execution.
    Quoted,
}

/// The tokens of one command, with where it starts.
struct Statement<'a> {
    tokens: Vec<Token<'a>>,
    /// Byte offset of the first token.
    start: usize,
    /// 1-based line of the first token.
    line: usize,
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    line: usize,
    /// The line that opened the macro body being read, if inside one.
    macro_body: Option<(usize, usize)>,
}

impl<'a> Lexer<'a> {
    fn new(src: &'a str) -> Lexer<'a> {
        Lexer {
            src,
            pos: 0,
            line: 1,
            macro_body: None,
        }
    }

    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn unterminated(&self, at: usize, line: usize, what: &str) -> ReadError {
        ReadError::new(
            self.src,
            at,
            line,
            ReadErrorKind::Unterminated,
            format!("{what} opened here is never closed; Renode would refuse the script"),
        )
    }

    /// The next non-empty statement, or `None` at the end of the script.
    fn next_statement(&mut self) -> Result<Option<Statement<'a>>, ReadError> {
        let mut statement = Statement {
            tokens: Vec::new(),
            start: self.pos,
            line: self.line,
        };
        loop {
            let rest = self.rest();
            let Some(c) = rest.chars().next() else {
                if let Some((at, line)) = self.macro_body {
                    return Err(self.unterminated(at, line, "macro body"));
                }
                return Ok((!statement.tokens.is_empty()).then_some(statement));
            };
            let token_start = (self.pos, self.line);
            match c {
                '\n' | ';' => {
                    self.pos += 1;
                    if c == '\n' {
                        self.line += 1;
                        // `macro reset` on one line and its `"""` body on the next is one
                        // command (the layout of Renode's own scripts).
                        let macro_head =
                            matches!(statement.tokens[..], [Token::Word("macro"), Token::Word(_)]);
                        if macro_head && self.rest().trim_start().starts_with("\"\"\"") {
                            continue;
                        }
                    }
                    if !statement.tokens.is_empty() {
                        return Ok(Some(statement));
                    }
                    continue;
                }
                c if c.is_whitespace() => {
                    self.pos += c.len_utf8();
                    continue;
                }
                '#' | ':' => {
                    self.pos += rest.find('\n').unwrap_or(rest.len());
                    continue;
                }
                '"' if rest.starts_with("\"\"\"") => {
                    self.pos += 3;
                    if self.macro_body.take().is_some() {
                        if !statement.tokens.is_empty() {
                            return Ok(Some(statement));
                        }
                        continue;
                    }
                    if let [Token::Word("macro"), Token::Word(_)] = statement.tokens[..] {
                        self.macro_body = Some((statement.start, statement.line));
                        statement.tokens.clear();
                        continue;
                    }
                    let close = self
                        .rest()
                        .find("\"\"\"")
                        .ok_or_else(|| self.unterminated(token_start.0, token_start.1, "\"\"\""))?;
                    self.skip(close + 3);
                    statement.tokens.push(Token::Quoted);
                }
                '"' | '\'' | '`' => {
                    let len = quoted_len(rest, c)
                        .ok_or_else(|| self.unterminated(token_start.0, token_start.1, "string"))?;
                    self.skip(len);
                    statement.tokens.push(Token::Quoted);
                }
                '<' => match rest.find(['>', '\n']) {
                    Some(end) if rest.as_bytes()[end] == b'>' => {
                        statement.tokens.push(Token::Range(&rest[1..end]));
                        self.pos += end + 1;
                    }
                    _ => statement.tokens.push(Token::Word(self.word(true))),
                },
                '@' => statement.tokens.push(Token::Word(self.word(true))),
                _ => statement.tokens.push(Token::Word(self.word(false))),
            }
            if statement.tokens.len() == 1 {
                (statement.start, statement.line) = token_start;
            }
        }
    }

    /// Consumes a word; a path (`@...`) runs to white space or `;`, other words also stop at
    /// comments and quotes.
    fn word(&mut self, path: bool) -> &'a str {
        let rest = self.rest();
        let end = rest
            .find(|c: char| {
                c.is_whitespace() || c == ';' || (!path && matches!(c, '#' | '"' | '\'' | '`'))
            })
            .unwrap_or(rest.len());
        self.pos += end;
        &rest[..end]
    }

    /// Advances over `len` bytes, counting new lines.
    fn skip(&mut self, len: usize) {
        self.line += self.rest()[..len].matches('\n').count();
        self.pos += len;
    }
}

/// Length of the quoted string at the start of `rest` (opened by `quote`), quotes included.
///
/// Renode's strings take backslash escapes; a backtick execution ends at the next backtick on
/// the same line.
fn quoted_len(rest: &str, quote: char) -> Option<usize> {
    let mut chars = rest.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if quote != '`' => {
                chars.next();
            }
            '\n' if quote == '`' => return None,
            c if c == quote => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// A reason the reader refuses a statement.
type Refusal = (ReadErrorKind, String);

/// The memory operation of a statement, `None` for commands the reader ignores.
fn interpret(statement: &Statement<'_>) -> Result<Option<MemoryOp>, Refusal> {
    let [Token::Word("sysbus"), Token::Word(method), operands @ ..] = &statement.tokens[..] else {
        return Ok(None);
    };
    match *method {
        "WriteDoubleWord" => {
            let [address, value] = operands_exact(operands, &["address", "value"])?;
            let address = number(address, "address")?;
            let value = number(value, "value")?;
            let value = u32::try_from(value).map_err(|_| {
                (
                    ReadErrorKind::TooLarge,
                    format!(
                        "value {value:#x} does not fit a double word (32 bits, at most 0xffffffff)"
                    ),
                )
            })?;
            Ok(Some(MemoryOp::DoubleWord { address, value }))
        }
        "ZeroRange" => zero_range(operands).map(Some),
        other if is_unmodelled_write(other) => Err((
            ReadErrorKind::UnsupportedWrite,
            format!(
                "`sysbus {}` writes memory but the reader only models WriteDoubleWord and \
                 ZeroRange; write the words with WriteDoubleWord",
                truncate(other, MAX_ERROR_OPERAND_LEN)
            ),
        )),
        _ => Ok(None),
    }
}

/// `sysbus` methods that write memory and that the reader does not model (Renode's
/// `SystemBus`: WriteByte/Word/QuadWord, WriteBytes, WriteString, and their variants).
fn is_unmodelled_write(method: &str) -> bool {
    method.starts_with("Write") || method.eq_ignore_ascii_case("writedoubleword")
}

fn operands_exact<'t, 'a, const N: usize>(
    operands: &'t [Token<'a>],
    names: &[&str; N],
) -> Result<&'t [Token<'a>; N], Refusal> {
    match <&[Token<'a>; N]>::try_from(operands) {
        Ok(exact) => Ok(exact),
        Err(_) if operands.len() > N => Err((
            ReadErrorKind::ExtraOperand,
            format!(
                "takes {N} operands ({}) but has {}",
                names.join(", "),
                operands.len()
            ),
        )),
        Err(_) => Err((
            ReadErrorKind::MissingOperand,
            format!(
                "{} is missing (takes {N} operands: {})",
                names[operands.len()],
                names.join(", ")
            ),
        )),
    }
}

/// `ZeroRange <start size>`, `ZeroRange <first, last>` or `ZeroRange start size`.
fn zero_range(operands: &[Token<'_>]) -> Result<MemoryOp, Refusal> {
    let (address, length) = match operands {
        [Token::Range(range)] => match range.split_once(',') {
            Some((first, last)) => {
                let first = number_text(first.trim(), "range start")?;
                let last = number_text(last.trim(), "range end")?;
                if first > last {
                    return Err((
                        ReadErrorKind::BadRange,
                        format!(
                            "range <{first:#x}, {last:#x}> ends before it starts; write \
                             <start size> without a comma when the second number is a size"
                        ),
                    ));
                }
                let length = (last - first).checked_add(1).ok_or_else(|| {
                    (
                        ReadErrorKind::TooLarge,
                        "range covers all 2^64 addresses".to_owned(),
                    )
                })?;
                (first, length)
            }
            None => {
                let mut parts = range.split_whitespace();
                match (parts.next(), parts.next(), parts.next()) {
                    (Some(start), Some(size), None) => (
                        number_text(start, "range start")?,
                        number_text(size, "range size")?,
                    ),
                    _ => {
                        return Err((
                            ReadErrorKind::BadRange,
                            format!(
                                "range <{}> is not <start size> or <first, last>",
                                truncate(range.trim(), MAX_ERROR_OPERAND_LEN)
                            ),
                        ));
                    }
                }
            }
        },
        [Token::Range(_), ..] => {
            return Err((
                ReadErrorKind::ExtraOperand,
                "takes one range, <start size> or <first, last>, but has more operands".to_owned(),
            ));
        }
        _ => {
            let [address, size] = operands_exact(operands, &["address", "size"])?;
            (number(address, "address")?, number(size, "size")?)
        }
    };
    if address.checked_add(length.saturating_sub(1)).is_none() {
        return Err((
            ReadErrorKind::TooLarge,
            format!("range {address:#x} + {length:#x} bytes runs past the end of the 64-bit bus"),
        ));
    }
    Ok(MemoryOp::Zero { address, length })
}

fn number(token: &Token<'_>, what: &str) -> Result<u64, Refusal> {
    match token {
        Token::Word(text) => number_text(text, what),
        Token::Range(_) => Err((
            ReadErrorKind::NotANumber,
            format!("{what} is a range, not a number (expected 0x-prefixed hex or decimal)"),
        )),
        Token::Quoted => Err((
            ReadErrorKind::NotANumber,
            format!(
                "{what} is a quoted string, not a number (expected 0x-prefixed hex or decimal)"
            ),
        )),
    }
}

/// A number as Renode's tokenizer reads it: `0x` + hex digits (either case), or decimal
/// digits with an optional `+`.
fn number_text(text: &str, what: &str) -> Result<u64, Refusal> {
    let shown = truncate(text, MAX_ERROR_OPERAND_LEN);
    let not_a_number = || {
        (
            ReadErrorKind::NotANumber,
            format!("{what} \"{shown}\" is not a number (expected 0x-prefixed hex or decimal)"),
        )
    };
    let (digits, radix) = match text.strip_prefix("0x") {
        Some(hex) => (hex, 16),
        None => (text.strip_prefix('+').unwrap_or(text), 10),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        let negative = text
            .strip_prefix('-')
            .is_some_and(|magnitude| number_text(magnitude, what).is_ok());
        if negative {
            return Err((
                ReadErrorKind::Negative,
                format!("{what} \"{shown}\" is negative"),
            ));
        }
        return Err(not_a_number());
    }
    u64::from_str_radix(digits, radix).map_err(|_| {
        (
            ReadErrorKind::TooLarge,
            format!("{what} \"{shown}\" does not fit 64 bits"),
        )
    })
}

#[cfg(test)]
mod tests;
