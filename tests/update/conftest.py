from tests.support.update_server import channel, update_server  # noqa: F401 - fixtures
