// icaljs-occurrences: reads invitations with ical.js (Mozilla's parser, the one Thunderbird uses)
// and prints what it makes of them, for scripts/interop/interop.py.
//
// Usage: node icaljs-occurrences.mjs < jobs.json
//
// jobs.json is a list of {"file": PATH, "start": UNIX_SECONDS, "end": UNIX_SECONDS}. Prints one
// JSON object: for each file, {"method", "events": [[uid, sequence, status]], "occurrences":
// [[start, end, status]]} with the occurrences that start in [start, end), as UNIX seconds.
// The series is expanded with ICAL.Event's iterator; VEVENTs with a RECURRENCE-ID are related to
// it as exceptions (ICAL.Event#relateException), as Thunderbird does. A TZID is read through the
// calendar's own VTIMEZONE (ical.js looks it up in the parsed calendar), never a system zone.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const MAX_OCCURRENCES = 4096;

function status(component) {
  return component.getFirstPropertyValue("status") ?? "NONE";
}

function read(job) {
  const root = new ICAL.Component(ICAL.parse(readFileSync(job.file, "utf8")));
  const events = root.getAllSubcomponents("vevent");
  const master = events.find((e) => !e.hasProperty("recurrence-id"));
  const overrides = events.filter((e) => e.hasProperty("recurrence-id"));
  const event = new ICAL.Event(master);
  for (const override of overrides) {
    event.relateException(override);
  }
  const occurrences = [];
  const iterator = event.iterator();
  for (let next = iterator.next(); next && occurrences.length < MAX_OCCURRENCES; next = iterator.next()) {
    const details = event.getOccurrenceDetails(next);
    const start = details.startDate.toUnixTime();
    const end = details.endDate.toUnixTime();
    // Overrides can move an occurrence before its neighbours: look a year past the window.
    if (start >= job.end + 366 * 86400) {
      break;
    }
    if (start >= job.start && start < job.end) {
      occurrences.push([start, end, status(details.item.component)]);
    }
  }
  occurrences.sort((a, b) => a[0] - b[0]);
  return {
    method: root.getFirstPropertyValue("method") ?? "NONE",
    events: events.map((e) => [
      e.getFirstPropertyValue("uid"),
      e.getFirstPropertyValue("sequence") ?? 0,
      status(e),
    ]),
    occurrences,
  };
}

const jobs = JSON.parse(readFileSync(0, "utf8"));
const out = {};
for (const job of jobs) {
  out[job.file] = read(job);
}
process.stdout.write(JSON.stringify(out));
