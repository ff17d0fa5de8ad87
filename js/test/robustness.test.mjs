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
