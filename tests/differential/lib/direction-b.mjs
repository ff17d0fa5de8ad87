// Direction B: fspiop-guard signs in one of its SDK-compatible modes. The SDK validators judge
// the result, and the bytes are compared with what the SDK signer of the same mode produces.

import { ACCEPTED_CLAIMS, messageForCall } from './generate.mjs';
import { LATEST_VERSION, LEGACY_VERSION } from './oracles.mjs';
import { checkRawBodySignature, toNodeHeaders } from './wire.mjs';

/**
 * For each signing mode: the SDK call it reproduces, the SDK version whose signer output it
 * must match byte for byte, and the validator version that must accept it.
 */
export const SIGNING_MODES = {
  'sdk-19.19': { call: 'sign', signerVersion: LATEST_VERSION, validatorVersion: LATEST_VERSION },
  'sdk-19.18': { call: 'sign', signerVersion: LEGACY_VERSION, validatorVersion: LEGACY_VERSION },
  // The Hub signs with getSignature() and insertion-order JSON, so 19.18.8 is the validator
  // that accepts it. 19.19.1 getSignature() differs only in the member order of the
  // FSPIOP-Signature JSON, and either order is accepted as a byte match.
  'get-signature': { call: 'getSignature', signerVersion: LEGACY_VERSION, validatorVersion: LEGACY_VERSION },
};

function otherVersion(version) {
  return version === LATEST_VERSION ? LEGACY_VERSION : LATEST_VERSION;
}

/** Builds one direction-B case: the CLI input and the SDK signer's reference output. */
export function buildDirectionB(testCase, oracles, publicKeys) {
  const { message, b, key } = testCase;
  const mode = SIGNING_MODES[b.mode];
  const input = messageForCall(message, mode.call);
  const reference = oracles[mode.signerVersion].sign(key, mode.call, input);
  const alternative = mode.call === 'getSignature' ? oracles[LATEST_VERSION].sign(key, mode.call, input) : null;

  const caseB = {
    id: `B-${testCase.index}`,
    testCase,
    mode,
    reference,
    alternative,
    cliRequest: {
      method: input.methodAsGiven,
      url: input.url,
      headers: input.headers,
      body: input.bodyText ?? input.body,
    },
  };
  if (!reference.error) {
    caseB.referenceVerdict = judgeSigned(oracles, mode, reference);
    caseB.referenceRaw = checkRawBodySignature(toNodeHeaders(reference.headers), reference.bodyText, publicKeys);
  }
  return caseB;
}

/** Returns the line for `fspiop-guard sign --batch`. */
export function signRequestLine(caseB) {
  return { id: caseB.id, mode: caseB.testCase.b.mode, key: caseB.testCase.key.privatePem, request: caseB.cliRequest };
}

function judgeSigned(oracles, mode, signed) {
  const nodeHeaders = toNodeHeaders(signed.headers);
  return {
    matching: oracles[mode.validatorVersion].validate(nodeHeaders, signed.bodyText),
    other: oracles[otherVersion(mode.validatorVersion)].validate(nodeHeaders, signed.bodyText),
  };
}

/**
 * Returns what must hold for the SDK's own output, or null when all holds. A message here means
 * the generator or the harness is wrong, not the signer under test.
 */
export function checkConstructionB(caseB) {
  const { message } = caseB.testCase;
  if (caseB.reference.error) {
    return `SDK ${caseB.mode.signerVersion} ${caseB.mode.call}() failed: ${caseB.reference.error}`;
  }
  if (!caseB.referenceRaw.signatureVerifies || !caseB.referenceRaw.headersConsistent) {
    return `SDK signature does not verify over its own wire body: ${caseB.referenceRaw.detail}`;
  }
  const plainObjectBody = message.bodyText === undefined && (!message.claims || ACCEPTED_CLAIMS.has(message.claims));
  if (plainObjectBody && !caseB.referenceVerdict.matching.accepted) {
    return `${caseB.mode.validatorVersion} rejected the SDK's own signature: ${caseB.referenceVerdict.matching.error}`;
  }
  return null;
}

function signatureMembers(text) {
  try {
    const { protectedHeader, signature } = JSON.parse(text);
    return { protectedHeader, signature };
  } catch {
    return null;
  }
}

/**
 * Lists the differences between our signed output and the SDK's, as `[field, ours, sdk]`.
 * RSA PKCS#1 v1.5 is deterministic, so the whole FSPIOP-Signature must match. ECDSA is
 * randomised, so only its protected header is compared.
 */
function compareWithReference(caseB, ours) {
  const { reference, alternative } = caseB;
  const differences = [];
  if (ours.bodyText !== reference.bodyText) {
    differences.push(['body', ours.bodyText, reference.bodyText]);
  }

  const names = new Set([...Object.keys(reference.headers), ...Object.keys(ours.headers)]);
  for (const name of names) {
    const oursValue = ours.headers[name];
    const sdkValue = reference.headers[name];
    if (name !== 'fspiop-signature') {
      if (oursValue !== sdkValue) {
        differences.push([name, oursValue, sdkValue]);
      }
      continue;
    }
    if (caseB.testCase.key.alg === 'RS256') {
      if (oursValue !== sdkValue && oursValue !== alternative?.headers['fspiop-signature']) {
        differences.push([name, oursValue, sdkValue]);
      }
      continue;
    }
    const oursMembers = typeof oursValue === 'string' ? signatureMembers(oursValue) : null;
    if (oursMembers?.protectedHeader !== signatureMembers(sdkValue).protectedHeader) {
      differences.push(['fspiop-signature protectedHeader', oursMembers?.protectedHeader, signatureMembers(sdkValue).protectedHeader]);
    }
  }
  return differences;
}

/**
 * Judges fspiop-guard's signed output and returns `{outcome: 'pass' | 'fail', label, verdict,
 * differences}`. The case fails when only one of the SDK signer and fspiop-guard fails to sign,
 * when the validator of the mode's version judges our output differently from the SDK's own,
 * or when the bytes differ.
 */
export function classifyB(caseB, ourOutput, oracles) {
  const { reference, mode } = caseB;
  const ourError = ourOutput.error ?? null;
  if (reference.error || ourError) {
    if (reference.error && ourError) {
      return { outcome: 'pass', label: 'signer-error-both' };
    }
    return {
      outcome: 'fail',
      label: ourError ? 'cli-signer-error' : 'cli-signed-where-sdk-failed',
      differences: [['error', ourError, reference.error ?? null]],
    };
  }

  const ours = { headers: ourOutput.headers ?? {}, bodyText: ourOutput.body };
  if (typeof ours.bodyText !== 'string') {
    return { outcome: 'fail', label: 'cli-output-invalid', differences: [['body', ours.bodyText, reference.bodyText]] };
  }
  const verdict = judgeSigned(oracles, mode, ours);
  if (verdict.matching.accepted !== caseB.referenceVerdict.matching.accepted) {
    return {
      outcome: 'fail',
      label: verdict.matching.accepted ? 'accepted-where-sdk-output-is-rejected' : `rejected-by-${mode.validatorVersion}`,
      verdict,
      differences: compareWithReference(caseB, ours),
    };
  }
  const differences = compareWithReference(caseB, ours);
  if (differences.length > 0) {
    return { outcome: 'fail', label: 'bytes-differ', verdict, differences };
  }
  return { outcome: 'pass', label: verdict.matching.accepted ? 'match-accepted' : 'match-rejected', verdict };
}
