//! Notifications (admins): alert webhooks. Add a destination (JSON signed with HMAC, Microsoft
//! Teams, Slack) with the events it hears, send it a test, delete it; the latest deliveries
//! with their outcome. Every form works as a plain form post without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{
    get_notifications, CreateWebhook, DeleteWebhook, ResendDelivery, SetWebhookEvents, TestWebhook,
};
use crate::app::components::alert::Alert;
use crate::app::components::time::LocalTime;
use crate::app::layout::{Frame, PageHeading};
use crate::app::pages::sign_in::LABEL;
use crate::error::ApiError;
use crate::model::{
    AlertEvent, Delivery, DeliveryStatus, NotificationsPage, Webhook, WebhookFlash, WebhookKind,
    WEBHOOK_MAX_NAME, WEBHOOK_MAX_URL,
};

const TH: &str = "px-3 py-2 text-left text-xs font-semibold uppercase tracking-wide text-slate-500";
const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-sky-600 focus:outline-none focus:ring-1 focus:ring-sky-600";
const BUTTON: &str = "rounded-md bg-sky-700 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-sky-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-600 focus-visible:ring-offset-2 disabled:cursor-wait disabled:opacity-70";
const SMALL_BUTTON: &str = "rounded-md border border-slate-300 bg-white px-2.5 py-1 text-xs font-semibold text-slate-800 hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-600 disabled:cursor-wait disabled:opacity-70";

/// How the last form ended: from its action (JavaScript), or from the session after a plain
/// post (the same type).
type Outcome = WebhookFlash;

fn refused(error: &ApiError, field: &str) -> Outcome {
    let (field, message) = error.at_field(field);
    Outcome::Refused { field, message }
}

#[component]
pub fn NotificationsPage() -> impl IntoView {
    let create = ServerAction::<CreateWebhook>::new();
    let delete = ServerAction::<DeleteWebhook>::new();
    let test = ServerAction::<TestWebhook>::new();
    let update = ServerAction::<SetWebhookEvents>::new();
    let resend = ServerAction::<ResendDelivery>::new();
    // Made outside the Suspense: its first read takes a plain post's outcome from the session.
    let page = Resource::new(
        move || {
            (
                create.version().get(),
                delete.version().get(),
                test.version().get(),
                update.version().get(),
                resend.version().get(),
            )
        },
        |_| get_notifications(),
    );
    let last = RwSignal::new(None::<Outcome>);
    Effect::new(move |_| {
        if let Some(r) = create.value().get() {
            last.set(match r {
                Ok(created) => created.map(Outcome::Created),
                Err(e) => Some(refused(&e, "name")),
            });
        }
    });
    Effect::new(move |_| {
        if let Some(r) = delete.value().get() {
            last.set(Some(match r {
                Ok(()) => Outcome::Deleted,
                Err(e) => refused(&e, "id"),
            }));
        }
    });
    Effect::new(move |_| {
        if let Some(r) = update.value().get() {
            last.set(match r {
                Ok(w) => w.map(Outcome::Updated),
                Err(e) => Some(refused(&e, "events")),
            });
        }
    });
    Effect::new(move |_| {
        if let Some(r) = test.value().get() {
            last.set(match r {
                Ok(d) => d.map(Outcome::Tested),
                Err(e) => Some(refused(&e, "id")),
            });
        }
    });
    Effect::new(move |_| {
        if let Some(r) = resend.value().get() {
            last.set(match r {
                Ok(d) => d.map(Outcome::Resent),
                Err(e) => Some(refused(&e, "id")),
            });
        }
    });
    view! {
        <Title text="Notifications"/>
        <Frame title="Notifications">
            <PageHeading title="Notifications"/>
            <p class="mt-1 max-w-3xl text-sm text-slate-600">
                "Alerts go to webhooks when the connector turns warning or unhealthy (and healthy again), a sync fails, a permission is missing, the delegated sign-in is about to expire, or new devices below EAS 16.1 appear. Each change is sent once; a receiver that fails is retried with backoff for up to 24 hours."
            </p>
            <AddForm create/>
            <Suspense fallback=|| view! { <p class="mt-6 text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! { <Panel page last delete test update resend/> }.into_any(),
                        Err(e) => view! {
                            <Alert title="The notifications could not be loaded" message=e.to_string()/>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </Frame>
    }
}

/// The form that adds a destination.
#[component]
fn AddForm(create: ServerAction<CreateWebhook>) -> impl IntoView {
    let pending = create.pending();
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let (Some(Ok(Some(_))), Some(form)) = (create.value().get(), form.get()) {
            form.reset();
        }
    });
    view! {
        <section aria-labelledby="add-heading" class="mt-6 max-w-5xl rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
            <h2 id="add-heading" class="font-semibold">"Add a destination"</h2>
            <ActionForm action=create node_ref=form attr:class="mt-4 grid gap-4 sm:grid-cols-3" attr:aria-labelledby="add-heading">
                <div>
                    <label for="webhook-name" class=LABEL>"Name"</label>
                    <input id="webhook-name" name="name" type="text" required maxlength=WEBHOOK_MAX_NAME
                        autocomplete="off" placeholder="Messaging team channel" class=INPUT/>
                </div>
                <div>
                    <label for="webhook-kind" class=LABEL>"Type"</label>
                    <select id="webhook-kind" name="kind" class=INPUT>
                        {WebhookKind::ALL.into_iter().map(|k| view! {
                            <option value=k.as_str() selected=k == WebhookKind::Teams>{k.label()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="sm:col-span-3">
                    <label for="webhook-url" class=LABEL>"Webhook address"</label>
                    <input id="webhook-url" name="url" type="url" required maxlength=WEBHOOK_MAX_URL
                        autocomplete="off" spellcheck="false" placeholder="https://…" class=INPUT
                        aria-describedby="webhook-url-hint"/>
                    <p id="webhook-url-hint" class="mt-1 text-xs text-slate-500">
                        "Teams: a Workflows “Post to a channel when a webhook request is received” address. Slack: an incoming webhook. JSON: your receiver; each request is signed (X-Connector-Signature), with a key shown once. The address is stored encrypted and never shown again in full."
                    </p>
                </div>
                <fieldset class="sm:col-span-3">
                    <legend class=LABEL>"Events"</legend>
                    <div class="mt-1 grid gap-x-6 gap-y-1 sm:grid-cols-2">
                        {AlertEvent::CHOOSABLE.into_iter().enumerate().map(|(i, e)| {
                            let id = format!("event-{}", e.as_str());
                            view! {
                                <div class="flex items-center gap-2 text-sm">
                                    <input type="checkbox" id=id.clone() name=format!("events[{i}]") value=e.as_str() checked
                                        class="h-4 w-4 rounded border-slate-300 text-sky-700 focus:ring-sky-600"/>
                                    <label for=id>{e.label()}</label>
                                </div>
                            }
                        }).collect_view()}
                    </div>
                </fieldset>
                <div>
                    <button type="submit" disabled=move || pending.get() class=BUTTON>
                        {move || if pending.get() { "Adding…" } else { "Add destination" }}
                    </button>
                </div>
            </ActionForm>
        </section>
    }
}

/// The last outcome, the destinations and the deliveries.
#[component]
fn Panel(
    page: NotificationsPage,
    last: RwSignal<Option<Outcome>>,
    delete: ServerAction<DeleteWebhook>,
    test: ServerAction<TestWebhook>,
    update: ServerAction<SetWebhookEvents>,
    resend: ServerAction<ResendDelivery>,
) -> impl IntoView {
    let NotificationsPage {
        webhooks,
        deliveries,
        flash,
        now: _,
    } = page;
    view! {
        {move || last.get().or_else(|| flash.clone()).map(|outcome| view! { <OutcomeBox outcome/> })}
        <section aria-labelledby="destinations-heading" class="mt-6 max-w-5xl">
            <h2 id="destinations-heading" class="font-semibold">"Destinations"</h2>
            <Destinations webhooks delete test update/>
        </section>
        <section aria-labelledby="deliveries-heading" class="mt-6 max-w-5xl">
            <div class="flex items-baseline justify-between gap-4">
                <h2 id="deliveries-heading" class="font-semibold">"Latest deliveries"</h2>
                // A plain link: it reloads the list (retries happen in the background).
                <a href=crate::app::paths::NOTIFICATIONS rel="external" class="text-sm font-medium text-sky-800 underline hover:text-sky-900">"Refresh"</a>
            </div>
            <Deliveries deliveries resend/>
        </section>
    }
}

#[component]
fn OutcomeBox(outcome: Outcome) -> impl IntoView {
    let ok = "mt-4 max-w-5xl rounded-md border border-emerald-300 bg-emerald-50 p-4 text-sm text-emerald-900";
    let bad = "mt-4 max-w-5xl rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-900";
    match outcome {
        Outcome::Created(c) => {
            let name = c.webhook.name.clone();
            view! {
                <div role="status" class=ok data-testid="webhook-created">
                    <p class="font-semibold">{format!("Destination \"{name}\" added. Send it a test to check it.")}</p>
                    {c.signing_key.map(|key| view! {
                        <label for="signing-key" class="mt-2 block">"Its signing key (copy it now: it is not shown again)"</label>
                        <input id="signing-key" readonly value=key data-testid="signing-key"
                            class="mt-1 block w-full rounded-md border border-emerald-300 bg-white px-3 py-2 font-mono text-xs"/>
                        <p class="mt-2">"Each request carries X-Connector-Timestamp and X-Connector-Signature: sha256= and the hex HMAC-SHA256, with this key, of the timestamp, a dot and the body."</p>
                    })}
                </div>
            }
            .into_any()
        }
        Outcome::Deleted => view! {
            <div role="status" class=ok>"The destination was deleted, with its deliveries."</div>
        }
        .into_any(),
        Outcome::Updated(w) => view! {
            <div role="status" class=ok>{format!("\"{}\" now hears: {}.", w.name, events_text(&w.events))}</div>
        }
        .into_any(),
        Outcome::Tested(d) => {
            let (class, text) = match d.status {
                DeliveryStatus::Delivered => (ok, format!(
                    "The test reached \"{}\" (HTTP {}).",
                    d.webhook_name,
                    d.last_status.unwrap_or(200)
                )),
                _ => (bad, format!(
                    "The test did not reach \"{}\": {}. It is retried; the deliveries below show how it goes.",
                    d.webhook_name,
                    d.last_error.clone().unwrap_or_else(|| "no answer".into())
                )),
            };
            let role = if d.status == DeliveryStatus::Delivered {
                "status"
            } else {
                "alert"
            };
            view! { <div role=role class=class data-testid="test-outcome">{text}</div> }.into_any()
        }
        Outcome::Resent(d) => {
            let delivered = d.status == DeliveryStatus::Delivered;
            let text = if delivered {
                format!(
                    "Sent again: \"{}\" received it (HTTP {}).",
                    d.webhook_name,
                    d.last_status.unwrap_or(200)
                )
            } else {
                format!(
                    "Sent again, and \"{}\" did not take it: {}. {}",
                    d.webhook_name,
                    d.last_error.clone().unwrap_or_else(|| "no answer".into()),
                    if d.status == DeliveryStatus::Failed {
                        "It stays failed."
                    } else {
                        "It is retried; the deliveries below show how it goes."
                    }
                )
            };
            let (role, class) = if delivered { ("status", ok) } else { ("alert", bad) };
            view! { <div role=role class=class data-testid="resend-outcome">{text}</div> }.into_any()
        }
        Outcome::Refused { field, message } => view! {
            <div role="alert" class=bad data-testid="webhook-error">
                <span class="font-semibold">"Nothing was changed. "</span>
                {match field.as_str() {
                    "name" | "id" => message,
                    "url" => format!("Webhook address: {message}"),
                    "kind" => format!("Type: {message}"),
                    "events" => format!("Events: {message}"),
                    other => format!("{other}: {message}"),
                }}
            </div>
        }
        .into_any(),
    }
}

#[component]
fn Destinations(
    webhooks: Vec<Webhook>,
    delete: ServerAction<DeleteWebhook>,
    test: ServerAction<TestWebhook>,
    update: ServerAction<SetWebhookEvents>,
) -> impl IntoView {
    if webhooks.is_empty() {
        return view! {
            <p class="mt-2 text-sm text-slate-600" data-testid="no-webhooks">"No destinations yet: alerts are only shown on the connector page."</p>
        }
        .into_any();
    }
    let testing = test.pending();
    view! {
        <div class="mt-2 overflow-x-auto rounded-lg border border-slate-200">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <caption class="sr-only">"Alert destinations"</caption>
                <thead class="bg-slate-50">
                    <tr>
                        <th scope="col" class=TH>"Name"</th>
                        <th scope="col" class=TH>"Type"</th>
                        <th scope="col" class=TH>"Address"</th>
                        <th scope="col" class=TH>"Events"</th>
                        <th scope="col" class=TH>"Added"</th>
                        <th scope="col" class=TH><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100 bg-white">
                    {webhooks.into_iter().map(|w| {
                        let events = events_text(&w.events);
                        let chosen = w.events.clone();
                        let row_id = w.id.clone();
                        let save_label = format!("Save the events of {}", w.name);
                        let test_label = format!("Send a test to {}", w.name);
                        let delete_label = format!("Delete {}", w.name);
                        let (test_id, delete_id) = (w.id.clone(), w.id.clone());
                        view! {
                            <tr data-testid="webhook-row" data-name=w.name.clone()>
                                <td class="px-3 py-2 font-medium">{w.name.clone()}</td>
                                <td class="whitespace-nowrap px-3 py-2">{w.kind.label()}</td>
                                <td class="whitespace-nowrap px-3 py-2 font-mono text-xs">{w.url_hint.clone()}</td>
                                <td class="px-3 py-2 text-xs">
                                    <span data-testid="webhook-events">{events}</span>
                                    <details class="mt-1">
                                        <summary class="cursor-pointer font-medium text-sky-800">"Change"</summary>
                                        <ActionForm action=update attr:class="mt-2 space-y-1">
                                            <input type="hidden" name="id" value=row_id.clone()/>
                                            {AlertEvent::CHOOSABLE.into_iter().enumerate().map(|(i, e)| {
                                                let id = format!("events-{row_id}-{}", e.as_str());
                                                view! {
                                                    <div class="flex items-center gap-2">
                                                        <input type="checkbox" id=id.clone() name=format!("events[{i}]") value=e.as_str()
                                                            checked=chosen.contains(&e)
                                                            class="h-4 w-4 rounded border-slate-300 text-sky-700 focus:ring-sky-600"/>
                                                        <label for=id>{e.label()}</label>
                                                    </div>
                                                }
                                            }).collect_view()}
                                            <button type="submit" aria-label=save_label class=SMALL_BUTTON>"Save"</button>
                                        </ActionForm>
                                    </details>
                                </td>
                                <td class="whitespace-nowrap px-3 py-2 text-xs">
                                    <LocalTime at=w.created_at compact=true/>
                                    <span class="block text-slate-600">{w.created_by.clone()}</span>
                                </td>
                                <td class="whitespace-nowrap px-3 py-2">
                                    <div class="flex gap-2">
                                        <ActionForm action=test>
                                            <input type="hidden" name="id" value=test_id/>
                                            <button type="submit" aria-label=test_label class=SMALL_BUTTON disabled=move || testing.get()>
                                                {move || if testing.get() { "Sending…" } else { "Send test" }}
                                            </button>
                                        </ActionForm>
                                        <ActionForm action=delete>
                                            <input type="hidden" name="id" value=delete_id/>
                                            <button type="submit" aria-label=delete_label
                                                class="rounded-md border border-red-300 bg-white px-2.5 py-1 text-xs font-semibold text-red-800 hover:bg-red-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-red-600">
                                                "Delete"
                                            </button>
                                        </ActionForm>
                                    </div>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// A destination's events in words ("All events" when it hears every one).
fn events_text(events: &[AlertEvent]) -> String {
    if events.len() == AlertEvent::CHOOSABLE.len() {
        "All events".to_owned()
    } else {
        events
            .iter()
            .map(|e| e.label())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[component]
fn Deliveries(deliveries: Vec<Delivery>, resend: ServerAction<ResendDelivery>) -> impl IntoView {
    if deliveries.is_empty() {
        return view! {
            <p class="mt-2 text-sm text-slate-600" data-testid="no-deliveries">"Nothing sent yet."</p>
        }
        .into_any();
    }
    view! {
        <div class="mt-2 overflow-x-auto rounded-lg border border-slate-200">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <caption class="sr-only">"Latest alert deliveries, newest first"</caption>
                <thead class="bg-slate-50">
                    <tr>
                        <th scope="col" class=TH>"Event"</th>
                        <th scope="col" class=TH>"Destination"</th>
                        <th scope="col" class=TH>"Status"</th>
                        <th scope="col" class=TH>"Attempts"</th>
                        <th scope="col" class=TH>"Last answer"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100 bg-white">
                    {deliveries.into_iter().map(|d| {
                        let (label, tone) = match (d.status, d.attempts) {
                            (DeliveryStatus::Delivered, _) => ("Delivered", "bg-emerald-50 text-emerald-800 ring-emerald-600/30"),
                            (DeliveryStatus::Failed, _) => ("Failed", "bg-red-50 text-red-800 ring-red-600/30"),
                            (DeliveryStatus::Pending, 0) => ("Queued", "bg-slate-100 text-slate-700 ring-slate-500/30"),
                            (DeliveryStatus::Pending, _) => ("Retrying", "bg-amber-50 text-amber-900 ring-amber-600/30"),
                        };
                        let answer = match (d.last_status, d.last_error.clone()) {
                            (_, Some(error)) => error,
                            (Some(code), None) => format!("HTTP {code}"),
                            (None, None) => "—".to_owned(),
                        };
                        view! {
                            <tr data-testid="delivery-row" data-event=d.event.as_str() data-status=label.to_lowercase()>
                                <td class="px-3 py-2">
                                    <span class="font-medium">{d.event.label()}</span>
                                    <span class="block text-xs text-slate-600"><LocalTime at=d.created_at compact=true/></span>
                                    <span class="block max-w-md text-xs text-slate-600">{d.summary.clone()}</span>
                                </td>
                                <td class="px-3 py-2">{d.webhook_name.clone()}</td>
                                <td class="whitespace-nowrap px-3 py-2">
                                    <span class=format!("inline-flex rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset {tone}")>{label}</span>
                                    {(d.status == DeliveryStatus::Pending).then_some(d.next_attempt_at).flatten().map(|at| view! {
                                        <span class="block text-xs text-slate-600">"next "<LocalTime at compact=true/></span>
                                    })}
                                </td>
                                <td class="whitespace-nowrap px-3 py-2">{d.attempts}</td>
                                <td class="px-3 py-2 text-xs">
                                    {answer}
                                    {(d.status == DeliveryStatus::Failed).then(|| view! {
                                        <ActionForm action=resend attr:class="mt-1">
                                            <input type="hidden" name="id" value=d.id.clone()/>
                                            <button type="submit" class=SMALL_BUTTON disabled=move || resend.pending().get()
                                                aria-label=format!("Send again: {} to {}", d.event.label(), d.webhook_name)>
                                                "Send again"
                                            </button>
                                        </ActionForm>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
