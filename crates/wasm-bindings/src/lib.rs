//! wasm-bindgen bindings of the fspiop-guard core, for the `fspiop-guard` npm package.
//!
//! Parsing, canonicalisation and policy all run in the core, here compiled to
//! `wasm32-unknown-unknown`. Only the signature arithmetic may be handed to a JavaScript
//! engine through [`verifier::JsVerifier`]. So Node, browsers and the native CLI reach
//! the same verdict for the same request, keys, profile and time. The certificate chain,
//! CSR and JWT checks in [`pki`] run wholly in the core, with ring inside the wasm.
//!
//! Every exported function checks its arguments' types and sizes and throws a typed
//! JavaScript error (see [`error`]) instead of trapping.

pub mod error;
pub mod input;
pub mod intrinsics;
pub mod keystore;
pub mod pki;
pub mod verifier;

use fspiop_guard_core::b64;
use fspiop_guard_core::crypto::{Algorithm, SigningKey};
use fspiop_guard_core::header::{SignatureHeader, display_value};
use fspiop_guard_core::json::{self, KeyOrder};
use fspiop_guard_core::profile::Limits;
use fspiop_guard_core::sign::{self, SignBody, SignInput, SignerMode};
use fspiop_guard_core::{
    BodyOrigin, Request, Verdict, VerifyContext, diagnose, verify, verify_body_from,
};
use js_sys::{Function, Object, Reflect};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::error::{BindingError, ErrorCode};
use crate::keystore::{KeyStoreHandle, key_description};
use crate::verifier::JsVerifier;

fn set(object: &JsValue, name: &str, value: &JsValue) {
    // Reflect.set of a data property on an ordinary object created here always succeeds.
    let _ = Reflect::set(object, &JsValue::from_str(name), value);
}

/// Verifies a request's `FSPIOP-Signature` and returns the verdict as JSON text, with the
/// fields of `fspiop-guard verify --json`.
///
/// The verdict crosses into JS as one string for `JSON.parse`, which costs a fraction of
/// building its objects and strings one boundary call at a time.
///
/// `crypto`, when given, is asked to do the signature arithmetic (see
/// [`verifier::JsVerifier`]); without it ring does it inside the wasm.
#[wasm_bindgen(js_name = verifyRequestJson)]
pub fn verify_request_json(
    request: JsValue,
    keys: &KeyStoreHandle,
    options: JsValue,
    crypto: Option<Function>,
) -> Result<String, JsValue> {
    run_verify(&request, keys, &options, crypto.as_ref(), false).map_err(JsValue::from)
}

/// Verifies a request packed by the Node entry (see [`input::packed_request`]).
///
/// Returns `None` when the packed form does not apply, and the caller then calls
/// [`verify_request_json`] with the request object. Otherwise it returns the verdict as
/// JSON text, except that with `verdict_when_rejected_only` an accepted request gives
/// an empty string, so no verdict is built that the caller does not read. `body_serialised`
/// states that the body is `JSON.stringify` output (see [`BodyOrigin::Serialised`]).
#[allow(clippy::too_many_arguments)]
#[wasm_bindgen(js_name = verifyPacked)]
pub fn verify_packed(
    packed: &str,
    header_lines: u32,
    body: JsValue,
    keys: &KeyStoreHandle,
    options: JsValue,
    crypto: Option<Function>,
    verdict_when_rejected_only: bool,
    body_serialised: bool,
) -> Result<Option<String>, JsValue> {
    let Some(request) = input::packed_request(packed, header_lines, &body)? else {
        return Ok(None);
    };
    let origin = if body_serialised {
        BodyOrigin::Serialised
    } else {
        BodyOrigin::Received
    };
    let verdict = verify_with(&request, keys, &options, crypto.as_ref(), origin)?;
    if verdict_when_rejected_only && verdict.accepted {
        return Ok(Some(String::new()));
    }
    Ok(Some(to_json(&verdict)?))
}

/// Verifies a request as [`verify_request`] does and adds the `diagnosis`: every known
/// key and payload form the signature verifies under, and each protected field beside its
/// header. It costs up to three verifications per known key, so use it to explain a
/// rejection, not on a request path.
#[wasm_bindgen(js_name = explainJson)]
pub fn explain_json(
    request: JsValue,
    keys: &KeyStoreHandle,
    options: JsValue,
    crypto: Option<Function>,
) -> Result<String, JsValue> {
    run_verify(&request, keys, &options, crypto.as_ref(), true).map_err(JsValue::from)
}

fn run_verify(
    request: &JsValue,
    keys: &KeyStoreHandle,
    options: &JsValue,
    crypto: Option<&Function>,
    with_diagnosis: bool,
) -> Result<String, BindingError> {
    let request = input::request(request)?;
    if !with_diagnosis {
        return to_json(&verify_with(
            &request,
            keys,
            options,
            crypto,
            BodyOrigin::Received,
        )?);
    }

    let options = input::verify_options(options)?;
    let engine = JsVerifier::new(crypto);
    let verdict = verify(&request, &context(&options, keys, &engine));
    let diagnosis = diagnose::diagnose(
        &request,
        keys.store(),
        options.now,
        &engine,
        &options.profile.limits,
    );
    let mut value = serde_json::to_value(&verdict).map_err(serialisation_failed)?;
    if let serde_json::Value::Object(members) = &mut value {
        let diagnosis = serde_json::to_value(&diagnosis).map_err(serialisation_failed)?;
        members.insert("diagnosis".to_owned(), diagnosis);
    }
    to_json(&value)
}

fn verify_with(
    request: &Request,
    keys: &KeyStoreHandle,
    options: &JsValue,
    crypto: Option<&Function>,
    origin: BodyOrigin,
) -> Result<Verdict, BindingError> {
    let options = input::verify_options(options)?;
    let engine = JsVerifier::new(crypto);
    Ok(verify_body_from(
        request,
        &context(&options, keys, &engine),
        origin,
    ))
}

fn context<'a>(
    options: &'a input::VerifyOptions,
    keys: &'a KeyStoreHandle,
    engine: &'a JsVerifier<'_>,
) -> VerifyContext<'a> {
    VerifyContext {
        profile: &options.profile,
        keys: keys.store(),
        rules: options.rules.as_ref(),
        now: options.now,
        crypto: engine,
    }
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, BindingError> {
    serde_json::to_string(value).map_err(serialisation_failed)
}

fn serialisation_failed(error: serde_json::Error) -> BindingError {
    BindingError::other(ErrorCode::InvalidArgument, error.to_string())
}

/// A private key for signing, parsed once.
#[wasm_bindgen(js_name = SigningKey)]
pub struct SigningKeyHandle {
    key: SigningKey,
}

#[wasm_bindgen(js_class = SigningKey)]
impl SigningKeyHandle {
    /// Parses a private key PEM (PKCS #8, PKCS #1 RSA or SEC1 EC).
    #[wasm_bindgen(constructor)]
    pub fn new(pem: JsValue) -> Result<SigningKeyHandle, JsValue> {
        let text = input::string(&pem, "signingKey", input::MAX_KEY_CHARS)?;
        let key = SigningKey::from_pem(&text).map_err(|error| {
            let mut error = BindingError::other(
                ErrorCode::InvalidKey,
                format!("signingKey: cannot use the key: {error}"),
            );
            error.field = Some("signingKey".to_owned());
            error
        })?;
        Ok(SigningKeyHandle { key })
    }

    /// Returns the fingerprint of the public half (base64url SHA-256 of its SPKI DER).
    #[wasm_bindgen(getter)]
    pub fn kid(&self) -> String {
        self.key.public_key().kid().to_owned()
    }

    /// Returns the public half as an SPKI `PUBLIC KEY` PEM.
    #[wasm_bindgen(getter, js_name = publicKeyPem)]
    pub fn public_key_pem(&self) -> String {
        self.key.public_key().to_pem()
    }

    /// Returns the algorithm this key signs with by default (RS256 for RSA, ES256 for P-256).
    #[wasm_bindgen(getter)]
    pub fn alg(&self) -> String {
        sign::default_algorithm(&self.key).name().to_owned()
    }
}

/// Signs a request as the Mojaloop SDK does.
///
/// `request` is `{method, url, headers, body}` with `body` as text. `options` is
/// `{mode?: "sdk-19.19" | "sdk-19.18" | "get-signature", alg?, bodyAsText?}`; unless
/// `bodyAsText` is true the body must be JSON and is re-serialised as the mode does.
/// Returns `{headers: [[name, value], ...], body, signatureHeader, fspiopUri, alg}`.
#[wasm_bindgen(js_name = signRequest)]
pub fn sign_request(
    request: JsValue,
    key: &SigningKeyHandle,
    options: JsValue,
) -> Result<JsValue, JsValue> {
    run_sign(&request, key, &options).map_err(JsValue::from)
}

fn run_sign(
    request: &JsValue,
    key: &SigningKeyHandle,
    options: &JsValue,
) -> Result<JsValue, BindingError> {
    let request = input::request(request)?;
    let (mode, alg, body_as_text) = sign_options(options)?;

    let text = String::from_utf8(request.body.unwrap_or_default())
        .map_err(|_| BindingError::invalid("request.body", "must be UTF-8 text to be signed"))?;
    let body = if body_as_text {
        SignBody::Text(text)
    } else {
        let limits = json::Limits {
            max_bytes: input::request_limits().max_body_bytes,
            max_depth: json::Limits::default().max_depth,
        };
        let parsed = json::parse(&text, &limits).map_err(|error| {
            BindingError::invalid(
                "request.body",
                format!("is not JSON ({error}); set options.bodyAsText to sign it verbatim"),
            )
        })?;
        SignBody::Json(parsed.value)
    };
    let input = SignInput {
        method: request.method,
        url: request.target,
        headers: request.headers,
        body,
    };
    let signed = sign::sign_request(&key.key, mode, alg, &input).map_err(|error| {
        BindingError::other(ErrorCode::SignFailed, format!("cannot sign: {error}"))
    })?;

    let result = Object::new();
    let headers = js_sys::Array::new();
    for (name, value) in signed.headers.iter() {
        headers.push(&js_sys::Array::of2(&name.into(), &value.into()));
    }
    set(&result, "headers", &headers);
    set(&result, "body", &signed.body.into());
    set(&result, "signatureHeader", &signed.signature_header.into());
    set(&result, "fspiopUri", &signed.fspiop_uri.into());
    set(&result, "alg", &signed.alg.name().into());
    Ok(result.into())
}

fn sign_options(value: &JsValue) -> Result<(SignerMode, Option<Algorithm>, bool), BindingError> {
    if input::is_absent(value) {
        return Ok((SignerMode::Sdk1919, None, false));
    }
    let field = "options";
    let mode =
        match input::optional_string(&input::member(value, "mode", field)?, "options.mode", 64)? {
            None => SignerMode::Sdk1919,
            Some(name) => SignerMode::from_name(&name).ok_or_else(|| {
                BindingError::invalid(
                    "options.mode",
                    format!(
                        "unknown signer mode {name:?}; use sdk-19.19, sdk-19.18 or get-signature"
                    ),
                )
            })?,
        };
    let alg = match input::optional_string(&input::member(value, "alg", field)?, "options.alg", 16)? {
        None => None,
        Some(name) => Some(Algorithm::from_name(&name).ok_or_else(|| {
            BindingError::invalid(
                "options.alg",
                format!("unknown algorithm {name:?}; use RS256, RS384, RS512, PS256, PS384, PS512, ES256 or ES384"),
            )
        })?),
    };
    let body_as_text = input::flag(
        &input::member(value, "bodyAsText", field)?,
        "options.bodyAsText",
    )?;
    Ok((mode, alg, body_as_text))
}

/// Decodes an `FSPIOP-Signature` value without verifying it.
///
/// Returns `{protectedHeader: {...members}, alg, signatureBytes, signatureChars,
/// protectedHeaderChars}`; throws an error whose `reason` is the verdict reason code the
/// verifier would give when the value does not decode.
#[wasm_bindgen(js_name = inspectSignature)]
pub fn inspect_signature(value: JsValue) -> Result<JsValue, JsValue> {
    run_inspect_signature(&value).map_err(JsValue::from)
}

fn run_inspect_signature(value: &JsValue) -> Result<JsValue, BindingError> {
    let text = input::string(value, "signatureHeader", input::MAX_SIGNATURE_HEADER_CHARS)?;
    let limits = Limits::default();
    let header_error = |error: fspiop_guard_core::header::HeaderError| {
        let mut binding = BindingError::other(
            ErrorCode::InvalidSignatureHeader,
            format!("{}: {}", error.reason.code(), error.detail),
        );
        binding.reason = Some(error.reason.code());
        binding
    };
    let header = SignatureHeader::parse(&text, &limits).map_err(header_error)?;
    let protected = header.protected(&limits).map_err(header_error)?;
    let signature_bytes = b64::decode(&header.signature_b64).map_or(0, |bytes| bytes.len());

    let members = Object::new();
    for (name, member) in protected.object().iter() {
        let json_text = json::stringify(member, KeyOrder::Insertion);
        let member_value = js_sys::JSON::parse(&json_text)
            .unwrap_or_else(|_| JsValue::from_str(&display_value(member)));
        set(&members, &name.to_string_lossy(), &member_value);
    }
    let result = Object::new();
    set(&result, "protectedHeader", &members);
    let alg = protected
        .member("alg")
        .map(display_value)
        .map_or(JsValue::NULL, |alg| JsValue::from_str(&alg));
    set(&result, "alg", &alg);
    set(
        &result,
        "signatureBytes",
        &JsValue::from(signature_bytes as u32),
    );
    set(
        &result,
        "signatureChars",
        &JsValue::from(header.signature_b64.len() as u32),
    );
    set(
        &result,
        "protectedHeaderChars",
        &JsValue::from(header.protected_b64.len() as u32),
    );
    Ok(result.into())
}

/// Parses a public key (SPKI, PKCS #1, certificate or private-key PEM, or a JWK) and
/// describes it: `{format, type, bits?, curve?, kid, pem, jwk, repairs, warnings}`.
#[wasm_bindgen(js_name = inspectKey)]
pub fn inspect_key(value: JsValue) -> Result<JsValue, JsValue> {
    let text = input::string(&value, "key", input::MAX_KEY_CHARS)?;
    let parsed = fspiop_guard_core::keys::parse_public_key(&text).map_err(|error| {
        let mut binding = BindingError::other(
            ErrorCode::InvalidKey,
            format!("key: not a usable key: {error}"),
        );
        binding.field = Some("key".to_owned());
        JsValue::from(binding)
    })?;
    let description = key_description(
        &parsed.key,
        parsed.format,
        &parsed.repairs,
        &parsed.warnings,
    );
    set(&description, "pem", &parsed.key.to_pem().into());
    let jwk = js_sys::JSON::parse(&parsed.key.to_jwk()).unwrap_or(JsValue::NULL);
    set(&description, "jwk", &jwk);
    Ok(description)
}

/// Returns a key's fingerprint (`kid`): base64url SHA-256 of its SPKI DER, whatever
/// format the key is given in.
#[wasm_bindgen(js_name = fingerprint)]
pub fn fingerprint(value: JsValue) -> Result<String, JsValue> {
    let text = input::string(&value, "key", input::MAX_KEY_CHARS)?;
    fspiop_guard_core::keys::parse_public_key(&text)
        .map(|parsed| parsed.key.kid().to_owned())
        .map_err(|error| {
            let mut binding = BindingError::other(
                ErrorCode::InvalidKey,
                format!("key: not a usable key: {error}"),
            );
            binding.field = Some("key".to_owned());
            JsValue::from(binding)
        })
}
