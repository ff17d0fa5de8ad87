//! Plugin configuration: the JSON an operator puts in Envoy's `configuration` or Istio's
//! `pluginConfig`, validated whole before the filter serves a request.
//!
//! Every field is optional; the defaults verify every POST, PUT and PATCH the way the
//! Mojaloop SDK does, reject with 400, and fail closed with 503 while no key is loaded.
//! [`FilterConfig::from_json`] refuses unknown fields and out-of-range values with an
//! error that names the field, because a misspelt field silently ignored would weaken
//! the policy.

use std::fmt;

use fspiop_guard_core::json::number_to_string;
use fspiop_guard_core::json::read::{self, ReadError};
use fspiop_guard_core::keys::KeyStore;
use fspiop_guard_core::keyset::{self, KeySetEntry};
use fspiop_guard_core::sorted_map::SortedMap;
use fspiop_guard_core::{Profile, RequestRules};

mod peer;
mod raw;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod serde_agreement;

use raw::{RawConfig, RawKeySource};

/// Largest plugin configuration accepted, in bytes.
pub const MAX_CONFIG_BYTES: usize = 4 * 1024 * 1024;

/// Prefix of the headers this filter owns; a client's copies are removed.
pub const OWN_HEADER_PREFIX: &str = "x-fspiop-guard-";

/// Deepest nesting of arrays and objects parsed. A configuration nests four deep
/// (`keys`, a participant's list, an entry), so the limit only bounds the parser's
/// memory on hostile input.
const MAX_DEPTH: usize = 64;

/// Request flow through the filter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Flow {
    /// Headers go upstream at once; the body is held until it has been verified. A
    /// rejection resets the upstream stream, so the upstream never receives the body.
    /// Works on every Envoy and under a plain Istio `WasmPlugin`.
    #[default]
    Stream,
    /// Headers are held too, and released with an `x-fspiop-guard-verified` header
    /// after the verdict. Needs Envoy 1.35+ with `allow_on_headers_stop_iteration`.
    HoldHeaders,
}

/// Engine that does the signature arithmetic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SignaturePath {
    /// The proxy's `verify_signature` foreign function where it covers the algorithm,
    /// ring inside the module otherwise.
    #[default]
    Auto,
    /// Always the foreign function; a request whose algorithm it cannot check (PS*)
    /// or a proxy without it is rejected.
    ForeignFunction,
    /// Always ring inside the module.
    InWasm,
}

/// Behaviour of the filter while it has no key at all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NoKeysMode {
    /// Answer every request that needs a signature with `no_keys.status`.
    #[default]
    FailClosed,
    /// Let requests through unverified, with a warning in the log and a stat.
    FailOpen,
}

/// The validated configuration.
#[derive(Clone, Debug)]
pub struct FilterConfig {
    /// The verification profile.
    pub profile: Profile,
    /// Name of the profile, for logs.
    pub profile_name: String,
    /// Request flow through the filter.
    pub flow: Flow,
    /// Keys given inline, merged with every fetched key set.
    pub inline_keys: SortedMap<String, Vec<KeySetEntry>>,
    /// Source of fetched key sets, if any.
    pub key_source: Option<KeySource>,
    /// Rules that decide which requests need a signature.
    pub request_rules: RequestRules,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// HTTP status of a rejection.
    pub reject_status: u16,
    /// Behaviour while no key is loaded.
    pub no_keys: NoKeys,
    /// Names of the headers this filter adds.
    pub headers: HeaderNames,
    /// Engine that does the signature arithmetic.
    pub signature_path: SignaturePath,
    /// Maximum time a request is held waiting for the filter (`hold-headers` body
    /// delivery, key refresh), in milliseconds.
    pub hold_timeout_ms: u64,
    /// Client certificate checks.
    #[cfg(feature = "mtls")]
    pub mtls: Option<crate::peer::MtlsConfig>,
    /// Bearer JWT checks.
    #[cfg(feature = "jwt")]
    pub jwt: Option<crate::peer::JwtConfig>,
}

impl FilterConfig {
    /// Returns true when a client certificate or JWT check is configured.
    pub fn checks_callers(&self) -> bool {
        #[allow(unused_mut)]
        let mut checks = false;
        #[cfg(feature = "mtls")]
        {
            checks |= self.mtls.is_some();
        }
        #[cfg(feature = "jwt")]
        {
            checks |= self.jwt.is_some();
        }
        checks
    }
}

/// Location and polling schedule of the key set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySource {
    /// Envoy cluster serving the key set.
    pub cluster: String,
    /// `:authority` of the fetch request.
    pub authority: String,
    /// `:path` of the fetch request.
    pub path: String,
    /// Time between polls, in milliseconds.
    pub refresh_period_ms: u64,
    /// Time between polls after a failed fetch, in milliseconds.
    pub retry_period_ms: u64,
    /// Timeout of one fetch, in milliseconds.
    pub timeout_ms: u64,
    /// Largest key-set document accepted, in bytes.
    pub max_bytes: usize,
    /// Refresh triggered by a signature that verifies under none of the current keys.
    pub refresh_on_miss: RefreshOnMiss,
}

/// Refresh triggered by a request whose signature matches no current key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefreshOnMiss {
    /// Whether a miss triggers a refresh.
    pub enabled: bool,
    /// Minimum time between two refreshes for the same participant, in milliseconds,
    /// across all worker VMs. Participants the key set does not name share one such
    /// limit: their names are unauthenticated input.
    pub min_interval_ms: u64,
    /// Minimum time between any two refreshes on a miss, whatever the participant, in
    /// milliseconds, across all worker VMs.
    pub global_min_interval_ms: u64,
}

/// Behaviour while no key is loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoKeys {
    /// Fail closed or open.
    pub mode: NoKeysMode,
    /// HTTP status when failing closed.
    pub status: u16,
}

/// Names of the headers the filter adds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderNames {
    /// Header added in the `hold-headers` flow after a successful verification.
    pub verified: String,
}

/// A configuration the filter refuses, with the field at fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// Dotted path of the field, for example `key_source.timeout_ms`; empty for the document.
    pub field: String,
    /// The problem and the fix.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "plugin configuration: {}", self.message)
        } else {
            write!(
                f,
                "plugin configuration field {}: {}",
                self.field, self.message
            )
        }
    }
}

impl std::error::Error for ConfigError {}

/// Converts an error about a value of the wrong type, or a missing, unknown or
/// repeated field. The field of the result is the path of the value at fault.
impl From<ReadError> for ConfigError {
    fn from(error: ReadError) -> ConfigError {
        ConfigError {
            field: error.path,
            message: error.message,
        }
    }
}

fn error(field: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// Checks that the non-negative integer `value`, or `default` when it is missing,
/// lies in `range`, naming the field otherwise.
fn in_range(
    field: &str,
    value: Option<f64>,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
    unit: &str,
) -> Result<u64, ConfigError> {
    // Every bound and default is below 2^53, so it converts to a double exactly.
    let value = value.unwrap_or(default as f64);
    let (start, end) = (*range.start(), *range.end());
    if value >= start as f64 && value <= end as f64 {
        Ok(value as u64)
    } else {
        Err(error(
            field,
            format!(
                "{} is out of range; use {start} to {end} {unit}",
                number_to_string(value)
            ),
        ))
    }
}

impl FilterConfig {
    /// Parses and validates a plugin configuration. An empty document is the defaults,
    /// which have no key and therefore need `keys` or `key_source` to be useful.
    ///
    /// # Errors
    /// Returns a [`ConfigError`] naming the first field that is unknown, mistyped or
    /// out of range, or an inline key that does not load.
    pub fn from_json(bytes: &[u8]) -> Result<FilterConfig, ConfigError> {
        if bytes.len() > MAX_CONFIG_BYTES {
            return Err(error(
                "",
                format!(
                    "{} bytes is over the {MAX_CONFIG_BYTES}-byte limit; serve large key lists through key_source",
                    bytes.len()
                ),
            ));
        }
        let text = if bytes.iter().all(u8::is_ascii_whitespace) {
            &b"{}"[..]
        } else {
            bytes
        };

        let document =
            read::parse_document(text, MAX_DEPTH).map_err(|e| error("", e.to_string()))?;
        let raw = RawConfig::read(document.root())?;

        Self::validate(raw)
    }

    fn validate(raw: RawConfig) -> Result<FilterConfig, ConfigError> {
        let profile_name = raw.profile.unwrap_or_else(|| "mojaloop-sdk".to_owned());
        let profile = Profile::by_name(&profile_name).ok_or_else(|| {
            error(
                "profile",
                format!(
                    "unknown profile {profile_name:?}; use mojaloop-sdk, sdk-19.19, sdk-19.18 or strict"
                ),
            )
        })?;

        let max_body_bytes = in_range(
            "max_body_bytes",
            raw.max_body_bytes,
            1024 * 1024,
            1..=64 * 1024 * 1024,
            "bytes",
        )? as usize;
        let reject_status =
            in_range("reject_status", raw.reject_status, 400, 400..=499, "")? as u16;
        let no_keys = NoKeys {
            mode: raw.no_keys.mode,
            status: in_range("no_keys.status", raw.no_keys.status, 503, 400..=599, "")? as u16,
        };
        let hold_timeout_ms = in_range(
            "hold_timeout_ms",
            raw.hold_timeout_ms,
            10_000,
            100..=120_000,
            "milliseconds",
        )?;

        let verified = raw
            .headers
            .verified
            .unwrap_or_else(|| format!("{OWN_HEADER_PREFIX}verified"))
            .to_ascii_lowercase();
        check_verified_header_name(&verified)?;

        let key_source = raw.key_source.map(validate_key_source).transpose()?;
        #[cfg(feature = "mtls")]
        let mtls = peer::validate_mtls(raw.mtls)?;
        #[cfg(not(feature = "mtls"))]
        peer::validate_mtls(raw.mtls)?;
        #[cfg(feature = "jwt")]
        let jwt = peer::validate_jwt(raw.jwt)?;
        #[cfg(not(feature = "jwt"))]
        peer::validate_jwt(raw.jwt)?;

        // Inline keys are loaded once here so a bad one refuses the configuration. A
        // key-set document may carry a PEM that does not parse (its participant is
        // then unusable), but an operator's own inline key must load.
        let mut probe = KeyStore::new();
        for (participant, entries) in &raw.keys {
            let field = format!("keys.{participant}");
            if entries.is_empty() {
                return Err(error(
                    &field,
                    "empty list; give the participant's keys or remove it",
                ));
            }
            let notes = keyset::load_entries(&mut probe, participant, entries)
                .map_err(|e| error(&field, e.to_string()))?;
            if let Some(note) = notes.first() {
                return Err(error(
                    &field,
                    format!("{note}; give a PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE PEM"),
                ));
            }
        }
        if raw.keys.is_empty() && key_source.is_none() {
            return Err(error(
                "",
                "no key source; give keys inline in keys, or a key endpoint in key_source",
            ));
        }

        let request_rules = raw.request_rules.unwrap_or_default();
        check_request_rules(&request_rules)?;

        // An ingress that adds a prefix adds it to the request line too, so the check
        // of the request line against FSPIOP-URI (strict profile) allows it as well.
        let mut profile = profile;
        let prefix = request_rules.path_prefix.trim_end_matches('/');
        if !prefix.is_empty() && !profile.request_path_prefixes.iter().any(|p| p == prefix) {
            profile.request_path_prefixes.push(prefix.to_owned());
        }

        Ok(FilterConfig {
            profile,
            profile_name,
            flow: raw.flow,
            inline_keys: raw.keys,
            key_source,
            request_rules,
            max_body_bytes,
            reject_status,
            no_keys,
            headers: HeaderNames { verified },
            signature_path: raw.signature_path,
            hold_timeout_ms,
            #[cfg(feature = "mtls")]
            mtls,
            #[cfg(feature = "jwt")]
            jwt,
        })
    }
}

/// Checks the name of the header added to verified requests.
///
/// The filter removes a client's copy of this header and overwrites it on every
/// verified request, so it must not be a header the request already needs (framing,
/// `host`, the FSPIOP headers) or one Envoy reserves. Only `x-` names qualify.
fn check_verified_header_name(name: &str) -> Result<(), ConfigError> {
    let field = "headers.verified";
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(error(
            field,
            format!("{name:?} is not a header name; use letters, digits and '-'"),
        ));
    }
    if !name.starts_with("x-") || name.len() < 3 {
        return Err(error(
            field,
            format!(
                "{name:?} could collide with a request header; use x- followed by a name, for example x-fspiop-guard-verified"
            ),
        ));
    }
    if let Some(reserved) = ["x-envoy-", "x-forwarded-", "x-request-id"]
        .into_iter()
        .find(|prefix| name.starts_with(prefix))
    {
        return Err(error(
            field,
            format!("{name:?} is in Envoy's {reserved} namespace; pick another x- name"),
        ));
    }
    Ok(())
}

/// Checks request rules that would silently turn verification off.
fn check_request_rules(rules: &RequestRules) -> Result<(), ConfigError> {
    if rules.methods.is_empty() {
        return Err(error(
            "request_rules.methods",
            "empty, so no request would be verified; list the methods that need a signature, for example [\"POST\", \"PUT\", \"PATCH\"]",
        ));
    }
    // A misspelt method would silently leave the real one unverified, so only the
    // methods of RFC 9110 and PATCH (RFC 5789) are accepted.
    const METHODS: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    ];
    if let Some(method) = rules
        .methods
        .iter()
        .find(|m| !METHODS.contains(&m.as_str()))
    {
        return Err(error(
            "request_rules.methods",
            format!(
                "{method:?} is not an HTTP method; use upper-case names from {}",
                METHODS.join(", ")
            ),
        ));
    }
    if let Some(path) = rules
        .exempt_paths
        .iter()
        .find(|p| !p.starts_with('/') || p.len() < 2)
    {
        return Err(error(
            "request_rules.exempt_paths",
            format!(
                "{path:?} is not an exempt path; give a path of one or more segments that starts with '/', for example \"/health\""
            ),
        ));
    }
    if !rules.path_prefix.is_empty() && !rules.path_prefix.starts_with('/') {
        return Err(error(
            "request_rules.path_prefix",
            format!("{:?} must be empty or start with '/'", rules.path_prefix),
        ));
    }
    Ok(())
}

/// Checks a value the filter sends as a header of its key fetch: printable ASCII
/// without spaces, so it can neither break the request nor add a header.
fn check_header_value(field: &str, value: &str) -> Result<(), ConfigError> {
    if value.is_empty() {
        return Err(error(field, "must not be empty"));
    }
    if let Some(bad) = value.bytes().find(|b| !(0x21..=0x7e).contains(b)) {
        return Err(error(
            field,
            format!(
                "{value:?} holds byte 0x{bad:02x}; use printable ASCII without spaces (percent-encode the rest)"
            ),
        ));
    }
    Ok(())
}

fn validate_key_source(raw: RawKeySource) -> Result<KeySource, ConfigError> {
    if raw.cluster.trim().is_empty() {
        return Err(error(
            "key_source.cluster",
            "missing; name the Envoy cluster that serves the key set, for example outbound|8080||keysync.hub.svc.cluster.local",
        ));
    }
    let authority = raw.authority.unwrap_or_else(|| raw.cluster.clone());
    check_header_value("key_source.authority", &authority)?;
    let path = raw.path.unwrap_or_else(|| "/v1/keys".to_owned());
    check_header_value("key_source.path", &path)?;
    if !path.starts_with('/') {
        return Err(error(
            "key_source.path",
            format!("{path:?} must start with '/'"),
        ));
    }

    let refresh_period_ms = in_range(
        "key_source.refresh_period_ms",
        raw.refresh_period_ms,
        60_000,
        1_000..=86_400_000,
        "milliseconds",
    )?;
    let retry_period_ms = in_range(
        "key_source.retry_period_ms",
        raw.retry_period_ms,
        5_000.min(refresh_period_ms),
        1_000..=86_400_000,
        "milliseconds",
    )?;
    let timeout_ms = in_range(
        "key_source.timeout_ms",
        raw.timeout_ms,
        5_000,
        100..=60_000,
        "milliseconds",
    )?;
    let max_bytes = in_range(
        "key_source.max_bytes",
        raw.max_bytes,
        keyset::DEFAULT_MAX_BYTES as u64,
        1_024..=64 * 1024 * 1024,
        "bytes",
    )? as usize;
    let refresh_on_miss = RefreshOnMiss {
        enabled: raw.refresh_on_miss.enabled.unwrap_or(true),
        min_interval_ms: in_range(
            "key_source.refresh_on_miss.min_interval_ms",
            raw.refresh_on_miss.min_interval_ms,
            30_000,
            100..=86_400_000,
            "milliseconds",
        )?,
        global_min_interval_ms: in_range(
            "key_source.refresh_on_miss.global_min_interval_ms",
            raw.refresh_on_miss.global_min_interval_ms,
            1_000,
            0..=86_400_000,
            "milliseconds",
        )?,
    };

    Ok(KeySource {
        cluster: raw.cluster,
        authority,
        path,
        refresh_period_ms,
        retry_period_ms,
        timeout_ms,
        max_bytes,
        refresh_on_miss,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const PEM: &str = "-----BEGIN PUBLIC KEY-----\\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEVs/o5+uQbTjL3chynL4wXgUg2R9\\nq9UU8I5mEovUf86QZ7kOBIjJwqnzD1omageEHWwHdBO6B+dFabmdT9POxg==\\n-----END PUBLIC KEY-----\\n";

    fn with_source(extra: &str) -> String {
        format!(r#"{{"key_source":{{"cluster":"keysync"}}{extra}}}"#)
    }

    #[test]
    fn defaults_follow_the_sdk() {
        let config = FilterConfig::from_json(with_source("").as_bytes()).unwrap();
        assert_eq!(config.profile_name, "mojaloop-sdk");
        assert_eq!(config.flow, Flow::Stream);
        assert_eq!(config.reject_status, 400);
        assert_eq!(config.max_body_bytes, 1024 * 1024);
        assert_eq!(config.no_keys.status, 503);
        assert_eq!(config.no_keys.mode, NoKeysMode::FailClosed);
        assert_eq!(config.headers.verified, "x-fspiop-guard-verified");
        let source = config.key_source.unwrap();
        assert_eq!(source.authority, "keysync");
        assert_eq!(source.path, "/v1/keys");
        assert!(source.refresh_on_miss.enabled);
    }

    #[test]
    fn unknown_field_is_named() {
        let err =
            FilterConfig::from_json(br#"{"key_source":{"cluster":"k","timeout":5}}"#).unwrap_err();
        assert_eq!(err.field, "key_source.timeout");
        assert!(err.message.contains("unknown field"), "{err}");
    }

    #[test]
    fn out_of_range_is_named() {
        let err =
            FilterConfig::from_json(with_source(r#","reject_status":200"#).as_bytes()).unwrap_err();
        assert_eq!(err.field, "reject_status");
    }

    #[test]
    fn integral_floats_from_istio_are_accepted() {
        let config =
            FilterConfig::from_json(with_source(r#","max_body_bytes":1.048576e6"#).as_bytes())
                .unwrap();
        assert_eq!(config.max_body_bytes, 1_048_576);
        let err = FilterConfig::from_json(with_source(r#","max_body_bytes":1.5"#).as_bytes())
            .unwrap_err();
        assert_eq!(err.field, "max_body_bytes");
    }

    #[test]
    fn inline_keys_load_or_name_the_participant() {
        let ok = format!(r#"{{"keys":{{"payerfsp":[{{"pem":"{PEM}"}}]}}}}"#);
        assert!(FilterConfig::from_json(ok.as_bytes()).is_ok());
        let bad = format!(r#"{{"keys":{{"payerfsp":[{{"pem":"{PEM}","kid":"x"}}]}}}}"#);
        assert_eq!(
            FilterConfig::from_json(bad.as_bytes()).unwrap_err().field,
            "keys.payerfsp"
        );
    }

    #[test]
    fn misspelt_method_is_rejected() {
        let err = FilterConfig::from_json(
            with_source(r#","request_rules":{"methods":["POTS","PUT"]}"#).as_bytes(),
        )
        .unwrap_err();
        assert_eq!(err.field, "request_rules.methods");
        assert!(err.message.contains("POTS"), "{err}");
    }

    #[test]
    fn path_prefix_is_allowed_before_the_request_line() {
        let config = FilterConfig::from_json(
            with_source(r#","profile":"strict","request_rules":{"path_prefix":"/fspiop/"}"#)
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(
            config.profile.request_path_prefixes,
            vec!["/fspiop".to_owned()]
        );
    }

    #[test]
    fn no_key_source_is_refused() {
        let err = FilterConfig::from_json(b"{}").unwrap_err();
        assert!(err.message.contains("no key source"));
    }

    #[test]
    fn type_errors_are_named() {
        let cases = [
            (
                r#"{"key_source":{"cluster":"k","timeout_ms":"5"}}"#,
                "key_source.timeout_ms",
                "expected a number, found a string",
            ),
            (
                r#"{"key_source":{"cluster":"k","refresh_on_miss":{"enabled":1}}}"#,
                "key_source.refresh_on_miss.enabled",
                "expected a boolean, found a number",
            ),
            (
                r#"{"keys":{"payerfsp":[{"pem":5}]}}"#,
                "keys.payerfsp[0].pem",
                "expected a string, found a number",
            ),
            (
                r#"{"keys":{"payerfsp":{"pem":"x"}}}"#,
                "keys.payerfsp",
                "expected an array, found an object",
            ),
            (
                r#"{"key_source":{"cluster":"k"},"request_rules":{"methods":["POST",7]}}"#,
                "request_rules.methods[1]",
                "expected a string, found a number",
            ),
            (
                r#"{"key_source":{"cluster":"k"},"no_keys":null}"#,
                "no_keys",
                "expected an object, found null",
            ),
            (
                r#"{"key_source":"keysync"}"#,
                "key_source",
                "expected an object, found a string",
            ),
        ];
        for (text, field, message) in cases {
            let err = FilterConfig::from_json(text.as_bytes()).unwrap_err();
            assert_eq!(err.field, field, "{text}");
            assert_eq!(err.message, message, "{text}");
        }
    }

    #[test]
    fn unknown_variant_is_named() {
        let err = FilterConfig::from_json(with_source(r#","flow":"fast""#).as_bytes()).unwrap_err();
        assert_eq!(err.field, "flow");
        assert_eq!(
            err.message,
            "unknown variant `fast`, expected one of `stream`, `hold-headers`"
        );
    }

    #[test]
    fn repeated_field_is_named() {
        let err = FilterConfig::from_json(
            br#"{"key_source":{"cluster":"k","timeout_ms":100,"timeout_ms":200}}"#,
        )
        .unwrap_err();
        assert_eq!(err.field, "key_source.timeout_ms");
        assert_eq!(err.message, "duplicate field `timeout_ms`");
    }

    #[test]
    fn non_integers_are_named() {
        let cases = [
            ("-1", "-1 is not a non-negative integer"),
            ("1e400", "Infinity is not a non-negative integer"),
            ("1e300", "1e+300 is out of range; use 1 to 67108864 bytes"),
            (
                "18446744073709551616",
                "18446744073709552000 is out of range; use 1 to 67108864 bytes",
            ),
        ];
        for (number, message) in cases {
            let text = with_source(&format!(r#","max_body_bytes":{number}"#));
            let err = FilterConfig::from_json(text.as_bytes()).unwrap_err();
            assert_eq!(err.field, "max_body_bytes", "{number}");
            assert_eq!(err.message, message, "{number}");
        }
    }

    #[test]
    fn invalid_json_names_offset() {
        let err = FilterConfig::from_json(br#"{"key_source":}"#).unwrap_err();
        assert_eq!(err.field, "");
        assert_eq!(
            err.message,
            "invalid JSON at byte offset 14: expected a JSON value"
        );
    }

    #[test]
    fn unknown_profile_is_named() {
        let err =
            FilterConfig::from_json(with_source(r#","profile":"lax""#).as_bytes()).unwrap_err();
        assert_eq!(err.field, "profile");
    }
}
