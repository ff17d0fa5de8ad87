// Types shared by the Node and browser entries of fspiop-guard.

/** A header value: one string, or several for repeated header lines. */
export type HeaderValue = string | string[];

/** An HTTP request as received. */
export interface FspiopRequest {
  /** HTTP method, for example "POST". */
  method: string;
  /** Request target (path and query) or full URL. */
  url: string;
  /** Headers as an object, or `[name, value]` pairs in wire order. */
  headers?: Record<string, HeaderValue> | Array<[string, string]>;
  /** The body exactly as received, or null when there is none. */
  body?: string | Uint8Array | ArrayBuffer | null;
}

/** Built-in verification profiles. */
export type ProfileName = 'mojaloop-sdk' | 'sdk-19.19' | 'sdk-19.18' | 'strict';

/** Public keys: a KeyStore, or `{fspId: PEM or JWK text, or several for a rotation}`. */
export type Keys<S> = S | Record<string, string | string[]>;

export interface VerifyOptionsBase<S> {
  keys: Keys<S>;
  /** Default "mojaloop-sdk": what the Mojaloop SDK validator accepts. */
  profile?: ProfileName;
  /** Verification time: unix seconds or a Date; default now. */
  now?: number | Date;
  rejectDuplicateKeys?: boolean;
  rejectLossyNumbers?: boolean;
  /** With the strict profile, ingress path prefixes in front of FSPIOP paths. */
  pathPrefixes?: string[];
  /** sdk-scheme-adapter's rules on which requests need a signature. */
  requestRules?: boolean | { putParties?: boolean };
}

/** Stable reason codes of a rejection. */
export type ReasonCode =
  | 'BODY_TOO_LARGE' | 'BODY_NOT_JSON' | 'BODY_PROTO_KEY' | 'BODY_DUPLICATE_KEY' | 'BODY_LOSSY_NUMBER'
  | 'MISSING_SOURCE_HEADER' | 'UNKNOWN_SOURCE' | 'KEY_UNUSABLE' | 'MISSING_SIGNATURE_HEADER'
  | 'MISSING_URI_HEADER' | 'MISSING_METHOD_HEADER' | 'SIGNATURE_HEADER_TOO_LARGE'
  | 'SIGNATURE_HEADER_NOT_JSON' | 'SIGNATURE_HEADER_NOT_OBJECT' | 'PROTECTED_HEADER_MISSING'
  | 'PROTECTED_HEADER_TOO_LARGE' | 'PROTECTED_HEADER_NOT_BASE64URL' | 'PROTECTED_HEADER_NOT_JSON'
  | 'SIGNATURE_MISSING' | 'SIGNATURE_EMPTY' | 'SIGNATURE_TOO_LARGE' | 'SIGNATURE_NOT_BASE64URL'
  | 'ALG_MISSING' | 'ALG_NOT_ALLOWED' | 'KEY_ALG_MISMATCH' | 'KEY_TOO_SMALL' | 'ECDSA_SIGNATURE_LENGTH'
  | 'SIGNATURE_MISMATCH' | 'PH_MISSING_URI' | 'PH_MISSING_METHOD' | 'PH_MISSING_SOURCE'
  | 'URI_MISMATCH' | 'METHOD_MISMATCH' | 'SOURCE_MISMATCH' | 'DATE_MISSING_IN_HTTP' | 'DATE_MISMATCH'
  | 'DEST_NOT_PROTECTED' | 'DEST_MISSING_IN_HTTP' | 'DEST_MISMATCH' | 'REQUEST_URI_MISMATCH'
  | 'REQUEST_METHOD_MISMATCH' | 'DATE_NOT_PROTECTED' | 'DATE_INVALID' | 'DATE_OUT_OF_WINDOW';

/** One check the verifier made. */
export interface Check {
  check: string;
  outcome: 'pass' | 'fail' | 'n/a' | 'warn';
  description: string;
}

/** The verdict, with the fields of `fspiop-guard verify --json`. */
export interface Verdict {
  accepted: boolean;
  reason: ReasonCode | null;
  /** FSPIOP API error code of a rejection: "3101", "3102", "3104", "3105" or "3106". */
  fspiop_error: string | null;
  message: string;
  participant: string | null;
  key_id: string | null;
  payload_form: 'raw' | 'sorted-json' | 'insertion-json' | null;
  forms_tried: string[];
  alg: string | null;
  checks: Check[];
  warnings: string[];
  not_required: boolean;
}

export interface KeyMatch { participant: string; kid: string; active: boolean; form: string }
export interface FieldComparison { member: string; protected: string | null; actual: string | null; equal: boolean }

/** A verdict with the diagnosis that explains it. */
export interface Explanation extends Verdict {
  diagnosis: {
    protected_header: string | null;
    forms_available: string[];
    matches: KeyMatch[];
    fields: FieldComparison[];
    stopped: string | null;
  };
}

export interface KeyDescription {
  kid: string;
  type: 'RSA' | 'EC';
  bits?: number;
  curve?: 'P-256' | 'P-384';
  format: 'spki-pem' | 'pkcs1-pem' | 'certificate-pem' | 'private-key-pem' | 'jwk' | 'spki-der';
  repairs: string[];
  warnings: string[];
}

export interface KeyEntry extends KeyDescription {
  participant: string;
  firstSeen: number | null;
  retireAfter: number | null;
}

export interface KeyInspection extends KeyDescription {
  pem: string;
  jwk: Record<string, string>;
}

export interface SignatureInspection {
  protectedHeader: Record<string, unknown>;
  alg: string | null;
  signatureBytes: number;
  signatureChars: number;
  protectedHeaderChars: number;
}

export type SignerMode = 'sdk-19.19' | 'sdk-19.18' | 'get-signature';

export interface SignOptionsBase<K> {
  /** Private key PEM (PKCS #8, PKCS #1 RSA or SEC1 EC), or a parsed SigningKey. */
  signingKey: string | K;
  mode?: SignerMode;
  alg?: string;
  /** Sign a string body verbatim instead of re-serialising it as JSON. */
  bodyAsText?: boolean;
}

export interface SignRequestInput extends Omit<FspiopRequest, 'body'> {
  /** Text, or a value serialised with JSON.stringify before signing. */
  body: unknown;
}

export interface SignedRequest {
  headers: Array<[string, string]>;
  body: string;
  signatureHeader: string;
  fspiopUri: string;
  alg: string;
}

/** Error codes set as `code` on thrown errors. */
export type ErrorCode =
  | 'ERR_FSPIOP_GUARD_INVALID_ARGUMENT'
  | 'ERR_FSPIOP_GUARD_LIMIT_EXCEEDED'
  | 'ERR_FSPIOP_GUARD_INVALID_KEY'
  | 'ERR_FSPIOP_GUARD_SIGN_FAILED'
  | 'ERR_FSPIOP_GUARD_INVALID_SIGNATURE_HEADER'
  | 'ERR_FSPIOP_GUARD_JWS_INVALID';

/** JWS public keys by participant id. */
export declare class KeyStore {
  constructor();
  /** Returns a key's fingerprint (kid): base64url SHA-256 of its SPKI DER. */
  static fingerprint(key: string): string;
  add(participant: string, key: string, options?: { retireAfter?: number | Date; firstSeen?: number | Date }): KeyEntry;
  remove(participant: string, kid: string): boolean;
  removeParticipant(participant: string): number;
  list(participant?: string): KeyEntry[];
  participants(): string[];
  unusableReason(participant: string): string | undefined;
  readonly size: number;
  free(): void;
}

/** A private key parsed once for signing. */
export declare class SigningKey {
  constructor(pem: string);
  readonly kid: string;
  readonly publicKeyPem: string;
  readonly alg: string;
  free(): void;
}

/**
 * A signature engine: returns true or false, or undefined to let ring in the wasm decide.
 * Called only after the core's checks of key type, curve, RSA size and signature length.
 */
export type CryptoCallback = (
  alg: string,
  kid: string,
  spkiDer: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
) => boolean | undefined;

export type VerifyOptions = VerifyOptionsBase<KeyStore>;
export type SignOptions = SignOptionsBase<SigningKey>;

export declare function inspectSignature(value: string): SignatureInspection;
export declare function inspectKey(key: string): KeyInspection;
export declare function fingerprint(key: string): string;
