"""BidSeal's user settings: one JSON file, written only here; secrets only in the keyring.

Why one file: the token layer already reads its ``token`` section (extra SKF libraries,
``softskf``, ``host_python``, ``timeout``; :mod:`app.token.registry`), so the settings
dialog and ``bidseal`` write that same file instead of a second mechanism. The file is
:func:`settings_file` (``BIDSEAL_CONFIG``, else ``config.json`` in
:func:`app.paths.config_dir`); sections other packages own (and keys this version does
not know) are kept as they are on every save.

What lives where:

* ``ui``: ``language`` (``zh_CN`` / ``en``), ``output_folder`` (where new files go; empty
  means beside the original), ``sealed_name`` / ``envelope_name`` / ``decrypted_name``
  (output naming patterns), ``recovery_file`` (offered by the encrypt dialog);
* ``token``: ``libraries`` (extra SKF library paths, tried before the known vendor ones);
* ``timestamp``: ``url`` and ``username`` of the time-stamp authority; its password is a
  keyring secret (:func:`set_secret`), never in the file;
* ``diagnostics``: ``time_server`` (NTP host for the clock check);
* ``helper``: ``enabled`` (``false`` keeps the desktop app from running the localhost
  helper for the hub's web pages; written only when off);
* ``update``: ``url`` of the signed update manifest a deployment publishes (empty: no
  update check at all) and ``enabled`` (``false`` stops the check at start; written
  only when off). See ``resources/docs/update-manifest.md``.

Trust roots live in the trust store (:mod:`app.trust`) and allowed hub origins in the
helper's own configuration (:mod:`app.helper.config`); the settings dialog edits each
where it lives, so nothing is stored twice. (Window state such as recent files is the
window's own, not a setting.)
This module is a shared base module: it imports nothing above :mod:`app.paths`.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from app import paths
from app.atomic import write_atomic
from app.errors import BidSealError

FILE_NAME = "config.json"
KEYRING_SERVICE = "BidSeal"
LANGUAGES = ("zh_CN", "en")
#: Secrets the keyring may hold (nothing else is accepted, so a typo cannot scatter them).
SECRETS = ("tsa_password",)

_NAME_FIELDS = ("sealed_name", "envelope_name", "decrypted_name")
_HOST_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(:\d{1,5})?$")


class SettingsError(BidSealError):
    code = "ERR_SETTINGS"


def settings_file() -> Path:
    """The settings file (``BIDSEAL_CONFIG`` overrides, for tests and operators)."""
    env = os.environ.get("BIDSEAL_CONFIG")
    return Path(env) if env else paths.config_dir() / FILE_NAME


@dataclass(frozen=True)
class Settings:
    """What a user can set; defaults are what a fresh install does."""

    language: str = "zh_CN"
    skf_libraries: tuple[str, ...] = ()
    tsa_url: str | None = None
    tsa_username: str | None = None
    output_folder: str | None = None
    sealed_name: str = "{stem}-已签章{suffix}"
    envelope_name: str = "{name}.bse"
    decrypted_name: str = "{stem}"
    recovery_file: str | None = None
    time_server: str | None = None
    #: Run the localhost helper inside the desktop app (``bidseal gui``).
    helper_enabled: bool = True
    #: The signed update manifest's URL (https); None = updates are never checked.
    update_url: str | None = None
    #: Check ``update_url`` when the desktop app starts.
    update_enabled: bool = True
    #: Problems met while loading (unreadable file, invalid values replaced by defaults).
    problems: tuple[str, ...] = field(default=(), compare=False)

    def validate(self) -> None:
        """Refuse values that would break a front end later, with a sentence naming the field."""
        if self.language not in LANGUAGES:
            raise _invalid("language", f"界面语言只能是 {' / '.join(LANGUAGES)}。",
                           f"The language must be one of {', '.join(LANGUAGES)}.")
        if self.tsa_url is not None:
            url = urlsplit(self.tsa_url)
            if url.scheme not in ("http", "https") or not url.hostname:
                raise _invalid("tsa_url", "时间戳服务地址必须是 http:// 或 https:// 开头的网址。",
                               "The time-stamp server address must be an http:// or https:// URL.")
        if self.time_server is not None and not _HOST_RE.match(self.time_server):
            raise _invalid("time_server", "时间服务器应为主机名或 IP 地址（可带 :端口）。",
                           "The time server must be a host name or an IP address (optionally :port).")
        for name in _NAME_FIELDS:
            pattern = getattr(self, name)
            if not any(k in pattern for k in ("{stem}", "{name}")) or "/" in pattern or "\\" in pattern:
                raise _invalid(name, "文件命名规则必须包含 {stem} 或 {name}，且不能包含路径分隔符。",
                               "A file naming pattern must contain {stem} or {name} and no path "
                               "separator.")
            try:
                pattern.format(stem="a", name="a.pdf", suffix=".pdf")
            except (KeyError, IndexError, ValueError) as exc:
                raise _invalid(name, f"文件命名规则无效：{pattern}（可用 {{stem}} {{name}} {{suffix}}）。",
                               f"Invalid naming pattern: {pattern} (use {{stem}}, {{name}}, {{suffix}}).") from exc
        if not isinstance(self.helper_enabled, bool):
            raise _invalid("helper_enabled", "“运行网页助手”只能是开或关（true / false）。",
                           "“Run the web helper” must be on or off (true / false).")
        if not isinstance(self.update_enabled, bool):
            raise _invalid("update_enabled", "“检查更新”只能是开或关（true / false）。",
                           "“Check for updates” must be on or off (true / false).")
        if self.update_url is not None and not _update_url_ok(self.update_url):
            raise _invalid("update_url", "更新清单地址必须是 https:// 网址（仅本机测试可用 http://127.0.0.1）。",
                           "The update manifest address must be an https:// URL (http only for 127.0.0.1 tests).")
        for lib in self.skf_libraries:
            if not lib or "\0" in lib:
                raise _invalid("skf_libraries", "SKF 驱动库路径无效。", "Invalid SKF library path.")

    def output_path(self, kind: str, src: str | os.PathLike[str]) -> Path:
        """Where a new file made from ``src`` goes: ``kind`` is ``sealed``, ``envelope`` or
        ``decrypted``; the folder is :attr:`output_folder` or the original's."""
        pattern: str = getattr(self, f"{kind}_name")
        src_p = Path(src)
        name = pattern.format(stem=src_p.stem, name=src_p.name, suffix=src_p.suffix)
        folder = Path(self.output_folder) if self.output_folder else src_p.parent
        return folder / name


def _update_url_ok(text: str) -> bool:
    """https, or http to this computer (app.update.urls applies the same rule when fetching)."""
    try:
        url = urlsplit(text)
        host = url.hostname
    except ValueError:
        return False
    return bool(host) and (url.scheme == "https" or (url.scheme == "http" and host in ("127.0.0.1", "::1", "localhost")))


def _invalid(name: str, zh: str, en: str) -> SettingsError:
    return SettingsError(zh, en, code="ERR_SETTINGS_INVALID", details={"setting": name})


# -- the file ------------------------------------------------------------------------

_LAYOUT: dict[str, tuple[str, str]] = {
    # field -> (section, key)
    "language": ("ui", "language"),
    "sealed_name": ("ui", "sealed_name"),
    "output_folder": ("ui", "output_folder"),
    "envelope_name": ("ui", "envelope_name"),
    "decrypted_name": ("ui", "decrypted_name"),
    "recovery_file": ("ui", "recovery_file"),
    "skf_libraries": ("token", "libraries"),
    "tsa_url": ("timestamp", "url"),
    "tsa_username": ("timestamp", "username"),
    "time_server": ("diagnostics", "time_server"),
    "helper_enabled": ("helper", "enabled"),
    "update_url": ("update", "url"),
    "update_enabled": ("update", "enabled"),
}


def _read_raw(path: Path) -> tuple[dict[str, Any], list[str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, []
    except OSError as exc:
        return {}, [f"无法读取设置文件 / cannot read the settings file {path}: {exc.strerror or exc}"]
    try:
        data = json.loads(text)
    except ValueError:
        return {}, [f"设置文件已损坏，使用默认设置 / the settings file is damaged, defaults used: {path}"]
    if not isinstance(data, dict):
        return {}, [f"设置文件格式不对，使用默认设置 / the settings file has the wrong shape: {path}"]
    return data, []


def load(path: str | os.PathLike[str] | None = None) -> Settings:
    """The settings (defaults for anything missing; a damaged file or value is reported in
    :attr:`Settings.problems` and replaced by its default, never raised)."""
    p = Path(path) if path is not None else settings_file()
    data, problems = _read_raw(p)
    defaults = Settings()
    values: dict[str, Any] = {}
    for f in fields(Settings):
        if f.name not in _LAYOUT:
            continue
        section, key = _LAYOUT[f.name]
        sec = data.get(section)
        if not isinstance(sec, dict) or key not in sec or sec[key] in (None, ""):
            continue
        raw = sec[key]
        if f.name == "skf_libraries":
            value: Any = tuple(str(x) for x in raw) if isinstance(raw, list) else None
        elif isinstance(getattr(defaults, f.name), bool):
            value = raw if isinstance(raw, bool) else None
        else:
            value = raw if isinstance(raw, str) else None
        if value is None:
            problems.append(f"设置项 {section}.{key} 的值无效，已使用默认值 / invalid {section}.{key}, default used")
            continue
        try:
            replace(defaults, **{f.name: value}).validate()
        except SettingsError as exc:
            problems.append(f"{exc.zh} / {exc.en} ({section}.{key})")
            continue
        values[f.name] = value
    return Settings(**values, problems=tuple(problems))


def save(settings: Settings, path: str | os.PathLike[str] | None = None) -> Path:
    """Validate and write ``settings``, keeping every section and key it does not own."""
    settings.validate()
    p = Path(path) if path is not None else settings_file()
    data, problems = _read_raw(p)
    if problems and p.exists():
        # never silently replace a file we could not read (another program's keys live there)
        raise SettingsError("设置文件无法读取，未覆盖：" + problems[0],
                            "The settings file cannot be read and was not overwritten: " + problems[0],
                            code="ERR_SETTINGS_FILE", details={"path": str(p)})
    own = asdict(settings)
    for name, (section, key) in _LAYOUT.items():
        value = own[name]
        if isinstance(value, tuple):
            value = list(value)
        sec = data.setdefault(section, {})
        if not isinstance(sec, dict):
            sec = data[section] = {}
        if isinstance(value, bool) and value == getattr(Settings(), name):
            sec.pop(key, None)  # a switch at its default is not written
        elif value in (None, "", []) and name != "skf_libraries":
            sec.pop(key, None)
        else:
            sec[key] = value
    try:
        paths.ensure(p.parent)
        write_atomic(p, (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
                     private=True)
    except OSError as exc:
        raise SettingsError(f"无法保存设置到 {p}：{exc.strerror or exc}。",
                            f"Cannot save the settings to {p}: {exc.strerror or exc}.",
                            code="ERR_SETTINGS_FILE", details={"path": str(p)}) from exc
    return p


def update(**changes: Any) -> Settings:
    """Load, change some fields, validate, save; returns the saved settings."""
    new = replace(load(), problems=(), **changes)
    save(new)
    return new


# -- secrets (keyring only) -------------------------------------------------------------


def _keyring() -> Any:
    try:
        import keyring
        import keyring.errors
    except ImportError as exc:  # pragma: no cover - keyring is a dependency
        raise _no_keyring(str(exc)) from exc
    return keyring


def _no_keyring(reason: str) -> SettingsError:
    return SettingsError(
        "本机没有可用的安全凭据存储（钥匙串），密码不会被保存，需要时请每次输入。",
        "No secure credential store (keyring) is available on this computer; the password is not "
        "saved and will be asked for when needed.",
        code="ERR_KEYRING", details={"reason": reason})


def _check_secret_name(name: str) -> None:
    if name not in SECRETS:
        raise ValueError(f"unknown secret {name!r}")


def set_secret(name: str, value: str) -> None:
    """Store a secret in the system keyring (never in the settings file)."""
    _check_secret_name(name)
    kr = _keyring()
    try:
        kr.set_password(KEYRING_SERVICE, name, value)
    except kr.errors.KeyringError as exc:
        raise _no_keyring(type(exc).__name__) from exc


def get_secret(name: str) -> str | None:
    """A stored secret, or None (also when no keyring is available)."""
    _check_secret_name(name)
    kr = _keyring()
    try:
        value: str | None = kr.get_password(KEYRING_SERVICE, name)
    except kr.errors.KeyringError:
        return None
    return value


def delete_secret(name: str) -> None:
    _check_secret_name(name)
    kr = _keyring()
    try:
        kr.delete_password(KEYRING_SERVICE, name)
    except kr.errors.PasswordDeleteError:
        pass
    except kr.errors.KeyringError as exc:
        raise _no_keyring(type(exc).__name__) from exc
