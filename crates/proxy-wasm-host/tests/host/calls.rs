//! HTTP callouts: validation, handler and test replies, timeouts, root-to-stream
//! switching, cancellation and the loopback forwarder.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::common::*;
use proxy_wasm_host::{CallReply, HostConfig, StreamState, loopback_handler};

const KEYS: &str = "outbound|443||keys.hub.svc.cluster.local";

fn keys_headers() -> Vec<(&'static str, &'static str)> {
    vec![
        (":method", "GET"),
        (":path", "/keys"),
        (":authority", "keys.hub"),
    ]
}

fn config() -> HostConfig {
    HostConfig {
        clusters: vec![KEYS.to_string()],
        ..HostConfig::default()
    }
}

/// Dispatches a call in `on_request_headers` and pauses.
fn dispatch_in_headers(script: &Script, timeout_ms: u32) {
    script.on(Cb::RequestHeaders, move |_| {
        let mut p = Program::new();
        p.http_call(KEYS, &keys_headers(), b"", timeout_ms);
        p.ret(PAUSE);
        Some(p)
    });
}

/// Reads the response in `on_http_call_response` and continues the stream.
fn read_response_and_continue(script: &Script) {
    script.on(Cb::HttpCallResponse, |_| {
        let mut p = Program::new();
        let (_, status) = p.get_header(CALL_RESPONSE_HEADERS, ":status");
        p.report_returned(status);
        let (_, body) = p.get_buffer(CALL_RESPONSE_BODY, 0, u32::MAX);
        p.report_returned(body);
        let code = p.slot(4);
        let message = p.slot(8);
        p.call(Op::GetStatus, &[code.ptr(), message.at(0), message.at(4)]);
        p.report_returned(message);
        p.report_region(code);
        p.call(Op::ContinueStream, &[Arg::Val(0)]);
        Some(p)
    });
}

#[test]
fn invalid_callouts_are_bad_argument() {
    let script = Script::default();
    let build = |p: &mut Program| {
        let unknown = p.http_call("no-such-cluster", &keys_headers(), b"", 0).0;
        let no_authority = p
            .http_call(
                KEYS,
                &[(":method", "GET"), (":path", "/"), ("host", "x")],
                b"",
                0,
            )
            .0;
        let ok = p.http_call(KEYS, &keys_headers(), b"", 0).0;
        (unknown, no_authority, ok)
    };
    script.on(Cb::RequestHeaders, move |_| {
        let mut p = Program::new();
        build(&mut p);
        Some(p)
    });
    let mut host = start(&script, config());
    let id = host.new_stream(0).unwrap();
    host.request_headers(id, &post_headers(), true).unwrap();
    let run = script.last_run(Cb::RequestHeaders);
    let (unknown, no_authority, ok) = build(&mut Program::new());
    assert_eq!(run.status(unknown), BAD_ARGUMENT);
    assert_eq!(run.status(no_authority), BAD_ARGUMENT);
    assert_eq!(run.status(ok), OK);
    assert_eq!(host.calls_made(), 1);
    assert_eq!(host.calls_made_to(KEYS), 1);
}

#[test]
fn handler_reply_arrives_after_the_callback() {
    let script = Script::default();
    dispatch_in_headers(&script, 5000);
    read_response_and_continue(&script);
    let mut host = start(&script, config());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    host.set_http_call_handler(Box::new(move |request| {
        seen.lock().unwrap().push(request.clone());
        CallReply::Response {
            status: 200,
            headers: vec![("Content-Type".into(), b"application/json".to_vec())],
            body: b"{\"keys\":[]}".to_vec(),
        }
    }));
    let id = host.new_stream(0).unwrap();
    let state = host.request_headers(id, &post_headers(), true).unwrap();
    assert_eq!(state, StreamState::Forwarded);

    let requests = requests.lock().unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].cluster, KEYS);
    assert_eq!(requests[0].header(":path").as_deref(), Some("/keys"));
    assert_eq!(requests[0].timeout, Some(Duration::from_secs(5)));

    let callbacks = script.callbacks();
    let headers_at = callbacks
        .iter()
        .position(|c| *c == Cb::RequestHeaders)
        .unwrap();
    let response_at = callbacks
        .iter()
        .position(|c| *c == Cb::HttpCallResponse)
        .unwrap();
    assert!(headers_at < response_at);
    let response = script.invocations()[response_at];
    let headers_invocation = script.invocations()[headers_at];
    assert_eq!(
        response.context, headers_invocation.context,
        "delivered to the caller"
    );
    assert_eq!(
        response.args[1..4],
        [2, 11, 0],
        "headers, body size, trailers"
    );

    let run = script.last_run(Cb::HttpCallResponse);
    assert_eq!(run.reports[0], b"200".to_vec());
    assert_eq!(run.reports[1], b"{\"keys\":[]}".to_vec());
    assert_eq!(run.reports[2], Vec::<u8>::new(), "empty status message");
    assert_eq!(
        run.reports[3],
        0u32.to_le_bytes().to_vec(),
        "status code OK"
    );
}

#[test]
fn response_data_is_only_readable_in_its_callback() {
    let script = Script::default();
    script.on(Cb::RequestHeaders, |_| {
        let mut p = Program::new();
        p.get_header(CALL_RESPONSE_HEADERS, ":status");
        p.get_buffer(CALL_RESPONSE_BODY, 0, 10);
        Some(p)
    });
    let mut host = start(&script, config());
    let id = host.new_stream(0).unwrap();
    host.request_headers(id, &post_headers(), true).unwrap();
    let run = script.last_run(Cb::RequestHeaders);
    let mut p = Program::new();
    let (header, _) = p.get_header(CALL_RESPONSE_HEADERS, ":status");
    let (body, _) = p.get_buffer(CALL_RESPONSE_BODY, 0, 10);
    assert_eq!(run.status(header), BAD_ARGUMENT);
    assert_eq!(run.status(body), NOT_FOUND);
}

#[test]
fn test_code_answers_pending_call() {
    let script = Script::default();
    dispatch_in_headers(&script, 0);
    read_response_and_continue(&script);
    let mut host = start(&script, config());
    let id = host.new_stream(0).unwrap();
    assert_eq!(
        host.request_headers(id, &post_headers(), true).unwrap(),
        StreamState::Paused
    );
    let pending = host.pending_calls();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].timeout, None);
    assert_eq!(pending[0].worker, 0);
    host.respond(pending[0].id, CallReply::ok("k")).unwrap();
    assert_eq!(host.state(id).unwrap(), StreamState::Forwarded);
    assert!(host.pending_calls().is_empty());
    assert!(host.respond(pending[0].id, CallReply::Fail).is_err());
}

#[test]
fn held_call_times_out_with_zero_headers() {
    let script = Script::default();
    dispatch_in_headers(&script, 500);
    read_response_and_continue(&script);
    let mut host = start(&script, config());
    host.set_http_call_handler(Box::new(|_| CallReply::Hold));
    let id = host.new_stream(0).unwrap();
    host.request_headers(id, &post_headers(), true).unwrap();
    host.advance(Duration::from_millis(499)).unwrap();
    assert_eq!(host.pending_calls().len(), 1);
    assert_eq!(host.state(id).unwrap(), StreamState::Paused);

    host.advance(Duration::from_millis(1)).unwrap();
    assert!(host.pending_calls().is_empty());
    let response = *script
        .invocations()
        .iter()
        .rfind(|i| i.cb == Cb::HttpCallResponse)
        .unwrap();
    assert_eq!(response.args[1..4], [0, 0, 0]);
    let run = script.last_run(Cb::HttpCallResponse);
    assert_eq!(run.reports[2], b"reset".to_vec());
    assert_eq!(
        run.reports[3],
        11u32.to_le_bytes().to_vec(),
        "BrokenConnection"
    );
    assert_eq!(host.state(id).unwrap(), StreamState::Forwarded);
}

#[test]
fn failed_call_is_a_reset() {
    let script = Script::default();
    dispatch_in_headers(&script, 0);
    read_response_and_continue(&script);
    let mut host = start(&script, config());
    let id = host.new_stream(0).unwrap();
    host.request_headers(id, &post_headers(), true).unwrap();
    let call = host.pending_calls()[0].id;
    host.fail(call).unwrap();
    let response = *script
        .invocations()
        .iter()
        .rfind(|i| i.cb == Cb::HttpCallResponse)
        .unwrap();
    assert_eq!(response.args[1], 0);
}

#[test]
fn root_call_response_can_answer_a_stream() {
    let script = Script::default();
    let waiting = Arc::new(Mutex::new(0u32));
    let record = waiting.clone();
    script.on(Cb::RequestHeaders, move |inv| {
        *record.lock().unwrap() = inv.context;
        let mut p = Program::new();
        p.ret(PAUSE);
        Some(p)
    });
    script.on(Cb::Configure, |_| {
        let mut p = Program::new();
        p.call(Op::SetTickPeriod, &[Arg::Val(100)]);
        Some(p)
    });
    script.on(Cb::Tick, |_| {
        let mut p = Program::new();
        p.http_call(KEYS, &keys_headers(), b"", 1000);
        p.call(Op::SetTickPeriod, &[Arg::Val(0)]);
        Some(p)
    });
    let target = waiting.clone();
    script.on(Cb::HttpCallResponse, move |_| {
        let mut p = Program::new();
        p.get_header(REQUEST_HEADERS, ":path");
        p.call(
            Op::SetEffectiveContext,
            &[Arg::Val(*target.lock().unwrap())],
        );
        let (_, path) = p.get_header(REQUEST_HEADERS, ":path");
        p.report_returned(path);
        p.local_response(401, b"no keys", "keys_unavailable");
        Some(p)
    });
    let mut host = start(&script, config());
    host.set_http_call_handler(Box::new(|_| CallReply::Response {
        status: 503,
        headers: Vec::new(),
        body: Vec::new(),
    }));
    let id = host.new_stream(0).unwrap();
    host.request_headers(id, &post_headers(), true).unwrap();
    host.advance(Duration::from_millis(100)).unwrap();

    let outcome = host.outcome(id).unwrap();
    assert_eq!(outcome.state, StreamState::LocalReply);
    assert_eq!(
        outcome.local_reply.clone().unwrap().details,
        "keys_unavailable"
    );
    let run = script.last_run(Cb::HttpCallResponse);
    let mut p = Program::new();
    let (root_read, _) = p.get_header(REQUEST_HEADERS, ":path");
    assert_eq!(
        run.status(root_read),
        BAD_ARGUMENT,
        "the root context has no request headers"
    );
    assert_eq!(run.reports[0], b"/transfers".to_vec());
    assert_eq!(host.calls_made(), 1, "tick period 0 stopped the timer");
}

#[test]
fn finishing_a_stream_cancels_its_calls() {
    let script = Script::default();
    dispatch_in_headers(&script, 0);
    let mut host = start(&script, config());
    let id = host.new_stream(0).unwrap();
    host.request_headers(id, &post_headers(), true).unwrap();
    assert_eq!(host.pending_calls().len(), 1);
    host.finish_stream(id).unwrap();
    assert!(host.pending_calls().is_empty());
    assert!(!script.callbacks().contains(&Cb::HttpCallResponse));
}

#[test]
fn callout_from_vm_start_is_rejected() {
    let script = Script::default();
    script.on(Cb::VmStart, |_| {
        let mut p = Program::new();
        p.http_call(KEYS, &keys_headers(), b"", 0);
        Some(p)
    });
    let host = start(&script, config());
    let mut p = Program::new();
    let (call, _) = p.http_call(KEYS, &keys_headers(), b"", 0);
    assert_eq!(script.last_run(Cb::VmStart).status(call), BAD_ARGUMENT);
    assert_eq!(host.calls_made(), 0);
}

#[test]
fn loopback_handler_forwards_to_local_server() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut buf).unwrap();
            request.extend_from_slice(&buf[..n]);
        }
        socket
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 6\r\n\r\n[\"k1\"]")
            .unwrap();
        String::from_utf8(request).unwrap()
    });
    let script = Script::default();
    dispatch_in_headers(&script, 0);
    read_response_and_continue(&script);
    let mut host = start(&script, config());
    let handler =
        loopback_handler(&format!("http://127.0.0.1:{port}"), Duration::from_secs(5)).unwrap();
    host.set_http_call_handler(handler);
    let id = host.new_stream(0).unwrap();
    assert_eq!(
        host.request_headers(id, &post_headers(), true).unwrap(),
        StreamState::Forwarded
    );
    let request = server.join().unwrap();
    assert!(request.starts_with("GET /keys HTTP/1.1\r\n"), "{request}");
    assert!(request.contains("host: keys.hub\r\n"), "{request}");
    let run = script.last_run(Cb::HttpCallResponse);
    assert_eq!(run.reports[0], b"200".to_vec());
    assert_eq!(run.reports[1], b"[\"k1\"]".to_vec());
}

#[test]
fn loopback_handler_rejects_other_hosts() {
    assert!(loopback_handler("http://192.0.2.1:80", Duration::from_secs(1)).is_err());
}

#[test]
fn endless_callout_chain_hits_event_limit() {
    let script = Script::default();
    dispatch_in_headers(&script, 0);
    script.on(Cb::HttpCallResponse, |_| {
        let mut p = Program::new();
        p.http_call(KEYS, &keys_headers(), b"", 0);
        Some(p)
    });
    let mut host = start(
        &script,
        HostConfig {
            max_events_per_run: 50,
            ..config()
        },
    );
    host.set_http_call_handler(Box::new(|_| CallReply::ok("again")));
    let id = host.new_stream(0).unwrap();
    let error = host.request_headers(id, &post_headers(), true).unwrap_err();
    assert!(matches!(
        error,
        proxy_wasm_host::HostError::EventLoopLimit { events: 50 }
    ));
}
