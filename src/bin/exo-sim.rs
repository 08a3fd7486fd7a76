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
    --clock <MODE>         wall: the simulated clock follows wall time; frozen: it moves only
                           through POST /_sim/clock {\"advanceSeconds\": N}
                                                           [env: EXO_SIM_CLOCK, default: wall]
    --churn <SPEC>         devices added/changed/removed per simulated hour: auto (1%/5%/1% of
                           the devices), off, or add=N,change=N,remove=N
                                                           [env: EXO_SIM_CHURN, default: auto]
    --deny <SPEC>          cmdlets denied (403, left out of EXOModuleFile): entries split by ';',
                           each [PRINCIPAL=]CMDLET,CMDLET...; PRINCIPAL is * (everyone, the
                           default), app:<client id> or user:<upn>; CMDLET * denies all. E.g.
                           \"Set-ActiveSyncOrganizationSettings;user:helpdesk@contoso.com=*\"
                                                           [env: EXO_SIM_DENY, default: none]
    --client-certificate <PEM FILE>
                           register an app certificate for client assertions (repeatable)
                                                           [env: EXO_SIM_CLIENT_CERTIFICATE, paths split like PATH]
    --admin-upn <UPN>      the simulated admin who signs in [env: EXO_SIM_ADMIN_UPN, default: admin@<tenant domain>]
    --auto-consent         skip the consent page: authorize redirects with a code at once
                                                           [env: EXO_SIM_AUTO_CONSENT=1]
    --redirect-uri <URL>   trust this redirect URI besides any http://127.0.0.1:* or http://localhost:*
                           (repeatable)                    [env: EXO_SIM_REDIRECT_URIS, comma-separated]
    --fault <RULE>         inject faults (repeatable, or several split by ';'; see FAULT RULES)
                                                           [env: EXO_SIM_FAULTS, rules split by ';']
    --rate-limit <N/WIN>   normal-traffic budget of InvokeCommand, e.g. 100/10s: answers carry
                           Rate-Limit-Limit/Remaining/Reset; over budget: 429 + Retry-After
                                                           [env: EXO_SIM_RATE_LIMIT, default: none]
    -h, --help             print this help

FAULT RULES: KIND[=VALUE][:TRIGGER][:CMDLET]
    KIND     429[=Retry-After secs, decimal, default 1]   503[=Retry-After secs]   504
             expired (the 401 of an expired token; the token stays expired)   403
             reset (connection closed, no response)   slow=<500ms|2s> (answers late)
             malformed (200, cut-off JSON)   partial (200 with @adminapi.errors)
             transient[=<DCOverloadedException|SuitabilityDirectoryException|ServerInMMException|
                        ADServerSettingsChangedException|StorageTransientException>[/503]] (500)
    TRIGGER  a rate 0.2, 1.0 or 20% (default 1.0, seeded by --seed), or a count 3x (the next 3)
    CMDLET   only that cmdlet (any case); @token aims the rule at the token endpoint
    Examples: --fault 429:0.2   --fault 503:0.1:Get-MobileDevice   --fault slow=500ms:1.0
              --fault \"429=0.5:3x;reset:1x\"

ADMIN ENDPOINTS (JSON):
    GET  /_sim/stats       counters, tenant size
    GET  /_sim/clock       {\"now\", \"mode\", \"churnPerHour\"}
    POST /_sim/clock       {\"advanceSeconds\": N, \"mode\": \"wall\"|\"frozen\"} (both optional); answers
                           the clock plus \"report\": GUIDs added/changed/removed, mailboxes
    GET  /_sim/rbac        {\"spec\", \"deny\": [{\"principal\", \"cmdlets\"}]}
    PUT  /_sim/rbac        {\"spec\": \"<as --deny>\"} or {\"deny\": [...]}; replaces the deny list
    GET|PUT|POST|DELETE /_sim/faults
                           fault rules and rate limit; PUT replaces, POST appends, DELETE clears.
                           Body: rules as text, or {\"rules\": [\"429:0.2\"], \"rateLimit\": \"100/10s\"|null,
                           \"seed\": N}; answers {\"rules\": [{\"rule\", \"kind\", \"cmdlet\", \"remaining\",
                           \"fired\"}], \"rateLimit\", \"seed\", \"injected\"}
    GET|DELETE /_sim/requests
                           the last 512 requests (?cmdlet=X&path=Y&limit=N), secrets redacted

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
    // List flags replace the environment's list the first time, then add to it.
    let mut lists_from_flags = std::collections::HashSet::new();
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        if arg == "-h" || arg == "--help" {
            return Ok(Command::Help);
        }
        if arg == "--auto-consent" {
            config.auto_consent = true;
            i += 1;
            continue;
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
            "--clock" => {
                config.clock = sim::ClockMode::parse(&value).map_err(|e| format!("--clock {e}"))?
            }
            "--churn" => {
                config.churn = sim::ChurnRates::parse(&value).map_err(|e| format!("--churn {e}"))?
            }
            "--deny" => {
                config.deny = sim::Rbac::parse(&value).map_err(|e| format!("--deny {e}"))?
            }
            "--client-certificate" => {
                if lists_from_flags.insert("cert") {
                    config.client_certificates.clear();
                }
                let pem = sim::load_client_certificate(&value)
                    .map_err(|e| format!("--client-certificate {e}"))?;
                config.client_certificates.push(pem);
            }
            "--admin-upn" => {
                if !value.contains('@') {
                    return Err(format!("--admin-upn must be an address, got {value:?}"));
                }
                config.admin_upn = Some(value);
            }
            "--auto-consent" => {
                config.auto_consent =
                    sim::parse_flag(&value).map_err(|e| format!("--auto-consent {e}"))?
            }
            "--redirect-uri" => {
                if lists_from_flags.insert("redirect") {
                    config.redirect_uris.clear();
                }
                sim::check_redirect_uri(&value).map_err(|e| format!("--redirect-uri {e}"))?;
                config.redirect_uris.push(value);
            }
            "--fault" => {
                if lists_from_flags.insert("fault") {
                    config.faults.clear();
                }
                let rules = sim::parse_fault_rules(&value).map_err(|e| format!("--fault {e}"))?;
                config.faults.extend(rules);
            }
            "--rate-limit" => {
                config.rate_limit = Some(
                    value
                        .parse::<sim::RateLimit>()
                        .map_err(|e| format!("--rate-limit {e}"))?,
                )
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
         \n  stats            {}/_sim/stats\n  clock            {}/_sim/clock ({})\n  rbac             {}/_sim/rbac\n",
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
        sim.base_url(),
        c.clock.as_str(),
        sim.base_url(),
    );

    let authority = sim.authority_url();
    println!(
        "  sign-in (OIDC)   {authority}/{tenant}/v2.0/.well-known/openid-configuration\n  \
         authorize        {authority}/{tenant}/oauth2/v2.0/authorize (admin {admin}{consent})\n  \
         certificates     {certs} registered\n  \
         faults           {faults} rule(s){rate}; {base}/_sim/faults\n  \
         request log      {base}/_sim/requests\n",
        tenant = c.tenant_id,
        admin = c.admin_upn(),
        consent = if c.auto_consent { ", auto-consent" } else { "" },
        certs = c.client_certificates.len(),
        faults = c.faults.len(),
        rate = c
            .rate_limit
            .map(|r| format!(", rate limit {r}"))
            .unwrap_or_default(),
        base = sim.base_url(),
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
    fn clock_churn_and_deny_flags_override_the_config() {
        let got = parse_args(
            &args(&[
                "--clock",
                "frozen",
                "--churn=add=5,change=1",
                "--deny",
                "app:abc=Remove-MobileDevice",
            ]),
            SimConfig::default(),
        );
        let Ok(Command::Run { config, .. }) = got else {
            panic!("{got:?}")
        };
        assert_eq!(config.clock, sim::ClockMode::Frozen);
        assert_eq!(config.churn.map(|c| c.added_per_hour), Some(5.0));
        assert!(!config.deny.allows("abc", None, "Remove-MobileDevice"));
        assert!(config.deny.allows("other", None, "Remove-MobileDevice"));
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
            &["--clock", "sundial"],
            &["--churn", "grow=1"],
            &["--deny", "group:x=Get-Mailbox"],
        ] {
            assert!(
                parse_args(&args(bad), SimConfig::default()).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn identity_and_fault_flags_override_the_config() {
        let cert = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/certs/app.pem");
        let env = SimConfig {
            faults: sim::parse_fault_rules("504:1x").unwrap_or_default(),
            ..SimConfig::default()
        };
        let got = parse_args(
            &args(&[
                "--client-certificate",
                cert,
                "--auto-consent",
                "--admin-upn=boss@contoso.example",
                "--redirect-uri",
                "https://connector.example/cb",
                "--fault",
                "429:0.2",
                "--fault=503:0.1:Get-MobileDevice;slow=500ms:1.0",
                "--rate-limit",
                "100/10s",
            ]),
            env,
        );
        let Ok(Command::Run { config, .. }) = got else {
            panic!("{got:?}")
        };
        assert_eq!(config.client_certificates.len(), 1);
        assert!(config.auto_consent);
        assert_eq!(config.admin_upn(), "boss@contoso.example");
        assert_eq!(config.redirect_uris, ["https://connector.example/cb"]);
        let rules: Vec<String> = config.faults.iter().map(ToString::to_string).collect();
        assert_eq!(
            rules,
            ["429=1:0.2", "503:0.1:Get-MobileDevice", "slow=500ms:1.0"],
            "flags replace the environment's rules"
        );
        assert_eq!(config.rate_limit.map(|r| r.limit), Some(100));
        for bad in [
            &["--fault", "418:1x"][..],
            &["--rate-limit", "fast"],
            &["--client-certificate", "/no/such.pem"],
            &["--redirect-uri", "nowhere"],
            &["--admin-upn", "nobody"],
            &["--auto-consent=perhaps"],
        ] {
            assert!(
                parse_args(&args(bad), SimConfig::default()).is_err(),
                "{bad:?}"
            );
        }
    }
}
