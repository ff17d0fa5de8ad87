// The verification page's readers of pasted text, run in Node: requests in every accepted
// form, and keys as PEM, JSON key maps and key-set documents.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { MAX_REQUEST_TEXT, RequestTextError, parseRequestText } from '../page/http-request.js';
import { KeyTextError, participantFromFileName, readKeyText } from '../page/keys-text.js';
import { REPO_DIR } from './helpers.mjs';

const decode = (bytes) => (bytes === null ? null : new TextDecoder().decode(bytes));

test('raw request with Content-Length', () => {
  const request = parseRequestText('POST http://hub.example/quotes?x=1 HTTP/1.1\r\nFSPIOP-Source: payerfsp\r\nContent-Length: 2\r\n\r\n{}\n');
  assert.equal(request.form, 'raw');
  assert.equal(request.method, 'POST');
  assert.equal(request.url, '/quotes?x=1');
  assert.deepEqual(request.headers, [['FSPIOP-Source', 'payerfsp'], ['Content-Length', '2']]);
  assert.equal(decode(request.body), '{}');
});

test('raw request body until end', () => {
  const request = parseRequestText('\n\nPUT /transfers/1 HTTP/1.1\nDate: x\n\n{"a":1}\n');
  assert.equal(request.url, '/transfers/1');
  assert.equal(decode(request.body), '{"a":1}');
});

test('raw request counts Content-Length in UTF-8 bytes', () => {
  const body = '{"name":"Zoë"}';
  const request = parseRequestText(`POST /parties HTTP/1.1\nContent-Length: ${new TextEncoder().encode(body).length}\n\n${body}`);
  assert.equal(decode(request.body), body);
});

test('raw request with a short body', () => {
  assert.throws(() => parseRequestText('POST /quotes HTTP/1.1\nContent-Length: 10\n\n{}'), /Content-Length is 10 but only 2 bytes/);
});

test('raw request with a chunked body', () => {
  const request = parseRequestText('POST /quotes HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{"a\r\n4\r\n":1}\r\n0\r\n\r\n');
  assert.equal(decode(request.body), '{"a":1}');
});

test('raw request rejects obsolete line folding', () => {
  assert.throws(() => parseRequestText('POST /quotes HTTP/1.1\nDate: a\n b\n\n'), /Line 3 starts with whitespace/);
});

test('garbage is not a request line', () => {
  assert.throws(() => parseRequestText('%%%% garbage ~~~~ more garbage'), RequestTextError);
  assert.throws(() => parseRequestText('   \n\t'), /empty/);
});

test('oversized request text', () => {
  assert.throws(() => parseRequestText('x'.repeat(MAX_REQUEST_TEXT + 1)), /over the .* limit/);
});

test('curl -v output followed by the body', () => {
  const text = [
    '*   Trying 127.0.0.1:4000...',
    '* Connected to dfsp.example (127.0.0.1) port 4000',
    '> POST /quotes HTTP/1.1',
    '> Host: dfsp.example:4000',
    '> FSPIOP-Source: payerfsp',
    '> Content-Length: 7',
    '>',
    '} [7 bytes data]',
    '{"a":1}',
    '< HTTP/1.1 202 Accepted',
    '< Content-Length: 0',
  ].join('\n');
  const request = parseRequestText(text);
  assert.equal(request.form, 'curl');
  assert.equal(request.url, '/quotes');
  assert.deepEqual(request.headers.map(([name]) => name), ['Host', 'FSPIOP-Source', 'Content-Length']);
  assert.equal(decode(request.body), '{"a":1}');
});

test('HAR entry skips pseudo-headers', () => {
  const har = {
    request: {
      method: 'PUT',
      url: 'https://hub.example/transfers/1',
      headers: [{ name: ':authority', value: 'hub.example' }, { name: 'FSPIOP-Source', value: 'payeefsp' }],
      postData: { mimeType: 'application/json', text: '{"transferState":"COMMITTED"}' },
    },
  };
  const request = parseRequestText(JSON.stringify(har));
  assert.equal(request.form, 'json');
  assert.equal(request.url, '/transfers/1');
  assert.deepEqual(request.headers, [['FSPIOP-Source', 'payeefsp']]);
  assert.equal(decode(request.body), '{"transferState":"COMMITTED"}');
});

test('HAR log reads the first entry', () => {
  const log = { log: { entries: [{ request: { method: 'GET', url: 'http://h/parties/MSISDN/1', headers: [] } }] } };
  const request = parseRequestText(JSON.stringify(log));
  assert.equal(request.method, 'GET');
  assert.equal(request.body, null);
});

test('JSON request object', () => {
  const request = parseRequestText(JSON.stringify({ method: 'POST', url: '/quotes', headers: { Date: 'x' }, body: '{"a":1}' }));
  assert.deepEqual(request.headers, [['Date', 'x']]);
  assert.equal(decode(request.body), '{"a":1}');
  assert.throws(() => parseRequestText('{"method": 1}'), /"method" as a string/);
  assert.throws(() => parseRequestText('{not json'), /not valid JSON/);
});

test('bundled examples parse', () => {
  const folder = join(REPO_DIR, 'examples/requests');
  for (const name of readdirSync(folder)) {
    const request = parseRequestText(readFileSync(join(folder, name), 'utf8'));
    assert.ok(request.headers.some(([header]) => header === 'FSPIOP-Signature'), name);
    assert.ok(request.body.length > 0, name);
  }
});

test('keys from PEM text need a participant', () => {
  const pem = readFileSync(join(REPO_DIR, 'examples/keys/payerfsp.pem'), 'utf8');
  assert.deepEqual(readKeyText(pem, { participant: ' payerfsp ', source: 'pasted' }),
    [{ participant: 'payerfsp', pem: `${pem.trim()}\n`, retireAfter: null, source: 'pasted' }]);
  assert.throws(() => readKeyText(pem, { participant: '', source: 'pasted' }), KeyTextError);
  assert.throws(() => readKeyText('garbage', { participant: 'payerfsp', source: 'pasted' }), /no PEM block/);
});

test('keys from a JSON map with retire_after', () => {
  const text = readFileSync(join(REPO_DIR, 'examples/keys-after-rotation.json'), 'utf8');
  const entries = readKeyText(text, { participant: null, source: 'file' });
  const payer = entries.filter((entry) => entry.participant === 'payerfsp');
  assert.equal(payer.length, 2);
  assert.equal(payer[1].retireAfter, Date.parse('2026-05-10T00:00:00Z') / 1000);
});

test('keys from a key-set document', () => {
  const document = { format: 'fspiop-guard-keyset/1', version: '1', participants: { payerfsp: [{ pem: 'PEM' }] } };
  assert.equal(readKeyText(JSON.stringify(document), { source: 'keysync' })[0].participant, 'payerfsp');
  assert.throws(() => readKeyText(JSON.stringify({ ...document, format: 'other/2' }), { source: 'keysync' }), /only fspiop-guard-keyset\/1/);
});

test('participant from key file name', () => {
  assert.equal(participantFromFileName('payerfsp.pem'), 'payerfsp');
  assert.equal(participantFromFileName('notes.txt'), null);
});
