// The npm package's API on generated keys: typed errors for bad input, the KeyStore,
// signing, inspection, and the SDK-shaped classes.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const guard = require('../node/index.cjs');

const NOW = 1778683152;
const DATE = new Date(NOW * 1000).toUTCString();

function rsaPair() {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

function ecPair() {
  return generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'sec1', format: 'pem' },
  });
}

const payer = rsaPair();
const ecfsp = ecPair();

function unsignedQuote(source = 'payerfsp') {
  return {
    method: 'POST',
    url: 'https://hub.example/quotes',
    headers: {
      'content-type': 'application/vnd.interoperability.quotes+json;version=1.1',
      date: DATE,
      'fspiop-source': source,
      'fspiop-destination': 'payeefsp',
    },
    body: { quoteId: 'b51ec534-ee48-4575-b6a9-ead2955b8069', amount: { currency: 'USD', amount: '10' } },
  };
}

function signedWire(privateKey, source = 'payerfsp') {
  const input = unsignedQuote(source);
  const signed = guard.signRequest(input, { signingKey: privateKey });
  return { method: input.method, url: '/quotes', headers: signed.headers, body: signed.body };
}

test('signRequest output verifies with RSA and EC keys', () => {
  const keys = { payerfsp: payer.publicKey, ecfsp: ecfsp.publicKey };
  for (const [source, pair] of [['payerfsp', payer], ['ecfsp', ecfsp]]) {
    for (const crypto of ['node', 'wasm']) {
      const verdict = guard.verifyRequestSync(signedWire(pair.privateKey, source), { keys, now: NOW, crypto });
      assert.equal(verdict.accepted, true, `${source} ${crypto}: ${verdict.message}`);
      assert.equal(verdict.participant, source);
      assert.equal(verdict.key_id, guard.fingerprint(pair.publicKey));
    }
  }
});

test('tampered body is SIGNATURE_MISMATCH with 3105', () => {
  const wire = signedWire(payer.privateKey);
  wire.body = wire.body.replace('"10"', '"11"');
  const verdict = guard.verifyRequestSync(wire, { keys: { payerfsp: payer.publicKey }, now: NOW });
  assert.equal(verdict.accepted, false);
  assert.equal(verdict.reason, 'SIGNATURE_MISMATCH');
  assert.equal(verdict.fspiop_error, '3105');
});

test('crypto callbacks get copies they may keep', () => {
  const keys = { payerfsp: payer.publicKey };
  const seen = [];
  const keep = (alg, kid, spki, message, signature) => {
    seen.push({ message, copy: Buffer.from(message), signature, signatureCopy: Buffer.from(signature) });
    return undefined;
  };
  for (let round = 0; round < 3; round += 1) {
    const verdict = guard.verifyRequestSync(signedWire(payer.privateKey), { keys, now: NOW, crypto: keep });
    assert.equal(verdict.accepted, true, verdict.message);
  }
  assert.equal(seen.length, 3);
  for (const { message, copy, signature, signatureCopy } of seen) {
    assert.deepEqual(Buffer.from(message), copy);
    assert.deepEqual(Buffer.from(signature), signatureCopy);
  }
});

test('explain adds the diagnosis', () => {
  const other = rsaPair();
  const wire = signedWire(other.privateKey);
  const explanation = guard.explain(wire, { keys: { payerfsp: payer.publicKey, payeefsp: other.publicKey }, now: NOW });
  assert.equal(explanation.reason, 'SIGNATURE_MISMATCH');
  assert.equal(explanation.diagnosis.matches[0].participant, 'payeefsp');
});

function assertTyped(action, Kind, code, field) {
  assert.throws(action, (error) => {
    assert.ok(error instanceof Kind, `${error.constructor.name}: ${error.message}`);
    assert.equal(error.code, code);
    assert.equal(error.field, field);
    return true;
  });
}

test('bad request fields give TypeErrors naming the field', () => {
  const keys = new guard.KeyStore();
  const good = { method: 'POST', url: '/quotes', headers: {}, body: '{}' };
  const cases = [
    [undefined, 'request'],
    [{ ...good, method: 7 }, 'request.method'],
    [{ ...good, method: 'PO ST' }, 'request.method'],
    [{ ...good, url: undefined }, 'request.url'],
    [{ ...good, url: '/a b' }, 'request.url'],
    [{ ...good, headers: 'x' }, 'request.headers'],
    [{ ...good, headers: { 'fspiop-source': 1 } }, 'request.headers["fspiop-source"]'],
    [{ ...good, headers: { 'fspiop-source': ['a', null] } }, 'request.headers["fspiop-source"][1]'],
    [{ ...good, headers: { 'bad name': 'x' } }, 'request.headers'],
    [{ ...good, headers: { 'x-a': 'line\r\nbreak' } }, 'request.headers["x-a"]'],
    [{ ...good, headers: { 'x-a': 'snow\u2603' } }, 'request.headers["x-a"]'],
    [{ ...good, headers: { 'x-a': 'nul\0byte' } }, 'request.headers["x-a"]'],
    [{ ...good, headers: { 'x-a': 'ok', 'x-\0': 'nul in the name' } }, 'request.headers'],
    [{ ...good, headers: { 'x-a': undefined } }, 'request.headers["x-a"]'],
    [{ ...good, headers: [['x-a']] }, 'request.headers[0]'],
    [{ ...good, headers: [['x-a', 5]] }, 'request.headers[0][1]'],
    [{ ...good, body: { a: 1 } }, 'request.body'],
    [{ ...good, body: 12 }, 'request.body'],
  ];
  for (const [request, field] of cases) {
    assertTyped(() => guard.verifyRequestSync(request, { keys, now: NOW }), TypeError, 'ERR_FSPIOP_GUARD_INVALID_ARGUMENT', field);
  }
});

test('bad options give TypeErrors naming the field', () => {
  const request = { method: 'POST', url: '/quotes', headers: {}, body: '{}' };
  const keys = new guard.KeyStore();
  const cases = [
    [{ keys, profile: 'lenient' }, 'options.profile'],
    [{ keys, profile: 3 }, 'options.profile'],
    [{ keys, now: 'yesterday' }, 'options.now'],
    [{ keys, now: Number.NaN }, 'options.now'],
    [{ keys, rejectDuplicateKeys: 'yes' }, 'options.rejectDuplicateKeys'],
    [{ keys, pathPrefixes: '/fspiop' }, 'options.pathPrefixes'],
    [{ keys, requestRules: 'all' }, 'options.requestRules'],
    [{ keys, crypto: 'openssl' }, 'options.crypto'],
    [{ keys: 'payerfsp.pem' }, 'options.keys'],
  ];
  for (const [options, field] of cases) {
    assertTyped(() => guard.verifyRequestSync(request, options), TypeError, 'ERR_FSPIOP_GUARD_INVALID_ARGUMENT', field);
  }
});

test('huge inputs give RangeErrors, not traps', () => {
  const keys = new guard.KeyStore();
  const base = { method: 'POST', url: '/quotes', headers: {}, body: '{}' };
  const huge = 'a'.repeat(17 * 1024 * 1024);
  const cases = [
    [{ ...base, body: huge }, 'request.body'],
    [{ ...base, body: new Uint8Array(17 * 1024 * 1024) }, 'request.body'],
    [{ ...base, url: `/${'q'.repeat(20000)}` }, 'request.url'],
    [{ ...base, headers: { 'x-big': 'v'.repeat(70000) } }, 'request.headers["x-big"]'],
    [{ ...base, headers: Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`x-${i}`, 'v'])) }, 'request.headers'],
  ];
  for (const [request, field] of cases) {
    assertTyped(() => guard.verifyRequestSync(request, { keys, now: NOW }), RangeError, 'ERR_FSPIOP_GUARD_LIMIT_EXCEEDED', field);
  }
  assertTyped(() => keys.add('payerfsp', huge), RangeError, 'ERR_FSPIOP_GUARD_LIMIT_EXCEEDED', 'key');
  assertTyped(() => guard.inspectSignature(huge), RangeError, 'ERR_FSPIOP_GUARD_LIMIT_EXCEEDED', 'signatureHeader');
});

test('throwing getters and Proxies give TypeErrors and leave the store usable', () => {
  const keys = new guard.KeyStore();
  const boom = () => { throw new Error('boom'); };
  const cases = [
    [{ method: 'POST', url: '/q', headers: new Proxy({}, { ownKeys: boom }), body: '{}' }, 'request.headers'],
    [{ method: 'POST', url: '/q', headers: { get 'x-a'() { return boom(); } }, body: '{}' }, 'request.headers["x-a"]'],
    [{ method: 'POST', url: '/q', headers: new Proxy([], { get: boom }), body: '{}' }, 'request.headers'],
    [{ get method() { return boom(); } }, 'request'],
  ];
  for (const [request, field] of cases) {
    assertTyped(() => guard.verifyRequestSync(request, { keys, now: NOW }), TypeError, 'ERR_FSPIOP_GUARD_INVALID_ARGUMENT', field);
  }
  assert.equal(keys.add('payerfsp', payer.publicKey).participant, 'payerfsp');
});

test('body over the profile limit is BODY_TOO_LARGE', () => {
  const request = { method: 'POST', url: '/quotes', headers: {}, body: `{"a":"${'x'.repeat(1024 * 1024)}"}` };
  const verdict = guard.verifyRequestSync(request, { keys: new guard.KeyStore(), now: NOW });
  assert.equal(verdict.reason, 'BODY_TOO_LARGE');
  assert.equal(verdict.fspiop_error, '3104');
});

test('KeyStore adds, lists and removes per participant', () => {
  const store = new guard.KeyStore();
  const first = store.add('payerfsp', payer.publicKey);
  assert.equal(first.kid, guard.fingerprint(payer.publicKey));
  assert.equal(guard.KeyStore.fingerprint(payer.publicKey), first.kid);
  assert.equal(first.type, 'RSA');
  assert.equal(first.bits, 2048);
  const second = store.add('payerfsp', ecfsp.publicKey, { retireAfter: new Date((NOW + 60) * 1000) });
  assert.equal(second.curve, 'P-256');
  assert.equal(second.retireAfter, NOW + 60);
  assert.equal(store.size, 2);
  assert.deepEqual(store.list('payerfsp').map((entry) => entry.kid).sort(), [first.kid, second.kid].sort());
  assert.deepEqual(store.participants(), ['payerfsp']);
  assert.equal(store.remove('payerfsp', first.kid), true);
  assert.equal(store.remove('payerfsp', first.kid), false);
  assert.equal(store.removeParticipant('payerfsp'), 1);
  assert.equal(store.size, 0);
});

test('KeyStore records an unusable key', () => {
  const store = new guard.KeyStore();
  assertTyped(() => store.add('brokenfsp', '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'), Error, 'ERR_FSPIOP_GUARD_INVALID_KEY', 'key');
  assert.match(store.unusableReason('brokenfsp'), /./);
  const verdict = guard.verifyRequestSync(
    { method: 'POST', url: '/quotes', headers: { 'fspiop-source': 'brokenfsp' }, body: '{}' },
    { keys: store, now: NOW },
  );
  assert.equal(verdict.reason, 'KEY_UNUSABLE');
  assert.equal(store.removeParticipant('brokenfsp'), 0);
  assert.equal(store.unusableReason('brokenfsp'), undefined);
});

test('inspectSignature decodes the protected header', () => {
  const wire = signedWire(payer.privateKey);
  const value = wire.headers.find(([name]) => name === 'fspiop-signature')[1];
  const inspection = guard.inspectSignature(value);
  assert.equal(inspection.alg, 'RS256');
  assert.equal(inspection.protectedHeader['FSPIOP-Source'], 'payerfsp');
  assert.equal(inspection.protectedHeader['FSPIOP-URI'], '/quotes');
  assert.equal(inspection.signatureBytes, 256);
  assert.throws(() => guard.inspectSignature('{"protectedHeader":"e30"'), (error) => {
    assert.equal(error.code, 'ERR_FSPIOP_GUARD_INVALID_SIGNATURE_HEADER');
    assert.equal(error.reason, 'SIGNATURE_HEADER_NOT_JSON');
    return true;
  });
});

test('inspectKey describes a key and its JWK', () => {
  const inspection = guard.inspectKey(ecfsp.privateKey);
  assert.equal(inspection.format, 'private-key-pem');
  assert.equal(inspection.curve, 'P-256');
  assert.equal(inspection.jwk.kty, 'EC');
  assert.equal(inspection.kid, guard.fingerprint(ecfsp.publicKey));
  assert.match(inspection.pem, /^-----BEGIN PUBLIC KEY-----\n/);
  assertTyped(() => guard.inspectKey('not a key'), Error, 'ERR_FSPIOP_GUARD_INVALID_KEY', 'key');
});

test('JwsSigner and JwsValidator round trip', () => {
  const signer = new guard.JwsSigner({ signingKey: payer.privateKey, logger: {} });
  const validator = new guard.Jws.validator({ validationKeys: { payerfsp: Buffer.from(payer.publicKey) }, logger: {}, now: NOW });
  const requestOptions = unsignedQuote();
  requestOptions.uri = requestOptions.url;
  signer.sign(requestOptions);
  assert.equal(requestOptions.headers['fspiop-uri'], '/quotes');
  assert.equal(requestOptions.headers['fspiop-http-method'], 'POST');
  assert.equal(typeof requestOptions.body, 'string', '19.19 signer sends the serialised body');
  const received = { headers: requestOptions.headers, body: JSON.parse(requestOptions.body) };
  assert.equal(validator.validate(received), true);

  received.body.amount.amount = '11';
  assert.throws(() => validator.validate(received), (error) => {
    assert.ok(error instanceof guard.JwsValidationError);
    assert.equal(error.reason, 'SIGNATURE_MISMATCH');
    assert.equal(error.fspiopErrorCode, '3105');
    return true;
  });
  assert.throws(() => validator.validate({ headers: requestOptions.headers }), /Cannot validate JWS without a body/);
});

test('JwsValidator picks up keys changed in place', () => {
  const validationKeys = {};
  const validator = new guard.JwsValidator({ validationKeys, now: NOW });
  const requestOptions = unsignedQuote();
  requestOptions.uri = requestOptions.url;
  new guard.JwsSigner({ signingKey: payer.privateKey }).sign(requestOptions);
  const received = { headers: requestOptions.headers, body: JSON.parse(requestOptions.body) };
  assert.throws(() => validator.validate(received), (error) => error.reason === 'UNKNOWN_SOURCE');
  validationKeys.payerfsp = payer.publicKey;
  assert.equal(validator.validate(received), true);
  validationKeys.payerfsp = ecfsp.publicKey;
  assert.throws(() => validator.validate(received), (error) => error.reason === 'KEY_ALG_MISMATCH');
});

test('getSignature signs the caller-set FSPIOP-URI', () => {
  const signer = new guard.JwsSigner({ signingKey: payer.privateKey });
  const requestOptions = unsignedQuote();
  requestOptions.headers['fspiop-uri'] = '/quotes';
  requestOptions.headers['fspiop-http-method'] = 'POST';
  const value = signer.getSignature(requestOptions);
  assert.equal(typeof requestOptions.body, 'object', 'getSignature leaves the body alone');
  assert.equal(guard.inspectSignature(value).protectedHeader['FSPIOP-URI'], '/quotes');
});
