//! JSON text to [`Value`], following the grammar of ECMAScript `JSON.parse`.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};

use super::{JsString, JsonError, Limits, Object, ParseReport, Parsed, Value};

/// Objects with more members than this get a hash index for the duplicate-key
/// check, so a large object parses in linear time.
const INDEX_THRESHOLD: usize = 16;

/// Decimal literals with at most this many significant digits map to distinct
/// doubles and print back unchanged, as long as they lie in the normal range
/// of doubles (DBL_DIG in C's `<float.h>`).
const EXACT_DIGITS: usize = 15;

/// Decimal exponents, for the form `0.ddd × 10^exponent`, well inside the
/// normal range of doubles (about 1e-307 to 1.8e308).
const NORMAL_EXPONENTS: std::ops::RangeInclusive<i64> = -290..=290;

/// Parses a JSON text as ECMAScript `JSON.parse` does, and reports duplicate
/// keys, lossy numbers and `__proto__` members.
///
/// The text may be any JSON value, with space, tab, LF and CR as whitespace.
/// Number literals become the nearest double, so `1e400` is `Infinity`.
/// `\uXXXX` escapes are kept as UTF-16 code units, lone surrogates included.
///
/// # Errors
///
/// [`JsonError::TooLarge`] if `text` is longer than `limits.max_bytes`, checked
/// before any parsing. [`JsonError::TooDeep`] if arrays and objects nest deeper
/// than `limits.max_depth`. [`JsonError::Syntax`] with the byte offset of the
/// first character that `JSON.parse` would reject.
pub fn parse(text: &str, limits: &Limits) -> Result<Parsed, JsonError> {
    parse_with(text, limits, Duplicates::Merge)
}

/// The handling of a key that repeats in one object.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Duplicates {
    /// Keep the last value in the first position, as `JSON.parse` does.
    Merge,
    /// Keep every member in document order, so the object may repeat a key.
    Keep,
}

pub(super) fn parse_with(
    text: &str,
    limits: &Limits,
    duplicates: Duplicates,
) -> Result<Parsed, JsonError> {
    if text.len() > limits.max_bytes {
        return Err(JsonError::TooLarge {
            len: text.len(),
            max: limits.max_bytes,
        });
    }

    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        report: ParseReport::default(),
        hasher: RandomState::new(),
        duplicates,
    };
    let value = parser.parse_document(limits.max_depth)?;
    Ok(Parsed {
        value,
        report: parser.report,
    })
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    /// Byte offset of the next unread byte.
    pos: usize,
    report: ParseReport,
    hasher: RandomState,
    duplicates: Duplicates,
}

/// An array or object whose closing bracket has not been read yet.
enum Frame {
    Array(Vec<Value>),
    Object(ObjectBuilder),
}

struct ObjectBuilder {
    members: Vec<(JsString, Value)>,
    /// Key of the member whose value is being parsed.
    key: JsString,
    /// Map from key hash to the first member with that hash, built once the
    /// object has more than [`INDEX_THRESHOLD`] members.
    index: Option<HashMap<u64, usize>>,
}

impl ObjectBuilder {
    fn new(key: JsString) -> Self {
        Self {
            members: Vec::new(),
            key,
            index: None,
        }
    }

    /// Adds the pending key with `value`. A repeated key replaces the earlier
    /// value in its earlier position, as `JSON.parse` does.
    fn insert(&mut self, value: Value, hasher: &RandomState, report: &mut ParseReport) {
        let key = std::mem::take(&mut self.key);
        // Small objects are scanned, so their keys need no hash.
        let hash = self.index.as_ref().map(|_| hasher.hash_one(key.units()));

        if let Some(position) = self.find(&key, hash) {
            report.duplicate_keys = true;
            if let Some((_, slot)) = self.members.get_mut(position) {
                *slot = value;
            }
            return;
        }

        let position = self.members.len();
        self.members.push((key, value));
        match (&mut self.index, hash) {
            (Some(index), Some(hash)) => {
                index.entry(hash).or_insert(position);
            }
            (None, _) if self.members.len() > INDEX_THRESHOLD => {
                let mut index = HashMap::with_capacity(self.members.len() * 2);
                for (position, (key, _)) in self.members.iter().enumerate() {
                    index
                        .entry(hasher.hash_one(key.units()))
                        .or_insert(position);
                }
                self.index = Some(index);
            }
            _ => {}
        }
    }

    /// Adds the pending key with `value` after the other members, even if the
    /// key is already there.
    fn push(&mut self, value: Value) {
        let key = std::mem::take(&mut self.key);
        self.members.push((key, value));
    }

    /// Returns the position of the member named `key`. `hash` is the key's
    /// hash when the object has an index.
    fn find(&self, key: &JsString, hash: Option<u64>) -> Option<usize> {
        let linear_scan = || self.members.iter().position(|(k, _)| k == key);
        let (Some(index), Some(hash)) = (&self.index, hash) else {
            return linear_scan();
        };
        let position = *index.get(&hash)?;
        match self.members.get(position) {
            Some((k, _)) if k == key => Some(position),
            // Two different keys with the same 64-bit hash: the index stores
            // only the first, so check every member.
            _ => linear_scan(),
        }
    }

    fn finish(self) -> Object {
        Object {
            members: self.members,
        }
    }
}

impl Parser<'_> {
    /// Parses one JSON value followed only by whitespace.
    ///
    /// Open arrays and objects live on a heap stack, `open`, with the innermost
    /// one in `current`, so nesting depth costs no native stack.
    fn parse_document(&mut self, max_depth: usize) -> Result<Value, JsonError> {
        let mut open: Vec<Frame> = Vec::new();
        let mut current: Option<Frame> = None;

        'value: loop {
            self.skip_whitespace();
            let depth = open.len() + usize::from(current.is_some());
            let mut value = match self.peek() {
                Some(b'{') => {
                    if depth >= max_depth {
                        return Err(JsonError::TooDeep { max: max_depth });
                    }
                    self.pos += 1;
                    self.skip_whitespace();
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                        Value::Object(Object::new())
                    } else {
                        let key = self.parse_key()?;
                        open.extend(current.take());
                        current = Some(Frame::Object(ObjectBuilder::new(key)));
                        continue 'value;
                    }
                }
                Some(b'[') => {
                    if depth >= max_depth {
                        return Err(JsonError::TooDeep { max: max_depth });
                    }
                    self.pos += 1;
                    self.skip_whitespace();
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                        Value::Array(Vec::new())
                    } else {
                        open.extend(current.take());
                        current = Some(Frame::Array(Vec::new()));
                        continue 'value;
                    }
                }
                Some(b'"') => Value::String(self.parse_string()?),
                Some(b't') => self.parse_literal(b"true", Value::Bool(true))?,
                Some(b'f') => self.parse_literal(b"false", Value::Bool(false))?,
                Some(b'n') => self.parse_literal(b"null", Value::Null)?,
                Some(b'-' | b'0'..=b'9') => Value::Number(self.parse_number()?),
                Some(_) => return Err(self.error("expected a JSON value")),
                None => return Err(self.end_of_input()),
            };

            // Add the finished value to the innermost open container. When
            // that container closes, it is the next finished value.
            loop {
                match current.take() {
                    None => {
                        self.skip_whitespace();
                        if self.pos < self.bytes.len() {
                            return Err(self.error("unexpected text after the JSON value"));
                        }
                        return Ok(value);
                    }
                    Some(Frame::Array(mut items)) => {
                        items.push(value);
                        self.skip_whitespace();
                        match self.peek() {
                            Some(b',') => {
                                self.pos += 1;
                                self.skip_whitespace();
                                if self.peek() == Some(b']') {
                                    return Err(
                                        self.error("trailing comma before ']' is not allowed")
                                    );
                                }
                                current = Some(Frame::Array(items));
                                continue 'value;
                            }
                            Some(b']') => {
                                self.pos += 1;
                                value = Value::Array(items);
                            }
                            Some(_) => {
                                return Err(
                                    self.error("expected ',' or ']' after an array element")
                                );
                            }
                            None => return Err(self.end_of_input()),
                        }
                    }
                    Some(Frame::Object(mut builder)) => {
                        match self.duplicates {
                            Duplicates::Merge => {
                                builder.insert(value, &self.hasher, &mut self.report);
                            }
                            Duplicates::Keep => builder.push(value),
                        }
                        self.skip_whitespace();
                        match self.peek() {
                            Some(b',') => {
                                self.pos += 1;
                                self.skip_whitespace();
                                if self.peek() == Some(b'}') {
                                    return Err(
                                        self.error("trailing comma before '}' is not allowed")
                                    );
                                }
                                builder.key = self.parse_key()?;
                                current = Some(Frame::Object(builder));
                                continue 'value;
                            }
                            Some(b'}') => {
                                self.pos += 1;
                                value = Value::Object(builder.finish());
                            }
                            Some(_) => {
                                return Err(
                                    self.error("expected ',' or '}' after an object member")
                                );
                            }
                            None => return Err(self.end_of_input()),
                        }
                    }
                }
                current = open.pop();
            }
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn error(&self, message: &'static str) -> JsonError {
        JsonError::Syntax {
            offset: self.pos,
            message,
        }
    }

    fn end_of_input(&self) -> JsonError {
        JsonError::Syntax {
            offset: self.bytes.len(),
            message: "unexpected end of input, the JSON text is truncated",
        }
    }

    fn parse_literal(&mut self, literal: &[u8], value: Value) -> Result<Value, JsonError> {
        let end = self.pos + literal.len();
        if self.bytes.get(self.pos..end) != Some(literal) {
            return Err(self.error("invalid literal, expected true, false or null"));
        }
        self.pos = end;
        Ok(value)
    }

    /// Parses a property name and the `:` after it, starting at `"`.
    fn parse_key(&mut self) -> Result<JsString, JsonError> {
        match self.peek() {
            Some(b'"') => {}
            Some(_) => return Err(self.error("expected a double-quoted property name")),
            None => return Err(self.end_of_input()),
        }
        let key = self.parse_string()?;
        if key.eq_str("__proto__") {
            self.report.proto_key = true;
        }

        self.skip_whitespace();
        match self.peek() {
            Some(b':') => {}
            Some(_) => return Err(self.error("expected ':' after a property name")),
            None => return Err(self.end_of_input()),
        }
        self.pos += 1;
        Ok(key)
    }

    /// Parses a string literal starting at its opening `"`.
    fn parse_string(&mut self) -> Result<JsString, JsonError> {
        let opening_quote = self.pos;
        self.pos += 1;
        let mut units: Vec<u16> = Vec::new();

        loop {
            // Copy the run of characters up to the next quote, backslash or
            // control character. The run ends at an ASCII byte or the end of
            // input, so it is a valid `str` slice.
            let run_start = self.pos;
            let mut ascii = true;
            while let Some(byte) = self.peek() {
                if byte == b'"' || byte == b'\\' || byte < 0x20 {
                    break;
                }
                ascii &= byte.is_ascii();
                self.pos += 1;
            }
            if ascii {
                let run = self.bytes.get(run_start..self.pos).unwrap_or_default();
                units.extend(run.iter().map(|&byte| u16::from(byte)));
            } else if let Some(run) = self.text.get(run_start..self.pos) {
                units.extend(run.encode_utf16());
            }

            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(JsString(units));
                }
                Some(b'\\') => units.push(self.parse_escape()?),
                Some(_) => {
                    return Err(self.error(
                        "control character U+0000 to U+001F in a string must be escaped as \\u00XX",
                    ));
                }
                None => {
                    return Err(JsonError::Syntax {
                        offset: opening_quote,
                        message: "string has no closing quote",
                    });
                }
            }
        }
    }

    /// Parses an escape sequence starting at its backslash and returns its code
    /// unit. A surrogate pair written as two `\u` escapes is two calls, and the
    /// two units together form the character.
    fn parse_escape(&mut self) -> Result<u16, JsonError> {
        let backslash = self.pos;
        let unit = match self.bytes.get(backslash + 1) {
            Some(b'"') => u16::from(b'"'),
            Some(b'\\') => u16::from(b'\\'),
            Some(b'/') => u16::from(b'/'),
            Some(b'b') => 0x08,
            Some(b'f') => 0x0C,
            Some(b'n') => u16::from(b'\n'),
            Some(b'r') => u16::from(b'\r'),
            Some(b't') => u16::from(b'\t'),
            Some(b'u') => {
                let digits = self.bytes.get(backslash + 2..backslash + 6);
                let unit = digits.and_then(parse_hex4).ok_or(JsonError::Syntax {
                    offset: backslash,
                    message: "invalid \\u escape, expected four hexadecimal digits",
                })?;
                self.pos = backslash + 6;
                return Ok(unit);
            }
            Some(_) => {
                return Err(self.error(
                    "invalid escape, expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX",
                ));
            }
            None => return Err(self.end_of_input()),
        };
        self.pos = backslash + 2;
        Ok(unit)
    }

    /// Parses a number literal and rounds it to the nearest double.
    fn parse_number(&mut self) -> Result<f64, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.error("leading zeros are not allowed in numbers"));
                }
            }
            Some(b'1'..=b'9') => {
                self.skip_digits();
            }
            _ => return Err(self.error("expected a digit after '-'")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !self.skip_digits() {
                return Err(self.error("expected a digit after the decimal point"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !self.skip_digits() {
                return Err(self.error("expected a digit in the exponent"));
            }
        }

        let literal = self.text.get(start..self.pos).unwrap_or_default();
        // The grammar above is a subset of what `f64::from_str` accepts, and
        // `from_str` rounds correctly, saturating to infinity or zero.
        let value: f64 = literal.parse().map_err(|_| JsonError::Syntax {
            offset: start,
            message: "number literal could not be converted to a double",
        })?;
        if is_lossy(literal.as_bytes(), value) {
            self.report.lossy_numbers = true;
        }
        Ok(value)
    }

    /// Skips ASCII digits and returns whether there was at least one.
    fn skip_digits(&mut self) -> bool {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos > start
    }
}

fn parse_hex4(digits: &[u8]) -> Option<u16> {
    let [a, b, c, d] = *digits else {
        return None;
    };
    let mut unit: u16 = 0;
    for digit in [a, b, c, d] {
        let value = char::from(digit).to_digit(16)?;
        unit = (unit << 4) | u16::try_from(value).ok()?;
    }
    Some(unit)
}

/// Returns whether the number literal has a different decimal value than the
/// shortest decimal that round-trips `value`, which is what
/// `Number.prototype.toString` prints.
fn is_lossy(literal: &[u8], value: f64) -> bool {
    if !value.is_finite() {
        return true;
    }
    let Some(written) = Decimal::normalise(literal) else {
        // A literal of zeros parses to 0 or -0 and prints as 0.
        return false;
    };
    if value == 0.0 {
        return true;
    }
    if written.len <= EXACT_DIGITS && NORMAL_EXPONENTS.contains(&written.exponent) {
        return false;
    }
    is_lossy_by_printing(&written, value)
}

fn is_lossy_by_printing(written: &Decimal<'_>, value: f64) -> bool {
    let mut buffer = ryu_js::Buffer::new();
    let shortest = buffer.format_finite(value);
    match Decimal::normalise(shortest.as_bytes()) {
        Some(printed) => !written.same_value(&printed),
        None => true,
    }
}

/// The magnitude of a non-zero decimal literal in the normalised form
/// `0.d₁d₂…dₙ × 10^exponent`, with d₁ and dₙ non-zero.
struct Decimal<'a> {
    integer: &'a [u8],
    fraction: &'a [u8],
    /// Index of d₁ in the digits of `integer` followed by `fraction`.
    first: usize,
    /// n, the number of significant digits.
    len: usize,
    /// Saturates for exponents beyond ±2^63, which only literals that parse
    /// to infinity or zero can have.
    exponent: i64,
}

impl<'a> Decimal<'a> {
    /// Normalises a literal of the form `-?digits(.digits)?([eE][+-]?digits)?`.
    /// Returns `None` if every digit is zero.
    fn normalise(literal: &'a [u8]) -> Option<Self> {
        let unsigned = literal.strip_prefix(b"-").unwrap_or(literal);
        let (mantissa, exponent_part) = match unsigned.iter().position(|b| matches!(b, b'e' | b'E'))
        {
            Some(e) => (unsigned.get(..e)?, unsigned.get(e + 1..)?),
            None => (unsigned, &[][..]),
        };
        let (integer, fraction) = match mantissa.iter().position(|&b| b == b'.') {
            Some(point) => (mantissa.get(..point)?, mantissa.get(point + 1..)?),
            None => (mantissa, &[][..]),
        };

        let (negative, exponent_digits) = match exponent_part.split_first() {
            Some((b'-', digits)) => (true, digits),
            Some((b'+', digits)) => (false, digits),
            _ => (false, exponent_part),
        };
        let mut exponent: i64 = 0;
        for &digit in exponent_digits {
            exponent = exponent
                .saturating_mul(10)
                .saturating_add(i64::from(digit.wrapping_sub(b'0')));
        }
        if negative {
            exponent = -exponent;
        }

        let digits = || integer.iter().chain(fraction);
        let first = digits().position(|&d| d != b'0')?;
        let trailing_zeros = digits().rev().position(|&d| d != b'0')?;
        let total = integer.len() + fraction.len();
        let integer_len = i64::try_from(integer.len()).ok()?;
        let first_i64 = i64::try_from(first).ok()?;
        Some(Self {
            integer,
            fraction,
            first,
            len: total - first - trailing_zeros,
            exponent: (integer_len - first_i64).saturating_add(exponent),
        })
    }

    fn significant_digits(&self) -> impl Iterator<Item = &u8> {
        self.integer
            .iter()
            .chain(self.fraction)
            .skip(self.first)
            .take(self.len)
    }

    fn same_value(&self, other: &Decimal<'_>) -> bool {
        self.exponent == other.exponent
            && self.len == other.len
            && self.significant_digits().eq(other.significant_digits())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::json::{KeyOrder, stringify};

    fn parse_default(text: &str) -> Result<Parsed, JsonError> {
        parse(text, &Limits::default())
    }

    fn roundtrip(text: &str) -> String {
        let parsed = parse_default(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        stringify(&parsed.value, KeyOrder::Insertion)
    }

    fn string_units(text: &str) -> Vec<u16> {
        match parse_default(text).unwrap().value {
            Value::String(ref s) => s.units().to_vec(),
            ref other => panic!("{text:?} parsed to {other:?}"),
        }
    }

    fn syntax_error(text: &str) -> (usize, &'static str) {
        match parse_default(text) {
            Err(JsonError::Syntax { offset, message }) => (offset, message),
            Err(other) => panic!("{text:?}: expected a syntax error, got {other:?}"),
            Ok(parsed) => panic!(
                "{text:?}: expected a syntax error, parsed {:?}",
                parsed.value
            ),
        }
    }

    fn number(text: &str) -> f64 {
        parse_default(text).unwrap().value.as_f64().unwrap()
    }

    fn lossy(text: &str) -> bool {
        parse_default(text).unwrap().report.lossy_numbers
    }

    #[test]
    fn escapes_table() {
        let cases: &[(&str, &[u16])] = &[
            (r#""\"""#, &[0x22]),
            (r#""\\""#, &[0x5C]),
            (r#""\/""#, &[0x2F]),
            (r#""\b""#, &[0x08]),
            (r#""\f""#, &[0x0C]),
            (r#""\n""#, &[0x0A]),
            (r#""\r""#, &[0x0D]),
            (r#""\t""#, &[0x09]),
            (r#""\u0041""#, &[0x41]),
            (r#""\u0000""#, &[0x00]),
            (r#""\u00e9""#, &[0xE9]),
            (r#""\u00E9""#, &[0xE9]),
            (r#""\uAbCd""#, &[0xABCD]),
            (r#""\uffff""#, &[0xFFFF]),
            (r#""a\nb\\c""#, &[0x61, 0x0A, 0x62, 0x5C, 0x63]),
        ];
        for &(text, expected) in cases {
            assert_eq!(string_units(text), expected, "{text}");
        }
    }

    #[test]
    fn escaped_surrogate_pair_joins() {
        assert_eq!(string_units(r#""\ud83d\ude00""#), [0xD83D, 0xDE00]);
        assert_eq!(roundtrip(r#""\ud83d\ude00""#), "\"😀\"");
        assert_eq!(roundtrip(r#""\uD83D\uDE00""#), "\"😀\"");
    }

    #[test]
    fn lone_surrogate_escape_kept() {
        assert_eq!(string_units(r#""\ud800""#), [0xD800]);
        assert_eq!(string_units(r#""\udc00x""#), [0xDC00, 0x78]);
        // Reversed order is two lone surrogates.
        assert_eq!(string_units(r#""\ude00\ud83d""#), [0xDE00, 0xD83D]);
        // A high surrogate escape followed by a raw character does not pair.
        assert_eq!(string_units(r#""\ud83dé""#), [0xD83D, 0xE9]);
    }

    #[test]
    fn raw_non_ascii_becomes_utf16() {
        assert_eq!(
            string_units("\"aé€😀\""),
            [0x61, 0xE9, 0x20AC, 0xD83D, 0xDE00]
        );
        assert_eq!(string_units("\"\u{7F}\u{2028}\""), [0x7F, 0x2028]);
    }

    #[test]
    fn invalid_escapes_rejected() {
        for text in [
            r#""\a""#,
            r#""\x41""#,
            r#""\'""#,
            r#""\0""#,
            r#""\U0041""#,
            r#""\u12""#,
            r#""\u12G4""#,
            r#""\u-123""#,
            r#""\u 123""#,
            r#""\ ""#,
            "\"\\é\"",
        ] {
            let (offset, message) = syntax_error(text);
            assert_eq!(offset, 1, "{text}: {message}");
        }
    }

    #[test]
    fn raw_control_characters_rejected() {
        for byte in 0x00u8..0x20 {
            let text = format!("\"a{}\"", char::from(byte));
            let (offset, message) = syntax_error(&text);
            assert_eq!(offset, 2, "byte {byte:#04x}");
            assert!(message.contains("control character"), "{message}");
        }
    }

    #[test]
    fn whitespace_only_four_characters() {
        assert_eq!(roundtrip(" \t\n\r[ \t\n\r1 \t\n\r, 2 ] \t\n\r"), "[1,2]");
        for space in [
            "\u{0B}", "\u{0C}", "\u{A0}", "\u{FEFF}", "\u{2028}", "\u{3000}",
        ] {
            let text = format!("{space}1");
            assert_eq!(syntax_error(&text).0, 0, "{text:?}");
            let text = format!("[1,{space}2]");
            assert_eq!(syntax_error(&text).0, 3, "{text:?}");
        }
    }

    #[test]
    fn top_level_scalars() {
        assert_eq!(
            parse_default("\"x\"").unwrap().value,
            Value::String("x".into())
        );
        assert_eq!(parse_default(" 1 ").unwrap().value, Value::Number(1.0));
        assert_eq!(parse_default("null").unwrap().value, Value::Null);
        assert_eq!(parse_default("true").unwrap().value, Value::Bool(true));
        assert_eq!(parse_default("false").unwrap().value, Value::Bool(false));
    }

    #[test]
    fn invalid_literals_rejected() {
        for text in [
            "tru",
            "nul",
            "fals",
            "True",
            "NULL",
            "nulll",
            "NaN",
            "Infinity",
            "undefined",
            "-Infinity",
        ] {
            syntax_error(text);
        }
    }

    #[test]
    fn number_grammar_accepted() {
        for (text, expected) in [
            ("0", 0.0),
            ("-0", -0.0),
            ("1.5", 1.5),
            ("-1.5", -1.5),
            ("1e5", 1e5),
            ("1E+5", 1e5),
            ("1e-5", 1e-5),
            ("-0.0e0", -0.0),
            ("10", 10.0),
            ("0.25", 0.25),
        ] {
            assert_eq!(number(text), expected, "{text}");
        }
    }

    #[test]
    fn number_grammar_rejected() {
        let cases: &[(&str, usize)] = &[
            ("01", 1),
            ("-01", 2),
            ("00", 1),
            ("+1", 0),
            (".5", 0),
            ("1.", 2),
            ("1.e5", 2),
            ("1e", 2),
            ("1e+", 3),
            ("-", 1),
            ("--1", 1),
            ("-a", 1),
            ("0x10", 1),
            ("1_000", 1),
            ("1.5.2", 3),
            ("1e5.0", 3),
        ];
        for &(text, offset) in cases {
            assert_eq!(syntax_error(text).0, offset, "{text}");
        }
    }

    #[test]
    fn negative_zero_keeps_sign() {
        let value = number("-0");
        assert_eq!(value, 0.0);
        assert!(value.is_sign_negative());
        assert!(!lossy("-0"));
        assert_eq!(roundtrip("-0"), "0");
    }

    #[test]
    fn overflow_to_infinity_underflow_to_zero() {
        assert_eq!(number("1e400"), f64::INFINITY);
        assert_eq!(number("-1e400"), f64::NEG_INFINITY);
        assert_eq!(number("1e99999999999999999999999"), f64::INFINITY);
        assert_eq!(number("1e-400"), 0.0);
        assert!(number("-1e-400").is_sign_negative());
        assert_eq!(number("0e99999999999999999999999"), 0.0);
    }

    #[test]
    fn lossy_numbers_table() {
        let cases: &[(&str, bool)] = &[
            ("0", false),
            ("-0", false),
            ("0.0e5", false),
            ("100", false),
            ("1.00e2", false),
            ("100.000", false),
            ("0.1", false),
            ("5.0", false),
            ("5E-1", false),
            ("0.000001", false),
            ("1e-7", false),
            ("1e21", false),
            ("1e23", false),
            ("9007199254740992", false),
            ("9007199254740993", true),
            ("1e400", true),
            ("-1e400", true),
            ("1e-400", true),
            ("123456789012345678901234567890", true),
            ("1.2345678901234568e+29", false),
            ("0.30000000000000004", false),
            ("0.30000000000000000001", true),
            ("5e-324", false),
            ("2.5e-324", true),
            ("1.7976931348623157e308", false),
            ("1.7976931348623159e308", true),
            ("123456789012345", false),
            ("1234567890123456789", true),
            ("1000000000000000000000000", false),
            ("0e99999999999999999999999", false),
        ];
        for &(text, expected) in cases {
            assert_eq!(lossy(text), expected, "{text}");
        }
    }

    #[test]
    fn lossy_flag_set_inside_containers() {
        assert!(
            parse_default(r#"{"a":[1,2,9007199254740993]}"#)
                .unwrap()
                .report
                .lossy_numbers
        );
        assert!(
            !parse_default(r#"{"a":[1,2.5,1e2]}"#)
                .unwrap()
                .report
                .lossy_numbers
        );
    }

    /// Checks the digit-count shortcut in `is_lossy` against printing every
    /// value, on literals with up to 17 digits and exponents across the range
    /// of doubles.
    #[test]
    fn lossy_shortcut_matches_printing() {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..200_000 {
            let digit_count = usize::try_from(next() % 17).unwrap() + 1;
            let mut digits: String = (0..digit_count)
                .map(|_| char::from(b'0' + u8::try_from(next() % 10).unwrap()))
                .collect();
            if digits.starts_with('0') {
                digits.replace_range(0..1, "1");
            }
            let exponent = i64::try_from(next() % 700).unwrap() - 350;
            let literal = format!("{digits}e{exponent}");
            let value: f64 = literal.parse().unwrap();
            if !value.is_finite() || value == 0.0 {
                continue;
            }
            let written = Decimal::normalise(literal.as_bytes()).unwrap();
            assert_eq!(
                is_lossy(literal.as_bytes(), value),
                is_lossy_by_printing(&written, value),
                "{literal}"
            );
        }
    }

    #[test]
    fn number_serialisation_table() {
        let cases: &[(&str, &str)] = &[
            ("1.00e2", "100"),
            ("5.0", "5"),
            ("5E-1", "0.5"),
            ("-0", "0"),
            ("1e21", "1e+21"),
            ("1e20", "100000000000000000000"),
            ("1e400", "null"),
            ("-1e400", "null"),
            ("123456789012345678901234567890", "1.2345678901234568e+29"),
            ("0.000001", "0.000001"),
            ("1e-7", "1e-7"),
            ("1.5e-7", "1.5e-7"),
            ("9007199254740993", "9007199254740992"),
            ("0.1", "0.1"),
            ("-2.5", "-2.5"),
        ];
        for &(text, expected) in cases {
            assert_eq!(roundtrip(text), expected, "{text}");
        }
    }

    #[test]
    fn duplicate_key_last_value_wins() {
        let parsed = parse_default(r#"{"note":"x","note":"y"}"#).unwrap();
        assert!(parsed.report.duplicate_keys);
        assert_eq!(
            stringify(&parsed.value, KeyOrder::Insertion),
            r#"{"note":"y"}"#
        );
        assert_eq!(
            parsed.value.get("note").and_then(Value::as_str),
            Some("y".into())
        );
    }

    #[test]
    fn duplicate_key_keeps_first_position() {
        let parsed = parse_default(r#"{"a":1,"b":2,"a":3}"#).unwrap();
        assert!(parsed.report.duplicate_keys);
        assert_eq!(
            stringify(&parsed.value, KeyOrder::Insertion),
            r#"{"a":3,"b":2}"#
        );
    }

    #[test]
    fn duplicate_key_through_escape() {
        let parsed = parse_default(r#"{"a":1,"\u0061":2}"#).unwrap();
        assert!(parsed.report.duplicate_keys);
        assert_eq!(stringify(&parsed.value, KeyOrder::Insertion), r#"{"a":2}"#);
    }

    #[test]
    fn duplicate_key_in_large_object() {
        let mut text = String::from("{");
        for i in 0..100 {
            text.push_str(&format!("\"k{i}\":{i},"));
        }
        text.push_str("\"k5\":\"again\",\"k99\":true}");
        let parsed = parse_default(&text).unwrap();
        assert!(parsed.report.duplicate_keys);
        let object = parsed.value.as_object().unwrap();
        assert_eq!(object.len(), 100);
        let keys: Vec<String> = object.iter().map(|(k, _)| k.to_string_lossy()).collect();
        assert_eq!(keys.get(5).map(String::as_str), Some("k5"));
        assert_eq!(
            object.get("k5").and_then(Value::as_str),
            Some("again".into())
        );
        assert_eq!(object.get("k99"), Some(&Value::Bool(true)));
    }

    #[test]
    fn unique_keys_not_reported() {
        let mut text = String::from("{");
        for i in 0..100 {
            text.push_str(&format!("\"k{i}\":{{\"k{i}\":{i}}},"));
        }
        text.push_str("\"K0\":0}");
        let report = parse_default(&text).unwrap().report;
        assert_eq!(report, ParseReport::default());
    }

    #[test]
    fn proto_key_reported_at_any_depth() {
        for text in [
            r#"{"__proto__":1}"#,
            r#"{"a":[{"b":{"__proto__":{}}}]}"#,
            r#"{"\u005f_proto__":null}"#,
        ] {
            let parsed = parse_default(text).unwrap();
            assert!(parsed.report.proto_key, "{text}");
            assert_eq!(parsed.value.as_object().map(Object::is_empty), Some(false));
        }
        for text in [
            r#"{"__proto__x":1}"#,
            r#"["__proto__"]"#,
            r#"{"a":"__proto__"}"#,
        ] {
            assert!(!parse_default(text).unwrap().report.proto_key, "{text}");
        }
    }

    #[test]
    fn trailing_comma_rejected() {
        assert_eq!(
            syntax_error("[1,]"),
            (3, "trailing comma before ']' is not allowed")
        );
        assert_eq!(
            syntax_error("[1, ]"),
            (4, "trailing comma before ']' is not allowed")
        );
        assert_eq!(
            syntax_error(r#"{"a":1,}"#),
            (7, "trailing comma before '}' is not allowed")
        );
        assert_eq!(syntax_error("[,]").0, 1);
        assert_eq!(syntax_error("{,}").0, 1);
    }

    #[test]
    fn leading_zero_rejected() {
        assert_eq!(
            syntax_error("[012]"),
            (2, "leading zeros are not allowed in numbers")
        );
    }

    #[test]
    fn bad_escape_rejected() {
        let (offset, message) = syntax_error(r#"{"a\q":1}"#);
        assert_eq!(offset, 3);
        assert!(message.starts_with("invalid escape"), "{message}");
    }

    #[test]
    fn control_character_rejected() {
        let (offset, message) = syntax_error("{\"a\":\"line\nbreak\"}");
        assert_eq!(offset, 10);
        assert!(message.contains("control character"), "{message}");
    }

    #[test]
    fn truncated_input_rejected() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 0, "unexpected end of input, the JSON text is truncated"),
            (
                "   ",
                3,
                "unexpected end of input, the JSON text is truncated",
            ),
            (
                "[",
                1,
                "unexpected end of input, the JSON text is truncated",
            ),
            (
                "[1",
                2,
                "unexpected end of input, the JSON text is truncated",
            ),
            (
                "[1,",
                3,
                "unexpected end of input, the JSON text is truncated",
            ),
            (
                "{",
                1,
                "unexpected end of input, the JSON text is truncated",
            ),
            (
                r#"{"a""#,
                4,
                "unexpected end of input, the JSON text is truncated",
            ),
            (
                r#"{"a":"#,
                5,
                "unexpected end of input, the JSON text is truncated",
            ),
            (
                r#"{"a":1"#,
                6,
                "unexpected end of input, the JSON text is truncated",
            ),
            (
                r#"{"a":1,"#,
                7,
                "unexpected end of input, the JSON text is truncated",
            ),
            (r#""abc"#, 0, "string has no closing quote"),
            (r#"{"ab"#, 1, "string has no closing quote"),
            (
                r#""\"#,
                2,
                "unexpected end of input, the JSON text is truncated",
            ),
            (
                r#""\u12"#,
                1,
                "invalid \\u escape, expected four hexadecimal digits",
            ),
            ("tr", 0, "invalid literal, expected true, false or null"),
            ("-", 1, "expected a digit after '-'"),
            ("1.", 2, "expected a digit after the decimal point"),
            ("1e", 2, "expected a digit in the exponent"),
        ];
        for &(text, offset, message) in cases {
            assert_eq!(syntax_error(text), (offset, message), "{text:?}");
        }
    }

    #[test]
    fn trailing_garbage_rejected() {
        let message = "unexpected text after the JSON value";
        assert_eq!(syntax_error("{} x"), (3, message));
        assert_eq!(syntax_error("1 2"), (2, message));
        assert_eq!(syntax_error("[]]"), (2, message));
        assert_eq!(syntax_error("{}}"), (2, message));
        assert_eq!(syntax_error("\"a\"\"b\""), (3, message));
        assert_eq!(syntax_error("null\u{0}"), (4, message));
        assert_eq!(syntax_error("truex"), (4, message));
    }

    #[test]
    fn other_syntax_errors() {
        let cases: &[(&str, usize, &str)] = &[
            ("[1 2]", 3, "expected ',' or ']' after an array element"),
            (
                r#"{"a":1 "b":2}"#,
                7,
                "expected ',' or '}' after an object member",
            ),
            (r#"{"a" 1}"#, 5, "expected ':' after a property name"),
            ("{a:1}", 1, "expected a double-quoted property name"),
            ("{'a':1}", 1, "expected a double-quoted property name"),
            ("'a'", 0, "expected a JSON value"),
            ("/*x*/1", 0, "expected a JSON value"),
            ("[1]//x", 3, "unexpected text after the JSON value"),
            (r#"{"a":}"#, 5, "expected a JSON value"),
            ("]", 0, "expected a JSON value"),
            ("[1,,2]", 3, "expected a JSON value"),
        ];
        for &(text, offset, message) in cases {
            assert_eq!(syntax_error(text), (offset, message), "{text:?}");
        }
    }

    #[test]
    fn too_large_rejected() {
        let limits = Limits {
            max_bytes: 5,
            max_depth: 10,
        };
        assert_eq!(
            parse("[1,2,3]", &limits).unwrap_err(),
            JsonError::TooLarge { len: 7, max: 5 }
        );
        // The size check comes before the syntax check.
        assert_eq!(
            parse("@@@@@@", &limits).unwrap_err(),
            JsonError::TooLarge { len: 6, max: 5 }
        );
        assert!(parse("[1,2]", &limits).is_ok());
    }

    #[test]
    fn too_deep_rejected() {
        let limits = Limits {
            max_bytes: 1024,
            max_depth: 3,
        };
        let too_deep = JsonError::TooDeep { max: 3 };
        assert!(parse("[[[1]]]", &limits).is_ok());
        assert!(parse(r#"{"a":[{}]}"#, &limits).is_ok());
        assert_eq!(parse("[[[[1]]]]", &limits).unwrap_err(), too_deep);
        assert_eq!(parse("[[[[]]]]", &limits).unwrap_err(), too_deep);
        assert_eq!(
            parse(r#"{"a":{"b":{"c":{}}}}"#, &limits).unwrap_err(),
            too_deep
        );
        assert!(parse("[[1],[2],[3]]", &limits).is_ok());

        let no_containers = Limits {
            max_bytes: 1024,
            max_depth: 0,
        };
        assert!(parse("1", &no_containers).is_ok());
        assert_eq!(
            parse("[]", &no_containers).unwrap_err(),
            JsonError::TooDeep { max: 0 }
        );
    }

    /// Parses, serialises and drops 5000 levels on a 256 KiB stack, which
    /// would overflow if any of them recursed once per level.
    #[test]
    fn depth_5000_small_stack() {
        let handle = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let limits = Limits {
                    max_bytes: 1 << 20,
                    max_depth: 10_000,
                };
                let mut text = String::new();
                for _ in 0..2500 {
                    text.push_str("[{\"k\":");
                }
                text.push('1');
                for _ in 0..2500 {
                    text.push_str("}]");
                }
                let parsed = parse(&text, &limits).unwrap();
                assert_eq!(stringify(&parsed.value, KeyOrder::Sorted), text);
                assert_eq!(stringify(&parsed.value, KeyOrder::Insertion), text);
                drop(parsed);

                let error = parse(
                    &format!("[{text}]"),
                    &Limits {
                        max_depth: 5000,
                        ..limits
                    },
                );
                assert_eq!(error.unwrap_err(), JsonError::TooDeep { max: 5000 });
            })
            .unwrap();
        handle.join().unwrap();
    }

    /// A large object with unique keys parses in about linear time. A
    /// quadratic duplicate-key check would need 5 * 10^9 key comparisons here.
    #[test]
    fn large_object_parses_quickly() {
        let mut text = String::from("{");
        for i in 0..100_000 {
            text.push_str(&format!("\"key{i}\":[{i},\"v\"],"));
        }
        text.push_str("\"last\":null}");
        let parsed = parse_default(&text).unwrap();
        assert_eq!(parsed.value.as_object().map(Object::len), Some(100_001));
        assert_eq!(stringify(&parsed.value, KeyOrder::Insertion), text);
        assert!(!parsed.report.duplicate_keys);
    }
}
