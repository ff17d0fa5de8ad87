'use strict';
// Drop-in replacements for the JWS classes of @mojaloop/sdk-standard-components:
// JwsValidator({validationKeys, logger}).validate({headers, body}) and
// JwsSigner({signingKey, logger}).sign(requestOptions) / getSignature(requestOptions).

/** The error JwsValidator.validate throws for a request that fails verification. */
class JwsValidationError extends Error {
  constructor(verdict) {
    super(verdict.message);
    this.name = 'JwsValidationError';
    this.code = 'ERR_FSPIOP_GUARD_JWS_INVALID';
    /** Our stable reason code, for example SIGNATURE_MISMATCH. */
    this.reason = verdict.reason;
    /** The FSPIOP API error code for this reason, for example "3105". */
    this.fspiopErrorCode = verdict.fspiop_error;
    /** The whole verdict. */
    this.verdict = verdict;
  }
}

// Bounds of the packed reader, at or above the core's request limits (200 header lines
// of at most 64 KiB together, a 16 KiB URL). A request beyond them is read member by
// member, which checks each limit before it copies anything into the wasm.
const MAX_PACKED_HEADER_LINES = 200;
const MAX_PACKED_CHARS = 96 * 1024;

/** Returns a value to compare later: a copy of a byte array, which may be rewritten in place. */
function snapshot(value) {
  return value instanceof Uint8Array ? Buffer.from(value) : value;
}

/** Returns true when a value equals its snapshot: the same object, or the same bytes. */
function unchanged(before, value) {
  if (before instanceof Uint8Array && value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).equals(before);
  return before === value;
}

/** Returns a TypeError naming the argument, as the package's other argument errors do. */
function argumentError(field, message) {
  const error = new TypeError(`${field}: ${message}`);
  error.code = 'ERR_FSPIOP_GUARD_INVALID_ARGUMENT';
  error.field = field;
  return error;
}

/** Reads something from the caller's objects, turning a throwing getter or Proxy into a typed error. */
function readOrThrow(field, read) {
  try {
    return read();
  } catch {
    throw argumentError(field, 'cannot be read (a getter or Proxy threw)');
  }
}

/**
 * Returns headers as the core reads them: string values kept, arrays kept as repeated
 * lines, numbers turned into strings (as Node sends them), undefined and null dropped.
 */
function plainHeaders(headers) {
  const result = {};
  if (headers == null) return result;
  for (const [name, value] of Object.entries(headers)) {
    if (value == null) continue;
    if (typeof value === 'number') result[name] = String(value);
    else result[name] = value;
  }
  return result;
}

/** Returns the value of a header whatever the case of its name, as Node's lookup does. */
function headerValue(headers, lowercaseName) {
  if (headers == null) return undefined;
  if (Object.hasOwn(headers, lowercaseName)) return headers[lowercaseName];
  for (const name of Object.keys(headers)) {
    if (name.toLowerCase() === lowercaseName) return headers[name];
  }
  return undefined;
}

/** Returns the component logger the SDK's classes derive with `logger.child()`. */
function componentLogger(logger, component) {
  if (logger == null || typeof logger.child !== 'function') return logger;
  try {
    return logger.child({ component });
  } catch (error) {
    throw argumentError('logger', `logger.child() threw: ${error.message}`);
  }
}

function logDebug(logger, message, context) {
  if (logger == null || !logger.isDebugEnabled) return;
  if (typeof logger.debug === 'function') logger.debug(message, context);
}

/** Logs a failed validation at error level, as the SDK's validator does before it throws. */
function logError(logger, message, error) {
  if (logger != null && typeof logger.error === 'function') logger.error(message, error);
}

/**
 * Maximum length of body text, in UTF-16 code units, handed to the wasm as UTF-8 bytes: Node encodes
 * a string natively, while the wasm glue copies it one character at a time. At 3 bytes
 * per unit at most, such a body stays under the core's 16 MiB body limit. Longer text
 * goes as a string, so that its size is checked before anything is copied.
 */
const MAX_BODY_CHARS_AS_BYTES = 1024 * 1024;

/** Returns a body for the wasm: text up to MAX_BODY_CHARS_AS_BYTES as UTF-8 bytes. */
function bodyForWasm(body) {
  return typeof body === 'string' && body.length <= MAX_BODY_CHARS_AS_BYTES ? Buffer.from(body, 'utf8') : body;
}

/**
 * Packs headers as plainHeaders reads them, behind the request line of a validation, for
 * the wasm's packed reader. Returns undefined for a header value plainHeaders keeps but
 * the packed form cannot carry (an array or an object).
 */
function packHeaders(headers) {
  let text = 'POST\0/';
  let lines = 0;
  if (headers != null) {
    for (const name of Object.keys(headers)) {
      const value = headers[name];
      if (value == null) continue;
      if (typeof value === 'string') text += `\0${name}\0${value}`;
      else if (typeof value === 'number') text += `\0${name}\0${String(value)}`;
      else return undefined;
      lines += 1;
      if (lines > MAX_PACKED_HEADER_LINES || text.length > MAX_PACKED_CHARS) return undefined;
    }
  }
  return { text, lines };
}

/** Throws a typed error unless requestOptions is an object with a headers object. */
function checkRequestOptions(requestOptions) {
  if (requestOptions === null || typeof requestOptions !== 'object') {
    throw argumentError('requestOptions', 'must be an object {method, uri, headers, body}');
  }
  const headers = readOrThrow('requestOptions.headers', () => requestOptions.headers);
  if (headers === null || typeof headers !== 'object') {
    throw argumentError('requestOptions.headers', 'must be an object');
  }
}

function createSdkClasses({ bindings, cryptoCallback, signingKeyFor }) {
  /**
   * Validates with the packed reader. Returns true for an accepted request, the verdict
   * of a rejected one, or undefined when the packed form does not apply.
   */
  function validatePacked(validator, headers, text) {
    let packed;
    try {
      packed = packHeaders(headers);
    } catch {
      return undefined;
    }
    if (packed === undefined) return undefined;
    const result = bindings.verifyPacked(
      packed.text, packed.lines, bodyForWasm(text), validator.keyStore, validator.verifyOptions,
      validator.crypto, true, true,
    );
    if (result === undefined) return undefined;
    return result === '' ? true : JSON.parse(result);
  }

  /**
   * Validates FSPIOP-Signature as the SDK's JwsValidator does, with fspiop-guard's core.
   * `validationKeys` is {fspId: PEM string or Buffer}; it is read at every validate(),
   * so keys changed in place (as a key directory watcher does) take effect at once.
   */
  class JwsValidator {
    constructor(config = {}) {
      const { validationKeys, logger, profile, crypto, now } = readOrThrow('config', () => ({
        validationKeys: config.validationKeys,
        logger: config.logger,
        profile: config.profile,
        crypto: config.crypto,
        now: config.now,
      }));
      if (validationKeys == null || typeof validationKeys !== 'object') {
        throw argumentError('validationKeys', 'must be an object {fspId: PEM}');
      }
      this.validationKeys = validationKeys;
      this.logger = componentLogger(logger, 'JwsValidator');
      this.options = { profile: profile ?? 'mojaloop-sdk', crypto, now };
      this.crypto = cryptoCallback(this.options);
      // The core's defaults are this profile and the clock, so the common case passes no
      // options object at all.
      this.verifyOptions = this.options.profile === 'mojaloop-sdk' && this.options.now === undefined
        ? undefined
        : { profile: this.options.profile, now: this.options.now };
      this.keyStore = new bindings.KeyStore();
      this.loadedKeys = new Map();
    }

    /** Loads the key configured now for `source`, when it changed since the last call. */
    syncKey(source) {
      const configured = readOrThrow(
        `validationKeys[${JSON.stringify(source)}]`,
        () => (Object.hasOwn(this.validationKeys, source) ? this.validationKeys[source] : undefined),
      );
      // Only configured participants are remembered, so FSPIOP-Source values sent by
      // clients cannot grow this map.
      if (!configured) {
        if (this.loadedKeys.delete(source)) this.keyStore.removeParticipant(source);
        return;
      }
      if (this.loadedKeys.has(source) && unchanged(this.loadedKeys.get(source), configured)) return;
      this.keyStore.removeParticipant(source);
      this.loadedKeys.set(source, snapshot(configured));
      const text = typeof configured === 'string'
        ? configured
        : Buffer.isBuffer(configured) ? configured.toString('utf8') : String(configured);
      try {
        this.keyStore.add(source, text);
      } catch (error) {
        // The store records the participant's key as unusable; the verdict reports it.
        logDebug(this.logger, `JWS key of ${JSON.stringify(source)} is unusable: ${error.message}`);
      }
    }

    /**
     * Validates {headers, body} (body already parsed, as the SDK expects) and returns
     * true, or throws a JwsValidationError carrying the reason and FSPIOP error code.
     */
    validate(request) {
      const { headers, body } = readOrThrow('request', () => ({
        headers: request == null ? undefined : request.headers,
        body: request == null ? undefined : (request.body || request.data),
      }));
      if (!body) {
        const error = new Error('Cannot validate JWS without a body');
        error.code = 'ERR_FSPIOP_GUARD_JWS_INVALID';
        error.reason = 'BODY_MISSING';
        error.fspiopErrorCode = '3102';
        logError(this.logger, 'Error validating JWS: ', error);
        throw error;
      }
      const source = readOrThrow('request.headers', () => headerValue(headers, 'fspiop-source'));
      if (typeof source === 'string' && source !== '') this.syncKey(source);

      // The SDK verifies a re-serialisation of the parsed body; JSON.stringify gives the
      // body's JS property order, and the core also tries the sorted-key form.
      let text;
      try {
        text = JSON.stringify(body);
      } catch (error) {
        throw argumentError('request.body', `cannot be serialised as JSON: ${error.message}`);
      }
      const verdict = validatePacked(this, headers, text)
        ?? JSON.parse(bindings.verifyRequestJson(
          { method: 'POST', url: '/', headers: readOrThrow('request.headers', () => plainHeaders(headers)), body: text },
          this.keyStore,
          this.verifyOptions,
          this.crypto,
        ));
      if (verdict === true) return true;
      if (!verdict.accepted) {
        const error = new JwsValidationError(verdict);
        logError(this.logger, 'Error validating JWS: ', error);
        throw error;
      }
      return true;
    }

  }

  /**
   * Signs outgoing requests as the SDK's JwsSigner does (19.19.x by default; pass
   * {mode: 'sdk-19.18'} for the older signer).
   */
  class JwsSigner {
    constructor(config = {}) {
      this.signingKey = signingKeyFor(config.signingKey);
      this.logger = componentLogger(config.logger, 'JwsSigner');
      this.mode = config.mode ?? 'sdk-19.19';
    }

    /** Signs `requestOptions` in place: sets fspiop-http-method, fspiop-uri and fspiop-signature. */
    sign(requestOptions) {
      checkRequestOptions(requestOptions);
      const bodyField = requestOptions.body ? 'body' : 'data';
      const body = requestOptions[bodyField];
      if (!body) throw new Error('Cannot sign with no body');
      const signed = this.signOne(requestOptions, body, this.mode, requestOptions.uri || requestOptions.url);
      requestOptions.headers['fspiop-http-method'] = requestOptions.method.toUpperCase();
      requestOptions.headers['fspiop-uri'] = signed.fspiopUri;
      requestOptions.headers['fspiop-signature'] = signed.signatureHeader;
      if (this.mode === 'sdk-19.19') requestOptions[bodyField] = signed.body;
      logDebug(this.logger, 'JWS signed request', { uri: signed.fspiopUri });
    }

    /**
     * Returns the FSPIOP-Signature value for requestOptions whose fspiop-uri and
     * fspiop-http-method headers are already set; requestOptions is not changed.
     */
    getSignature(requestOptions) {
      checkRequestOptions(requestOptions);
      const body = requestOptions.body || requestOptions.data;
      if (!body) throw new Error('Cannot sign with no body');
      const uri = requestOptions.uri || requestOptions.url;
      if (typeof uri !== 'string' || !uri.includes('/')) throw new Error(`URI not valid for protected header: ${uri}`);
      return this.signOne(requestOptions, body, 'get-signature', uri).signatureHeader;
    }

    signOne(requestOptions, body, mode, url) {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      return bindings.signRequest(
        {
          method: requestOptions.method,
          url,
          headers: plainHeaders(requestOptions.headers),
          body: text,
        },
        this.signingKey,
        { mode, bodyAsText: typeof body === 'string' },
      );
    }
  }

  return { JwsValidator, JwsSigner, JwsValidationError };
}

module.exports = {
  createSdkClasses,
  plainHeaders,
  bodyForWasm,
  snapshot,
  unchanged,
  MAX_PACKED_HEADER_LINES,
  MAX_PACKED_CHARS,
};
