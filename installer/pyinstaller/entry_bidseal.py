"""Frozen ``bidseal`` (PyInstaller entry script): the CLI, the GUI without arguments.

BidSeal starts some helpers as ``[sys.executable, "-m", MODULE]`` (the GUI's engine
process, a token host from a source tree). In a frozen app ``sys.executable`` is this
program, not a Python interpreter, so it answers ``-m MODULE`` itself for exactly the
modules in ``manifest.CHILD_MODULES``, the way ``python -m`` would: the module runs as
``__main__`` with the remaining arguments.
"""

from __future__ import annotations

import runpy
import sys

#: Copied from installer/pyinstaller/manifest.py CHILD_MODULES (a test keeps them equal):
#: the entry script must not depend on a module PyInstaller might not bundle.
CHILD_MODULES = ("app.ui.engine_host", "app.token.host")


def main() -> int:
    argv = sys.argv[1:]
    if len(argv) >= 2 and argv[0] == "-m":
        module = argv[1]
        if module not in CHILD_MODULES:
            print(f"bidseal: -m {module}: not a BidSeal child process", file=sys.stderr)
            return 2
        sys.argv = [module, *argv[2:]]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return 0
    from app.cli.main import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
