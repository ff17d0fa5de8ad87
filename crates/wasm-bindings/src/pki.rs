//! Certificate chain, certificate request and bearer JWT checks, and inspection of PEM or
//! DER certificates and certificate requests.
//!
//! Each function returns its report as JSON text for `JSON.parse`, with the fields that
//! `fspiop-guard chain --json`, `csr --json` and `inspect --cert --json` print for the same
//! input, policy and time. A rejected chain, CSR or token is a report with `valid: false`
//! and a reason code. Wrong argument types and sizes throw typed errors (see
//! [`crate::error`]).

use fspiop_guard_core::jwt::{self, JwtPolicy, VerifiedJwt};
use fspiop_guard_core::pki::chain::{self, ChainPolicy, Usage};
use fspiop_guard_core::pki::csr::{self, CsrKeyType, CsrPolicy};
use fspiop_guard_core::pki::inspect::{CertificateInfo, CsrInfo, inspect_certificate, inspect_csr};
use fspiop_guard_core::pki::pem::{self, BlockKind};
use fspiop_guard_core::pki::{PkiError, PkiVerdict, Warning};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::error::{BindingError, ErrorCode};
use crate::input;
use crate::keystore::KeyStoreHandle;

/// Maximum length of a name option (usage, policy, key type), in UTF-16 code units.
const MAX_NAME_CHARS: usize = 64;
/// Maximum length of `expectedName`. A DNS name has at most 253 characters and an IPv6
/// address at most 45, so a longer value can never match.
const MAX_EXPECTED_NAME_CHARS: usize = 1024;
/// Maximum number of entries in a list option (algorithms, issuers, audiences, fields).
const MAX_LIST_ENTRIES: usize = 64;
/// Maximum length of one issuer or audience, in UTF-16 code units.
const MAX_CLAIM_CHARS: usize = 4096;
/// Maximum token length read into the wasm, in UTF-16 code units. The core rejects a
/// token over [`jwt::MAX_TOKEN_LEN`] bytes with `JWT_TOO_LARGE`; this limit only bounds
/// the copy.
const MAX_TOKEN_CHARS: usize = 1024 * 1024;
/// Largest `leewaySeconds`: one day. A larger skew means a broken clock, not skew.
const MAX_LEEWAY_SECONDS: u32 = 86_400;
/// Subject attributes a CSR policy can require (as `fspiop-guard csr --require-subject`).
const SUBJECT_FIELDS: [&str; 7] = ["CN", "O", "OU", "C", "ST", "L", "E"];

/// Verifies a certificate bundle (a leaf and its intermediates, in any order) against
/// trust anchors and returns the report as JSON text, with the fields of
/// `fspiop-guard chain --json`.
///
/// `bundle` and `anchors` are PEM text, or PEM or DER bytes, of at most 1 MiB each.
/// `options` is `{usage?: "client" | "server", at?, policy?: "default" | "mcm",
/// expectedName?, minRsaBits?}`; `at` is unix seconds or a `Date` and defaults to now.
#[wasm_bindgen(js_name = checkChainJson)]
pub fn check_chain_json(
    bundle: JsValue,
    anchors: JsValue,
    options: JsValue,
) -> Result<String, JsValue> {
    let bundle = input::text_or_bytes(&bundle, "bundle", pem::MAX_BUNDLE_LEN)?;
    let anchors = input::text_or_bytes(&anchors, "anchors", pem::MAX_BUNDLE_LEN)?;
    let (policy, now) = chain_options(&options)?;
    let report = chain::verify_bundle(&bundle, &anchors, now, &policy);
    Ok(crate::to_json(&report)?)
}

fn chain_options(value: &JsValue) -> Result<(ChainPolicy, i64), BindingError> {
    let field = "options";
    if input::is_absent(value) {
        return Ok((ChainPolicy::new(Usage::ClientAuth), input::now_seconds()));
    }
    if !value.is_object() {
        return Err(BindingError::invalid(field, "must be an object"));
    }

    let usage_name = input::optional_string(
        &input::member(value, "usage", field)?,
        "options.usage",
        MAX_NAME_CHARS,
    )?;
    let usage = match usage_name.as_deref() {
        None => Usage::ClientAuth,
        Some(name) => Usage::from_name(name).ok_or_else(|| {
            BindingError::invalid(
                "options.usage",
                format!("unknown usage {name:?}; use 'client' or 'server'"),
            )
        })?,
    };
    let policy_name = input::optional_string(
        &input::member(value, "policy", field)?,
        "options.policy",
        MAX_NAME_CHARS,
    )?;
    let mut policy = match policy_name.as_deref() {
        None | Some("default") => ChainPolicy::new(usage),
        Some("mcm") => ChainPolicy::mcm(usage),
        Some(other) => {
            return Err(BindingError::invalid(
                "options.policy",
                format!("unknown policy {other:?}; use 'default' or 'mcm'"),
            ));
        }
    };
    if let Some(bits) = input::optional_whole_number(
        &input::member(value, "minRsaBits", field)?,
        "options.minRsaBits",
        u32::MAX,
    )? {
        policy.min_rsa_bits = bits;
    }
    policy.expected_name = input::optional_string(
        &input::member(value, "expectedName", field)?,
        "options.expectedName",
        MAX_EXPECTED_NAME_CHARS,
    )?;
    let now = input::time(&input::member(value, "at", field)?, "options.at")?
        .unwrap_or_else(input::now_seconds);
    Ok((policy, now))
}

/// Checks a PKCS #10 certificate request against the Hub's signing policy and returns the
/// report as JSON text, with the fields of `fspiop-guard csr --json`.
///
/// `request` is PEM text, or PEM or DER bytes, of at most 1 MiB. `options` is
/// `{policy?: "mcm" | {minRsaBits?, requiredSubjectFields?, allowedSignatureAlgorithms?,
/// allowedKeyTypes?}}`; a policy object changes the named fields of MCM's policy.
#[wasm_bindgen(js_name = checkCsrJson)]
pub fn check_csr_json(request: JsValue, options: JsValue) -> Result<String, JsValue> {
    let input = input::text_or_bytes(&request, "csr", pem::MAX_BUNDLE_LEN)?;
    let policy = csr_options(&options)?;
    let report = csr::check_csr(&input, &policy);
    Ok(crate::to_json(&report)?)
}

fn csr_options(value: &JsValue) -> Result<CsrPolicy, BindingError> {
    if input::is_absent(value) {
        return Ok(CsrPolicy::mcm());
    }
    if !value.is_object() {
        return Err(BindingError::invalid("options", "must be an object"));
    }
    let policy = input::member(value, "policy", "options")?;
    if input::is_absent(&policy) {
        return Ok(CsrPolicy::mcm());
    }
    if policy.is_string() {
        let name = input::string(&policy, "options.policy", MAX_NAME_CHARS)?;
        if name != "mcm" {
            return Err(BindingError::invalid(
                "options.policy",
                format!("unknown policy {name:?}; use 'mcm' or a policy object"),
            ));
        }
        return Ok(CsrPolicy::mcm());
    }
    if !policy.is_object() || input::is_array(&policy, "options.policy")? {
        return Err(BindingError::invalid(
            "options.policy",
            format!(
                "must be 'mcm' or an object {{minRsaBits?, requiredSubjectFields?, \
                 allowedSignatureAlgorithms?, allowedKeyTypes?}}, not {}",
                input::type_of(&policy)
            ),
        ));
    }
    csr_policy_object(&policy)
}

/// Reads a CSR policy object: each member present replaces that field of MCM's policy.
fn csr_policy_object(value: &JsValue) -> Result<CsrPolicy, BindingError> {
    let field = "options.policy";
    let mut policy = CsrPolicy::mcm();

    if let Some(bits) = input::optional_whole_number(
        &input::member(value, "minRsaBits", field)?,
        "options.policy.minRsaBits",
        u32::MAX,
    )? {
        policy.min_rsa_bits = bits;
    }

    let subject_field = "options.policy.requiredSubjectFields";
    if let Some(fields) = input::optional_string_list(
        &input::member(value, "requiredSubjectFields", field)?,
        subject_field,
        MAX_LIST_ENTRIES,
        MAX_NAME_CHARS,
    )? {
        if let Some(unknown) = fields
            .iter()
            .find(|name| !SUBJECT_FIELDS.contains(&name.as_str()))
        {
            return Err(BindingError::invalid(
                subject_field,
                format!("unknown subject field {unknown:?}; use CN, O, OU, C, ST, L or E"),
            ));
        }
        policy.required_subject_fields = fields;
    }

    let algorithms_field = "options.policy.allowedSignatureAlgorithms";
    if let Some(algorithms) = input::optional_string_list(
        &input::member(value, "allowedSignatureAlgorithms", field)?,
        algorithms_field,
        MAX_LIST_ENTRIES,
        MAX_NAME_CHARS,
    )? {
        if algorithms.is_empty() {
            return Err(BindingError::invalid(
                algorithms_field,
                "must name at least one algorithm, such as sha256WithRSAEncryption; omit it \
                 for MCM's list",
            ));
        }
        policy.allowed_signature_algorithms = algorithms;
    }

    let key_types_field = "options.policy.allowedKeyTypes";
    if let Some(names) = input::optional_string_list(
        &input::member(value, "allowedKeyTypes", field)?,
        key_types_field,
        MAX_LIST_ENTRIES,
        MAX_NAME_CHARS,
    )? {
        if names.is_empty() {
            return Err(BindingError::invalid(
                key_types_field,
                "must name at least one key type; omit it for MCM's RSA only",
            ));
        }
        let mut key_types = Vec::with_capacity(names.len());
        for name in &names {
            key_types.push(match name.as_str() {
                "rsa" => CsrKeyType::Rsa,
                "ec" => CsrKeyType::Ec,
                "ed25519" => CsrKeyType::Ed25519,
                other => {
                    return Err(BindingError::invalid(
                        key_types_field,
                        format!("unknown key type {other:?}; use 'rsa', 'ec' or 'ed25519'"),
                    ));
                }
            });
        }
        policy.allowed_key_types = key_types;
    }
    Ok(policy)
}

/// One certificate or certificate request of an inspected input, serialised as
/// `{"certificate": {...}}` or `{"certificate_request": {...}}`.
#[derive(Serialize)]
enum PemItem {
    #[serde(rename = "certificate")]
    Certificate(CertificateInfo),
    #[serde(rename = "certificate_request")]
    CertificateRequest(CsrInfo),
}

/// The `{items, warnings}` document of `fspiop-guard inspect --cert FILE --json`.
#[derive(Serialize)]
struct PemInspection<'a> {
    items: Vec<PemItem>,
    warnings: &'a [Warning],
}

/// Describes every certificate and certificate request of a PEM or DER input and returns
/// `{items, warnings}` as JSON text, as `fspiop-guard inspect --cert FILE --json` prints
/// it. Private and public key blocks are skipped, as the CLI's JSON skips them.
///
/// Throws an `ERR_FSPIOP_GUARD_INVALID_PEM` error, with the core's `reason`, when the
/// input does not read as PEM or a block does not parse.
#[wasm_bindgen(js_name = inspectPemJson)]
pub fn inspect_pem_json(value: JsValue) -> Result<String, JsValue> {
    let bytes = input::text_or_bytes(&value, "input", pem::MAX_BUNDLE_LEN)?;
    let bundle = pem::read_bundle(&bytes).map_err(|error| invalid_pem(&error, String::new()))?;
    let mut items = Vec::new();
    for block in &bundle.blocks {
        let context = || format!("block on line {}: ", block.line);
        match block.kind {
            BlockKind::Certificate => {
                let info = inspect_certificate(&block.der)
                    .map_err(|error| invalid_pem(&error, context()))?;
                items.push(PemItem::Certificate(info));
            }
            BlockKind::CertificateRequest => {
                let info =
                    inspect_csr(&block.der).map_err(|error| invalid_pem(&error, context()))?;
                items.push(PemItem::CertificateRequest(info));
            }
            BlockKind::PrivateKey | BlockKind::PublicKey | BlockKind::Other => {}
        }
    }
    let document = PemInspection {
        items,
        warnings: &bundle.warnings,
    };
    Ok(crate::to_json(&document)?)
}

/// Builds the error for unreadable PEM input, with the CLI's message.
fn invalid_pem(error: &PkiError, context: String) -> BindingError {
    let mut binding = BindingError::other(ErrorCode::InvalidPem, format!("{context}{error}"));
    binding.reason = Some(error.reason.code());
    binding
}

/// The outcome of a JWT check: the verdict, and the token's fields when it passed.
#[derive(Serialize)]
struct JwtReport {
    #[serde(flatten)]
    verdict: PkiVerdict,
    #[serde(flatten)]
    token: Option<VerifiedJwt>,
}

/// Verifies a bearer JWT (RFC 7519) with the keys of `keys` and returns the report as
/// JSON text: `{valid: true, detail, warnings, alg, kid, participant, expires, claims}`,
/// or `{valid: false, reason, detail, warnings}` with a `JWT_*` reason.
///
/// `options` is `{at?, leewaySeconds?, issuers?, audiences?, algorithms?, participant?,
/// requireExp?}`; every member is optional, and `at` defaults to now.
#[wasm_bindgen(js_name = verifyJwtJson)]
pub fn verify_jwt_json(
    token: JsValue,
    keys: &KeyStoreHandle,
    options: JsValue,
) -> Result<String, JsValue> {
    let token = input::string(&token, "token", MAX_TOKEN_CHARS)?;
    let (policy, now) = jwt_options(&options)?;
    let report = match jwt::verify_jwt(&token, keys.store(), now, &policy) {
        Ok(verified) => JwtReport {
            verdict: PkiVerdict::valid(
                format!("the JWT verifies with a key of {}", verified.participant),
                Vec::new(),
            ),
            token: Some(verified),
        },
        Err(error) => JwtReport {
            verdict: PkiVerdict::rejected(error, Vec::new()),
            token: None,
        },
    };
    Ok(crate::to_json(&report)?)
}

fn jwt_options(value: &JsValue) -> Result<(JwtPolicy, i64), BindingError> {
    let field = "options";
    let mut policy = JwtPolicy::default();
    if input::is_absent(value) {
        return Ok((policy, input::now_seconds()));
    }
    if !value.is_object() {
        return Err(BindingError::invalid(field, "must be an object"));
    }

    if let Some(leeway) = input::optional_whole_number(
        &input::member(value, "leewaySeconds", field)?,
        "options.leewaySeconds",
        MAX_LEEWAY_SECONDS,
    )? {
        policy.leeway_seconds = i64::from(leeway);
    }
    if let Some(issuers) = input::optional_string_list(
        &input::member(value, "issuers", field)?,
        "options.issuers",
        MAX_LIST_ENTRIES,
        MAX_CLAIM_CHARS,
    )? {
        policy.issuers = issuers;
    }
    if let Some(audiences) = input::optional_string_list(
        &input::member(value, "audiences", field)?,
        "options.audiences",
        MAX_LIST_ENTRIES,
        MAX_CLAIM_CHARS,
    )? {
        policy.audiences = audiences;
    }
    if let Some(algorithms) = input::optional_string_list(
        &input::member(value, "algorithms", field)?,
        "options.algorithms",
        MAX_LIST_ENTRIES,
        MAX_NAME_CHARS,
    )? {
        if algorithms.is_empty() {
            return Err(BindingError::invalid(
                "options.algorithms",
                "must name at least one algorithm, such as RS256; omit it for RS*, PS*, \
                 ES256 and ES384",
            ));
        }
        policy.algorithms = algorithms;
    }
    policy.participant = input::optional_string(
        &input::member(value, "participant", field)?,
        "options.participant",
        input::MAX_PARTICIPANT_CHARS,
    )?;
    policy.require_exp = input::flag_or(
        &input::member(value, "requireExp", field)?,
        "options.requireExp",
        true,
    )?;
    let now = input::time(&input::member(value, "at", field)?, "options.at")?
        .unwrap_or_else(input::now_seconds);
    Ok((policy, now))
}
