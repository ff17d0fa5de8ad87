//! Allocation round trip, empty results, bounds checks, logging and WASI.

use std::time::Duration;

use super::common::*;
use proxy_wasm_host::{HostConfig, LogLevel, StreamState};

/// Runs `build` in `on_request_headers` of one stream with `headers` and returns the run.
fn run_in_headers(
    config: HostConfig,
    headers: &[(&str, &[u8])],
    build: impl Fn(&mut Program) + Send + 'static,
) -> (Run, proxy_wasm_host::Host) {
    let script = Script::default();
    script.on(Cb::RequestHeaders, move |_| {
        let mut p = Program::new();
        build(&mut p);
        Some(p)
    });
    let mut host = start(&script, config);
    let id = host.new_stream(0).unwrap();
    host.request_headers(id, headers, true).unwrap();
    (script.last_run(Cb::RequestHeaders), host)
}

#[test]
fn returned_value_goes_through_allocator() {
    let (run, _) = run_in_headers(HostConfig::default(), &[("x-key", b"value")], |p| {
        let (_, out) = p.get_header(REQUEST_HEADERS, "x-key");
        p.report_returned(out);
    });
    assert_eq!(run.reports[0], b"value".to_vec());
}

#[test]
fn empty_value_returns_null_pointer() {
    let (run, _) = run_in_headers(HostConfig::default(), &[("x-empty", b"")], |p| {
        p.get_header(REQUEST_HEADERS, "x-empty");
    });
    let mut p = Program::new();
    let (call, out) = p.get_header(REQUEST_HEADERS, "x-empty");
    assert_eq!(run.status(call), OK);
    assert_eq!(run.slot_u32(out, 0), 0, "pointer");
    assert_eq!(run.slot_u32(out, 4), 0, "length");
}

#[test]
fn out_of_bounds_arguments_are_invalid_memory_access() {
    let (run, _) = run_in_headers(HostConfig::default(), &[(":path", b"/")], |p| {
        p.call(Op::Log, &[Arg::Val(2), Arg::Val(0xffff_fff0), Arg::Val(32)]);
        p.call(Op::Log, &[Arg::Val(2), Arg::Val(0), Arg::Val(u32::MAX)]);
        let key = p.bytes(b":path");
        p.call(
            Op::GetHeaderMapValue,
            &[
                Arg::Val(0),
                key.ptr(),
                key.len(),
                Arg::Val(0xffff_fffc),
                Arg::Val(0),
            ],
        );
    });
    let mut p = Program::new();
    let first = p.call(Op::Log, &[]);
    let second = p.call(Op::Log, &[]);
    p.bytes(b":path");
    let third = p.call(Op::GetHeaderMapValue, &[]);
    assert_eq!(run.status(first), INVALID_MEMORY_ACCESS);
    assert_eq!(run.status(second), INVALID_MEMORY_ACCESS);
    assert_eq!(run.status(third), INVALID_MEMORY_ACCESS);
}

#[test]
fn log_level_above_critical_is_bad_argument() {
    let (run, host) = run_in_headers(HostConfig::default(), &[], |p| {
        p.log(6, "nope");
        p.log(5, "critical");
    });
    let mut p = Program::new();
    let bad = p.log(6, "nope");
    let good = p.log(5, "critical");
    assert_eq!(run.status(bad), BAD_ARGUMENT);
    assert_eq!(run.status(good), OK);
    let last = host.logs().last().unwrap();
    assert_eq!(
        (last.level, last.message.as_str(), last.worker),
        (LogLevel::Critical, "critical", 0)
    );
}

#[test]
fn get_log_level_returns_configured_level() {
    let config = HostConfig {
        log_level: LogLevel::Warn,
        ..HostConfig::default()
    };
    let (run, _) = run_in_headers(config, &[], |p| {
        let out = p.slot(4);
        p.call(Op::GetLogLevel, &[out.ptr()]);
    });
    let mut p = Program::new();
    let out = p.slot(4);
    assert_eq!(run.slot_u32(out, 0), 3);
}

#[test]
fn fd_write_maps_stdout_and_stderr_to_logs() {
    let (run, host) = run_in_headers(HostConfig::default(), &[], |p| {
        let text = p.bytes(b"to stdout\n");
        let iovec = p.slot(8);
        let written = p.slot(4);
        // The iovec needs the text's absolute address, known only in the guest.
        p.call(Op::Store, &[text.ptr(), iovec.at(0)]);
        p.call(Op::Store, &[text.len(), iovec.at(4)]);
        p.call(
            Op::FdWrite,
            &[Arg::Val(1), iovec.ptr(), Arg::Val(1), written.ptr()],
        );
        p.call(
            Op::FdWrite,
            &[Arg::Val(2), iovec.ptr(), Arg::Val(1), written.ptr()],
        );
        p.call(
            Op::FdWrite,
            &[Arg::Val(5), iovec.ptr(), Arg::Val(1), written.ptr()],
        );
    });
    let mut p = Program::new();
    p.bytes(b"to stdout\n");
    p.slot(8);
    let written = p.slot(4);
    p.call(Op::Store, &[]);
    p.call(Op::Store, &[]);
    let stdout = p.call(Op::FdWrite, &[]);
    let stderr = p.call(Op::FdWrite, &[]);
    let other = p.call(Op::FdWrite, &[]);
    assert_eq!(run.status(stdout), 0);
    assert_eq!(run.status(stderr), 0);
    assert_eq!(run.status(other), 8, "WASI EBADF");
    assert_eq!(run.slot_u32(written, 0), 10);
    let logs: Vec<(LogLevel, &str)> = host
        .logs()
        .iter()
        .map(|l| (l.level, l.message.as_str()))
        .collect();
    assert_eq!(
        logs,
        vec![
            (LogLevel::Info, "to stdout"),
            (LogLevel::Error, "to stdout")
        ]
    );
}

#[test]
fn clock_reads_virtual_time() {
    let script = Script::default();
    script.on(Cb::Tick, |_| {
        let mut p = Program::new();
        let proxy_time = p.slot(8);
        let realtime = p.slot(8);
        let monotonic = p.slot(8);
        p.call(Op::GetCurrentTime, &[proxy_time.ptr()]);
        p.call(Op::ClockTimeGet, &[Arg::Val(0), realtime.ptr()]);
        p.call(Op::ClockTimeGet, &[Arg::Val(1), monotonic.ptr()]);
        p.call(Op::ClockTimeGet, &[Arg::Val(2), monotonic.ptr()]);
        Some(p)
    });
    script.on(Cb::Configure, |_| {
        let mut p = Program::new();
        p.call(Op::SetTickPeriod, &[Arg::Val(1500)]);
        Some(p)
    });
    let start_nanos = 1_800_000_000_000_000_000;
    let mut host = start(
        &script,
        HostConfig {
            start_unix_nanos: start_nanos,
            ..HostConfig::default()
        },
    );
    assert_eq!(host.now_unix_nanos(), start_nanos);
    host.advance(Duration::from_secs(2)).unwrap();
    assert_eq!(host.now_unix_nanos(), start_nanos + 2_000_000_000);

    let run = script.last_run(Cb::Tick);
    let mut p = Program::new();
    let proxy_time = p.slot(8);
    let realtime = p.slot(8);
    let monotonic = p.slot(8);
    p.call(Op::GetCurrentTime, &[]);
    p.call(Op::ClockTimeGet, &[]);
    p.call(Op::ClockTimeGet, &[]);
    let other_clock = p.call(Op::ClockTimeGet, &[]);
    assert_eq!(run.slot_u64(proxy_time), start_nanos + 1_500_000_000);
    assert_eq!(run.slot_u64(realtime), start_nanos + 1_500_000_000);
    assert_eq!(run.slot_u64(monotonic), 1_500_000_000);
    assert_eq!(
        run.status(other_clock),
        28,
        "WASI EINVAL for the CPU-time clock"
    );
}

#[test]
fn proc_exit_traps() {
    let script = Script::default();
    script.on(Cb::RequestHeaders, |_| {
        let mut p = Program::new();
        p.call(Op::ProcExit, &[Arg::Val(3)]);
        Some(p)
    });
    let mut host = start(&script, HostConfig::default());
    let id = host.new_stream(0).unwrap();
    assert_eq!(
        host.request_headers(id, &post_headers(), true).unwrap(),
        StreamState::Failed
    );
    assert_eq!(host.traps().len(), 1);
    assert!(
        host.traps()[0].message.contains("proc_exit(3)"),
        "{}",
        host.traps()[0].message
    );
}

#[test]
fn random_get_fills_buffer() {
    let config = HostConfig {
        random_seed: Some(7),
        ..HostConfig::default()
    };
    let (run, _) = run_in_headers(config, &[], |p| {
        let out = p.slot(16);
        p.call(Op::RandomGet, &[out.ptr(), out.len()]);
        p.report_region(out);
    });
    assert_eq!(run.reports[0].len(), 16);
    assert_ne!(run.reports[0], vec![0; 16]);
}

#[test]
fn memory_growth_is_visible() {
    let script = Script::default();
    script.on(Cb::RequestHeaders, |_| {
        let mut p = Program::new();
        p.call(Op::GrowMemory, &[Arg::Val(3)]);
        Some(p)
    });
    let mut host = start(&script, HostConfig::default());
    let before = host.memory_pages(0).unwrap();
    let id = host.new_stream(0).unwrap();
    assert_eq!(
        host.request_headers(id, &post_headers(), true).unwrap(),
        StreamState::Forwarded
    );
    assert_eq!(host.memory_pages(0).unwrap(), before + 3);
}
