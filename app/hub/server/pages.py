"""The pages the hub returns URLs for (login, decrypt, sign, iframe sign) and the small
template and text machinery they share with the demo trading system.

Templates live in ``resources/web/hub/`` (``*.html`` with ``{{name}}`` placeholders,
values HTML-escaped unless the name ends in ``_html``); texts are Chinese by default,
English with ``?lang=en`` (or an English ``Accept-Language``). Page scripts get their
data from a JSON block, never from string-built JavaScript.
"""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from app.hub.errors import HubError

REPO = Path(__file__).resolve().parents[3]
RESOURCES = REPO / "resources"
WEB_DIR = RESOURCES / "web"
TEMPLATES = WEB_DIR / "hub"
_PLACEHOLDER = re.compile(r"\{\{([A-Za-z0-9_]+)\}\}")

TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "lang": "zh-CN", "other_lang": "English", "other_lang_code": "en",
        "hub_name": "辽宁省公共资源交易 CA 互认共享服务平台（BidSeal 参考实现）",
        "login_title": "UKey 登录", "decrypt_title": "投标文件解密", "sign_title": "在线签章",
        "iframesign_title": "签章服务", "error_title": "无法继续",
        "platform": "交易系统", "task": "任务编号", "expires": "有效期至",
        "step_helper": "连接 BidSeal 助手", "step_cert": "选择证书", "step_go": "完成",
        "login_button": "使用 UKey 登录", "decrypt_button": "使用 UKey 解密", "sign_button": "使用 UKey 签章",
        "pick_file": "选择要签章的 PDF 文件",
        "login_hint": "点击按钮后，BidSeal 会在自己的窗口中请您确认并输入 UKey 口令。本页面不会接触您的口令。",
        "decrypt_hint": "解密在您的电脑上确认；文件密钥只转交给本平台的加密证书，明文不经过浏览器。",
        "sign_hint": "BidSeal 会显示文档并让您放置印章，签章后的文件由平台验证后提交给交易系统。",
        "file": "文件", "size": "大小", "project": "项目/标段", "unit_code": "投标单位代码",
        "recipients": "接收者", "sm3": "SM3 摘要", "status_waiting": "等待操作…",
        "no_helper": "未检测到 BidSeal 助手：请确认已安装并启动 BidSeal（bidseal helper serve）。",
        "done": "已完成，结果已送达交易系统。", "back": "返回交易系统",
        "footer": "BidSeal 参考互认平台 · 接口规范见 platform-api.md",
    },
    "en": {
        "lang": "en", "other_lang": "中文", "other_lang_code": "zh",
        "hub_name": "Liaoning CA Mutual-Recognition Hub (BidSeal reference implementation)",
        "login_title": "Log in with your UKey", "decrypt_title": "Decrypt a bid", "sign_title": "Online signing",
        "iframesign_title": "Signing service", "error_title": "Cannot continue",
        "platform": "Trading system", "task": "Task", "expires": "Valid until",
        "step_helper": "Connect to BidSeal", "step_cert": "Choose the certificate", "step_go": "Finish",
        "login_button": "Log in with the UKey", "decrypt_button": "Decrypt with the UKey",
        "sign_button": "Sign with the UKey", "pick_file": "Choose the PDF to sign",
        "login_hint": "BidSeal asks for your confirmation and the UKey PIN in its own window. This page never "
                      "sees your PIN.",
        "decrypt_hint": "You confirm on your PC; the file key is handed only to this hub's encryption "
                        "certificate and the plaintext never passes through the browser.",
        "sign_hint": "BidSeal shows the document and lets you place the seal; the hub verifies the signed "
                     "file before delivering it to the trading system.",
        "file": "File", "size": "Size", "project": "Project / section", "unit_code": "Bidder's unit code",
        "recipients": "Recipients", "sm3": "SM3 digest", "status_waiting": "Waiting…",
        "no_helper": "The BidSeal helper was not found: make sure BidSeal is installed and running "
                     "(bidseal helper serve).",
        "done": "Done: the result reached the trading system.", "back": "Back to the trading system",
        "footer": "BidSeal reference hub · interface specification: platform-api.md",
    },
}


def resource(rel: str) -> bytes:
    return (RESOURCES / rel).read_bytes()


def language(request: Request) -> str:
    q = request.query_params.get("lang", "")
    if q in TEXTS:
        return q
    accept = request.headers.get("accept-language", "")
    return "en" if accept.lower().startswith("en") else "zh"


@cache
def _template(name: str, mtime: float) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def render(name: str, lang: str, values: Mapping[str, Any] | None = None, *, data: Any = None,
           status: int = 200, frame_ancestors: str = "'none'", script: str = "hub/hub-pages.js",
           frame_src: str = "'none'") -> HTMLResponse:
    """Fill ``resources/web/hub/<name>`` (inside ``layout.html``) with the texts of ``lang``
    and ``values``; ``data`` becomes the page's JSON block."""
    path = TEMPLATES / name
    merged: dict[str, Any] = dict(TEXTS[lang]) | dict(values or {})
    merged["data_json"] = json.dumps(data if data is not None else {}, ensure_ascii=False).replace("</", "<\\/")
    merged["script"] = script
    merged["body_html"] = _fill(_template(name, path.stat().st_mtime), merged)
    layout = TEMPLATES / "layout.html"
    page = _fill(_template("layout.html", layout.stat().st_mtime), merged)
    return HTMLResponse(page, status_code=status, headers={
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
        "Content-Security-Policy": "default-src 'self'; connect-src 'self' http://127.0.0.1:* ws://127.0.0.1:*; "
                                   "img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
                                   f"frame-ancestors {frame_ancestors}; frame-src {frame_src}; object-src 'none'; base-uri 'none'",
    })


def _fill(text: str, values: Mapping[str, Any]) -> str:
    def sub(m: re.Match[str]) -> str:
        key = m.group(1)
        value = values.get(key, "")
        if key.endswith("_html") or key == "data_json":
            return str(value)
        return html.escape(str(value))

    return _PLACEHOLDER.sub(sub, text)


def human_size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def error_page(exc: HubError, lang: str) -> HTMLResponse:
    return render("error.html", lang, {"title": TEXTS[lang]["error_title"],
                                       "message": exc.en if lang == "en" else exc.zh, "code": exc.code},
                  status=int(exc.status))


def hub_page_routes(hub: Any) -> list[Route]:
    """GET routes of the four pages the hub hands out."""

    def page(kind: str, template: str, title_key: str) -> Route:
        def endpoint(request: Request) -> HTMLResponse:
            lang = language(request)
            try:
                task = hub.open_task(request.path_params["page_id"], kind)
            except HubError as exc:
                return error_page(exc, lang)
            platform = hub.cfg.platforms.get(task["orgcode"])
            meta = task["meta"]
            values = {
                "title": TEXTS[lang][title_key], "platform_name": platform.name if platform else task["orgcode"],
                "task_id": task["task_id"],
                "expires_at": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(task["expires_at"])),
                "file_name": meta.get("fileName") or meta.get("name", ""),
                "file_size": human_size(int(meta.get("size", 0))),
                "project_id": meta.get("projectId") or "-", "unit_code_value": meta.get("unitCode") or "-",
                "recipients_text": "；".join(f"{r.get('unitName') or '-'}（{r.get('serial')}）"
                                            for r in meta.get("recipients", [])),
                "sm3_value": meta.get("sm3", ""),
            }
            data = {"pageId": task["page_id"], "kind": kind, "taskId": task["task_id"], "lang": lang,
                    "helperPorts": list(hub.cfg.helper_ports) if hub.cfg.helper_ports else None, "texts": TEXTS[lang],
                    "returnUrl": platform.callback_url if platform else None}
            ancestors = "'none'"
            if kind == "iframesign":  # embedded by the trading systems the hub knows
                ancestors = " ".join(sorted({origin_of(p.callback_url) for p in hub.cfg.platforms.values()})) or "'none'"
            return render(template, lang, values, data=data, frame_ancestors=ancestors)

        return Route(f"/hub/{kind}/{{page_id}}", endpoint, methods=["GET"])

    return [page("login", "login.html", "login_title"), page("decrypt", "decrypt.html", "decrypt_title"),
            page("sign", "sign.html", "sign_title"), page("iframesign", "iframesign.html", "iframesign_title")]


def origin_of(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
