// The packed tarball: installs into a fresh project and works through `require`, `import`,
// TypeScript (both the Node and the browser types), and the code blocks of README.md.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { JS_DIR } from './helpers.mjs';

let project;

function run(command, args, cwd = project) {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

before(() => {
  project = mkdtempSync(join(tmpdir(), 'fspiop-guard-pack-'));
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', project], JS_DIR));
  const tarball = join(project, packed[0].filename);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'pack-test', private: true }));
  run('npm', ['install', '--no-audit', '--no-fund', '--offline', tarball]);
});

after(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

test('tarball holds the wasm, the glue and the types', () => {
  const installed = join(project, 'node_modules/fspiop-guard');
  assert.deepEqual(readdirSync(join(installed, 'dist/node')), ['fspiop_guard_wasm.js'], 'one module, read by both glue files');
  assert.ok(readdirSync(join(installed, 'dist/web')).includes('fspiop_guard_wasm_bg.wasm'));
  assert.ok(readdirSync(installed).includes('types.d.ts'));
});

const SMOKE = `
const request = { method: 'POST', url: '/quotes', headers: { 'fspiop-source': 'payerfsp' }, body: '{}' };
const verdict = guard.verifyRequestSync(request, { keys: new guard.KeyStore(), now: 0 });
if (verdict.reason !== 'UNKNOWN_SOURCE') throw new Error(JSON.stringify(verdict));
if (typeof guard.Jws.validator !== 'function' || typeof guard.JwsSigner !== 'function') throw new Error('SDK classes missing');
console.log('ok');
`;

test('require loads synchronously', () => {
  writeFileSync(join(project, 'smoke.cjs'), `const guard = require('fspiop-guard');\n${SMOKE}`);
  assert.equal(run('node', ['smoke.cjs']).trim(), 'ok');
});

test('import loads synchronously', () => {
  writeFileSync(join(project, 'smoke.mjs'), `import * as guard from 'fspiop-guard';\n${SMOKE}`);
  assert.equal(run('node', ['smoke.mjs']).trim(), 'ok');
});

test('TypeScript accepts the Node and browser types', () => {
  const tsc = join(JS_DIR, 'node_modules/.bin/tsc');
  writeFileSync(join(project, 'node-use.ts'), `
import { verifyRequestSync, verifyRequest, KeyStore, JwsValidator, Jws, type Verdict } from 'fspiop-guard';
import { checkChain, checkCsr, inspectPem, verifyJwt, type ChainReport, type CsrReport, type JwtResult } from 'fspiop-guard';
const keys = new KeyStore();
const verdict: Verdict = verifyRequestSync({ method: 'POST', url: '/quotes', headers: {}, body: '{}' }, { keys, crypto: 'wasm' });
const later: Promise<Verdict> = verifyRequest({ method: 'POST', url: '/quotes', body: null }, { keys: { payerfsp: 'PEM' } });
const validator = new JwsValidator({ validationKeys: { payerfsp: 'PEM' } });
const ok: true = validator.validate({ headers: { 'fspiop-source': 'payerfsp' }, body: {} });
new Jws.signer({ signingKey: 'PEM' });
const reason: string | null = verdict.reason;
const chain: ChainReport = checkChain('', new Uint8Array(0), { usage: 'server', at: new Date(), policy: 'mcm' });
const csr: CsrReport = checkCsr('', { policy: { minRsaBits: 2048, allowedKeyTypes: ['rsa', 'ec'] } });
const token: JwtResult = verifyJwt('a.b.c', keys, { leewaySeconds: 5, audiences: ['fspiop'] });
const claims: Record<string, unknown> | undefined = token.valid ? token.claims : undefined;
void later; void ok; void reason; void chain; void csr; void claims; void inspectPem;
`);
  writeFileSync(join(project, 'tsconfig.node.json'), JSON.stringify({
    compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, types: [], lib: ['es2022', 'dom'] },
    files: ['node-use.ts'],
  }));
  run(tsc, ['-p', 'tsconfig.node.json']);

  writeFileSync(join(project, 'web-use.ts'), `
import { init, verifyRequest, checkChain, type ChainReport, type Verdict } from 'fspiop-guard';
export async function check(): Promise<boolean> {
  await init();
  const verdict: Verdict = await verifyRequest({ method: 'POST', url: '/quotes', body: '{}' }, { keys: {}, crypto: 'webcrypto' });
  const report: ChainReport = checkChain('', new ArrayBuffer(0));
  return verdict.accepted && report.valid;
}
`);
  writeFileSync(join(project, 'tsconfig.web.json'), JSON.stringify({
    compilerOptions: {
      module: 'esnext', moduleResolution: 'bundler', customConditions: ['browser'], strict: true, noEmit: true, types: [], lib: ['es2022', 'dom'],
    },
    files: ['web-use.ts'],
  }));
  run(tsc, ['-p', 'tsconfig.web.json']);

  // A type error must be reported, or the checks above prove nothing.
  writeFileSync(join(project, 'node-use.ts'), "import { verifyRequestSync } from 'fspiop-guard';\nverifyRequestSync({ method: 1 }, {});\n");
  assert.throws(() => run(tsc, ['-p', 'tsconfig.node.json']));
  writeFileSync(join(project, 'node-use.ts'), "import { checkChain } from 'fspiop-guard';\ncheckChain('', '', { usage: 'peer' });\n");
  assert.throws(() => run(tsc, ['-p', 'tsconfig.node.json']));
});

test('README code blocks run', () => {
  const readme = readFileSync(join(JS_DIR, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```(js|mjs)\n([\s\S]*?)```/g)];
  assert.ok(blocks.length >= 2, 'README has no runnable code blocks');
  for (const [index, [, language, code]] of blocks.entries()) {
    const file = `readme-${index}.${language === 'js' ? 'cjs' : 'mjs'}`;
    writeFileSync(join(project, file), code);
    const output = run('node', [file]);
    assert.doesNotMatch(output, /false|undefined/, `${file} printed: ${output}`);
  }
});
