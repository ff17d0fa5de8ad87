//! JSON parsing and serialisation that reproduce JavaScript's `JSON.parse` and
//! `JSON.stringify` byte for byte.
//!
//! The Mojaloop SDK validator verifies a signature over a re-serialisation of
//! the parsed request body, so the verifier has to rebuild those bytes exactly.
//! serde_json cannot do that: it rejects lone surrogates such as `"\ud800"`,
//! rejects `1e400` (JavaScript parses it as `Infinity`) and limits nesting depth.
//!
//! Strings are stored as UTF-16 code units, as JavaScript stores them, so lone
//! surrogates survive a round trip. Parsing, serialisation and dropping use a
//! heap stack instead of recursion, so nesting depth is limited only by
//! [`Limits::max_depth`] and memory, never by the thread's stack size.
//!
//! ```
//! use fspiop_guard_core::json::{parse, stringify, KeyOrder, Limits};
//!
//! let parsed = parse(r#"{"b":1.00e2,"a":"\u00e9","b":2}"#, &Limits::default())?;
//! assert!(parsed.report.duplicate_keys);
//! assert_eq!(stringify(&parsed.value, KeyOrder::Insertion), r#"{"b":2,"a":"é"}"#);
//! assert_eq!(stringify(&parsed.value, KeyOrder::Sorted), r#"{"a":"é","b":2}"#);
//! # Ok::<(), fspiop_guard_core::json::JsonError>(())
//! ```

use std::fmt;

mod parse;
pub mod read;
mod stringify;

pub use parse::parse;
pub use stringify::{number_to_string, quote_js_string, stringify, stringify_into};

/// A JavaScript string: a sequence of UTF-16 code units, lone surrogates allowed.
///
/// `Ord` compares code units, which is the order of JavaScript's default
/// `Array.prototype.sort`. It differs from `str` order for characters above
/// U+FFFF: U+1F600 (units D83D DE00) sorts before U+E000.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JsString(Vec<u16>);

impl JsString {
    /// Converts a Rust string to its UTF-16 code units.
    // The name is part of the module's API, and `FromStr` would return a `Result`.
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(s: &str) -> Self {
        Self(s.encode_utf16().collect())
    }

    /// Wraps UTF-16 code units, which need not be well-formed UTF-16.
    pub fn from_units(units: Vec<u16>) -> Self {
        Self(units)
    }

    /// Returns the UTF-16 code units.
    pub fn units(&self) -> &[u16] {
        &self.0
    }

    /// Converts to UTF-8, replacing each lone surrogate with U+FFFD.
    pub fn to_string_lossy(&self) -> String {
        // ASCII fast path: base64url members of FSPIOP-Signature are always ASCII, and
        // decoding UTF-16 one code unit at a time was the largest cost of parsing them.
        if self.0.iter().all(|&unit| unit < 0x80) {
            return self.0.iter().map(|&unit| char::from(unit as u8)).collect();
        }
        String::from_utf16_lossy(&self.0)
    }

    /// Returns whether this string has the same code units as `s`.
    pub fn eq_str(&self, s: &str) -> bool {
        // A UTF-8 string is never shorter in bytes than in UTF-16 code units.
        self.0.len() <= s.len() && self.0.iter().copied().eq(s.encode_utf16())
    }

    /// Returns the numeric value if this string is an ECMAScript array index:
    /// a decimal integer without leading zeros (`"0"` itself is allowed) whose
    /// value is at most 2^32 − 2.
    ///
    /// JavaScript enumerates an object's array-index keys first, in ascending
    /// numeric order, before its other keys.
    pub fn as_array_index(&self) -> Option<u32> {
        let units = self.0.as_slice();
        // 4294967294 has 10 digits.
        if units.is_empty() || units.len() > 10 {
            return None;
        }
        if units.len() > 1 && units.first() == Some(&u16::from(b'0')) {
            return None;
        }

        let mut value: u64 = 0;
        for &unit in units {
            let digit = unit.checked_sub(u16::from(b'0')).filter(|d| *d <= 9)?;
            value = value * 10 + u64::from(digit);
        }
        if value < u64::from(u32::MAX) {
            u32::try_from(value).ok()
        } else {
            None
        }
    }
}

impl From<&str> for JsString {
    fn from(s: &str) -> Self {
        Self::from_str(s)
    }
}

/// Shows the string as `JSON.stringify` would write it, so lone surrogates stay visible.
impl fmt::Debug for JsString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut quoted = String::new();
        quote_js_string(self, &mut quoted);
        write!(f, "JsString({quoted})")
    }
}

/// A parsed JSON value.
///
/// Dropping a value walks it with a heap stack, so a deeply nested value does
/// not overflow the thread's stack.
///
/// NOTE: the derived `Clone`, `PartialEq` and `Debug` recurse once per nesting
/// level. Call them only on values whose depth is bounded, for example by
/// [`Limits::max_depth`].
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// Any double, including `Infinity` from an overflowing literal such as `1e400`.
    Number(f64),
    String(JsString),
    Array(Vec<Value>),
    Object(Object),
}

impl Value {
    /// Moves the object out of an object value, or returns the value unchanged.
    /// (`Value` implements `Drop`, so a `match` cannot move its fields out.)
    pub fn into_object(mut self) -> Result<Object, Value> {
        match &mut self {
            Value::Object(object) => Ok(std::mem::take(object)),
            _ => Err(self),
        }
    }

    /// Moves the elements out of an array value, or returns the value unchanged.
    pub fn into_array(mut self) -> Result<Vec<Value>, Value> {
        match &mut self {
            Value::Array(items) => Ok(std::mem::take(items)),
            _ => Err(self),
        }
    }

    /// Returns the string converted to UTF-8 with lone surrogates replaced by
    /// U+FFFD, or `None` if the value is not a string.
    pub fn as_str(&self) -> Option<String> {
        match self {
            Value::String(s) => Some(s.to_string_lossy()),
            _ => None,
        }
    }

    /// Returns the object, or `None` if the value is not an object.
    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(object) => Some(object),
            _ => None,
        }
    }

    /// Returns the elements, or `None` if the value is not an array.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    /// Returns the number, or `None` if the value is not a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// Returns the boolean, or `None` if the value is not a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Looks up a member of an object. Returns `None` if the value is not an
    /// object or has no member named `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object()?.get(key)
    }

    fn is_nonempty_container(&self) -> bool {
        match self {
            Value::Array(items) => !items.is_empty(),
            Value::Object(object) => !object.is_empty(),
            _ => false,
        }
    }

    /// Moves the elements or member values out of a container, leaving it empty.
    fn move_children_into(&mut self, pending: &mut Vec<Value>) {
        match self {
            Value::Array(items) => pending.append(items),
            Value::Object(object) => {
                pending.extend(object.members.drain(..).map(|(_, value)| value));
            }
            _ => {}
        }
    }
}

impl Drop for Value {
    fn drop(&mut self) {
        // The compiler's drop glue would recurse once per nesting level. When a
        // child is itself a non-empty container, empty the whole subtree
        // through a heap stack instead. Every value then drops with no
        // children left, so its own `drop` returns at the check below.
        let has_nested_container = match self {
            Value::Array(items) => items.iter().any(Value::is_nonempty_container),
            Value::Object(object) => object
                .members
                .iter()
                .any(|(_, value)| value.is_nonempty_container()),
            _ => false,
        };
        if !has_nested_container {
            return;
        }

        let mut pending = Vec::new();
        self.move_children_into(&mut pending);
        while let Some(mut value) = pending.pop() {
            value.move_children_into(&mut pending);
        }
    }
}

/// A JSON object: members in order of first appearance, with unique keys.
///
/// As in `JSON.parse`, a repeated key replaces the earlier value but keeps
/// the earlier position. [`Object::iter`] returns this stored order.
/// JavaScript's own enumeration order, with array-index keys first, is
/// applied by [`stringify()`] with [`KeyOrder::Insertion`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Object {
    members: Vec<(JsString, Value)>,
}

impl Object {
    /// Creates an empty object.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the member `key` to `value`. An existing member keeps its position
    /// and its old value is returned. Finding the key is a linear scan.
    pub fn insert(&mut self, key: JsString, value: Value) -> Option<Value> {
        match self.members.iter_mut().find(|(k, _)| *k == key) {
            Some((_, slot)) => Some(std::mem::replace(slot, value)),
            None => {
                self.members.push((key, value));
                None
            }
        }
    }

    /// Returns the value of the member named `key`. This is a linear scan.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.members
            .iter()
            .find(|(k, _)| k.eq_str(key))
            .map(|(_, value)| value)
    }

    /// Iterates over the members in order of first appearance.
    pub fn iter(&self) -> impl Iterator<Item = (&JsString, &Value)> {
        self.members.iter().map(|(key, value)| (key, value))
    }

    /// Returns the number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Returns whether the object has no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

/// Resource limits for [`parse()`].
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Maximum length of the JSON text in bytes.
    pub max_bytes: usize,
    /// Maximum number of nested arrays and objects: `[]` has depth 1, `[[]]` depth 2.
    pub max_depth: usize,
}

impl Default for Limits {
    /// 16 MiB and depth 1000.
    fn default() -> Self {
        Self {
            max_bytes: 16 * 1024 * 1024,
            max_depth: 1000,
        }
    }
}

/// Findings about the input text that the parsed value does not show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParseReport {
    /// An object contained the same key more than once, so only the last value was kept.
    pub duplicate_keys: bool,
    /// A number literal has a different decimal value than the double it parsed
    /// to, as printed by `Number.prototype.toString`. `9007199254740993` and
    /// `1e400` are lossy, `1.00e2` and `0.1` are not.
    pub lossy_numbers: bool,
    /// An object at any depth has a member named exactly `__proto__` after unescaping.
    pub proto_key: bool,
}

/// The result of [`parse()`].
#[derive(Debug)]
pub struct Parsed {
    pub value: Value,
    pub report: ParseReport,
}

/// Key order for [`stringify()`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOrder {
    /// Keys sorted by UTF-16 code units, as the `safe-stable-stringify` package
    /// sorts them with `Array.prototype.sort`.
    Sorted,
    /// JavaScript's own-property order, as `JSON.stringify` writes it:
    /// array-index keys in ascending numeric order, then the other keys in
    /// order of first appearance.
    Insertion,
}

/// An error from [`parse()`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JsonError {
    /// The text is longer than [`Limits::max_bytes`].
    TooLarge { len: usize, max: usize },
    /// Arrays and objects are nested deeper than [`Limits::max_depth`].
    TooDeep { max: usize },
    /// The text is not valid JSON. `offset` is in bytes from the start of the text.
    Syntax {
        offset: usize,
        message: &'static str,
    },
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonError::TooLarge { len, max } => write!(
                f,
                "JSON text is {len} bytes, more than the maximum of {max} bytes \
                 (send a smaller body or raise Limits::max_bytes)"
            ),
            JsonError::TooDeep { max } => write!(
                f,
                "JSON arrays and objects are nested deeper than the maximum depth of {max} \
                 (flatten the document or raise Limits::max_depth)"
            ),
            JsonError::Syntax { offset, message } => {
                write!(f, "invalid JSON at byte offset {offset}: {message}")
            }
        }
    }
}

impl std::error::Error for JsonError {}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn units(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    #[test]
    fn js_string_from_str_units() {
        let s = JsString::from_str("aé😀");
        assert_eq!(s.units(), &[0x61, 0xE9, 0xD83D, 0xDE00]);
        assert_eq!(JsString::from("aé😀"), s);
    }

    #[test]
    fn js_string_eq_str() {
        let s = JsString::from_str("aé😀");
        assert!(s.eq_str("aé😀"));
        assert!(!s.eq_str("aé"));
        assert!(!s.eq_str("aé😀x"));
        assert!(JsString::default().eq_str(""));
        assert!(!JsString::from_units(vec![0xD800]).eq_str("\u{FFFD}"));
    }

    #[test]
    fn js_string_lossy_replaces_lone_surrogate() {
        let s = JsString::from_units(vec![0x61, 0xD800, 0x62]);
        assert_eq!(s.to_string_lossy(), "a\u{FFFD}b");
        assert_eq!(JsString::from_str("😀").to_string_lossy(), "😀");
    }

    #[test]
    fn js_string_orders_by_code_units() {
        let emoji = JsString::from_str("😀");
        let private_use = JsString::from_str("\u{E000}");
        assert!(emoji < private_use);
        // `str` compares code points, which gives the opposite order.
        assert!("😀" > "\u{E000}");
        assert!(JsString::from_str("10") < JsString::from_str("9"));
        assert!(JsString::from_str("a") < JsString::from_str("ab"));
    }

    #[test]
    fn js_string_debug_shows_escapes() {
        let s = JsString::from_units(vec![0x61, 0xD800]);
        assert_eq!(format!("{s:?}"), r#"JsString("a\ud800")"#);
    }

    #[test]
    fn array_index_table() {
        let cases: &[(&str, Option<u32>)] = &[
            ("0", Some(0)),
            ("1", Some(1)),
            ("9", Some(9)),
            ("10", Some(10)),
            ("4294967294", Some(4_294_967_294)),
            ("4294967295", None),
            ("4294967296", None),
            ("9999999999", None),
            ("10000000000", None),
            ("00", None),
            ("01", None),
            ("-0", None),
            ("-1", None),
            ("+1", None),
            ("1.0", None),
            ("1e3", None),
            (" 1", None),
            ("", None),
            ("a", None),
            ("١", None),
        ];
        for &(key, expected) in cases {
            assert_eq!(
                JsString::from_str(key).as_array_index(),
                expected,
                "key {key:?}"
            );
        }
    }

    #[test]
    fn object_insert_keeps_first_position() {
        let mut object = Object::new();
        assert!(object.is_empty());
        assert_eq!(object.insert("a".into(), Value::Number(1.0)), None);
        assert_eq!(object.insert("b".into(), Value::Number(2.0)), None);
        assert_eq!(
            object.insert("a".into(), Value::Number(3.0)),
            Some(Value::Number(1.0))
        );
        assert_eq!(object.len(), 2);
        let members: Vec<(Vec<u16>, f64)> = object
            .iter()
            .map(|(k, v)| (k.units().to_vec(), v.as_f64().unwrap()))
            .collect();
        assert_eq!(members, vec![(units("a"), 3.0), (units("b"), 2.0)]);
    }

    #[test]
    fn object_get_by_str() {
        let mut object = Object::new();
        object.insert("é".into(), Value::Bool(true));
        assert_eq!(object.get("é"), Some(&Value::Bool(true)));
        assert_eq!(object.get("e"), None);
    }

    #[test]
    fn value_accessors() {
        let mut object = Object::new();
        object.insert("name".into(), Value::String("x".into()));
        let value = Value::Object(object);
        assert_eq!(value.get("name").and_then(Value::as_str), Some("x".into()));
        assert_eq!(value.get("missing"), None);
        assert!(value.as_object().is_some());
        assert_eq!(value.as_array(), None);
        assert_eq!(value.as_str(), None);

        let lone = Value::String(JsString::from_units(vec![0xDC00]));
        assert_eq!(lone.as_str(), Some("\u{FFFD}".into()));
        assert_eq!(Value::Number(2.5).as_f64(), Some(2.5));
        assert_eq!(Value::Bool(false).as_bool(), Some(false));
        assert_eq!(Value::Null.get("a"), None);
        assert_eq!(
            Value::Array(vec![Value::Null]).as_array(),
            Some(&[Value::Null][..])
        );
    }

    #[test]
    fn limits_default() {
        let limits = Limits::default();
        assert_eq!(limits.max_bytes, 16 * 1024 * 1024);
        assert_eq!(limits.max_depth, 1000);
    }

    #[test]
    fn drop_deep_value_small_stack() {
        let handle = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let mut value = Value::Null;
                for i in 0..100_000 {
                    value = if i % 2 == 0 {
                        Value::Array(vec![value, Value::Number(1.0)])
                    } else {
                        let mut object = Object::new();
                        object.insert("k".into(), value);
                        Value::Object(object)
                    };
                }
                drop(value);
            })
            .unwrap();
        handle.join().unwrap();
    }

    #[test]
    fn error_messages_name_value_and_fix() {
        let too_large = JsonError::TooLarge { len: 20, max: 10 }.to_string();
        assert!(too_large.contains("20 bytes"), "{too_large}");
        assert!(too_large.contains("maximum of 10 bytes"), "{too_large}");
        assert!(too_large.contains("Limits::max_bytes"), "{too_large}");

        let too_deep = JsonError::TooDeep { max: 5 }.to_string();
        assert!(too_deep.contains("maximum depth of 5"), "{too_deep}");
        assert!(too_deep.contains("Limits::max_depth"), "{too_deep}");

        let syntax = JsonError::Syntax {
            offset: 7,
            message: "expected ':' after a property name",
        }
        .to_string();
        assert_eq!(
            syntax,
            "invalid JSON at byte offset 7: expected ':' after a property name"
        );
    }
}
