// Interoperation with the real Mojaloop SDK (@mojaloop/sdk-standard-components 19.19.1,
// and 19.18.8 through an npm alias), installed as development dependencies: its signer
// against our validator and our signer against its validator, on seeded generated
// requests, and byte-for-byte equal RSA signatures.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createRequire } from 'node:module';
import { test } from 'node:test';

const require = createRequire(import.meta.url);
const guard = require('../node/index.cjs');

/** Number of generated requests; FSPIOP_GUARD_INTEROP_COUNT overrides it. */
const COUNT = Number(process.env.FSPIOP_GUARD_INTEROP_COUNT ?? 1000);
/** Seed of the generator; FSPIOP_GUARD_INTEROP_SEED overrides it. */
const SEED = Number(process.env.FSPIOP_GUARD_INTEROP_SEED ?? 1);

function loadSdk(name) {
  try {
    // The SDK adds process listeners when loaded; that is its business, not a leak here.
    return require(name);
  } catch (error) {
    return { error };
  }
}

const latest = loadSdk('@mojaloop/sdk-standard-components');
const legacy = loadSdk('sdk-standard-components-19.18.8');
const skip = latest.error || legacy.error
  ? `the Mojaloop SDK development dependencies are not installed (${(latest.error || legacy.error).message}); run make setup-js`
  : false;

/** A logger with the SDK's shape that prints nothing. */
const silentLogger = {
  isDebugEnabled: false,
  child() { return silentLogger; },
  debug() {}, info() {}, warn() {}, error() {}, verbose() {}, trace() {}, log() {},
  push() { return silentLogger; },
};

/** mulberry32: a small seeded generator, so a failing case can be reproduced by index. */
function generator(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PEM = { publicKeyEncoding: { type: 'spki', format: 'pem' } };
const participants = {
  payerfsp: generateKeyPairSync('rsa', { modulusLength: 2048, ...PEM, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } }),
  payeefsp: generateKeyPairSync('rsa', { modulusLength: 2048, ...PEM, privateKeyEncoding: { type: 'pkcs1', format: 'pem' } }),
  'dfsp-é': generateKeyPairSync('rsa', { modulusLength: 2048, ...PEM, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } }),
  ecfsp: generateKeyPairSync('ec', { namedCurve: 'P-256', ...PEM, privateKeyEncoding: { type: 'sec1', format: 'pem' } }),
};
const validationKeys = Object.fromEntries(Object.entries(participants).map(([id, pair]) => [id, pair.publicKey]));
const ids = Object.keys(participants);

const KEY_CHARACTERS = ['a', 'b', 'Z', '0', '9', '10', 'é', '李', '😀', '\uE000', ' ', '"', '\\', '\n', '\u2028'];

function pick(random, list) {
  return list[Math.floor(random() * list.length)];
}

function randomKey(random) {
  if (random() < 0.15) return String(Math.floor(random() * 20));
  let key = '';
  const length = 1 + Math.floor(random() * 6);
  for (let index = 0; index < length; index += 1) key += pick(random, KEY_CHARACTERS);
  return key === '__proto__' || key === 'exp' || key === 'nbf' ? `${key}_` : key;
}

function randomValue(random, depth) {
  const roll = random();
  if (depth < 4 && roll < 0.2) return randomObject(random, depth + 1);
  if (depth < 4 && roll < 0.3) return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(random, depth + 1));
  if (roll < 0.5) return randomKey(random) + randomKey(random);
  if (roll < 0.6) return pick(random, [0, -0, 1e21, 1e-7, 5e-324, 123.456, -17, 2 ** 53 + 2]);
  if (roll < 0.7) return random() * 1e6 - 5e5;
  if (roll < 0.8) return pick(random, [true, false, null]);
  return { amount: String(Math.floor(random() * 1000)), currency: pick(random, ['USD', 'EUR', 'XOF']) };
}

function randomObject(random, depth = 0) {
  const object = {};
  const members = Math.floor(random() * 6) + (depth === 0 ? 1 : 0);
  for (let index = 0; index < members; index += 1) object[randomKey(random)] = randomValue(random, depth);
  return object;
}

const RESOURCES = ['/quotes', '/transfers', '/parties/MSISDN/', '/fxTransfers', '/bulkQuotes', '/transactionRequests'];

/** Builds generated request `index`: method, URL, headers and body, without signature headers. */
function generatedRequest(index) {
  const random = generator(SEED * 1_000_003 + index);
  const source = pick(random, ids);
  const resource = pick(random, RESOURCES);
  const path = resource.endsWith('/') ? `${resource}${Math.floor(random() * 1e9)}` : `${resource}/${Math.floor(random() * 1e9)}`;
  const headers = {
    'content-type': 'application/vnd.interoperability.quotes+json;version=1.1',
    'fspiop-source': source,
  };
  if (random() < 0.85) headers.date = new Date(1778683152000 - Math.floor(random() * 1e9)).toUTCString();
  if (random() < 0.75) headers['fspiop-destination'] = pick(random, ids.filter((id) => id !== source));
  return {
    source,
    method: pick(random, ['POST', 'PUT', 'PATCH']),
    uri: `${pick(random, ['https://hub.example', 'http://switch:4000/prefix'])}${path}`,
    headers,
    body: randomObject(random),
    tamper: random() < 0.05,
  };
}

function requestOptions(generated) {
  return { method: generated.method, uri: generated.uri, headers: { ...generated.headers }, body: structuredClone(generated.body) };
}

/** Changes one value of a received body, or adds a member to an empty one. */
function tampered(body) {
  const copy = structuredClone(body);
  copy.tampered = 'yes';
  return copy;
}

/** Runs `validate` and returns true, or the thrown error's message. */
function outcome(validator, request) {
  try {
    return validator.validate(request);
  } catch (error) {
    return error.reason ?? error.message;
  }
}

test('SDK signers to our validator, our signer to SDK validators', { skip }, () => {
  const ours = new guard.JwsValidator({ validationKeys, logger: silentLogger });
  const sdkLatest = new latest.Jws.validator({ validationKeys, logger: silentLogger });
  const sdkLegacy = new legacy.Jws.validator({ validationKeys, logger: silentLogger });
  let compared = 0;

  for (let index = 0; index < COUNT; index += 1) {
    const generated = generatedRequest(index);
    const { privateKey } = participants[generated.source];
    const label = `seed ${SEED} case ${index}`;

    // Their 19.19.1 and 19.18.8 signers, our validator. The 19.19.1 signer puts its
    // sorted serialisation on the wire; the 19.18.8 one leaves the body to the HTTP client.
    for (const sdk of [latest, legacy]) {
      const options = requestOptions(generated);
      new sdk.Jws.signer({ signingKey: privateKey, logger: silentLogger }).sign(options);
      const wire = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      const body = generated.tamper ? tampered(JSON.parse(wire)) : JSON.parse(wire);
      const received = { headers: options.headers, body };
      const expected = generated.tamper ? 'SIGNATURE_MISMATCH' : true;
      assert.equal(outcome(ours, received), expected, `${label}: SDK ${sdk === latest ? '19.19.1' : '19.18.8'} signer`);
    }

    // Our signer in both modes, their validator of the matching version.
    for (const [mode, validator, sdk] of [['sdk-19.19', sdkLatest, latest], ['sdk-19.18', sdkLegacy, legacy]]) {
      const options = requestOptions(generated);
      new guard.JwsSigner({ signingKey: privateKey, logger: silentLogger, mode }).sign(options);
      const wire = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      const body = generated.tamper ? tampered(JSON.parse(wire)) : JSON.parse(wire);
      const result = outcome(validator, { headers: options.headers, body });
      if (generated.tamper) assert.match(String(result), /invalid signature/, `${label}: ${mode} tampered`);
      else assert.equal(result, true, `${label}: our ${mode} signer to SDK validator`);

      // RSA PKCS#1 v1.5 is deterministic, so the SDK signer must produce the same header.
      if (generated.source !== 'ecfsp') {
        const theirs = requestOptions(generated);
        new sdk.Jws.signer({ signingKey: privateKey, logger: silentLogger }).sign(theirs);
        assert.equal(options.headers['fspiop-signature'], theirs.headers['fspiop-signature'], `${label}: ${mode} signature bytes`);
        assert.equal(options.headers['fspiop-uri'], theirs.headers['fspiop-uri'], `${label}: ${mode} FSPIOP-URI`);
        if (mode === 'sdk-19.19') assert.equal(options.body, theirs.body, `${label}: ${mode} wire body`);
      }
    }
    compared += 1;
  }
  console.log(`${compared} generated requests (seed ${SEED}) interoperate with SDK 19.19.1 and 19.18.8`);
});
