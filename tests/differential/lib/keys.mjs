// Throwaway JWS keys, generated with node:crypto at every run, so the test depends on no key
// files. Verdicts do not depend on the key values, so only signature bytes change between runs.
//
// The PEM encodings vary on purpose, because a verifier and a signer must read all of them:
// private keys in PKCS#8, PKCS#1 and SEC1 form, public keys in SPKI and PKCS#1 form.
// The EC private key must be SEC1 ("BEGIN EC PRIVATE KEY"), because the SDK signer picks ES256
// only when the PEM text contains "BEGIN EC ".

import { generateKeyPairSync } from 'node:crypto';

const KEY_SPECS = [
  { fspId: 'payerfsp', type: 'rsa', privateType: 'pkcs8', publicType: 'spki' },
  { fspId: 'payeefsp', type: 'rsa', privateType: 'pkcs1', publicType: 'pkcs1' },
  { fspId: 'switch', type: 'rsa', privateType: 'pkcs1', publicType: 'spki' },
  // A Latin-1 FSP id, because the SDK encodes the protected header as Latin-1, not UTF-8.
  { fspId: 'dfsp-\u00e9', type: 'rsa', privateType: 'pkcs8', publicType: 'spki' },
  { fspId: 'ecfsp', type: 'ec', privateType: 'sec1', publicType: 'spki' },
];

/**
 * Generates one key pair per FSP id. Returns a Map from FSP id to
 * `{fspId, alg, privatePem, publicPem}`.
 */
export function generateKeyPool() {
  const pool = new Map();
  for (const spec of KEY_SPECS) {
    const options =
      spec.type === 'rsa'
        ? { modulusLength: 2048, publicExponent: 0x10001 }
        : { namedCurve: 'P-256' };
    const { privateKey, publicKey } = generateKeyPairSync(spec.type, {
      ...options,
      privateKeyEncoding: { type: spec.privateType, format: 'pem' },
      publicKeyEncoding: { type: spec.publicType, format: 'pem' },
    });
    pool.set(spec.fspId, {
      fspId: spec.fspId,
      alg: spec.type === 'rsa' ? 'RS256' : 'ES256',
      privatePem: privateKey,
      publicPem: publicKey,
    });
  }
  return pool;
}

/** Returns `{fspId: publicPem}` for every key, the shape SDK validators and the CLI take. */
export function publicKeyMap(pool) {
  return Object.fromEntries([...pool.values()].map((key) => [key.fspId, key.publicPem]));
}
