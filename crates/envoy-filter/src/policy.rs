//! Every decision the filter makes, free of proxy-wasm calls.
//!
//! The glue hands this module header pairs, the buffered body, the time and the
//! signature engine; it answers forward, reject (with the local reply to send) or
//! refresh the keys and ask again.

use std::fmt::Write as _;

use fspiop_guard_core::json;
use fspiop_guard_core::keys::KeyStore;
use fspiop_guard_core::keyset::{self, KeySetError};
use fspiop_guard_core::{
    FspiopError, Headers, Reason, Request, SignatureVerifier, Verdict, VerifyContext, verify,
};

use crate::config::{FilterConfig, NoKeysMode, OWN_HEADER_PREFIX};

/// Extension key carrying the reason code in an FSPIOP error body.
pub const REASON_EXTENSION_KEY: &str = "fspiopGuardReason";

/// Reason codes of rejections decided before the core verifier runs.
pub mod reasons {
    /// The buffered body length differs from `content-length` (a proxy lost a chunk).
    pub const BODY_LENGTH_MISMATCH: &str = "BODY_LENGTH_MISMATCH";
    /// The body, or its announced `content-length`, is over `max_body_bytes`.
    pub const BODY_TOO_LARGE: &str = "BODY_TOO_LARGE";
    /// No JWS key is loaded and the filter fails closed.
    pub const NO_KEYS: &str = "NO_KEYS";
    /// The request was held longer than `hold_timeout_ms`.
    pub const HOLD_TIMEOUT: &str = "HOLD_TIMEOUT";
    /// `signature_path` is `foreign-function`, and the proxy's `verify_signature` is
    /// missing, failed, or does not cover the algorithm.
    pub const SIGNATURE_PATH_UNAVAILABLE: &str = "SIGNATURE_PATH_UNAVAILABLE";
}

/// The request line and headers, as the filter saw them in the headers callback.
#[derive(Clone, Debug, Default)]
pub struct RequestHead {
    /// `:method`.
    pub method: String,
    /// `:path`, with the query.
    pub target: String,
    /// Headers as Node.js would present them, `host` taken from `:authority`.
    pub headers: Headers,
    /// `content-length`, when present and a number.
    pub content_length: Option<u64>,
    /// Names of client-sent headers in this filter's namespace, to be removed.
    pub own_headers: Vec<String>,
}

impl RequestHead {
    /// Builds the head from header pairs as the proxy gives them (names lower-case,
    /// values raw bytes, pseudo-headers first).
    ///
    /// Values are decoded as Latin-1, byte for byte, as Node.js decodes them, so a
    /// non-UTF-8 value is kept and judged by the verifier instead of trapping.
    ///
    /// Headers in this filter's namespace and `verified_header` (the configured name
    /// of the header it adds) are collected in `own_headers` for removal: a client's
    /// copy is a forgery.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a [u8])>,
        verified_header: &str,
    ) -> RequestHead {
        let mut head = RequestHead::default();
        let mut authority = None;
        let mut has_host = false;
        for (name, value) in pairs {
            let value = latin1(value);
            match name {
                ":method" => head.method = value,
                ":path" => head.target = value,
                ":authority" => authority = Some(value),
                _ if name.starts_with(':') => {}
                _ => {
                    if name.starts_with(OWN_HEADER_PREFIX) || name == verified_header {
                        if !head.own_headers.iter().any(|n| n == name) {
                            head.own_headers.push(name.to_owned());
                        }
                        continue;
                    }
                    if name == "content-length" {
                        head.content_length = value.trim().parse().ok();
                    }
                    has_host |= name == "host";
                    head.headers.push(name, &value);
                }
            }
        }
        if let (Some(authority), false) = (authority, has_host) {
            head.headers.push("host", &authority);
        }
        head
    }

    /// Returns the participant named in `FSPIOP-Source`, if any.
    pub fn source(&self) -> Option<String> {
        self.headers.get("fspiop-source").map(|s| s.into_owned())
    }
}

/// Maximum length of the message in a reply, in bytes. The verifier's messages quote
/// header values, which a client can make as long as the proxy's header limit.
pub const MAX_MESSAGE_BYTES: usize = 512;

/// Returns `text` cut to at most `max` bytes on a character boundary, with a note of
/// the full length when it was cut, for logs and replies that quote client input.
pub fn clip(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    std::borrow::Cow::Owned(format!(
        "{}...[{} bytes in all]",
        text.get(..end).unwrap_or_default(),
        text.len()
    ))
}

/// Decodes bytes as Latin-1 (each byte is one code point).
fn latin1(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) if text.is_ascii() => text.to_owned(),
        _ => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// A local reply to send instead of forwarding the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// FSPIOP `errorInformation` JSON.
    pub body: String,
    /// Stable reason code, also the stat suffix.
    pub reason: &'static str,
}

impl Reply {
    /// Builds a rejection with an FSPIOP error body.
    pub fn new(
        status: u16,
        code: &str,
        description: &str,
        reason: &'static str,
        message: &str,
    ) -> Reply {
        let mut body = String::with_capacity(256);
        let _ = write!(
            body,
            r#"{{"errorInformation":{{"errorCode":"{code}","errorDescription":{},"extensionList":{{"extension":[{{"key":"{REASON_EXTENSION_KEY}","value":"{reason}"}}]}}}}}}"#,
            json_string(&format!(
                "{description} - {}",
                clip(message, MAX_MESSAGE_BYTES)
            )),
        );
        Reply {
            status,
            body,
            reason,
        }
    }

    /// Builds the rejection for a core verdict.
    pub fn for_verdict(status: u16, reason: Reason, verdict: &Verdict) -> Reply {
        let error = reason.fspiop_error();
        Reply::new(
            status,
            error.code(),
            error.description(),
            reason.code(),
            &verdict.message(),
        )
    }
}

/// Quotes a string as JSON.
fn json_string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    json::quote_js_string(&json::JsString::from_str(text), &mut quoted);
    quoted
}

/// Decision taken after the request headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeadDecision {
    /// The request needs no signature: let it through untouched.
    PassThrough,
    /// Reject now.
    Reject(Reply),
    /// Buffer the body, then call [`judge`].
    Verify,
}

/// Decides what the headers alone allow.
pub fn on_head(config: &FilterConfig, head: &RequestHead) -> HeadDecision {
    if !config
        .request_rules
        .requires_signature(&head.method, path_of(&head.target))
    {
        return HeadDecision::PassThrough;
    }
    if let Some(length) = head.content_length
        && length > config.max_body_bytes as u64
    {
        return HeadDecision::Reject(too_large(config, length));
    }
    HeadDecision::Verify
}

/// Checks the caller's client certificate and bearer JWT, where the configuration sets
/// them, on every request whose path is not exempt. Returns the rejection, if any.
#[cfg(any(feature = "mtls", feature = "jwt"))]
pub fn check_caller(
    config: &FilterConfig,
    head: &RequestHead,
    properties: &crate::peer::PeerProperties,
    keys: &Keys,
    now: i64,
) -> Option<Reply> {
    if config.request_rules.is_exempt(path_of(&head.target)) {
        return None;
    }
    #[cfg(feature = "mtls")]
    if let Some(mtls) = &config.mtls
        && let Err(reply) = crate::peer::check_certificate(mtls, properties, head, now)
    {
        return Some(reply);
    }
    #[cfg(feature = "jwt")]
    if let Some(jwt) = &config.jwt
        && let Err(reply) = crate::peer::check_token(jwt, head, &keys.store, now)
    {
        return Some(reply);
    }
    let _ = (properties, keys, now);
    None
}

/// Builds the 413 reply for a body over the limit.
pub fn too_large(config: &FilterConfig, length: u64) -> Reply {
    let error = FspiopError::TooLarge;
    Reply::new(
        413,
        error.code(),
        error.description(),
        reasons::BODY_TOO_LARGE,
        &format!(
            "body of {length} bytes is over the {}-byte limit",
            config.max_body_bytes
        ),
    )
}

fn path_of(target: &str) -> &str {
    target.split(['?', '#']).next().unwrap_or(target)
}

/// The keys the filter verifies with: inline keys merged into the fetched key set.
#[derive(Clone, Debug, Default)]
pub struct Keys {
    /// Version of the fetched key set, if one has been loaded.
    pub version: Option<String>,
    /// All keys.
    pub store: KeyStore,
    /// Notes about keys that did not load.
    pub notes: Vec<String>,
}

impl Keys {
    /// Returns the inline keys alone.
    pub fn inline(config: &FilterConfig) -> Keys {
        let mut keys = Keys::default();
        keys.merge_inline(config);
        keys
    }

    /// Parses a fetched key-set document and merges the inline keys into it.
    ///
    /// # Errors
    /// The [`KeySetError`] that rejects the document whole.
    pub fn fetched(
        config: &FilterConfig,
        document: &[u8],
        max_bytes: usize,
    ) -> Result<Keys, KeySetError> {
        let set = keyset::parse(document, max_bytes)?;
        let mut keys = Keys {
            version: Some(set.version),
            store: set.store,
            notes: set.notes,
        };
        keys.merge_inline(config);
        Ok(keys)
    }

    fn merge_inline(&mut self, config: &FilterConfig) {
        for (participant, entries) in &config.inline_keys {
            // Inline keys were validated in on_configure, so each one parses. A key
            // already in the fetched set is a duplicate to skip, not an error.
            let fresh: Vec<_> = entries
                .iter()
                .filter(|entry| {
                    fspiop_guard_core::keys::parse_public_key(&entry.pem).map_or(true, |parsed| {
                        !self
                            .store
                            .entries(participant)
                            .iter()
                            .any(|e| e.kid() == parsed.key.kid())
                    })
                })
                .cloned()
                .collect();
            if let Ok(notes) = keyset::load_entries(&mut self.store, participant, &fresh) {
                self.notes.extend(notes);
            }
        }
    }

    /// Returns true when no participant is known: no key, not even an unusable one.
    pub fn is_empty(&self) -> bool {
        self.store.participants().next().is_none()
    }

    /// Returns true when no key can verify anything.
    pub fn has_no_usable_key(&self) -> bool {
        self.store.is_empty()
    }
}

/// Outcome for a request whose body is complete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Judgement {
    /// Forward the request.
    Accept {
        /// Value of the verified header (used in the `hold-headers` flow); empty when
        /// the request needed no signature or the filter failed open.
        verified: String,
    },
    /// Send this reply.
    Reject(Reply),
    /// The signature matches none of the participant's current keys: refresh the key
    /// set once, then judge again.
    Refresh {
        /// The participant whose keys to refresh, or `None` for a participant the key
        /// set does not name. Unknown names come from unauthenticated headers, so they
        /// share one rate limit and are never used as keys of shared state.
        participant: Option<String>,
        /// The reply to send if the refresh does not help.
        reply: Reply,
    },
}

/// Inputs of [`judge`] besides the head and the body.
pub struct Inputs<'a> {
    /// The head from the headers callback.
    pub head: &'a RequestHead,
    /// The whole body; `None` when the stream ended with the headers.
    pub body: Option<&'a [u8]>,
    /// Current keys.
    pub keys: &'a Keys,
    /// Unix seconds.
    pub now: i64,
    /// The signature engine.
    pub crypto: &'a dyn SignatureVerifier,
    /// Whether a refresh may be asked for (key source configured, refresh-on-miss on,
    /// this request not already retried).
    pub may_refresh: bool,
}

/// Judges a request whose body is complete.
pub fn judge(config: &FilterConfig, inputs: &Inputs<'_>) -> Judgement {
    let head = inputs.head;
    let body_len = inputs.body.map_or(0, <[u8]>::len) as u64;

    if body_len > config.max_body_bytes as u64 {
        return Judgement::Reject(too_large(config, body_len));
    }
    if let Some(length) = head.content_length
        && length != body_len
    {
        let error = FspiopError::MalformedSyntax;
        return Judgement::Reject(Reply::new(
            config.reject_status,
            error.code(),
            error.description(),
            reasons::BODY_LENGTH_MISMATCH,
            &format!(
                "content-length is {length} but {body_len} body bytes arrived; the request was cut short on the way"
            ),
        ));
    }

    if inputs.keys.is_empty() {
        return match config.no_keys.mode {
            NoKeysMode::FailOpen => Judgement::Accept {
                verified: String::new(),
            },
            NoKeysMode::FailClosed => Judgement::Reject(Reply::new(
                config.no_keys.status,
                "2003",
                "Service currently unavailable",
                reasons::NO_KEYS,
                "no usable JWS key set is loaded yet",
            )),
        };
    }

    let request = Request {
        method: head.method.clone(),
        target: head.target.clone(),
        headers: head.headers.clone(),
        body: inputs.body.map(<[u8]>::to_vec),
    };
    let verdict = verify(
        &request,
        &VerifyContext {
            profile: &config.profile,
            keys: &inputs.keys.store,
            rules: Some(&config.request_rules),
            now: inputs.now,
            crypto: inputs.crypto,
        },
    );

    match verdict.reason {
        None => Judgement::Accept {
            verified: verified_header(&verdict),
        },
        Some(reason) => {
            let reply = Reply::for_verdict(config.reject_status, reason, &verdict);
            match (inputs.may_refresh && depends_on_keys(reason), head.source()) {
                (true, Some(source)) => {
                    let known = inputs.keys.store.participants().any(|p| p == source);
                    Judgement::Refresh {
                        participant: known.then_some(source),
                        reply,
                    }
                }
                _ => Judgement::Reject(reply),
            }
        }
    }
}

/// Returns true for rejections a newer key set could turn into an acceptance.
pub fn depends_on_keys(reason: Reason) -> bool {
    matches!(
        reason,
        Reason::UnknownSource
            | Reason::KeyUnusable
            | Reason::KeyAlgMismatch
            | Reason::KeyTooSmall
            | Reason::SignatureMismatch
    )
}

/// Formats the `x-fspiop-guard-verified` value as an RFC 8941 dictionary:
/// `participant="payerfsp", kid="...", payload="sorted-json"`.
fn verified_header(verdict: &Verdict) -> String {
    let mut out = String::with_capacity(96);
    let _ = write!(
        out,
        "participant={}, kid={}, payload={}",
        sf_string(verdict.participant.as_deref().unwrap_or_default()),
        sf_string(verdict.key_id.as_deref().unwrap_or_default()),
        sf_string(verdict.payload_form.map(|f| f.name()).unwrap_or_default()),
    );
    out
}

/// Quotes a value as an RFC 8941 sf-string; bytes outside printable ASCII are
/// percent-encoded so the header stays valid.
fn sf_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for byte in text.bytes() {
        match byte {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(char::from(byte));
            }
            b'%' => out.push_str("%25"),
            0x20..=0x7e => out.push(char::from(byte)),
            _ => {
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn head_takes_host_from_authority_and_collects_own_headers() {
        let head = RequestHead::from_pairs(
            [
                (":method", &b"POST"[..]),
                (":path", b"/quotes?x=1"),
                (":authority", b"hub.example"),
                ("content-length", b"12"),
                ("x-fspiop-guard-verified", b"forged"),
                ("x-fspiop-guard-verified", b"forged again"),
                ("x-dfsp-verified", b"forged"),
            ],
            "x-dfsp-verified",
        );
        assert_eq!(head.method, "POST");
        assert_eq!(head.target, "/quotes?x=1");
        assert_eq!(head.headers.get("host").as_deref(), Some("hub.example"));
        assert_eq!(head.content_length, Some(12));
        assert_eq!(
            head.own_headers,
            vec![
                "x-fspiop-guard-verified".to_owned(),
                "x-dfsp-verified".to_owned()
            ]
        );
        assert_eq!(head.headers.get("x-fspiop-guard-verified"), None);
    }

    #[test]
    fn non_utf8_header_values_decode_as_latin1() {
        let head = RequestHead::from_pairs(
            [("fspiop-source", &b"dfsp\xe9"[..])],
            "x-fspiop-guard-verified",
        );
        assert_eq!(head.source().as_deref(), Some("dfsp\u{e9}"));
    }

    #[test]
    fn reply_body_is_fspiop_error_information() {
        let reply = Reply::new(
            400,
            "3105",
            "Invalid signature",
            "SIGNATURE_MISMATCH",
            "no \"key\"",
        );
        let value: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        let info = &value["errorInformation"];
        assert_eq!(info["errorCode"], "3105");
        assert_eq!(info["errorDescription"], "Invalid signature - no \"key\"");
        assert_eq!(
            info["extensionList"]["extension"][0]["key"],
            REASON_EXTENSION_KEY
        );
        assert_eq!(
            info["extensionList"]["extension"][0]["value"],
            "SIGNATURE_MISMATCH"
        );
    }

    #[test]
    fn sf_string_escapes_quotes_and_encodes_non_ascii() {
        assert_eq!(sf_string("a\"b\\c%é"), "\"a\\\"b\\\\c%25%C3%A9\"");
    }

    #[test]
    fn json_string_matches_serde_json() {
        let mut text: String = (0u8..0x80).map(char::from).collect();
        text.push_str("é€😀\u{2028}\u{FEFF}");
        assert_eq!(json_string(&text), serde_json::to_string(&text).unwrap());
        assert_eq!(json_string(""), "\"\"");
    }

    #[test]
    fn clip_cuts_long_values_on_a_character_boundary() {
        assert_eq!(clip("short", 8), "short");
        assert_eq!(clip("ééééé", 5), "éé...[10 bytes in all]");
        let reply = Reply::new(400, "3105", "Invalid signature", "X", &"s".repeat(50_000));
        assert!(reply.body.len() < 1024, "{}", reply.body.len());
    }

    #[test]
    fn path_ignores_query() {
        assert_eq!(path_of("/parties/MSISDN/1?x=2"), "/parties/MSISDN/1");
    }
}
