"""The current_time tool: the current date and time in an IANA time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


def now() -> datetime:
    """Return the current time as an aware UTC datetime (tests may monkeypatch this)."""
    return datetime.now(UTC)


def _find_zone(name: str) -> ZoneInfo:
    """Look up an IANA zone, falling back to a case-insensitive match."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    if name.strip():
        wanted = name.strip().lower()
        for key in available_timezones():
            if key.lower() == wanted:
                return ZoneInfo(key)
    raise ValueError(f"Unknown time zone '{name}'; use an IANA name like Europe/Paris")


def _format_offset(moment: datetime) -> str:
    """Format the UTC offset of an aware datetime as ``UTC+02:00``."""
    offset = moment.utcoffset()
    seconds = int(offset.total_seconds()) if offset is not None else 0
    sign = "+" if seconds >= 0 else "-"
    hours, remainder = divmod(abs(seconds), 3600)
    return f"UTC{sign}{hours:02d}:{remainder // 60:02d}"


def current_time(timezone: str = "UTC") -> str:
    """Get the current date and time in a time zone: ISO 8601 local time, the zone
    name and abbreviation, the UTC offset and the weekday.

    Args:
        timezone: IANA time zone name such as "UTC", "Europe/Paris" or "America/New_York".
    """
    zone = _find_zone(timezone)
    moment = now().astimezone(zone).replace(microsecond=0)
    abbreviation = moment.tzname() or ""
    return f"{moment.isoformat()} {zone.key} ({abbreviation}, {_format_offset(moment)}, {moment:%A})"
