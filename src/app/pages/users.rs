//! "Users" (admins only): who may sign in, with which role; add a user, change a role,
//! disable, enable, delete. Every form is a plain form post without JavaScript (the server
//! redirects back with `?notice=`) and runs in place once hydrated. The server refuses what
//! would leave no admin or lock the asking admin out; the page does not offer it either.

use leptos::html;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{
    all_api_tokens, list_users, single_sign_on, AddUser, ChangeUserRole, DeleteUser, DisableUser,
    EnableUser, RevokeApiToken, SetUserPassword,
};
use crate::app::components::alert::Alert;
use crate::app::components::time::LocalTime;
use crate::app::components::tokens::{show_revoked, TokenOutcome, TokenPanel};
use crate::app::layout::{role_label, Frame, PageHeading};
use crate::app::pages::sign_in::{query_feedback, Feedback, FeedbackBox, Field, LABEL};
use crate::error::ApiError;
use crate::model::{FormNotice, Role, UserSummary};

const FIELDS: &[&str] = &["email", "display_name", "password"];

/// What a finished change says: `success`, or its error.
fn outcome(result: Result<(), ApiError>, success: FormNotice) -> Feedback {
    match result {
        Ok(()) => Feedback {
            message: success.message().to_owned(),
            field: None,
            success: true,
        },
        Err(e) => Feedback::from_error(&e, FIELDS),
    }
}

/// The forms of one table row share these actions (one per kind of change).
#[derive(Clone, Copy)]
struct RowActions {
    role: ServerAction<ChangeUserRole>,
    disable: ServerAction<DisableUser>,
    enable: ServerAction<EnableUser>,
    delete: ServerAction<DeleteUser>,
    password: ServerAction<SetUserPassword>,
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let add = ServerAction::<AddUser>::new();
    let rows = RowActions {
        role: ServerAction::new(),
        disable: ServerAction::new(),
        enable: ServerAction::new(),
        delete: ServerAction::new(),
        password: ServerAction::new(),
    };
    let users = Resource::new(
        move || {
            (
                add.version().get(),
                rows.role.version().get(),
                rows.disable.version().get(),
                rows.enable.version().get(),
                rows.delete.version().get(),
                rows.password.version().get(),
            )
        },
        |_| list_users(),
    );
    // The last change made in this page (hydrated), else what a plain form post came back with.
    let last = RwSignal::new(None::<Feedback>);
    let add_form = NodeRef::<html::Form>::new();
    Effect::new(move |_| {
        if let Some(result) = add.value().get() {
            if result.is_ok() {
                if let Some(form) = add_form.get() {
                    form.reset();
                }
            }
            last.set(Some(outcome(result, FormNotice::UserAdded)));
        }
    });
    Effect::new(move |_| {
        if let Some(r) = rows.role.value().get() {
            last.set(Some(outcome(r, FormNotice::RoleChanged)));
        }
    });
    Effect::new(move |_| {
        if let Some(r) = rows.disable.value().get() {
            last.set(Some(outcome(r, FormNotice::UserDisabled)));
        }
    });
    Effect::new(move |_| {
        if let Some(r) = rows.enable.value().get() {
            last.set(Some(outcome(r, FormNotice::UserEnabled)));
        }
    });
    Effect::new(move |_| {
        if let Some(r) = rows.delete.value().get() {
            last.set(Some(outcome(r, FormNotice::UserDeleted)));
        }
    });
    Effect::new(move |_| {
        if let Some(r) = rows.password.value().get() {
            last.set(Some(outcome(r, FormNotice::PasswordSet)));
        }
    });
    let from_query = query_feedback();
    let feedback = Memo::new(move |_| last.get().or_else(from_query));

    view! {
        <Title text="Users"/>
        <Frame title="Users">
            <PageHeading
                title="Users"
                eyebrow="Administration"
                description="People who may sign in. Admins set up the connector, run syncs, manage users and read the audit log; readers see everything else and change nothing."
            />
            <FeedbackBox feedback title="The change was not made" fields_shown=true/>
            <Transition fallback=|| view! { <p class="mt-6 text-slate-500">"Loading the users…"</p> }>
                {move || Suspend::new(async move {
                    match users.await {
                        Ok(list) => view! { <UsersTable list rows/> }.into_any(),
                        Err(e) => view! {
                            <Alert title="The users could not be loaded" message=e.to_string()/>
                        }.into_any(),
                    }
                })}
            </Transition>
            <AddUserForm add feedback form=add_form/>
            <EveryonesTokens/>
        </Frame>
    }
}

const TH: &str = "px-3 py-2 text-left text-xs font-semibold uppercase tracking-wide text-slate-500";
const SMALL_BUTTON: &str = "rounded-md px-2.5 py-1 text-xs font-semibold ring-1 ring-inset focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-600";

#[component]
fn UsersTable(list: Vec<UserSummary>, rows: RowActions) -> impl IntoView {
    view! {
        <section aria-labelledby="users-heading" class="mt-4 rounded-lg border border-slate-200 bg-white shadow-sm">
            <h2 id="users-heading" class="border-b border-slate-200 px-5 py-3 font-semibold">
                {format!("{} user{}", list.len(), if list.len() == 1 { "" } else { "s" })}
            </h2>
            <div class="overflow-x-auto">
                <table class="min-w-full divide-y divide-slate-200 text-sm">
                    <caption class="sr-only">"Users, by email"</caption>
                    <thead class="bg-slate-50">
                        <tr>
                            <th scope="col" class=TH>"Email"</th>
                            <th scope="col" class=TH>"Name"</th>
                            <th scope="col" class=TH>"Role"</th>
                            <th scope="col" class=TH>"Status"</th>
                            // Left out on narrower screens, so that the actions stay in view.
                            <th scope="col" class=format!("{TH} hidden 2xl:table-cell")>"Created"</th>
                            <th scope="col" class=TH>"Last sign-in"</th>
                            <th scope="col" class=TH>"Actions"</th>
                        </tr>
                    </thead>
                    <tbody class="divide-y divide-slate-100">
                        {list.into_iter().map(|user| view! { <UserRow user rows/> }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

#[component]
fn UserRow(user: UserSummary, rows: RowActions) -> impl IntoView {
    let role_tone = match user.role {
        Role::Admin => "bg-sky-50 text-sky-800 ring-sky-600/30",
        Role::Reader => "bg-slate-50 text-slate-700 ring-slate-500/30",
    };
    let (status, status_tone) = match user.disabled_at {
        Some(_) => ("Disabled", "bg-red-50 text-red-800 ring-red-600/30"),
        None => (
            "Active",
            "bg-emerald-50 text-emerald-800 ring-emerald-600/30",
        ),
    };
    let badge = "inline-flex rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset";
    view! {
        <tr data-testid="user-row" data-email=user.email.clone() data-role=user.role.as_str()>
            <td class="whitespace-nowrap px-3 py-2 font-medium">
                {user.email.clone()}
                {user.is_you.then(|| view! { <span class="ml-2 rounded bg-slate-100 px-1.5 py-0.5 text-xs font-normal text-slate-600">"you"</span> })}
                <span class="block text-xs font-normal text-slate-500" data-testid="sign-in-methods">
                    {sign_in_methods(user.has_password, user.sso_linked)}
                </span>
            </td>
            <td class="px-3 py-2">{user.display_name.clone().unwrap_or_default()}</td>
            <td class="whitespace-nowrap px-3 py-2"><span class=format!("{badge} {role_tone}")>{role_label(user.role)}</span></td>
            <td class="whitespace-nowrap px-3 py-2"><span class=format!("{badge} {status_tone}") data-status=status.to_lowercase()>{status}</span></td>
            <td class="hidden whitespace-nowrap px-3 py-2 2xl:table-cell"><LocalTime at=user.created_at/></td>
            <td class="px-3 py-2">
                {match user.last_sign_in_at {
                    Some(at) => view! { <LocalTime at compact=true/> }.into_any(),
                    None => view! { <span class="text-slate-500">"Never"</span> }.into_any(),
                }}
            </td>
            <td class="px-3 py-2">
                {if user.is_you {
                    view! { <span class="text-xs text-slate-500">"Your own account"</span> }.into_any()
                } else {
                    view! { <RowButtons user=user.clone() rows/> }.into_any()
                }}
            </td>
        </tr>
    }
}

/// How an account signs in, in words.
fn sign_in_methods(has_password: bool, sso_linked: bool) -> &'static str {
    match (has_password, sso_linked) {
        (true, true) => "Password · single sign-on linked",
        (true, false) => "Password",
        (false, true) => "Single sign-on (linked)",
        (false, false) => "Single sign-on (not used yet)",
    }
}

/// Role, disable/enable and delete (with a confirmation that needs no JavaScript).
#[component]
fn RowButtons(user: UserSummary, rows: RowActions) -> impl IntoView {
    let (other_role, role_text) = match user.role {
        Role::Admin => (Role::Reader, "Make reader"),
        Role::Reader => (Role::Admin, "Make admin"),
    };
    let email = user.email;
    let role_aria = format!("{role_text}: {email}");
    let plain = format!("{SMALL_BUTTON} bg-white text-slate-800 ring-slate-300 hover:bg-slate-50");
    let danger = format!("{SMALL_BUTTON} bg-white text-red-800 ring-red-300 hover:bg-red-50");
    let confirm = format!("{SMALL_BUTTON} bg-red-700 text-white ring-red-700 hover:bg-red-800");
    let hidden_id = |id: String| view! { <input type="hidden" name="id" value=id/> };
    let (role_id, switch_id, delete_id, password_id) = (
        hidden_id(user.id.clone()),
        hidden_id(user.id.clone()),
        hidden_id(user.id.clone()),
        hidden_id(user.id),
    );
    let password_label = format!("New password for {email}");
    let password_summary = format!("{plain} cursor-pointer list-none");
    // Once a password is set the panel closes and forgets what was typed.
    let (panel, form) = (
        NodeRef::<html::Details>::new(),
        NodeRef::<html::Form>::new(),
    );
    Effect::new(move |_| {
        if let Some(Ok(())) = rows.password.value().get() {
            if let Some(form) = form.get() {
                form.reset();
            }
            if let Some(panel) = panel.get() {
                panel.set_open(false);
            }
        }
    });
    let switch = if user.disabled_at.is_some() {
        let aria = format!("Enable {email}");
        let class = plain.clone();
        view! {
            <ActionForm action=rows.enable>
                {switch_id}
                <button type="submit" class=class aria-label=aria>"Enable"</button>
            </ActionForm>
        }
        .into_any()
    } else {
        let aria = format!("Disable {email}");
        let class = plain.clone();
        view! {
            <ActionForm action=rows.disable>
                {switch_id}
                <button type="submit" class=class aria-label=aria>"Disable"</button>
            </ActionForm>
        }
        .into_any()
    };
    view! {
        <div class="flex flex-wrap items-center gap-2">
            <ActionForm action=rows.role>
                {role_id}
                <input type="hidden" name="role" value=other_role.as_str()/>
                <button type="submit" class=plain aria-label=role_aria>{role_text}</button>
            </ActionForm>
            {switch}
            // A forgotten password, or password sign-in for an account of single sign-on.
            <details node_ref=panel>
                <summary class=password_summary>"Password…"</summary>
                <div class="mt-2 w-64 rounded-md border border-slate-200 bg-slate-50 p-3 text-xs">
                    <ActionForm action=rows.password node_ref=form>
                        {password_id}
                        <label class="block text-slate-700">
                            {password_label}
                            <input type="password" name="password" required minlength="12" autocomplete="new-password" class="mt-1 block w-full rounded-md border border-slate-300 bg-white px-2 py-1 text-sm"/>
                        </label>
                        <p class="mt-1 text-slate-500">"At least 12 characters. Their sessions end."</p>
                        <button type="submit" class=format!("{SMALL_BUTTON} mt-2 bg-sky-700 text-white ring-sky-700 hover:bg-sky-800")>"Set password"</button>
                    </ActionForm>
                </div>
            </details>
            <details>
                <summary class=format!("{danger} cursor-pointer list-none")>"Delete…"</summary>
                <div class="mt-2 w-64 rounded-md border border-red-200 bg-red-50/40 p-3 text-xs">
                    <p class="text-slate-700">"Delete " <span class="font-semibold">{email}</span> "? They can no longer sign in. The audit log keeps what they did."</p>
                    <ActionForm action=rows.delete attr:class="mt-2">
                        {delete_id}
                        <button type="submit" class=confirm>"Delete user"</button>
                    </ActionForm>
                </div>
            </details>
        </div>
    }
}

/// The initial password: required, unless single sign-on (the provider `sso`) is on.
#[component]
fn PasswordField(sso: Option<String>, feedback: Memo<Option<Feedback>>) -> impl IntoView {
    match sso {
        Some(name) => {
            let hint: &'static str = if name == "Microsoft" {
                "Optional. Leave it empty and the person signs in only with Microsoft, using this email address. Else at least 12 characters."
            } else {
                "Optional. Leave it empty and the person signs in only with single sign-on, using this email address. Else at least 12 characters."
            };
            view! {
                <Field id="add-user-password" name="password" label="Initial password (optional)" kind="password" autocomplete="new-password" hint feedback/>
            }
            .into_any()
        }
        None => view! {
            <Field
                id="add-user-password"
                name="password"
                label="Initial password"
                kind="password"
                autocomplete="new-password"
                required=true
                hint="At least 12 characters. Give it to the person in a safe way."
                feedback
            />
        }
        .into_any(),
    }
}

/// Email, name, role and an initial password (or none, for single sign-on only).
#[component]
fn AddUserForm(
    add: ServerAction<AddUser>,
    feedback: Memo<Option<Feedback>>,
    form: NodeRef<html::Form>,
) -> impl IntoView {
    let pending = add.pending();
    let sso = Resource::new(|| (), |_| single_sign_on());
    let select = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-sky-600 focus:outline-none focus:ring-1 focus:ring-sky-600";
    view! {
        <section aria-labelledby="add-user-heading" class="mt-6 max-w-3xl rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
            <h2 id="add-user-heading" class="font-semibold">"Add a user"</h2>
            <ActionForm action=add node_ref=form attr:class="mt-3 grid gap-4 sm:grid-cols-2" attr:aria-labelledby="add-user-heading">
                <Field id="add-user-email" name="email" label="Email address" kind="email" autocomplete="off" required=true feedback/>
                <Field id="add-user-name" name="display_name" label="Display name (optional)" autocomplete="off" feedback/>
                <div>
                    <label for="add-user-role" class=LABEL>"Role"</label>
                    <select id="add-user-role" name="role" class=select>
                        <option value=Role::Reader.as_str() selected>"Reader – sees everything, changes nothing"</option>
                        <option value=Role::Admin.as_str()>"Admin – sets up, syncs, manages users"</option>
                    </select>
                </div>
                // With single sign-on the password may stay empty: the person then signs in
                // only through the provider, with this email address.
                <Suspense fallback=move || view! { <PasswordField sso=None feedback/> }>
                    {move || Suspend::new(async move {
                        let sso = sso.await.ok().flatten();
                        view! { <PasswordField sso feedback/> }
                    })}
                </Suspense>
                <div class="sm:col-span-2">
                    <button
                        type="submit"
                        disabled=move || pending.get()
                        class="rounded-md bg-sky-700 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-sky-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-600 focus-visible:ring-offset-2 disabled:cursor-wait disabled:opacity-70"
                    >
                        {move || if pending.get() { "Adding…" } else { "Add user" }}
                    </button>
                </div>
            </ActionForm>
        </section>
    }
}

/// Every person's API tokens, with their owner: an admin revokes one that leaked or that a
/// departed colleague's script no longer needs.
#[component]
fn EveryonesTokens() -> impl IntoView {
    let revoke = ServerAction::<RevokeApiToken>::new();
    let tokens = Resource::new(move || revoke.version().get(), |_| all_api_tokens());
    let last = RwSignal::new(None::<TokenOutcome>);
    show_revoked(revoke, last);
    view! {
        <section aria-labelledby="all-tokens-heading" class="mt-6 rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
            <h2 id="all-tokens-heading" class="font-semibold">"API tokens"</h2>
            <p class="mt-1 text-sm text-slate-600">"Every person's tokens for the REST API. People create their own on Your account; a disabled person's tokens stop working with them."</p>
            <Transition fallback=|| view! { <p class="mt-4 text-sm text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(page) => view! { <TokenPanel page last revoke owners=true/> }.into_any(),
                        Err(e) => view! {
                            <Alert title="The API tokens could not be loaded" message=e.to_string()/>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finished_change_says_what_happened_and_names_the_field_it_refused() {
        let done = outcome(Ok(()), FormNotice::RoleChanged);
        assert!(done.success);
        assert_eq!(done.message, "The role was changed.");
        let refused = outcome(
            Err(ApiError::Conflict {
                message: FormNotice::LastAdmin.message().into(),
            }),
            FormNotice::RoleChanged,
        );
        assert!(!refused.success);
        assert_eq!(refused.field, None);
        let taken = outcome(
            Err(ApiError::Invalid {
                field: "email".into(),
                message: FormNotice::EmailTaken.message().into(),
            }),
            FormNotice::UserAdded,
        );
        assert_eq!(taken.field, Some("email"));
    }
}
