//! Body framing: Content-Length, chunked transfer coding, or the rest of the input.

use super::head::{HeadBudget, parse_header_line};
use super::text::{
    Lines, excerpt, excerpt_bytes, is_blank, line_number_at, strip_one_line_ending,
    trailing_whitespace_len, trim_optional_whitespace,
};
use super::{RequestError, RequestLimits};
use crate::request::Headers;

/// Rule that determines the body length.
pub(super) enum Framing {
    Chunked,
    ContentLength(u64),
    UntilEnd,
}

pub(super) fn body_framing(headers: &Headers) -> Result<Framing, RequestError> {
    let transfer_encoding_lines = headers.count("transfer-encoding");
    let content_length_lines = headers.count("content-length");

    if transfer_encoding_lines > 0 && content_length_lines > 0 {
        return Err(RequestError::ContentLengthWithTransferEncoding);
    }
    if let Some(transfer_encoding) = headers.get("transfer-encoding") {
        if transfer_encoding.eq_ignore_ascii_case("chunked") {
            return Ok(Framing::Chunked);
        }
        return Err(RequestError::UnsupportedTransferEncoding {
            value: excerpt(&transfer_encoding),
        });
    }
    if content_length_lines > 1 {
        return Err(RequestError::RepeatedContentLength {
            count: content_length_lines,
        });
    }
    match headers.get("content-length") {
        Some(value) => Ok(Framing::ContentLength(parse_content_length(&value)?)),
        None => Ok(Framing::UntilEnd),
    }
}

pub(super) fn parse_content_length(value: &str) -> Result<u64, RequestError> {
    let invalid = || RequestError::InvalidContentLength {
        value: excerpt(value),
    };
    if value.is_empty() || !value.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(invalid());
    }
    value.parse::<u64>().map_err(|_| invalid())
}

/// Converts a length to `u64`, saturating on targets where `usize` is wider.
pub(super) fn to_u64(length: usize) -> u64 {
    u64::try_from(length).unwrap_or(u64::MAX)
}

pub(super) fn check_body_size(length: usize, limits: &RequestLimits) -> Result<(), RequestError> {
    if length > limits.max_body_bytes {
        return Err(RequestError::BodyTooLarge {
            length: to_u64(length),
            max: limits.max_body_bytes,
        });
    }
    Ok(())
}

pub(super) fn non_empty(body: Vec<u8>) -> Option<Vec<u8>> {
    if body.is_empty() { None } else { Some(body) }
}

/// Takes exactly `declared` bytes as the body. Trailing bytes after them are accepted only
/// when they are whitespace, such as the newline an editor appends.
pub(super) fn body_with_content_length(
    rest: &[u8],
    declared: u64,
    limits: &RequestLimits,
) -> Result<Option<Vec<u8>>, RequestError> {
    let too_large = RequestError::BodyTooLarge {
        length: declared,
        max: limits.max_body_bytes,
    };
    let Ok(length) = usize::try_from(declared) else {
        return Err(too_large);
    };
    if length > limits.max_body_bytes {
        return Err(too_large);
    }

    let Some((body, extra)) = rest.split_at_checked(length) else {
        return Err(RequestError::BodyShorterThanContentLength {
            declared,
            available: rest.len(),
        });
    };
    if !is_blank(extra) {
        return Err(RequestError::BodyLongerThanContentLength {
            declared,
            available: rest.len() - trailing_whitespace_len(rest),
        });
    }
    Ok(non_empty(body.to_vec()))
}

/// Takes the rest of the input as the body when the request declares no length.
///
/// A remainder of only whitespace means no body. Otherwise exactly one final LF or CRLF is
/// removed, because editors append one when they save a file. To keep a final newline in
/// the body, declare Content-Length.
pub(super) fn body_until_end(
    rest: &[u8],
    limits: &RequestLimits,
) -> Result<Option<Vec<u8>>, RequestError> {
    if is_blank(rest) {
        return Ok(None);
    }
    let body = strip_one_line_ending(rest);
    check_body_size(body.len(), limits)?;
    Ok(non_empty(body.to_vec()))
}

/// Maximum length of a chunk-size line, including chunk extensions.
pub(super) const MAX_CHUNK_SIZE_LINE_BYTES: usize = 1024;

/// Maximum number of hexadecimal digits in a chunk size, which keeps it within `u64`.
pub(super) const MAX_CHUNK_SIZE_DIGITS: usize = 16;

/// Decodes a chunked body (RFC 9112 section 7.1) that starts at `start`.
///
/// Chunk extensions and trailer fields are checked for syntax and then dropped, as Node
/// keeps trailers out of `req.headers`. Line endings may be CRLF or bare LF. Input that ends
/// right after the last chunk, without the blank line, is accepted. After the blank line
/// only whitespace may follow.
pub(super) fn decode_chunked(
    input: &[u8],
    start: usize,
    limits: &RequestLimits,
) -> Result<Vec<u8>, RequestError> {
    let chunk_error = |offset: usize, reason| {
        let found = input.get(offset..).unwrap_or_default();
        RequestError::InvalidChunk {
            line: line_number_at(input, offset),
            excerpt: excerpt_bytes(
                found
                    .split(|&byte| byte == b'\n')
                    .next()
                    .unwrap_or_default(),
            ),
            reason,
        }
    };

    let mut body = Vec::new();
    let mut position = start;
    loop {
        let rest = input.get(position..).unwrap_or_default();
        if rest.is_empty() {
            return Err(chunk_error(
                position,
                "the body ends before the last chunk; end it with a chunk of size 0 \
                 and a blank line",
            ));
        }
        let search_window = rest.get(..=MAX_CHUNK_SIZE_LINE_BYTES).unwrap_or(rest);
        let (size_line, size_line_len) = match search_window.iter().position(|&b| b == b'\n') {
            Some(newline) => (rest.get(..newline).unwrap_or_default(), newline + 1),
            None if rest.len() > MAX_CHUNK_SIZE_LINE_BYTES => {
                return Err(chunk_error(
                    position,
                    "the chunk-size line is longer than 1024 bytes; check the chunk framing",
                ));
            }
            None => (rest, rest.len()),
        };
        let size_line = size_line.strip_suffix(b"\r").unwrap_or(size_line);

        let Some(size) = parse_chunk_size(size_line) else {
            return Err(chunk_error(
                position,
                "expected a chunk size in hexadecimal, such as 1a, optionally followed by \
                 ;extensions",
            ));
        };
        let data_start = position + size_line_len;
        if size == 0 {
            position = data_start;
            break;
        }

        let total = to_u64(body.len()).saturating_add(size);
        let too_large = RequestError::BodyTooLarge {
            length: total,
            max: limits.max_body_bytes,
        };
        if total > to_u64(limits.max_body_bytes) {
            return Err(too_large);
        }
        let Ok(size) = usize::try_from(size) else {
            return Err(too_large);
        };

        let data_end = data_start.saturating_add(size);
        let Some(data) = input.get(data_start..data_end) else {
            return Err(chunk_error(
                position,
                "fewer data bytes follow than this chunk size declares; check the size, \
                 which is hexadecimal",
            ));
        };
        body.extend_from_slice(data);

        let after_data = input.get(data_end..).unwrap_or_default();
        position = if after_data.starts_with(b"\r\n") {
            data_end + 2
        } else if after_data.starts_with(b"\n") {
            data_end + 1
        } else {
            return Err(chunk_error(
                data_end,
                "chunk data is not followed by a line ending; check that the chunk size \
                 matches the data length",
            ));
        };
    }

    skip_trailer_section(input, position, limits)?;
    Ok(body)
}

/// Parses a chunk-size line: hexadecimal digits, then optionally `;` and extensions.
pub(super) fn parse_chunk_size(line: &[u8]) -> Option<u64> {
    let digit_count = line
        .iter()
        .take_while(|byte| byte.is_ascii_hexdigit())
        .count();
    if digit_count == 0 || digit_count > MAX_CHUNK_SIZE_DIGITS {
        return None;
    }
    let (digits, extensions) = line.split_at_checked(digit_count)?;
    let extensions = trim_optional_whitespace(extensions);
    if !extensions.is_empty() && !extensions.starts_with(b";") {
        return None;
    }
    let digits = std::str::from_utf8(digits).ok()?;
    u64::from_str_radix(digits, 16).ok()
}

/// Checks the trailer fields after the last chunk and that only whitespace follows them.
pub(super) fn skip_trailer_section(
    input: &[u8],
    start: usize,
    limits: &RequestLimits,
) -> Result<(), RequestError> {
    let mut budget = HeadBudget::new(limits);
    let mut lines = Lines::new(input, start, line_number_at(input, start));

    for line in lines.by_ref() {
        if is_blank(line.content) {
            break;
        }
        budget.add_bytes(line.content.len().saturating_add(2))?;
        if parse_header_line(&line).is_err() {
            return Err(RequestError::InvalidChunk {
                line: line.number,
                excerpt: excerpt_bytes(line.content),
                reason: "expected a trailer field \"Name: value\" or a blank line after \
                         the last chunk",
            });
        }
    }

    if let Some(line) = lines.find(|line| !is_blank(line.content)) {
        return Err(RequestError::InvalidChunk {
            line: line.number,
            excerpt: excerpt_bytes(line.content),
            reason: "data follows the end of the chunked body; check the chunk sizes",
        });
    }
    Ok(())
}
