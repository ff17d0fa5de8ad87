// Sends work to the checks Worker (worker.js) and returns its results as promises. A call
// that runs past its timeout ends the Worker, which is started again for the next call,
// so no input can leave the page waiting.

const DEFAULT_TIMEOUT_MS = 30000;

let worker;
let nextId = 1;
const pending = new Map();

function failAll(error) {
  for (const { reject, timer } of pending.values()) {
    clearTimeout(timer);
    reject(error);
  }
  pending.clear();
}

function startWorker() {
  worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = (event) => {
    const { id, result, error } = event.data;
    const call = pending.get(id);
    if (call === undefined) return;
    pending.delete(id);
    clearTimeout(call.timer);
    if (error === undefined) {
      call.resolve(result);
    } else {
      const thrown = new Error(error.message);
      thrown.name = error.name;
      thrown.code = error.code;
      call.reject(thrown);
    }
  };
  worker.onerror = (event) => {
    event.preventDefault();
    failAll(new Error(`The checks could not start: ${event.message || 'the worker failed to load'}. Reload the page.`));
    worker.terminate();
    worker = undefined;
  };
}

/** Runs `op` in the Worker with `args`; rejects after `timeoutMs`. */
export function run(op, args, { timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
  if (worker === undefined) startWorker();
  const id = nextId;
  nextId += 1;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      worker.terminate();
      worker = undefined;
      failAll(new Error('An earlier check was stopped.'));
      reject(new Error(`The check took longer than ${timeoutMs / 1000} s and was stopped; try a smaller input.`));
    }, timeoutMs);
    pending.set(id, { resolve, reject, timer });
    worker.postMessage({ id, op, args });
  });
}
