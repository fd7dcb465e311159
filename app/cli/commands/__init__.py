"""One module per command group; each exposes ``register(subparsers)``.

:mod:`app.cli.main` discovers every module here, so adding a command never means
editing a central list.
"""
