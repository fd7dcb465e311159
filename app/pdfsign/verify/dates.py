"""PDF date strings (``D:YYYYMMDDHHmmSS+HH'mm'``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone


def parse_pdf_date(value: str | None) -> datetime | None:
    """``D:YYYYMMDDHHmmSS+HH'mm'`` → aware datetime (UTC when no zone); None if unreadable."""
    if not value:
        return None
    v = value.strip()
    if v.startswith("D:"):
        v = v[2:]
    digits = ""
    i = 0
    while i < len(v) and v[i].isdigit() and len(digits) < 14:
        digits += v[i]
        i += 1
    if len(digits) < 4:
        return None
    digits = digits.ljust(14, "0")
    if digits[4:6] == "00":
        digits = digits[:4] + "01" + digits[6:]
    if digits[6:8] == "00":
        digits = digits[:6] + "01" + digits[8:]
    try:
        dt = datetime.strptime(digits, "%Y%m%d%H%M%S")
    except ValueError:
        return None
    rest = v[i:].replace("'", "")
    tz = UTC
    if rest[:1] in ("+", "-") and len(rest) >= 3 and rest[1:3].isdigit():
        mins = int(rest[3:5]) if rest[3:5].isdigit() else 0
        delta = timedelta(hours=int(rest[1:3]), minutes=mins)
        tz = timezone(delta if rest[0] == "+" else -delta)
    return dt.replace(tzinfo=tz)
