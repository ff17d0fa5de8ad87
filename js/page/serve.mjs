// Serves a built page folder on loopback:
//
//   node js/page/serve.mjs DIR [--port 8731]
//
// Files only, GET and HEAD only, nothing outside DIR. Port 0 picks a free port.

import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** Returns an http.Server that serves the files of `root`; call listen() on it. */
export function createStaticServer(root) {
  const base = resolve(root);
  return createServer((request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    let path;
    try {
      path = decodeURIComponent(new URL(request.url, 'http://127.0.0.1').pathname);
    } catch {
      response.writeHead(400).end('invalid path');
      return;
    }
    if (path.endsWith('/')) path += 'index.html';
    const file = resolve(join(base, path));
    if (!file.startsWith(base + sep)) {
      response.writeHead(404).end('not found');
      return;
    }
    let stats;
    try {
      stats = statSync(file);
    } catch {
      stats = undefined;
    }
    if (stats === undefined || !stats.isFile()) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    response.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': stats.size,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    if (request.method === 'HEAD') response.end();
    else createReadStream(file).pipe(response);
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const portIndex = args.indexOf('--port');
  const port = portIndex === -1 ? 8731 : Number(args[portIndex + 1]);
  const root = args.find((arg, index) => !arg.startsWith('--') && index !== portIndex + 1);
  if (root === undefined || !Number.isInteger(port) || port < 0 || port > 65535) {
    console.error('usage: node js/page/serve.mjs DIR [--port N]');
    process.exit(2);
  }
  const server = createStaticServer(root);
  server.on('error', (error) => {
    console.error(`cannot serve on 127.0.0.1:${port}: ${error.message}; choose another port with PAGE_PORT=N`);
    process.exit(1);
  });
  server.listen(port, '127.0.0.1', () => {
    console.log(`fspiop-guard page: http://127.0.0.1:${server.address().port}/  (serving ${resolve(root)}; Ctrl+C stops)`);
  });
}
