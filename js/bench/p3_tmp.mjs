import { generateKeyPairSync } from 'node:crypto';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const guard = require('../node/index.cjs');
const pair = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
const party = { partyIdInfo: { partyIdType: 'MSISDN', partyIdentifier: '123456789', fspId: 'payerfsp' } };
const quote = { quoteId: 'b51ec534-ee48-4575-b6a9-ead2955b8069', transactionId: 'a8323bc6-c228-4df2-ae82-e5a997baf898', payer: party, payee: party, amountType: 'SEND', amount: { currency: 'USD', amount: '100' }, note: '', extensionList: { extension: [{key:'a', value:'v'.repeat(400)}] } };
const input = { method: 'POST', url: 'https://hub.example/quotes', headers: { 'fspiop-source': 'payerfsp', 'fspiop-destination': 'payeefsp', date: new Date().toUTCString() }, body: quote };
const signed = guard.signRequest(input, { signingKey: pair.privateKey });
const headers = Object.fromEntries(signed.headers);
const keys = new guard.KeyStore(); keys.add('payerfsp', pair.publicKey);
const req = { method: 'POST', url: '/quotes', headers, body: signed.body };
const ours = new guard.JwsValidator({ validationKeys: { payerfsp: pair.publicKey } }); const parsed = JSON.parse(signed.body);
const t = performance.now(); let n = 0;
while (performance.now() - t < 4000) { ours.validate({ headers, body: parsed }); n++; }
console.log((4000000 / n).toFixed(1), 'µs');
