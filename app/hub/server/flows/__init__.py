"""One module per interface group; each function takes the :class:`~app.hub.server.service.Hub`
and a checked request and returns the response body (or raises HubError)."""
