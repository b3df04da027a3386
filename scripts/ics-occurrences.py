#!/usr/bin/env python3
"""Print the occurrences of the events in an .ics file, as an independent check of invitebot.

Usage: ics-occurrences.py FILE START END

START and END are ISO-8601 instants with an offset (e.g. 2024-05-01T00:00:00Z). Prints the
start of every occurrence in [START, END), in UTC, one per line, sorted
(e.g. 2024-05-06T15:00:00Z). Expansion is done by the PyPI packages `icalendar` and
`recurring-ical-events` (pip install icalendar recurring-ical-events).

Fails (exit status 1, message on stderr) if the calendar has no METHOD, if a VEVENT lacks
ORGANIZER or ATTENDEE (Gmail then shows no Accept/Decline; a PUBLISH must have no ATTENDEE), or if a VTIMEZONE, read on its own
(without looking its TZID up in the system's tz database), gives a different UTC offset than the
tz database anywhere in [START, END) (checked hourly).
"""

import sys
from datetime import datetime, timedelta, timezone

INSTALL = "pip install icalendar recurring-ical-events"


def fail(message):
    print(f"ics-occurrences: {message}", file=sys.stderr)
    sys.exit(1)


def parse_instant(text):
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        fail(f"{text!r} has no offset; write e.g. 2024-05-01T00:00:00Z")
    return value


def check_vtimezones(calendar, start, end):
    from zoneinfo import ZoneInfo

    for vtz in calendar.walk("VTIMEZONE"):
        tzid = str(vtz["TZID"])
        own = vtz.to_tz(lookup_tzid=False)
        reference = ZoneInfo(tzid)
        instant = start
        while instant < end:
            got = instant.astimezone(own).utcoffset()
            want = instant.astimezone(reference).utcoffset()
            if got != want:
                fail(f"VTIMEZONE {tzid}: offset {got} at {instant.isoformat()}, tz database says {want}")
            instant += timedelta(hours=1)


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    path, start, end = sys.argv[1], parse_instant(sys.argv[2]), parse_instant(sys.argv[3])
    try:
        import icalendar
        import recurring_ical_events
    except ImportError as error:
        fail(f"{error}: run `{INSTALL}`")

    with open(path, "rb") as file:
        calendar = icalendar.Calendar.from_ical(file.read())

    if not calendar.get("METHOD"):
        fail("the calendar has no METHOD")
    events = calendar.walk("VEVENT")
    if not events:
        fail("the calendar has no VEVENT")
    # A PUBLISH (the public feed) names nobody: ATTENDEE is then an error.
    published = str(calendar.get("METHOD")) == "PUBLISH"
    for event in events:
        if not event.get("ORGANIZER"):
            fail(f"VEVENT {event.get('UID')} has no ORGANIZER")
        if published and event.get("ATTENDEE"):
            fail(f"VEVENT {event.get('UID')} of a PUBLISH has an ATTENDEE")
        if not published and not event.get("ATTENDEE"):
            fail(f"VEVENT {event.get('UID')} has no ATTENDEE")
    check_vtimezones(calendar, start, end)

    starts = []
    for occurrence in recurring_ical_events.of(calendar).between(start, end):
        dtstart = occurrence["DTSTART"].dt
        if not isinstance(dtstart, datetime) or dtstart.tzinfo is None:
            fail(f"occurrence {dtstart!r} is not a date-time with a time zone")
        starts.append(dtstart.astimezone(timezone.utc))
    for instant in sorted(starts):
        print(instant.strftime("%Y-%m-%dT%H:%M:%SZ"))


if __name__ == "__main__":
    main()
