//! Sessions in the database (tower-sessions with its SQLite store): an `HttpOnly`,
//! `SameSite=Lax` cookie, `Secure` when served over HTTPS, ended after the configured idle time;
//! expired rows are deleted in the background. Activity moves a session's stored end forward
//! at most once a minute ([`Store`]), not on every request, and never brings back a session
//! that was ended while a request of it ran.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tower_sessions::cookie::time;
use tower_sessions::cookie::SameSite;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::SqliteStore;

use super::super::config::SecuritySettings;
use super::super::db::users::{self, UserRow};
use super::super::state::Background;
use super::{Account, ACCOUNT, USER_ID};

/// The session cookie's name.
pub(crate) const COOKIE: &str = "ec_session";

/// The sessions' table.
const TABLE: &str = "sessions";

/// Creates the session table if needed and returns the store.
pub(crate) async fn store(pool: sqlx::SqlitePool) -> Result<SqliteStore, sqlx::Error> {
    let store = SqliteStore::new(pool)
        .with_table_name(TABLE)
        .map_err(|e| sqlx::Error::Configuration(e.into()))?;
    store.migrate().await?;
    Ok(store)
}

/// Sessions remembered (what the database last gave or took for each); past this, the memory
/// is cleared (a session then is written once more than needed). Expired sessions are deleted
/// by the cleanup task, not through the store: their memory goes with this clearing.
const MAX_REMEMBERED: usize = 50_000;

/// The SQLite store, writing a session only when its data changed or its stored end is older
/// than `refresh` (`SecuritySettings::session_refresh`, a minute) than the end activity gives
/// it: activity (which re-sets the expiry on every signed-in request)
/// costs one database write a minute per session instead of one per request. Reads go to the
/// database every time, so a session ended elsewhere (signed out, disabled) ends here at once.
///
/// A session row names its signed-in account (`user_id`), and a read returns the account
/// with the session, from the same query, under [`ACCOUNT`] (taken out again before any write).
#[derive(Clone, Debug)]
pub(crate) struct Store {
    inner: SqliteStore,
    /// The store's database, for [`Store::save`]'s update and [`Store::load`]'s read.
    pool: sqlx::SqlitePool,
    refresh: time::Duration,
    /// What each session read from the database holds: its data and its stored end.
    stored: Arc<Mutex<HashMap<Id, Record>>>,
    /// The read of a session and its account.
    load_sql: Arc<str>,
}

impl Store {
    pub(crate) fn new(inner: SqliteStore, pool: sqlx::SqlitePool, refresh: time::Duration) -> Self {
        let load_sql = format!(
            "SELECT s.data, {} FROM {TABLE} s LEFT JOIN users u ON u.id = s.user_id \
             WHERE s.id = ?1 AND s.expiry_date > ?2",
            users::columns_as("u")
        );
        Self {
            inner,
            pool,
            refresh,
            stored: Arc::default(),
            load_sql: load_sql.into(),
        }
    }

    fn remember(&self, record: &Record) {
        let mut stored = self.stored.lock().unwrap_or_else(|e| e.into_inner());
        if stored.len() >= MAX_REMEMBERED {
            stored.clear();
        }
        stored.insert(record.id, record.clone());
    }

    fn forget(&self, id: &Id) {
        self.stored
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }

    fn needs_write(&self, record: &Record) -> bool {
        let stored = self.stored.lock().unwrap_or_else(|e| e.into_inner());
        needs_write(stored.get(&record.id), record, self.refresh)
    }
}

/// `record` as it is stored: without the account a read attached.
fn stored_part(record: &Record) -> Record {
    let mut record = record.clone();
    record.data.remove(ACCOUNT);
    record
}

/// The signed-in account's id in `record`'s data, if any.
fn user_id(record: &Record) -> Option<&str> {
    record.data.get(USER_ID).and_then(serde_json::Value::as_str)
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

/// Whether `record` needs writing, given what the database holds for it.
fn needs_write(stored: Option<&Record>, record: &Record, refresh: time::Duration) -> bool {
    match stored {
        Some(s) => {
            s.data != record.data
                || record.expiry_date < s.expiry_date
                || record.expiry_date - s.expiry_date >= refresh
        }
        None => true,
    }
}

#[async_trait::async_trait]
impl SessionStore for Store {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let mut stored = stored_part(record);
        self.inner.create(&mut stored).await?;
        // Its id may have been drawn again (a collision).
        record.id = stored.id;
        if let Some(user) = user_id(&stored) {
            sqlx::query(&format!("UPDATE {TABLE} SET user_id = ?1 WHERE id = ?2"))
                .bind(user)
                .bind(stored.id.to_string())
                .execute(&self.pool)
                .await
                .map_err(backend)?;
        }
        self.remember(&stored);
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let record = &stored_part(record);
        // What is remembered stays for the session's other requests under way: each of them
        // compares with what the database holds, not with nothing.
        if !self.needs_write(record) {
            return Ok(());
        }
        // Only a session read from the database is saved (a new one, or one with a new id, is
        // created): one that is no longer there was ended while this request ran (signed out,
        // disabled, expired) and stays ended. The store's own save would write it back. The
        // record is encoded as the store encodes and reads it.
        let data =
            rmp_serde::to_vec(record).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let done = sqlx::query(&format!(
            "UPDATE {TABLE} SET data = ?1, expiry_date = ?2, user_id = ?4 WHERE id = ?3"
        ))
        .bind(data)
        .bind(record.expiry_date)
        .bind(record.id.to_string())
        .bind(user_id(record))
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        if done.rows_affected() == 1 {
            self.remember(record);
        } else {
            self.forget(&record.id);
        }
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        use sqlx::{FromRow, Row};

        let row = sqlx::query(&self.load_sql)
            .bind(id.to_string())
            .bind(time::OffsetDateTime::now_utc())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        let Some(row) = row else {
            self.forget(id);
            return Ok(None);
        };
        let data: Vec<u8> = row.try_get("data").map_err(backend)?;
        let mut record: Record = rmp_serde::from_slice(&data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        self.remember(&record);
        // The account the row names, when it is still there.
        if row
            .try_get::<Option<String>, _>("id")
            .map_err(backend)?
            .is_some()
        {
            let account = Account::from(UserRow::from_row(&row).map_err(backend)?);
            let value = serde_json::to_value(account)
                .map_err(|e| session_store::Error::Encode(e.to_string()))?;
            record.data.insert(ACCOUNT.to_owned(), value);
        }
        Ok(Some(record))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.forget(id);
        self.inner.delete(id).await
    }
}

/// The session layer for the router.
pub(crate) fn layer(
    store: SqliteStore,
    pool: sqlx::SqlitePool,
    settings: &SecuritySettings,
) -> SessionManagerLayer<Store> {
    let idle =
        time::Duration::seconds(i64::try_from(settings.session_idle.as_secs()).unwrap_or(1800));
    let refresh =
        time::Duration::seconds(i64::try_from(settings.session_refresh.as_secs()).unwrap_or(60));
    SessionManagerLayer::new(Store::new(store, pool, refresh))
        .with_name(COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(settings.https())
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle))
}

/// Deletes expired sessions every few minutes until shutdown.
pub(crate) fn spawn_cleanup(store: SqliteStore, background: &Background) {
    let cancel = background.cancel.clone();
    background.spawn_worker("session cleanup", async move {
        tokio::select! {
            () = cancel.cancelled() => {}
            r = store.continuously_delete_expired(Duration::from_secs(300)) => {
                if let Err(e) = r {
                    tracing::warn!(error = %e, "expired sessions are no longer deleted");
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(expiry: time::OffsetDateTime, user: &str) -> Record {
        Record {
            id: Id::default(),
            data: [("user".to_owned(), serde_json::json!(user))].into(),
            expiry_date: expiry,
        }
    }

    #[test]
    fn an_unchanged_session_is_written_once_its_stored_end_is_a_minute_behind() {
        let now = time::OffsetDateTime::now_utc();
        let minute = time::Duration::seconds(60);
        let stored = record(now, "a");
        let at = |secs: i64| Record {
            expiry_date: now + time::Duration::seconds(secs),
            ..stored.clone()
        };
        let write = |stored: Option<&Record>, record: &Record| needs_write(stored, record, minute);
        assert!(write(None, &at(0)), "nothing read: written");
        assert!(!write(Some(&stored), &at(0)));
        assert!(
            !write(Some(&stored), &at(59)),
            "less than a minute: not written"
        );
        assert!(write(Some(&stored), &at(60)), "a minute: written");
        assert!(write(Some(&stored), &at(-1)), "an earlier end: written");
        let changed = Record {
            data: record(now, "b").data,
            ..at(1)
        };
        assert!(write(Some(&stored), &changed), "new data: written at once");
    }

    /// A store on a new database file (kept while the directory lives), its SQLite store
    /// underneath, and this store over it writing at most once a minute.
    async fn sessions() -> (tempfile::TempDir, SqliteStore, Store) {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("s.db").display());
        let db = crate::server::db::Db::open(&url).await.expect("db");
        let inner = store(db.pool().clone()).await.expect("store");
        let minute = time::Duration::seconds(60);
        let sessions = Store::new(inner.clone(), db.pool().clone(), minute);
        (dir, inner, sessions)
    }

    /// Two requests of one session under way at once (a page and its server functions, or a
    /// browser's parallel loads): neither writes while the stored end is less than a minute
    /// behind, and once it is, one write brings it forward.
    #[tokio::test]
    async fn parallel_requests_of_one_session_do_not_write_it_each_time() {
        let (_dir, inner, sessions) = sessions().await;
        let now = time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .expect("now");
        let mut first = record(now, "a");
        sessions.create(&mut first).await.expect("create");
        let id = first.id;
        // What the database holds, past the store's memory.
        let stored_end = || async {
            let stored = inner.load(&id).await.expect("read");
            stored.expect("stored").expiry_date
        };
        let later = |r: Record, secs: i64| Record {
            expiry_date: now + time::Duration::seconds(secs),
            ..r
        };
        let both = || async {
            let a = sessions.load(&id).await.expect("load").expect("a");
            let b = sessions.load(&id).await.expect("load").expect("b");
            (a, b)
        };

        // Both load, then both save with their later ends.
        let (a, b) = both().await;
        sessions.save(&later(a, 5)).await.expect("save");
        sessions.save(&later(b, 6)).await.expect("save");
        assert_eq!(stored_end().await, now, "seconds later: not written");

        let (a, b) = both().await;
        sessions.save(&later(a, 61)).await.expect("save");
        let moved = now + time::Duration::seconds(61);
        assert_eq!(stored_end().await, moved, "a minute later: written");
        // The other request, ending a second later, finds the end already moved.
        sessions.save(&later(b, 62)).await.expect("save");
        assert_eq!(
            stored_end().await,
            moved,
            "written once, not by each request"
        );
    }

    /// A session read from the store carries its account as the database holds it at that
    /// read (role, disabled, epoch: a change shows at the next read), and never stores it.
    #[tokio::test]
    async fn a_session_is_read_with_its_account_which_is_never_stored() {
        use crate::model::Role;

        let (_dir, inner, sessions) = sessions().await;
        let pool = sessions.pool.clone();
        let now = chrono::Utc::now();
        let _admin = users::insert(&pool, "a@example.com", None, Role::Admin, None, now)
            .await
            .expect("admin");
        let reader = users::insert(&pool, "r@example.com", Some("R"), Role::Reader, None, now)
            .await
            .expect("reader");
        let fetch = |id: &Id| {
            let (sessions, id) = (sessions.clone(), *id);
            async move { sessions.load(&id).await.expect("load").expect("read") }
        };
        let account = |r: &Record| {
            r.data
                .get(ACCOUNT)
                .map(|v| serde_json::from_value::<Account>(v.clone()).expect("account"))
        };
        let end = time::OffsetDateTime::now_utc() + time::Duration::minutes(30);
        let mut signed_in = Record {
            id: Id::default(),
            data: [(USER_ID.to_owned(), serde_json::json!(reader))].into(),
            expiry_date: end,
        };
        sessions.create(&mut signed_in).await.expect("create");
        let mut anonymous = record(end, "nobody");
        sessions.create(&mut anonymous).await.expect("create");

        let read = fetch(&signed_in.id).await;
        let carried = account(&read).expect("carried");
        assert_eq!(
            (carried.id.as_str(), carried.email.as_str(), carried.role),
            (reader.as_str(), "r@example.com", Role::Reader)
        );
        assert!(!carried.disabled);
        let nobody = fetch(&anonymous.id).await;
        assert_eq!(account(&nobody), None, "nobody signed in: no account");

        // A change to the account shows at the next read.
        users::set_role_keeping_an_admin(&pool, &reader, Role::Admin)
            .await
            .expect("role");
        let read = fetch(&signed_in.id).await;
        assert_eq!(account(&read).expect("carried").role, Role::Admin);
        assert!(users::disable_keeping_an_admin(&pool, &reader, now)
            .await
            .expect("disable"));
        let read = fetch(&signed_in.id).await;
        let carried = account(&read).expect("carried");
        assert!(carried.disabled);
        assert_eq!(carried.session_epoch, 1, "disabling raised the epoch");

        // Saved with new data (what a request writes back): the account is not stored.
        let mut changed = read.clone();
        changed
            .data
            .insert("flash".to_owned(), serde_json::json!("x"));
        sessions.save(&changed).await.expect("save");
        let raw = inner
            .load(&signed_in.id)
            .await
            .expect("read")
            .expect("stored");
        assert_eq!(raw.data.get(ACCOUNT), None);
        assert_eq!(raw.data.get("flash"), Some(&serde_json::json!("x")));

        // A deleted account: the session reads without one.
        assert!(users::delete_keeping_an_admin(&pool, &reader)
            .await
            .expect("delete"));
        let read = fetch(&signed_in.id).await;
        assert_eq!(account(&read), None);
    }

    /// Signed out (or disabled, or expired) while another request of the session runs: that
    /// request's save does not bring the session back.
    #[tokio::test]
    async fn a_session_ended_during_a_request_stays_ended() {
        let (_dir, inner, sessions) = sessions().await;
        let now = time::OffsetDateTime::now_utc();
        let mut first = record(now + time::Duration::minutes(30), "a");
        sessions.create(&mut first).await.expect("create");

        let running = sessions
            .load(&first.id)
            .await
            .expect("load")
            .expect("loaded");
        sessions.delete(&first.id).await.expect("sign out");
        // Its end a while later and new data: it would be written.
        let mut late = Record {
            expiry_date: running.expiry_date + time::Duration::minutes(5),
            ..running
        };
        late.data.insert("flash".to_owned(), serde_json::json!("x"));
        sessions.save(&late).await.expect("save");
        assert!(inner.load(&first.id).await.expect("read").is_none());

        // A session still there is saved.
        let mut other = record(now + time::Duration::minutes(30), "b");
        sessions.create(&mut other).await.expect("create");
        let loaded = sessions
            .load(&other.id)
            .await
            .expect("load")
            .expect("loaded");
        let mut changed = loaded.clone();
        changed
            .data
            .insert("flash".to_owned(), serde_json::json!("y"));
        sessions.save(&changed).await.expect("save");
        let stored = inner.load(&other.id).await.expect("read").expect("stored");
        assert_eq!(stored.data, changed.data);
    }
}
