//! The verifier: runs every check on one request and returns a [`Verdict`].
//!
//! The order of checks follows the Mojaloop SDK validator, so the first failure a request
//! meets here is the one the SDK reports. The order is: body parse, `FSPIOP-Source`, key lookup, JWS
//! headers, signature header, protected header, `alg`, key fit, signature, then the
//! protected fields against the headers. Field bindings run only after the signature has
//! verified, so a tampered protected header always shows up as `SIGNATURE_MISMATCH`.

use std::borrow::Cow;

use crate::b64;
use crate::body::{self, ParsedBody};
use crate::crypto::{Algorithm, KeyKind, SignatureVerifier};
use crate::header::{self, HeaderError, ProtectedHeader, SignatureHeader};
use crate::httpdate;
use crate::json::Value;
use crate::keys::{KeyEntry, KeyStore};
use crate::profile::{BodyJson, PayloadForm, Profile};
use crate::request::Request;
use crate::rules::RequestRules;
use crate::verdict::{Check, CheckId, Detail, Outcome, Reason, Verdict, Warning};

/// Everything a verification needs besides the request.
pub struct VerifyContext<'a> {
    /// The policy to enforce.
    pub profile: &'a Profile,
    /// The JWS public keys, per participant.
    pub keys: &'a KeyStore,
    /// Request rules that exempt some requests; `None` verifies every request.
    pub rules: Option<&'a RequestRules>,
    /// Verification time, unix seconds (keys retire and `Date` windows are judged at it).
    pub now: i64,
    /// The engine that does the signature arithmetic.
    pub crypto: &'a dyn SignatureVerifier,
}

/// A failed check: which one, why, and the values behind it.
struct Reject {
    check: CheckId,
    reason: Reason,
    detail: Option<Detail>,
}

impl Reject {
    fn new(check: CheckId, reason: Reason) -> Reject {
        Reject {
            check,
            reason,
            detail: None,
        }
    }

    fn text(check: CheckId, reason: Reason, text: impl Into<String>) -> Reject {
        Reject {
            check,
            reason,
            detail: Some(Detail::Text(text.into())),
        }
    }

    fn mismatch(check: CheckId, reason: Reason, protected: String, actual: String) -> Reject {
        Reject {
            check,
            reason,
            detail: Some(Detail::Mismatch { protected, actual }),
        }
    }

    fn header(check: CheckId, error: HeaderError) -> Reject {
        Reject::text(check, error.reason, error.detail)
    }
}

/// Verifies one request and explains the outcome.
///
/// The caller owes nothing else: the verdict is final for this profile, key set and time.
/// A rejection carries the first failing check; an acceptance names the key (`kid`) and
/// payload form that verified.
pub fn verify(request: &Request, ctx: &VerifyContext<'_>) -> Verdict {
    verify_body_from(request, ctx, BodyOrigin::Received)
}

/// Where a request's body comes from, which decides how much of the body check runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyOrigin {
    /// The bytes as received; the profile's JSON read runs in full.
    Received,
    /// The output of a JSON serialiser (`JSON.stringify`) over a value the caller already
    /// parsed, as callers of the SDK's validator pass it. The caller guarantees that it is
    /// JSON text. A scan that builds nothing checks what such text can still fail in the
    /// SDK's strict read: an object or array at the top, the nesting depth and `__proto__`
    /// members. The body is parsed only if a canonical payload form is tried.
    Serialised,
}

/// Verifies one request as [`verify`] does, for a body of the given origin.
///
/// For an honest [`BodyOrigin::Serialised`] body the verdict is the one [`verify`] gives,
/// reached without parsing the body when its raw bytes verify.
pub fn verify_body_from(request: &Request, ctx: &VerifyContext<'_>, origin: BodyOrigin) -> Verdict {
    let mut verdict = Verdict::new();
    match run(request, ctx, origin, &mut verdict) {
        Ok(()) => verdict.accepted = true,
        Err(reject) => {
            verdict.checks.push(Check {
                id: reject.check,
                outcome: Outcome::Fail,
            });
            verdict.reason = Some(reject.reason);
            verdict.detail = reject.detail;
        }
    }
    verdict
}

fn pass(verdict: &mut Verdict, id: CheckId) {
    verdict.checks.push(Check {
        id,
        outcome: Outcome::Pass,
    });
}

fn not_applicable(verdict: &mut Verdict, id: CheckId) {
    verdict.checks.push(Check {
        id,
        outcome: Outcome::NotApplicable,
    });
}

fn run(
    request: &Request,
    ctx: &VerifyContext<'_>,
    origin: BodyOrigin,
    verdict: &mut Verdict,
) -> Result<(), Reject> {
    let profile = ctx.profile;
    let limits = &profile.limits;

    if let Some(rules) = ctx.rules {
        if !rules.requires_signature(&request.method, request.path()) {
            verdict.not_required = true;
            not_applicable(verdict, CheckId::SignatureRequired);
            return Ok(());
        }
        pass(verdict, CheckId::SignatureRequired);
    }

    // Body: size first, then JSON as the profile requires (the SDK parses the body before
    // any JWS check, so a body it cannot parse never reaches the signature).
    let raw_body: &[u8] = request.body.as_deref().unwrap_or_default();
    if raw_body.len() > limits.max_body_bytes {
        return Err(Reject::text(
            CheckId::BodySize,
            Reason::BodyTooLarge,
            format!(
                "body is {} bytes, the limit is {}",
                raw_body.len(),
                limits.max_body_bytes
            ),
        ));
    }
    pass(verdict, CheckId::BodySize);
    let mut body = check_body(raw_body, profile, origin, verdict)?;

    // Source participant and its keys.
    let Some(source) = request.headers.get_present("fspiop-source") else {
        return Err(Reject::new(
            CheckId::SourceHeader,
            Reason::MissingSourceHeader,
        ));
    };
    verdict.participant = Some(source.to_string());
    pass(verdict, CheckId::SourceHeader);
    let candidates = source_keys(ctx, &source)?;
    if !candidates.is_empty() {
        pass(verdict, CheckId::SourceKey);
    }

    // The three JWS headers.
    let Some(signature_value) = request.headers.get_present("fspiop-signature") else {
        return Err(Reject::new(
            CheckId::JwsHeaders,
            Reason::MissingSignatureHeader,
        ));
    };
    let Some(uri_header) = request.headers.get_present("fspiop-uri") else {
        return Err(Reject::new(CheckId::JwsHeaders, Reason::MissingUriHeader));
    };
    let Some(method_header) = request.headers.get_present("fspiop-http-method") else {
        return Err(Reject::new(
            CheckId::JwsHeaders,
            Reason::MissingMethodHeader,
        ));
    };
    pass(verdict, CheckId::JwsHeaders);

    // FSPIOP-Signature, then the protected header it carries.
    let signature_header = SignatureHeader::parse(&signature_value, limits).map_err(|error| {
        let mut reject = Reject::header(CheckId::SignatureHeader, error);
        if request.headers.count("fspiop-signature") > 1
            && let Some(Detail::Text(text)) = &mut reject.detail
        {
            text.push_str(REPEATED_HEADER_NOTE);
        }
        reject
    })?;
    pass(verdict, CheckId::SignatureHeader);
    let protected = signature_header
        .protected(limits)
        .map_err(|error| Reject::header(CheckId::ProtectedHeader, error))?;
    let signature = signature_header
        .signature()
        .map_err(|error| Reject::header(CheckId::SignatureHeader, error))?;
    pass(verdict, CheckId::ProtectedHeader);

    // Algorithm and key fit, before any expensive arithmetic.
    let alg = check_algorithm(&protected, profile)?;
    verdict.alg = Some(alg);
    pass(verdict, CheckId::Algorithm);
    let fitting = fit_keys(&candidates, alg, profile).map_err(|mut reject| {
        if candidates.is_empty() {
            let reason = ctx.keys.unusable_reason(&source).unwrap_or_default();
            reject.detail = Some(Detail::Text(format!("alg {}: {reason}", alg.name())));
        }
        reject
    })?;
    if let Some(expected) = alg.ecdsa_signature_len()
        && signature.len() != expected
    {
        return Err(Reject::text(
            CheckId::KeyFit,
            Reason::EcdsaSignatureLength,
            format!(
                "{} signatures are {expected} bytes (r||s), this one is {} (DER-encoded?)",
                alg.name(),
                signature.len()
            ),
        ));
    }
    pass(verdict, CheckId::KeyFit);

    // The signature itself, over each allowed payload form in turn.
    let (entry, form) = check_signature(
        ctx,
        &signature_header.protected_b64,
        &signature,
        alg,
        &fitting,
        &mut body,
        verdict,
    )?;
    verdict.key_id = Some(entry.kid().to_owned());
    let key = &entry.key;
    if !entry.repairs.is_empty() {
        verdict.warnings.push(Warning::KeyRepaired {
            kid: entry.kid().to_owned(),
        });
    }
    verdict.payload_form = Some(form);
    pass(verdict, CheckId::Signature);
    if form.is_canonical() && verdict.forms_tried.contains(&PayloadForm::Raw) {
        verdict.warnings.push(Warning::BodyReserialised { form });
    }
    if let (true, Some(parsed)) = (form.is_canonical(), body.parsed.as_ref()) {
        if parsed.report.duplicate_keys {
            verdict.warnings.push(Warning::DuplicateKeys);
        }
        if parsed.report.lossy_numbers {
            verdict.warnings.push(Warning::LossyNumbers);
        }
    }
    if let KeyKind::Rsa { bits } = key.kind()
        && bits < profile.warn_rsa_bits
    {
        verdict.warnings.push(Warning::WeakRsaKey {
            bits,
            recommended: profile.warn_rsa_bits,
        });
    }

    // Protected fields against the headers, exactly as the SDK compares them.
    check_bindings(
        request,
        &protected,
        &source,
        &uri_header,
        &method_header,
        verdict,
    )?;

    // Spec-level checks the SDK never makes.
    if profile.bind_request_line {
        check_request_line(request, &protected, profile, verdict)?;
    }
    if let Some(window) = profile.date_window_secs {
        check_date_window(&protected, window, ctx.now)?;
        pass(verdict, CheckId::DateWindow);
    }
    Ok(())
}

/// The body, with its JSON value once parsed: up front, or when a canonical payload form
/// first needs it.
struct Body<'a> {
    raw: &'a [u8],
    parsed: Option<ParsedBody>,
    /// Parse on first use (a serialised body whose scan passed).
    deferred: bool,
    max_depth: usize,
}

impl<'a> Body<'a> {
    fn new(raw: &'a [u8], profile: &Profile, parsed: Option<ParsedBody>) -> Self {
        Body {
            raw,
            parsed,
            deferred: false,
            max_depth: profile.limits.max_body_json_depth,
        }
    }

    /// Returns the parsed body, parsing a deferred one now.
    fn parsed(&mut self) -> Result<Option<&ParsedBody>, Reject> {
        if self.deferred {
            self.deferred = false;
            // A serialiser's output always parses, so this error means the caller's
            // guarantee was false; the body is then rejected as the up-front read would.
            let parsed = body::parse_body(self.raw, self.max_depth).map_err(|error| {
                Reject::text(CheckId::BodyJson, Reason::BodyNotJson, error.to_string())
            })?;
            self.parsed = Some(parsed);
        }
        Ok(self.parsed.as_ref())
    }
}

fn check_body<'a>(
    raw_body: &'a [u8],
    profile: &Profile,
    origin: BodyOrigin,
    verdict: &mut Verdict,
) -> Result<Body<'a>, Reject> {
    if !profile.needs_parsed_body() {
        return Ok(Body::new(raw_body, profile, None));
    }

    // Duplicate keys and lossy numbers are seen only by the parser.
    let scan_is_enough = !profile.reject_duplicate_keys && !profile.reject_lossy_numbers;
    if origin == BodyOrigin::Serialised
        && scan_is_enough
        && body::serialised_passes(raw_body, profile.limits.max_body_json_depth)
    {
        pass(verdict, CheckId::BodyJson);
        let mut deferred = Body::new(raw_body, profile, None);
        deferred.deferred = true;
        return Ok(deferred);
    }

    let parsed = match body::parse_body(raw_body, profile.limits.max_body_json_depth) {
        Ok(parsed) => parsed,
        Err(error) if profile.body_json == BodyJson::Required => {
            return Err(Reject::text(
                CheckId::BodyJson,
                Reason::BodyNotJson,
                error.to_string(),
            ));
        }
        Err(_) => {
            not_applicable(verdict, CheckId::BodyJson);
            return Ok(Body::new(raw_body, profile, None));
        }
    };

    if parsed.report.proto_key && profile.body_json == BodyJson::Required {
        return Err(Reject::text(
            CheckId::BodyJson,
            Reason::BodyProtoKey,
            "the SDK's body parser rejects a __proto__ member at any depth",
        ));
    }
    if parsed.report.duplicate_keys && profile.reject_duplicate_keys {
        return Err(Reject::new(CheckId::BodyJson, Reason::BodyDuplicateKey));
    }
    if parsed.report.lossy_numbers && profile.reject_lossy_numbers {
        return Err(Reject::new(CheckId::BodyJson, Reason::BodyLossyNumber));
    }
    pass(verdict, CheckId::BodyJson);
    Ok(Body::new(raw_body, profile, Some(parsed)))
}

/// Returns the participant's keys that are active at `now`, newest first.
///
/// A participant whose only key is well-formed but of an unsupported type (Ed25519,
/// P-521) gets an empty list here and a key/alg mismatch after the `alg` check, in the
/// reference validator's order.
fn source_keys<'k>(ctx: &VerifyContext<'k>, source: &str) -> Result<Vec<&'k KeyEntry>, Reject> {
    let active: Vec<&KeyEntry> = ctx.keys.active(source, ctx.now).collect();
    if !active.is_empty() {
        return Ok(active);
    }

    if ctx.keys.has_unsupported_key_type(source) {
        return Ok(active);
    }
    if let Some(reason) = ctx.keys.unusable_reason(source) {
        return Err(Reject::text(
            CheckId::SourceKey,
            Reason::KeyUnusable,
            reason.to_owned(),
        ));
    }
    let retired = ctx.keys.entries(source).len();
    let detail = if retired > 0 {
        format!("all {retired} keys of {source:?} are retired; publish the current key")
    } else {
        let with_keys = ctx
            .keys
            .participants()
            .filter(|participant| !ctx.keys.entries(participant).is_empty())
            .count();
        let mut detail = format!(
            "keys are configured for {with_keys} participant(s){}; add a key for {source:?} or check the FSPIOP-Source spelling",
            participant_list(ctx.keys)
        );
        if source.contains(", ") {
            detail.push_str(REPEATED_HEADER_NOTE);
        }
        detail
    };
    Err(Reject::text(
        CheckId::SourceKey,
        Reason::UnknownSource,
        detail,
    ))
}

/// Lists up to ten participant ids with keys, for a message.
fn participant_list(keys: &KeyStore) -> String {
    let ids: Vec<String> = keys
        .participants()
        .filter(|participant| !keys.entries(participant).is_empty())
        .take(10)
        .map(|participant| format!("{participant:?}"))
        .collect();
    if ids.is_empty() {
        String::new()
    } else {
        format!(": {}", ids.join(", "))
    }
}

/// Explains a value that Node-style joining built from repeated header lines.
const REPEATED_HEADER_NOTE: &str = " (the value contains \", \": the header was probably sent \
     more than once, and repeated header lines are joined with \", \")";

fn check_algorithm(protected: &ProtectedHeader, profile: &Profile) -> Result<Algorithm, Reject> {
    let value = match protected.member("alg") {
        None | Some(Value::Null) => {
            return Err(Reject::new(CheckId::Algorithm, Reason::AlgMissing));
        }
        Some(value) => value,
    };
    let name = header::display_value(value);
    let alg = match value {
        Value::String(_) => Algorithm::from_name(&name),
        _ => None,
    };
    match alg {
        Some(alg) if profile.algorithms.contains(&alg) => Ok(alg),
        _ => {
            let allowed: Vec<&str> = profile.algorithms.iter().map(|a| a.name()).collect();
            Err(Reject::text(
                CheckId::Algorithm,
                Reason::AlgNotAllowed,
                format!(
                    "alg {name:?}; profile {} allows {}",
                    profile.name,
                    allowed.join(", ")
                ),
            ))
        }
    }
}

/// Keeps the keys whose type fits `alg` and whose size the profile accepts.
fn fit_keys<'k>(
    candidates: &[&'k KeyEntry],
    alg: Algorithm,
    profile: &Profile,
) -> Result<Vec<&'k KeyEntry>, Reject> {
    let typed: Vec<&KeyEntry> = candidates
        .iter()
        .copied()
        .filter(|entry| entry.key.fits(alg).is_ok())
        .collect();
    if typed.is_empty() {
        let kinds: Vec<String> = candidates
            .iter()
            .map(|entry| describe_kind(entry.key.kind()))
            .collect();
        return Err(Reject::text(
            CheckId::KeyFit,
            Reason::KeyAlgMismatch,
            format!("alg {} with key {}", alg.name(), kinds.join(", ")),
        ));
    }

    let sized: Vec<&KeyEntry> = typed
        .into_iter()
        .filter(|entry| match (entry.key.kind(), profile.min_rsa_bits) {
            (KeyKind::Rsa { bits }, Some(min)) => bits >= min,
            _ => true,
        })
        .collect();
    if sized.is_empty() {
        return Err(Reject::text(
            CheckId::KeyFit,
            Reason::KeyTooSmall,
            format!(
                "profile {} needs RSA keys of at least {} bits",
                profile.name,
                profile.min_rsa_bits.unwrap_or_default()
            ),
        ));
    }
    Ok(sized)
}

fn describe_kind(kind: KeyKind) -> String {
    match kind {
        KeyKind::Rsa { bits } => format!("RSA-{bits}"),
        KeyKind::Ec(curve) => format!("EC {curve:?}"),
    }
}

/// Builds the JWS signing input `protectedHeader || '.' || base64url(payload)`.
pub fn signing_input(protected_b64: &str, payload: &[u8]) -> Vec<u8> {
    let mut input = String::with_capacity(protected_b64.len() + 1 + payload.len().div_ceil(3) * 4);
    input.push_str(protected_b64);
    input.push('.');
    // Encoding straight into `input` avoids a temporary copy of a large body.
    b64::encode_into(payload, &mut input);
    input.into_bytes()
}

/// Returns the payload bytes of one form, or `None` when the body is not JSON.
/// The raw form borrows the body, and the canonical forms are serialised from `parsed`.
pub fn payload_for<'a>(
    form: PayloadForm,
    raw_body: &'a [u8],
    parsed: Option<&ParsedBody>,
) -> Option<Cow<'a, [u8]>> {
    match form {
        PayloadForm::Raw => Some(Cow::Borrowed(raw_body)),
        PayloadForm::SortedJson => {
            parsed.map(|p| Cow::Owned(p.canonical(crate::json::KeyOrder::Sorted).into_bytes()))
        }
        PayloadForm::InsertionJson => {
            parsed.map(|p| Cow::Owned(p.canonical(crate::json::KeyOrder::Insertion).into_bytes()))
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn check_signature<'k>(
    ctx: &VerifyContext<'_>,
    protected_b64: &str,
    signature: &[u8],
    alg: Algorithm,
    keys: &[&'k KeyEntry],
    body: &mut Body<'_>,
    verdict: &mut Verdict,
) -> Result<(&'k KeyEntry, PayloadForm), Reject> {
    let raw_body = body.raw;
    for &form in &ctx.profile.payload_forms {
        let parsed = if form.is_canonical() {
            body.parsed()?
        } else {
            None
        };
        let Some(payload) = payload_for(form, raw_body, parsed) else {
            continue;
        };
        verdict.forms_tried.push(form);
        let input = signing_input(protected_b64, &payload);

        for &entry in keys {
            // An ECDSA length error was ruled out before this loop, and an RSA signature
            // whose length differs from this key's modulus simply does not verify.
            if ctx
                .crypto
                .verify(&entry.key, alg, &input, signature)
                .is_ok()
            {
                return Ok((entry, form));
            }
        }
    }

    let kids: Vec<&str> = keys.iter().map(|entry| entry.kid()).collect();
    Err(Reject::text(
        CheckId::Signature,
        Reason::SignatureMismatch,
        format!(
            "tried key {}; the body or protected header changed after signing, or the sender \
             signed with a key that is not configured for this participant",
            kids.join(", ")
        ),
    ))
}

fn check_bindings(
    request: &Request,
    protected: &ProtectedHeader,
    source: &str,
    uri_header: &str,
    method_header: &str,
    verdict: &mut Verdict,
) -> Result<(), Reject> {
    let bound = [
        (
            "FSPIOP-URI",
            uri_header,
            CheckId::UriBinding,
            Reason::ProtectedUriMissing,
            Reason::UriMismatch,
        ),
        (
            "FSPIOP-HTTP-Method",
            method_header,
            CheckId::MethodBinding,
            Reason::ProtectedMethodMissing,
            Reason::MethodMismatch,
        ),
        (
            "FSPIOP-Source",
            source,
            CheckId::SourceBinding,
            Reason::ProtectedSourceMissing,
            Reason::SourceMismatch,
        ),
    ];
    for (member, header_value, check, missing, mismatch) in bound {
        let Some(value) = protected.present(member) else {
            return Err(Reject::new(check, missing));
        };
        if !header::equals_header(value, header_value) {
            return Err(Reject::mismatch(
                check,
                mismatch,
                header::display_value(value),
                header_value.to_owned(),
            ));
        }
        pass(verdict, check);
    }

    // Date: checked only when protected, as the SDK does.
    match protected.present("Date") {
        None => not_applicable(verdict, CheckId::DateBinding),
        Some(value) => {
            let Some(date) = request.headers.get_present("date") else {
                return Err(Reject::new(CheckId::DateBinding, Reason::DateMissingInHttp));
            };
            if !header::equals_header(value, &date) {
                return Err(Reject::mismatch(
                    CheckId::DateBinding,
                    Reason::DateMismatch,
                    header::display_value(value),
                    date.to_string(),
                ));
            }
            pass(verdict, CheckId::DateBinding);
        }
    }

    // Destination, both ways: an unprotected destination header is rejected too.
    let protected_destination = protected.present("FSPIOP-Destination");
    let header_destination = request.headers.get_present("fspiop-destination");
    match (protected_destination, header_destination) {
        (None, None) => not_applicable(verdict, CheckId::DestinationBinding),
        (None, Some(_)) => {
            return Err(Reject::new(
                CheckId::DestinationBinding,
                Reason::DestinationNotProtected,
            ));
        }
        (Some(_), None) => {
            return Err(Reject::new(
                CheckId::DestinationBinding,
                Reason::DestinationMissingInHttp,
            ));
        }
        (Some(value), Some(destination)) => {
            if !header::equals_header(value, &destination) {
                return Err(Reject::mismatch(
                    CheckId::DestinationBinding,
                    Reason::DestinationMismatch,
                    header::display_value(value),
                    destination.to_string(),
                ));
            }
            pass(verdict, CheckId::DestinationBinding);
        }
    }
    Ok(())
}

/// Binds the protected request line to the real one (FSPIOP Signature v1.1 §3.2).
///
/// The request target (path and query) must equal the protected `FSPIOP-URI`, or one of
/// the profile's `request_path_prefixes` followed by it, so `/fspiop/quotes` matches
/// `/quotes` only when `/fspiop` is configured. Nothing is percent-decoded: both sides are
/// compared as sent.
fn check_request_line(
    request: &Request,
    protected: &ProtectedHeader,
    profile: &Profile,
    verdict: &mut Verdict,
) -> Result<(), Reject> {
    let uri = protected
        .present("FSPIOP-URI")
        .map(header::display_value)
        .unwrap_or_default();
    let target = request.target.as_str();
    if !target_matches_uri(target, &uri, &profile.request_path_prefixes) {
        return Err(Reject::mismatch(
            CheckId::RequestLineUri,
            Reason::RequestUriMismatch,
            uri,
            target.to_owned(),
        ));
    }
    pass(verdict, CheckId::RequestLineUri);

    let method = protected
        .present("FSPIOP-HTTP-Method")
        .map(header::display_value)
        .unwrap_or_default();
    if method != request.method {
        return Err(Reject::mismatch(
            CheckId::RequestLineMethod,
            Reason::RequestMethodMismatch,
            method,
            request.method.clone(),
        ));
    }
    pass(verdict, CheckId::RequestLineMethod);
    Ok(())
}

/// Returns true when a request target equals a protected `FSPIOP-URI`, directly or after
/// one of the configured ingress path prefixes.
pub fn target_matches_uri(target: &str, uri: &str, prefixes: &[String]) -> bool {
    if target == uri {
        return true;
    }
    prefixes.iter().any(|prefix| {
        !prefix.is_empty()
            && target.strip_prefix(prefix.as_str()) == Some(uri)
            && uri.starts_with('/')
    })
}

fn check_date_window(protected: &ProtectedHeader, window: u64, now: i64) -> Result<(), Reject> {
    let Some(value) = protected.present("Date") else {
        return Err(Reject::new(CheckId::DateWindow, Reason::DateNotProtected));
    };
    let text = header::display_value(value);
    let Some(signed_at) = httpdate::parse(&text) else {
        return Err(Reject::text(
            CheckId::DateWindow,
            Reason::DateInvalid,
            format!("{text:?} is not an IMF-fixdate such as \"Wed, 13 May 2026 14:39:12 GMT\""),
        ));
    };
    let skew = now.abs_diff(signed_at);
    if skew > window {
        return Err(Reject::text(
            CheckId::DateWindow,
            Reason::DateOutOfWindow,
            format!("Date {text:?} is {skew} s from now, the window is {window} s"),
        ));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn signing_input_encodes_like_b64() {
        let bytes: Vec<u8> = (0..=255).collect();
        // Lengths 0 to 4 cover every remainder of a 3-byte base64 group.
        for len in [0, 1, 2, 3, 4, 100, 256] {
            let payload = bytes.get(..len).unwrap();
            let expected = format!("eyJhbGciOiJSUzI1NiJ9.{}", crate::b64::encode(payload));
            assert_eq!(
                signing_input("eyJhbGciOiJSUzI1NiJ9", payload),
                expected.into_bytes(),
                "payload of {len} bytes"
            );
        }
    }

    #[test]
    fn raw_payload_borrows_body() {
        let raw_body = br#"{"b":1,"a":2}"#;
        let payload = payload_for(PayloadForm::Raw, raw_body, None).unwrap();
        assert!(matches!(payload, Cow::Borrowed(_)));
        assert_eq!(payload.as_ref(), raw_body);
    }

    #[test]
    fn canonical_payloads_serialise_parsed_body() {
        let raw_body = br#"{"b":1, "a":2}"#;
        assert_eq!(payload_for(PayloadForm::SortedJson, raw_body, None), None);

        let parsed = body::parse_body(raw_body, 10).unwrap();
        let sorted = payload_for(PayloadForm::SortedJson, raw_body, Some(&parsed)).unwrap();
        assert_eq!(sorted.as_ref(), br#"{"a":2,"b":1}"#);
        let insertion = payload_for(PayloadForm::InsertionJson, raw_body, Some(&parsed)).unwrap();
        assert_eq!(insertion.as_ref(), br#"{"b":1,"a":2}"#);
    }
}
