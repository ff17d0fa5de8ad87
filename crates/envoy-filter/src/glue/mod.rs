//! The proxy-wasm layer: contexts that read from the proxy, ask the policy, and act.
//!
//! Built only for wasm32. The SDK's `set_log_level` installs a panic hook that logs
//! the panic at critical level before the VM traps.

mod root;
mod stream;
mod worker;

use proxy_wasm::hostcalls;
use proxy_wasm::types::{BufferType, Bytes, LogLevel, MapType};

use worker::SharedWorker;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Info);
    proxy_wasm::set_root_context(|context_id| Box::new(root::Root::new(context_id)));
}}

/// Reads the answer to a key-set fetch inside `on_http_call_response`: the status
/// (`None` when the call failed) and at most `max_bytes + 1` body bytes, so an
/// oversized document is refused by the parser without being copied whole.
fn read_call_response(
    num_headers: usize,
    body_size: usize,
    worker: &SharedWorker,
) -> (Option<u16>, Option<Bytes>) {
    if num_headers == 0 {
        return (None, None);
    }
    let status = hostcalls::get_map_value_bytes(MapType::HttpCallResponseHeaders, ":status")
        .ok()
        .flatten()
        .and_then(|value| std::str::from_utf8(&value).ok()?.parse().ok());
    let max = worker
        .borrow()
        .config
        .key_source
        .as_ref()
        .map_or(0, |source| source.max_bytes);
    // A body over the limit is refused whole (Worker::apply_fetch checks the size), so
    // reading more than max + 1 bytes of it would be wasted work.
    let body = hostcalls::get_buffer(BufferType::HttpCallResponseBody, 0, body_size.min(max + 1))
        .ok()
        .flatten();
    (status.or(Some(0)), body)
}
