"""Frozen ``bidseal-gui.exe`` (Windows only, built windowed: no console window).

The Start-menu shortcut starts this one. The GUI starts its engine process as
``[sys.executable, "-m", "app.ui.engine_host"]`` with pipes; a windowed executable has
no usable standard streams of its own, so ``sys.executable`` is pointed at the console
``bidseal.exe`` beside it (which answers ``-m``, see entry_bidseal.py; BidSeal starts it
with CREATE_NO_WINDOW, so no console appears). Everything else that looks beside
``sys.executable`` (bidseal-token-host.exe, libcrypto-3-x64.dll) is in the same folder.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main() -> int:
    console = Path(sys.executable).with_name("bidseal.exe")
    if console.is_file():
        sys.executable = str(console)
    from app.cli.main import main as cli_main

    return cli_main(["gui", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
