"""The SM2 recommended curve (GM/T 0003.5) and the checks every input point must pass."""

from __future__ import annotations

from app.gm.errors import GMError

P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0

FIELD_BYTES = 32
CURVE_OID = "1.2.156.10197.1.301"


def is_on_curve(x: int, y: int) -> bool:
    """True when (x, y) is an affine point of the SM2 curve (coordinates in range)."""
    if not (0 <= x < P and 0 <= y < P):
        return False
    return (y * y - (x * x * x + A * x + B)) % P == 0


def check_point(x: int, y: int) -> None:
    """Raise :class:`GMError` unless (x, y) is a valid public point (on the curve, not infinity)."""
    if not is_on_curve(x, y):
        raise GMError(
            "SM2 公钥无效：该点不在 SM2 曲线上。",
            "Invalid SM2 public key: the point is not on the SM2 curve.",
        )


def check_scalar(d: int) -> None:
    """A private key must lie in [1, n-2] (GM/T 0003.1)."""
    if not 1 <= d <= N - 2:
        raise GMError(
            "SM2 私钥超出有效范围。",
            "SM2 private key is out of range.",
        )


def to_bytes32(v: int) -> bytes:
    return v.to_bytes(FIELD_BYTES, "big")


def affine_add(p1: tuple[int, int] | None, p2: tuple[int, int] | None) -> tuple[int, int] | None:
    """Affine point addition (None is the point at infinity); used by the reference backend."""
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    x1, y1 = p1
    x2, y2 = p2
    if x1 == x2:
        if (y1 + y2) % P == 0:
            return None
        lam = (3 * x1 * x1 + A) * pow(2 * y1, -1, P) % P
    else:
        lam = (y2 - y1) * pow(x2 - x1, -1, P) % P
    x3 = (lam * lam - x1 - x2) % P
    y3 = (lam * (x1 - x3) - y1) % P
    return x3, y3
