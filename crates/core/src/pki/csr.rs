//! PKCS#10 certificate request checks against the Hub's signing policy.
//!
//! The default policy, [`CsrPolicy::mcm`], repeats the CSR rules that Mojaloop Connection
//! Manager (connection-manager-api v3.4.0) runs on an inbound enrollment before the Hub
//! signs a DFSP's client certificate:
//! - the CSR's self-signature verifies with its own key (MCM's CSR_SIGNATURE_VALID);
//! - the signature algorithm is sha256WithRSAEncryption or sha512WithRSAEncryption
//!   (CSR_SIGNATURE_ALGORITHM);
//! - the RSA modulus has at least 4096 bits (CSR_PUBLIC_KEY_LENGTH_4096, a minimum despite
//!   its name; MCM uses 2048 when its PRIVATE_KEY_LENGTH is set to anything else);
//! - the key is RSA, because MCM's node-forge parser rejects every other key type.
//!
//! MCM also defines a mandatory-subject check but ships it disabled, and PM4ML sends CSRs
//! with an empty subject, so the default requires no subject field. Unlike MCM, every
//! check here rejects: MCM records an INVALID result and still lets an operator sign.

use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use serde::Serialize;
use x509_parser::certification_request::X509CertificationRequest;

use super::inspect::{CsrInfo, KeyDescription, describe_csr, parse_csr};
use super::pem::read_bundle;
use super::{PkiError, PkiReason, PkiVerdict, Warning};

/// The key types a CSR may carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CsrKeyType {
    Rsa,
    Ec,
    Ed25519,
}

/// The Hub's CSR signing policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CsrPolicy {
    /// Smallest RSA modulus accepted, in bits.
    pub min_rsa_bits: u32,
    pub allowed_key_types: Vec<CsrKeyType>,
    /// Signature algorithm names, for example `sha256WithRSAEncryption`.
    pub allowed_signature_algorithms: Vec<String>,
    /// Subject attributes that must be present: any of `CN`, `O`, `OU`, `C`, `ST`, `L`
    /// and `E` (emailAddress).
    pub required_subject_fields: Vec<String>,
}

impl CsrPolicy {
    /// MCM's enabled CSR rules (see the module documentation).
    pub fn mcm() -> Self {
        CsrPolicy {
            min_rsa_bits: 4096,
            allowed_key_types: vec![CsrKeyType::Rsa],
            allowed_signature_algorithms: vec![
                "sha256WithRSAEncryption".to_owned(),
                "sha512WithRSAEncryption".to_owned(),
            ],
            required_subject_fields: Vec::new(),
        }
    }
}

impl Default for CsrPolicy {
    fn default() -> Self {
        CsrPolicy::mcm()
    }
}

/// One rule's outcome, with the MCM validation code it corresponds to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CsrCheck {
    /// MCM's validationCode for the same rule, or our own name where MCM has none.
    pub code: String,
    pub passed: bool,
    pub detail: String,
}

/// The outcome of a CSR check: the first failing rule decides the verdict, and every rule
/// is listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CsrReport {
    #[serde(flatten)]
    pub verdict: PkiVerdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csr: Option<CsrInfo>,
    pub checks: Vec<CsrCheck>,
}

/// Checks a PEM or DER certificate request against `policy`.
pub fn check_csr(input: &[u8], policy: &CsrPolicy) -> CsrReport {
    let rejected = |error: PkiError, warnings: Vec<Warning>| CsrReport {
        verdict: PkiVerdict::rejected(error, warnings),
        csr: None,
        checks: Vec::new(),
    };
    let bundle = match read_bundle(input) {
        Ok(bundle) => bundle,
        Err(error) => return rejected(error, Vec::new()),
    };
    let requests = bundle.certificate_requests();
    let Some(der) = requests.first() else {
        let error = PkiError::new(
            PkiReason::CsrMalformed,
            format!(
                "the input contains no certificate request (labels seen: [{}]); supply a BEGIN \
                 CERTIFICATE REQUEST block",
                bundle.labels().join(", ")
            ),
        );
        return rejected(error, bundle.warnings);
    };
    let mut warnings = bundle.warnings.clone();
    if requests.len() > 1 {
        warnings.push(Warning::new(
            "csr-several",
            format!(
                "the input contains {} certificate requests; the first was checked",
                requests.len()
            ),
        ));
    }
    let request = match parse_csr(der) {
        Ok(request) => request,
        Err(error) => return rejected(error, warnings),
    };
    let info = describe_csr(&request);
    let checks = run_checks(&request, &info, policy);

    let failed = checks.iter().find(|(check, _)| !check.passed);
    let verdict = match failed {
        Some((check, reason)) => {
            PkiVerdict::rejected(PkiError::new(*reason, check.detail.clone()), warnings)
        }
        None => PkiVerdict::valid(
            format!(
                "{} meets the signing policy",
                display_subject(&info.subject)
            ),
            warnings,
        ),
    };
    CsrReport {
        verdict,
        csr: Some(info),
        checks: checks.into_iter().map(|(check, _)| check).collect(),
    }
}

fn run_checks(
    request: &X509CertificationRequest<'_>,
    info: &CsrInfo,
    policy: &CsrPolicy,
) -> Vec<(CsrCheck, PkiReason)> {
    let mut checks = Vec::new();

    let signature = verify_self_signature(request, info);
    checks.push((
        CsrCheck {
            code: "CSR_SIGNATURE_VALID".to_owned(),
            passed: signature.is_ok(),
            detail: signature
                .err()
                .unwrap_or_else(|| "the self-signature verifies".to_owned()),
        },
        PkiReason::CsrSignatureInvalid,
    ));

    let algorithm_allowed = policy
        .allowed_signature_algorithms
        .contains(&info.signature_algorithm);
    checks.push((
        CsrCheck {
            code: "CSR_SIGNATURE_ALGORITHM".to_owned(),
            passed: algorithm_allowed,
            detail: if algorithm_allowed {
                format!("{} is allowed", info.signature_algorithm)
            } else {
                format!(
                    "the CSR is signed with {}; the policy accepts {}, so sign it again with one \
                     of them (openssl req -sha256)",
                    info.signature_algorithm,
                    policy.allowed_signature_algorithms.join(", ")
                )
            },
        },
        PkiReason::CsrSignatureAlgorithmNotAllowed,
    ));

    let key_type = match &info.key {
        KeyDescription::Rsa { .. } => Some(CsrKeyType::Rsa),
        KeyDescription::Ec { .. } => Some(CsrKeyType::Ec),
        KeyDescription::Ed25519 => Some(CsrKeyType::Ed25519),
        KeyDescription::Other { .. } => None,
    };
    let type_allowed = key_type.is_some_and(|kind| policy.allowed_key_types.contains(&kind));
    checks.push((
        CsrCheck {
            code: "CSR_PUBLIC_KEY_TYPE".to_owned(),
            passed: type_allowed,
            detail: if type_allowed {
                format!("{} key", info.key)
            } else {
                format!(
                    "the CSR carries a {} key; the policy accepts {:?} keys (MCM reads only RSA)",
                    info.key, policy.allowed_key_types
                )
            },
        },
        PkiReason::CsrKeyTypeNotAllowed,
    ));

    if let KeyDescription::Rsa { bits } = info.key {
        let long_enough = bits >= policy.min_rsa_bits;
        checks.push((
            CsrCheck {
                code: format!("CSR_PUBLIC_KEY_LENGTH_{}", policy.min_rsa_bits),
                passed: long_enough,
                detail: if long_enough {
                    format!("RSA {bits}-bit key")
                } else {
                    format!(
                        "the CSR's RSA key has {bits} bits; the policy requires at least {}, so \
                         generate a new key (openssl genpkey -algorithm RSA -pkeyopt \
                         rsa_keygen_bits:{})",
                        policy.min_rsa_bits, policy.min_rsa_bits
                    )
                },
            },
            PkiReason::CsrKeyTooSmall,
        ));
    }

    if !policy.required_subject_fields.is_empty() {
        let subject = &request.certification_request_info.subject;
        let missing: Vec<&str> = policy
            .required_subject_fields
            .iter()
            .map(String::as_str)
            .filter(|field| !has_attribute(subject, field))
            .collect();
        checks.push((
            CsrCheck {
                code: "CSR_MANDATORY_DISTINGUISHED_NAME".to_owned(),
                passed: missing.is_empty(),
                detail: if missing.is_empty() {
                    format!("subject has {}", policy.required_subject_fields.join(", "))
                } else {
                    format!(
                        "the subject {} lacks {}; add them to the CSR's subject",
                        display_subject(&info.subject),
                        missing.join(", ")
                    )
                },
            },
            PkiReason::CsrSubjectFieldMissing,
        ));
    }
    checks
}

fn display_subject(subject: &str) -> String {
    if subject.is_empty() {
        "the CSR (empty subject)".to_owned()
    } else {
        subject.to_owned()
    }
}

fn has_attribute(subject: &x509_parser::x509::X509Name<'_>, field: &str) -> bool {
    let oid = match field {
        "CN" => "2.5.4.3",
        "O" => "2.5.4.10",
        "OU" => "2.5.4.11",
        "C" => "2.5.4.6",
        "ST" => "2.5.4.8",
        "L" => "2.5.4.7",
        "E" => "1.2.840.113549.1.9.1",
        _ => return false,
    };
    subject.iter_attributes().any(|attribute| {
        attribute.attr_type().to_id_string() == oid
            && attribute
                .as_str()
                .is_ok_and(|value| !value.trim().is_empty())
    })
}

/// Verifies the CSR's signature over its certificationRequestInfo with the CSR's own key.
/// SHA-1 and 1024-bit RSA are verified too, so that their rejection names the algorithm
/// or the key size instead of a failed signature.
fn verify_self_signature(
    request: &X509CertificationRequest<'_>,
    info: &CsrInfo,
) -> Result<(), String> {
    let spki = &request.certification_request_info.subject_pki;
    let key = spki.subject_public_key.data.as_ref();
    let message = request.certification_request_info.raw;
    let signature_bytes = request.signature_value.data.as_ref();
    let curve = match &info.key {
        KeyDescription::Ec { curve } => curve.as_str(),
        _ => "",
    };
    let algorithm: &dyn VerificationAlgorithm = match (info.signature_algorithm.as_str(), curve) {
        ("sha1WithRSAEncryption", _) => &signature::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
        ("sha256WithRSAEncryption", _) => {
            &signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY
        }
        ("sha384WithRSAEncryption", _) => &signature::RSA_PKCS1_2048_8192_SHA384,
        ("sha512WithRSAEncryption", _) => {
            &signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY
        }
        ("ecdsa-with-SHA256", "P-256") => &signature::ECDSA_P256_SHA256_ASN1,
        ("ecdsa-with-SHA384", "P-256") => &signature::ECDSA_P256_SHA384_ASN1,
        ("ecdsa-with-SHA256", "P-384") => &signature::ECDSA_P384_SHA256_ASN1,
        ("ecdsa-with-SHA384", "P-384") => &signature::ECDSA_P384_SHA384_ASN1,
        ("ED25519", _) => &signature::ED25519,
        (other, _) => {
            return Err(format!(
                "the self-signature uses {other} with a {} key, which cannot be verified here",
                info.key
            ));
        }
    };
    UnparsedPublicKey::new(algorithm, key)
        .verify(message, signature_bytes)
        .map_err(|_| {
            "the self-signature does not verify with the CSR's own key; the CSR was altered \
             after signing, so generate it again"
                .to_owned()
        })
}
