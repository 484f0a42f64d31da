//! When and how long to wait before retrying a request.
//!
//! [`RetryPolicy`] is the user-facing knob; the transport asks it for
//! [`next_delay`](RetryPolicy::next_delay) after each transient failure that happened before the
//! first body byte. Streams are never retried once they have started.
//!
//! Only gateway-level statuses are retried ([`should_retry_status`]: 429, 502, 503, 504). A 500
//! from an inference server usually means the model itself failed on this input, and retrying a
//! paid, non-idempotent generation would bill it again for the same failure.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;

/// Retry behaviour for transient failures (429, 502, 503, 504, connection errors).
///
/// The default makes up to **3 retries** (4 attempts), waiting 0.5 s, 1 s, 2 s (each with equal
/// jitter, so between half and all of that), capped at 8 s each; a server's `Retry-After` is
/// followed instead when present, up to 60 s. Three retries ride out a short rate-limit window
/// or a gateway restart while adding at most a few seconds to a call that is going to fail
/// anyway; a longer `Retry-After` than the cap is reported to the caller as
/// [`Error::RateLimited`](crate::error::Error::RateLimited) rather than slept through.
///
/// ```
/// use std::time::Duration;
/// use hf_inference::http::retry::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .max_retries(5)
///     .initial_backoff(Duration::from_millis(200))
///     .max_backoff(Duration::from_secs(4))
///     .jitter(false);
/// assert_eq!(policy.backoff(0, None), Duration::from_millis(200));
/// assert_eq!(policy.backoff(1, None), Duration::from_millis(400));
/// assert_eq!(policy.backoff(9, None), Duration::from_secs(4));
/// // The server's Retry-After wins over the computed backoff.
/// assert_eq!(policy.backoff(0, Some(Duration::from_secs(3))), Duration::from_secs(3));
///
/// assert_eq!(RetryPolicy::disabled().next_delay(0, None), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
    jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn disabled() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// How many times a request may be retried after its first attempt (0 disables retries).
    pub fn max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// The wait before the first retry; it doubles with every further retry.
    pub fn initial_backoff(mut self, initial_backoff: Duration) -> Self {
        self.initial_backoff = initial_backoff;
        self
    }

    /// The longest computed wait between two attempts.
    pub fn max_backoff(mut self, max_backoff: Duration) -> Self {
        self.max_backoff = max_backoff;
        self
    }

    /// The longest server-requested wait (`Retry-After`) that is honoured by sleeping.
    ///
    /// [`backoff`](Self::backoff) caps a longer request at this value;
    /// [`next_delay`](Self::next_delay) gives up instead, so that the caller sees
    /// [`Error::RateLimited`](crate::error::Error::RateLimited) with the server's full
    /// `retry_after` and can decide.
    pub fn max_retry_after(mut self, max_retry_after: Duration) -> Self {
        self.max_retry_after = max_retry_after;
        self
    }

    /// Whether to randomise waits (on by default). Equal jitter is used: a computed wait `d`
    /// becomes a uniform value in `[d/2, d]`, which spreads clients apart without ever retrying
    /// almost immediately. A server's `Retry-After` gets up to 10 % (at most 1 s) added.
    pub fn jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// Whether this policy retries at all.
    pub fn is_enabled(&self) -> bool {
        self.max_retries > 0
    }

    /// The wait before retry number `attempt + 1` (`attempt` counts from 0).
    ///
    /// Without `retry_after`: `initial_backoff · 2^attempt`, capped at `max_backoff`, with
    /// jitter if enabled. With `retry_after`: that value, capped at `max_retry_after`, plus a
    /// little jitter if enabled.
    pub fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        match retry_after {
            Some(wait) => {
                let wait = wait.min(self.max_retry_after);
                if self.jitter {
                    let spread = (wait / 10).min(Duration::from_secs(1));
                    wait + random_fraction(spread)
                } else {
                    wait
                }
            }
            None => {
                let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
                let wait = self
                    .initial_backoff
                    .checked_mul(factor)
                    .unwrap_or(self.max_backoff)
                    .min(self.max_backoff);
                if self.jitter {
                    let half = wait / 2;
                    half + random_fraction(wait - half)
                } else {
                    wait
                }
            }
        }
    }

    /// What to do after failed attempt number `attempt` (counting from 0) with a retryable
    /// outcome: `Some(wait)` to sleep and retry, `None` to give up and report the failure.
    ///
    /// Gives up when the retries are spent, or when the server asked for a longer wait than
    /// `max_retry_after`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use hf_inference::http::retry::RetryPolicy;
    ///
    /// let policy = RetryPolicy::default().max_retries(2).jitter(false);
    /// assert_eq!(policy.next_delay(0, None), Some(Duration::from_millis(500)));
    /// assert_eq!(policy.next_delay(1, None), Some(Duration::from_secs(1)));
    /// assert_eq!(policy.next_delay(2, None), None);
    /// assert_eq!(policy.next_delay(0, Some(Duration::from_secs(3600))), None);
    /// ```
    pub fn next_delay(&self, attempt: u32, retry_after: Option<Duration>) -> Option<Duration> {
        if attempt >= self.max_retries {
            return None;
        }
        if retry_after.is_some_and(|wait| wait > self.max_retry_after) {
            return None;
        }
        Some(self.backoff(attempt, retry_after))
    }
}

/// A uniformly random duration in `[0, max]`.
fn random_fraction(max: Duration) -> Duration {
    let nanos = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(fastrand::u64(0..=nanos))
}

/// Whether a response status is worth retrying: 429 (rate limited), 502 (bad gateway),
/// 503 (unavailable, also "model loading") and 504 (gateway timeout).
///
/// ```
/// use hf_inference::http::retry::should_retry_status;
///
/// assert!(should_retry_status(503));
/// assert!(!should_retry_status(500));
/// assert!(!should_retry_status(400));
/// ```
pub fn should_retry_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// The server-requested wait in a response's headers: `retry-after-ms` (milliseconds, sent by
/// some OpenAI-compatible servers) or `Retry-After` (seconds or an HTTP date).
///
/// Only meaningful on a retryable status: some providers send `Retry-After` on every
/// successful response too (Together on 200s; Black Forest Labs on its polls).
pub fn retry_after_from_headers(headers: &HeaderMap) -> Option<Duration> {
    let millis = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
        .map(|ms| Duration::from_secs_f64((ms / 1000.0).min(u32::MAX as f64)));
    millis.or_else(|| {
        let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
        parse_retry_after(value, SystemTime::now())
    })
}

/// Parses a `Retry-After` value: delay seconds (`"120"`; fractional seconds are accepted too)
/// or an HTTP date (`"Wed, 21 Oct 2015 07:28:00 GMT"`, also the obsolete RFC 850 and asctime
/// forms), relative to `now`. A date in the past means no wait. Returns `None` for anything
/// else.
///
/// ```
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
/// use hf_inference::http::retry::parse_retry_after;
///
/// let now = UNIX_EPOCH + Duration::from_secs(1_445_412_470); // 2015-10-21 07:27:50 UTC
/// assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
/// assert_eq!(
///     parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
///     Some(Duration::from_secs(10)),
/// );
/// assert_eq!(parse_retry_after("soon", now), None);
/// ```
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        // All digits: a (possibly huge) number of seconds.
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    if value.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let secs: f64 = value.parse().ok()?;
        return (secs.is_finite() && secs >= 0.0)
            .then(|| Duration::from_secs_f64(secs.min(u32::MAX as f64)));
    }
    let at = parse_http_date(value)?;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(at.saturating_sub(now)))
}

/// Parses an HTTP date (RFC 9110 §5.6.7) into seconds since the Unix epoch.
fn parse_http_date(value: &str) -> Option<u64> {
    let parts: Vec<&str> = value.split_ascii_whitespace().collect();
    let (day, month, year, time) = match parts.as_slice() {
        // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
        [weekday, day, month, year, time, "GMT"] if weekday.ends_with(',') => {
            (day.parse().ok()?, *month, year.parse().ok()?, *time)
        }
        // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
        [weekday, date, time, "GMT"] if weekday.ends_with(',') => {
            let mut it = date.split('-');
            let day = it.next()?.parse().ok()?;
            let month = it.next()?;
            let yy: u64 = it.next()?.parse().ok()?;
            if it.next().is_some() {
                return None;
            }
            let year = if yy < 100 {
                if yy < 70 { 2000 + yy } else { 1900 + yy }
            } else {
                yy
            };
            (day, month, year, *time)
        }
        // asctime: Sun Nov  6 08:49:37 1994
        [_weekday, month, day, time, year] => {
            (day.parse().ok()?, *month, year.parse().ok()?, *time)
        }
        _ => return None,
    };
    let month = month_number(month)?;
    let mut hms = time.split(':');
    let hour: u64 = hms.next()?.parse().ok()?;
    let minute: u64 = hms.next()?.parse().ok()?;
    let second: u64 = hms.next()?.parse().ok()?;
    if hms.next().is_some() || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    if !(1..=31).contains(&day) || !(1970..=9999).contains(&year) {
        return None;
    }
    let days = days_since_epoch(year, month, day);
    Some(days * 86_400 + hour * 3_600 + minute * 60 + second)
}

fn month_number(name: &str) -> Option<u64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    MONTHS
        .iter()
        .position(|m| m.eq_ignore_ascii_case(name))
        .map(|i| i as u64 + 1)
}

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian; `year >= 1970`).
fn days_since_epoch(year: u64, month: u64, day: u64) -> u64 {
    // Shift the year to start in March so the leap day is the last day of the year.
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let year_of_era = y % 400;
    let day_of_year = (153 * m + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn ms(m: u64) -> Duration {
        Duration::from_millis(m)
    }

    #[test]
    fn default_is_three_retries_from_half_a_second() {
        let p = RetryPolicy::default().jitter(false);
        assert!(p.is_enabled());
        assert_eq!(p.next_delay(0, None), Some(ms(500)));
        assert_eq!(p.next_delay(1, None), Some(secs(1)));
        assert_eq!(p.next_delay(2, None), Some(secs(2)));
        assert_eq!(p.next_delay(3, None), None);
    }

    #[test]
    fn exponential_and_capped_without_jitter() {
        let p = RetryPolicy::default()
            .initial_backoff(ms(100))
            .max_backoff(secs(1))
            .jitter(false);
        let got: Vec<_> = (0..6).map(|a| p.backoff(a, None)).collect();
        assert_eq!(got, [ms(100), ms(200), ms(400), ms(800), secs(1), secs(1)]);
        // Huge attempt numbers neither overflow nor panic.
        assert_eq!(p.backoff(u32::MAX, None), secs(1));
        let big = RetryPolicy::default()
            .initial_backoff(Duration::MAX)
            .max_backoff(Duration::MAX)
            .jitter(false);
        assert_eq!(big.backoff(40, None), Duration::MAX);
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let p = RetryPolicy::default().jitter(false);
        assert_eq!(p.backoff(0, Some(secs(5))), secs(5));
        // Shorter than the computed backoff: the server knows best.
        assert_eq!(p.backoff(2, Some(Duration::ZERO)), Duration::ZERO);
        // Longer than the cap: backoff caps, next_delay gives up.
        assert_eq!(p.backoff(0, Some(secs(3600))), secs(60));
        assert_eq!(p.next_delay(0, Some(secs(3600))), None);
        assert_eq!(p.next_delay(0, Some(secs(60))), Some(secs(60)));
        let p = p.max_retry_after(secs(10));
        assert_eq!(p.backoff(0, Some(secs(11))), secs(10));
    }

    #[test]
    fn disabled_never_retries() {
        let p = RetryPolicy::disabled();
        assert!(!p.is_enabled());
        assert_eq!(p.next_delay(0, None), None);
        assert_eq!(p.next_delay(0, Some(secs(1))), None);
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let p = RetryPolicy::default()
            .initial_backoff(ms(100))
            .max_backoff(secs(2));
        fastrand::seed(7);
        for attempt in 0..8 {
            let full = ms(100 * (1u64 << attempt)).min(secs(2));
            let mut distinct = std::collections::HashSet::new();
            for _ in 0..200 {
                let d = p.backoff(attempt, None);
                assert!(d >= full / 2 && d <= full, "{attempt}: {d:?} vs {full:?}");
                distinct.insert(d);
            }
            assert!(distinct.len() > 1, "jitter should vary");
        }
        for _ in 0..200 {
            let d = p.backoff(0, Some(secs(4)));
            assert!(d >= secs(4) && d <= secs(4) + ms(400), "{d:?}");
            let d = p.backoff(0, Some(secs(60)));
            assert!(d >= secs(60) && d <= secs(61), "{d:?}");
        }
        assert_eq!(p.backoff(0, Some(Duration::ZERO)), Duration::ZERO);
    }

    #[test]
    fn retryable_statuses() {
        for s in [429, 502, 503, 504] {
            assert!(should_retry_status(s), "{s}");
        }
        for s in [200, 400, 401, 403, 404, 408, 422, 500, 501] {
            assert!(!should_retry_status(s), "{s}");
        }
    }

    #[test]
    fn retry_after_forms() {
        // 1994-11-06 08:49:37 UTC
        let at = UNIX_EPOCH + secs(784_111_777);
        let before = at - secs(30);
        assert_eq!(parse_retry_after("0", before), Some(Duration::ZERO));
        assert_eq!(parse_retry_after(" 7 ", before), Some(secs(7)));
        assert_eq!(parse_retry_after("1.5", before), Some(ms(1500)));
        assert_eq!(
            parse_retry_after("99999999999999999999999", before),
            Some(Duration::from_secs(u64::MAX))
        );
        for form in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse_retry_after(form, before), Some(secs(30)), "{form}");
            // In the past: no wait.
            assert_eq!(
                parse_retry_after(form, at + secs(5)),
                Some(Duration::ZERO),
                "{form}"
            );
        }
        for bad in [
            "",
            "soon",
            "-1",
            "1e3",
            "1.2.3",
            "NaN",
            "Sun, 06 Nov 1994 25:49:37 GMT",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 PST",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 06 Nov 1969 08:49:37 GMT",
        ] {
            assert_eq!(parse_retry_after(bad, before), None, "{bad:?}");
        }
    }

    #[test]
    fn http_dates_match_known_timestamps() {
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(1_445_412_480)
        );
        // Leap day.
        assert_eq!(
            parse_http_date("Thu, 29 Feb 2024 12:00:00 GMT"),
            Some(1_709_208_000)
        );
        assert_eq!(
            parse_http_date("Fri, 01 Mar 2024 00:00:00 GMT"),
            Some(1_709_251_200)
        );
        assert_eq!(
            parse_http_date("Fri, 31 Dec 2199 23:59:59 GMT"),
            Some(7_258_118_399)
        );
    }

    #[test]
    fn retry_after_from_headers_prefers_ms() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after_from_headers(&h), None);
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(retry_after_from_headers(&h), Some(secs(2)));
        h.insert("retry-after-ms", HeaderValue::from_static("1500"));
        assert_eq!(retry_after_from_headers(&h), Some(ms(1500)));
        h.insert("retry-after-ms", HeaderValue::from_static("garbage"));
        assert_eq!(retry_after_from_headers(&h), Some(secs(2)));
        h.insert("retry-after", HeaderValue::from_static("later"));
        assert_eq!(retry_after_from_headers(&h), None);
    }
}
