//! The command line besides serving: `exchange-connector admin create --email <address>
//! [--name <display name>] [--role admin|reader]`. The password is read from standard input
//! when it is not a terminal (`echo "$PW" | exchange-connector admin create ...`), otherwise
//! prompted for twice without echo. Uses the same `DATABASE_URL` as the server.

use std::io::{BufRead, IsTerminal};

use secrecy::SecretString;

use crate::model::Role;

use super::config::Config;
use super::db::Db;

const USAGE: &str = "usage: exchange-connector admin create --email <address> \
                     [--name <display name>] [--role admin|reader]\n\
                     The password comes from standard input, or is prompted for.";

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// No arguments: serve.
    Serve,
    /// `admin create`.
    CreateUser {
        email: String,
        name: Option<String>,
        role: Role,
    },
}

/// Reads the arguments (without the program name).
pub fn parse(args: &[String]) -> Result<Command, String> {
    match args {
        [] => Ok(Command::Serve),
        [a, c, rest @ ..] if a == "admin" && c == "create" => {
            let (mut email, mut name, mut role) = (None, None, Role::Admin);
            let mut it = rest.iter();
            while let Some(flag) = it.next() {
                let mut value = || {
                    it.next()
                        .cloned()
                        .ok_or(format!("{flag} needs a value\n{USAGE}"))
                };
                match flag.as_str() {
                    "--email" => email = Some(value()?),
                    "--name" => name = Some(value()?),
                    "--role" => {
                        let v = value()?;
                        role = Role::parse(&v)
                            .ok_or(format!("--role must be admin or reader, not {v:?}"))?;
                    }
                    other => return Err(format!("unknown option {other}\n{USAGE}")),
                }
            }
            let email = email.ok_or(format!("--email is required\n{USAGE}"))?;
            Ok(Command::CreateUser { email, name, role })
        }
        _ => Err(USAGE.to_owned()),
    }
}

/// Runs `admin create`: prints what was created, or why not.
pub async fn create_user(email: &str, name: Option<&str>, role: Role) -> Result<String, String> {
    let config = Config::from_env().map_err(|e| e.to_string())?;
    let password = read_password()?;
    let db = Db::open(&config.database_url)
        .await
        .map_err(|e| e.to_string())?;
    super::auth::create_user(db.pool(), email, name, role, Some(password))
        .await
        .map_err(|e| e.to_string())?;
    super::audit::record_cli_user_created(db.pool(), email, role).await;
    Ok(format!(
        "Created {} {email}. Sign in at /sign-in.",
        role.as_str()
    ))
}

fn read_password() -> Result<SecretString, String> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
        let password = line.trim_end_matches(['\r', '\n']).to_owned();
        return Ok(SecretString::from(password));
    }
    let first = rpassword::prompt_password("Password (at least 12 characters): ")
        .map_err(|e| e.to_string())?;
    let again = rpassword::prompt_password("Password again: ").map_err(|e| e.to_string())?;
    if first != again {
        return Err("the two passwords differ".into());
    }
    Ok(SecretString::from(first))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_command_line_reads_serve_and_admin_create() {
        assert_eq!(parse(&[]), Ok(Command::Serve));
        assert_eq!(
            parse(&args(&[
                "admin", "create", "--email", "a@b.org", "--role", "reader"
            ])),
            Ok(Command::CreateUser {
                email: "a@b.org".into(),
                name: None,
                role: Role::Reader
            })
        );
        assert!(parse(&args(&["admin", "create"]))
            .expect_err("no email")
            .contains("--email is required"));
        assert!(parse(&args(&["admin", "create", "--email"]))
            .expect_err("no value")
            .contains("needs a value"));
        assert!(parse(&args(&[
            "admin", "create", "--email", "a@b.org", "--role", "root"
        ]))
        .expect_err("bad role")
        .contains("admin or reader"));
        assert!(parse(&args(&["serve"])).is_err());
    }
}
