//! Public key parsing with repair reports, JWK import, and the per-participant key store.
//!
//! Keys arrive as PEM text (often damaged on the way through Mojaloop Connection
//! Manager or a JSON config) or as JWK JSON. Parsing repairs the known kinds of PEM
//! damage, records each repair, and rejects anything else with an error that names
//! the failing value without echoing key bytes.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use zeroize::Zeroizing;

use crate::crypto::{Algorithm, Curve, KeyKind, PublicKey, decode_private_key};
use crate::json::{self, read::Unknown};
use crate::sorted_map::SortedMap;

mod certificate;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod jwk_serde_agreement;

/// Largest key input accepted, in bytes. A PEM RSA 4096 certificate is about 2 KB, so
/// this limit only stops runaway input.
pub const MAX_KEY_INPUT_LEN: usize = 64 * 1024;

/// RSA modulus size below which RFC 7518 section 3.3 forbids RS* and PS*.
const RSA_RECOMMENDED_MIN_BITS: u32 = 2048;

/// Smallest RSA modulus ring verifies with any algorithm.
const RSA_VERIFIABLE_MIN_BITS: u32 = 1024;

// ---------------------------------------------------------------------------
// Errors, formats and repairs
// ---------------------------------------------------------------------------

/// Reason a key could not be parsed or loaded.
///
/// Messages name the failing structure, label, member or length, never key bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The input is longer than [`MAX_KEY_INPUT_LEN`].
    TooLarge { len: usize, max: usize },
    /// The input contains neither a PEM block nor a JSON object.
    NoPemBlock,
    /// The PEM armor is broken: unclosed marker, missing END line, mismatched labels
    /// or an empty body.
    MalformedPem(String),
    /// The PEM label is not a key or certificate label this crate reads.
    UnsupportedPemLabel(String),
    /// The PEM contains an encrypted private key.
    EncryptedPrivateKey,
    /// A private key was needed, but the PEM block with this label contains none.
    NotPrivateKey { label: String },
    /// The PEM body is not valid base64. `line` is 1-based and counts lines of the
    /// input after line-break repairs.
    InvalidBase64 { line: usize, detail: String },
    /// The decoded bytes are not the DER structure the label promises.
    InvalidDer(String),
    /// The key algorithm is neither RSA nor EC.
    UnsupportedKeyType(String),
    /// The EC curve is neither P-256 nor P-384.
    UnsupportedCurve(String),
    /// The key components are out of range or inconsistent.
    InvalidKey(String),
    /// The RSA modulus is larger than ring verifies.
    RsaKeyTooLarge { bits: u32, max: u32 },
    /// The RSA private key size is outside what ring signs with.
    UnsupportedSigningKeySize { bits: u32, min: u32, max: u32 },
    /// The EC private key omits its public point, which ring cannot compute.
    MissingEcPublicKey,
    /// The JWK JSON is malformed or lacks a required member.
    InvalidJwk(String),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::TooLarge { len, max } => write!(
                f,
                "key input is {len} bytes, over the {max}-byte limit; supply a single PEM \
                 block or JWK"
            ),
            KeyError::NoPemBlock => f.write_str(
                "no PEM block (-----BEGIN ...-----) or JWK JSON object found; supply the key \
                 as PEM or JWK",
            ),
            KeyError::MalformedPem(detail) => write!(f, "malformed PEM: {detail}"),
            KeyError::UnsupportedPemLabel(label) => write!(
                f,
                "PEM label {label:?} is not supported; expected PUBLIC KEY, RSA PUBLIC KEY, \
                 CERTIFICATE, PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY"
            ),
            KeyError::EncryptedPrivateKey => f.write_str(
                "private key is encrypted; supply the public key, or decrypt the private key \
                 first (for example with `openssl pkey`)",
            ),
            KeyError::NotPrivateKey { label } => write!(
                f,
                "PEM block {label:?} contains no private key; signing needs a PRIVATE KEY, \
                 RSA PRIVATE KEY or EC PRIVATE KEY block"
            ),
            KeyError::InvalidBase64 { line, detail } => write!(
                f,
                "invalid base64 in PEM body on line {line}: {detail}; check that the key was \
                 copied whole and unmodified"
            ),
            KeyError::InvalidDer(detail) => write!(
                f,
                "invalid DER in {detail}; the data is not a valid key of the expected type, so \
                 re-export the key"
            ),
            KeyError::UnsupportedKeyType(detail) => write!(
                f,
                "unsupported key type: {detail}; FSPIOP signatures use RSA or EC P-256/P-384 \
                 keys"
            ),
            KeyError::UnsupportedCurve(curve) => write!(
                f,
                "unsupported EC curve {curve}; supported curves are P-256 and P-384"
            ),
            KeyError::InvalidKey(detail) => write!(f, "invalid key: {detail}"),
            KeyError::RsaKeyTooLarge { bits, max } => write!(
                f,
                "RSA key is {bits} bits, over the {max}-bit maximum that ring verifies"
            ),
            KeyError::UnsupportedSigningKeySize { bits, min, max } => write!(
                f,
                "RSA key is {bits} bits, but ring signs only with {min}- to {max}-bit keys; \
                 use a key in that range"
            ),
            KeyError::MissingEcPublicKey => f.write_str(
                "EC private key does not contain its public key, and ring cannot compute it; \
                 export the key with its public part (OpenSSL includes it by default) or \
                 supply the public key",
            ),
            KeyError::InvalidJwk(detail) => write!(f, "invalid JWK: {detail}"),
        }
    }
}

impl std::error::Error for KeyError {}

/// Format a public key was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyFormat {
    /// `PUBLIC KEY` PEM (X.509 SubjectPublicKeyInfo).
    SpkiPem,
    /// `RSA PUBLIC KEY` PEM (PKCS #1 RSAPublicKey).
    Pkcs1Pem,
    /// `CERTIFICATE` PEM, of which only the public key is used.
    CertificatePem,
    /// `PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY` PEM, from which the public
    /// half is derived.
    PrivateKeyPem,
    /// JWK JSON object (RFC 7517).
    Jwk,
    /// DER SubjectPublicKeyInfo bytes.
    SpkiDer,
}

/// A kind of PEM damage that parsing repaired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PemRepair {
    /// BEGIN marker, body and END marker were on one line.
    SingleLine,
    /// Lines ended in CR LF.
    CrlfLineEndings,
    /// The text did not end with a line break.
    MissingFinalNewline,
    /// Whitespace preceded the PEM, or more than one line break followed it.
    SurroundingWhitespace,
    /// Line breaks were the two characters `\` `n`, as in a PEM JSON-escaped twice.
    LiteralBackslashN,
    /// The BEGIN or END marker shared a line with base64 data in a multi-line body.
    MarkerSharesLine,
}

impl fmt::Display for PemRepair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PemRepair::SingleLine => {
                "PEM had no line breaks; its body was read as one base64 run between the markers"
            }
            PemRepair::CrlfLineEndings => "PEM had CRLF line endings; read them as LF",
            PemRepair::MissingFinalNewline => "PEM had no final newline",
            PemRepair::SurroundingWhitespace => {
                "PEM had leading or trailing whitespace; ignored it"
            }
            PemRepair::LiteralBackslashN => {
                "PEM had literal \\n sequences instead of line breaks; read them as line breaks"
            }
            PemRepair::MarkerSharesLine => {
                "PEM had base64 data on a BEGIN or END marker line; split it off"
            }
        })
    }
}

/// A public key with a record of how it was read.
#[derive(Clone, Debug)]
pub struct ParsedKey {
    pub key: Arc<PublicKey>,
    pub format: KeyFormat,
    /// PEM damage that was repaired, in the order it was found.
    pub repairs: Vec<PemRepair>,
    /// Problems that did not stop parsing, as sentences for operators.
    pub warnings: Vec<String>,
}

// ---------------------------------------------------------------------------
// Public key parsing
// ---------------------------------------------------------------------------

/// Parses a public key from PEM or JWK JSON.
///
/// PEM may be `PUBLIC KEY` (SPKI), `RSA PUBLIC KEY` (PKCS #1) or `CERTIFICATE`.
/// Only a certificate's SPKI is used, and its validity dates and issuer are not
/// checked. A private key PEM (`PRIVATE KEY`, `RSA PRIVATE KEY`, `EC PRIVATE KEY`)
/// gives its public half with a warning. `EC PARAMETERS` blocks are skipped.
/// A JWK may be RSA (`n`, `e`) or EC P-256/P-384 (`x`, `y`), and its private
/// members are ignored.
///
/// Input over [`MAX_KEY_INPUT_LEN`] bytes is rejected.
pub fn parse_public_key(input: &str) -> Result<ParsedKey, KeyError> {
    check_input_len(input.len())?;
    if input.trim_start().starts_with('{') {
        return parse_jwk(input);
    }

    let block = decode_pem(input)?;
    let mut warnings = block.warnings;
    let (key, format) = match block.label.as_str() {
        "PUBLIC KEY" => (PublicKey::from_spki_der(&block.der)?, KeyFormat::SpkiPem),
        "RSA PUBLIC KEY" => (PublicKey::from_pkcs1_der(&block.der)?, KeyFormat::Pkcs1Pem),
        "CERTIFICATE" => (
            public_key_from_certificate(&block.der)?,
            KeyFormat::CertificatePem,
        ),
        "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" => {
            let decoded = decode_private_key(&block.label, &block.der)?;
            warnings.push(
                "private key supplied where a public key was expected; public half used. \
                 Keep private keys out of verifier configuration"
                    .to_string(),
            );
            (decoded.public, KeyFormat::PrivateKeyPem)
        }
        "ENCRYPTED PRIVATE KEY" => return Err(KeyError::EncryptedPrivateKey),
        other => return Err(KeyError::UnsupportedPemLabel(other.to_string())),
    };

    Ok(finish_parsed_key(key, format, block.repairs, warnings))
}

/// Parses a DER-encoded SubjectPublicKeyInfo.
pub fn parse_spki_der(der: &[u8]) -> Result<ParsedKey, KeyError> {
    check_input_len(der.len())?;
    let key = PublicKey::from_spki_der(der)?;
    Ok(finish_parsed_key(
        key,
        KeyFormat::SpkiDer,
        Vec::new(),
        Vec::new(),
    ))
}

fn check_input_len(len: usize) -> Result<(), KeyError> {
    if len > MAX_KEY_INPUT_LEN {
        return Err(KeyError::TooLarge {
            len,
            max: MAX_KEY_INPUT_LEN,
        });
    }
    Ok(())
}

fn finish_parsed_key(
    key: PublicKey,
    format: KeyFormat,
    repairs: Vec<PemRepair>,
    mut warnings: Vec<String>,
) -> ParsedKey {
    if let KeyKind::Rsa { bits } = key.kind() {
        if bits < RSA_VERIFIABLE_MIN_BITS {
            warnings.push(format!(
                "RSA key is {bits} bits; ring verifies no RSA key under \
                 {RSA_VERIFIABLE_MIN_BITS} bits, so every signature check with it fails"
            ));
        } else if bits < RSA_RECOMMENDED_MIN_BITS {
            warnings.push(format!(
                "RSA key is {bits} bits, below the {RSA_RECOMMENDED_MIN_BITS}-bit minimum \
                 that RFC 7518 section 3.3 sets for RS* and PS*; only RS256 and RS512 \
                 verify with it"
            ));
        }
    }
    ParsedKey {
        key: Arc::new(key),
        format,
        repairs,
        warnings,
    }
}

fn public_key_from_certificate(der: &[u8]) -> Result<PublicKey, KeyError> {
    PublicKey::from_spki_der(certificate::subject_public_key_info(der)?)
}

// ---------------------------------------------------------------------------
// PEM decoding with repairs
// ---------------------------------------------------------------------------

const BEGIN_MARKER: &str = "-----BEGIN ";
const END_MARKER: &str = "-----END ";
const MARKER_DASHES: &str = "-----";

/// The first key block of a PEM text, decoded.
pub(crate) struct PemBlock {
    pub(crate) label: String,
    pub(crate) der: Zeroizing<Vec<u8>>,
    pub(crate) repairs: Vec<PemRepair>,
    pub(crate) warnings: Vec<String>,
}

/// Byte offsets of one PEM block in the repaired text.
struct BlockSpan {
    label: String,
    begin: usize,
    body_start: usize,
    body_end: usize,
    end: usize,
}

/// Decodes the first PEM block other than `EC PARAMETERS`, repairing known damage.
pub(crate) fn decode_pem(input: &str) -> Result<PemBlock, KeyError> {
    check_input_len(input.len())?;

    let mut repairs = Vec::new();
    let text = repair_line_breaks(input, &mut repairs);
    check_surrounding_whitespace(&text, &mut repairs);

    let spans = find_blocks(&text)?;
    let mut warnings = Vec::new();
    let mut key_blocks = spans.iter().filter(|span| span.label != "EC PARAMETERS");
    let Some(span) = key_blocks.next() else {
        return Err(KeyError::MalformedPem(
            "the only PEM blocks are EC PARAMETERS; the key block is missing".into(),
        ));
    };
    let ignored_blocks = key_blocks.count();
    if ignored_blocks > 0 {
        warnings.push(format!(
            "{ignored_blocks} more PEM block(s) after the first {:?} block were ignored",
            span.label
        ));
    }
    let outside = count_text_outside(&text, &spans);
    if outside > 0 {
        warnings.push(format!(
            "{outside} non-whitespace character(s) outside the PEM block(s) were ignored"
        ));
    }

    let body = text.get(span.body_start..span.body_end).unwrap_or_default();
    if body.trim().is_empty() {
        return Err(KeyError::MalformedPem(format!(
            "PEM block {:?} has an empty body",
            span.label
        )));
    }
    record_layout_repairs(body, &mut repairs);

    let start_line = line_number_at(&text, span.body_start);
    let start_column = column_at(&text, span.body_start);
    let der = decode_body(body, start_line, start_column)?;

    Ok(PemBlock {
        label: span.label.clone(),
        der,
        repairs,
        warnings,
    })
}

fn repair_line_breaks(input: &str, repairs: &mut Vec<PemRepair>) -> String {
    let mut text = input.to_string();
    // Base64 has no backslash, so a `\n` pair can only be an escaped line break.
    if text.contains("\\n") {
        text = text.replace("\\r\\n", "\n").replace("\\n", "\n");
        repairs.push(PemRepair::LiteralBackslashN);
    }
    if text.contains("\r\n") {
        text = text.replace("\r\n", "\n");
        repairs.push(PemRepair::CrlfLineEndings);
    }
    text
}

fn check_surrounding_whitespace(text: &str, repairs: &mut Vec<PemRepair>) {
    let is_space = |c: char| c.is_ascii_whitespace();
    let leading = text.len() - text.trim_start_matches(is_space).len();
    let core_end = text.trim_end_matches(is_space).len();
    let trailing = text.get(core_end..).unwrap_or_default();

    if leading > 0 || !(trailing.is_empty() || trailing == "\n") {
        repairs.push(PemRepair::SurroundingWhitespace);
    }
    if !trailing.contains('\n') {
        repairs.push(PemRepair::MissingFinalNewline);
    }
}

/// Finds every `-----BEGIN X-----` ... `-----END X-----` block, in order.
fn find_blocks(text: &str) -> Result<Vec<BlockSpan>, KeyError> {
    let mut spans = Vec::new();
    let mut position = 0;

    while let Some(offset) = text
        .get(position..)
        .and_then(|rest| rest.find(BEGIN_MARKER))
    {
        let begin = position + offset;
        let label_start = begin + BEGIN_MARKER.len();
        let label = marker_label(text, label_start).ok_or_else(|| {
            KeyError::MalformedPem(format!(
                "BEGIN marker on line {} is not closed with -----",
                line_number_at(text, begin)
            ))
        })?;
        let body_start = label_start + label.len() + MARKER_DASHES.len();

        let Some(end_offset) = text
            .get(body_start..)
            .and_then(|rest| rest.find(END_MARKER))
        else {
            return Err(KeyError::MalformedPem(format!(
                "PEM block {label:?} has no -----END {label}----- line; the key looks truncated"
            )));
        };
        let body_end = body_start + end_offset;
        let end_label_start = body_end + END_MARKER.len();
        let end_label = marker_label(text, end_label_start).unwrap_or_default();
        if end_label != label {
            return Err(KeyError::MalformedPem(format!(
                "BEGIN label {label:?} does not match END label {end_label:?} on line {}",
                line_number_at(text, body_end)
            )));
        }

        let end = end_label_start + end_label.len() + MARKER_DASHES.len();
        spans.push(BlockSpan {
            label: label.to_string(),
            begin,
            body_start,
            body_end,
            end,
        });
        position = end;
    }

    if spans.is_empty() {
        if text.contains(END_MARKER) {
            return Err(KeyError::MalformedPem(
                "found an -----END line but no -----BEGIN line".into(),
            ));
        }
        return Err(KeyError::NoPemBlock);
    }
    Ok(spans)
}

/// Returns the label that starts at `start` and runs to the next `-----` on the same line.
fn marker_label(text: &str, start: usize) -> Option<&str> {
    let rest = text.get(start..)?;
    let len = rest.find(MARKER_DASHES)?;
    let label = rest.get(..len)?;
    let valid = !label.is_empty() && label.chars().all(|c| c.is_ascii_graphic() || c == ' ');
    valid.then_some(label)
}

fn count_text_outside(text: &str, spans: &[BlockSpan]) -> usize {
    let mut count = 0;
    let mut position = 0;
    for span in spans {
        count += non_whitespace_count(text.get(position..span.begin).unwrap_or_default());
        position = span.end;
    }
    count + non_whitespace_count(text.get(position..).unwrap_or_default())
}

fn non_whitespace_count(text: &str) -> usize {
    text.chars().filter(|c| !c.is_whitespace()).count()
}

fn record_layout_repairs(body: &str, repairs: &mut Vec<PemRepair>) {
    let Some((first_line, _)) = body.split_once('\n') else {
        repairs.push(PemRepair::SingleLine);
        return;
    };
    let last_line = body
        .rsplit_once('\n')
        .map(|(_, last)| last)
        .unwrap_or_default();
    if !first_line.trim().is_empty() || !last_line.trim().is_empty() {
        repairs.push(PemRepair::MarkerSharesLine);
    }
}

fn line_number_at(text: &str, offset: usize) -> usize {
    let before = text.get(..offset).unwrap_or(text);
    before.matches('\n').count() + 1
}

fn column_at(text: &str, offset: usize) -> usize {
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |index| index + 1);
    before.get(line_start..).unwrap_or_default().chars().count() + 1
}

/// Decodes a PEM body, naming the input line of any character that is not base64.
fn decode_body(
    body: &str,
    start_line: usize,
    start_column: usize,
) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    if is_encrypted_header(body) {
        return Err(KeyError::EncryptedPrivateKey);
    }

    let mut symbols = Zeroizing::new(String::with_capacity(body.len()));
    // (offset in `symbols`, input line) at the first symbol of each line.
    let mut line_starts: Vec<(usize, usize)> = Vec::new();
    let mut line = start_line;
    let mut column = start_column;

    for character in body.chars() {
        match character {
            '\n' => {
                line += 1;
                column = 1;
                continue;
            }
            ' ' | '\t' => {}
            'A'..='Z' | 'a'..='z' | '0'..='9' | '+' | '/' | '=' => {
                if line_starts.last().is_none_or(|&(_, last)| last != line) {
                    line_starts.push((symbols.len(), line));
                }
                symbols.push(character);
            }
            other => {
                return Err(KeyError::InvalidBase64 {
                    line,
                    detail: format!("character {other:?} at column {column} is not base64"),
                });
            }
        }
        column += 1;
    }

    let line_of = |offset: usize| {
        line_starts
            .iter()
            .rev()
            .find(|&&(start, _)| start <= offset)
            .map_or(start_line, |&(_, line)| line)
    };
    let last_line = line_starts.last().map_or(start_line, |&(_, line)| line);

    STANDARD
        .decode(symbols.as_bytes())
        .map(Zeroizing::new)
        .map_err(|err| match err {
            base64::DecodeError::InvalidByte(offset, byte) => KeyError::InvalidBase64 {
                line: line_of(offset),
                detail: format!("unexpected {:?} inside the base64 data", char::from(byte)),
            },
            base64::DecodeError::InvalidLength(len) => KeyError::InvalidBase64 {
                line: last_line,
                detail: format!(
                    "the body has {len} base64 symbols, which is not a valid length, so the \
                     key looks truncated"
                ),
            },
            base64::DecodeError::InvalidLastSymbol(offset, _) => KeyError::InvalidBase64 {
                line: line_of(offset),
                detail: "the last base64 symbol has non-zero unused bits, so the key looks \
                         truncated"
                    .into(),
            },
            base64::DecodeError::InvalidPadding => KeyError::InvalidBase64 {
                line: last_line,
                detail: "the '=' padding at the end is missing or wrong".into(),
            },
        })
}

/// Reports whether a PEM body carries RFC 1421 encryption headers.
fn is_encrypted_header(body: &str) -> bool {
    body.contains("Proc-Type:") || body.contains("DEK-Info:")
}

// ---------------------------------------------------------------------------
// JWK
// ---------------------------------------------------------------------------

/// JWK members this crate reads. Other members are skipped.
const JWK_MEMBERS: &[&str] = &[
    "kty", "n", "e", "crv", "x", "y", "use", "alg", "d", "p", "q", "dp", "dq", "qi", "oth", "keys",
];

/// Private-key members of RFC 7518 section 6, only detected and never decoded.
const JWK_PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth"];

/// The JWK members this crate reads.
struct JwkMembers {
    kty: Option<String>,
    n: Option<String>,
    e: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
    public_key_use: Option<String>,
    alg: Option<String>,
    has_private_members: bool,
    /// The object has a `keys` member, so it is a JWK Set rather than a JWK.
    is_key_set: bool,
}

impl JwkMembers {
    /// Reads the members of a JWK object. As in a serde struct of `Option` fields,
    /// a member that is `null` counts as absent, a listed member may appear only
    /// once, and members not listed are skipped unread.
    fn read(input: &str) -> Result<JwkMembers, String> {
        // Skipped members may nest without limit, but the input length bounds the depth.
        let document = json::read::parse_document(input.as_bytes(), MAX_KEY_INPUT_LEN)
            .map_err(|error| error.to_string())?;
        let root = document.root();
        let fields = root
            .fields(JWK_MEMBERS, Unknown::Skip)
            .map_err(|error| error.to_string())?;
        let string = |name: &str| {
            fields
                .optional(name)
                .map(|node| node.string())
                .transpose()
                .map_err(|error| error.to_string())
        };

        Ok(JwkMembers {
            kty: string("kty")?,
            n: string("n")?,
            e: string("e")?,
            crv: string("crv")?,
            x: string("x")?,
            y: string("y")?,
            public_key_use: string("use")?,
            alg: string("alg")?,
            has_private_members: JWK_PRIVATE_MEMBERS
                .iter()
                .any(|name| fields.optional(name).is_some()),
            is_key_set: fields.optional("keys").is_some(),
        })
    }
}

/// Base64url that accepts values with or without `=` padding.
const JWK_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn parse_jwk(input: &str) -> Result<ParsedKey, KeyError> {
    let members = JwkMembers::read(input)
        .map_err(|err| KeyError::InvalidJwk(format!("not a JWK JSON object: {err}")))?;
    if members.is_key_set {
        return Err(KeyError::InvalidJwk(
            "input is a JWK Set (it has a \"keys\" member); supply one JWK from it".into(),
        ));
    }

    let kty = members
        .kty
        .as_deref()
        .ok_or_else(|| KeyError::InvalidJwk("missing \"kty\" member".into()))?;
    let key = match kty {
        "RSA" => {
            let n = decode_jwk_member("n", members.n.as_deref())?;
            let e = decode_jwk_member("e", members.e.as_deref())?;
            PublicKey::from_rsa_components(&n, &e)?
        }
        "EC" => jwk_ec_key(&members)?,
        "oct" => {
            return Err(KeyError::UnsupportedKeyType(
                "JWK kty \"oct\" is a symmetric secret, not a public key".into(),
            ));
        }
        other => {
            return Err(KeyError::UnsupportedKeyType(format!(
                "JWK kty {:?}",
                truncate(other)
            )));
        }
    };

    let mut warnings = Vec::new();
    if members.has_private_members {
        warnings.push(
            "JWK contains private key members; they were ignored and only the public key \
             is used"
                .to_string(),
        );
    }
    if let Some(public_key_use) = members.public_key_use.as_deref()
        && public_key_use != "sig"
    {
        warnings.push(format!(
            "JWK \"use\" is {:?}, not \"sig\"; the key is used for signature verification \
             anyway",
            truncate(public_key_use)
        ));
    }
    if let Some(alg) = members.alg.as_deref() {
        match Algorithm::from_name(alg) {
            Some(algorithm) if key.fits(algorithm).is_err() => warnings.push(format!(
                "JWK \"alg\" is {alg}, which does not fit a {} key",
                key.kind()
            )),
            Some(_) => {}
            None => warnings.push(format!(
                "JWK \"alg\" {:?} is not a supported JWS algorithm",
                truncate(alg)
            )),
        }
    }

    Ok(finish_parsed_key(key, KeyFormat::Jwk, Vec::new(), warnings))
}

fn jwk_ec_key(members: &JwkMembers) -> Result<PublicKey, KeyError> {
    let crv = members
        .crv
        .as_deref()
        .ok_or_else(|| KeyError::InvalidJwk("EC JWK is missing the \"crv\" member".into()))?;
    let curve = Curve::from_jwk_name(crv)
        .ok_or_else(|| KeyError::UnsupportedCurve(format!("{:?}", truncate(crv))))?;

    let x = decode_jwk_member("x", members.x.as_deref())?;
    let y = decode_jwk_member("y", members.y.as_deref())?;
    for (name, coordinate) in [("x", &x), ("y", &y)] {
        if coordinate.len() != curve.coordinate_len() {
            return Err(KeyError::InvalidJwk(format!(
                "\"{name}\" is {} bytes, but {curve} coordinates are {} bytes",
                coordinate.len(),
                curve.coordinate_len()
            )));
        }
    }

    let mut point = Vec::with_capacity(curve.point_len());
    point.push(0x04);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    PublicKey::from_ec_point(curve, &point)
}

fn decode_jwk_member(name: &str, value: Option<&str>) -> Result<Vec<u8>, KeyError> {
    let value = value.ok_or_else(|| KeyError::InvalidJwk(format!("missing \"{name}\" member")))?;
    JWK_BASE64
        .decode(value)
        .map_err(|err| KeyError::InvalidJwk(format!("\"{name}\" is not valid base64url: {err}")))
}

/// Shortens a caller-supplied name for an error message.
fn truncate(value: &str) -> String {
    const MAX_CHARS: usize = 40;
    if value.chars().count() <= MAX_CHARS {
        value.to_string()
    } else {
        let prefix: String = value.chars().take(MAX_CHARS).collect();
        format!("{prefix}...")
    }
}

// ---------------------------------------------------------------------------
// Key store
// ---------------------------------------------------------------------------

/// One registered public key of a participant.
#[derive(Clone, Debug)]
pub struct KeyEntry {
    pub participant: String,
    pub key: Arc<PublicKey>,
    pub format: KeyFormat,
    pub repairs: Vec<PemRepair>,
    pub warnings: Vec<String>,
    /// Unix seconds at which the key was first seen, if known.
    pub first_seen: Option<i64>,
    /// Unix seconds from which the key is retired; `None` keeps it current.
    pub retire_after: Option<i64>,
}

impl KeyEntry {
    /// Returns the key id, as [`PublicKey::kid`].
    pub fn kid(&self) -> &str {
        self.key.kid()
    }

    /// Reports whether the key is current at `now` (unix seconds): it has no
    /// retirement time, or `now` is before it.
    pub fn is_active(&self, now: i64) -> bool {
        self.retire_after
            .is_none_or(|retire_after| now < retire_after)
    }
}

/// Public keys by participant id, with the reasons some participants have no usable key.
///
/// Participant ids are exact, case-sensitive strings. Lookups are ordered-map
/// lookups, so ids such as `__proto__` or `constructor` are ordinary ids. A
/// participant may have several keys at once to cover a rotation overlap.
#[derive(Default, Clone, Debug)]
pub struct KeyStore {
    /// Entries per participant, newest first (see [`KeyStore::entries`]).
    entries: SortedMap<String, Vec<KeyEntry>>,
    /// Participants whose configured key could not be used, with the reason.
    unusable: SortedMap<String, Unusable>,
}

/// The reason a participant's configured key cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Unusable {
    /// The error text.
    reason: String,
    /// True when the key is well-formed but of a type or curve no supported `alg`
    /// fits (Ed25519, P-521, DSA). The reference validator loads such keys and then
    /// rejects the `alg`, so the verifier reports a key/alg mismatch for them.
    unsupported_type: bool,
}

impl KeyStore {
    /// Creates an empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Inserts a parsed key for `participant` and returns its entry.
    ///
    /// A key whose kid the participant already has is not duplicated: its entry
    /// takes the new format, repairs, warnings and `retire_after`, and keeps the
    /// earlier of the two `first_seen` times. Inserting a key clears any unusable
    /// reason recorded for the participant.
    pub fn insert(
        &mut self,
        participant: &str,
        parsed: ParsedKey,
        first_seen: Option<i64>,
        retire_after: Option<i64>,
    ) -> &KeyEntry {
        self.unusable.remove(participant);
        let list = self.entries.get_or_insert_default(participant.to_string());

        let existing = list
            .iter()
            .position(|entry| entry.key.kid() == parsed.key.kid())
            .map(|index| list.remove(index));
        let entry = match existing {
            Some(mut entry) => {
                entry.format = parsed.format;
                entry.repairs = parsed.repairs;
                entry.warnings = parsed.warnings;
                entry.first_seen = earliest(entry.first_seen, first_seen);
                entry.retire_after = retire_after;
                entry
            }
            None => KeyEntry {
                participant: participant.to_string(),
                key: parsed.key,
                format: parsed.format,
                repairs: parsed.repairs,
                warnings: parsed.warnings,
                first_seen,
                retire_after,
            },
        };

        // Keep newest first: later `first_seen` first, unknown times last, and the
        // latest insert first among equal times.
        let index = list.partition_point(|other| other.first_seen > entry.first_seen);
        list.insert_mut(index, entry)
    }

    /// Parses `text` with [`parse_public_key`] and inserts the key with no times.
    ///
    /// On error, records the participant as unusable with the error message, unless
    /// it already has a key, and returns the error.
    pub fn insert_pem(&mut self, participant: &str, text: &str) -> Result<&KeyEntry, KeyError> {
        // An empty key is no key at all, as the reference validator's truthiness check
        // treats it: the participant stays unknown rather than unusable.
        if text.is_empty() {
            return Err(KeyError::NoPemBlock);
        }
        match parse_public_key(text) {
            Ok(parsed) => Ok(self.insert(participant, parsed, None, None)),
            Err(err) => {
                if self.entries(participant).is_empty() {
                    self.record_error(participant, &err);
                }
                Err(err)
            }
        }
    }

    /// Records that the key configured for `participant` is unusable, and why.
    pub fn mark_unusable(&mut self, participant: &str, reason: String) {
        let unusable = Unusable {
            reason,
            unsupported_type: false,
        };
        self.unusable.insert(participant.to_string(), unusable);
    }

    /// Records a key parse error for `participant`, noting whether the key was of an
    /// unsupported type or curve rather than malformed.
    pub fn record_error(&mut self, participant: &str, error: &KeyError) {
        let unsupported_type = match error {
            KeyError::UnsupportedCurve(_) => true,
            // A JWK "oct" key is a secret, which the reference rejects as unusable.
            KeyError::UnsupportedKeyType(detail) => !detail.contains("\"oct\""),
            _ => false,
        };
        let unusable = Unusable {
            reason: error.to_string(),
            unsupported_type,
        };
        self.unusable.insert(participant.to_string(), unusable);
    }

    /// Returns true when the participant's only configured key is well-formed but of a
    /// type or curve that no supported algorithm fits.
    pub fn has_unsupported_key_type(&self, participant: &str) -> bool {
        self.unusable
            .get(participant)
            .is_some_and(|unusable| unusable.unsupported_type)
    }

    /// Removes the participant's key with this kid; returns whether one was removed.
    pub fn remove(&mut self, participant: &str, kid: &str) -> bool {
        let Some(list) = self.entries.get_mut(participant) else {
            return false;
        };
        let before = list.len();
        list.retain(|entry| entry.key.kid() != kid);
        let removed = list.len() != before;
        if list.is_empty() {
            self.entries.remove(participant);
        }
        removed
    }

    /// Returns the participant's keys, newest first: later `first_seen` first,
    /// keys with no `first_seen` last, and the latest insert first among equal times.
    pub fn entries(&self, participant: &str) -> &[KeyEntry] {
        self.entries.get(participant).map_or(&[], Vec::as_slice)
    }

    /// Returns the participant's keys that are current at `now` (unix seconds), newest first.
    pub fn active(&self, participant: &str, now: i64) -> impl Iterator<Item = &KeyEntry> {
        self.entries(participant)
            .iter()
            .filter(move |entry| entry.is_active(now))
    }

    /// Returns why the key configured for `participant` is unusable, if recorded.
    pub fn unusable_reason(&self, participant: &str) -> Option<&str> {
        self.unusable
            .get(participant)
            .map(|unusable| unusable.reason.as_str())
    }

    /// Returns every participant id: those with keys in id order, then those with
    /// only an unusable reason in id order.
    pub fn participants(&self) -> impl Iterator<Item = &str> {
        let unusable_only = self
            .unusable
            .keys()
            .filter(|participant| !self.entries.contains_key(*participant));
        self.entries.keys().chain(unusable_only).map(String::as_str)
    }

    /// Returns every entry, by participant id and then newest first.
    pub fn all(&self) -> impl Iterator<Item = &KeyEntry> {
        self.entries.values().flatten()
    }

    /// Returns the first entry with this kid, in [`Self::all`] order.
    ///
    /// This scans every entry. The same key registered for two participants
    /// returns the entry of the participant whose id sorts first.
    pub fn find_kid(&self, kid: &str) -> Option<&KeyEntry> {
        self.all().find(|entry| entry.key.kid() == kid)
    }

    /// Returns the number of key entries over all participants.
    pub fn len(&self) -> usize {
        self.entries.values().map(Vec::len).sum()
    }

    /// Reports whether the store contains no key entries (unusable reasons aside).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn earliest(left: Option<i64>, right: Option<i64>) -> Option<i64> {
    match (left, right) {
        (Some(left), Some(right)) => Some(left.min(right)),
        (left, right) => left.or(right),
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;
    use crate::crypto::test_keys::*;
    use crate::crypto::{Algorithm, KeyType, RingVerifier, SignatureVerifier, SigningKey};
    use ring::rand::SystemRandom;
    use ring::signature::EcdsaKeyPair;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING};

    fn pem(label: &str, der: &[u8]) -> String {
        crate::crypto::encode_pem(label, der)
    }

    fn generated_ec_pkcs8(curve: Curve) -> Vec<u8> {
        let algorithm = match curve {
            Curve::P256 => &ECDSA_P256_SHA256_FIXED_SIGNING,
            Curve::P384 => &ECDSA_P384_SHA384_FIXED_SIGNING,
        };
        EcdsaKeyPair::generate_pkcs8(algorithm, &SystemRandom::new())
            .unwrap()
            .as_ref()
            .to_vec()
    }

    /// Rewrites a ring PKCS #8 EC key as SEC1 `EC PRIVATE KEY` DER with the curve named.
    fn sec1_from_pkcs8(curve_oid: &str, pkcs8_der: &[u8]) -> Vec<u8> {
        use der::{Decode, Encode};
        let info = pkcs8::PrivateKeyInfoRef::from_der(pkcs8_der).unwrap();
        let inner = sec1::EcPrivateKey::from_der(info.private_key.as_bytes()).unwrap();
        let oid = der::asn1::ObjectIdentifier::new(curve_oid).unwrap();
        sec1::EcPrivateKey {
            parameters: Some(sec1::EcParameters::NamedCurve(oid)),
            ..inner
        }
        .to_der()
        .unwrap()
    }

    fn one_line(pem: &str, separator: &str) -> String {
        pem.trim_end()
            .split('\n')
            .collect::<Vec<_>>()
            .join(separator)
    }

    fn p256_parsed() -> ParsedKey {
        parse_public_key(EC_P256_SPKI).unwrap()
    }

    fn rsa_parsed() -> ParsedKey {
        parse_public_key(RSA2048_SPKI).unwrap()
    }

    // --- formats ---

    #[test]
    fn spki_pem_parses_cleanly() {
        let parsed = rsa_parsed();
        assert_eq!(parsed.format, KeyFormat::SpkiPem);
        assert_eq!(parsed.key.kid(), RSA2048_KID);
        assert_eq!(parsed.repairs, Vec::<PemRepair>::new());
        assert_eq!(parsed.warnings, Vec::<String>::new());
    }

    #[test]
    fn ec_spki_pem_parses() {
        let parsed = p256_parsed();
        assert_eq!(parsed.format, KeyFormat::SpkiPem);
        assert_eq!(parsed.key.kind(), KeyKind::Ec(Curve::P256));
        assert_eq!(parsed.key.kid(), EC_P256_KID);
    }

    #[test]
    fn pkcs1_public_pem_parses() {
        let parsed = parse_public_key(RSA2048_PKCS1_PUBLIC).unwrap();
        assert_eq!(parsed.format, KeyFormat::Pkcs1Pem);
        assert_eq!(parsed.key.kid(), RSA2048_KID);
    }

    #[test]
    fn certificate_spki_extracted() {
        let parsed = parse_public_key(RSA2048_CERTIFICATE).unwrap();
        assert_eq!(parsed.format, KeyFormat::CertificatePem);
        assert_eq!(parsed.key.kid(), RSA2048_KID);
        assert_eq!(parsed.key.to_pem(), RSA2048_SPKI);
    }

    #[test]
    fn rsa_jwk_parses() {
        let parsed = parse_public_key(RSA2048_JWK).unwrap();
        assert_eq!(parsed.format, KeyFormat::Jwk);
        assert_eq!(parsed.key.kid(), RSA2048_KID);
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    }

    #[test]
    fn ec_jwk_parses() {
        let parsed = parse_public_key(EC_P256_JWK).unwrap();
        assert_eq!(parsed.format, KeyFormat::Jwk);
        assert_eq!(parsed.key.kid(), EC_P256_KID);
    }

    #[test]
    fn spki_der_parses() {
        let der = decode_pem(RSA2048_SPKI).unwrap().der;
        let parsed = parse_spki_der(&der).unwrap();
        assert_eq!(parsed.format, KeyFormat::SpkiDer);
        assert_eq!(parsed.key.kid(), RSA2048_KID);
    }

    #[test]
    fn kid_stable_across_formats() {
        let inputs = [
            RSA2048_SPKI,
            RSA2048_PKCS1_PUBLIC,
            RSA2048_CERTIFICATE,
            RSA2048_JWK,
            RSA2048_PKCS1_PRIVATE,
            RSA2048_PKCS8_PRIVATE,
        ];
        for input in inputs {
            let parsed = parse_public_key(input).unwrap();
            assert_eq!(parsed.key.kid(), RSA2048_KID, "{:?}", parsed.format);
        }
        for input in [EC_P256_SPKI, EC_P256_JWK, EC_P256_SEC1_PRIVATE] {
            let parsed = parse_public_key(input).unwrap();
            assert_eq!(parsed.key.kid(), EC_P256_KID, "{:?}", parsed.format);
        }
    }

    // --- private keys ---

    fn assert_private_derivation(parsed: &ParsedKey) {
        assert_eq!(parsed.format, KeyFormat::PrivateKeyPem);
        assert!(
            parsed
                .warnings
                .iter()
                .any(|w| w.contains("private key supplied")),
            "{:?}",
            parsed.warnings
        );
    }

    #[test]
    fn rsa_pkcs1_private_key_derives_public() {
        let parsed = parse_public_key(RSA2048_PKCS1_PRIVATE).unwrap();
        assert_private_derivation(&parsed);
        assert_eq!(parsed.key.kid(), RSA2048_KID);
    }

    #[test]
    fn rsa_pkcs8_private_key_derives_public() {
        let parsed = parse_public_key(RSA2048_PKCS8_PRIVATE).unwrap();
        assert_private_derivation(&parsed);
        assert_eq!(parsed.key.kid(), RSA2048_KID);
    }

    #[test]
    fn ec_sec1_private_key_derives_public() {
        let parsed = parse_public_key(EC_P256_SEC1_PRIVATE).unwrap();
        assert_private_derivation(&parsed);
        assert_eq!(parsed.key.kid(), EC_P256_KID);
    }

    #[test]
    fn ec_pkcs8_private_key_derives_public() {
        for curve in [Curve::P256, Curve::P384] {
            let pkcs8 = generated_ec_pkcs8(curve);
            let private_pem = pem("PRIVATE KEY", &pkcs8);
            let parsed = parse_public_key(&private_pem).unwrap();
            assert_private_derivation(&parsed);
            assert_eq!(parsed.key.kind(), KeyKind::Ec(curve));
            let signer = SigningKey::from_pem(&private_pem).unwrap();
            assert_eq!(parsed.key.kid(), signer.public_key().kid());
        }
    }

    #[test]
    fn ec_p384_sec1_private_key_derives_public() {
        let pkcs8 = generated_ec_pkcs8(Curve::P384);
        let sec1_pem = pem("EC PRIVATE KEY", &sec1_from_pkcs8("1.3.132.0.34", &pkcs8));
        let parsed = parse_public_key(&sec1_pem).unwrap();
        assert_private_derivation(&parsed);
        assert_eq!(parsed.key.kind(), KeyKind::Ec(Curve::P384));

        let signer = SigningKey::from_pem(&sec1_pem).unwrap();
        assert_eq!(signer.public_key().kid(), parsed.key.kid());
        // The SDK picks ES256 for any SEC1 PEM, which a P-384 key cannot sign.
        assert_eq!(signer.sdk_algorithm(), Algorithm::ES256);
        assert!(signer.sign(Algorithm::ES256, MESSAGE).is_err());
    }

    #[test]
    fn ec_parameters_block_skipped() {
        let der = decode_pem(EC_P256_SEC1_PRIVATE).unwrap().der;
        let input = format!(
            "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n{}",
            pem("EC PRIVATE KEY", &der)
        );
        let parsed = parse_public_key(&input).unwrap();
        assert_eq!(parsed.key.kid(), EC_P256_KID);
        assert!(parsed.repairs.is_empty(), "{:?}", parsed.repairs);
        assert_eq!(parsed.warnings.len(), 1, "{:?}", parsed.warnings);
    }

    #[test]
    fn encrypted_private_key_rejected() {
        let input = pem("ENCRYPTED PRIVATE KEY", &[0x30, 0x00]);
        assert_eq!(
            parse_public_key(&input).unwrap_err(),
            KeyError::EncryptedPrivateKey
        );

        let legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\
                      DEK-Info: AES-128-CBC,0011\n\nMIIB\n-----END RSA PRIVATE KEY-----\n";
        assert_eq!(
            parse_public_key(legacy).unwrap_err(),
            KeyError::EncryptedPrivateKey
        );
    }

    #[test]
    fn unsupported_label_rejected() {
        let input = pem("X509 CRL", &[0x30, 0x00]);
        assert_eq!(
            parse_public_key(&input).unwrap_err(),
            KeyError::UnsupportedPemLabel("X509 CRL".into())
        );
    }

    // --- PEM repairs ---

    #[test]
    fn single_line_with_spaces_repaired() {
        let input = one_line(RSA2048_SPKI, " ");
        let parsed = parse_public_key(&input).unwrap();
        assert_eq!(parsed.key.kid(), RSA2048_KID);
        assert_eq!(
            parsed.repairs,
            vec![PemRepair::MissingFinalNewline, PemRepair::SingleLine]
        );
    }

    #[test]
    fn single_line_without_spaces_repaired() {
        let input = format!("{}\n", one_line(EC_P256_SPKI, ""));
        let parsed = parse_public_key(&input).unwrap();
        assert_eq!(parsed.key.kid(), EC_P256_KID);
        assert_eq!(parsed.repairs, vec![PemRepair::SingleLine]);
    }

    #[test]
    fn crlf_line_endings_repaired() {
        let input = RSA2048_SPKI.replace('\n', "\r\n");
        let parsed = parse_public_key(&input).unwrap();
        assert_eq!(parsed.key.kid(), RSA2048_KID);
        assert_eq!(parsed.repairs, vec![PemRepair::CrlfLineEndings]);
    }

    #[test]
    fn missing_final_newline_repaired() {
        let parsed = parse_public_key(RSA2048_SPKI.trim_end()).unwrap();
        assert_eq!(parsed.key.kid(), RSA2048_KID);
        assert_eq!(parsed.repairs, vec![PemRepair::MissingFinalNewline]);
    }

    #[test]
    fn literal_backslash_n_repaired() {
        let input = RSA2048_SPKI.replace('\n', "\\n");
        let parsed = parse_public_key(&input).unwrap();
        assert_eq!(parsed.key.kid(), RSA2048_KID);
        assert_eq!(parsed.repairs, vec![PemRepair::LiteralBackslashN]);
    }

    #[test]
    fn literal_backslash_r_n_repaired() {
        let input = EC_P256_SPKI.replace('\n', "\\r\\n");
        let parsed = parse_public_key(&input).unwrap();
        assert_eq!(parsed.key.kid(), EC_P256_KID);
        assert_eq!(parsed.repairs, vec![PemRepair::LiteralBackslashN]);
    }

    #[test]
    fn surrounding_whitespace_repaired() {
        let input = format!("\n  {RSA2048_SPKI}\n\t \n");
        let parsed = parse_public_key(&input).unwrap();
        assert_eq!(parsed.key.kid(), RSA2048_KID);
        assert_eq!(parsed.repairs, vec![PemRepair::SurroundingWhitespace]);
    }

    #[test]
    fn marker_sharing_line_repaired() {
        let input = EC_P256_SPKI.replace("-----\nMFkw", "-----MFkw");
        let parsed = parse_public_key(&input).unwrap();
        assert_eq!(parsed.key.kid(), EC_P256_KID);
        assert_eq!(parsed.repairs, vec![PemRepair::MarkerSharesLine]);
    }

    #[test]
    fn combined_damage_repaired() {
        let input = format!("  {}  ", one_line(RSA2048_SPKI, "\\n"));
        let parsed = parse_public_key(&input).unwrap();
        assert_eq!(parsed.key.kid(), RSA2048_KID);
        assert_eq!(
            parsed.repairs,
            vec![
                PemRepair::LiteralBackslashN,
                PemRepair::SurroundingWhitespace,
                PemRepair::MissingFinalNewline
            ]
        );
    }

    #[test]
    fn repairs_have_messages() {
        assert_eq!(
            PemRepair::SingleLine.to_string(),
            "PEM had no line breaks; its body was read as one base64 run between the markers"
        );
        assert!(PemRepair::LiteralBackslashN.to_string().contains("\\n"));
    }

    #[test]
    fn text_around_block_warned() {
        let input = format!("Bag Attributes\n{RSA2048_SPKI}trailer\n");
        let parsed = parse_public_key(&input).unwrap();
        assert_eq!(parsed.key.kid(), RSA2048_KID);
        assert_eq!(parsed.warnings.len(), 1, "{:?}", parsed.warnings);
        assert!(
            parsed.warnings[0].contains("20 non-whitespace"),
            "{:?}",
            parsed.warnings
        );
    }

    #[test]
    fn extra_blocks_warned() {
        let input = format!("{RSA2048_SPKI}{EC_P256_SPKI}");
        let parsed = parse_public_key(&input).unwrap();
        assert_eq!(parsed.key.kid(), RSA2048_KID);
        assert!(
            parsed.warnings[0].contains("1 more PEM block"),
            "{:?}",
            parsed.warnings
        );
    }

    // --- PEM errors ---

    #[test]
    fn non_base64_character_names_line() {
        let input = RSA2048_SPKI.replacen("j8MvZ6", "j8Mv#6", 1);
        let err = parse_public_key(&input).unwrap_err();
        assert_eq!(
            err,
            KeyError::InvalidBase64 {
                line: 3,
                detail: "character '#' at column 5 is not base64".into()
            }
        );
        assert!(err.to_string().contains("line 3"), "{err}");
    }

    #[test]
    fn non_base64_in_single_line_names_column() {
        let input = one_line(EC_P256_SPKI, " ").replacen("MFkw", "MF_w", 1);
        let err = parse_public_key(&input).unwrap_err();
        assert_eq!(
            err,
            KeyError::InvalidBase64 {
                line: 1,
                detail: "character '_' at column 30 is not base64".into()
            }
        );
    }

    #[test]
    fn truncated_body_is_base64_error() {
        let input = RSA2048_SPKI.replace("0wIDAQAB\n", "0wIDAQA\n");
        let err = parse_public_key(&input).unwrap_err();
        assert!(
            matches!(err, KeyError::InvalidBase64 { line: 8, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn missing_end_line_is_error() {
        let input = RSA2048_SPKI.replace("-----END PUBLIC KEY-----\n", "");
        let err = parse_public_key(&input).unwrap_err();
        assert!(matches!(err, KeyError::MalformedPem(_)), "{err:?}");
        assert!(err.to_string().contains("truncated"), "{err}");
    }

    #[test]
    fn mismatched_labels_are_error() {
        let input = RSA2048_SPKI.replace("END PUBLIC KEY", "END RSA PUBLIC KEY");
        let err = parse_public_key(&input).unwrap_err();
        assert!(err.to_string().contains("does not match"), "{err}");
    }

    #[test]
    fn empty_body_is_error() {
        let err =
            parse_public_key("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n").unwrap_err();
        assert!(matches!(err, KeyError::MalformedPem(_)), "{err:?}");
    }

    #[test]
    fn plain_text_is_no_pem_block() {
        assert_eq!(
            parse_public_key("not a key").unwrap_err(),
            KeyError::NoPemBlock
        );
        assert_eq!(parse_public_key("").unwrap_err(), KeyError::NoPemBlock);
    }

    #[test]
    fn oversized_input_rejected() {
        let input = format!("{RSA2048_SPKI}{}", " ".repeat(MAX_KEY_INPUT_LEN));
        let err = parse_public_key(&input).unwrap_err();
        assert_eq!(
            err,
            KeyError::TooLarge {
                len: input.len(),
                max: MAX_KEY_INPUT_LEN
            }
        );
        assert!(SigningKey::from_pem(&input).is_err());
    }

    #[test]
    fn garbage_der_body_is_der_error() {
        let input = pem("PUBLIC KEY", b"not DER at all");
        let err = parse_public_key(&input).unwrap_err();
        assert!(matches!(err, KeyError::InvalidDer(_)), "{err:?}");
        let input = pem("CERTIFICATE", &[0x30, 0x82, 0x01]);
        let err = parse_public_key(&input).unwrap_err();
        assert!(matches!(err, KeyError::InvalidDer(_)), "{err:?}");
    }

    #[test]
    fn truncated_certificate_is_error() {
        let der = decode_pem(RSA2048_CERTIFICATE).unwrap().der;
        for len in (0..der.len()).step_by(7) {
            let input = pem("CERTIFICATE", der.get(..len).unwrap());
            assert!(parse_public_key(&input).is_err(), "prefix {len}");
        }
    }

    #[test]
    fn error_messages_do_not_echo_key_bytes() {
        let spki = decode_pem(RSA2048_SPKI).unwrap().der;
        let truncated = pem("PUBLIC KEY", spki.get(..200).unwrap());
        let message = parse_public_key(&truncated).unwrap_err().to_string();
        let body_line = truncated.lines().nth(1).unwrap();
        assert!(!message.contains(body_line.get(..12).unwrap()), "{message}");
    }

    #[test]
    fn rsa1024_key_warned() {
        let parsed = parse_public_key(RSA1024_SPKI).unwrap();
        assert_eq!(parsed.key.kind(), KeyKind::Rsa { bits: 1024 });
        assert_eq!(parsed.warnings.len(), 1);
        assert!(
            parsed.warnings[0].contains("1024 bits"),
            "{:?}",
            parsed.warnings
        );
    }

    // --- JWK ---

    #[test]
    fn jwk_round_trip() {
        for parsed in [rsa_parsed(), p256_parsed()] {
            let jwk = parsed.key.to_jwk();
            let again = parse_public_key(&jwk).unwrap();
            assert_eq!(again.format, KeyFormat::Jwk);
            assert_eq!(again.key, parsed.key);
            assert!(again.warnings.is_empty(), "{:?}", again.warnings);
        }
    }

    #[test]
    fn jwk_p384_round_trip() {
        let pkcs8 = generated_ec_pkcs8(Curve::P384);
        let parsed = parse_public_key(&pem("PRIVATE KEY", &pkcs8)).unwrap();
        let again = parse_public_key(&parsed.key.to_jwk()).unwrap();
        assert_eq!(again.key.kind(), KeyKind::Ec(Curve::P384));
        assert_eq!(again.key.kid(), parsed.key.kid());
    }

    #[test]
    fn jwk_oct_rejected() {
        let err = parse_public_key(r#"{"kty":"oct","k":"c2VjcmV0"}"#).unwrap_err();
        assert!(matches!(err, KeyError::UnsupportedKeyType(_)), "{err:?}");
    }

    #[test]
    fn jwk_private_members_ignored() {
        let input = RSA2048_JWK.replace(r#""e":"AQAB""#, r#""e":"AQAB","d":"AAAA","p":"AAAA""#);
        let parsed = parse_public_key(&input).unwrap();
        assert_eq!(parsed.key.kid(), RSA2048_KID);
        assert_eq!(parsed.warnings.len(), 1, "{:?}", parsed.warnings);
        assert!(
            parsed.warnings[0].contains("private"),
            "{:?}",
            parsed.warnings
        );
    }

    #[test]
    fn jwk_set_rejected() {
        let input = format!(r#"{{"keys":[{RSA2048_JWK}]}}"#);
        let err = parse_public_key(&input).unwrap_err();
        assert!(err.to_string().contains("JWK Set"), "{err}");
    }

    #[test]
    fn jwk_missing_members_rejected() {
        let cases = [
            r#"{"n":"AQAB","e":"AQAB"}"#,
            r#"{"kty":"RSA","e":"AQAB"}"#,
            r#"{"kty":"EC","x":"AA","y":"AA"}"#,
            r#"{"kty":"EC","crv":"P-256","x":"AA"}"#,
        ];
        for input in cases {
            let err = parse_public_key(input).unwrap_err();
            assert!(matches!(err, KeyError::InvalidJwk(_)), "{input}: {err:?}");
        }
    }

    #[test]
    fn jwk_unsupported_curve_rejected() {
        let input = EC_P256_JWK.replace("P-256", "P-521");
        let err = parse_public_key(&input).unwrap_err();
        assert_eq!(err, KeyError::UnsupportedCurve("\"P-521\"".into()));
    }

    #[test]
    fn jwk_short_coordinate_rejected() {
        let input = EC_P256_JWK.replace("aHq1jpF02vjvIM_xTCo1PN5i5LrLhiRYlBwjtt7_0dk", "aHq1");
        let err = parse_public_key(&input).unwrap_err();
        assert!(err.to_string().contains("\"x\" is 3 bytes"), "{err}");
    }

    #[test]
    fn jwk_invalid_json_rejected() {
        for input in [
            "{",
            r#"{"kty":"RSA","n":1,"e":"AQAB"}"#,
            r#"{"kty":"RSA","kty":"EC"}"#,
            r#"{"kty":"RSA","n":"!!","e":"AQAB"}"#,
        ] {
            let err = parse_public_key(input).unwrap_err();
            assert!(matches!(err, KeyError::InvalidJwk(_)), "{input}: {err:?}");
        }
    }

    #[test]
    fn jwk_alg_and_use_mismatch_warned() {
        let input = EC_P256_JWK.replace(r#""kty":"EC""#, r#""kty":"EC","alg":"RS256","use":"enc""#);
        let parsed = parse_public_key(&input).unwrap();
        assert_eq!(parsed.warnings.len(), 2, "{:?}", parsed.warnings);
    }

    // --- key store ---

    #[test]
    fn store_insert_and_lookup() {
        let mut store = KeyStore::new();
        assert!(store.is_empty());
        let entry = store.insert("payerfsp", rsa_parsed(), Some(100), None);
        assert_eq!(entry.participant, "payerfsp");
        assert_eq!(entry.kid(), RSA2048_KID);
        assert_eq!(store.len(), 1);
        assert_eq!(store.entries("payerfsp").len(), 1);
        assert!(store.entries("payeefsp").is_empty());
        assert_eq!(store.find_kid(RSA2048_KID).unwrap().participant, "payerfsp");
        assert!(store.find_kid(EC_P256_KID).is_none());
    }

    #[test]
    fn store_ids_are_exact() {
        let mut store = KeyStore::new();
        store.insert("payerfsp", rsa_parsed(), None, None);
        assert!(store.entries("PayerFSP").is_empty());
        assert!(store.entries("payerfsp ").is_empty());
        assert!(store.entries("__proto__").is_empty());
        assert!(store.entries("constructor").is_empty());
        store.insert("__proto__", p256_parsed(), None, None);
        assert_eq!(store.entries("__proto__").len(), 1);
        assert_eq!(store.entries("payerfsp").len(), 1);
    }

    #[test]
    fn store_same_kid_updates_times() {
        let mut store = KeyStore::new();
        store.insert("payerfsp", rsa_parsed(), Some(200), None);
        let entry = store.insert(
            "payerfsp",
            parse_public_key(RSA2048_JWK).unwrap(),
            Some(100),
            Some(900),
        );
        assert_eq!(entry.first_seen, Some(100));
        assert_eq!(entry.retire_after, Some(900));
        assert_eq!(entry.format, KeyFormat::Jwk);
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn store_rotation_overlap() {
        let mut store = KeyStore::new();
        store.insert("payerfsp", rsa_parsed(), Some(100), Some(1_000));
        store.insert("payerfsp", p256_parsed(), Some(500), None);

        let kids: Vec<&str> = store
            .entries("payerfsp")
            .iter()
            .map(KeyEntry::kid)
            .collect();
        assert_eq!(kids, vec![EC_P256_KID, RSA2048_KID]);

        let during: Vec<&str> = store.active("payerfsp", 999).map(KeyEntry::kid).collect();
        assert_eq!(during, vec![EC_P256_KID, RSA2048_KID]);
        let after: Vec<&str> = store.active("payerfsp", 1_000).map(KeyEntry::kid).collect();
        assert_eq!(after, vec![EC_P256_KID]);
    }

    #[test]
    fn store_newest_first_without_times() {
        let mut store = KeyStore::new();
        store.insert("payerfsp", rsa_parsed(), None, None);
        store.insert("payerfsp", p256_parsed(), None, None);
        store.insert(
            "payerfsp",
            parse_public_key(RSA1024_SPKI).unwrap(),
            Some(5),
            None,
        );
        let kids: Vec<&str> = store
            .entries("payerfsp")
            .iter()
            .map(KeyEntry::kid)
            .collect();
        assert_eq!(kids, vec![RSA1024_KID, EC_P256_KID, RSA2048_KID]);
    }

    #[test]
    fn store_insert_pem_error_marks_unusable() {
        let mut store = KeyStore::new();
        let err = store
            .insert_pem("payeefsp", "-----BEGIN PUBLIC KEY-----\nMIIB")
            .unwrap_err();
        assert_eq!(
            store.unusable_reason("payeefsp"),
            Some(err.to_string().as_str())
        );
        assert!(store.entries("payeefsp").is_empty());
        assert_eq!(store.participants().collect::<Vec<_>>(), vec!["payeefsp"]);

        store.insert_pem("payeefsp", RSA2048_SPKI).unwrap();
        assert_eq!(store.unusable_reason("payeefsp"), None);
    }

    #[test]
    fn store_insert_pem_error_keeps_usable_key() {
        let mut store = KeyStore::new();
        store.insert_pem("payeefsp", RSA2048_SPKI).unwrap();
        assert!(store.insert_pem("payeefsp", "garbage").is_err());
        assert_eq!(store.unusable_reason("payeefsp"), None);
        assert_eq!(store.entries("payeefsp").len(), 1);
    }

    #[test]
    fn store_empty_pem_leaves_participant_unknown() {
        let mut store = KeyStore::new();
        assert!(store.insert_pem("payerfsp", "").is_err());
        assert_eq!(store.unusable_reason("payerfsp"), None);
        assert_eq!(store.participants().count(), 0);
    }

    #[test]
    fn store_mark_unusable() {
        let mut store = KeyStore::new();
        store.mark_unusable("switch", "MCM returned no certificate".into());
        assert_eq!(
            store.unusable_reason("switch"),
            Some("MCM returned no certificate")
        );
        assert!(store.is_empty());
    }

    #[test]
    fn store_remove() {
        let mut store = KeyStore::new();
        store.insert("payerfsp", rsa_parsed(), None, None);
        store.insert("payerfsp", p256_parsed(), None, None);
        assert!(!store.remove("payerfsp", "no-such-kid"));
        assert!(!store.remove("payeefsp", RSA2048_KID));
        assert!(store.remove("payerfsp", RSA2048_KID));
        assert_eq!(store.len(), 1);
        assert!(store.remove("payerfsp", EC_P256_KID));
        assert!(store.is_empty());
        assert_eq!(store.participants().count(), 0);
    }

    #[test]
    fn store_participants_and_all() {
        let mut store = KeyStore::new();
        store.insert("payerfsp", rsa_parsed(), None, None);
        store.insert("payeefsp", p256_parsed(), None, None);
        store.insert("payeefsp", rsa_parsed(), None, None);
        store.mark_unusable("broken", "bad".into());
        store.mark_unusable("payerfsp", "older failure".into());

        let participants: Vec<&str> = store.participants().collect();
        assert_eq!(participants, vec!["payeefsp", "payerfsp", "broken"]);
        assert_eq!(store.all().count(), 3);
        assert_eq!(store.len(), 3);
        assert_eq!(store.find_kid(RSA2048_KID).unwrap().participant, "payeefsp");
    }

    #[test]
    fn store_shares_parsed_key() {
        let parsed = rsa_parsed();
        let key = Arc::clone(&parsed.key);
        let mut store = KeyStore::new();
        let entry = store.insert("payerfsp", parsed, None, None);
        assert!(Arc::ptr_eq(&entry.key, &key));
    }

    #[test]
    fn stored_key_verifies() {
        let mut store = KeyStore::new();
        store.insert_pem("payerfsp", RSA2048_CERTIFICATE).unwrap();
        let signer = SigningKey::from_pem(RSA2048_PKCS1_PRIVATE).unwrap();
        let signature = signer.sign(Algorithm::RS256, MESSAGE).unwrap();
        let entry = store.active("payerfsp", 0).next().unwrap();
        assert_eq!(entry.key.kind().key_type(), KeyType::Rsa);
        let result = RingVerifier.verify(&entry.key, Algorithm::RS256, MESSAGE, &signature);
        assert_eq!(result, Ok(()));
    }

    #[test]
    fn garbage_pem_does_not_panic() {
        let mut state: u64 = 7;
        for round in 0..400 {
            let len = round % 300;
            let text: String = (0..len)
                .map(|_| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    let alphabet = b"-ABEGINPUBLICKEY \n\r\\n=+/{}\":,MIIB0";
                    let index = (state >> 33) as usize % alphabet.len();
                    char::from(alphabet[index])
                })
                .collect();
            let _ = parse_public_key(&text);
            let _ = parse_public_key(&format!(
                "-----BEGIN PUBLIC KEY-----{text}-----END PUBLIC KEY-----"
            ));
            let _ = SigningKey::from_pem(&format!("-----BEGIN EC PRIVATE KEY-----\n{text}"));
        }
    }
}
