//! Shared data, metrics, properties, shared queues, ticks and workers.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::common::*;
use proxy_wasm_host::{HostConfig, MetricKind, PropertyValue, StreamState};

fn shared_ops(p: &mut Program, cas: u32) -> (Call, Call, Region, Call, Call) {
    let key = p.bytes(b"jwks");
    let value = p.bytes(b"v2");
    let out = p.slot(8);
    let cas_out = p.slot(4);
    let get = p.call(
        Op::GetSharedData,
        &[key.ptr(), key.len(), out.at(0), out.at(4), cas_out.ptr()],
    );
    let set = p.call(
        Op::SetSharedData,
        &[
            key.ptr(),
            key.len(),
            value.ptr(),
            value.len(),
            Arg::Val(cas),
        ],
    );
    let missing_key = p.bytes(b"absent");
    let missing = p.call(
        Op::GetSharedData,
        &[
            missing_key.ptr(),
            missing_key.len(),
            out.at(0),
            out.at(4),
            cas_out.ptr(),
        ],
    );
    let stale = p.call(
        Op::SetSharedData,
        &[
            key.ptr(),
            key.len(),
            value.ptr(),
            value.len(),
            Arg::Val(cas),
        ],
    );
    p.report_returned(out);
    (get, set, cas_out, missing, stale)
}

#[test]
fn shared_data_compare_and_swap() {
    let script = Script::default();
    let cas = Arc::new(Mutex::new(0u32));
    let current = cas.clone();
    script.on(Cb::RequestHeaders, move |_| {
        let mut p = Program::new();
        shared_ops(&mut p, *current.lock().unwrap());
        Some(p)
    });
    let config = HostConfig {
        workers: 2,
        vm_id: "guard".into(),
        ..HostConfig::default()
    };
    let mut host = start(&script, config);
    host.set_shared_data("jwks", b"v1");
    let (_, seeded_cas) = host.shared_data("jwks").unwrap();
    *cas.lock().unwrap() = seeded_cas;

    // Worker 1 reads the value written from outside and swaps it with the right CAS.
    let id = host.new_stream(1).unwrap();
    host.request_headers(id, &post_headers(), true).unwrap();
    let run = script.last_run(Cb::RequestHeaders);
    let (get, set, cas_out, missing, stale) = shared_ops(&mut Program::new(), seeded_cas);
    assert_eq!(run.status(get), OK);
    assert_eq!(
        run.slot_u32(cas_out, 0),
        seeded_cas,
        "the missing key wrote no CAS"
    );
    assert_eq!(run.reports[0], b"v1".to_vec());
    assert_eq!(run.status(set), OK);
    assert_eq!(run.status(missing), NOT_FOUND);
    assert_eq!(
        run.status(stale),
        CAS_MISMATCH,
        "the first set bumped the CAS"
    );
    let (value, new_cas) = host.shared_data("jwks").unwrap();
    assert_eq!(value, b"v2".to_vec());
    assert_ne!(new_cas, seeded_cas);
}

#[test]
fn metrics_are_shared_across_workers() {
    let script = Script::default();
    let build = |p: &mut Program| {
        let name = p.bytes(b"fspiop_guard_requests");
        let id = p.slot(4);
        p.call(
            Op::DefineMetric,
            &[Arg::Val(0), name.ptr(), name.len(), id.ptr()],
        );
        let add = p.call(Op::IncrementMetric, &[Arg::Load(id.offset), Arg::Val(2)]);
        let negative = p.call(
            Op::IncrementMetric,
            &[Arg::Load(id.offset), Arg::Val(-1i32 as u32)],
        );
        let unknown = p.call(Op::IncrementMetric, &[Arg::Val(999), Arg::Val(1)]);
        let value = p.slot(8);
        p.call(Op::GetMetric, &[Arg::Load(id.offset), value.ptr()]);
        let gauge_name = p.bytes(b"keys_loaded");
        let gauge = p.slot(4);
        p.call(
            Op::DefineMetric,
            &[Arg::Val(1), gauge_name.ptr(), gauge_name.len(), gauge.ptr()],
        );
        p.call(Op::RecordMetric, &[Arg::Load(gauge.offset), Arg::Val(7)]);
        let histogram_name = p.bytes(b"verify_micros");
        let histogram = p.slot(4);
        p.call(
            Op::DefineMetric,
            &[
                Arg::Val(2),
                histogram_name.ptr(),
                histogram_name.len(),
                histogram.ptr(),
            ],
        );
        p.call(
            Op::RecordMetric,
            &[Arg::Load(histogram.offset), Arg::Val(120)],
        );
        (id, add, negative, unknown, value)
    };
    script.on(Cb::RequestHeaders, move |_| {
        let mut p = Program::new();
        build(&mut p);
        Some(p)
    });
    let mut host = start(
        &script,
        HostConfig {
            workers: 2,
            ..HostConfig::default()
        },
    );
    let mut ids = Vec::new();
    for worker in [0, 1] {
        let id = host.new_stream(worker).unwrap();
        host.request_headers(id, &post_headers(), true).unwrap();
        let run = script.last_run(Cb::RequestHeaders);
        let (metric_id, add, negative, unknown, value) = build(&mut Program::new());
        assert_eq!(run.status(add), OK);
        assert_eq!(run.status(negative), BAD_ARGUMENT);
        assert_eq!(run.status(unknown), NOT_FOUND);
        assert_eq!(run.slot_u64(value), 2 * (worker as u64 + 1));
        ids.push(run.slot_u32(metric_id, 0));
    }
    assert_eq!(ids[0], ids[1], "same name, same id on every worker");
    assert_eq!(host.metric("fspiop_guard_requests"), Some(4));
    assert_eq!(host.metric("keys_loaded"), Some(7));
    let histogram = host
        .metrics()
        .into_iter()
        .find(|m| m.name == "verify_micros")
        .unwrap();
    assert_eq!(histogram.kind, MetricKind::Histogram);
    assert_eq!(histogram.samples, vec![120, 120]);
    assert_eq!(host.metric("unknown"), None);
}

#[test]
fn properties_use_envoy_encodings() {
    let script = Script::default();
    let paths: Vec<Vec<&'static str>> = vec![
        vec!["connection", "mtls"],
        vec!["connection", "subject_peer_certificate"],
        vec!["source", "port"],
        vec!["connection", "id"],
        vec!["plugin_vm_id"],
        vec!["plugin_root_id"],
        vec!["request", "headers", "x-dup"],
        vec!["connection.mtls"],
        vec!["connection", "peer_certificate"],
    ];
    let build = move |p: &mut Program| {
        let mut calls = Vec::new();
        for path in &paths {
            let (call, out) = p.get_property(path);
            p.report_returned(out);
            calls.push(call);
        }
        calls
    };
    let build_in_guest = build.clone();
    script.on(Cb::RequestHeaders, move |_| {
        let mut p = Program::new();
        build_in_guest(&mut p);
        Some(p)
    });
    let config = HostConfig {
        vm_id: "guard-vm".into(),
        root_id: "guard".into(),
        ..HostConfig::default()
    };
    let mut host = start(&script, config);
    host.set_property(&["connection", "mtls"], PropertyValue::Bool(false));
    host.set_property(&["source", "port"], PropertyValue::Int(44321));
    let id = host.new_stream(0).unwrap();
    host.set_stream_property(id, &["connection", "mtls"], PropertyValue::Bool(true))
        .unwrap();
    host.set_stream_property(
        id,
        &["connection", "subject_peer_certificate"],
        PropertyValue::String("CN=dfsp1".into()),
    )
    .unwrap();
    host.set_stream_property(id, &["connection", "id"], PropertyValue::Uint(9))
        .unwrap();
    host.request_headers(id, &[("x-dup", "a"), ("x-dup", "b")], true)
        .unwrap();

    let run = script.last_run(Cb::RequestHeaders);
    let calls = build(&mut Program::new());
    assert_eq!(run.reports[0], vec![1], "stream value wins over the host's");
    assert_eq!(run.reports[1], b"CN=dfsp1".to_vec());
    assert_eq!(run.reports[2], 44321i64.to_le_bytes().to_vec());
    assert_eq!(run.reports[3], 9u64.to_le_bytes().to_vec());
    assert_eq!(run.reports[4], b"guard-vm".to_vec());
    assert_eq!(run.reports[5], b"guard".to_vec());
    assert_eq!(run.reports[6], b"a,b".to_vec());
    assert_eq!(
        run.status(calls[7]),
        NOT_FOUND,
        "a dotted name is one segment"
    );
    assert_eq!(run.status(calls[8]), NOT_FOUND);
}

#[test]
fn shared_queue_notifies_the_registering_root() {
    let script = Script::default();
    script.on(Cb::Configure, |_| {
        let mut p = Program::new();
        let name = p.bytes(b"refresh");
        let id = p.slot(4);
        p.call(Op::RegisterSharedQueue, &[name.ptr(), name.len(), id.ptr()]);
        Some(p)
    });
    script.on(Cb::RequestHeaders, |_| {
        let mut p = Program::new();
        let vm = p.bytes(b"guard");
        let name = p.bytes(b"refresh");
        let id = p.slot(4);
        p.call(
            Op::ResolveSharedQueue,
            &[vm.ptr(), vm.len(), name.ptr(), name.len(), id.ptr()],
        );
        let item = p.bytes(b"kid-7");
        p.call(
            Op::EnqueueSharedQueue,
            &[Arg::Load(id.offset), item.ptr(), item.len()],
        );
        Some(p)
    });
    script.on(Cb::QueueReady, |inv| {
        let mut p = Program::new();
        let out = p.slot(8);
        p.call(
            Op::DequeueSharedQueue,
            &[Arg::Val(inv.args[0]), out.at(0), out.at(4)],
        );
        p.report_returned(out);
        p.call(
            Op::DequeueSharedQueue,
            &[Arg::Val(inv.args[0]), out.at(0), out.at(4)],
        );
        Some(p)
    });
    let config = HostConfig {
        vm_id: "guard".into(),
        workers: 2,
        ..HostConfig::default()
    };
    let mut host = start(&script, config);
    let id = host.new_stream(1).unwrap();
    host.request_headers(id, &post_headers(), true).unwrap();
    let ready: Vec<Invocation> = script
        .invocations()
        .into_iter()
        .filter(|i| i.cb == Cb::QueueReady)
        .collect();
    assert_eq!(
        ready.len(),
        1,
        "only the first registrant (worker 0) owns the queue"
    );
    let run = script.last_run(Cb::QueueReady);
    assert_eq!(run.reports[0], b"kid-7".to_vec());
    let mut p = Program::new();
    let out = p.slot(8);
    p.call(Op::DequeueSharedQueue, &[]);
    p.report_returned(out);
    let second = p.call(Op::DequeueSharedQueue, &[]);
    assert_eq!(run.status(second), EMPTY);
}

#[test]
fn unknown_effective_context_is_bad_argument() {
    let script = Script::default();
    script.on(Cb::RequestHeaders, |_| {
        let mut p = Program::new();
        p.call(Op::SetEffectiveContext, &[Arg::Val(4242)]);
        Some(p)
    });
    let mut host = start(&script, HostConfig::default());
    let id = host.new_stream(0).unwrap();
    host.request_headers(id, &post_headers(), true).unwrap();
    let mut p = Program::new();
    let call = p.call(Op::SetEffectiveContext, &[]);
    assert_eq!(
        script.last_run(Cb::RequestHeaders).status(call),
        BAD_ARGUMENT
    );
}

#[test]
fn ticks_fire_on_every_worker_in_time_order() {
    let script = Script::default();
    script.on(Cb::Configure, |_| {
        let mut p = Program::new();
        p.call(Op::SetTickPeriod, &[Arg::Val(100)]);
        Some(p)
    });
    script.on(Cb::Tick, |_| {
        let mut p = Program::new();
        let now = p.slot(8);
        p.call(Op::GetCurrentTime, &[now.ptr()]);
        Some(p)
    });
    let mut host = start(
        &script,
        HostConfig {
            workers: 2,
            ..HostConfig::default()
        },
    );
    let start_nanos = host.now_unix_nanos();
    host.advance(Duration::from_millis(250)).unwrap();
    let times: Vec<u64> = script
        .runs()
        .iter()
        .filter(|r| r.invocation.unwrap().cb == Cb::Tick)
        .map(|r| {
            let mut p = Program::new();
            let now = p.slot(8);
            r.slot_u64(now) - start_nanos
        })
        .collect();
    assert_eq!(
        times,
        vec![100_000_000, 100_000_000, 200_000_000, 200_000_000]
    );
    assert_eq!(host.now_unix_nanos() - start_nanos, 250_000_000);
}

#[test]
fn stalled_only_when_nothing_can_resume() {
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
        host.request_body(id, b"x", true).unwrap(),
        StreamState::Stalled
    );

    // With a tick timer the root context may still resume it.
    script.on(Cb::Configure, |_| {
        let mut p = Program::new();
        p.call(Op::SetTickPeriod, &[Arg::Val(1000)]);
        Some(p)
    });
    let mut ticking = start(&script, HostConfig::default());
    let id = ticking.new_stream(0).unwrap();
    assert_eq!(
        ticking.request_headers(id, &post_headers(), true).unwrap(),
        StreamState::Paused
    );
}

#[test]
fn send_returns_stalled_stream_open() {
    let script = Script::default();
    script.on(Cb::RequestBody, |_| {
        let mut p = Program::new();
        p.ret(PAUSE);
        Some(p)
    });
    let mut host = start(&script, HostConfig::default());
    let outcome = host
        .send(
            0,
            &proxy_wasm_host::HttpRequest::new("PUT", "/parties").chunk("{}"),
        )
        .unwrap();
    assert_eq!(outcome.state, StreamState::Stalled);
    assert!(!outcome.finished);
    host.finish_stream(outcome.stream).unwrap();
    assert!(host.outcome(outcome.stream).unwrap().finished);
}

#[test]
fn tick_period_set_in_tick_rearms_from_now() {
    let script = Script::default();
    script.on(Cb::Configure, |_| {
        let mut p = Program::new();
        p.call(Op::SetTickPeriod, &[Arg::Val(100)]);
        Some(p)
    });
    script.on(Cb::Tick, |_| {
        let mut p = Program::new();
        p.call(Op::SetTickPeriod, &[Arg::Val(300)]);
        Some(p)
    });
    let mut host = start(&script, HostConfig::default());
    host.advance(Duration::from_millis(399)).unwrap();
    let ticks = script
        .callbacks()
        .iter()
        .filter(|c| **c == Cb::Tick)
        .count();
    assert_eq!(ticks, 1, "first at 100 ms, next due at 400 ms");
    host.advance(Duration::from_millis(1)).unwrap();
    let ticks = script
        .callbacks()
        .iter()
        .filter(|c| **c == Cb::Tick)
        .count();
    assert_eq!(ticks, 2);
}
