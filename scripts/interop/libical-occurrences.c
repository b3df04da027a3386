/* libical-occurrences: reads invitations with libical (the C library behind Evolution and most
 * Linux calendar clients) and prints what it makes of them, for scripts/interop/interop.py.
 *
 * Usage: libical-occurrences FILE START END [FILE START END]...
 *
 * START and END are UNIX times (seconds). For each FILE it prints
 *
 *   FILE <path>
 *   METHOD <method>
 *   EVENT <uid> <sequence> <status>             (one line per VEVENT)
 *   OCC <start> <end> <status>                  (one line per occurrence starting in [START, END))
 *   END
 *
 * with times as UNIX seconds. Occurrences come from icalcomponent_foreach_recurrence (RRULE,
 * RDATE, EXDATE) on the VEVENT without RECURRENCE-ID; a VEVENT with a RECURRENCE-ID replaces the
 * occurrence that starts at that instant, as a client does with libical's API. Every date-time
 * with a TZID is read through the calendar's own VTIMEZONE (never the system's tz database):
 * libical resolves a TZID to the VTIMEZONE of the same calendar.
 *
 * Build: cc -o libical-occurrences libical-occurrences.c $(pkg-config --cflags --libs libical)
 */
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_OCCURRENCES 4096

struct occurrence {
    time_t start;
    time_t end;
    const char *status;
};

struct occurrences {
    struct occurrence items[MAX_OCCURRENCES];
    int count;
    const char *status;
};

static const char *status_of(icalcomponent *event)
{
    icalproperty *status = icalcomponent_get_first_property(event, ICAL_STATUS_PROPERTY);
    return status ? icalproperty_get_value_as_string(status) : "NONE";
}

static void collect(icalcomponent *comp, struct icaltime_span *span, void *data)
{
    struct occurrences *out = data;
    (void)comp;
    if (out->count < MAX_OCCURRENCES) {
        out->items[out->count].start = span->start;
        out->items[out->count].end = span->end;
        out->items[out->count].status = out->status;
        out->count++;
    }
}

/* A DTSTART/DTEND/RECURRENCE-ID as a UNIX time, its TZID read through the calendar's VTIMEZONE. */
static time_t instant(icalcomponent *calendar, icalproperty *prop)
{
    struct icaltimetype value = icalproperty_get_datetime_with_component(prop, NULL);
    icalparameter *tzid = icalproperty_get_first_parameter(prop, ICAL_TZID_PARAMETER);
    icaltimezone *zone = NULL;
    if (tzid) {
        zone = icalcomponent_get_timezone(calendar, icalparameter_get_tzid(tzid));
        if (!zone) {
            fprintf(stderr, "libical-occurrences: no VTIMEZONE for %s\n",
                    icalparameter_get_tzid(tzid));
            exit(1);
        }
    } else if (icaltime_is_utc(value)) {
        zone = icaltimezone_get_utc_timezone();
    }
    return icaltime_as_timet_with_zone(value, zone);
}

static char *read_file(const char *path)
{
    FILE *file = fopen(path, "rb");
    if (!file) {
        perror(path);
        exit(1);
    }
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *text = malloc((size_t)size + 1);
    if (fread(text, 1, (size_t)size, file) != (size_t)size) {
        perror(path);
        exit(1);
    }
    text[size] = '\0';
    fclose(file);
    return text;
}

static int by_start(const void *a, const void *b)
{
    const struct occurrence *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

static void read_calendar(const char *path, time_t from, time_t until)
{
    char *text = read_file(path);
    icalcomponent *calendar = icalparser_parse_string(text);
    free(text);
    if (!calendar) {
        fprintf(stderr, "libical-occurrences: %s does not parse\n", path);
        exit(1);
    }
    printf("FILE %s\n", path);
    icalproperty *method = icalcomponent_get_first_property(calendar, ICAL_METHOD_PROPERTY);
    printf("METHOD %s\n", method ? icalproperty_get_value_as_string(method) : "NONE");

    static struct occurrences found;
    found.count = 0;
    icaltimezone *utc = icaltimezone_get_utc_timezone();
    struct icaltimetype start = icaltime_from_timet_with_zone(from, 0, utc);
    struct icaltimetype end = icaltime_from_timet_with_zone(until, 0, utc);

    /* The series first, then the overrides replace single occurrences. */
    for (int pass = 0; pass < 2; pass++) {
        for (icalcomponent *event = icalcomponent_get_first_component(calendar, ICAL_VEVENT_COMPONENT);
             event; event = icalcomponent_get_next_component(calendar, ICAL_VEVENT_COMPONENT)) {
            icalproperty *rid = icalcomponent_get_first_property(event, ICAL_RECURRENCEID_PROPERTY);
            if ((pass == 0) != (rid == NULL)) {
                continue;
            }
            printf("EVENT %s %d %s\n", icalcomponent_get_uid(event),
                   icalcomponent_get_sequence(event), status_of(event));
            if (!rid) {
                found.status = status_of(event);
                icalcomponent_foreach_recurrence(event, start, end, collect, &found);
                continue;
            }
            time_t replaced = instant(calendar, rid);
            for (int i = 0; i < found.count; i++) {
                if (found.items[i].start == replaced) {
                    found.items[i] = found.items[--found.count];
                    break;
                }
            }
            icalproperty *dtstart = icalcomponent_get_first_property(event, ICAL_DTSTART_PROPERTY);
            icalproperty *dtend = icalcomponent_get_first_property(event, ICAL_DTEND_PROPERTY);
            time_t s = instant(calendar, dtstart);
            time_t e = dtend ? instant(calendar, dtend) : s;
            if (s >= from && s < until && found.count < MAX_OCCURRENCES) {
                found.items[found.count].start = s;
                found.items[found.count].end = e;
                found.items[found.count].status = status_of(event);
                found.count++;
            }
        }
    }
    qsort(found.items, (size_t)found.count, sizeof found.items[0], by_start);
    for (int i = 0; i < found.count; i++) {
        /* foreach_recurrence reports occurrences that overlap the range; keep those starting in it. */
        if (found.items[i].start < from || found.items[i].start >= until) {
            continue;
        }
        printf("OCC %lld %lld %s\n", (long long)found.items[i].start,
               (long long)found.items[i].end, found.items[i].status);
    }
    printf("END\n");
    icalcomponent_free(calendar);
}

int main(int argc, char **argv)
{
    if (argc < 4 || (argc - 1) % 3 != 0) {
        fprintf(stderr, "usage: %s FILE START END [FILE START END]...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i + 2 < argc; i += 3) {
        time_t from = (time_t)strtoll(argv[i + 1], NULL, 10);
        time_t until = (time_t)strtoll(argv[i + 2], NULL, 10);
        read_calendar(argv[i], from, until);
    }
    return 0;
}
