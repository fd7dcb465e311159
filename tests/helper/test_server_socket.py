"""The helper's listening socket: replies leave without waiting for a delayed ACK."""

from __future__ import annotations

import asyncio
import socket

from app.helper.server import bind_first_free


def test_accepted_connections_have_nodelay() -> None:
    # Without TCP_NODELAY a reply written as headers then body waits for the browser's
    # delayed ACK: 40 ms added to every helper request on Linux.
    sock, _owners = bind_first_free([0])
    port = sock.getsockname()[1]
    seen: dict[str, int] = {}

    async def main() -> None:
        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen["nodelay"] = writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            writer.close()

        server = await asyncio.start_server(handler, sock=sock)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await reader.read()
        writer.close()
        server.close()
        await server.wait_closed()

    asyncio.run(main())
    assert seen["nodelay"] != 0
