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
  | 'ERR_FSPIOP_GUARD_INVALID_PEM'
  | 'ERR_FSPIOP_GUARD_NOT_INITIALIZED'
  | 'ERR_FSPIOP_GUARD_JWS_INVALID';

/** Stable reason codes of a rejected certificate chain, CSR or JWT. */
export type PkiReasonCode =
  | 'INPUT_TOO_LARGE' | 'PEM_MALFORMED' | 'PEM_BAD_BASE64' | 'PEM_NO_CERTIFICATE' | 'PEM_TOO_MANY_BLOCKS'
  | 'CERT_MALFORMED' | 'CERT_TRAILING_DATA' | 'TRUST_ANCHOR_INVALID' | 'CERT_EXPIRED' | 'CERT_NOT_YET_VALID'
  | 'CHAIN_UNKNOWN_ISSUER' | 'CHAIN_BAD_SIGNATURE' | 'CERT_VERSION_UNSUPPORTED' | 'SIGNATURE_ALGORITHM_UNSUPPORTED'
  | 'SIGNATURE_ALGORITHM_KEY_MISMATCH' | 'SIGNATURE_ALGORITHM_NOT_ALLOWED' | 'KEY_TOO_SMALL' | 'KEY_TYPE_NOT_ALLOWED'
  | 'EKU_CLIENT_AUTH_MISSING' | 'EKU_SERVER_AUTH_MISSING' | 'EKU_EMPTY' | 'KEY_USAGE_DIGITAL_SIGNATURE_MISSING'
  | 'CA_USED_AS_END_ENTITY' | 'END_ENTITY_USED_AS_CA' | 'PATH_LEN_EXCEEDED' | 'NAME_CONSTRAINT_VIOLATION'
  | 'UNSUPPORTED_CRITICAL_EXTENSION' | 'CHAIN_TOO_COMPLEX' | 'CHAIN_INVALID' | 'IDENTITY_MISMATCH' | 'IDENTITY_CN_ONLY'
  | 'IDENTITY_SOURCE_MISMATCH' | 'CSR_MALFORMED' | 'CSR_SIGNATURE_INVALID' | 'CSR_SIGNATURE_ALGORITHM_NOT_ALLOWED'
  | 'CSR_KEY_TYPE_NOT_ALLOWED' | 'CSR_KEY_TOO_SMALL' | 'CSR_SUBJECT_FIELD_MISSING' | 'JWT_TOO_LARGE' | 'JWT_MALFORMED'
  | 'JWT_ALG_NONE' | 'JWT_ALG_NOT_ALLOWED' | 'JWT_KEY_NOT_FOUND' | 'JWT_KEY_ALG_MISMATCH' | 'JWT_SIGNATURE_INVALID'
  | 'JWT_EXP_MISSING' | 'JWT_CLAIM_INVALID' | 'JWT_EXPIRED' | 'JWT_NOT_YET_VALID' | 'JWT_ISSUER_MISMATCH'
  | 'JWT_AUDIENCE_MISMATCH';

/** A finding that does not reject, such as an unusual bundle order or a repaired PEM quirk. */
export interface PkiWarning {
  /** Stable lower-case code, for example `eku-absent`. */
  code: string;
  detail: string;
}

/** The verdict of a chain, CSR or JWT check. */
export interface PkiVerdict {
  valid: boolean;
  /** The reason code; absent when valid. */
  reason?: PkiReasonCode;
  /** Reason for the rejection, or a one-line summary when valid. */
  detail: string;
  warnings: PkiWarning[];
}

/** A public key type with its size or curve. */
export type CertificateKey =
  | { type: 'rsa'; bits: number }
  | { type: 'ec'; curve: string }
  | { type: 'ed25519' }
  | { type: 'other'; algorithm: string };

/** Subject alternative names by type. */
export interface SubjectAltNames {
  dns: string[];
  ip: string[];
  uri: string[];
  email: string[];
}

/** The fields of one certificate, as `fspiop-guard inspect --cert FILE --json` prints them. */
export interface CertificateInfo {
  version: number;
  /** Serial number as colon-separated hex. */
  serial: string;
  subject: string;
  common_names: string[];
  issuer: string;
  self_issued: boolean;
  /** notBefore and notAfter in unix seconds, and as RFC 3339 text. */
  not_before: number;
  not_after: number;
  not_before_text: string;
  not_after_text: string;
  key: CertificateKey;
  /** For example `sha256WithRSAEncryption`. */
  signature_algorithm: string;
  san: SubjectAltNames;
  /** basicConstraints cA; null when the extension is absent. */
  is_ca: boolean | null;
  path_len: number | null;
  /** keyUsage bits; null when the extension is absent. */
  key_usage: string[] | null;
  /** extendedKeyUsage purposes; null when the extension is absent (any purpose). */
  extended_key_usage: string[] | null;
  /** SHA-256 of the DER certificate, colon-separated upper-case hex. */
  sha256_fingerprint: string;
  /** SHA-256 of the DER SubjectPublicKeyInfo, base64. */
  spki_sha256: string;
}

/** The fields of one PKCS #10 certificate request. */
export interface CsrInfo {
  subject: string;
  common_names: string[];
  key: CertificateKey;
  signature_algorithm: string;
  san: SubjectAltNames;
  spki_sha256: string;
}

/** The report of a chain check, with the fields of `fspiop-guard chain --json`. */
export interface ChainReport extends PkiVerdict {
  /** The certificate checked as the end entity. */
  leaf?: CertificateInfo;
  /** The verified path from the leaf to the trust anchor; empty when rejected. */
  path: CertificateInfo[];
}

/** One CSR policy rule's outcome, with MCM's validation code for it. */
export interface CsrCheck {
  code: string;
  passed: boolean;
  detail: string;
}

/** The report of a CSR check, with the fields of `fspiop-guard csr --json`. */
export interface CsrReport extends PkiVerdict {
  csr?: CsrInfo;
  checks: CsrCheck[];
}

/** The certificates and certificate requests of a PEM or DER input. */
export interface PemInspection {
  items: Array<{ certificate: CertificateInfo } | { certificate_request: CsrInfo }>;
  warnings: PkiWarning[];
}

/** PEM text, or PEM or DER bytes. */
export type PemInput = string | Uint8Array | ArrayBuffer;

export interface ChainOptions {
  /** The purpose the leaf must allow; default 'client'. */
  usage?: 'client' | 'server';
  /** Check time: unix seconds or a Date; default now. */
  at?: number | Date;
  /** 'default': RSA from 2048 bits, every algorithm webpki verifies. 'mcm': RSA from 4096 bits, sha256WithRSAEncryption only. */
  policy?: 'default' | 'mcm';
  /** A DNS name or IP address that must be among the leaf's SANs. */
  expectedName?: string;
  /** Smallest RSA key accepted, in bits; overrides the policy's. */
  minRsaBits?: number;
}

/** Changes to MCM's CSR policy; each field given replaces MCM's. */
export interface CsrPolicyOptions {
  /** Smallest RSA key accepted, in bits; MCM's is 4096. */
  minRsaBits?: number;
  requiredSubjectFields?: Array<'CN' | 'O' | 'OU' | 'C' | 'ST' | 'L' | 'E'>;
  /** For example ['sha256WithRSAEncryption']; MCM's are SHA-256 and SHA-512 with RSA. */
  allowedSignatureAlgorithms?: string[];
  /** MCM's is ['rsa']. */
  allowedKeyTypes?: Array<'rsa' | 'ec' | 'ed25519'>;
}

export interface CsrOptions {
  /** 'mcm' (the default) or changes to it. */
  policy?: 'mcm' | CsrPolicyOptions;
}

export interface JwtOptions {
  /** Check time: unix seconds or a Date; default now. */
  at?: number | Date;
  /** Clock skew allowed on exp and nbf, in seconds (0 to 86400); default 0. */
  leewaySeconds?: number;
  /** Accepted iss values; default any. */
  issuers?: string[];
  /** Accepted aud values, one of which aud must contain; default any. */
  audiences?: string[];
  /** Allowed alg values; default RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384. HMAC and none are always rejected. */
  algorithms?: string[];
  /** The participant whose keys verify a token without kid, and which must own the key a kid names. */
  participant?: string;
  /** Reject a token without exp; default true. */
  requireExp?: boolean;
}

/** A JWT that passed every check. */
export interface VerifiedJwt extends PkiVerdict {
  valid: true;
  alg: string;
  kid: string | null;
  /** The participant whose key verified the token. */
  participant: string;
  expires: number | null;
  claims: Record<string, unknown>;
}

/** A rejected JWT. */
export interface RejectedJwt extends PkiVerdict {
  valid: false;
  reason: PkiReasonCode;
}

export type JwtResult = VerifiedJwt | RejectedJwt;

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

/** Verifies a certificate chain to trust anchors; in browsers call init() first. */
export declare function checkChain(bundle: PemInput, anchors: PemInput, options?: ChainOptions): ChainReport;
/** Checks a certificate request against the Hub's signing policy; in browsers call init() first. */
export declare function checkCsr(csr: PemInput, options?: CsrOptions): CsrReport;
/** Describes certificates and certificate requests (key blocks are skipped); in browsers call init() first. */
export declare function inspectPem(input: PemInput): PemInspection;
/** Verifies a bearer JWT with the store's keys; in browsers call init() first. */
export declare function verifyJwt(token: string, keyStore: Keys<KeyStore>, options?: JwtOptions): JwtResult;
