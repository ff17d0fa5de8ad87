// The certificate, CSR, PEM inspection and JWT functions of the npm package. Every chain
// and CSR case of the core's fixtures goes through the package and through the native
// CLI with --json at the same time and policy, and the two reports must be equal. JWTs are
// made here with node:crypto. Hostile arguments must give a typed error or a rejecting
// report, never a wasm trap.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import { REPO_DIR, cliPath } from './helpers.mjs';

const require = createRequire(import.meta.url);
const guard = require('../node/index.cjs');

const CASES_DIR = join(REPO_DIR, 'crates/core/tests/fixtures/pki/cases');
const chainCases = JSON.parse(readFileSync(join(CASES_DIR, 'cases.json'), 'utf8'));
const csrCases = JSON.parse(readFileSync(join(CASES_DIR, 'csr-cases.json'), 'utf8'));
const pemFiles = readdirSync(CASES_DIR).filter((name) => name.endsWith('.pem')).sort();

const cli = cliPath();
const noCli = cli === undefined ? 'the fspiop-guard CLI is not built; run make build' : false;

/** Time of the fixture cases, 2026-05-13T14:39:12Z, in unix seconds. */
const CASE_TIME = 1778683152;

const ERROR_CODES = new Set([
  'ERR_FSPIOP_GUARD_INVALID_ARGUMENT', 'ERR_FSPIOP_GUARD_LIMIT_EXCEEDED', 'ERR_FSPIOP_GUARD_INVALID_KEY',
  'ERR_FSPIOP_GUARD_INVALID_PEM',
]);

let scratch;
after(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Returns a fresh scratch folder for files the CLI reads. */
function scratchDir() {
  scratch ??= mkdtempSync(join(tmpdir(), 'fspiop-guard-pki-'));
  return scratch;
}

/** Runs the CLI and returns its JSON report; exit 0 is valid and 1 rejected. */
function cliReport(args) {
  const result = spawnSync(cli, args, { encoding: 'utf8' });
  assert.ok(
    result.status === 0 || result.status === 1,
    `fspiop-guard ${args.join(' ')} exited ${result.status}: ${result.stderr}`,
  );
  return JSON.parse(result.stdout);
}

/** Returns the package options and the CLI arguments of a chain case. */
function chainCaseInputs(testCase) {
  const options = { usage: testCase.usage, at: Date.parse(testCase.at) / 1000 };
  const args = [
    'chain', join(CASES_DIR, testCase.bundle), '--ca', join(CASES_DIR, testCase.anchors),
    '--usage', testCase.usage, '--at', testCase.at, '--json',
  ];
  if (testCase.policy !== undefined) {
    options.policy = testCase.policy;
    args.push('--policy', testCase.policy);
  }
  if (testCase.expected_name !== undefined) {
    options.expectedName = testCase.expected_name;
    args.push('--name', testCase.expected_name);
  }
  return { options, args };
}

/** The CSR policies the cases name, as package options and as CLI arguments. */
const CSR_POLICIES = {
  mcm: { policy: 'mcm', args: [] },
  'mcm-2048': { policy: { minRsaBits: 2048 }, args: ['--min-rsa-bits', '2048'] },
  'mcm-cn': { policy: { requiredSubjectFields: ['CN'] }, args: ['--require-subject', 'CN'] },
  'mcm-ecdsa-alg': {
    policy: { allowedSignatureAlgorithms: ['sha256WithRSAEncryption', 'sha512WithRSAEncryption', 'ecdsa-with-SHA256'] },
    args: [
      '--allow-signature-algorithm', 'sha256WithRSAEncryption',
      '--allow-signature-algorithm', 'sha512WithRSAEncryption',
      '--allow-signature-algorithm', 'ecdsa-with-SHA256',
    ],
  },
};

/** Returns the DER bytes of the first PEM block of a file. */
function firstBlockDer(name) {
  const text = readFileSync(join(CASES_DIR, name), 'utf8');
  const block = /-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----/.exec(text);
  assert.ok(block, `${name} has no PEM block`);
  return Buffer.from(block[2].replace(/\s+/g, ''), 'base64');
}

describe('chain cases match the CLI', { skip: noCli }, () => {
  for (const testCase of chainCases) {
    test(testCase.name, () => {
      const { options, args } = chainCaseInputs(testCase);
      const expected = cliReport(args);
      const bundle = readFileSync(join(CASES_DIR, testCase.bundle));
      const anchors = readFileSync(join(CASES_DIR, testCase.anchors));

      const fromBytes = guard.checkChain(bundle, anchors, options);
      assert.deepEqual(fromBytes, expected, 'Buffer input');
      const fromText = guard.checkChain(bundle.toString('utf8'), anchors.toString('utf8'), { ...options, at: new Date(options.at * 1000) });
      assert.deepEqual(fromText, expected, 'string input with a Date');
      assert.equal(fromBytes.reason ?? null, testCase.expected_reason, fromBytes.detail);
      assert.equal(fromBytes.valid, testCase.expected_reason === null);
    });
  }
});

describe('CSR cases match the CLI', { skip: noCli }, () => {
  for (const testCase of csrCases) {
    test(testCase.name, () => {
      const policy = CSR_POLICIES[testCase.policy];
      assert.ok(policy, `unknown CSR policy ${testCase.policy}`);
      const path = join(CASES_DIR, testCase.csr);
      const expected = cliReport(['csr', path, '--json', ...policy.args]);

      const fromBytes = guard.checkCsr(readFileSync(path), { policy: policy.policy });
      assert.deepEqual(fromBytes, expected, 'Buffer input');
      const fromText = guard.checkCsr(readFileSync(path, 'utf8'), { policy: policy.policy });
      assert.deepEqual(fromText, expected, 'string input');
      assert.equal(fromBytes.reason ?? null, testCase.expected_reason, fromBytes.detail);
    });
  }
});

describe('DER input matches the CLI', { skip: noCli }, () => {
  test('DER leaf and DER anchor', () => {
    const leaf = firstBlockDer('pm4ml-server.pem');
    const anchor = firstBlockDer('pm4ml-root.pem');
    const leafPath = join(scratchDir(), 'leaf.der');
    const anchorPath = join(scratchDir(), 'anchor.der');
    writeFileSync(leafPath, leaf);
    writeFileSync(anchorPath, anchor);
    const expected = cliReport(['chain', leafPath, '--ca', anchorPath, '--usage', 'server', '--at', '2026-05-13T14:39:12Z', '--json']);
    const report = guard.checkChain(new Uint8Array(leaf), anchor.buffer.slice(anchor.byteOffset, anchor.byteOffset + anchor.length), { usage: 'server', at: CASE_TIME });
    assert.deepEqual(report, expected);
    assert.equal(report.valid, true, report.detail);
  });

  test('DER certificate request', () => {
    const der = firstBlockDer('csr-rsa4096-sha256.pem');
    const path = join(scratchDir(), 'request.der');
    writeFileSync(path, der);
    const expected = cliReport(['csr', path, '--json']);
    const report = guard.checkCsr(der);
    assert.deepEqual(report, expected);
    assert.equal(report.valid, true, report.detail);
  });
});

describe('inspectPem matches inspect --cert --json', { skip: noCli }, () => {
  for (const name of pemFiles) {
    test(name, () => {
      const path = join(CASES_DIR, name);
      const result = spawnSync(cli, ['inspect', '--cert', path, '--json'], { encoding: 'utf8' });
      const input = readFileSync(path);
      if (result.status === 0) {
        assert.deepEqual(guard.inspectPem(input), JSON.parse(result.stdout));
        return;
      }
      assert.throws(() => guard.inspectPem(input), (error) => {
        assert.equal(error.code, 'ERR_FSPIOP_GUARD_INVALID_PEM');
        assert.match(error.reason, /^[A-Z_]+$/);
        assert.equal(result.stderr.trim(), `fspiop-guard: ${error.message}`);
        return true;
      });
    });
  }
});

test('inspectPem lists a CSR and skips a key', () => {
  const csr = readFileSync(join(CASES_DIR, 'csr-ec.pem'), 'utf8');
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const inspection = guard.inspectPem(`${publicKey}${csr}`);
  assert.equal(inspection.items.length, 1);
  assert.equal(inspection.items[0].certificate_request.key.type, 'ec');
});

// JWTs signed here with node:crypto, checked at a fixed time.

const rsa = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const ec = generateKeyPairSync('ec', {
  namedCurve: 'P-256',
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});

function base64url(value) {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** Returns a compact JWT signed with the alg its header names: RS256, ES256, HS256 or none. */
function makeJwt(header, claims, key) {
  const input = `${base64url(header)}.${base64url(claims)}`;
  let signature;
  if (header.alg === 'RS256') signature = sign('sha256', Buffer.from(input), key);
  else if (header.alg === 'ES256') signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  else if (header.alg === 'HS256') signature = createHmac('sha256', key).update(input).digest();
  else signature = Buffer.alloc(0);
  return `${input}.${signature.toString('base64url')}`;
}

function jwtStore() {
  const store = new guard.KeyStore();
  const rsaKid = store.add('hub-iam', rsa.publicKey).kid;
  const ecKid = store.add('pm4ml', ec.publicKey).kid;
  return { store, rsaKid, ecKid };
}

describe('verifyJwt', () => {
  const { store, rsaKid } = jwtStore();
  const claims = { iss: 'https://iam.hub.example', aud: 'fspiop', sub: 'payerfsp', exp: CASE_TIME + 300 };

  test('valid RS256 token', () => {
    const token = makeJwt({ alg: 'RS256', typ: 'JWT', kid: rsaKid }, claims, rsa.privateKey);
    const result = guard.verifyJwt(token, store, { at: CASE_TIME, issuers: [claims.iss], audiences: ['fspiop'] });
    assert.equal(result.valid, true, result.detail);
    assert.equal(result.reason, undefined);
    assert.equal(result.alg, 'RS256');
    assert.equal(result.kid, rsaKid);
    assert.equal(result.participant, 'hub-iam');
    assert.equal(result.expires, claims.exp);
    assert.deepEqual(result.claims, claims);
    assert.deepEqual(result.warnings, []);
  });

  test('ES256 token without kid', () => {
    const token = makeJwt({ alg: 'ES256' }, claims, ec.privateKey);
    const result = guard.verifyJwt(token, store, { at: new Date(CASE_TIME * 1000), participant: 'pm4ml' });
    assert.equal(result.valid, true, result.detail);
    assert.equal(result.kid, null);
    assert.equal(result.participant, 'pm4ml');
  });

  test('keys as a plain object', () => {
    const token = makeJwt({ alg: 'ES256' }, claims, ec.privateKey);
    const result = guard.verifyJwt(token, { pm4ml: ec.publicKey }, { at: CASE_TIME, participant: 'pm4ml' });
    assert.equal(result.valid, true, result.detail);
  });

  test('expired at exp equal to now', () => {
    const token = makeJwt({ alg: 'RS256', kid: rsaKid }, { ...claims, exp: CASE_TIME }, rsa.privateKey);
    const result = guard.verifyJwt(token, store, { at: CASE_TIME });
    assert.equal(result.valid, false);
    assert.equal(result.reason, 'JWT_EXPIRED');
    assert.match(result.detail, /expired/);
    assert.equal(result.claims, undefined);
    assert.equal(guard.verifyJwt(token, store, { at: CASE_TIME - 1 }).valid, true);
    assert.equal(guard.verifyJwt(token, store, { at: CASE_TIME, leewaySeconds: 1 }).valid, true);
  });

  test('alg none', () => {
    const token = makeJwt({ alg: 'none' }, claims);
    const result = guard.verifyJwt(token, store, { at: CASE_TIME, participant: 'hub-iam' });
    assert.equal(result.reason, 'JWT_ALG_NONE');
  });

  test('HMAC signed with the public key', () => {
    const token = makeJwt({ alg: 'HS256', kid: rsaKid }, claims, rsa.publicKey);
    const result = guard.verifyJwt(token, store, { at: CASE_TIME });
    assert.equal(result.reason, 'JWT_ALG_NOT_ALLOWED');
    const listed = guard.verifyJwt(token, store, { at: CASE_TIME, algorithms: ['HS256', 'RS256'] });
    assert.equal(listed.reason, 'JWT_ALG_NOT_ALLOWED');
  });

  test('altered claims', () => {
    const token = makeJwt({ alg: 'RS256', kid: rsaKid }, claims, rsa.privateKey);
    const [header, , signature] = token.split('.');
    const altered = `${header}.${base64url({ ...claims, sub: 'payeefsp' })}.${signature}`;
    assert.equal(guard.verifyJwt(altered, store, { at: CASE_TIME }).reason, 'JWT_SIGNATURE_INVALID');
  });

  test('issuer, audience, kid and size rejections', () => {
    const token = makeJwt({ alg: 'RS256', kid: rsaKid }, claims, rsa.privateKey);
    assert.equal(guard.verifyJwt(token, store, { at: CASE_TIME, issuers: ['other'] }).reason, 'JWT_ISSUER_MISMATCH');
    assert.equal(guard.verifyJwt(token, store, { at: CASE_TIME, audiences: ['other'] }).reason, 'JWT_AUDIENCE_MISMATCH');
    assert.equal(guard.verifyJwt(token, store, { at: CASE_TIME, participant: 'pm4ml' }).reason, 'JWT_KEY_NOT_FOUND');
    assert.equal(guard.verifyJwt(token, new guard.KeyStore(), { at: CASE_TIME }).reason, 'JWT_KEY_NOT_FOUND');
    const noExp = makeJwt({ alg: 'RS256', kid: rsaKid }, { iss: claims.iss }, rsa.privateKey);
    assert.equal(guard.verifyJwt(noExp, store, { at: CASE_TIME }).reason, 'JWT_EXP_MISSING');
    assert.equal(guard.verifyJwt(noExp, store, { at: CASE_TIME, requireExp: false }).valid, true);
    const large = makeJwt({ alg: 'RS256', kid: rsaKid }, { ...claims, pad: 'x'.repeat(20000) }, rsa.privateKey);
    assert.equal(guard.verifyJwt(large, store, { at: CASE_TIME }).reason, 'JWT_TOO_LARGE');
    assert.equal(guard.verifyJwt('not a token', store, { at: CASE_TIME }).reason, 'JWT_MALFORMED');
  });
});

// Hostile arguments: each gives a typed error naming the field, or a rejecting report.

function assertTypedError(action, field, label, Kind = TypeError) {
  assert.throws(action, (error) => {
    assert.ok(!(error instanceof WebAssembly.RuntimeError), `${label}: wasm trap`);
    assert.ok(error instanceof Kind, `${label}: ${error.constructor.name}: ${error.message}`);
    assert.ok(ERROR_CODES.has(error.code), `${label}: untyped ${error.constructor.name}: ${error.message}`);
    assert.equal(error.field, field, `${label}: field`);
    return true;
  }, label);
}

const validBundle = readFileSync(join(CASES_DIR, 'client-chain.pem'));
const validAnchors = readFileSync(join(CASES_DIR, 'hub-root.pem'));
const validCsr = readFileSync(join(CASES_DIR, 'csr-rsa4096-sha256.pem'));

test('wrong argument types give TypeErrors', () => {
  const store = new guard.KeyStore();
  for (const value of [undefined, null, 42, true, 10n, Symbol('s'), {}, [], () => 1, new Date(0), new Uint16Array(4)]) {
    const label = typeof value === 'symbol' ? 'symbol' : String(value);
    assertTypedError(() => guard.checkChain(value, validAnchors), 'bundle', `bundle ${label}`);
    assertTypedError(() => guard.checkChain(validBundle, value), 'anchors', `anchors ${label}`);
    assertTypedError(() => guard.checkCsr(value), 'csr', `csr ${label}`);
    assertTypedError(() => guard.inspectPem(value), 'input', `input ${label}`);
    assertTypedError(() => guard.verifyJwt(value, store), 'token', `token ${label}`);
  }
  assertTypedError(() => guard.verifyJwt('a.b.c', 'keys'), 'keyStore', 'keyStore string');
  assertTypedError(() => guard.checkChain(validBundle, validAnchors, 'client'), 'options', 'options string');
});

test('invalid option values give TypeErrors', () => {
  const store = new guard.KeyStore();
  const chainOptions = [
    [{ usage: 'peer' }, 'options.usage'],
    [{ usage: 1 }, 'options.usage'],
    [{ policy: 'strict' }, 'options.policy'],
    [{ at: Number.NaN }, 'options.at'],
    [{ at: 'yesterday' }, 'options.at'],
    [{ at: Object.create(Date.prototype) }, 'options.at'],
    [{ minRsaBits: -1 }, 'options.minRsaBits'],
    [{ minRsaBits: 2048.5 }, 'options.minRsaBits'],
    [{ expectedName: 'x'.repeat(2000) }, 'options.expectedName', RangeError],
  ];
  for (const [index, [options, field, Kind]] of chainOptions.entries()) {
    assertTypedError(() => guard.checkChain(validBundle, validAnchors, options), field, `chain options ${index}`, Kind);
  }
  const csrOptions = [
    [{ policy: 'default' }, 'options.policy'],
    [{ policy: [] }, 'options.policy'],
    [{ policy: { requiredSubjectFields: ['XX'] } }, 'options.policy.requiredSubjectFields'],
    [{ policy: { requiredSubjectFields: 'CN' } }, 'options.policy.requiredSubjectFields'],
    [{ policy: { allowedSignatureAlgorithms: [] } }, 'options.policy.allowedSignatureAlgorithms'],
    [{ policy: { allowedSignatureAlgorithms: [5] } }, 'options.policy.allowedSignatureAlgorithms[0]'],
    [{ policy: { allowedKeyTypes: ['dsa'] } }, 'options.policy.allowedKeyTypes'],
    [{ policy: { minRsaBits: '4096' } }, 'options.policy.minRsaBits'],
  ];
  for (const [options, field] of csrOptions) {
    assertTypedError(() => guard.checkCsr(validCsr, options), field, JSON.stringify(options));
  }
  const jwtOptions = [
    [{ leewaySeconds: 1e9 }, 'options.leewaySeconds'],
    [{ issuers: 'iss' }, 'options.issuers'],
    [{ audiences: [null] }, 'options.audiences[0]'],
    [{ algorithms: [] }, 'options.algorithms'],
    [{ participant: 7 }, 'options.participant'],
    [{ requireExp: 'no' }, 'options.requireExp'],
  ];
  for (const [options, field] of jwtOptions) {
    assertTypedError(() => guard.verifyJwt('a.b.c', store, options), field, JSON.stringify(options));
  }
});

test('CSR policy object keeps the fields it does not name', () => {
  const report = guard.checkCsr(readFileSync(join(CASES_DIR, 'csr-ec.pem')), {
    policy: { allowedKeyTypes: ['rsa', 'ec'], allowedSignatureAlgorithms: ['ecdsa-with-SHA256'] },
  });
  assert.equal(report.valid, true, report.detail);
  const smallRsa = guard.checkCsr(readFileSync(join(CASES_DIR, 'csr-rsa2048.pem')), { policy: { requiredSubjectFields: [] } });
  assert.equal(smallRsa.reason, 'CSR_KEY_TOO_SMALL');
});

test('inputs over 1 MiB give RangeErrors', () => {
  const store = new guard.KeyStore();
  const text = 'A'.repeat(5 * 1024 * 1024);
  const bytes = new Uint8Array(5 * 1024 * 1024).fill(0x41);
  for (const value of [text, bytes, bytes.buffer]) {
    assertTypedError(() => guard.checkChain(value, validAnchors), 'bundle', 'bundle', RangeError);
    assertTypedError(() => guard.checkChain(validBundle, value), 'anchors', 'anchors', RangeError);
    assertTypedError(() => guard.checkCsr(value), 'csr', 'csr', RangeError);
    assertTypedError(() => guard.inspectPem(value), 'input', 'input', RangeError);
  }
  assertTypedError(() => guard.verifyJwt(text, store), 'token', 'token', RangeError);
  // Characters beyond U+007F take more than one UTF-8 byte each.
  assertTypedError(() => guard.checkChain('é'.repeat(600 * 1024), validAnchors), 'bundle', 'multi-byte text', RangeError);
});

test('garbage under the limit gives a rejecting report', () => {
  let state = 1;
  const garbage = new Uint8Array(1024 * 1024 - 1).map(() => {
    state = (state * 1103515245 + 12345) >>> 0;
    return state >>> 24;
  });
  for (const first of [0x30, 0x41]) {
    garbage[0] = first;
    const chain = guard.checkChain(garbage, validAnchors, { at: CASE_TIME });
    assert.equal(chain.valid, false);
    assert.match(chain.reason, /^(CERT_MALFORMED|PEM_NO_CERTIFICATE|PEM_MALFORMED)$/, chain.detail);
    const anchors = guard.checkChain(validBundle, garbage, { at: CASE_TIME });
    assert.equal(anchors.reason, 'TRUST_ANCHOR_INVALID', anchors.detail);
    const csr = guard.checkCsr(garbage);
    assert.equal(csr.valid, false);
    assert.match(csr.reason, /^(CSR_MALFORMED|PEM_MALFORMED)$/, csr.detail);
  }
  assert.equal(guard.checkChain('', validAnchors).reason, 'PEM_NO_CERTIFICATE');
  assert.deepEqual(guard.inspectPem(''), { items: [], warnings: [] });
});

test('throwing getters and Proxies give TypeErrors', () => {
  const { store, rsaKid } = jwtStore();
  const throwing = (name) => Object.defineProperty({}, name, { get() { throw new Error(name); }, enumerable: true });
  const throwingProxy = new Proxy({}, { get() { throw new Error('trap'); }, getPrototypeOf() { throw new Error('trap'); } });
  const { proxy: revoked, revoke } = Proxy.revocable({}, {});
  revoke();

  for (const name of ['usage', 'at', 'policy', 'expectedName', 'minRsaBits']) {
    assertTypedError(() => guard.checkChain(validBundle, validAnchors, throwing(name)), 'options', `chain ${name} getter`);
  }
  assertTypedError(() => guard.checkCsr(validCsr, throwing('policy')), 'options', 'csr policy getter');
  assertTypedError(() => guard.checkCsr(validCsr, { policy: throwing('minRsaBits') }), 'options.policy', 'csr minRsaBits getter');
  for (const name of ['at', 'issuers', 'participant', 'requireExp']) {
    assertTypedError(() => guard.verifyJwt('a.b.c', store, throwing(name)), 'options', `jwt ${name} getter`);
  }
  assertTypedError(() => guard.verifyJwt('a.b.c', throwing('pm4ml'), {}), 'keyStore', 'keys entry getter');

  for (const proxy of [throwingProxy, revoked]) {
    assertTypedError(() => guard.checkChain(proxy, validAnchors), 'bundle', 'bundle Proxy');
    assertTypedError(() => guard.checkChain(validBundle, validAnchors, proxy), 'options', 'options Proxy');
    assertTypedError(() => guard.checkCsr(validCsr, { policy: proxy }), 'options.policy', 'policy Proxy');
    assertTypedError(() => guard.verifyJwt('a.b.c', store, proxy), 'options', 'jwt options Proxy');
    assertTypedError(() => guard.verifyJwt('a.b.c', store, { issuers: proxy }), 'options.issuers', 'issuers Proxy');
  }

  // A Proxy over a genuine Uint8Array is not one: the built-in getters reject it.
  assertTypedError(() => guard.checkChain(new Proxy(validBundle, {}), validAnchors), 'bundle', 'Proxy of a Buffer');
  // An array whose length getter throws.
  const badList = new Proxy([], { get(target, name) { if (name === 'length') throw new Error('length'); return target[name]; } });
  assertTypedError(() => guard.verifyJwt('a.b.c', store, { audiences: badList }), 'options.audiences', 'list length getter');

  // The store was never left borrowed.
  const token = makeJwt({ alg: 'RS256', kid: rsaKid }, { exp: CASE_TIME + 60 }, rsa.privateKey);
  assert.equal(guard.verifyJwt(token, store, { at: CASE_TIME }).valid, true);
  assert.equal(store.size, 2);
});

test('fake, detached and copied objects give TypeErrors', () => {
  const fakeBytes = Object.setPrototypeOf({ length: 3, 0: 0x30, 1: 1, 2: 0 }, Uint8Array.prototype);
  assertTypedError(() => guard.checkChain(fakeBytes, validAnchors), 'bundle', 'fake Uint8Array');
  const fakeBuffer = Object.setPrototypeOf({ byteLength: 2e7 }, ArrayBuffer.prototype);
  assertTypedError(() => guard.checkCsr(fakeBuffer), 'csr', 'fake ArrayBuffer');

  const detached = new Uint8Array(validBundle);
  structuredClone(detached.buffer, { transfer: [detached.buffer] });
  assertTypedError(() => guard.checkChain(detached, validAnchors), 'bundle', 'detached Uint8Array');

  const { store } = jwtStore();
  const copy = Object.assign(Object.create(guard.KeyStore.prototype), store);
  assertTypedError(() => guard.verifyJwt('a.b.c', copy), 'keyStore', 'KeyStore copy');
  const freed = new guard.KeyStore();
  freed.free();
  assertTypedError(() => guard.verifyJwt('a.b.c', freed), 'keyStore', 'freed KeyStore');
});

test('random arguments never trap', () => {
  let state = 11;
  const random = () => {
    state = (state * 1103515245 + 12345) >>> 0;
    return state / 4294967296;
  };
  const { store } = jwtStore();
  const pool = [
    undefined, null, 0, -1, 1e300, Number.NaN, '', 'client', 'server', 'mcm', '-----BEGIN CERTIFICATE-----\n',
    validBundle, validAnchors.toString('utf8'), validCsr, new Uint8Array([0x30, 0x82, 0xff, 0xff]), new ArrayBuffer(8),
    {}, [], ['CN'], [1, 2], { usage: 'server' }, { policy: { minRsaBits: 1 } }, new Date(Number.NaN), new Date(0),
    Symbol('s'), 10n, () => {}, 'a.b.c', 'e30.e30.', store,
  ];
  const pick = () => pool[Math.floor(random() * pool.length)];
  const randomOptions = () => (random() < 0.3 ? pick() : {
    usage: pick(), at: pick(), policy: pick(), expectedName: pick(), minRsaBits: pick(),
    issuers: pick(), audiences: pick(), algorithms: pick(), participant: pick(), requireExp: pick(), leewaySeconds: pick(),
  });
  const calls = [
    () => guard.checkChain(pick(), pick(), randomOptions()),
    () => guard.checkCsr(pick(), randomOptions()),
    () => guard.inspectPem(pick()),
    () => guard.verifyJwt(pick(), random() < 0.7 ? store : pick(), randomOptions()),
  ];
  for (let index = 0; index < 2000; index += 1) {
    const call = calls[index % calls.length];
    try {
      const result = call();
      assert.equal(typeof result, 'object', `case ${index}: no report`);
      assert.notEqual(result, null, `case ${index}: null report`);
    } catch (error) {
      assert.ok(!(error instanceof WebAssembly.RuntimeError), `case ${index}: wasm trap ${error.message}`);
      assert.ok(ERROR_CODES.has(error.code), `case ${index}: untyped ${error.constructor.name}: ${error.message}`);
    }
  }
  assert.equal(store.size, 2);
});
