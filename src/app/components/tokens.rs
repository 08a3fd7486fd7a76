//! API tokens: the form that creates one (shown once), and the table that lists them with
//! their last use and a revoke button. "Your account" shows a person's own; the users page
//! shows everyone's to admins. Both work as plain form posts without JavaScript.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::api::{CreateApiToken, RevokeApiToken};
use crate::app::layout::role_label;
use crate::app::pages::sign_in::LABEL;
use crate::error::ApiError;
use crate::model::{
    ApiToken, ApiTokenPage, CreatedApiToken, Role, TokenFlash, API_TOKEN_DEFAULT_DAYS,
    API_TOKEN_MAX_NAME,
};

use super::time::LocalTime;

const TH: &str = "px-3 py-2 text-left text-xs font-semibold uppercase tracking-wide text-slate-500";
const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-sky-600 focus:outline-none focus:ring-1 focus:ring-sky-600";
const BUTTON: &str = "rounded-md bg-sky-700 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-sky-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-600 focus-visible:ring-offset-2 disabled:cursor-wait disabled:opacity-70";

/// The lifetimes offered, in days.
const LIFETIMES: [(u32, &str); 4] = [
    (30, "30 days"),
    (API_TOKEN_DEFAULT_DAYS, "90 days"),
    (180, "180 days"),
    (365, "1 year"),
];

/// How a create or revoke ended, from the action (JavaScript) or the session (a plain post).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenOutcome {
    Created(CreatedApiToken),
    Revoked,
    Refused { field: String, message: String },
}

impl TokenOutcome {
    /// A refusal from a server function's error, at its field (`field` for any other error).
    pub fn refused(error: &ApiError, field: &str) -> Self {
        let (field, message) = error.at_field(field);
        Self::Refused { field, message }
    }
}

impl From<TokenFlash> for TokenOutcome {
    fn from(flash: TokenFlash) -> Self {
        match flash {
            TokenFlash::Created(c) => Self::Created(c),
            TokenFlash::Revoked => Self::Revoked,
            TokenFlash::Refused { field, message } => Self::Refused { field, message },
        }
    }
}

/// Puts a revoke's outcome in `last` when it ends (run in place).
pub fn show_revoked(revoke: ServerAction<RevokeApiToken>, last: RwSignal<Option<TokenOutcome>>) {
    Effect::new(move |_| {
        if let Some(r) = revoke.value().get() {
            last.set(Some(match r {
                Ok(()) => TokenOutcome::Revoked,
                Err(e) => TokenOutcome::refused(&e, "id"),
            }));
        }
    });
}

/// The form that creates a token with a role up to `own_role`.
#[component]
pub fn CreateTokenForm(create: ServerAction<CreateApiToken>, own_role: Role) -> impl IntoView {
    let pending = create.pending();
    // Created: the form is empty again for the next one.
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let (Some(Ok(Some(_))), Some(form)) = (create.value().get(), form.get()) {
            form.reset();
        }
    });
    view! {
        <ActionForm action=create node_ref=form attr:class="mt-4 grid gap-4 sm:grid-cols-3" attr:aria-labelledby="tokens-heading">
            <div class="sm:col-span-3">
                <label for="token-name" class=LABEL>"Name"</label>
                <input id="token-name" name="name" type="text" required maxlength=API_TOKEN_MAX_NAME
                    autocomplete="off" placeholder="Nightly device export" class=INPUT
                    aria-describedby="token-name-hint"/>
                <p id="token-name-hint" class="mt-1 text-xs text-slate-500">"What uses it, so that you know what breaks when you revoke it."</p>
            </div>
            <div>
                <label for="token-role" class=LABEL>"Role"</label>
                <select id="token-role" name="role" class=INPUT>
                    <option value=Role::Reader.as_str() selected>"Reader – reads only"</option>
                    {(own_role == Role::Admin).then(|| view! {
                        <option value=Role::Admin.as_str()>"Admin – may also start syncs"</option>
                    })}
                </select>
            </div>
            <div>
                <label for="token-expiry" class=LABEL>"Expires after"</label>
                <select id="token-expiry" name="expires_in_days" class=INPUT>
                    {LIFETIMES.into_iter().map(|(days, label)| view! {
                        <option value=days.to_string() selected=days == API_TOKEN_DEFAULT_DAYS>{label}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="flex items-end">
                <button type="submit" disabled=move || pending.get() class=BUTTON>
                    {move || if pending.get() { "Creating…" } else { "Create token" }}
                </button>
            </div>
        </ActionForm>
    }
}

/// What a create or revoke ended with: the new token (once), a revocation, or why not.
#[component]
pub fn TokenOutcomeBox(outcome: TokenOutcome, base: String) -> impl IntoView {
    match outcome {
        TokenOutcome::Created(c) => {
            let example = format!(
                "curl -H \"Authorization: Bearer {}\" {base}/api/v1/connectors",
                c.secret
            );
            view! {
                <div role="status" class="mt-4 rounded-md border border-emerald-300 bg-emerald-50 p-4 text-sm" data-testid="token-created">
                    <p class="font-semibold text-emerald-900">{format!("Token \"{}\" created. Copy it now: it is not shown again.", c.token.name)}</p>
                    <label for="new-token" class="mt-2 block text-emerald-900">"Your new token"</label>
                    <input id="new-token" readonly value=c.secret.clone() data-testid="token-secret"
                        class="mt-1 block w-full rounded-md border border-emerald-300 bg-white px-3 py-2 font-mono text-xs"/>
                    <p class="mt-2 text-emerald-900">"Try it:"</p>
                    <pre class="mt-1 whitespace-pre-wrap break-all rounded bg-white p-2 font-mono text-xs text-slate-800">{example}</pre>
                </div>
            }
            .into_any()
        }
        TokenOutcome::Revoked => view! {
            <div role="status" class="mt-4 rounded-md border border-emerald-300 bg-emerald-50 p-3 text-sm text-emerald-900">
                "The token was revoked: it stops working at once."
            </div>
        }
        .into_any(),
        TokenOutcome::Refused { field, message } => view! {
            <div role="alert" class="mt-4 rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-900" data-testid="token-error">
                <span class="font-semibold">"The token was not changed. "</span>
                {if field == "name" || field == "id" { message } else { format!("{field}: {message}") }}
            </div>
        }
        .into_any(),
    }
}

/// The outcome of the last action (`last`, run in place) or of a plain form post (the page's
/// flash), then the tokens.
#[component]
pub fn TokenPanel(
    page: ApiTokenPage,
    last: RwSignal<Option<TokenOutcome>>,
    revoke: ServerAction<RevokeApiToken>,
    #[prop(optional)] owners: bool,
) -> impl IntoView {
    let ApiTokenPage { list, base, flash } = page;
    let flash = flash.map(TokenOutcome::from);
    view! {
        {move || {
            last.get()
                .or_else(|| flash.clone())
                .map(|outcome| view! { <TokenOutcomeBox outcome base=base.clone()/> })
        }}
        <TokenTable tokens=list.tokens now=list.now revoke owners/>
    }
}

/// The tokens, newest first; `owners` adds the owner's column (the admins' view).
#[component]
pub fn TokenTable(
    tokens: Vec<ApiToken>,
    now: DateTime<Utc>,
    revoke: ServerAction<RevokeApiToken>,
    #[prop(optional)] owners: bool,
) -> impl IntoView {
    if tokens.is_empty() {
        return view! {
            <p class="mt-4 text-sm text-slate-600" data-testid="no-tokens">"No API tokens yet."</p>
        }
        .into_any();
    }
    let caption = if owners {
        "Everyone's API tokens"
    } else {
        "Your API tokens"
    };
    view! {
        <div class="mt-4 overflow-x-auto rounded-lg border border-slate-200">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <caption class="sr-only">{caption}</caption>
                <thead class="bg-slate-50">
                    <tr>
                        {owners.then(|| view! { <th scope="col" class=TH>"Owner"</th> })}
                        <th scope="col" class=TH>"Name"</th>
                        <th scope="col" class=TH>"Role"</th>
                        <th scope="col" class=TH>"Token"</th>
                        <th scope="col" class=TH>"Expires"</th>
                        <th scope="col" class=TH>"Last used"</th>
                        <th scope="col" class=TH>"Status"</th>
                        <th scope="col" class=TH><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100 bg-white">
                    {tokens.into_iter().map(|t| view! { <TokenRow t now revoke owners/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn TokenRow(
    t: ApiToken,
    now: DateTime<Utc>,
    revoke: ServerAction<RevokeApiToken>,
    owners: bool,
) -> impl IntoView {
    let state = t.state_label(now);
    let tone = match state {
        "Active" => "bg-emerald-50 text-emerald-800 ring-emerald-600/30",
        "Expired" => "bg-amber-50 text-amber-900 ring-amber-600/30",
        _ => "bg-slate-100 text-slate-700 ring-slate-500/30",
    };
    let live = t.is_live(now);
    let label = format!("Revoke {}", t.name);
    view! {
        <tr data-testid="token-row" data-name=t.name.clone() data-state=state.to_lowercase()>
            {owners.then(|| view! { <td class="whitespace-nowrap px-3 py-2">{t.owner_email.clone()}</td> })}
            <td class="px-3 py-2 font-medium">{t.name.clone()}</td>
            <td class="whitespace-nowrap px-3 py-2">{role_label(t.role)}</td>
            <td class="whitespace-nowrap px-3 py-2 font-mono text-xs">{format!("{}…", t.prefix)}</td>
            <td class="whitespace-nowrap px-3 py-2"><LocalTime at=t.expires_at compact=true/></td>
            <td class="whitespace-nowrap px-3 py-2">
                {match t.last_used_at {
                    Some(at) => view! { <LocalTime at compact=true/> }.into_any(),
                    None => view! { <span class="text-slate-500">"Never"</span> }.into_any(),
                }}
            </td>
            <td class="whitespace-nowrap px-3 py-2">
                <span class=format!("inline-flex rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset {tone}")>{state}</span>
            </td>
            <td class="whitespace-nowrap px-3 py-2">
                {live.then(|| view! {
                    <ActionForm action=revoke>
                        <input type="hidden" name="id" value=t.id.clone()/>
                        <button type="submit" aria-label=label.clone()
                            class="rounded-md border border-red-300 bg-white px-2.5 py-1 text-xs font-semibold text-red-800 hover:bg-red-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-red-600">
                            "Revoke"
                        </button>
                    </ActionForm>
                })}
            </td>
        </tr>
    }
}
