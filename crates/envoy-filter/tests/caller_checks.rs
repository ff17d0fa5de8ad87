//! The client certificate and bearer JWT checks of the full filter module, run in the
//! wasmtime host. Every certificate case of the core's fixtures gets the core's verdict,
//! and each check rejects with its own reason code and stat. The JWS-only module rejects
//! a configuration with checks it does not have.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fspiop_guard_core::crypto::{Algorithm, SigningKey};
use fspiop_guard_core::pki::chain::{ChainPolicy, Usage, verify_bundle};
use proxy_wasm_host::{Host, HttpRequest, PropertyValue};
use support::Decision;

fn payer_key() -> SigningKey {
    support::signing_key("payerfsp.key.pem")
}

/// Starts the full module with `payerfsp`'s JWS key inline and `extra` members.
fn start_full(extra: &str, now_unix: u64) -> Host {
    let config = support::inline_config(&[("payerfsp", &payer_key())], extra);
    let mut host_config = support::host_config(&config);
    host_config.start_unix_nanos = now_unix * 1_000_000_000;
    Host::start(support::full_module(), host_config)
        .unwrap_or_else(|error| panic!("host did not start: {error}\nconfiguration: {config}"))
}

fn quote(now_unix: u64) -> HttpRequest {
    support::signed_quote(&payer_key(), "payerfsp", r#"{"quoteId":"1"}"#, now_unix)
}

fn rejected(decision: &Decision, reason: &str) {
    assert!(!decision.accepted, "accepted, expected {reason}");
    assert_eq!(decision.reason.as_deref(), Some(reason), "{decision:?}");
}

#[derive(serde::Deserialize)]
struct ChainCase {
    name: String,
    bundle: String,
    anchors: String,
    at: String,
    usage: String,
    policy: Option<String>,
    expected_name: Option<String>,
    expected_reason: Option<String>,
}

/// Each chain case, sent as the `Chain` of a trusted `x-forwarded-client-cert`, gets the
/// verdict of the core's `verify_bundle` (which the CLI and the npm package print), and
/// that verdict is the case's expected one.
///
/// The cases with an expected server name are left out: the filter checks a client, and
/// binds its identity to `FSPIOP-Source` through the identities map instead.
#[test]
fn certificate_cases_match_core_verdicts() {
    let cases: Vec<ChainCase> =
        serde_json::from_slice(&support::pki_fixture("cases/cases.json")).unwrap();
    let mut checked = 0;
    for case in cases.iter().filter(|case| case.expected_name.is_none()) {
        let bundle = support::pki_fixture(&format!("cases/{}", case.bundle));
        let anchors = support::pki_fixture(&format!("cases/{}", case.anchors));
        let at = fspiop_guard_core::rfc3339::parse(&case.at).unwrap();
        let (usage, usage_name) = match case.usage.as_str() {
            "client" => (Usage::ClientAuth, "client-auth"),
            _ => (Usage::ServerAuth, "server-auth"),
        };
        let policy_name = case.policy.as_deref().unwrap_or("default");
        let policy = match policy_name {
            "mcm" => ChainPolicy::mcm(usage),
            _ => ChainPolicy::new(usage),
        };
        let core = verify_bundle(&bundle, &anchors, at, &policy);

        let extra = format!(
            r#""mtls":{{"certificate_source":"xfcc","xfcc_trusted_by":"spiffe://hub/gateway","trust_anchors":{},"usage":"{usage_name}","policy":"{policy_name}"}}"#,
            support::json_string(&String::from_utf8_lossy(&anchors))
        );
        let mut host = start_full(&extra, at as u64);
        let request = quote(at as u64).header(
            "x-forwarded-client-cert",
            format!(
                "By=spiffe://hub/gateway;Chain=\"{}\"",
                support::url_encode(&bundle)
            ),
        );
        let decision = support::send(&mut host, &request);

        let core_reason = core.verdict.reason.map(|reason| reason.code().to_owned());
        assert_eq!(
            decision.reason, core_reason,
            "{}: the filter and the core disagree ({decision:?}; core: {})",
            case.name, core.verdict.detail
        );
        assert_eq!(decision.accepted, core.verdict.valid, "{}", case.name);
        assert_eq!(core_reason, case.expected_reason, "{}", case.name);
        if !decision.accepted {
            assert_eq!(decision.status, Some(403), "{}", case.name);
            assert_eq!(
                decision.error_code.as_deref(),
                Some("3100"),
                "{}",
                case.name
            );
            let stat = format!("fspiop_guard.rejected.{}", core_reason.unwrap());
            assert_eq!(host.metric(&stat), Some(1), "{}: {stat}", case.name);
        }
        checked += 1;
    }
    assert!(checked >= 28, "only {checked} cases ran");
}

const CASE_TIME: u64 = 1_778_683_152; // 2026-05-13T14:39:12Z, the fixtures' check time.

fn hub_root() -> String {
    String::from_utf8(support::pki_fixture("cases/hub-root.pem")).unwrap()
}

fn pm4ml_root() -> String {
    String::from_utf8(support::pki_fixture("cases/pm4ml-root.pem")).unwrap()
}

#[test]
fn connection_without_client_certificate_is_rejected() {
    let mut host = start_full(r#""mtls":{}"#, CASE_TIME);
    let plain = quote(CASE_TIME).property(&["connection", "mtls"], PropertyValue::Bool(false));
    rejected(
        &support::send(&mut host, &plain),
        "MTLS_CERTIFICATE_MISSING",
    );
    rejected(
        &support::send(&mut host, &quote(CASE_TIME)),
        "MTLS_CERTIFICATE_MISSING",
    );
    assert_eq!(
        host.metric("fspiop_guard.rejected.MTLS_CERTIFICATE_MISSING"),
        Some(2)
    );

    let presented = quote(CASE_TIME).property(&["connection", "mtls"], PropertyValue::Bool(true));
    assert!(support::send(&mut host, &presented).accepted);
    assert_eq!(host.metric("fspiop_guard.caller.verified"), Some(1));
}

#[test]
fn certificate_the_proxy_did_not_validate_is_rejected() {
    let mut host = start_full(r#""mtls":{}"#, CASE_TIME);
    let request = quote(CASE_TIME)
        .property(&["connection", "mtls"], PropertyValue::Bool(true))
        .property(
            &["connection", "peer_certificate_valid"],
            PropertyValue::Bool(false),
        );
    rejected(
        &support::send(&mut host, &request),
        "MTLS_CERTIFICATE_NOT_VALIDATED",
    );
}

#[test]
fn connection_certificate_chain_checked() {
    let extra = format!(
        r#""mtls":{{"trust_anchors":{}}}"#,
        support::json_string(&pm4ml_root())
    );
    let mut host = start_full(&extra, CASE_TIME);
    let base = quote(CASE_TIME).property(&["connection", "mtls"], PropertyValue::Bool(true));

    // An Envoy without connection.peer_certificate passes only subject and digest.
    rejected(
        &support::send(&mut host, &base),
        "MTLS_CERTIFICATE_UNAVAILABLE",
    );

    let leaf = support::pki_fixture("cases/hub-client.pem");
    let request = base.clone().property(
        &["connection", "peer_certificate"],
        PropertyValue::String(support::url_encode(&leaf)),
    );
    assert!(support::send(&mut host, &request).accepted);

    let expired_host_time = CASE_TIME + 20 * 365 * 86_400;
    let mut later = start_full(&extra, expired_host_time);
    let request = quote(expired_host_time)
        .property(&["connection", "mtls"], PropertyValue::Bool(true))
        .property(
            &["connection", "peer_certificate"],
            PropertyValue::String(support::url_encode(&leaf)),
        );
    rejected(&support::send(&mut later, &request), "CERT_EXPIRED");
}

#[test]
fn certificate_identity_is_bound_to_fspiop_source() {
    let extra = r#""mtls":{"identities":{"payerfsp":["CN=payerfsp"],"payeefsp":["CN=payeefsp"]}}"#;
    let mut host = start_full(extra, CASE_TIME);
    let with_subject = |subject: &str| {
        quote(CASE_TIME)
            .property(&["connection", "mtls"], PropertyValue::Bool(true))
            .property(
                &["connection", "subject_peer_certificate"],
                PropertyValue::String(subject.to_owned()),
            )
    };
    assert!(support::send(&mut host, &with_subject("CN=payerfsp,O=Payer Bank")).accepted);

    // payeefsp's certificate on a request that claims to come from payerfsp.
    let decision = support::send(&mut host, &with_subject("CN=payeefsp,O=Payee Bank"));
    rejected(&decision, "IDENTITY_SOURCE_MISMATCH");
    assert_eq!(
        host.metric("fspiop_guard.rejected.IDENTITY_SOURCE_MISMATCH"),
        Some(1)
    );
}

#[test]
fn digest_binding_matches_envoy_lower_case_hex() {
    let leaf = support::pki_fixture("cases/hub-client.pem");
    let info = fspiop_guard_core::pki::pem::read_bundle(&leaf).unwrap();
    let der = info.certificates()[0].to_vec();
    let inspected = fspiop_guard_core::pki::inspect::inspect_certificate(&der).unwrap();
    let extra = format!(
        r#""mtls":{{"identities":{{"payerfsp":["SHA256:{}"]}}}}"#,
        inspected.sha256_fingerprint
    );
    let mut host = start_full(&extra, CASE_TIME);
    let digest: String = inspected
        .sha256_fingerprint
        .split(':')
        .collect::<String>()
        .to_ascii_lowercase();
    let request = quote(CASE_TIME)
        .property(&["connection", "mtls"], PropertyValue::Bool(true))
        .property(
            &["connection", "sha256_peer_certificate_digest"],
            PropertyValue::String(digest),
        );
    assert!(support::send(&mut host, &request).accepted);
}

#[test]
fn xfcc_trusted_only_from_configured_proxy() {
    let extra = format!(
        r#""mtls":{{"certificate_source":"xfcc","xfcc_trusted_by":"spiffe://hub/gateway","trust_anchors":{},"identities":{{"payerfsp":["CN=payerfsp"]}}}}"#,
        support::json_string(&hub_root())
    );
    let mut host = start_full(&extra, CASE_TIME);
    let chain = support::url_encode(&support::pki_fixture("cases/client-chain.pem"));

    rejected(
        &support::send(&mut host, &quote(CASE_TIME)),
        "MTLS_CERTIFICATE_MISSING",
    );

    let forged = quote(CASE_TIME).header(
        "x-forwarded-client-cert",
        format!("By=spiffe://attacker;Chain=\"{chain}\""),
    );
    rejected(&support::send(&mut host, &forged), "XFCC_UNTRUSTED");

    let malformed = quote(CASE_TIME).header("x-forwarded-client-cert", "By=\"spiffe://hub/gateway");
    rejected(&support::send(&mut host, &malformed), "XFCC_MALFORMED");

    let good = quote(CASE_TIME).header(
        "x-forwarded-client-cert",
        format!("By=spiffe://hub/gateway;Chain=\"{chain}\""),
    );
    assert!(support::send(&mut host, &good).accepted);

    // The same certificate on a request that claims another participant.
    let other = support::signed_quote(&payer_key(), "payeefsp", r#"{"quoteId":"1"}"#, CASE_TIME)
        .header(
            "x-forwarded-client-cert",
            format!("By=spiffe://hub/gateway;Chain=\"{chain}\""),
        );
    rejected(
        &support::send(&mut host, &other),
        "IDENTITY_SOURCE_MISMATCH",
    );
}

#[test]
fn exempt_paths_need_no_client_certificate() {
    let extra = r#""mtls":{},"request_rules":{"exempt_paths":["/health"]}"#;
    let mut host = start_full(extra, CASE_TIME);
    let health = HttpRequest::new("GET", "/health");
    assert!(support::send(&mut host, &health).accepted);
    let parties = HttpRequest::new("GET", "/parties/MSISDN/1");
    rejected(
        &support::send(&mut host, &parties),
        "MTLS_CERTIFICATE_MISSING",
    );
}

fn hub_jws_key() -> SigningKey {
    let pem = String::from_utf8(support::pki_fixture("keys/hub-jws.key.pem")).unwrap();
    SigningKey::from_pem(&pem).unwrap()
}

fn jwt(header: &str, claims: &str) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let signature = hub_jws_key()
        .sign(Algorithm::RS256, input.as_bytes())
        .unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn start_with_jwt() -> Host {
    let hub = hub_jws_key();
    let config = support::inline_config(
        &[("payerfsp", &payer_key()), ("hub", &hub)],
        r#""jwt":{"participant":"hub","issuers":["https://hub.example/auth"]}"#,
    );
    let mut host_config = support::host_config(&config);
    host_config.start_unix_nanos = CASE_TIME * 1_000_000_000;
    Host::start(support::full_module(), host_config).unwrap()
}

#[test]
fn bearer_jwt_is_checked_with_the_hub_key() {
    let mut host = start_with_jwt();
    let header = r#"{"alg":"RS256","typ":"JWT"}"#;
    let claims = |exp: u64| format!(r#"{{"iss":"https://hub.example/auth","exp":{exp}}}"#);
    let with_token =
        |token: &str| quote(CASE_TIME).header("authorization", format!("Bearer {token}"));

    rejected(&support::send(&mut host, &quote(CASE_TIME)), "JWT_MISSING");
    assert_eq!(
        support::send(&mut host, &quote(CASE_TIME)).status,
        Some(401)
    );

    let valid = jwt(header, &claims(CASE_TIME + 60));
    assert!(support::send(&mut host, &with_token(&valid)).accepted);

    // exp equal to the current second is expired (RFC 7519 section 4.1.4).
    let at_exp = jwt(header, &claims(CASE_TIME));
    rejected(
        &support::send(&mut host, &with_token(&at_exp)),
        "JWT_EXPIRED",
    );

    let wrong_issuer = jwt(
        header,
        &format!(r#"{{"iss":"https://evil","exp":{}}}"#, CASE_TIME + 60),
    );
    rejected(
        &support::send(&mut host, &with_token(&wrong_issuer)),
        "JWT_ISSUER_MISMATCH",
    );

    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
        URL_SAFE_NO_PAD.encode(claims(CASE_TIME + 60))
    );
    rejected(
        &support::send(&mut host, &with_token(&unsigned)),
        "JWT_ALG_NONE",
    );

    let mut tampered = valid.clone();
    tampered.insert_str(valid.find('.').unwrap() + 1, "eyJ");
    let decision = support::send(&mut host, &with_token(&tampered));
    assert!(!decision.accepted);
}

/// Returns the filter's log lines when it refuses `plugin_config`, or `None` when it
/// starts.
fn config_error(module: &proxy_wasm_host::Module, plugin_config: &str) -> Option<String> {
    match Host::start(module, support::host_config(plugin_config)) {
        Err(proxy_wasm_host::HostError::ConfigRejected { logs, .. }) => Some(format!("{logs:?}")),
        Err(other) => panic!("expected ConfigRejected, got {other}"),
        Ok(_) => None,
    }
}

#[test]
fn jws_only_module_refuses_caller_checks_by_name() {
    for (section, field) in [(r#""mtls":{}"#, "field mtls"), (r#""jwt":{}"#, "field jwt")] {
        let config = support::inline_config(&[("payerfsp", &payer_key())], section);
        let error = config_error(support::module(), &config)
            .unwrap_or_else(|| panic!("the JWS-only module accepted {section}"));
        assert!(error.contains(field), "{error}");
        assert!(
            error.contains("fspiop_guard_envoy_filter_full.wasm"),
            "{error}"
        );
    }
}

#[test]
fn bad_caller_config_names_field() {
    for (extra, field) in [
        (
            r#""mtls":{"certificate_source":"header"}"#,
            "mtls.certificate_source",
        ),
        (
            r#""mtls":{"identities":{"payerfsp":["payerfsp"]}}"#,
            "mtls.identities.payerfsp",
        ),
        (
            r#""mtls":{"identities":{"payerfsp":[]}}"#,
            "mtls.identities.payerfsp",
        ),
        (
            r#""mtls":{"trust_anchors":"not a pem"}"#,
            "mtls.trust_anchors",
        ),
        (
            r#""mtls":{"xfcc_trusted_by":"spiffe://x"}"#,
            "mtls.xfcc_trusted_by",
        ),
        (r#""mtls":{"policy":"lenient"}"#, "mtls.policy"),
        (r#""mtls":{"min_rsa_bits":1024}"#, "mtls.min_rsa_bits"),
        (r#""mtls":{"usage":"any"}"#, "mtls.usage"),
        (r#""mtls":{"reject_status":200}"#, "mtls.reject_status"),
        (r#""mtls":{"trusted":true}"#, "trusted"),
        (r#""jwt":{"algorithms":["HS256"]}"#, "jwt.algorithms"),
        (r#""jwt":{"algorithms":[]}"#, "jwt.algorithms"),
        (r#""jwt":{"leeway_seconds":9999}"#, "jwt.leeway_seconds"),
        (r#""jwt":{"participant":""}"#, "jwt.participant"),
    ] {
        let config = support::inline_config(&[("payerfsp", &payer_key())], extra);
        let error = config_error(support::full_module(), &config)
            .unwrap_or_else(|| panic!("{extra} was accepted"));
        assert!(error.contains(field), "{extra}: {error}");
    }
}
