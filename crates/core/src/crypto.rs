//! Signature algorithms, parsed public keys, signing keys and the verifier seam.
//!
//! All signature arithmetic goes through ring. Key formats are decoded with the
//! RustCrypto `der`, `spki`, `pkcs1`, `pkcs8` and `sec1` crates, which contain no
//! cryptography.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use der::asn1::{AnyRef, ObjectIdentifier, OctetStringRef};
use der::{Decode, Encode};
use ring::rand::SystemRandom;
use ring::signature::{
    self as ring_signature, EcdsaKeyPair, RsaEncoding, RsaKeyPair, RsaParameters,
    RsaPublicKeyComponents, UnparsedPublicKey,
};
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};
use zeroize::Zeroizing;

use crate::keys::KeyError;

mod spki_der;

const OID_RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const OID_DSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10040.4.1");
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_ED448: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.113");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
const OID_SECP256K1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.10");

/// Largest RSA modulus ring verifies (ring 0.17 `PUBLIC_KEY_PUBLIC_MODULUS_MAX_LEN`).
pub const RSA_MAX_VERIFY_BITS: u32 = 8192;

/// Smallest RSA modulus ring signs with (ring 0.17 `RsaKeyPair`).
pub const RSA_MIN_SIGNING_BITS: u32 = 2048;

/// Largest RSA modulus ring signs with (ring 0.17 `PRIVATE_KEY_PUBLIC_MODULUS_MAX_BITS`).
pub const RSA_MAX_SIGNING_BITS: u32 = 4096;

/// Largest RSA public exponent ring accepts (ring 0.17 `PublicExponent::MAX`).
const RSA_MAX_EXPONENT: u64 = (1 << 33) - 1;

// ---------------------------------------------------------------------------
// Algorithms and key kinds
// ---------------------------------------------------------------------------

/// JWS signature algorithm (RFC 7518 section 3.1) supported for FSPIOP signatures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
}

impl Algorithm {
    /// Every supported algorithm, in declaration order.
    pub const ALL: [Algorithm; 8] = [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::ES256,
        Algorithm::ES384,
    ];

    /// Looks up an algorithm by its exact, case-sensitive JOSE `alg` name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.name() == name)
    }

    /// Returns the JOSE `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
        }
    }

    /// Returns the type of key this algorithm signs with.
    pub fn key_type(self) -> KeyType {
        match self {
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => KeyType::Rsa,
            Algorithm::ES256 | Algorithm::ES384 => KeyType::Ec,
        }
    }

    /// Returns the length of a fixed-width `r || s` ECDSA signature, or `None` for RSA.
    pub fn ecdsa_signature_len(self) -> Option<usize> {
        self.curve().map(Curve::signature_len)
    }

    /// Returns the curve an ECDSA algorithm requires, or `None` for RSA.
    pub fn curve(self) -> Option<Curve> {
        match self {
            Algorithm::ES256 => Some(Curve::P256),
            Algorithm::ES384 => Some(Curve::P384),
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => None,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Key type, as in the JWK `kty` member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyType {
    Rsa,
    Ec,
}

/// NIST curve of an EC key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Curve {
    P256,
    P384,
}

impl Curve {
    /// Returns the JWK `crv` name ("P-256" or "P-384").
    pub fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
        }
    }

    /// Returns the curve for a JWK `crv` name.
    pub fn from_jwk_name(name: &str) -> Option<Self> {
        match name {
            "P-256" => Some(Curve::P256),
            "P-384" => Some(Curve::P384),
            _ => None,
        }
    }

    /// Returns the length in bytes of one field element (a coordinate or a scalar).
    pub fn coordinate_len(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
        }
    }

    /// Returns the length in bytes of an uncompressed SEC1 point (`0x04 || x || y`).
    pub fn point_len(self) -> usize {
        1 + 2 * self.coordinate_len()
    }

    fn signature_len(self) -> usize {
        2 * self.coordinate_len()
    }

    fn oid(self) -> ObjectIdentifier {
        match self {
            Curve::P256 => OID_P256,
            Curve::P384 => OID_P384,
        }
    }

    fn from_oid(oid: ObjectIdentifier) -> Result<Self, KeyError> {
        match oid {
            OID_P256 => Ok(Curve::P256),
            OID_P384 => Ok(Curve::P384),
            OID_P521 => Err(KeyError::UnsupportedCurve(format!("P-521 ({oid})"))),
            OID_SECP256K1 => Err(KeyError::UnsupportedCurve(format!("secp256k1 ({oid})"))),
            other => Err(KeyError::UnsupportedCurve(other.to_string())),
        }
    }
}

impl fmt::Display for Curve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Key type with its size or curve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// RSA key; `bits` is the exact bit length of the modulus.
    Rsa {
        bits: u32,
    },
    Ec(Curve),
}

impl KeyKind {
    /// Returns the key type without size or curve.
    pub fn key_type(self) -> KeyType {
        match self {
            KeyKind::Rsa { .. } => KeyType::Rsa,
            KeyKind::Ec(_) => KeyType::Ec,
        }
    }
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyKind::Rsa { bits } => write!(f, "RSA {bits}-bit"),
            KeyKind::Ec(curve) => write!(f, "EC {curve}"),
        }
    }
}

// ---------------------------------------------------------------------------
// Public keys
// ---------------------------------------------------------------------------

/// A parsed public key ready for verification. Parsing happens once, here.
///
/// Every constructor re-encodes the key as a canonical SubjectPublicKeyInfo, so one
/// key gets the same `spki_der` and `kid` whatever format it came in.
#[derive(Clone)]
pub struct PublicKey {
    kind: KeyKind,
    spki_der: Vec<u8>,
    kid: String,
    material: KeyMaterial,
}

/// Key bytes in the form ring's verification functions take.
#[derive(Clone)]
enum KeyMaterial {
    /// Modulus and exponent, big-endian without leading zeros.
    Rsa(RsaPublicKeyComponents<Vec<u8>>),
    /// Uncompressed SEC1 point.
    Ec(Vec<u8>),
}

impl PublicKey {
    /// Parses a DER-encoded SubjectPublicKeyInfo holding an RSA (`rsaEncryption`) or
    /// EC P-256/P-384 (`id-ecPublicKey`) key.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        let spki = SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|err| KeyError::InvalidDer(format!("SubjectPublicKeyInfo: {err}")))?;
        let key_bytes = spki.subject_public_key.as_bytes().ok_or_else(|| {
            KeyError::InvalidDer("SubjectPublicKeyInfo: key BIT STRING has unused bits".into())
        })?;

        match spki.algorithm.oid {
            OID_RSA_ENCRYPTION => {
                check_rsa_parameters(&spki.algorithm)?;
                Self::from_pkcs1_der(key_bytes)
            }
            OID_EC_PUBLIC_KEY => {
                let curve = curve_of(&spki.algorithm)?;
                Self::from_ec_point(curve, key_bytes)
            }
            other => Err(unsupported_algorithm(other)),
        }
    }

    /// Parses a DER-encoded PKCS #1 RSAPublicKey.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, KeyError> {
        let key = pkcs1::RsaPublicKeyRef::from_der(der)
            .map_err(|err| KeyError::InvalidDer(format!("RSAPublicKey (PKCS #1): {err}")))?;
        Self::from_rsa_components(key.modulus.as_bytes(), key.public_exponent.as_bytes())
    }

    /// Builds an RSA key from its big-endian modulus and public exponent.
    ///
    /// Leading zero bytes are ignored. As ring requires, the modulus must be odd and
    /// at most 8192 bits, and the exponent odd and between 3 and 2^33 - 1.
    pub fn from_rsa_components(modulus: &[u8], exponent: &[u8]) -> Result<Self, KeyError> {
        let n = strip_leading_zeros(modulus);
        let e = strip_leading_zeros(exponent);

        let bits = rsa_modulus_bits(n)?;
        check_rsa_exponent(e)?;

        let spki_der = spki_der::rsa(n, e, OID_RSA_ENCRYPTION);

        let material = KeyMaterial::Rsa(RsaPublicKeyComponents {
            n: n.to_vec(),
            e: e.to_vec(),
        });
        Ok(Self::new(KeyKind::Rsa { bits }, spki_der, material))
    }

    /// Builds an EC key from an uncompressed SEC1 point (`0x04 || x || y`).
    ///
    /// NOTE: whether the point lies on the curve is only checked by ring at
    /// verification, so a key with an off-curve point parses but fails every
    /// verification as `BadSignature`.
    pub fn from_ec_point(curve: Curve, point: &[u8]) -> Result<Self, KeyError> {
        match point.first() {
            Some(0x04) if point.len() == curve.point_len() => {}
            Some(0x02 | 0x03) => {
                return Err(KeyError::InvalidKey(format!(
                    "{curve} public key is a compressed point, which ring does not accept; \
                     export it uncompressed (for example `openssl ec -pubin -conv_form uncompressed`)"
                )));
            }
            _ => {
                return Err(KeyError::InvalidKey(format!(
                    "{curve} public key must be an uncompressed point of {} bytes starting \
                     with 0x04, but it is {} bytes",
                    curve.point_len(),
                    point.len()
                )));
            }
        }

        let spki_der = spki_der::ec(point, OID_EC_PUBLIC_KEY, curve.oid());
        Ok(Self::new(
            KeyKind::Ec(curve),
            spki_der,
            KeyMaterial::Ec(point.to_vec()),
        ))
    }

    fn new(kind: KeyKind, spki_der: Vec<u8>, material: KeyMaterial) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, &spki_der);
        let kid = URL_SAFE_NO_PAD.encode(digest.as_ref());
        Self {
            kind,
            spki_der,
            kid,
            material,
        }
    }

    /// Returns the key type with its size or curve.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// Returns the canonical DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// Returns the key id: base64url (no padding) of SHA-256 over the canonical
    /// SubjectPublicKeyInfo DER.
    ///
    /// This is not the RFC 7638 JWK thumbprint. It matches
    /// `openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary` in base64url.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Checks that the key type, and for ECDSA the curve, is the one `alg` needs.
    ///
    /// RSA key size is not checked here, because the minimum depends on the
    /// verifier; see [`VerifyError::RsaKeyTooSmall`].
    pub fn fits(&self, alg: Algorithm) -> Result<(), VerifyError> {
        let fits = match (self.kind, alg.curve()) {
            (KeyKind::Rsa { .. }, None) => true,
            (KeyKind::Ec(curve), Some(needed)) => curve == needed,
            _ => false,
        };
        if fits {
            Ok(())
        } else {
            Err(VerifyError::KeyAlgorithmMismatch {
                alg,
                key: self.kind,
            })
        }
    }

    /// Encodes the key as an SPKI `PUBLIC KEY` PEM with 64-character lines and a
    /// final newline.
    pub fn to_pem(&self) -> String {
        encode_pem("PUBLIC KEY", &self.spki_der)
    }

    /// Encodes the key as an RFC 7517 JWK JSON object with `kid` set to [`Self::kid`].
    pub fn to_jwk(&self) -> String {
        // Every value is base64url or a fixed name, so none needs JSON escaping.
        match &self.material {
            KeyMaterial::Rsa(components) => format!(
                r#"{{"kty":"RSA","n":"{}","e":"{}","kid":"{}"}}"#,
                URL_SAFE_NO_PAD.encode(&components.n),
                URL_SAFE_NO_PAD.encode(&components.e),
                self.kid
            ),
            KeyMaterial::Ec(point) => {
                let coordinates = point.get(1..).unwrap_or_default();
                let (x, y) = coordinates.split_at(coordinates.len() / 2);
                let crv = match self.kind {
                    KeyKind::Ec(curve) => curve.name(),
                    KeyKind::Rsa { .. } => "",
                };
                format!(
                    r#"{{"kty":"EC","crv":"{}","x":"{}","y":"{}","kid":"{}"}}"#,
                    crv,
                    URL_SAFE_NO_PAD.encode(x),
                    URL_SAFE_NO_PAD.encode(y),
                    self.kid
                )
            }
        }
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki_der == other.spki_der
    }
}

impl Eq for PublicKey {}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("kind", &self.kind)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

fn check_rsa_parameters(algorithm: &AlgorithmIdentifierRef<'_>) -> Result<(), KeyError> {
    // RFC 3279 section 2.3.1 requires NULL parameters, but some encoders omit them,
    // so absent parameters are accepted too.
    match algorithm.parameters {
        None => Ok(()),
        Some(parameters) if parameters.is_null() => Ok(()),
        Some(_) => Err(KeyError::InvalidDer(
            "rsaEncryption AlgorithmIdentifier parameters must be NULL".into(),
        )),
    }
}

fn curve_of(algorithm: &AlgorithmIdentifierRef<'_>) -> Result<Curve, KeyError> {
    let oid = algorithm.parameters_oid().map_err(|err| {
        KeyError::InvalidDer(format!(
            "id-ecPublicKey parameters must name a curve OID: {err}"
        ))
    })?;
    Curve::from_oid(oid)
}

fn unsupported_algorithm(oid: ObjectIdentifier) -> KeyError {
    let name = match oid {
        OID_RSASSA_PSS => "RSASSA-PSS-restricted RSA",
        OID_ED25519 => "Ed25519",
        OID_ED448 => "Ed448",
        OID_DSA => "DSA",
        _ => "unknown",
    };
    KeyError::UnsupportedKeyType(format!("{name} key (algorithm OID {oid})"))
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

fn rsa_modulus_bits(n: &[u8]) -> Result<u32, KeyError> {
    let (Some(&first), Some(&last)) = (n.first(), n.last()) else {
        return Err(KeyError::InvalidKey("RSA modulus is zero".into()));
    };
    if last & 1 == 0 {
        return Err(KeyError::InvalidKey("RSA modulus is even".into()));
    }
    let max_len = (RSA_MAX_VERIFY_BITS / 8) as usize;
    if n.len() > max_len {
        return Err(KeyError::RsaKeyTooLarge {
            bits: rsa_bit_length(n.len(), first),
            max: RSA_MAX_VERIFY_BITS,
        });
    }
    Ok(rsa_bit_length(n.len(), first))
}

fn rsa_bit_length(len: usize, first: u8) -> u32 {
    let len = u32::try_from(len).unwrap_or(u32::MAX / 16);
    (len - 1) * 8 + (8 - first.leading_zeros())
}

fn check_rsa_exponent(e: &[u8]) -> Result<(), KeyError> {
    if e.len() > 8 {
        return Err(KeyError::InvalidKey(format!(
            "RSA public exponent is {} bytes; ring accepts at most 2^33 - 1",
            e.len()
        )));
    }
    let value = e.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    if !(3..=RSA_MAX_EXPONENT).contains(&value) || value % 2 == 0 {
        return Err(KeyError::InvalidKey(format!(
            "RSA public exponent {value} is invalid; it must be odd and between 3 and 2^33 - 1"
        )));
    }
    Ok(())
}

fn encoding_error(err: der::Error) -> KeyError {
    KeyError::InvalidKey(format!("re-encoding the key as DER failed: {err}"))
}

// ---------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------

/// Reason a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// The key type or curve is not the one the algorithm needs.
    KeyAlgorithmMismatch { alg: Algorithm, key: KeyKind },
    /// The signature has the wrong length: not the fixed `r || s` width for ECDSA,
    /// or not the modulus length for RSA.
    SignatureLength {
        alg: Algorithm,
        expected: usize,
        actual: usize,
    },
    /// The signature does not match the message under this key.
    BadSignature,
    /// The RSA modulus is shorter than the verifier accepts for this algorithm.
    RsaKeyTooSmall {
        alg: Algorithm,
        bits: u32,
        min_bits: u32,
    },
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::KeyAlgorithmMismatch { alg, key } => {
                let needed = match alg.curve() {
                    Some(curve) => format!("an EC {curve} key"),
                    None => "an RSA key".to_string(),
                };
                write!(
                    f,
                    "{alg} needs {needed}, but the key is {key}; check the alg in the protected \
                     header against the key registered for the signer"
                )
            }
            VerifyError::SignatureLength {
                alg,
                expected,
                actual,
            } => {
                write!(f, "{alg} signature is {actual} bytes, expected {expected}")?;
                if alg.key_type() == KeyType::Ec {
                    f.write_str(
                        "; JWS ECDSA signatures are fixed-width r || s (RFC 7518 section 3.4), \
                         not ASN.1 DER",
                    )?;
                } else {
                    f.write_str(" (the modulus length)")?;
                }
                Ok(())
            }
            VerifyError::BadSignature => {
                f.write_str("signature does not match the signed content under this key")
            }
            VerifyError::RsaKeyTooSmall {
                alg,
                bits,
                min_bits,
            } => write!(
                f,
                "RSA key is {bits} bits, but {alg} verification needs at least {min_bits} bits"
            ),
        }
    }
}

impl std::error::Error for VerifyError {}

/// The seam through which signature arithmetic is done, with ring as the default.
/// Other engines (node:crypto, WebCrypto, Envoy's foreign function) implement it later.
pub trait SignatureVerifier {
    /// Verifies `signature` over `message`.
    ///
    /// Implementations check [`PublicKey::fits`] first and the signature length
    /// second, so those errors do not depend on the engine.
    fn verify(
        &self,
        key: &PublicKey,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), VerifyError>;
}

/// [`SignatureVerifier`] backed by ring.
///
/// RS256 and RS512 accept RSA keys from 1024 bits, because the Mojaloop SDK
/// accepts them. RS384 and PS* need 2048 bits, because ring 0.17 has no 1024-bit
/// parameters for them. Any stricter size policy belongs to the caller.
#[derive(Clone, Copy, Debug, Default)]
pub struct RingVerifier;

impl SignatureVerifier for RingVerifier {
    fn verify(
        &self,
        key: &PublicKey,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), VerifyError> {
        precheck(key, alg, signature)?;
        match (&key.material, key.kind) {
            (KeyMaterial::Rsa(components), KeyKind::Rsa { bits }) => {
                verify_rsa(components, bits, alg, message, signature)
            }
            (KeyMaterial::Ec(point), KeyKind::Ec(curve)) => {
                verify_ecdsa(point, curve, alg, message, signature)
            }
            // Constructors always pair RSA material with an RSA kind.
            _ => Err(VerifyError::KeyAlgorithmMismatch { alg, key: key.kind }),
        }
    }
}

/// Runs the checks every engine must make before the arithmetic, so that a verdict
/// does not depend on which engine computes the signature: key type and curve, the
/// RSA modulus size ring accepts for `alg` (1024 or 2048 to 8192 bits), and the
/// signature length (the modulus length for RSA, `r || s` for ECDSA).
///
/// # Errors
/// The [`VerifyError`] ring would give for the same input, [`VerifyError::BadSignature`]
/// for an RSA modulus over 8192 bits.
pub fn precheck(key: &PublicKey, alg: Algorithm, signature: &[u8]) -> Result<(), VerifyError> {
    key.fits(alg)?;
    match (&key.material, key.kind) {
        (KeyMaterial::Rsa(components), KeyKind::Rsa { bits }) => {
            let Some((_, min_bits)) = rsa_verification_parameters(alg) else {
                return Err(VerifyError::KeyAlgorithmMismatch { alg, key: key.kind });
            };
            // ring compares the modulus length rounded up to whole bytes with its bounds.
            let modulus_len = components.n.len();
            let rounded_bits = u32::try_from(modulus_len * 8).unwrap_or(u32::MAX);
            if rounded_bits < min_bits {
                return Err(VerifyError::RsaKeyTooSmall {
                    alg,
                    bits,
                    min_bits,
                });
            }
            if rounded_bits > 8192 {
                return Err(VerifyError::BadSignature);
            }
            if signature.len() != modulus_len {
                return Err(VerifyError::SignatureLength {
                    alg,
                    expected: modulus_len,
                    actual: signature.len(),
                });
            }
            Ok(())
        }
        (KeyMaterial::Ec(_), KeyKind::Ec(curve)) => {
            let expected = curve.signature_len();
            if signature.len() != expected {
                return Err(VerifyError::SignatureLength {
                    alg,
                    expected,
                    actual: signature.len(),
                });
            }
            Ok(())
        }
        _ => Err(VerifyError::KeyAlgorithmMismatch { alg, key: key.kind }),
    }
}

/// Returns ring's parameters for an RSA algorithm and the smallest modulus they accept.
fn rsa_verification_parameters(alg: Algorithm) -> Option<(&'static RsaParameters, u32)> {
    match alg {
        Algorithm::RS256 => Some((
            &ring_signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
            1024,
        )),
        Algorithm::RS384 => Some((&ring_signature::RSA_PKCS1_2048_8192_SHA384, 2048)),
        Algorithm::RS512 => Some((
            &ring_signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
            1024,
        )),
        Algorithm::PS256 => Some((&ring_signature::RSA_PSS_2048_8192_SHA256, 2048)),
        Algorithm::PS384 => Some((&ring_signature::RSA_PSS_2048_8192_SHA384, 2048)),
        Algorithm::PS512 => Some((&ring_signature::RSA_PSS_2048_8192_SHA512, 2048)),
        Algorithm::ES256 | Algorithm::ES384 => None,
    }
}

fn verify_rsa(
    components: &RsaPublicKeyComponents<Vec<u8>>,
    bits: u32,
    alg: Algorithm,
    message: &[u8],
    signature: &[u8],
) -> Result<(), VerifyError> {
    let Some((parameters, min_bits)) = rsa_verification_parameters(alg) else {
        return Err(VerifyError::KeyAlgorithmMismatch {
            alg,
            key: KeyKind::Rsa { bits },
        });
    };

    // ring compares the modulus length rounded up to whole bytes with its minimum.
    let modulus_len = components.n.len();
    let rounded_bits = u32::try_from(modulus_len * 8).unwrap_or(u32::MAX);
    if rounded_bits < min_bits {
        return Err(VerifyError::RsaKeyTooSmall {
            alg,
            bits,
            min_bits,
        });
    }

    if signature.len() != modulus_len {
        return Err(VerifyError::SignatureLength {
            alg,
            expected: modulus_len,
            actual: signature.len(),
        });
    }

    // NOTE: ring 0.17 has no public type that keeps a prepared RSA modulus, so every
    // call repeats the modulus setup (R^2 mod n). Only the DER parsing is saved.
    components
        .verify(parameters, message, signature)
        .map_err(|_| VerifyError::BadSignature)
}

fn verify_ecdsa(
    point: &[u8],
    curve: Curve,
    alg: Algorithm,
    message: &[u8],
    signature: &[u8],
) -> Result<(), VerifyError> {
    let expected = curve.signature_len();
    if signature.len() != expected {
        return Err(VerifyError::SignatureLength {
            alg,
            expected,
            actual: signature.len(),
        });
    }

    let algorithm: &'static ring_signature::EcdsaVerificationAlgorithm = match curve {
        Curve::P256 => &ring_signature::ECDSA_P256_SHA256_FIXED,
        Curve::P384 => &ring_signature::ECDSA_P384_SHA384_FIXED,
    };
    // NOTE: ring 0.17 decodes and validates the point on every call; it has no
    // public type that keeps a parsed ECDSA public key.
    UnparsedPublicKey::new(algorithm, point)
        .verify(message, signature)
        .map_err(|_| VerifyError::BadSignature)
}

// ---------------------------------------------------------------------------
// Private keys and signing
// ---------------------------------------------------------------------------

/// A private key decoded far enough to derive its public half and load it into ring.
pub(crate) struct DecodedPrivateKey {
    pub(crate) public: PublicKey,
    pub(crate) secret: SecretDer,
}

/// The secret half of a private key, in the form signing needs.
pub(crate) enum SecretDer {
    /// PKCS #1 RSAPrivateKey, for `RsaKeyPair::from_der`.
    RsaPkcs1(Zeroizing<Vec<u8>>),
    /// The private scalar and uncompressed public point, which [`ec_pkcs8`] turns
    /// into the document `EcdsaKeyPair::from_pkcs8` requires.
    Ec {
        curve: Curve,
        scalar: Zeroizing<Vec<u8>>,
        point: Vec<u8>,
    },
}

/// Decodes the DER body of a `PRIVATE KEY` (PKCS #8), `RSA PRIVATE KEY` (PKCS #1)
/// or `EC PRIVATE KEY` (SEC1) PEM block.
pub(crate) fn decode_private_key(label: &str, der: &[u8]) -> Result<DecodedPrivateKey, KeyError> {
    match label {
        "RSA PRIVATE KEY" => decode_rsa_private_key(der),
        "EC PRIVATE KEY" => decode_sec1_private_key(der),
        "PRIVATE KEY" => decode_pkcs8_private_key(der),
        other => Err(KeyError::NotPrivateKey {
            label: other.to_string(),
        }),
    }
}

fn decode_rsa_private_key(der: &[u8]) -> Result<DecodedPrivateKey, KeyError> {
    let key = pkcs1::RsaPrivateKeyRef::from_der(der)
        .map_err(|err| KeyError::InvalidDer(format!("RSAPrivateKey (PKCS #1): {err}")))?;
    let public =
        PublicKey::from_rsa_components(key.modulus.as_bytes(), key.public_exponent.as_bytes())?;
    Ok(DecodedPrivateKey {
        public,
        secret: SecretDer::RsaPkcs1(Zeroizing::new(der.to_vec())),
    })
}

fn decode_pkcs8_private_key(der: &[u8]) -> Result<DecodedPrivateKey, KeyError> {
    let info = pkcs8::PrivateKeyInfoRef::from_der(der)
        .map_err(|err| KeyError::InvalidDer(format!("PrivateKeyInfo (PKCS #8): {err}")))?;
    let private_key = info.private_key.as_bytes();

    match info.algorithm.oid {
        OID_RSA_ENCRYPTION => decode_rsa_private_key(private_key),
        OID_EC_PUBLIC_KEY => {
            let curve = curve_of(&info.algorithm)?;
            let ec_key = sec1::EcPrivateKey::from_der(private_key)
                .map_err(|err| KeyError::InvalidDer(format!("ECPrivateKey (SEC1): {err}")))?;
            if let Some(inner) = ec_key.parameters.and_then(|p| p.named_curve())
                && inner != curve.oid()
            {
                return Err(KeyError::InvalidKey(format!(
                    "PKCS #8 key names curve {curve}, but its ECPrivateKey names {inner}"
                )));
            }
            // PKCS #8 v2 may carry the public key outside the ECPrivateKey.
            let outer_point = info.public_key.and_then(|bits| bits.as_bytes());
            let point = ec_key.public_key.or(outer_point);
            ec_private_key(curve, ec_key.private_key, point)
        }
        other => Err(unsupported_algorithm(other)),
    }
}

fn decode_sec1_private_key(der: &[u8]) -> Result<DecodedPrivateKey, KeyError> {
    let ec_key = sec1::EcPrivateKey::from_der(der)
        .map_err(|err| KeyError::InvalidDer(format!("ECPrivateKey (SEC1): {err}")))?;
    let Some(curve_oid) = ec_key.parameters.and_then(|p| p.named_curve()) else {
        return Err(KeyError::InvalidKey(
            "EC PRIVATE KEY does not name its curve (the [0] parameters field is missing)".into(),
        ));
    };
    let curve = Curve::from_oid(curve_oid)?;
    ec_private_key(curve, ec_key.private_key, ec_key.public_key)
}

/// Checks an EC private key and keeps its parts for [`ec_pkcs8`].
fn ec_private_key(
    curve: Curve,
    scalar: &[u8],
    point: Option<&[u8]>,
) -> Result<DecodedPrivateKey, KeyError> {
    // ring 0.17 cannot compute the public point from the scalar through its public API.
    let point = point.ok_or(KeyError::MissingEcPublicKey)?;
    let public = PublicKey::from_ec_point(curve, point)?;
    if scalar.len() != curve.coordinate_len() {
        return Err(KeyError::InvalidKey(format!(
            "{curve} private scalar is {} bytes, expected {}",
            scalar.len(),
            curve.coordinate_len()
        )));
    }

    Ok(DecodedPrivateKey {
        public,
        secret: SecretDer::Ec {
            curve,
            scalar: Zeroizing::new(scalar.to_vec()),
            point: point.to_vec(),
        },
    })
}

/// Rebuilds an EC private key as the PKCS #8 v1 document ring loads.
///
/// Only signing needs this, so parsing a public key from a private key PEM does not
/// link the DER encoders.
fn ec_pkcs8(curve: Curve, scalar: &[u8], point: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let ec_private_key = Zeroizing::new(
        sec1::EcPrivateKey {
            private_key: scalar,
            parameters: None,
            public_key: Some(point),
        }
        .to_der()
        .map_err(encoding_error)?,
    );
    let curve_oid = curve.oid();
    let pkcs8 = pkcs8::PrivateKeyInfoRef {
        algorithm: AlgorithmIdentifierRef {
            oid: OID_EC_PUBLIC_KEY,
            parameters: Some(AnyRef::from(&curve_oid)),
        },
        private_key: OctetStringRef::new(&ec_private_key).map_err(encoding_error)?,
        public_key: None,
    }
    .to_der()
    .map_err(encoding_error)?;
    Ok(Zeroizing::new(pkcs8))
}

/// Reason signing failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignError {
    /// The key type or curve is not the one the algorithm needs.
    KeyAlgorithmMismatch { alg: Algorithm, key: KeyKind },
    /// ring reported an error while signing.
    Failed { alg: Algorithm },
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignError::KeyAlgorithmMismatch { alg, key } => write!(
                f,
                "cannot sign with {alg} using a {key} key; choose an algorithm that fits the key"
            ),
            SignError::Failed { alg } => write!(f, "{alg} signing failed in ring"),
        }
    }
}

impl std::error::Error for SignError {}

/// A private key loaded into ring for signing, with its public half.
pub struct SigningKey {
    secret: SigningSecret,
    public: PublicKey,
    sdk_algorithm: Algorithm,
    rng: SystemRandom,
}

enum SigningSecret {
    Rsa(RsaKeyPair),
    /// Bound to the fixed-width ECDSA algorithm of its curve.
    Ec(EcdsaKeyPair),
}

impl SigningKey {
    /// Loads a private key from a PKCS #8 `PRIVATE KEY` (RSA, EC P-256 or P-384),
    /// PKCS #1 `RSA PRIVATE KEY` or SEC1 `EC PRIVATE KEY` PEM.
    ///
    /// The PEM repairs of [`crate::keys::parse_public_key`] apply here too.
    /// RSA keys must be 2048 to 4096 bits, because ring signs with no others.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let block = crate::keys::decode_pem(pem)?;
        let decoded = decode_private_key(&block.label, &block.der)?;

        let secret = match &decoded.secret {
            SecretDer::RsaPkcs1(der) => {
                if let KeyKind::Rsa { bits } = decoded.public.kind()
                    && !(RSA_MIN_SIGNING_BITS..=RSA_MAX_SIGNING_BITS).contains(&bits)
                {
                    return Err(KeyError::UnsupportedSigningKeySize {
                        bits,
                        min: RSA_MIN_SIGNING_BITS,
                        max: RSA_MAX_SIGNING_BITS,
                    });
                }
                let pair = RsaKeyPair::from_der(der).map_err(|err| {
                    KeyError::InvalidKey(format!("ring rejected the RSA private key: {err}"))
                })?;
                SigningSecret::Rsa(pair)
            }
            SecretDer::Ec {
                curve,
                scalar,
                point,
            } => {
                let algorithm = match curve {
                    Curve::P256 => &ring_signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    Curve::P384 => &ring_signature::ECDSA_P384_SHA384_FIXED_SIGNING,
                };
                let der = ec_pkcs8(*curve, scalar, point)?;
                let pair = EcdsaKeyPair::from_pkcs8(algorithm, &der, &SystemRandom::new())
                    .map_err(|err| {
                        KeyError::InvalidKey(format!("ring rejected the EC private key: {err}"))
                    })?;
                SigningSecret::Ec(pair)
            }
        };

        Ok(Self {
            secret,
            public: decoded.public,
            sdk_algorithm: sdk_algorithm_for_pem(pem),
            // NOTE: on wasm32-unknown-unknown, SystemRandom needs getrandom's `js`
            // feature, which this crate does not enable yet.
            rng: SystemRandom::new(),
        })
    }

    /// Returns the algorithm the Mojaloop SDK signer picks for this PEM.
    ///
    /// The SDK picks `ES256` when the PEM text contains `BEGIN EC ` and `RS256`
    /// otherwise. So a PKCS #8 `PRIVATE KEY` holding an EC key gets `RS256`, and a
    /// SEC1 P-384 key gets `ES256`. Signing with either returns a mismatch error.
    pub fn sdk_algorithm(&self) -> Algorithm {
        self.sdk_algorithm
    }

    /// Signs `message` with `alg`.
    ///
    /// RS* signatures are deterministic PKCS #1 v1.5 and byte-identical to OpenSSL's
    /// (and so Node's). PS* signatures use a random salt as long as the hash.
    /// ES* signatures are fixed-width `r || s` with ring's hedged nonces.
    pub fn sign(&self, alg: Algorithm, message: &[u8]) -> Result<Vec<u8>, SignError> {
        let mismatch = SignError::KeyAlgorithmMismatch {
            alg,
            key: self.public.kind(),
        };
        if self.public.fits(alg).is_err() {
            return Err(mismatch);
        }

        match &self.secret {
            SigningSecret::Rsa(pair) => {
                let Some(encoding) = rsa_signing_encoding(alg) else {
                    return Err(mismatch);
                };
                let mut signature = vec![0; pair.public().modulus_len()];
                pair.sign(encoding, &self.rng, message, &mut signature)
                    .map_err(|_| SignError::Failed { alg })?;
                Ok(signature)
            }
            SigningSecret::Ec(pair) => pair
                .sign(&self.rng, message)
                .map(|signature| signature.as_ref().to_vec())
                .map_err(|_| SignError::Failed { alg }),
        }
    }

    /// Returns the public half.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kind", &self.public.kind())
            .field("kid", &self.public.kid())
            .field("sdk_algorithm", &self.sdk_algorithm)
            .finish_non_exhaustive()
    }
}

fn sdk_algorithm_for_pem(pem: &str) -> Algorithm {
    if pem.contains("BEGIN EC ") {
        Algorithm::ES256
    } else {
        Algorithm::RS256
    }
}

fn rsa_signing_encoding(alg: Algorithm) -> Option<&'static dyn RsaEncoding> {
    match alg {
        Algorithm::RS256 => Some(&ring_signature::RSA_PKCS1_SHA256),
        Algorithm::RS384 => Some(&ring_signature::RSA_PKCS1_SHA384),
        Algorithm::RS512 => Some(&ring_signature::RSA_PKCS1_SHA512),
        Algorithm::PS256 => Some(&ring_signature::RSA_PSS_SHA256),
        Algorithm::PS384 => Some(&ring_signature::RSA_PSS_SHA384),
        Algorithm::PS512 => Some(&ring_signature::RSA_PSS_SHA512),
        Algorithm::ES256 | Algorithm::ES384 => None,
    }
}

/// Throwaway test keys, generated with OpenSSL 3 for tests only.
/// Encodes DER as a PEM block (RFC 7468 §2): base64 in 64-character lines between
/// `BEGIN` and `END` markers, with a final newline.
pub fn encode_pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut pem = String::with_capacity(body.len() + body.len() / 64 + 2 * label.len() + 40);
    pem.push_str("-----BEGIN ");
    pem.push_str(label);
    pem.push_str("-----\n");
    for (index, character) in body.chars().enumerate() {
        if index > 0 && index % 64 == 0 {
            pem.push('\n');
        }
        pem.push(character);
    }
    pem.push_str("\n-----END ");
    pem.push_str(label);
    pem.push_str("-----\n");
    pem
}

impl serde::Serialize for Algorithm {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Algorithm {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Algorithm::from_name(&name).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown JWS algorithm {name:?}; use RS256, RS384, RS512, PS256, PS384, PS512, ES256 or ES384"
            ))
        })
    }
}

#[cfg(test)]
pub(crate) mod test_keys {
    /// 2048-bit RSA private key, PKCS #1.
    pub(crate) const RSA2048_PKCS1_PRIVATE: &str = "\
-----BEGIN RSA PRIVATE KEY-----\n\
MIIEpAIBAAKCAQEA7S/RHT0Me87bwymdiu0nj8MvZ6So95P8E1+xmitdNd6qqKW7\n\
jnV0hJWvb9Xn3MPKIX7kznDNTwSwbAGEJ6MdxDA2Xt+d7ZErWaBQ3nEyMAQ+kDDu\n\
GMrVU9dIpi/6wwN9a7ATWUGdb4vzcBTOwpNDXkElnqTKmWBWYmTUBAGj0zSkh/9e\n\
ciSQffQisj37HuDWjmFkJfK5CCeDhjHXDCdhp6MA8gU3eNDDPWiBYALUGYiw/45b\n\
+LLMJbCUqnVJ/X0QhtE9bo/OTvLVDaEs5Nt7WzZH3BRo2lSklYBLEf8Mf/TJ9FSj\n\
cAteQmZmCkL0pI7Yw9cUnerxOFI+ErPd2r3a0wIDAQABAoIBAAdsPqwek/xv7dq+\n\
u6p0X4+VOS+SLKOK4xGsJf/AKauc61RZ03PS4zGfCZ2DYT08d1/y+7AmQZaee/L1\n\
XTBsX2sbYyg28VdU+rlUVhOQEVUFXPvgPCNUfbag/yoMSFnACzXKjeB2ODocdCLm\n\
082tFCen/Ehpudlw9WMg6q2xa3IZnTra2vm37daJKiU3ad4uMiuDoevWuYvdq48N\n\
BOy3SVaTYQ86H0qHHh3au0oNF5lq+hWUnEjzU6wVkBmGMOYMBFQv9rgJ6yJ7uNBM\n\
YXg18kBUah1HZLtMXO4WELrBFXRloe0n98mT8+GgUxESb5aZp7nctHNel+iCBI60\n\
XwfeBSkCgYEA/NihJLSfkVV/ovf4ogmBP0nt7SL40vCirtf7EiV/ucxbkbFnwzlR\n\
NKMBZFU+8AfDsoi3P+8ctrDau4J69Af8XSiCo94Jg7G/K6U94SHS9vqfDE2OWzmA\n\
+M8yXxEQWK5bHv6o+ZqguPMfDaE68Z8USkDtQ/TNUdS+nkgM0I5WA2cCgYEA8CUv\n\
UMKGLOhsbPUdZV3CZv/ThQ6g2yi3dBtbV/f6Zxf5uBHpJ0ePdAVD5aZ9SbtS+Sb+\n\
0XOav8fPNcJ3GaSBxvBucJ/MKtxAmw0fTK/Cb99yWyx6kZkzgIglYRrK+oeyl0PR\n\
vVygQoHNz8+ReleT+onZbMwvD/YfCWvs25dqFbUCgYBx5N8Jmrc6DypUbaC41NE8\n\
gf/DzvoIgs61NaLp9KxJNE2XHjOgU+RJcpfA60lTdBvqAv2QthPYE2gkCM17uVEr\n\
YYEfcXgVs25qqZ9rFwJhsFkOgKz8WLXI3gRRoG0dlUSEfK/+53E4foNhb1wO1Nqd\n\
7As0jkQidVN8FvZ2x3blRwKBgQCdqKwBp1QTk5vrhJkB/aYtnPMvPcVZXMfkUDmN\n\
7V3V5SWrNQcPJKoHj5Vd5goHKBZ3QKS2ueD026csMjmi+h/BjgPTqPWPhf5cTScp\n\
X5KVg+s99FubzyrCzZ9Muxxbkk8rg/jlCzSjtTh7oFhwK6MZLvsxtHOJVRpXQyXD\n\
nQqmqQKBgQCa56Rm58NFInOnfB+P88Wfk/Tol17D0PI/OKlTJS/LR3bjWcQ4quWV\n\
3cqub/c7EN8BOh8ROX7nWb+0YKtSG3QLC5+Wr4jPz9H/6A7Cbmxk4Y5OAuwGXJUF\n\
oTntF/Uo64Sg9eBCNFA4X+MVxQF+XqamCUv+mIVaxCXiMSJXIcA1lw==\n\
-----END RSA PRIVATE KEY-----\n\
";

    /// The same key as PKCS #8 (`openssl pkcs8 -topk8 -nocrypt`).
    pub(crate) const RSA2048_PKCS8_PRIVATE: &str = "\
-----BEGIN PRIVATE KEY-----\n\
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDtL9EdPQx7ztvD\n\
KZ2K7SePwy9npKj3k/wTX7GaK1013qqopbuOdXSEla9v1efcw8ohfuTOcM1PBLBs\n\
AYQnox3EMDZe353tkStZoFDecTIwBD6QMO4YytVT10imL/rDA31rsBNZQZ1vi/Nw\n\
FM7Ck0NeQSWepMqZYFZiZNQEAaPTNKSH/15yJJB99CKyPfse4NaOYWQl8rkIJ4OG\n\
MdcMJ2GnowDyBTd40MM9aIFgAtQZiLD/jlv4sswlsJSqdUn9fRCG0T1uj85O8tUN\n\
oSzk23tbNkfcFGjaVKSVgEsR/wx/9Mn0VKNwC15CZmYKQvSkjtjD1xSd6vE4Uj4S\n\
s93avdrTAgMBAAECggEAB2w+rB6T/G/t2r67qnRfj5U5L5Iso4rjEawl/8Apq5zr\n\
VFnTc9LjMZ8JnYNhPTx3X/L7sCZBlp578vVdMGxfaxtjKDbxV1T6uVRWE5ARVQVc\n\
++A8I1R9tqD/KgxIWcALNcqN4HY4Ohx0IubTza0UJ6f8SGm52XD1YyDqrbFrchmd\n\
Otra+bft1okqJTdp3i4yK4Oh69a5i92rjw0E7LdJVpNhDzofSoceHdq7Sg0XmWr6\n\
FZScSPNTrBWQGYYw5gwEVC/2uAnrInu40ExheDXyQFRqHUdku0xc7hYQusEVdGWh\n\
7Sf3yZPz4aBTERJvlpmnudy0c16X6IIEjrRfB94FKQKBgQD82KEktJ+RVX+i9/ii\n\
CYE/Se3tIvjS8KKu1/sSJX+5zFuRsWfDOVE0owFkVT7wB8OyiLc/7xy2sNq7gnr0\n\
B/xdKIKj3gmDsb8rpT3hIdL2+p8MTY5bOYD4zzJfERBYrlse/qj5mqC48x8NoTrx\n\
nxRKQO1D9M1R1L6eSAzQjlYDZwKBgQDwJS9QwoYs6Gxs9R1lXcJm/9OFDqDbKLd0\n\
G1tX9/pnF/m4EeknR490BUPlpn1Ju1L5Jv7Rc5q/x881wncZpIHG8G5wn8wq3ECb\n\
DR9Mr8Jv33JbLHqRmTOAiCVhGsr6h7KXQ9G9XKBCgc3Pz5F6V5P6idlszC8P9h8J\n\
a+zbl2oVtQKBgHHk3wmatzoPKlRtoLjU0TyB/8PO+giCzrU1oun0rEk0TZceM6BT\n\
5Elyl8DrSVN0G+oC/ZC2E9gTaCQIzXu5USthgR9xeBWzbmqpn2sXAmGwWQ6ArPxY\n\
tcjeBFGgbR2VRIR8r/7ncTh+g2FvXA7U2p3sCzSORCJ1U3wW9nbHduVHAoGBAJ2o\n\
rAGnVBOTm+uEmQH9pi2c8y89xVlcx+RQOY3tXdXlJas1Bw8kqgePlV3mCgcoFndA\n\
pLa54PTbpywyOaL6H8GOA9Oo9Y+F/lxNJylfkpWD6z30W5vPKsLNn0y7HFuSTyuD\n\
+OULNKO1OHugWHAroxku+zG0c4lVGldDJcOdCqapAoGBAJrnpGbnw0Uic6d8H4/z\n\
xZ+T9OiXXsPQ8j84qVMlL8tHduNZxDiq5ZXdyq5v9zsQ3wE6HxE5fudZv7Rgq1Ib\n\
dAsLn5aviM/P0f/oDsJubGThjk4C7AZclQWhOe0X9SjrhKD14EI0UDhf4xXFAX5e\n\
pqYJS/6YhVrEJeIxIlchwDWX\n\
-----END PRIVATE KEY-----\n\
";

    /// Its public half as SPKI (`openssl rsa -pubout`).
    pub(crate) const RSA2048_SPKI: &str = "\
-----BEGIN PUBLIC KEY-----\n\
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA7S/RHT0Me87bwymdiu0n\n\
j8MvZ6So95P8E1+xmitdNd6qqKW7jnV0hJWvb9Xn3MPKIX7kznDNTwSwbAGEJ6Md\n\
xDA2Xt+d7ZErWaBQ3nEyMAQ+kDDuGMrVU9dIpi/6wwN9a7ATWUGdb4vzcBTOwpND\n\
XkElnqTKmWBWYmTUBAGj0zSkh/9eciSQffQisj37HuDWjmFkJfK5CCeDhjHXDCdh\n\
p6MA8gU3eNDDPWiBYALUGYiw/45b+LLMJbCUqnVJ/X0QhtE9bo/OTvLVDaEs5Nt7\n\
WzZH3BRo2lSklYBLEf8Mf/TJ9FSjcAteQmZmCkL0pI7Yw9cUnerxOFI+ErPd2r3a\n\
0wIDAQAB\n\
-----END PUBLIC KEY-----\n\
";

    /// Its public half as PKCS #1 (`openssl rsa -RSAPublicKey_out`).
    pub(crate) const RSA2048_PKCS1_PUBLIC: &str = "\
-----BEGIN RSA PUBLIC KEY-----\n\
MIIBCgKCAQEA7S/RHT0Me87bwymdiu0nj8MvZ6So95P8E1+xmitdNd6qqKW7jnV0\n\
hJWvb9Xn3MPKIX7kznDNTwSwbAGEJ6MdxDA2Xt+d7ZErWaBQ3nEyMAQ+kDDuGMrV\n\
U9dIpi/6wwN9a7ATWUGdb4vzcBTOwpNDXkElnqTKmWBWYmTUBAGj0zSkh/9eciSQ\n\
ffQisj37HuDWjmFkJfK5CCeDhjHXDCdhp6MA8gU3eNDDPWiBYALUGYiw/45b+LLM\n\
JbCUqnVJ/X0QhtE9bo/OTvLVDaEs5Nt7WzZH3BRo2lSklYBLEf8Mf/TJ9FSjcAte\n\
QmZmCkL0pI7Yw9cUnerxOFI+ErPd2r3a0wIDAQAB\n\
-----END RSA PUBLIC KEY-----\n\
";

    /// Self-signed certificate for the same key.
    pub(crate) const RSA2048_CERTIFICATE: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIDOTCCAiGgAwIBAgIUCvJM0jhDuQWF4FKlFjQWUzzXrnwwDQYJKoZIhvcNAQEL\n\
BQAwLDEQMA4GA1UEAwwHY2VydGZzcDEYMBYGA1UECgwPandzLWNvcnB1cy10ZXN0\n\
MB4XDTI2MTIwNDE5NDk0MFoXDTM2MTIwMTE5NDk0MFowLDEQMA4GA1UEAwwHY2Vy\n\
dGZzcDEYMBYGA1UECgwPandzLWNvcnB1cy10ZXN0MIIBIjANBgkqhkiG9w0BAQEF\n\
AAOCAQ8AMIIBCgKCAQEA7S/RHT0Me87bwymdiu0nj8MvZ6So95P8E1+xmitdNd6q\n\
qKW7jnV0hJWvb9Xn3MPKIX7kznDNTwSwbAGEJ6MdxDA2Xt+d7ZErWaBQ3nEyMAQ+\n\
kDDuGMrVU9dIpi/6wwN9a7ATWUGdb4vzcBTOwpNDXkElnqTKmWBWYmTUBAGj0zSk\n\
h/9eciSQffQisj37HuDWjmFkJfK5CCeDhjHXDCdhp6MA8gU3eNDDPWiBYALUGYiw\n\
/45b+LLMJbCUqnVJ/X0QhtE9bo/OTvLVDaEs5Nt7WzZH3BRo2lSklYBLEf8Mf/TJ\n\
9FSjcAteQmZmCkL0pI7Yw9cUnerxOFI+ErPd2r3a0wIDAQABo1MwUTAdBgNVHQ4E\n\
FgQU8FJjhP7Onu3LO9NgGt/KVXS94wswHwYDVR0jBBgwFoAU8FJjhP7Onu3LO9Ng\n\
Gt/KVXS94wswDwYDVR0TAQH/BAUwAwEB/zANBgkqhkiG9w0BAQsFAAOCAQEAXKyY\n\
Y3QpgsSaspmiUUbFcJQ/0UJkrPXvv6X8rfQMRpG4f5XdaWK5tIRg89x4EyOs36dP\n\
WmVre1ySWcjz0+miBa/Exy50YrFUx5c8niDeOR71lGHsV3YseP7vPAQPbvK060uk\n\
jwFdLK8XuEYqskY6LMgiSP0P6e3CXXuBvoP2PG81raTGsm2oZ/3X4zrxHemvLShs\n\
/5a43WTTj5vZZxnINCOfs27LwLqu9Fbg32MOtytcJZmP78UHfpQbY2pnbe9cvSGf\n\
PIEjcfPJht+7aLOYg5E/QBkKy43s41ZpjkaYoNgFRtZXdOWdniU5tFClZ0wXjtUi\n\
N8ubEAbQQff49NSkAw==\n\
-----END CERTIFICATE-----\n\
";

    /// 1024-bit RSA private key, PKCS #1.
    pub(crate) const RSA1024_PKCS1_PRIVATE: &str = "\
-----BEGIN RSA PRIVATE KEY-----\n\
MIICXAIBAAKBgQDXajmLYdV4pIMINTVk6ObPHp+42bC4mPdayqTWSMDXJ7gqfLVW\n\
nehfopMBreTLL6xM7RDQfXvOmIoMVk/jUtasuplCsRkd7phZ5r/o3pDdyzF85YAm\n\
j3wZ1weEuZhDlUhNSBSFQlk+50DgBAU+qoBhTXsi8yNnwKPwr2/R+EdLfwIDAQAB\n\
AoGBAJ2DNdqeSgqyOIHa7lUAHC1c1ivDOf5xE4WW4ZsyjZeFmpuunqZcRpsPdHDo\n\
54BPNqz1N7NL3ii9z0ugHUA6xW8mgNsbe+jPLOWcrzMM1lBhFU7C/GNMDCe58ZBz\n\
QFw/4VsGdfbLXksgkCcOUPfMo4JVL0/5r+NcEjyEEgdBVJIpAkEA65p8nJ7r5jb4\n\
yACexQ1BmleVTlVHGK65hK8xIyadv2zySqr0qE9Xxnm8AYua9X+clebEoywc23XQ\n\
XZJOxkIogwJBAOoQUGQiOEF//asBeBhdFODE4P3Mse+nnS26geDQC7rT63Ejjg/7\n\
TjXgtyfweXVRYDu9hJgTIU/1816XuKF5SFUCQHxSOqsSmPwTydcPrLfiNNnSmXCK\n\
Q0fc+vvuzgj0WY0nWfrYlt0xcOnEVtah6hTdT60x5lUL8/ZCBr85cuPfCS0CQERg\n\
OavW10pDIo53Imczoeq7eOKLjpttApyeNFzBSfvs9oWZlmGSz1kr6TVwqXqdKBir\n\
l3V5eSzLs6m5dsUtEfUCQEmWfgDBUqaMCY5bk9HpIrpX+eop6udHrrK03RIG5z0P\n\
QdFig+OivNl0+8B4SaSB5OFzplkUNbp8wLVNBXC41O0=\n\
-----END RSA PRIVATE KEY-----\n\
";

    /// Its public half as SPKI.
    pub(crate) const RSA1024_SPKI: &str = "\
-----BEGIN PUBLIC KEY-----\n\
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDXajmLYdV4pIMINTVk6ObPHp+4\n\
2bC4mPdayqTWSMDXJ7gqfLVWnehfopMBreTLL6xM7RDQfXvOmIoMVk/jUtasuplC\n\
sRkd7phZ5r/o3pDdyzF85YAmj3wZ1weEuZhDlUhNSBSFQlk+50DgBAU+qoBhTXsi\n\
8yNnwKPwr2/R+EdLfwIDAQAB\n\
-----END PUBLIC KEY-----\n\
";

    /// P-256 private key, SEC1 (`openssl ecparam -genkey -noout`).
    pub(crate) const EC_P256_SEC1_PRIVATE: &str = "\
-----BEGIN EC PRIVATE KEY-----\n\
MHcCAQEEIAzOqavyub5YGieapGLFJEb3MiKn9bGdL+/gtSyczJd1oAoGCCqGSM49\n\
AwEHoUQDQgAEaHq1jpF02vjvIM/xTCo1PN5i5LrLhiRYlBwjtt7/0dkMU9ADfyEV\n\
K5lgYz30X45Ei44hCUYQh7e83loE2aoOag==\n\
-----END EC PRIVATE KEY-----\n\
";

    /// Its public half as SPKI.
    pub(crate) const EC_P256_SPKI: &str = "\
-----BEGIN PUBLIC KEY-----\n\
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEaHq1jpF02vjvIM/xTCo1PN5i5LrL\n\
hiRYlBwjtt7/0dkMU9ADfyEVK5lgYz30X45Ei44hCUYQh7e83loE2aoOag==\n\
-----END PUBLIC KEY-----\n\
";

    /// The RSA 2048 public key as a JWK, written from `openssl rsa -modulus`.
    pub(crate) const RSA2048_JWK: &str = r#"{"kty":"RSA","n":"7S_RHT0Me87bwymdiu0nj8MvZ6So95P8E1-xmitdNd6qqKW7jnV0hJWvb9Xn3MPKIX7kznDNTwSwbAGEJ6MdxDA2Xt-d7ZErWaBQ3nEyMAQ-kDDuGMrVU9dIpi_6wwN9a7ATWUGdb4vzcBTOwpNDXkElnqTKmWBWYmTUBAGj0zSkh_9eciSQffQisj37HuDWjmFkJfK5CCeDhjHXDCdhp6MA8gU3eNDDPWiBYALUGYiw_45b-LLMJbCUqnVJ_X0QhtE9bo_OTvLVDaEs5Nt7WzZH3BRo2lSklYBLEf8Mf_TJ9FSjcAteQmZmCkL0pI7Yw9cUnerxOFI-ErPd2r3a0w","e":"AQAB"}"#;

    /// The P-256 public key as a JWK, written from `openssl ec -text`.
    pub(crate) const EC_P256_JWK: &str = r#"{"kty":"EC","crv":"P-256","x":"aHq1jpF02vjvIM_xTCo1PN5i5LrLhiRYlBwjtt7_0dk","y":"DFPQA38hFSuZYGM99F-ORIuOIQlGEIe3vN5aBNmqDmo"}"#;

    /// Kids from `openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary`, base64url.
    pub(crate) const RSA2048_KID: &str = "75fExuESCLX0k_F0GSWlc9A8Y5xaqXw6EMxokQkIn_4";
    pub(crate) const RSA1024_KID: &str = "grv-iOk8dYzZ0gTA3R9xu1dZKdgYve6MogrVNooGvzk";
    pub(crate) const EC_P256_KID: &str = "YYCSEEuUxjcDQ69UN_Ga-Vm-DuHusuDHN68yCzWA_O4";

    /// Message the OpenSSL signatures below cover.
    pub(crate) const MESSAGE: &[u8] = br#"{"amount":{"amount":"100","currency":"USD"}}"#;

    /// `openssl dgst -sha256 -sign` with the RSA 2048 key over MESSAGE, base64.
    pub(crate) const RSA2048_RS256_SIGNATURE: &str = "fEbzdT4Mlk+Z170Koa+qBIKb21BHB0bY2JetO2uzOw2pC32SGAiotnA1bOFomYtuIJHgPfnM5U12XpJuDyirsseJkhPoIk69M6wuDenJiN3EMps9nD2UPyoJy0BmQuRIhYthNi7ShfYZEd3WdCYtLkb632EDbC8CvalskbRnyLWC7aZQYK/bQLKW2VOxWdR8mIIA2YRtn+nAFRodOb8ZaxjC4S8I4G6fUqRJyMq3uMKqqzvdY64gnolOyH73sc1KFtTJBuZOPo+r4XUg9s/009xRyT1nx6y2M0VKMFg5QCaib1VJpY1aBiGQCMetNfvqttyzO2p/hsSaYxgBgAV/Nw==";

    /// `openssl dgst -sha256 -sign` with the RSA 1024 key over MESSAGE, base64.
    pub(crate) const RSA1024_RS256_SIGNATURE: &str = "Pfk/lVFuH+8zu85nFkbAHq/3qIuZr9lSz6UR7H4CB+/Sjx0ioWcJHCiWYRKl2QhBHGLV/bNyxEDD4vX6btsQCba/CFO/Th4yM9at4J+UKhL2OeBOXusq7RsoyWM4ZHHUAg/LdnBSelIct60xG61W1MQ4/r74FMZWXAichb4Vq/o=";

    /// `openssl dgst -sha512 -sign` with the RSA 1024 key over MESSAGE, base64.
    pub(crate) const RSA1024_RS512_SIGNATURE: &str = "C2P2NzFTd8YTqA5lrcrqIWdfoz5+Wzi1j6w603aGyyGSbR5dIn39xV//rxWFnAgAtOe8KjLLSU6w9SNqsWpNgyn1edYfF0mfSZ8nKYa/ThTgDuzTMFJni5AT3Oh6RMEj+mAEbwxH+AKm9vjxNm1UCUlLsY+bmzknKhZKwCBpvBc=";
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::test_keys::*;
    use super::*;
    use ring::rand::SystemRandom;

    fn spki_pem_der(pem: &str) -> Vec<u8> {
        crate::keys::decode_pem(pem).unwrap().der.to_vec()
    }

    fn rsa2048() -> PublicKey {
        PublicKey::from_spki_der(&spki_pem_der(RSA2048_SPKI)).unwrap()
    }

    fn rsa1024() -> PublicKey {
        PublicKey::from_spki_der(&spki_pem_der(RSA1024_SPKI)).unwrap()
    }

    fn p256() -> PublicKey {
        PublicKey::from_spki_der(&spki_pem_der(EC_P256_SPKI)).unwrap()
    }

    fn pem(label: &str, der: &[u8]) -> String {
        encode_pem(label, der)
    }

    /// Generates a fresh EC key with ring and returns it as PKCS #8 `PRIVATE KEY` PEM.
    fn generated_ec_pkcs8_pem(curve: Curve) -> String {
        let algorithm = match curve {
            Curve::P256 => &ring_signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            Curve::P384 => &ring_signature::ECDSA_P384_SHA384_FIXED_SIGNING,
        };
        let document = EcdsaKeyPair::generate_pkcs8(algorithm, &SystemRandom::new()).unwrap();
        pem("PRIVATE KEY", document.as_ref())
    }

    fn base64_signature(text: &str) -> Vec<u8> {
        STANDARD.decode(text).unwrap()
    }

    #[test]
    fn algorithm_names_round_trip() {
        for alg in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(alg.name()), Some(alg));
        }
        assert_eq!(Algorithm::from_name("rs256"), None);
        assert_eq!(Algorithm::from_name("RS256 "), None);
        assert_eq!(Algorithm::from_name("HS256"), None);
        assert_eq!(Algorithm::from_name("none"), None);
        assert_eq!(Algorithm::from_name("ES512"), None);
    }

    #[test]
    fn algorithm_key_types_and_lengths() {
        assert_eq!(Algorithm::RS256.key_type(), KeyType::Rsa);
        assert_eq!(Algorithm::PS512.key_type(), KeyType::Rsa);
        assert_eq!(Algorithm::ES256.key_type(), KeyType::Ec);
        assert_eq!(Algorithm::ES256.ecdsa_signature_len(), Some(64));
        assert_eq!(Algorithm::ES384.ecdsa_signature_len(), Some(96));
        assert_eq!(Algorithm::RS256.ecdsa_signature_len(), None);
    }

    #[test]
    fn spki_kid_matches_openssl() {
        assert_eq!(rsa2048().kid(), RSA2048_KID);
        assert_eq!(rsa1024().kid(), RSA1024_KID);
        assert_eq!(p256().kid(), EC_P256_KID);
    }

    #[test]
    fn spki_kinds() {
        assert_eq!(rsa2048().kind(), KeyKind::Rsa { bits: 2048 });
        assert_eq!(rsa1024().kind(), KeyKind::Rsa { bits: 1024 });
        assert_eq!(p256().kind(), KeyKind::Ec(Curve::P256));
    }

    #[test]
    fn spki_der_is_canonical_openssl_der() {
        assert_eq!(rsa2048().spki_der(), spki_pem_der(RSA2048_SPKI).as_slice());
        assert_eq!(p256().spki_der(), spki_pem_der(EC_P256_SPKI).as_slice());
    }

    #[test]
    fn to_pem_matches_openssl_output() {
        assert_eq!(rsa2048().to_pem(), RSA2048_SPKI);
        assert_eq!(rsa1024().to_pem(), RSA1024_SPKI);
        assert_eq!(p256().to_pem(), EC_P256_SPKI);
    }

    #[test]
    fn to_jwk_has_expected_members() {
        let jwk: serde_json::Value = serde_json::from_str(&p256().to_jwk()).unwrap();
        let expected: serde_json::Value = serde_json::from_str(EC_P256_JWK).unwrap();
        assert_eq!(jwk["kty"], "EC");
        assert_eq!(jwk["crv"], expected["crv"]);
        assert_eq!(jwk["x"], expected["x"]);
        assert_eq!(jwk["y"], expected["y"]);
        assert_eq!(jwk["kid"], EC_P256_KID);

        let jwk: serde_json::Value = serde_json::from_str(&rsa2048().to_jwk()).unwrap();
        let expected: serde_json::Value = serde_json::from_str(RSA2048_JWK).unwrap();
        assert_eq!(jwk["kty"], "RSA");
        assert_eq!(jwk["n"], expected["n"]);
        assert_eq!(jwk["e"], "AQAB");
        assert_eq!(jwk["kid"], RSA2048_KID);
    }

    #[test]
    fn pkcs1_public_key_same_kid() {
        let der = spki_pem_der(RSA2048_PKCS1_PUBLIC);
        let key = PublicKey::from_pkcs1_der(&der).unwrap();
        assert_eq!(key.kid(), RSA2048_KID);
        assert_eq!(key, rsa2048());
    }

    #[test]
    fn rsa_components_ignore_leading_zeros() {
        let der = spki_pem_der(RSA2048_PKCS1_PUBLIC);
        let parsed = pkcs1::RsaPublicKeyRef::from_der(&der).unwrap();
        let mut modulus = vec![0, 0];
        modulus.extend_from_slice(parsed.modulus.as_bytes());
        let key = PublicKey::from_rsa_components(&modulus, &[0, 1, 0, 1]).unwrap();
        assert_eq!(key.kid(), RSA2048_KID);
    }

    #[test]
    fn rsa_even_modulus_rejected() {
        let mut modulus = vec![0xC5; 256];
        if let Some(last) = modulus.last_mut() {
            *last = 0x10;
        }
        let err = PublicKey::from_rsa_components(&modulus, &[1, 0, 1]).unwrap_err();
        assert!(matches!(err, KeyError::InvalidKey(_)), "{err:?}");
    }

    #[test]
    fn rsa_bad_exponents_rejected() {
        let modulus = vec![0xC5; 256];
        for exponent in [&[][..], &[1], &[2], &[1, 0, 0], &[4, 0, 0, 0, 1]] {
            let err = PublicKey::from_rsa_components(&modulus, exponent).unwrap_err();
            assert!(
                matches!(err, KeyError::InvalidKey(_)),
                "{exponent:?}: {err:?}"
            );
        }
    }

    #[test]
    fn rsa_modulus_over_8192_bits_rejected() {
        let modulus = vec![0xC5; 1025];
        let err = PublicKey::from_rsa_components(&modulus, &[1, 0, 1]).unwrap_err();
        assert_eq!(
            err,
            KeyError::RsaKeyTooLarge {
                bits: 8200,
                max: 8192
            }
        );
    }

    #[test]
    fn ec_compressed_point_rejected() {
        let mut point = vec![0x02];
        point.extend_from_slice(&[7; 32]);
        let err = PublicKey::from_ec_point(Curve::P256, &point).unwrap_err();
        assert!(err.to_string().contains("compressed"), "{err}");
    }

    #[test]
    fn ec_point_length_checked() {
        let point = vec![0x04; 97];
        let err = PublicKey::from_ec_point(Curve::P256, &point).unwrap_err();
        assert!(matches!(err, KeyError::InvalidKey(_)), "{err:?}");
    }

    #[test]
    fn rsa_round_trip_every_algorithm() {
        let signer = SigningKey::from_pem(RSA2048_PKCS1_PRIVATE).unwrap();
        let public = rsa2048();
        for alg in Algorithm::ALL
            .into_iter()
            .filter(|alg| alg.key_type() == KeyType::Rsa)
        {
            let signature = signer.sign(alg, MESSAGE).unwrap();
            assert_eq!(signature.len(), 256, "{alg}");
            assert_eq!(
                RingVerifier.verify(&public, alg, MESSAGE, &signature),
                Ok(()),
                "{alg}"
            );
        }
    }

    #[test]
    fn ecdsa_round_trip_every_algorithm() {
        for (curve, alg) in [
            (Curve::P256, Algorithm::ES256),
            (Curve::P384, Algorithm::ES384),
        ] {
            let signer = SigningKey::from_pem(&generated_ec_pkcs8_pem(curve)).unwrap();
            let signature = signer.sign(alg, MESSAGE).unwrap();
            assert_eq!(Some(signature.len()), alg.ecdsa_signature_len(), "{alg}");
            let public = signer.public_key();
            assert_eq!(
                RingVerifier.verify(public, alg, MESSAGE, &signature),
                Ok(()),
                "{alg}"
            );
        }
    }

    #[test]
    fn sec1_key_signs_for_its_spki() {
        let signer = SigningKey::from_pem(EC_P256_SEC1_PRIVATE).unwrap();
        assert_eq!(signer.public_key().kid(), EC_P256_KID);
        let signature = signer.sign(Algorithm::ES256, MESSAGE).unwrap();
        assert_eq!(
            RingVerifier.verify(&p256(), Algorithm::ES256, MESSAGE, &signature),
            Ok(())
        );
    }

    #[test]
    fn rs256_signature_matches_openssl() {
        let signer = SigningKey::from_pem(RSA2048_PKCS8_PRIVATE).unwrap();
        let signature = signer.sign(Algorithm::RS256, MESSAGE).unwrap();
        assert_eq!(signature, base64_signature(RSA2048_RS256_SIGNATURE));
    }

    #[test]
    fn openssl_rs256_signature_verifies() {
        let signature = base64_signature(RSA2048_RS256_SIGNATURE);
        let result = RingVerifier.verify(&rsa2048(), Algorithm::RS256, MESSAGE, &signature);
        assert_eq!(result, Ok(()));
    }

    #[test]
    fn tampered_message_is_bad_signature() {
        let signature = base64_signature(RSA2048_RS256_SIGNATURE);
        let result = RingVerifier.verify(&rsa2048(), Algorithm::RS256, b"{}", &signature);
        assert_eq!(result, Err(VerifyError::BadSignature));

        let signer = SigningKey::from_pem(EC_P256_SEC1_PRIVATE).unwrap();
        let mut signature = signer.sign(Algorithm::ES256, MESSAGE).unwrap();
        if let Some(byte) = signature.first_mut() {
            *byte ^= 1;
        }
        let result = RingVerifier.verify(&p256(), Algorithm::ES256, MESSAGE, &signature);
        assert_eq!(result, Err(VerifyError::BadSignature));
    }

    #[test]
    fn es256_der_signature_is_length_error() {
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(
            &ring_signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &SystemRandom::new(),
        )
        .unwrap();
        let fixed_pem = pem("PRIVATE KEY", pkcs8.as_ref());
        let public = SigningKey::from_pem(&fixed_pem)
            .unwrap()
            .public_key()
            .clone();
        let der_signer = EcdsaKeyPair::from_pkcs8(
            &ring_signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            pkcs8.as_ref(),
            &SystemRandom::new(),
        )
        .unwrap();
        let signature = der_signer.sign(&SystemRandom::new(), MESSAGE).unwrap();
        let actual = signature.as_ref().len();
        assert!(
            (70..=72).contains(&actual),
            "DER signature is {actual} bytes"
        );

        let result = RingVerifier.verify(&public, Algorithm::ES256, MESSAGE, signature.as_ref());
        assert_eq!(
            result,
            Err(VerifyError::SignatureLength {
                alg: Algorithm::ES256,
                expected: 64,
                actual
            })
        );
    }

    #[test]
    fn rsa_signature_wrong_length() {
        let mut signature = base64_signature(RSA2048_RS256_SIGNATURE);
        signature.remove(0);
        let result = RingVerifier.verify(&rsa2048(), Algorithm::RS256, MESSAGE, &signature);
        assert_eq!(
            result,
            Err(VerifyError::SignatureLength {
                alg: Algorithm::RS256,
                expected: 256,
                actual: 255
            })
        );
    }

    #[test]
    fn rsa_key_with_es256_is_mismatch() {
        let result = RingVerifier.verify(&rsa2048(), Algorithm::ES256, MESSAGE, &[0; 64]);
        assert_eq!(
            result,
            Err(VerifyError::KeyAlgorithmMismatch {
                alg: Algorithm::ES256,
                key: KeyKind::Rsa { bits: 2048 }
            })
        );
    }

    #[test]
    fn ec_key_with_rs256_is_mismatch() {
        let result = RingVerifier.verify(&p256(), Algorithm::RS256, MESSAGE, &[0; 256]);
        assert_eq!(
            result,
            Err(VerifyError::KeyAlgorithmMismatch {
                alg: Algorithm::RS256,
                key: KeyKind::Ec(Curve::P256)
            })
        );
    }

    #[test]
    fn p384_key_with_es256_is_mismatch() {
        let signer = SigningKey::from_pem(&generated_ec_pkcs8_pem(Curve::P384)).unwrap();
        let signature = signer.sign(Algorithm::ES384, MESSAGE).unwrap();
        let result =
            RingVerifier.verify(signer.public_key(), Algorithm::ES256, MESSAGE, &signature);
        assert_eq!(
            result,
            Err(VerifyError::KeyAlgorithmMismatch {
                alg: Algorithm::ES256,
                key: KeyKind::Ec(Curve::P384)
            })
        );
        let result = RingVerifier.verify(&p256(), Algorithm::ES384, MESSAGE, &[0; 96]);
        assert!(matches!(
            result,
            Err(VerifyError::KeyAlgorithmMismatch { .. })
        ));
    }

    #[test]
    fn mismatch_checked_before_length() {
        let result = RingVerifier.verify(&rsa2048(), Algorithm::ES256, MESSAGE, &[0; 3]);
        assert!(matches!(
            result,
            Err(VerifyError::KeyAlgorithmMismatch { .. })
        ));
    }

    #[test]
    fn rsa1024_rs256_and_rs512_verify() {
        let key = rsa1024();
        let rs256 = base64_signature(RSA1024_RS256_SIGNATURE);
        assert_eq!(
            RingVerifier.verify(&key, Algorithm::RS256, MESSAGE, &rs256),
            Ok(())
        );
        let rs512 = base64_signature(RSA1024_RS512_SIGNATURE);
        assert_eq!(
            RingVerifier.verify(&key, Algorithm::RS512, MESSAGE, &rs512),
            Ok(())
        );
    }

    #[test]
    fn rsa1024_ps256_is_too_small() {
        let result = RingVerifier.verify(&rsa1024(), Algorithm::PS256, MESSAGE, &[0; 128]);
        assert_eq!(
            result,
            Err(VerifyError::RsaKeyTooSmall {
                alg: Algorithm::PS256,
                bits: 1024,
                min_bits: 2048
            })
        );
    }

    #[test]
    fn rsa1024_rs384_is_too_small() {
        let result = RingVerifier.verify(&rsa1024(), Algorithm::RS384, MESSAGE, &[0; 128]);
        assert_eq!(
            result,
            Err(VerifyError::RsaKeyTooSmall {
                alg: Algorithm::RS384,
                bits: 1024,
                min_bits: 2048
            })
        );
    }

    #[test]
    fn rs256_rejects_512_bit_key() {
        let modulus = vec![0xC5; 64];
        let key = PublicKey::from_rsa_components(&modulus, &[1, 0, 1]).unwrap();
        let result = RingVerifier.verify(&key, Algorithm::RS256, MESSAGE, &[0; 64]);
        assert_eq!(
            result,
            Err(VerifyError::RsaKeyTooSmall {
                alg: Algorithm::RS256,
                bits: 512,
                min_bits: 1024
            })
        );
    }

    #[test]
    fn rs256_signing_is_deterministic() {
        let signer = SigningKey::from_pem(RSA2048_PKCS1_PRIVATE).unwrap();
        let first = signer.sign(Algorithm::RS256, MESSAGE).unwrap();
        let second = signer.sign(Algorithm::RS256, MESSAGE).unwrap();
        assert_eq!(first, second);
    }

    #[test]
    fn sdk_algorithm_follows_pem_text() {
        let sec1 = SigningKey::from_pem(EC_P256_SEC1_PRIVATE).unwrap();
        assert_eq!(sec1.sdk_algorithm(), Algorithm::ES256);
        let rsa = SigningKey::from_pem(RSA2048_PKCS1_PRIVATE).unwrap();
        assert_eq!(rsa.sdk_algorithm(), Algorithm::RS256);
        let rsa_pkcs8 = SigningKey::from_pem(RSA2048_PKCS8_PRIVATE).unwrap();
        assert_eq!(rsa_pkcs8.sdk_algorithm(), Algorithm::RS256);
    }

    #[test]
    fn sdk_algorithm_quirk_for_pkcs8_ec() {
        let signer = SigningKey::from_pem(&generated_ec_pkcs8_pem(Curve::P256)).unwrap();
        assert_eq!(signer.sdk_algorithm(), Algorithm::RS256);
        let result = signer.sign(signer.sdk_algorithm(), MESSAGE);
        assert_eq!(
            result,
            Err(SignError::KeyAlgorithmMismatch {
                alg: Algorithm::RS256,
                key: KeyKind::Ec(Curve::P256)
            })
        );
    }

    #[test]
    fn sign_with_unfitting_algorithm_fails() {
        let signer = SigningKey::from_pem(RSA2048_PKCS1_PRIVATE).unwrap();
        let result = signer.sign(Algorithm::ES256, MESSAGE);
        assert!(matches!(
            result,
            Err(SignError::KeyAlgorithmMismatch { .. })
        ));

        let signer = SigningKey::from_pem(EC_P256_SEC1_PRIVATE).unwrap();
        assert!(signer.sign(Algorithm::ES384, MESSAGE).is_err());
        assert!(signer.sign(Algorithm::PS256, MESSAGE).is_err());
    }

    #[test]
    fn signing_key_rejects_public_pem() {
        let err = SigningKey::from_pem(RSA2048_SPKI).unwrap_err();
        assert_eq!(
            err,
            KeyError::NotPrivateKey {
                label: "PUBLIC KEY".into()
            }
        );
    }

    #[test]
    fn signing_key_rejects_rsa1024() {
        let err = SigningKey::from_pem(RSA1024_PKCS1_PRIVATE).unwrap_err();
        assert_eq!(
            err,
            KeyError::UnsupportedSigningKeySize {
                bits: 1024,
                min: 2048,
                max: 4096
            }
        );
    }

    #[test]
    fn sec1_key_without_public_point_rejected() {
        let der = spki_pem_der(EC_P256_SEC1_PRIVATE);
        let key = sec1::EcPrivateKey::from_der(&der).unwrap();
        let stripped = sec1::EcPrivateKey {
            public_key: None,
            ..key
        }
        .to_der()
        .unwrap();
        let err = SigningKey::from_pem(&pem("EC PRIVATE KEY", &stripped)).unwrap_err();
        assert_eq!(err, KeyError::MissingEcPublicKey);
    }

    #[test]
    fn debug_output_has_no_key_material() {
        let signer = SigningKey::from_pem(RSA2048_PKCS1_PRIVATE).unwrap();
        let text = format!("{signer:?} {:?}", signer.public_key());
        assert!(text.contains(RSA2048_KID), "{text}");
        assert!(!text.contains("MII"), "{text}");
        assert!(text.len() < 300, "{text}");
    }

    /// Small deterministic generator so the fuzz-style tests are reproducible.
    fn pseudo_random_bytes(seed: u64, len: usize) -> Vec<u8> {
        let mut state = seed;
        (0..len)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (state >> 33) as u8
            })
            .collect()
    }

    #[test]
    fn garbage_der_returns_errors() {
        for seed in 0..300 {
            let bytes = pseudo_random_bytes(seed, (seed as usize * 7) % 600);
            assert!(PublicKey::from_spki_der(&bytes).is_err());
            assert!(PublicKey::from_pkcs1_der(&bytes).is_err());
            for label in ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"] {
                assert!(decode_private_key(label, &bytes).is_err());
            }
        }
    }

    #[test]
    fn truncated_der_returns_errors() {
        let inputs = [
            spki_pem_der(RSA2048_SPKI),
            spki_pem_der(EC_P256_SPKI),
            spki_pem_der(RSA2048_PKCS1_PUBLIC),
        ];
        for der in &inputs {
            for len in 0..der.len() {
                let prefix = der.get(..len).unwrap();
                assert!(PublicKey::from_spki_der(prefix).is_err(), "prefix {len}");
                assert!(PublicKey::from_pkcs1_der(prefix).is_err(), "prefix {len}");
            }
        }
        let private_inputs = [
            ("RSA PRIVATE KEY", spki_pem_der(RSA2048_PKCS1_PRIVATE)),
            ("PRIVATE KEY", spki_pem_der(RSA2048_PKCS8_PRIVATE)),
            ("EC PRIVATE KEY", spki_pem_der(EC_P256_SEC1_PRIVATE)),
        ];
        for (label, der) in &private_inputs {
            for len in 0..der.len() {
                let prefix = der.get(..len).unwrap();
                assert!(
                    decode_private_key(label, prefix).is_err(),
                    "{label} prefix {len}"
                );
            }
        }
    }

    #[test]
    fn bit_flipped_der_does_not_panic() {
        let inputs = [
            spki_pem_der(RSA2048_SPKI),
            spki_pem_der(EC_P256_SPKI),
            spki_pem_der(EC_P256_SEC1_PRIVATE),
        ];
        for der in &inputs {
            for index in 0..der.len() {
                for bit in [0x01, 0x80] {
                    let mut flipped = der.clone();
                    if let Some(byte) = flipped.get_mut(index) {
                        *byte ^= bit;
                    }
                    let _ = PublicKey::from_spki_der(&flipped);
                    let _ = decode_private_key("EC PRIVATE KEY", &flipped);
                }
            }
        }
    }
}
