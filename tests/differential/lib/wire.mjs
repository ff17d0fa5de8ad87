// HTTP-level helpers: header naming on the wire, the header map Node gives a server, and an
// independent check of a signature over the raw body bytes with node:crypto.

import crypto from 'node:crypto';

const CANONICAL_HEADER_NAMES = {
  host: 'Host',
  'content-type': 'Content-Type',
  'content-length': 'Content-Length',
  accept: 'Accept',
  date: 'Date',
  'fspiop-source': 'FSPIOP-Source',
  'fspiop-destination': 'FSPIOP-Destination',
  'fspiop-uri': 'FSPIOP-URI',
  'fspiop-http-method': 'FSPIOP-HTTP-Method',
  'fspiop-signature': 'FSPIOP-Signature',
};

/** Returns the header name as FSPIOP documents spell it, e.g. `fspiop-uri` as `FSPIOP-URI`. */
export function canonicalHeaderName(lowercaseName) {
  return CANONICAL_HEADER_NAMES[lowercaseName] ?? lowercaseName;
}

/**
 * Builds the header map a Node HTTP server hands to the validator: names lowercased, values
 * stripped of surrounding spaces and tabs, repeated lines joined with ", ".
 * NOTE: Node keeps only the first line of a few standard headers (Content-Type, Host,
 * Content-Length, ...) instead of joining them. The generator never repeats those.
 */
export function toNodeHeaders(wireHeaders) {
  const headers = {};
  for (const [name, rawValue] of Object.entries(wireHeaders)) {
    const lowercaseName = name.toLowerCase();
    const value = rawValue.replace(/^[ \t]+|[ \t]+$/g, '');
    headers[lowercaseName] = Object.hasOwn(headers, lowercaseName) ? `${headers[lowercaseName]}, ${value}` : value;
  }
  return headers;
}

function decodeProtectedHeader(protectedHeader) {
  // The SDK writes and reads the protected header JSON as Latin-1 text.
  return JSON.parse(Buffer.from(protectedHeader, 'base64url').toString('latin1'));
}

/**
 * Checks, without SDK code, whether the FSPIOP-Signature verifies over the exact wire body
 * bytes. Also checks that its protected header agrees with the HTTP headers as the SDK
 * validator requires: URI, method and source equal, Date equal when protected, and the
 * destination present in both or neither, and equal. "Present" means a non-empty string.
 * Returns `{signatureVerifies, headersConsistent, detail}`.
 */
export function checkRawBodySignature(nodeHeaders, bodyText, publicKeys) {
  const result = { signatureVerifies: false, headersConsistent: false, detail: null };
  try {
    const source = nodeHeaders['fspiop-source'];
    if (!source || !Object.hasOwn(publicKeys, source)) {
      result.detail = `no key for FSPIOP-Source ${JSON.stringify(source)}`;
      return result;
    }
    const { protectedHeader, signature } = JSON.parse(nodeHeaders['fspiop-signature']);
    const header = decodeProtectedHeader(protectedHeader);
    const signingInput = `${protectedHeader}.${Buffer.from(bodyText, 'utf8').toString('base64url')}`;
    const signatureBytes = Buffer.from(signature, 'base64url');

    let key;
    if (header.alg === 'RS256') {
      key = publicKeys[source];
    } else if (header.alg === 'ES256') {
      key = { key: publicKeys[source], dsaEncoding: 'ieee-p1363' };
    } else {
      result.detail = `unsupported alg ${JSON.stringify(header.alg)}`;
      return result;
    }
    result.signatureVerifies = crypto.verify('sha256', Buffer.from(signingInput, 'latin1'), key, signatureBytes);
    result.headersConsistent = protectedHeaderMatches(header, nodeHeaders);
    if (!result.signatureVerifies) {
      result.detail = 'signature does not verify over the raw body';
    } else if (!result.headersConsistent) {
      result.detail = 'protected header does not match the HTTP headers';
    }
  } catch (error) {
    result.detail = `${error.name}: ${error.message}`;
  }
  return result;
}

function protectedHeaderMatches(header, nodeHeaders) {
  const required = [
    ['FSPIOP-URI', 'fspiop-uri'],
    ['FSPIOP-HTTP-Method', 'fspiop-http-method'],
    ['FSPIOP-Source', 'fspiop-source'],
  ];
  for (const [member, headerName] of required) {
    if (!header[member] || header[member] !== nodeHeaders[headerName]) {
      return false;
    }
  }
  if (header.Date && nodeHeaders.date !== header.Date) {
    return false;
  }
  const destination = nodeHeaders['fspiop-destination'];
  if (destination && destination !== header['FSPIOP-Destination']) {
    return false;
  }
  if (header['FSPIOP-Destination'] && !destination) {
    return false;
  }
  return true;
}
