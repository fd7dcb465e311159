"""Frozen ``bidseal-token-host``: the process that loads one SKF library (app/token/README.md)."""

import sys

from app.token.host import main

if __name__ == "__main__":
    sys.exit(main())
