//! `GET /calendar/{series}.ics`: a series as a public feed anyone may subscribe to.
//!
//! The feed is the invitation's calendar with `METHOD:PUBLISH` and no `ATTENDEE`
//! ([`SeriesEvent::feed`]): the same UID, `RRULE`, skipped, cancelled and moved meetings and
//! `VTIMEZONE`. It changes only when the series does, so it is made once per change of the
//! series and kept; its `DTSTAMP` and `Last-Modified` are when this process first served that
//! version (after a restart, clients download it once more).

use std::collections::HashMap;
use std::sync::Mutex;

use axum::body::Bytes;
use jiff::Timestamp;

use super::conditional::etag_of;
use crate::core::series::Series;
use crate::core::series_event::SeriesEvent;

/// One version of a series' feed.
#[derive(Clone)]
pub struct Feed {
    /// The `.ics` text.
    pub body: Bytes,
    /// Its entity tag.
    pub etag: String,
    /// When this version was made.
    pub made: Timestamp,
}

/// The feeds made so far, by series id, with the fingerprint of the series they were made of.
#[derive(Default)]
pub struct Feeds {
    made: Mutex<HashMap<String, (String, Feed)>>,
}

impl Feeds {
    /// The feed of `series` as it is now: the one made before if the series hasn't changed
    /// since, else a new one stamped `now`.
    pub fn of(&self, series: &Series, now: Timestamp) -> Feed {
        let event = SeriesEvent::of(series);
        let fingerprint = event.snapshot().fingerprint();
        let mut made = self.made.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((seen, feed)) = made.get(&series.id)
            && *seen == fingerprint
        {
            return feed.clone();
        }
        let stamp = Timestamp::from_second(now.as_second()).unwrap_or(now);
        let body = Bytes::from(event.feed(stamp).to_ics());
        let feed = Feed {
            etag: etag_of(&body),
            body,
            made: stamp,
        };
        made.insert(series.id.clone(), (fingerprint, feed.clone()));
        feed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::series::testing::{sample_series, schedule};

    #[test]
    fn a_feed_is_made_again_only_when_its_series_changes() {
        let feeds = Feeds::default();
        let series = sample_series();
        let first = feeds.of(&series, "2026-12-01T10:00:00.5Z".parse().unwrap());
        assert_eq!(first.made, "2026-12-01T10:00:00Z".parse().unwrap());
        let text = std::str::from_utf8(&first.body).unwrap();
        assert!(text.contains("METHOD:PUBLISH\r\n"), "{text}");
        assert!(text.contains("DTSTAMP:20261201T100000Z\r\n"), "{text}");
        assert!(!text.contains("ATTENDEE"), "{text}");

        let later = feeds.of(&series, "2026-12-02T10:00:00Z".parse().unwrap());
        assert_eq!((later.etag, later.made), (first.etag.clone(), first.made));

        let mut moved = sample_series();
        moved.schedule = schedule("America/Los_Angeles", "2024-05-06T09:00", 60, &[]);
        let changed = feeds.of(&moved, "2026-12-03T10:00:00Z".parse().unwrap());
        assert_ne!(changed.etag, first.etag);
        assert_eq!(changed.made, "2026-12-03T10:00:00Z".parse().unwrap());
    }
}
