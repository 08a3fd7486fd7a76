//! "Create the first admin": the page of the one-time link the server prints while no admin
//! exists (`?token=`). Email, name and password; the new admin is signed in and taken to the
//! connector. Works as a plain form post without JavaScript and in place once hydrated.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{first_admin_needed, CreateFirstAdmin};
use crate::app::layout::{PublicFrame, CONNECTOR_PATH};
use crate::app::pages::sign_in::{query_feedback, Feedback, FeedbackBox, Field, SubmitButton};
use crate::app::paths;
use crate::model::FormNotice;

const FIELDS: &[&str] = &["email", "display_name", "password"];

#[component]
pub fn FirstAdminPage() -> impl IntoView {
    let query = use_query_map();
    let token = Memo::new(move |_| query.with(|q| q.get("token")).filter(|t| !t.is_empty()));
    let needed = Resource::new(|| (), |_| first_admin_needed());
    let create = ServerAction::<CreateFirstAdmin>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            navigate(CONNECTOR_PATH, Default::default());
        }
    });

    view! {
        <Title text="Create the first admin"/>
        <PublicFrame>
            <h1 class="text-2xl font-semibold">"Create the first admin"</h1>
            <Suspense fallback=|| view! { <p class="mt-4 text-sm text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    // Once an admin exists the link is spent, whatever its token.
                    let open = needed.await.unwrap_or(false);
                    match token.get().filter(|_| open) {
                        Some(token) => view! { <FirstAdminForm token create/> }.into_any(),
                        None => view! { <LinkSpent/> }.into_any(),
                    }
                })}
            </Suspense>
        </PublicFrame>
    }
}

/// The form, with the link's token as a hidden field.
#[component]
fn FirstAdminForm(token: String, create: ServerAction<CreateFirstAdmin>) -> impl IntoView {
    let from_query = query_feedback();
    let feedback = Memo::new(move |_| {
        Feedback::pick(
            create.version().get(),
            create.value().get(),
            FIELDS,
            from_query,
        )
    });
    let link_refused = move || {
        feedback.with(|f| {
            f.as_ref()
                .is_some_and(|f| f.message == FormNotice::LinkInvalid.message())
        })
    };
    let pending = create.pending();
    let token = StoredValue::new(token);
    view! {
        <p class="mt-1 text-sm text-slate-600">
            "No admin account exists yet. The account you create here can set up the connector, "
            "run syncs, and add other users. This link works once."
        </p>
        <FeedbackBox feedback title="The admin was not created" fields_shown=true/>
        <Show when=move || !link_refused()>
            <ActionForm action=create attr:class="mt-6 space-y-4" attr:aria-label="Create the first admin">
                <input type="hidden" name="token" value=token.get_value()/>
                <Field id="first-admin-email" name="email" label="Email address" kind="email" autocomplete="username" required=true feedback/>
                <Field id="first-admin-name" name="display_name" label="Display name (optional)" autocomplete="name" feedback/>
                <Field
                    id="first-admin-password"
                    name="password"
                    label="Password"
                    kind="password"
                    autocomplete="new-password"
                    required=true
                    hint="At least 12 characters. A passphrase of a few words is easy to type and hard to guess."
                    feedback
                />
                <SubmitButton pending label="Create admin and sign in" busy_label="Creating the admin…"/>
            </ActionForm>
        </Show>
    }
}

/// An admin exists, or the link has no token.
#[component]
fn LinkSpent() -> impl IntoView {
    view! {
        <div class="mt-4 space-y-3 text-sm text-slate-700" data-testid="first-admin-link-spent">
            <p class="font-medium text-slate-900">{FormNotice::LinkInvalid.message()}</p>
            <p>"An admin account already exists, or this address is not the one the server printed in its log. Admins add other users on the Users page."</p>
            <p>
                <a href=paths::SIGN_IN class="font-semibold text-sky-700 underline hover:text-sky-900">"Go to sign-in"</a>
            </p>
        </div>
    }
}
