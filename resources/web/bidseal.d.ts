// Types of bidseal.js (the BidSeal helper SDK for hub web pages).

export declare const PORTS: readonly number[];
export declare const PROTOCOL: "1";
export declare const PROTOCOL_NAME: "bidseal-helper/1";
export declare const VERSION: string;

/** Stable error codes: the helper's vocabulary plus the SDK's own (first group). */
export type ErrorCode =
  | "ERR_HELPER_NOT_RUNNING" | "ERR_LOCAL_NETWORK_DENIED" | "ERR_CONTEXT_INSECURE" | "ERR_USER_GESTURE_REQUIRED"
  | "ERR_HELPER_UNREACHABLE"
  | "ERR_BAD_REQUEST" | "ERR_PAYLOAD_TOO_LARGE" | "ERR_REQUEST_TIMEOUT" | "ERR_VERSION_MISMATCH"
  | "ERR_ACTION_PENDING" | "ERR_USER_CANCELLED" | "ERR_USER_TIMEOUT" | "ERR_TOO_MANY_CANCELS"
  | "ERR_HELPER_PAUSED" | "ERR_NO_UKEY" | "ERR_DRIVER_NOT_FOUND" | "ERR_CERT_NOT_FOUND" | "ERR_CERT_MISMATCH"
  | "ERR_CERT_EXPIRED" | "ERR_PIN_LOCKED" | "ERR_UKEY_REMOVED" | "ERR_UNSUPPORTED_ALG" | "ERR_PROJECT_MISMATCH"
  | "ERR_INVALID_DATA" | "ERR_NOT_FOUND" | "ERR_METHOD_NOT_ALLOWED" | "ERR_INTERNAL";

export declare class BidSealError extends Error {
  readonly code: ErrorCode;
  readonly zh: string;
  readonly en: string;
  readonly details: Record<string, unknown>;
  messageFor(lang?: "zh" | "en"): string;
}

export interface CertificateInfo {
  serial: string; subject: string; issuer: string; notBefore: string; notAfter: string; validNow: boolean;
  /** base64 DER */
  der: string;
}

export interface KeyCertificates {
  /** Pass to login/decrypt/signPdf to pick this key. */
  id: string;
  device: string;
  unitName: string | null;
  unitCode: string | null;
  commonName: string | null;
  signCertificate: CertificateInfo | null;
  encCertificate: CertificateInfo | null;
  seals: string[];
  /** A demo-CA certificate (the virtual UKey): never for a real bid. */
  demo: boolean;
}

/** The bidseal-auth:1 login token (resources/docs/login-token.md); post it to the hub unchanged. */
export interface LoginToken {
  format: "bidseal-auth:1";
  unverifiedCertificate: string;
  algorithm: "SM2-SM3";
  signature: string;
  appVersion: string;
}

export type Bytes = Uint8Array | ArrayBuffer | string; // string = base64

export interface CmsDecryptRequest { kind?: "cms"; ciphertext: Bytes; project?: string; taskId?: string; certificate?: string; }
export interface EnvelopeDecryptRequest { kind: "envelope-head"; head: Bytes; project: string; taskId?: string; certificate?: string; }
export interface Rewrapped { rewrappedKey: Uint8Array; hubCertificateSerial: string; }

export interface SignHints {
  keyword?: string;
  /** 1-based */
  page?: number;
  seal?: "company" | "legal";
  certificate?: string;
  fileName?: string;
}

export declare class Helper {
  readonly base: string;
  readonly version: string;
  listCertificates(): Promise<KeyCertificates[]>;
  login(nonce: string, options?: { certificate?: string }): Promise<LoginToken>;
  decrypt(request: CmsDecryptRequest): Promise<Uint8Array>;
  decrypt(request: EnvelopeDecryptRequest): Promise<Rewrapped>;
  signPdf(pdf: Blob, hints?: SignHints): Promise<Blob>;
}

/** Probe the helper's ports (call from a user gesture). */
export declare function connect(options?: { ports?: number[]; timeoutMs?: number; requireGesture?: boolean }): Promise<Helper>;
