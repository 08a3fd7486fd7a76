//! `exo-sim`: the Exchange Online simulator on its own port.
//!
//! ```text
//! exo-sim --addr 127.0.0.1:4000 --seed 42 --mailboxes 250 --devices 400 --page-size 1000
//! ```
//! Flags override the `EXO_SIM_*` environment variables, which override the defaults.

use std::net::SocketAddr;
use std::process::ExitCode;

use exchange_connector::sim::{self, SimConfig};

const USAGE: &str = "\
exo-sim: Exchange Online admin API simulator (demo tenant, app-only client credentials)

USAGE:
    exo-sim [OPTIONS]

OPTIONS:
    --addr <IP:PORT>       address to listen on            [default: 127.0.0.1:4000]
    --seed <N>             tenant generator seed           [env: EXO_SIM_SEED, default: 42]
    --mailboxes <N>        number of mailboxes             [env: EXO_SIM_MAILBOXES, default: 250]
    --devices <N>          number of mobile devices        [env: EXO_SIM_DEVICES, default: 400]
    --page-size <N>        server page cap, 1..=1000       [env: EXO_SIM_PAGE_SIZE, default: 1000]
    -h, --help             print this help

Logging follows RUST_LOG (default: info). Stop with Ctrl-C or SIGTERM.";

/// What the command line asks for.
#[derive(Debug)]
enum Command {
    Help,
    Run {
        addr: SocketAddr,
        config: Box<SimConfig>,
    },
}

fn parse_args(args: &[String], mut config: SimConfig) -> Result<Command, String> {
    let mut addr: SocketAddr = ([127, 0, 0, 1], 4000).into();
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        if arg == "-h" || arg == "--help" {
            return Ok(Command::Help);
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (arg, None),
        };
        let value = match inline {
            Some(v) => v,
            None => {
                i += 1;
                args.get(i)
                    .cloned()
                    .ok_or_else(|| format!("{flag} needs a value"))?
            }
        };
        match flag {
            "--addr" => {
                addr = value
                    .parse()
                    .map_err(|_| format!("--addr must be IP:PORT, got {value:?}"))?
            }
            "--seed" => {
                config.seed = value
                    .parse()
                    .map_err(|_| format!("--seed must be a whole number, got {value:?}"))?
            }
            "--mailboxes" => {
                config.mailboxes = sim::parse_count("--mailboxes", &value, 0, sim::MAX_OBJECTS)?
            }
            "--devices" => {
                config.devices = sim::parse_count("--devices", &value, 0, sim::MAX_OBJECTS)?
            }
            "--page-size" => {
                config.max_page_size = sim::parse_count("--page-size", &value, 1, 1000)?
            }
            other => return Err(format!("unknown option {other:?} (try --help)")),
        }
        i += 1;
    }
    Ok(Command::Run {
        addr,
        config: Box::new(config),
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();

    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = SimConfig::from_env().and_then(|config| parse_args(&args, config));
    let (addr, config) = match command {
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Run { addr, config }) => (addr, config),
        Err(e) => {
            eprintln!("exo-sim: {e}");
            return ExitCode::from(2);
        }
    };

    let sim = match sim::start(*config, addr).await {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("exo-sim: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let c = sim.config();
    println!(
        "exo-sim: Exchange Online simulator ready ({} mailboxes, {} devices, seed {})\n\
         \n  admin API base   {}\n  authority        {}\n  token endpoint   {}/{}/oauth2/v2.0/token\n\
         \n  tenant id        {}\n  tenant domain    {}\n  client id        {}\n  client secret    {}\n  scope            https://outlook.office365.com/.default\n\
         \n  stats            {}/_sim/stats\n",
        c.mailboxes,
        sim.device_count(),
        c.seed,
        sim.admin_api_url(),
        sim.authority_url(),
        sim.authority_url(),
        c.tenant_id,
        c.tenant_id,
        c.tenant_domain,
        c.client_id,
        c.client_secret,
        sim.base_url(),
    );

    shutdown_signal().await;
    tracing::info!("exo-sim: shutting down");
    sim.shutdown().await;
    ExitCode::SUCCESS
}

/// Resolves on Ctrl-C or (Unix) SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "exo-sim: cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "exo-sim: cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn flags_override_the_config() {
        let got = parse_args(
            &args(&[
                "--addr",
                "127.0.0.1:0",
                "--seed=9",
                "--mailboxes",
                "10",
                "--devices",
                "20",
                "--page-size",
                "50",
            ]),
            SimConfig::default(),
        );
        let Ok(Command::Run { addr, config }) = got else {
            panic!("{got:?}")
        };
        assert_eq!(addr.port(), 0);
        assert_eq!(
            (
                config.seed,
                config.mailboxes,
                config.devices,
                config.max_page_size
            ),
            (9, 10, 20, 50)
        );
    }

    #[test]
    fn help_and_bad_flags() {
        assert!(matches!(
            parse_args(&args(&["--help"]), SimConfig::default()),
            Ok(Command::Help)
        ));
        for bad in [
            &["--seed"][..],
            &["--page-size", "0"],
            &["--addr", "nowhere"],
            &["--colour", "red"],
        ] {
            assert!(
                parse_args(&args(bad), SimConfig::default()).is_err(),
                "{bad:?}"
            );
        }
    }
}
