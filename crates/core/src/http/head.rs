//! Request line and header lines, shared by the raw HTTP and curl -v forms.

use super::text::{
    Line, excerpt, excerpt_bytes, invalid_header_value_character, is_token, latin1_to_string,
    trim_optional_whitespace,
};
use super::{Location, RequestError, RequestLimits};
use crate::request::Headers;

/// HTTP versions that a request line may name, and the error reason when it names another.
pub(super) struct HttpVersions {
    pub(super) allowed: &'static [&'static str],
    pub(super) reason: &'static str,
}

pub(super) const RAW_HTTP_VERSIONS: HttpVersions = HttpVersions {
    allowed: &["HTTP/1.0", "HTTP/1.1"],
    reason: "the HTTP version must be HTTP/1.0 or HTTP/1.1",
};

/// curl -v prints the request in HTTP/1.1 syntax also for HTTP/2 and HTTP/3.
pub(super) const CURL_HTTP_VERSIONS: HttpVersions = HttpVersions {
    allowed: &["HTTP/1.0", "HTTP/1.1", "HTTP/2", "HTTP/3"],
    reason: "the HTTP version must be HTTP/1.0, HTTP/1.1, HTTP/2 or HTTP/3",
};

const REASON_REQUEST_LINE_SHAPE: &str = "expected METHOD, request-target and HTTP version \
     separated by single spaces, such as \"PUT /quotes/123 HTTP/1.1\"";
pub(super) const REASON_METHOD: &str = "the method must be a token such as PUT or POST";
pub(super) const REASON_TARGET: &str = "the request-target must be non-empty visible ASCII \
     without spaces; percent-encode other characters";

/// Method, request-target and headers of a request.
pub(super) struct Head {
    pub(super) method: String,
    pub(super) target: String,
    pub(super) headers: Headers,
}

/// Parses the request line and header lines. The caller has already checked the limits.
pub(super) fn parse_head(
    lines: &[Line<'_>],
    versions: &HttpVersions,
) -> Result<Head, RequestError> {
    let Some((request_line, header_lines)) = lines.split_first() else {
        return Err(RequestError::EmptyInput);
    };
    let (method, target) = parse_request_line(request_line, versions)?;

    let mut headers = Headers::new();
    for line in header_lines {
        let (name, value) = parse_header_line(line)?;
        headers.push(&name, &value);
    }
    Ok(Head {
        method,
        target,
        headers,
    })
}

fn parse_request_line(
    line: &Line<'_>,
    versions: &HttpVersions,
) -> Result<(String, String), RequestError> {
    let invalid = |reason| RequestError::InvalidRequestLine {
        location: Location::Line(line.number),
        excerpt: excerpt_bytes(line.content),
        reason,
    };

    let mut parts = line.content.split(|&byte| byte == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid(REASON_REQUEST_LINE_SHAPE));
    };

    if !is_token(method) {
        return Err(invalid(REASON_METHOD));
    }
    if target.is_empty() || !target.iter().all(|byte| (0x21..=0x7e).contains(byte)) {
        return Err(invalid(REASON_TARGET));
    }
    let version = latin1_to_string(version);
    if !versions.allowed.contains(&version.as_str()) {
        return Err(invalid(versions.reason));
    }

    Ok((
        latin1_to_string(method),
        origin_form(&latin1_to_string(target)),
    ))
}

/// Reduces an absolute-form target such as `http://host:80/path?q#f` to its path and query,
/// `/path?q`. An empty path becomes `/`. Any other target is returned unchanged.
pub(super) fn origin_form(target: &str) -> String {
    let Some((scheme, rest)) = target.split_once("://") else {
        return target.to_owned();
    };
    let mut scheme_bytes = scheme.bytes();
    let scheme_is_valid = scheme_bytes
        .next()
        .is_some_and(|byte| byte.is_ascii_alphabetic())
        && scheme_bytes.all(|byte| byte.is_ascii_alphanumeric() || b"+-.".contains(&byte));
    if !scheme_is_valid {
        return target.to_owned();
    }

    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let after_authority = rest.get(authority_end..).unwrap_or_default();
    let path_and_query = match after_authority.split_once('#') {
        Some((before_fragment, _)) => before_fragment,
        None => after_authority,
    };
    if path_and_query.starts_with('/') {
        path_and_query.to_owned()
    } else {
        format!("/{path_and_query}")
    }
}

/// Parses `Name: value`, returning the name and the value without surrounding spaces and tabs.
pub(super) fn parse_header_line(line: &Line<'_>) -> Result<(String, String), RequestError> {
    let content = line.content;
    let invalid_line = |reason| RequestError::InvalidHeaderLine {
        line: line.number,
        excerpt: excerpt_bytes(content),
        reason,
    };

    if content
        .first()
        .is_some_and(|&byte| byte == b' ' || byte == b'\t')
    {
        return Err(RequestError::ObsoleteLineFolding {
            line: line.number,
            excerpt: excerpt_bytes(content),
        });
    }
    let Some(colon) = content.iter().position(|&byte| byte == b':') else {
        return Err(invalid_line(
            "expected \"Name: value\" but found no colon; if the body starts here, \
             insert a blank line before it",
        ));
    };
    let name = content.get(..colon).unwrap_or_default();
    let value = content.get(colon + 1..).unwrap_or_default();

    if name.is_empty() {
        return Err(invalid_line("the header name before the colon is empty"));
    }
    if name
        .last()
        .is_some_and(|&byte| byte == b' ' || byte == b'\t')
    {
        return Err(invalid_line(
            "whitespace between the header name and the colon is not allowed; remove it",
        ));
    }
    if !is_token(name) {
        return Err(RequestError::InvalidHeaderName {
            location: Location::Line(line.number),
            name: excerpt_bytes(name),
        });
    }

    let name = latin1_to_string(name);
    let value = latin1_to_string(trim_optional_whitespace(value));
    if let Some(character) = invalid_header_value_character(&value) {
        return Err(RequestError::InvalidHeaderValue {
            location: Location::Line(line.number),
            name: excerpt(&name),
            excerpt: excerpt(&value),
            character,
        });
    }
    Ok((name, value))
}

/// Counts header section bytes and header lines against the limits.
pub(super) struct HeadBudget<'l> {
    limits: &'l RequestLimits,
    wire_bytes: usize,
    lines: usize,
}

impl<'l> HeadBudget<'l> {
    pub(super) fn new(limits: &'l RequestLimits) -> Self {
        Self {
            limits,
            wire_bytes: 0,
            lines: 0,
        }
    }

    /// Counts the blank line that ends the header section.
    pub(super) fn add_blank_line(&mut self) -> Result<(), RequestError> {
        self.add_bytes(2)
    }

    /// Counts one request line or header line with `content_len` bytes before its ending.
    pub(super) fn add_line(&mut self, content_len: usize) -> Result<(), RequestError> {
        self.add_bytes(content_len.saturating_add(2))?;
        self.lines += 1;
        // The first line is the request line, so a header count above the limit is
        // a line count above the limit plus one.
        if self.lines > self.limits.max_headers.saturating_add(1) {
            return Err(RequestError::TooManyHeaders {
                max: self.limits.max_headers,
            });
        }
        Ok(())
    }

    pub(super) fn add_bytes(&mut self, bytes: usize) -> Result<(), RequestError> {
        self.wire_bytes = self.wire_bytes.saturating_add(bytes);
        if self.wire_bytes > self.limits.max_header_bytes {
            return Err(RequestError::HeaderSectionTooLarge {
                max: self.limits.max_header_bytes,
            });
        }
        Ok(())
    }
}
