//! FSPIOP-URI derivation, reproducing the reference signer.
//!
//! The signer in `@mojaloop/sdk-standard-components` (checked against 19.19.1) does not parse
//! the URL. It runs this regular expression over the whole URL string with `RegExp.exec` and
//! takes capture group 1 as FSPIOP-URI:
//!
//! ```text
//! /(?:^.*)(\/(participants|parties|quotes|…|fxTransfers|)(\/.*)*)$/
//! ```
//!
//! The greedy `^.*` backtracks from the end of the string, so group 1 starts at the last `/`
//! from which the rest can match. The alternation, which has an empty last branch, must then
//! consume the whole segment after that `/`, because `(\/.*)*$` only accepts the end of the
//! string or another `/`. In JavaScript `.` matches neither `\n`, `\r`, U+2028 nor U+2029, and
//! no other part of the expression matches them either, so a URL containing one is rejected.
//! [`derive_fspiop_uri`] implements exactly this by hand. The `regex` crate is not used because
//! its `.` excludes only `\n`, which would accept URLs that the signer rejects.

use std::fmt;

/// Resource names that the reference signer recognizes after a `/`, compared case-sensitively.
pub const FSPIOP_RESOURCES: [&str; 13] = [
    "participants",
    "parties",
    "quotes",
    "bulkQuotes",
    "transfers",
    "bulkTransfers",
    "transactionRequests",
    "thirdpartyRequests",
    "authorizations",
    "consents",
    "consentRequests",
    "fxQuotes",
    "fxTransfers",
];

/// Maximum URL length in bytes that [`derive_fspiop_uri`] accepts.
///
/// The reference signer has no limit. A longer FSPIOP-URI could not fit in a request
/// header section of the default maximum size, 64 KiB, anyway.
pub const MAX_URL_BYTES: usize = 64 * 1024;

/// Failure to derive FSPIOP-URI from a URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UriError {
    /// The reference signer throws for this URL.
    NotValidForProtectedHeader {
        /// The URL as given.
        url: String,
    },
    /// The URL is longer than [`MAX_URL_BYTES`].
    TooLong {
        /// Length of the URL in bytes.
        length: usize,
    },
}

impl UriError {
    /// Returns the exact message the reference signer throws, or `None` for an error that
    /// the reference signer does not have.
    pub fn reference_message(&self) -> Option<String> {
        match self {
            UriError::NotValidForProtectedHeader { url } => {
                Some(format!("URI not valid for protected header: {url}"))
            }
            UriError::TooLong { .. } => None,
        }
    }
}

impl fmt::Display for UriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UriError::NotValidForProtectedHeader { url } => write!(
                f,
                "URI not valid for protected header: {url} (expected a URL without line \
                 breaks that contains a '/' followed by an FSPIOP resource name, by another \
                 '/' or by nothing, for example https://hub.example/quotes/123)"
            ),
            UriError::TooLong { length } => write!(
                f,
                "URL is {length} bytes long, more than the maximum of {MAX_URL_BYTES} bytes; \
                 check that the whole request was not pasted in place of its URL"
            ),
        }
    }
}

impl std::error::Error for UriError {}

/// Derives the FSPIOP-URI header value from a URL the way the reference signer does.
///
/// Returns everything from the last `/` that is followed by a name in [`FSPIOP_RESOURCES`],
/// by another `/` or by the end of the string. Query strings, fragments and percent-escapes
/// are kept verbatim. A URL with no such `/`, or with a JavaScript line terminator anywhere,
/// is rejected with the signer's message. See the module documentation for the derivation.
pub fn derive_fspiop_uri(url: &str) -> Result<String, UriError> {
    if url.len() > MAX_URL_BYTES {
        return Err(UriError::TooLong { length: url.len() });
    }
    if url.contains(is_javascript_line_terminator) {
        return Err(not_valid(url));
    }

    for (slash_index, _) in url.rmatch_indices('/') {
        let Some(candidate) = url.get(slash_index..) else {
            continue;
        };
        let after_slash = candidate.strip_prefix('/').unwrap_or(candidate);
        let segment = match after_slash.split_once('/') {
            Some((segment, _)) => segment,
            None => after_slash,
        };
        if segment.is_empty() || FSPIOP_RESOURCES.contains(&segment) {
            return Ok(candidate.to_owned());
        }
    }
    Err(not_valid(url))
}

fn not_valid(url: &str) -> UriError {
    UriError::NotValidForProtectedHeader {
        url: url.to_owned(),
    }
}

/// Characters that `.` does not match in a JavaScript regular expression without the `s` flag.
fn is_javascript_line_terminator(character: char) -> bool {
    matches!(character, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn derived(url: &str) -> String {
        derive_fspiop_uri(url).unwrap()
    }

    #[test]
    fn absolute_url_with_port_gives_resource_path() {
        assert_eq!(derived("https://hub.example:443/quotes"), "/quotes");
    }

    #[test]
    fn prefix_before_resource_is_dropped() {
        assert_eq!(
            derived("https://hub.example/prefix/parties/MSISDN/123"),
            "/parties/MSISDN/123"
        );
    }

    #[test]
    fn relative_prefix_before_resource_is_dropped() {
        assert_eq!(derived("/prefix/parties/MSISDN/123"), "/parties/MSISDN/123");
    }

    #[test]
    fn query_after_resource_segments_is_kept() {
        assert_eq!(
            derived("https://hub.example/parties/MSISDN/123?currency=USD"),
            "/parties/MSISDN/123?currency=USD"
        );
    }

    #[test]
    fn last_resource_segment_wins() {
        assert_eq!(derived("/parties/MSISDN/quotes"), "/quotes");
    }

    #[test]
    fn trailing_slash_matches_empty_branch() {
        assert_eq!(derived("/quotes/"), "/");
    }

    #[test]
    fn resource_names_are_case_sensitive() {
        assert_eq!(
            derived("https://hub.example/Quotes"),
            "//hub.example/Quotes"
        );
    }

    #[test]
    fn query_after_resource_name_falls_back() {
        assert_eq!(
            derived("https://hub.example/quotes?x=1"),
            "//hub.example/quotes?x=1"
        );
    }

    #[test]
    fn empty_segment_matches_empty_branch() {
        assert_eq!(derived("/a//b"), "//b");
    }

    #[test]
    fn every_resource_name_is_recognized() {
        for resource in FSPIOP_RESOURCES {
            let url = format!("https://hub.example/x/{resource}/1");
            assert_eq!(
                derived(&url),
                format!("/{resource}/1"),
                "resource {resource}"
            );
        }
    }

    #[test]
    fn resource_prefix_of_longer_name_is_not_recognized() {
        assert_eq!(
            derived("https://hub.example/consentsX/1"),
            "//hub.example/consentsX/1"
        );
    }

    #[test]
    fn url_without_slash_is_rejected() {
        let error = derive_fspiop_uri("transfers/abc").unwrap_err();
        assert_eq!(
            error.reference_message().as_deref(),
            Some("URI not valid for protected header: transfers/abc")
        );
    }

    #[test]
    fn rejected_url_display_starts_with_reference_message() {
        let error = derive_fspiop_uri("transfers/abc").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("URI not valid for protected header: transfers/abc ("),
            "{error}"
        );
    }

    #[test]
    fn empty_url_is_rejected() {
        assert!(derive_fspiop_uri("").is_err());
    }

    #[test]
    fn javascript_line_terminators_are_rejected() {
        for url in [
            "/quotes\n",
            "/a\n/quotes",
            "/quotes\r",
            "/quotes\u{2028}/x",
            "/\u{2029}",
        ] {
            assert!(derive_fspiop_uri(url).is_err(), "{url:?}");
        }
    }

    #[test]
    fn next_line_character_is_not_a_line_terminator() {
        assert_eq!(derived("/quotes/\u{85}"), "/quotes/\u{85}");
    }

    #[test]
    fn non_ascii_segment_before_slash_is_kept() {
        assert_eq!(derived("/é/quotes"), "/quotes");
        assert_eq!(derived("/é/"), "/");
    }

    #[test]
    fn url_over_limit_is_rejected() {
        let url = format!("/{}", "a".repeat(MAX_URL_BYTES));
        let error = derive_fspiop_uri(&url).unwrap_err();
        assert_eq!(
            error,
            UriError::TooLong {
                length: MAX_URL_BYTES + 1
            }
        );
        assert_eq!(error.reference_message(), None);
    }

    #[test]
    fn url_at_limit_is_accepted() {
        let url = format!("/{}/", "a".repeat(MAX_URL_BYTES - 2));
        assert_eq!(derived(&url), "/");
    }
}
