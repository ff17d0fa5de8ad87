// Writes the verification page as a folder that any static host can serve:
//
//   node js/page/build.mjs OUT_DIR
//
// The folder contains the page's files, the package's browser build (web/index.js and
// dist/web/, which `make js` produces), examples.json with the bundled example requests
// and keys, and sw.js, the offline cache, named with a hash of every file it caches.

import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PAGE_DIR = dirname(fileURLToPath(import.meta.url));
const JS_DIR = resolve(PAGE_DIR, '..');
const REPO_DIR = resolve(JS_DIR, '..');

/** The page's own files, copied as they are. */
const PAGE_FILES = [
  'index.html', 'style.css', 'app.js', 'dom.js', 'engine.js', 'http-request.js', 'keys-text.js',
  'pki-tabs.js', 'request-tab.js', 'state.js', 'worker.js',
];
/** The package's browser build: source path under js/, path in the output folder. */
const PACKAGE_FILES = [
  ['web/index.js', 'web/index.js'],
  ['dist/web/fspiop_guard_wasm.js', 'dist/web/fspiop_guard_wasm.js'],
  ['dist/web/fspiop_guard_wasm_bg.wasm', 'dist/web/fspiop_guard_wasm_bg.wasm'],
];

/** The example requests of examples/requests, signed on 13 May 2026 and checked at that time. */
const EXAMPLE_TIME = '2026-05-13T14:39:12Z';
const EXAMPLES = [
  ['01-valid-post-quotes.http', 'A quote request signed by the SDK 19.19 signer', 'keys'],
  ['02-valid-put-transfers.http', 'A transfer callback', 'keys'],
  ['03-valid-es256-transfer.http', 'An ES256 (P-256) signature', 'keys'],
  ['04-valid-hub-callback.http', 'A Hub callback signed by the Hub\'s getSignature path', 'keys'],
  ['05-reserialised-body.http', 'A body re-serialised in transit', 'keys'],
  ['06-tampered-body.http', 'A tampered body', 'keys'],
  ['07-rewritten-fspiop-uri.http', 'An FSPIOP-URI header rewritten by a proxy', 'keys'],
  ['08-rotated-out-key.http', 'Signed with payerfsp\'s old key, retired after a rotation', 'keys-after-rotation.json'],
];

function exampleKeys(source) {
  const path = join(REPO_DIR, 'examples', source);
  if (source.endsWith('.json')) return [{ participant: null, text: readFileSync(path, 'utf8'), source }];
  return readdirSync(path).filter((name) => name.endsWith('.pem')).sort().map((name) => ({
    participant: basename(name, '.pem'),
    text: readFileSync(join(path, name), 'utf8'),
    source: `${source}/${name}`,
  }));
}

function examples() {
  return {
    requests: EXAMPLES.map(([file, title, keys]) => ({
      name: basename(file, '.http'),
      title,
      request: readFileSync(join(REPO_DIR, 'examples/requests', file), 'utf8'),
      keys: exampleKeys(keys),
      at: EXAMPLE_TIME,
    })),
  };
}

function serviceWorker(assets, version) {
  return `// The offline cache of the verification page: written by build.mjs, do not edit.
// Requests go to the network first, so a reachable server always serves the current page.
// When the network fails, the cached copy is returned. Cross-origin requests (keysync)
// are not cached.
const VERSION = ${JSON.stringify(version)};
const ASSETS = ${JSON.stringify(assets)};

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(VERSION).then((cache) => cache.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((name) => name !== VERSION).map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  event.respondWith(fetch(event.request).catch(() => caches.open(VERSION)
    .then((cache) => cache.match(event.request, { ignoreSearch: true }))
    .then((cached) => cached ?? Response.error())));
});
`;
}

/** Builds the page into `outDir`, replacing what is there; returns the output path. */
export function buildPage(outDir) {
  const out = resolve(outDir);
  for (const [source] of PACKAGE_FILES) {
    if (!existsSync(join(JS_DIR, source))) {
      throw new Error(`js/${source} is missing: run make js first to build the package's browser build.`);
    }
  }
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'web'), { recursive: true });
  mkdirSync(join(out, 'dist/web'), { recursive: true });
  for (const file of PAGE_FILES) copyFileSync(join(PAGE_DIR, file), join(out, file));
  for (const [source, target] of PACKAGE_FILES) copyFileSync(join(JS_DIR, source), join(out, target));
  writeFileSync(join(out, 'examples.json'), `${JSON.stringify(examples(), null, 1)}\n`);

  const assets = ['./', ...PAGE_FILES.map((file) => `./${file}`), ...PACKAGE_FILES.map(([, target]) => `./${target}`), './examples.json'];
  const hash = createHash('sha256');
  for (const asset of assets.slice(1)) hash.update(readFileSync(join(out, asset)));
  writeFileSync(join(out, 'sw.js'), serviceWorker(assets, `fspiop-guard-page-${hash.digest('hex').slice(0, 16)}`));
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outDir = process.argv[2];
  if (outDir === undefined) {
    console.error('usage: node js/page/build.mjs OUT_DIR');
    process.exit(2);
  }
  try {
    console.log(`page written to ${buildPage(outDir)}`);
  } catch (error) {
    console.error(`page build failed: ${error.message}`);
    process.exit(1);
  }
}
