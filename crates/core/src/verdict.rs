//! The result of verifying one request: accepted or rejected, why, and every check made.
//!
//! A [`Verdict`] is cheap to build on the request path: checks are small enums and the
//! human sentence is produced only when [`Verdict::message`] is called.

use std::fmt;

use serde::Serialize;
use serde::ser::SerializeStruct;

use crate::crypto::Algorithm;
use crate::profile::PayloadForm;

/// FSPIOP API error codes used in rejections (FSPIOP API v1.1, §7.6, "31xx" client
/// validation errors).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FspiopError {
    /// 3101 Malformed syntax.
    MalformedSyntax,
    /// 3102 Missing mandatory element.
    MissingElement,
    /// 3104 Too large payload.
    TooLarge,
    /// 3105 Invalid signature.
    InvalidSignature,
    /// 3106 Modified request.
    ModifiedRequest,
}

impl FspiopError {
    /// Returns the four-digit code as it appears in `errorInformation.errorCode`.
    pub fn code(self) -> &'static str {
        match self {
            FspiopError::MalformedSyntax => "3101",
            FspiopError::MissingElement => "3102",
            FspiopError::TooLarge => "3104",
            FspiopError::InvalidSignature => "3105",
            FspiopError::ModifiedRequest => "3106",
        }
    }

    /// Returns the standard error description.
    pub fn description(self) -> &'static str {
        match self {
            FspiopError::MalformedSyntax => "Malformed syntax",
            FspiopError::MissingElement => "Missing mandatory element",
            FspiopError::TooLarge => "Too large payload",
            FspiopError::InvalidSignature => "Invalid signature",
            FspiopError::ModifiedRequest => "Modified request",
        }
    }
}

macro_rules! reasons {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $fspiop:ident; )*) => {
        /// The reason a request was rejected. Its code string is stable, because users search for it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Reason {
            $( $(#[$doc])* $variant, )*
        }

        impl Reason {
            /// Every reason, in declaration order.
            pub const ALL: &'static [Reason] = &[ $( Reason::$variant, )* ];

            /// Returns the stable machine-readable code, for example `SIGNATURE_MISMATCH`.
            pub fn code(self) -> &'static str {
                match self { $( Reason::$variant => $code, )* }
            }

            /// Returns the FSPIOP error a rejection for this reason carries.
            pub fn fspiop_error(self) -> FspiopError {
                match self { $( Reason::$variant => FspiopError::$fspiop, )* }
            }
        }
    };
}

reasons! {
    /// The body is larger than the profile's `max_body_bytes`.
    BodyTooLarge = "BODY_TOO_LARGE", TooLarge;
    /// The body is not a JSON object or array (checked before the signature, as the SDK does).
    BodyNotJson = "BODY_NOT_JSON", MalformedSyntax;
    /// The body has a `__proto__` member, which the SDK's body parser rejects.
    BodyProtoKey = "BODY_PROTO_KEY", MalformedSyntax;
    /// The body repeats an object member and the profile forbids it.
    BodyDuplicateKey = "BODY_DUPLICATE_KEY", MalformedSyntax;
    /// The body has a number that does not survive a double round trip and the profile forbids it.
    BodyLossyNumber = "BODY_LOSSY_NUMBER", MalformedSyntax;
    /// No `FSPIOP-Source` header.
    MissingSourceHeader = "MISSING_SOURCE_HEADER", MissingElement;
    /// No key is configured for the `FSPIOP-Source` participant.
    UnknownSource = "UNKNOWN_SOURCE", InvalidSignature;
    /// A key is configured for the participant but could not be parsed.
    KeyUnusable = "KEY_UNUSABLE", InvalidSignature;
    /// No `FSPIOP-Signature` header.
    MissingSignatureHeader = "MISSING_SIGNATURE_HEADER", MissingElement;
    /// No `FSPIOP-URI` header.
    MissingUriHeader = "MISSING_URI_HEADER", MissingElement;
    /// No `FSPIOP-HTTP-Method` header.
    MissingMethodHeader = "MISSING_METHOD_HEADER", MissingElement;
    /// The `FSPIOP-Signature` header is longer than the profile allows.
    SignatureHeaderTooLarge = "SIGNATURE_HEADER_TOO_LARGE", MalformedSyntax;
    /// The `FSPIOP-Signature` header is not JSON.
    SignatureHeaderNotJson = "SIGNATURE_HEADER_NOT_JSON", MalformedSyntax;
    /// The `FSPIOP-Signature` header is JSON but not an object.
    SignatureHeaderNotObject = "SIGNATURE_HEADER_NOT_OBJECT", MalformedSyntax;
    /// The `protectedHeader` member is missing, empty or not a string.
    ProtectedHeaderMissing = "PROTECTED_HEADER_MISSING", MalformedSyntax;
    /// The `protectedHeader` member is longer than the profile allows.
    ProtectedHeaderTooLarge = "PROTECTED_HEADER_TOO_LARGE", MalformedSyntax;
    /// The `protectedHeader` member has characters outside base64url (padding, `+`, `/`, `.`).
    ProtectedHeaderNotBase64url = "PROTECTED_HEADER_NOT_BASE64URL", MalformedSyntax;
    /// The decoded protected header is not a JSON object.
    ProtectedHeaderNotJson = "PROTECTED_HEADER_NOT_JSON", MalformedSyntax;
    /// The `signature` member is missing or not a string.
    SignatureMissing = "SIGNATURE_MISSING", InvalidSignature;
    /// The `signature` member is an empty string (what `alg: none` produces).
    SignatureEmpty = "SIGNATURE_EMPTY", InvalidSignature;
    /// The `signature` member is longer than the profile allows.
    SignatureTooLarge = "SIGNATURE_TOO_LARGE", MalformedSyntax;
    /// The `signature` member has characters outside base64url.
    SignatureNotBase64url = "SIGNATURE_NOT_BASE64URL", MalformedSyntax;
    /// The protected header has no `alg`.
    AlgMissing = "ALG_MISSING", InvalidSignature;
    /// The protected `alg` is not in the profile's allow-list.
    AlgNotAllowed = "ALG_NOT_ALLOWED", InvalidSignature;
    /// The protected `alg` does not fit the participant's key type or curve.
    KeyAlgMismatch = "KEY_ALG_MISMATCH", InvalidSignature;
    /// The RSA key is below the profile's minimum size.
    KeyTooSmall = "KEY_TOO_SMALL", InvalidSignature;
    /// An ECDSA signature has the wrong length (for example DER instead of JOSE `r||s`).
    EcdsaSignatureLength = "ECDSA_SIGNATURE_LENGTH", InvalidSignature;
    /// The signature does not verify over any allowed payload form with any active key.
    SignatureMismatch = "SIGNATURE_MISMATCH", InvalidSignature;
    /// The protected header has no `FSPIOP-URI`.
    ProtectedUriMissing = "PH_MISSING_URI", InvalidSignature;
    /// The protected header has no `FSPIOP-HTTP-Method`.
    ProtectedMethodMissing = "PH_MISSING_METHOD", InvalidSignature;
    /// The protected header has no `FSPIOP-Source`.
    ProtectedSourceMissing = "PH_MISSING_SOURCE", InvalidSignature;
    /// Protected `FSPIOP-URI` differs from the `FSPIOP-URI` header.
    UriMismatch = "URI_MISMATCH", ModifiedRequest;
    /// Protected `FSPIOP-HTTP-Method` differs from the `FSPIOP-HTTP-Method` header.
    MethodMismatch = "METHOD_MISMATCH", ModifiedRequest;
    /// Protected `FSPIOP-Source` differs from the `FSPIOP-Source` header.
    SourceMismatch = "SOURCE_MISMATCH", ModifiedRequest;
    /// Protected `Date` is set but the `Date` header is absent.
    DateMissingInHttp = "DATE_MISSING_IN_HTTP", ModifiedRequest;
    /// Protected `Date` differs from the `Date` header.
    DateMismatch = "DATE_MISMATCH", ModifiedRequest;
    /// An `FSPIOP-Destination` header is present but not protected.
    DestinationNotProtected = "DEST_NOT_PROTECTED", ModifiedRequest;
    /// Protected `FSPIOP-Destination` is set but the header is absent.
    DestinationMissingInHttp = "DEST_MISSING_IN_HTTP", ModifiedRequest;
    /// Protected `FSPIOP-Destination` differs from the header.
    DestinationMismatch = "DEST_MISMATCH", ModifiedRequest;
    /// Protected `FSPIOP-URI` does not match the real request target.
    RequestUriMismatch = "REQUEST_URI_MISMATCH", ModifiedRequest;
    /// Protected `FSPIOP-HTTP-Method` does not match the real request method.
    RequestMethodMismatch = "REQUEST_METHOD_MISMATCH", ModifiedRequest;
    /// The profile requires a protected `Date` and there is none.
    DateNotProtected = "DATE_NOT_PROTECTED", MissingElement;
    /// The protected `Date` is not an HTTP date.
    DateInvalid = "DATE_INVALID", MalformedSyntax;
    /// The protected `Date` is outside the profile's freshness window.
    DateOutOfWindow = "DATE_OUT_OF_WINDOW", InvalidSignature;
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Reason {
    /// Looks a reason up by its stable code.
    pub fn from_code(code: &str) -> Option<Reason> {
        Reason::ALL
            .iter()
            .copied()
            .find(|reason| reason.code() == code)
    }
}

/// One step of verification, in the order the verifier runs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CheckId {
    /// The method and path need a signature under the request rules.
    SignatureRequired,
    /// Body size within the limit.
    BodySize,
    /// Body parses as JSON the way the profile requires.
    BodyJson,
    /// `FSPIOP-Source` header present.
    SourceHeader,
    /// A usable key is configured for the source participant.
    SourceKey,
    /// `FSPIOP-Signature`, `FSPIOP-URI` and `FSPIOP-HTTP-Method` headers present.
    JwsHeaders,
    /// `FSPIOP-Signature` parses into `protectedHeader` and `signature`.
    SignatureHeader,
    /// Protected header decodes to a JSON object.
    ProtectedHeader,
    /// `alg` allowed by the profile.
    Algorithm,
    /// Key type and size fit `alg` and the profile.
    KeyFit,
    /// Signature verifies over one allowed payload form with an active key.
    Signature,
    /// Protected `FSPIOP-URI` equals the header.
    UriBinding,
    /// Protected `FSPIOP-HTTP-Method` equals the header.
    MethodBinding,
    /// Protected `FSPIOP-Source` equals the header.
    SourceBinding,
    /// Protected `Date` equals the header.
    DateBinding,
    /// Protected and header `FSPIOP-Destination` agree both ways.
    DestinationBinding,
    /// Protected `FSPIOP-URI` matches the real request target (strict).
    RequestLineUri,
    /// Protected `FSPIOP-HTTP-Method` matches the real method (strict).
    RequestLineMethod,
    /// Protected `Date` within the freshness window.
    DateWindow,
}

impl CheckId {
    /// Returns the stable name used in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            CheckId::SignatureRequired => "signature-required",
            CheckId::BodySize => "body-size",
            CheckId::BodyJson => "body-json",
            CheckId::SourceHeader => "source-header",
            CheckId::SourceKey => "source-key",
            CheckId::JwsHeaders => "jws-headers",
            CheckId::SignatureHeader => "signature-header",
            CheckId::ProtectedHeader => "protected-header",
            CheckId::Algorithm => "algorithm",
            CheckId::KeyFit => "key-fit",
            CheckId::Signature => "signature",
            CheckId::UriBinding => "uri-binding",
            CheckId::MethodBinding => "method-binding",
            CheckId::SourceBinding => "source-binding",
            CheckId::DateBinding => "date-binding",
            CheckId::DestinationBinding => "destination-binding",
            CheckId::RequestLineUri => "request-line-uri",
            CheckId::RequestLineMethod => "request-line-method",
            CheckId::DateWindow => "date-window",
        }
    }

    /// Returns a short description of what the check establishes.
    pub fn description(self) -> &'static str {
        match self {
            CheckId::SignatureRequired => "request needs a signature under the request rules",
            CheckId::BodySize => "body size within the limit",
            CheckId::BodyJson => "body is JSON as the profile requires",
            CheckId::SourceHeader => "FSPIOP-Source header present",
            CheckId::SourceKey => "JWS key configured for the source participant",
            CheckId::JwsHeaders => "FSPIOP-Signature, FSPIOP-URI and FSPIOP-HTTP-Method present",
            CheckId::SignatureHeader => "FSPIOP-Signature has protectedHeader and signature",
            CheckId::ProtectedHeader => "protected header decodes to a JSON object",
            CheckId::Algorithm => "alg allowed by the profile",
            CheckId::KeyFit => "key type and size fit alg",
            CheckId::Signature => "signature verifies",
            CheckId::UriBinding => "protected FSPIOP-URI equals the header",
            CheckId::MethodBinding => "protected FSPIOP-HTTP-Method equals the header",
            CheckId::SourceBinding => "protected FSPIOP-Source equals the header",
            CheckId::DateBinding => "protected Date equals the Date header",
            CheckId::DestinationBinding => "FSPIOP-Destination protected and equal, both ways",
            CheckId::RequestLineUri => "protected FSPIOP-URI matches the request target",
            CheckId::RequestLineMethod => "protected FSPIOP-HTTP-Method matches the request method",
            CheckId::DateWindow => "protected Date within the freshness window",
        }
    }
}

/// The outcome of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The check passed.
    Pass,
    /// The check failed, and the verdict's reason gives the cause.
    Fail,
    /// The check does not apply (for example no destination on either side).
    NotApplicable,
    /// The check passed with a warning (see the verdict's warnings).
    Warn,
}

impl Outcome {
    /// Returns the stable name used in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::NotApplicable => "not-applicable",
            Outcome::Warn => "warn",
        }
    }
}

/// A check and its outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Check {
    /// The check.
    pub id: CheckId,
    /// The check's result.
    pub outcome: Outcome,
}

/// A warning attached to an accepted or rejected verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Warning {
    /// The RSA key is below the recommended size.
    WeakRsaKey { bits: u32, recommended: u32 },
    /// Only a canonical form verified: the body was re-serialised between signer and us.
    BodyReserialised { form: PayloadForm },
    /// The verifying key was loaded from a damaged PEM that was repaired. Peers that
    /// read the same published PEM with OpenSSL or Node may fail to load it.
    KeyRepaired { kid: String },
    /// A canonical form verified while the body repeats an object member. A parser that
    /// keeps the first value reads other data than the signer signed.
    DuplicateKeys,
    /// A canonical form verified while the body has a number a double cannot hold exactly.
    /// A parser with exact numbers reads another value than the signer signed.
    LossyNumbers,
    /// A warning without a structured form, such as a key repair note.
    Other(String),
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::WeakRsaKey { bits, recommended } => write!(
                f,
                "RSA key is {bits} bits, below the recommended {recommended}; rotate to a larger key"
            ),
            Warning::BodyReserialised { form } => write!(
                f,
                "signature matches the body only as {} (re-serialised JSON), not the bytes as sent",
                form.name()
            ),
            Warning::KeyRepaired { kid } => write!(
                f,
                "key {kid} was loaded from a damaged PEM and repaired; peers using the Mojaloop \
                 SDK may be unable to load it, so republish it as a well-formed PEM"
            ),
            Warning::DuplicateKeys => f.write_str(
                "body repeats an object member and the signature covers only the last value; \
                 a parser that keeps the first value reads other data (reject with --reject-duplicate-keys)",
            ),
            Warning::LossyNumbers => f.write_str(
                "body has a number that a double cannot hold exactly and the signature covers the \
                 rounded value (reject with --reject-lossy-numbers)",
            ),
            Warning::Other(text) => f.write_str(text),
        }
    }
}

/// Values behind a failure, kept for the human sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Detail {
    /// A protected value and the value it was compared with.
    Mismatch { protected: String, actual: String },
    /// A free-form detail (a parse error, a key error).
    Text(String),
}

/// The result of verifying one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Whether the request is accepted.
    pub accepted: bool,
    /// The rejection reason, or `None` when accepted.
    pub reason: Option<Reason>,
    /// The source participant (`FSPIOP-Source`), when known.
    pub participant: Option<String>,
    /// Fingerprint (`kid`) of the key the signature verified under.
    pub key_id: Option<String>,
    /// The payload form that verified.
    pub payload_form: Option<PayloadForm>,
    /// Forms tried when no form verified.
    pub forms_tried: Vec<PayloadForm>,
    /// The protected `alg`.
    pub alg: Option<Algorithm>,
    /// Every check made, in order.
    pub checks: Vec<Check>,
    /// Warnings, even on acceptance.
    pub warnings: Vec<Warning>,
    /// Values behind the failure.
    pub detail: Option<Detail>,
    /// True when the request rules exempt this request and it was not verified.
    pub not_required: bool,
}

impl Verdict {
    /// Creates an empty verdict, to be filled in by the verifier.
    pub(crate) fn new() -> Verdict {
        Verdict {
            accepted: false,
            reason: None,
            participant: None,
            key_id: None,
            payload_form: None,
            forms_tried: Vec::new(),
            alg: None,
            checks: Vec::with_capacity(16),
            warnings: Vec::new(),
            detail: None,
            not_required: false,
        }
    }

    /// Returns the FSPIOP error of a rejection.
    pub fn fspiop_error(&self) -> Option<FspiopError> {
        self.reason.map(Reason::fspiop_error)
    }

    /// Returns the outcome of one check, if it ran.
    pub fn check(&self, id: CheckId) -> Option<Outcome> {
        self.checks.iter().find(|c| c.id == id).map(|c| c.outcome)
    }

    /// Builds the one-sentence explanation.
    pub fn message(&self) -> String {
        let Some(reason) = self.reason else {
            if self.not_required {
                return "accepted: the request rules exempt this request from signing".to_owned();
            }
            let form = self.payload_form.map(PayloadForm::name).unwrap_or("none");
            let participant = self.participant.as_deref().unwrap_or("?");
            let kid = self.key_id.as_deref().unwrap_or("?");
            return format!(
                "signature by {participant:?} verifies over the {form} payload with key {kid}"
            );
        };
        let detail = match &self.detail {
            Some(Detail::Mismatch { protected, actual }) => {
                format!(" (protected {protected:?}, request {actual:?})")
            }
            Some(Detail::Text(text)) => format!(": {text}"),
            None => String::new(),
        };
        format!("{}{}", reason_sentence(reason, self), detail)
    }
}

fn reason_sentence(reason: Reason, verdict: &Verdict) -> String {
    let participant = verdict.participant.as_deref().unwrap_or("the source");
    match reason {
        Reason::BodyTooLarge => "body is larger than the configured limit".to_owned(),
        Reason::BodyNotJson => "body is not a JSON object or array".to_owned(),
        Reason::BodyProtoKey => "body has a __proto__ member, which the SDK rejects".to_owned(),
        Reason::BodyDuplicateKey => "body repeats an object member".to_owned(),
        Reason::BodyLossyNumber => "body has a number that a double cannot hold exactly".to_owned(),
        Reason::MissingSourceHeader => "FSPIOP-Source header is missing".to_owned(),
        Reason::UnknownSource => {
            format!("no JWS key is configured for participant {participant:?}")
        }
        Reason::KeyUnusable => format!("the JWS key configured for {participant:?} cannot be used"),
        Reason::MissingSignatureHeader => "FSPIOP-Signature header is missing".to_owned(),
        Reason::MissingUriHeader => "FSPIOP-URI header is missing".to_owned(),
        Reason::MissingMethodHeader => "FSPIOP-HTTP-Method header is missing".to_owned(),
        Reason::SignatureHeaderTooLarge => "FSPIOP-Signature header is too long".to_owned(),
        Reason::SignatureHeaderNotJson => "FSPIOP-Signature header is not JSON".to_owned(),
        Reason::SignatureHeaderNotObject => {
            "FSPIOP-Signature header is not a JSON object".to_owned()
        }
        Reason::ProtectedHeaderMissing => {
            "FSPIOP-Signature has no protectedHeader string".to_owned()
        }
        Reason::ProtectedHeaderTooLarge => "protectedHeader is too long".to_owned(),
        Reason::ProtectedHeaderNotBase64url => {
            "protectedHeader is not unpadded base64url".to_owned()
        }
        Reason::ProtectedHeaderNotJson => "protected header is not a JSON object".to_owned(),
        Reason::SignatureMissing => "FSPIOP-Signature has no signature string".to_owned(),
        Reason::SignatureEmpty => "signature is empty (an unsigned JWS)".to_owned(),
        Reason::SignatureTooLarge => "signature is too long".to_owned(),
        Reason::SignatureNotBase64url => "signature is not unpadded base64url".to_owned(),
        Reason::AlgMissing => "protected header has no alg".to_owned(),
        Reason::AlgNotAllowed => "alg is not allowed by the profile".to_owned(),
        Reason::KeyAlgMismatch => format!("alg does not fit the key type of {participant:?}"),
        Reason::KeyTooSmall => {
            format!("the RSA key of {participant:?} is below the profile's minimum")
        }
        Reason::EcdsaSignatureLength => {
            "ECDSA signature has the wrong length (JWS needs r||s, not DER)".to_owned()
        }
        Reason::SignatureMismatch => {
            let forms: Vec<&str> = verdict.forms_tried.iter().map(|f| f.name()).collect();
            format!(
                "signature does not verify with the key of {participant:?} over any payload form tried ({})",
                forms.join(", ")
            )
        }
        Reason::ProtectedUriMissing => "protected header has no FSPIOP-URI".to_owned(),
        Reason::ProtectedMethodMissing => "protected header has no FSPIOP-HTTP-Method".to_owned(),
        Reason::ProtectedSourceMissing => "protected header has no FSPIOP-Source".to_owned(),
        Reason::UriMismatch => "FSPIOP-URI header differs from the protected value".to_owned(),
        Reason::MethodMismatch => {
            "FSPIOP-HTTP-Method header differs from the protected value".to_owned()
        }
        Reason::SourceMismatch => {
            "FSPIOP-Source header differs from the protected value".to_owned()
        }
        Reason::DateMissingInHttp => "Date is protected but the Date header is missing".to_owned(),
        Reason::DateMismatch => "Date header differs from the protected value".to_owned(),
        Reason::DestinationNotProtected => {
            "FSPIOP-Destination header is present but not protected".to_owned()
        }
        Reason::DestinationMissingInHttp => {
            "FSPIOP-Destination is protected but the header is missing".to_owned()
        }
        Reason::DestinationMismatch => {
            "FSPIOP-Destination header differs from the protected value".to_owned()
        }
        Reason::RequestUriMismatch => {
            "protected FSPIOP-URI does not match the request target".to_owned()
        }
        Reason::RequestMethodMismatch => {
            "protected FSPIOP-HTTP-Method does not match the request method".to_owned()
        }
        Reason::DateNotProtected => "the profile requires a protected Date".to_owned(),
        Reason::DateInvalid => "protected Date is not an HTTP date".to_owned(),
        Reason::DateOutOfWindow => "protected Date is outside the freshness window".to_owned(),
    }
}

impl Serialize for Verdict {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Checks<'a>(&'a [Check]);
        impl Serialize for Checks<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeSeq;
                let mut seq = s.serialize_seq(Some(self.0.len()))?;
                for check in self.0 {
                    seq.serialize_element(&CheckJson {
                        check: check.id.name(),
                        outcome: check.outcome.name(),
                        description: check.id.description(),
                    })?;
                }
                seq.end()
            }
        }
        #[derive(Serialize)]
        struct CheckJson {
            check: &'static str,
            outcome: &'static str,
            description: &'static str,
        }

        let mut s = serializer.serialize_struct("Verdict", 12)?;
        s.serialize_field("accepted", &self.accepted)?;
        s.serialize_field("reason", &self.reason.map(Reason::code))?;
        s.serialize_field("fspiop_error", &self.fspiop_error().map(FspiopError::code))?;
        s.serialize_field("message", &self.message())?;
        s.serialize_field("participant", &self.participant)?;
        s.serialize_field("key_id", &self.key_id)?;
        s.serialize_field("payload_form", &self.payload_form.map(PayloadForm::name))?;
        let tried: Vec<&str> = self.forms_tried.iter().map(|f| f.name()).collect();
        s.serialize_field("forms_tried", &tried)?;
        s.serialize_field("alg", &self.alg.map(Algorithm::name))?;
        s.serialize_field("checks", &Checks(&self.checks))?;
        let warnings: Vec<String> = self.warnings.iter().map(ToString::to_string).collect();
        s.serialize_field("warnings", &warnings)?;
        s.serialize_field("not_required", &self.not_required)?;
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_codes_are_unique() {
        let mut codes: Vec<&str> = Reason::ALL.iter().map(|r| r.code()).collect();
        codes.sort_unstable();
        let before = codes.len();
        codes.dedup();
        assert_eq!(before, codes.len());
    }

    #[test]
    fn reason_round_trips_through_code() {
        for reason in Reason::ALL {
            assert_eq!(Reason::from_code(reason.code()), Some(*reason));
        }
    }

    #[test]
    fn mismatch_maps_to_3105() {
        assert_eq!(Reason::SignatureMismatch.fspiop_error().code(), "3105");
        assert_eq!(Reason::UriMismatch.fspiop_error().code(), "3106");
    }
}
