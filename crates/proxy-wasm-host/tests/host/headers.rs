//! Header map serialization, lower-casing, duplicates, phase availability and edits.

use super::common::*;
use proxy_wasm_host::{HostConfig, StreamState};

#[test]
fn pairs_keep_duplicates_and_bytes() {
    let script = Script::default();
    script.on(Cb::RequestHeaders, |_| {
        let mut p = Program::new();
        let (_, out) = p.get_pairs(REQUEST_HEADERS);
        p.report_returned(out);
        Some(p)
    });
    let mut host = start(&script, HostConfig::default());
    let id = host.new_stream(0).unwrap();
    let headers: [(&str, &[u8]); 4] = [
        (":method", b"GET"),
        ("X-Dup", b"first"),
        ("x-dup", b"second"),
        ("x-binary", &[0xff, 0xfe, 0x80]),
    ];
    host.request_headers(id, &headers, true).unwrap();
    let run = script.last_run(Cb::RequestHeaders);
    let expected: Vec<(String, Vec<u8>)> = vec![
        (":method".into(), b"GET".to_vec()),
        ("x-dup".into(), b"first".to_vec()),
        ("x-dup".into(), b"second".to_vec()),
        ("x-binary".into(), vec![0xff, 0xfe, 0x80]),
    ];
    assert_eq!(run.reports[0], proxy_wasm_host::pairs::serialize(&expected));
    assert_eq!(
        script.invocations().last().unwrap().args[0],
        4,
        "num_headers"
    );
}

#[test]
fn value_lookup_is_case_insensitive_and_returns_first() {
    let script = Script::default();
    script.on(Cb::RequestHeaders, |_| {
        let mut p = Program::new();
        let (_, out) = p.get_header(REQUEST_HEADERS, "X-DUP");
        p.report_returned(out);
        p.get_header(REQUEST_HEADERS, "x-absent");
        Some(p)
    });
    let mut host = start(&script, HostConfig::default());
    let id = host.new_stream(0).unwrap();
    host.request_headers(id, &[("x-dup", "a"), ("X-Dup", "b")], true)
        .unwrap();
    let run = script.last_run(Cb::RequestHeaders);
    assert_eq!(run.reports[0], b"a".to_vec());
    let mut p = Program::new();
    p.get_header(REQUEST_HEADERS, "X-DUP");
    p.call(Op::Report, &[]);
    let (absent, _) = p.get_header(REQUEST_HEADERS, "x-absent");
    assert_eq!(run.status(absent), NOT_FOUND);
}

#[test]
fn request_headers_are_gone_after_continue() {
    let script = Script::default();
    script.on(Cb::RequestBody, |_| {
        let mut p = Program::new();
        p.get_header(REQUEST_HEADERS, ":path");
        p.get_pairs(REQUEST_HEADERS);
        p.edit_header(Op::AddHeaderMapValue, REQUEST_HEADERS, "x-late", b"1");
        Some(p)
    });
    let mut host = start(&script, HostConfig::default());
    let id = host.new_stream(0).unwrap();
    host.request_headers(id, &post_headers(), false).unwrap();
    host.request_body(id, b"{}", true).unwrap();
    let run = script.last_run(Cb::RequestBody);
    let mut p = Program::new();
    let (value, _) = p.get_header(REQUEST_HEADERS, ":path");
    let (pairs, pairs_out) = p.get_pairs(REQUEST_HEADERS);
    let add = p.edit_header(Op::AddHeaderMapValue, REQUEST_HEADERS, "x-late", b"1");
    assert_eq!(run.status(value), BAD_ARGUMENT);
    assert_eq!(run.status(pairs), OK);
    assert_eq!(run.slot_u32(pairs_out, 4), 0, "empty map");
    assert_eq!(run.status(add), BAD_ARGUMENT);
}

#[test]
fn root_callbacks_see_no_stream_maps() {
    let script = Script::default();
    script.on(Cb::Configure, |_| {
        let mut p = Program::new();
        p.get_header(REQUEST_HEADERS, ":path");
        p.get_pairs(REQUEST_HEADERS);
        p.get_buffer(REQUEST_BODY, 0, 10);
        Some(p)
    });
    let _host = start(&script, HostConfig::default());
    let run = script.last_run(Cb::Configure);
    let mut p = Program::new();
    let (value, _) = p.get_header(REQUEST_HEADERS, ":path");
    let (pairs, _) = p.get_pairs(REQUEST_HEADERS);
    let (body, _) = p.get_buffer(REQUEST_BODY, 0, 10);
    assert_eq!(run.status(value), BAD_ARGUMENT);
    assert_eq!(run.status(pairs), OK);
    assert_eq!(run.status(body), NOT_FOUND);
}

/// Adds, replaces and removes headers; returns the status of removing a missing key.
fn edit_headers(p: &mut Program) -> Call {
    p.edit_header(Op::AddHeaderMapValue, REQUEST_HEADERS, "X-Added", b"1");
    p.edit_header(Op::ReplaceHeaderMapValue, REQUEST_HEADERS, "x-dup", b"only");
    p.edit_header(
        Op::RemoveHeaderMapValue,
        REQUEST_HEADERS,
        "content-type",
        b"",
    );
    p.edit_header(Op::RemoveHeaderMapValue, REQUEST_HEADERS, "x-missing", b"")
}

#[test]
fn edits_in_headers_callback_are_forwarded() {
    let script = Script::default();
    script.on(Cb::RequestHeaders, |_| {
        let mut p = Program::new();
        edit_headers(&mut p);
        Some(p)
    });
    let mut host = start(&script, HostConfig::default());
    let id = host.new_stream(0).unwrap();
    let headers = [
        (":path", "/"),
        ("x-dup", "1"),
        ("content-type", "text/plain"),
        ("x-dup", "2"),
    ];
    host.request_headers(id, &headers, true).unwrap();
    let remove_missing = edit_headers(&mut Program::new());
    assert_eq!(
        script.last_run(Cb::RequestHeaders).status(remove_missing),
        OK
    );
    let forwarded = host.outcome(id).unwrap().forwarded_headers.clone().unwrap();
    assert_eq!(
        forwarded,
        vec![
            (":path".to_string(), b"/".to_vec()),
            ("x-added".to_string(), b"1".to_vec()),
            ("x-dup".to_string(), b"only".to_vec()),
        ]
    );
}

#[test]
fn set_pairs_replaces_whole_map() {
    let script = Script::default();
    script.on(Cb::RequestHeaders, |_| {
        let mut p = Program::new();
        let map = p.bytes(&proxy_wasm_host::pairs::serialize(&[
            (":path", "/new"),
            ("X-New", "v"),
        ]));
        p.call(
            Op::SetHeaderMapPairs,
            &[Arg::Val(REQUEST_HEADERS), map.ptr(), map.len()],
        );
        Some(p)
    });
    let mut host = start(&script, HostConfig::default());
    let id = host.new_stream(0).unwrap();
    host.request_headers(id, &post_headers(), true).unwrap();
    let forwarded = host.outcome(id).unwrap().forwarded_headers.clone().unwrap();
    assert_eq!(
        forwarded,
        vec![
            (":path".to_string(), b"/new".to_vec()),
            ("x-new".to_string(), b"v".to_vec())
        ]
    );
}

#[test]
fn held_headers_stay_writable_until_continue() {
    let script = Script::default();
    script.on(Cb::RequestHeaders, |_| {
        let mut p = Program::new();
        p.ret(PAUSE);
        Some(p)
    });
    script.on(Cb::RequestBody, |inv| {
        let mut p = Program::new();
        let (_, out) = p.get_header(REQUEST_HEADERS, ":path");
        p.report_returned(out);
        p.edit_header(Op::AddHeaderMapValue, REQUEST_HEADERS, "x-verified", b"yes");
        p.ret(if inv.args[1] == 1 { CONTINUE } else { PAUSE });
        Some(p)
    });
    let config = HostConfig {
        allow_on_headers_stop_iteration: true,
        ..HostConfig::default()
    };
    let mut host = start(&script, config);
    let id = host.new_stream(0).unwrap();
    assert_eq!(
        host.request_headers(id, &post_headers(), false).unwrap(),
        StreamState::Paused
    );
    assert_eq!(
        host.request_body(id, b"{\"amount\":", false).unwrap(),
        StreamState::Paused
    );
    assert!(host.outcome(id).unwrap().forwarded_headers.is_none());
    assert_eq!(
        host.request_body(id, b"1}", true).unwrap(),
        StreamState::Forwarded
    );
    let outcome = host.outcome(id).unwrap();
    let forwarded = outcome.forwarded_headers.clone().unwrap();
    let verified: Vec<_> = forwarded
        .iter()
        .filter(|(k, _)| k == "x-verified")
        .collect();
    assert_eq!(verified.len(), 2, "one header added per body callback");
    assert_eq!(outcome.forwarded_body, b"{\"amount\":1}".to_vec());
    assert_eq!(
        script.last_run(Cb::RequestBody).reports[0],
        b"/transfers".to_vec()
    );
}
