//! Traps and the failure policies, fuel exhaustion.

use super::common::*;
use proxy_wasm_host::{FailurePolicy, HostConfig, StreamState};

fn trapping_script(cb: Cb) -> Script {
    let script = Script::default();
    script.on(cb, |_| {
        let mut p = Program::new();
        p.call(Op::Trap, &[]);
        Some(p)
    });
    script
}

fn config(policy: FailurePolicy) -> HostConfig {
    HostConfig {
        failure_policy: policy,
        ..HostConfig::default()
    }
}

#[test]
fn fail_closed_answers_503_without_callbacks() {
    let script = trapping_script(Cb::RequestHeaders);
    let mut host = start(&script, config(FailurePolicy::FailClosed));
    let id = host.new_stream(0).unwrap();
    assert_eq!(
        host.request_headers(id, &post_headers(), true).unwrap(),
        StreamState::Failed
    );
    let outcome = host.outcome(id).unwrap().clone();
    let reply = outcome.local_reply.unwrap();
    assert_eq!(
        (reply.status, reply.details.as_str()),
        (503, "wasm_fail_stream")
    );
    assert!(outcome.vm_failed);
    assert_eq!(host.traps().len(), 1);
    assert_eq!(host.traps()[0].callback, "proxy_on_request_headers");
    assert!(!host.traps()[0].out_of_fuel);
    assert!(host.worker_failed(0));

    let calls_before = script.invocations().len();
    let next = host
        .send(0, &proxy_wasm_host::HttpRequest::new("GET", "/"))
        .unwrap();
    assert_eq!(next.state, StreamState::Failed);
    assert_eq!(next.local_reply.unwrap().status, 503);
    assert_eq!(
        script.invocations().len(),
        calls_before,
        "no callbacks on a failed VM"
    );
}

#[test]
fn fail_open_passes_traffic_through() {
    let script = trapping_script(Cb::RequestBody);
    script.on(Cb::RequestHeaders, |_| {
        let mut p = Program::new();
        p.edit_header(Op::AddHeaderMapValue, REQUEST_HEADERS, "x-seen", b"1");
        p.ret(CONTINUE);
        Some(p)
    });
    let mut host = start(&script, config(FailurePolicy::FailOpen));
    let id = host.new_stream(0).unwrap();
    host.request_headers(id, &post_headers(), false).unwrap();
    host.request_body(id, b"abc", false).unwrap();
    assert_eq!(
        host.request_body(id, b"def", true).unwrap(),
        StreamState::Forwarded
    );
    let outcome = host.outcome(id).unwrap();
    assert_eq!(outcome.forwarded_body, b"abcdef".to_vec());
    assert!(outcome.vm_failed);

    let calls_before = script.invocations().len();
    let next = host
        .send(
            0,
            &proxy_wasm_host::HttpRequest::new("POST", "/").chunk("x"),
        )
        .unwrap();
    assert_eq!(next.state, StreamState::Forwarded);
    assert_eq!(next.forwarded_body, b"x".to_vec());
    let headers = next.forwarded_headers.unwrap();
    assert!(
        !headers.iter().any(|(k, _)| k == "x-seen"),
        "the filter no longer runs"
    );
    assert_eq!(script.invocations().len(), calls_before);
}

#[test]
fn reload_keeps_shared_data() {
    let script = trapping_script(Cb::RequestHeaders);
    let mut host = start(&script, config(FailurePolicy::Reload));
    host.set_shared_data("keys", b"cached");
    let id = host.new_stream(0).unwrap();
    assert_eq!(
        host.request_headers(id, &post_headers(), true).unwrap(),
        StreamState::Failed
    );
    assert_eq!(host.reloads(0), 0);

    script.clear(Cb::RequestHeaders);
    let starts_before = script
        .callbacks()
        .iter()
        .filter(|c| **c == Cb::VmStart)
        .count();
    let next = host
        .send(0, &proxy_wasm_host::HttpRequest::new("GET", "/"))
        .unwrap();
    assert_eq!(next.state, StreamState::Forwarded);
    assert_eq!(host.reloads(0), 1);
    assert!(!host.worker_failed(0));
    let starts_after = script
        .callbacks()
        .iter()
        .filter(|c| **c == Cb::VmStart)
        .count();
    assert_eq!(starts_after, starts_before + 1);
    assert!(script.callbacks().contains(&Cb::Configure));
    assert_eq!(host.shared_data("keys").unwrap().0, b"cached".to_vec());
}

#[test]
fn endless_loop_runs_out_of_fuel() {
    let script = Script::default();
    script.on(Cb::RequestHeaders, |_| {
        let mut p = Program::new();
        p.call(Op::LoopForever, &[]);
        Some(p)
    });
    let config = HostConfig {
        fuel_per_callback: Some(5_000_000),
        ..HostConfig::default()
    };
    let mut host = start(&script, config);
    let id = host.new_stream(0).unwrap();
    assert_eq!(
        host.request_headers(id, &post_headers(), true).unwrap(),
        StreamState::Failed
    );
    assert!(host.traps()[0].out_of_fuel, "{:?}", host.traps());
}

#[test]
fn trap_in_tick_fails_the_worker_only() {
    let script = trapping_script(Cb::Tick);
    script.on(Cb::Configure, |_| {
        let mut p = Program::new();
        p.call(Op::SetTickPeriod, &[Arg::Val(10)]);
        Some(p)
    });
    let mut host = start(
        &script,
        HostConfig {
            workers: 2,
            ..HostConfig::default()
        },
    );
    host.advance(std::time::Duration::from_millis(10)).unwrap();
    assert_eq!(host.traps().len(), 2, "both workers ticked and trapped");
    assert!(host.worker_failed(0));
    assert!(host.worker_failed(1));
    host.advance(std::time::Duration::from_secs(1)).unwrap();
    assert_eq!(host.traps().len(), 2, "failed VMs get no more ticks");
}

#[test]
fn trap_during_configure_fails_start() {
    let script = trapping_script(Cb::Configure);
    let error = try_start(&script, HostConfig::default()).unwrap_err();
    assert!(matches!(
        error,
        proxy_wasm_host::HostError::Trap {
            callback: "proxy_on_configure",
            ..
        }
    ));
}
