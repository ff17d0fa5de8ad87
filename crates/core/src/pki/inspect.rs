//! Fields of a certificate, CSR or public key that an operator compares during an incident,
//! read with x509-parser.
//!
//! Inspection describes and never decides. A parsed certificate is not a trusted one:
//! [`super::chain`] decides that.

use std::net::IpAddr;

use ring::digest;
use serde::Serialize;
use x509_parser::certificate::X509Certificate;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey as ParsedPublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;

use super::{PkiError, PkiReason};

/// Public key type with its size or curve.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum KeyDescription {
    Rsa { bits: u32 },
    Ec { curve: String },
    Ed25519,
    Other { algorithm: String },
}

impl KeyDescription {
    /// Returns the RSA modulus size in bits, or `None` for other key types.
    pub fn rsa_bits(&self) -> Option<u32> {
        match self {
            KeyDescription::Rsa { bits } => Some(*bits),
            _ => None,
        }
    }
}

impl std::fmt::Display for KeyDescription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyDescription::Rsa { bits } => write!(f, "RSA {bits}-bit"),
            KeyDescription::Ec { curve } => write!(f, "EC {curve}"),
            KeyDescription::Ed25519 => f.write_str("Ed25519"),
            KeyDescription::Other { algorithm } => write!(f, "{algorithm}"),
        }
    }
}

/// Subject alternative names by type (RFC 5280 section 4.2.1.6).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SubjectAltNames {
    pub dns: Vec<String>,
    pub ip: Vec<String>,
    pub uri: Vec<String>,
    pub email: Vec<String>,
}

impl SubjectAltNames {
    /// Reports whether there is no SAN of any type.
    pub fn is_empty(&self) -> bool {
        self.dns.is_empty() && self.ip.is_empty() && self.uri.is_empty() && self.email.is_empty()
    }
}

/// The fields of one certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CertificateInfo {
    /// 1, 2 or 3.
    pub version: u32,
    /// Serial number as colon-separated hex.
    pub serial: String,
    /// Subject DN in RFC 4514 form.
    pub subject: String,
    /// Subject commonName values.
    pub common_names: Vec<String>,
    pub issuer: String,
    pub self_issued: bool,
    /// notBefore and notAfter in unix seconds and RFC 3339.
    pub not_before: i64,
    pub not_after: i64,
    pub not_before_text: String,
    pub not_after_text: String,
    pub key: KeyDescription,
    /// Signature algorithm name, for example `sha256WithRSAEncryption`.
    pub signature_algorithm: String,
    pub san: SubjectAltNames,
    /// basicConstraints cA; `None` when the extension is absent.
    pub is_ca: Option<bool>,
    pub path_len: Option<u32>,
    /// keyUsage bits by RFC 5280 name; `None` when the extension is absent.
    pub key_usage: Option<Vec<&'static str>>,
    /// extendedKeyUsage purposes (`serverAuth`, `clientAuth` or dotted OIDs); `None`
    /// when the extension is absent, which permits every purpose.
    pub extended_key_usage: Option<Vec<String>>,
    /// SHA-256 of the whole DER certificate, colon-separated upper-case hex (as
    /// `openssl x509 -fingerprint -sha256` prints it).
    pub sha256_fingerprint: String,
    /// SHA-256 of the DER SubjectPublicKeyInfo, base64 (the HPKP/Envoy SPKI pin form).
    pub spki_sha256: String,
}

/// The fields of one PKCS#10 certificate request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CsrInfo {
    pub subject: String,
    pub common_names: Vec<String>,
    pub key: KeyDescription,
    pub signature_algorithm: String,
    /// SANs from the extensionRequest attribute.
    pub san: SubjectAltNames,
    pub spki_sha256: String,
}

/// Describes a DER certificate.
///
/// # Errors
/// [`PkiReason::CertMalformed`] when x509-parser rejects the DER, and
/// [`PkiReason::CertTrailingData`] when bytes follow it.
pub fn inspect_certificate(der: &[u8]) -> Result<CertificateInfo, PkiError> {
    let certificate = parse_certificate(der)?;
    Ok(describe_certificate(&certificate, der))
}

/// Parses DER into x509-parser's certificate, rejecting trailing bytes.
pub(crate) fn parse_certificate(der: &[u8]) -> Result<X509Certificate<'_>, PkiError> {
    match X509Certificate::from_der(der) {
        Ok(([], certificate)) => Ok(certificate),
        Ok((rest, _)) => Err(PkiError::new(
            PkiReason::CertTrailingData,
            format!(
                "{} bytes follow the certificate; supply each certificate in its own PEM block",
                rest.len()
            ),
        )),
        Err(error) => Err(PkiError::new(
            PkiReason::CertMalformed,
            format!("the certificate is not valid X.509 DER ({error}); re-export it"),
        )),
    }
}

pub(crate) fn describe_certificate(
    certificate: &X509Certificate<'_>,
    der: &[u8],
) -> CertificateInfo {
    let validity = certificate.validity();
    let not_before = validity.not_before.timestamp();
    let not_after = validity.not_after.timestamp();
    let mut info = CertificateInfo {
        version: certificate.version().0 + 1,
        serial: colon_hex(certificate.raw_serial(), false),
        subject: dn_text(certificate.subject()),
        common_names: common_names(certificate.subject()),
        issuer: dn_text(certificate.issuer()),
        self_issued: certificate.subject().as_raw() == certificate.issuer().as_raw(),
        not_before,
        not_after,
        not_before_text: crate::rfc3339::format(not_before),
        not_after_text: crate::rfc3339::format(not_after),
        key: describe_key(certificate.public_key()),
        signature_algorithm: signature_algorithm_name(
            &certificate.signature_algorithm.algorithm.to_id_string(),
        ),
        san: SubjectAltNames::default(),
        is_ca: None,
        path_len: None,
        key_usage: None,
        extended_key_usage: None,
        sha256_fingerprint: colon_hex(digest::digest(&digest::SHA256, der).as_ref(), true),
        spki_sha256: spki_pin(certificate.public_key()),
    };
    for extension in certificate.extensions() {
        match extension.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(names) => {
                info.san = alt_names(&names.general_names);
            }
            ParsedExtension::BasicConstraints(constraints) => {
                info.is_ca = Some(constraints.ca);
                info.path_len = constraints.path_len_constraint;
            }
            ParsedExtension::KeyUsage(usage) => info.key_usage = Some(key_usage_names(usage.flags)),
            ParsedExtension::ExtendedKeyUsage(usage) => {
                let mut purposes = Vec::new();
                let named = [
                    (usage.server_auth, "serverAuth"),
                    (usage.client_auth, "clientAuth"),
                    (usage.code_signing, "codeSigning"),
                    (usage.email_protection, "emailProtection"),
                    (usage.time_stamping, "timeStamping"),
                    (usage.ocsp_signing, "OCSPSigning"),
                    (usage.any, "anyExtendedKeyUsage"),
                ];
                for (present, name) in named {
                    if present {
                        purposes.push(name.to_owned());
                    }
                }
                purposes.extend(usage.other.iter().map(|oid| oid.to_id_string()));
                info.extended_key_usage = Some(purposes);
            }
            _ => {}
        }
    }
    info
}

/// Describes a DER PKCS#10 certificate request.
///
/// # Errors
/// [`PkiReason::CsrMalformed`] when the DER is not a CSR or bytes follow it.
pub fn inspect_csr(der: &[u8]) -> Result<CsrInfo, PkiError> {
    let request = parse_csr(der)?;
    Ok(describe_csr(&request))
}

pub(crate) fn parse_csr(der: &[u8]) -> Result<X509CertificationRequest<'_>, PkiError> {
    match X509CertificationRequest::from_der(der) {
        Ok(([], request)) => Ok(request),
        Ok((rest, _)) => Err(PkiError::new(
            PkiReason::CsrMalformed,
            format!("{} bytes follow the certificate request", rest.len()),
        )),
        Err(error) => Err(PkiError::new(
            PkiReason::CsrMalformed,
            format!("the input is not a PKCS#10 certificate request ({error})"),
        )),
    }
}

pub(crate) fn describe_csr(request: &X509CertificationRequest<'_>) -> CsrInfo {
    let info = &request.certification_request_info;
    let mut san = SubjectAltNames::default();
    if let Some(extensions) = request.requested_extensions() {
        for extension in extensions {
            if let ParsedExtension::SubjectAlternativeName(names) = extension {
                san = alt_names(&names.general_names);
            }
        }
    }
    CsrInfo {
        subject: dn_text(&info.subject),
        common_names: common_names(&info.subject),
        key: describe_key(&info.subject_pki),
        signature_algorithm: signature_algorithm_name(
            &request.signature_algorithm.algorithm.to_id_string(),
        ),
        san,
        spki_sha256: spki_pin(&info.subject_pki),
    }
}

/// Describes a DER SubjectPublicKeyInfo.
pub fn describe_spki_der(der: &[u8]) -> Option<(KeyDescription, String)> {
    match SubjectPublicKeyInfo::from_der(der) {
        Ok(([], spki)) => Some((describe_key(&spki), spki_pin(&spki))),
        _ => None,
    }
}

pub(crate) fn describe_key(spki: &SubjectPublicKeyInfo<'_>) -> KeyDescription {
    let algorithm = spki.algorithm.algorithm.to_id_string();
    match algorithm.as_str() {
        "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10" => match spki.parsed() {
            Ok(ParsedPublicKey::RSA(rsa)) => KeyDescription::Rsa {
                bits: bit_length(rsa.modulus),
            },
            _ => KeyDescription::Other {
                algorithm: "RSA (unparseable)".to_owned(),
            },
        },
        "1.2.840.10045.2.1" => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|parameters| parameters.as_oid().ok())
                .map(|oid| oid.to_id_string())
                .unwrap_or_default();
            let name = match curve.as_str() {
                "1.2.840.10045.3.1.7" => "P-256".to_owned(),
                "1.3.132.0.34" => "P-384".to_owned(),
                "1.3.132.0.35" => "P-521".to_owned(),
                other => other.to_owned(),
            };
            KeyDescription::Ec { curve: name }
        }
        "1.3.101.112" => KeyDescription::Ed25519,
        "1.2.840.10040.4.1" => KeyDescription::Other {
            algorithm: "DSA".to_owned(),
        },
        other => KeyDescription::Other {
            algorithm: other.to_owned(),
        },
    }
}

/// Returns the exact bit length of a big-endian unsigned integer.
pub(crate) fn bit_length(bytes: &[u8]) -> u32 {
    let significant: &[u8] = match bytes.iter().position(|&b| b != 0) {
        Some(first) => bytes.get(first..).unwrap_or_default(),
        None => &[],
    };
    match significant.first() {
        Some(&top) => (significant.len() as u32 - 1) * 8 + (8 - top.leading_zeros()),
        None => 0,
    }
}

fn spki_pin(spki: &SubjectPublicKeyInfo<'_>) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .encode(digest::digest(&digest::SHA256, spki.raw).as_ref())
}

/// Returns the OpenSSL long name of a signature algorithm OID, or the dotted OID.
pub fn signature_algorithm_name(oid: &str) -> String {
    let name = match oid {
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.3.101.112" => "ED25519",
        "1.2.840.10040.4.3" => "dsa-with-SHA1",
        other => other,
    };
    name.to_owned()
}

/// Formats a distinguished name as x509-parser's `Display` does (`CN=a, O=b`, attributes
/// of one RDN joined by ` + `, in encoded order), without its OID registry: the registry
/// and its hex encoder add about 60 KB to a wasm build. Attribute types outside the
/// table are shown as dotted OIDs, and values that are not strings as upper-case hex of
/// their DER.
pub fn dn_text(name: &x509_parser::x509::X509Name<'_>) -> String {
    let mut out = String::new();
    for (index, rdn) in name.iter().enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        for (position, attribute) in rdn.iter().enumerate() {
            if position > 0 {
                out.push_str(" + ");
            }
            let oid = attribute.attr_type().to_id_string();
            out.push_str(attribute_abbreviation(&oid).unwrap_or(&oid));
            out.push('=');
            out.push_str(&attribute_text(attribute.attr_value()));
        }
    }
    out
}

fn attribute_abbreviation(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "surname",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "title",
        "2.5.4.42" => "givenName",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        "1.2.840.113549.1.9.1" => "Email",
        _ => return None,
    })
}

fn attribute_text(value: &x509_parser::der_parser::asn1_rs::Any<'_>) -> String {
    use x509_parser::der_parser::asn1_rs::Tag;
    match value.tag() {
        Tag::NumericString
        | Tag::VisibleString
        | Tag::PrintableString
        | Tag::GeneralString
        | Tag::ObjectDescriptor
        | Tag::GraphicString
        | Tag::T61String
        | Tag::VideotexString
        | Tag::Utf8String
        | Tag::Ia5String => String::from_utf8_lossy(value.data).into_owned(),
        Tag::BmpString => {
            let units: Vec<u16> = value
                .data
                .chunks_exact(2)
                .map(|pair| {
                    u16::from_be_bytes([
                        pair.first().copied().unwrap_or(0),
                        pair.get(1).copied().unwrap_or(0),
                    ])
                })
                .collect();
            String::from_utf16_lossy(&units)
        }
        _ => value
            .data
            .iter()
            .map(|byte| format!("{byte:02X}"))
            .collect(),
    }
}

fn common_names(name: &x509_parser::x509::X509Name<'_>) -> Vec<String> {
    name.iter_common_name()
        .map(|attribute| match attribute.as_str() {
            Ok(text) => text.to_owned(),
            Err(_) => "(not a string)".to_owned(),
        })
        .collect()
}

fn alt_names(names: &[GeneralName<'_>]) -> SubjectAltNames {
    let mut san = SubjectAltNames::default();
    for name in names {
        match name {
            GeneralName::DNSName(dns) => san.dns.push((*dns).to_owned()),
            GeneralName::URI(uri) => san.uri.push((*uri).to_owned()),
            GeneralName::RFC822Name(email) => san.email.push((*email).to_owned()),
            GeneralName::IPAddress(bytes) => san.ip.push(ip_text(bytes)),
            _ => {}
        }
    }
    san
}

fn ip_text(bytes: &[u8]) -> String {
    if let Ok(octets) = <[u8; 4]>::try_from(bytes) {
        IpAddr::from(octets).to_string()
    } else if let Ok(octets) = <[u8; 16]>::try_from(bytes) {
        IpAddr::from(octets).to_string()
    } else {
        colon_hex(bytes, false)
    }
}

fn key_usage_names(flags: u16) -> Vec<&'static str> {
    const NAMES: [&str; 9] = [
        "digitalSignature",
        "nonRepudiation",
        "keyEncipherment",
        "dataEncipherment",
        "keyAgreement",
        "keyCertSign",
        "cRLSign",
        "encipherOnly",
        "decipherOnly",
    ];
    NAMES
        .iter()
        .enumerate()
        .filter(|(bit, _)| flags & (1 << bit) != 0)
        .map(|(_, name)| *name)
        .collect()
}

fn colon_hex(bytes: &[u8], upper: bool) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (index, byte) in bytes.iter().enumerate() {
        if index > 0 {
            out.push(':');
        }
        if upper {
            out.push_str(&format!("{byte:02X}"));
        } else {
            out.push_str(&format!("{byte:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_length_counts_exact_bits() {
        assert_eq!(bit_length(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bit_length(&[0x01, 0x00]), 9);
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[0, 0]), 0);
    }

    #[test]
    fn key_usage_bits_named() {
        // keyUsage flags in x509-parser count digitalSignature as bit 0.
        assert_eq!(
            key_usage_names(0b10_0001),
            vec!["digitalSignature", "keyCertSign"]
        );
    }
}
