//! Storage: the pool, migrations, and one module per table group. SQLite today; the SQL stays
//! portable so PostgreSQL can follow with mirrored migrations.

pub(crate) mod api_tokens;
pub(crate) mod audit;
pub(crate) mod connectors;
pub(crate) mod device_events;
pub(crate) mod device_list;
pub(crate) mod devices;
pub(crate) mod exchange_config;
pub(crate) mod staging;
pub(crate) mod sync_runs;
pub(crate) mod users;
pub(crate) mod webhooks;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

/// How every transaction that writes begins: it takes the write lock at once, waiting for other
/// writers (up to the busy timeout). A plain `BEGIN` takes it at the first write, and when the
/// transaction has read before and another connection has written since, SQLite refuses at
/// once ("database is locked", BUSY_SNAPSHOT) instead of waiting. Every signed-in request
/// writes its session, so that is common.
pub(crate) const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// The database handle shared by the server (cheap to clone).
#[derive(Clone, Debug)]
pub struct Db {
    pool: SqlitePool,
}

/// Failure to open or migrate the database.
#[derive(Debug, thiserror::Error)]
pub enum DbOpenError {
    #[error("cannot create the database directory {path}: {source}")]
    Directory {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot create or protect the database file {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("DATABASE_URL is not a valid SQLite URL: {0}")]
    Url(sqlx::Error),
    #[error("cannot open the database: {0}")]
    Connect(sqlx::Error),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// The schema migrations of this build.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

impl Db {
    /// Opens (creating the file and its directory if needed) and migrates the database.
    pub async fn open(url: &str) -> Result<Self, DbOpenError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(DbOpenError::Url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let file = options.get_filename();
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            if file != Path::new(":memory:") {
                std::fs::create_dir_all(dir).map_err(|source| DbOpenError::Directory {
                    path: dir.display().to_string(),
                    source,
                })?;
            }
        }
        if file != Path::new(":memory:") && !file.as_os_str().is_empty() {
            owner_only(file).map_err(|source| DbOpenError::File {
                path: file.display().to_string(),
                source,
            })?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            // A connection is a file opened by this process: nothing between it and the file
            // can drop it. The default check before each use is one more round trip to the
            // connection's thread per query (a tenth of a page's CPU under load).
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(DbOpenError::Connect)?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }

    /// `Ok` when the database answers and carries every migration of this build; else what is
    /// wrong, in words (for `/readyz`).
    pub(crate) async fn check_migrated(&self) -> Result<(), String> {
        let expected = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await
                .map_err(|e| format!("the database does not answer: {e}"))?;
        match applied.unwrap_or(0) {
            v if v == expected => Ok(()),
            v if v < expected => Err(format!(
                "the database lacks migration {expected} (its last is {v})"
            )),
            v => Err(format!(
                "the database has migration {v}, newer than this build's last ({expected})"
            )),
        }
    }

    /// The pool, for the table modules.
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// Makes the database file readable and writable by its owner only (mode 0600), creating it
/// empty when missing (SQLite takes an empty file as a new database). SQLite gives the WAL and
/// shared-memory files the database file's permissions, so they follow. An existing file open
/// to others is tightened, with a warning in the log.
#[cfg(unix)]
fn owner_only(file: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
    {
        Ok(_) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    for path in [
        file.to_path_buf(),
        sidecar(file, "-wal"),
        sidecar(file, "-shm"),
    ] {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(
                file = %path.display(),
                "the database file was readable by others: now owner only (0600)"
            );
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn owner_only(_file: &Path) -> std::io::Result<()> {
    Ok(())
}

/// `file` with `suffix` appended to its name (`db.sqlite` → `db.sqlite-wal`).
#[cfg(unix)]
fn sidecar(file: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}
