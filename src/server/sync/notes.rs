//! What a run notices on its way: Exchange's warnings and the parts that only partly worked.

use chrono::{DateTime, Utc};

use super::super::db::sync_runs::RunError;
use super::super::exchange::ExchangeError;

/// Most distinct warnings kept per run.
const MAX_WARNINGS: usize = 100;

/// Warnings and partial failures of one run.
#[derive(Debug, Default)]
pub(crate) struct Notes {
    pub warnings: Vec<String>,
    /// The first partial failure (what the ledger shows as the reason).
    first: Option<RunError>,
    /// Partial failures other than mailboxes (a part of the configuration, the device list).
    parts: Vec<String>,
    mailboxes_failed: u64,
    /// Mailboxes whose statistics came back empty although the device list has devices there.
    mailboxes_empty: u64,
}

impl Notes {
    /// Keeps one warning (duplicates and warnings past the cap are dropped).
    pub(crate) fn warn(&mut self, warning: &str) {
        if self.warnings.len() < MAX_WARNINGS && !self.warnings.iter().any(|w| w == warning) {
            self.warnings.push(warning.to_owned());
        }
    }

    /// Keeps Exchange's warnings of one answer.
    pub(crate) fn warn_all(&mut self, warnings: Vec<String>) {
        for w in warnings {
            self.warn(&w);
        }
    }

    /// A part of the run that Exchange answered only partly.
    pub(crate) fn partial(&mut self, e: &ExchangeError) {
        self.parts.push(e.to_string());
        self.first.get_or_insert_with(|| run_error(e));
    }

    /// `Ok(Some(v))` for a value, `Ok(None)` (noted) for a partial answer, the error otherwise.
    pub(crate) fn keep_partial<T>(
        &mut self,
        r: Result<T, ExchangeError>,
    ) -> Result<Option<T>, ExchangeError> {
        match r {
            Ok(v) => Ok(Some(v)),
            Err(e @ ExchangeError::Partial { .. }) => {
                self.partial(&e);
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// The device list left out `missing` of the `stored` present devices, too many to believe
    /// at once: they are kept (held since `since`) until a full sync sees the same.
    pub(crate) fn removal_held(&mut self, missing: usize, stored: u64, since: DateTime<Utc>) {
        let message = format!(
            "Exchange's device list left out {missing} of the {stored} stored devices. That is \
             more than SYNC_MAX_REMOVAL_PERCENT allows at once, so they are kept as they were \
             (held since {}) until a full sync sees the same list; start a full sync to \
             confirm the removal.",
            since.format("%Y-%m-%d %H:%M UTC")
        );
        self.parts.push(message.clone());
        self.first.get_or_insert(RunError {
            code: Some("RemovalHeld".into()),
            message,
            request_id: None,
            status: None,
            cmdlet: Some("Get-MobileDevice".into()),
        });
    }

    /// Of `missing` stored devices the device list left out, `asked` were looked up one by
    /// one: Exchange still returned `listed` and gave no clear answer for `unconfirmed` (the
    /// first failure, if any, is `failure`); `kept` devices are kept as they were.
    pub(crate) fn removals_unconfirmed(&mut self, r: UnconfirmedRemovals<'_>) {
        let asked = match r.asked == r.missing {
            true => "one by one".to_owned(),
            false => format!("{} of them one by one", r.asked),
        };
        let mut message = format!(
            "Exchange's device list left out {} stored {}. Asked about {asked}, Exchange still \
             returned {}",
            r.missing,
            plural(r.missing, "device", "devices"),
            r.listed
        );
        if r.unconfirmed > 0 {
            message.push_str(&format!(" and gave no clear answer for {}", r.unconfirmed));
            if let Some(e) = r.failure {
                message.push_str(&format!(" ({})", e.to_string().trim_end_matches('.')));
            }
        }
        message.push_str(&format!(
            ", so {} {} kept as {}; the next sync looks again.",
            r.kept,
            plural(r.kept, "device is", "devices are"),
            plural(r.kept, "it was", "they were"),
        ));
        self.parts.push(message.clone());
        self.first.get_or_insert(RunError {
            code: Some("ListingIncomplete".into()),
            message,
            request_id: r.failure.and_then(|e| e.request_id().map(str::to_owned)),
            status: None,
            cmdlet: Some("Get-MobileDevice".into()),
        });
    }

    /// The statistics of `mailbox` came back without any device, although the device list
    /// named the mailbox for its devices: they keep their previous statistics.
    pub(crate) fn statistics_empty(&mut self, mailbox: &str) {
        tracing::debug!(
            mailbox,
            "statistics of a mailbox with devices came back empty"
        );
        self.mailboxes_empty += 1;
        self.first.get_or_insert_with(|| RunError {
            code: Some("StatisticsMissing".into()),
            message: format!(
                "Get-MobileDeviceStatistics answered for the mailbox {mailbox} with no device, \
                 although the device list has devices there."
            ),
            request_id: None,
            status: None,
            cmdlet: Some("Get-MobileDeviceStatistics".into()),
        });
    }

    /// The statistics of one mailbox could not be read.
    pub(crate) fn mailbox_failed(&mut self, mailbox: &str, e: &ExchangeError) {
        tracing::debug!(mailbox, error = %e, "statistics of a mailbox could not be read");
        self.mailboxes_failed += 1;
        self.first.get_or_insert_with(|| run_error(e));
    }

    /// Takes in what another part of the same run noticed (the statistics, read while the
    /// device pages are).
    pub(crate) fn absorb(&mut self, other: Notes) {
        for w in &other.warnings {
            self.warn(w);
        }
        self.parts.extend(other.parts);
        self.mailboxes_failed += other.mailboxes_failed;
        self.mailboxes_empty += other.mailboxes_empty;
        if self.first.is_none() {
            self.first = other.first;
        }
    }

    /// The reason recorded with a partial run: what failed, in plain words, with the first
    /// failure's code and request-id.
    pub(crate) fn partial_reason(&self) -> Option<RunError> {
        let first = self.first.clone()?;
        let mut said = Vec::new();
        if self.mailboxes_failed > 0 {
            let noun = if self.mailboxes_failed == 1 {
                "mailbox"
            } else {
                "mailboxes"
            };
            said.push(format!(
                "The device statistics of {} {noun} could not be read; those devices keep \
                 their previous statistics. First failure: {}",
                self.mailboxes_failed, first.message
            ));
        }
        if self.mailboxes_empty > 0 {
            said.push(format!(
                "Exchange answered the statistics of {} {} with no device although the device \
                 list has devices there; those devices keep their previous statistics.",
                self.mailboxes_empty,
                plural(self.mailboxes_empty as usize, "mailbox", "mailboxes")
            ));
        }
        said.extend(self.parts.iter().cloned());
        Some(RunError {
            message: said.join(" "),
            ..first
        })
    }
}

/// Stored devices a listing left out whose removal Exchange did not confirm.
pub(crate) struct UnconfirmedRemovals<'a> {
    pub missing: usize,
    pub asked: usize,
    pub listed: usize,
    pub unconfirmed: usize,
    pub kept: usize,
    pub failure: Option<&'a ExchangeError>,
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    match n {
        1 => one,
        _ => many,
    }
}

/// The ledger's view of a failure.
pub(crate) fn run_error(e: &ExchangeError) -> RunError {
    RunError {
        code: Some(e.code()),
        message: e.to_string(),
        request_id: e.request_id().map(str::to_owned),
        status: e.status(),
        cmdlet: e.cmdlet().map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_reason_counts_the_mailboxes_and_keeps_the_first_failure() {
        let mut notes = Notes::default();
        assert!(notes.partial_reason().is_none());
        let e = ExchangeError::Partial {
            cmdlet: "Get-MobileDeviceStatistics".into(),
            message: "boom".into(),
            request_id: Some("r1".into()),
        };
        notes.mailbox_failed("a", &e);
        notes.mailbox_failed("b", &e);
        let reason = notes.partial_reason().expect("partial");
        assert!(
            reason.message.contains("of 2 mailboxes"),
            "{}",
            reason.message
        );
        assert_eq!(reason.request_id.as_deref(), Some("r1"));
        assert_eq!(reason.cmdlet.as_deref(), Some("Get-MobileDeviceStatistics"));
        for _ in 0..3 {
            notes.warn("same");
        }
        assert_eq!(notes.warnings, ["same"]);
    }
}
