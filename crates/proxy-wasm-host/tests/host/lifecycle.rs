//! Start sequence, configuration buffers, `_initialize` restrictions, imports, teardown.

use super::common::*;
use proxy_wasm_host::{
    HostConfig, HostError, LogLevel, Module, SUPPORTED_IMPORTS, StreamState, TeardownOrder,
};

fn config_with(vm: &[u8], plugin: &[u8]) -> HostConfig {
    HostConfig {
        vm_config: vm.to_vec(),
        plugin_config: plugin.to_vec(),
        ..HostConfig::default()
    }
}

#[test]
fn start_runs_root_create_vm_start_configure() {
    let script = Script::default();
    let _host = start(&script, config_with(b"vm!", b"plugin-config"));
    let invocations = script.invocations();
    assert_eq!(invocations.len(), 3);
    assert_eq!(invocations[0].cb, Cb::ContextCreate);
    assert_eq!(invocations[0].args[0], 0, "root context has parent 0");
    assert_eq!(invocations[1].cb, Cb::VmStart);
    assert_eq!(invocations[1].args[0], 3, "vm_config size");
    assert_eq!(invocations[2].cb, Cb::Configure);
    assert_eq!(invocations[2].args[0], 13, "plugin_config size");
    assert_eq!(invocations[1].context, invocations[0].context);
}

#[test]
fn vm_config_is_readable_only_in_vm_start() {
    let script = Script::default();
    let programs = |cb| {
        move |_: &Invocation| {
            let mut p = Program::new();
            let (vm, vm_out) = p.get_buffer(VM_CONFIGURATION, 0, u32::MAX);
            let (plugin, plugin_out) = p.get_buffer(PLUGIN_CONFIGURATION, 0, u32::MAX);
            p.report_returned(if cb == Cb::VmStart {
                vm_out
            } else {
                plugin_out
            });
            let _ = (vm, plugin);
            Some(p)
        }
    };
    script.on(Cb::VmStart, programs(Cb::VmStart));
    script.on(Cb::Configure, programs(Cb::Configure));
    let _host = start(&script, config_with(b"vm-config", b"{\"a\":1}"));

    let vm_start = script.last_run(Cb::VmStart);
    assert_eq!(vm_start.reports[0], b"vm-config".to_vec());
    let configure = script.last_run(Cb::Configure);
    assert_eq!(configure.reports[0], b"{\"a\":1}".to_vec());
}

#[test]
fn buffer_statuses_per_phase() {
    let script = Script::default();
    for cb in [Cb::VmStart, Cb::Configure] {
        script.on(cb, |_| {
            let mut p = Program::new();
            p.get_buffer(VM_CONFIGURATION, 0, 100);
            p.get_buffer(PLUGIN_CONFIGURATION, 0, 100);
            Some(p)
        });
    }
    let _host = start(&script, config_with(b"v", b"p"));
    let vm_start = script.last_run(Cb::VmStart);
    let configure = script.last_run(Cb::Configure);
    // Building the same program again gives the same status handles.
    let mut p = Program::new();
    let (vm_call, _) = p.get_buffer(VM_CONFIGURATION, 0, 100);
    let (plugin_call, _) = p.get_buffer(PLUGIN_CONFIGURATION, 0, 100);
    assert_eq!(vm_start.status(vm_call), OK);
    assert_eq!(vm_start.status(plugin_call), NOT_FOUND);
    assert_eq!(configure.status(vm_call), NOT_FOUND);
    assert_eq!(configure.status(plugin_call), OK);
}

#[test]
fn configure_false_rejects_with_logs() {
    let script = Script::default();
    script.on(Cb::Configure, |_| {
        let mut p = Program::new();
        p.log(4, "invalid plugin configuration: missing keys");
        p.ret(0);
        Some(p)
    });
    let error = try_start(&script, HostConfig::default()).unwrap_err();
    let HostError::ConfigRejected {
        worker,
        callback,
        logs,
    } = error
    else {
        panic!("expected ConfigRejected, got {error:?}");
    };
    assert_eq!(worker, 0);
    assert_eq!(callback, "proxy_on_configure");
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].level, LogLevel::Error);
    assert_eq!(
        logs[0].message,
        "invalid plugin configuration: missing keys"
    );
}

#[test]
fn vm_start_false_rejects() {
    let script = Script::default();
    script.on(Cb::VmStart, |_| {
        let mut p = Program::new();
        p.ret(0);
        Some(p)
    });
    let error = try_start(&script, HostConfig::default()).unwrap_err();
    assert!(matches!(
        error,
        HostError::ConfigRejected {
            callback: "proxy_on_vm_start",
            ..
        }
    ));
}

const INIT_PREFIX: &str = r#"
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (import "env" "proxy_set_tick_period_milliseconds" (func $tick (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "init log")
  (data (i32.const 16) "\00\00\00\00\06\00\00\00")
  (data (i32.const 0) "init log")
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 1024))
"#;

fn init_module(body: &str) -> Module {
    let text = format!("(module {INIT_PREFIX} (func (export \"_initialize\") {body}))");
    Module::from_bytes(&wat::parse_str(text).unwrap()).unwrap()
}

#[test]
fn initialize_allows_logging_and_wasi() {
    // fd_write of iovec at 16: 6 bytes from address 0 ("init l").
    let module = init_module(
        "(drop (call $log (i32.const 2) (i32.const 0) (i32.const 8)))
         (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 32)))",
    );
    let host = proxy_wasm_host::Host::start(&module, HostConfig::default()).unwrap();
    let messages: Vec<&str> = host.logs().iter().map(|l| l.message.as_str()).collect();
    assert_eq!(messages, vec!["init log", "init l"]);
    assert_eq!(host.logs()[1].level, LogLevel::Info);
}

#[test]
fn initialize_refuses_other_hostcalls() {
    let module = init_module("(drop (call $tick (i32.const 1000)))");
    let error = proxy_wasm_host::Host::start(&module, HostConfig::default()).unwrap_err();
    let HostError::Trap {
        callback, message, ..
    } = error
    else {
        panic!("expected a trap, got {error:?}");
    };
    assert_eq!(callback, "_initialize");
    assert!(
        message.contains("proxy_set_tick_period_milliseconds"),
        "{message}"
    );
}

#[test]
fn missing_abi_version_export_is_rejected() {
    let module = Module::from_bytes(
        &wat::parse_str(
            r#"(module (memory (export "memory") 1)
               (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 0)))"#,
        )
        .unwrap(),
    )
    .unwrap();
    let error = proxy_wasm_host::Host::start(&module, HostConfig::default()).unwrap_err();
    assert!(matches!(
        error,
        HostError::MissingExport {
            name: "proxy_abi_version_0_2_1"
        }
    ));
}

#[test]
fn unsupported_wasi_import_is_rejected() {
    let module = Module::from_bytes(
        &wat::parse_str(
            r#"(module
                 (import "wasi_snapshot_preview1" "fd_read" (func (param i32 i32 i32 i32) (result i32)))
                 (memory (export "memory") 1)
                 (func (export "proxy_abi_version_0_2_1")))"#,
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        module.unsupported_imports(),
        vec![("wasi_snapshot_preview1".to_string(), "fd_read".to_string())]
    );
    let error = proxy_wasm_host::Host::start(&module, HostConfig::default()).unwrap_err();
    assert!(matches!(error, HostError::UnsupportedImport { ref name, .. } if name == "fd_read"));
}

#[test]
fn imports_are_listed_in_order() {
    let imports = module().imports();
    assert_eq!(imports[0], ("env".to_string(), "proxy_log".to_string()));
    assert_eq!(imports.len(), 37);
    assert!(module().unsupported_imports().is_empty());
    for (m, n) in &imports {
        assert!(
            SUPPORTED_IMPORTS.contains(&(m.as_str(), n.as_str())),
            "{m}.{n}"
        );
    }
}

#[test]
fn teardown_runs_done_log_delete() {
    let script = Script::default();
    let mut host = start(&script, HostConfig::default());
    let id = host.new_stream(0).unwrap();
    host.request_headers(id, &post_headers(), true).unwrap();
    host.finish_stream(id).unwrap();
    let tail: Vec<Cb> = script.callbacks().into_iter().skip(5).collect();
    assert_eq!(tail, vec![Cb::Done, Cb::Log, Cb::Delete]);
    assert!(host.outcome(id).unwrap().finished);
    assert_eq!(host.state(id).unwrap(), StreamState::Forwarded);
}

#[test]
fn teardown_order_can_put_log_first() {
    let script = Script::default();
    let config = HostConfig {
        teardown_order: TeardownOrder::LogDoneDelete,
        ..HostConfig::default()
    };
    let mut host = start(&script, config);
    let id = host.new_stream(0).unwrap();
    host.request_headers(id, &post_headers(), true).unwrap();
    host.finish_stream(id).unwrap();
    let tail: Vec<Cb> = script.callbacks().into_iter().skip(5).collect();
    assert_eq!(tail, vec![Cb::Log, Cb::Done, Cb::Delete]);
}

#[test]
fn stream_without_headers_still_gets_log() {
    let script = Script::default();
    script.on(Cb::Log, |_| {
        let mut p = Program::new();
        p.get_header(REQUEST_HEADERS, ":path");
        Some(p)
    });
    let mut host = start(&script, HostConfig::default());
    let id = host.new_stream(0).unwrap();
    host.finish_stream(id).unwrap();
    let tail: Vec<Cb> = script.callbacks().into_iter().skip(3).collect();
    assert_eq!(tail, vec![Cb::ContextCreate, Cb::Done, Cb::Log, Cb::Delete]);
    let mut p = Program::new();
    let (call, _) = p.get_header(REQUEST_HEADERS, ":path");
    assert_eq!(script.last_run(Cb::Log).status(call), NOT_FOUND);
}

#[test]
fn stream_without_headers_can_skip_teardown() {
    let script = Script::default();
    let config = HostConfig {
        log_streams_without_headers: false,
        ..HostConfig::default()
    };
    let mut host = start(&script, config);
    let id = host.new_stream(0).unwrap();
    host.finish_stream(id).unwrap();
    assert_eq!(script.invocations().len(), 3);
}

#[test]
fn log_phase_reads_but_cannot_write_headers() {
    let script = Script::default();
    script.on(Cb::Log, |_| {
        let mut p = Program::new();
        let (_, out) = p.get_header(REQUEST_HEADERS, ":path");
        p.edit_header(Op::AddHeaderMapValue, REQUEST_HEADERS, "x-late", b"1");
        p.report_returned(out);
        Some(p)
    });
    let mut host = start(&script, HostConfig::default());
    let id = host.new_stream(0).unwrap();
    host.request_headers(id, &post_headers(), true).unwrap();
    host.finish_stream(id).unwrap();
    let run = script.last_run(Cb::Log);
    let mut p = Program::new();
    let (get, _) = p.get_header(REQUEST_HEADERS, ":path");
    let add = p.edit_header(Op::AddHeaderMapValue, REQUEST_HEADERS, "x-late", b"1");
    assert_eq!(run.status(get), OK);
    assert_eq!(run.status(add), BAD_ARGUMENT);
    assert_eq!(run.reports[0], b"/transfers".to_vec());
}
