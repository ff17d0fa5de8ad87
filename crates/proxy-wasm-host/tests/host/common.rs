//! The scripted test guest and helpers to drive it.
//!
//! Each callback of `scripted_guest.wat` calls the foreign function `script` to get a
//! program; tests register closures per callback that build one with [`Program`]. After
//! running it the guest reports the program buffer (with the status of every call) and
//! any bytes the program asked to report.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use proxy_wasm_host::{ForeignFunctions, Host, HostConfig, Module, Status};

pub fn module() -> Module {
    static MODULE: OnceLock<Module> = OnceLock::new();
    MODULE
        .get_or_init(|| {
            let bytes = wat::parse_str(include_str!("scripted_guest.wat")).unwrap();
            Module::from_bytes(&bytes).unwrap()
        })
        .clone()
}

/// Callback numbers the guest passes to `script`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cb {
    ContextCreate = 1,
    VmStart = 2,
    Configure = 3,
    Tick = 4,
    QueueReady = 5,
    RequestHeaders = 6,
    RequestBody = 7,
    RequestTrailers = 8,
    HttpCallResponse = 9,
    Done = 10,
    Log = 11,
    Delete = 12,
}

impl Cb {
    fn from_number(n: u32) -> Option<Cb> {
        use Cb::*;
        [
            ContextCreate,
            VmStart,
            Configure,
            Tick,
            QueueReady,
            RequestHeaders,
            RequestBody,
            RequestTrailers,
            HttpCallResponse,
            Done,
            Log,
            Delete,
        ]
        .into_iter()
        .find(|cb| *cb as u32 == n)
    }
}

/// One callback invocation as the guest saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invocation {
    pub cb: Cb,
    pub context: u32,
    /// The callback's arguments after the context id.
    pub args: [u32; 4],
}

/// Opcodes of the guest's interpreter.
#[derive(Clone, Copy, Debug)]
#[allow(dead_code)]
pub enum Op {
    Return = 0,
    Log = 1,
    GetCurrentTime = 2,
    SetTickPeriod = 3,
    GetBufferBytes = 4,
    SetBufferBytes = 5,
    GetHeaderMapPairs = 6,
    SetHeaderMapPairs = 7,
    GetHeaderMapValue = 8,
    ReplaceHeaderMapValue = 9,
    AddHeaderMapValue = 10,
    RemoveHeaderMapValue = 11,
    GetProperty = 12,
    SetProperty = 13,
    GetSharedData = 14,
    SetSharedData = 15,
    RegisterSharedQueue = 16,
    ResolveSharedQueue = 17,
    EnqueueSharedQueue = 18,
    DequeueSharedQueue = 19,
    ContinueStream = 20,
    CloseStream = 21,
    SendLocalResponse = 22,
    HttpCall = 23,
    GetStatus = 24,
    SetEffectiveContext = 25,
    CallForeignFunction = 26,
    DefineMetric = 27,
    IncrementMetric = 28,
    RecordMetric = 29,
    GetMetric = 30,
    GetLogLevel = 31,
    Trap = 32,
    LoopForever = 33,
    GrowMemory = 34,
    Report = 35,
    FdWrite = 36,
    Done = 37,
    ProcExit = 38,
    ClockTimeGet = 39,
    RandomGet = 40,
    /// Stores the u32 argument 0 at address argument 1.
    Store = 41,
}

/// A command argument.
#[derive(Clone, Copy, Debug)]
pub enum Arg {
    /// A plain value.
    Val(u32),
    /// A guest address: offset into the program's data area.
    Data(u32),
    /// The u32 stored at an offset of the data area.
    Load(u32),
}

/// A region of the program's data area.
#[derive(Clone, Copy, Debug)]
pub struct Region {
    pub offset: u32,
    pub len: u32,
}

impl Region {
    pub fn ptr(self) -> Arg {
        Arg::Data(self.offset)
    }
    pub fn len(self) -> Arg {
        Arg::Val(self.len)
    }
    /// Returns the address of byte `at` of the region.
    pub fn at(self, at: u32) -> Arg {
        Arg::Data(self.offset + at)
    }
}

/// Where a command's status lands.
#[derive(Clone, Copy, Debug)]
pub struct Call(u32);

/// A program for one callback.
#[derive(Default)]
pub struct Program {
    commands: Vec<(u32, [Arg; 12], u32)>,
    data: Vec<u8>,
    /// How many `Report` commands the program has (so the final buffer can be found).
    reports: usize,
}

impl Program {
    pub fn new() -> Program {
        Program::default()
    }

    /// Adds bytes to the data area.
    pub fn bytes(&mut self, bytes: &[u8]) -> Region {
        while !self.data.len().is_multiple_of(8) {
            self.data.push(0);
        }
        let offset = self.data.len() as u32;
        self.data.extend_from_slice(bytes);
        Region {
            offset,
            len: bytes.len() as u32,
        }
    }

    /// Adds zeroed scratch space to the data area.
    pub fn slot(&mut self, len: u32) -> Region {
        self.bytes(&vec![0; len as usize])
    }

    /// Adds a command calling one import.
    pub fn call(&mut self, op: Op, args: &[Arg]) -> Call {
        let status = self.slot(4);
        let mut all = [Arg::Val(0); 12];
        for (slot, arg) in all.iter_mut().zip(args) {
            *slot = *arg;
        }
        self.commands.push((op as u32, all, status.offset));
        if matches!(op, Op::Report) {
            self.reports += 1;
        }
        Call(status.offset)
    }

    /// Ends the program; the callback returns `value`.
    pub fn ret(&mut self, value: u32) {
        self.call(Op::Return, &[Arg::Val(value)]);
    }

    /// Reports the bytes a hostcall returned through a (pointer, length) slot pair.
    pub fn report_returned(&mut self, slots: Region) {
        self.call(
            Op::Report,
            &[Arg::Load(slots.offset), Arg::Load(slots.offset + 4)],
        );
    }

    /// Reports a region of the data area.
    pub fn report_region(&mut self, region: Region) {
        self.call(Op::Report, &[region.ptr(), region.len()]);
    }

    fn encode(&self) -> Vec<u8> {
        let data_start = 4 + 64 * self.commands.len() as u32;
        let mut out = data_start.to_le_bytes().to_vec();
        for (op, args, status) in &self.commands {
            let (mut relocate, mut deref) = (0u32, 0u32);
            let mut words = [0u32; 12];
            for (i, arg) in args.iter().enumerate() {
                words[i] = match *arg {
                    Arg::Val(v) => v,
                    Arg::Data(offset) => {
                        relocate |= 1 << i;
                        data_start + offset
                    }
                    Arg::Load(offset) => {
                        relocate |= 1 << i;
                        deref |= 1 << i;
                        data_start + offset
                    }
                };
            }
            for word in [*op, relocate, deref, data_start + status] {
                out.extend_from_slice(&word.to_le_bytes());
            }
            for word in words {
                out.extend_from_slice(&word.to_le_bytes());
            }
        }
        out.extend_from_slice(&self.data);
        out
    }

    // Convenience builders for frequent calls. Each returns the status handle and, when
    // data comes back, the (pointer, length) slot pair.

    pub fn get_header(&mut self, map: u32, key: &str) -> (Call, Region) {
        let key = self.bytes(key.as_bytes());
        let out = self.slot(8);
        let call = self.call(
            Op::GetHeaderMapValue,
            &[Arg::Val(map), key.ptr(), key.len(), out.at(0), out.at(4)],
        );
        (call, out)
    }

    pub fn get_pairs(&mut self, map: u32) -> (Call, Region) {
        let out = self.slot(8);
        let call = self.call(
            Op::GetHeaderMapPairs,
            &[Arg::Val(map), out.at(0), out.at(4)],
        );
        (call, out)
    }

    pub fn edit_header(&mut self, op: Op, map: u32, key: &str, value: &[u8]) -> Call {
        let key = self.bytes(key.as_bytes());
        let value = self.bytes(value);
        self.call(
            op,
            &[
                Arg::Val(map),
                key.ptr(),
                key.len(),
                value.ptr(),
                value.len(),
            ],
        )
    }

    pub fn get_buffer(&mut self, buffer: u32, start: u32, max: u32) -> (Call, Region) {
        let out = self.slot(8);
        let call = self.call(
            Op::GetBufferBytes,
            &[
                Arg::Val(buffer),
                Arg::Val(start),
                Arg::Val(max),
                out.at(0),
                out.at(4),
            ],
        );
        (call, out)
    }

    pub fn local_response(&mut self, status: u32, body: &[u8], details: &str) -> Call {
        let details = self.bytes(details.as_bytes());
        let body = self.bytes(body);
        let headers = self.bytes(&proxy_wasm_host::pairs::serialize(&[("x-reply", "1")]));
        self.call(
            Op::SendLocalResponse,
            &[
                Arg::Val(status),
                details.ptr(),
                details.len(),
                body.ptr(),
                body.len(),
                headers.ptr(),
                headers.len(),
                Arg::Val(u32::MAX),
            ],
        )
    }

    pub fn http_call(
        &mut self,
        cluster: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        timeout_ms: u32,
    ) -> (Call, Region) {
        let cluster = self.bytes(cluster.as_bytes());
        let headers = self.bytes(&proxy_wasm_host::pairs::serialize(headers));
        let body = self.bytes(body);
        let token = self.slot(4);
        let call = self.call(
            Op::HttpCall,
            &[
                cluster.ptr(),
                cluster.len(),
                headers.ptr(),
                headers.len(),
                body.ptr(),
                body.len(),
                Arg::Val(0),
                Arg::Val(0),
                Arg::Val(timeout_ms),
                token.ptr(),
            ],
        );
        (call, token)
    }

    pub fn get_property(&mut self, path: &[&str]) -> (Call, Region) {
        let path = self.bytes(path.join("\0").as_bytes());
        let out = self.slot(8);
        let call = self.call(
            Op::GetProperty,
            &[path.ptr(), path.len(), out.at(0), out.at(4)],
        );
        (call, out)
    }

    pub fn log(&mut self, level: u32, message: &str) -> Call {
        let message = self.bytes(message.as_bytes());
        self.call(Op::Log, &[Arg::Val(level), message.ptr(), message.len()])
    }

    pub fn foreign(&mut self, name: &str, args: &[u8]) -> (Call, Region) {
        let name = self.bytes(name.as_bytes());
        let args = self.bytes(args);
        let out = self.slot(8);
        let call = self.call(
            Op::CallForeignFunction,
            &[
                name.ptr(),
                name.len(),
                args.ptr(),
                args.len(),
                out.at(0),
                out.at(4),
            ],
        );
        (call, out)
    }
}

/// What one program run reported.
#[derive(Clone, Debug, Default)]
pub struct Run {
    pub invocation: Option<Invocation>,
    /// The bytes of each `Report` command, in order.
    pub reports: Vec<Vec<u8>>,
    /// The program's data area after the run (statuses and slots filled in).
    data: Vec<u8>,
}

impl Run {
    fn word(&self, offset: u32) -> u32 {
        let at = offset as usize;
        u32::from_le_bytes(self.data[at..at + 4].try_into().unwrap())
    }

    /// Returns the status a command returned.
    pub fn status(&self, call: Call) -> u32 {
        self.word(call.0)
    }

    /// Returns the u32 stored in a slot after the run.
    pub fn slot_u32(&self, region: Region, at: u32) -> u32 {
        self.word(region.offset + at)
    }

    pub fn slot_u64(&self, region: Region) -> u64 {
        u64::from(self.word(region.offset)) | (u64::from(self.word(region.offset + 4)) << 32)
    }
}

type Handler = Box<dyn FnMut(&Invocation) -> Option<Program> + Send>;

#[derive(Default)]
pub struct ScriptState {
    handlers: HashMap<Cb, Handler>,
    pub invocations: Vec<Invocation>,
    pub runs: Vec<Run>,
    pending: Option<(Invocation, usize, u32)>,
    pending_reports: Vec<Vec<u8>>,
}

/// The test's side of the scripted guest.
#[derive(Clone, Default)]
pub struct Script {
    state: Arc<Mutex<ScriptState>>,
}

impl Script {
    /// Sets the program builder for one callback (replacing any earlier one).
    pub fn on(&self, cb: Cb, handler: impl FnMut(&Invocation) -> Option<Program> + Send + 'static) {
        self.state
            .lock()
            .unwrap()
            .handlers
            .insert(cb, Box::new(handler));
    }

    pub fn clear(&self, cb: Cb) {
        self.state.lock().unwrap().handlers.remove(&cb);
    }

    /// Returns every callback invocation so far.
    pub fn invocations(&self) -> Vec<Invocation> {
        self.state.lock().unwrap().invocations.clone()
    }

    pub fn callbacks(&self) -> Vec<Cb> {
        self.invocations().iter().map(|i| i.cb).collect()
    }

    /// Returns every finished program run.
    pub fn runs(&self) -> Vec<Run> {
        self.state.lock().unwrap().runs.clone()
    }

    /// Returns the last finished run of a callback.
    pub fn last_run(&self, cb: Cb) -> Run {
        self.runs()
            .into_iter()
            .rev()
            .find(|r| r.invocation.map(|i| i.cb) == Some(cb))
            .unwrap_or_else(|| panic!("no program ran in {cb:?}"))
    }

    /// Registers `script` and `report` in a foreign-function list.
    pub fn install(&self, functions: &mut ForeignFunctions) {
        let state = self.state.clone();
        functions.register("script", move |args| {
            let words: Vec<u32> = args
                .chunks(4)
                .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
                .collect();
            let cb = Cb::from_number(words[0]).ok_or(Status::BadArgument)?;
            let invocation = Invocation {
                cb,
                context: words[1],
                args: [words[2], words[3], words[4], words[5]],
            };
            let mut state = state.lock().unwrap();
            state.invocations.push(invocation);
            let program = state.handlers.get_mut(&cb).and_then(|h| h(&invocation));
            let Some(program) = program else {
                return Ok(Vec::new());
            };
            let encoded = program.encode();
            let data_start = 4 + 64 * program.commands.len() as u32;
            state.pending = Some((invocation, program.reports, data_start));
            state.pending_reports.clear();
            Ok(encoded)
        });
        let state = self.state.clone();
        functions.register("report", move |bytes| {
            let mut state = state.lock().unwrap();
            let Some((invocation, reports, data_start)) = state.pending else {
                return Ok(Vec::new());
            };
            if state.pending_reports.len() < reports {
                state.pending_reports.push(bytes.to_vec());
            } else {
                let reports = std::mem::take(&mut state.pending_reports);
                state.runs.push(Run {
                    invocation: Some(invocation),
                    reports,
                    data: bytes[data_start as usize..].to_vec(),
                });
                state.pending = None;
            }
            Ok(Vec::new())
        });
    }
}

/// Starts a host running the scripted guest; `script` programs must be set before the
/// start for `on_vm_start` and `on_configure`.
pub fn start(script: &Script, mut config: HostConfig) -> Host {
    script.install(&mut config.foreign_functions);
    Host::start(&module(), config).unwrap()
}

pub fn try_start(
    script: &Script,
    mut config: HostConfig,
) -> Result<Host, proxy_wasm_host::HostError> {
    script.install(&mut config.foreign_functions);
    Host::start(&module(), config)
}

pub const REQUEST_HEADERS: u32 = 0;
pub const REQUEST_TRAILERS: u32 = 1;
pub const CALL_RESPONSE_HEADERS: u32 = 6;
pub const REQUEST_BODY: u32 = 0;
pub const CALL_RESPONSE_BODY: u32 = 4;
pub const VM_CONFIGURATION: u32 = 6;
pub const PLUGIN_CONFIGURATION: u32 = 7;
pub const CONTINUE: u32 = 0;
pub const PAUSE: u32 = 1;

pub const OK: u32 = 0;
pub const NOT_FOUND: u32 = 1;
pub const BAD_ARGUMENT: u32 = 2;
pub const INVALID_MEMORY_ACCESS: u32 = 6;
pub const EMPTY: u32 = 7;
pub const CAS_MISMATCH: u32 = 8;
pub const UNIMPLEMENTED: u32 = 12;

/// Request headers of a simple POST.
pub fn post_headers() -> Vec<(&'static str, &'static str)> {
    vec![
        (":method", "POST"),
        (":path", "/transfers"),
        (":authority", "hub.example"),
        (":scheme", "https"),
        ("content-type", "application/json"),
    ]
}
