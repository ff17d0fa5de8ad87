// The Certificates and CSR tabs: a PEM bundle checked as an mTLS chain (chain, extended
// key usage, validity, identity) with an expiry timeline, and a CSR checked against the
// Hub's signing policy rule by rule. The package's checkChain, checkCsr and inspectPem
// run in the Worker.

import { run } from './engine.js';
import { errorBox, h, isoTime, show } from './dom.js';

/** Largest bundle, anchor or CSR text read, in characters (the core's 1 MiB bundle limit). */
const MAX_PEM_TEXT = 1024 * 1024;
const DAY = 86400;

const VALIDITY_REASONS = new Set(['CERT_EXPIRED', 'CERT_NOT_YET_VALID']);
const USAGE_REASONS = new Set(['EKU_CLIENT_AUTH_MISSING', 'EKU_SERVER_AUTH_MISSING', 'EKU_EMPTY',
  'KEY_USAGE_DIGITAL_SIGNATURE_MISSING', 'CA_USED_AS_END_ENTITY']);
const IDENTITY_REASONS = new Set(['IDENTITY_MISMATCH', 'IDENTITY_CN_ONLY', 'IDENTITY_SOURCE_MISMATCH']);

/** Returns an error message when `text` cannot be a PEM input, or null. */
function checkPemText(text, inputName) {
  if (text.trim() === '') return `The ${inputName} is empty: paste PEM text.`;
  if (text.length > MAX_PEM_TEXT) {
    return `The ${inputName} is ${(text.length / 1048576).toFixed(1)} MiB, over the 1 MiB limit; paste only the PEM blocks.`;
  }
  if (!text.includes('-----BEGIN ')) return `The ${inputName} has no PEM block (-----BEGIN CERTIFICATE----- …); paste PEM text, not DER or other data.`;
  return null;
}

function keyText(key) {
  if (key === undefined || key === null) return '';
  if (key.type === 'rsa') return `RSA ${key.bits} bits`;
  if (key.type === 'ec') return `EC ${key.curve}`;
  if (key.type === 'ed25519') return 'Ed25519';
  return key.algorithm ?? key.type;
}

function sansText(san) {
  if (!san) return '';
  return [...san.dns.map((name) => `DNS:${name}`), ...san.ip.map((ip) => `IP:${ip}`), ...san.uri.map((uri) => `URI:${uri}`),
    ...san.email.map((email) => `email:${email}`)].join(', ');
}

function validityAt(info, at) {
  if (at < info.not_before) return { state: 'not-yet-valid', text: `not valid until ${isoTime(info.not_before)}` };
  if (at > info.not_after) return { state: 'expired', text: `expired ${Math.floor((at - info.not_after) / DAY)} days before the check time` };
  return { state: 'valid', text: `valid, ${Math.floor((info.not_after - at) / DAY)} days left` };
}

const sameCertificate = (a, b) => a.sha256_fingerprint === b.sha256_fingerprint;

/** Returns each certificate of the bundle and anchors with its role on the checked path. */
function certificateRows(items, anchorItems, report) {
  const path = report.path ?? [];
  const leaf = report.leaf ?? path[0];
  const rows = [];
  const add = (info, from) => {
    if (rows.some((row) => sameCertificate(row.info, info))) return;
    const index = path.findIndex((entry) => sameCertificate(entry, info));
    // The path is known only for a valid chain; otherwise roles come from the certificates.
    let role;
    if (leaf && sameCertificate(leaf, info)) role = 'leaf';
    else if (from === 'anchors' || (index > 0 && index === path.length - 1)) role = 'trust anchor';
    else if (index > 0) role = 'intermediate';
    else if (info.is_ca) role = info.self_issued ? 'root' : 'intermediate';
    else role = 'end entity';
    if (path.length > 0 && index === -1 && from === 'bundle') role += ' (not on the path)';
    rows.push({ info, role, from });
  };
  for (const info of items) add(info, 'bundle');
  for (const info of anchorItems) add(info, 'anchors');
  return rows;
}

function aspectRows(report, rows, options) {
  const reason = report.reason ?? null;
  const leaf = rows.find((row) => row.role === 'leaf')?.info;
  const failed = (set) => reason !== null && set.has(reason);
  const notReached = 'not checked: the chain check stopped at an earlier failure';

  const chainAspect = report.valid ? ['pass', 'the chain leads from the leaf to a trust anchor, and every signature on it verifies']
    : failed(VALIDITY_REASONS) || failed(USAGE_REASONS) || failed(IDENTITY_REASONS) ? ['pass', 'a path to a trust anchor was found']
      : ['fail', `${reason}: ${report.detail}`];

  const badDates = rows.filter((row) => row.from === 'bundle' || row.role === 'trust anchor').map((row) => ({ row, validity: validityAt(row.info, options.at) }))
    .filter(({ validity }) => validity.state !== 'valid');
  const validityAspect = failed(VALIDITY_REASONS) ? ['fail', `${reason}: ${report.detail}`]
    : badDates.length > 0 ? ['fail', badDates.map(({ row, validity }) => `${row.role} ${row.info.subject}: ${validity.text}`).join('; ')]
      : ['pass', `every certificate is valid at ${isoTime(options.at)}`];

  const purpose = options.usage === 'server' ? 'serverAuth' : 'clientAuth';
  let usageAspect;
  if (failed(USAGE_REASONS)) usageAspect = ['fail', `${reason}: ${report.detail}`];
  else if (report.valid) usageAspect = ['pass', `the leaf may be used for ${purpose}`];
  else if (leaf?.extended_key_usage && !leaf.extended_key_usage.includes(purpose)) usageAspect = ['fail', `the leaf's extendedKeyUsage (${leaf.extended_key_usage.join(', ')}) lacks ${purpose}`];
  else if (leaf?.extended_key_usage) usageAspect = ['pass', `the leaf's extendedKeyUsage includes ${purpose}`];
  else if (leaf) usageAspect = ['pass', 'the leaf has no extendedKeyUsage, so it may be used for any purpose'];
  else usageAspect = ['n/a', notReached];

  let identityAspect;
  if (failed(IDENTITY_REASONS)) identityAspect = ['fail', `${reason}: ${report.detail}`];
  else if (!options.expectedName) identityAspect = ['n/a', `no expected name was given; the leaf names ${sansText(leaf?.san) || leaf?.subject || 'nothing'}`];
  else if (report.valid) identityAspect = ['pass', `${options.expectedName} is among the leaf's subject alternative names`];
  else identityAspect = ['n/a', notReached];

  return [['Chain', ...chainAspect], ['Extended key usage', ...usageAspect], ['Validity', ...validityAspect], ['Identity', ...identityAspect]];
}

const OUTCOME_TEXT = { pass: 'pass', fail: 'FAIL', 'n/a': 'n/a', warn: 'warn' };

function outcomeList(rows, label) {
  return h('ol', { class: 'checks', 'aria-label': label }, rows.map(([name, outcome, detail]) => h('li', { class: `outcome-${outcome === 'n/a' ? 'na' : outcome}` },
    h('span', { class: 'outcome' }, OUTCOME_TEXT[outcome]), ' ', h('strong', {}, name), ' ', detail)));
}

function pkiVerdict(report, validText) {
  return h('div', { class: `verdict ${report.valid ? 'valid' : 'invalid'}`, role: 'status' },
    h('p', { class: 'verdict-title' }, report.valid ? 'valid' : 'invalid', report.valid ? '' : h('span', { class: 'reason' }, ` ${report.reason}`)),
    h('p', { class: 'message' }, report.valid ? (report.detail || validText) : report.detail),
    report.warnings?.length > 0 ? h('ul', { class: 'warnings' }, report.warnings.map((warning) => h('li', {}, `Warning ${warning.code}: ${warning.detail}`))) : null);
}

/** Draws each certificate's validity as a bar on one time axis, with the check time marked. */
function expiryTimeline(rows, at) {
  if (rows.length === 0) return null;
  const starts = rows.map((row) => row.info.not_before);
  const ends = rows.map((row) => row.info.not_after);
  const from = Math.min(...starts, at) - 30 * DAY;
  const to = Math.max(...ends, at) + 30 * DAY;
  const width = 640;
  const rowHeight = 34;
  const height = rows.length * rowHeight + 28;
  const x = (seconds) => ((seconds - from) / (to - from)) * width;
  const svgNamespace = 'http://www.w3.org/2000/svg';
  const svg = (tag, attributes, text) => {
    const element = document.createElementNS(svgNamespace, tag);
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
    if (text !== undefined) element.textContent = text;
    return element;
  };
  const description = rows.map((row) => `${row.role} ${row.info.common_names[0] ?? row.info.subject}: ${isoTime(row.info.not_before)} to ${isoTime(row.info.not_after)}, ${validityAt(row.info, at).text}`).join('. ');
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `Expiry timeline. ${description}.`, class: 'timeline' });
  rows.forEach((row, index) => {
    const y = index * rowHeight + 4;
    const state = validityAt(row.info, at).state;
    chart.append(svg('rect', { x: x(row.info.not_before), y: y + 14, width: Math.max(2, x(row.info.not_after) - x(row.info.not_before)), height: 12, rx: 3, class: `bar ${state}` }));
    chart.append(svg('text', { x: 4, y: y + 10, class: 'label' }, `${row.role}: ${row.info.common_names[0] ?? row.info.subject} — until ${row.info.not_after_text}`));
  });
  const marker = x(at);
  chart.append(svg('line', { x1: marker, x2: marker, y1: 0, y2: height - 18, class: 'now' }));
  chart.append(svg('text', { x: Math.min(Math.max(marker, 60), width - 60), y: height - 4, class: 'now-label', 'text-anchor': 'middle' }, `check time ${isoTime(at).slice(0, 10)}`));
  return h('section', { 'aria-labelledby': 'timeline-heading' }, h('h3', { id: 'timeline-heading' }, 'Expiry timeline'), chart);
}

function certificateTable(rows, at) {
  return h('section', { 'aria-labelledby': 'certificates-heading' },
    h('h3', { id: 'certificates-heading' }, 'Certificates'),
    rows.map((row) => {
      const validity = validityAt(row.info, at);
      const info = row.info;
      return h('details', { class: `certificate ${validity.state}`, open: row.role === 'leaf' },
        h('summary', {}, h('strong', {}, row.role), `: ${info.subject} — ${validity.text}`),
        h('table', { class: 'headers' }, h('tbody', {},
          [['Subject', info.subject], ['Issuer', info.issuer], ['Valid from', info.not_before_text], ['Valid until', info.not_after_text],
            ['Key', keyText(info.key)], ['Signature algorithm', info.signature_algorithm], ['Subject alternative names', sansText(info.san) || '(none)'],
            ['CA', info.is_ca === null || info.is_ca === undefined ? '(no basicConstraints)' : String(info.is_ca)],
            ['Key usage', info.key_usage?.join(', ') ?? '(no keyUsage)'], ['Extended key usage', info.extended_key_usage?.join(', ') ?? '(any: no extendedKeyUsage)'],
            ['Serial', info.serial], ['SHA-256 fingerprint', info.sha256_fingerprint], ['SPKI SHA-256', info.spki_sha256]]
            .map(([name, value]) => h('tr', {}, h('th', { scope: 'row' }, name), h('td', { class: 'mono' }, value))))));
    }));
}

export function createCertificatesTab({ settings, onChange }) {
  const $ = (id) => document.getElementById(id);
  const result = $('certificates-result');

  async function check() {
    const bundle = $('bundle-text').value;
    const anchorsText = $('anchors-text').value;
    const at = settings.at();
    const expectedName = $('expected-name').value.trim();
    const nameProblem = expectedName.length > 253 || !/^[A-Za-z0-9.:-]*$/.test(expectedName)
      ? 'The expected name must be a DNS name such as hub.example or an IP address (at most 253 characters).' : null;
    const problem = at.error ?? checkPemText(bundle, 'bundle')
      ?? (anchorsText.trim() === '' ? null : checkPemText(anchorsText, 'trust anchor text')) ?? nameProblem;
    if (problem) {
      show(result, errorBox('The certificates could not be checked', problem));
      onChange();
      return;
    }
    show(result, h('p', { class: 'busy', role: 'status' }, 'Checking…'));
    const options = {
      usage: $('usage').value,
      policy: $('chain-policy').value,
      expectedName: expectedName || undefined,
      at: at.seconds,
    };
    try {
      const output = await run('checkCertificates', { bundle, anchors: anchorsText, options });
      const rows = certificateRows(output.bundleItems, output.anchorItems, output.report);
      show(result,
        pkiVerdict(output.report, 'The chain is valid.'),
        output.anchorsFromBundle ? h('p', { class: 'help' }, `No trust anchors were given, so the bundle's self-signed certificate${output.anchorItems.length === 1 ? '' : 's'} ${output.anchorItems.length === 1 ? 'is' : 'are'} trusted. Paste the Hub's CA to check against it.`) : null,
        h('section', {}, h('h3', {}, 'Checks'), outcomeList(aspectRows(output.report, rows, { ...options, at: at.seconds }), 'Certificate checks')),
        expiryTimeline(rows, at.seconds),
        certificateTable(rows, at.seconds));
    } catch (error) {
      show(result, errorBox('The certificates could not be read', error.message));
    }
    onChange();
  }

  $('check-chain').addEventListener('click', check);
  for (const id of ['usage', 'chain-policy']) $(id).addEventListener('change', () => $('bundle-text').value.trim() && check());

  return {
    check,
    state: () => ({ bundle: $('bundle-text').value, anchors: $('anchors-text').value, usage: $('usage').value, policy: $('chain-policy').value, name: $('expected-name').value }),
    async restore(state) {
      $('bundle-text').value = typeof state.bundle === 'string' ? state.bundle : '';
      $('anchors-text').value = typeof state.anchors === 'string' ? state.anchors : '';
      if (['client', 'server'].includes(state.usage)) $('usage').value = state.usage;
      if (['default', 'mcm'].includes(state.policy)) $('chain-policy').value = state.policy;
      $('expected-name').value = typeof state.name === 'string' ? state.name : '';
      if ($('bundle-text').value.trim() !== '') await check();
    },
  };
}

export function createCsrTab({ onChange }) {
  const $ = (id) => document.getElementById(id);
  const result = $('csr-result');

  async function check() {
    const csr = $('csr-text').value;
    const problem = checkPemText(csr, 'CSR');
    if (problem) {
      show(result, errorBox('The CSR could not be checked', problem));
      onChange();
      return;
    }
    show(result, h('p', { class: 'busy', role: 'status' }, 'Checking…'));
    try {
      const report = await run('checkCsr', { csr, options: { policy: { minRsaBits: Number($('csr-min-bits').value) } } });
      const info = report.csr;
      show(result,
        pkiVerdict(report, 'The CSR meets the signing policy.'),
        h('section', {}, h('h3', {}, 'Signing policy rules'),
          outcomeList(report.checks.map((rule) => [rule.code, rule.passed ? 'pass' : 'fail', rule.detail]), 'Signing policy rules')),
        info ? h('section', {}, h('h3', {}, 'Request'), h('table', { class: 'headers' }, h('tbody', {},
          [['Subject', info.subject || '(empty)'], ['Key', keyText(info.key)], ['Signature algorithm', info.signature_algorithm],
            ['Subject alternative names', sansText(info.san) || '(none)'], ['SPKI SHA-256', info.spki_sha256]]
            .map(([name, value]) => h('tr', {}, h('th', { scope: 'row' }, name), h('td', { class: 'mono' }, value)))))) : null);
    } catch (error) {
      show(result, errorBox('The CSR could not be read', error.message));
    }
    onChange();
  }

  $('check-csr').addEventListener('click', check);
  $('csr-min-bits').addEventListener('change', () => $('csr-text').value.trim() && check());

  return {
    check,
    state: () => ({ csr: $('csr-text').value, minBits: $('csr-min-bits').value }),
    async restore(state) {
      $('csr-text').value = typeof state.csr === 'string' ? state.csr : '';
      if (['4096', '2048'].includes(state.minBits)) $('csr-min-bits').value = state.minBits;
      if ($('csr-text').value.trim() !== '') await check();
    },
  };
}
