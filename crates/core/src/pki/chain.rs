//! Chain verification: a leaf and unordered intermediates to trust anchors at an explicit
//! time, with the purpose, key, signature-algorithm, keyUsage and identity policy of the
//! Hub ↔ PM4ML mTLS links.
//!
//! rustls-webpki (on ring) builds and verifies the path (RFC 5280 section 6): signatures,
//! validity of every certificate on the path, basicConstraints and pathLenConstraint,
//! nameConstraints and extendedKeyUsage. It rejects X.509 v1 certificates, SHA-1
//! signatures and RSA issuer keys under 2048 bits, where OpenSSL accepts them; the
//! reason codes here say which of those happened. The checks webpki leaves to the caller
//! run after it, in this order:
//! 1. key type and RSA size of the leaf and every intermediate;
//! 2. the signature-algorithm allow-list;
//! 3. keyUsage digitalSignature on the leaf;
//! 4. the expected DNS name or IP address, matched against SANs only.

use rustls_pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};
use serde::Serialize;
use webpki::{EndEntityCert, KeyUsage};
use x509_parser::certificate::X509Certificate;

use super::inspect::{
    CertificateInfo, KeyDescription, describe_certificate, dn_text, parse_certificate,
};
use super::pem::read_bundle;
use super::{PkiError, PkiReason, PkiVerdict, Warning};

/// Most intermediates taken from one bundle. Path building is exponential in the worst
/// case, and a real chain has one or two.
pub const MAX_INTERMEDIATES: usize = 16;

/// Most trust anchors taken from one bundle.
pub const MAX_TRUST_ANCHORS: usize = 64;

/// Every signature algorithm rustls-webpki verifies with ring. SHA-1 and RSA keys under
/// 2048 bits are absent, because ring does not offer them for certificates.
static ALL_RING_ALGORITHMS: &[&dyn rustls_pki_types::SignatureVerificationAlgorithm] = &[
    webpki::ring::ECDSA_P256_SHA256,
    webpki::ring::ECDSA_P256_SHA384,
    webpki::ring::ECDSA_P384_SHA256,
    webpki::ring::ECDSA_P384_SHA384,
    webpki::ring::ED25519,
    webpki::ring::RSA_PKCS1_2048_8192_SHA256,
    webpki::ring::RSA_PKCS1_2048_8192_SHA384,
    webpki::ring::RSA_PKCS1_2048_8192_SHA512,
    webpki::ring::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
    webpki::ring::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
    webpki::ring::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
    webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
    webpki::ring::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
    webpki::ring::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
];

/// The purpose the leaf must allow (RFC 5280 section 4.2.1.12).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Usage {
    /// id-kp-clientAuth: a PM4ML client certificate presented to the Hub, or the Hub's
    /// client certificate presented to PM4ML.
    ClientAuth,
    /// id-kp-serverAuth: a server certificate from cert-manager.
    ServerAuth,
}

impl Usage {
    /// Parses `client` / `client-auth` or `server` / `server-auth`.
    pub fn from_name(name: &str) -> Option<Usage> {
        match name {
            "client" | "client-auth" | "clientAuth" => Some(Usage::ClientAuth),
            "server" | "server-auth" | "serverAuth" => Some(Usage::ServerAuth),
            _ => None,
        }
    }

    /// Returns the RFC 5280 purpose name.
    pub fn name(self) -> &'static str {
        match self {
            Usage::ClientAuth => "clientAuth",
            Usage::ServerAuth => "serverAuth",
        }
    }
}

/// Requirements a chain must meet beyond a valid path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainPolicy {
    pub usage: Usage,
    /// Smallest RSA modulus accepted on the leaf and the intermediates, in bits.
    pub min_rsa_bits: u32,
    /// Signature algorithm names (as [`CertificateInfo::signature_algorithm`]) accepted on
    /// the leaf and the intermediates; empty accepts every algorithm webpki verifies.
    pub allowed_signature_algorithms: Vec<String>,
    /// Require keyUsage digitalSignature on the leaf when it has a keyUsage extension.
    pub require_digital_signature: bool,
    /// A DNS name or IP address that must be among the leaf's SANs.
    pub expected_name: Option<String>,
}

impl ChainPolicy {
    /// Policy for a purpose: RSA from 2048 bits, every algorithm webpki verifies,
    /// digitalSignature required, no name.
    pub fn new(usage: Usage) -> Self {
        ChainPolicy {
            usage,
            min_rsa_bits: 2048,
            allowed_signature_algorithms: Vec::new(),
            require_digital_signature: true,
            expected_name: None,
        }
    }

    /// MCM's certificate rules: RSA from 4096 bits (its `PRIVATE_KEY_LENGTH` default) and
    /// only sha256WithRSAEncryption signatures (its CERTIFICATE_SIGNATURE_ALGORITHM check).
    pub fn mcm(usage: Usage) -> Self {
        ChainPolicy {
            min_rsa_bits: 4096,
            allowed_signature_algorithms: vec!["sha256WithRSAEncryption".to_owned()],
            ..ChainPolicy::new(usage)
        }
    }
}

/// The outcome of a chain check, with what was found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    #[serde(flatten)]
    pub verdict: PkiVerdict,
    /// The certificate checked as the end entity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leaf: Option<CertificateInfo>,
    /// The verified path from the leaf to the trust anchor; empty when rejected.
    pub path: Vec<CertificateInfo>,
}

impl ChainReport {
    fn rejected(error: PkiError, leaf: Option<CertificateInfo>, warnings: Vec<Warning>) -> Self {
        ChainReport {
            verdict: PkiVerdict::rejected(error, warnings),
            leaf,
            path: Vec::new(),
        }
    }
}

/// Verifies a PEM or DER bundle (a leaf and its intermediates, in any order) against a
/// PEM or DER bundle of trust anchors at `now` (unix seconds).
///
/// The leaf is the certificate that issued no other certificate of the bundle, preferring
/// one that is not a CA; the order of the bundle does not matter, and an unusual order is
/// reported as a warning.
pub fn verify_bundle(
    bundle: &[u8],
    trust_anchors: &[u8],
    now: i64,
    policy: &ChainPolicy,
) -> ChainReport {
    let mut warnings = Vec::new();
    let certificates = match read_bundle(bundle) {
        Ok(read) => {
            warnings.extend(read.warnings.iter().cloned());
            let certificates: Vec<Vec<u8>> = read
                .certificates()
                .into_iter()
                .map(<[u8]>::to_vec)
                .collect();
            if certificates.is_empty() {
                return ChainReport::rejected(
                    no_certificate("bundle", &read.labels()),
                    None,
                    warnings,
                );
            }
            certificates
        }
        Err(error) => return ChainReport::rejected(error, None, warnings),
    };
    let anchors = match read_bundle(trust_anchors) {
        Ok(read) => {
            let anchors: Vec<Vec<u8>> = read
                .certificates()
                .into_iter()
                .map(<[u8]>::to_vec)
                .collect();
            if anchors.is_empty() {
                let error = no_certificate("trust anchor bundle", &read.labels());
                return ChainReport::rejected(
                    PkiError::new(PkiReason::TrustAnchorInvalid, error.detail),
                    None,
                    warnings,
                );
            }
            anchors
        }
        Err(error) => {
            return ChainReport::rejected(
                PkiError::new(
                    PkiReason::TrustAnchorInvalid,
                    format!("trust anchors: {}", error.detail),
                ),
                None,
                warnings,
            );
        }
    };

    let mut parsed = Vec::with_capacity(certificates.len());
    for (index, der) in certificates.iter().enumerate() {
        match parse_certificate(der) {
            Ok(certificate) => parsed.push(certificate),
            Err(error) => {
                let detail = format!("certificate {} of the bundle: {}", index + 1, error.detail);
                return ChainReport::rejected(PkiError::new(error.reason, detail), None, warnings);
            }
        }
    }
    let leaf_index = select_leaf(&parsed, &mut warnings);
    let intermediates: Vec<&[u8]> = certificates
        .iter()
        .enumerate()
        .filter(|(index, _)| *index != leaf_index)
        .map(|(_, der)| der.as_slice())
        .collect();
    let anchor_refs: Vec<&[u8]> = anchors.iter().map(Vec::as_slice).collect();
    let leaf = certificates
        .get(leaf_index)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut report = verify_der(leaf, &intermediates, &anchor_refs, now, policy);
    warnings.append(&mut report.verdict.warnings);
    report.verdict.warnings = warnings;
    report
}

/// Verifies a DER leaf with DER intermediates (any order) against DER trust anchors at
/// `now` (unix seconds). This is the entry point for a peer certificate that Envoy or a
/// TLS library already decoded.
pub fn verify_der(
    leaf: &[u8],
    intermediates: &[&[u8]],
    trust_anchors: &[&[u8]],
    now: i64,
    policy: &ChainPolicy,
) -> ChainReport {
    let mut warnings = Vec::new();
    let certificate = match parse_certificate(leaf) {
        Ok(certificate) => certificate,
        Err(error) => return ChainReport::rejected(error, None, warnings),
    };
    let leaf_info = describe_certificate(&certificate, leaf);
    if intermediates.len() > MAX_INTERMEDIATES || trust_anchors.len() > MAX_TRUST_ANCHORS {
        let error = PkiError::new(
            PkiReason::InputTooLarge,
            format!(
                "{} intermediates and {} trust anchors given; at most {MAX_INTERMEDIATES} and \
                 {MAX_TRUST_ANCHORS} are read",
                intermediates.len(),
                trust_anchors.len()
            ),
        );
        return ChainReport::rejected(error, Some(leaf_info), warnings);
    }
    let mut others = Vec::new();
    for der in intermediates {
        if let Ok(parsed) = parse_certificate(der) {
            others.push(parsed);
        }
    }
    let anchor_certificates: Vec<X509Certificate<'_>> = trust_anchors
        .iter()
        .filter_map(|der| parse_certificate(der).ok())
        .collect();

    let anchor_ders: Vec<CertificateDer<'_>> = trust_anchors
        .iter()
        .map(|der| CertificateDer::from(*der))
        .collect();
    let mut anchors: Vec<TrustAnchor<'_>> = Vec::with_capacity(anchor_ders.len());
    for (index, der) in anchor_ders.iter().enumerate() {
        match webpki::anchor_from_trusted_cert(der) {
            Ok(anchor) => anchors.push(anchor),
            Err(error) => {
                let error = PkiError::new(
                    PkiReason::TrustAnchorInvalid,
                    format!(
                        "trust anchor {} does not parse ({error:?}); supply the CA certificate \
                         in PEM or DER",
                        index + 1
                    ),
                );
                return ChainReport::rejected(error, Some(leaf_info), warnings);
            }
        }
    }
    if anchors.is_empty() {
        let error = PkiError::new(
            PkiReason::TrustAnchorInvalid,
            "no trust anchor given; supply the CA certificate the chain must lead to",
        );
        return ChainReport::rejected(error, Some(leaf_info), warnings);
    }

    let leaf_der = CertificateDer::from(leaf);
    let end_entity = match EndEntityCert::try_from(&leaf_der) {
        Ok(end_entity) => end_entity,
        Err(error) => {
            let error = explain(
                &error,
                &certificate,
                &others,
                &anchor_certificates,
                now,
                policy,
            );
            return ChainReport::rejected(error, Some(leaf_info), warnings);
        }
    };
    let intermediate_ders: Vec<CertificateDer<'_>> = intermediates
        .iter()
        .map(|der| CertificateDer::from(*der))
        .collect();
    let usage = match policy.usage {
        Usage::ClientAuth => KeyUsage::client_auth(),
        Usage::ServerAuth => KeyUsage::server_auth(),
    };
    let time = UnixTime::since_unix_epoch(std::time::Duration::from_secs(
        u64::try_from(now).unwrap_or_default(),
    ));
    let verified = end_entity.verify_for_usage(
        ALL_RING_ALGORITHMS,
        &anchors,
        &intermediate_ders,
        time,
        usage,
        None,
        None,
    );
    let path = match verified {
        Ok(path) => path,
        Err(error) => {
            let error = explain(
                &error,
                &certificate,
                &others,
                &anchor_certificates,
                now,
                policy,
            );
            return ChainReport::rejected(error, Some(leaf_info), warnings);
        }
    };

    let mut path_infos = vec![leaf_info.clone()];
    for intermediate in path.intermediate_certificates() {
        let der = intermediate.der();
        if let Ok(parsed) = parse_certificate(der.as_ref()) {
            path_infos.push(describe_certificate(&parsed, der.as_ref()));
        }
    }
    if let Err(error) = check_policy(&path_infos, &end_entity, &leaf_info, policy) {
        return ChainReport::rejected(error, Some(leaf_info), warnings);
    }
    let anchor = path.anchor();
    let used = anchors.iter().position(|candidate| {
        candidate.subject == anchor.subject
            && candidate.subject_public_key_info == anchor.subject_public_key_info
    });
    if let Some(der) = used.and_then(|index| trust_anchors.get(index))
        && let Ok(parsed) = parse_certificate(der)
    {
        path_infos.push(describe_certificate(&parsed, der));
    }
    note_usage(&leaf_info, &mut warnings);
    let summary = format!(
        "{} chains to {} for {} at {}",
        leaf_info.subject,
        path_infos.last().map_or("?", |info| info.subject.as_str()),
        policy.usage.name(),
        crate::rfc3339::format(now)
    );
    ChainReport {
        verdict: PkiVerdict::valid(summary, warnings),
        leaf: Some(leaf_info),
        path: path_infos,
    }
}

/// Picks the end-entity certificate of a bundle: one that issued no other certificate of
/// the bundle, preferring a non-CA; the first such in input order.
fn select_leaf(certificates: &[X509Certificate<'_>], warnings: &mut Vec<Warning>) -> usize {
    let issued_another = |index: usize| {
        certificates.iter().enumerate().any(|(other, certificate)| {
            other != index
                && certificates.get(index).is_some_and(|candidate| {
                    candidate.subject().as_raw() == certificate.issuer().as_raw()
                })
        })
    };
    let candidates: Vec<usize> = (0..certificates.len())
        .filter(|index| !issued_another(*index))
        .collect();
    let not_ca: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|index| certificates.get(*index).is_some_and(|c| !c.is_ca()))
        .collect();
    let chosen = not_ca
        .first()
        .or(candidates.first())
        .copied()
        .unwrap_or_default();
    if not_ca.len() > 1 {
        warnings.push(Warning::new(
            "bundle-several-leaves",
            format!(
                "the bundle contains {} end-entity certificates; certificate {} was checked",
                not_ca.len(),
                chosen + 1
            ),
        ));
    }
    if chosen != 0 {
        warnings.push(Warning::new(
            "bundle-leaf-not-first",
            format!(
                "the end-entity certificate is number {} in the bundle; TLS servers send it \
                 first, and some tools take the first certificate as the leaf",
                chosen + 1
            ),
        ));
    }
    if certificates.len() > 1
        && let Some(first) = certificates.first()
        && first.subject().as_raw() == first.issuer().as_raw()
    {
        warnings.push(Warning::new(
            "bundle-root-first",
            "the bundle starts with a self-issued root; MCM's chain check rejects root-first \
             order, so list the issuing CA first",
        ));
    }
    chosen
}

/// Turns a webpki error into a reason code and a sentence naming the certificate.
fn explain(
    error: &webpki::Error,
    leaf: &X509Certificate<'_>,
    others: &[X509Certificate<'_>],
    anchors: &[X509Certificate<'_>],
    now: i64,
    policy: &ChainPolicy,
) -> PkiError {
    use webpki::Error as E;
    let every = || {
        std::iter::once(leaf)
            .chain(others.iter())
            .chain(anchors.iter())
    };
    let name = |certificate: &X509Certificate<'_>| dn_text(certificate.subject());
    match error {
        E::CertExpired { not_after, .. } => {
            let not_after = i64::try_from(not_after.as_secs()).unwrap_or(i64::MAX);
            let expired = every().find(|c| c.validity().not_after.timestamp() == not_after);
            PkiError::new(
                PkiReason::CertExpired,
                format!(
                    "{} expired at {} ({}); renew it",
                    expired.map_or_else(|| "a certificate on the path".to_owned(), name),
                    crate::rfc3339::format(not_after),
                    ago(now - not_after)
                ),
            )
        }
        E::CertNotValidYet { not_before, .. } => {
            let not_before = i64::try_from(not_before.as_secs()).unwrap_or(i64::MAX);
            let early = every().find(|c| c.validity().not_before.timestamp() == not_before);
            PkiError::new(
                PkiReason::CertNotYetValid,
                format!(
                    "{} is not valid before {} (in {}); check the issuer's clock or the check time",
                    early.map_or_else(|| "a certificate on the path".to_owned(), name),
                    crate::rfc3339::format(not_before),
                    span(not_before - now)
                ),
            )
        }
        E::UnsupportedCertVersion => {
            let old = every().find(|c| c.version().0 < 2);
            PkiError::new(
                PkiReason::CertVersionUnsupported,
                format!(
                    "{} is an X.509 v{} certificate; only v3 certificates are accepted, so \
                     reissue it (OpenSSL accepts v1, webpki does not)",
                    old.map_or_else(|| "a certificate on the path".to_owned(), name),
                    old.map_or(1, |c| c.version().0 + 1)
                ),
            )
        }
        E::UnknownIssuer => unknown_issuer(leaf, others),
        E::InvalidSignatureForPublicKey => bad_signature(leaf, others, anchors),
        E::UnsupportedSignatureAlgorithmContext(_) => {
            let weak = every().find(|c| {
                !supported_signature_algorithm(&super::inspect::signature_algorithm_name(
                    &c.signature_algorithm.algorithm.to_id_string(),
                ))
            });
            let (subject, algorithm) = weak.map_or_else(
                || {
                    (
                        "a certificate on the path".to_owned(),
                        "its algorithm".to_owned(),
                    )
                },
                |c| {
                    (
                        name(c),
                        super::inspect::signature_algorithm_name(
                            &c.signature_algorithm.algorithm.to_id_string(),
                        ),
                    )
                },
            );
            PkiError::new(
                PkiReason::SignatureAlgorithmUnsupported,
                format!(
                    "{subject} is signed with {algorithm}, which is not accepted (SHA-1 and MD5 \
                     are broken); reissue it with SHA-256 or stronger"
                ),
            )
        }
        E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) | E::SignatureAlgorithmMismatch => {
            PkiError::new(
                PkiReason::SignatureAlgorithmKeyMismatch,
                format!(
                    "a signature algorithm on the path does not fit its issuer's key ({error:?}); \
                 check that the issuing CA's key type matches its signatures"
                ),
            )
        }
        E::RequiredEkuNotFoundContext(_) => {
            let (reason, wanted) = match policy.usage {
                Usage::ClientAuth => (PkiReason::EkuClientAuthMissing, "clientAuth"),
                Usage::ServerAuth => (PkiReason::EkuServerAuthMissing, "serverAuth"),
            };
            let present = leaf_purposes(leaf);
            PkiError::new(
                reason,
                format!(
                    "{} allows only {present} in extendedKeyUsage, not {wanted}; reissue it with \
                     {wanted} (cert-manager: list it in spec.usages)",
                    name(leaf)
                ),
            )
        }
        E::EmptyEkuExtension => PkiError::new(
            PkiReason::EkuEmpty,
            format!(
                "{} has an empty extendedKeyUsage extension; reissue it with {}",
                name(leaf),
                policy.usage.name()
            ),
        ),
        E::CaUsedAsEndEntity => PkiError::new(
            PkiReason::CaUsedAsEndEntity,
            format!(
                "{} is a CA certificate (basicConstraints cA=TRUE) but was presented as the end \
                 entity; present the leaf certificate",
                name(leaf)
            ),
        ),
        E::EndEntityUsedAsCa => PkiError::new(
            PkiReason::EndEntityUsedAsCa,
            "a certificate that is not a CA (no basicConstraints cA=TRUE) issued another \
             certificate on the path; the issuer must be a CA certificate",
        ),
        E::PathLenConstraintViolated => PkiError::new(
            PkiReason::PathLenExceeded,
            "the path has more intermediates than an issuer's pathLenConstraint allows",
        ),
        E::NameConstraintViolation => PkiError::new(
            PkiReason::NameConstraintViolation,
            format!(
                "a name of {} is outside an issuer's nameConstraints",
                name(leaf)
            ),
        ),
        E::UnsupportedCriticalExtension => PkiError::new(
            PkiReason::UnsupportedCriticalExtension,
            "a certificate on the path has a critical extension that is not processed",
        ),
        E::MaximumPathDepthExceeded
        | E::MaximumSignatureChecksExceeded
        | E::MaximumPathBuildCallsExceeded => PkiError::new(
            PkiReason::ChainTooComplex,
            format!(
                "path building gave up ({error:?}); remove unrelated certificates from the bundle"
            ),
        ),
        E::BadDer | E::BadDerTime | E::TrailingData(_) | E::InvalidCertValidity => PkiError::new(
            PkiReason::CertMalformed,
            format!("a certificate on the path is malformed ({error:?})"),
        ),
        other => PkiError::new(
            PkiReason::ChainInvalid,
            format!("the chain does not verify: webpki error {other:?}"),
        ),
    }
}

/// Lists the leaf's extendedKeyUsage purposes by name.
fn leaf_purposes(leaf: &X509Certificate<'_>) -> String {
    let Ok(Some(extension)) = leaf.extended_key_usage() else {
        return "no purpose".to_owned();
    };
    let usage = extension.value;
    let mut names: Vec<String> = [
        (usage.server_auth, "serverAuth"),
        (usage.client_auth, "clientAuth"),
        (usage.code_signing, "codeSigning"),
        (usage.email_protection, "emailProtection"),
        (usage.time_stamping, "timeStamping"),
        (usage.ocsp_signing, "OCSPSigning"),
        (usage.any, "anyExtendedKeyUsage"),
    ]
    .into_iter()
    .filter(|(present, _)| *present)
    .map(|(_, name)| name.to_owned())
    .collect();
    names.extend(usage.other.iter().map(|oid| oid.to_id_string()));
    if names.is_empty() {
        "no purpose".to_owned()
    } else {
        names.join(", ")
    }
}

fn supported_signature_algorithm(name: &str) -> bool {
    matches!(
        name,
        "sha256WithRSAEncryption"
            | "sha384WithRSAEncryption"
            | "sha512WithRSAEncryption"
            | "rsassaPss"
            | "ecdsa-with-SHA256"
            | "ecdsa-with-SHA384"
            | "ED25519"
    )
}

/// Walks issuer names from the leaf through the bundle and names the first missing CA.
fn unknown_issuer(leaf: &X509Certificate<'_>, others: &[X509Certificate<'_>]) -> PkiError {
    let mut current = leaf;
    for _ in 0..=MAX_INTERMEDIATES {
        let issuer = current.issuer().as_raw();
        match others
            .iter()
            .find(|c| c.subject().as_raw() == issuer && c.subject().as_raw() != c.issuer().as_raw())
        {
            Some(next) if !std::ptr::eq(next, current) => current = next,
            _ => break,
        }
    }
    PkiError::new(
        PkiReason::ChainUnknownIssuer,
        format!(
            "no trust anchor issued {} (issuer {}); the chain ends at a CA that is not trusted \
             here, or the bundle lacks an intermediate",
            dn_text(current.subject()),
            dn_text(current.issuer())
        ),
    )
}

/// Explains a signature that does not verify, naming a too-small RSA issuer key when there
/// is one (webpki reports those as bad signatures).
fn bad_signature(
    leaf: &X509Certificate<'_>,
    others: &[X509Certificate<'_>],
    anchors: &[X509Certificate<'_>],
) -> PkiError {
    let all: Vec<&X509Certificate<'_>> = others.iter().chain(anchors.iter()).collect();
    for issuer in &all {
        if let KeyDescription::Rsa { bits } = super::inspect::describe_key(issuer.public_key())
            && bits < 2048
        {
            return PkiError::new(
                PkiReason::KeyTooSmall,
                format!(
                    "the issuing CA {} has a {bits}-bit RSA key; signatures from RSA keys under \
                     2048 bits are not verified, so re-key the CA",
                    dn_text(issuer.subject())
                ),
            );
        }
    }
    PkiError::new(
        PkiReason::ChainBadSignature,
        format!(
            "the signature on {} or on an intermediate does not verify with its issuer's key; \
             the certificate was altered or issued by another CA with the same name",
            dn_text(leaf.subject())
        ),
    )
}

/// The checks webpki leaves to the caller, on the leaf and the intermediates of the
/// verified path (the trust anchor is trusted as configured).
fn check_policy(
    path: &[CertificateInfo],
    end_entity: &EndEntityCert<'_>,
    leaf: &CertificateInfo,
    policy: &ChainPolicy,
) -> Result<(), PkiError> {
    for info in path {
        match &info.key {
            KeyDescription::Rsa { bits } if *bits < policy.min_rsa_bits => {
                return Err(PkiError::new(
                    PkiReason::KeyTooSmall,
                    format!(
                        "{} has a {bits}-bit RSA key; the policy requires at least {} bits",
                        info.subject, policy.min_rsa_bits
                    ),
                ));
            }
            KeyDescription::Rsa { .. } | KeyDescription::Ed25519 => {}
            KeyDescription::Ec { curve } if curve == "P-256" || curve == "P-384" => {}
            other => {
                return Err(PkiError::new(
                    PkiReason::KeyTypeNotAllowed,
                    format!(
                        "{} has a {other} key; use RSA, EC P-256, EC P-384 or Ed25519",
                        info.subject
                    ),
                ));
            }
        }
        if !policy.allowed_signature_algorithms.is_empty()
            && !policy
                .allowed_signature_algorithms
                .contains(&info.signature_algorithm)
        {
            return Err(PkiError::new(
                PkiReason::SignatureAlgorithmNotAllowed,
                format!(
                    "{} is signed with {}; the policy accepts only {}",
                    info.subject,
                    info.signature_algorithm,
                    policy.allowed_signature_algorithms.join(", ")
                ),
            ));
        }
    }

    if policy.require_digital_signature
        && let Some(usages) = &leaf.key_usage
        && !usages.contains(&"digitalSignature")
    {
        return Err(PkiError::new(
            PkiReason::KeyUsageDigitalSignatureMissing,
            format!(
                "{} has keyUsage {} without digitalSignature, so it cannot sign a TLS handshake; \
                 reissue it with digitalSignature",
                leaf.subject,
                usages.join(", ")
            ),
        ));
    }

    if let Some(expected) = &policy.expected_name {
        check_name(end_entity, leaf, expected)?;
    }
    Ok(())
}

fn check_name(
    end_entity: &EndEntityCert<'_>,
    leaf: &CertificateInfo,
    expected: &str,
) -> Result<(), PkiError> {
    let Ok(server_name) = ServerName::try_from(expected) else {
        return Err(PkiError::new(
            PkiReason::IdentityMismatch,
            format!("expected name {expected:?} is neither a DNS name nor an IP address"),
        ));
    };
    if end_entity
        .verify_is_valid_for_subject_name(&server_name)
        .is_ok()
    {
        return Ok(());
    }
    if leaf.san.dns.is_empty()
        && leaf
            .common_names
            .iter()
            .any(|cn| cn.eq_ignore_ascii_case(expected))
    {
        return Err(PkiError::new(
            PkiReason::IdentityCnOnly,
            format!(
                "{expected} is only in the subject CN of {}; names are matched against SANs \
                 only (RFC 6125), so reissue it with a dNSName SAN",
                leaf.subject
            ),
        ));
    }
    let mut presented: Vec<String> = leaf.san.dns.clone();
    presented.extend(leaf.san.ip.iter().cloned());
    Err(PkiError::new(
        PkiReason::IdentityMismatch,
        format!(
            "{expected} is not among the SANs of {} ([{}])",
            leaf.subject,
            presented.join(", ")
        ),
    ))
}

/// Adds the warnings webpki's verdict does not carry.
fn note_usage(leaf: &CertificateInfo, warnings: &mut Vec<Warning>) {
    if leaf.extended_key_usage.is_none() {
        warnings.push(Warning::new(
            "eku-absent",
            "the leaf has no extendedKeyUsage, so it is valid for every purpose; issue it with \
             the one purpose it serves",
        ));
    }
    if leaf.key_usage.is_none() {
        warnings.push(Warning::new(
            "key-usage-absent",
            "the leaf has no keyUsage extension",
        ));
    }
    if leaf.san.is_empty() {
        warnings.push(Warning::new(
            "san-absent",
            "the leaf has no subjectAltName; a name check on it can only fail",
        ));
    }
}

fn no_certificate(what: &str, labels: &[&str]) -> PkiError {
    let seen = if labels.is_empty() {
        "no PEM block".to_owned()
    } else {
        format!("blocks labelled {}", labels.join(", "))
    };
    PkiError::new(
        PkiReason::PemNoCertificate,
        format!("the {what} contains no certificate ({seen}); supply BEGIN CERTIFICATE blocks"),
    )
}

fn ago(seconds: i64) -> String {
    format!("{} ago", span(seconds))
}

/// Formats a non-negative number of seconds as days, hours or minutes.
pub(crate) fn span(seconds: i64) -> String {
    let seconds = seconds.max(0);
    if seconds >= 2 * 86_400 {
        format!("{} days", seconds / 86_400)
    } else if seconds >= 2 * 3600 {
        format!("{} hours", seconds / 3600)
    } else if seconds >= 120 {
        format!("{} minutes", seconds / 60)
    } else {
        format!("{seconds} seconds")
    }
}
