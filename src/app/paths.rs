//! Paths of the pages and routes that sign-in, users, the audit log and the delegated set-up
//! add (the connector and history paths live in `layout` and `query`).

/// The sign-in page (`?next=` is where to go afterwards).
pub const SIGN_IN: &str = "/sign-in";
/// The one-time page that creates the first admin (`?token=` from the server log).
pub const FIRST_ADMIN: &str = "/first-admin";
/// Your own account: how you sign in, your password.
pub const ACCOUNT: &str = "/account";
/// Users and roles (admins only).
pub const USERS: &str = "/admin/users";
/// Alert webhooks: destinations, their events, deliveries (admins only).
pub const NOTIFICATIONS: &str = "/admin/notifications";
/// The audit log (admins only).
pub const AUDIT_LOG: &str = "/admin/audit-log";
/// The audit log as CSV (admins only; the page's filters as query).
pub const AUDIT_LOG_CSV: &str = "/admin/audit-log.csv";
/// Starts the delegated set-up: a redirect to Microsoft's (or the simulator's) consent page.
pub const EXCHANGE_CONSENT_START: &str = "/auth/exchange/start";
/// Where the consent page sends the admin back (`?code=&state=`).
pub const EXCHANGE_CONSENT_CALLBACK: &str = "/auth/exchange/callback";

/// Single sign-on: a redirect to the OpenID provider (`?next=` is where to go afterwards).
pub const SSO_START: &str = "/auth/sso/start";
/// Where the OpenID provider sends the person back (`?code=&state=`).
pub const SSO_CALLBACK: &str = "/auth/sso/callback";

/// The device list ("Monitor Exchange conditional access"); a device is under it
/// (`{DEVICES}/{guid}`).
pub const DEVICES: &str = "/conditional-access/devices";
/// The device list as CSV (the page's query as query).
pub const DEVICES_CSV: &str = "/conditional-access/devices.csv";
/// The organization's access settings and device access rules, each change previewed.
pub const EXCHANGE_ACCESS: &str = "/conditional-access/exchange-access";
/// EAS 16.1 readiness and stale partnerships.
pub const READINESS: &str = "/conditional-access/readiness";

/// The address of one device's page.
pub fn device(guid: &str) -> String {
    format!("{DEVICES}/{}", crate::app::query::escape(guid))
}

/// Paths anyone may open without signing in.
pub const PUBLIC_PAGES: &[&str] = &[SIGN_IN, FIRST_ADMIN];
/// Pages only admins may open.
pub const ADMIN_PAGES: &[&str] = &[USERS, NOTIFICATIONS, AUDIT_LOG];
