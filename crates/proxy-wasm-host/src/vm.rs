//! A compiled module and one running instance of it (a worker's VM).

use std::path::Path;
use std::sync::Arc;

use wasmtime::{Config, Engine, Instance, Linker, Store, Trap, TypedFunc, WasmParams, WasmResults};

use crate::config::HostConfig;
use crate::error::HostError;
use crate::linker::{self, SUPPORTED_IMPORTS};
use crate::process::Process;
use crate::state::{Callback, ContextState, WorkerState};
use crate::types::{LogLine, PropertyValue};

/// A compiled proxy-wasm module. Compiling is the slow step, so compile once and share:
/// cloning is cheap (an `Arc`) and any number of [`Host`](crate::Host)s can use it.
#[derive(Clone)]
pub struct Module {
    inner: Arc<ModuleInner>,
}

struct ModuleInner {
    engine: Engine,
    module: wasmtime::Module,
    linker: Linker<WorkerState>,
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("imports", &self.imports().len())
            .finish()
    }
}

impl Module {
    /// Reads and compiles a `.wasm` file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Module, HostError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| HostError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Module::from_bytes(&bytes)
    }

    /// Compiles wasm binary bytes with Cranelift, with fuel metering on.
    pub fn from_bytes(bytes: &[u8]) -> Result<Module, HostError> {
        let mut config = Config::new();
        config.consume_fuel(true);
        let engine = Engine::new(&config).map_err(|e| HostError::Compile {
            message: format!("{e:#}"),
        })?;
        let module = wasmtime::Module::new(&engine, bytes).map_err(|e| HostError::Compile {
            message: format!("{e:#}"),
        })?;
        let linker = linker::build(&engine)?;
        Ok(Module {
            inner: Arc::new(ModuleInner {
                engine,
                module,
                linker,
            }),
        })
    }

    /// Returns the module's imports as (module, name) pairs in declaration order, for a
    /// golden test of the import list.
    pub fn imports(&self) -> Vec<(String, String)> {
        self.inner
            .module
            .imports()
            .map(|import| (import.module().to_string(), import.name().to_string()))
            .collect()
    }

    /// Returns the names of the module's exports in declaration order.
    pub fn exports(&self) -> Vec<String> {
        self.inner
            .module
            .exports()
            .map(|e| e.name().to_string())
            .collect()
    }

    /// Returns the imports this host does not provide; a module with any cannot start.
    pub fn unsupported_imports(&self) -> Vec<(String, String)> {
        self.imports()
            .into_iter()
            .filter(|(module, name)| {
                !SUPPORTED_IMPORTS
                    .iter()
                    .any(|(m, n)| m == module && n == name)
            })
            .collect()
    }
}

/// (context, token, header count, body size, trailer count).
type CallResponseParams = (i32, i32, i32, i32, i32);

/// The guest's callback exports; a missing one behaves as Envoy's default (Continue,
/// true, or nothing).
struct Exports {
    context_create: Option<TypedFunc<(i32, i32), ()>>,
    vm_start: Option<TypedFunc<(i32, i32), i32>>,
    configure: Option<TypedFunc<(i32, i32), i32>>,
    tick: Option<TypedFunc<i32, ()>>,
    queue_ready: Option<TypedFunc<(i32, i32), ()>>,
    request_headers: Option<TypedFunc<(i32, i32, i32), i32>>,
    request_body: Option<TypedFunc<(i32, i32, i32), i32>>,
    request_trailers: Option<TypedFunc<(i32, i32), i32>>,
    http_call_response: Option<TypedFunc<CallResponseParams, ()>>,
    done: Option<TypedFunc<i32, i32>>,
    log: Option<TypedFunc<i32, ()>>,
    delete: Option<TypedFunc<i32, ()>>,
}

/// A guest trap, or a hostcall error that aborted the guest.
pub(crate) struct Trapped {
    pub callback: Callback,
    pub message: String,
    pub out_of_fuel: bool,
}

/// The failure to start a VM, with the lines it logged before.
pub(crate) struct StartFailure {
    pub error: StartError,
    pub logs: Vec<LogLine>,
}

pub(crate) enum StartError {
    Host(HostError),
    Trapped(Trapped),
    Rejected(Callback),
}

impl From<HostError> for StartFailure {
    fn from(error: HostError) -> StartFailure {
        StartFailure {
            error: StartError::Host(error),
            logs: Vec::new(),
        }
    }
}

/// One instance of the module with its store.
pub(crate) struct Vm {
    pub store: Store<WorkerState>,
    exports: Exports,
}

fn typed<P: WasmParams, R: WasmResults>(
    instance: &Instance,
    store: &mut Store<WorkerState>,
    name: &'static str,
) -> Result<Option<TypedFunc<P, R>>, HostError> {
    if instance.get_func(&mut *store, name).is_none() {
        return Ok(None);
    }
    instance
        .get_typed_func::<P, R>(&mut *store, name)
        .map(Some)
        .map_err(|e| HostError::BadExport {
            name,
            message: format!("{e:#}"),
        })
}

impl Vm {
    /// Instantiates the module and runs Envoy's start sequence: `_initialize` with
    /// hostcalls restricted, `proxy_on_context_create(root, 0)`, `proxy_on_vm_start`,
    /// `proxy_on_configure`.
    pub fn start(
        module: &Module,
        config: Arc<HostConfig>,
        process: Arc<Process>,
        worker: usize,
        host_properties: Vec<(Vec<String>, PropertyValue)>,
    ) -> Result<Vm, StartFailure> {
        if let Some((module_name, name)) = module.unsupported_imports().into_iter().next() {
            return Err(HostError::UnsupportedImport {
                module: module_name,
                name,
            }
            .into());
        }
        let inner = &module.inner;
        let state = WorkerState::new(worker, process, config, host_properties);
        let mut store = Store::new(&inner.engine, state);
        let fuel = store.data().config.fuel_per_callback.unwrap_or(u64::MAX);
        set_fuel(&mut store, fuel);
        let instance = inner
            .linker
            .instantiate(&mut store, &inner.module)
            .map_err(|e| HostError::Instantiate {
                message: format!("{e:#}"),
            })?;
        let mut vm = Vm::bind(instance, store)?;
        match vm.initialize(&instance) {
            Ok(()) => Ok(vm),
            Err(error) => {
                let logs = std::mem::take(&mut vm.store.data_mut().logs);
                Err(StartFailure { error, logs })
            }
        }
    }

    fn bind(instance: Instance, mut store: Store<WorkerState>) -> Result<Vm, HostError> {
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or(HostError::MissingExport { name: "memory" })?;
        if instance
            .get_func(&mut store, "proxy_abi_version_0_2_1")
            .is_none()
        {
            return Err(HostError::MissingExport {
                name: "proxy_abi_version_0_2_1",
            });
        }
        // proxy-wasm-cpp-host tries malloc first; SDK builds export only one of the two.
        let allocator = match typed::<i32, i32>(&instance, &mut store, "malloc")? {
            Some(f) => f,
            None => typed::<i32, i32>(&instance, &mut store, "proxy_on_memory_allocate")?.ok_or(
                HostError::MissingExport {
                    name: "proxy_on_memory_allocate",
                },
            )?,
        };
        store.data_mut().memory = Some(memory);
        store.data_mut().allocator = Some(allocator);
        let exports = Exports {
            context_create: typed(&instance, &mut store, "proxy_on_context_create")?,
            vm_start: typed(&instance, &mut store, "proxy_on_vm_start")?,
            configure: typed(&instance, &mut store, "proxy_on_configure")?,
            tick: typed(&instance, &mut store, "proxy_on_tick")?,
            queue_ready: typed(&instance, &mut store, "proxy_on_queue_ready")?,
            request_headers: typed(&instance, &mut store, "proxy_on_request_headers")?,
            request_body: typed(&instance, &mut store, "proxy_on_request_body")?,
            request_trailers: typed(&instance, &mut store, "proxy_on_request_trailers")?,
            http_call_response: typed(&instance, &mut store, "proxy_on_http_call_response")?,
            done: typed(&instance, &mut store, "proxy_on_done")?,
            log: typed(&instance, &mut store, "proxy_on_log")?,
            delete: typed(&instance, &mut store, "proxy_on_delete")?,
        };
        Ok(Vm { store, exports })
    }

    fn initialize(&mut self, instance: &Instance) -> Result<(), StartError> {
        let init = match typed::<(), ()>(instance, &mut self.store, "_initialize") {
            Ok(Some(f)) => Some(f),
            Ok(None) => {
                typed::<(), ()>(instance, &mut self.store, "_start").map_err(StartError::Host)?
            }
            Err(e) => return Err(StartError::Host(e)),
        };
        self.invoke(Callback::Initialize, 0, init, (), ())
            .map_err(StartError::Trapped)?;

        let root = self.store.data_mut().allocate_context_id();
        let state = self.store.data_mut();
        state.root_context_id = root;
        state.contexts.insert(root, ContextState::root());
        self.context_create(root, 0).map_err(StartError::Trapped)?;

        let vm_config_len = len_i32(self.store.data().config.vm_config.len());
        let started = self
            .invoke(
                Callback::VmStart,
                root,
                self.exports.vm_start.clone(),
                (root as i32, vm_config_len),
                1,
            )
            .map_err(StartError::Trapped)?;
        if started == 0 {
            return Err(StartError::Rejected(Callback::VmStart));
        }
        let plugin_config_len = len_i32(self.store.data().config.plugin_config.len());
        let configured = self
            .invoke(
                Callback::Configure,
                root,
                self.exports.configure.clone(),
                (root as i32, plugin_config_len),
                1,
            )
            .map_err(StartError::Trapped)?;
        if configured == 0 {
            return Err(StartError::Rejected(Callback::Configure));
        }
        Ok(())
    }

    pub fn root_context_id(&self) -> u32 {
        self.store.data().root_context_id
    }

    pub fn memory_pages(&self) -> u64 {
        self.store
            .data()
            .memory
            .map(|m| m.size(&self.store))
            .unwrap_or_default()
    }

    /// Sets the fuel each later callback of this instance gets.
    pub fn set_fuel_override(&mut self, fuel: Option<u64>) {
        self.store.data_mut().fuel_override = fuel;
    }

    /// Calls one export with fuel refilled; `default` replaces the result of a missing
    /// export.
    fn invoke<P: WasmParams, R: WasmResults>(
        &mut self,
        callback: Callback,
        context: u32,
        function: Option<TypedFunc<P, R>>,
        params: P,
        default: R,
    ) -> Result<R, Trapped> {
        let Some(function) = function else {
            return Ok(default);
        };
        let state = self.store.data();
        let fuel = state
            .fuel_override
            .or(state.config.fuel_per_callback)
            .unwrap_or(u64::MAX);
        set_fuel(&mut self.store, fuel);
        let state = self.store.data_mut();
        state.callback = Some(callback);
        state.effective_context = context;
        let result = function.call(&mut self.store, params);
        let state = self.store.data_mut();
        state.callback = None;
        state.effective_context = state.root_context_id;
        result.map_err(|error| Trapped {
            callback,
            out_of_fuel: matches!(error.downcast_ref::<Trap>(), Some(Trap::OutOfFuel)),
            message: format!("{error:#}"),
        })
    }

    pub fn context_create(&mut self, context: u32, parent: u32) -> Result<(), Trapped> {
        let f = self.exports.context_create.clone();
        self.invoke(
            Callback::ContextCreate,
            context,
            f,
            (context as i32, parent as i32),
            (),
        )
    }

    pub fn tick(&mut self) -> Result<(), Trapped> {
        let root = self.root_context_id();
        let f = self.exports.tick.clone();
        self.invoke(Callback::Tick, root, f, root as i32, ())
    }

    pub fn queue_ready(&mut self, queue_id: u32) -> Result<(), Trapped> {
        let root = self.root_context_id();
        let f = self.exports.queue_ready.clone();
        self.invoke(
            Callback::QueueReady,
            root,
            f,
            (root as i32, queue_id as i32),
            (),
        )
    }

    pub fn request_headers(
        &mut self,
        context: u32,
        count: usize,
        eos: bool,
    ) -> Result<i32, Trapped> {
        let f = self.exports.request_headers.clone();
        let params = (context as i32, len_i32(count), i32::from(eos));
        self.invoke(Callback::RequestHeaders, context, f, params, 0)
    }

    pub fn request_body(&mut self, context: u32, size: usize, eos: bool) -> Result<i32, Trapped> {
        let f = self.exports.request_body.clone();
        let params = (context as i32, len_i32(size), i32::from(eos));
        self.invoke(Callback::RequestBody, context, f, params, 0)
    }

    pub fn request_trailers(&mut self, context: u32, count: usize) -> Result<i32, Trapped> {
        let f = self.exports.request_trailers.clone();
        self.invoke(
            Callback::RequestTrailers,
            context,
            f,
            (context as i32, len_i32(count)),
            0,
        )
    }

    pub fn http_call_response(
        &mut self,
        context: u32,
        token: u32,
        headers: usize,
        body: usize,
        trailers: usize,
    ) -> Result<(), Trapped> {
        let f = self.exports.http_call_response.clone();
        let params = (
            context as i32,
            token as i32,
            len_i32(headers),
            len_i32(body),
            len_i32(trailers),
        );
        self.invoke(Callback::HttpCallResponse, context, f, params, ())
    }

    pub fn done(&mut self, context: u32) -> Result<i32, Trapped> {
        let f = self.exports.done.clone();
        self.invoke(Callback::Done, context, f, context as i32, 1)
    }

    pub fn log(&mut self, context: u32) -> Result<(), Trapped> {
        let f = self.exports.log.clone();
        self.invoke(Callback::Log, context, f, context as i32, ())
    }

    pub fn delete(&mut self, context: u32) -> Result<(), Trapped> {
        let f = self.exports.delete.clone();
        self.invoke(Callback::Delete, context, f, context as i32, ())
    }
}

fn set_fuel(store: &mut Store<WorkerState>, fuel: u64) {
    // Module::from_bytes turns fuel metering on for every engine, so set_fuel cannot fail.
    let _ = store.set_fuel(fuel);
}

fn len_i32(len: usize) -> i32 {
    u32::try_from(len).unwrap_or(u32::MAX) as i32
}
