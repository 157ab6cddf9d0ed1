//! Extracting from PostgreSQL: a repeatable-read, read-only transaction (one snapshot), a portal
//! fetched `batch_rows` at a time, each value converted by its column type. The connection is
//! encrypted as the string's `sslmode` asks (`prefer` by default, as with libpq).
//!
//! In: the connection string, the source settings, the statement. Out: the rows in the grid and a
//! secret-free description of the server (`postgres://user@host:port/db`), or a classified
//! [`Failure`].

use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use postgres::config::SslMode;
use postgres::types::Type;
use postgres::{Client, Config, IsolationLevel, NoTls, Row};
use rust_decimal::Decimal;

use super::password;
use super::postgres_tls::{self, PgTls};
use super::tls;
use super::{Failure, GridBuilder, Zones, extraction_sql};
use crate::config::{DatabaseSource, SourceKind};
use crate::error::DatabaseFailure;
use crate::ingest::grid::RawCell;

/// Runs the extraction once.
pub(super) fn fetch(
    connection: &str,
    db: &DatabaseSource,
    since: Option<&str>,
    zones: &Zones,
    grid: &mut GridBuilder,
) -> Result<String, Failure> {
    let invalid = || {
        Failure::permanent(
            DatabaseFailure::Credentials,
            format!(
                "the connection string in {} is not valid (it is not shown, as it may hold a password)",
                db.connection_env
            ),
        )
    };
    // The TLS keys in libpq's words, which the driver does not all know, are taken out first.
    let split = postgres_tls::split(connection, postgres_tls::home_root()).map_err(|message| {
        Failure::permanent(
            DatabaseFailure::Tls,
            format!("the connection string in {}: {message}", db.connection_env),
        )
    })?;
    let Some((rest, tls)) = split else {
        return Err(invalid());
    };
    // The parser's message could quote part of a password, so it is not passed on.
    let mut config: Config = rest.parse().map_err(|_: postgres::Error| invalid())?;
    // As with libpq, a Unix socket is local and never encrypted, whatever the mode.
    let local = !config.get_hosts().is_empty()
        && config
            .get_hosts()
            .iter()
            .all(|h| matches!(h, postgres::config::Host::Unix(_)));
    config.ssl_mode(if local { SslMode::Disable } else { tls.mode });
    config.application_name("itvalue");
    config.connect_timeout(Duration::from_secs(10));
    // A server that stops answering is noticed and the extraction retried, not waited on forever.
    config.keepalives_idle(Duration::from_secs(30));
    config.tcp_user_timeout(Duration::from_secs(120));
    let described = describe(&config);
    if config.get_password().is_none()
        && let Some(secret) = password::for_postgres(db, &config)
    {
        config.password(secret);
    }
    let tls = TlsContext {
        host: first_host(&config),
        tls,
    };
    let classify = |e: postgres::Error| classify(e, connection, &described);
    let mut client: Client = if config.get_ssl_mode() == SslMode::Disable {
        config.connect(NoTls)
    } else {
        let connector = postgres_tls::Connector::new(&tls.policy).map_err(|message| {
            Failure::permanent(DatabaseFailure::Tls, format!("{described}: {message}"))
        })?;
        config.connect(connector)
    }
    .map_err(|e| connect_failure(e, connection, &described, &tls))?;
    let mut snapshot = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .map_err(classify)?;
    let unfiltered = extraction_sql(SourceKind::Postgres, db, None);
    let sql = match (since, &db.watermark) {
        (Some(_), Some(watermark)) => {
            // The bound text is cast to the watermark column's own type, which the server names.
            let probe = snapshot.prepare(&unfiltered).map_err(classify)?;
            let kind = probe
                .columns()
                .iter()
                .find(|c| c.name() == watermark)
                .map(|c| c.type_().name().replace('"', "\"\""))
                .ok_or_else(|| {
                    Failure::permanent(
                        DatabaseFailure::Query,
                        format!("{described}: the result has no watermark column {watermark}"),
                    )
                })?;
            if db.watermark_lag_seconds > 0
                && !["timestamp", "timestamptz", "date"].contains(&kind.as_str())
            {
                return Err(Failure::permanent(
                    DatabaseFailure::Query,
                    format!(
                        "{described}: watermark_lag counts back in time, but the watermark column {watermark} is of type {kind}; use a date or timestamp column, or no lag"
                    ),
                ));
            }
            extraction_sql(
                SourceKind::Postgres,
                db,
                Some(&format!("CAST($1::TEXT AS \"{kind}\")")),
            )
        }
        _ => unfiltered,
    };
    let statement = snapshot.prepare(&sql).map_err(classify)?;
    // The statement's columns: an empty result still has them.
    grid.header(
        statement
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect(),
    );
    let parameters: Vec<&(dyn postgres::types::ToSql + Sync)> = since
        .iter()
        .map(|w| w as &(dyn postgres::types::ToSql + Sync))
        .collect();
    let portal = snapshot.bind(&statement, &parameters).map_err(classify)?;
    loop {
        let rows = snapshot
            .query_portal(&portal, db.batch_rows.min(i32::MAX as usize) as i32)
            .map_err(classify)?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let cells = (0..row.len())
                .map(|i| cell(row, i, zones))
                .collect::<Result<Vec<_>, _>>()?;
            grid.row(cells)?;
        }
    }
    snapshot.commit().map_err(classify)?;
    Ok(described)
}

/// `postgres://user@host:port/db`, with no password.
fn describe(config: &Config) -> String {
    let host = first_host(config);
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "postgres://{}@{host}:{port}/{}",
        config.get_user().unwrap_or(""),
        config.get_dbname().unwrap_or("")
    )
}

fn first_host(config: &Config) -> String {
    match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_string(),
    }
}

/// Never lets the connection string (which may hold a password) through in a message.
fn strip_secrets(message: &str, connection: &str) -> String {
    if connection.is_empty() {
        message.to_string()
    } else {
        message.replace(connection, "<connection string>")
    }
}

/// The TLS settings of the connection and the host its certificate must name, for messages.
type TlsContext = super::tls::TlsContext<PgTls>;

/// A failed connection: a failed TLS handshake says which check failed and is never retried,
/// nor the connection made again without TLS; anything else is classified as usual.
fn connect_failure(
    e: postgres::Error,
    connection: &str,
    described: &str,
    tls: &TlsContext,
) -> Failure {
    if let Some(cause) = tls::rustls_cause(&e) {
        return Failure::permanent(
            DatabaseFailure::Tls,
            format!(
                "{described}: {}: {}",
                tls.named,
                tls::explain(cause, &tls.host, &tls.policy.roots.checked_against())
            ),
        );
    }
    if e.to_string() == "error performing TLS handshake" {
        let source = std::error::Error::source(&e).map(|s| s.to_string());
        let message = match source.as_deref() {
            Some("server does not support TLS") => {
                format!("{} but the server does not offer TLS", tls.named)
            }
            Some(other) => format!("{}: {}", tls.named, strip_secrets(other, connection)),
            None => tls.named.clone(),
        };
        return Failure::permanent(DatabaseFailure::Tls, format!("{described}: {message}"));
    }
    classify(e, connection, described)
}

fn classify(e: postgres::Error, connection: &str, described: &str) -> Failure {
    let text = strip_secrets(&e.to_string(), connection);
    let Some(db) = e.as_db_error() else {
        // No answer from the server: retried when the network or the connection failed; a
        // client-side refusal (no password found, TLS asked for) is a credentials problem.
        let io = std::error::Error::source(&e)
            .is_some_and(|s| s.downcast_ref::<std::io::Error>().is_some());
        if io || e.is_closed() || text.contains("timeout") {
            return Failure::unavailable(format!("{described}: {text}"));
        }
        return Failure::permanent(DatabaseFailure::Credentials, format!("{described}: {text}"));
    };
    let code = db.code().code();
    let message = format!("{described}: {} ({code})", db.message());
    match &code[..2] {
        "28" => Failure::permanent(DatabaseFailure::Credentials, message),
        // Connection exceptions, too many connections, and the server ending the session.
        "08" | "53" | "57" => Failure::unavailable(message),
        "3D" => Failure::permanent(DatabaseFailure::Unavailable, message),
        _ => Failure::permanent(DatabaseFailure::Query, message),
    }
}

/// One value as a grid cell; `None` for NULL.
fn cell(row: &Row, i: usize, zones: &Zones) -> Result<Option<RawCell>, Failure> {
    let column = &row.columns()[i];
    let unreadable = |e: String| {
        Failure::permanent(
            DatabaseFailure::Query,
            format!("column {} ({}): {e}", column.name(), column.type_()),
        )
    };
    macro_rules! get {
        ($t:ty) => {
            row.try_get::<_, Option<$t>>(i)
                .map_err(|e| unreadable(e.to_string()))?
        };
    }
    let value = match *column.type_() {
        Type::BOOL => get!(bool).map(RawCell::Bool),
        Type::INT2 => get!(i16).map(|v| RawCell::Int(i64::from(v))),
        Type::INT4 => get!(i32).map(|v| RawCell::Int(i64::from(v))),
        Type::INT8 => get!(i64).map(RawCell::Int),
        Type::OID => get!(u32).map(|v| RawCell::Int(i64::from(v))),
        Type::FLOAT4 => get!(f32).map(|v| RawCell::Float(f64::from(v))),
        Type::FLOAT8 => get!(f64).map(RawCell::Float),
        // Exact: NUMERIC arrives as a decimal and is typed from its text like any amount.
        Type::NUMERIC => get!(Decimal).map(|d| RawCell::Text(d.to_string())),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
            get!(String).map(RawCell::Text)
        }
        Type::DATE => get!(NaiveDate).map(|d| RawCell::DateTime(d.and_time(NaiveTime::MIN))),
        Type::TIMESTAMP => match get!(NaiveDateTime) {
            Some(t) => Some(RawCell::DateTime(
                zones.local_in_target(t).map_err(unreadable)?,
            )),
            None => None,
        },
        Type::TIMESTAMPTZ => match get!(DateTime<Utc>) {
            Some(t) => Some(RawCell::DateTime(
                zones.instant_in_target(t).map_err(unreadable)?,
            )),
            None => None,
        },
        _ => {
            return Err(unreadable(format!(
                "itvalue does not read this type; cast it in a query, e.g. CAST({} AS TEXT)",
                column.name()
            )));
        }
    };
    Ok(value)
}
