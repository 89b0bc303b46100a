//! Command-line interface: argument types and the thin commands over the library.

pub mod audit;
pub mod backup;
pub mod customer;
pub mod demo;
pub mod dispose;
pub mod export;
pub mod gm;
pub mod id;
pub mod instance;
pub mod maintenance;
pub mod ofd;
pub mod seal;
pub mod serve;
pub mod staff;
pub mod supplement;
pub mod time;
pub mod verify;

/// Who acts on the command line, as the audit chain records it: `cli:` and the local user
/// (`SUDO_USER` when run through sudo, else `USER` or `LOGNAME`), so that a change made on the
/// server is attributed to a named person as it is in the console (R-7.2.2d). The command line
/// has every role ([`ecert::service::Actor::local`]).
pub fn local_actor() -> ecert::service::Actor {
    ecert::service::Actor::local(local_name())
}

/// The actor named with `--by NAME` on the command line (every role, as [`local_actor`]).
pub fn named_actor(by: &str) -> ecert::service::Actor {
    ecert::service::Actor::local(by.trim())
}

fn local_name() -> String {
    let user = ["SUDO_USER", "USER", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| "unknown".to_owned());
    let user: String = user.chars().filter(|c| !c.is_control()).take(64).collect();
    format!("cli:{user}")
}

pub use ecert::cli_common::print_json_error;

/// The machine code of an error: the service's own code ([`ecert::service::Error::code`]) when
/// it is one of its refusals, `config` for a configuration, `identifier` for an identifier,
/// else `failed`.
pub fn error_code(e: &anyhow::Error) -> &'static str {
    for cause in e.chain() {
        if let Some(s) = cause.downcast_ref::<ecert::service::Error>() {
            return s.code();
        }
        if cause.is::<ecert::config::ConfigError>() {
            return "config";
        }
        if cause.is::<ecert::domain::identifier::IdentifierError>() {
            return "identifier";
        }
    }
    "failed"
}
