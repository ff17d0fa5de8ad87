//! Checks of who is calling, made from the request headers before the signature: the
//! TLS client certificate (`mtls` feature) and a bearer JWT (`jwt` feature).
//!
//! Like [`crate::policy`], this module only decides. The glue reads the proxy's
//! `connection.*` properties into [`PeerProperties`] and passes them in with the head.
//!
//! Certificate checks, in this order, each with its own reason code:
//! 1. a client certificate was presented (`MTLS_CERTIFICATE_MISSING`), through the
//!    connection or a trusted `x-forwarded-client-cert` of one element (`XFCC_MALFORMED`,
//!    `XFCC_UNTRUSTED`), and the proxy did not report it unvalidated
//!    (`MTLS_CERTIFICATE_NOT_VALIDATED`);
//! 2. with `trust_anchors`: the certificate itself is available
//!    (`MTLS_CERTIFICATE_UNAVAILABLE`), and it chains to the Hub CA for clientAuth at the
//!    current time (the chain reason codes, for example `CERT_EXPIRED`,
//!    `CHAIN_UNKNOWN_ISSUER`, `EKU_CLIENT_AUTH_MISSING`);
//! 3. a digest the proxy reported matches the certificate it passed (`XFCC_MALFORMED`);
//! 4. with `identities`: one of its identities is bound to `FSPIOP-Source`
//!    (`IDENTITY_SOURCE_MISMATCH`). The identities come from the certificate when the
//!    proxy passes it, and otherwise from the subject, SANs and digest it reports.

#[cfg(feature = "mtls")]
pub mod xfcc;

use crate::policy::RequestHead;

/// `errorInformation` code and description of a rejected caller. FSPIOP has no
/// authentication error, so the generic validation error carries the reason code.
#[cfg(any(feature = "mtls", feature = "jwt"))]
const ERROR_CODE: &str = "3100";
#[cfg(any(feature = "mtls", feature = "jwt"))]
const ERROR_DESCRIPTION: &str = "Generic validation error";

/// Reason codes of the caller checks decided here. The chain and token checks reject
/// with [`fspiop_guard_core::pki::PkiReason`] codes, and `IDENTITY_SOURCE_MISMATCH` is
/// one of those, repeated here.
pub mod reasons {
    /// No client certificate reached the filter.
    pub const MTLS_CERTIFICATE_MISSING: &str = "MTLS_CERTIFICATE_MISSING";
    /// The proxy reports that it did not validate the client certificate
    /// (`connection.peer_certificate_valid` is false).
    pub const MTLS_CERTIFICATE_NOT_VALIDATED: &str = "MTLS_CERTIFICATE_NOT_VALIDATED";
    /// `trust_anchors` is set, but the proxy passes only the certificate's subject and
    /// digest, not the certificate.
    pub const MTLS_CERTIFICATE_UNAVAILABLE: &str = "MTLS_CERTIFICATE_UNAVAILABLE";
    /// The `x-forwarded-client-cert` header does not parse.
    pub const XFCC_MALFORMED: &str = "XFCC_MALFORMED";
    /// The `x-forwarded-client-cert` header has more than one element, or its element was
    /// not written by the configured proxy.
    pub const XFCC_UNTRUSTED: &str = "XFCC_UNTRUSTED";
    /// `jwt` is configured and the request has no `Authorization: Bearer` token.
    pub const JWT_MISSING: &str = "JWT_MISSING";
    /// The certificate is not bound to the participant in `FSPIOP-Source`.
    pub const IDENTITY_SOURCE_MISMATCH: &str = "IDENTITY_SOURCE_MISMATCH";

    /// Every reason above, so their stats exist from the start.
    pub const ALL: [&str; 7] = [
        MTLS_CERTIFICATE_MISSING,
        MTLS_CERTIFICATE_NOT_VALIDATED,
        MTLS_CERTIFICATE_UNAVAILABLE,
        XFCC_MALFORMED,
        XFCC_UNTRUSTED,
        JWT_MISSING,
        IDENTITY_SOURCE_MISMATCH,
    ];
}

/// Properties of the downstream TLS peer, as the proxy reports them (`connection.*`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerProperties {
    /// `connection.mtls`: TLS with a client certificate.
    pub mtls: Option<bool>,
    /// `connection.peer_certificate_valid` (Envoy 1.39+).
    pub validated: Option<bool>,
    /// `connection.peer_certificate`: the URL-encoded PEM of the leaf (newest Envoy).
    pub certificate: Option<String>,
    /// `connection.subject_peer_certificate` (RFC 4514 form).
    pub subject: Option<String>,
    /// `connection.uri_san_peer_certificate`: the first URI SAN.
    pub uri_san: Option<String>,
    /// `connection.dns_san_peer_certificate`: the first DNS SAN.
    pub dns_san: Option<String>,
    /// `connection.sha256_peer_certificate_digest`: lower-case hex.
    pub sha256: Option<String>,
}

#[cfg(any(feature = "mtls", feature = "jwt"))]
fn reject(status: u16, reason: &'static str, message: &str) -> crate::policy::Reply {
    crate::policy::Reply::new(status, ERROR_CODE, ERROR_DESCRIPTION, reason, message)
}

/// Returns the token of an `Authorization: Bearer` header, if there is one.
pub fn bearer_token(head: &RequestHead) -> Option<String> {
    let value = head.headers.get("authorization")?;
    let (scheme, token) = value.trim().split_once([' ', '\t'])?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|token| !token.is_empty())
}

#[cfg(feature = "mtls")]
pub use certificate::{CertificateSource, MtlsConfig, check_certificate};

#[cfg(feature = "mtls")]
mod certificate {
    use fspiop_guard_core::pki::chain::{self, ChainPolicy};
    use fspiop_guard_core::pki::identity::{
        self, Identity, IdentityMap, common_names_of_dn, parse_fingerprint,
    };
    use fspiop_guard_core::pki::inspect::{CertificateInfo, inspect_certificate};
    use fspiop_guard_core::pki::pem::read_bundle;

    use super::{PeerProperties, reasons, reject, xfcc};
    use crate::policy::{Reply, RequestHead};

    /// Source of the client certificate.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub enum CertificateSource {
        /// The connection this proxy terminated (`connection.*` properties).
        Connection,
        /// The `x-forwarded-client-cert` header, written by the proxy that terminated the
        /// client's TLS with `SANITIZE_SET`: exactly one element, whose `By` must equal
        /// `trusted_by`, that proxy's URI SAN.
        Xfcc { trusted_by: String },
    }

    /// The validated `mtls` section of the configuration.
    #[derive(Clone, Debug)]
    pub struct MtlsConfig {
        pub source: CertificateSource,
        /// PEM of the CA certificates a client chain must lead to.
        pub trust_anchors: Option<Vec<u8>>,
        /// Purpose, key size and algorithm policy of the chain.
        pub policy: ChainPolicy,
        /// Participant to the identities its certificate may present.
        pub identities: Option<IdentityMap>,
        /// HTTP status of a rejection.
        pub reject_status: u16,
    }

    /// The client certificate as it reached the filter.
    struct Presented {
        /// PEM of the leaf, or of the leaf and its chain.
        pem: Option<String>,
        /// Identities from the subject, SANs and digest the proxy reported, used when
        /// the certificate itself is not available.
        reported: Vec<Identity>,
        /// The reported lower-case hex SHA-256 of the leaf, checked against the
        /// certificate when both are present.
        sha256: Option<String>,
        /// Name of its source, for messages.
        origin: &'static str,
    }

    /// Checks the client certificate of a request at `now` (unix seconds).
    ///
    /// # Errors
    /// The reply for the first failed check (module docs).
    pub fn check_certificate(
        config: &MtlsConfig,
        properties: &PeerProperties,
        head: &RequestHead,
        now: i64,
    ) -> Result<(), Reply> {
        let status = config.reject_status;
        let presented = presented(config, properties, head)?;

        // The leaf decides the identities whenever it is available: names the proxy
        // reported beside it could have been written by the client (see `presented`).
        let mut leaf: Option<CertificateInfo> = None;
        if let Some(anchors) = &config.trust_anchors {
            let Some(pem) = &presented.pem else {
                return Err(reject(
                    status,
                    reasons::MTLS_CERTIFICATE_UNAVAILABLE,
                    &format!(
                        "trust_anchors is set but {} carries no certificate PEM; pass it \
                         (XFCC: set_current_client_cert_details cert or chain; connection: \
                         an Envoy with connection.peer_certificate), or remove trust_anchors \
                         and rely on the proxy's TLS validation",
                        presented.origin
                    ),
                ));
            };
            // NOTE: every request parses the anchors and verifies the chain again (two
            // signatures for a leaf under one intermediate). A cache keyed by the
            // certificate digest would save that on busy connections.
            let report = chain::verify_bundle(pem.as_bytes(), anchors, now, &config.policy);
            if let Some(reason) = report.verdict.reason {
                return Err(reject(
                    status,
                    reason.code(),
                    &format!("client certificate: {}", report.verdict.detail),
                ));
            }
            leaf = report.leaf;
        } else if let Some(pem) = &presented.pem {
            leaf = Some(first_certificate(pem).map_err(|message| {
                reject(
                    status,
                    fspiop_guard_core::pki::PkiReason::CertMalformed.code(),
                    &message,
                )
            })?);
        }

        if let (Some(leaf), Some(reported)) = (&leaf, &presented.sha256) {
            let matches = parse_fingerprint(reported)
                .zip(parse_fingerprint(&leaf.sha256_fingerprint))
                .is_some_and(|(reported, actual)| reported == actual);
            if !matches {
                return Err(reject(
                    status,
                    reasons::XFCC_MALFORMED,
                    &format!(
                        "{} reports digest {} but carries a certificate with SHA-256 {}",
                        presented.origin,
                        crate::policy::clip(reported, 80),
                        leaf.sha256_fingerprint
                    ),
                ));
            }
        }

        if let Some(map) = &config.identities {
            let Some(source) = head.source() else {
                return Err(reject(
                    status,
                    reasons::IDENTITY_SOURCE_MISMATCH,
                    "the request has no FSPIOP-Source header to bind the client certificate to",
                ));
            };
            let identities = match &leaf {
                Some(leaf) => identity::presented_identities(leaf),
                None => presented.reported,
            };
            identity::check_source_binding(&identities, &source, map)
                .map_err(|error| reject(status, error.reason.code(), &error.detail))?;
        }
        Ok(())
    }

    /// Parses the first certificate of a PEM bundle: the leaf, as Envoy writes `Cert`,
    /// `Chain` and `connection.peer_certificate`.
    fn first_certificate(pem: &str) -> Result<CertificateInfo, String> {
        let read = read_bundle(pem.as_bytes())
            .map_err(|error| format!("client certificate: {}", error.detail))?;
        let der = read
            .certificates()
            .first()
            .copied()
            .ok_or_else(|| "client certificate: the PEM contains no certificate".to_owned())?;
        inspect_certificate(der).map_err(|error| format!("client certificate: {}", error.detail))
    }

    fn presented(
        config: &MtlsConfig,
        properties: &PeerProperties,
        head: &RequestHead,
    ) -> Result<Presented, Reply> {
        let status = config.reject_status;
        match &config.source {
            CertificateSource::Connection => {
                if properties.mtls != Some(true) {
                    return Err(reject(
                        status,
                        reasons::MTLS_CERTIFICATE_MISSING,
                        "the connection presented no client certificate (connection.mtls is \
                         not true); the caller must use mutual TLS",
                    ));
                }
                if properties.validated == Some(false) {
                    return Err(reject(
                        status,
                        reasons::MTLS_CERTIFICATE_NOT_VALIDATED,
                        "the proxy did not validate the client certificate \
                         (connection.peer_certificate_valid is false); set a CA in the \
                         listener's validation context",
                    ));
                }
                let pem = match &properties.certificate {
                    Some(encoded) => Some(
                        xfcc::percent_decode(encoded, "connection.peer_certificate").map_err(
                            |message| {
                                reject(
                                    status,
                                    fspiop_guard_core::pki::PkiReason::CertMalformed.code(),
                                    &message,
                                )
                            },
                        )?,
                    ),
                    None => None,
                };
                // Each property is one value the proxy read from the certificate, so a
                // SAN cannot smuggle in another identity.
                let mut reported = cn_identities(properties.subject.as_deref());
                reported.extend(
                    properties
                        .dns_san
                        .iter()
                        .map(|name| Identity::Dns(name.to_ascii_lowercase())),
                );
                reported.extend(properties.uri_san.iter().cloned().map(Identity::Uri));
                reported.extend(
                    properties
                        .sha256
                        .as_deref()
                        .and_then(parse_fingerprint)
                        .map(Identity::Sha256),
                );
                Ok(Presented {
                    pem,
                    reported,
                    sha256: properties.sha256.clone(),
                    origin: "the connection",
                })
            }
            CertificateSource::Xfcc { trusted_by } => {
                let Some(header) = head.headers.get("x-forwarded-client-cert") else {
                    return Err(reject(
                        status,
                        reasons::MTLS_CERTIFICATE_MISSING,
                        "the request has no x-forwarded-client-cert header; the proxy that \
                         terminates the caller's TLS must set it (forward_client_cert_details: \
                         SANITIZE_SET)",
                    ));
                };
                let header = xfcc::read(&header)
                    .map_err(|message| reject(status, reasons::XFCC_MALFORMED, &message))?;
                if header.elements != 1 {
                    return Err(reject(
                        status,
                        reasons::XFCC_UNTRUSTED,
                        &format!(
                            "x-forwarded-client-cert has {} elements; the proxy that terminates \
                             the caller's TLS writes exactly one with SANITIZE_SET, so the others \
                             came from the client or a proxy in between",
                            header.elements
                        ),
                    ));
                }
                let element = header.last;
                if element.by.as_deref() != Some(trusted_by.as_str()) {
                    return Err(reject(
                        status,
                        reasons::XFCC_UNTRUSTED,
                        &format!(
                            "the x-forwarded-client-cert element has By={:?}, not the \
                             configured {trusted_by:?}; only that proxy's element is trusted",
                            crate::policy::clip(element.by.as_deref().unwrap_or("(none)"), 128)
                        ),
                    ));
                }
                if element.hash.is_none() && element.cert.is_none() && element.chain.is_none() {
                    return Err(reject(
                        status,
                        reasons::MTLS_CERTIFICATE_MISSING,
                        "the x-forwarded-client-cert element names no certificate (no Hash, \
                         Cert or Chain)",
                    ));
                }
                // Envoy writes URI and DNS SANs unquoted, so a SAN that contains ';' adds
                // pairs of its own. Only the quoted Subject and the hex Hash are read here;
                // URI and DNS identities come from Cert or Chain.
                let mut reported = cn_identities(element.subject.as_deref());
                reported.extend(
                    element
                        .hash
                        .as_deref()
                        .and_then(parse_fingerprint)
                        .map(Identity::Sha256),
                );
                Ok(Presented {
                    pem: element.chain.or(element.cert),
                    reported,
                    sha256: element.hash,
                    origin: "x-forwarded-client-cert",
                })
            }
        }
    }

    fn cn_identities(subject: Option<&str>) -> Vec<Identity> {
        subject
            .map(common_names_of_dn)
            .unwrap_or_default()
            .into_iter()
            .map(Identity::CommonName)
            .collect()
    }
}

#[cfg(feature = "jwt")]
pub use token::{JwtConfig, check_token};

#[cfg(feature = "jwt")]
mod token {
    use fspiop_guard_core::jwt::{JwtPolicy, verify_jwt};
    use fspiop_guard_core::keys::KeyStore;

    use super::{bearer_token, reasons, reject};
    use crate::policy::{Reply, RequestHead};

    /// The validated `jwt` section of the configuration.
    #[derive(Clone, Debug)]
    pub struct JwtConfig {
        pub policy: JwtPolicy,
        /// HTTP status of a rejection.
        pub reject_status: u16,
    }

    /// Checks the request's bearer JWT with keys from `keys` at `now` (unix seconds).
    ///
    /// # Errors
    /// `JWT_MISSING`, or the reply for the [`fspiop_guard_core::pki::PkiReason`] of the
    /// first failed token check.
    pub fn check_token(
        config: &JwtConfig,
        head: &RequestHead,
        keys: &KeyStore,
        now: i64,
    ) -> Result<(), Reply> {
        let Some(token) = bearer_token(head) else {
            let message = if head.headers.get("authorization").is_some() {
                "the Authorization header is not 'Bearer <token>'; send the access token the Hub issued in that form"
            } else {
                "the request has no Authorization header; send the access token the Hub issued as 'Bearer <token>'"
            };
            return Err(reject(config.reject_status, reasons::JWT_MISSING, message));
        };
        verify_jwt(&token, keys, now, &config.policy)
            .map(|_| ())
            .map_err(|error| reject(config.reject_status, error.reason.code(), &error.detail))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn head_with(name: &str, value: &str) -> RequestHead {
        RequestHead::from_pairs([(name, value.as_bytes())], "x-fspiop-guard-verified")
    }

    #[test]
    fn bearer_scheme_ignores_case() {
        assert_eq!(
            bearer_token(&head_with("authorization", "bearer abc.def.ghi")).as_deref(),
            Some("abc.def.ghi")
        );
        assert_eq!(
            bearer_token(&head_with("authorization", "Bearer\tabc")).as_deref(),
            Some("abc")
        );
        assert_eq!(bearer_token(&head_with("authorization", "Basic abc")), None);
        assert_eq!(bearer_token(&head_with("authorization", "Bearer ")), None);
        assert_eq!(bearer_token(&head_with("x-other", "Bearer abc")), None);
    }
}
