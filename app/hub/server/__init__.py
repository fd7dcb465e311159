"""The reference hub: interfaces 1-10 over HTTP, the pages it returns URLs for, the
CA service of interface 5 and a demo trading system (``bidseal hub serve``).

Layout: :mod:`.checks` (every request check, in order), :mod:`.db` (SQLAlchemy Core),
:mod:`.service` (tasks and outgoing calls), :mod:`.flows` (one module per interface
group: sync 1-2, login 3-4, encrypt 5, decrypt 6-7, signature 8-10), :mod:`.routes`
(thin Starlette routes), :mod:`.pages` (the hub's pages), :mod:`.ca_service`,
:mod:`.demo` (the trading system) and :mod:`.run` (one process, three ports).
"""
