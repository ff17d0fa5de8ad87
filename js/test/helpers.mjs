// Shared helpers of the npm package tests: the SDK-signed corpus, the native CLI as the
// oracle, and the way an SDK inbound server hands a request to its validator.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const JS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_DIR = resolve(JS_DIR, '..');

/** `Date` of the corpus requests, Wed, 13 May 2026 14:39:12 GMT, in unix seconds. */
export const CORPUS_TIME = 1778683152;

/** Returns the corpus cases, or a reason to skip when $FSPIOP_SHARED or the file is absent. */
export function loadCorpus() {
  const shared = process.env.FSPIOP_SHARED;
  if (!shared) return { skip: 'FSPIOP_SHARED is not set; point it at the folder holding conformance/jws' };
  const path = join(shared, 'conformance/jws/corpus.json');
  if (!existsSync(path)) return { skip: `${path} not found` };
  return { cases: JSON.parse(readFileSync(path, 'utf8')) };
}

/** Returns the path of the native CLI, or undefined when it has not been built. */
export function cliPath() {
  const candidates = [
    process.env.FSPIOP_GUARD_CLI,
    process.env.CARGO_TARGET_DIR && join(process.env.CARGO_TARGET_DIR, 'release/fspiop-guard'),
    join(REPO_DIR, 'target/release/fspiop-guard'),
  ];
  return candidates.find((candidate) => candidate && existsSync(candidate));
}

/**
 * Verifies requests with `fspiop-guard verify --batch` and returns the verdicts in order.
 * `items` are {request: {method, url, headers, body}, keys}.
 */
export function cliVerdicts(cli, items, profile = 'mojaloop-sdk') {
  const input = items
    .map((item, id) => JSON.stringify({ id, request: item.request, keys: item.keys }))
    .join('\n');
  const output = execFileSync(
    cli,
    ['verify', '--batch', '--profile', profile, '--at', new Date(CORPUS_TIME * 1000).toISOString()],
    { input, maxBuffer: 256 * 1024 * 1024 },
  );
  const verdicts = [];
  for (const line of output.toString('utf8').split('\n')) {
    if (line.trim() === '') continue;
    const parsed = JSON.parse(line);
    if (parsed.error !== undefined) throw new Error(`CLI batch line ${parsed.id}: ${parsed.error}`);
    verdicts[parsed.id] = parsed.verdict;
  }
  return verdicts;
}

/** Returns a corpus case's headers as [name, value] pairs in wire order. */
export function headerPairs(request) {
  return Object.entries(request.headers);
}

/** Header names whose repeated lines Node drops after the first (Node 20 `IncomingMessage`). */
const NODE_SINGLE_HEADERS = new Set([
  'age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host',
  'if-modified-since', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards',
  'proxy-authorization', 'referer', 'retry-after', 'server', 'user-agent',
]);

/** Returns headers as Node's `req.headers` has them: names lower-cased, repeats combined. */
export function nodeRequestHeaders(request) {
  const headers = {};
  for (const [name, value] of Object.entries(request.headers)) {
    const key = name.toLowerCase();
    const trimmed = value.trim();
    if (!(key in headers)) headers[key] = key === 'set-cookie' ? [trimmed] : trimmed;
    else if (key === 'set-cookie') headers[key].push(trimmed);
    else if (!NODE_SINGLE_HEADERS.has(key)) headers[key] = key === 'cookie' ? `${headers[key]}; ${trimmed}` : `${headers[key]}, ${trimmed}`;
  }
  return headers;
}

/**
 * Parses a body as sdk-scheme-adapter's body parser does (co-body in strict mode with
 * @hapi/bourne): an empty body is {}, only an object or array is accepted, and a
 * `__proto__` member is rejected. Returns {body} or {error}.
 */
export function parseLikeSdk(text) {
  const source = text ?? '';
  if (source.trim() === '') return { body: {} };
  const first = source.replace(/^\uFEFF/, '').trimStart()[0];
  if (first !== '{' && first !== '[') return { error: 'only objects and arrays are accepted' };
  try {
    const body = JSON.parse(source.replace(/^\uFEFF/, ''), (key, value) => {
      if (key === '__proto__') throw new SyntaxError('__proto__ member');
      return value;
    });
    return { body };
  } catch (error) {
    return { error: error.message };
  }
}
