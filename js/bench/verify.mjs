// Verifications per second of the npm package on each signature engine, for one RS256
// (RSA-2048) and one ES256 request with a body of about 1 KB, beside the SDK 19.19.1
// JwsValidator when it is installed.
//
// Usage: node bench/verify.mjs [--seconds N]   (default 3 s per measurement, after 0.5 s warm-up)

import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const guard = require('../node/index.cjs');
const web = await import('../web/index.js');
await web.init(readFileSync(new URL('../dist/web/fspiop_guard_wasm_bg.wasm', import.meta.url)));

const secondsFlag = process.argv.indexOf('--seconds');
const SECONDS = secondsFlag > 0 ? Number(process.argv[secondsFlag + 1]) : 3;

const silentLogger = { isDebugEnabled: false, child() { return silentLogger; }, debug() {}, error() {} };

function keyPair(type) {
  const options = type === 'rsa' ? { modulusLength: 2048 } : { namedCurve: 'P-256' };
  return generateKeyPairSync(type, {
    ...options,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: type === 'rsa' ? 'pkcs8' : 'sec1', format: 'pem' },
  });
}

function body1kb() {
  const party = { partyIdInfo: { partyIdType: 'MSISDN', partyIdentifier: '123456789', fspId: 'payerfsp' } };
  const body = { quoteId: 'b51ec534-ee48-4575-b6a9-ead2955b8069', transactionId: 'a8323bc6-c228-4df2-ae82-e5a997baf898', payer: party, payee: party, amountType: 'SEND', amount: { currency: 'USD', amount: '100' }, note: '' };
  while (JSON.stringify(body).length < 1000) body.note += 'x';
  return body;
}

async function measure(label, run) {
  const warmEnd = performance.now() + 500;
  while (performance.now() < warmEnd) await run();
  let count = 0;
  const start = performance.now();
  const end = start + SECONDS * 1000;
  while (performance.now() < end) {
    await run();
    count += 1;
  }
  const perSecond = count / ((performance.now() - start) / 1000);
  console.log(`${label.padEnd(44)} ${Math.round(perSecond).toString().padStart(7)} /s`);
}

let sdk;
try {
  sdk = require('@mojaloop/sdk-standard-components');
} catch {
  sdk = undefined;
}

for (const type of ['rsa', 'ec']) {
  const pair = keyPair(type);
  const input = {
    method: 'POST',
    url: 'https://hub.example/quotes',
    headers: { 'fspiop-source': 'payerfsp', 'fspiop-destination': 'payeefsp', date: new Date().toUTCString() },
    body: body1kb(),
  };
  const signed = guard.signRequest(input, { signingKey: pair.privateKey });
  const request = { method: 'POST', url: '/quotes', headers: signed.headers, body: signed.body };
  const keys = new guard.KeyStore();
  keys.add('payerfsp', pair.publicKey);
  const webKeys = new web.KeyStore();
  webKeys.add('payerfsp', pair.publicKey);
  const alg = type === 'rsa' ? 'RS256' : 'ES256';

  for (const crypto of ['node', 'wasm']) {
    await measure(`${alg} verifyRequestSync, crypto ${crypto}`, () => {
      if (!guard.verifyRequestSync(request, { keys, crypto }).accepted) throw new Error('rejected');
    });
  }
  await measure(`${alg} browser verifyRequest, WebCrypto`, async () => {
    if (!(await web.verifyRequest(request, { keys: webKeys })).accepted) throw new Error('rejected');
  });

  const headers = Object.fromEntries(signed.headers);
  const parsed = JSON.parse(signed.body);
  const ours = new guard.JwsValidator({ validationKeys: { payerfsp: pair.publicKey }, logger: silentLogger });
  await measure(`${alg} JwsValidator.validate`, () => ours.validate({ headers, body: parsed }));
  if (sdk !== undefined) {
    const theirs = new sdk.Jws.validator({ validationKeys: { payerfsp: pair.publicKey }, logger: silentLogger });
    await measure(`${alg} SDK 19.19.1 Jws.validator.validate`, () => theirs.validate({ headers, body: parsed }));
  }
}
