"""The window's own settings (Qt-free), JSON in the config folder: language, the suffix of
sealed files, the size of a dropped seal, recent files.

What other front ends share - output folder, envelope naming, SKF libraries, time-stamp
server - lives in :mod:`app.settings`; the settings dialog edits both. Unknown keys here
are kept; nothing secret is ever stored (the PIN is never stored anywhere).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from app import paths
from app.atomic import write_atomic

FILE_NAME = "gui.json"
MAX_RECENT = 10


def settings_path() -> Path:
    return paths.config_dir() / FILE_NAME


@dataclass
class Settings:
    language: str = "zh"
    recent_files: list[str] = field(default_factory=list)
    #: Longer side of a seal dropped on a page, in millimetres.
    seal_size_mm: float = 42.0
    #: Added to the original's name for the sealed copy (``bid-已签章.pdf``).
    output_suffix: str = "-已签章"
    #: Settings of later features, by name (kept as they are).
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        path = path or settings_path()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(data, dict):
            return cls()
        known = {f.name for f in fields(cls)}
        s = cls(**{k: v for k, v in data.items() if k in known and k != "extra"})
        extra = data.get("extra")
        s.extra = dict(extra) if isinstance(extra, dict) else {}
        s.extra.update({k: v for k, v in data.items() if k not in known})
        s.recent_files = [str(p) for p in s.recent_files if isinstance(p, str)][:MAX_RECENT]
        if not isinstance(s.seal_size_mm, (int, float)) or not 8 <= s.seal_size_mm <= 80:
            s.seal_size_mm = 42.0
        if s.language not in ("zh", "en"):
            s.language = "zh"
        if not isinstance(s.output_suffix, str) or not s.output_suffix.strip():
            s.output_suffix = "-已签章"
        return s

    def save(self, path: Path | None = None) -> None:
        path = path or settings_path()
        paths.ensure(path.parent)
        data = asdict(self)
        write_atomic(path, json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"), private=True)

    def add_recent(self, file: str | os.PathLike[str]) -> None:
        p = str(Path(file).resolve())
        self.recent_files = [p] + [f for f in self.recent_files if f != p]
        del self.recent_files[MAX_RECENT:]
