//! Which requests must carry a signature.
//!
//! The defaults reproduce sdk-scheme-adapter's inbound rules. POST, PUT and PATCH are
//! verified, and GET and DELETE are not. `PUT /parties/...` is verified only when
//! `put_parties` is set, which mirrors sdk-scheme-adapter's
//! `VALIDATE_INBOUND_PUT_PARTIES_JWS` (default false).

use serde::{Deserialize, Serialize};

/// Method and path rules deciding whether a request needs a valid signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RequestRules {
    /// Methods that need a signature (upper case, compared case-sensitively).
    pub methods: Vec<String>,
    /// Whether `PUT /parties/...` needs a signature.
    pub put_parties: bool,
    /// A path prefix added by an ingress (for example `/fspiop`), removed (when it
    /// matches whole segments) before the path rules are applied.
    pub path_prefix: String,
    /// Path prefixes, matched by whole segments, that never need a signature (for
    /// example `/health`).
    pub exempt_paths: Vec<String>,
}

impl Default for RequestRules {
    fn default() -> Self {
        RequestRules {
            methods: vec!["POST".to_owned(), "PUT".to_owned(), "PATCH".to_owned()],
            put_parties: false,
            path_prefix: String::new(),
            exempt_paths: Vec::new(),
        }
    }
}

impl RequestRules {
    /// Returns true when a request with this method and path must carry a valid signature.
    ///
    /// Methods compare case-insensitively, because some upstream frameworks (Hapi)
    /// lower-case the method before routing. A path that another hop could read as a
    /// different path never gets an exemption (see [`is_ambiguous_path`]), and exempt
    /// paths and the prefix match whole segments: `/health` exempts `/health` and
    /// `/health/live`, not `/healthcheck`.
    pub fn requires_signature(&self, method: &str, path: &str) -> bool {
        if !self.methods.iter().any(|m| m.eq_ignore_ascii_case(method)) {
            return false;
        }
        if is_ambiguous_path(path) {
            return true;
        }

        if self.is_exempt(path) {
            return false;
        }

        let path = strip_segment_prefix(path, &self.path_prefix).unwrap_or(path);
        if method.eq_ignore_ascii_case("PUT") && path.starts_with("/parties/") && !self.put_parties
        {
            return false;
        }
        true
    }

    /// Returns true when `path` (after the ingress prefix) falls under one of the exempt
    /// paths. An ambiguous path (see [`is_ambiguous_path`]) is never exempt.
    pub fn is_exempt(&self, path: &str) -> bool {
        if is_ambiguous_path(path) {
            return false;
        }
        let path = strip_segment_prefix(path, &self.path_prefix).unwrap_or(path);
        self.exempt_paths
            .iter()
            .any(|prefix| strip_segment_prefix(path, prefix).is_some())
    }
}

/// Returns the rest of `path` after `prefix` when `prefix` is a whole-segment prefix
/// of it, and `None` otherwise. An empty prefix matches nothing.
fn strip_segment_prefix<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    if prefix.is_empty() {
        return None;
    }
    let rest = path.strip_prefix(prefix)?;
    if prefix.ends_with('/') || rest.is_empty() || rest.starts_with('/') {
        Some(rest)
    } else {
        None
    }
}

/// Returns true for a path that a proxy or framework on the way could resolve to
/// another path: a `.` or `..` segment, an empty segment (`//`), a backslash, or a
/// percent-encoded `.`, `/` or `\`. Such a path must not match an exemption, because
/// `PUT /parties/../transfers/1` is a transfer once dot segments are removed (RFC 3986
/// §5.2.4).
pub fn is_ambiguous_path(path: &str) -> bool {
    if path.contains('\\') || path.contains("//") {
        return true;
    }
    let bytes = path.as_bytes();
    let encoded = bytes.windows(3).any(|w| {
        w.first() == Some(&b'%')
            && matches!(
                (
                    w.get(1).map(u8::to_ascii_lowercase),
                    w.get(2).map(u8::to_ascii_lowercase)
                ),
                (Some(b'2'), Some(b'e' | b'f')) | (Some(b'5'), Some(b'c'))
            )
    });
    encoded
        || path
            .split('/')
            .any(|segment| segment == "." || segment == "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_and_delete_are_exempt() {
        let rules = RequestRules::default();
        assert!(!rules.requires_signature("GET", "/quotes/1"));
        assert!(!rules.requires_signature("DELETE", "/participants/MSISDN/1"));
    }

    #[test]
    fn post_put_patch_need_signature() {
        let rules = RequestRules::default();
        assert!(rules.requires_signature("POST", "/quotes"));
        assert!(rules.requires_signature("PUT", "/transfers/1"));
        assert!(rules.requires_signature("PATCH", "/transfers/1"));
    }

    #[test]
    fn put_parties_exempt_by_default() {
        let mut rules = RequestRules::default();
        assert!(!rules.requires_signature("PUT", "/parties/MSISDN/123"));
        rules.put_parties = true;
        assert!(rules.requires_signature("PUT", "/parties/MSISDN/123"));
    }

    #[test]
    fn dot_segments_never_get_an_exemption() {
        let rules = RequestRules {
            exempt_paths: vec!["/health".to_owned()],
            ..RequestRules::default()
        };
        for path in [
            "/parties/../transfers/1",
            "/parties/MSISDN/../../transfers/1",
            "/parties/%2e%2e/transfers/1",
            "/parties/%2E./transfers/1",
            "/parties%2f..%2ftransfers",
            "/parties/MSISDN/1/./",
            "/parties//x",
            "/parties\\..\\transfers",
            "/health/../quotes",
        ] {
            assert!(rules.requires_signature("PUT", path), "{path}");
            assert!(rules.requires_signature("POST", path), "{path}");
        }
    }

    #[test]
    fn exempt_paths_match_whole_segments() {
        let rules = RequestRules {
            exempt_paths: vec!["/health".to_owned(), String::new()],
            ..RequestRules::default()
        };
        assert!(!rules.requires_signature("POST", "/health"));
        assert!(!rules.requires_signature("POST", "/health/live"));
        assert!(rules.requires_signature("POST", "/healthcheck"));
        assert!(
            rules.requires_signature("POST", "/quotes"),
            "an empty exempt path exempts everything"
        );
    }

    #[test]
    fn methods_compare_case_insensitively() {
        let rules = RequestRules::default();
        assert!(rules.requires_signature("put", "/transfers/1"));
        assert!(!rules.requires_signature("put", "/parties/MSISDN/1"));
    }

    #[test]
    fn path_prefix_is_removed_first() {
        let rules = RequestRules {
            path_prefix: "/fspiop".to_owned(),
            ..RequestRules::default()
        };
        assert!(!rules.requires_signature("PUT", "/fspiop/parties/MSISDN/1"));
    }
}
