//! `Get-CASMailbox` and `Set-CASMailbox`: the personal allow and block lists that decide a
//! mailbox's devices before any rule (spec §9).

use super::{ExchangeClient, ExchangeError, Invocation, ListUpdate, Params};
use crate::server::exchange::wire::CasMailbox;

const GET: &str = "Get-CASMailbox";
const SET: &str = "Set-CASMailbox";

/// What `Set-CASMailbox` changes in one mailbox's lists; `None` leaves a list as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct DeviceListsChange {
    pub allowed: Option<ListUpdate>,
    pub blocked: Option<ListUpdate>,
}

impl DeviceListsChange {
    /// The encoded `Set-CASMailbox` call for `mailbox` (one call for both lists, so that
    /// allowing a blocked device never leaves it in between); `None` when nothing would
    /// change.
    pub(crate) fn call(&self, mailbox: &str) -> Option<Invocation> {
        let allowed = self.allowed.as_ref().filter(|l| !l.is_noop());
        let blocked = self.blocked.as_ref().filter(|l| !l.is_noop());
        if allowed.is_none() && blocked.is_none() {
            return None;
        }
        Some(
            Params::new()
                .set("Identity", mailbox)
                .maybe("ActiveSyncAllowedDeviceIDs", allowed)
                .maybe("ActiveSyncBlockedDeviceIDs", blocked)
                .call(SET),
        )
    }
}

pub(super) fn get_call(mailbox: &str) -> Invocation {
    Params::new().set("Identity", mailbox).call(GET)
}

impl ExchangeClient {
    /// `Get-CASMailbox -Identity <mailbox>`: its lists; a `Protocol` error when the answer
    /// holds no mailbox.
    pub(crate) async fn get_cas_mailbox(&self, mailbox: &str) -> Result<CasMailbox, ExchangeError> {
        let found: Vec<CasMailbox> = self.collect(get_call(mailbox)).await?;
        found
            .into_iter()
            .next()
            .ok_or_else(|| ExchangeError::Protocol {
                cmdlet: GET.into(),
                detail: format!("the answer holds no mailbox for {mailbox}"),
            })
    }
}
