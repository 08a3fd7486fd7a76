//! "Your account" (anyone signed in): email, role and how they sign in; changing their own
//! password (the current one, the new one twice). The form is a plain form post without
//! JavaScript (the server redirects back with `?notice=`) and runs in place once hydrated.

use leptos::html;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{
    own_account, own_api_tokens, single_sign_on, ChangePassword, CreateApiToken, RevokeApiToken,
};
use crate::app::components::alert::Alert;
use crate::app::components::time::LocalTime;
use crate::app::components::tokens::{show_revoked, CreateTokenForm, TokenOutcome, TokenPanel};
use crate::app::layout::{role_label, Frame, PageHeading};
use crate::app::pages::sign_in::{query_feedback, Feedback, FeedbackBox, Field, SubmitButton};
use crate::error::ApiError;
use crate::model::{ApiTokenPage, FormNotice, Role, UserSummary};

const FIELDS: &[&str] = &["current_password", "password", "confirm_password"];

#[component]
pub fn AccountPage() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let account = Resource::new(|| (), |_| own_account());
    let sso = Resource::new(|| (), |_| single_sign_on());
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let tokens = TokenActions {
        create,
        revoke,
        list: Resource::new(
            move || (create.version().get(), revoke.version().get()),
            |_| own_api_tokens(),
        ),
    };
    let from_query = query_feedback();
    let form = NodeRef::<html::Form>::new();
    let feedback = Memo::new(move |_| match change.value().get() {
        Some(Ok(())) => Some(Feedback {
            message: FormNotice::PasswordChanged.message().to_owned(),
            field: None,
            success: true,
        }),
        value => Feedback::pick(change.version().get(), value, FIELDS, from_query),
    });
    Effect::new(move |_| {
        if let (Some(Ok(())), Some(form)) = (change.value().get(), form.get()) {
            form.reset();
        }
    });

    view! {
        <Title text="Your account"/>
        <Frame title="Your account">
            <PageHeading title="Your account"/>
            <FeedbackBox feedback title="The password was not changed" fields_shown=true/>
            <Suspense fallback=|| view! { <p class="mt-6 text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let provider = sso.await.ok().flatten();
                    match account.await {
                        Ok(me) => view! {
                            <AccountCard me=me.clone() provider=provider.clone()/>
                            <ApiTokens own_role=me.role tokens/>
                            {if me.has_password {
                                view! { <PasswordForm change feedback form/> }.into_any()
                            } else {
                                let provider = provider.unwrap_or_else(|| "single sign-on".into());
                                view! {
                                    <p class="mt-6 max-w-2xl text-sm text-slate-600" data-testid="no-password">
                                        {format!("You sign in with {provider}: this account has no password here, so there is none to change.")}
                                    </p>
                                }.into_any()
                            }}
                        }.into_any(),
                        Err(e) => view! {
                            <Alert title="Your account could not be loaded" message=e.to_string()/>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </Frame>
    }
}

/// Email, name, role, how the account signs in, and its last sign-in.
#[component]
fn AccountCard(me: UserSummary, provider: Option<String>) -> impl IntoView {
    let provider = provider.unwrap_or_else(|| "single sign-on".into());
    let methods = match (me.has_password, me.sso_linked) {
        (true, true) => format!("Password, or {provider} (linked)"),
        (true, false) => "Password".to_owned(),
        (false, _) => provider,
    };
    let row = "grid grid-cols-3 gap-4 px-5 py-2.5 text-sm";
    view! {
        <section aria-label="Account" class="mt-4 max-w-2xl rounded-lg border border-slate-200 bg-white shadow-sm">
            <dl class="divide-y divide-slate-100">
                <div class=row><dt class="text-slate-500">"Email"</dt><dd class="col-span-2 font-medium" data-testid="account-email">{me.email}</dd></div>
                <div class=row><dt class="text-slate-500">"Name"</dt><dd class="col-span-2">{me.display_name.unwrap_or_else(|| "—".into())}</dd></div>
                <div class=row><dt class="text-slate-500">"Role"</dt><dd class="col-span-2">{role_label(me.role)}</dd></div>
                <div class=row><dt class="text-slate-500">"Signs in with"</dt><dd class="col-span-2" data-testid="account-methods">{methods}</dd></div>
                <div class=row>
                    <dt class="text-slate-500">"Last sign-in"</dt>
                    <dd class="col-span-2">{me.last_sign_in_at.map(|at| view! { <LocalTime at/> })}</dd>
                </div>
            </dl>
        </section>
    }
}

#[component]
fn PasswordForm(
    change: ServerAction<ChangePassword>,
    feedback: Memo<Option<Feedback>>,
    form: NodeRef<html::Form>,
) -> impl IntoView {
    let pending = change.pending();
    view! {
        <section aria-labelledby="password-heading" class="mt-6 max-w-2xl rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
            <h2 id="password-heading" class="font-semibold">"Change your password"</h2>
            <p class="mt-1 text-sm text-slate-600">"Your other sessions are signed out; this one stays."</p>
            <ActionForm action=change node_ref=form attr:class="mt-4 space-y-4" attr:aria-labelledby="password-heading">
                <Field id="current-password" name="current_password" label="Current password" kind="password" autocomplete="current-password" required=true feedback/>
                <Field id="new-password" name="password" label="New password" kind="password" autocomplete="new-password" required=true hint="At least 12 characters." feedback/>
                <Field id="confirm-password" name="confirm_password" label="New password again" kind="password" autocomplete="new-password" required=true feedback/>
                <div class="max-w-xs">
                    <SubmitButton pending label="Change password" busy_label="Changing…"/>
                </div>
            </ActionForm>
        </section>
    }
}

/// The token forms' actions and the list they refresh. Made once by the page, outside its
/// Suspense: the list's first read takes a plain form post's outcome from the session, so it
/// must not be read twice.
#[derive(Clone, Copy)]
struct TokenActions {
    create: ServerAction<CreateApiToken>,
    revoke: ServerAction<RevokeApiToken>,
    list: Resource<Result<ApiTokenPage, ApiError>>,
}

/// The person's API tokens: create one (shown once), see each one's last use, revoke.
#[component]
fn ApiTokens(own_role: Role, tokens: TokenActions) -> impl IntoView {
    let TokenActions {
        create,
        revoke,
        list: tokens,
    } = tokens;
    // The outcome of the last action run in place (a plain post's comes with the list).
    let last = RwSignal::new(None::<TokenOutcome>);
    Effect::new(move |_| {
        if let Some(r) = create.value().get() {
            last.set(match r {
                Ok(created) => created.map(TokenOutcome::Created),
                Err(e) => Some(TokenOutcome::refused(&e, "name")),
            });
        }
    });
    show_revoked(revoke, last);
    view! {
        <section aria-labelledby="tokens-heading" class="mt-6 max-w-4xl rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
            <h2 id="tokens-heading" class="font-semibold">"API tokens"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "For scripts and monitoring: send a token as "
                <code class="rounded bg-slate-100 px-1 font-mono text-xs">"Authorization: Bearer <token>"</code>
                " to the REST API under "<code class="rounded bg-slate-100 px-1 font-mono text-xs">"/api/v1"</code>
                ". A token can do what its role allows, never more than you; it stops working when it expires, when it is revoked, or when your account is disabled. "
                // Served by the server, not a page of the app: the router must not take it.
                <a href="/api/docs" rel="external" class="font-medium text-sky-800 underline hover:text-sky-900">"API reference"</a>
            </p>
            <CreateTokenForm create own_role/>
            <Suspense fallback=|| view! { <p class="mt-4 text-sm text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(page) => view! { <TokenPanel page last revoke/> }.into_any(),
                        Err(e) => view! {
                            <Alert title="Your API tokens could not be loaded" message=e.to_string()/>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
