// Hostile input through the npm package: seeded random values in every argument position
// and pathological bodies and headers. Each call must return a verdict or throw a typed
// error with a code; a wasm trap (WebAssembly.RuntimeError) or an untyped error fails.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';

const require = createRequire(import.meta.url);
const guard = require('../node/index.cjs');

const CODES = new Set([
  'ERR_FSPIOP_GUARD_INVALID_ARGUMENT', 'ERR_FSPIOP_GUARD_LIMIT_EXCEEDED', 'ERR_FSPIOP_GUARD_INVALID_KEY',
  'ERR_FSPIOP_GUARD_SIGN_FAILED', 'ERR_FSPIOP_GUARD_INVALID_SIGNATURE_HEADER',
]);

function generator(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomValue(random, depth = 0) {
  const kinds = [
    () => undefined, () => null, () => random() < 0.5, () => random() * 1e9 - 5e8, () => Number.NaN,
    () => 10n, () => Symbol('s'), () => () => 1, () => new Date(random() * 1e13),
    () => 'x'.repeat(Math.floor(random() * 40)), () => '\ud800\u0000\r\n\u2603é',
    () => new Uint8Array(Math.floor(random() * 16)), () => new ArrayBuffer(4),
    () => (depth < 3 ? [randomValue(random, depth + 1), randomValue(random, depth + 1)] : []),
    () => (depth < 3 ? { a: randomValue(random, depth + 1), 'fspiop-source': randomValue(random, depth + 1) } : {}),
  ];
  return kinds[Math.floor(random() * kinds.length)]();
}

function randomRequest(random) {
  const request = {
    method: random() < 0.7 ? 'POST' : randomValue(random),
    url: random() < 0.7 ? '/quotes' : randomValue(random),
    headers: random() < 0.5 ? { 'fspiop-source': 'payerfsp', 'fspiop-signature': randomValue(random) } : randomValue(random),
    body: random() < 0.5 ? '{"a":1}' : randomValue(random),
  };
  return random() < 0.05 ? randomValue(random) : request;
}

function assertTypedOrVerdict(action, label) {
  try {
    const result = action();
    if (result !== undefined && typeof result === 'object' && 'accepted' in result) {
      assert.equal(typeof result.accepted, 'boolean', label);
    }
  } catch (error) {
    assert.ok(!(error instanceof WebAssembly.RuntimeError), `${label}: wasm trap ${error.message}`);
    assert.ok(CODES.has(error.code), `${label}: untyped error ${error.constructor.name}: ${error.message}`);
  }
}

test('random arguments never trap', () => {
  const random = generator(7);
  const keys = new guard.KeyStore();
  for (let index = 0; index < 3000; index += 1) {
    const label = `case ${index}`;
    const options = random() < 0.8 ? { keys, now: 0, profile: random() < 0.9 ? undefined : randomValue(random) } : { keys, ...Object(randomValue(random)) };
    assertTypedOrVerdict(() => guard.verifyRequestSync(randomRequest(random), options), `${label} verify`);
    assertTypedOrVerdict(() => guard.inspectSignature(randomValue(random)), `${label} inspectSignature`);
    assertTypedOrVerdict(() => guard.inspectKey(randomValue(random)), `${label} inspectKey`);
    assertTypedOrVerdict(() => keys.add(randomValue(random), randomValue(random), randomValue(random)), `${label} add`);
    assertTypedOrVerdict(() => keys.remove(randomValue(random), randomValue(random)), `${label} remove`);
  }
  // The store is still usable after all of that.
  assert.equal(typeof keys.size, 'number');
  assert.ok(Array.isArray(keys.list()));
});

test('deeply nested bodies give verdicts, not stack overflows', () => {
  const keys = new guard.KeyStore();
  for (const depth of [1000, 100000]) {
    const body = '['.repeat(depth) + ']'.repeat(depth);
    const verdict = guard.verifyRequestSync(
      { method: 'POST', url: '/quotes', headers: { 'fspiop-source': 'payerfsp' }, body },
      { keys, now: 0 },
    );
    assert.equal(verdict.accepted, false, `depth ${depth}`);
  }
  const deepHeader = JSON.stringify({ protectedHeader: 'e30', signature: 'AA', x: JSON.parse('['.repeat(500) + ']'.repeat(500)) });
  assertTypedOrVerdict(() => guard.inspectSignature(deepHeader), 'deep FSPIOP-Signature');
});

test('signRequest rejects hostile bodies with typed errors', () => {
  const { privateKey } = require('node:crypto').generateKeyPairSync('ec', {
    namedCurve: 'P-256', privateKeyEncoding: { type: 'sec1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const base = { method: 'POST', url: 'https://hub.example/quotes', headers: { 'fspiop-source': 'payerfsp' } };
  const bodies = ['['.repeat(100000), '{"a":', '', 'null', '"text"'];
  for (const body of bodies) {
    assertTypedOrVerdict(() => guard.signRequest({ ...base, body }, { signingKey: privateKey }), `body ${body.slice(0, 10)}`);
  }
  assertTypedOrVerdict(() => guard.signRequest({ ...base, url: 'transfers/abc', body: '{}' }, { signingKey: privateKey }), 'url without a slash');
  assertTypedOrVerdict(() => guard.signRequest({ ...base, body: '{}' }, { signingKey: 'not a key' }), 'bad key');
});

// Objects that only claim to be byte arrays or dates, clones of handles and throwing
// getters: each gets a typed error, and the KeyStore stays usable afterwards.

import { generateKeyPairSync } from 'node:crypto';

const NOW = 1778683152;

const pemPair = (() => generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
}));
const payer = pemPair();

function signedWire(privateKey = payer.privateKey) {
  const signed = guard.signRequest(
    {
      method: 'POST',
      url: 'https://hub.example/quotes',
      headers: { 'fspiop-source': 'payerfsp', 'fspiop-destination': 'payeefsp', date: new Date(NOW * 1000).toUTCString() },
      body: { quoteId: 'b51ec534-ee48-4575-b6a9-ead2955b8069', amount: { amount: '10', currency: 'USD' } },
    },
    { signingKey: privateKey },
  );
  return { method: 'POST', url: '/quotes', headers: Object.fromEntries(signed.headers), body: signed.body };
}

function assertTypedError(action, field, label) {
  assert.throws(action, (error) => {
    assert.ok(!(error instanceof WebAssembly.RuntimeError), `${label}: wasm trap`);
    assert.ok(CODES.has(error.code), `${label}: untyped ${error.constructor.name}: ${error.message}`);
    assert.equal(error.field, field, `${label}: field`);
    return true;
  }, label);
}

test('fake byte arrays and dates give typed errors', () => {
  const keys = new guard.KeyStore();
  keys.add('payerfsp', payer.publicKey);
  const wire = signedWire();
  const fakeBytes = Object.setPrototypeOf({ length: 3, 0: 123, 1: 125, 2: 0 }, Uint8Array.prototype);
  class ThrowingLength extends Uint8Array {
    get length() { throw new Error('length getter'); }
  }
  const fakeBuffer = Object.setPrototypeOf({ length: 2e7 }, ArrayBuffer.prototype);
  const fakeDate = Object.create(Date.prototype);
  const cases = [
    [{ ...wire, body: fakeBytes }, {}, 'request.body'],
    [{ ...wire, body: fakeBuffer }, {}, 'request.body'],
    [{ ...wire, headers: Object.entries(wire.headers), body: fakeBytes }, {}, 'request.body'],
    [wire, { now: fakeDate }, 'options.now'],
  ];
  for (const [request, extra, field] of cases) {
    assertTypedError(() => guard.verifyRequestSync(request, { keys, now: NOW, ...extra }), field, field);
  }
  assertTypedError(() => keys.add('other', payer.publicKey, { firstSeen: fakeDate }), 'options.firstSeen', 'firstSeen');

  // A genuine subclass whose length getter throws is read through the built-in getters.
  const subclassBody = new ThrowingLength(Buffer.from(wire.body));
  assert.equal(guard.verifyRequestSync({ ...wire, body: subclassBody }, { keys, now: NOW }).accepted, true);

  // The store was never left borrowed.
  assert.equal(keys.list().length >= 1, true);
  assert.equal(guard.verifyRequestSync(wire, { keys, now: NOW }).accepted, true);
});

test('copied and freed handles are rejected', () => {
  const keys = new guard.KeyStore();
  keys.add('payerfsp', payer.publicKey);
  const copy = Object.assign(Object.create(guard.KeyStore.prototype), keys);
  assertTypedError(() => guard.verifyRequestSync(signedWire(), { keys: copy, now: NOW }), 'options.keys', 'copy');

  const signingKey = new guard.SigningKey(payer.privateKey);
  const keyCopy = Object.assign(Object.create(guard.SigningKey.prototype), signingKey);
  assertTypedError(() => guard.signRequest(signedWire(), { signingKey: keyCopy }), 'signingKey', 'key copy');

  keys.free();
  assertTypedError(() => guard.verifyRequestSync(signedWire(), { keys, now: NOW }), 'options.keys', 'freed');
});

test('header limits apply before packing', () => {
  const keys = new guard.KeyStore();
  const headers = {};
  for (let index = 0; index < 300; index += 1) headers[`x-h${index}`] = 'v'.repeat(1024);
  assert.throws(
    () => guard.verifyRequestSync({ method: 'POST', url: '/quotes', headers, body: '{}' }, { keys, now: NOW }),
    (error) => error instanceof RangeError && error.field === 'request.headers',
  );
});

test('throwing getters give typed errors', () => {
  const keys = new guard.KeyStore();
  keys.add('payerfsp', payer.publicKey);
  const wire = signedWire();
  const throwing = (object, name) => Object.defineProperty({ ...object }, name, { get() { throw new Error(name); }, enumerable: true });

  assertTypedError(() => guard.verifyRequestSync(throwing(wire, 'body'), { keys, now: NOW }), 'request', 'body getter');
  assertTypedError(() => guard.verifyRequestSync(wire, throwing({ now: NOW }, 'keys')), 'options.keys', 'keys getter');
  assertTypedError(() => guard.verifyRequestSync(wire, throwing({ keys, now: NOW }, 'crypto')), 'options.crypto', 'crypto getter');
  assertTypedError(() => guard.verifyRequestSync(wire, { keys: throwing({}, 'payerfsp'), now: NOW }), 'options.keys', 'entry getter');

  const validator = new guard.JwsValidator({ validationKeys: throwing({}, 'payerfsp') });
  assertTypedError(
    () => validator.validate({ headers: wire.headers, body: JSON.parse(wire.body) }),
    'validationKeys["payerfsp"]',
    'validationKeys getter',
  );
  assertTypedError(
    () => new guard.JwsValidator({ validationKeys: {}, logger: { child() { throw new Error('child'); } } }),
    'logger',
    'logger.child',
  );
});

test('JwsValidator and JwsSigner reject unserialisable input with typed errors', () => {
  const validator = new guard.JwsValidator({ validationKeys: { payerfsp: payer.publicKey } });
  const wire = signedWire();
  const circular = { a: 1 };
  circular.self = circular;
  for (const body of [{ big: 10n }, circular]) {
    assertTypedError(() => validator.validate({ headers: wire.headers, body }), 'request.body', 'body');
  }
  const signer = new guard.JwsSigner({ signingKey: payer.privateKey });
  assertTypedError(() => signer.sign(null), 'requestOptions', 'sign(null)');
  assertTypedError(() => signer.getSignature(null), 'requestOptions', 'getSignature(null)');
});

test('JwsValidator remembers configured participants only', () => {
  const validator = new guard.JwsValidator({ validationKeys: { payerfsp: payer.publicKey } });
  const wire = signedWire();
  for (let index = 0; index < 200; index += 1) {
    const headers = { ...wire.headers, 'fspiop-source': `unknown${index}` };
    assert.throws(() => validator.validate({ headers, body: JSON.parse(wire.body) }));
  }
  assert.equal(validator.loadedKeys.size, 0);
});

test('a key Buffer rewritten in place takes effect', () => {
  const next = pemPair();
  const keyBuffer = Buffer.from(payer.publicKey);
  const keys = { payerfsp: keyBuffer };
  const validator = new guard.JwsValidator({ validationKeys: keys });
  const wire = signedWire(next.privateKey);
  assert.equal(guard.verifyRequestSync(wire, { keys, now: NOW }).accepted, false);
  assert.throws(() => validator.validate({ headers: wire.headers, body: JSON.parse(wire.body) }));

  const replacement = Buffer.from(next.publicKey);
  assert.equal(replacement.length, keyBuffer.length);
  replacement.copy(keyBuffer);
  assert.equal(guard.verifyRequestSync(wire, { keys, now: NOW }).accepted, true);
  assert.equal(validator.validate({ headers: wire.headers, body: JSON.parse(wire.body) }), true);
});
