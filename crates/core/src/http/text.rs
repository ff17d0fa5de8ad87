//! Line splitting, byte classes and error excerpts shared by the request parsers.

const EXCERPT_CHARS: usize = 60;

/// Characters other than letters and digits that RFC 9110 section 5.6.2 allows in a token.
const TOKEN_PUNCTUATION: &[u8] = b"!#$%&'*+-.^_`|~";

/// One line of the input without its line ending.
#[derive(Clone, Copy, Debug)]
pub(super) struct Line<'a> {
    /// 1-based line number in the input.
    pub(super) number: usize,
    /// Line content without the LF and without a CR directly before it.
    pub(super) content: &'a [u8],
    /// Offset of the first byte of the line.
    pub(super) start: usize,
    /// Offset just after the line ending.
    pub(super) end: usize,
}

/// Iterator over the lines of `input` from a start offset. Lines end at LF, and a CR
/// directly before the LF is removed, so CRLF and bare LF endings read the same.
pub(super) struct Lines<'a> {
    input: &'a [u8],
    position: usize,
    number: usize,
}

impl<'a> Lines<'a> {
    pub(super) fn new(input: &'a [u8], start: usize, first_number: usize) -> Self {
        Self {
            input,
            position: start,
            number: first_number,
        }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = Line<'a>;

    fn next(&mut self) -> Option<Line<'a>> {
        let rest = self.input.get(self.position..)?;
        if rest.is_empty() {
            return None;
        }
        let (with_carriage_return, consumed) = match rest.iter().position(|&byte| byte == b'\n') {
            Some(newline) => (rest.get(..newline).unwrap_or(rest), newline + 1),
            None => (rest, rest.len()),
        };
        let content = with_carriage_return
            .strip_suffix(b"\r")
            .unwrap_or(with_carriage_return);

        let line = Line {
            number: self.number,
            content,
            start: self.position,
            end: self.position + consumed,
        };
        self.position += consumed;
        self.number += 1;
        Some(line)
    }
}

fn is_whitespace_byte(byte: &u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | b'\n')
}

pub(super) fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(is_whitespace_byte)
}

pub(super) fn first_non_whitespace(input: &[u8]) -> Option<usize> {
    input.iter().position(|byte| !is_whitespace_byte(byte))
}

pub(super) fn strip_byte_order_mark(input: &[u8]) -> &[u8] {
    input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input)
}

/// Returns the 1-based number of the line that contains `offset`.
pub(super) fn line_number_at(input: &[u8], offset: usize) -> usize {
    let before = input.get(..offset).unwrap_or(input);
    1 + before.iter().filter(|&&byte| byte == b'\n').count()
}

/// Strips the spaces and tabs that HTTP allows around a header value (OWS).
pub(super) fn trim_optional_whitespace(mut bytes: &[u8]) -> &[u8] {
    while let Some(rest) = bytes
        .strip_prefix(b" ")
        .or_else(|| bytes.strip_prefix(b"\t"))
    {
        bytes = rest;
    }
    while let Some(rest) = bytes
        .strip_suffix(b" ")
        .or_else(|| bytes.strip_suffix(b"\t"))
    {
        bytes = rest;
    }
    bytes
}

pub(super) fn strip_one_line_ending(bytes: &[u8]) -> &[u8] {
    if let Some(rest) = bytes.strip_suffix(b"\r\n") {
        rest
    } else {
        bytes.strip_suffix(b"\n").unwrap_or(bytes)
    }
}

pub(super) fn trailing_whitespace_len(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .rev()
        .take_while(|byte| is_whitespace_byte(byte))
        .count()
}

/// Decodes bytes as latin1: each byte becomes the character with the same code point.
pub(super) fn latin1_to_string(bytes: &[u8]) -> String {
    bytes.iter().map(|&byte| char::from(byte)).collect()
}

/// Returns at most [`EXCERPT_CHARS`] characters of `text`, escaped for display, with `…`
/// when the text was longer.
pub(super) fn excerpt(text: &str) -> String {
    let mut characters = text.chars();
    let head: String = characters.by_ref().take(EXCERPT_CHARS).collect();
    let mut escaped: String = head.escape_debug().collect();
    if characters.next().is_some() {
        escaped.push('…');
    }
    escaped
}

pub(super) fn excerpt_bytes(bytes: &[u8]) -> String {
    let head = bytes.get(..EXCERPT_CHARS + 1).unwrap_or(bytes);
    excerpt(&latin1_to_string(head))
}

pub(super) fn is_token(bytes: &[u8]) -> bool {
    !bytes.is_empty()
        && bytes
            .iter()
            .all(|byte| byte.is_ascii_alphanumeric() || TOKEN_PUNCTUATION.contains(byte))
}

/// Returns the first character that Node would reject in a header value, or that cannot
/// come from a latin1-decoded byte.
pub(super) fn invalid_header_value_character(value: &str) -> Option<char> {
    value.chars().find(|&character| {
        (character < ' ' && character != '\t') || character == '\u{7f}' || character > '\u{ff}'
    })
}

/// Bytes that one header line takes on the wire: `name: value` and CRLF.
pub(super) fn header_line_wire_bytes(name: &str, value: &str) -> usize {
    name.len()
        .saturating_add(value.chars().count())
        .saturating_add(4)
}
