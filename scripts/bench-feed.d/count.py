"""Prints what a feed holds: VEVENTs (series, changed occurrences, single
events), distinct UIDs, RRULEs, VTIMEZONEs and its size."""
import sys

# newline="": keep the CRLFs that end iCalendar lines (universal newlines would
# turn them into LF and every line would be one).
text = open(sys.argv[1], encoding="utf-8", newline="").read()
lines = text.split("\r\n")
uids = {l[4:] for l in lines if l.startswith("UID:")}
print(
    f"feed: {text.count('BEGIN:VEVENT')} VEVENTs, {len(uids)} UIDs, "
    f"{sum(l.startswith('RRULE:') for l in lines)} series, "
    f"{sum(l.startswith('RECURRENCE-ID') for l in lines)} changed occurrences, "
    f"{sum(l.startswith('EXDATE') for l in lines)} EXDATEs, "
    f"{text.count('BEGIN:VTIMEZONE')} zones, {len(text.encode()) / 1e6:.1f} MB"
)
