// The page's checks run in this module Worker, so that a large or slow input does not block
// the page (engine.js ends the Worker after a timeout). Each message is {id, op, args}, and
// each reply is {id, result} or {id, error}.

import * as guard from './web/index.js';
import { parseRequestText } from './http-request.js';
import { pemBlocks, readKeyText } from './keys-text.js';

const loaded = guard.init();

/** Describes a key entry; a private key is replaced by its public key. */
function describeKey(entry) {
  try {
    const info = guard.inspectKey(entry.pem);
    const wasPrivate = info.format === 'private-key-pem';
    return {
      ...entry,
      pem: wasPrivate ? info.pem : entry.pem,
      kid: info.kid,
      type: info.type,
      bits: info.bits ?? null,
      curve: info.curve ?? null,
      format: info.format,
      repairs: info.repairs,
      warnings: info.warnings,
      wasPrivate,
      error: null,
    };
  } catch (error) {
    return { ...entry, kid: null, error: error.message };
  }
}

function readKeys({ text, participant, source }) {
  return readKeyText(text, { participant, source }).map(describeKey);
}

function keyStoreOf(keys) {
  const store = new guard.KeyStore();
  const rejected = [];
  for (const key of keys) {
    try {
      store.add(key.participant, key.pem, key.retireAfter === null ? undefined : { retireAfter: key.retireAfter });
    } catch (error) {
      rejected.push({ participant: key.participant, kid: key.kid, error: error.message });
    }
  }
  return { store, rejected };
}

function summariseRequest(request) {
  const body = request.body;
  let preview = '';
  if (body !== null) preview = new TextDecoder('utf-8', { fatal: false }).decode(body.subarray(0, 2000));
  return {
    form: request.form,
    method: request.method,
    url: request.url,
    headers: request.headers,
    bodyBytes: body === null ? 0 : body.length,
    bodyPreview: preview,
  };
}

async function verify({ requestText, keys, profile, now }) {
  const request = parseRequestText(requestText);
  const { store, rejected } = keyStoreOf(keys);
  try {
    const explanation = await guard.explain(
      { method: request.method, url: request.url, headers: request.headers, body: request.body },
      { keys: store, profile, now },
    );
    return { request: summariseRequest(request), explanation, storeKeys: store.list(), rejected };
  } finally {
    store.free();
  }
}

function requirePki(name) {
  if (typeof guard[name] !== 'function') {
    throw new Error(`This build of the fspiop-guard package has no ${name}(); rebuild it with make js.`);
  }
  return guard[name];
}

/** Returns the certificates of an inspectPem() result. */
function certificatesOf(inspection) {
  return inspection.items.filter((item) => item.certificate !== undefined).map((item) => item.certificate);
}

/**
 * Checks a bundle with checkChain(). Without anchors, the bundle's self-issued
 * certificates are the anchors, so that a bundle that ends in its root can be checked.
 */
function checkCertificates({ bundle, anchors, options }) {
  const inspectPem = requirePki('inspectPem');
  // A bundle that does not read still gets checkChain's verdict, which names the reason.
  let bundleItems = [];
  let bundleError = null;
  try {
    bundleItems = certificatesOf(inspectPem(bundle));
  } catch (error) {
    bundleError = error;
  }
  let anchorText = anchors;
  let anchorsFromBundle = false;
  if (anchors.trim() === '') {
    anchorsFromBundle = true;
    if (bundleError !== null) throw bundleError;
    anchorText = pemBlocks(bundle).filter((block) => block.startsWith('-----BEGIN CERTIFICATE-----'))
      .filter((block) => certificatesOf(inspectPem(block)).some((info) => info.self_issued)).join('\n');
    if (anchorText === '') {
      throw new Error('No trust anchor was given and the bundle has no self-signed certificate: paste the CA certificate the chain must lead to.');
    }
  }
  const report = requirePki('checkChain')(bundle, anchorText, options);
  let anchorItems = [];
  try {
    anchorItems = certificatesOf(inspectPem(anchorText));
  } catch {
    // checkChain's report names the unreadable anchor (TRUST_ANCHOR_INVALID).
  }
  return { report, bundleItems, anchorItems, anchorsFromBundle };
}

const operations = {
  checkCertificates,
  readKeys,
  verify,
  inspectPem: ({ text }) => requirePki('inspectPem')(text),
  checkChain: ({ bundle, anchors, options }) => requirePki('checkChain')(bundle, anchors, options),
  checkCsr: ({ csr, options }) => requirePki('checkCsr')(csr, options),
};

self.onmessage = async (event) => {
  const { id, op, args } = event.data;
  try {
    await loaded;
    const operation = operations[op];
    if (operation === undefined) throw new Error(`unknown operation ${op}`);
    self.postMessage({ id, result: await operation(args) });
  } catch (error) {
    self.postMessage({ id, error: { name: error?.name ?? 'Error', message: String(error?.message ?? error), code: error?.code ?? null } });
  }
};
