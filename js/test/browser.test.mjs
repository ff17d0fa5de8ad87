// The browser entry in a real browser: headless Chromium loads a page from a loopback
// server, calls init() (which fetches the .wasm) and verifies the corpus with WebCrypto.
// The verdicts must equal the native CLI's. Skips when Chromium or the corpus is absent.
// Chromium gets a dead loopback proxy and a resolver that finds no host, so it can reach
// nothing but the test server.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, normalize } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';

import { CORPUS_TIME, JS_DIR, cliPath, cliVerdicts, headerPairs, loadCorpus } from './helpers.mjs';

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
  if (skip) return;
  items = corpus.cases.map((testCase) => ({
    request: { method: testCase.request.method, url: testCase.request.url, headers: headerPairs(testCase.request), body: testCase.request.body },
    keys: testCase.keys,
  }));
  server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://127.0.0.1').pathname));
    if (path === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    if (path === '/items.json') return res.writeHead(200, { 'content-type': TYPES['.json'] }).end(JSON.stringify(items));
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

test('Chromium verifies the corpus with WebCrypto as the CLI does', { skip, timeout: 120000 }, async () => {
  const { stdout } = await promisify(execFile)(CHROMIUM, [
    '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-default-apps', '--disable-extensions',
    '--proxy-server=http://127.0.0.1:9', '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
    '--virtual-time-budget=60000', '--dump-dom', `http://127.0.0.1:${port}/`,
  ], { maxBuffer: 64 * 1024 * 1024, timeout: 110000 });
  const body = /<body>([\s\S]*)<\/body>/.exec(stdout);
  assert.ok(body, `no body in the page: ${stdout.slice(0, 300)}`);
  const result = JSON.parse(decodeHtml(body[1]));
  assert.equal(result.error, undefined, result.error);

  const expected = cliVerdicts(cli, items);
  for (const [index, testCase] of corpus.cases.entries()) {
    assert.deepEqual(result.verdicts[index], expected[index], testCase.name);
  }
  assert.ok(result.engineCounts.webCrypto > 0, 'WebCrypto did no signature check');
  console.log(`Chromium: ${result.verdicts.length} verdicts equal the CLI's; WebCrypto decided ${result.engineCounts.webCrypto} checks, ring ${result.engineCounts.webCryptoFallback}`);
});
