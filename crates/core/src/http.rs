//! Reading one request from text that a user pastes or a file contains.
//!
//! [`parse_request`] accepts four forms and detects which one it has (see [`detect_form`]):
//!
//! - raw HTTP/1.1, with CRLF or bare LF line endings ([`parse_raw_http`]);
//! - `curl -v` output, optionally followed by the body, which curl does not print
//!   ([`parse_curl_verbose`]);
//! - a HAR entry or a whole HAR log ([`parse_json_request`]);
//! - a JSON object with `method`, `url` or `target`, `headers` and `body` ([`parse_json_request`]).
//!
//! Header values become characters the way Node reads them: each byte is one latin1 character.
//! Every size in [`RequestLimits`] is checked before memory proportional to that size is
//! allocated, and no input makes these functions panic.

mod body;
mod curl;
mod head;
mod json;
mod raw;
mod text;

use std::fmt;

pub use curl::parse_curl_verbose;
pub use json::parse_json_request;
pub use raw::parse_raw_http;

use crate::request::Request;
use text::{Lines, first_non_whitespace, is_blank, strip_byte_order_mark};

/// Size limits that the parsers enforce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestLimits {
    /// Maximum size in bytes of the request line, the header lines and the blank line after
    /// them, each counted with a CRLF line ending as on the wire. Default 64 KiB.
    pub max_header_bytes: usize,
    /// Maximum number of header lines. Default 200.
    pub max_headers: usize,
    /// Maximum body size in bytes, after chunked decoding. Default 16 MiB.
    pub max_body_bytes: usize,
}

impl Default for RequestLimits {
    fn default() -> Self {
        Self {
            max_header_bytes: 64 * 1024,
            max_headers: 200,
            max_body_bytes: 16 * 1024 * 1024,
        }
    }
}

/// The form of a request text, as [`detect_form`] identifies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestForm {
    /// Raw HTTP/1.1: request line, header lines, blank line, body.
    RawHttp,
    /// Output of `curl -v`, where request lines start with `> `.
    CurlVerbose,
    /// A JSON request object, a HAR entry or a HAR log.
    Json,
}

/// Position in the input where a problem was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// A 1-based line number in the input text.
    Line(usize),
    /// The 1-based position of a header in the `headers` of a JSON or HAR request.
    JsonHeader(usize),
    /// A field of a JSON or HAR request, such as `method` or `request.url`.
    JsonField(&'static str),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(number) => write!(f, "line {number}"),
            Location::JsonHeader(position) => write!(f, "JSON header {position}"),
            Location::JsonField(field) => write!(f, "JSON field \"{field}\""),
        }
    }
}

/// Failure to read a request. Text excerpts hold at most 60 characters of the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestError {
    /// The input is empty or contains only whitespace.
    EmptyInput,
    /// A JSON or HAR input is larger than the limits allow for any request.
    InputTooLarge { length: usize, max: usize },
    /// The request line and header lines exceed `max_header_bytes`.
    HeaderSectionTooLarge { max: usize },
    /// The request has more than `max_headers` header lines.
    TooManyHeaders { max: usize },
    /// The body exceeds `max_body_bytes`. `length` is the size found so far.
    BodyTooLarge { length: u64, max: usize },
    /// The request line, or the method or target of a JSON request, is invalid.
    InvalidRequestLine {
        location: Location,
        excerpt: String,
        reason: &'static str,
    },
    /// A header line starts with whitespace, which continues the previous line (obs-fold).
    ObsoleteLineFolding { line: usize, excerpt: String },
    /// A header line is not `Name: value`.
    InvalidHeaderLine {
        line: usize,
        excerpt: String,
        reason: &'static str,
    },
    /// A header name contains a character that is not allowed in an HTTP token.
    InvalidHeaderName { location: Location, name: String },
    /// A header value contains a control character or a character above U+00FF.
    InvalidHeaderValue {
        location: Location,
        name: String,
        excerpt: String,
        character: char,
    },
    /// The Content-Length value is not a decimal number.
    InvalidContentLength { value: String },
    /// Content-Length occurs on more than one line.
    RepeatedContentLength { count: usize },
    /// The request has both Content-Length and Transfer-Encoding.
    ContentLengthWithTransferEncoding,
    /// Transfer-Encoding is something other than `chunked`.
    UnsupportedTransferEncoding { value: String },
    /// Fewer body bytes follow the header section than Content-Length declares.
    BodyShorterThanContentLength { declared: u64, available: usize },
    /// More body bytes follow than Content-Length declares, and the extra bytes are not
    /// whitespace. `available` does not count trailing whitespace.
    BodyLongerThanContentLength { declared: u64, available: usize },
    /// `curl -v` output declares a Content-Length but no body was pasted after it.
    CurlBodyMissing { declared: u64 },
    /// The chunked body framing is invalid.
    InvalidChunk {
        line: usize,
        excerpt: String,
        reason: &'static str,
    },
    /// `curl -v` output without any request line starting with `> `.
    CurlRequestMissing,
    /// The JSON text is malformed or has a value of the wrong type. The message comes from
    /// serde_json and ends with the line and column.
    InvalidJson { message: String },
    /// A JSON request object has a field that this reader does not know.
    UnknownJsonField { field: String },
    /// A required JSON field is missing.
    MissingJsonField { field: &'static str },
    /// A JSON request has two fields of which only one is allowed.
    ConflictingJsonFields {
        first: &'static str,
        second: &'static str,
    },
    /// A HAR log has no entries.
    EmptyHarLog,
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::EmptyInput => write!(
                f,
                "the input is empty; provide a raw HTTP request, curl -v output, \
                 a HAR entry or a JSON request object"
            ),
            RequestError::InputTooLarge { length, max } => write!(
                f,
                "the JSON input is {length} bytes, more than the maximum of {max} bytes; \
                 for a HAR file, export only the entry of the request to verify"
            ),
            RequestError::HeaderSectionTooLarge { max } => write!(
                f,
                "the request line and headers exceed the maximum of {max} bytes \
                 (max_header_bytes); check that a blank line separates the headers \
                 from the body, or raise the limit"
            ),
            RequestError::TooManyHeaders { max } => write!(
                f,
                "the request has more than {max} header lines (max_headers); \
                 remove headers that are not needed, or raise the limit"
            ),
            RequestError::BodyTooLarge { length, max } => write!(
                f,
                "the body has at least {length} bytes, more than the maximum of {max} \
                 bytes (max_body_bytes); raise the limit to read larger bodies"
            ),
            RequestError::InvalidRequestLine {
                location,
                excerpt,
                reason,
            } => write!(
                f,
                "invalid request line at {location}: {reason} (found \"{excerpt}\")"
            ),
            RequestError::ObsoleteLineFolding { line, excerpt } => write!(
                f,
                "header line {line} starts with whitespace, which is obsolete line \
                 folding and is rejected (found \"{excerpt}\"); join it to the previous \
                 header line with a single space"
            ),
            RequestError::InvalidHeaderLine {
                line,
                excerpt,
                reason,
            } => write!(
                f,
                "invalid header line {line}: {reason} (found \"{excerpt}\")"
            ),
            RequestError::InvalidHeaderName { location, name } => write!(
                f,
                "invalid header name \"{name}\" at {location}: a name may contain only \
                 letters, digits and !#$%&'*+-.^_`|~; correct the name"
            ),
            RequestError::InvalidHeaderValue {
                location,
                name,
                excerpt,
                character,
            } => {
                let code_point = u32::from(*character);
                write!(
                    f,
                    "invalid character {character:?} (U+{code_point:04X}) in the value of \
                     header {name} at {location} (value \"{excerpt}\"): "
                )?;
                if code_point > 0xFF {
                    write!(
                        f,
                        "Node reads each header byte as one latin1 character, so values \
                         hold only U+0000 to U+00FF; write the value as the latin1 \
                         characters of its bytes"
                    )
                } else {
                    write!(
                        f,
                        "Node rejects control characters in header values; remove it"
                    )
                }
            }
            RequestError::InvalidContentLength { value } => write!(
                f,
                "invalid Content-Length \"{value}\": expected a decimal number of bytes \
                 such as 42; correct or remove the header"
            ),
            RequestError::RepeatedContentLength { count } => write!(
                f,
                "Content-Length occurs {count} times, and Node rejects a repeated \
                 Content-Length even with equal values; keep one line"
            ),
            RequestError::ContentLengthWithTransferEncoding => write!(
                f,
                "the request has both Content-Length and Transfer-Encoding, which Node \
                 rejects; remove one of them"
            ),
            RequestError::UnsupportedTransferEncoding { value } => write!(
                f,
                "unsupported Transfer-Encoding \"{value}\": only chunked is decoded; \
                 decode the body and remove the header"
            ),
            RequestError::BodyShorterThanContentLength {
                declared,
                available,
            } => write!(
                f,
                "Content-Length is {declared} but only {available} body bytes follow the \
                 headers; paste the whole body or correct Content-Length (an editor that \
                 converts CRLF to LF also changes the byte count)"
            ),
            RequestError::BodyLongerThanContentLength {
                declared,
                available,
            } => write!(
                f,
                "Content-Length is {declared} but {available} body bytes follow the \
                 headers; correct Content-Length, or remove it to read the rest of the \
                 input as the body"
            ),
            RequestError::CurlBodyMissing { declared } => write!(
                f,
                "Content-Length is {declared} but no body follows the request lines, \
                 because curl -v does not print the request body; paste the body \
                 directly after the lines that start with \">\""
            ),
            RequestError::InvalidChunk {
                line,
                excerpt,
                reason,
            } => write!(
                f,
                "invalid chunked body at line {line}: {reason} (found \"{excerpt}\")"
            ),
            RequestError::CurlRequestMissing => write!(
                f,
                "the curl -v output has no request lines starting with \"> \"; include \
                 the lines that curl -v prints for the request"
            ),
            RequestError::InvalidJson { message } => write!(
                f,
                "invalid JSON request: {message}; correct the JSON, or provide the request \
                 as raw HTTP"
            ),
            RequestError::UnknownJsonField { field } => write!(
                f,
                "unknown field \"{field}\" in the JSON request; the allowed fields are \
                 method, url or target, headers and body, or request for a HAR entry, \
                 or log for a HAR log"
            ),
            RequestError::MissingJsonField { field } => {
                write!(f, "the JSON request has no \"{field}\" field; add it")
            }
            RequestError::ConflictingJsonFields { first, second } => write!(
                f,
                "the JSON request has both \"{first}\" and \"{second}\"; keep only one"
            ),
            RequestError::EmptyHarLog => write!(
                f,
                "the HAR log has no entries; export the HAR again with the request in it"
            ),
        }
    }
}

impl std::error::Error for RequestError {}

/// Reads a request in any of the supported forms, choosing the parser with [`detect_form`].
pub fn parse_request(input: &[u8], limits: &RequestLimits) -> Result<Request, RequestError> {
    match detect_form(input) {
        None => Err(RequestError::EmptyInput),
        Some(RequestForm::Json) => parse_json_request(input, limits),
        Some(RequestForm::CurlVerbose) => parse_curl_verbose(input, limits),
        Some(RequestForm::RawHttp) => parse_raw_http(input, limits),
    }
}

/// Identifies the form of a request text, or returns `None` when it contains only whitespace.
///
/// A leading UTF-8 byte order mark is ignored. The input is JSON when its first
/// non-whitespace byte is `{`. It is `curl -v` output when a line before the first blank
/// line starts with `> ` or `* `, which no valid raw header line does. Otherwise it is raw
/// HTTP.
pub fn detect_form(input: &[u8]) -> Option<RequestForm> {
    let input = strip_byte_order_mark(input);
    let start = first_non_whitespace(input)?;
    if input.get(start) == Some(&b'{') {
        return Some(RequestForm::Json);
    }

    for line in Lines::new(input, start, 1) {
        if is_blank(line.content) {
            break;
        }
        if line.content.starts_with(b"> ") || line.content.starts_with(b"* ") {
            return Some(RequestForm::CurlVerbose);
        }
    }
    Some(RequestForm::RawHttp)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn detect_json_by_first_brace() {
        assert_eq!(
            detect_form(b" \r\n{\"method\":\"GET\"}"),
            Some(RequestForm::Json)
        );
    }

    #[test]
    fn detect_curl_by_request_prefix() {
        assert_eq!(
            detect_form(b"> GET / HTTP/1.1\r\n> \r\n"),
            Some(RequestForm::CurlVerbose)
        );
    }

    #[test]
    fn detect_curl_by_information_prefix() {
        assert_eq!(
            detect_form(b"$ curl -v http://h/\n* Trying 127.0.0.1\n> GET / HTTP/1.1\n"),
            Some(RequestForm::CurlVerbose)
        );
    }

    #[test]
    fn detect_raw_http() {
        assert_eq!(
            detect_form(b"GET / HTTP/1.1\r\n\r\n"),
            Some(RequestForm::RawHttp)
        );
    }

    #[test]
    fn detect_raw_when_body_lines_look_like_curl() {
        assert_eq!(
            detect_form(b"POST / HTTP/1.1\r\n\r\n> quoted\n* item\n"),
            Some(RequestForm::RawHttp)
        );
    }

    #[test]
    fn detect_skips_byte_order_mark() {
        assert_eq!(detect_form(b"\xEF\xBB\xBF{}"), Some(RequestForm::Json));
    }

    #[test]
    fn detect_whitespace_only_is_none() {
        assert_eq!(detect_form(b" \t\r\n"), None);
    }

    #[test]
    fn parse_request_rejects_empty_input() {
        let error = parse_request(b"", &RequestLimits::default()).unwrap_err();
        assert_eq!(error, RequestError::EmptyInput);
    }

    #[test]
    fn parse_request_reads_each_form_alike() {
        let limits = RequestLimits::default();
        let raw = parse_request(
            b"PUT /quotes/1 HTTP/1.1\r\nFSPIOP-Source: payerfsp\r\n\r\n{}",
            &limits,
        )
        .unwrap();
        let curl = parse_request(
            b"* Connected\n> PUT /quotes/1 HTTP/1.1\r\n> FSPIOP-Source: payerfsp\r\n> \r\n{}\n",
            &limits,
        )
        .unwrap();
        let json = parse_request(
            br#"{"method":"PUT","url":"/quotes/1","headers":{"FSPIOP-Source":"payerfsp"},"body":"{}"}"#,
            &limits,
        )
        .unwrap();
        assert_eq!(curl, raw);
        assert_eq!(json, raw);
    }

    #[test]
    fn default_limits() {
        let limits = RequestLimits::default();
        assert_eq!(limits.max_header_bytes, 65_536);
        assert_eq!(limits.max_headers, 200);
        assert_eq!(limits.max_body_bytes, 16_777_216);
    }

    #[test]
    fn error_excerpt_is_cut_at_60_characters() {
        let value = "v".repeat(100);
        let input = format!("GET / HTTP/1.1\r\nX-Long: {value}\u{1}\r\n\r\n");
        let error = parse_request(input.as_bytes(), &RequestLimits::default()).unwrap_err();
        let RequestError::InvalidHeaderValue { excerpt, .. } = &error else {
            panic!("unexpected error {error:?}");
        };
        assert_eq!(excerpt, &format!("{}…", "v".repeat(60)));
    }

    #[test]
    fn error_message_names_line_header_and_value() {
        let input = b"GET / HTTP/1.1\r\nHost: a\r\nFSPIOP-Source: pay\x00er\r\n\r\n";
        let message = parse_request(input, &RequestLimits::default())
            .unwrap_err()
            .to_string();
        assert!(message.contains("line 3"), "{message}");
        assert!(message.contains("FSPIOP-Source"), "{message}");
        assert!(message.contains("pay\\0er"), "{message}");
    }

    /// Deterministic xorshift generator, so that a failing input can be reproduced.
    struct Xorshift(u64);

    impl Xorshift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, bound: usize) -> usize {
            usize::try_from(self.next() % u64::try_from(bound).unwrap()).unwrap()
        }
    }

    const FRAGMENTS: &[&[u8]] = &[
        b"POST /quotes HTTP/1.1",
        b"GET http://h HTTP/1.0",
        b"\r\n",
        b"\n",
        b"\r",
        b" ",
        b"\t",
        b":",
        b"Content-Length: 3",
        b"Content-Length: 99999999999999999999",
        b"Transfer-Encoding: chunked",
        b"0",
        b"ffffffffffffffff",
        b"3;x=y",
        b"abc",
        b"> ",
        b"* ",
        b"< ",
        b"{ [",
        b"{",
        b"}",
        b"[",
        b"]",
        b"\"headers\":",
        b"\"log\":{\"entries\":[",
        b"\"request\":{",
        b"\"method\":\"GET\",",
        b"\"url\":\"/\",",
        b"\"body\":",
        b"\"\\u00e9\"",
        b"\xEF\xBB\xBF",
        b"\xE9",
        b"\x00",
        b",",
    ];

    #[test]
    fn arbitrary_inputs_do_not_panic() {
        let tiny = RequestLimits {
            max_header_bytes: 40,
            max_headers: 2,
            max_body_bytes: 4,
        };
        let default = RequestLimits::default();
        let mut random = Xorshift(0x9E37_79B9_7F4A_7C15);

        for _ in 0..20_000 {
            let mut input = Vec::new();
            for _ in 0..random.below(24) {
                if random.below(5) == 0 {
                    input.push(u8::try_from(random.below(256)).unwrap());
                } else {
                    input.extend_from_slice(FRAGMENTS.get(random.below(FRAGMENTS.len())).unwrap());
                }
            }
            let _ = parse_request(&input, &tiny);
            let _ = parse_request(&input, &default);
            let _ = parse_raw_http(&input, &tiny);
            let _ = parse_curl_verbose(&input, &tiny);
            let _ = parse_json_request(&input, &tiny);
        }
    }

    #[test]
    fn truncated_inputs_do_not_panic() {
        let limits = RequestLimits::default();
        let inputs: [&[u8]; 3] = [
            b"PUT /quotes HTTP/1.1\r\nTransfer-Encoding: chunked\r\nX: 1\r\n\r\n3;a\r\nabc\r\n0\r\nT: 1\r\n\r\n",
            b"* a\n> PUT /q HTTP/2\r\n> Content-Length: 2\r\n> \r\n{}\n< HTTP/2 200\n",
            br#"{"log":{"entries":[{"request":{"method":"GET","url":"http://h/","headers":[{"name":"a","value":"b"}],"postData":{"text":"x"}}}]}}"#,
        ];
        for input in inputs {
            for end in 0..=input.len() {
                let _ = parse_request(input.get(..end).unwrap(), &limits);
            }
        }
    }

    #[test]
    fn error_messages_include_advice() {
        let errors = [
            RequestError::EmptyInput,
            RequestError::InputTooLarge { length: 2, max: 1 },
            RequestError::HeaderSectionTooLarge { max: 1 },
            RequestError::TooManyHeaders { max: 1 },
            RequestError::BodyTooLarge { length: 2, max: 1 },
            RequestError::InvalidContentLength {
                value: "x".to_owned(),
            },
            RequestError::RepeatedContentLength { count: 2 },
            RequestError::ContentLengthWithTransferEncoding,
            RequestError::UnsupportedTransferEncoding {
                value: "gzip".to_owned(),
            },
            RequestError::BodyShorterThanContentLength {
                declared: 2,
                available: 1,
            },
            RequestError::BodyLongerThanContentLength {
                declared: 1,
                available: 2,
            },
            RequestError::CurlBodyMissing { declared: 2 },
            RequestError::CurlRequestMissing,
            RequestError::UnknownJsonField {
                field: "x".to_owned(),
            },
            RequestError::MissingJsonField { field: "url" },
            RequestError::ConflictingJsonFields {
                first: "url",
                second: "target",
            },
            RequestError::EmptyHarLog,
        ];
        for error in errors {
            let message = error.to_string();
            assert!(message.contains("; "), "no advice in {message:?}");
        }
    }
}
