//! Raw HTTP/1.x requests.

use super::body::{
    Framing, body_framing, body_until_end, body_with_content_length, decode_chunked, non_empty,
};
use super::head::{HeadBudget, RAW_HTTP_VERSIONS, parse_head};
use super::text::{Lines, first_non_whitespace, is_blank, line_number_at, strip_byte_order_mark};
use super::{RequestError, RequestLimits};
use crate::request::Request;

/// Reads a raw HTTP/1.x request: request line, header lines, blank line, body.
///
/// Lines may end with CRLF or bare LF, and leading whitespace before the request line is
/// skipped. A line of only spaces and tabs ends the header section like an empty one.
/// An absolute-form target such as `http://host/path?q` is reduced to `/path?q`.
/// Header bytes are decoded as latin1, and obsolete line folding is rejected.
///
/// The body is framed as follows:
/// - `Transfer-Encoding: chunked`: the chunks are decoded;
/// - `Content-Length: N`: exactly N bytes, followed by nothing but whitespace;
/// - neither: the rest of the input without exactly one final LF or CRLF, or no body when
///   the rest is whitespace.
///
/// An empty body is `None`.
pub fn parse_raw_http(input: &[u8], limits: &RequestLimits) -> Result<Request, RequestError> {
    let input = strip_byte_order_mark(input);
    let Some(start) = first_non_whitespace(input) else {
        return Err(RequestError::EmptyInput);
    };

    // The header section must end within max_header_bytes of the start, so the search for
    // its end never looks further.
    let window_end = start
        .saturating_add(limits.max_header_bytes)
        .saturating_add(1)
        .min(input.len());
    let window = input.get(..window_end).unwrap_or(input);

    let mut budget = HeadBudget::new(limits);
    let mut head_lines = Vec::new();
    let mut body_start = None;
    for line in Lines::new(window, start, line_number_at(input, start)) {
        if is_blank(line.content) {
            budget.add_blank_line()?;
            body_start = Some(line.end);
            break;
        }
        budget.add_line(line.content.len())?;
        head_lines.push(line);
    }
    let body_start = match body_start {
        Some(offset) => offset,
        None if window_end < input.len() => {
            return Err(RequestError::HeaderSectionTooLarge {
                max: limits.max_header_bytes,
            });
        }
        None => input.len(),
    };

    let head = parse_head(&head_lines, &RAW_HTTP_VERSIONS)?;
    let rest = input.get(body_start..).unwrap_or_default();
    let body = match body_framing(&head.headers)? {
        Framing::Chunked => non_empty(decode_chunked(input, body_start, limits)?),
        Framing::ContentLength(declared) => body_with_content_length(rest, declared, limits)?,
        Framing::UntilEnd => body_until_end(rest, limits)?,
    };

    Ok(Request {
        method: head.method,
        target: head.target,
        headers: head.headers,
        body,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::http::Location;

    fn parse(input: &[u8]) -> Result<Request, RequestError> {
        parse_raw_http(input, &RequestLimits::default())
    }

    fn parse_ok(input: &[u8]) -> Request {
        parse(input).unwrap()
    }

    fn parse_err(input: &[u8]) -> RequestError {
        parse(input).unwrap_err()
    }

    const PUT_CRLF: &[u8] = b"PUT /quotes/123 HTTP/1.1\r\n\
        Host: hub.example\r\n\
        FSPIOP-Source: payerfsp\r\n\
        Content-Length: 11\r\n\
        \r\n\
        {\"a\":\"b c\"}";

    #[test]
    fn crlf_request_method_and_target() {
        let request = parse_ok(PUT_CRLF);
        assert_eq!(request.method, "PUT");
        assert_eq!(request.target, "/quotes/123");
    }

    #[test]
    fn crlf_request_headers_in_wire_order() {
        let request = parse_ok(PUT_CRLF);
        let headers: Vec<(&str, &str)> = request.headers.iter().collect();
        assert_eq!(
            headers,
            [
                ("Host", "hub.example"),
                ("FSPIOP-Source", "payerfsp"),
                ("Content-Length", "11")
            ]
        );
    }

    #[test]
    fn crlf_request_body() {
        let request = parse_ok(PUT_CRLF);
        assert_eq!(request.body.as_deref(), Some(&b"{\"a\":\"b c\"}"[..]));
    }

    #[test]
    fn lf_request_reads_like_crlf() {
        let lf: Vec<u8> = String::from_utf8(PUT_CRLF.to_vec())
            .unwrap()
            .replace("\r\n", "\n")
            .into_bytes();
        assert_eq!(parse_ok(&lf), parse_ok(PUT_CRLF));
    }

    #[test]
    fn mixed_line_endings_are_accepted() {
        let request = parse_ok(b"GET /parties/MSISDN/1 HTTP/1.1\nHost: a\r\nDate: d\n\r\n");
        assert_eq!(request.headers.get("date").as_deref(), Some("d"));
        assert_eq!(request.body, None);
    }

    #[test]
    fn header_byte_e9_decodes_as_latin1() {
        let request = parse_ok(b"GET / HTTP/1.1\r\nX-Name: caf\xE9\r\n\r\n");
        assert_eq!(request.headers.get("x-name").as_deref(), Some("café"));
    }

    #[test]
    fn header_bytes_above_0x7f_are_accepted() {
        let request = parse_ok(b"GET / HTTP/1.1\r\nX: a\xFF\x85b\r\n\r\n");
        assert_eq!(request.headers.get("x").as_deref(), Some("a\u{ff}\u{85}b"));
    }

    #[test]
    fn header_values_are_stripped_of_spaces_and_tabs() {
        let request = parse_ok(b"GET / HTTP/1.1\r\nX-A: \t v a \t \r\n\r\n");
        let headers: Vec<(&str, &str)> = request.headers.iter().collect();
        assert_eq!(headers, [("X-A", "v a")]);
    }

    #[test]
    fn repeated_fspiop_source_joins_with_comma() {
        let request = parse_ok(
            b"POST /quotes HTTP/1.1\r\nFSPIOP-Source: payerfsp\r\nFSPIOP-Source: payerfsp\r\n\r\n",
        );
        assert_eq!(
            request.headers.get("fspiop-source").as_deref(),
            Some("payerfsp, payerfsp")
        );
    }

    #[test]
    fn empty_header_value_is_kept_but_not_present() {
        let request = parse_ok(b"POST /quotes HTTP/1.1\r\nFSPIOP-Source:\r\n\r\n");
        assert_eq!(request.headers.count("fspiop-source"), 1);
        assert_eq!(request.headers.get_present("fspiop-source"), None);
    }

    #[test]
    fn absolute_form_target_keeps_path_and_query() {
        let request = parse_ok(b"PUT http://hub.example:3000/quotes/1?a=b HTTP/1.1\r\n\r\n");
        assert_eq!(request.target, "/quotes/1?a=b");
    }

    #[test]
    fn absolute_form_target_without_path_becomes_slash() {
        let with_query = parse_ok(b"GET https://hub.example?x=1 HTTP/1.1\r\n\r\n");
        let bare = parse_ok(b"GET https://hub.example HTTP/1.1\r\n\r\n");
        assert_eq!(with_query.target, "/?x=1");
        assert_eq!(bare.target, "/");
    }

    #[test]
    fn absolute_form_target_drops_fragment() {
        let request = parse_ok(b"GET http://h/quotes#part HTTP/1.1\r\n\r\n");
        assert_eq!(request.target, "/quotes");
    }

    #[test]
    fn url_in_query_is_not_absolute_form() {
        let request = parse_ok(b"GET /cb?next=http://h/x HTTP/1.1\r\n\r\n");
        assert_eq!(request.target, "/cb?next=http://h/x");
    }

    #[test]
    fn leading_blank_lines_are_skipped() {
        let request = parse_ok(b"\r\n\n  GET / HTTP/1.1\r\n\r\n");
        assert_eq!(request.method, "GET");
    }

    #[test]
    fn error_line_numbers_count_leading_blank_lines() {
        let error = parse_err(b"\n\nGET / HTTP/1.1\nBad Header\n\n");
        assert!(
            matches!(error, RequestError::InvalidHeaderLine { line: 4, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn byte_order_mark_is_skipped() {
        let request = parse_ok(b"\xEF\xBB\xBFGET / HTTP/1.1\r\n\r\n");
        assert_eq!(request.method, "GET");
    }

    #[test]
    fn whitespace_only_line_ends_headers() {
        let request = parse_ok(b"POST / HTTP/1.1\nA: 1\n  \t\nbody\n");
        assert_eq!(request.headers.len(), 1);
        assert_eq!(request.body.as_deref(), Some(&b"body"[..]));
    }

    #[test]
    fn input_without_blank_line_has_no_body() {
        let request = parse_ok(b"GET /quotes HTTP/1.1\r\nHost: a");
        assert_eq!(request.headers.get("host").as_deref(), Some("a"));
        assert_eq!(request.body, None);
    }

    #[test]
    fn obsolete_line_folding_is_rejected() {
        let error = parse_err(b"GET / HTTP/1.1\r\nX-A: a\r\n  b\r\n\r\n");
        assert_eq!(
            error,
            RequestError::ObsoleteLineFolding {
                line: 3,
                excerpt: "  b".to_owned()
            }
        );
    }

    #[test]
    fn whitespace_before_colon_is_rejected() {
        let error = parse_err(b"GET / HTTP/1.1\r\nX-A : a\r\n\r\n");
        assert!(
            matches!(error, RequestError::InvalidHeaderLine { line: 2, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn header_line_without_colon_is_rejected() {
        let error = parse_err(b"GET / HTTP/1.1\r\nX-A a\r\n\r\n");
        assert!(
            matches!(error, RequestError::InvalidHeaderLine { line: 2, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn empty_header_name_is_rejected() {
        let error = parse_err(b"GET / HTTP/1.1\r\n: a\r\n\r\n");
        assert!(
            matches!(error, RequestError::InvalidHeaderLine { line: 2, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn header_name_with_parenthesis_is_rejected() {
        let error = parse_err(b"GET / HTTP/1.1\r\nX(: a\r\n\r\n");
        assert_eq!(
            error,
            RequestError::InvalidHeaderName {
                location: Location::Line(2),
                name: "X(".to_owned()
            }
        );
    }

    #[test]
    fn control_character_in_value_is_rejected() {
        for byte in [0x00, 0x01, 0x0b, 0x7f, b'\r'] {
            let mut input = b"GET / HTTP/1.1\r\nX-A: a".to_vec();
            input.extend([byte, b'b']);
            input.extend(b"\r\n\r\n");
            let error = parse_err(&input);
            assert!(
                matches!(
                    &error,
                    RequestError::InvalidHeaderValue { location: Location::Line(2), character, .. }
                        if u32::from(*character) == u32::from(byte)
                ),
                "byte {byte:#04x}: {error:?}"
            );
        }
    }

    #[test]
    fn request_line_without_version_is_rejected() {
        let error = parse_err(b"POST /quotes\r\n\r\n");
        assert!(
            matches!(
                error,
                RequestError::InvalidRequestLine {
                    location: Location::Line(1),
                    ..
                }
            ),
            "{error:?}"
        );
    }

    #[test]
    fn request_line_with_double_space_is_rejected() {
        let error = parse_err(b"POST  /quotes HTTP/1.1\r\n\r\n");
        assert!(
            matches!(error, RequestError::InvalidRequestLine { .. }),
            "{error:?}"
        );
    }

    #[test]
    fn http2_version_is_rejected_in_raw_form() {
        let error = parse_err(b"POST /quotes HTTP/2\r\n\r\n");
        assert!(
            error.to_string().contains("HTTP/1.0 or HTTP/1.1"),
            "{error}"
        );
    }

    #[test]
    fn http10_version_is_accepted() {
        let request = parse_ok(b"POST /quotes HTTP/1.0\r\n\r\n");
        assert_eq!(request.target, "/quotes");
    }

    #[test]
    fn non_ascii_target_is_rejected() {
        let error = parse_err(b"GET /q/\xE9 HTTP/1.1\r\n\r\n");
        assert!(error.to_string().contains("percent-encode"), "{error}");
    }

    #[test]
    fn method_with_invalid_character_is_rejected() {
        let error = parse_err(b"P(T / HTTP/1.1\r\n\r\n");
        assert!(
            error.to_string().contains("method must be a token"),
            "{error}"
        );
    }

    #[test]
    fn content_length_body_is_exact() {
        let request = parse_ok(b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
        assert_eq!(request.body.as_deref(), Some(&b"abc"[..]));
    }

    #[test]
    fn content_length_keeps_final_newline_inside_length() {
        let request = parse_ok(b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nabc\n");
        assert_eq!(request.body.as_deref(), Some(&b"abc\n"[..]));
    }

    #[test]
    fn content_length_ignores_trailing_whitespace() {
        let request = parse_ok(b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc\r\n\n \t");
        assert_eq!(request.body.as_deref(), Some(&b"abc"[..]));
    }

    #[test]
    fn content_length_longer_than_body_is_rejected() {
        let error = parse_err(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc\n");
        assert_eq!(
            error,
            RequestError::BodyShorterThanContentLength {
                declared: 10,
                available: 4
            }
        );
    }

    #[test]
    fn content_length_shorter_than_body_is_rejected() {
        let error = parse_err(b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nabc\n");
        assert_eq!(
            error,
            RequestError::BodyLongerThanContentLength {
                declared: 2,
                available: 3
            }
        );
    }

    #[test]
    fn content_length_zero_gives_no_body() {
        let request = parse_ok(b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n\n");
        assert_eq!(request.body, None);
    }

    #[test]
    fn repeated_content_length_is_rejected() {
        let error =
            parse_err(b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc");
        assert_eq!(error, RequestError::RepeatedContentLength { count: 2 });
    }

    #[test]
    fn invalid_content_length_is_rejected() {
        for value in ["+3", "3, 3", "abc", "", "-1", "99999999999999999999"] {
            let input = format!("POST / HTTP/1.1\r\nContent-Length: {value}\r\n\r\nabc");
            let error = parse_err(input.as_bytes());
            assert!(
                matches!(error, RequestError::InvalidContentLength { .. }),
                "value {value:?}: {error:?}"
            );
        }
    }

    #[test]
    fn content_length_with_transfer_encoding_is_rejected() {
        let error = parse_err(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        );
        assert_eq!(error, RequestError::ContentLengthWithTransferEncoding);
    }

    #[test]
    fn chunked_body_is_decoded() {
        let request = parse_ok(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n",
        );
        assert_eq!(request.body.as_deref(), Some(&b"abc0123456789"[..]));
    }

    #[test]
    fn chunked_body_with_lf_endings_is_decoded() {
        let request =
            parse_ok(b"POST / HTTP/1.1\nTransfer-Encoding: chunked\n\n3\nabc\n2\nde\n0\n\n");
        assert_eq!(request.body.as_deref(), Some(&b"abcde"[..]));
    }

    #[test]
    fn chunk_data_may_contain_line_endings() {
        let request = parse_ok(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\na\r\nb\r\n0\r\n\r\n",
        );
        assert_eq!(request.body.as_deref(), Some(&b"a\r\nb"[..]));
    }

    #[test]
    fn chunk_extensions_and_trailers_are_dropped() {
        let request = parse_ok(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;name=v\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n",
        );
        assert_eq!(request.body.as_deref(), Some(&b"abc"[..]));
        assert_eq!(request.headers.get("x-trailer"), None);
    }

    #[test]
    fn transfer_encoding_name_ignores_case() {
        let request = parse_ok(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\nb\r\nabcdefghijk\r\n0\r\n",
        );
        assert_eq!(request.body.as_deref(), Some(&b"abcdefghijk"[..]));
    }

    #[test]
    fn chunked_body_of_last_chunk_only_is_none() {
        let request = parse_ok(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        assert_eq!(request.body, None);
    }

    #[test]
    fn chunked_body_without_last_chunk_is_rejected() {
        let error = parse_err(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
        assert!(
            matches!(error, RequestError::InvalidChunk { line: 6, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn chunk_shorter_than_its_size_is_rejected() {
        let error = parse_err(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nabc");
        assert!(
            matches!(error, RequestError::InvalidChunk { line: 4, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn invalid_chunk_size_is_rejected() {
        for size in ["x", "", "-1", "3 x", "11111111111111111"] {
            let input = format!(
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n{size}\r\nabc\r\n0\r\n\r\n"
            );
            let error = parse_err(input.as_bytes());
            assert!(
                matches!(error, RequestError::InvalidChunk { line: 4, .. }),
                "size {size:?}: {error:?}"
            );
        }
    }

    #[test]
    fn chunk_data_without_line_ending_is_rejected() {
        let error = parse_err(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
        );
        assert!(
            error.to_string().contains("not followed by a line ending"),
            "{error}"
        );
    }

    #[test]
    fn data_after_chunked_body_is_rejected() {
        let error = parse_err(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nmore\r\n",
        );
        assert!(
            matches!(error, RequestError::InvalidChunk { line: 8, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn invalid_trailer_is_rejected() {
        let error = parse_err(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nnot a trailer\r\n\r\n",
        );
        assert!(
            matches!(error, RequestError::InvalidChunk { line: 5, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn gzip_transfer_encoding_is_rejected() {
        let error = parse_err(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        );
        assert_eq!(
            error,
            RequestError::UnsupportedTransferEncoding {
                value: "gzip, chunked".to_owned()
            }
        );
    }

    #[test]
    fn body_without_length_drops_one_final_lf() {
        let request = parse_ok(b"POST / HTTP/1.1\n\n{\"a\":1}\n");
        assert_eq!(request.body.as_deref(), Some(&b"{\"a\":1}"[..]));
    }

    #[test]
    fn body_without_length_drops_one_final_crlf() {
        let request = parse_ok(b"POST / HTTP/1.1\r\n\r\n{\"a\":1}\r\n");
        assert_eq!(request.body.as_deref(), Some(&b"{\"a\":1}"[..]));
    }

    #[test]
    fn body_without_length_keeps_second_final_newline() {
        let request = parse_ok(b"POST / HTTP/1.1\n\n{\"a\":1}\n\n");
        assert_eq!(request.body.as_deref(), Some(&b"{\"a\":1}\n"[..]));
    }

    #[test]
    fn body_without_length_keeps_text_without_newline() {
        let request = parse_ok(b"POST / HTTP/1.1\n\n {\"a\":1} ");
        assert_eq!(request.body.as_deref(), Some(&b" {\"a\":1} "[..]));
    }

    #[test]
    fn whitespace_only_remainder_gives_no_body() {
        let request = parse_ok(b"POST / HTTP/1.1\r\n\r\n\r\n \n");
        assert_eq!(request.body, None);
    }

    fn small_limits() -> RequestLimits {
        RequestLimits {
            max_header_bytes: 64,
            max_headers: 2,
            max_body_bytes: 8,
        }
    }

    #[test]
    fn header_section_at_limit_is_accepted() {
        // With CRLF: 16 bytes of request line, 15 and 31 bytes of headers, 2 of blank line.
        let input = b"GET / HTTP/1.1\r\nA: 1234567890\r\nB: 12345678901234567890123456\r\n\r\n";
        assert!(parse_raw_http(input, &small_limits()).is_ok());
    }

    #[test]
    fn header_section_over_limit_is_rejected() {
        let input = b"GET / HTTP/1.1\r\nA: 1234567890\r\nB: 123456789012345678901234567\r\n\r\n";
        let error = parse_raw_http(input, &small_limits()).unwrap_err();
        assert_eq!(error, RequestError::HeaderSectionTooLarge { max: 64 });
    }

    #[test]
    fn header_section_limit_counts_lf_lines_as_crlf() {
        let input = b"GET / HTTP/1.1\nA: 1234567890\nB: 123456789012345678901234567\n\n";
        let error = parse_raw_http(input, &small_limits()).unwrap_err();
        assert_eq!(error, RequestError::HeaderSectionTooLarge { max: 64 });
    }

    #[test]
    fn long_input_without_line_break_is_rejected() {
        let mut input = b"GET / HTTP/1.1\r\nA: ".to_vec();
        input.resize(1 << 20, b'a');
        let error = parse_raw_http(&input, &small_limits()).unwrap_err();
        assert_eq!(error, RequestError::HeaderSectionTooLarge { max: 64 });
    }

    #[test]
    fn header_count_at_limit_is_accepted() {
        let input = b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n";
        assert!(parse_raw_http(input, &small_limits()).is_ok());
    }

    #[test]
    fn header_count_over_limit_is_rejected() {
        let input = b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
        let error = parse_raw_http(input, &small_limits()).unwrap_err();
        assert_eq!(error, RequestError::TooManyHeaders { max: 2 });
    }

    #[test]
    fn content_length_over_body_limit_is_rejected() {
        let input = b"POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\n123456789";
        let error = parse_raw_http(input, &small_limits()).unwrap_err();
        assert_eq!(error, RequestError::BodyTooLarge { length: 9, max: 8 });
    }

    #[test]
    fn huge_content_length_is_rejected_before_reading() {
        let input = b"POST / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\nabc";
        let error = parse_raw_http(input, &small_limits()).unwrap_err();
        assert_eq!(
            error,
            RequestError::BodyTooLarge {
                length: u64::MAX,
                max: 8
            }
        );
    }

    #[test]
    fn content_length_at_body_limit_is_accepted() {
        let input = b"POST / HTTP/1.1\r\nContent-Length: 8\r\n\r\n12345678";
        assert!(parse_raw_http(input, &small_limits()).is_ok());
    }

    #[test]
    fn chunked_body_over_limit_is_rejected() {
        let input = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n12345\r\n4\r\n6789\r\n0\r\n\r\n";
        let error = parse_raw_http(input, &small_limits()).unwrap_err();
        assert_eq!(error, RequestError::BodyTooLarge { length: 9, max: 8 });
    }

    #[test]
    fn huge_chunk_size_is_rejected_before_reading() {
        let input = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nabc\r\n0\r\n\r\n";
        let error = parse_raw_http(input, &small_limits()).unwrap_err();
        assert_eq!(
            error,
            RequestError::BodyTooLarge {
                length: u64::MAX,
                max: 8
            }
        );
    }

    #[test]
    fn long_chunk_size_line_is_rejected() {
        let mut input = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;".to_vec();
        input.resize(input.len() + 2000, b'x');
        let error = parse_raw_http(&input, &small_limits()).unwrap_err();
        assert!(
            error.to_string().contains("longer than 1024 bytes"),
            "{error}"
        );
    }

    #[test]
    fn trailers_over_header_limit_are_rejected() {
        let mut input = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n".to_vec();
        for _ in 0..10 {
            input.extend(b"X-Trailer: 1234567890\r\n");
        }
        let error = parse_raw_http(&input, &small_limits()).unwrap_err();
        assert_eq!(error, RequestError::HeaderSectionTooLarge { max: 64 });
    }

    #[test]
    fn body_without_length_over_limit_is_rejected() {
        let input = b"POST / HTTP/1.1\r\n\r\n123456789\n";
        let error = parse_raw_http(input, &small_limits()).unwrap_err();
        assert_eq!(error, RequestError::BodyTooLarge { length: 9, max: 8 });
    }

    #[test]
    fn body_without_length_at_limit_ignores_final_newline() {
        let input = b"POST / HTTP/1.1\r\n\r\n12345678\r\n";
        assert!(parse_raw_http(input, &small_limits()).is_ok());
    }

    #[test]
    fn empty_input_is_rejected() {
        assert_eq!(parse_err(b" \r\n\t"), RequestError::EmptyInput);
    }
}
