//! The opt-in diagnosis: which known key, if any, a signature verifies under.
//!
//! The verifier tries only the source participant's active keys. When it rejects a
//! request, the diagnosis also tries retired keys, every other participant's keys and
//! every payload form, and compares each protected field with its header. That costs up
//! to three verifications per known key, so it is never run on a request path that
//! untrusted clients can reach in volume (the filter leaves it off).

use serde::Serialize;

use crate::crypto::{Algorithm, SignatureVerifier};
use crate::header::{self, SignatureHeader};
use crate::keys::KeyStore;
use crate::profile::{Limits, PayloadForm};
use crate::request::Request;
use crate::verify::{payload_for, signing_input};

/// A key and payload form under which the signature verifies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyMatch {
    /// The participant the key belongs to.
    pub participant: String,
    /// The key fingerprint.
    pub kid: String,
    /// Whether the key is active at the diagnosis time.
    pub active: bool,
    /// The payload form that verified.
    pub form: &'static str,
}

/// One protected member beside the header it must match.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldComparison {
    /// Protected member name.
    pub member: &'static str,
    /// Protected value, when present.
    pub protected: Option<String>,
    /// Header (or request line) value, when present.
    pub actual: Option<String>,
    /// Whether the two are equal.
    pub equal: bool,
}

/// The findings of a diagnosis.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    /// The decoded protected header JSON, when it decodes.
    pub protected_header: Option<String>,
    /// The payload forms that could be built for this body.
    pub forms_available: Vec<&'static str>,
    /// Every (key, form) pair the signature verifies under.
    pub matches: Vec<KeyMatch>,
    /// Protected fields beside the headers and request line.
    pub fields: Vec<FieldComparison>,
    /// The cause, when the diagnosis stopped early.
    pub stopped: Option<String>,
}

/// Diagnoses a request against every key in the store.
pub fn diagnose(
    request: &Request,
    keys: &KeyStore,
    now: i64,
    crypto: &dyn SignatureVerifier,
    limits: &Limits,
) -> Diagnosis {
    let mut diagnosis = Diagnosis::default();

    let Some(value) = request.headers.get_present("fspiop-signature") else {
        diagnosis.stopped = Some("no FSPIOP-Signature header".to_owned());
        return diagnosis;
    };
    let signature_header = match SignatureHeader::parse(&value, limits) {
        Ok(parsed) => parsed,
        Err(error) => {
            diagnosis.stopped = Some(error.detail);
            return diagnosis;
        }
    };
    let protected = match signature_header.protected(limits) {
        Ok(protected) => protected,
        Err(error) => {
            diagnosis.stopped = Some(error.detail);
            return diagnosis;
        }
    };
    diagnosis.protected_header = Some(crate::json::stringify(
        &crate::json::Value::Object(protected.object().clone()),
        crate::json::KeyOrder::Insertion,
    ));
    diagnosis.fields = compare_fields(request, &protected);

    let signature = match signature_header.signature() {
        Ok(signature) => signature,
        Err(error) => {
            diagnosis.stopped = Some(error.detail);
            return diagnosis;
        }
    };
    let alg = protected
        .member("alg")
        .map(header::display_value)
        .and_then(|name| Algorithm::from_name(&name));
    let Some(alg) = alg else {
        diagnosis.stopped = Some("protected alg is missing or unknown".to_owned());
        return diagnosis;
    };

    let raw_body = request.body.as_deref().unwrap_or_default();
    if raw_body.len() > limits.max_body_bytes {
        diagnosis.stopped = Some(format!(
            "body is {} bytes, over the {}-byte limit; no key was tried",
            raw_body.len(),
            limits.max_body_bytes
        ));
        return diagnosis;
    }
    let parsed = crate::body::parse_body(raw_body, limits.max_body_json_depth).ok();
    let forms = [
        PayloadForm::Raw,
        PayloadForm::SortedJson,
        PayloadForm::InsertionJson,
    ];
    for form in forms {
        let Some(payload) = payload_for(form, raw_body, parsed.as_ref()) else {
            continue;
        };
        diagnosis.forms_available.push(form.name());
        let input = signing_input(&signature_header.protected_b64, &payload);
        for entry in keys.all() {
            if entry.key.fits(alg).is_err() {
                continue;
            }
            if crypto.verify(&entry.key, alg, &input, &signature).is_ok() {
                diagnosis.matches.push(KeyMatch {
                    participant: entry.participant.clone(),
                    kid: entry.key.kid().to_owned(),
                    active: entry.is_active(now),
                    form: form.name(),
                });
            }
        }
    }
    diagnosis
}

fn compare_fields(request: &Request, protected: &header::ProtectedHeader) -> Vec<FieldComparison> {
    let pairs: [(&'static str, Option<String>); 5] = [
        (
            "FSPIOP-URI",
            request
                .headers
                .get_present("fspiop-uri")
                .map(|v| v.into_owned()),
        ),
        (
            "FSPIOP-HTTP-Method",
            request
                .headers
                .get_present("fspiop-http-method")
                .map(|v| v.into_owned()),
        ),
        (
            "FSPIOP-Source",
            request
                .headers
                .get_present("fspiop-source")
                .map(|v| v.into_owned()),
        ),
        (
            "FSPIOP-Destination",
            request
                .headers
                .get_present("fspiop-destination")
                .map(|v| v.into_owned()),
        ),
        (
            "Date",
            request.headers.get_present("date").map(|v| v.into_owned()),
        ),
    ];
    let mut fields: Vec<FieldComparison> = pairs
        .into_iter()
        .map(|(member, actual)| {
            let value = protected.present(member);
            let equal = match (value, actual.as_deref()) {
                (Some(value), Some(actual)) => header::equals_header(value, actual),
                (None, None) => true,
                _ => false,
            };
            FieldComparison {
                member,
                protected: value.map(header::display_value),
                actual,
                equal,
            }
        })
        .collect();

    let uri = protected.present("FSPIOP-URI").map(header::display_value);
    fields.push(FieldComparison {
        member: "FSPIOP-URI (request target)",
        equal: uri
            .as_deref()
            .is_some_and(|uri| crate::verify::target_matches_uri(&request.target, uri, &[])),
        protected: uri,
        actual: Some(request.target.clone()),
    });
    let method = protected
        .present("FSPIOP-HTTP-Method")
        .map(header::display_value);
    fields.push(FieldComparison {
        member: "FSPIOP-HTTP-Method (request method)",
        equal: method.as_deref() == Some(request.method.as_str()),
        protected: method,
        actual: Some(request.method.clone()),
    });
    fields
}
