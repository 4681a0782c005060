//! The local clock, watched: a new local day, and wall-clock times such as the 18:00 report
//! deadline or a reminder before it.
//!
//! The home screen shows *today's* visits and tasks and must turn the page at local midnight;
//! the report screen counts down to the deadline. Both depend on the user's zone with its
//! daylight-saving rules and on the device clock corrected by the offset to server time that
//! sync learns, so they are computed here, once, not in Kotlin and Swift separately.
//!
//! Phones suspend. The monotonic clock that timers run on may not advance while a phone
//! sleeps, and a user may change the wall clock, so the watch never trusts one long timer:
//! it naps for at most [`MAX_NAP`], re-reads the wall clock, and reports everything that
//! became due since it last looked. An event that fell due while the phone slept is reported
//! when it wakes, late but not lost, with the instant it was due.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveTime;
use fieldsales_core::time::SystemClock;
use fieldsales_core::{Clock, LocalDate, Timestamp, Zone};

use crate::error::FieldsalesError;
use crate::task::TaskHandle;
use crate::time::{time_of_day, zone};

/// The longest the watch sleeps before looking at the wall clock again.
const MAX_NAP: Duration = Duration::from_secs(30);

/// The largest clock correction accepted: a device clock a year off is broken, not skewed.
const MAX_CLOCK_OFFSET_MS: i64 = 366 * 24 * 3600 * 1000;

/// The most wall-clock times one watch follows.
const MAX_TIMES_OF_DAY: usize = 96;

/// Something that happened on the user's local clock.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum LocalTimeEvent {
    /// The local calendar day is now `date`: midnight passed, or the device
    /// clock was changed.
    DayChanged {
        /// The new local day.
        date: fieldsales_core::LocalDate,
    },
    /// The wall-clock time `time_of_day` passed on the local day `date`.
    TimeReached {
        /// The local day on which it passed.
        date: fieldsales_core::LocalDate,
        /// The watched time, as `HH:MM` (or `HH:MM:SS` when it has seconds).
        time_of_day: String,
        /// The instant it was due,: later than now when the phone slept.
        due_at: fieldsales_core::Timestamp,
    },
}

/// Receives the events of a local-clock watch. Called on a library thread, one event at a
/// time; hand the event to your UI thread and return quickly.
#[uniffi::export(foreign)]
pub trait LocalTimeListener: Send + Sync {
    /// One event, in the order they fell due.
    fn on_local_time(&self, event: LocalTimeEvent);
}

/// The device clock moved by the offset to server time that sync learns.
#[derive(Debug, Clone, Copy)]
struct CorrectedClock {
    offset_ms: i64,
}

impl CorrectedClock {
    fn new(offset_ms: i64) -> Result<Self, FieldsalesError> {
        if offset_ms.unsigned_abs() > MAX_CLOCK_OFFSET_MS.unsigned_abs() {
            return Err(FieldsalesError::InvalidInput {
                field: "clock_offset_ms".into(),
                detail: "server time minus device time, within ±366 days".into(),
            });
        }
        Ok(CorrectedClock { offset_ms })
    }
}

impl Clock for CorrectedClock {
    fn now(&self) -> Timestamp {
        SystemClock.now().plus_millis(self.offset_ms)
    }
}

/// What one watch follows: a zone and the wall-clock times of interest in it.
#[derive(Debug, Clone)]
struct LocalSchedule {
    zone: Zone,
    /// Sorted, without duplicates.
    times: Vec<NaiveTime>,
}

impl LocalSchedule {
    fn parse(zone_name: &str, times_of_day: &[String]) -> Result<Self, FieldsalesError> {
        let zone = zone("zone", zone_name)?;
        if times_of_day.len() > MAX_TIMES_OF_DAY {
            return Err(FieldsalesError::InvalidInput {
                field: "times_of_day".into(),
                detail: format!("at most {MAX_TIMES_OF_DAY} times of day"),
            });
        }
        let mut times = times_of_day
            .iter()
            .map(|t| time_of_day("times_of_day", t))
            .collect::<Result<Vec<_>, _>>()?;
        times.sort();
        times.dedup();
        Ok(LocalSchedule { zone, times })
    }

    /// The latest occurrence of `time` at or before `now`, with its local day.
    fn latest_occurrence(&self, time: NaiveTime, now: Timestamp) -> Option<(LocalDate, Timestamp)> {
        let today = now.local_date(&self.zone);
        [today, today.pred()]
            .into_iter()
            .map(|day| (day, day.at(time, &self.zone)))
            .find(|(_, at)| *at <= now)
    }

    /// Everything that fell due after `since` and at or before `now`, oldest first. A wall
    /// time passed several times in that span (a phone asleep for days) is reported once,
    /// for its latest occurrence.
    fn events_between(&self, since: Timestamp, now: Timestamp) -> Vec<LocalTimeEvent> {
        let mut due: Vec<(Timestamp, LocalTimeEvent)> = Vec::new();
        let today = now.local_date(&self.zone);
        if since.local_date(&self.zone) != today {
            // Forward over midnight, it happened at the start of today; a clock set back
            // across midnight makes it happen now.
            let at = today.start(&self.zone).max(since.min(now));
            due.push((at, LocalTimeEvent::DayChanged { date: today }));
        }
        for &time in &self.times {
            if let Some((day, at)) = self.latest_occurrence(time, now)
                && at > since
            {
                due.push((
                    at,
                    LocalTimeEvent::TimeReached {
                        date: day,
                        time_of_day: format_time_of_day(time),
                        due_at: at,
                    },
                ));
            }
        }
        // Stable: at the same instant the day change comes before the times of that day.
        due.sort_by_key(|(at, _)| *at);
        due.into_iter().map(|(_, event)| event).collect()
    }

    /// The next instant after `now` at which something falls due.
    fn next_due(&self, now: Timestamp) -> Timestamp {
        let today = now.local_date(&self.zone);
        let tomorrow = today.succ();
        let mut next = tomorrow.start(&self.zone);
        for &time in &self.times {
            let candidate = [today, tomorrow]
                .into_iter()
                .map(|day| day.at(time, &self.zone))
                .find(|at| *at > now);
            if let Some(at) = candidate {
                next = next.min(at);
            }
        }
        next
    }

    /// How long to sleep before looking again.
    fn nap(&self, now: Timestamp) -> Duration {
        let until_due = u64::try_from(self.next_due(now).millis_since(now)).unwrap_or(0);
        Duration::from_millis(until_due.max(1)).min(MAX_NAP)
    }
}

fn format_time_of_day(time: NaiveTime) -> String {
    use chrono::Timelike;
    if time.second() == 0 {
        time.format("%H:%M").to_string()
    } else {
        time.format("%H:%M:%S").to_string()
    }
}

/// Sleeps until something falls due after `since`, and returns it.
async fn wait_for_events(
    schedule: &LocalSchedule,
    clock: &dyn Clock,
    since: Timestamp,
) -> (Timestamp, Vec<LocalTimeEvent>) {
    loop {
        tokio::time::sleep(schedule.nap(clock.now())).await;
        let now = clock.now();
        let events = schedule.events_between(since, now);
        if !events.is_empty() {
            return (now, events);
        }
    }
}

/// Reports every event to `listener` until cancelled.
async fn watch(
    schedule: LocalSchedule,
    clock: Arc<dyn Clock>,
    listener: Arc<dyn LocalTimeListener>,
) {
    let mut since = clock.now();
    loop {
        let (now, events) = wait_for_events(&schedule, clock.as_ref(), since).await;
        for event in events {
            crate::task::deliver("local time", || listener.on_local_time(event));
        }
        since = now;
    }
}

/// Suspends until the local day changes or one of `times_of_day` (`HH:MM`) passes in `zone`,
/// and returns what fell due (usually one event; two when a watched time is midnight).
///
/// `clock_offset_ms` is server time minus device time as sync measured it (0 before the first
/// sync). Cancelling the call (cancelling the coroutine or the Swift task) stops the wait.
/// To follow the clock for a whole screen's life, use [`watch_local_times`], which misses
/// nothing between two events.
#[uniffi::export(async_runtime = "tokio")]
pub async fn next_local_time_events(
    zone: String,
    times_of_day: Vec<String>,
    clock_offset_ms: i64,
) -> Result<Vec<LocalTimeEvent>, FieldsalesError> {
    let schedule = LocalSchedule::parse(&zone, &times_of_day)?;
    let clock = CorrectedClock::new(clock_offset_ms)?;
    let (_, events) = wait_for_events(&schedule, &clock, clock.now()).await;
    Ok(events)
}

/// Follows the local clock in `zone` in the background and tells `listener` each time the
/// local day changes or one of `times_of_day` (`HH:MM`) passes, until the returned handle is
/// cancelled or dropped.
///
/// `clock_offset_ms` is server time minus device time as sync measured it (0 before the first
/// sync).
#[uniffi::export]
pub fn watch_local_times(
    zone: String,
    times_of_day: Vec<String>,
    clock_offset_ms: i64,
    listener: Arc<dyn LocalTimeListener>,
) -> Result<Arc<TaskHandle>, FieldsalesError> {
    let schedule = LocalSchedule::parse(&zone, &times_of_day)?;
    let clock = CorrectedClock::new(clock_offset_ms)?;
    TaskHandle::spawn(watch(schedule, Arc::new(clock), listener))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn at(rfc3339: &str) -> Timestamp {
        Timestamp::parse_rfc3339(rfc3339).unwrap()
    }

    fn schedule(zone: &str, times: &[&str]) -> LocalSchedule {
        let times: Vec<String> = times.iter().map(|t| t.to_string()).collect();
        LocalSchedule::parse(zone, &times).unwrap()
    }

    fn day_changed(date: &str) -> LocalTimeEvent {
        LocalTimeEvent::DayChanged {
            date: date.parse().unwrap(),
        }
    }

    fn reached(date: &str, time: &str, due: &str) -> LocalTimeEvent {
        LocalTimeEvent::TimeReached {
            date: date.parse().unwrap(),
            time_of_day: time.into(),
            due_at: at(due),
        }
    }

    #[test]
    fn a_rep_watching_the_deadline_is_told_once_it_passes() {
        let s = schedule("Asia/Shanghai", &["18:00", "17:30"]);
        assert_eq!(
            s.events_between(
                at("2026-03-10T17:59:59+08:00"),
                at("2026-03-10T18:00:00+08:00")
            ),
            vec![reached("2026-03-10", "18:00", "2026-03-10T18:00:00+08:00")]
        );
        assert!(
            s.events_between(
                at("2026-03-10T18:00:00+08:00"),
                at("2026-03-10T18:05:00+08:00")
            )
            .is_empty(),
            "the deadline is reported once"
        );
    }

    #[test]
    fn the_next_wake_up_is_the_reminder_then_the_deadline_then_midnight() {
        let s = schedule("Asia/Shanghai", &["18:00", "17:30"]);
        assert_eq!(
            s.next_due(at("2026-03-10T12:00:00+08:00")),
            at("2026-03-10T17:30:00+08:00")
        );
        assert_eq!(
            s.next_due(at("2026-03-10T17:30:00+08:00")),
            at("2026-03-10T18:00:00+08:00")
        );
        assert_eq!(
            s.next_due(at("2026-03-10T18:00:00+08:00")),
            at("2026-03-11T00:00:00+08:00")
        );
    }

    #[test]
    fn the_watch_never_naps_longer_than_half_a_minute() {
        let s = schedule("Asia/Shanghai", &[]);
        assert_eq!(s.nap(at("2026-03-10T12:00:00+08:00")), MAX_NAP);
        assert_eq!(
            s.nap(at("2026-03-10T23:59:59.250+08:00")),
            Duration::from_millis(750)
        );
    }

    #[test]
    fn a_phone_asleep_from_five_pm_to_after_midnight_hears_of_both_on_waking() {
        let s = schedule("Asia/Shanghai", &["18:00"]);
        assert_eq!(
            s.events_between(
                at("2026-03-10T17:00:00+08:00"),
                at("2026-03-11T00:10:00+08:00")
            ),
            vec![
                reached("2026-03-10", "18:00", "2026-03-10T18:00:00+08:00"),
                day_changed("2026-03-11"),
            ]
        );
    }

    #[test]
    fn a_phone_asleep_for_three_days_hears_of_each_watched_time_once() {
        let s = schedule("Asia/Shanghai", &["18:00"]);
        assert_eq!(
            s.events_between(
                at("2026-03-07T12:00:00+08:00"),
                at("2026-03-10T19:00:00+08:00")
            ),
            vec![
                day_changed("2026-03-10"),
                reached("2026-03-10", "18:00", "2026-03-10T18:00:00+08:00"),
            ]
        );
    }

    #[test]
    fn a_clock_set_back_across_midnight_changes_the_day_back() {
        let s = schedule("Asia/Shanghai", &["18:00"]);
        assert_eq!(
            s.events_between(
                at("2026-03-11T00:05:00+08:00"),
                at("2026-03-10T23:55:00+08:00")
            ),
            vec![day_changed("2026-03-10")]
        );
    }

    #[test]
    fn a_watched_midnight_comes_after_the_day_change() {
        let s = schedule("Asia/Shanghai", &["00:00"]);
        assert_eq!(
            s.events_between(
                at("2026-03-10T23:59:59+08:00"),
                at("2026-03-11T00:00:00+08:00")
            ),
            vec![
                day_changed("2026-03-11"),
                reached("2026-03-11", "00:00", "2026-03-11T00:00:00+08:00"),
            ]
        );
    }

    #[test]
    fn a_reminder_skipped_by_spring_forward_fires_after_the_gap() {
        // 02:30 does not exist in New York on 2026-03-08; it falls due at 03:00 EDT.
        let s = schedule("America/New_York", &["02:30"]);
        assert_eq!(
            s.next_due(at("2026-03-08T01:59:00-05:00")),
            at("2026-03-08T03:00:00-04:00")
        );
        assert_eq!(
            s.events_between(
                at("2026-03-08T01:59:00-05:00"),
                at("2026-03-08T03:00:00-04:00")
            ),
            vec![reached("2026-03-08", "02:30", "2026-03-08T03:00:00-04:00")]
        );
    }

    #[test]
    fn bad_watch_requests_are_invalid_input_naming_the_argument() {
        let field_of = |e: FieldsalesError| match e {
            FieldsalesError::InvalidInput { field, .. } => field,
            other => panic!("expected InvalidInput, got {other:?}"),
        };
        let err = LocalSchedule::parse("Asia/Shanghai", &["18:00".into(), "25:00".into()]);
        assert_eq!(field_of(err.unwrap_err()), "times_of_day");
        let too_many = vec!["12:00".to_string(); MAX_TIMES_OF_DAY + 1];
        assert_eq!(
            field_of(LocalSchedule::parse("UTC", &too_many).unwrap_err()),
            "times_of_day"
        );
        assert_eq!(
            field_of(LocalSchedule::parse("Shanghai", &[]).unwrap_err()),
            "zone"
        );
        assert_eq!(
            field_of(CorrectedClock::new(i64::MIN).unwrap_err()),
            "clock_offset_ms"
        );
    }

    /// Wall time that follows tokio's clock, so a paused test runtime can fly through a day.
    #[derive(Debug)]
    struct TestClock {
        start_wall: Timestamp,
        start: tokio::time::Instant,
    }

    impl Clock for TestClock {
        fn now(&self) -> Timestamp {
            let elapsed = self.start.elapsed().as_millis();
            self.start_wall
                .plus_millis(i64::try_from(elapsed).unwrap_or(i64::MAX))
        }
    }

    #[derive(Default)]
    struct Recorder(Mutex<Vec<LocalTimeEvent>>);

    impl LocalTimeListener for Recorder {
        fn on_local_time(&self, event: LocalTimeEvent) {
            self.0.lock().unwrap().push(event);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_afternoon_and_a_night_on_a_reps_phone() {
        let clock = Arc::new(TestClock {
            start_wall: at("2026-03-10T15:00:00+08:00"),
            start: tokio::time::Instant::now(),
        });
        let recorder = Arc::new(Recorder::default());
        let watching = tokio::spawn(watch(
            schedule("Asia/Shanghai", &["17:30", "18:00"]),
            clock,
            recorder.clone(),
        ));
        tokio::time::sleep(Duration::from_secs(10 * 3600)).await; // until 01:00
        watching.abort();
        assert_eq!(
            *recorder.0.lock().unwrap(),
            vec![
                reached("2026-03-10", "17:30", "2026-03-10T17:30:00+08:00"),
                reached("2026-03-10", "18:00", "2026-03-10T18:00:00+08:00"),
                day_changed("2026-03-11"),
            ]
        );
    }

    struct Throwing;

    impl LocalTimeListener for Throwing {
        fn on_local_time(&self, _event: LocalTimeEvent) {
            panic!("a listener bug in the app");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_listener_that_throws_does_not_end_the_watch() {
        let clock = Arc::new(TestClock {
            start_wall: at("2026-03-10T17:00:00+08:00"),
            start: tokio::time::Instant::now(),
        });
        let watching = tokio::spawn(watch(
            schedule("Asia/Shanghai", &["18:00"]),
            clock,
            Arc::new(Throwing),
        ));
        tokio::time::sleep(Duration::from_secs(2 * 3600)).await;
        assert!(!watching.is_finished(), "the watch died with its listener");
        watching.abort();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn waiting_for_midnight_returns_the_new_day() {
        // Put "now" 500 ms before the next Shanghai midnight through the clock offset, the way
        // a device whose clock is behind the server's sees it.
        let zone: Zone = "Asia/Shanghai".parse().unwrap();
        let device_now = SystemClock.now();
        let midnight = device_now.local_date(&zone).succ().start(&zone);
        let offset = midnight.millis_since(device_now) - 500;
        let events = next_local_time_events("Asia/Shanghai".into(), vec![], offset)
            .await
            .unwrap();
        assert_eq!(
            events,
            vec![day_changed(&midnight.local_date(&zone).to_string())]
        );
    }
}
