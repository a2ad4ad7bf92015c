"""Reads an .ics file with Python's `icalendar` and `recurring_ical_events` and
prints what they understood, as JSON (the shape tests/common/ics.rs reads).

    check.py FILE FROM TO        FROM, TO: YYYY-MM-DD, the window occurrences
                                 are expanded in ([FROM, TO))

Timed values are UTC instants (YYYY-MM-DDTHH:MM:SSZ) as the parser computes
them from TZID; all-day values are dates (YYYY-MM-DD), DTEND exclusive as in
the file. Any parse error, a floating time, or a VTIMEZONE of the file that
disagrees with the IANA zone of the same name at a time the file uses, exits
non-zero with the reason on stderr.
"""

import datetime
import json
import sys

import icalendar
import recurring_ical_events
from icalendar.timezone import tzp

UTC = datetime.timezone.utc


def fail(message):
    print(f"check.py: {message}", file=sys.stderr)
    sys.exit(1)


def instant(value, what):
    """A DATE as YYYY-MM-DD, a DATE-TIME as a UTC instant."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            fail(f"{what}: floating time {value.isoformat()} (TZID not resolved?)")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    fail(f"{what}: not a date or date-time: {value!r}")


def text(component, name):
    value = component.get(name)
    return None if value is None else str(value)


def date_values(prop):
    """The dates of a property that may repeat and may hold a list (EXDATE)."""
    if prop is None:
        return []
    props = prop if isinstance(prop, list) else [prop]
    return [(p.params.get("TZID"), d.dt) for p in props for d in p.dts]


def check_vtimezones(calendar):
    """The file's VTIMEZONE must give each wall time the instant that the
    IANA zone of that TZID gives (python resolves TZID with tzdata, so this
    is what makes it read the VTIMEZONE too)."""
    own = {}
    for vtz in calendar.walk("VTIMEZONE"):
        own[str(vtz["TZID"])] = vtz.to_tz(tzp, lookup_tzid=False)
    for event in calendar.walk("VEVENT"):
        uid = str(event.get("UID"))
        values = []
        for name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
            prop = event.get(name)
            if prop is not None:
                values.append((name, prop.params.get("TZID"), prop.dt))
        values += [("EXDATE", tzid, dt) for tzid, dt in date_values(event.get("EXDATE"))]
        for name, tzid, value in values:
            if tzid is None or not isinstance(value, datetime.datetime):
                continue
            if tzid not in own:
                fail(f"{uid} {name}: TZID {tzid} has no VTIMEZONE in the file")
            wall = value.replace(tzinfo=None)
            by_file = wall.replace(tzinfo=own[tzid]).astimezone(UTC)
            by_tzdata = value.astimezone(UTC)
            if by_file != by_tzdata:
                fail(
                    f"{uid} {name}: {wall.isoformat()} {tzid} is {by_file.isoformat()} "
                    f"by the file's VTIMEZONE but {by_tzdata.isoformat()} by tzdata"
                )


def main():
    if len(sys.argv) != 4:
        fail("usage: check.py FILE FROM TO")
    path, window_from, window_to = sys.argv[1:]
    try:
        with open(path, "rb") as f:
            calendar = icalendar.Calendar.from_ical(f.read())
        check_vtimezones(calendar)
        events = []
        for event in calendar.walk("VEVENT"):
            uid = text(event, "UID")
            start = event.get("DTSTART")
            if start is None:
                fail(f"{uid}: no DTSTART")
            end = event.get("DTEND")
            recurrence_id = event.get("RECURRENCE-ID")
            rrule = event.get("RRULE")
            sequence = event.get("SEQUENCE")
            events.append(
                {
                    "uid": uid,
                    "summary": text(event, "SUMMARY"),
                    "description": text(event, "DESCRIPTION"),
                    "location": text(event, "LOCATION"),
                    "status": text(event, "STATUS"),
                    "sequence": None if sequence is None else int(sequence),
                    "all_day": not isinstance(start.dt, datetime.datetime),
                    "start": instant(start.dt, f"{uid} DTSTART"),
                    "end": None if end is None else instant(end.dt, f"{uid} DTEND"),
                    "recurrence_id": None
                    if recurrence_id is None
                    else instant(recurrence_id.dt, f"{uid} RECURRENCE-ID"),
                    "rrule": None if rrule is None else rrule.to_ical().decode(),
                    "exdates": sorted(
                        instant(dt, f"{uid} EXDATE")
                        for _, dt in date_values(event.get("EXDATE"))
                    ),
                }
            )
        occurrences = []
        window = (
            datetime.date.fromisoformat(window_from),
            datetime.date.fromisoformat(window_to),
        )
        for occ in recurring_ical_events.of(calendar).between(*window):
            uid = text(occ, "UID")
            end = occ.get("DTEND")
            occurrences.append(
                {
                    "uid": uid,
                    "start": instant(occ["DTSTART"].dt, f"{uid} occurrence start"),
                    "end": None if end is None else instant(end.dt, f"{uid} occurrence end"),
                    "status": text(occ, "STATUS"),
                    "summary": text(occ, "SUMMARY"),
                }
            )
        occurrences.sort(key=lambda o: (o["start"], o["uid"]))
    except SystemExit:
        raise
    except Exception as e:  # any parser complaint fails the check
        fail(f"{type(e).__name__}: {e}")
    json.dump({"events": events, "occurrences": occurrences}, sys.stdout, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
