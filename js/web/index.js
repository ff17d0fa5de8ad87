// Browser entry of fspiop-guard: call `await init()` once, then use the API. Signature
// arithmetic goes to WebCrypto where it supports the algorithm and key, else to ring
// inside the wasm. Parsing, canonicalisation and policy stay in the core.

import initWasm, * as bindings from '../dist/web/fspiop_guard_wasm.js';

let ready;
/** True once the wasm module is instantiated, so the synchronous functions can run. */
let loaded = false;

/**
 * Loads the wasm module. `input` is optional: a URL, a Response, bytes or a
 * WebAssembly.Module; by default the module next to this file is fetched.
 */
export function init(input) {
  if (ready === undefined) {
    ready = initWasm(input === undefined ? undefined : { module_or_path: input }).then((output) => {
      loaded = true;
      return output;
    });
  }
  return ready;
}

/** Loads the wasm module synchronously from bytes or a WebAssembly.Module (for Workers). */
export function initSync(module) {
  const output = bindings.initSync({ module });
  ready = Promise.resolve(output);
  loaded = true;
  return output;
}

/** Throws a typed error when a synchronous function is called before init() finished. */
function requireLoaded(name) {
  if (loaded) return;
  const error = new Error(`${name}: the wasm module is not loaded; await init() first`);
  error.code = 'ERR_FSPIOP_GUARD_NOT_INITIALIZED';
  throw error;
}

export const { inspectSignature, inspectKey, fingerprint } = bindings;

/** KeyStores and SigningKeys made by this module; a copy of one shares its wasm memory. */
const genuineHandles = new WeakSet();

/** A KeyStore of the package (see the wasm class); tracked so that copies are rejected. */
export class KeyStore extends bindings.KeyStore {
  constructor() {
    super();
    genuineHandles.add(this);
  }
}

/** A parsed private key for signing; tracked so that copies are rejected. */
export class SigningKey extends bindings.SigningKey {
  constructor(pem) {
    super(pem);
    genuineHandles.add(this);
  }
}

// The fingerprint is also reachable from the class, where key-handling code looks for it.
KeyStore.fingerprint = fingerprint;

function typedError(field, message) {
  const error = new TypeError(`${field}: ${message}`);
  error.code = 'ERR_FSPIOP_GUARD_INVALID_ARGUMENT';
  error.field = field;
  return error;
}

/**
 * Returns `value` when it is a live handle this module made, or undefined when it is not
 * an instance of `Class` at all. A copy made with Object.assign or a clone helper carries
 * the original's wasm pointer, which dangles once the original is freed or collected, so
 * it is rejected, as is a freed handle.
 */
function genuineHandle(value, Class, field) {
  if (!(value instanceof Class)) return undefined;
  if (!genuineHandles.has(value)) {
    throw typedError(field, `is a copy of a ${Class.name}, not one made with new ${Class.name}(); pass the original`);
  }
  if (value.__wbg_ptr === 0) throw typedError(field, `is a ${Class.name} that was freed`);
  return value;
}

const keyStoreCache = new WeakMap();

function keyStoreFor(keys, field = 'options.keys') {
  const handle = genuineHandle(keys, bindings.KeyStore, field);
  if (handle !== undefined) return handle;
  if (keys === null || typeof keys !== 'object' || Array.isArray(keys)) {
    throw typedError(field, 'must be a KeyStore or an object {fspId: PEM}');
  }
  let entries;
  try {
    entries = Object.entries(keys);
  } catch {
    throw typedError(field, 'cannot be read (a getter or Proxy threw)');
  }
  const cached = keyStoreCache.get(keys);
  if (cached !== undefined && cached.entries.length === entries.length
      && cached.entries.every(([name, value], index) => name === entries[index][0] && value === entries[index][1])) {
    return cached.store;
  }
  const store = new bindings.KeyStore();
  for (const [participant, value] of entries) {
    for (const text of Array.isArray(value) ? value : [value]) {
      if (text == null) continue;
      try {
        store.add(participant, text);
      } catch (error) {
        // An unusable key is recorded in the store and reported by the verdict.
        if (error.code !== 'ERR_FSPIOP_GUARD_INVALID_KEY') throw error;
      }
    }
  }
  keyStoreCache.set(keys, { entries, store });
  return store;
}

/**
 * Verifies a certificate chain: `bundle` (the leaf and its intermediates, in any order)
 * against the trust anchors `anchors`, each PEM text or PEM or DER bytes. `options` is
 * {usage?: 'client' | 'server', at?, policy?: 'default' | 'mcm', expectedName?,
 * minRsaBits?}. Returns the report of `fspiop-guard chain --json`. Call init() before.
 */
export function checkChain(bundle, anchors, options) {
  requireLoaded('checkChain');
  return JSON.parse(bindings.checkChainJson(bundle, anchors, options));
}

/**
 * Checks a certificate request (PEM text or PEM or DER bytes) against the Hub's signing
 * policy. `options` is {policy?: 'mcm' | {minRsaBits?, requiredSubjectFields?,
 * allowedSignatureAlgorithms?, allowedKeyTypes?}}, where an object changes those fields of
 * MCM's policy. Returns the report of `fspiop-guard csr --json`. Call init() before.
 */
export function checkCsr(csr, options) {
  requireLoaded('checkCsr');
  return JSON.parse(bindings.checkCsrJson(csr, options));
}

/**
 * Describes the certificates and certificate requests of a PEM or DER input, as
 * `fspiop-guard inspect --cert FILE --json` does; key blocks are skipped. Call init() before.
 */
export function inspectPem(input) {
  requireLoaded('inspectPem');
  return JSON.parse(bindings.inspectPemJson(input));
}

/**
 * Verifies a bearer JWT with the keys of a KeyStore (or an object {fspId: PEM}).
 * `options` is {at?, leewaySeconds?, issuers?, audiences?, algorithms?, participant?,
 * requireExp?}. Returns {valid: true, ...} with the token's claims, or {valid: false,
 * reason, detail}. Call init() before.
 */
export function verifyJwt(token, keyStore, options) {
  requireLoaded('verifyJwt');
  return JSON.parse(bindings.verifyJwtJson(token, keyStoreFor(keyStore, 'keyStore'), options));
}

/** Returns options.keys, or throws a typed error when reading it throws. */
function readKeys(options) {
  try {
    return options.keys;
  } catch {
    throw typedError('options.keys', 'cannot be read (a getter or Proxy threw)');
  }
}

/** WebCrypto parameters per JOSE alg (RFC 7518 section 3). */
const WEB_ALGORITHMS = {
  RS256: { importParams: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, verifyParams: { name: 'RSASSA-PKCS1-v1_5' } },
  RS384: { importParams: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-384' }, verifyParams: { name: 'RSASSA-PKCS1-v1_5' } },
  RS512: { importParams: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-512' }, verifyParams: { name: 'RSASSA-PKCS1-v1_5' } },
  PS256: { importParams: { name: 'RSA-PSS', hash: 'SHA-256' }, verifyParams: { name: 'RSA-PSS', saltLength: 32 } },
  PS384: { importParams: { name: 'RSA-PSS', hash: 'SHA-384' }, verifyParams: { name: 'RSA-PSS', saltLength: 48 } },
  PS512: { importParams: { name: 'RSA-PSS', hash: 'SHA-512' }, verifyParams: { name: 'RSA-PSS', saltLength: 64 } },
  ES256: { importParams: { name: 'ECDSA', namedCurve: 'P-256' }, verifyParams: { name: 'ECDSA', hash: 'SHA-256' } },
  ES384: { importParams: { name: 'ECDSA', namedCurve: 'P-384' }, verifyParams: { name: 'ECDSA', hash: 'SHA-384' } },
};

const cryptoKeys = new Map();

/** Counts of signature checks WebCrypto decided, and of those left to ring in the wasm. */
export const engineCounts = { webCrypto: 0, webCryptoFallback: 0 };

/** Returns true or false from WebCrypto, or undefined when it cannot check this key and alg. */
async function webCryptoVerify(subtle, { alg, kid, spki, message, signature }) {
  const parameters = WEB_ALGORITHMS[alg];
  if (parameters === undefined) return undefined;
  const cacheKey = `${alg} ${kid}`;
  let key = cryptoKeys.get(cacheKey);
  if (key === undefined) {
    key = subtle.importKey('spki', spki, parameters.importParams, false, ['verify']).catch(() => null);
    if (cryptoKeys.size >= 4096) cryptoKeys.delete(cryptoKeys.keys().next().value);
    cryptoKeys.set(cacheKey, key);
  }
  const cryptoKey = await key;
  if (cryptoKey === null) {
    engineCounts.webCryptoFallback += 1;
    return undefined;
  }
  try {
    const verified = await subtle.verify(parameters.verifyParams, cryptoKey, signature, message);
    engineCounts.webCrypto += 1;
    return verified;
  } catch {
    engineCounts.webCryptoFallback += 1;
    return undefined;
  }
}

function sameQuestion(question, alg, kid, message, signature) {
  if (question === undefined || question.alg !== alg || question.kid !== kid) return false;
  if (question.message.length !== message.length || question.signature.length !== signature.length) return false;
  for (let index = 0; index < message.length; index += 1) {
    if (question.message[index] !== message[index]) return false;
  }
  return question.signature.every((byte, index) => byte === signature[index]);
}

/**
 * Verifies a request's FSPIOP-Signature. `request` is {method, url, headers, body} with
 * the body as received; `options` is {keys, profile?, now?, crypto?: 'webcrypto' | 'wasm'}.
 *
 * WebCrypto is asynchronous and the core is not, so the core runs twice: the first run
 * records every signature check it would make, WebCrypto computes them, and the second
 * run is given those results in the same order. A check that differs from the recorded
 * one, or that WebCrypto cannot do, is computed by ring in the wasm instead.
 */
export async function verifyRequest(request, options) {
  await init();
  if (options == null || typeof options !== 'object') throw typedError('options', 'must be an object {keys}');
  const store = keyStoreFor(readKeys(options));
  const subtle = globalThis.crypto === undefined ? undefined : globalThis.crypto.subtle;
  if (options.crypto === 'wasm' || subtle === undefined) {
    return JSON.parse(bindings.verifyRequestJson(request, store, options, undefined));
  }

  const questions = [];
  bindings.verifyRequestJson(request, store, options, (alg, kid, spki, message, signature) => {
    // The arrays are views into the wasm memory, valid only during this call.
    questions.push({ alg, kid, spki: spki.slice(), message: message.slice(), signature: signature.slice() });
    return false;
  });
  const results = await Promise.all(questions.map((question) => webCryptoVerify(subtle, question)));
  let next = 0;
  return JSON.parse(bindings.verifyRequestJson(request, store, options, (alg, kid, spki, message, signature) => {
    const index = next;
    next += 1;
    return sameQuestion(questions[index], alg, kid, message, signature) ? results[index] : undefined;
  }));
}

/** Verifies a request with ring in the wasm and adds the diagnosis that explains the verdict. */
export async function explain(request, options) {
  await init();
  if (options == null || typeof options !== 'object') throw typedError('options', 'must be an object {keys}');
  return JSON.parse(bindings.explainJson(request, keyStoreFor(readKeys(options)), options, undefined));
}

/**
 * Signs a request as the Mojaloop SDK does; `options` is {signingKey, mode?, alg?,
 * bodyAsText?}. A body that is not a string is serialised with JSON.stringify first.
 * Call init() before.
 */
export function signRequest(request, options) {
  if (options == null || typeof options !== 'object') throw typedError('options', 'must be an object {signingKey}');
  const key = genuineHandle(options.signingKey, bindings.SigningKey, 'signingKey')
    ?? new SigningKey(options.signingKey);
  let prepared = request;
  let bodyAsText = options.bodyAsText === true;
  if (request != null && typeof request === 'object' && request.body != null
      && typeof request.body === 'object' && !(request.body instanceof Uint8Array)) {
    prepared = { ...request, body: JSON.stringify(request.body) };
    bodyAsText = false;
  }
  return bindings.signRequest(prepared, key, { mode: options.mode, alg: options.alg, bodyAsText });
}
