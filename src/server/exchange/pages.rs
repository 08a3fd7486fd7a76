//! The pages of one logical cmdlet call, read ahead by one: as soon as a page has arrived and
//! its `@odata.nextLink` is known, the request for the next page is on its way while this page's
//! items are parsed and used. Exchange composes the next page while the connector reads this
//! one, so a listing takes about the longer of the two instead of their sum.

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde::de::DeserializeOwned;
use tokio::task::JoinHandle;
use url::Url;

use super::{wire, Call, ExchangeClient, ExchangeError};

/// One page of a cmdlet's output.
#[derive(Debug)]
pub(crate) struct Page<T> {
    pub items: Vec<T>,
    pub warnings: Vec<String>,
    /// Exchange's `request-id` of the answer, when it sent one.
    pub request_id: Option<String>,
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            warnings: Vec::new(),
            request_id: None,
        }
    }
}

/// A page as it arrived: its body (checked to be JSON) and where the next page is.
struct Fetched {
    body: Vec<u8>,
    next_link: Option<String>,
    headers: HeaderMap,
}

type InFlight = JoinHandle<(Call, Result<Fetched, ExchangeError>)>;

/// The pages of one logical cmdlet call: the same body and `client-request-id` are sent to each
/// `@odata.nextLink` until there is none. Dropping it cancels a page still in flight.
pub(crate) struct Pages<T> {
    client: ExchangeClient,
    cmdlet: String,
    /// `None` while the request for the next page has it.
    call: Option<Call>,
    body: String,
    next: Option<Url>,
    in_flight: Option<InFlight>,
    _items: std::marker::PhantomData<fn() -> T>,
}

impl<T> Drop for Pages<T> {
    fn drop(&mut self) {
        if let Some(task) = self.in_flight.take() {
            task.abort();
        }
    }
}

impl<T: DeserializeOwned> Pages<T> {
    pub(super) fn new(client: ExchangeClient, call: Call, body: String) -> Self {
        let next = Some(client.inner.invoke_url.clone());
        Self {
            client,
            cmdlet: call.cmdlet.clone(),
            call: Some(call),
            body,
            next,
            in_flight: None,
            _items: std::marker::PhantomData,
        }
    }

    /// Sends the request for the first page now (without waiting for it), so that it travels
    /// while the caller prepares; `next_page` picks its answer up.
    pub(crate) fn start(&mut self) {
        if self.in_flight.is_none() {
            if let Some(url) = self.next.take() {
                self.read_ahead(url);
            }
        }
    }

    /// The next page, or `None` after the last one. After an error the call is over.
    pub(crate) async fn next_page(&mut self) -> Result<Option<Page<T>>, ExchangeError> {
        let fetched = match self.in_flight.take() {
            Some(task) => {
                let (call, fetched) = task.await.map_err(|e| {
                    self.unreadable(format!("the request for the page stopped ({e})"))
                })?;
                self.call = Some(call);
                fetched?
            }
            None => {
                let Some(url) = self.next.take() else {
                    return Ok(None);
                };
                let Some(call) = self.call.as_mut() else {
                    return Ok(None);
                };
                fetch(&self.client, call, &url, &self.body).await?
            }
        };
        if let Some(link) = &fetched.next_link {
            let url = self.checked_next_link(link)?;
            self.read_ahead(url);
        }
        let request_id = fetched
            .headers
            .get("request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let envelope = wire::parse_envelope::<T>(&fetched.body).map_err(|e| {
            self.unreadable(format!("the answer is not what the admin API sends ({e})"))
        })?;
        if !envelope.errors.is_empty() {
            if let Some(task) = self.in_flight.take() {
                task.abort();
            }
            return Err(ExchangeError::Partial {
                cmdlet: self.cmdlet.clone(),
                message: envelope.errors.join("; "),
                request_id,
            });
        }
        Ok(Some(Page {
            items: envelope.value,
            warnings: envelope.warnings,
            request_id,
        }))
    }

    /// Sends the request for the page at `url` now; `next_page` picks its answer up.
    fn read_ahead(&mut self, url: Url) {
        let Some(mut call) = self.call.take() else {
            self.next = Some(url);
            return;
        };
        let client = self.client.clone();
        let body = self.body.clone();
        self.in_flight = Some(tokio::spawn(async move {
            let fetched = fetch(&client, &mut call, &url, &body).await;
            (call, fetched)
        }));
    }

    fn unreadable(&self, detail: String) -> ExchangeError {
        ExchangeError::Protocol {
            cmdlet: self.cmdlet.clone(),
            detail,
        }
    }

    /// A next link must stay on the admin API's origin: the bearer token goes with it.
    fn checked_next_link(&self, link: &str) -> Result<Url, ExchangeError> {
        let base = &self.client.inner.invoke_url;
        let url = base
            .join(link)
            .map_err(|e| self.unreadable(format!("@odata.nextLink is not a URL ({e})")))?;
        if url.origin() != base.origin() {
            return Err(self.unreadable(format!(
                "@odata.nextLink points to another server ({})",
                url.host_str().unwrap_or("?")
            )));
        }
        Ok(url)
    }
}

/// Sends one page request (with the client's retries). The body is only checked to be a JSON
/// object with a readable next link here; an answer that is not is retried like any
/// unreadable 200.
async fn fetch(
    client: &ExchangeClient,
    call: &mut Call,
    url: &Url,
    body: &str,
) -> Result<Fetched, ExchangeError> {
    let ((body, next_link), headers) = client
        .send(call, Method::POST, url, Some(body), &[], |bytes| {
            let next = wire::parse_outline(bytes)?;
            Ok((bytes.to_vec(), next))
        })
        .await?;
    Ok(Fetched {
        body,
        next_link,
        headers,
    })
}
