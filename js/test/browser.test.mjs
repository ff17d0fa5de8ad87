// The browser entry in a real browser: headless Chromium loads a page from a loopback
// server, calls init() (which fetches the .wasm) and verifies the corpus with WebCrypto.
// The verdicts must equal the native CLI's. A second page checks a valid and an expired
// certificate chain, whose reports must equal the Node entry's. Skips when Chromium, or
// for the corpus page the corpus, is absent. Chromium gets a dead loopback proxy and a
// resolver that finds no host, so it can reach nothing but the test server.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, normalize } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';

import { createRequire } from 'node:module';

import { CORPUS_TIME, JS_DIR, REPO_DIR, cliPath, cliVerdicts, headerPairs, loadCorpus } from './helpers.mjs';

const require = createRequire(import.meta.url);
const guard = require('../node/index.cjs');

const CHROMIUM = process.env.CHROMIUM ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));
const corpus = loadCorpus();
const cli = cliPath();
function skipReason() {
  if (corpus.skip) return corpus.skip;
  if (cli === undefined) return 'the fspiop-guard CLI is not built; run make build';
  if (CHROMIUM === undefined) return 'Chromium is not installed (apt-get install chromium, or set CHROMIUM)';
  return false;
}
const skip = skipReason();
const noChromium = CHROMIUM === undefined ? 'Chromium is not installed (apt-get install chromium, or set CHROMIUM)' : false;

const PKI_DIR = join(REPO_DIR, 'crates/core/tests/fixtures/pki/cases');
/** Chain cases the browser checks: a valid chain and an expired leaf, at the cases' time. */
const PKI_CASES = [
  { bundle: 'client-chain.pem', anchors: 'hub-root.pem', options: { usage: 'client', at: CORPUS_TIME } },
  { bundle: 'expired.pem', anchors: 'hub-root.pem', options: { usage: 'client', at: CORPUS_TIME } },
];

const PKI_PAGE = `<!doctype html><meta charset="utf-8"><body>running</body>
<script type="module">
import { init, checkChain } from '/web/index.js';
try {
  const cases = ${JSON.stringify(PKI_CASES)};
  await init();
  const reports = [];
  for (const testCase of cases) {
    const bundle = new Uint8Array(await (await fetch('/pki/' + testCase.bundle)).arrayBuffer());
    const anchors = await (await fetch('/pki/' + testCase.anchors)).text();
    reports.push(checkChain(bundle, anchors, testCase.options));
  }
  document.body.textContent = JSON.stringify({ reports });
} catch (error) {
  document.body.textContent = JSON.stringify({ error: String(error && error.stack || error) });
}
</script>`;

const PAGE = `<!doctype html><meta charset="utf-8"><body>running</body>
<script type="module">
import { init, verifyRequest, engineCounts } from '/web/index.js';
try {
  const items = await (await fetch('/items.json')).json();
  await init();
  const verdicts = [];
  for (const item of items) verdicts.push(await verifyRequest(item.request, { keys: item.keys, now: ${CORPUS_TIME} }));
  document.body.textContent = JSON.stringify({ verdicts, engineCounts });
} catch (error) {
  document.body.textContent = JSON.stringify({ error: String(error && error.stack || error) });
}
</script>`;

const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

let server;
let port;
let items;

before(async () => {
  if (noChromium) return;
  items = corpus.cases?.map((testCase) => ({
    request: { method: testCase.request.method, url: testCase.request.url, headers: headerPairs(testCase.request), body: testCase.request.body },
    keys: testCase.keys,
  }));
  server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://127.0.0.1').pathname));
    if (path === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    if (path === '/pki.html') return res.writeHead(200, { 'content-type': 'text/html' }).end(PKI_PAGE);
    if (path === '/items.json') return res.writeHead(200, { 'content-type': TYPES['.json'] }).end(JSON.stringify(items));
    const pkiFile = /^\/pki\/([\w.-]+\.pem)$/.exec(path);
    if (pkiFile) {
      const file = join(PKI_DIR, pkiFile[1]);
      if (!existsSync(file)) return res.writeHead(404).end();
      return res.writeHead(200, { 'content-type': 'application/x-pem-file' }).end(readFileSync(file));
    }
    if (!/^\/(web|dist\/web)\/[\w.-]+$/.test(path)) return res.writeHead(404).end();
    const file = join(JS_DIR, path);
    if (!existsSync(file)) return res.writeHead(404).end();
    const type = TYPES[path.slice(path.lastIndexOf('.'))] ?? 'application/octet-stream';
    return res.writeHead(200, { 'content-type': type }).end(readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = server.address().port;
});

after(() => server?.close());

function decodeHtml(text) {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

/** Loads a page of the test server in headless Chromium and returns the JSON it writes into its body. */
async function pageResult(page) {
  const { stdout } = await promisify(execFile)(CHROMIUM, [
    '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-default-apps', '--disable-extensions',
    '--proxy-server=http://127.0.0.1:9', '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
    '--virtual-time-budget=60000', '--dump-dom', `http://127.0.0.1:${port}${page}`,
  ], { maxBuffer: 64 * 1024 * 1024, timeout: 110000 });
  const body = /<body>([\s\S]*)<\/body>/.exec(stdout);
  assert.ok(body, `no body in the page: ${stdout.slice(0, 300)}`);
  const result = JSON.parse(decodeHtml(body[1]));
  assert.equal(result.error, undefined, result.error);
  return result;
}

test('Chromium verifies the corpus with WebCrypto as the CLI does', { skip, timeout: 120000 }, async () => {
  const result = await pageResult('/');

  const expected = cliVerdicts(cli, items);
  for (const [index, testCase] of corpus.cases.entries()) {
    assert.deepEqual(result.verdicts[index], expected[index], testCase.name);
  }
  assert.ok(result.engineCounts.webCrypto > 0, 'WebCrypto did no signature check');
  console.log(`Chromium: ${result.verdicts.length} verdicts equal the CLI's; WebCrypto decided ${result.engineCounts.webCrypto} checks, ring ${result.engineCounts.webCryptoFallback}`);
});

test('Chromium checks certificate chains as Node does', { skip: noChromium, timeout: 120000 }, async () => {
  const result = await pageResult('/pki.html');
  assert.equal(result.reports.length, PKI_CASES.length);
  for (const [index, testCase] of PKI_CASES.entries()) {
    const expected = guard.checkChain(
      readFileSync(join(PKI_DIR, testCase.bundle)),
      readFileSync(join(PKI_DIR, testCase.anchors)),
      testCase.options,
    );
    assert.deepEqual(result.reports[index], expected, testCase.bundle);
  }
  assert.equal(result.reports[0].valid, true, result.reports[0].detail);
  assert.equal(result.reports[1].reason, 'CERT_EXPIRED');
});
