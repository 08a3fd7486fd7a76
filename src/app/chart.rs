//! The sync history chart as numbers: scales, ticks, point positions and a text summary. The
//! component only turns these into SVG elements, so the server draws the whole chart.

use chrono::{DateTime, Duration, Utc};

use crate::app::format::{format_duration_ms, group_thousands};
use crate::model::{ChartPoint, SyncStatus};

/// The SVG's coordinate system (viewBox), in user units.
pub const WIDTH: f64 = 720.0;
pub const PANEL_HEIGHT: f64 = 110.0;
pub const LEFT: f64 = 64.0;
pub const RIGHT: f64 = 16.0;
/// Top of the duration panel and of the device panel.
pub const DURATION_TOP: f64 = 24.0;
pub const DEVICES_TOP: f64 = DURATION_TOP + PANEL_HEIGHT + 36.0;
pub const HEIGHT: f64 = DEVICES_TOP + PANEL_HEIGHT + 28.0;
/// Days the chart covers.
pub const DAYS: i64 = 30;

/// A tick on a value axis: where it is and what it reads.
#[derive(Clone, Debug, PartialEq)]
pub struct Tick {
    pub y: f64,
    pub label: String,
}

/// A date tick on the time axis.
#[derive(Clone, Debug, PartialEq)]
pub struct DateTick {
    pub x: f64,
    pub label: String,
}

/// One run, placed.
#[derive(Clone, Debug, PartialEq)]
pub struct Placed {
    pub x: f64,
    pub duration_y: f64,
    pub devices_y: f64,
    pub failed: bool,
    /// "2026-11-24 09:05 UTC, Full sync, 4 s, 137 devices" (a tooltip).
    pub title: String,
}

/// Everything the chart component draws.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    pub points: Vec<Placed>,
    pub duration_ticks: Vec<Tick>,
    pub device_ticks: Vec<Tick>,
    pub date_ticks: Vec<DateTick>,
    /// The device counts as an SVG polyline `points` attribute.
    pub devices_line: String,
    /// One or two sentences that say what the chart shows.
    pub summary: String,
}

/// Round tick values from 0 to at least `max`: steps of 1, 2 or 5 times a power of ten, about
/// `target` of them. A `max` of 0 still gives an axis (0 and 1).
pub fn nice_ticks(max: f64, target: usize) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let rough = max / target.max(1) as f64;
    let magnitude = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * magnitude);
    let count = (max / step).ceil() as usize;
    (0..=count).map(|i| i as f64 * step).collect()
}

/// Maps `value` in `0..=top` to a y in a panel starting at `panel_top` (larger values higher).
pub fn scale_y(value: f64, top: f64, panel_top: f64) -> f64 {
    let fraction = if top > 0.0 {
        (value / top).clamp(0.0, 1.0)
    } else {
        0.0
    };
    round1(panel_top + PANEL_HEIGHT * (1.0 - fraction))
}

/// Maps a time in the last [`DAYS`] days before `now` to an x.
pub fn scale_x(at: DateTime<Utc>, now: DateTime<Utc>) -> f64 {
    let span = Duration::days(DAYS).num_seconds() as f64;
    let age = (now - at).num_seconds() as f64;
    let fraction = (1.0 - age / span).clamp(0.0, 1.0);
    round1(LEFT + (WIDTH - LEFT - RIGHT) * fraction)
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Lays out the runs of the last 30 days (oldest first) for drawing.
pub fn layout(points: &[ChartPoint], now: DateTime<Utc>) -> Chart {
    let since = now - Duration::days(DAYS);
    let recent: Vec<&ChartPoint> = points.iter().filter(|p| p.started_at >= since).collect();

    let max_secs = recent
        .iter()
        .map(|p| p.duration_ms as f64 / 1000.0)
        .fold(0.0, f64::max);
    let secs_ticks = nice_ticks(max_secs, 4);
    let secs_top = secs_ticks.last().copied().unwrap_or(1.0);
    let max_devices = recent
        .iter()
        .map(|p| p.devices_seen as f64)
        .fold(0.0, f64::max);
    let device_values = nice_ticks(max_devices, 4);
    let devices_top = device_values.last().copied().unwrap_or(1.0);

    let placed: Vec<Placed> = recent
        .iter()
        .map(|p| Placed {
            x: scale_x(p.started_at, now),
            duration_y: scale_y(p.duration_ms as f64 / 1000.0, secs_top, DURATION_TOP),
            devices_y: scale_y(p.devices_seen as f64, devices_top, DEVICES_TOP),
            failed: matches!(p.status, SyncStatus::Failed | SyncStatus::Interrupted),
            title: format!(
                "{}, {}, {}, {} devices",
                crate::app::format::format_utc(p.started_at),
                crate::app::format::sync_kind_label(p.kind),
                format_duration_ms(p.duration_ms),
                group_thousands(p.devices_seen)
            ),
        })
        .collect();
    let devices_line = placed
        .iter()
        .map(|p| format!("{},{}", p.x, p.devices_y))
        .collect::<Vec<_>>()
        .join(" ");

    Chart {
        duration_ticks: secs_ticks
            .iter()
            .map(|s| Tick {
                y: scale_y(*s, secs_top, DURATION_TOP),
                label: format_duration_ms((s * 1000.0).round() as u64),
            })
            .collect(),
        device_ticks: device_values
            .iter()
            .map(|d| Tick {
                y: scale_y(*d, devices_top, DEVICES_TOP),
                label: group_thousands(d.round() as u64),
            })
            .collect(),
        date_ticks: (0..=DAYS / 7)
            .map(|w| {
                let at = now - Duration::days(DAYS - w * 7);
                DateTick {
                    x: scale_x(at, now),
                    label: at.format("%b %-d").to_string(),
                }
            })
            .collect(),
        devices_line,
        summary: summary(&recent),
        points: placed,
    }
}

/// "12 runs in the last 30 days. Duration from 2 s to 1 min 4 s (latest 3 s); devices seen
/// from 130 to 137 (latest 137)."
pub fn summary(points: &[&ChartPoint]) -> String {
    let (Some(first), Some(latest)) = (points.first(), points.last()) else {
        return "No finished runs in the last 30 days.".into();
    };
    let runs = if points.len() == 1 {
        "1 run".to_owned()
    } else {
        format!("{} runs", points.len())
    };
    let (mut min_ms, mut max_ms) = (first.duration_ms, first.duration_ms);
    let (mut min_dev, mut max_dev) = (first.devices_seen, first.devices_seen);
    for p in points {
        min_ms = min_ms.min(p.duration_ms);
        max_ms = max_ms.max(p.duration_ms);
        min_dev = min_dev.min(p.devices_seen);
        max_dev = max_dev.max(p.devices_seen);
    }
    format!(
        "{runs} in the last 30 days. Duration from {} to {} (latest {}); devices seen from {} to {} (latest {}).",
        format_duration_ms(min_ms),
        format_duration_ms(max_ms),
        format_duration_ms(latest.duration_ms),
        group_thousands(min_dev),
        group_thousands(max_dev),
        group_thousands(latest.devices_seen),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SyncKind;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
    }

    fn point(days_ago: i64, ms: u64, devices: u64) -> ChartPoint {
        ChartPoint {
            started_at: now() - Duration::days(days_ago),
            kind: SyncKind::DeltaSync,
            status: SyncStatus::Succeeded,
            duration_ms: ms,
            devices_seen: devices,
        }
    }

    #[test]
    fn ticks_are_round_and_cover_the_maximum() {
        assert_eq!(nice_ticks(137.0, 4), vec![0.0, 50.0, 100.0, 150.0]);
        assert_eq!(nice_ticks(4.2, 4), vec![0.0, 2.0, 4.0, 6.0]);
        assert_eq!(nice_ticks(100_000.0, 4), vec![0.0, 50_000.0, 100_000.0]);
        assert_eq!(nice_ticks(0.0, 4), vec![0.0, 0.5, 1.0]);
        assert_eq!(nice_ticks(f64::NAN, 4), vec![0.0, 0.5, 1.0]);
        for max in [0.3, 7.0, 64.0, 999.0, 12_345.0] {
            let t = nice_ticks(max, 4);
            assert!(*t.last().unwrap() >= max && t.len() <= 7, "{max}: {t:?}");
        }
    }

    #[test]
    fn values_and_times_land_inside_the_plot() {
        assert_eq!(
            scale_y(0.0, 10.0, DURATION_TOP),
            DURATION_TOP + PANEL_HEIGHT
        );
        assert_eq!(scale_y(10.0, 10.0, DURATION_TOP), DURATION_TOP);
        assert_eq!(scale_y(99.0, 10.0, DURATION_TOP), DURATION_TOP);
        assert_eq!(scale_y(5.0, 0.0, DEVICES_TOP), DEVICES_TOP + PANEL_HEIGHT);
        assert_eq!(scale_x(now(), now()), WIDTH - RIGHT);
        assert_eq!(scale_x(now() - Duration::days(30), now()), LEFT);
        assert_eq!(scale_x(now() - Duration::days(90), now()), LEFT);
    }

    #[test]
    fn the_layout_keeps_the_last_30_days_and_says_what_it_shows() {
        let points = [
            point(40, 1_000, 10),
            point(20, 64_000, 130),
            point(1, 3_000, 137),
        ];
        let chart = layout(&points, now());
        assert_eq!(chart.points.len(), 2);
        assert!(chart.points[0].x < chart.points[1].x);
        assert!(
            chart.points[0].duration_y < chart.points[1].duration_y,
            "longer run is higher"
        );
        assert_eq!(chart.devices_line.split(' ').count(), 2);
        assert_eq!(chart.date_ticks.len(), 5);
        assert_eq!(
            chart.device_ticks.last().map(|t| t.label.as_str()),
            Some("150")
        );
        assert_eq!(
            chart.summary,
            "2 runs in the last 30 days. Duration from 3 s to 1 min 4 s (latest 3 s); \
             devices seen from 130 to 137 (latest 137)."
        );
        assert_eq!(
            layout(&[], now()).summary,
            "No finished runs in the last 30 days."
        );
    }
}
