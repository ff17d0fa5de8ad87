// ES module entry for Node: the same synchronously loaded module as the CommonJS entry.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const api = require('./index.cjs');

export const {
  init,
  verifyRequest,
  verifyRequestSync,
  explain,
  signRequest,
  inspectSignature,
  inspectKey,
  fingerprint,
  checkChain,
  checkCsr,
  inspectPem,
  verifyJwt,
  KeyStore,
  SigningKey,
  JwsValidator,
  JwsSigner,
  JwsValidationError,
  engineCounts,
  Jws,
} = api;
export default api;
