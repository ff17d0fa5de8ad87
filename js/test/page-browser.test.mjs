// The verification page in a real browser: playwright-core drives Debian's Chromium
// against the page built into a temporary folder and served on loopback. Chromium gets a
// dead loopback proxy and a resolver that finds no host, so it can reach nothing but the
// servers these tests start. Screenshots of each state go to $PAGE_SCREENSHOT_DIR
// (default target/page-screenshots); the test prints the folder.
//
// Skips when Chromium, playwright-core or the package's browser build is missing.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { buildPage } from '../page/build.mjs';
import { createStaticServer } from '../page/serve.mjs';
import { CORPUS_TIME, JS_DIR, REPO_DIR, loadCorpus } from './helpers.mjs';

const CHROMIUM = process.env.CHROMIUM ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));
const OPENSSL = ['/usr/bin/openssl', '/usr/local/bin/openssl'].find((path) => existsSync(path));
const SCREENSHOTS = process.env.PAGE_SCREENSHOT_DIR ?? join(REPO_DIR, 'target/page-screenshots');
const EXAMPLE_TIME = '2026-05-13T14:39:12Z';
const PKI_CASES = join(REPO_DIR, 'crates/core/tests/fixtures/pki/cases');
/** Flags that keep Chromium off the network: every host but loopback resolves to nothing. */
const OFFLINE_FLAGS = [
  '--proxy-server=http://127.0.0.1:9', '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-default-apps',
  '--disable-extensions', '--no-first-run', '--disable-domain-reliability', '--disable-client-side-phishing-detection',
];

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch {
  chromium = undefined;
}

function skipReason() {
  if (CHROMIUM === undefined) return 'Chromium is not installed (apt-get install chromium, or set CHROMIUM)';
  if (chromium === undefined) return 'playwright-core is not installed; run make setup-js';
  if (!existsSync(join(JS_DIR, 'dist/web/fspiop_guard_wasm_bg.wasm'))) return 'the browser build is missing; run make js';
  return false;
}
const skip = skipReason();

let workDir;
let server;
let origin;
let browser;
/** Every URL any page of the tests requested, with the test that made it. */
const requested = [];

before(async () => {
  if (skip) return;
  workDir = mkdtempSync(join(tmpdir(), 'fspiop-guard-page-'));
  buildPage(join(workDir, 'site'));
  server = createStaticServer(join(workDir, 'site'));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: OFFLINE_FLAGS });
  mkdirSync(SCREENSHOTS, { recursive: true });
  console.log(`page screenshots: ${SCREENSHOTS}`);
});

after(async () => {
  await browser?.close();
  server?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** Opens the page in a fresh context at a laptop size; `hash` is an optional fragment. */
async function openPage(name, hash = '') {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  context.on('request', (request) => requested.push({ test: name, url: request.url() }));
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${origin}/${hash}`);
  await page.waitForSelector('body[data-ready="true"]');
  page.errors = errors;
  return page;
}

async function screenshot(page, name) {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Waits for the Request tab's verdict or error and returns its text. */
async function requestVerdict(page) {
  const box = page.locator('#request-result .verdict');
  await box.waitFor();
  return box.innerText();
}

async function loadExample(page, name) {
  await page.selectOption('#example', name);
  await page.locator('#request-result .verdict').waitFor();
}

/** Formats a request object as raw HTTP, as a proxy log shows it. */
function rawHttp({ method, url, headers, body }) {
  return `${method} ${url} HTTP/1.1\n${Object.entries(headers).map(([name, value]) => `${name}: ${value}`).join('\n')}\n\n${body ?? ''}`;
}

test('valid corpus request shows valid', { skip: skip || loadCorpus().skip }, async () => {
  const corpus = loadCorpus();
  const testCase = corpus.cases.find((item) => item.name === 'valid_put_transfers_id')
    ?? corpus.cases.find((item) => item.expected === 'valid' && item.tags.includes('valid'));
  assert.ok(testCase, 'the corpus has no valid case');
  const page = await openPage('valid corpus request');
  await page.fill('#at', new Date(CORPUS_TIME * 1000).toISOString());
  await page.fill('#request-text', rawHttp(testCase.request));
  await page.fill('#key-text', JSON.stringify(testCase.keys));
  await page.click('#key-add');
  const verdict = await requestVerdict(page);
  assert.match(verdict, /^valid/i, verdict);
  assert.match(await page.locator('#request-result').innerText(), /verifier used this key/);
  await screenshot(page, 'request-valid');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('bundled valid example shows valid', { skip }, async () => {
  const page = await openPage('bundled valid example');
  await loadExample(page, '01-valid-post-quotes');
  assert.match(await requestVerdict(page), /^valid/i);
  assert.equal(await page.inputValue('#at'), EXAMPLE_TIME);
  await page.context().close();
});

test('tampered body shows signature mismatch', { skip }, async () => {
  const page = await openPage('tampered body');
  await loadExample(page, '06-tampered-body');
  const verdict = await requestVerdict(page);
  assert.match(verdict, /^invalid/i);
  assert.match(verdict, /SIGNATURE_MISMATCH \(FSPIOP 3105 Invalid signature\)/);
  assert.match(verdict, /Likely cause: No loaded key verifies this signature over any payload form: the body or the protected header changed after signing/);
  assert.equal(await page.locator('#request-result table.fields tr.differs').count(), 0, 'no header differs');
  assert.match(await page.locator('#request-result .checks li.outcome-fail').innerText(), /signature verifies/);
  await screenshot(page, 'request-tampered-body');
  await page.context().close();
});

test('wrong key from a dropped folder names the right owner', { skip }, async () => {
  // A keys folder with the two DFSPs' files swapped: payerfsp.pem contains payeefsp's key.
  const folder = join(workDir, 'swapped-keys');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'payerfsp.pem'), readFileSync(join(REPO_DIR, 'examples/keys/payeefsp.pem')));
  writeFileSync(join(folder, 'payeefsp.pem'), readFileSync(join(REPO_DIR, 'examples/keys/payerfsp.pem')));
  const page = await openPage('wrong key');
  await page.fill('#at', EXAMPLE_TIME);
  await page.fill('#request-text', readFileSync(join(REPO_DIR, 'examples/requests/01-valid-post-quotes.http'), 'utf8'));
  await page.setInputFiles('#key-folder', folder);
  await page.waitForFunction(() => document.querySelectorAll('#key-list tbody tr').length === 2);
  const verdict = await requestVerdict(page);
  assert.match(verdict, /SIGNATURE_MISMATCH/);
  assert.match(verdict, /verifies under the key of "payeefsp" \([\w-]+\), not "payerfsp": the FSPIOP-Source header or the key files are wrong/);
  const keyRows = await page.locator('#request-result table.keys tbody tr').allInnerTexts();
  assert.ok(keyRows.some((row) => /^payeefsp\b.*yes, over raw/s.test(row)), keyRows.join('\n'));
  await screenshot(page, 'request-wrong-key');
  await page.context().close();
});

test('rewritten FSPIOP-URI is highlighted', { skip }, async () => {
  const page = await openPage('rewritten FSPIOP-URI');
  await loadExample(page, '07-rewritten-fspiop-uri');
  const verdict = await requestVerdict(page);
  assert.match(verdict, /URI_MISMATCH \(FSPIOP 3106 Modified request; the Mojaloop SDK reports this as 3105\)/);
  assert.match(verdict, /a proxy or gateway rewrote it after signing/);
  const differing = page.locator('#request-result table.fields tr.differs');
  assert.equal(await differing.count(), 1);
  assert.match(await differing.locator('th').innerText(), /^FSPIOP-URI$/);
  assert.equal(await differing.locator('mark').innerText(), '/', 'the added slash is marked');
  // The README's screenshot: verdict, checks and the marked header on one laptop screen.
  await page.setViewportSize({ width: 1440, height: 1150 });
  await page.screenshot({ path: join(SCREENSHOTS, 'request-rewritten-uri-viewport.png') });
  await screenshot(page, 'request-rewritten-uri');
  await page.context().close();
});

test('re-serialised body matches a canonical form', { skip }, async () => {
  const page = await openPage('re-serialised body');
  await loadExample(page, '05-reserialised-body');
  const verdict = await requestVerdict(page);
  assert.match(verdict, /^valid/i);
  assert.match(verdict, /The signature matches the body with its keys sorted, not the body as received: the body was re-serialised on the way/);
  assert.match(await page.locator('#request-result .forms li.matched').innerText(), /sorted-json .* matched/);
  await screenshot(page, 'request-reserialised-body');

  await page.selectOption('#profile', 'strict');
  await page.waitForFunction(() => /invalid/i.test(document.querySelector('#request-result .verdict-title')?.textContent ?? ''));
  const strict = await requestVerdict(page);
  assert.match(strict, /SIGNATURE_MISMATCH/);
  assert.match(strict, /verifies over the body re-serialised with its keys sorted .*, which the selected profile does not try/);
  await screenshot(page, 'request-reserialised-body-strict');
  await page.context().close();
});

test('rotated-out key is named as retired', { skip }, async () => {
  const page = await openPage('rotated-out key');
  await loadExample(page, '08-rotated-out-key');
  const verdict = await requestVerdict(page);
  assert.match(verdict, /SIGNATURE_MISMATCH/);
  assert.match(verdict, /verifies under a retired key of "payerfsp"/);
  await screenshot(page, 'request-rotated-out-key');
  await page.context().close();
});

test('link fragment restores the state', { skip }, async () => {
  const page = await openPage('link fragment');
  await loadExample(page, '07-rewritten-fspiop-uri');
  await page.waitForFunction(() => location.hash.startsWith('#s='));
  const link = await page.evaluate(() => location.hash);
  await page.context().close();

  const restored = await openPage('link fragment', link);
  assert.match(await requestVerdict(restored), /URI_MISMATCH/);
  assert.equal(await restored.inputValue('#at'), EXAMPLE_TIME);
  assert.equal(await restored.locator('#key-list tbody tr').count(), 4);
  await restored.context().close();
});

/** Creates a chain whose intermediate expired on 1 January 2025, with the openssl CLI. */
function expiredIntermediateChain(folder) {
  mkdirSync(join(folder, 'new'), { recursive: true });
  writeFileSync(join(folder, 'index.txt'), '');
  writeFileSync(join(folder, 'serial'), '1000\n');
  writeFileSync(join(folder, 'ca.cnf'), `[ ca ]
default_ca = test
[ test ]
dir = .
database = ./index.txt
new_certs_dir = ./new
serial = ./serial
default_md = sha256
policy = any
unique_subject = no
[ any ]
commonName = supplied
[ root ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ intermediate ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ leaf ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectAltName = DNS:dfsp.example
authorityKeyIdentifier = keyid
`);
  const openssl = (...args) => execFileSync(OPENSSL, args, { cwd: folder, stdio: 'pipe' });
  for (const name of ['root', 'intermediate', 'leaf']) {
    openssl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=Page test ${name}`);
  }
  const sign = (name, issuer, start, end) => openssl('ca', '-batch', '-config', 'ca.cnf', '-notext', '-in', `${name}.csr`, '-out', `${name}.pem`,
    '-extensions', name, '-startdate', start, '-enddate', end, ...issuer);
  sign('root', ['-selfsign', '-keyfile', 'root.key'], '20200101000000Z', '20400101000000Z');
  sign('intermediate', ['-cert', 'root.pem', '-keyfile', 'root.key'], '20200101000000Z', '20250101000000Z');
  sign('leaf', ['-cert', 'intermediate.pem', '-keyfile', 'intermediate.key'], '20240101000000Z', '20300101000000Z');
  const read = (name) => readFileSync(join(folder, `${name}.pem`), 'utf8');
  return { bundle: read('leaf') + read('intermediate'), anchors: read('root') };
}

test('expired intermediate fails the chain', { skip: skip || (OPENSSL === undefined && 'the openssl CLI is not installed') }, async () => {
  const { bundle, anchors } = expiredIntermediateChain(join(workDir, 'expired-intermediate'));
  const page = await openPage('expired intermediate');
  await page.click('#tab-certificates');
  await page.fill('#at', EXAMPLE_TIME);
  await page.fill('#bundle-text', bundle);
  await page.fill('#anchors-text', anchors);
  await page.click('#check-chain');
  const verdict = page.locator('#certificates-result .verdict');
  await verdict.waitFor();
  assert.match(await verdict.innerText(), /^invalid CERT_EXPIRED/i);
  const validity = await page.locator('#certificates-result li', { hasText: 'Validity' }).innerText();
  assert.match(validity, /FAIL/);
  const expired = page.locator('#certificates-result details.certificate.expired summary');
  assert.equal(await expired.count(), 1);
  assert.match(await expired.innerText(), /^intermediate: .*Page test intermediate/);
  assert.equal(await page.locator('#certificates-result svg.timeline rect.bar').count(), 3);
  assert.equal(await page.locator('#certificates-result svg.timeline rect.bar.expired').count(), 1);
  await screenshot(page, 'certificates-expired-intermediate');
  await page.context().close();
});

test('valid client chain passes every check', { skip }, async () => {
  const page = await openPage('valid client chain');
  await page.click('#tab-certificates');
  await page.fill('#at', EXAMPLE_TIME);
  await page.fill('#bundle-text', readFileSync(join(PKI_CASES, 'client-chain.pem'), 'utf8'));
  await page.fill('#anchors-text', readFileSync(join(PKI_CASES, 'hub-root.pem'), 'utf8'));
  await page.click('#check-chain');
  await page.locator('#certificates-result .verdict').waitFor();
  assert.match(await page.locator('#certificates-result .verdict').innerText(), /^valid/i);
  assert.equal(await page.locator('#certificates-result .checks li.outcome-fail').count(), 0);
  await screenshot(page, 'certificates-valid');
  await page.context().close();
});

test('CSR with a 2048-bit key fails the key size rule', { skip }, async () => {
  const page = await openPage('CSR 2048');
  await page.click('#tab-csr');
  await page.fill('#csr-text', readFileSync(join(PKI_CASES, 'csr-rsa2048.pem'), 'utf8'));
  await page.click('#check-csr');
  const verdict = page.locator('#csr-result .verdict');
  await verdict.waitFor();
  assert.match(await verdict.innerText(), /^invalid CSR_KEY_TOO_SMALL/i);
  const failed = await page.locator('#csr-result .checks li.outcome-fail').allInnerTexts();
  assert.equal(failed.length, 1, failed.join('\n'));
  assert.match(failed[0], /CSR_PUBLIC_KEY_LENGTH/);
  assert.match(failed[0], /has 2048 bits; the policy requires at least 4096/);
  assert.ok(await page.locator('#csr-result .checks li.outcome-pass').count() > 0, 'the other rules are listed as passed');
  await screenshot(page, 'csr-rsa2048');

  await page.selectOption('#csr-min-bits', '2048');
  await page.waitForFunction(() => /^valid/i.test(document.querySelector('#csr-result .verdict')?.innerText ?? ''));
  await page.context().close();
});

test('keysync URL is fetched only on request', { skip }, async () => {
  const keys = Object.fromEntries(['payerfsp', 'payeefsp'].map((id) => [id, [{ pem: readFileSync(join(REPO_DIR, `examples/keys/${id}.pem`), 'utf8') }]]));
  const document = JSON.stringify({ format: 'fspiop-guard-keyset/1', version: '7', participants: keys });
  const hits = [];
  const keysync = createServer((request, response) => {
    hits.push(`${request.method} ${request.url}`);
    response.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' }).end(document);
  });
  await new Promise((resolve) => keysync.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${keysync.address().port}/v1/keys`;
  try {
    const page = await openPage('keysync');
    await page.fill('#keysync-url', url);
    await page.fill('#request-text', readFileSync(join(REPO_DIR, 'examples/requests/01-valid-post-quotes.http'), 'utf8'));
    await page.fill('#at', EXAMPLE_TIME);
    await page.waitForFunction(() => location.hash.startsWith('#s='));
    const link = await page.evaluate(() => location.hash);
    assert.deepEqual(hits, [], 'typing the URL fetches nothing');
    await page.click('#keysync-load');
    await page.waitForFunction(() => /Added 2 keys/.test(document.getElementById('key-status').textContent));
    assert.match(await requestVerdict(page), /^valid/i);
    assert.deepEqual(hits, ['GET /v1/keys']);
    await page.context().close();

    const restored = await openPage('keysync', link);
    assert.equal(await restored.inputValue('#keysync-url'), url);
    assert.deepEqual(hits, ['GET /v1/keys'], 'opening a link with a keysync URL fetches nothing');
    await restored.context().close();
  } finally {
    keysync.close();
  }
});

test('keysync without CORS shows a clear error', { skip }, async () => {
  const keysync = createServer((request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  await new Promise((resolve) => keysync.listen(0, '127.0.0.1', resolve));
  try {
    const page = await openPage('keysync without CORS');
    await page.fill('#keysync-url', `http://127.0.0.1:${keysync.address().port}/v1/keys`);
    await page.click('#keysync-load');
    await page.waitForFunction(() => document.getElementById('key-status').classList.contains('error'));
    const status = await page.locator('#key-status').innerText();
    assert.match(status, /Access-Control-Allow-Origin/);
    const origin = await page.evaluate(() => location.origin);
    assert.ok(status.includes(`KEYSYNC_LISTEN_CORS_ALLOW_ORIGINS=${origin}`), status);
    await page.context().close();
  } finally {
    keysync.close();
  }
});

/** Returns 5 MiB of deterministic printable garbage with line breaks. */
function garbage() {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789{}[]<>:;"\'=-_+*/\\|!?@#$%^&()~`\n';
  let state = 12345;
  const characters = new Array(5 * 1024 * 1024);
  for (let index = 0; index < characters.length; index += 1) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    characters[index] = alphabet[state % alphabet.length];
  }
  return `<garbage> ${characters.join('')}`;
}

/** Returns the time Chromium takes to run one frame, in milliseconds. */
async function frameTime(page) {
  const start = Date.now();
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => resolve())));
  return Date.now() - start;
}

test('5 MiB of garbage in any field shows an error', { skip, timeout: 300000 }, async () => {
  const text = garbage();
  const pem = readFileSync(join(REPO_DIR, 'examples/keys/payerfsp.pem'), 'utf8');
  const bundle = readFileSync(join(PKI_CASES, 'client-chain.pem'), 'utf8');
  const request = readFileSync(join(REPO_DIR, 'examples/requests/01-valid-post-quotes.http'), 'utf8');

  // Each case: the tab, the other fields, the field that gets the garbage, the button, and
  // where its error appears. Single-line fields have a maxlength, so a paste is cut to it.
  const cases = [
    { tab: 'request', field: '#request-text', button: '#verify', error: '#request-result [role="alert"]', expect: /not a request line/ },
    { tab: 'request', fields: { '#request-text': request }, field: '#at', button: '#verify', error: '#request-result [role="alert"]', expect: /Check at/ },
    { tab: 'request', field: '#key-text', fields: { '#key-participant': 'payerfsp' }, button: '#key-add', error: '#key-status.error', expect: /no PEM block/ },
    { tab: 'request', field: '#key-participant', fields: { '#key-text': pem }, button: '#key-add', error: '#key-status.error', expect: /not a valid FSPIOP-Source/ },
    { tab: 'request', field: '#keysync-url', button: '#keysync-load', error: '#key-status.error', expect: /http:\/\/ or https:\/\/ URL/ },
    { tab: 'certificates', field: '#bundle-text', button: '#check-chain', error: '#certificates-result [role="alert"]', expect: /over the 1 MiB limit/ },
    { tab: 'certificates', field: '#anchors-text', fields: { '#bundle-text': bundle }, button: '#check-chain', error: '#certificates-result [role="alert"]', expect: /over the 1 MiB limit/ },
    { tab: 'certificates', field: '#expected-name', fields: { '#bundle-text': bundle }, button: '#check-chain', error: '#certificates-result [role="alert"]', expect: /expected name/ },
    { tab: 'csr', field: '#csr-text', button: '#check-csr', error: '#csr-result [role="alert"]', expect: /over the 1 MiB limit/ },
  ];
  const page = await openPage('garbage');
  for (const item of cases) {
    await page.click(`#tab-${item.tab}`);
    for (const [selector, value] of Object.entries(item.fields ?? {})) await page.fill(selector, value);
    await page.fill(item.field, text);

    const started = Date.now();
    await page.click(item.button);
    // The status line may still show the previous case's error, so wait for this case's text.
    const error = page.locator(item.error).filter({ hasText: item.expect });
    await error.waitFor({ timeout: 20000 });
    const elapsed = Date.now() - started;
    assert.match(await error.innerText(), item.expect, item.field);
    const frame = await frameTime(page);
    console.log(`${item.field}: error after ${elapsed} ms, next frame ${frame} ms`);
    assert.ok(elapsed < 10000, `${item.field}: the error took ${elapsed} ms`);
    assert.ok(frame < 1000, `${item.field}: a frame took ${frame} ms after the error`);

    await page.fill(item.field, '');
    for (const selector of Object.keys(item.fields ?? {})) await page.fill(selector, '');
  }

  await page.click('#tab-request');
  await page.fill('#request-text', text);
  await page.click('#verify');
  await page.locator('#request-result [role="alert"]').waitFor();
  await screenshot(page, 'request-garbage');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('tabs, labels and focus are keyboard accessible', { skip }, async () => {
  const page = await openPage('accessibility');
  await page.focus('#tab-request');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-certificates');
  assert.equal(await page.getAttribute('#tab-certificates', 'aria-selected'), 'true');
  assert.equal(await page.isVisible('#panel-certificates'), true);
  assert.equal(await page.isVisible('#panel-request'), false);
  await page.keyboard.press('End');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-csr');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'csr-text', 'Tab moves from the tab list into the panel');
  await page.focus('#tab-csr');
  await page.keyboard.press('Home');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-request');

  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea, button')]
    .filter((element) => !(element.labels?.length > 0 || element.getAttribute('aria-label') || element.getAttribute('aria-labelledby') || (element.tagName === 'BUTTON' && element.textContent.trim())))
    .map((element) => element.id || element.outerHTML.slice(0, 60)));
  assert.deepEqual(unlabelled, []);

  await page.keyboard.press('Tab');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none', 'the focused control shows a focus outline');
  await page.context().close();
});

test('page works offline once loaded', { skip }, async () => {
  // A server of its own, so stopping it leaves the other tests' server running.
  const offlineServer = createStaticServer(join(workDir, 'site'));
  await new Promise((resolve) => offlineServer.listen(0, '127.0.0.1', resolve));
  const address = `http://127.0.0.1:${offlineServer.address().port}/`;
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  context.on('request', (request) => requested.push({ test: 'offline', url: request.url() }));
  const page = await context.newPage();
  await page.goto(address);
  await page.waitForSelector('body[data-ready="true"]');
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.reload();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  const closed = new Promise((resolve) => offlineServer.close(resolve));
  offlineServer.closeAllConnections();
  await closed;

  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  await page.selectOption('#example', '02-valid-put-transfers');
  assert.match(await requestVerdict(page), /^valid/i);
  await context.close();
});

test('page requests nothing but itself', { skip }, async () => {
  const page = await openPage('network');
  await loadExample(page, '06-tampered-body');
  await page.context().close();
  const allowed = (entry) => entry.url.startsWith(`${origin}/`) || entry.url.startsWith('data:') || entry.url.startsWith('blob:')
    || (entry.test === 'offline' && entry.url.startsWith('http://127.0.0.1:'))
    || (entry.test.startsWith('keysync') && /^http:\/\/127\.0\.0\.1:\d+\/v1\/keys$/.test(entry.url));
  const others = requested.filter((entry) => !allowed(entry));
  assert.deepEqual(others, [], 'requests to other addresses');
  const keysync = requested.filter((entry) => entry.url.endsWith('/v1/keys'));
  assert.ok(keysync.every((entry) => entry.test.startsWith('keysync')), 'only the keysync test fetched /v1/keys');
  assert.ok(requested.length > 0);
  console.log(`the page made ${requested.length} requests across the tests, all to the page itself${keysync.length ? ` and ${keysync.length} to the keysync URL the user typed` : ''}`);
});
