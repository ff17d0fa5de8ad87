// The SDK-signed corpus through the npm package, on both crypto paths (node:crypto and
// ring inside the wasm) and through the browser entry with WebCrypto. Every verdict must
// equal the native CLI's for the same request, keys and time.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createRequire } from 'node:module';

import {
  CORPUS_TIME, JS_DIR, cliPath, cliVerdicts, headerPairs, loadCorpus, nodeRequestHeaders, parseLikeSdk,
} from './helpers.mjs';

const require = createRequire(import.meta.url);
const guard = require('../node/index.cjs');

const corpus = loadCorpus();
const cli = cliPath();
const skip = corpus.skip ?? (cli === undefined ? 'the fspiop-guard CLI is not built; run make build' : false);

function wireRequest(testCase) {
  const { method, url, body } = testCase.request;
  return { method, url, headers: headerPairs(testCase.request), body };
}

test('corpus verdicts equal the CLI on both crypto paths', { skip }, () => {
  const items = corpus.cases.map((testCase) => ({ request: wireRequest(testCase), keys: testCase.keys }));
  const expected = cliVerdicts(cli, items);
  const before = guard.engineCounts.nodeCrypto;

  for (const [index, testCase] of corpus.cases.entries()) {
    for (const crypto of ['node', 'wasm']) {
      const verdict = guard.verifyRequestSync(items[index].request, { keys: testCase.keys, now: CORPUS_TIME, crypto });
      assert.deepEqual(verdict, expected[index], `${testCase.name} (${crypto})`);
    }
  }
  assert.ok(guard.engineCounts.nodeCrypto > before, 'node:crypto did no signature check');
  console.log(`${corpus.cases.length} corpus cases x 2 crypto paths agree with the CLI`);
});

test('packed and member-by-member reads give the same verdicts', { skip }, () => {
  // Headers as an object of strings take the packed path into the wasm; as [name, value]
  // pairs they are read one member at a time.
  for (const testCase of corpus.cases) {
    const { method, url, headers, body } = testCase.request;
    const options = { keys: testCase.keys, now: CORPUS_TIME };
    const byMember = guard.verifyRequestSync({ method, url, headers: headerPairs(testCase.request), body }, options);
    const packed = guard.verifyRequestSync({ method, url, headers: { ...headers }, body }, options);
    assert.deepEqual(packed, byMember, testCase.name);
    if (typeof body === 'string') {
      const asBytes = guard.verifyRequestSync({ method, url, headers: { ...headers }, body: Buffer.from(body) }, options);
      assert.deepEqual(asBytes, byMember, `${testCase.name} (body as bytes)`);
    }
  }
});

test('verifyRequest resolves to the synchronous verdict', { skip }, async () => {
  const testCase = corpus.cases[0];
  const options = { keys: testCase.keys, now: CORPUS_TIME };
  const verdict = await guard.verifyRequest(wireRequest(testCase), options);
  assert.deepEqual(verdict, guard.verifyRequestSync(wireRequest(testCase), options));
});

test('JwsValidator agrees with the CLI on SDK-parsed bodies', { skip }, () => {
  // An SDK inbound server parses the body before it calls the validator, so the native
  // oracle gets the body the validator verifies: the JSON text of the parsed value.
  const parsedCases = [];
  for (const testCase of corpus.cases) {
    const parsed = parseLikeSdk(testCase.request.body);
    if (parsed.error !== undefined) {
      assert.equal(testCase.expected, 'invalid', `${testCase.name}: the SDK rejects an unparsable body`);
      continue;
    }
    parsedCases.push({ testCase, body: parsed.body });
  }
  const items = parsedCases.map(({ testCase, body }) => ({
    request: { ...wireRequest(testCase), body: JSON.stringify(body) },
    keys: testCase.keys,
  }));
  const expected = cliVerdicts(cli, items);

  for (const [index, { testCase, body }] of parsedCases.entries()) {
    for (const crypto of ['node', 'wasm']) {
      const validator = new guard.JwsValidator({ validationKeys: testCase.keys, logger: {}, crypto, now: CORPUS_TIME });
      const headers = nodeRequestHeaders(testCase.request);
      let outcome;
      try {
        outcome = { accepted: validator.validate({ headers, body }) };
      } catch (error) {
        outcome = { accepted: false, reason: error.reason, fspiopErrorCode: error.fspiopErrorCode };
      }
      const want = expected[index];
      assert.equal(outcome.accepted, want.accepted, `${testCase.name} (${crypto}): ${want.message}`);
      if (!want.accepted) {
        assert.equal(outcome.reason, want.reason, `${testCase.name} (${crypto})`);
        assert.equal(outcome.fspiopErrorCode, want.fspiop_error, `${testCase.name} (${crypto})`);
      }
    }
  }
  console.log(`${parsedCases.length} parsed corpus cases x 2 crypto paths agree with the CLI`);
});

test('browser entry with WebCrypto equals the CLI', { skip }, async () => {
  const web = await import('../web/index.js');
  await web.init(readFileSync(join(JS_DIR, 'dist/web/fspiop_guard_wasm_bg.wasm')));
  const items = corpus.cases.map((testCase) => ({ request: wireRequest(testCase), keys: testCase.keys }));
  const expected = cliVerdicts(cli, items);

  for (const [index, testCase] of corpus.cases.entries()) {
    for (const crypto of ['webcrypto', 'wasm']) {
      const verdict = await web.verifyRequest(items[index].request, { keys: testCase.keys, now: CORPUS_TIME, crypto });
      assert.deepEqual(verdict, expected[index], `${testCase.name} (${crypto})`);
    }
  }
  assert.ok(web.engineCounts.webCrypto > 0, 'WebCrypto did no signature check');
  console.log(`WebCrypto decided ${web.engineCounts.webCrypto} checks, ring ${web.engineCounts.webCryptoFallback}`);
});

test('a lying crypto engine changes verdicts, so the comparison can fail', { skip }, () => {
  const items = corpus.cases.map((testCase) => ({ request: wireRequest(testCase), keys: testCase.keys }));
  const expected = cliVerdicts(cli, items);
  const differing = corpus.cases.filter((testCase, index) => {
    const verdict = guard.verifyRequestSync(items[index].request, { keys: testCase.keys, now: CORPUS_TIME, crypto: () => true });
    return verdict.accepted !== expected[index].accepted;
  });
  assert.ok(differing.length > 0);
});
