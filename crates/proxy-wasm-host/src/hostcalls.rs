//! The `env` hostcalls of ABI 0.2.1, with Envoy's statuses.
//!
//! Every function reads its arguments from guest memory with bounds checks and returns
//! a [`Status`]; data handed back goes through the guest allocator
//! (see [`return_bytes`]).

use crate::abi::{LogLevel, MetricKind, Status, buffer, map, stream_type};
use crate::memory::{
    GuestCaller, HostcallResult, check, read, return_bytes, unsigned, write_u32, write_u64,
};
use crate::pairs::{self, HeaderList};
use crate::process::lock;
use crate::state::{Callback, ContextState, Deferred, OutgoingCall, WorkerState};
use crate::types::{LocalReply, LogLine};

type Caller<'a> = GuestCaller<'a>;

/// Records a log line, and prints it to stderr when `PROXY_WASM_HOST_LOG=1`.
pub(crate) fn push_log(state: &mut WorkerState, level: LogLevel, message: String) {
    if state.process.log_passthrough {
        eprintln!(
            "[proxy-wasm worker {}] {:?}: {}",
            state.worker, level, message
        );
    }
    state.logs.push(LogLine {
        worker: state.worker,
        level,
        message,
    });
}

pub(crate) fn log(caller: &mut Caller<'_>, level: i32, ptr: i32, len: i32) -> HostcallResult {
    let level = LogLevel::from_abi(unsigned(level)).ok_or(Status::BadArgument)?;
    let message = read(caller, ptr, len)?;
    let message = String::from_utf8_lossy(&message).into_owned();
    push_log(caller.data_mut(), level, message);
    Ok(())
}

pub(crate) fn get_log_level(caller: &mut Caller<'_>, ret: i32) -> HostcallResult {
    let level = caller.data().config.log_level.to_abi();
    write_u32(caller, ret, level)
}

pub(crate) fn get_current_time(caller: &mut Caller<'_>, ret: i32) -> HostcallResult {
    let now = caller.data().process.now_unix_nanos();
    write_u64(caller, ret, now)
}

pub(crate) fn set_tick_period(caller: &mut Caller<'_>, period_ms: i32) -> HostcallResult {
    caller.data_mut().tick_period_ms = Some(unsigned(period_ms));
    Ok(())
}

/// Returns a copy of the readable part of a buffer, `None` when the buffer is not
/// available to the effective context in this callback.
fn readable_buffer(state: &WorkerState, buffer_type: u32) -> Option<Vec<u8>> {
    match buffer_type {
        buffer::HTTP_REQUEST_BODY => {
            let context = state.effective()?;
            context
                .body_available
                .then(|| context.visible_body().to_vec())
        }
        buffer::HTTP_CALL_RESPONSE_BODY => {
            let response = state.effective()?.call_response.as_ref()?;
            Some(response.body.clone())
        }
        buffer::VM_CONFIGURATION if state.callback == Some(Callback::VmStart) => {
            Some(state.config.vm_config.clone())
        }
        buffer::PLUGIN_CONFIGURATION if state.callback == Some(Callback::Configure) => {
            Some(state.config.plugin_config.clone())
        }
        _ => None,
    }
}

pub(crate) fn get_buffer_bytes(
    caller: &mut Caller<'_>,
    buffer_type: i32,
    start: i32,
    max_size: i32,
    ptr_slot: i32,
    len_slot: i32,
) -> HostcallResult {
    let buffer_type = unsigned(buffer_type);
    if buffer_type > buffer::MAX {
        return Err(Status::BadArgument.into());
    }
    let data = readable_buffer(caller.data(), buffer_type).ok_or(Status::NotFound)?;
    // Sizes are u32 on wasm32, so their sum fits in u64: no overflow is possible, and an
    // oversized `max_size` (the SDK passes u32::MAX) is clamped to what exists.
    let start = u64::from(unsigned(start));
    let end = start.saturating_add(u64::from(unsigned(max_size)));
    let len = data.len() as u64;
    let slice = if start >= len {
        &[][..]
    } else {
        let (start, end) = (start as usize, end.min(len) as usize);
        data.get(start..end).unwrap_or_default()
    };
    return_bytes(caller, slice, ptr_slot, len_slot)
}

pub(crate) fn set_buffer_bytes(
    caller: &mut Caller<'_>,
    buffer_type: i32,
    start: i32,
    size: i32,
    ptr: i32,
    len: i32,
) -> HostcallResult {
    let buffer_type = unsigned(buffer_type);
    if buffer_type > buffer::MAX {
        return Err(Status::BadArgument.into());
    }
    let data = read(caller, ptr, len)?;
    let state = caller.data_mut();
    if buffer_type != buffer::HTTP_REQUEST_BODY {
        // The other buffers Envoy exposes here are read-only.
        return match readable_buffer(state, buffer_type) {
            Some(_) => Err(Status::BadArgument.into()),
            None => Err(Status::NotFound.into()),
        };
    }
    let context = state.effective_mut().ok_or(Status::NotFound)?;
    if !context.body_available {
        return Err(Status::NotFound.into());
    }
    let hidden_start = context.body.len() - context.body_hidden_tail.min(context.body.len());
    let tail = context.body.split_off(hidden_start);
    let result = splice_like_envoy(&mut context.body, unsigned(start), unsigned(size), &data);
    context.body.extend_from_slice(&tail);
    result.map_err(Into::into)
}

/// Envoy's `Buffer::copyFrom`: start 0 drains `size` bytes and prepends the data, a
/// start at or past the end appends, anything else is BAD_ARGUMENT.
fn splice_like_envoy(body: &mut Vec<u8>, start: u32, size: u32, data: &[u8]) -> Result<(), Status> {
    let start = start as usize;
    if start == 0 {
        let drain = (size as usize).min(body.len());
        body.drain(..drain);
        body.splice(0..0, data.iter().copied());
        Ok(())
    } else if start >= body.len() {
        body.extend_from_slice(data);
        Ok(())
    } else {
        Err(Status::BadArgument)
    }
}

/// Returns the map readable by the effective context, `None` when it is not available.
fn readable_map(context: &ContextState, map_type: u32) -> Option<&HeaderList> {
    match map_type {
        map::REQUEST_HEADERS
            if context.headers_available || (context.log_phase && context.headers_received) =>
        {
            Some(&context.request_headers)
        }
        map::REQUEST_TRAILERS if context.trailers_available && !context.log_phase => {
            Some(&context.request_trailers)
        }
        map::HTTP_CALL_RESPONSE_HEADERS => context.call_response.as_ref().map(|r| &r.headers),
        map::HTTP_CALL_RESPONSE_TRAILERS => context.call_response.as_ref().map(|r| &r.trailers),
        _ => None,
    }
}

fn writable_map(context: &mut ContextState, map_type: u32) -> Option<&mut HeaderList> {
    if context.log_phase {
        return None;
    }
    match map_type {
        map::REQUEST_HEADERS if context.headers_available => Some(&mut context.request_headers),
        map::REQUEST_TRAILERS if context.trailers_available => Some(&mut context.request_trailers),
        map::HTTP_CALL_RESPONSE_HEADERS => context.call_response.as_mut().map(|r| &mut r.headers),
        map::HTTP_CALL_RESPONSE_TRAILERS => context.call_response.as_mut().map(|r| &mut r.trailers),
        _ => None,
    }
}

fn check_map_type(map_type: i32) -> Result<u32, Status> {
    let map_type = unsigned(map_type);
    if map_type > map::MAX {
        return Err(Status::BadArgument);
    }
    Ok(map_type)
}

pub(crate) fn get_header_map_pairs(
    caller: &mut Caller<'_>,
    map_type: i32,
    ptr_slot: i32,
    len_slot: i32,
) -> HostcallResult {
    let map_type = check_map_type(map_type)?;
    // Envoy returns OK with an empty map when the map is not available.
    let bytes = caller
        .data()
        .effective()
        .and_then(|context| readable_map(context, map_type))
        .map(|headers| pairs::serialize(headers))
        .unwrap_or_default();
    return_bytes(caller, &bytes, ptr_slot, len_slot)
}

pub(crate) fn set_header_map_pairs(
    caller: &mut Caller<'_>,
    map_type: i32,
    ptr: i32,
    len: i32,
) -> HostcallResult {
    let map_type = check_map_type(map_type)?;
    let data = read(caller, ptr, len)?;
    // Like Envoy, malformed data counts as an empty list, which clears the map.
    let new_pairs = pairs::deserialize_lenient(&data);
    let context = caller
        .data_mut()
        .effective_mut()
        .ok_or(Status::BadArgument)?;
    let headers = writable_map(context, map_type).ok_or(Status::BadArgument)?;
    *headers = new_pairs;
    Ok(())
}

pub(crate) fn get_header_map_value(
    caller: &mut Caller<'_>,
    map_type: i32,
    key_ptr: i32,
    key_len: i32,
    ptr_slot: i32,
    len_slot: i32,
) -> HostcallResult {
    let map_type = check_map_type(map_type)?;
    let key = pairs::lower_key(&read(caller, key_ptr, key_len)?);
    let context = caller.data().effective().ok_or(Status::BadArgument)?;
    let Some(headers) = readable_map(context, map_type) else {
        // Envoy: BAD_ARGUMENT for a map that is not available in this phase, except
        // during the access-log phase, where a missing map is NOT_FOUND.
        return Err(if context.log_phase {
            Status::NotFound
        } else {
            Status::BadArgument
        }
        .into());
    };
    // Only the first of repeated values, as in Envoy.
    let value = headers
        .iter()
        .find(|(name, _)| *name == key)
        .map(|(_, value)| value.clone())
        .ok_or(Status::NotFound)?;
    return_bytes(caller, &value, ptr_slot, len_slot)
}

/// A single-value header map edit.
pub(crate) enum HeaderEdit {
    Add,
    Replace,
    Remove,
}

pub(crate) fn edit_header_map_value(
    caller: &mut Caller<'_>,
    edit: HeaderEdit,
    map_type: i32,
    key: (i32, i32),
    value: (i32, i32),
) -> HostcallResult {
    let map_type = check_map_type(map_type)?;
    let key = pairs::lower_key(&read(caller, key.0, key.1)?);
    let value = match edit {
        HeaderEdit::Remove => Vec::new(),
        _ => read(caller, value.0, value.1)?,
    };
    let context = caller
        .data_mut()
        .effective_mut()
        .ok_or(Status::BadArgument)?;
    let headers = writable_map(context, map_type).ok_or(Status::BadArgument)?;
    match edit {
        HeaderEdit::Add => headers.push((key, value)),
        HeaderEdit::Replace => {
            // Envoy's setCopy removes every existing entry and appends one.
            headers.retain(|(name, _)| *name != key);
            headers.push((key, value));
        }
        HeaderEdit::Remove => headers.retain(|(name, _)| *name != key),
    }
    Ok(())
}

/// Looks a property up for the effective context, most specific first: values the
/// guest set, the stream's test properties, the host's test properties,
/// `request.headers.<name>` and the `plugin_*` attributes.
fn lookup_property(state: &WorkerState, raw_path: &[u8]) -> Option<Vec<u8>> {
    let segments: Vec<String> = raw_path
        .split(|b| *b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect();
    let context = state.effective();
    if let Some(context) = context {
        if let Some((_, value)) = context.guest_properties.iter().find(|(p, _)| p == raw_path) {
            return Some(value.clone());
        }
        if let Some((_, value)) = context.properties.iter().find(|(p, _)| *p == segments) {
            return Some(value.encode());
        }
    }
    if let Some((_, value)) = state.host_properties.iter().find(|(p, _)| *p == segments) {
        return Some(value.encode());
    }
    match segments.as_slice() {
        [request, headers, name] if request == "request" && headers == "headers" => {
            let context = context.filter(|c| c.headers_received)?;
            let name = name.to_ascii_lowercase();
            let values: Vec<&[u8]> = context
                .request_headers
                .iter()
                .filter(|(key, _)| *key == name)
                .map(|(_, value)| value.as_slice())
                .collect();
            (!values.is_empty()).then(|| values.join(&b","[..]))
        }
        [name] if name == "plugin_name" => Some(state.config.plugin_name.clone().into_bytes()),
        [name] if name == "plugin_root_id" => Some(state.config.root_id.clone().into_bytes()),
        [name] if name == "plugin_vm_id" => Some(state.config.vm_id.clone().into_bytes()),
        _ => None,
    }
}

pub(crate) fn get_property(
    caller: &mut Caller<'_>,
    path_ptr: i32,
    path_len: i32,
    ptr_slot: i32,
    len_slot: i32,
) -> HostcallResult {
    let path = read(caller, path_ptr, path_len)?;
    let value = lookup_property(caller.data(), &path).ok_or(Status::NotFound)?;
    return_bytes(caller, &value, ptr_slot, len_slot)
}

pub(crate) fn set_property(
    caller: &mut Caller<'_>,
    path_ptr: i32,
    path_len: i32,
    value_ptr: i32,
    value_len: i32,
) -> HostcallResult {
    let path = read(caller, path_ptr, path_len)?;
    let value = read(caller, value_ptr, value_len)?;
    let context = caller.data_mut().effective_mut().ok_or(Status::NotFound)?;
    context.guest_properties.retain(|(p, _)| *p != path);
    context.guest_properties.push((path, value));
    Ok(())
}

pub(crate) fn get_shared_data(
    caller: &mut Caller<'_>,
    key_ptr: i32,
    key_len: i32,
    ptr_slot: i32,
    len_slot: i32,
    cas_slot: i32,
) -> HostcallResult {
    let key = read(caller, key_ptr, key_len)?;
    check(caller, cas_slot, 4)?;
    let process = caller.data().process.clone();
    let (value, cas) = lock(&process.shared_data)
        .get(&key)
        .ok_or(Status::NotFound)?;
    return_bytes(caller, &value, ptr_slot, len_slot)?;
    write_u32(caller, cas_slot, cas)
}

pub(crate) fn set_shared_data(
    caller: &mut Caller<'_>,
    key_ptr: i32,
    key_len: i32,
    value_ptr: i32,
    value_len: i32,
    cas: i32,
) -> HostcallResult {
    let key = read(caller, key_ptr, key_len)?;
    let value = read(caller, value_ptr, value_len)?;
    let process = caller.data().process.clone();
    lock(&process.shared_data)
        .set(&key, &value, unsigned(cas))
        .map_err(Into::into)
}

pub(crate) fn register_shared_queue(
    caller: &mut Caller<'_>,
    name_ptr: i32,
    name_len: i32,
    id_slot: i32,
) -> HostcallResult {
    let name = read(caller, name_ptr, name_len)?;
    check(caller, id_slot, 4)?;
    let state = caller.data();
    let (process, worker) = (state.process.clone(), state.worker);
    let id = lock(&process.queues).register(&process.vm_id, &name, worker);
    write_u32(caller, id_slot, id)
}

pub(crate) fn resolve_shared_queue(
    caller: &mut Caller<'_>,
    vm_id: (i32, i32),
    name: (i32, i32),
    id_slot: i32,
) -> HostcallResult {
    let vm_id = read(caller, vm_id.0, vm_id.1)?;
    let name = read(caller, name.0, name.1)?;
    let process = caller.data().process.clone();
    let vm_id = String::from_utf8_lossy(&vm_id);
    let id = lock(&process.queues)
        .resolve(&vm_id, &name)
        .ok_or(Status::NotFound)?;
    write_u32(caller, id_slot, id)
}

pub(crate) fn enqueue_shared_queue(
    caller: &mut Caller<'_>,
    id: i32,
    value_ptr: i32,
    value_len: i32,
) -> HostcallResult {
    let value = read(caller, value_ptr, value_len)?;
    let process = caller.data().process.clone();
    lock(&process.queues)
        .enqueue(unsigned(id), value)
        .map_err(Into::into)
}

pub(crate) fn dequeue_shared_queue(
    caller: &mut Caller<'_>,
    id: i32,
    ptr_slot: i32,
    len_slot: i32,
) -> HostcallResult {
    check(caller, ptr_slot, 4)?;
    check(caller, len_slot, 4)?;
    let process = caller.data().process.clone();
    let value = lock(&process.queues).dequeue(unsigned(id))?;
    return_bytes(caller, &value, ptr_slot, len_slot)
}

fn defer(state: &mut WorkerState, action: Deferred) {
    let context = state.effective_context;
    state.deferred.push((context, action));
}

pub(crate) fn continue_stream(caller: &mut Caller<'_>, stream: i32) -> HostcallResult {
    match unsigned(stream) {
        stream_type::HTTP_REQUEST => {
            defer(caller.data_mut(), Deferred::ContinueRequest);
            Ok(())
        }
        // NOTE: the host does not model the response path; continuing it is a no-op.
        stream_type::HTTP_RESPONSE => Ok(()),
        2..=stream_type::UPSTREAM => Err(Status::Unimplemented.into()),
        _ => Err(Status::BadArgument.into()),
    }
}

pub(crate) fn close_stream(caller: &mut Caller<'_>, stream: i32) -> HostcallResult {
    match unsigned(stream) {
        stream_type::HTTP_REQUEST | stream_type::HTTP_RESPONSE => {
            defer(caller.data_mut(), Deferred::CloseStream);
            Ok(())
        }
        2..=stream_type::UPSTREAM => Err(Status::Unimplemented.into()),
        _ => Err(Status::BadArgument.into()),
    }
}

pub(crate) struct LocalResponseArgs {
    pub status: i32,
    pub details: (i32, i32),
    pub body: (i32, i32),
    pub headers: (i32, i32),
    pub grpc_status: i32,
}

pub(crate) fn send_local_response(
    caller: &mut Caller<'_>,
    args: LocalResponseArgs,
) -> HostcallResult {
    let details = read(caller, args.details.0, args.details.1)?;
    let body = read(caller, args.body.0, args.body.1)?;
    let headers = read(caller, args.headers.0, args.headers.1)?;
    let reply = LocalReply {
        status: unsigned(args.status),
        body,
        headers: pairs::deserialize_lenient(&headers),
        details: String::from_utf8_lossy(&details).into_owned(),
        grpc_status: (args.grpc_status >= 0).then_some(args.grpc_status),
    };
    let state = caller.data_mut();
    let context = state.effective_mut().ok_or(Status::NotFound)?;
    // Envoy accepts one local reply per context; a second one is BAD_ARGUMENT.
    if context.local_reply_sent {
        return Err(Status::BadArgument.into());
    }
    context.local_reply_sent = true;
    // A root context has no stream to reply on: Envoy returns OK and does nothing.
    if !context.is_root {
        defer(state, Deferred::LocalReply(reply));
    }
    Ok(())
}

pub(crate) struct HttpCallArgs {
    pub upstream: (i32, i32),
    pub headers: (i32, i32),
    pub body: (i32, i32),
    pub trailers: (i32, i32),
    pub timeout_ms: i32,
    pub token_slot: i32,
}

pub(crate) fn http_call(caller: &mut Caller<'_>, args: HttpCallArgs) -> HostcallResult {
    let cluster = read(caller, args.upstream.0, args.upstream.1)?;
    let headers = read(caller, args.headers.0, args.headers.1)?;
    let body = read(caller, args.body.0, args.body.1)?;
    let trailers = read(caller, args.trailers.0, args.trailers.1)?;
    check(caller, args.token_slot, 4)?;

    let state = caller.data_mut();
    // Callouts from on_vm_start are refused so that a filter fetching there is caught:
    // fetch from on_configure or on_tick instead.
    if state.callback == Some(Callback::VmStart) {
        return Err(Status::BadArgument.into());
    }
    let cluster = String::from_utf8_lossy(&cluster).into_owned();
    if !state.config.clusters.contains(&cluster) {
        return Err(Status::BadArgument.into());
    }
    let headers = pairs::deserialize_lenient(&headers);
    let has = |name: &str| headers.iter().any(|(key, _)| key == name);
    if !(has(":method") && has(":path") && has(":authority")) {
        return Err(Status::BadArgument.into());
    }

    let token = state.next_call_token;
    state.next_call_token = state.next_call_token.wrapping_add(1).max(1);
    state.outgoing_calls.push(OutgoingCall {
        token,
        context_id: state.effective_context,
        cluster,
        headers,
        body,
        trailers: pairs::deserialize_lenient(&trailers),
        timeout_ms: unsigned(args.timeout_ms),
    });
    write_u32(caller, args.token_slot, token)
}

pub(crate) fn get_status(
    caller: &mut Caller<'_>,
    code_slot: i32,
    ptr_slot: i32,
    len_slot: i32,
) -> HostcallResult {
    let (code, message) = caller.data().last_status.clone();
    write_u32(caller, code_slot, code)?;
    return_bytes(caller, message.as_bytes(), ptr_slot, len_slot)
}

pub(crate) fn set_effective_context(caller: &mut Caller<'_>, context_id: i32) -> HostcallResult {
    let state = caller.data_mut();
    let context_id = unsigned(context_id);
    if !state.contexts.contains_key(&context_id) {
        return Err(Status::BadArgument.into());
    }
    state.effective_context = context_id;
    Ok(())
}

pub(crate) fn call_foreign_function(
    caller: &mut Caller<'_>,
    name: (i32, i32),
    args: (i32, i32),
    ptr_slot: i32,
    len_slot: i32,
) -> HostcallResult {
    let name = read(caller, name.0, name.1)?;
    let args = read(caller, args.0, args.1)?;
    let name = String::from_utf8_lossy(&name).into_owned();
    let process = caller.data().process.clone();
    let function = lock(&process.foreign_functions)
        .get(&name)
        .cloned()
        .ok_or(Status::NotFound)?;
    let result = function(&args)?;
    return_bytes(caller, &result, ptr_slot, len_slot)
}

pub(crate) fn define_metric(
    caller: &mut Caller<'_>,
    kind: i32,
    name_ptr: i32,
    name_len: i32,
    id_slot: i32,
) -> HostcallResult {
    let kind = MetricKind::from_abi(unsigned(kind)).ok_or(Status::BadArgument)?;
    let name = read(caller, name_ptr, name_len)?;
    check(caller, id_slot, 4)?;
    let process = caller.data().process.clone();
    let id = lock(&process.metrics).define(kind, &String::from_utf8_lossy(&name));
    write_u32(caller, id_slot, id)
}

pub(crate) fn increment_metric(caller: &mut Caller<'_>, id: i32, delta: i64) -> HostcallResult {
    let process = caller.data().process.clone();
    lock(&process.metrics)
        .increment(unsigned(id), delta)
        .map_err(Into::into)
}

pub(crate) fn record_metric(caller: &mut Caller<'_>, id: i32, value: i64) -> HostcallResult {
    let process = caller.data().process.clone();
    lock(&process.metrics)
        .record(unsigned(id), value as u64)
        .map_err(Into::into)
}

pub(crate) fn get_metric(caller: &mut Caller<'_>, id: i32, value_slot: i32) -> HostcallResult {
    check(caller, value_slot, 8)?;
    let process = caller.data().process.clone();
    let value = lock(&process.metrics).value(unsigned(id))?;
    write_u64(caller, value_slot, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envoy_copy_from_semantics() {
        let mut body = b"hello world".to_vec();
        assert_eq!(splice_like_envoy(&mut body, 0, 5, b"HELLO"), Ok(()));
        assert_eq!(body, b"HELLO world".to_vec());
        assert_eq!(splice_like_envoy(&mut body, 0, 0, b">"), Ok(()));
        assert_eq!(body, b">HELLO world".to_vec());
        assert_eq!(splice_like_envoy(&mut body, 100, 0, b"!"), Ok(()));
        assert_eq!(body, b">HELLO world!".to_vec());
        assert_eq!(
            splice_like_envoy(&mut body, 3, 1, b"x"),
            Err(Status::BadArgument)
        );
        assert_eq!(splice_like_envoy(&mut body, 0, u32::MAX, b"new"), Ok(()));
        assert_eq!(body, b"new".to_vec());
    }
}
