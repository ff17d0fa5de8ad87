//! Bounds-checked access to guest linear memory and the allocator round trip.

use wasmtime::Caller;

use crate::abi::Status;
use crate::state::WorkerState;

pub(crate) type GuestCaller<'a> = Caller<'a, WorkerState>;

/// Why a hostcall stopped early: a status for the guest, or a trap that aborts it.
pub(crate) enum Abort {
    Status(Status),
    Trap(wasmtime::Error),
}

impl From<Status> for Abort {
    fn from(status: Status) -> Abort {
        Abort::Status(status)
    }
}

impl From<wasmtime::Error> for Abort {
    fn from(error: wasmtime::Error) -> Abort {
        Abort::Trap(error)
    }
}

pub(crate) type HostcallResult<T = ()> = Result<T, Abort>;

/// Turns a hostcall result into the `i32` status the guest receives, or a trap.
pub(crate) fn finish(result: HostcallResult) -> wasmtime::Result<i32> {
    match result {
        Ok(()) => Ok(Status::Ok.code()),
        Err(Abort::Status(status)) => Ok(status.code()),
        Err(Abort::Trap(error)) => Err(error),
    }
}

/// Reinterprets a wasm32 `i32` pointer or size as the unsigned value it carries.
pub(crate) fn unsigned(value: i32) -> u32 {
    value as u32
}

fn range(ptr: u32, len: usize) -> Option<std::ops::Range<usize>> {
    let start = usize::try_from(ptr).ok()?;
    Some(start..start.checked_add(len)?)
}

/// Copies `len` bytes at `ptr` out of guest memory; INVALID_MEMORY_ACCESS when any byte
/// lies outside it.
pub(crate) fn read(caller: &mut GuestCaller<'_>, ptr: i32, len: i32) -> HostcallResult<Vec<u8>> {
    let memory = caller.data().memory.ok_or(Status::InvalidMemoryAccess)?;
    let len = usize::try_from(unsigned(len)).map_err(|_| Status::InvalidMemoryAccess)?;
    let range = range(unsigned(ptr), len).ok_or(Status::InvalidMemoryAccess)?;
    let bytes = memory
        .data(&*caller)
        .get(range)
        .ok_or(Status::InvalidMemoryAccess)?;
    Ok(bytes.to_vec())
}

/// Writes `bytes` at `ptr`; INVALID_MEMORY_ACCESS when any byte lies outside memory.
pub(crate) fn write(caller: &mut GuestCaller<'_>, ptr: u32, bytes: &[u8]) -> HostcallResult {
    let memory = caller.data().memory.ok_or(Status::InvalidMemoryAccess)?;
    let range = range(ptr, bytes.len()).ok_or(Status::InvalidMemoryAccess)?;
    let target = memory
        .data_mut(&mut *caller)
        .get_mut(range)
        .ok_or(Status::InvalidMemoryAccess)?;
    target.copy_from_slice(bytes);
    Ok(())
}

pub(crate) fn write_u32(caller: &mut GuestCaller<'_>, ptr: i32, value: u32) -> HostcallResult {
    write(caller, unsigned(ptr), &value.to_le_bytes())
}

pub(crate) fn write_u64(caller: &mut GuestCaller<'_>, ptr: i32, value: u64) -> HostcallResult {
    write(caller, unsigned(ptr), &value.to_le_bytes())
}

/// Fails with INVALID_MEMORY_ACCESS unless `len` bytes at `ptr` lie inside memory.
pub(crate) fn check(caller: &mut GuestCaller<'_>, ptr: i32, len: usize) -> HostcallResult {
    let memory = caller.data().memory.ok_or(Status::InvalidMemoryAccess)?;
    let range = range(unsigned(ptr), len).ok_or(Status::InvalidMemoryAccess)?;
    if range.end > memory.data_size(&*caller) {
        return Err(Status::InvalidMemoryAccess.into());
    }
    Ok(())
}

/// Hands `bytes` to the guest: allocates a copy with the guest allocator and writes its
/// pointer and length into the two u32 slots. Empty data is not allocated: both slots
/// get 0, as in Envoy. A trap inside the allocator aborts the hostcall.
pub(crate) fn return_bytes(
    caller: &mut GuestCaller<'_>,
    bytes: &[u8],
    ptr_slot: i32,
    len_slot: i32,
) -> HostcallResult {
    check(caller, ptr_slot, 4)?;
    check(caller, len_slot, 4)?;
    if bytes.is_empty() {
        write_u32(caller, ptr_slot, 0)?;
        return write_u32(caller, len_slot, 0);
    }
    let len = u32::try_from(bytes.len()).map_err(|_| Status::InvalidMemoryAccess)?;
    let allocator = caller
        .data()
        .allocator
        .clone()
        .ok_or(Status::InvalidMemoryAccess)?;
    let ptr = unsigned(allocator.call(&mut *caller, len as i32)?);
    if ptr == 0 {
        return Err(Status::InvalidMemoryAccess.into());
    }
    write(caller, ptr, bytes)?;
    write_u32(caller, ptr_slot, ptr)?;
    write_u32(caller, len_slot, len)
}
