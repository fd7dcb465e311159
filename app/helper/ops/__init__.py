"""One module per operation (Web eID's command handlers): each exposes
``async def handle(services, caller) -> Reply``; :mod:`app.helper.dispatch` picks it."""
