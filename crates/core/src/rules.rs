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
    /// A path prefix added by an ingress (for example `/fspiop`), removed before the
    /// path rules are applied.
    pub path_prefix: String,
    /// Path prefixes that never need a signature (for example `/health`).
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
    pub fn requires_signature(&self, method: &str, path: &str) -> bool {
        if !self.methods.iter().any(|m| m == method) {
            return false;
        }

        let path = path.strip_prefix(self.path_prefix.as_str()).unwrap_or(path);
        if self
            .exempt_paths
            .iter()
            .any(|prefix| path.starts_with(prefix.as_str()))
        {
            return false;
        }

        if method == "PUT" && path.starts_with("/parties/") && !self.put_parties {
            return false;
        }
        true
    }
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
    fn path_prefix_is_removed_first() {
        let rules = RequestRules {
            path_prefix: "/fspiop".to_owned(),
            ..RequestRules::default()
        };
        assert!(!rules.requires_signature("PUT", "/fspiop/parties/MSISDN/1"));
    }
}
