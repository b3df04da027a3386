//! Conditional `GET` (RFC 9110 §13): an answer's validators (`ETag`, `Last-Modified`) and
//! whether a request's `If-None-Match` / `If-Modified-Since` make it a `304 Not Modified`, so a
//! calendar client that polls every few hours gets a few header bytes, not the feed.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use sha2::{Digest, Sha256};

/// The format of an HTTP date (IMF-fixdate, always GMT).
const HTTP_DATE: &str = "%a, %d %b %Y %H:%M:%S GMT";

/// A body with its validators and the headers every answer carries.
pub struct Cacheable {
    /// `text/html; charset=utf-8`, `text/calendar; charset=utf-8`, ….
    pub content_type: &'static str,
    /// `Cache-Control`.
    pub cache_control: &'static str,
    /// The body.
    pub body: axum::body::Bytes,
    /// A strong `ETag` of the body (see [`etag_of`]).
    pub etag: String,
    /// When the content last changed, if known.
    pub last_modified: Option<Timestamp>,
    /// More headers (security policy, …).
    pub extra: Vec<(header::HeaderName, HeaderValue)>,
}

/// A strong entity tag for `body`: a quoted digest.
pub fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("\"{}\"", hex::encode(&digest[..16]))
}

/// `t` as an HTTP date, in whole seconds.
pub fn http_date(t: Timestamp) -> String {
    t.strftime(HTTP_DATE).to_string()
}

/// An HTTP date (IMF-fixdate) read back.
fn parse_http_date(text: &str) -> Option<Timestamp> {
    let civil = jiff::civil::DateTime::strptime(HTTP_DATE, text).ok()?;
    Some(civil.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp())
}

impl Cacheable {
    /// `200` with the body, or `304` without one when the request's validators match (an
    /// `If-None-Match` decides alone when present, as RFC 9110 §13.1.3 says).
    pub fn answer(self, request: &HeaderMap) -> Response {
        let not_modified = match request.get(header::IF_NONE_MATCH) {
            Some(tags) => tags
                .to_str()
                .is_ok_and(|tags| tag_list_matches(tags, &self.etag)),
            None => request
                .get(header::IF_MODIFIED_SINCE)
                .and_then(|since| since.to_str().ok())
                .and_then(|since| parse_http_date(since.trim()))
                .zip(self.last_modified)
                .is_some_and(|(since, modified)| modified.as_second() <= since.as_second()),
        };
        let mut response = if not_modified {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            (StatusCode::OK, self.body).into_response()
        };
        let headers = response.headers_mut();
        if !not_modified {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(self.content_type),
            );
        }
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(self.cache_control),
        );
        if let Ok(etag) = HeaderValue::from_str(&self.etag) {
            headers.insert(header::ETAG, etag);
        }
        if let Some(modified) = self.last_modified
            && let Ok(value) = HeaderValue::from_str(&http_date(modified))
        {
            headers.insert(header::LAST_MODIFIED, value);
        }
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        for (name, value) in self.extra {
            headers.insert(name, value);
        }
        response
    }
}

/// Whether an `If-None-Match` list (`*`, or tags separated by commas, weak ones `W/"…"`) names
/// `etag` (weak comparison, as `GET` uses).
fn tag_list_matches(tags: &str, etag: &str) -> bool {
    tags.split(',').map(str::trim).any(|tag| {
        tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag.trim_start_matches("W/")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cacheable() -> Cacheable {
        Cacheable {
            content_type: "text/calendar; charset=utf-8",
            cache_control: "public, max-age=3600",
            body: axum::body::Bytes::from_static(b"BEGIN:VCALENDAR"),
            etag: etag_of(b"BEGIN:VCALENDAR"),
            last_modified: Some("2026-12-01T10:00:00Z".parse().unwrap()),
            extra: Vec::new(),
        }
    }

    fn status_for(headers: &[(&str, &str)]) -> StatusCode {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(
                header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        cacheable().answer(&map).status()
    }

    #[test]
    fn validators_decide_between_200_and_304() {
        let etag = cacheable().etag;
        let weak = format!("W/{etag}");
        let list = format!("\"other\", {etag}");
        let cases: [(&[(&str, &str)], StatusCode); 9] = [
            (&[], StatusCode::OK),
            (&[("if-none-match", &etag)], StatusCode::NOT_MODIFIED),
            (&[("if-none-match", &weak)], StatusCode::NOT_MODIFIED),
            (&[("if-none-match", &list)], StatusCode::NOT_MODIFIED),
            (&[("if-none-match", "*")], StatusCode::NOT_MODIFIED),
            (&[("if-none-match", "\"other\"")], StatusCode::OK),
            (
                &[("if-modified-since", "Tue, 01 Dec 2026 10:00:00 GMT")],
                StatusCode::NOT_MODIFIED,
            ),
            (
                &[("if-modified-since", "Tue, 01 Dec 2026 09:59:59 GMT")],
                StatusCode::OK,
            ),
            // If-None-Match decides alone.
            (
                &[
                    ("if-none-match", "\"other\""),
                    ("if-modified-since", "Tue, 01 Dec 2026 10:00:00 GMT"),
                ],
                StatusCode::OK,
            ),
        ];
        for (headers, expected) in cases {
            assert_eq!(status_for(headers), expected, "{headers:?}");
        }
    }

    #[test]
    fn http_dates_are_imf_fixdate() {
        let t: Timestamp = "2026-12-01T10:00:00.9Z".parse().unwrap();
        assert_eq!(http_date(t), "Tue, 01 Dec 2026 10:00:00 GMT");
    }
}
