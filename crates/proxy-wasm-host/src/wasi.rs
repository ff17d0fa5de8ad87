//! The WASI preview 1 functions an SDK filter imports. They return WASI errno values,
//! not proxy-wasm statuses.

use crate::abi::{LogLevel, clock, errno};
use crate::hostcalls::push_log;
use crate::memory::{GuestCaller, check, read, unsigned, write, write_u32, write_u64};

type Caller<'a> = GuestCaller<'a>;

/// Writes to stdout (fd 1) become Info log lines and writes to stderr (fd 2) Error
/// lines, one line per call without its trailing newline. Other descriptors get BADF.
pub(crate) fn fd_write(
    caller: &mut Caller<'_>,
    fd: i32,
    iovs: i32,
    iovs_len: i32,
    written_slot: i32,
) -> i32 {
    let level = match fd {
        1 => LogLevel::Info,
        2 => LogLevel::Error,
        _ => return errno::BADF,
    };
    let mut data = Vec::new();
    for i in 0..unsigned(iovs_len) {
        let Some(entry) = unsigned(iovs).checked_add(i.saturating_mul(8)) else {
            return errno::FAULT;
        };
        let Ok(iov) = read(caller, entry as i32, 8) else {
            return errno::FAULT;
        };
        let field = |at: usize| {
            iov.get(at..at + 4)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map(u32::from_le_bytes)
                .unwrap_or_default()
        };
        let Ok(bytes) = read(caller, field(0) as i32, field(4) as i32) else {
            return errno::FAULT;
        };
        data.extend_from_slice(&bytes);
    }
    let Ok(written) = u32::try_from(data.len()) else {
        return errno::INVAL;
    };
    if write_u32(caller, written_slot, written).is_err() {
        return errno::FAULT;
    }
    let mut message = String::from_utf8_lossy(&data).into_owned();
    if message.ends_with('\n') {
        message.pop();
    }
    push_log(caller.data_mut(), level, message);
    errno::SUCCESS
}

/// REALTIME reads the virtual clock; MONOTONIC counts nanoseconds since the host
/// started; other clocks are INVAL.
pub(crate) fn clock_time_get(caller: &mut Caller<'_>, clock_id: i32, result_slot: i32) -> i32 {
    let process = &caller.data().process;
    let now = match unsigned(clock_id) {
        clock::REALTIME => process.now_unix_nanos(),
        clock::MONOTONIC => process.monotonic_nanos(),
        _ => return errno::INVAL,
    };
    match write_u64(caller, result_slot, now) {
        Ok(()) => errno::SUCCESS,
        Err(_) => errno::FAULT,
    }
}

pub(crate) fn random_get(caller: &mut Caller<'_>, buf: i32, len: i32) -> i32 {
    let Ok(len) = usize::try_from(unsigned(len)) else {
        return errno::FAULT;
    };
    if check(caller, buf, len).is_err() {
        return errno::FAULT;
    }
    let mut bytes = vec![0u8; len];
    if caller.data_mut().random.fill(&mut bytes).is_err() {
        return errno::INVAL;
    }
    match write(caller, unsigned(buf), &bytes) {
        Ok(()) => errno::SUCCESS,
        Err(_) => errno::FAULT,
    }
}

/// `environ_sizes_get` and `args_sizes_get`: no variables, no arguments.
pub(crate) fn empty_sizes(caller: &mut Caller<'_>, count_slot: i32, size_slot: i32) -> i32 {
    if write_u32(caller, count_slot, 0).is_err() || write_u32(caller, size_slot, 0).is_err() {
        return errno::FAULT;
    }
    errno::SUCCESS
}
