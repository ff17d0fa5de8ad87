//! Registers every hostcall with a wasmtime `Linker`.

use wasmtime::{Caller, Engine, Linker};

use crate::error::HostError;
use crate::hostcalls::{self as h, HeaderEdit, HttpCallArgs, LocalResponseArgs};
use crate::memory::{HostcallResult, finish};
use crate::state::{Callback, WorkerState};
use crate::wasi;

const ENV: &str = "env";
const WASI: &str = "wasi_snapshot_preview1";

/// Every import the host provides, as (module, name).
pub const SUPPORTED_IMPORTS: &[(&str, &str)] = &[
    (ENV, "proxy_log"),
    (ENV, "proxy_get_log_level"),
    (ENV, "proxy_get_current_time_nanoseconds"),
    (ENV, "proxy_set_tick_period_milliseconds"),
    (ENV, "proxy_get_buffer_bytes"),
    (ENV, "proxy_set_buffer_bytes"),
    (ENV, "proxy_get_header_map_pairs"),
    (ENV, "proxy_set_header_map_pairs"),
    (ENV, "proxy_get_header_map_value"),
    (ENV, "proxy_replace_header_map_value"),
    (ENV, "proxy_add_header_map_value"),
    (ENV, "proxy_remove_header_map_value"),
    (ENV, "proxy_get_property"),
    (ENV, "proxy_set_property"),
    (ENV, "proxy_get_shared_data"),
    (ENV, "proxy_set_shared_data"),
    (ENV, "proxy_register_shared_queue"),
    (ENV, "proxy_resolve_shared_queue"),
    (ENV, "proxy_enqueue_shared_queue"),
    (ENV, "proxy_dequeue_shared_queue"),
    (ENV, "proxy_continue_stream"),
    (ENV, "proxy_close_stream"),
    (ENV, "proxy_send_local_response"),
    (ENV, "proxy_http_call"),
    (ENV, "proxy_grpc_call"),
    (ENV, "proxy_grpc_stream"),
    (ENV, "proxy_grpc_send"),
    (ENV, "proxy_grpc_cancel"),
    (ENV, "proxy_grpc_close"),
    (ENV, "proxy_get_status"),
    (ENV, "proxy_set_effective_context"),
    (ENV, "proxy_call_foreign_function"),
    (ENV, "proxy_done"),
    (ENV, "proxy_define_metric"),
    (ENV, "proxy_increment_metric"),
    (ENV, "proxy_record_metric"),
    (ENV, "proxy_get_metric"),
    (WASI, "fd_write"),
    (WASI, "clock_time_get"),
    (WASI, "random_get"),
    (WASI, "environ_sizes_get"),
    (WASI, "environ_get"),
    (WASI, "args_sizes_get"),
    (WASI, "args_get"),
    (WASI, "proc_exit"),
];

/// Envoy lets only logging and WASI run while `_initialize` runs; any other hostcall
/// fails the VM. The host traps the same way.
fn refuse_during_initialize(caller: &Caller<'_, WorkerState>, name: &str) -> wasmtime::Result<()> {
    if caller.data().callback == Some(Callback::Initialize) {
        return Err(wasmtime::Error::msg(format!(
            "hostcall env.{name} is not allowed while _initialize runs"
        )));
    }
    Ok(())
}

type C<'a> = Caller<'a, WorkerState>;

/// Defines an `env` hostcall whose arguments are all i32.
macro_rules! env_i32 {
    ($linker:expr, $name:literal, |$caller:ident $(, $arg:ident)*| $body:expr) => {
        $linker
            .func_wrap(ENV, $name, |mut $caller: C<'_> $(, $arg: i32)*| -> wasmtime::Result<i32> {
                refuse_during_initialize(&$caller, $name)?;
                let $caller = &mut $caller;
                let result: HostcallResult = $body;
                finish(result)
            })
            .map_err(|e| link_error($name, e))?;
    };
}

fn link_error(name: &str, error: wasmtime::Error) -> HostError {
    HostError::Instantiate {
        message: format!("failed to define {name}: {error}"),
    }
}

/// Builds the linker with every function of [`SUPPORTED_IMPORTS`].
pub(crate) fn build(engine: &Engine) -> Result<Linker<WorkerState>, HostError> {
    let mut linker = Linker::new(engine);
    define_env(&mut linker)?;
    define_wasi(&mut linker)?;
    Ok(linker)
}

fn define_env(linker: &mut Linker<WorkerState>) -> Result<(), HostError> {
    linker
        .func_wrap(
            ENV,
            "proxy_log",
            |mut caller: C<'_>, level: i32, ptr: i32, len: i32| {
                finish(h::log(&mut caller, level, ptr, len))
            },
        )
        .map_err(|e| link_error("proxy_log", e))?;
    env_i32!(linker, "proxy_get_log_level", |c, ret| h::get_log_level(
        c, ret
    ));

    env_i32!(linker, "proxy_get_current_time_nanoseconds", |c, ret| {
        h::get_current_time(c, ret)
    });
    env_i32!(linker, "proxy_set_tick_period_milliseconds", |c, period| {
        h::set_tick_period(c, period)
    });

    env_i32!(
        linker,
        "proxy_get_buffer_bytes",
        |c, kind, start, max, ptr, len| { h::get_buffer_bytes(c, kind, start, max, ptr, len) }
    );
    env_i32!(
        linker,
        "proxy_set_buffer_bytes",
        |c, kind, start, size, ptr, len| { h::set_buffer_bytes(c, kind, start, size, ptr, len) }
    );
    env_i32!(linker, "proxy_get_header_map_pairs", |c, kind, ptr, len| {
        h::get_header_map_pairs(c, kind, ptr, len)
    });
    env_i32!(linker, "proxy_set_header_map_pairs", |c, kind, ptr, len| {
        h::set_header_map_pairs(c, kind, ptr, len)
    });
    env_i32!(
        linker,
        "proxy_get_header_map_value",
        |c, kind, kp, kl, ptr, len| { h::get_header_map_value(c, kind, kp, kl, ptr, len) }
    );
    env_i32!(
        linker,
        "proxy_replace_header_map_value",
        |c, kind, kp, kl, vp, vl| {
            h::edit_header_map_value(c, HeaderEdit::Replace, kind, (kp, kl), (vp, vl))
        }
    );
    env_i32!(
        linker,
        "proxy_add_header_map_value",
        |c, kind, kp, kl, vp, vl| {
            h::edit_header_map_value(c, HeaderEdit::Add, kind, (kp, kl), (vp, vl))
        }
    );
    env_i32!(
        linker,
        "proxy_remove_header_map_value",
        |c, kind, kp, kl| {
            h::edit_header_map_value(c, HeaderEdit::Remove, kind, (kp, kl), (0, 0))
        }
    );

    env_i32!(linker, "proxy_get_property", |c, pp, pl, ptr, len| {
        h::get_property(c, pp, pl, ptr, len)
    });
    env_i32!(linker, "proxy_set_property", |c, pp, pl, vp, vl| {
        h::set_property(c, pp, pl, vp, vl)
    });

    env_i32!(
        linker,
        "proxy_get_shared_data",
        |c, kp, kl, ptr, len, cas| { h::get_shared_data(c, kp, kl, ptr, len, cas) }
    );
    env_i32!(linker, "proxy_set_shared_data", |c, kp, kl, vp, vl, cas| {
        h::set_shared_data(c, kp, kl, vp, vl, cas)
    });

    env_i32!(linker, "proxy_register_shared_queue", |c, np, nl, ret| {
        h::register_shared_queue(c, np, nl, ret)
    });
    env_i32!(
        linker,
        "proxy_resolve_shared_queue",
        |c, vp, vl, np, nl, ret| { h::resolve_shared_queue(c, (vp, vl), (np, nl), ret) }
    );
    env_i32!(linker, "proxy_enqueue_shared_queue", |c, id, vp, vl| {
        h::enqueue_shared_queue(c, id, vp, vl)
    });
    env_i32!(linker, "proxy_dequeue_shared_queue", |c, id, ptr, len| {
        h::dequeue_shared_queue(c, id, ptr, len)
    });

    env_i32!(linker, "proxy_continue_stream", |c, kind| {
        h::continue_stream(c, kind)
    });
    env_i32!(linker, "proxy_close_stream", |c, kind| h::close_stream(
        c, kind
    ));
    env_i32!(
        linker,
        "proxy_send_local_response",
        |c, status, dp, dl, bp, bl, hp, hl, grpc| {
            h::send_local_response(
                c,
                LocalResponseArgs {
                    status,
                    details: (dp, dl),
                    body: (bp, bl),
                    headers: (hp, hl),
                    grpc_status: grpc,
                },
            )
        }
    );
    env_i32!(
        linker,
        "proxy_http_call",
        |c, up, ul, hp, hl, bp, bl, tp, tl, timeout, token| {
            h::http_call(
                c,
                HttpCallArgs {
                    upstream: (up, ul),
                    headers: (hp, hl),
                    body: (bp, bl),
                    trailers: (tp, tl),
                    timeout_ms: timeout,
                    token_slot: token,
                },
            )
        }
    );
    define_grpc(linker)?;

    env_i32!(linker, "proxy_get_status", |c, code, ptr, len| {
        h::get_status(c, code, ptr, len)
    });
    env_i32!(linker, "proxy_set_effective_context", |c, id| {
        h::set_effective_context(c, id)
    });
    env_i32!(
        linker,
        "proxy_call_foreign_function",
        |c, np, nl, ap, al, ptr, len| { h::call_foreign_function(c, (np, nl), (ap, al), ptr, len) }
    );
    // The host never defers a context's finish, so no context is pending.
    env_i32!(linker, "proxy_done", |c| {
        let _ = c;
        Err(crate::abi::Status::NotFound.into())
    });

    env_i32!(linker, "proxy_define_metric", |c, kind, np, nl, ret| {
        h::define_metric(c, kind, np, nl, ret)
    });
    linker
        .func_wrap(
            ENV,
            "proxy_increment_metric",
            |mut c: C<'_>, id: i32, delta: i64| {
                refuse_during_initialize(&c, "proxy_increment_metric")?;
                finish(h::increment_metric(&mut c, id, delta))
            },
        )
        .map_err(|e| link_error("proxy_increment_metric", e))?;
    linker
        .func_wrap(
            ENV,
            "proxy_record_metric",
            |mut c: C<'_>, id: i32, value: i64| {
                refuse_during_initialize(&c, "proxy_record_metric")?;
                finish(h::record_metric(&mut c, id, value))
            },
        )
        .map_err(|e| link_error("proxy_record_metric", e))?;
    env_i32!(linker, "proxy_get_metric", |c, id, ret| h::get_metric(
        c, id, ret
    ));
    Ok(())
}

/// gRPC callouts and streams are not modeled: every call is UNIMPLEMENTED.
fn define_grpc(linker: &mut Linker<WorkerState>) -> Result<(), HostError> {
    env_i32!(
        linker,
        "proxy_grpc_call",
        |c, a, b, d, e, f, g, h, i, j, k, l, m| {
            let _ = (c, a, b, d, e, f, g, h, i, j, k, l, m);
            Err(crate::abi::Status::Unimplemented.into())
        }
    );
    env_i32!(
        linker,
        "proxy_grpc_stream",
        |c, a, b, d, e, f, g, h, i, j| {
            let _ = (c, a, b, d, e, f, g, h, i, j);
            Err(crate::abi::Status::Unimplemented.into())
        }
    );
    env_i32!(linker, "proxy_grpc_send", |c, a, b, d, e| {
        let _ = (c, a, b, d, e);
        Err(crate::abi::Status::Unimplemented.into())
    });
    env_i32!(linker, "proxy_grpc_cancel", |c, a| {
        let _ = (c, a);
        Err(crate::abi::Status::Unimplemented.into())
    });
    env_i32!(linker, "proxy_grpc_close", |c, a| {
        let _ = (c, a);
        Err(crate::abi::Status::Unimplemented.into())
    });
    Ok(())
}

fn define_wasi(linker: &mut Linker<WorkerState>) -> Result<(), HostError> {
    linker
        .func_wrap(
            WASI,
            "fd_write",
            |mut c: C<'_>, fd: i32, iovs: i32, n: i32, ret: i32| {
                wasi::fd_write(&mut c, fd, iovs, n, ret)
            },
        )
        .map_err(|e| link_error("fd_write", e))?;
    linker
        .func_wrap(
            WASI,
            "clock_time_get",
            |mut c: C<'_>, id: i32, _precision: i64, ret: i32| {
                wasi::clock_time_get(&mut c, id, ret)
            },
        )
        .map_err(|e| link_error("clock_time_get", e))?;
    linker
        .func_wrap(WASI, "random_get", |mut c: C<'_>, buf: i32, len: i32| {
            wasi::random_get(&mut c, buf, len)
        })
        .map_err(|e| link_error("random_get", e))?;
    for name in ["environ_sizes_get", "args_sizes_get"] {
        linker
            .func_wrap(WASI, name, |mut c: C<'_>, count: i32, size: i32| {
                wasi::empty_sizes(&mut c, count, size)
            })
            .map_err(|e| link_error(name, e))?;
    }
    for name in ["environ_get", "args_get"] {
        linker
            .func_wrap(WASI, name, |_: C<'_>, _list: i32, _buf: i32| 0i32)
            .map_err(|e| link_error(name, e))?;
    }
    linker
        .func_wrap(
            WASI,
            "proc_exit",
            |_: C<'_>, code: i32| -> wasmtime::Result<()> {
                Err(wasmtime::Error::msg(format!(
                    "guest called proc_exit({code})"
                )))
            },
        )
        .map_err(|e| link_error("proc_exit", e))?;
    Ok(())
}
