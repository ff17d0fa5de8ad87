//! Pause semantics, cumulative body sizes, trailers, local replies, resets, the buffer
//! limit and the legacy last-chunk bug.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::common::*;
use proxy_wasm_host::{HostConfig, StreamState};

/// A guest that pauses in every body callback until end of stream, reads the whole
/// buffer then and continues.
fn buffering_script() -> Script {
    let script = Script::default();
    script.on(Cb::RequestBody, |inv| {
        let mut p = Program::new();
        let (size, eos) = (inv.args[0], inv.args[1] == 1);
        if !eos {
            p.ret(PAUSE);
            return Some(p);
        }
        let (_, out) = p.get_buffer(REQUEST_BODY, 0, size);
        p.report_returned(out);
        p.ret(CONTINUE);
        Some(p)
    });
    script
}

fn body_sizes(script: &Script) -> Vec<(u32, u32)> {
    script
        .invocations()
        .iter()
        .filter(|i| i.cb == Cb::RequestBody)
        .map(|i| (i.args[0], i.args[1]))
        .collect()
}

#[test]
fn body_size_is_cumulative_while_paused() {
    let script = buffering_script();
    let mut host = start(&script, HostConfig::default());
    let id = host.new_stream(0).unwrap();
    host.request_headers(id, &post_headers(), false).unwrap();
    host.request_body(id, b"abc", false).unwrap();
    host.request_body(id, b"defg", false).unwrap();
    let state = host.request_body(id, b"hijkl", true).unwrap();
    assert_eq!(body_sizes(&script), vec![(3, 0), (7, 0), (12, 1)]);
    assert_eq!(
        script.last_run(Cb::RequestBody).reports[0],
        b"abcdefghijkl".to_vec()
    );
    assert_eq!(state, StreamState::Forwarded);
    assert_eq!(
        host.outcome(id).unwrap().forwarded_body,
        b"abcdefghijkl".to_vec()
    );
}

#[test]
fn body_size_is_per_chunk_when_streaming() {
    let script = Script::default();
    let mut host = start(&script, HostConfig::default());
    let id = host.new_stream(0).unwrap();
    host.request_headers(id, &post_headers(), false).unwrap();
    host.request_body(id, b"abc", false).unwrap();
    assert_eq!(host.outcome(id).unwrap().forwarded_body, b"abc".to_vec());
    host.request_body(id, b"defg", true).unwrap();
    assert_eq!(body_sizes(&script), vec![(3, 0), (4, 1)]);
    assert_eq!(host.state(id).unwrap(), StreamState::Forwarded);
}

#[test]
fn empty_final_chunk_reports_end_of_stream() {
    let script = buffering_script();
    let mut host = start(&script, HostConfig::default());
    let id = host.new_stream(0).unwrap();
    host.request_headers(id, &post_headers(), false).unwrap();
    host.request_body(id, b"abc", false).unwrap();
    host.request_body(id, b"", true).unwrap();
    assert_eq!(body_sizes(&script), vec![(3, 0), (3, 1)]);
    assert_eq!(host.outcome(id).unwrap().forwarded_body, b"abc".to_vec());
}

#[test]
fn pause_in_headers_stops_body_callbacks() {
    let script = Script::default();
    script.on(Cb::RequestHeaders, |_| {
        let mut p = Program::new();
        p.ret(PAUSE);
        Some(p)
    });
    let mut host = start(&script, HostConfig::default());
    let id = host.new_stream(0).unwrap();
    assert_eq!(
        host.request_headers(id, &post_headers(), false).unwrap(),
        StreamState::Paused
    );
    assert_eq!(
        host.request_body(id, b"payload", true).unwrap(),
        StreamState::Stalled
    );
    assert!(body_sizes(&script).is_empty());
    let outcome = host.outcome(id).unwrap();
    assert!(outcome.forwarded_headers.is_none());
    assert!(outcome.forwarded_body.is_empty());
}

#[test]
fn allow_stop_iteration_delivers_body_after_pause() {
    let script = buffering_script();
    script.on(Cb::RequestHeaders, |_| {
        let mut p = Program::new();
        p.ret(PAUSE);
        Some(p)
    });
    let config = HostConfig {
        allow_on_headers_stop_iteration: true,
        ..HostConfig::default()
    };
    let mut host = start(&script, config);
    let id = host.new_stream(0).unwrap();
    host.request_headers(id, &post_headers(), false).unwrap();
    assert_eq!(
        host.request_body(id, b"payload", true).unwrap(),
        StreamState::Forwarded
    );
    assert_eq!(body_sizes(&script), vec![(7, 1)]);
    assert!(host.outcome(id).unwrap().forwarded_headers.is_some());
}

#[test]
fn continue_after_stop_all_delivers_held_body() {
    let script = Script::default();
    let stream_context = Arc::new(Mutex::new(0u32));
    let seen = stream_context.clone();
    script.on(Cb::RequestHeaders, move |inv| {
        *seen.lock().unwrap() = inv.context;
        let mut p = Program::new();
        p.ret(PAUSE);
        Some(p)
    });
    script.on(Cb::Configure, |_| {
        let mut p = Program::new();
        p.call(Op::SetTickPeriod, &[Arg::Val(1000)]);
        Some(p)
    });
    let target = stream_context.clone();
    script.on(Cb::Tick, move |_| {
        let mut p = Program::new();
        p.call(
            Op::SetEffectiveContext,
            &[Arg::Val(*target.lock().unwrap())],
        );
        p.call(Op::ContinueStream, &[Arg::Val(0)]);
        Some(p)
    });
    let mut host = start(&script, HostConfig::default());
    let id = host.new_stream(0).unwrap();
    host.request_headers(id, &post_headers(), false).unwrap();
    host.request_body(id, b"part1-", false).unwrap();
    assert_eq!(
        host.request_body(id, b"part2", true).unwrap(),
        StreamState::Paused,
        "tick pending"
    );
    assert!(body_sizes(&script).is_empty());

    host.advance(Duration::from_secs(1)).unwrap();
    assert_eq!(body_sizes(&script), vec![(11, 1)]);
    let outcome = host.outcome(id).unwrap();
    assert_eq!(outcome.state, StreamState::Forwarded);
    assert_eq!(outcome.forwarded_body, b"part1-part2".to_vec());
}

#[test]
fn trailers_end_the_stream() {
    let script = Script::default();
    script.on(Cb::RequestBody, |_| {
        let mut p = Program::new();
        p.ret(PAUSE);
        Some(p)
    });
    script.on(Cb::RequestTrailers, |_| {
        let mut p = Program::new();
        let (_, body) = p.get_buffer(REQUEST_BODY, 0, u32::MAX);
        p.report_returned(body);
        let (_, trailer) = p.get_header(REQUEST_TRAILERS, "grpc-status");
        p.report_returned(trailer);
        p.edit_header(Op::AddHeaderMapValue, REQUEST_TRAILERS, "x-checked", b"1");
        p.ret(CONTINUE);
        Some(p)
    });
    let mut host = start(&script, HostConfig::default());
    let id = host.new_stream(0).unwrap();
    host.request_headers(id, &post_headers(), false).unwrap();
    host.request_body(id, b"ab", false).unwrap();
    host.request_body(id, b"cd", false).unwrap();
    let state = host.request_trailers(id, &[("grpc-status", "0")]).unwrap();
    assert_eq!(state, StreamState::Forwarded);
    assert!(body_sizes(&script).iter().all(|(_, eos)| *eos == 0));
    let run = script.last_run(Cb::RequestTrailers);
    assert_eq!(run.reports[0], b"abcd".to_vec());
    assert_eq!(run.reports[1], b"0".to_vec());
    let outcome = host.outcome(id).unwrap();
    assert_eq!(outcome.forwarded_body, b"abcd".to_vec());
    assert_eq!(
        outcome.forwarded_trailers.clone().unwrap(),
        vec![
            ("grpc-status".to_string(), b"0".to_vec()),
            ("x-checked".to_string(), b"1".to_vec())
        ]
    );
}

#[test]
fn body_is_not_readable_after_continue() {
    let script = Script::default();
    script.on(Cb::RequestTrailers, |_| {
        let mut p = Program::new();
        p.get_buffer(REQUEST_BODY, 0, 10);
        Some(p)
    });
    let mut host = start(&script, HostConfig::default());
    let id = host.new_stream(0).unwrap();
    host.request_headers(id, &post_headers(), false).unwrap();
    host.request_body(id, b"streamed", false).unwrap();
    host.request_trailers(id, &[("t", "1")]).unwrap();
    let mut p = Program::new();
    let (call, _) = p.get_buffer(REQUEST_BODY, 0, 10);
    assert_eq!(script.last_run(Cb::RequestTrailers).status(call), NOT_FOUND);
}

#[test]
fn legacy_bug_hides_final_chunk() {
    let script = buffering_script();
    let config = HostConfig {
        legacy_last_chunk_bug: true,
        ..HostConfig::default()
    };
    let mut host = start(&script, config);
    let id = host.new_stream(0).unwrap();
    host.request_headers(id, &post_headers(), false).unwrap();
    host.request_body(id, b"abc", false).unwrap();
    host.request_body(id, b"def", true).unwrap();
    assert_eq!(body_sizes(&script), vec![(3, 0), (3, 1)]);
    assert_eq!(script.last_run(Cb::RequestBody).reports[0], b"abc".to_vec());
    assert_eq!(host.outcome(id).unwrap().forwarded_body, b"abcdef".to_vec());
}

#[test]
fn buffer_limit_answers_413() {
    let script = buffering_script();
    let config = HostConfig {
        buffer_limit_bytes: 10,
        ..HostConfig::default()
    };
    let mut host = start(&script, config);
    let id = host.new_stream(0).unwrap();
    host.request_headers(id, &post_headers(), false).unwrap();
    host.request_body(id, b"123456", false).unwrap();
    assert_eq!(
        host.request_body(id, b"7890a", false).unwrap(),
        StreamState::LocalReply
    );
    assert_eq!(
        host.request_body(id, b"more", true).unwrap(),
        StreamState::LocalReply
    );
    assert_eq!(
        body_sizes(&script),
        vec![(6, 0), (11, 0)],
        "no callback after the 413"
    );
    let outcome = host.outcome(id).unwrap();
    let reply = outcome.local_reply.clone().unwrap();
    assert_eq!(reply.status, 413);
    assert_eq!(reply.details, "request_payload_too_large");
    assert!(outcome.upstream_reset, "headers had gone upstream");
    assert!(outcome.forwarded_body.is_empty());
    assert!(host.traps().is_empty());
}

#[test]
fn local_reply_is_deferred_and_final() {
    let script = Script::default();
    script.on(Cb::RequestHeaders, |_| {
        let mut p = Program::new();
        p.local_response(401, b"{\"errorInformation\":{}}", "jws_invalid");
        p.get_header(REQUEST_HEADERS, ":path");
        p.ret(CONTINUE);
        Some(p)
    });
    let mut host = start(&script, HostConfig::default());
    let id = host.new_stream(0).unwrap();
    let state = host.request_headers(id, &post_headers(), false).unwrap();
    assert_eq!(state, StreamState::LocalReply);
    let run = script.last_run(Cb::RequestHeaders);
    let mut p = Program::new();
    let reply_call = p.local_response(401, b"{\"errorInformation\":{}}", "jws_invalid");
    let (after, _) = p.get_header(REQUEST_HEADERS, ":path");
    assert_eq!(run.status(reply_call), OK);
    assert_eq!(
        run.status(after),
        OK,
        "the stream is intact until the callback returns"
    );

    host.request_body(id, b"ignored", true).unwrap();
    let outcome = host.outcome(id).unwrap();
    let reply = outcome.local_reply.clone().unwrap();
    assert_eq!(reply.status, 401);
    assert_eq!(reply.body, b"{\"errorInformation\":{}}".to_vec());
    assert_eq!(reply.details, "jws_invalid");
    assert_eq!(reply.headers, vec![("x-reply".to_string(), b"1".to_vec())]);
    assert_eq!(reply.grpc_status, None);
    assert!(
        outcome.forwarded_headers.is_none(),
        "Continue after a local reply forwards nothing"
    );
    assert!(!outcome.upstream_reset);
    assert!(body_sizes(&script).is_empty());
}

#[test]
fn local_reply_after_forwarded_headers_resets_upstream() {
    let script = Script::default();
    script.on(Cb::RequestBody, |_| {
        let mut p = Program::new();
        p.local_response(403, b"", "denied");
        p.local_response(500, b"", "second");
        p.ret(PAUSE);
        Some(p)
    });
    let mut host = start(&script, HostConfig::default());
    let id = host.new_stream(0).unwrap();
    host.request_headers(id, &post_headers(), false).unwrap();
    assert_eq!(
        host.request_body(id, b"body", true).unwrap(),
        StreamState::LocalReply
    );
    let outcome = host.outcome(id).unwrap();
    assert!(outcome.forwarded_headers.is_some());
    assert!(outcome.forwarded_body.is_empty());
    assert!(outcome.upstream_reset);
    assert_eq!(outcome.local_reply.clone().unwrap().status, 403);
    let mut p = Program::new();
    p.local_response(403, b"", "denied");
    let second = p.local_response(500, b"", "second");
    assert_eq!(
        script.last_run(Cb::RequestBody).status(second),
        BAD_ARGUMENT
    );
}

#[test]
fn close_stream_resets() {
    let script = Script::default();
    script.on(Cb::RequestBody, |_| {
        let mut p = Program::new();
        p.call(Op::CloseStream, &[Arg::Val(0)]);
        p.call(Op::CloseStream, &[Arg::Val(3)]);
        p.ret(CONTINUE);
        Some(p)
    });
    let mut host = start(&script, HostConfig::default());
    let id = host.new_stream(0).unwrap();
    host.request_headers(id, &post_headers(), false).unwrap();
    assert_eq!(
        host.request_body(id, b"x", true).unwrap(),
        StreamState::Reset
    );
    assert!(host.outcome(id).unwrap().upstream_reset);
    let mut p = Program::new();
    p.call(Op::CloseStream, &[]);
    let upstream = p.call(Op::CloseStream, &[]);
    assert_eq!(
        script.last_run(Cb::RequestBody).status(upstream),
        UNIMPLEMENTED
    );
}

#[test]
fn set_buffer_bytes_rewrites_body() {
    let script = Script::default();
    script.on(Cb::RequestBody, |inv| {
        let mut p = Program::new();
        if inv.args[1] == 0 {
            p.ret(PAUSE);
            return Some(p);
        }
        let replacement = p.bytes(b"XY");
        p.call(
            Op::SetBufferBytes,
            &[
                Arg::Val(REQUEST_BODY),
                Arg::Val(0),
                Arg::Val(inv.args[0]),
                replacement.ptr(),
                replacement.len(),
            ],
        );
        let tail = p.bytes(b"!");
        p.call(
            Op::SetBufferBytes,
            &[
                Arg::Val(REQUEST_BODY),
                Arg::Val(100),
                Arg::Val(0),
                tail.ptr(),
                tail.len(),
            ],
        );
        p.call(
            Op::SetBufferBytes,
            &[
                Arg::Val(REQUEST_BODY),
                Arg::Val(1),
                Arg::Val(1),
                tail.ptr(),
                tail.len(),
            ],
        );
        p.ret(CONTINUE);
        Some(p)
    });
    let mut host = start(&script, HostConfig::default());
    let id = host.new_stream(0).unwrap();
    host.request_headers(id, &post_headers(), false).unwrap();
    host.request_body(id, b"abc", false).unwrap();
    host.request_body(id, b"def", true).unwrap();
    assert_eq!(host.outcome(id).unwrap().forwarded_body, b"XY!".to_vec());
    let mut p = Program::new();
    p.bytes(b"XY");
    p.call(Op::SetBufferBytes, &[]);
    p.bytes(b"!");
    p.call(Op::SetBufferBytes, &[]);
    let middle = p.call(Op::SetBufferBytes, &[]);
    assert_eq!(
        script.last_run(Cb::RequestBody).status(middle),
        BAD_ARGUMENT
    );
}

#[test]
fn send_runs_whole_request() {
    let script = buffering_script();
    let mut host = start(&script, HostConfig::default());
    let request = proxy_wasm_host::HttpRequest::new("POST", "/quotes")
        .header("content-type", "application/json")
        .chunk("{\"a\":")
        .chunk("1}");
    let outcome = host.send(0, &request).unwrap();
    assert_eq!(outcome.state, StreamState::Forwarded);
    assert!(outcome.finished);
    assert_eq!(outcome.forwarded_body, b"{\"a\":1}".to_vec());
    assert_eq!(script.callbacks().last(), Some(&Cb::Delete));
}

#[test]
fn continue_after_stop_all_delivers_held_trailers() {
    let script = Script::default();
    script.on(Cb::RequestHeaders, |_| {
        let mut p = Program::new();
        p.ret(PAUSE);
        Some(p)
    });
    script.on(Cb::RequestTrailers, |_| {
        let mut p = Program::new();
        p.ret(PAUSE);
        Some(p)
    });
    let mut host = start(&script, HostConfig::default());
    let id = host.new_stream(0).unwrap();
    host.request_headers(id, &post_headers(), false).unwrap();
    host.request_body(id, b"abc", false).unwrap();
    assert_eq!(
        host.request_trailers(id, &[("x-t", "1")]).unwrap(),
        StreamState::Stalled
    );
    assert!(!script.callbacks().contains(&Cb::RequestTrailers));

    // A second stream enqueues to a shared queue; the root context's queue callback
    // switches to the first stream and continues it.
    let context = script
        .invocations()
        .iter()
        .find(|i| i.cb == Cb::RequestHeaders)
        .unwrap()
        .context;
    script.on(Cb::QueueReady, move |_| {
        let mut p = Program::new();
        p.call(Op::SetEffectiveContext, &[Arg::Val(context)]);
        p.call(Op::ContinueStream, &[Arg::Val(0)]);
        Some(p)
    });
    script.on(Cb::RequestBody, |_| {
        let mut p = Program::new();
        p.ret(PAUSE);
        Some(p)
    });
    let other = host.new_stream(0).unwrap();
    script.on(Cb::RequestHeaders, |_| {
        let mut p = Program::new();
        let name = p.bytes(b"wake");
        let queue = p.slot(4);
        p.call(
            Op::RegisterSharedQueue,
            &[name.ptr(), name.len(), queue.ptr()],
        );
        p.call(
            Op::EnqueueSharedQueue,
            &[Arg::Load(queue.offset), name.ptr(), name.len()],
        );
        Some(p)
    });
    host.request_headers(other, &post_headers(), true).unwrap();

    assert_eq!(
        body_sizes(&script),
        vec![(3, 0)],
        "held body delivered without end of stream"
    );
    assert_eq!(
        host.state(id).unwrap(),
        StreamState::Stalled,
        "trailers paused again"
    );
    assert!(script.callbacks().contains(&Cb::RequestTrailers));
    assert_eq!(
        host.outcome(id)
            .unwrap()
            .forwarded_headers
            .as_ref()
            .map(Vec::len),
        Some(5)
    );
}

#[test]
fn buffer_limit_with_held_headers_does_not_reset_upstream() {
    let script = buffering_script();
    script.on(Cb::RequestHeaders, |_| {
        let mut p = Program::new();
        p.ret(PAUSE);
        Some(p)
    });
    let config = HostConfig {
        buffer_limit_bytes: 4,
        allow_on_headers_stop_iteration: true,
        ..HostConfig::default()
    };
    let mut host = start(&script, config);
    let id = host.new_stream(0).unwrap();
    host.request_headers(id, &post_headers(), false).unwrap();
    assert_eq!(
        host.request_body(id, b"12345", false).unwrap(),
        StreamState::LocalReply
    );
    let outcome = host.outcome(id).unwrap();
    assert_eq!(outcome.local_reply.as_ref().unwrap().status, 413);
    assert!(!outcome.upstream_reset);
    assert!(outcome.forwarded_headers.is_none());
}
