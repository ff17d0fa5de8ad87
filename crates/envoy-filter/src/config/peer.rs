//! Validation of the `mtls` and `jwt` sections. A build without the matching cargo
//! feature rejects the section by name, because a configured check that the module cannot
//! make must not pass silently.

#[cfg(any(feature = "mtls", feature = "jwt"))]
use super::in_range;
use super::raw::{RawJwt, RawMtls};
use super::{ConfigError, error};

/// Name of the module built with every caller check, for the message of a build
/// without them.
#[cfg(not(all(feature = "mtls", feature = "jwt")))]
const FULL_MODULE: &str = "fspiop_guard_envoy_filter_full.wasm";

#[cfg(not(feature = "mtls"))]
pub(super) fn validate_mtls(raw: Option<RawMtls>) -> Result<(), ConfigError> {
    match raw {
        None => Ok(()),
        Some(_) => Err(error(
            "mtls",
            format!(
                "this module is built without client certificate checks; deploy {FULL_MODULE} or remove mtls"
            ),
        )),
    }
}

#[cfg(not(feature = "jwt"))]
pub(super) fn validate_jwt(raw: Option<RawJwt>) -> Result<(), ConfigError> {
    match raw {
        None => Ok(()),
        Some(_) => Err(error(
            "jwt",
            format!("this module is built without JWT checks; deploy {FULL_MODULE} or remove jwt"),
        )),
    }
}

/// Maximum `trust_anchors` PEM length, in bytes: room for a few dozen CA certificates.
#[cfg(feature = "mtls")]
const MAX_TRUST_ANCHORS_BYTES: usize = 256 * 1024;

/// Maximum number of participants in `identities`, and of identities per participant.
#[cfg(feature = "mtls")]
const MAX_PARTICIPANTS: usize = 10_000;
#[cfg(feature = "mtls")]
const MAX_IDENTITIES_PER_PARTICIPANT: usize = 16;

#[cfg(feature = "mtls")]
pub(super) fn validate_mtls(
    raw: Option<RawMtls>,
) -> Result<Option<crate::peer::MtlsConfig>, ConfigError> {
    use fspiop_guard_core::pki::chain::{ChainPolicy, Usage};
    use fspiop_guard_core::pki::identity::{Identity, IdentityMap};
    use fspiop_guard_core::pki::pem::read_bundle;

    use crate::peer::{CertificateSource, MtlsConfig};

    let Some(raw) = raw else {
        return Ok(None);
    };
    let source = match raw.certificate_source.as_deref().unwrap_or("connection") {
        "connection" => {
            if raw.xfcc_trusted_by.is_some() {
                return Err(error(
                    "mtls.xfcc_trusted_by",
                    "applies only with certificate_source xfcc; remove it or set certificate_source to xfcc",
                ));
            }
            CertificateSource::Connection
        }
        "xfcc" => {
            let Some(trusted_by) = raw.xfcc_trusted_by.filter(|by| !by.is_empty()) else {
                return Err(error(
                    "mtls.xfcc_trusted_by",
                    "missing; give the URI SAN of the proxy that terminates the caller's TLS and writes x-forwarded-client-cert, because without it a client could write the header itself",
                ));
            };
            CertificateSource::Xfcc { trusted_by }
        }
        other => {
            return Err(error(
                "mtls.certificate_source",
                format!("unknown source {other:?}; use connection or xfcc"),
            ));
        }
    };

    let usage_name = raw.usage.as_deref().unwrap_or("client-auth");
    let usage = match usage_name {
        "client-auth" => Usage::ClientAuth,
        "server-auth" => Usage::ServerAuth,
        other => {
            return Err(error(
                "mtls.usage",
                format!(
                    "unknown usage {other:?}; use client-auth (a DFSP calling the Hub) or server-auth"
                ),
            ));
        }
    };
    let mut policy = match raw.policy.as_deref().unwrap_or("default") {
        "default" => ChainPolicy::new(usage),
        "mcm" => ChainPolicy::mcm(usage),
        other => {
            return Err(error(
                "mtls.policy",
                format!(
                    "unknown policy {other:?}; use default (RSA from 2048 bits, every algorithm) or mcm (RSA from 4096 bits, sha256WithRSAEncryption)"
                ),
            ));
        }
    };
    let default_bits = u64::from(policy.min_rsa_bits);
    policy.min_rsa_bits = in_range(
        "mtls.min_rsa_bits",
        raw.min_rsa_bits,
        default_bits,
        2048..=16384,
        "bits",
    )? as u32;

    let trust_anchors = match raw.trust_anchors {
        None => None,
        Some(pem) => {
            let field = "mtls.trust_anchors";
            if pem.len() > MAX_TRUST_ANCHORS_BYTES {
                return Err(error(
                    field,
                    format!(
                        "{} bytes is over the {MAX_TRUST_ANCHORS_BYTES}-byte limit; give only the CA certificates clients chain to",
                        pem.len()
                    ),
                ));
            }
            let read = read_bundle(pem.as_bytes()).map_err(|e| error(field, e.to_string()))?;
            if read.certificates().is_empty() {
                return Err(error(
                    field,
                    "holds no certificate; give the Hub CA as BEGIN CERTIFICATE blocks",
                ));
            }
            Some(pem.into_bytes())
        }
    };

    let identities = match raw.identities {
        None => None,
        Some(participants) => {
            if participants.len() > MAX_PARTICIPANTS {
                return Err(error(
                    "mtls.identities",
                    format!(
                        "{} participants; at most {MAX_PARTICIPANTS} are accepted",
                        participants.len()
                    ),
                ));
            }
            let mut map = IdentityMap::new();
            for (participant, names) in participants {
                let field = format!("mtls.identities.{participant}");
                if names.is_empty() || names.len() > MAX_IDENTITIES_PER_PARTICIPANT {
                    return Err(error(
                        &field,
                        format!(
                            "give 1 to {MAX_IDENTITIES_PER_PARTICIPANT} identities, for example [\"CN={participant}\"]"
                        ),
                    ));
                }
                let parsed = names
                    .iter()
                    .map(|name| Identity::parse(name))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|message| error(&field, message))?;
                if map.insert(participant.clone(), parsed).is_some() {
                    return Err(error(
                        &field,
                        "listed twice; merge its identities into one list",
                    ));
                }
            }
            Some(map)
        }
    };
    let reject_status =
        in_range("mtls.reject_status", raw.reject_status, 403, 400..=499, "")? as u16;
    Ok(Some(MtlsConfig {
        source,
        trust_anchors,
        policy,
        identities,
        reject_status,
    }))
}

#[cfg(feature = "jwt")]
pub(super) fn validate_jwt(
    raw: Option<RawJwt>,
) -> Result<Option<crate::peer::JwtConfig>, ConfigError> {
    use fspiop_guard_core::jwt::JwtPolicy;

    use crate::peer::JwtConfig;

    let Some(raw) = raw else {
        return Ok(None);
    };
    let mut policy = JwtPolicy::default();
    if let Some(algorithms) = raw.algorithms {
        if algorithms.is_empty() {
            return Err(error(
                "jwt.algorithms",
                "empty, so no token would verify; list algorithms such as [\"RS256\"]",
            ));
        }
        if let Some(bad) = algorithms
            .iter()
            .find(|alg| !policy.algorithms.contains(alg))
        {
            return Err(error(
                "jwt.algorithms",
                format!(
                    "{bad:?} is not accepted; use some of {} (HMAC and none never)",
                    policy.algorithms.join(", ")
                ),
            ));
        }
        policy.algorithms = algorithms;
    }
    policy.issuers = raw.issuers.unwrap_or_default();
    policy.audiences = raw.audiences.unwrap_or_default();
    policy.leeway_seconds = in_range(
        "jwt.leeway_seconds",
        raw.leeway_seconds,
        0,
        0..=300,
        "seconds",
    )? as i64;
    policy.require_exp = raw.require_exp.unwrap_or(true);
    // Every DFSP's JWS key is in the key set, so without a participant any DFSP could
    // sign a token that verifies.
    let Some(participant) = raw
        .participant
        .filter(|participant| !participant.is_empty())
    else {
        return Err(error(
            "jwt.participant",
            "missing; name the key-set participant whose keys sign the tokens, for example hub",
        ));
    };
    policy.participant = Some(participant);
    let reject_status =
        in_range("jwt.reject_status", raw.reject_status, 401, 400..=499, "")? as u16;
    Ok(Some(JwtConfig {
        policy,
        reject_status,
    }))
}
