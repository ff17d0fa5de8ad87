'use strict';
// Node entry of fspiop-guard: the core compiled to wasm, loaded synchronously, with
// signature arithmetic done by node:crypto. Parsing, canonicalisation and policy stay in
// the core, so verdicts are those of the native fspiop-guard CLI.

const nodeCrypto = require('node:crypto');
const bindings = require('../dist/node/fspiop_guard_wasm.js');
const {
  createSdkClasses, bodyForWasm, snapshot, unchanged, MAX_PACKED_HEADER_LINES, MAX_PACKED_CHARS,
} = require('./sdk.cjs');

/** Maximum number of cached KeyObjects; the oldest is dropped beyond it. */
const MAX_CACHED_KEY_OBJECTS = 4096;

/** node:crypto key arguments per alg and kid. */
const keyObjects = new Map();

/** Counts of signature checks per engine, for tests and metrics. */
const engineCounts = { nodeCrypto: 0, nodeCryptoFailed: 0 };

const RSA_PSS = nodeCrypto.constants.RSA_PKCS1_PSS_PADDING;

/** node:crypto parameters per JOSE alg (RFC 7518 section 3). */
const NODE_ALGORITHMS = {
  RS256: { hash: 'sha256' },
  RS384: { hash: 'sha384' },
  RS512: { hash: 'sha512' },
  PS256: { hash: 'sha256', padding: RSA_PSS, saltLength: 32 },
  PS384: { hash: 'sha384', padding: RSA_PSS, saltLength: 48 },
  PS512: { hash: 'sha512', padding: RSA_PSS, saltLength: 64 },
  ES256: { hash: 'sha256', dsaEncoding: 'ieee-p1363' },
  ES384: { hash: 'sha384', dsaEncoding: 'ieee-p1363' },
};

/** Returns the key argument of nodeCrypto.verify: the KeyObject, or it with alg's options. */
function verifyKeyFor(alg, kid, spki) {
  const cacheKey = `${alg} ${kid}`;
  let key = keyObjects.get(cacheKey);
  if (key === undefined) {
    const { hash, ...options } = NODE_ALGORITHMS[alg];
    const keyObject = nodeCrypto.createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    key = Object.keys(options).length === 0 ? keyObject : { key: keyObject, ...options };
    if (keyObjects.size >= MAX_CACHED_KEY_OBJECTS) {
      keyObjects.delete(keyObjects.keys().next().value);
    }
    keyObjects.set(cacheKey, key);
  }
  return key;
}

/**
 * Verifies one signature with node:crypto. Called by the core after its own checks of
 * key type, curve, RSA size and signature length, with views into the wasm memory that
 * are read here and never kept. Returns undefined when node:crypto cannot check this key
 * and alg, and the core then uses ring inside the wasm.
 */
function nodeCryptoVerify(alg, kid, spki, message, signature) {
  const parameters = NODE_ALGORITHMS[alg];
  if (parameters === undefined) return undefined;
  try {
    const verified = nodeCrypto.verify(parameters.hash, message, verifyKeyFor(alg, kid, spki), signature);
    engineCounts.nodeCrypto += 1;
    return verified;
  } catch {
    engineCounts.nodeCryptoFailed += 1;
    return undefined;
  }
}

const copyingCallbacks = new WeakMap();

/**
 * Returns `callback` behind a wrapper that gives it its own copies of the byte arrays,
 * because the core passes views into the wasm memory that are valid only during the call.
 */
function copyingCallback(callback) {
  let wrapper = copyingCallbacks.get(callback);
  if (wrapper === undefined) {
    wrapper = (alg, kid, spki, message, signature) => callback(alg, kid, spki.slice(), message.slice(), signature.slice());
    copyingCallbacks.set(callback, wrapper);
  }
  return wrapper;
}

/** Returns the crypto callback for `options.crypto`: 'node' (default), 'wasm' or a function. */
function cryptoCallback(options) {
  let choice;
  try {
    choice = options == null ? undefined : options.crypto;
  } catch {
    throw typedError(TypeError, 'options.crypto', 'cannot be read (a getter or Proxy threw)');
  }
  if (choice === undefined || choice === 'node') return nodeCryptoVerify;
  if (choice === 'wasm') return undefined;
  if (typeof choice === 'function') return copyingCallback(choice);
  throw typedError(TypeError, 'options.crypto', "must be 'node', 'wasm' or a function");
}

/** KeyStores and SigningKeys made by this module; a copy of one shares its wasm memory. */
const genuineHandles = new WeakSet();

/** A KeyStore of the package (see the wasm class); tracked so that copies are rejected. */
class KeyStore extends bindings.KeyStore {
  constructor() {
    super();
    genuineHandles.add(this);
  }
}

/** A parsed private key for signing; tracked so that copies are rejected. */
class SigningKey extends bindings.SigningKey {
  constructor(pem) {
    super(pem);
    genuineHandles.add(this);
  }
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
    throw typedError(TypeError, field, `is a copy of a ${Class.name}, not one made with new ${Class.name}(); pass the original`);
  }
  if (value.__wbg_ptr === 0) throw typedError(TypeError, field, `is a ${Class.name} that was freed`);
  return value;
}

function typedError(Kind, field, message) {
  const error = new Kind(`${field}: ${message}`);
  error.code = 'ERR_FSPIOP_GUARD_INVALID_ARGUMENT';
  error.field = field;
  return error;
}

const keyStoreCache = new WeakMap();

/**
 * Returns a KeyStore for `options.keys`: a KeyStore as is, or a plain object
 * `{fspId: PEM | JWK | Buffer | [..]}` converted once and cached until one of its values
 * changes.
 */
function keyStoreFor(keys, field = 'options.keys') {
  const handle = genuineHandle(keys, bindings.KeyStore, field);
  if (handle !== undefined) return handle;
  if (keys === null || typeof keys !== 'object' || Array.isArray(keys)) {
    throw typedError(TypeError, field, 'must be a KeyStore or an object {fspId: PEM}');
  }
  let entries;
  try {
    entries = Object.entries(keys);
  } catch {
    throw typedError(TypeError, field, 'cannot be read (a getter or Proxy threw)');
  }
  const cached = keyStoreCache.get(keys);
  if (cached !== undefined && sameEntries(cached.entries, entries)) return cached.store;

  const store = new bindings.KeyStore();
  for (const [participant, value] of entries) {
    const texts = Array.isArray(value) ? value : [value];
    for (const text of texts) {
      if (text == null) continue;
      try {
        store.add(participant, keyText(text, `${field}[${JSON.stringify(participant)}]`));
      } catch (error) {
        // An unusable key is recorded in the store and reported by the verdict.
        if (error.code !== 'ERR_FSPIOP_GUARD_INVALID_KEY') throw error;
      }
    }
  }
  keyStoreCache.set(keys, { entries: entries.map(([name, value]) => [name, snapshot(value)]), store });
  return store;
}

function sameEntries(before, after) {
  if (before.length !== after.length) return false;
  for (let index = 0; index < before.length; index += 1) {
    if (before[index][0] !== after[index][0] || !unchanged(before[index][1], after[index][1])) return false;
  }
  return true;
}

/** Returns the text of a key given as a string, a Buffer or a Uint8Array. */
function keyText(value, field) {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
  throw typedError(TypeError, field, `must be a PEM or JWK string or a Buffer, not ${typeof value}`);
}

function readOptions(options) {
  if (options == null) {
    throw typedError(TypeError, 'options', 'is missing; give {keys}');
  }
  if (typeof options !== 'object') throw typedError(TypeError, 'options', 'must be an object');
  let keys;
  try {
    keys = options.keys;
  } catch {
    throw typedError(TypeError, 'options.keys', 'cannot be read (a getter or Proxy threw)');
  }
  return { store: keyStoreFor(keys), crypto: cryptoCallback(options) };
}

/**
 * Packs a request's method, URL and header lines into one string, joined by NUL, for
 * the wasm's packed reader: one string crosses into the wasm in place of one per part.
 * Returns undefined for a request that is not all plain strings (header arrays, numbers,
 * Proxies that throw, ...), which the wasm then reads member by member. Where such a
 * request is wrong, the wasm throws a typed error naming the field.
 */
function packRequest(method, url, headers) {
  if (typeof method !== 'string' || typeof url !== 'string') return undefined;
  let text = `${method}\0${url}`;
  let lines = 0;
  if (headers != null) {
    if (typeof headers !== 'object' || Array.isArray(headers)) return undefined;
    for (const name of Reflect.ownKeys(headers)) {
      if (typeof name !== 'string') continue;
      const value = headers[name];
      if (typeof value !== 'string') return undefined;
      text += `\0${name}\0${value}`;
      lines += 1;
      if (lines > MAX_PACKED_HEADER_LINES || text.length > MAX_PACKED_CHARS) return undefined;
    }
  }
  return { text, lines };
}

/**
 * Verifies a request with the packed reader, or returns undefined when it does not
 * apply. `whenRejectedOnly` makes an accepted request return '' instead of its verdict.
 */
function verifyPacked(request, store, options, crypto, whenRejectedOnly) {
  let packed;
  let body;
  try {
    packed = request !== null && typeof request === 'object'
      ? packRequest(request.method, request.url, request.headers)
      : undefined;
    body = packed === undefined ? undefined : bodyForWasm(request.body);
  } catch {
    return undefined;
  }
  if (packed === undefined) return undefined;
  return bindings.verifyPacked(packed.text, packed.lines, body, store, options, crypto, whenRejectedOnly, false);
}

/**
 * Verifies a request's FSPIOP-Signature and returns the verdict at once.
 * `request` is {method, url, headers, body} with the body as received (text or bytes);
 * `options` is {keys, profile?, now?, crypto?, ...}.
 */
function verifyRequestSync(request, options) {
  const { store, crypto } = readOptions(options);
  const verdict = verifyPacked(request, store, options, crypto, false);
  if (verdict !== undefined) return JSON.parse(verdict);
  return JSON.parse(bindings.verifyRequestJson(request, store, options, crypto));
}

/** Verifies a request; the Promise form of verifyRequestSync, as in browsers. */
async function verifyRequest(request, options) {
  return verifyRequestSync(request, options);
}

/** Verifies a request and adds the diagnosis that explains the verdict. */
function explain(request, options) {
  const { store, crypto } = readOptions(options);
  return JSON.parse(bindings.explainJson(request, store, options, crypto));
}

const signingKeys = new Map();

/** Returns a parsed SigningKey for a PEM, cached by its text. */
function signingKeyFor(key) {
  const handle = genuineHandle(key, bindings.SigningKey, 'signingKey');
  if (handle !== undefined) return handle;
  const text = keyText(key, 'signingKey');
  let parsed = signingKeys.get(text);
  if (parsed === undefined) {
    parsed = new SigningKey(text);
    if (signingKeys.size >= 64) signingKeys.delete(signingKeys.keys().next().value);
    signingKeys.set(text, parsed);
  }
  return parsed;
}

/**
 * Signs a request as the Mojaloop SDK does. `request` is {method, url, headers, body};
 * a body that is not a string is serialised with JSON.stringify first. `options` is
 * {signingKey, mode?, alg?, bodyAsText?}. Returns {headers, body, signatureHeader,
 * fspiopUri, alg}.
 */
function signRequest(request, options) {
  if (options == null || typeof options !== 'object') {
    throw typedError(TypeError, 'options', 'must be an object {signingKey}');
  }
  const key = signingKeyFor(options.signingKey);
  let prepared = request;
  let bodyAsText = options.bodyAsText === true;
  if (request != null && typeof request === 'object' && request.body != null
      && typeof request.body === 'object' && !(request.body instanceof Uint8Array)) {
    prepared = { ...request, body: JSON.stringify(request.body) };
    bodyAsText = false;
  }
  return bindings.signRequest(prepared, key, {
    mode: options.mode,
    alg: options.alg,
    bodyAsText,
  });
}

/**
 * Verifies a certificate chain: `bundle` (the leaf and its intermediates, in any order)
 * against the trust anchors `anchors`, each PEM text or PEM or DER bytes. `options` is
 * {usage?: 'client' | 'server', at?, policy?: 'default' | 'mcm', expectedName?,
 * minRsaBits?}. Returns the report of `fspiop-guard chain --json`.
 */
function checkChain(bundle, anchors, options) {
  return JSON.parse(bindings.checkChainJson(bundle, anchors, options));
}

/**
 * Checks a certificate request (PEM text or PEM or DER bytes) against the Hub's signing
 * policy. `options` is {policy?: 'mcm' | {minRsaBits?, requiredSubjectFields?,
 * allowedSignatureAlgorithms?, allowedKeyTypes?}}, where an object changes those fields of
 * MCM's policy. Returns the report of `fspiop-guard csr --json`.
 */
function checkCsr(csr, options) {
  return JSON.parse(bindings.checkCsrJson(csr, options));
}

/**
 * Describes the certificates and certificate requests of a PEM or DER input, as
 * `fspiop-guard inspect --cert FILE --json` does; key blocks are skipped.
 */
function inspectPem(input) {
  return JSON.parse(bindings.inspectPemJson(input));
}

/**
 * Verifies a bearer JWT with the keys of a KeyStore (or an object {fspId: PEM}).
 * `options` is {at?, leewaySeconds?, issuers?, audiences?, algorithms?, participant?,
 * requireExp?}. Returns {valid: true, ...} with the token's claims, or {valid: false,
 * reason, detail}.
 */
function verifyJwt(token, keyStore, options) {
  return JSON.parse(bindings.verifyJwtJson(token, keyStoreFor(keyStore, 'keyStore'), options));
}

// The fingerprint is also reachable from the class, where key-handling code looks for it.
KeyStore.fingerprint = bindings.fingerprint;

const { JwsValidator, JwsSigner, JwsValidationError } = createSdkClasses({
  bindings,
  cryptoCallback,
  signingKeyFor,
});

module.exports = {
  /** Does nothing in Node, where the wasm loads synchronously; kept for browser parity. */
  init: async () => {},
  verifyRequest,
  verifyRequestSync,
  explain,
  signRequest,
  inspectSignature: bindings.inspectSignature,
  inspectKey: bindings.inspectKey,
  fingerprint: bindings.fingerprint,
  checkChain,
  checkCsr,
  inspectPem,
  verifyJwt,
  KeyStore,
  SigningKey,
  JwsValidator,
  JwsSigner,
  JwsValidationError,
  engineCounts,
};

/** The SDK's namespace shape: `const { Jws } = require(...)`, then `new Jws.validator(...)`. */
module.exports.Jws = { validator: JwsValidator, signer: JwsSigner };
