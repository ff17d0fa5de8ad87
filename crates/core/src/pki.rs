//! Certificate and token checks: one reason enum and one verdict type for every X.509,
//! CSR and JWT check, so the CLI, the Envoy filter and the npm package report a failure
//! with the same code.
//!
//! The checks themselves sit behind cargo features, because the JWS-only filter build
//! must not grow: `x509-checks` for PEM bundles, inspection, chains, CSRs and the expiry
//! report, and `jwt` for bearer tokens ([`crate::jwt`]).
//!
//! Every check takes the time as unix seconds and reads no clock.

use std::fmt;

use serde::Serialize;

#[cfg(feature = "x509-checks")]
pub mod chain;
#[cfg(feature = "x509-checks")]
pub mod csr;
#[cfg(feature = "x509-checks")]
pub mod duration;
#[cfg(feature = "x509-checks")]
pub mod expiry;
#[cfg(feature = "x509-checks")]
pub mod identity;
#[cfg(feature = "x509-checks")]
pub mod inspect;
#[cfg(feature = "x509-checks")]
pub mod pem;

macro_rules! pki_reasons {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal; )*) => {
        /// The reason a certificate, bundle, CSR or token was rejected. The code string is
        /// stable, because operators search for it and dashboards count it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum PkiReason {
            $( $(#[$doc])* $variant, )*
        }

        impl PkiReason {
            /// Every reason, in declaration order.
            pub const ALL: &'static [PkiReason] = &[ $( PkiReason::$variant, )* ];

            /// Returns the stable machine-readable code, for example `CERT_EXPIRED`.
            pub fn code(self) -> &'static str {
                match self { $( PkiReason::$variant => $code, )* }
            }
        }
    };
}

pki_reasons! {
    // Input and PEM.
    /// The input is larger than the reader's limit.
    InputTooLarge = "INPUT_TOO_LARGE";
    /// The PEM armour is broken: a BEGIN line without its END line, or END and BEGIN
    /// labels that differ.
    PemMalformed = "PEM_MALFORMED";
    /// A PEM body is not valid base64.
    PemBadBase64 = "PEM_BAD_BASE64";
    /// The input contains no certificate block (the labels that were seen are in the detail).
    PemNoCertificate = "PEM_NO_CERTIFICATE";
    /// The input contains more PEM blocks than the reader accepts.
    PemTooManyBlocks = "PEM_TOO_MANY_BLOCKS";
    /// A certificate's DER does not parse as an X.509 certificate.
    CertMalformed = "CERT_MALFORMED";
    /// Bytes follow the certificate inside its PEM block.
    CertTrailingData = "CERT_TRAILING_DATA";
    /// No trust anchor was supplied, or an anchor does not parse.
    TrustAnchorInvalid = "TRUST_ANCHOR_INVALID";

    // Chain building (RFC 5280 section 6).
    /// A certificate on the path is past its notAfter (RFC 5280 section 4.1.2.5).
    CertExpired = "CERT_EXPIRED";
    /// A certificate on the path is before its notBefore.
    CertNotYetValid = "CERT_NOT_YET_VALID";
    /// No path leads from the end-entity certificate to a trust anchor: a wrong CA or a
    /// missing intermediate.
    ChainUnknownIssuer = "CHAIN_UNKNOWN_ISSUER";
    /// A signature on the path does not verify with its issuer's public key.
    ChainBadSignature = "CHAIN_BAD_SIGNATURE";
    /// A certificate is X.509 v1 or v2; only v3 certificates carry the extensions a CA
    /// and a TLS certificate need (RFC 5280 section 4.1.2.1).
    CertVersionUnsupported = "CERT_VERSION_UNSUPPORTED";
    /// A signature on the path uses an algorithm the verifier rejects, such as SHA-1.
    SignatureAlgorithmUnsupported = "SIGNATURE_ALGORITHM_UNSUPPORTED";
    /// A signature algorithm does not fit the issuer's key type.
    SignatureAlgorithmKeyMismatch = "SIGNATURE_ALGORITHM_KEY_MISMATCH";
    /// A signature algorithm is valid but outside the policy's allow-list.
    SignatureAlgorithmNotAllowed = "SIGNATURE_ALGORITHM_NOT_ALLOWED";
    /// An RSA key on the path is smaller than the policy's minimum, or smaller than ring
    /// verifies (2048 bits).
    KeyTooSmall = "KEY_TOO_SMALL";
    /// A key's type or curve is outside the policy.
    KeyTypeNotAllowed = "KEY_TYPE_NOT_ALLOWED";
    /// The end-entity certificate has an extendedKeyUsage without id-kp-clientAuth
    /// (RFC 5280 section 4.2.1.12).
    EkuClientAuthMissing = "EKU_CLIENT_AUTH_MISSING";
    /// The end-entity certificate has an extendedKeyUsage without id-kp-serverAuth.
    EkuServerAuthMissing = "EKU_SERVER_AUTH_MISSING";
    /// An extendedKeyUsage extension is present but lists no purpose.
    EkuEmpty = "EKU_EMPTY";
    /// The end-entity keyUsage lacks digitalSignature, which a TLS handshake signature
    /// needs (RFC 5280 section 4.2.1.3).
    KeyUsageDigitalSignatureMissing = "KEY_USAGE_DIGITAL_SIGNATURE_MISSING";
    /// A CA certificate was presented as the end entity.
    CaUsedAsEndEntity = "CA_USED_AS_END_ENTITY";
    /// A certificate used as an issuer is not a CA (basicConstraints, RFC 5280 section
    /// 4.2.1.9).
    EndEntityUsedAsCa = "END_ENTITY_USED_AS_CA";
    /// An issuer's pathLenConstraint is exceeded.
    PathLenExceeded = "PATH_LEN_EXCEEDED";
    /// A name violates an issuer's nameConstraints (RFC 5280 section 4.2.1.10).
    NameConstraintViolation = "NAME_CONSTRAINT_VIOLATION";
    /// A certificate has a critical extension the verifier does not process.
    UnsupportedCriticalExtension = "UNSUPPORTED_CRITICAL_EXTENSION";
    /// Path building gave up: too many candidates, signatures or levels.
    ChainTooComplex = "CHAIN_TOO_COMPLEX";
    /// Another chain error; the detail names the verifier's error.
    ChainInvalid = "CHAIN_INVALID";

    // Identity.
    /// The expected DNS name or IP address is not among the certificate's SANs.
    IdentityMismatch = "IDENTITY_MISMATCH";
    /// The expected name is only in the subject CN; SAN-only matching (RFC 6125 section
    /// 6.4.4) rejects it.
    IdentityCnOnly = "IDENTITY_CN_ONLY";
    /// The certificate identity is not bound to the participant in `FSPIOP-Source`.
    IdentitySourceMismatch = "IDENTITY_SOURCE_MISMATCH";

    // CSR policy.
    /// The input is not a parseable PKCS#10 certificate request.
    CsrMalformed = "CSR_MALFORMED";
    /// The CSR's self-signature does not verify with its own public key.
    CsrSignatureInvalid = "CSR_SIGNATURE_INVALID";
    /// The CSR's signature algorithm is outside the policy's allow-list.
    CsrSignatureAlgorithmNotAllowed = "CSR_SIGNATURE_ALGORITHM_NOT_ALLOWED";
    /// The CSR's key type is outside the policy (the default policy allows only RSA).
    CsrKeyTypeNotAllowed = "CSR_KEY_TYPE_NOT_ALLOWED";
    /// The CSR's RSA key is smaller than the policy's minimum.
    CsrKeyTooSmall = "CSR_KEY_TOO_SMALL";
    /// The CSR's subject lacks a field the policy requires.
    CsrSubjectFieldMissing = "CSR_SUBJECT_FIELD_MISSING";

    // JWT.
    /// The token is longer than the policy allows.
    JwtTooLarge = "JWT_TOO_LARGE";
    /// The token is not three base64url parts with a JSON header and claims object.
    JwtMalformed = "JWT_MALFORMED";
    /// The header says `alg: none` (an unsecured JWT, RFC 7519 section 6).
    JwtAlgNone = "JWT_ALG_NONE";
    /// The header's `alg` is outside the policy's allow-list (HMAC algorithms always are).
    JwtAlgNotAllowed = "JWT_ALG_NOT_ALLOWED";
    /// No key in the key store matches the token's `kid` or configured participant.
    JwtKeyNotFound = "JWT_KEY_NOT_FOUND";
    /// The key's type or curve does not fit the header's `alg`.
    JwtKeyAlgMismatch = "JWT_KEY_ALG_MISMATCH";
    /// The signature does not verify.
    JwtSignatureInvalid = "JWT_SIGNATURE_INVALID";
    /// The token has no `exp` claim and the policy requires one.
    JwtExpMissing = "JWT_EXP_MISSING";
    /// A time claim (`exp`, `nbf`, `iat`) is not a number.
    JwtClaimInvalid = "JWT_CLAIM_INVALID";
    /// The time is at or after `exp` plus the leeway (RFC 7519 section 4.1.4).
    JwtExpired = "JWT_EXPIRED";
    /// The time plus the leeway is before `nbf` (RFC 7519 section 4.1.5).
    JwtNotYetValid = "JWT_NOT_YET_VALID";
    /// `iss` is missing or not one of the configured issuers.
    JwtIssuerMismatch = "JWT_ISSUER_MISMATCH";
    /// `aud` is missing or names none of the configured audiences.
    JwtAudienceMismatch = "JWT_AUDIENCE_MISMATCH";
}

impl PkiReason {
    /// Looks a reason up by its stable code.
    pub fn from_code(code: &str) -> Option<PkiReason> {
        PkiReason::ALL
            .iter()
            .copied()
            .find(|reason| reason.code() == code)
    }
}

impl fmt::Display for PkiReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for PkiReason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

/// A rejection: the reason code and a sentence that names the value and what to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PkiError {
    pub reason: PkiReason,
    pub detail: String,
}

impl PkiError {
    /// Builds an error from a reason and its detail sentence.
    pub fn new(reason: PkiReason, detail: impl Into<String>) -> Self {
        PkiError {
            reason,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for PkiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason.code(), self.detail)
    }
}

impl std::error::Error for PkiError {}

/// A finding that does not reject: an unusual bundle order, an absent extension, a
/// repaired PEM quirk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// Stable lower-case code, for example `eku-absent`.
    pub code: &'static str,
    pub detail: String,
}

impl Warning {
    /// Builds a warning from its code and detail sentence.
    pub fn new(code: &'static str, detail: impl Into<String>) -> Self {
        Warning {
            code,
            detail: detail.into(),
        }
    }
}

/// The outcome of one check, serialised the same way on every target:
/// `{"valid": false, "reason": "CERT_EXPIRED", "detail": "...", "warnings": [...]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PkiVerdict {
    pub valid: bool,
    /// The reason code; absent when valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<PkiReason>,
    /// Reason for the rejection, or a one-line summary when valid.
    pub detail: String,
    pub warnings: Vec<Warning>,
}

impl PkiVerdict {
    /// Builds an accepting verdict.
    pub fn valid(detail: impl Into<String>, warnings: Vec<Warning>) -> Self {
        PkiVerdict {
            valid: true,
            reason: None,
            detail: detail.into(),
            warnings,
        }
    }

    /// Builds a rejecting verdict from an error.
    pub fn rejected(error: PkiError, warnings: Vec<Warning>) -> Self {
        PkiVerdict {
            valid: false,
            reason: Some(error.reason),
            detail: error.detail,
            warnings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_codes_unique_and_round_trip() {
        for (index, reason) in PkiReason::ALL.iter().enumerate() {
            assert_eq!(PkiReason::from_code(reason.code()), Some(*reason));
            let later = PkiReason::ALL.get(index + 1..).unwrap_or_default();
            assert!(
                later.iter().all(|other| other.code() != reason.code()),
                "{} is used twice",
                reason.code()
            );
        }
    }
}
