//! Binding of a TLS client certificate to the FSPIOP participant it speaks for.
//!
//! The Hub signs each DFSP's client certificate from the DFSP's CSR, so a valid chain
//! proves only that *some* DFSP has the key. An [`IdentityMap`] lists, per participant,
//! the certificate identities it may present. [`check_source_binding`] then rejects a
//! request whose `FSPIOP-Source` names another participant.
//!
//! Identities are written as `CN=<common name>`, `DNS:<name>`, `URI:<uri>` or
//! `SHA256:<fingerprint>`. They can come from a parsed certificate
//! ([`presented_identities`]) or from what a proxy already extracted (subject, SANs and
//! digest), so the same map serves both.

use std::collections::BTreeMap;
use std::fmt;

use super::inspect::CertificateInfo;
use super::{PkiError, PkiReason};

/// Maximum identity length accepted, in bytes: a DNS name is at most 253, and URIs in client
/// certificates (SPIFFE IDs) stay far below this.
pub const MAX_IDENTITY_LEN: usize = 1024;

/// One certificate identity. Equality is the match the binding uses: DNS names compare
/// without case (RFC 4343), fingerprints as bytes, CNs and URIs exactly.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Identity {
    /// A subject common name (X.520 commonName).
    CommonName(String),
    /// A dNSName SAN, stored lower-case.
    Dns(String),
    /// A uniformResourceIdentifier SAN.
    Uri(String),
    /// The SHA-256 digest of the whole DER certificate.
    Sha256([u8; 32]),
}

impl Identity {
    /// Parses `CN=…`, `DNS:…`, `URI:…` or `SHA256:…`; the fingerprint may be written
    /// in either case, with or without colons.
    ///
    /// # Errors
    /// A sentence naming the value and the accepted forms.
    pub fn parse(text: &str) -> Result<Identity, String> {
        if text.len() > MAX_IDENTITY_LEN {
            return Err(format!(
                "identity of {} bytes is over the {MAX_IDENTITY_LEN}-byte limit",
                text.len()
            ));
        }
        let forms = "write CN=<name>, DNS:<name>, URI:<uri> or SHA256:<64 hex digits>";
        let (kind, value) = if let Some(value) = text.strip_prefix("CN=") {
            ("CN", value)
        } else if let Some((kind, value)) = text.split_once(':') {
            (kind, value)
        } else {
            return Err(format!("{text:?} is not an identity; {forms}"));
        };
        if value.is_empty() {
            return Err(format!("{text:?} has an empty value; {forms}"));
        }
        match kind {
            "CN" => Ok(Identity::CommonName(value.to_owned())),
            "DNS" => Ok(Identity::Dns(value.to_ascii_lowercase())),
            "URI" => Ok(Identity::Uri(value.to_owned())),
            "SHA256" => parse_fingerprint(value)
                .map(Identity::Sha256)
                .ok_or_else(|| format!("{text:?} is not a SHA-256 fingerprint; {forms}")),
            _ => Err(format!("{text:?} has an unknown kind {kind:?}; {forms}")),
        }
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Identity::CommonName(name) => write!(f, "CN={name}"),
            Identity::Dns(name) => write!(f, "DNS:{name}"),
            Identity::Uri(uri) => write!(f, "URI:{uri}"),
            Identity::Sha256(digest) => {
                f.write_str("SHA256:")?;
                digest.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
            }
        }
    }
}

/// Reads 32 bytes of hex, ignoring colons and case.
pub fn parse_fingerprint(text: &str) -> Option<[u8; 32]> {
    let digits: Vec<u8> = text.bytes().filter(|&b| b != b':').collect();
    if digits.len() != 64 {
        return None;
    }
    let mut digest = [0u8; 32];
    for (byte, pair) in digest.iter_mut().zip(digits.chunks_exact(2)) {
        let text = std::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(text, 16).ok()?;
    }
    Some(digest)
}

/// Participant id to the identities its client certificate may present.
pub type IdentityMap = BTreeMap<String, Vec<Identity>>;

/// Returns the identities of a parsed certificate: every CN, every DNS and URI SAN, and
/// the SHA-256 fingerprint.
pub fn presented_identities(leaf: &CertificateInfo) -> Vec<Identity> {
    let mut presented: Vec<Identity> = leaf
        .common_names
        .iter()
        .map(|cn| Identity::CommonName(cn.clone()))
        .collect();
    presented.extend(
        leaf.san
            .dns
            .iter()
            .map(|dns| Identity::Dns(dns.to_ascii_lowercase())),
    );
    presented.extend(leaf.san.uri.iter().map(|uri| Identity::Uri(uri.clone())));
    if let Some(digest) = parse_fingerprint(&leaf.sha256_fingerprint) {
        presented.push(Identity::Sha256(digest));
    }
    presented
}

/// Checks that one of the `presented` identities is bound to `source` (the
/// `FSPIOP-Source` header) in `map`.
///
/// # Errors
/// [`PkiReason::IdentitySourceMismatch`] naming the participant, what the certificate
/// presents and what the participant is bound to.
pub fn check_source_binding(
    presented: &[Identity],
    source: &str,
    map: &IdentityMap,
) -> Result<(), PkiError> {
    let allowed = map.get(source).map(Vec::as_slice).unwrap_or_default();
    if allowed.iter().any(|identity| presented.contains(identity)) {
        return Ok(());
    }
    let binding = if allowed.is_empty() {
        "no identity is configured for it".to_owned()
    } else {
        format!("it is bound to {}", join(allowed))
    };
    let presented_text = if presented.is_empty() {
        "no identity".to_owned()
    } else {
        join(presented)
    };
    Err(PkiError::new(
        PkiReason::IdentitySourceMismatch,
        format!(
            "the client certificate presents {presented_text} but FSPIOP-Source is {source:?}, and {binding}"
        ),
    ))
}

fn join(identities: &[Identity]) -> String {
    let names: Vec<String> = identities.iter().map(Identity::to_string).collect();
    names.join(", ")
}

/// Returns the CN values of a subject DN in RFC 4514 (RFC 2253) string form, as Envoy
/// writes `connection.subject_peer_certificate` and the XFCC `Subject` key, for example
/// `CN=payerfsp,OU=Payments,O=Example`. Escaped characters (`\,`, `\+`, `\"`, `\\` and
/// `\XX` hex pairs) are unescaped; values in `#` hex form are skipped.
pub fn common_names_of_dn(dn: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut attribute = String::new();
    let mut escaped = false;
    let bytes = dn.as_bytes();
    let mut index = 0;
    let mut flush = |attribute: &mut String| {
        if let Some(value) = attribute
            .trim_start()
            .strip_prefix("CN=")
            .or_else(|| attribute.trim_start().strip_prefix("cn="))
            && !value.is_empty()
            && !value.starts_with('#')
        {
            names.push(value.to_owned());
        }
        attribute.clear();
    };
    let mut raw: Vec<u8> = Vec::new();
    while let Some(&byte) = bytes.get(index) {
        index += 1;
        if escaped {
            escaped = false;
            let hex = bytes.get(index - 1..index + 1).and_then(|pair| {
                std::str::from_utf8(pair)
                    .ok()
                    .and_then(|text| u8::from_str_radix(text, 16).ok())
            });
            match hex {
                Some(value) => {
                    raw.push(value);
                    index += 1;
                }
                None => raw.push(byte),
            }
            continue;
        }
        match byte {
            b'\\' => escaped = true,
            b',' | b'+' => {
                attribute.push_str(&String::from_utf8_lossy(&raw));
                raw.clear();
                flush(&mut attribute);
            }
            _ => raw.push(byte),
        }
    }
    attribute.push_str(&String::from_utf8_lossy(&raw));
    flush(&mut attribute);
    names
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn map(participant: &str, identities: &[&str]) -> IdentityMap {
        let parsed = identities
            .iter()
            .map(|text| Identity::parse(text).unwrap())
            .collect();
        IdentityMap::from([(participant.to_owned(), parsed)])
    }

    #[test]
    fn fingerprint_ignores_case_and_colons() {
        let colon = "SHA256:AB:".to_owned() + &"01:".repeat(30) + "CD";
        let plain = "SHA256:ab".to_owned() + &"01".repeat(30) + "cd";
        assert_eq!(Identity::parse(&colon), Identity::parse(&plain));
        assert!(Identity::parse("SHA256:abcd").is_err());
    }

    #[test]
    fn dns_names_match_without_case() {
        let bound = map("payerfsp", &["DNS:PayerFSP.example"]);
        let presented = [Identity::parse("DNS:payerfsp.EXAMPLE").unwrap()];
        assert!(check_source_binding(&presented, "payerfsp", &bound).is_ok());
    }

    #[test]
    fn certificate_of_another_participant_is_rejected() {
        let bound = map("payerfsp", &["CN=payerfsp"]);
        let presented = [Identity::CommonName("payeefsp".to_owned())];
        let error = check_source_binding(&presented, "payerfsp", &bound).unwrap_err();
        assert_eq!(error.reason, PkiReason::IdentitySourceMismatch);
        assert!(error.detail.contains("CN=payeefsp"), "{}", error.detail);
        assert!(
            error.detail.contains("bound to CN=payerfsp"),
            "{}",
            error.detail
        );
    }

    #[test]
    fn participant_missing_from_the_map_is_rejected() {
        let bound = map("payerfsp", &["CN=payerfsp"]);
        let presented = [Identity::CommonName("payerfsp".to_owned())];
        let error = check_source_binding(&presented, "intruder", &bound).unwrap_err();
        assert!(
            error.detail.contains("no identity is configured"),
            "{}",
            error.detail
        );
    }

    #[test]
    fn unknown_kinds_and_empty_values_are_refused() {
        assert!(Identity::parse("IP:10.0.0.1").is_err());
        assert!(Identity::parse("CN=").is_err());
        assert!(Identity::parse("payerfsp").is_err());
        assert!(Identity::parse(&"x".repeat(MAX_IDENTITY_LEN + 1)).is_err());
    }

    #[test]
    fn common_names_of_rfc4514_subjects() {
        assert_eq!(common_names_of_dn("CN=payerfsp,O=Example"), ["payerfsp"]);
        assert_eq!(common_names_of_dn("O=Example,CN=a\\,b"), ["a,b"]);
        assert_eq!(common_names_of_dn("CN=x+CN=y"), ["x", "y"]);
        assert_eq!(common_names_of_dn("CN=\\41B"), ["AB"]);
        assert!(common_names_of_dn("O=Example").is_empty());
        assert!(common_names_of_dn("CN=#0403616263").is_empty());
        assert_eq!(common_names_of_dn("CN=trailing\\"), ["trailing"]);
    }
}
