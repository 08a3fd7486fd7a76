//! The exchange-connector server: reads its configuration and serves until stopped; or, with
//! `admin create`, creates an account (see `server::cli`).

use exchange_connector::server::cli::{self, Command};

/// mimalloc rather than the system allocator: rendering a page allocates and frees thousands of
/// small strings and nodes, and glibc's malloc/free took about a fifth of a page request's CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match cli::parse(&args) {
        Ok(Command::Serve) => exchange_connector::server::run()
            .await
            .map_err(|e| e.to_string()),
        Ok(Command::CreateUser { email, name, role }) => {
            cli::create_user(&email, name.as_deref(), role)
                .await
                .map(|done| println!("{done}"))
        }
        Err(usage) => Err(usage),
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("exchange-connector: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
