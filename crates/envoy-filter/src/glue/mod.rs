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

/// Reads the downstream TLS peer's `connection.*` properties. A property the proxy does
/// not have (an older Envoy, a plaintext connection) is `None`.
#[cfg(feature = "mtls")]
fn peer_properties() -> crate::peer::PeerProperties {
    let read = |name: &str| {
        hostcalls::get_property(vec!["connection", name])
            .ok()
            .flatten()
    };
    let text = |name: &str| read(name).and_then(|bytes| String::from_utf8(bytes).ok());
    let flag = |name: &str| read(name).and_then(|bytes| bytes.first().map(|&b| b != 0));
    crate::peer::PeerProperties {
        mtls: flag("mtls"),
        validated: flag("peer_certificate_valid"),
        certificate: text("peer_certificate"),
        subject: text("subject_peer_certificate"),
        uri_san: text("uri_san_peer_certificate"),
        dns_san: text("dns_san_peer_certificate"),
        sha256: text("sha256_peer_certificate_digest"),
    }
}
