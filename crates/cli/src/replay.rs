//! `fspiop-guard replay`: runs the Envoy filter module over recorded requests in the
//! wasmtime proxy-wasm host, and prints what the filter did with each one.
//!
//! The host behaves like Envoy (body delivery, local replies, key fetches through
//! `dispatch_http_call`, the `verify_signature` foreign function), so this is the
//! module an operator deploys, judged on the traffic they captured.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use fspiop_guard_core::Request;
use fspiop_guard_core::keyset;
use fspiop_guard_envoy_filter::config::FilterConfig;
use proxy_wasm_host::{
    CallReply, Host, HostConfig, HttpRequest, Module, StreamOutcome, StreamState,
};
use serde::Serialize;

use crate::{emit, keydir, read_request, time};

/// Maximum size of a filter module, in bytes.
const MAX_MODULE_BYTES: u64 = 64 * 1024 * 1024;
/// Maximum size of a plugin configuration or key-set file, in bytes.
const MAX_CONFIG_BYTES: u64 = 16 * 1024 * 1024;
/// Virtual time allowed for the first key fetch before the first request.
const WARM_UP: Duration = Duration::from_secs(5);

#[derive(clap::Args)]
pub struct ReplayArgs {
    /// The filter module (.wasm), as deployed.
    #[arg(long)]
    filter: PathBuf,
    /// The plugin configuration (JSON), as in Envoy's `configuration` or Istio's `pluginConfig`.
    #[arg(long)]
    config: PathBuf,
    /// Answer the filter's key-set fetches with this key-set document.
    #[arg(long, conflicts_with = "key_endpoint")]
    keyset: Option<PathBuf>,
    /// Forward the filter's key-set fetches to this loopback server, for example
    /// http://127.0.0.1:8080.
    #[arg(long)]
    key_endpoint: Option<String>,
    /// Clock of the host as RFC 3339 or an HTTP date (default: now).
    #[arg(long)]
    at: Option<String>,
    /// Run without the proxy's verify_signature foreign function, as a proxy that lacks it.
    #[arg(long)]
    no_foreign_function: bool,
    /// Emulate an Envoy older than 1.35 (no allow_on_headers_stop_iteration).
    #[arg(long)]
    no_stop_iteration: bool,
    /// Print the filter's log lines to standard error.
    #[arg(long)]
    logs: bool,
    /// Print one JSON object per request.
    #[arg(long)]
    json: bool,
    /// Request files (raw HTTP, curl -v output, HAR or JSON, as `verify` reads).
    #[arg(required = true)]
    requests: Vec<PathBuf>,
}

/// Outcome of one request through the filter.
#[derive(Serialize)]
struct ReplayLine {
    request: String,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verified: Option<String>,
    /// For a forwarded request: `verified`, `not-required` (the request rules need no
    /// signature) or `failed-open` (no key loaded and `no_keys.mode` is fail-open).
    #[serde(skip_serializing_if = "Option::is_none")]
    check: Option<&'static str>,
}

/// The filter's stats that tell how a forwarded request was let through.
struct Counters {
    verified: i64,
    not_required: i64,
    failed_open: i64,
}

impl Counters {
    fn read(host: &Host) -> Counters {
        let stat = |name: &str| host.metric(name).unwrap_or(0);
        Counters {
            verified: stat("fspiop_guard.verified"),
            not_required: stat("fspiop_guard.not_required"),
            failed_open: stat("fspiop_guard.failed_open"),
        }
    }

    fn check_since(&self, before: &Counters) -> Option<&'static str> {
        if self.verified > before.verified {
            Some("verified")
        } else if self.not_required > before.not_required {
            Some("not-required")
        } else if self.failed_open > before.failed_open {
            Some("failed-open")
        } else {
            None
        }
    }
}

pub fn run(args: ReplayArgs) -> Result<ExitCode, String> {
    let module_bytes = keydir::read_bytes_limited(&args.filter, MAX_MODULE_BYTES)?;
    let module = Module::from_bytes(&module_bytes).map_err(|error| {
        format!(
            "cannot load filter module {}: {error}",
            args.filter.display()
        )
    })?;
    let plugin_config = keydir::read_bytes_limited(&args.config, MAX_CONFIG_BYTES)?;

    // The module refuses a bad configuration too, but this names the file.
    let config = FilterConfig::from_json(&plugin_config)
        .map_err(|error| format!("{}: {error}", args.config.display()))?;
    let clusters: Vec<String> = config
        .key_source
        .iter()
        .map(|s| s.cluster.clone())
        .collect();
    let start = match &args.at {
        Some(text) => time::parse_rfc3339(text)?,
        None => time::now(),
    };

    let host_config = HostConfig {
        vm_id: "fspiop-guard".into(),
        root_id: "fspiop-guard".into(),
        plugin_config,
        clusters,
        start_unix_nanos: u64::try_from(start)
            .unwrap_or_default()
            .saturating_mul(1_000_000_000),
        verify_signature_foreign_function: !args.no_foreign_function,
        allow_on_headers_stop_iteration: !args.no_stop_iteration,
        ..HostConfig::default()
    };
    let mut host = match Host::start(&module, host_config) {
        Ok(host) => host,
        Err(error) => return Err(format!("the filter did not start: {error}")),
    };

    if config.key_source.is_some() && args.keyset.is_none() && args.key_endpoint.is_none() {
        eprintln!(
            "note: {} has a key_source but neither --keyset nor --key-endpoint was given, so the filter gets no key set and fails closed (NO_KEYS) unless it has inline keys",
            args.config.display()
        );
    }
    install_key_endpoint(&mut host, &args)?;
    host.advance(WARM_UP)
        .map_err(|error| format!("the filter failed while loading keys: {error}"))?;

    let mut rejected = 0;
    let mut out = String::new();
    for path in &args.requests {
        let request = read_request(path)?;
        let before = Counters::read(&host);
        let mut outcome = host
            .send(0, &to_host_request(&request))
            .map_err(|error| format!("the host failed on {}: {error}", path.display()))?;

        // A held stream waits for a key refresh or, on an Envoy without
        // allow_on_headers_stop_iteration, for a body that never comes: let the virtual
        // clock run past hold_timeout_ms so the filter's own deadline rejects it.
        if !outcome.state.is_final() {
            host.advance(Duration::from_millis(config.hold_timeout_ms + 5_000))
                .map_err(|error| format!("the host failed on {}: {error}", path.display()))?;
            outcome = host
                .outcome(outcome.stream)
                .cloned()
                .map_err(|error| format!("the host failed on {}: {error}", path.display()))?;
            if outcome.state.is_final() {
                host.finish_stream(outcome.stream)
                    .map_err(|error| format!("the host failed on {}: {error}", path.display()))?;
            }
        }

        let mut line = describe(path, &outcome, &config.headers.verified);
        line.check = Counters::read(&host).check_since(&before);
        host.forget_finished_streams();
        rejected += usize::from(line.outcome != "forwarded");
        if args.json {
            out.push_str(&serde_json::to_string(&line).map_err(|e| e.to_string())?);
            out.push('\n');
        } else {
            out.push_str(&render(&line));
        }
    }
    if !args.json {
        out.push_str(&format!(
            "{} requests: {} forwarded, {rejected} rejected\n",
            args.requests.len(),
            args.requests.len() - rejected
        ));
    }
    if args.logs {
        for line in host.logs() {
            eprintln!("filter [{:?}] {}", line.level, line.message);
        }
    }
    emit(out.as_bytes())?;
    Ok(if rejected == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Answers the filter's key fetches from a file, from a loopback server, or not at all.
fn install_key_endpoint(host: &mut Host, args: &ReplayArgs) -> Result<(), String> {
    if let Some(path) = &args.keyset {
        let document = keydir::read_bytes_limited(path, MAX_CONFIG_BYTES)?;
        let set = keyset::parse(&document, keyset::DEFAULT_MAX_BYTES)
            .map_err(|error| format!("{}: {error}", path.display()))?;
        let etag = format!("\"{}\"", set.version);
        host.set_http_call_handler(Box::new(move |call| {
            if call.header("if-none-match").as_deref() == Some(etag.as_str()) {
                return CallReply::Response {
                    status: 304,
                    headers: vec![("etag".into(), etag.as_bytes().to_vec())],
                    body: Vec::new(),
                };
            }
            CallReply::Response {
                status: 200,
                headers: vec![
                    ("content-type".into(), b"application/json".to_vec()),
                    ("etag".into(), etag.as_bytes().to_vec()),
                ],
                body: document.clone(),
            }
        }));
    } else if let Some(base) = &args.key_endpoint {
        let handler = proxy_wasm_host::loopback_handler(base, Duration::from_secs(5))
            .map_err(|error| format!("--key-endpoint: {error}"))?;
        host.set_http_call_handler(handler);
    }
    Ok(())
}

/// Builds the request as Envoy presents it to a filter: pseudo-headers first, `host`
/// as `:authority`, header values as the wire's bytes.
fn to_host_request(request: &Request) -> HttpRequest {
    let (authority, path) = split_target(&request.target);
    let mut out = HttpRequest::new(&request.method, path);
    let mut authority = authority.map(str::to_owned);
    for (name, value) in request.headers.iter() {
        let name = name.to_ascii_lowercase();
        if name == "host" {
            authority.get_or_insert_with(|| value.to_owned());
            continue;
        }
        out = out.header(&name, wire_bytes(value));
    }
    if let (Some(authority), Some(slot)) = (
        authority,
        out.headers.iter_mut().find(|(n, _)| n == ":authority"),
    ) {
        slot.1 = wire_bytes(&authority);
    }
    if let Some(body) = &request.body
        && !body.is_empty()
    {
        out = out.chunk(body);
    }
    out
}

/// Splits an absolute-form target (`http://host/path`) into authority and path.
fn split_target(target: &str) -> (Option<&str>, &str) {
    let Some(rest) = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))
    else {
        return (None, target);
    };
    match rest.find('/') {
        Some(at) => (rest.get(..at), rest.get(at..).unwrap_or("/")),
        None => (Some(rest), "/"),
    }
}

/// Encodes a header value as the bytes a client sent: Latin-1 when every character
/// fits in one byte, as Node.js reads headers, UTF-8 otherwise.
fn wire_bytes(value: &str) -> Vec<u8> {
    if value.chars().all(|c| u32::from(c) <= 0xFF) {
        value.chars().map(|c| c as u8).collect()
    } else {
        value.as_bytes().to_vec()
    }
}

fn describe(path: &std::path::Path, outcome: &StreamOutcome, verified_header: &str) -> ReplayLine {
    let mut line = ReplayLine {
        request: path.display().to_string(),
        outcome: "forwarded",
        status: None,
        error_code: None,
        reason: None,
        description: None,
        verified: None,
        check: None,
    };
    match (outcome.state, &outcome.local_reply) {
        (StreamState::Forwarded, _) => {
            line.verified = outcome.forwarded_headers.as_ref().and_then(|headers| {
                headers
                    .iter()
                    .find(|(name, _)| name == verified_header)
                    .map(|(_, value)| {
                        format!("{verified_header}: {}", String::from_utf8_lossy(value))
                    })
            });
        }
        (_, Some(reply)) => {
            line.outcome = "rejected";
            line.status = Some(reply.status);
            if let Ok(body) = serde_json::from_slice::<serde_json::Value>(&reply.body) {
                let info = body.get("errorInformation");
                let field = |name: &str| {
                    info.and_then(|i| i.get(name))
                        .and_then(|v| v.as_str())
                        .map(str::to_owned)
                };
                line.error_code = field("errorCode");
                line.description = field("errorDescription");
                line.reason = info
                    .and_then(|i| i.pointer("/extensionList/extension/0/value"))
                    .and_then(|v| v.as_str())
                    .map(str::to_owned);
            } else {
                line.description = Some(String::from_utf8_lossy(&reply.body).into_owned());
            }
        }
        (state, None) => {
            line.outcome = "stalled";
            line.description = Some(format!("the stream ended {state:?} without a verdict"));
        }
    }
    line
}

fn render(line: &ReplayLine) -> String {
    match line.outcome {
        "forwarded" => {
            let mut text = format!("{}: forwarded", line.request);
            match line.check {
                Some("verified") => text.push_str(" (signature verified)"),
                Some("not-required") => text.push_str(" (no signature required by request_rules)"),
                Some("failed-open") => {
                    text.push_str(" (UNVERIFIED: no key loaded and no_keys.mode is fail-open)")
                }
                _ => {}
            }
            if let Some(verified) = &line.verified {
                text.push_str(", ");
                text.push_str(verified);
            }
            text.push('\n');
            text
        }
        _ => format!(
            "{}: {} {} {} {}\n    {}\n",
            line.request,
            line.outcome,
            line.status.map_or("-".to_owned(), |s| s.to_string()),
            line.error_code.as_deref().unwrap_or("-"),
            line.reason.as_deref().unwrap_or("-"),
            line.description.as_deref().unwrap_or_default()
        ),
    }
}
