#!/usr/bin/env python3
"""Reads invitebot's invitations with the parsers real calendar clients use and compares every
occurrence with the tz database, for tests/it/calendar_interop.rs (see docs/calendar-interop.md).

Usage: interop.py MANIFEST REPORT

MANIFEST (JSON, written by the test) lists the cases: an .ics file, the series as configured
(zone, first meeting, length, interval, skipped dates, one-off changes, end date), the window
to compare and what the message must say (METHOD, UID, SEQUENCE). Each file is read by

- ical.js (npm, Thunderbird's parser), through icaljs-occurrences.mjs;
- libical (Debian's C library, Evolution and most Linux clients), through
  libical-occurrences.c (built here into build/ when missing or older than its source);
- vobject (PyPI, used by Radicale and other servers): getrruleset(), overrides applied by
  RECURRENCE-ID as a client does;
- icalendar + recurring-ical-events (PyPI).

The truth is computed here, independently of invitebot: the series' dates from the first one,
local wall times converted with Python's zoneinfo as RFC 5545 says (a time in a gap takes the
offset before the gap, a time in a fold the first of the two: fold=0), each meeting as long as
configured (an exact duration, RFC 5545 3.8.5.3).

A parser's reading of an occurrence that differs from the truth is classified: `gap-start` (a
wall time in a gap read with the offset after the gap), `fold-start` (the second of two equal
wall times), `wall-clock-end` (the end taken as the wall-clock start + length, so the meeting
changes length by the clock change), `after-gap` (the meeting one period after a gap day read at
the wall time the gap shifted that one to); these are RFC 5545 readings the parser gets wrong on
the days the clocks change (and, for `after-gap`, right after); `moved-gap-kept` is an extra
occurrence at the usual time of a meeting moved off a gap day. A cancelled meeting is reported
as `absent`, `STATUS:CANCELLED` (an occurrence a client must hide by its status) or `shown`. Anything else is `wrong`. REPORT (JSON) holds, per case and parser, the
count of occurrences read right, per kind of parser fault, and the wrong ones with details.
"""

import json
import os
import shutil
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

HERE = os.path.dirname(os.path.abspath(__file__))
UTC = timezone.utc
SETUP = "run scripts/test-deps (installs libical-dev, node and the harness's npm and pip packages)"


def fail(message):
    print(f"interop: {message}", file=sys.stderr)
    sys.exit(1)


def iso(seconds):
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the truth -----------------------------------------------------------------------------


def local(text):
    return datetime.fromisoformat(text)


def resolve(wall, zone, fold=0):
    """The UNIX time of a local wall time, as RFC 5545 reads it with fold=0."""
    return int(wall.replace(tzinfo=zone, fold=fold).timestamp())


def truth(case):
    """[(start, end, local wall start)] of the meetings that happen, in the window."""
    zone = ZoneInfo(case["zone"])
    first = local(case["first"])
    minutes = case["duration_minutes"]
    step = timedelta(days=7 * case["interval_weeks"])
    until = date.fromisoformat(case["until"]) if case.get("until") else None
    cancelled = set(case.get("skip", []))
    moved = {}
    for change in case.get("exceptions", []):
        if change.get("move_to"):
            moved[change["date"]] = local(change["move_to"])
        else:
            cancelled.add(change["date"])
    start, end = case["window"]
    out = []
    day = first.date()
    # Moved meetings can land a while after their date: look a year past the window.
    while resolve(datetime.combine(day, first.time()), zone) < end + 366 * 86400:
        if until and day > until:
            break
        key = day.isoformat()
        wall = moved.get(key, datetime.combine(day, first.time()))
        if key not in cancelled:
            begin = resolve(wall, zone)
            if start <= begin < end:
                out.append((begin, begin + 60 * minutes, wall))
        day += step
    out.sort()
    return out


def cancelled_slots(case):
    """The instants the skipped and cancelled meetings would have started at."""
    zone = ZoneInfo(case["zone"])
    time = local(case["first"]).time()
    dates = list(case.get("skip", []))
    dates += [c["date"] for c in case.get("exceptions", []) if not c.get("move_to")]
    return [resolve(datetime.combine(date.fromisoformat(d), time), zone) for d in dates]


def moved_gap_slots(case):
    """Both readings of the usual start of each meeting moved off a day whose usual start time is
    in a gap."""
    zone = ZoneInfo(case["zone"])
    time = local(case["first"]).time()
    slots = set()
    for change in case.get("exceptions", []):
        if change.get("move_to"):
            wall = datetime.combine(date.fromisoformat(change["date"]), time)
            if local_again(resolve(wall, zone, 0), zone) != wall:
                slots |= {resolve(wall, zone, 0), resolve(wall, zone, 1)}
    return slots


def classify(case, wall, got_start, got_end):
    """The parser-fault kinds that explain reading the meeting at `wall` as (got_start, got_end),
    or None."""
    zone = ZoneInfo(case["zone"])
    minutes = case["duration_minutes"]
    right = resolve(wall, zone, 0)
    kinds = []
    if got_start != right:
        previous = wall - timedelta(days=7 * case["interval_weeks"])
        shift = local_again(resolve(previous, zone, 0), zone) - previous
        if got_start == resolve(wall, zone, 1):
            in_gap = local_again(right, zone) != wall
            kinds.append("gap-start" if in_gap else "fold-start")
        elif shift and got_start == resolve(wall + shift, zone, 0):
            # The meeting after a gap day, at the wall time the gap shifted that one to.
            kinds.append("after-gap")
        else:
            return None
    if got_end - got_start != 60 * minutes:
        wall_end = wall + timedelta(minutes=minutes)
        if got_end not in (resolve(wall_end, zone, 0), resolve(wall_end, zone, 1)):
            return None
        kinds.append("wall-clock-end")
    return "+".join(kinds)


def local_again(seconds, zone):
    return datetime.fromtimestamp(seconds, zone).replace(tzinfo=None)


# --- the parsers ---------------------------------------------------------------------------


def read_icaljs(cases):
    node = shutil.which("node")
    if not node or not os.path.isdir(os.path.join(HERE, "node_modules", "ical.js")):
        fail(f"ical.js is not installed in {HERE}/node_modules: {SETUP}")
    jobs = [{"file": c["file"], "start": c["window"][0], "end": c["window"][1]} for c in cases]
    run = subprocess.run(
        [node, os.path.join(HERE, "icaljs-occurrences.mjs")],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        cwd=HERE,
    )
    if run.returncode != 0:
        fail(f"ical.js reader failed: {run.stderr}")
    return json.loads(run.stdout)


def libical_binary():
    source = os.path.join(HERE, "libical-occurrences.c")
    binary = os.path.join(HERE, "build", "libical-occurrences")
    if os.path.exists(binary) and os.path.getmtime(binary) >= os.path.getmtime(source):
        return binary
    os.makedirs(os.path.dirname(binary), exist_ok=True)
    flags = subprocess.run(
        ["pkg-config", "--cflags", "--libs", "libical"], capture_output=True, text=True
    )
    if flags.returncode != 0:
        fail(f"libical is not installed ({flags.stderr.strip()}): {SETUP}")
    build = subprocess.run(
        ["cc", "-O1", "-o", binary + ".tmp", source, *flags.stdout.split()],
        capture_output=True,
        text=True,
    )
    if build.returncode != 0:
        fail(f"building {source} failed: {build.stderr}")
    os.replace(binary + ".tmp", binary)
    return binary


def read_libical(cases):
    args = [libical_binary()]
    for c in cases:
        args += [c["file"], str(c["window"][0]), str(c["window"][1])]
    run = subprocess.run(args, capture_output=True, text=True)
    if run.returncode != 0:
        fail(f"libical reader failed: {run.stderr}")
    out, current = {}, None
    for line in run.stdout.splitlines():
        word, _, rest = line.partition(" ")
        if word == "FILE":
            current = out[rest] = {"method": None, "events": [], "occurrences": []}
        elif word == "METHOD":
            current["method"] = rest
        elif word == "EVENT":
            uid, sequence, status = rest.split(" ")
            current["events"].append([uid, int(sequence), status])
        elif word == "OCC":
            start, end, status = rest.split(" ")
            current["occurrences"].append([int(start), int(end), status])
    return out


def status_of(component):
    return str(component.get("STATUS", "NONE")) if hasattr(component, "get") else "NONE"


def read_vobject(cases):
    import vobject

    out = {}
    for c in cases:
        with open(c["file"], encoding="utf-8") as f:
            calendar = vobject.readOne(f.read())
        start, end = c["window"]
        events = calendar.vevent_list
        master = next(e for e in events if not hasattr(e, "recurrence_id"))

        def vstatus(event):
            return event.status.value if hasattr(event, "status") else "NONE"

        def instant(value):
            return int(value.timestamp())

        first = instant(master.dtstart.value)
        length = instant(master.dtend.value) - first
        found = {}
        # As Radicale does: DTSTART is an occurrence (addRDate=True); vobject gives the starts,
        # each occurrence lasts DTEND - DTSTART (exact, in seconds).
        lo = datetime.fromtimestamp(start - 366 * 86400, UTC)
        hi = datetime.fromtimestamp(end + 366 * 86400, UTC)
        for when in master.getrruleset(addRDate=True).between(lo, hi, inc=True):
            begin = instant(when)
            found[begin] = [begin, begin + length, vstatus(master)]
        for override in events:
            if not hasattr(override, "recurrence_id"):
                continue
            found.pop(instant(override.recurrence_id.value), None)
            begin = instant(override.dtstart.value)
            found[begin] = [begin, instant(override.dtend.value), vstatus(override)]
        out[c["file"]] = {
            "method": calendar.method.value if hasattr(calendar, "method") else "NONE",
            "events": [
                [e.uid.value, int(e.sequence.value) if hasattr(e, "sequence") else 0, vstatus(e)]
                for e in events
            ],
            "occurrences": sorted(o for o in found.values() if start <= o[0] < end),
        }
    return out


def read_recurring_ical_events(cases):
    import icalendar
    import recurring_ical_events

    out = {}
    for c in cases:
        with open(c["file"], "rb") as f:
            calendar = icalendar.Calendar.from_ical(f.read())
        start, end = c["window"]
        occurrences = []
        lo = datetime.fromtimestamp(start, UTC)
        hi = datetime.fromtimestamp(end, UTC)
        for event in recurring_ical_events.of(calendar).between(lo, hi):
            begin = int(event["DTSTART"].dt.timestamp())
            if start <= begin < end:
                occurrences.append([begin, int(event["DTEND"].dt.timestamp()), status_of(event)])
        problems = vtimezone_problems(calendar, c)
        out[c["file"]] = {
            "method": str(calendar.get("METHOD", "NONE")),
            "events": [
                [str(e["UID"]), int(e.get("SEQUENCE", 0)), status_of(e)]
                for e in calendar.walk("VEVENT")
            ],
            "occurrences": sorted(occurrences),
            "problems": problems,
        }
    return out


def vtimezone_problems(calendar, case):
    """icalendar maps an IANA TZID to the system's tz database, so recurring-ical-events never
    reads our VTIMEZONE: check it separately, read on its own, at every meeting and around it."""
    problems = []
    zone = ZoneInfo(case["zone"])
    for vtz in calendar.walk("VTIMEZONE"):
        own = vtz.to_tz(lookup_tzid=False)
        for begin, finish, _ in truth(case):
            for t in (begin - 3600, begin, finish, finish + 3600):
                instant = datetime.fromtimestamp(t, UTC)
                got, want = instant.astimezone(own).utcoffset(), instant.astimezone(zone).utcoffset()
                if got != want:
                    problems.append(f"VTIMEZONE offset {got} at {iso(t)}, tz database {want}")
    return problems


def versions():
    from importlib.metadata import version

    with open(os.path.join(HERE, "node_modules", "ical.js", "package.json")) as f:
        icaljs = json.load(f)["version"]
    libical = subprocess.run(
        ["pkg-config", "--modversion", "libical"], capture_output=True, text=True
    ).stdout.strip()
    return {
        "ical.js": icaljs,
        "libical": libical,
        "vobject": version("vobject"),
        "recurring-ical-events": f"{version('recurring-ical-events')} (icalendar {version('icalendar')})",
    }


# --- comparing -----------------------------------------------------------------------------


def compare(case, reading):
    """{"right", "faults": {kind: n}, "wrong": [text]} for one parser's reading of one case."""
    result = {"right": 0, "faults": {}, "wrong": [], "cancelled": {}}
    wrong = result["wrong"]
    if reading is None:
        wrong.append("the parser read nothing")
        return result
    expect = case["expect"]
    if reading["method"] != expect["method"]:
        wrong.append(f"METHOD {reading['method']}, expected {expect['method']}")
    for uid, sequence, status in reading["events"]:
        if uid != expect["uid"] or sequence != expect["sequence"]:
            wrong.append(f"UID {uid} SEQUENCE {sequence}, expected {expect['uid']} {expect['sequence']}")
        # The form not chosen: the cancelled meeting as an override with STATUS:CANCELLED.
        if status != expect["status"] and not (case.get("variant") and status == "CANCELLED"):
            wrong.append(f"STATUS {status}, expected {expect['status']}")
    wrong.extend(reading.get("problems", [])[:5])
    occurrences = reading["occurrences"]
    zone = ZoneInfo(case["zone"])
    if expect["method"] == "CANCEL":
        # The whole series is cancelled: every occurrence a reader shows carries it.
        if not occurrences:
            wrong.append("no occurrence read from the CANCEL")
        for begin, _, status in occurrences:
            if status != "CANCELLED":
                wrong.append(f"{iso(begin)} has STATUS {status} in the CANCEL")
            else:
                result["right"] += 1
        return result
    # How each cancelled meeting appears: not at all, as an occurrence with STATUS:CANCELLED (a
    # client must check the status to hide it), or as a meeting.
    for slot in cancelled_slots(case):
        found = [status for b, _, status in occurrences if b == slot]
        how = "absent" if not found else "STATUS:CANCELLED" if found == ["CANCELLED"] else "shown"
        result["cancelled"][iso(slot)] = how
    # A client hides an occurrence whose override says STATUS:CANCELLED.
    shown = [(b, e) for b, e, status in occurrences if status != "CANCELLED"]
    # What the reader shows, so two messages of one series (the update and the public feed)
    # can be compared occurrence by occurrence.
    result["shown"] = [f"{iso(b)}/{iso(e)}" for b, e in sorted(shown)]
    want = truth(case)
    missing = [m for m in want if (m[0], m[1]) not in shown]
    extra = [o for o in shown if o not in [(m[0], m[1]) for m in want]]
    result["right"] = len(want) - len(missing)
    for begin, finish, wall in missing:
        match = None
        for other in extra:
            kind = classify(case, wall, other[0], other[1])
            if kind:
                match = (other, kind)
                break
        if match:
            extra.remove(match[0])
            result["faults"][match[1]] = result["faults"].get(match[1], 0) + 1
            result.setdefault("examples", {}).setdefault(
                match[1],
                f"{wall.isoformat()} {case['zone']}: read {iso(match[0][0])}–{iso(match[0][1])}, "
                f"RFC 5545 {iso(begin)}–{iso(finish)}",
            )
        else:
            wrong.append(f"missing {wall.isoformat()} ({iso(begin)}–{iso(finish)})")
    kept = moved_gap_slots(case)
    for begin, finish in extra:
        if begin in kept:
            kind = "moved-gap-kept"
            result["faults"][kind] = result["faults"].get(kind, 0) + 1
            result.setdefault("examples", {}).setdefault(
                kind,
                f"{iso(begin)}–{iso(finish)} {case['zone']}: the usual time of a meeting moved off "
                "a gap day, still shown (the moved meeting is shown too)",
            )
        else:
            wrong.append(f"extra occurrence {iso(begin)}–{iso(finish)}")
    return result


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    manifest_path, report_path = sys.argv[1], sys.argv[2]
    with open(manifest_path) as f:
        cases = json.load(f)["cases"]
    readers = {
        "ical.js": read_icaljs,
        "libical": read_libical,
        "vobject": read_vobject,
        "recurring-ical-events": read_recurring_ical_events,
    }
    readings = {name: read(cases) for name, read in readers.items()}
    report = {"versions": versions(), "cases": []}
    for case in cases:
        report["cases"].append(
            {
                "name": case["name"],
                "zone": case["zone"],
                "truth": len(truth(case)) if case["expect"]["method"] != "CANCEL" else None,
                "results": {
                    name: compare(case, readings[name].get(case["file"])) for name in readers
                },
            }
        )
    with open(report_path, "w") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
