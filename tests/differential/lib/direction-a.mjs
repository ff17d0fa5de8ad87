// Direction A: the SDK signs, the request travels (wire mutations, sometimes tampering), and
// both SDK validators and fspiop-guard's `mojaloop-sdk` profile judge the result.

import { ACCEPTED_CLAIMS, messageForCall } from './generate.mjs';
import {
  assertSameReserialisation,
  duplicateMembers,
  escapeNonAscii,
  overflowNulls,
  parseJsonText,
  printJsonText,
  reorderMembers,
  rewriteNumbers,
  tamperValue,
} from './json-text.mjs';
import { LATEST_VERSION, LEGACY_VERSION } from './oracles.mjs';
import { canonicalHeaderName, checkRawBodySignature, toNodeHeaders } from './wire.mjs';

const WIRE_HEADER_ORDER = [
  'host',
  'content-type',
  'content-length',
  'date',
  'fspiop-source',
  'fspiop-destination',
  'fspiop-uri',
  'fspiop-http-method',
  'fspiop-signature',
];

/**
 * Applies a body-value tamper (first, so a later duplicate member cannot hide it) and then the
 * planned wire mutations. Returns `{bodyText, applied}`.
 */
function rewriteBody(bodyText, plan, tamperBody, rng) {
  const tree = parseJsonText(bodyText);
  const applied = [];
  let baseline = bodyText;
  if (tamperBody) {
    tamperValue(tree, rng);
    baseline = printJsonText(tree);
  }

  if (plan?.reorder && reorderMembers(tree, rng)) {
    applied.push('reorder-keys');
  }
  if (plan?.duplicate) {
    const counts = duplicateMembers(tree, rng);
    if (counts.inPlace > 0) {
      applied.push('duplicate-key');
    }
    if (counts.moved > 0) {
      applied.push('duplicate-key-moved');
    }
  }
  if (plan?.escape && escapeNonAscii(tree, rng)) {
    applied.push('escape-non-ascii');
  }
  if (plan?.numbers && rewriteNumbers(tree, rng)) {
    applied.push('number-forms');
  }
  if (plan?.overflow && overflowNulls(tree, rng)) {
    applied.push('number-overflow');
  }
  if (plan?.pretty) {
    applied.push(`pretty:${plan.pretty.name}`);
  }

  const mutated = printJsonText(tree, plan?.pretty ?? null);
  assertSameReserialisation(baseline, mutated, applied.join(','));
  return { bodyText: mutated, applied };
}

/**
 * Tampers with the headers (lowercase map, changed in place). Returns whether the tamper
 * must make every verifier reject, and the extra repeated header line to add, if any.
 */
function tamperHeaders(kind, headers, testCase, keyPool, rng) {
  switch (kind) {
    case 'body-value':
      return { mustReject: true };
    case 'fspiop-uri-header':
      headers['fspiop-uri'] += '/x';
      return { mustReject: true };
    case 'http-method-header':
      headers['fspiop-http-method'] = headers['fspiop-http-method'].toLowerCase();
      return { mustReject: true };
    case 'date-header':
      if (headers.date) {
        headers.date = new Date(Date.parse(headers.date) + 1000).toUTCString();
        return { mustReject: true, detail: 'date-changed' };
      }
      // A Date header that the signature does not protect is never compared.
      headers.date = new Date(Date.UTC(2026, 4, 13)).toUTCString();
      return { mustReject: false, detail: 'date-added-unprotected' };
    case 'destination-header':
      if (headers['fspiop-destination']) {
        delete headers['fspiop-destination'];
        return { mustReject: true, detail: 'destination-removed' };
      }
      headers['fspiop-destination'] = 'payeefsp';
      return { mustReject: true, detail: 'destination-added-unprotected' };
    case 'signature-character': {
      const signatureHeader = JSON.parse(headers['fspiop-signature']);
      const signature = signatureHeader.signature;
      const position = Math.floor(signature.length / 2);
      const replacement = signature[position] === 'A' ? 'B' : 'A';
      signatureHeader.signature = signature.slice(0, position) + replacement + signature.slice(position + 1);
      headers['fspiop-signature'] = JSON.stringify(signatureHeader);
      return { mustReject: true };
    }
    case 'source-header':
      headers['fspiop-source'] = rng.pick([...keyPool.keys()].filter((fspId) => fspId !== testCase.key.fspId));
      return { mustReject: true };
    case 'repeated-source-header':
      // Node joins the two lines into "payerfsp, payerfsp", which names no key.
      return { mustReject: true, repeatedLine: ['fspiop-source', headers['fspiop-source']] };
    case 'signature-header-reformatted': {
      const { protectedHeader, signature } = JSON.parse(headers['fspiop-signature']);
      headers['fspiop-signature'] =
        `{ "signature" : ${JSON.stringify(signature)},\t"protectedHeader": ${JSON.stringify(protectedHeader)}, "kid": null }`;
      return { mustReject: false };
    }
    default:
      throw new Error(`unknown tamper kind ${kind}`);
  }
}

function toWireHeaders(headers, naming, repeatedLine) {
  const rename = (name) => (naming === 'canonical' ? canonicalHeaderName(name) : name);
  const wire = {};
  const names = [...WIRE_HEADER_ORDER.filter((name) => Object.hasOwn(headers, name)), ...Object.keys(headers)];
  for (const name of new Set(names)) {
    wire[rename(name)] = headers[name];
  }
  if (repeatedLine) {
    // Spell the second line differently, so it is a separate key in the JSON object.
    const [name, value] = repeatedLine;
    wire[naming === 'canonical' ? name : canonicalHeaderName(name)] = value;
  }
  return wire;
}

/**
 * Builds one direction-A case: SDK signature, wire request, both SDK verdicts and the raw-body
 * check. Returns `{id, signerError}` when the SDK signer throws.
 */
export function buildDirectionA(testCase, oracles, keyPool, publicKeys) {
  const { message, a, key } = testCase;
  const id = `A-${testCase.index}`;
  const signed = oracles[a.version].sign(key, a.call, messageForCall(message, a.call));
  if (signed.error) {
    return { id, testCase, signerError: signed.error };
  }

  const rng = testCase.wireRng;
  const tamperBody = a.tamper === 'body-value';
  let bodyText = signed.bodyText;
  let applied = [];
  if (a.mutations || tamperBody) {
    ({ bodyText, applied } = rewriteBody(bodyText, a.mutations, tamperBody, rng));
  }

  const headers = { host: new URL(message.url).host, ...signed.headers };
  const tamper = a.tamper ? tamperHeaders(a.tamper, headers, testCase, keyPool, rng) : null;
  headers['content-length'] = String(Buffer.byteLength(bodyText, 'utf8'));
  const wireHeaders = toWireHeaders(headers, a.headerNames, tamper?.repeatedLine);
  const nodeHeaders = toNodeHeaders(wireHeaders);

  return {
    id,
    testCase,
    applied,
    tamper,
    bodyUntouched: bodyText === signed.bodyText,
    wire: { method: message.method, url: message.wirePath, headers: wireHeaders, body: bodyText },
    latest: oracles[LATEST_VERSION].validate(nodeHeaders, bodyText),
    legacy: oracles[LEGACY_VERSION].validate(nodeHeaders, bodyText),
    raw: checkRawBodySignature(nodeHeaders, bodyText, publicKeys),
  };
}

/** Returns the line for `fspiop-guard verify --batch`. */
export function verifyRequestLine(caseA, publicKeys) {
  return { id: caseA.id, request: caseA.wire, keys: publicKeys };
}

/**
 * Returns what must hold by construction, whatever fspiop-guard does, or null when all holds.
 * A message here means the generator or the harness is wrong, not the verifier.
 */
export function checkConstructionA(caseA) {
  if (caseA.signerError) {
    return `SDK ${caseA.testCase.a.version} ${caseA.testCase.a.call}() failed: ${caseA.signerError}`;
  }
  const { message, a } = caseA.testCase;
  const rawAccepted = caseA.raw.signatureVerifies && caseA.raw.headersConsistent;

  if (caseA.tamper?.mustReject) {
    if (caseA.latest.accepted || caseA.legacy.accepted || rawAccepted) {
      return `tamper ${a.tamper} left the request acceptable`;
    }
    return null;
  }
  if (caseA.bodyUntouched && !rawAccepted) {
    return `signature does not verify over the unchanged SDK body: ${caseA.raw.detail}`;
  }

  // Which SDK validator must accept: the one whose payload form the signer used.
  if (message.bodyText !== undefined || (message.claims && !ACCEPTED_CLAIMS.has(message.claims))) {
    return null;
  }
  const signedSorted = a.call === 'sign' && a.version === LATEST_VERSION;
  const orderChanged = caseA.applied.includes('reorder-keys') || caseA.applied.includes('duplicate-key-moved');
  if (signedSorted && !caseA.latest.accepted) {
    return `${LATEST_VERSION} rejected a ${LATEST_VERSION} signature: ${caseA.latest.error}`;
  }
  if (!signedSorted && !orderChanged && !caseA.legacy.accepted) {
    return `${LEGACY_VERSION} rejected an insertion-order signature: ${caseA.legacy.error}`;
  }
  return null;
}

/**
 * Names the SDK-side class of a case: which validators accept, and for cases both reject,
 * whether the signature verifies over the raw bytes or only jsonwebtoken's claim checks fail.
 */
export function oracleClassA(caseA) {
  const { latest, legacy, raw } = caseA;
  if (latest.accepted && legacy.accepted) {
    return 'accepted-by-both';
  }
  if (legacy.accepted) {
    return 'accepted-by-legacy-only';
  }
  if (latest.accepted) {
    return 'accepted-by-latest-only';
  }
  if (latest.claims || legacy.claims) {
    return 'body-jwt-claims';
  }
  if (raw.signatureVerifies && raw.headersConsistent) {
    return 'raw-bytes-signature';
  }
  return 'rejected-by-both';
}

/** Deviations from the SDK that the `mojaloop-sdk` profile makes on purpose. */
export const EXPECTED_DEVIATIONS = {
  'accepted-by-legacy-only': 'only 19.18.8 accepts (insertion-order signature), and so does fspiop-guard',
  'raw-bytes-signature': 'both SDK validators reject, but the signature verifies over the raw body and fspiop-guard accepts',
  'body-jwt-claims': 'the SDK rejects a top-level exp/nbf body member as a JWT claim, but fspiop-guard accepts',
};

/**
 * Compares fspiop-guard's verdict with the SDK validators. Returns `{outcome, label}` where
 * outcome is 'pass', 'deviation' or 'fail'.
 */
export function classifyA(caseA, ourVerdict) {
  const oracleClass = oracleClassA(caseA);
  const sdkAccepts = caseA.latest.accepted || caseA.legacy.accepted;

  if (ourVerdict.accepted === sdkAccepts) {
    if (!ourVerdict.accepted) {
      // Name the SDK-side class when the raw-body or claims rule could have applied.
      const label = oracleClass === 'rejected-by-both' ? 'rejected-by-all' : `rejected-by-all:${oracleClass}`;
      return { outcome: 'pass', label };
    }
    return { outcome: oracleClass === 'accepted-by-legacy-only' ? 'deviation' : 'pass', label: oracleClass };
  }
  if (ourVerdict.accepted && (oracleClass === 'body-jwt-claims' || oracleClass === 'raw-bytes-signature')) {
    return { outcome: 'deviation', label: oracleClass };
  }
  return { outcome: 'fail', label: ourVerdict.accepted ? 'accepted-but-sdk-rejects' : 'rejected-but-sdk-accepts' };
}
