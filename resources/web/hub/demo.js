// The demo trading system's page: every step of the platform flow, one button each.
import { connect } from "/static/bidseal.js";

{
  const data = JSON.parse(document.getElementById("page-data").textContent || "{}");
  const en = data.lang === "en";
  const TEXT = {
    reg_title: ["1. 注册投标人（接口 1 数据同步）", "1. Register a bidder (interface 1, userSynchro)"],
    reg_hint: ["读取 UKey 中的签名/加密证书与印章，由交易系统同步到互认平台；也可在投标人电脑上运行：",
               "Reads the signing/encryption certificates and the seal from the UKey; the trading system pushes them to the hub. Or run on the bidder's PC:"],
    legal_name: ["法定代表人（证书中没有时）", "Legal representative (if not in the certificate)"],
    legal_id: ["法定代表人身份证号（同上）", "Their ID number (same)"],
    reg_button: ["从 UKey 读取并注册", "Read the UKey and register"],
    login_title: ["2. UKey 登录（接口 3 → 登录页 → 接口 4）", "2. Log in with the UKey (3 → page → 4)"],
    login_hint: ["跳转到互认平台的登录页，由 BidSeal 助手用 UKey 签名；平台验证后回调本系统。",
                 "Opens the hub's login page; the BidSeal helper signs with the UKey, the hub verifies and calls back."],
    login_button: ["使用 UKey 登录", "Log in with the UKey"],
    bids_title: ["3. 投标文件上传与开标解密（接口 5、6 → 解密页 → 7）", "3. Bid upload and opening (5, 6 → page → 7)"],
    mode_platform: ["平台加密（CA 服务，接口 5）", "Encrypt on the platform (CA service, interface 5)"],
    mode_envelope: ["已用 bidseal encrypt 加密的信封", "Envelope made with bidseal encrypt"],
    upload_button: ["上传", "Upload"],
    th_file: ["文件", "File"], th_unit: ["投标单位", "Bidder"], th_size: ["大小", "Size"], th_mode: ["方式", "Mode"],
    th_opened: ["开标结果", "Opening"], th_task: ["任务", "Task"], th_signer: ["签章人", "Signer"],
    th_verify: ["验证结果", "Verification"], th_time: ["时间", "Time"], th_iface: ["接口", "Interface"],
    th_summary: ["内容", "Data"],
    open_button: ["开标解密", "Open"], opened_ok: ["已解密，与原文一致", "Decrypted, equals the original"],
    opened_diff: ["已解密（SM3 与上传时不同！）", "Decrypted (SM3 differs from the upload!)"],
    opened_plain: ["已解密", "Decrypted"], not_opened: ["未开标", "Not opened"],
    sign_title: ["4. 在线签章（接口 8 → 签章页 → 接口 9）", "4. Online signing (8 → page → 9)"],
    sign_hint: ["不选文件则使用示例投标文件。签章后的文件由本系统用 verify_pdf 验证。",
                "Without a file the sample bid is used. The signed file is verified here with verify_pdf."],
    sign_button: ["发起在线签章", "Start online signing"],
    change_title: ["5. 证书续期、变更、注销（接口 2）", "5. Certificate renewal, change, revocation (interface 2)"],
    change_hint: ["读取 UKey 中当前的证书提交变更；也可运行 bidseal hub change-cert。",
                  "Reads the UKey's current certificates; or run bidseal hub change-cert."],
    renew: ["续期 (0)", "Renewal (0)"], change: ["变更 (1)", "Change (1)"], revoke: ["注销 (2)", "Revocation (2)"],
    change_button: ["提交变更", "Submit"],
    docs_title: ["签章文件", "Signed documents"],
    iframe_title: ["嵌入式签章服务（接口 10）", "Embedded signing service (interface 10)"],
    iframe_button: ["打开签章服务", "Open the signing service"],
    events_title: ["回调记录（接口 4、7、9）", "Callbacks received (4, 7, 9)"],
    working: ["处理中…", "Working…"], ok: ["成功", "Done"], valid: ["有效", "valid"], invalid: ["无效", "INVALID"],
    download: ["下载", "Download"], no_bidder: ["请先注册投标人", "Register a bidder first"],
    no_cert: ["UKey 中没有签名证书和加密证书", "The UKey holds no signing and encryption certificate"],
    need_seal: ["请选择印章图片（PNG）", "Choose the seal image (PNG)"], seal_label: ["印章图片（PNG）", "Seal image (PNG)"],
    project: ["项目/标段编号", "Project / section"],
  };
  const t = (k) => (TEXT[k] ? TEXT[k][en ? 1 : 0] : k);
  const $ = (id) => document.getElementById(id);
  document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
  document.querySelectorAll("[data-ph]").forEach((el) => { el.placeholder = t(el.dataset.ph); });
  $("cli-sync").textContent = "bidseal hub sync --hub " + data.hub + " --ca-unit-id " + data.caUnitId + " --auth sm2";

  function say(id, text, kind) { const el = $(id); el.textContent = text; el.className = "status" + (kind ? " " + kind : ""); }
  async function call(path, options) {
    const resp = await fetch(path, options || { method: "POST" });
    let body = null;
    try { body = await resp.json(); } catch (e) { body = null; }
    if (!resp.ok || !body || (body.code !== undefined && body.code !== 200)) throw new Error(body && body.msg ? body.msg : "HTTP " + resp.status);
    return body;
  }
  function guard(id, fn) {
    return async () => {
      say(id, t("working"));
      try { const msg = await fn(); say(id, msg || t("ok"), "ok"); } catch (e) { say(id, e.message || String(e), "bad"); }
      refresh();
    };
  }
  function cell(tr, text, cls) { const td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td); return td; }
  function badge(td, text, ok) { const b = document.createElement("span"); b.className = "badge " + (ok ? "ok" : "bad"); b.textContent = text; td.appendChild(b); }
  function size(n) { return n > 1048576 ? (n / 1048576).toFixed(1) + " MiB" : n > 1024 ? (n / 1024).toFixed(1) + " KiB" : n + " B"; }

  async function ukeyCerts() {
    const helper = await connect(data.helperPorts ? { ports: data.helperPorts } : {});
    const certs = await helper.listCertificates();
    if (!certs || !certs.length || !certs[0].signCertificate || !certs[0].encCertificate) throw new Error(t("no_cert"));
    return certs[0];
  }
  async function register(paType) {
    const c = await ukeyCerts();
    const seal = $("seal-file").files[0];
    if (!seal) throw new Error(t("need_seal"));
    const sealBytes = new Uint8Array(await seal.arrayBuffer());
    let bin = ""; for (let i = 0; i < sealBytes.length; i++) bin += String.fromCharCode(sealBytes[i]);
    const body = { signCert: c.signCertificate.der, encCert: c.encCertificate.der, seal: btoa(bin),
                   legalName: $("legal-name").value, legalId: $("legal-id").value };
    if (paType) body.paType = paType;
    const r = await call("/demo/api/register", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    return t("ok") + ": " + r.unitName;
  }
  $("btn-register").addEventListener("click", guard("st-register", () => register(null)));
  $("btn-change").addEventListener("click", guard("st-change", () => register($("change-type").value)));
  $("btn-login").addEventListener("click", guard("st-login", async () => { const r = await call("/demo/api/login"); window.location.href = r.url; }));
  $("btn-upload").addEventListener("click", guard("st-bids", async () => {
    const f = $("bid-file").files[0];
    const unit = $("bid-bidder").value;
    if (!unit) throw new Error(t("no_bidder"));
    if (!f) throw new Error("?");
    const q = new URLSearchParams({ unitCode: unit, name: f.name, mode: $("bid-mode").value, project: $("bid-project").value });
    const r = await call("/demo/api/bids?" + q, { method: "POST", body: f });
    return t("ok") + " #" + r.bidId;
  }));
  $("btn-sign").addEventListener("click", guard("st-sign", async () => {
    const f = $("sign-file").files[0];
    const r = await call("/demo/api/sign", { method: "POST", headers: { "Content-Type": "application/pdf" }, body: f || new Blob([]) });
    window.location.href = r.url;
  }));
  $("btn-iframe").addEventListener("click", guard("st-iframe", async () => {
    const r = await call("/demo/api/iframesign");
    const frame = document.createElement("iframe");
    frame.className = "embedded"; frame.src = r.url; frame.id = "signing-frame"; frame.dataset.taskId = r.taskId;
    $("iframe-box").replaceChildren(frame);
  }));
  window.addEventListener("message", async (ev) => {
    const frame = $("signing-frame");
    if (!frame || ev.source !== frame.contentWindow || !ev.data || ev.data.type !== "bidseal-signed") return;
    const bytes = Uint8Array.from(atob(ev.data.file), (ch) => ch.charCodeAt(0));
    await guard("st-iframe", async () => {
      const r = await call("/demo/api/iframe-upload?taskId=" + encodeURIComponent(frame.dataset.taskId),
                           { method: "POST", headers: { "Content-Type": "application/pdf" }, body: bytes });
      return t("ok") + ": " + r.verification.status;
    })();
  });

  async function refresh() {
    let s;
    try { s = await (await fetch("/demo/api/state")).json(); } catch (e) { return; }
    const sel = $("bid-bidder");
    const current = sel.value;
    sel.replaceChildren();
    s.bidders.filter((b) => b.status === "active").forEach((b) => {
      const o = document.createElement("option"); o.value = b.unit_code; o.textContent = b.unit_name + " (" + b.unit_code + ")"; sel.appendChild(o);
    });
    if (current) sel.value = current;
    const names = Object.fromEntries(s.bidders.map((b) => [b.unit_code, b.unit_name]));
    const bids = $("bids").tBodies[0];
    bids.replaceChildren();
    s.bids.forEach((b) => {
      const tr = document.createElement("tr");
      cell(tr, "#" + b.id); cell(tr, b.file_name); cell(tr, names[b.unit_code] || b.unit_code); cell(tr, size(b.plaintext_size));
      cell(tr, b.mode === "platform" ? t("mode_platform") : "bidseal encrypt");
      const st = cell(tr, "");
      if (b.opened_sm3) badge(st, b.plaintext_sm3 ? (b.plaintext_sm3 === b.opened_sm3 ? t("opened_ok") : t("opened_diff")) : t("opened_plain"), !b.plaintext_sm3 || b.plaintext_sm3 === b.opened_sm3);
      else st.textContent = t("not_opened");
      const act = cell(tr, "");
      if (!b.opened_sm3) {
        const btn = document.createElement("button"); btn.className = "secondary"; btn.textContent = t("open_button"); btn.dataset.bid = b.id;
        btn.addEventListener("click", guard("st-bids", async () => { const r = await call("/demo/api/bids/" + b.id + "/open"); window.location.href = r.url; }));
        act.appendChild(btn);
      }
      bids.appendChild(tr);
    });
    const docs = $("docs").tBodies[0];
    docs.replaceChildren();
    s.tasks.filter((x) => (x.kind === "sign" || x.kind === "iframesign") && x.state === "done").forEach((x) => {
      const tr = document.createElement("tr");
      cell(tr, x.task_id, "mono small");
      const sig = (x.result.signatures || [])[x.result.signatures.length - 1] || {};
      cell(tr, (sig.unit || sig.signer || "-") + " · " + (sig.serial || ""));
      badge(cell(tr, ""), x.result.status === "valid" ? t("valid") : t("invalid") + " (" + x.result.status + ")", x.result.status === "valid");
      const a = document.createElement("a"); a.href = "/demo/signed/" + x.task_id + ".pdf"; a.textContent = t("download"); cell(tr, "").appendChild(a);
      docs.appendChild(tr);
    });
    const ev = $("events").tBodies[0];
    ev.replaceChildren();
    s.events.slice(0, 20).forEach((e) => {
      const tr = document.createElement("tr");
      cell(tr, new Date(e.at * 1000).toLocaleTimeString()); cell(tr, e.interface); cell(tr, e.task_id || "", "mono small");
      const sm = Object.assign({}, e.summary); delete sm.signatures;
      cell(tr, JSON.stringify(sm), "summary");
      ev.appendChild(tr);
    });
    const last = s.events.find((e) => e.interface === "feedbackResult");
    if (last) say("st-login", (en ? "Logged in: " : "已登录：") + last.summary.unitName + " (" + last.summary.unitCode + ")", "ok");
  }
  refresh();
  window.__demo = { refresh: refresh };
}
