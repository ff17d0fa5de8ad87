import type {
  CryptoCallback, Explanation, FspiopRequest, SignedRequest, SignOptions, SignRequestInput,
  Verdict, VerifyOptions,
} from '../types.js';

export * from '../types.js';

/** Options of the Node entry: `crypto` picks node:crypto (default), ring in the wasm, or a callback. */
export interface NodeVerifyOptions extends VerifyOptions {
  crypto?: 'node' | 'wasm' | CryptoCallback;
}

/** Does nothing: the wasm is loaded when the module is. */
export declare function init(): Promise<void>;
export declare function verifyRequest(request: FspiopRequest, options: NodeVerifyOptions): Promise<Verdict>;
export declare function verifyRequestSync(request: FspiopRequest, options: NodeVerifyOptions): Verdict;
export declare function explain(request: FspiopRequest, options: NodeVerifyOptions): Explanation;
export declare function signRequest(request: SignRequestInput, options: SignOptions): SignedRequest;

/** Counts of signatures node:crypto checked, and of calls where it failed and ring took over. */
export declare const engineCounts: { nodeCrypto: number; nodeCryptoFailed: number };

/** A logger with the shape the Mojaloop SDK uses; every method is optional. */
export interface SdkLogger {
  isDebugEnabled?: boolean;
  debug?(message: string, context?: unknown): void;
  [method: string]: unknown;
}

/** Thrown by JwsValidator.validate for a request that fails verification. */
export declare class JwsValidationError extends Error {
  readonly code: 'ERR_FSPIOP_GUARD_JWS_INVALID';
  readonly reason: Verdict['reason'];
  readonly fspiopErrorCode: string | null;
  readonly verdict: Verdict;
}

/** Drop-in for the JwsValidator of @mojaloop/sdk-standard-components. */
export declare class JwsValidator {
  constructor(config: {
    validationKeys: Record<string, string | Uint8Array>;
    logger?: SdkLogger;
    profile?: VerifyOptions['profile'];
    crypto?: NodeVerifyOptions['crypto'];
    now?: number | Date;
  });
  /** Returns true, or throws a JwsValidationError. `body` is the parsed JSON body. */
  validate(request: { headers: Record<string, string | string[] | number | undefined>; body?: unknown; data?: unknown }): true;
}

/** Drop-in for the JwsSigner of @mojaloop/sdk-standard-components. */
export declare class JwsSigner {
  constructor(config: { signingKey: string | Uint8Array; logger?: SdkLogger; mode?: 'sdk-19.19' | 'sdk-19.18' });
  /** Sets fspiop-http-method, fspiop-uri and fspiop-signature on requestOptions.headers. */
  sign(requestOptions: { method: string; uri?: string; url?: string; headers: Record<string, unknown>; body?: unknown; data?: unknown }): void;
  /** Returns the FSPIOP-Signature value for requestOptions with fspiop-uri and fspiop-http-method set. */
  getSignature(requestOptions: { method: string; uri?: string; url?: string; headers: Record<string, unknown>; body?: unknown; data?: unknown }): string;
}

/** The SDK's namespace shape: `new Jws.validator(...)` and `new Jws.signer(...)`. */
export declare const Jws: { validator: typeof JwsValidator; signer: typeof JwsSigner };
