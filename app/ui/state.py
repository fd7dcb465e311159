"""What the window remembers between runs that is not a setting (Qt-free): recent files
and the size of a dropped seal, as JSON in the config folder.

Settings a user chooses (language, output folder and file naming, SKF libraries,
time-stamp server) live in the one shared settings file, :mod:`app.settings`. Unknown keys
here are kept; nothing secret is ever stored (the PIN is never stored anywhere).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from app import paths
from app.atomic import write_atomic

FILE_NAME = "gui-state.json"
MAX_RECENT = 10


def state_path() -> Path:
    return paths.config_dir() / FILE_NAME


@dataclass
class WindowState:
    recent_files: list[str] = field(default_factory=list)
    #: Longer side of a seal dropped on a page, in millimetres.
    seal_size_mm: float = 42.0
    #: State of later features, by name (kept as they are).
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None = None) -> WindowState:
        path = path or state_path()
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
        return s

    def save(self, path: Path | None = None) -> None:
        path = path or state_path()
        paths.ensure(path.parent)
        data = asdict(self)
        write_atomic(path, json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"), private=True)

    def add_recent(self, file: str | os.PathLike[str]) -> None:
        p = str(Path(file).resolve())
        self.recent_files = [p] + [f for f in self.recent_files if f != p]
        del self.recent_files[MAX_RECENT:]
