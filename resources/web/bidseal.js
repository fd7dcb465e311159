// BidSeal JS SDK: hub pages talk to the BidSeal helper on http://127.0.0.1.
// ES module, no build step, no dependencies. Types: bidseal.d.ts. API: resources/api/helper-openapi.json.
//
//   import { connect, BidSealError } from "./bidseal.js";
//   button.onclick = async () => {             // only after a user gesture (Local Network Access prompt)
//     const helper = await connect();
//     const certs = await helper.listCertificates();
//     const token = await helper.login(nonceFromHub);   // post token to the hub, which verifies it
//   };
//
// The page never sends a PIN (the helper refuses any "pin" field); the bidder types it in
// BidSeal's own window after a consent dialog that shows this page's origin.

export const PORTS = Object.freeze([24821, 24822, 24823]);
export const PROTOCOL = "1";
export const PROTOCOL_NAME = "bidseal-helper/1";
export const VERSION = "0.1.0";

const MESSAGES = {
  ERR_HELPER_NOT_RUNNING: [
    "没有连接到本机的 BidSeal 助手。请确认已安装并启动 BidSeal（任务栏托盘中有 BidSeal 图标），然后重试。",
    "Could not reach the BidSeal helper on this computer. Make sure BidSeal is installed and running (its icon is in the system tray), then try again.",
  ],
  ERR_LOCAL_NETWORK_DENIED: [
    "浏览器阻止了本网页访问本机的 BidSeal。请点击地址栏左侧的网站设置图标，允许“本地网络访问”，然后重试。",
    "The browser blocked this page from reaching BidSeal on this computer. Open the site settings (left of the address bar), allow \"Local network access\", then try again.",
  ],
  ERR_CONTEXT_INSECURE: [
    "本网页不是通过 HTTPS 打开的，不能使用 UKey。",
    "This page was not opened over HTTPS, so it cannot use the UKey.",
  ],
  ERR_USER_GESTURE_REQUIRED: [
    "请通过点击按钮来连接 UKey。",
    "Connect to the UKey from a button click.",
  ],
  ERR_HELPER_UNREACHABLE: [
    "与 BidSeal 助手的连接中断了，请重试。",
    "The connection to the BidSeal helper was lost; try again.",
  ],
  ERR_VERSION_MISMATCH: [
    "网页与 BidSeal 助手的版本不一致，请升级 BidSeal 或刷新网页。",
    "The page and the BidSeal helper versions do not match; update BidSeal or reload the page.",
  ],
  ERR_INTERNAL: ["BidSeal 助手内部错误。", "Internal error in the BidSeal helper."],
};

/** An error with a stable code (the helper's vocabulary plus the SDK's own codes). */
export class BidSealError extends Error {
  constructor(code, zh, en, details = {}) {
    const [dzh, den] = MESSAGES[code] || [zh || code, en || code];
    super(`${zh || dzh} (${en || den})`);
    this.name = "BidSealError";
    this.code = code;
    this.zh = zh || dzh;
    this.en = en || den;
    this.details = details;
  }
  /** The sentence for a bidder: "zh" (default) or "en". */
  messageFor(lang = "zh") {
    return String(lang).toLowerCase().startsWith("en") ? this.en : this.zh;
  }
}

function sdkError(code, details) {
  return new BidSealError(code, undefined, undefined, details);
}

function toBase64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(text) {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function asBase64(value) {
  if (typeof value === "string") return value;
  if (value instanceof ArrayBuffer) return toBase64(new Uint8Array(value));
  if (ArrayBuffer.isView(value)) return toBase64(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
  throw new TypeError("expected bytes (Uint8Array/ArrayBuffer) or a base64 string");
}

async function post(base, op, body, { contentType = "application/json", timeoutMs, query } = {}) {
  const controller = new AbortController();
  const timer = timeoutMs ? setTimeout(() => controller.abort(), timeoutMs) : null;
  const url = `${base}/v1/${op}` + (query ? `?${new URLSearchParams(query)}` : "");
  try {
    return await fetch(url, {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      cache: "no-store",
      headers: { "Content-Type": contentType, "BidSeal-Protocol": PROTOCOL },
      body: contentType === "application/json" ? JSON.stringify(body) : body,
      signal: controller.signal,
      targetAddressSpace: "loopback", // Chrome Local Network Access: this request goes to 127.0.0.1
    });
  } finally {
    if (timer) clearTimeout(timer);
  }
}

async function localNetworkDenied() {
  try {
    for (const name of ["loopback-network", "local-network-access", "local-network"]) {
      try {
        const status = await navigator.permissions.query({ name });
        if (status.state === "denied") return true;
      } catch (_) { /* permission name unknown to this browser */ }
    }
  } catch (_) { /* no Permissions API */ }
  return false;
}

/**
 * Find the helper: short probes of the fixed port and its two fallbacks. Call it from a
 * click handler (browsers ask for Local Network Access permission then, not on page load).
 */
export async function connect({ ports = PORTS, timeoutMs = 1000, requireGesture = true } = {}) {
  if (typeof window !== "undefined" && window.isSecureContext === false) throw sdkError("ERR_CONTEXT_INSECURE");
  if (requireGesture && typeof navigator !== "undefined" && navigator.userActivation
      && !navigator.userActivation.isActive && !navigator.userActivation.hasBeenActive) {
    throw sdkError("ERR_USER_GESTURE_REQUIRED");
  }
  for (const port of ports) {
    const base = `http://127.0.0.1:${port}`;
    let response;
    try {
      response = await post(base, "status", {}, { timeoutMs });
    } catch (_) {
      continue; // nothing there, blocked, or not an allowed origin (a bare 403 has no CORS headers)
    }
    if (!response.ok) {
      const error = await readError(response);
      if (error.code === "ERR_VERSION_MISMATCH") throw error;
      continue;
    }
    const status = await response.json().catch(() => ({}));
    if (status.protocol === PROTOCOL_NAME) return new Helper(base, status.version);
  }
  throw sdkError((await localNetworkDenied()) ? "ERR_LOCAL_NETWORK_DENIED" : "ERR_HELPER_NOT_RUNNING", { ports });
}

async function readError(response) {
  try {
    const body = await response.json();
    const e = body.error || {};
    return new BidSealError(e.code || "ERR_INTERNAL", e.zh, e.en, e.details || {});
  } catch (_) {
    return new BidSealError("ERR_INTERNAL", undefined, undefined, { status: response.status });
  }
}

/** A connected helper. */
export class Helper {
  constructor(base, version) {
    this.base = base;
    this.version = version;
  }

  async _call(op, body, options) {
    let response;
    try {
      response = await post(this.base, op, body, options);
    } catch (e) {
      throw sdkError("ERR_HELPER_UNREACHABLE", { cause: String(e) });
    }
    if (!response.ok) throw await readError(response);
    return response;
  }

  /** The certificates on the inserted UKeys (no dialog). */
  async listCertificates() {
    return (await (await this._call("certificates", {})).json()).certificates;
  }

  /** Log in: the bidder approves in BidSeal, the UKey signs this origin + the hub's nonce. */
  async login(nonce, { certificate } = {}) {
    const body = { nonce };
    if (certificate) body.certificate = certificate;
    return (await this._call("login", body)).json();
  }

  /**
   * Decrypt. kind "cms": {ciphertext} (GM/T 0010 EnvelopedData) -> Uint8Array plaintext.
   * kind "envelope-head": {head, project} -> {rewrappedKey: Uint8Array, hubCertificateSerial}
   * (the file key re-wrapped to the hub; hand it to the hub, which decrypts the envelope).
   */
  async decrypt({ kind = "cms", ciphertext, head, project, taskId, certificate } = {}) {
    const body = { kind };
    if (kind === "cms") body.ciphertext = asBase64(ciphertext);
    else body.head = asBase64(head);
    if (project) body.project = project;
    if (taskId) body.taskId = taskId;
    if (certificate) body.certificate = certificate;
    const reply = await (await this._call("decrypt", body)).json();
    if (reply.kind === "cms") return fromBase64(reply.plaintext);
    return { rewrappedKey: fromBase64(reply.rewrappedKey), hubCertificateSerial: reply.hubCertificateSerial };
  }

  /** Seal a PDF: the bidder reviews it in BidSeal and places the seal; returns the signed PDF Blob. */
  async signPdf(blob, { keyword, page, seal, certificate, fileName } = {}) {
    const query = {};
    if (keyword) query.keyword = keyword;
    if (page) query.page = String(page);
    if (seal) query.seal = seal;
    if (certificate) query.certificate = certificate;
    if (fileName) query.fileName = fileName;
    const response = await this._call("sign-pdf", blob, { contentType: "application/pdf", query });
    return new Blob([await response.arrayBuffer()], { type: "application/pdf" });
  }
}
