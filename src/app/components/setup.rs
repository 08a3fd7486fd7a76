//! The set-up parts of the connector page: which identity the connector uses (and why it
//! matters), the permission checklist of the last attempt, and removing the connector.

use leptos::prelude::*;

use crate::api::RemoveConnector;
use crate::app::components::icons::{CheckCircleIcon, MinusCircleIcon, XCircleIcon};
use crate::app::paths;
use crate::model::{IdentityMode, PermissionCheck, SetUpInfo};

/// Which identity the connector connects with, and what follows from it.
#[component]
pub fn IdentityNote(info: SetUpInfo) -> impl IntoView {
    let text = match info.mode {
        IdentityMode::App => format!(
            "The connector connects as its own application (client id {}), with a certificate \
             or a secret. It keeps syncing after the admin who set it up leaves the \
             organization; that admin is recorded as who set it up.",
            info.client_id
        ),
        IdentityMode::Delegated => "The connector connects as the admin who sets it up: you \
             sign in with Microsoft and give consent, and your address becomes the connector's \
             account. If that account is disabled or the consent is revoked, syncing stops — \
             an application identity (EXO_AUTH_MODE=app) keeps syncing after an admin leaves."
            .to_owned(),
    };
    view! {
        <p class="mt-4 max-w-3xl rounded-md bg-slate-50 p-3 text-sm text-slate-700" data-testid="identity-note">
            <span class="font-semibold">
                {match info.mode {
                    IdentityMode::App => "Application identity. ",
                    IdentityMode::Delegated => "Your identity. ",
                }}
            </span>
            {text}
        </p>
    }
}

/// The start of a delegated set-up: a plain link to the consent round trip.
#[component]
pub fn ConsentLink(label: &'static str) -> impl IntoView {
    view! {
        // rel="external": a full navigation (the route is not a page of the app's router).
        <a
            href=paths::EXCHANGE_CONSENT_START
            rel="external"
            class="mt-6 inline-flex items-center gap-2 rounded-md bg-sky-700 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-sky-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-600 focus-visible:ring-offset-2"
        >
            {label}
        </a>
        <p class="mt-2 text-sm text-slate-600">"You will sign in with Microsoft and be asked for consent."</p>
    }
}

/// The 13 required cmdlets as the last set-up attempt found them: ✓, ✗ with what to grant, or
/// "not known" (write cmdlets when Exchange could only be probed).
#[component]
pub fn Checklist(checks: Vec<PermissionCheck>) -> impl IntoView {
    let denied = checks
        .iter()
        .filter(|c| c.allowed == Some(false) && !c.optional)
        .count();
    let optional_denied = checks
        .iter()
        .filter(|c| c.allowed == Some(false) && c.optional)
        .count();
    let summary = if denied == 0 && optional_denied > 0 {
        format!(
            "Every required cmdlet is allowed; {optional_denied} optional cmdlet{} for device actions {} not: those actions are shown disabled.",
            if optional_denied == 1 { "" } else { "s" },
            if optional_denied == 1 { "is" } else { "are" }
        )
    } else if denied == 0 {
        "Every required cmdlet is allowed.".to_owned()
    } else {
        format!(
            "{denied} required cmdlet{} not allowed: the set-up stopped and nothing was saved.",
            if denied == 1 { " is" } else { "s are" }
        )
    };
    let lines = view! {
        <ul class="mt-3 divide-y divide-slate-100" aria-label="Cmdlets and their permission">
            {checks
                .into_iter()
                .map(|c| {
                    let cmdlet = c.cmdlet.clone();
                    let state = match c.allowed {
                        Some(true) => "allowed",
                        Some(false) => "denied",
                        None => "unknown",
                    };
                    view! {
                        <li class="flex items-start gap-2 py-1.5 text-sm" data-cmdlet=cmdlet data-permission=state>
                            {match c.allowed {
                                Some(true) => view! { <CheckCircleIcon class="mt-0.5 h-4 w-4 shrink-0 text-emerald-600"/> }.into_any(),
                                Some(false) => view! { <XCircleIcon class="mt-0.5 h-4 w-4 shrink-0 text-red-600"/> }.into_any(),
                                None => view! { <MinusCircleIcon class="mt-0.5 h-4 w-4 shrink-0 text-slate-400"/> }.into_any(),
                            }}
                            <div>
                                <span class="font-mono text-xs">{c.cmdlet}</span>
                                <span class="sr-only">{format!(" {state}")}</span>
                                {c.optional.then(|| view! {
                                    <span class="ml-2 rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-700">"optional, for device actions"</span>
                                })}
                                {(c.allowed.is_none()).then(|| view! {
                                    <span class="ml-2 text-xs text-slate-500">"not known until first used"</span>
                                })}
                                {c.hint.map(|h| view! { <p class="mt-0.5 text-xs text-red-800">{h}</p> })}
                            </div>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    // Erased: the nested list type otherwise overflows the compiler's query depth in the
    // release wasm build.
    .into_any();
    // All allowed: a one-line summary that opens to the list; otherwise the list, open.
    let open = denied > 0;
    view! {
        <section aria-labelledby="checklist-heading" class="mt-4 rounded-lg border border-slate-200 bg-white p-5 shadow-sm" data-testid="permission-checklist">
            <details open=open>
                <summary class="cursor-pointer">
                    <h2 id="checklist-heading" class="inline font-semibold">"Permission check"</h2>
                    <span class="ml-2 text-sm text-slate-600">{summary}</span>
                </summary>
                {lines}
            </details>
        </section>
    }
}

/// Removing the connector (admins): the organization's name must be typed; the sync history
/// and device data are kept or deleted; stored sign-in secrets are wiped either way.
#[component]
pub fn RemoveConnectorForm(
    remove: ServerAction<RemoveConnector>,
    /// The name to type (the organization, or the tenant before it is known).
    name: String,
) -> impl IntoView {
    let pending = remove.pending();
    let error = move || {
        remove
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
    };
    let label = format!("Type {name} to confirm");
    view! {
        // Open while a refusal is shown: the page re-renders after each attempt, and a closed
        // panel would hide why nothing was removed.
        <details class="mt-4 rounded-lg border border-red-200 bg-white p-5 shadow-sm" open=move || error().is_some()>
            <summary class="cursor-pointer font-semibold text-red-800">"Remove connector"</summary>
            <p class="mt-2 max-w-3xl text-sm text-slate-700">
                "Removing disconnects this server from " <span class="font-semibold">{name.clone()}</span>
                ". Stored sign-in secrets are wiped. You can keep the sync history and device data "
                "for the record, or delete them."
            </p>
            <ActionForm action=remove attr:class="mt-3 space-y-3">
                <label class="block text-sm">
                    <span class="text-slate-700">{label}</span>
                    <input
                        type="text"
                        name="confirmation"
                        required
                        autocomplete="off"
                        class="mt-1 block w-full max-w-sm rounded-md border border-slate-300 px-3 py-1.5 text-sm"
                    />
                </label>
                <fieldset class="text-sm">
                    <legend class="text-slate-700">"Sync history and device data"</legend>
                    <label class="mt-1 flex items-center gap-2">
                        <input type="radio" name="delete_data" value="false" checked/>
                        "Keep them"
                    </label>
                    <label class="mt-1 flex items-center gap-2">
                        <input type="radio" name="delete_data" value="true"/>
                        "Delete them"
                    </label>
                </fieldset>
                <button
                    type="submit"
                    disabled=move || pending.get()
                    class="rounded-md bg-red-700 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-red-800 disabled:opacity-60"
                >
                    "Remove connector"
                </button>
                {move || error().map(|e| view! { <p role="alert" class="text-sm text-red-800">{e}</p> })}
            </ActionForm>
        </details>
    }
}
