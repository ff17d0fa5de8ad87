// Verifications per second of the npm package on each signature engine, for RS256
// (RSA-2048) and ES256 requests with bodies of about 1 KB and 100 KB, beside the SDK
// 19.19.1 Jws.validator and jose's flattenedVerify on the same request (keys imported
// once for all), with each one's ratio to our JwsValidator, and node:crypto's verification
// of the signing input alone, the floor of any verifier built on it.
//
// Usage: node bench/verify.mjs [--seconds N]   (default 3 s per measurement, after 0.5 s warm-up)

import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as jose from 'jose';

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

/** Returns a quote body whose JSON text is at least `size` bytes long. */
function body(size) {
  const party = { partyIdInfo: { partyIdType: 'MSISDN', partyIdentifier: '123456789', fspId: 'payerfsp' } };
  const quote = { quoteId: 'b51ec534-ee48-4575-b6a9-ead2955b8069', transactionId: 'a8323bc6-c228-4df2-ae82-e5a997baf898', payer: party, payee: party, amountType: 'SEND', amount: { currency: 'USD', amount: '100' }, note: '', extensionList: { extension: [] } };
  while (JSON.stringify(quote).length < size) {
    if (size - JSON.stringify(quote).length > 200) {
      quote.extensionList.extension.push({ key: `k${quote.extensionList.extension.length}`, value: 'v'.repeat(120) });
    } else {
      quote.note += 'x';
    }
  }
  return quote;
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
  console.log(`${label.padEnd(52)} ${Math.round(perSecond).toString().padStart(7)} /s`);
  return perSecond;
}

let sdk;
try {
  sdk = require('@mojaloop/sdk-standard-components');
} catch {
  sdk = undefined;
}

for (const [type, size] of [['rsa', 1000], ['ec', 1000], ['rsa', 100_000]]) {
  const pair = keyPair(type);
  const label = `${type === 'rsa' ? 'RS256' : 'ES256'} ${size === 1000 ? '1 KB' : '100 KB'}`;
  const input = {
    method: 'POST',
    url: 'https://hub.example/quotes',
    headers: { 'fspiop-source': 'payerfsp', 'fspiop-destination': 'payeefsp', date: new Date().toUTCString() },
    body: body(size),
  };
  const signed = guard.signRequest(input, { signingKey: pair.privateKey });
  const request = { method: 'POST', url: '/quotes', headers: signed.headers, body: signed.body };
  const keys = new guard.KeyStore();
  keys.add('payerfsp', pair.publicKey);
  const webKeys = new web.KeyStore();
  webKeys.add('payerfsp', pair.publicKey);

  for (const crypto of ['node', 'wasm']) {
    await measure(`${label} verifyRequestSync, crypto ${crypto}`, () => {
      if (!guard.verifyRequestSync(request, { keys, crypto }).accepted) throw new Error('rejected');
    });
  }
  await measure(`${label} browser verifyRequest, WebCrypto`, async () => {
    if (!(await web.verifyRequest(request, { keys: webKeys })).accepted) throw new Error('rejected');
  });

  const headers = Object.fromEntries(signed.headers);
  const parsed = JSON.parse(signed.body);
  const ours = new guard.JwsValidator({ validationKeys: { payerfsp: pair.publicKey }, logger: silentLogger });
  const oursRate = await measure(`${label} JwsValidator.validate`, () => ours.validate({ headers, body: parsed }));

  if (sdk !== undefined) {
    const theirs = new sdk.Jws.validator({ validationKeys: { payerfsp: pair.publicKey }, logger: silentLogger });
    const rate = await measure(`${label} SDK 19.19.1 Jws.validator.validate`, () => theirs.validate({ headers, body: parsed }));
    console.log(`${label} JwsValidator / SDK validator: ${(oursRate / rate).toFixed(2)}x`);
  }

  // jose checks the JWS alone: the FSPIOP header's protected header and signature
  // over the body as sent, with the key imported once.
  const signature = JSON.parse(Buffer.from(headers['fspiop-signature'] ?? '', 'utf8').toString());
  const alg = type === 'rsa' ? 'RS256' : 'ES256';
  const joseKey = await jose.importSPKI(pair.publicKey, alg);
  const jws = {
    protected: signature.protectedHeader,
    payload: Buffer.from(signed.body, 'utf8').toString('base64url'),
    signature: signature.signature,
  };
  await jose.flattenedVerify(jws, joseKey);
  const joseRate = await measure(`${label} jose flattenedVerify`, () => jose.flattenedVerify(jws, joseKey));
  console.log(`${label} JwsValidator / jose flattenedVerify: ${(oursRate / joseRate).toFixed(2)}x`);

  // The floor of every verifier that uses node:crypto: its verification of the signing
  // input alone, with a KeyObject made once.
  const keyObject = createPublicKey(pair.publicKey);
  const floorKey = type === 'rsa' ? keyObject : { key: keyObject, dsaEncoding: 'ieee-p1363' };
  const signingInput = Buffer.from(`${jws.protected}.${jws.payload}`);
  const signatureBytes = Buffer.from(jws.signature, 'base64url');
  await measure(`${label} node:crypto verify alone`, () => {
    if (!verify('sha256', signingInput, floorKey, signatureBytes)) throw new Error('rejected');
  });
}
