//! Storage: the pool, migrations, and one module per table group. SQLite today; the SQL stays
//! portable so PostgreSQL can follow with mirrored migrations.

pub(crate) mod audit;
pub(crate) mod connectors;
pub(crate) mod device_events;
pub(crate) mod device_list;
pub(crate) mod devices;
pub(crate) mod exchange_config;
pub(crate) mod staging;
pub(crate) mod sync_runs;
pub(crate) mod users;

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
    #[error("DATABASE_URL is not a valid SQLite URL: {0}")]
    Url(sqlx::Error),
    #[error("cannot open the database: {0}")]
    Connect(sqlx::Error),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

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
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(DbOpenError::Connect)?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }

    /// The pool, for the table modules.
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}
