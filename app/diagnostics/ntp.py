"""A minimal SNTP client (RFC 4330) for the clock check: how far is this computer's
clock from a time server?

Why it matters: certificate validity, signing times and the envelope's creation date
all read the local clock; a clock hours off makes a valid certificate look expired (or
not yet valid) and stamps wrong times into signatures. One UDP request, a 2-second
timeout, and checks that the answer is a server reply to *our* request (mode 4,
non-zero stratum, origin timestamp echoed), so a stray packet cannot shift the result.
"""

from __future__ import annotations

import secrets
import socket
import struct
import time

NTP_PORT = 123
#: Seconds between the NTP epoch (1900) and the Unix epoch (1970).
NTP_DELTA = 2208988800


class NtpError(Exception):
    """The server could not be asked or did not answer properly (``str`` says why)."""


def _to_ntp(t: float) -> bytes:
    seconds = int(t) + NTP_DELTA
    fraction = int((t % 1) * 2**32) & 0xFFFFFFFF
    return struct.pack("!II", seconds & 0xFFFFFFFF, fraction)


def _from_ntp(raw: bytes) -> float:
    seconds, fraction = struct.unpack("!II", raw)
    return float(seconds - NTP_DELTA + fraction / 2**32)


def split_server(server: str) -> tuple[str, int]:
    host, _, port = server.rpartition(":") if server.count(":") == 1 else (server, "", "")
    return (host or server), int(port) if port else NTP_PORT


def query_offset(server: str, timeout: float = 2.0) -> tuple[float, float]:
    """(offset, round-trip delay) in seconds; offset > 0 means the server is ahead of
    this computer. Raises :class:`NtpError`."""
    host, port = split_server(server)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except OSError as exc:
        raise NtpError(f"cannot resolve {host}: {exc}") from exc
    family, _type, _proto, _name, address = infos[0]
    # a random transmit timestamp (low bits) identifies our request in the reply
    t1 = time.time()
    origin = _to_ntp(t1)[:4] + secrets.token_bytes(4)
    request = b"\x23" + bytes(39) + origin  # LI 0, version 4, mode 3 (client)
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.sendto(request, address)
            reply, _peer = sock.recvfrom(512)
        except OSError as exc:  # includes timeouts
            raise NtpError(f"no answer from {server}: {exc}") from exc
        t4 = time.time()
    if len(reply) < 48:
        raise NtpError("short reply")
    mode, stratum = reply[0] & 0x07, reply[1]
    if mode != 4 or stratum == 0 or reply[24:32] != origin:
        raise NtpError(f"not a valid reply to this request (mode {mode}, stratum {stratum})")
    t2, t3 = _from_ntp(reply[32:40]), _from_ntp(reply[40:48])
    # the transmitted fraction was random (it identifies the reply); compute with the real t1
    offset = ((t2 - t1) + (t3 - t4)) / 2
    delay = (t4 - t1) - (t3 - t2)
    return offset, delay
