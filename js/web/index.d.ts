import type {
  Explanation, FspiopRequest, SignedRequest, SignOptions, SignRequestInput, Verdict, VerifyOptions,
} from '../types.js';

export * from '../types.js';

/** Module source for init() and initSync(): its URL, a Response, bytes or a compiled module. */
export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

/** Loads the wasm module; by default it fetches the module beside this file. */
export declare function init(input?: InitInput | Promise<InitInput>): Promise<unknown>;
/** Loads the wasm module synchronously from bytes or a compiled module. */
export declare function initSync(module: BufferSource | WebAssembly.Module): unknown;

/** Options of the browser entry: `crypto` picks WebCrypto (default) or ring in the wasm. */
export interface WebVerifyOptions extends VerifyOptions {
  crypto?: 'webcrypto' | 'wasm';
}

export declare function verifyRequest(request: FspiopRequest, options: WebVerifyOptions): Promise<Verdict>;
export declare function explain(request: FspiopRequest, options: WebVerifyOptions): Promise<Explanation>;
/** Signs a request; call init() first. */
export declare function signRequest(request: SignRequestInput, options: SignOptions): SignedRequest;

/** Counts of signature checks WebCrypto decided, and of those left to ring in the wasm. */
export declare const engineCounts: { webCrypto: number; webCryptoFallback: number };
