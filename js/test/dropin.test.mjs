// Drop-in check: a minimal inbound handler written against the SDK validator API (as
// sdk-scheme-adapter's inbound server uses it) serves the corpus over loopback HTTP, once
// with the SDK 19.19.1 JwsValidator and once with ours swapped in. Every case where the
// two return different responses must be one of the deviations listed in docs/CONFORMANCE.md.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';

import { loadCorpus, parseLikeSdk } from './helpers.mjs';

const require = createRequire(import.meta.url);
const guard = require('../node/index.cjs');

let sdk;
try {
  sdk = require('@mojaloop/sdk-standard-components');
} catch (error) {
  sdk = { error };
}
const corpus = loadCorpus();
const skip = corpus.skip ?? (sdk.error ? `@mojaloop/sdk-standard-components is not installed (${sdk.error.message}); run make setup-js` : false);

const silentLogger = {
  isDebugEnabled: false,
  child() { return silentLogger; },
  debug() {}, info() {}, warn() {}, error() {}, verbose() {}, trace() {}, log() {},
};

/** The validator each request is judged by; swapped between the two runs. */
let currentValidator;

/**
 * Responds 202 when the JWS validates, 400 with FSPIOP error 3101 for a body the SDK's
 * body parser rejects, and 400 with 3105 for any validation error, as sdk-scheme-adapter does.
 */
function inboundHandler(req, res) {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const parsed = parseLikeSdk(Buffer.concat(chunks).toString('utf8'));
    let status = 202;
    let errorCode = null;
    if (parsed.error !== undefined) {
      status = 400;
      errorCode = '3101';
    } else {
      try {
        currentValidator.validate({ headers: req.headers, body: parsed.body });
      } catch {
        status = 400;
        errorCode = '3105';
      }
    }
    res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify(errorCode === null ? {} : { errorInformation: { errorCode } }));
  });
}

let server;
let port;

before(async () => {
  if (skip) return;
  server = createServer(inboundHandler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = server.address().port;
});

after(() => server?.close());

/** Sends a corpus request with its exact header lines and returns the status and error code. */
function send(request) {
  const body = Buffer.from(request.body ?? '', 'utf8');
  const lines = [`${request.method} ${request.url} HTTP/1.1`];
  for (const [name, value] of Object.entries(request.headers)) {
    if (/^(content-length|transfer-encoding|connection)$/i.test(name)) continue;
    lines.push(`${name}: ${value}`);
  }
  lines.push(`Content-Length: ${body.length}`, 'Connection: close', '', '');
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const status = Number(text.slice(9, 12));
      const match = /"errorCode":"(\d+)"/.exec(text);
      resolve({ status, errorCode: match ? match[1] : null });
    });
    socket.end(Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), body]));
  });
}

/** Names the documented deviation that explains why we accept what the SDK rejects. */
function acceptedDeviation(testCase) {
  if (testCase.error_class === 'BODY_CLAIM_REJECTED') return 'exp/nbf in the body are not JWT claims';
  if (testCase.legacy_19_18_8?.expected === 'valid') return 'insertion-order signature accepted';
  return undefined;
}

test('corpus through an SDK-style inbound handler, SDK validator vs ours', { skip }, async () => {
  const deviations = [];
  for (const testCase of corpus.cases) {
    currentValidator = new sdk.Jws.validator({ validationKeys: testCase.keys, logger: silentLogger });
    const theirs = await send(testCase.request);
    currentValidator = new guard.JwsValidator({ validationKeys: testCase.keys, logger: silentLogger, now: 1778683152 });
    const ours = await send(testCase.request);

    assert.equal(theirs.status === 202, testCase.expected === 'valid', `${testCase.name}: the harness disagrees with the corpus`);
    if (theirs.status === ours.status && theirs.errorCode === ours.errorCode) continue;

    const deviation = ours.status === 202 ? acceptedDeviation(testCase) : undefined;
    assert.ok(deviation, `${testCase.name}: SDK ${theirs.status} ${theirs.errorCode}, ours ${ours.status} ${ours.errorCode}`);
    deviations.push(`${testCase.name}: ${deviation}`);
  }
  for (const line of deviations) console.log(`deviation ${line}`);
  console.log(`${corpus.cases.length} corpus cases served, ${deviations.length} documented deviations`);
});
