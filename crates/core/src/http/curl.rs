//! `curl -v` output, optionally followed by the request body.

use super::body::{Framing, body_framing, body_until_end, body_with_content_length, to_u64};
use super::head::{CURL_HTTP_VERSIONS, HeadBudget, parse_head};
use super::text::{Line, Lines, is_blank, strip_byte_order_mark};
use super::{RequestError, RequestLimits};
use crate::request::Request;

/// The role of one line of `curl -v` output.
enum CurlLine<'a> {
    /// A request line, without the `>` prefix and the space after it.
    Request(&'a [u8]),
    /// A response line, starting with `<`.
    Response,
    /// Information from curl: `* ` lines and the `{ [N bytes data]` and `} [...]` markers.
    Information,
    /// Any other line: text before the request, the pasted body, or a response body.
    Other,
}

fn classify_curl_line(content: &[u8]) -> CurlLine<'_> {
    if let Some(request) = content.strip_prefix(b">") {
        return CurlLine::Request(request.strip_prefix(b" ").unwrap_or(request));
    }
    if content.starts_with(b"<") {
        return CurlLine::Response;
    }
    if content.starts_with(b"* ")
        || content == b"*"
        || content.starts_with(b"{ [")
        || content.starts_with(b"} [")
    {
        return CurlLine::Information;
    }
    CurlLine::Other
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CurlStage {
    BeforeRequest,
    Request,
    Body,
}

/// Reads a request from `curl -v` output, optionally followed by the request body.
///
/// The request is the first block of lines starting with `>`, which ends at a `>` line with
/// nothing after it. Lines before that block are ignored, and so are `* ` lines and curl's
/// `{ [...]` and `} [...]` data markers anywhere. curl -v does not print the request body,
/// so the body is the other text pasted after the request block, up to the first response
/// line (`<`) or the next request block. Blank lines between the request block and the body
/// are skipped. Text after the response lines is the response body and is ignored.
///
/// The body is framed like in [`super::parse_raw_http`], except that with
/// `Transfer-Encoding: chunked` it is taken as pasted, because curl -v shows no chunk
/// framing. The HTTP version may also be HTTP/2 or HTTP/3, which curl -v prints in the
/// same syntax.
pub fn parse_curl_verbose(input: &[u8], limits: &RequestLimits) -> Result<Request, RequestError> {
    let input = strip_byte_order_mark(input);
    let mut stage = CurlStage::BeforeRequest;
    let mut budget = HeadBudget::new(limits);
    let mut head_lines = Vec::new();
    let mut body = Vec::new();
    // The raw framing rules may still remove a final CRLF, so the collected text may exceed
    // the body limit by those two bytes.
    let max_collected = limits.max_body_bytes.saturating_add(2);

    for line in Lines::new(input, 0, 1) {
        let role = classify_curl_line(line.content);
        if stage == CurlStage::BeforeRequest {
            if let CurlLine::Request(request) = role
                && !is_blank(request)
            {
                budget.add_line(request.len())?;
                head_lines.push(Line {
                    content: request,
                    ..line
                });
                stage = CurlStage::Request;
            }
            continue;
        }

        if stage == CurlStage::Request {
            match role {
                CurlLine::Request(request) if is_blank(request) => {
                    budget.add_blank_line()?;
                    stage = CurlStage::Body;
                    continue;
                }
                CurlLine::Request(request) => {
                    budget.add_line(request.len())?;
                    head_lines.push(Line {
                        content: request,
                        ..line
                    });
                    continue;
                }
                CurlLine::Information => continue,
                CurlLine::Response => break,
                CurlLine::Other => stage = CurlStage::Body,
            }
        }

        match role {
            CurlLine::Request(_) | CurlLine::Response => break,
            CurlLine::Information => {}
            CurlLine::Other if body.is_empty() && is_blank(line.content) => {}
            CurlLine::Other => {
                let with_ending = input.get(line.start..line.end).unwrap_or_default();
                let collected = body.len().saturating_add(with_ending.len());
                if collected > max_collected {
                    return Err(RequestError::BodyTooLarge {
                        length: to_u64(collected),
                        max: limits.max_body_bytes,
                    });
                }
                body.extend_from_slice(with_ending);
            }
        }
    }

    if head_lines.is_empty() {
        return Err(RequestError::CurlRequestMissing);
    }
    let head = parse_head(&head_lines, &CURL_HTTP_VERSIONS)?;
    let body = match body_framing(&head.headers)? {
        Framing::ContentLength(declared) if declared > 0 && body.is_empty() => {
            return Err(RequestError::CurlBodyMissing { declared });
        }
        Framing::ContentLength(declared) => body_with_content_length(&body, declared, limits)?,
        Framing::Chunked | Framing::UntilEnd => body_until_end(&body, limits)?,
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

    fn parse(input: &str) -> Result<Request, RequestError> {
        parse_curl_verbose(input.as_bytes(), &RequestLimits::default())
    }

    const PASTE: &str = "Note: Unnecessary use of -X or --request, PUT is already inferred.\n\
        *   Trying 127.0.0.1:3000...\n\
        * Connected to hub.example (127.0.0.1) port 3000\n\
        > PUT /quotes/123 HTTP/1.1\r\n\
        > Host: hub.example:3000\r\n\
        > User-Agent: curl/8.5.0\r\n\
        > FSPIOP-Source: payerfsp\r\n\
        > Content-Type: application/vnd.interoperability.quotes+json;version=1.0\r\n\
        > Content-Length: 15\r\n\
        > \r\n\
        } [15 bytes data]\n\
        * We are completely uploaded and fine\n\
        { \"amount\": 1 }\n\
        < HTTP/1.1 200 OK\r\n\
        < Content-Length: 2\r\n\
        < \r\n\
        { [2 bytes data]\n\
        ok\n";

    #[test]
    fn paste_method_and_target() {
        let request = parse(PASTE).unwrap();
        assert_eq!(request.method, "PUT");
        assert_eq!(request.target, "/quotes/123");
    }

    #[test]
    fn paste_headers_without_prefix() {
        let request = parse(PASTE).unwrap();
        let names: Vec<&str> = request.headers.iter().map(|(name, _)| name).collect();
        assert_eq!(
            names,
            [
                "Host",
                "User-Agent",
                "FSPIOP-Source",
                "Content-Type",
                "Content-Length"
            ]
        );
        assert_eq!(
            request.headers.get("fspiop-source").as_deref(),
            Some("payerfsp")
        );
    }

    #[test]
    fn paste_body_follows_request_block() {
        let request = parse(PASTE).unwrap();
        assert_eq!(request.body.as_deref(), Some(&b"{ \"amount\": 1 }"[..]));
    }

    #[test]
    fn response_body_is_ignored() {
        let without_length = PASTE.replace("> Content-Length: 15\r\n", "");
        let request = parse(&without_length).unwrap();
        assert_eq!(request.body.as_deref(), Some(&b"{ \"amount\": 1 }"[..]));
    }

    #[test]
    fn detected_by_parse_request() {
        let request = crate::http::parse_request(PASTE.as_bytes(), &RequestLimits::default());
        assert_eq!(request, parse(PASTE));
    }

    #[test]
    fn missing_body_with_content_length_is_rejected() {
        let without_body = PASTE.replace("{ \"amount\": 1 }\n", "");
        let error = parse(&without_body).unwrap_err();
        assert_eq!(error, RequestError::CurlBodyMissing { declared: 15 });
    }

    #[test]
    fn blank_lines_before_body_are_skipped() {
        let input = "> POST /quotes HTTP/1.1\n> Content-Length: 2\n>\n\n\n{}\n";
        let request = parse(input).unwrap();
        assert_eq!(request.body.as_deref(), Some(&b"{}"[..]));
    }

    #[test]
    fn multi_line_body_keeps_line_endings() {
        let input = "> POST /quotes HTTP/1.1\n> \n{\r\n  \"a\": 1\r\n}\r\n";
        let request = parse(input).unwrap();
        assert_eq!(request.body.as_deref(), Some(&b"{\r\n  \"a\": 1\r\n}"[..]));
    }

    #[test]
    fn http2_request_line_is_accepted() {
        let input = "* using HTTP/2\n> POST /quotes HTTP/2\r\n> host: hub.example\r\n> \r\n";
        let request = parse(input).unwrap();
        assert_eq!(request.target, "/quotes");
        assert_eq!(request.headers.get("host").as_deref(), Some("hub.example"));
    }

    #[test]
    fn request_block_without_blank_line_ends_at_body() {
        let input = "> POST /quotes HTTP/1.1\n> A: 1\n{\"a\":1}\n";
        let request = parse(input).unwrap();
        assert_eq!(request.headers.len(), 1);
        assert_eq!(request.body.as_deref(), Some(&b"{\"a\":1}"[..]));
    }

    #[test]
    fn second_request_block_ends_body() {
        let input = "> POST /a HTTP/1.1\n>\nbody\n> GET /b HTTP/1.1\n>\n";
        let request = parse(input).unwrap();
        assert_eq!(request.target, "/a");
        assert_eq!(request.body.as_deref(), Some(&b"body"[..]));
    }

    #[test]
    fn chunked_body_is_taken_as_pasted() {
        let input = "> POST /quotes HTTP/1.1\n> Transfer-Encoding: chunked\n>\n{\"a\":1}\n";
        let request = parse(input).unwrap();
        assert_eq!(request.body.as_deref(), Some(&b"{\"a\":1}"[..]));
    }

    #[test]
    fn output_without_request_lines_is_rejected() {
        let error = parse("* Trying 127.0.0.1\n* Connected\n").unwrap_err();
        assert_eq!(error, RequestError::CurlRequestMissing);
    }

    #[test]
    fn error_line_numbers_refer_to_paste() {
        let input = "* Trying\n* Connected\n> PUT /quotes HTTP/1.1\n> Bad Header\n>\n";
        let error = parse(input).unwrap_err();
        assert!(
            matches!(error, RequestError::InvalidHeaderLine { line: 4, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn header_value_control_character_is_rejected() {
        let input = "> PUT /quotes HTTP/1.1\n> A: x\u{1}y\n>\n";
        let error = parse(input).unwrap_err();
        assert!(
            matches!(
                error,
                RequestError::InvalidHeaderValue {
                    location: Location::Line(2),
                    ..
                }
            ),
            "{error:?}"
        );
    }

    fn small_limits() -> RequestLimits {
        RequestLimits {
            max_header_bytes: 64,
            max_headers: 2,
            max_body_bytes: 8,
        }
    }

    #[test]
    fn header_count_over_limit_is_rejected() {
        let input = "> GET / HTTP/1.1\n> A: 1\n> B: 2\n> C: 3\n>\n";
        let error = parse_curl_verbose(input.as_bytes(), &small_limits()).unwrap_err();
        assert_eq!(error, RequestError::TooManyHeaders { max: 2 });
    }

    #[test]
    fn header_section_over_limit_is_rejected() {
        let input = format!("> GET / HTTP/1.1\n> A: {}\n>\n", "x".repeat(60));
        let error = parse_curl_verbose(input.as_bytes(), &small_limits()).unwrap_err();
        assert_eq!(error, RequestError::HeaderSectionTooLarge { max: 64 });
    }

    #[test]
    fn body_over_limit_is_rejected() {
        let input = "> POST / HTTP/1.1\n>\n12345\n67890\n";
        let error = parse_curl_verbose(input.as_bytes(), &small_limits()).unwrap_err();
        assert_eq!(error, RequestError::BodyTooLarge { length: 12, max: 8 });
    }

    #[test]
    fn body_at_limit_with_final_newline_is_accepted() {
        let input = "> POST / HTTP/1.1\n>\n12345678\r\n";
        let request = parse_curl_verbose(input.as_bytes(), &small_limits()).unwrap();
        assert_eq!(request.body.as_deref(), Some(&b"12345678"[..]));
    }
}
