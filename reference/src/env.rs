//! The environment contract (SPEC section 2): each variable the grader sets, read with the
//! lecture's default when it is absent.
//!
//! A variable that is set but empty counts as absent; one that does not parse is an
//! [`io::ErrorKind::InvalidInput`] error naming the variable, so a misconfigured run fails
//! loudly instead of silently falling back to the default.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::str::FromStr;
use std::time::Duration;

/// Default `HOST`: the lecture's `HOST="127.0.0.1"`.
pub const DEFAULT_HOST: &str = "127.0.0.1";
/// Default `PORT`: the lecture's `PORT=4444`.
pub const DEFAULT_PORT: u16 = 4444;
/// Default `POOLSIZE` of `pool-server`.
pub const DEFAULT_POOLSIZE: usize = 5;
/// Default `THREADS` of `counter` and `multiprint`.
pub const DEFAULT_THREADS: usize = 10;
/// Default `INCREMENTS` of `counter`.
pub const DEFAULT_INCREMENTS: u64 = 50_000;
/// Default `DELAY` of `multiprint`, in seconds (the lecture's `time.sleep(1)`).
pub const DEFAULT_DELAY_SECS: f64 = 1.0;

/// `HOST`: the address servers bind and clients connect to.
pub fn host() -> String {
    match std::env::var("HOST") {
        Ok(host) if !host.is_empty() => host,
        _ => DEFAULT_HOST.to_owned(),
    }
}

/// `PORT`: the port servers bind and clients connect to.
pub fn port() -> io::Result<u16> {
    var("PORT", DEFAULT_PORT)
}

/// `HOST` and `PORT` resolved to one socket address (the first one `HOST` resolves to).
pub fn address() -> io::Result<SocketAddr> {
    let (host, port) = (host(), port()?);
    (host.as_str(), port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("HOST={host:?} resolves to no address"),
            )
        })
}

/// `POOLSIZE`: worker threads of `pool-server` (at least 1).
pub fn pool_size() -> io::Result<usize> {
    at_least_one("POOLSIZE", var("POOLSIZE", DEFAULT_POOLSIZE)?)
}

/// `THREADS`: threads of `counter`, consumer threads of `multiprint` (at least 1).
pub fn threads() -> io::Result<usize> {
    at_least_one("THREADS", var("THREADS", DEFAULT_THREADS)?)
}

/// `INCREMENTS`: how many times each `counter` thread adds 1.
pub fn increments() -> io::Result<u64> {
    var("INCREMENTS", DEFAULT_INCREMENTS)
}

/// `DELAY`: how long a `multiprint` consumer sleeps after each job (float seconds).
pub fn delay() -> io::Result<Duration> {
    let secs: f64 = var("DELAY", DEFAULT_DELAY_SECS)?;
    Duration::try_from_secs_f64(secs).map_err(|err| invalid("DELAY", &secs.to_string(), err))
}

/// Reads variable `name`, falling back to `default` when it is unset or empty.
fn var<T: FromStr>(name: &str, default: T) -> io::Result<T>
where
    T::Err: std::fmt::Display,
{
    parse_or(name, std::env::var(name).ok().as_deref(), default)
}

/// The pure part of [`var`]: parses `value` (surrounding whitespace ignored), or gives
/// `default` when there is no value.
fn parse_or<T: FromStr>(name: &str, value: Option<&str>, default: T) -> io::Result<T>
where
    T::Err: std::fmt::Display,
{
    match value.map(str::trim) {
        None | Some("") => Ok(default),
        Some(text) => text.parse().map_err(|err| invalid(name, text, err)),
    }
}

fn at_least_one(name: &str, value: usize) -> io::Result<usize> {
    if value == 0 {
        Err(invalid(name, "0", "must be at least 1"))
    } else {
        Ok(value)
    }
}

fn invalid(name: &str, value: &str, why: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("environment variable {name}={value:?} is invalid: {why}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_or_empty_gives_the_default() {
        assert_eq!(parse_or("PORT", None, 4444u16).unwrap(), 4444);
        assert_eq!(parse_or("PORT", Some(""), 4444u16).unwrap(), 4444);
    }

    #[test]
    fn a_value_overrides_the_default() {
        assert_eq!(parse_or("PORT", Some(" 5555\n"), 4444u16).unwrap(), 5555);
        assert_eq!(parse_or("DELAY", Some("0.01"), 1.0f64).unwrap(), 0.01);
    }

    #[test]
    fn a_bad_value_is_an_error_naming_the_variable() {
        let err = parse_or("PORT", Some("70000"), 4444u16).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("PORT=\"70000\""), "{err}");
        assert!(at_least_one("POOLSIZE", 0).is_err());
    }
}
