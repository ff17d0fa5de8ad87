//! [`Value`] to JSON text, as ECMAScript `JSON.stringify` writes it with no
//! indentation.

use super::{JsString, KeyOrder, Value};

/// Serialises a value as `JSON.stringify(value)` does, with object keys in
/// the given order. See [`stringify_into`].
pub fn stringify(value: &Value, order: KeyOrder) -> String {
    let mut out = String::new();
    stringify_into(value, order, &mut out);
    out
}

/// Formats a number as JavaScript's `String(value)` does: `100`, `1.5`, `1e+21`,
/// `NaN`, `Infinity`.
pub fn number_to_string(value: f64) -> String {
    ryu_js::Buffer::new().format(value).to_owned()
}

/// Appends the serialisation of `value` to `out`.
///
/// The output has no whitespace between tokens. Numbers are written as
/// ECMAScript `Number.prototype.toString` writes them (`100`, `0.1`, `1e+21`,
/// `1e-7`, and `0` for -0), and `NaN` and the infinities as `null`. Strings
/// are quoted by [`quote_js_string`]. [`KeyOrder::Sorted`] gives the output
/// of the `safe-stable-stringify` package, [`KeyOrder::Insertion`] that of
/// `JSON.stringify` on the object `JSON.parse` returned.
pub fn stringify_into(value: &Value, order: KeyOrder, out: &mut String) {
    let mut numbers = ryu_js::Buffer::new();
    // Containers being written, innermost last. Nesting depth costs heap, not
    // native stack.
    let mut open: Vec<Frame<'_>> = Vec::new();
    // Member orders of the open objects that are not written in stored order,
    // each one a range of member indices starting at its frame's `order_start`.
    let mut member_orders: Vec<usize> = Vec::new();
    let mut next = Some(value);

    loop {
        if let Some(value) = next.take() {
            match value {
                Value::Null => out.push_str("null"),
                Value::Bool(true) => out.push_str("true"),
                Value::Bool(false) => out.push_str("false"),
                Value::Number(n) if n.is_finite() => out.push_str(numbers.format_finite(*n)),
                Value::Number(_) => out.push_str("null"),
                Value::String(s) => quote_js_string(s, out),
                Value::Array(items) => {
                    out.push('[');
                    open.push(Frame::Array {
                        items: items.as_slice(),
                        position: 0,
                    });
                }
                Value::Object(object) => {
                    out.push('{');
                    let members = object.members.as_slice();
                    open.push(Frame::Object {
                        members,
                        order_start: push_member_order(members, order, &mut member_orders),
                        position: 0,
                    });
                }
            }
        }

        let Some(frame) = open.last_mut() else {
            return;
        };
        match frame {
            Frame::Array { items, position } => match items.get(*position) {
                Some(item) => {
                    if *position > 0 {
                        out.push(',');
                    }
                    *position += 1;
                    next = Some(item);
                }
                None => {
                    out.push(']');
                    open.pop();
                }
            },
            Frame::Object {
                members,
                order_start,
                position,
            } => {
                let members: &[(JsString, Value)] = members;
                if *position >= members.len() {
                    out.push('}');
                    if let Some(start) = *order_start {
                        member_orders.truncate(start);
                    }
                    open.pop();
                    continue;
                }

                let index = match *order_start {
                    Some(start) => member_orders.get(start + *position).copied(),
                    None => Some(*position),
                };
                if *position > 0 {
                    out.push(',');
                }
                *position += 1;
                if let Some((key, value)) = index.and_then(|i| members.get(i)) {
                    quote_js_string(key, out);
                    out.push(':');
                    next = Some(value);
                }
            }
        }
    }
}

/// An array or object whose closing bracket has not been written yet.
enum Frame<'a> {
    Array {
        items: &'a [Value],
        /// Index of the next element to write.
        position: usize,
    },
    Object {
        members: &'a [(JsString, Value)],
        /// Start of this object's member order in the order stack, or `None`
        /// when the members are written in stored order.
        order_start: Option<usize>,
        /// Number of members written so far.
        position: usize,
    },
}

/// Pushes the order in which to write `members` onto `member_orders` and
/// returns where it starts, or returns `None` if the stored order is already
/// the right one.
fn push_member_order(
    members: &[(JsString, Value)],
    order: KeyOrder,
    member_orders: &mut Vec<usize>,
) -> Option<usize> {
    let start = member_orders.len();
    match order {
        KeyOrder::Sorted => {
            let already_sorted = members
                .windows(2)
                .all(|pair| matches!(pair, [(a, _), (b, _)] if a < b));
            if already_sorted {
                return None;
            }
            member_orders.extend(0..members.len());
            let key = |i: usize| members.get(i).map(|(key, _)| key);
            if let Some(indices) = member_orders.get_mut(start..) {
                sort_indices(indices, &|a, b| key(a).cmp(&key(b)));
            }
        }
        KeyOrder::Insertion => {
            let has_index_key = members
                .iter()
                .any(|(key, _)| key.as_array_index().is_some());
            if !has_index_key {
                return None;
            }
            // Array-index keys first, in ascending numeric order, then the
            // other keys in stored order, as ECMAScript OrdinaryOwnPropertyKeys
            // enumerates them.
            member_orders.extend(
                members
                    .iter()
                    .enumerate()
                    .filter(|(_, (key, _))| key.as_array_index().is_some())
                    .map(|(i, _)| i),
            );
            let array_index = |i: usize| members.get(i).and_then(|(key, _)| key.as_array_index());
            if let Some(indices) = member_orders.get_mut(start..) {
                sort_indices(indices, &|a, b| array_index(a).cmp(&array_index(b)));
            }
            member_orders.extend(
                members
                    .iter()
                    .enumerate()
                    .filter(|(_, (key, _))| key.as_array_index().is_none())
                    .map(|(i, _)| i),
            );
        }
    }
    Some(start)
}

/// Sorts member indices with `compare`. Both key orders share this one
/// instantiation of the sort, which keeps the WebAssembly build smaller.
fn sort_indices(indices: &mut [usize], compare: &dyn Fn(usize, usize) -> std::cmp::Ordering) {
    indices.sort_unstable_by(|&a, &b| compare(a, b));
}

/// Appends a string as `JSON.stringify` quotes it (ECMAScript QuoteJSONString).
///
/// `"` and `\` are escaped with a backslash, and so are backspace, form feed,
/// LF, CR and tab as `\b \f \n \r \t`. Other characters U+0000 to U+001F and
/// lone surrogates become `\u` escapes with lowercase hex digits. Everything
/// else, including `/`, DEL, U+2028 and U+2029, is written as UTF-8.
pub fn quote_js_string(s: &JsString, out: &mut String) {
    let units = s.units();
    out.reserve(units.len() + 2);
    out.push('"');

    let mut i = 0;
    while let Some(&unit) = units.get(i) {
        i += 1;
        match unit {
            0x22 => out.push_str("\\\""),
            0x5C => out.push_str("\\\\"),
            0x08 => out.push_str("\\b"),
            0x0C => out.push_str("\\f"),
            0x0A => out.push_str("\\n"),
            0x0D => out.push_str("\\r"),
            0x09 => out.push_str("\\t"),
            0x00..=0x1F => push_unicode_escape(unit, out),
            0x20..=0x7F => out.push(char::from(unit as u8)),
            0xD800..=0xDBFF => match units.get(i) {
                Some(&low @ 0xDC00..=0xDFFF) => {
                    i += 1;
                    let code_point =
                        0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
                    match char::from_u32(code_point) {
                        Some(c) => out.push(c),
                        None => {
                            push_unicode_escape(unit, out);
                            push_unicode_escape(low, out);
                        }
                    }
                }
                _ => push_unicode_escape(unit, out),
            },
            0xDC00..=0xDFFF => push_unicode_escape(unit, out),
            _ => match char::from_u32(u32::from(unit)) {
                Some(c) => out.push(c),
                None => push_unicode_escape(unit, out),
            },
        }
    }

    out.push('"');
}

/// Appends `\uXXXX` with lowercase hex digits, as QuoteJSONString writes them.
fn push_unicode_escape(unit: u16, out: &mut String) {
    out.push_str("\\u");
    for shift in [12, 8, 4, 0] {
        let nibble = u32::from((unit >> shift) & 0xF);
        if let Some(digit) = char::from_digit(nibble, 16) {
            out.push(digit);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::json::{Limits, Object, parse};

    fn parse_value(text: &str) -> Value {
        parse(text, &Limits::default())
            .unwrap_or_else(|e| panic!("{text:?}: {e}"))
            .value
    }

    fn insertion(text: &str) -> String {
        stringify(&parse_value(text), KeyOrder::Insertion)
    }

    fn sorted(text: &str) -> String {
        stringify(&parse_value(text), KeyOrder::Sorted)
    }

    fn quoted(units: &[u16]) -> String {
        let mut out = String::new();
        quote_js_string(&JsString::from_units(units.to_vec()), &mut out);
        out
    }

    #[test]
    fn scalars() {
        assert_eq!(insertion("null"), "null");
        assert_eq!(insertion("true"), "true");
        assert_eq!(insertion("false"), "false");
        assert_eq!(insertion(" 12 "), "12");
        assert_eq!(insertion("\"a\""), "\"a\"");
    }

    #[test]
    fn non_finite_numbers_become_null() {
        for n in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(
                stringify(&Value::Number(n), KeyOrder::Sorted),
                "null",
                "{n}"
            );
        }
        let array = Value::Array(vec![Value::Number(f64::NAN), Value::Number(-0.0)]);
        assert_eq!(stringify(&array, KeyOrder::Insertion), "[null,0]");
    }

    #[test]
    fn number_format_table() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "0"),
            (100.0, "100"),
            (0.1, "0.1"),
            (-1.5, "-1.5"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123_456_789_012_345_680_000.0, "123456789012345680000"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (9_007_199_254_740_992.0, "9007199254740992"),
            (0.1 + 0.2, "0.30000000000000004"),
        ];
        for &(n, expected) in cases {
            assert_eq!(
                stringify(&Value::Number(n), KeyOrder::Sorted),
                expected,
                "{n:e}"
            );
        }
    }

    #[test]
    fn string_escape_table() {
        let cases: &[(&[u16], &str)] = &[
            (&[0x22], r#""\"""#),
            (&[0x5C], r#""\\""#),
            (&[0x2F], r#""/""#),
            (&[0x08], r#""\b""#),
            (&[0x0C], r#""\f""#),
            (&[0x0A], r#""\n""#),
            (&[0x0D], r#""\r""#),
            (&[0x09], r#""\t""#),
            (&[0x00], r#""\u0000""#),
            (&[0x01], r#""\u0001""#),
            (&[0x0B], r#""\u000b""#),
            (&[0x1B], r#""\u001b""#),
            (&[0x1F], r#""\u001f""#),
            (&[0x20], r#"" ""#),
            (&[0x7F], "\"\u{7F}\""),
            (&[0x80], "\"\u{80}\""),
            (&[0xE9], "\"é\""),
            (&[0x2028], "\"\u{2028}\""),
            (&[0x2029], "\"\u{2029}\""),
            (&[0xFEFF], "\"\u{FEFF}\""),
            (&[0xFFFF], "\"\u{FFFF}\""),
            (&[0xD83D, 0xDE00], "\"😀\""),
            (&[0xD800], r#""\ud800""#),
            (&[0xDBFF], r#""\udbff""#),
            (&[0xDC00], r#""\udc00""#),
            (&[0xDFFF], r#""\udfff""#),
            (&[0xDE00, 0xD83D], r#""\ude00\ud83d""#),
            (&[0xD83D, 0xD83D, 0xDE00], r#""\ud83d😀""#),
            (&[0xD83D, 0x61], r#""\ud83da""#),
            (&[], r#""""#),
        ];
        for &(units, expected) in cases {
            assert_eq!(quoted(units), expected, "{units:04x?}");
        }
    }

    #[test]
    fn control_characters_escaped() {
        let named = [
            (0x08, "\\b"),
            (0x09, "\\t"),
            (0x0A, "\\n"),
            (0x0C, "\\f"),
            (0x0D, "\\r"),
        ];
        for unit in 0u16..0x20 {
            let expected = match named.iter().find(|(u, _)| *u == unit) {
                Some((_, escape)) => format!("\"{escape}\""),
                None => format!("\"\\u{unit:04x}\""),
            };
            assert_eq!(quoted(&[unit]), expected, "unit {unit:#06x}");
        }
    }

    #[test]
    fn lone_surrogate_round_trip() {
        assert_eq!(insertion(r#""\ud800""#), r#""\ud800""#);
        assert_eq!(insertion(r#""\uD800""#), r#""\ud800""#);
        assert_eq!(
            insertion(r#"{"\udc00":"x\udbff"}"#),
            r#"{"\udc00":"x\udbff"}"#
        );
        let output = insertion(r#"["\ud83d\ude00", "\ud83d", "\ude00"]"#);
        assert_eq!(output, r#"["😀","\ud83d","\ude00"]"#);
    }

    #[test]
    fn escaped_input_written_literally() {
        assert_eq!(insertion(r#""\/\u0041\u00e9\u2028""#), "\"/Aé\u{2028}\"");
        assert_eq!(insertion(r#""\u001F\u007f""#), "\"\\u001f\u{7F}\"");
    }

    #[test]
    fn no_whitespace_in_output() {
        let text = " { \"a\" : [ 1 , { } , [ ] ] , \"b\" : { \"c\" : null } } ";
        assert_eq!(insertion(text), r#"{"a":[1,{},[]],"b":{"c":null}}"#);
        assert_eq!(sorted(text), r#"{"a":[1,{},[]],"b":{"c":null}}"#);
    }

    #[test]
    fn integer_like_keys_insertion() {
        let text = r#"{"b":1,"10":2,"9":3,"01":4,"a":5}"#;
        assert_eq!(insertion(text), r#"{"9":3,"10":2,"b":1,"01":4,"a":5}"#);
    }

    #[test]
    fn integer_like_keys_sorted() {
        let text = r#"{"b":1,"10":2,"9":3,"01":4,"a":5}"#;
        assert_eq!(sorted(text), r#"{"01":4,"10":2,"9":3,"a":5,"b":1}"#);
    }

    #[test]
    fn array_index_upper_bound() {
        let text = r#"{"4294967295":1,"x":0,"4294967294":2,"1":3,"-1":4,"1.5":5}"#;
        assert_eq!(
            insertion(text),
            r#"{"1":3,"4294967294":2,"4294967295":1,"x":0,"-1":4,"1.5":5}"#
        );
    }

    #[test]
    fn index_keys_with_duplicates() {
        let text = r#"{"x":1,"2":2,"0":3,"2":4,"x":5}"#;
        assert_eq!(insertion(text), r#"{"0":3,"2":4,"x":5}"#);
        assert_eq!(sorted(text), r#"{"0":3,"2":4,"x":5}"#);
    }

    #[test]
    fn emoji_sort_order() {
        // U+1F600 is D83D DE00 in UTF-16, below U+E000, though above it as a code point.
        let text = "{\"\u{E000}\":1,\"😀\":2,\"\u{FFFF}\":3,\"z\":4}";
        assert_eq!(
            sorted(text),
            "{\"z\":4,\"😀\":2,\"\u{E000}\":1,\"\u{FFFF}\":3}"
        );
        assert_eq!(
            insertion(text),
            "{\"\u{E000}\":1,\"😀\":2,\"\u{FFFF}\":3,\"z\":4}"
        );
    }

    #[test]
    fn sorted_applies_at_every_depth() {
        let text = r#"{"z":[{"y":1,"x":2}],"a":{"c":{"e":1,"d":2},"b":3}}"#;
        assert_eq!(
            sorted(text),
            r#"{"a":{"b":3,"c":{"d":2,"e":1}},"z":[{"x":2,"y":1}]}"#
        );
        assert_eq!(insertion(text), text);
    }

    #[test]
    fn sorted_prefix_before_longer_key() {
        assert_eq!(
            sorted(r#"{"ab":1,"a":2,"":3,"B":4}"#),
            r#"{"":3,"B":4,"a":2,"ab":1}"#
        );
    }

    #[test]
    fn arrays_keep_order() {
        let text = r#"[3,1,2,{"b":1,"a":2},["z","a"]]"#;
        assert_eq!(insertion(text), text);
        assert_eq!(sorted(text), r#"[3,1,2,{"a":2,"b":1},["z","a"]]"#);
    }

    #[test]
    fn empty_containers() {
        assert_eq!(insertion("[]"), "[]");
        assert_eq!(insertion("{}"), "{}");
        assert_eq!(
            sorted(r#"[[],{},[{}],{"a":[]}]"#),
            r#"[[],{},[{}],{"a":[]}]"#
        );
    }

    #[test]
    fn stringify_into_appends() {
        let mut out = String::from("prefix:");
        stringify_into(&parse_value(r#"{"b":1,"a":2}"#), KeyOrder::Sorted, &mut out);
        assert_eq!(out, r#"prefix:{"a":2,"b":1}"#);
    }

    #[test]
    fn built_object_lone_surrogate_key() {
        let mut object = Object::new();
        object.insert(JsString::from_str("\u{E000}"), Value::Number(f64::INFINITY));
        object.insert(JsString::from_units(vec![0xDFFF]), Value::Null);
        let value = Value::Object(object);
        assert_eq!(
            stringify(&value, KeyOrder::Sorted),
            "{\"\\udfff\":null,\"\u{E000}\":null}"
        );
        assert_eq!(
            stringify(&value, KeyOrder::Insertion),
            "{\"\u{E000}\":null,\"\\udfff\":null}"
        );
    }
}
