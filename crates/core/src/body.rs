//! The request body as the SDK's body parser reads it before JWS validation.
//!
//! sdk-scheme-adapter parses bodies with co-body in strict mode: the bytes are decoded as
//! UTF-8 (invalid sequences become U+FFFD, a leading byte-order mark is dropped), an empty
//! body becomes `{}`, and anything but a JSON object or array is rejected. The parsed value
//! is what the SDK validator re-serialises, so canonical payload forms start from here.

use std::fmt;

use crate::json::{self, KeyOrder, ParseReport, Value};

/// A body parsed as JSON, with what the parser noticed on the way.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedBody {
    /// The parsed value (always an object or array).
    pub value: Value,
    /// Duplicate keys, lossy numbers and `__proto__` members seen while parsing.
    pub report: ParseReport,
}

impl ParsedBody {
    /// Re-serialises the body as `JSON.stringify` would, in the given key order.
    pub fn canonical(&self, order: KeyOrder) -> String {
        json::stringify(&self.value, order)
    }
}

/// The reason a body is not accepted as JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyError {
    /// The first significant character is not `{` or `[`.
    NotObjectOrArray,
    /// The JSON itself is invalid or too deep.
    Json(json::JsonError),
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyError::NotObjectOrArray => f.write_str(
                "body must be a JSON object or array (strict JSON body parsing, as the SDK does)",
            ),
            BodyError::Json(error) => write!(f, "body is not valid JSON: {error}"),
        }
    }
}

impl std::error::Error for BodyError {}

/// Parses a body the way co-body's strict JSON mode does.
pub fn parse_body(raw: &[u8], max_depth: usize) -> Result<ParsedBody, BodyError> {
    let text = String::from_utf8_lossy(raw);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);

    if text.is_empty() {
        return Ok(ParsedBody {
            value: Value::Object(json::Object::default()),
            report: ParseReport::default(),
        });
    }

    let first = text
        .trim_start_matches([' ', '\t', '\n', '\r'])
        .chars()
        .next();
    if !matches!(first, Some('{') | Some('[')) {
        return Err(BodyError::NotObjectOrArray);
    }

    let limits = json::Limits {
        max_bytes: usize::MAX,
        max_depth,
    };
    let parsed = json::parse(text, &limits).map_err(BodyError::Json)?;
    let mut report = parsed.report;
    report.proto_key = report.proto_key && bourne_suspects(text);
    Ok(ParsedBody {
        value: parsed.value,
        report,
    })
}

/// Returns true when a body that a JSON serialiser wrote passes [`parse_body`]. Such a
/// body passes when it is UTF-8 and an object or array at the top, with no leading
/// whitespace or byte-order mark. It must also nest less than `max_depth` deep and have
/// no quoted `__proto__` followed by a colon. Reads the bytes once and builds nothing.
///
/// `false` means "parse it to find out", never "invalid". The check is exact only for
/// JSON text, so callers pass only what a serialiser produced.
pub fn serialised_passes(raw: &[u8], max_depth: usize) -> bool {
    let Ok(text) = std::str::from_utf8(raw) else {
        return false;
    };
    if !matches!(raw.first(), Some(b'{') | Some(b'[')) {
        return false;
    }

    // Open containers outside strings, as the parser counts its depth. A name can spell
    // `__proto__` only literally or with `\u` escapes, so only a string that starts with
    // it, or an escape, sends the text to the exact pre-check below.
    let mut open = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut may_spell_proto = false;
    for (index, &byte) in raw.iter().enumerate() {
        if in_string {
            match (escaped, byte) {
                (true, b'u') => {
                    escaped = false;
                    may_spell_proto = true;
                }
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => {
                in_string = true;
                let rest = raw.get(index + 1..).unwrap_or_default();
                may_spell_proto |= rest.starts_with(b"__proto__");
            }
            b'{' | b'[' => {
                open += 1;
                if open >= max_depth {
                    return false;
                }
            }
            b'}' | b']' => open = open.saturating_sub(1),
            _ => {}
        }
    }
    !(may_spell_proto && bourne_suspects(text))
}

/// Returns true when the text matches the pre-check of the SDK's `__proto__` guard
/// (@hapi/bourne 3, used by co-body): a quoted `__proto__` whose characters are each
/// literal or a `\u00xx` escape (hex digits in either case), then optional whitespace
/// and `:`. Only bodies that match it are scanned for a `__proto__` member.
fn bourne_suspects(text: &str) -> bool {
    const NAME: &[u8] = b"__proto__";
    let bytes = text.as_bytes();
    let mut start = 0;
    while let Some(offset) = bytes
        .get(start..)
        .and_then(|rest| rest.iter().position(|&b| b == b'"'))
    {
        let quote = start + offset;
        start = quote + 1;

        // Each character of the name, literal or as a \u00xx escape.
        let mut at = quote + 1;
        let mut matched = true;
        for &expected in NAME {
            if bytes.get(at) == Some(&expected) {
                at += 1;
                continue;
            }
            if is_escape_of(bytes.get(at..at + 6).unwrap_or_default(), expected) {
                at += 6;
                continue;
            }
            matched = false;
            break;
        }
        if !matched || bytes.get(at) != Some(&b'"') {
            continue;
        }

        // Then JavaScript `\s*` and a colon.
        let rest = text.get(at + 1..).unwrap_or_default();
        let after_space = rest.trim_start_matches(is_js_space);
        if after_space.starts_with(':') {
            return true;
        }
    }
    false
}

/// Returns true when `candidate` is the six-byte escape `\u00xx` of `expected`, with the
/// hex digits in either case.
fn is_escape_of(candidate: &[u8], expected: u8) -> bool {
    let [b'\\', b'u', digits @ ..] = candidate else {
        return false;
    };
    let Ok(digits) = std::str::from_utf8(digits) else {
        return false;
    };
    digits.len() == 4
        && digits.bytes().all(|digit| digit.is_ascii_hexdigit())
        && u32::from_str_radix(digits, 16) == Ok(u32::from(expected))
}

/// JavaScript's `\s` class (ECMAScript WhiteSpace and LineTerminator).
fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn serialised_scan_agrees_with_parse() {
        let max_depth = 4;
        let cases: &[(&str, bool)] = &[
            (r#"{"a":1,"b":[true,null,"x"]}"#, true),
            (r#"[{"a":"]}[{"}]"#, true),
            (r#"{"a":"__proto__"}"#, true),
            (r#"{"a":"\"__proto__\":1"}"#, true),
            (r#"{"__proto__":{}}"#, false),
            (r#"{"a":{"__proto__" :1}}"#, false),
            (r#"{"\u005f_proto__":1}"#, false),
            (r#"{"__pr\u006Fto__":1}"#, false),
            (r#"[[[1]]]"#, true),
            (r#"[[[[1]]]]"#, false),
            (r#""text""#, false),
            ("7", false),
            (" {}", false),
            ("\u{feff}{}", false),
            ("", false),
        ];
        for &(text, passes) in cases {
            assert_eq!(
                serialised_passes(text.as_bytes(), max_depth),
                passes,
                "{text}"
            );
            if passes {
                let parsed = parse_body(text.as_bytes(), max_depth).unwrap();
                assert!(!parsed.report.proto_key, "{text}");
            }
        }
    }

    #[test]
    fn serialised_scan_rejects_proto_the_parser_rejects() {
        for text in [r#"{"__proto__":1}"#, r#"{"\u005F\u005Fproto__":1}"#] {
            assert!(!serialised_passes(text.as_bytes(), 10), "{text}");
            assert!(parse_body(text.as_bytes(), 10).unwrap().report.proto_key);
        }
    }

    #[test]
    fn escape_match_is_exact() {
        assert!(is_escape_of(b"\\u005f", b'_'));
        assert!(is_escape_of(b"\\u005F", b'_'));
        assert!(!is_escape_of(b"\\U005f", b'_'));
        assert!(!is_escape_of(b"\\u+05f", b'_'));
        assert!(!is_escape_of(b"\\u005", b'_'));
        assert!(!is_escape_of(b"\\u0060", b'_'));
    }

    #[test]
    fn empty_body_reads_as_empty_object() {
        let parsed = parse_body(b"", 10).unwrap();
        assert_eq!(parsed.canonical(KeyOrder::Sorted), "{}");
    }

    #[test]
    fn top_level_string_is_refused() {
        assert_eq!(
            parse_body(b"\"hello\"", 10),
            Err(BodyError::NotObjectOrArray)
        );
    }

    #[test]
    fn byte_order_mark_is_dropped() {
        let parsed = parse_body("\u{feff}{\"a\":1}".as_bytes(), 10).unwrap();
        assert_eq!(parsed.canonical(KeyOrder::Sorted), "{\"a\":1}");
    }

    #[test]
    fn leading_whitespace_is_allowed() {
        assert!(parse_body(b" \n[1]", 10).is_ok());
    }

    #[test]
    fn proto_member_is_reported() {
        let parsed = parse_body(br#"{"a":{"__proto__":{}}}"#, 10).unwrap();
        assert!(parsed.report.proto_key);
    }

    #[test]
    fn proto_member_with_lowercase_escape_is_reported() {
        let parsed = parse_body(br#"{"\u005f_proto__" :1}"#, 10).unwrap();
        assert!(parsed.report.proto_key);
    }

    #[test]
    fn proto_member_with_uppercase_escape_is_reported() {
        let parsed = parse_body(br#"{"\u005F\u005Fpr\u006Fto__":1}"#, 10).unwrap();
        assert!(parsed.report.proto_key);
    }

    #[test]
    fn proto_text_in_string_value_ignored() {
        let parsed = parse_body(br#"{"a":"\"__proto__\":1"}"#, 10).unwrap();
        assert!(!parsed.report.proto_key);
    }
}
