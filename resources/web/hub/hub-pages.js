// The hub's pages (login, decrypt, sign, iframe sign) on top of the BidSeal JS SDK
// (/static/bidseal.js, an ES module: connect() -> helper.listCertificates/login/decrypt/signPdf).
// The page never sees a PIN or a private key: BidSeal asks for consent and the PIN in
// its own window. Data comes from the JSON block the hub rendered, calls go to the
// hub's own /hub/api/... (same origin) and to the helper through the SDK.
import { connect as connectHelper } from "/static/bidseal.js";

{
  const data = JSON.parse(document.getElementById("page-data").textContent || "{}");
  const T = data.texts || {};
  const $ = (id) => document.getElementById(id);
  const statusEl = $("status");
  const button = $("go");

  function status(text, kind) {
    statusEl.textContent = text;
    statusEl.className = "status" + (kind ? " " + kind : "");
  }
  function step(id, state) {
    const el = $(id);
    if (el) { el.classList.remove("active", "done"); if (state) el.classList.add(state); }
  }
  function message(err) {
    if (!err) return "?";
    if (typeof err === "string") return err;
    const zh = err.zh || err.msg || err.message;
    const en = err.en || err.message;
    return (data.lang === "en" ? (en || zh) : (zh || en)) + (err.code ? " [" + err.code + "]" : "");
  }
  async function api(path, options) {
    const resp = await fetch("/hub/api/" + data.kind + "/" + data.pageId + "/" + path, options || {});
    let body = null;
    try { body = await resp.json(); } catch (e) { body = null; }
    if (!resp.ok || !body || (body.code !== undefined && body.code !== 200)) {
      const err = new Error(body && body.msg ? body.msg : "HTTP " + resp.status);
      err.code = body && body.errData; err.msg = body && body.msg;
      throw err;
    }
    return body;
  }
  function postJson(path, obj) {
    return api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(obj) });
  }
  let helper = null;
  function sdk() { return helper; }
  async function connect() {
    step("step-helper", "active");
    try {
      helper = await connectHelper(data.helperPorts ? { ports: data.helperPorts } : {});
    } catch (e) {
      step("step-helper", null);
      throw e && e.zh ? e : Object.assign(new Error(T.no_helper), { zh: T.no_helper, en: T.no_helper });
    }
    step("step-helper", "done");
  }
  function b64(bytes) {
    let s = "";
    const chunk = 0x8000;
    for (let i = 0; i < bytes.length; i += chunk) s += String.fromCharCode.apply(null, bytes.subarray(i, i + chunk));
    return btoa(s);
  }
  function unb64(text) {
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  async function login() {
    await connect();
    step("step-cert", "active");
    const certs = await sdk().listCertificates();
    const list = $("certs");
    if (list && certs && certs.length) {
      list.hidden = false;
      list.textContent = "";
      certs.forEach((c, i) => {
        const label = document.createElement("label");
        const sc = c.signCertificate || {};
        label.textContent = (c.unitName || c.commonName || sc.subject || "?") + " · " + (sc.serial || "");
        list.appendChild(label);
        if (i === 0) label.style.fontWeight = "600";
      });
    }
    const challenge = await postJson("challenge", {});
    const token = await sdk().login(challenge.nonce);
    step("step-cert", "done");
    step("step-go", "active");
    const result = await postJson("token", { token: token });
    step("step-go", "done");
    return result;
  }

  async function decrypt() {
    await connect();
    step("step-cert", "active");
    const head = await api("head");
    const answer = await sdk().decrypt({ kind: "envelope-head", head: head.head, taskId: head.taskId,
                                         project: (head.info && head.info.projectId) || undefined });
    step("step-cert", "done");
    step("step-go", "active");
    const result = await postJson("rewrapped", { rewrapped: b64(answer.rewrappedKey) });
    step("step-go", "done");
    return result;
  }

  async function sign() {
    await connect();
    step("step-cert", "active");
    const resp = await fetch("/hub/api/sign/" + data.pageId + "/document");
    if (!resp.ok) throw new Error("HTTP " + resp.status);
    const pdf = await resp.blob();
    const signed = await sdk().signPdf(pdf, { fileName: data.taskId + ".pdf" });
    step("step-cert", "done");
    step("step-go", "active");
    const result = await api("signed", { method: "POST", headers: { "Content-Type": "application/pdf" }, body: signed });
    step("step-go", "done");
    return result;
  }

  async function iframeSign() {
    const input = $("file");
    if (!input.files || !input.files.length) throw new Error(T.pick_file);
    await connect();
    const signed = await sdk().signPdf(input.files[0], { fileName: input.files[0].name });
    const bytes = new Uint8Array(await signed.arrayBuffer());
    const link = $("download");
    link.href = URL.createObjectURL(new Blob([bytes], { type: "application/pdf" }));
    link.download = (input.files[0].name || "document.pdf").replace(/\.pdf$/i, "") + "-signed.pdf";
    link.hidden = false;
    if (window.parent && window.parent !== window) {
      window.parent.postMessage({ type: "bidseal-signed", taskId: data.taskId, name: link.download, file: b64(bytes) }, "*");
    }
    return { data: {} };
  }

  const flows = { login: login, decrypt: decrypt, sign: sign, iframesign: iframeSign };
  if (button) {
    button.addEventListener("click", async () => {
      button.disabled = true;
      status("…");
      try {
        await flows[data.kind]();
        status(T.done, "ok");
        if (data.returnUrl && data.kind !== "iframesign") {
          const back = document.createElement("a");
          back.className = "button";
          back.id = "back";
          back.href = data.returnUrl + "/?lang=" + data.lang;
          back.textContent = T.back;
          statusEl.after(back);
        }
        document.body.dataset.result = "done";
      } catch (err) {
        status(message(err), "bad");
        document.body.dataset.result = "error";
        button.disabled = false;
      }
    });
  }
  window.__hubPage = { data: data, b64: b64, unb64: unb64 };
}
