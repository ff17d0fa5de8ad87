//! Hostile input against the client certificate and bearer JWT checks of the full
//! filter module, run in the wasmtime host. Each test names the attack it repeats.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fspiop_guard_core::crypto::{Algorithm, SigningKey};
use proxy_wasm_host::{Host, HttpRequest, PropertyValue};
use support::Decision;

/// 2026-05-13T14:39:12Z, the check time of the core's PKI fixtures.
const CASE_TIME: u64 = 1_778_683_152;

const GATEWAY: &str = "spiffe://hub/gateway";

/// SHA-256 digests, as Envoy writes them in `Hash`, of the attacker's and the victim's
/// certificates. Digests are public: anyone who saw the victim's certificate has one.
const ATTACKER_HASH: &str = "1111111111111111111111111111111111111111111111111111111111111111";
const VICTIM_HASH: &str = "2222222222222222222222222222222222222222222222222222222222222222";

fn payer_key() -> SigningKey {
    support::signing_key("payerfsp.key.pem")
}

fn hub_key() -> SigningKey {
    let pem = String::from_utf8(support::pki_fixture("keys/hub-jws.key.pem")).unwrap();
    SigningKey::from_pem(&pem).unwrap()
}

/// Starts the full module with the JWS keys of `payerfsp` and `hub` inline and `extra`
/// members.
fn start_full(extra: &str) -> Host {
    let config = support::inline_config(&[("payerfsp", &payer_key()), ("hub", &hub_key())], extra);
    let mut host_config = support::host_config(&config);
    host_config.start_unix_nanos = CASE_TIME * 1_000_000_000;
    Host::start(support::full_module(), host_config)
        .unwrap_or_else(|error| panic!("host did not start: {error}\nconfiguration: {config}"))
}

/// Returns the filter's log lines when it rejects `extra`, or `None` when it starts.
fn config_error(extra: &str) -> Option<String> {
    let config = support::inline_config(&[("payerfsp", &payer_key())], extra);
    match Host::start(support::full_module(), support::host_config(&config)) {
        Err(proxy_wasm_host::HostError::ConfigRejected { logs, .. }) => Some(format!("{logs:?}")),
        Err(other) => panic!("expected ConfigRejected, got {other}"),
        Ok(_) => None,
    }
}

/// Returns a quote that payerfsp signed correctly, so only the caller checks can reject it.
fn quote() -> HttpRequest {
    support::signed_quote(&payer_key(), "payerfsp", r#"{"quoteId":"1"}"#, CASE_TIME)
}

fn with_xfcc(value: &str) -> HttpRequest {
    quote().header("x-forwarded-client-cert", value)
}

fn rejected(decision: &Decision, reason: &str) {
    assert!(!decision.accepted, "accepted, expected {reason}");
    assert_eq!(decision.reason.as_deref(), Some(reason), "{decision:?}");
}

/// Returns an `mtls` section that reads a trusted XFCC without a chain check, as on an Envoy
/// that forwards only `Hash`, `Subject`, `URI` and `DNS`.
fn xfcc_identities(identities: &str) -> String {
    format!(
        r#""mtls":{{"certificate_source":"xfcc","xfcc_trusted_by":"{GATEWAY}","identities":{identities}}}"#
    )
}

// --- identity binding through the XFCC header --------------------------------------

/// The RFC 4514 escape `\,` in a quoted `Subject` stays an escape, not an RDN separator.
///
/// Envoy writes `Subject="<RFC 2253 DN>"` without escaping the DN again. A certificate
/// whose only CN is `evilfsp,CN=payerfsp` (which a Hub CA may sign from a DFSP's CSR)
/// therefore reaches the filter as `Subject="CN=evilfsp\,CN=payerfsp,O=Evil Bank"`, and
/// its one CN is not bound to payerfsp.
#[test]
fn xfcc_subject_escape_forges_cn() {
    let mut host = start_full(&xfcc_identities(r#"{"payerfsp":["CN=payerfsp"]}"#));
    for subject in [
        r"CN=evilfsp\,CN=payerfsp,O=Evil Bank",
        r"CN=evilfsp\+CN=payerfsp,O=Evil Bank",
        r"O=Evil Bank\,CN=payerfsp",
    ] {
        let header = format!("By={GATEWAY};Hash={ATTACKER_HASH};Subject=\"{subject}\";URI=");
        let decision = support::send(&mut host, &with_xfcc(&header));
        assert!(
            !decision.accepted,
            "{subject}: a certificate without CN payerfsp was bound to payerfsp"
        );
    }
}

/// The same subject, passed as `connection.subject_peer_certificate`, is read
/// correctly: the CN is `evilfsp,CN=payerfsp`, which is not bound to payerfsp.
#[test]
fn connection_subject_escape_keeps_one_cn() {
    let mut host = start_full(r#""mtls":{"identities":{"payerfsp":["CN=payerfsp"]}}"#);
    let request = quote()
        .property(&["connection", "mtls"], PropertyValue::Bool(true))
        .property(
            &["connection", "subject_peer_certificate"],
            PropertyValue::String(r"CN=evilfsp\,CN=payerfsp,O=Evil Bank".to_owned()),
        );
    rejected(
        &support::send(&mut host, &request),
        "IDENTITY_SOURCE_MISMATCH",
    );
}

/// Envoy writes `URI=<san>` and `DNS=<san>` without quotes or escapes, and a URI may
/// contain `,` and `;`. A certificate with the single URI SAN
/// `https://evil.example/a,By=spiffe://hub/gateway;Hash=<victim digest>` would add a
/// second element that names the gateway and the victim's digest. A header of more than
/// one element is rejected.
#[test]
fn xfcc_uri_san_injects_element() {
    let identities = format!(r#"{{"payerfsp":["SHA256:{VICTIM_HASH}"]}}"#);
    let mut host = start_full(&xfcc_identities(&identities));
    let san = format!("https://evil.example/a,By={GATEWAY};Hash={VICTIM_HASH}");
    let header = format!(
        "By={GATEWAY};Hash={ATTACKER_HASH};Subject=\"CN=evilfsp\";URI={san};DNS=evil.example"
    );
    let decision = support::send(&mut host, &with_xfcc(&header));
    assert!(
        !decision.accepted,
        "an element injected through a URI SAN was trusted: {decision:?}"
    );
}

/// A URI SAN with `;` would add a URI the certificate does not have, so URI and DNS
/// identities are never read from the header's unquoted pairs.
#[test]
fn xfcc_uri_san_injects_uri() {
    let mut host = start_full(&xfcc_identities(
        r#"{"payerfsp":["URI:spiffe://dfsp/payerfsp"]}"#,
    ));
    let header = format!(
        "By={GATEWAY};Hash={ATTACKER_HASH};Subject=\"CN=evilfsp\";URI=https://evil.example/a;URI=spiffe://dfsp/payerfsp"
    );
    let decision = support::send(&mut host, &with_xfcc(&header));
    assert!(
        !decision.accepted,
        "a URI injected through a URI SAN was bound: {decision:?}"
    );
}

/// `certificate_source: xfcc` without `xfcc_trusted_by` would trust a header the client
/// wrote itself whenever a proxy on the way forwards or appends client XFCC headers, so
/// the configuration is rejected.
#[test]
fn xfcc_without_trusted_by_rejected() {
    let extra = r#""mtls":{"certificate_source":"xfcc","identities":{"payerfsp":["CN=payerfsp"]}}"#;
    assert!(
        config_error(extra).is_some(),
        "the filter started with certificate_source xfcc and no xfcc_trusted_by"
    );
}

/// Keys compare without case, so a second `By` in another case is a duplicate, not a
/// way to put two `By` values in one element.
#[test]
fn xfcc_duplicate_keys_in_any_case_rejected() {
    let mut host = start_full(&xfcc_identities(r#"{"payerfsp":["CN=payerfsp"]}"#));
    for header in [
        format!("By=spiffe://attacker;bY={GATEWAY};Hash=00;Subject=\"CN=payerfsp\""),
        format!("By={GATEWAY};HASH=00;hash=01;Subject=\"CN=payerfsp\""),
        format!("By={GATEWAY};Hash=00;Subject=\"CN=payerfsp\";SUBJECT=\"CN=x\""),
    ] {
        rejected(
            &support::send(&mut host, &with_xfcc(&header)),
            "XFCC_MALFORMED",
        );
    }
}

/// Two XFCC header lines are joined with `, ` into two elements, which `SANITIZE_SET`
/// never writes, so the request is rejected whichever line the attacker sent.
#[test]
fn xfcc_two_header_lines_rejected() {
    let mut host = start_full(&xfcc_identities(r#"{"payerfsp":["CN=payerfsp"]}"#));
    let request = quote()
        .header(
            "x-forwarded-client-cert",
            format!("By={GATEWAY};Hash=00;Subject=\"CN=payerfsp\""),
        )
        .header(
            "x-forwarded-client-cert",
            format!("By={GATEWAY};Hash=00;Subject=\"CN=evilfsp\""),
        );
    rejected(&support::send(&mut host, &request), "XFCC_UNTRUSTED");
}

/// A quote that an escaped backslash ends early, quotes inside unquoted values and
/// stray bytes all fail closed with `XFCC_MALFORMED`, never a trap.
#[test]
fn xfcc_quoting_tricks_fail_closed() {
    let mut host = start_full(&xfcc_identities(r#"{"payerfsp":["CN=payerfsp"]}"#));
    for header in [
        format!("By={GATEWAY};Hash=00;Subject=\"CN=payerfsp\\\""),
        format!("By={GATEWAY};Hash=00;Subject=CN=\"payerfsp"),
        format!("By={GATEWAY};Hash=00;Subject=\"CN=payerfsp\"x"),
        format!("By={GATEWAY};Hash=00;Cert=%E0%80%80"),
        format!("By={GATEWAY};Hash=00;Cert=%"),
        format!("By={GATEWAY};Hash=00;Subject"),
    ] {
        let decision = support::send(&mut host, &with_xfcc(&header));
        assert!(!decision.accepted, "{header}: accepted");
        assert_eq!(
            decision.reason.as_deref(),
            Some("XFCC_MALFORMED"),
            "{header}"
        );
    }
}

/// A Latin-1 byte in the header does not trap the module.
#[test]
fn xfcc_non_utf8_bytes_no_trap() {
    let mut host = start_full(&xfcc_identities(r#"{"payerfsp":["CN=payerfsp"]}"#));
    let mut value = format!("By={GATEWAY};Hash=00;Subject=\"CN=payerfsp").into_bytes();
    value.extend_from_slice(b"\xff\xfe\"");
    let decision = support::send(&mut host, &quote().header("x-forwarded-client-cert", value));
    rejected(&decision, "IDENTITY_SOURCE_MISMATCH");
}

// --- size and time -------------------------------------------------------------------

/// Headers at and just over the limits are judged quickly and fail closed.
#[test]
fn xfcc_large_inputs_bounded() {
    let mut host = start_full(&xfcc_identities(r#"{"payerfsp":["CN=payerfsp"]}"#));
    let many_quotes = format!("By={GATEWAY};Hash=00;Subject=\"{}\"", "\\\"".repeat(30_000));
    let many_pairs = format!("By={GATEWAY};Hash=00;{}", "x=1;".repeat(16_000));
    let many_elements = format!("{}By={GATEWAY};Hash=00", "Hash=0,".repeat(9_000));
    // One OU whose value is 48 000 bytes of escaped commas, ending in text that looks
    // like CN=payerfsp: the DN has no CN at all.
    let long_dn = format!(
        "By={GATEWAY};Hash=00;Subject=\"{}CN=payerfsp\"",
        "OU=a\\,".repeat(8_000)
    );
    let over = format!("By={GATEWAY};Hash=00;Subject=\"{}\"", "a".repeat(70_000));
    for (name, header, reason) in [
        ("quotes", many_quotes, "IDENTITY_SOURCE_MISMATCH"),
        ("pairs", many_pairs, "XFCC_MALFORMED"),
        ("elements", many_elements, "XFCC_MALFORMED"),
        ("long DN", long_dn, "IDENTITY_SOURCE_MISMATCH"),
        ("over the limit", over, "XFCC_MALFORMED"),
    ] {
        let started = Instant::now();
        let decision = support::send(&mut host, &with_xfcc(&header));
        let elapsed = started.elapsed();
        eprintln!("{name}: {} bytes in {elapsed:?}", header.len());
        assert!(elapsed < Duration::from_secs(2), "{name}: {elapsed:?}");
        assert!(!decision.accepted, "{name}: accepted");
        assert_eq!(decision.reason.as_deref(), Some(reason), "{name}");
    }
}

/// A `Chain` near the header limit, made of the leaf and its intermediate repeated,
/// is verified in bounded time.
#[test]
fn xfcc_long_chain_bounded() {
    let extra = format!(
        r#""mtls":{{"certificate_source":"xfcc","xfcc_trusted_by":"{GATEWAY}","trust_anchors":{}}}"#,
        support::json_string(
            &String::from_utf8(support::pki_fixture("cases/hub-root.pem")).unwrap()
        )
    );
    let mut host = start_full(&extra);
    let leaf = support::pki_fixture("cases/hub-client.pem");
    let intermediate = support::pki_fixture("cases/hub-intermediate.pem");
    let mut chain = leaf.clone();
    while support::url_encode(&chain).len() + intermediate.len() * 3 < 60_000 {
        chain.extend_from_slice(&intermediate);
    }
    let header = format!(
        "By={GATEWAY};Hash=00;Chain=\"{}\"",
        support::url_encode(&chain)
    );
    let started = Instant::now();
    let decision = support::send(&mut host, &with_xfcc(&header));
    let elapsed = started.elapsed();
    eprintln!("chain: {} bytes, {decision:?} in {elapsed:?}", header.len());
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}

// --- FSPIOP-Source and exempt paths ----------------------------------------------------

/// An empty or repeated `FSPIOP-Source` never matches a bound participant.
#[test]
fn source_empty_or_repeated_rejected() {
    let extra = r#""mtls":{"identities":{"payerfsp":["CN=payerfsp"]}}"#;
    let mut host = start_full(extra);
    let connection = |request: HttpRequest| {
        request
            .property(&["connection", "mtls"], PropertyValue::Bool(true))
            .property(
                &["connection", "subject_peer_certificate"],
                PropertyValue::String("CN=payerfsp".to_owned()),
            )
    };
    let empty =
        connection(HttpRequest::new("GET", "/parties/MSISDN/1").header("fspiop-source", ""));
    rejected(
        &support::send(&mut host, &empty),
        "IDENTITY_SOURCE_MISMATCH",
    );

    let repeated = connection(quote().header("fspiop-source", "payeefsp"));
    rejected(
        &support::send(&mut host, &repeated),
        "IDENTITY_SOURCE_MISMATCH",
    );
}

/// Paths that another hop could read as a non-exempt path are checked.
#[test]
fn exempt_path_tricks_checked() {
    let extra = r#""mtls":{},"request_rules":{"exempt_paths":["/health"]}"#;
    let mut host = start_full(extra);
    for path in ["/health?x=1", "/health#x", "/health/live"] {
        let decision = support::send(&mut host, &HttpRequest::new("GET", path));
        assert!(decision.accepted, "{path}: {decision:?}");
    }
    for path in [
        "/health/../parties/MSISDN/1",
        "/health/%2e%2e/parties/MSISDN/1",
        "/health%2F..%2Fparties",
        "//health",
        "/health\\..\\parties",
        "/healthz",
        "/HEALTH",
    ] {
        let decision = support::send(&mut host, &HttpRequest::new("GET", path));
        rejected(&decision, "MTLS_CERTIFICATE_MISSING");
    }
}

// --- bearer JWT ----------------------------------------------------------------------

fn token(key: &SigningKey, header: &str, claims: &str) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let signature = key.sign(Algorithm::RS256, input.as_bytes()).unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn with_bearer(value: &str) -> HttpRequest {
    quote().header("authorization", value)
}

fn hub_claims() -> String {
    format!(
        r#"{{"iss":"https://hub.example/auth","exp":{}}}"#,
        CASE_TIME + 60
    )
}

/// Without `jwt.participant` a `kid` could name any key of the key set, which contains every
/// DFSP's JWS key, so a DFSP could sign its own token. The configuration is rejected.
#[test]
fn jwt_without_participant_rejected() {
    let error = config_error(r#""jwt":{"issuers":["https://hub.example/auth"]}"#)
        .expect("the filter started with jwt and no participant");
    assert!(error.contains("jwt.participant"), "{error}");
}

/// With `participant: hub` the same token is refused.
#[test]
fn jwt_dfsp_key_refused_with_participant() {
    let mut host =
        start_full(r#""jwt":{"participant":"hub","issuers":["https://hub.example/auth"]}"#);
    let header = format!(
        r#"{{"alg":"RS256","kid":"{}"}}"#,
        payer_key().public_key().kid()
    );
    let minted = token(&payer_key(), &header, &hub_claims());
    rejected(
        &support::send(&mut host, &with_bearer(&format!("Bearer {minted}"))),
        "JWT_KEY_NOT_FOUND",
    );
}

/// Malformed, oversized and confusing tokens fail closed with a `JWT_*` reason and
/// never trap the module.
#[test]
fn jwt_hostile_tokens_fail_closed() {
    let mut host =
        start_full(r#""jwt":{"participant":"hub","issuers":["https://hub.example/auth"]}"#);
    let hub = hub_key();
    let hub_kid = hub.public_key().kid().to_owned();
    let nested = format!("{}{}", "[".repeat(4_000), "]".repeat(4_000));
    let deep_header = format!(r#"{{"alg":"RS256","x":{nested}}}"#);
    let deep_claims = format!(r#"{{"exp":{},"x":{nested}}}"#, CASE_TIME + 60);
    let cases: Vec<(&str, String)> = vec![
        ("deep header", token(&hub, &deep_header, &hub_claims())),
        (
            "deep claims",
            token(&hub, r#"{"alg":"RS256"}"#, &deep_claims),
        ),
        (
            "lower-case alg",
            token(&hub, r#"{"alg":"rs256"}"#, &hub_claims()),
        ),
        ("HMAC", token(&hub, r#"{"alg":"HS256"}"#, &hub_claims())),
        ("alg None", token(&hub, r#"{"alg":"None"}"#, &hub_claims())),
        (
            "alg array",
            token(&hub, r#"{"alg":["RS256"]}"#, &hub_claims()),
        ),
        (
            "EC alg on RSA kid",
            token(
                &hub,
                &format!(r#"{{"alg":"ES256","kid":"{hub_kid}"}}"#),
                &hub_claims(),
            ),
        ),
        (
            "huge kid",
            token(
                &hub,
                &format!(r#"{{"alg":"RS256","kid":"{}"}}"#, "k".repeat(10_000)),
                &hub_claims(),
            ),
        ),
        (
            "exp string",
            token(&hub, r#"{"alg":"RS256"}"#, r#"{"exp":"9999999999"}"#),
        ),
        (
            "exp huge",
            token(&hub, r#"{"alg":"RS256"}"#, r#"{"exp":1e300}"#),
        ),
        ("claims array", token(&hub, r#"{"alg":"RS256"}"#, "[1]")),
        (
            "four parts",
            format!("{}.x", token(&hub, r#"{"alg":"RS256"}"#, &hub_claims())),
        ),
        ("too long", "a.".repeat(9_000) + "a"),
    ];
    for (name, value) in cases {
        let decision = support::send(&mut host, &with_bearer(&format!("Bearer {value}")));
        assert!(!decision.accepted, "{name}: accepted");
        let reason = decision.reason.clone().unwrap_or_default();
        assert!(reason.starts_with("JWT_"), "{name}: {decision:?}");
        eprintln!("{name}: {reason}");
    }
}

/// Spaces around the token are ignored, and a tab after the scheme is accepted as a
/// separator too (RFC 7235 names only spaces). A second token after a space is part of
/// the credentials, so it fails to parse.
#[test]
fn jwt_bearer_whitespace_handled() {
    let mut host =
        start_full(r#""jwt":{"participant":"hub","issuers":["https://hub.example/auth"]}"#);
    let good = token(&hub_key(), r#"{"alg":"RS256"}"#, &hub_claims());
    let accepted = support::send(&mut host, &with_bearer(&format!("Bearer   {good}  ")));
    assert!(accepted.accepted, "{accepted:?}");

    let tab = support::send(&mut host, &with_bearer(&format!("Bearer\t{good}")));
    assert!(tab.accepted, "{tab:?}");

    let two = support::send(&mut host, &with_bearer(&format!("Bearer {good} {good}")));
    assert!(!two.accepted, "two tokens accepted");

    // Node keeps the first authorization line, and so does the filter.
    let repeated = with_bearer(&format!("Bearer {good}")).header("authorization", "Bearer x.y.z");
    assert!(support::send(&mut host, &repeated).accepted);
}

/// A `kid` is looked up among `jwt.participant`'s keys alone. Public keys are public, so
/// a DFSP whose id sorts before `hub` could list the Hub's token key as one of its own
/// JWS keys. That must not make Hub tokens fail.
#[test]
fn jwt_kid_shared_with_dfsp_still_verifies() {
    let hub = hub_key();
    let config = support::inline_config(
        &[("aaafsp", &hub), ("payerfsp", &payer_key()), ("hub", &hub)],
        r#""jwt":{"participant":"hub","issuers":["https://hub.example/auth"]}"#,
    );
    let mut host_config = support::host_config(&config);
    host_config.start_unix_nanos = CASE_TIME * 1_000_000_000;
    let mut host = Host::start(support::full_module(), host_config).unwrap();
    let header = format!(r#"{{"alg":"RS256","kid":"{}"}}"#, hub.public_key().kid());
    let good = token(&hub, &header, &hub_claims());
    let decision = support::send(&mut host, &with_bearer(&format!("Bearer {good}")));
    assert!(decision.accepted, "{decision:?}");
}
