// Seeded generator of FSPIOP-like requests and of the plan for each direction of a case.
// The header comment of run.mjs describes the shape of the generated cases.

import { deriveSeed, Rng } from './prng.mjs';
import { PRETTY_LAYOUTS, sortedJson } from './json-text.mjs';

// Stream numbers for deriveSeed, so adding draws to one stage does not shift another.
const CASE_STREAM = 0;
const WIRE_STREAM = 1;

const HOSTS = ['https://hub.example', 'https://hub.example:443', 'http://switch.example:3000', 'https://payee-dfsp.example'];

// Prefix path segments, as when a peer endpoint is configured with a base path. Some contain a
// resource name, so FSPIOP-URI must come from the last resource segment, not the first.
const PREFIXES = [
  [70, ''],
  [8, '/api'],
  [8, '/switch/v1'],
  [6, '/fsp/payerfsp'],
  [4, '/parties-proxy'],
  [4, '/interop/quotes/v2'],
];

const RESOURCES = [
  ['POST', () => '/quotes'],
  ['PUT', (rng) => `/quotes/${uuid(rng)}`],
  ['PUT', (rng) => `/quotes/${uuid(rng)}/error`],
  ['POST', () => '/transfers'],
  ['PUT', (rng) => `/transfers/${uuid(rng)}`],
  ['PATCH', (rng) => `/transfers/${uuid(rng)}`],
  ['PUT', (rng) => `/transfers/${uuid(rng)}/error`],
  ['PUT', (rng) => `/parties/MSISDN/${msisdn(rng)}`],
  ['PUT', (rng) => `/parties/MSISDN/${msisdn(rng)}/error`],
  ['PUT', (rng) => `/parties/IBAN/DE89370400440532013000/${rng.int(1, 99)}`],
  ['POST', () => '/participants'],
  ['PUT', (rng) => `/participants/MSISDN/${msisdn(rng)}`],
  ['POST', () => '/transactionRequests'],
  ['PUT', (rng) => `/transactionRequests/${uuid(rng)}`],
  ['POST', () => '/bulkQuotes'],
  ['POST', () => '/bulkTransfers'],
  ['PUT', (rng) => `/bulkTransfers/${uuid(rng)}`],
  ['POST', () => '/fxQuotes'],
  ['PUT', (rng) => `/fxTransfers/${uuid(rng)}`],
  ['PATCH', (rng) => `/fxTransfers/${uuid(rng)}`],
  ['POST', () => '/authorizations'],
  ['PUT', (rng) => `/consents/${uuid(rng)}`],
  ['POST', () => '/consentRequests'],
  ['POST', () => '/thirdpartyRequests/transactions'],
];

const QUERIES = ['?currency=USD', '?a=1&b=%2F', '?q=caf%C3%A9'];

const KEY_WORDS = [
  'amount', 'currency', 'payer', 'payee', 'note', 'fspId', 'partyIdType', 'partyIdentifier',
  'transferId', 'quoteId', 'condition', 'ilpPacket', 'expiration', 'extensionList', 'extension',
  'key', 'value', 'a', 'b', 'B', 'Z', 'z', '_', '$ref', 'aa', 'a b', '', ' ', 'A1', 'a1', '1a',
  '-', 'zz', 'constructor', 'toString', 'hasOwnProperty', 'prototype', 'expires', 'nbf_', 'EXP',
];

// Keys that look like numbers. JS objects list canonical array indices ("0" to "4294967294")
// first, in ascending order, whatever the insertion order; the others keep insertion order.
const INTEGER_LIKE_KEYS = [
  '0', '1', '2', '9', '10', '11', '01', '00', '-1', '1.5', '1e3', '4294967294', '4294967295',
  '4294967296', '2147483647', '9007199254740993', ' 1', '007',
];

// Non-ASCII keys. Sorting is by UTF-16 code unit, so astral characters (surrogates, 0xD800+)
// sort before U+E000..U+FFFF, unlike a sort by code point or by UTF-8 bytes.
const UNICODE_KEYS = [
  '\u00e9', 'caf\u00e9', 'Zo\u00eb', 'e\u0301', '\u00ff', '\u540d\u524d', '\u6570\u91cf', '\u952e',
  '\u{1F600}', '\u{1D518}', '\uFB00', '\uFF01', '\uFFE5', '\uE000', '\u043a\u043b\u044e\u0447',
  '\u0645\u0641\u062a\u0627\u062d', '\u00c5ngstr\u00f6m', '\u{1F469}\u200d\u{1F4BB}',
];

const ESCAPE_KEYS = ['quote"key', 'back\\slash', 'tab\tkey', 'new\nline', '\u2028sep', 'ctrl\u0001', 'del\u007f', 'slash/key'];

const STRING_PIECES = [
  'Payment', 'invoice 42', 'Zo\u00eb', '\u00c5ngstr\u00f6m', '\u0645\u062d\u0645\u062f', '\u674e\u5c0f\u9f99',
  '\u{1F600}', '\u{1D518}\u{1D52B}', '\u{1F469}\u200d\u{1F4BB}', '\uFB00', '\uFFE5', '\u2028', '\u2029',
  '"', '\\', '/', '\b', '\f', '\n', '\r', '\t', '\u0000', '\u0001', '\u001f', '\u007f', '\u00a0',
  'e\u0301', '</script>', '&amp;', '\u200b', ' ', '0', '-1.5', 'null', 'true', '{}', '[]', '\uFEFF',
];

const EDGE_NUMBERS = [
  0, -0, 1, -1, 100, 0.1, 0.5, 1.5, -2.5, 1e21, 1e20, 999999999999999900000, 1e-7, 1e-6,
  0.000001, 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 2 ** 53,
  2 ** 53 + 2, -(2 ** 53), 2 ** 64, 2 ** 63, 1.2345678901234567e25, 123456789012345680000,
  4294967295, 4294967296, 1 / 3, 2 / 3, 0.1 + 0.2, 1e300, 1e-300, 100.25, 12345.678,
];

const CLAIM_VARIANTS = [
  // Fixed dates, so the verdicts do not depend on the clock: 2001-09-09 and 2100-01-01.
  ['exp-future', ['exp', 4102444800]],
  ['exp-past', ['exp', 1000000000]],
  ['exp-string', ['exp', '2100-01-01']],
  ['nbf-past', ['nbf', 1000000000]],
  ['nbf-future', ['nbf', 4102444800]],
  ['nbf-string', ['nbf', 'now']],
];

/** Claims that jsonwebtoken accepts, so every validator still accepts the body. */
export const ACCEPTED_CLAIMS = new Set(['exp-future', 'nbf-past']);

const TAMPERS = [
  [3, 'body-value'],
  [1, 'fspiop-uri-header'],
  [1, 'http-method-header'],
  [1, 'date-header'],
  [1, 'destination-header'],
  [1, 'signature-character'],
  [1, 'source-header'],
  [1, 'repeated-source-header'],
  [1, 'signature-header-reformatted'],
];

function uuid(rng) {
  const hex = Array.from({ length: 32 }, () => rng.int(0, 15).toString(16));
  hex[12] = '4';
  hex[16] = rng.pick(['8', '9', 'a', 'b']);
  const text = hex.join('');
  return `${text.slice(0, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}-${text.slice(16, 20)}-${text.slice(20)}`;
}

function msisdn(rng) {
  return String(rng.int(2, 9)) + Array.from({ length: rng.int(6, 11) }, () => rng.int(0, 9)).join('');
}

function randomCodePoint(rng) {
  if (rng.chance(0.3)) {
    return String.fromCodePoint(rng.int(0x10000, 0x10ffff));
  }
  let codePoint = rng.int(0x20, 0xfffd);
  if (codePoint >= 0xd800 && codePoint <= 0xdfff) {
    codePoint -= 0x800;
  }
  return String.fromCodePoint(codePoint);
}

/** Returns a string of whole code points (never a lone surrogate). */
function randomString(rng, maxPieces = 6) {
  const count = rng.int(0, maxPieces);
  let text = '';
  for (let i = 0; i < count; i++) {
    text += rng.weighted([
      [4, () => rng.pick(KEY_WORDS)],
      [4, () => rng.pick(STRING_PIECES)],
      [2, () => randomCodePoint(rng)],
      [1, () => String(rng.int(0, 99999))],
    ])();
  }
  return text;
}

function randomKey(rng) {
  return rng.weighted([
    [45, () => rng.pick(KEY_WORDS)],
    [20, () => rng.pick(INTEGER_LIKE_KEYS)],
    [20, () => rng.pick(UNICODE_KEYS)],
    [10, () => rng.pick(ESCAPE_KEYS)],
    [5, () => randomString(rng, 3)],
  ])();
}

function randomBitsDouble(rng) {
  const view = new DataView(new ArrayBuffer(8));
  view.setUint32(0, rng.uint32());
  view.setUint32(4, rng.uint32());
  const value = view.getFloat64(0);
  return Number.isFinite(value) ? value : 0;
}

function randomNumber(rng) {
  return rng.weighted([
    [30, () => rng.int(0, 1000)],
    [10, () => -rng.int(1, 1000000)],
    [15, () => rng.int(0, 10000000) / 100],
    [20, () => rng.pick(EDGE_NUMBERS)],
    [15, () => (rng.next() - 0.5) * 10 ** rng.int(-25, 25)],
    [10, () => randomBitsDouble(rng)],
  ])();
}

function randomValue(rng, depth, maxDepth) {
  const containerWeight = depth < maxDepth ? 3 : 0;
  const kind = rng.weighted([
    [containerWeight, 'object'],
    [containerWeight * 0.6, 'array'],
    [3, 'string'],
    [2.5, 'number'],
    [0.6, 'boolean'],
    [0.5, 'null'],
  ]);
  switch (kind) {
    case 'object':
      return randomObject(rng, depth, maxDepth, false);
    case 'array':
      return Array.from({ length: rng.weighted([[1, 0], [5, rng.int(1, 4)], [1, rng.int(5, 8)]]) }, () =>
        randomValue(rng, depth + 1, maxDepth),
      );
    case 'string':
      return randomString(rng);
    case 'number':
      return randomNumber(rng);
    case 'boolean':
      return rng.chance(0.5);
    default:
      return null;
  }
}

/** Builds an object; a top-level one never gets `exp` or `nbf`, which JWT libraries check. */
function randomObject(rng, depth, maxDepth, topLevel) {
  const size = rng.weighted([[1, 0], [5, rng.int(1, 3)], [3, rng.int(4, 8)], [1, rng.int(9, 20)]]);
  const object = {};
  for (let i = 0; i < size; i++) {
    const key = randomKey(rng);
    if (key === '__proto__' || (topLevel && (key === 'exp' || key === 'nbf'))) {
      continue;
    }
    object[key] = randomValue(rng, depth + 1, maxDepth);
  }
  return object;
}

function money(rng) {
  return { currency: rng.pick(['USD', 'EUR', 'XOF', 'TZS']), amount: String(rng.int(1, 100000) / rng.pick([1, 10, 100])) };
}

function partyIdInfo(rng, fspId) {
  return { partyIdType: 'MSISDN', partyIdentifier: msisdn(rng), fspId };
}

function extensionList(rng) {
  return {
    extension: Array.from({ length: rng.int(1, 3) }, () => ({ key: randomString(rng, 2) || 'k', value: randomString(rng, 3) })),
  };
}

const TEMPLATES = {
  quote: (rng) => ({
    quoteId: uuid(rng),
    transactionId: uuid(rng),
    payee: { partyIdInfo: partyIdInfo(rng, 'payeefsp') },
    payer: {
      partyIdInfo: partyIdInfo(rng, 'payerfsp'),
      personalInfo: { complexName: { firstName: randomString(rng, 2) || 'Alice', lastName: 'Example' } },
    },
    amountType: rng.pick(['SEND', 'RECEIVE']),
    amount: money(rng),
    transactionType: { scenario: 'TRANSFER', initiator: 'PAYER', initiatorType: 'CONSUMER' },
    note: randomString(rng),
    expiration: new Date(Date.UTC(2026, 4, 13) + rng.int(0, 86400000)).toISOString(),
  }),
  transfer: (rng) => ({
    transferId: uuid(rng),
    payerFsp: 'payerfsp',
    payeeFsp: 'payeefsp',
    amount: money(rng),
    ilpPacket: Buffer.from(randomString(rng, 12)).toString('base64'),
    condition: Buffer.from(uuid(rng)).toString('base64url').slice(0, 43),
    expiration: new Date(Date.UTC(2026, 4, 13) + rng.int(0, 86400000)).toISOString(),
  }),
  party: (rng) => ({
    party: {
      partyIdInfo: partyIdInfo(rng, 'payeefsp'),
      name: randomString(rng, 4),
      personalInfo: { complexName: { firstName: randomString(rng, 2), lastName: randomString(rng, 2) } },
    },
  }),
  error: (rng) => ({
    errorInformation: { errorCode: String(rng.int(2000, 5999)), errorDescription: randomString(rng, 4) },
  }),
};

function templateBody(rng) {
  const body = TEMPLATES[rng.pick(Object.keys(TEMPLATES))](rng);
  if (rng.chance(0.3)) {
    body.extensionList = extensionList(rng);
  }
  if (rng.chance(0.4)) {
    Object.assign(body, randomObject(rng, 1, rng.int(2, 6), true));
  }
  return body;
}

/** Builds a body of at least 100 KiB of JSON text, in one of three shapes. */
function largeBody(rng) {
  const targetLength = rng.int(100 * 1024, 260 * 1024);
  const shape = rng.pick(['large-array', 'large-string', 'many-keys']);
  const body = { transferId: uuid(rng) };
  let length = 0;
  if (shape === 'large-array') {
    body.items = [];
    while (length < targetLength) {
      const item = { id: uuid(rng), amount: money(rng), note: randomString(rng, 8), flags: [rng.chance(0.5), null, randomNumber(rng)] };
      body.items.push(item);
      length += JSON.stringify(item).length + 1;
    }
  } else if (shape === 'large-string') {
    const pieces = [];
    while (length < targetLength) {
      const piece = randomString(rng, 12);
      pieces.push(piece);
      length += JSON.stringify(piece).length - 2;
    }
    body.note = pieces.join('');
  } else {
    body.fields = {};
    for (let i = 0; length < targetLength; i++) {
      const key = `${rng.pick([...KEY_WORDS, ...UNICODE_KEYS])}-${i}`;
      body.fields[key] = randomValue(rng, 5, 6);
      length += JSON.stringify(key).length + JSON.stringify(body.fields[key]).length + 2;
    }
  }
  return { shape, body };
}

function generateBody(rng) {
  const shape = rng.weighted([[2, 'empty'], [44, 'template'], [44, 'random'], [2, 'large']]);
  if (shape === 'empty') {
    return { shape, body: {} };
  }
  if (shape === 'large') {
    return largeBody(rng);
  }
  if (shape === 'template') {
    return { shape, body: templateBody(rng) };
  }
  return { shape, body: randomObject(rng, 0, rng.int(1, 6), true) };
}

/** Adds a top-level exp or nbf member at a random position, or returns null. */
function maybeAddClaim(rng, body) {
  if (!rng.chance(0.02)) {
    return null;
  }
  const [name, [member, value]] = rng.pick(CLAIM_VARIANTS);
  const entries = Object.entries(body);
  entries.splice(rng.int(0, entries.length), 0, [member, value]);
  for (const key of Object.keys(body)) {
    delete body[key];
  }
  for (const [key, entryValue] of entries) {
    body[key] = entryValue;
  }
  return name;
}

function generateUrl(rng) {
  const [method, buildPath] = rng.pick(RESOURCES);
  let resourcePath = buildPath(rng);
  const resource = resourcePath.split('/')[1];
  let query = rng.chance(0.05) ? rng.pick(QUERIES) : '';
  let oddity = null;

  // URLs where the SDK's FSPIOP-URI regex takes an unusual part: it is case-sensitive and also
  // matches "/" followed by nothing, so "/Quotes" and "/foo/bar" give "//host/...", and a
  // trailing slash gives "/". A fragment is kept in FSPIOP-URI but is not sent on the wire.
  if (rng.chance(0.03)) {
    oddity = rng.pick(['capitalised-resource', 'trailing-slash', 'unknown-resource', 'fragment']);
    if (oddity === 'capitalised-resource') {
      resourcePath = `/${resource[0].toUpperCase()}${resourcePath.slice(2)}`;
    } else if (oddity === 'trailing-slash') {
      resourcePath = `${resourcePath}/`;
    } else if (oddity === 'unknown-resource') {
      resourcePath = '/foo/bar';
    } else {
      query = `${query}#frag`;
    }
  }

  const url = `${rng.pick(HOSTS)}${rng.weighted(PREFIXES)}${resourcePath}${query}`;
  const parsed = new URL(url);
  return {
    method,
    resource,
    url,
    oddity,
    wirePath: parsed.pathname + parsed.search,
    hubUri: resourcePath + query.replace(/#.*$/, ''),
  };
}

function generateBodyText(rng, body) {
  if (!rng.chance(0.06)) {
    return { bodyText: undefined, bodyTextForm: null };
  }
  const form = rng.pick(['compact', 'pretty', 'sorted']);
  const text = { compact: () => JSON.stringify(body), pretty: () => JSON.stringify(body, null, 2), sorted: () => sortedJson(body) }[form]();
  return { bodyText: text, bodyTextForm: form };
}

function planWireMutations(rng) {
  if (!rng.chance(0.4)) {
    return null;
  }
  const plan = {
    pretty: rng.chance(0.4) ? rng.pick(PRETTY_LAYOUTS) : null,
    reorder: rng.chance(0.3),
    duplicate: rng.chance(0.25),
    escape: rng.chance(0.3),
    numbers: rng.chance(0.4),
    overflow: rng.chance(0.1),
  };
  if (!plan.pretty && !plan.reorder && !plan.duplicate && !plan.escape && !plan.numbers && !plan.overflow) {
    plan.pretty = PRETTY_LAYOUTS[0];
  }
  return plan;
}

/**
 * Generates case `index` of `seed`. `keyPool` is the Map from keys.mjs; only its FSP ids and
 * algorithms are read here.
 */
export function generateCase(seed, index, keyPool) {
  const rng = new Rng(deriveSeed(seed, index, CASE_STREAM));
  const fspIds = [...keyPool.keys()];

  const key = keyPool.get(
    rng.weighted([
      [30, 'payerfsp'],
      [25, 'payeefsp'],
      [20, 'switch'],
      [20, 'ecfsp'],
      [5, 'dfsp-\u00e9'],
    ]),
  );
  const target = generateUrl(rng);

  const headers = { 'content-type': `application/vnd.interoperability.${target.resource}+json;version=1.${rng.int(0, 1)}` };
  if (rng.chance(0.85)) {
    headers.date = new Date(Date.UTC(2026, 0, 1) + rng.int(0, 365 * 86400) * 1000).toUTCString();
  }
  headers['fspiop-source'] = key.fspId;
  const destination = rng.weighted([
    [72, () => rng.pick(fspIds.filter((fspId) => fspId !== key.fspId))],
    [25, () => undefined],
    [3, () => ''],
  ])();
  if (destination !== undefined) {
    headers['fspiop-destination'] = destination;
  }

  const { shape: bodyShape, body } = generateBody(rng);
  const claims = maybeAddClaim(rng, body);
  const { bodyText, bodyTextForm } = generateBodyText(rng, body);

  const message = {
    method: target.method,
    methodAsGiven: rng.chance(0.1) ? target.method.toLowerCase() : target.method,
    url: target.url,
    urlOddity: target.oddity,
    wirePath: target.wirePath,
    hubUri: target.hubUri,
    headers,
    body,
    bodyText,
    bodyTextForm,
    bodyShape,
    claims,
    fields: rng.chance(0.2) ? 'url-data' : 'uri-body',
  };

  const a = {
    version: rng.chance(0.5) ? '19.19.1' : '19.18.8',
    call: rng.chance(0.15) ? 'getSignature' : 'sign',
    mutations: planWireMutations(rng),
    tamper: rng.chance(0.08) ? rng.weighted(TAMPERS) : null,
    headerNames: rng.chance(0.15) ? 'lowercase' : 'canonical',
  };
  const b = { mode: rng.weighted([[40, 'sdk-19.19'], [35, 'sdk-19.18'], [25, 'get-signature']]) };

  return { seed, index, key, message, a, b, wireRng: new Rng(deriveSeed(seed, index, WIRE_STREAM)) };
}

/**
 * Returns the message as a signer call gets it. For getSignature the caller (the Hub) sets
 * fspiop-uri and fspiop-http-method itself before signing.
 */
export function messageForCall(message, call) {
  if (call !== 'getSignature') {
    return message;
  }
  return {
    ...message,
    headers: { ...message.headers, 'fspiop-uri': message.hubUri, 'fspiop-http-method': message.method },
  };
}
