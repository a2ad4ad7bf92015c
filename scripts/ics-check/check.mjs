// Reads an .ics file with Mozilla's ical.js (the parser Thunderbird uses) and
// prints what it understood, as JSON (the shape tests/common/ics.rs reads).
//
//   node check.mjs FILE FROM TO      FROM, TO: YYYY-MM-DD, the window occurrences
//                                    are expanded in ([FROM, TO), wall time)
//
// Every VTIMEZONE of the file is registered with ICAL.TimezoneService before
// any event is read, so timed values are UTC instants computed from TZID and
// the file's own VTIMEZONE (ical.js knows no zones of its own). All-day values
// are dates, DTEND exclusive as in the file. A parse error, or a time whose
// TZID does not resolve, exits non-zero with the reason on stderr.
import { readFileSync } from 'node:fs';
import ICAL from 'ical.js';

function fail(message) {
  process.stderr.write(`check.mjs: ${message}\n`);
  process.exit(1);
}

const pad = (n, width = 2) => String(n).padStart(width, '0');

function instant(time, what) {
  if (time.isDate) {
    return `${pad(time.year, 4)}-${pad(time.month)}-${pad(time.day)}`;
  }
  const zone = time.zone;
  if (!zone || zone === ICAL.Timezone.localTimezone) {
    fail(`${what}: floating time ${time.toString()} (TZID not resolved?)`);
  }
  return new Date(time.toUnixTime() * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const text = (component, name) => {
  const value = component.getFirstPropertyValue(name);
  return value === null || value === undefined ? null : String(value);
};

// Wall time in the zone of `zoneOf`, comparable as a string with YYYY-MM-DD.
function wall(time, zoneOf) {
  if (time.isDate || zoneOf.isDate) {
    return time.toString();
  }
  return time.convertToZone(zoneOf.zone).toString();
}

function inWindow(start, end, from, to) {
  const s = wall(start, start);
  const e = wall(end, start);
  return s < to && (e > from || (e === s && s >= from));
}

// Past `to`, how far to keep expanding for occurrences moved into the window.
function addYear(date) {
  return `${pad(Number(date.slice(0, 4)) + 1, 4)}${date.slice(4)}`;
}

function main() {
  const args = process.argv.slice(2);
  if (args.length !== 3) {
    fail('usage: check.mjs FILE FROM TO');
  }
  const [path, from, to] = args;
  const root = new ICAL.Component(ICAL.parse(readFileSync(path, 'utf8')));
  if (root.name !== 'vcalendar') {
    fail(`top-level component is ${root.name}, not vcalendar`);
  }
  for (const vtimezone of root.getAllSubcomponents('vtimezone')) {
    ICAL.TimezoneService.register(vtimezone);
  }

  const vevents = root.getAllSubcomponents('vevent');
  const events = vevents.map((vevent) => {
    const uid = text(vevent, 'uid');
    const start = vevent.getFirstPropertyValue('dtstart');
    if (!start) {
      fail(`${uid}: no DTSTART`);
    }
    const end = vevent.getFirstPropertyValue('dtend');
    const recurrenceId = vevent.getFirstPropertyValue('recurrence-id');
    const rrule = vevent.getFirstPropertyValue('rrule');
    const sequence = vevent.getFirstPropertyValue('sequence');
    const exdates = vevent
      .getAllProperties('exdate')
      .flatMap((p) => p.getValues())
      .map((t) => instant(t, `${uid} EXDATE`))
      .sort();
    return {
      uid,
      summary: text(vevent, 'summary'),
      description: text(vevent, 'description'),
      location: text(vevent, 'location'),
      status: text(vevent, 'status'),
      sequence: sequence === null ? null : Number(sequence),
      all_day: start.isDate,
      start: instant(start, `${uid} DTSTART`),
      end: end ? instant(end, `${uid} DTEND`) : null,
      recurrence_id: recurrenceId ? instant(recurrenceId, `${uid} RECURRENCE-ID`) : null,
      rrule: rrule ? rrule.toString() : null,
      exdates,
    };
  });

  // Series with their overrides (related by UID only: strictExceptions).
  const overrides = new Map();
  for (const vevent of vevents) {
    if (vevent.hasProperty('recurrence-id')) {
      const uid = text(vevent, 'uid');
      overrides.set(uid, [...(overrides.get(uid) || []), vevent]);
    }
  }
  const occurrences = [];
  const push = (uid, item, start, end) => {
    if (inWindow(start, end, from, to)) {
      occurrences.push({
        uid,
        start: instant(start, `${uid} occurrence start`),
        end: instant(end, `${uid} occurrence end`),
        status: text(item.component, 'status'),
        summary: text(item.component, 'summary'),
      });
    }
  };
  const masters = new Set();
  for (const vevent of vevents) {
    if (vevent.hasProperty('recurrence-id')) {
      continue;
    }
    const uid = text(vevent, 'uid');
    masters.add(uid);
    const event = new ICAL.Event(vevent, {
      exceptions: overrides.get(uid) || [],
      strictExceptions: true,
    });
    if (!event.isRecurring()) {
      push(uid, event, event.startDate, event.endDate);
      continue;
    }
    const iterator = event.iterator();
    const horizon = addYear(to);
    for (let n = 0; ; n++) {
      if (n > 100000) {
        fail(`${uid}: more than 100000 occurrences before ${horizon}`);
      }
      const next = iterator.next();
      if (!next || wall(next, next) >= horizon) {
        break;
      }
      const details = event.getOccurrenceDetails(next);
      push(uid, details.item, details.startDate, details.endDate);
    }
  }
  // An override whose series is not in the file stands alone.
  for (const [uid, list] of overrides) {
    if (!masters.has(uid)) {
      for (const vevent of list) {
        const event = new ICAL.Event(vevent);
        push(uid, event, event.startDate, event.endDate);
      }
    }
  }
  occurrences.sort((a, b) =>
    a.start < b.start ? -1 : a.start > b.start ? 1 : a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0);

  process.stdout.write(`${JSON.stringify({ events, occurrences })}\n`);
}

try {
  main();
} catch (e) {
  fail(`${e && e.name ? e.name : 'Error'}: ${e && e.message ? e.message : e}`);
}
