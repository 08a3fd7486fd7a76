//! "Sign in": email and password. A plain form post without JavaScript (the server redirects
//! to where the person was going, or back here with a notice); in place once hydrated. While
//! no admin exists it says how to create the first one.
//!
//! Also the form pieces the other account pages share: a labelled field with its error, the
//! success box, and [`Feedback`] (what a form's last outcome says, and about which field).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{first_admin_needed, safe_next, single_sign_on, SignIn};
use crate::app::components::alert::Alert;
use crate::app::components::icons::{CheckCircleIcon, SpinnerIcon};
use crate::app::layout::PublicFrame;
use crate::app::page_data::first;
use crate::error::ApiError;
use crate::model::FormNotice;

/// What a form's last outcome says: from the action when it ran in this page, else from the
/// `?notice=` a plain form post came back with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Feedback {
    pub message: String,
    /// The field it is about, when one of the form's.
    pub field: Option<&'static str>,
    pub success: bool,
}

impl Feedback {
    /// A server function's error; `Invalid` errors name one of `fields`.
    pub fn from_error(error: &ApiError, fields: &[&'static str]) -> Self {
        let (message, field) = match error {
            ApiError::Invalid { field, message } => match fields.iter().find(|f| *f == field) {
                Some(f) => (message.clone(), Some(*f)),
                None => (error.to_string(), None),
            },
            other => (other.to_string(), None),
        };
        Self {
            message,
            field,
            success: false,
        }
    }

    /// The notice `code` (with `wait` minutes when throttled); unknown codes say nothing.
    pub fn from_notice(code: Option<&str>, wait: Option<&str>) -> Option<Self> {
        let notice = FormNotice::parse(code?)?;
        let minutes = wait
            .and_then(|w| w.parse::<u64>().ok())
            .filter(|m| (1..=24 * 60).contains(m));
        let message = match (notice, minutes) {
            (FormNotice::Throttled, Some(m)) => FormNotice::throttled(m),
            _ => notice.message().to_owned(),
        };
        Some(Self {
            message,
            field: notice.field(),
            success: notice.is_success(),
        })
    }

    /// The outcome of `action` if it ran in this page (`version` > 0), else of the query.
    pub fn pick<T>(
        version: usize,
        value: Option<Result<T, ApiError>>,
        fields: &[&'static str],
        query: impl FnOnce() -> Option<Self>,
    ) -> Option<Self> {
        if version == 0 {
            // A query `__err` from another page's failed post is not read: only our notices.
            return query();
        }
        match value? {
            Ok(_) => None,
            Err(e) => Some(Self::from_error(&e, fields)),
        }
    }
}

/// The feedback of the query's `notice` and `wait`.
pub fn query_feedback() -> impl Fn() -> Option<Feedback> + Copy + Send + Sync + 'static {
    let query = use_query_map();
    move || query.with(|q| Feedback::from_notice(q.get_str("notice"), q.get_str("wait")))
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let next = Memo::new(move |_| {
        query
            .with(|q| q.get("next"))
            .filter(|n| safe_next(Some(n)) == *n)
    });
    let sign_in = ServerAction::<SignIn>::new();
    let needs_admin = Resource::new(|| (), |_| first_admin_needed());
    let sso = Resource::new(|| (), |_| single_sign_on());
    let navigate = use_navigate();
    // Hydrated: the session cookie is set; on to where the person was going.
    Effect::new(move |_| {
        if let Some(Ok(_)) = sign_in.value().get() {
            navigate(
                &safe_next(next.get_untracked().as_deref()),
                Default::default(),
            );
        }
    });
    let from_query = query_feedback();
    let feedback = Memo::new(move |_| {
        Feedback::pick(
            sign_in.version().get(),
            sign_in.value().get(),
            &["email", "password"],
            from_query,
        )
    });
    let invalid = move |field: &'static str| {
        feedback
            .with(|f| f.as_ref().is_some_and(|f| f.field == Some(field)))
            .then_some("true")
    };
    let pending = sign_in.pending();

    view! {
        <Title text="Sign in"/>
        <PublicFrame>
            <h1 class="text-2xl font-semibold">"Sign in"</h1>
            <p class="mt-1 text-sm text-slate-600">"to the Exchange service connector"</p>
            <FeedbackBox feedback title="Sign-in failed"/>
            // Plain `Suspend`s, not `Suspense`s: the page is sent finished either way (`page_data`).
            {Suspend::new(async move {
                first(sso).await.ok().flatten().map(|name| view! { <SingleSignOn name next/> })
            })}
            <ActionForm action=sign_in attr:class="mt-6 space-y-4" attr:aria-label="Sign in">
                <div>
                    <label for="sign-in-email" class=LABEL>"Email address"</label>
                    <input
                        id="sign-in-email"
                        name="email"
                        type="email"
                        autocomplete="username"
                        required
                        autofocus
                        class=INPUT
                        aria-invalid=move || invalid("email")
                    />
                </div>
                <div>
                    <label for="sign-in-password" class=LABEL>"Password"</label>
                    <input
                        id="sign-in-password"
                        name="password"
                        type="password"
                        autocomplete="current-password"
                        required
                        class=INPUT
                        aria-invalid=move || invalid("password")
                    />
                </div>
                <input type="hidden" name="next" value=move || next.get().unwrap_or_default()/>
                <SubmitButton pending label="Sign in" busy_label="Signing in…"/>
            </ActionForm>
            <p class="mt-4 text-xs text-slate-500">
                "Forgot your password? An admin can set a new one for you on the Users page."
            </p>
            {Suspend::new(async move {
                first(needs_admin).await.unwrap_or(false).then(|| view! { <NoAdminYet/> })
            })}
        </PublicFrame>
    }
}

/// "Sign in with Microsoft": a plain link to the provider (no JavaScript needed), then the
/// password form below an "or".
#[component]
fn SingleSignOn(name: String, next: Memo<Option<String>>) -> impl IntoView {
    let href = move || {
        let mut query = String::new();
        if let Some(n) = next.get() {
            query = format!("?next={}", crate::app::query::escape(&n));
        }
        format!("{}{query}", crate::app::paths::SSO_START)
    };
    view! {
        <a
            href=href
            rel="external"
            data-testid="sso-sign-in"
            class="mt-6 inline-flex w-full items-center justify-center gap-2 rounded-md border border-slate-300 bg-white px-4 py-2 text-sm font-semibold text-slate-800 shadow-sm hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-600 focus-visible:ring-offset-2"
        >
            {(name == "Microsoft").then(|| view! {
                <span aria-hidden="true" class="grid h-4 w-4 grid-cols-2 gap-px">
                    <span class="bg-[#f25022]"></span>
                    <span class="bg-[#7fba00]"></span>
                    <span class="bg-[#00a4ef]"></span>
                    <span class="bg-[#ffb900]"></span>
                </span>
            })}
            {format!("Sign in with {name}")}
        </a>
        <p class="mt-6 flex items-center gap-3 text-xs uppercase tracking-wide text-slate-500" aria-hidden="true">
            <span class="h-px flex-1 bg-slate-200"></span>
            "or with a password"
            <span class="h-px flex-1 bg-slate-200"></span>
        </p>
    }
}

/// How to create the first admin (shown while none exists).
#[component]
fn NoAdminYet() -> impl IntoView {
    view! {
        <section aria-labelledby="no-admin-heading" class="mt-8 rounded-md border border-sky-200 bg-sky-50 p-4 text-sm text-sky-950" data-testid="no-admin-yet">
            <h2 id="no-admin-heading" class="font-semibold">"No admin account yet"</h2>
            <p class="mt-1">
                "Open the one-time link the server printed in its log when it started ("
                <span class="font-mono">"…/first-admin?token=…"</span>
                "), or run this on the server:"
            </p>
            <pre class="mt-2 overflow-x-auto rounded bg-white px-3 py-2 font-mono text-xs text-slate-800 ring-1 ring-inset ring-sky-200">
                "exchange-connector admin create --email you@example.com"
            </pre>
        </section>
    }
}

/// Label classes of the account forms.
pub const LABEL: &str = "block text-sm font-medium text-slate-700";
/// Input classes of the account forms (red while `aria-invalid`).
pub const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-sky-600 focus:outline-none focus:ring-1 focus:ring-sky-600 aria-[invalid=true]:border-red-500 aria-[invalid=true]:ring-red-500";

/// The outcome box: green for a success, the red `Alert` (titled `title`) otherwise; field
/// errors are shown here too unless `fields_shown` (the form shows them by its fields).
#[component]
pub fn FeedbackBox(
    #[prop(into)] feedback: Signal<Option<Feedback>>,
    title: &'static str,
    #[prop(optional)] fields_shown: bool,
) -> impl IntoView {
    move || {
        let f = feedback.get()?;
        if f.success {
            Some(view! { <SuccessBox message=f.message/> }.into_any())
        } else if f.field.is_some() && fields_shown {
            None
        } else {
            Some(view! { <Alert title message=f.message/> }.into_any())
        }
    }
}

/// The green box of a change that was made.
#[component]
pub fn SuccessBox(#[prop(into)] message: String) -> impl IntoView {
    view! {
        <div role="status" class="mt-4 flex gap-3 rounded-md border border-emerald-200 bg-emerald-50 p-4 text-sm text-emerald-900">
            <CheckCircleIcon class="h-5 w-5 shrink-0 text-emerald-600"/>
            <p>{message}</p>
        </div>
    }
}

/// A labelled input with its error below (linked by `aria-describedby`).
#[component]
pub fn Field(
    id: &'static str,
    name: &'static str,
    label: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] autocomplete: &'static str,
    #[prop(optional)] required: bool,
    #[prop(optional)] hint: &'static str,
    #[prop(into)] feedback: Signal<Option<Feedback>>,
) -> impl IntoView {
    let error = move || {
        feedback
            .get()
            .filter(|f| !f.success && f.field == Some(name))
            .map(|f| f.message)
    };
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = {
        let (error_id, hint_id) = (error_id.clone(), hint_id.clone());
        move || {
            let mut ids = Vec::new();
            if !hint.is_empty() {
                ids.push(hint_id.clone());
            }
            if error().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div>
            <label for=id class=LABEL>{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=(!autocomplete.is_empty()).then_some(autocomplete)
                required=required
                class=INPUT
                aria-invalid=move || error().is_some().then_some("true")
                aria-describedby=described
            />
            {(!hint.is_empty()).then(|| view! { <p id=hint_id class="mt-1 text-xs text-slate-500">{hint}</p> })}
            <p id=error_id class="mt-1 text-sm text-red-700" data-testid=format!("{name}-error")>{error}</p>
        </div>
    }
}

/// The form's submit button, with a spinner while the action runs.
#[component]
pub fn SubmitButton(
    pending: Memo<bool>,
    label: &'static str,
    busy_label: &'static str,
) -> impl IntoView {
    view! {
        <button
            type="submit"
            disabled=move || pending.get()
            class="inline-flex w-full items-center justify-center gap-2 rounded-md bg-sky-700 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-sky-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-600 focus-visible:ring-offset-2 disabled:cursor-wait disabled:opacity-70"
        >
            {move || pending.get().then(|| view! { <SpinnerIcon class="h-4 w-4"/> })}
            {move || if pending.get() { busy_label } else { label }}
        </button>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_says_only_its_own_fixed_words() {
        let f = Feedback::from_notice(Some("sign-in-failed"), None).expect("known");
        assert_eq!(f.message, "The email address or password is not right.");
        assert_eq!(f.field, Some("password"));
        assert!(!f.success);
        assert_eq!(
            Feedback::from_notice(Some("Your account is locked"), None),
            None
        );
        assert_eq!(Feedback::from_notice(None, None), None);
        let signed_out = Feedback::from_notice(Some("signed-out"), None).expect("known");
        assert!(signed_out.success);
    }

    #[test]
    fn a_throttled_notice_names_a_sensible_wait_or_none() {
        let wait = |w| {
            Feedback::from_notice(Some("throttled"), w)
                .expect("known")
                .message
        };
        assert_eq!(
            wait(Some("15")),
            "Too many failed sign-ins. Wait 15 minutes and try again."
        );
        assert_eq!(
            wait(Some("1")),
            "Too many failed sign-ins. Wait 1 minute and try again."
        );
        for odd in [None, Some("0"), Some("-3"), Some("999999"), Some("soon")] {
            assert_eq!(
                wait(odd),
                "Too many failed sign-ins. Wait a while and try again."
            );
        }
    }

    #[test]
    fn the_action_wins_over_the_query_once_it_has_run() {
        let query = || Feedback::from_notice(Some("sign-in-failed"), None);
        let none: Option<Result<(), ApiError>> = None;
        assert_eq!(Feedback::pick(0, none.clone(), &["email"], query), query());
        assert_eq!(Feedback::pick(1, Some(Ok(())), &["email"], query), None);
        let invalid = ApiError::Invalid {
            field: "email".into(),
            message: "Enter your email address.".into(),
        };
        let f = Feedback::pick(1, Some(Err::<(), _>(invalid.clone())), &["email"], query)
            .expect("error");
        assert_eq!(f.field, Some("email"));
        assert_eq!(f.message, "Enter your email address.");
        // An Invalid about something the form does not have reads as a whole message.
        let f =
            Feedback::pick(1, Some(Err::<(), _>(invalid)), &["password"], query).expect("error");
        assert_eq!(f.field, None);
        assert_eq!(f.message, "email: Enter your email address.");
        let throttled = ApiError::TooManyRequests {
            message: "Too many failed sign-ins. Wait 3 minutes and try again.".into(),
        };
        let f = Feedback::pick(2, Some(Err::<(), _>(throttled)), &["email"], query).expect("error");
        assert_eq!(
            f.message,
            "Too many failed sign-ins. Wait 3 minutes and try again."
        );
    }
}
