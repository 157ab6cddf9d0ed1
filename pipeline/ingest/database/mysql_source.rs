//! Extracting from MySQL or MariaDB: a read-only transaction with a consistent snapshot, the
//! session in UTC so TIMESTAMP columns arrive as instants, and rows streamed from the server one
//! at a time (the client never holds the whole result). The connection is encrypted as the
//! URL's `ssl-mode` asks (`PREFERRED` by default, as with the mysql client).
//!
//! In: the connection URL, the source settings, the statement. Out: the rows in the grid and a
//! secret-free description of the server (`mysql://user@host:port/db`), or a classified
//! [`Failure`].

use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use mysql::consts::ColumnType;
use mysql::prelude::Queryable;
use mysql::{Conn, DriverError, Opts, OptsBuilder, Value};

use super::mysql_tls::{self, Mode, MyTls};
use super::password;
use super::tls::{Check, Roots};
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
    // The TLS keys in the MySQL client's words, which the driver does not know, are taken out.
    let (url, tls) = mysql_tls::split(connection).map_err(|message| {
        Failure::permanent(
            DatabaseFailure::Tls,
            format!("the connection URL in {}: {message}", db.connection_env),
        )
    })?;
    // The parser's message could quote part of a password, so it is not passed on.
    let opts = Opts::from_url(&url).map_err(|_| Failure::permanent(DatabaseFailure::Credentials, format!(
            "the connection URL in {} is not valid (it is not shown, as it may hold a password)",
            db.connection_env
        )))?;
    let described = format!(
        "mysql://{}@{}:{}/{}",
        opts.get_user().unwrap_or(""),
        opts.get_ip_or_hostname(),
        opts.get_tcp_port(),
        opts.get_db_name().unwrap_or("")
    );
    // A server that stops answering is noticed and the extraction retried, not waited on forever.
    let mut builder = OptsBuilder::from_opts(opts.clone())
        .tcp_connect_timeout(Some(Duration::from_secs(10)))
        .read_timeout(Some(Duration::from_secs(600)))
        .write_timeout(Some(Duration::from_secs(60)));
    if opts.get_pass().is_none()
        && let Some(secret) = password::for_mysql(db)
    {
        builder = builder.pass(Some(secret));
    }
    let tls = TlsContext {
        host: opts.get_ip_or_hostname().into_owned(),
        tls,
    };
    let classify = |e: mysql::Error| classify(e, &described);
    let mut conn = connect(builder, &tls, &described, opts.get_prefer_socket())?;
    conn.query_drop("SET time_zone = '+00:00'")
        .map_err(classify)?;
    // Spelled out rather than through the driver's transaction helper, which panics if the
    // connection drops while the snapshot starts.
    conn.query_drop("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        .map_err(classify)?;
    conn.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
        .map_err(classify)?;
    if since.is_some() && db.watermark_lag_seconds > 0 {
        check_lag_column(&mut conn, db, &described)?;
    }
    {
        let sql = extraction_sql(SourceKind::Mysql, db, since.map(|_| "?"));
        let result = match since {
            Some(watermark) => conn.exec_iter(sql, (watermark,)),
            None => conn.exec_iter(sql, ()),
        }
        .map_err(classify)?;
        let columns = result.columns();
        let names: Vec<String> = columns
            .as_ref()
            .iter()
            .map(|c| c.name_str().into_owned())
            .collect();
        let types: Vec<ColumnType> = columns.as_ref().iter().map(|c| c.column_type()).collect();
        grid.header(names.clone());
        for row in result {
            let row = row.map_err(classify)?;
            let cells = (0..row.len())
                .map(|i| cell(row.as_ref(i), types[i], &names[i], zones))
                .collect::<Result<Vec<_>, _>>()?;
            grid.row(cells)?;
        }
    }
    conn.query_drop("COMMIT").map_err(classify)?;
    Ok(described)
}

/// A lag counts back in time, so the watermark column must hold dates or times; anything else
/// would be compared with a date and silently read nothing or everything.
fn check_lag_column(conn: &mut Conn, db: &DatabaseSource, described: &str) -> Result<(), Failure> {
    let Some(watermark) = &db.watermark else {
        return Ok(());
    };
    let statement = conn
        .prep(extraction_sql(SourceKind::Mysql, db, None))
        .map_err(|e| classify(e, described))?;
    let kind = statement
        .columns()
        .iter()
        .find(|c| c.name_str() == watermark.as_str())
        .map(|c| c.column_type());
    let dated = matches!(
        kind,
        Some(
            ColumnType::MYSQL_TYPE_TIMESTAMP
                | ColumnType::MYSQL_TYPE_TIMESTAMP2
                | ColumnType::MYSQL_TYPE_DATETIME
                | ColumnType::MYSQL_TYPE_DATETIME2
                | ColumnType::MYSQL_TYPE_DATE
                | ColumnType::MYSQL_TYPE_NEWDATE
        )
    );
    conn.close(statement).map_err(|e| classify(e, described))?;
    match kind {
        _ if dated => Ok(()),
        None => Err(Failure::permanent(
            DatabaseFailure::Query,
            format!("{described}: the result has no watermark column {watermark}"),
        )),
        Some(kind) => Err(Failure::permanent(
            DatabaseFailure::Query,
            format!(
                "{described}: watermark_lag counts back in time, but the watermark column {watermark} is of type {kind:?}; use a date or timestamp column, or no lag"
            ),
        )),
    }
}

/// Opens the connection with the TLS the URL asks for. PREFERRED falls back to plain text only
/// when the server offers no TLS at all, never after a failed handshake.
fn connect(
    builder: OptsBuilder,
    tls: &TlsContext,
    described: &str,
    prefer_socket: bool,
) -> Result<Conn, Failure> {
    let failure = |message: String| {
        Failure::permanent(DatabaseFailure::Tls, format!("{described}: {message}"))
    };
    // The CA certificates are read here, so that a missing or unusable file is named; the
    // system's trust store is written to a private file for the driver, which reads a path.
    let mut written = None;
    let ca_file = match tls.check() {
        Check::Nothing => None,
        _ => {
            let certificates = tls.roots.load().map_err(failure)?;
            match &tls.roots {
                Roots::File(path) => Some(path.clone()),
                Roots::System => {
                    let file = system_store_file(&certificates).map_err(failure)?;
                    let path = file.path().to_path_buf();
                    written = Some(file);
                    Some(path)
                }
            }
        }
    };
    super::tls::install_default_provider();
    // The driver would move a loopback connection to the server's Unix socket, where it never
    // uses TLS: with TLS asked for, the connection stays on TCP.
    let builder = builder
        .ssl_opts(tls.ssl_opts(ca_file))
        .prefer_socket(tls.mode == Mode::Disabled && prefer_socket);
    let conn = match Conn::new(builder.clone()) {
        Err(mysql::Error::DriverError(DriverError::TlsNotSupported))
            if tls.mode == Mode::Preferred =>
        {
            tracing::debug!(server = %described, "the server offers no TLS; ssl-mode=PREFERRED connects in plain text");
            Conn::new(
                builder
                    .ssl_opts(None::<mysql::SslOpts>)
                    .prefer_socket(prefer_socket),
            )
        }
        other => other,
    };
    drop(written);
    conn.map_err(|e| connect_failure(e, described, tls))
}

/// The system's CA certificates as one PEM file, removed when dropped.
fn system_store_file(
    certificates: &[rustls::pki_types::CertificateDer<'static>],
) -> Result<tempfile::NamedTempFile, String> {
    let pems: Vec<pem::Pem> = certificates
        .iter()
        .map(|c| pem::Pem::new("CERTIFICATE", c.to_vec()))
        .collect();
    let mut file = tempfile::NamedTempFile::new()
        .map_err(|e| format!("the system's trust store cannot be written out: {e}"))?;
    std::io::Write::write_all(&mut file, pem::encode_many(&pems).as_bytes())
        .map_err(|e| format!("the system's trust store cannot be written out: {e}"))?;
    Ok(file)
}

/// Where the CA certificates came from: the driver always adds the public CAs it has built in
/// (webpki-roots) to the ones it is given.
fn checked_against(roots: &Roots) -> String {
    format!(
        "{} and the public CAs the driver has built in",
        roots.checked_against()
    )
}

/// The TLS settings of the connection and the host its certificate must name, for messages.
type TlsContext = super::tls::TlsContext<MyTls>;

/// A failed connection: a failed TLS handshake says which check failed and is never retried,
/// nor the connection made again without TLS; anything else is classified as usual.
fn connect_failure(e: mysql::Error, described: &str, tls: &TlsContext) -> Failure {
    let handshake = match &e {
        mysql::Error::IoError(io) => super::tls::rustls_cause(io),
        mysql::Error::CodecError(codec) => super::tls::rustls_cause(codec),
        _ => None,
    };
    if let Some(cause) = handshake {
        return Failure::permanent(
            DatabaseFailure::Tls,
            format!(
                "{described}: {}: {}",
                tls.named,
                super::tls::explain(cause, &tls.host, &checked_against(&tls.roots))
            ),
        );
    }
    match &e {
        mysql::Error::DriverError(DriverError::TlsNotSupported) => {
            return Failure::permanent(
                DatabaseFailure::Tls,
                format!(
                    "{described}: {} but the server does not offer TLS",
                    tls.named
                ),
            );
        }
        mysql::Error::TlsError(t) => {
            return Failure::permanent(
                DatabaseFailure::Tls,
                format!("{described}: {}: TLS cannot be set up: {t}", tls.named),
            );
        }
        _ => {}
    }
    classify(e, described)
}

fn classify(e: mysql::Error, described: &str) -> Failure {
    match &e {
        mysql::Error::MySqlError(server) => {
            let message = format!("{described}: {} ({})", server.message, server.code);
            match server.code {
                // Access denied for the user, or to the database.
                1044 | 1045 | 1698 => Failure::permanent(DatabaseFailure::Credentials, message),
                // MySQL refuses a connection without TLS (require_secure_transport); MariaDB
                // says access denied (1045) instead.
                3159 => Failure::permanent(DatabaseFailure::Tls, message),
                // Server shutting down, connection killed, lost, or too many connections.
                1040 | 1053 | 1927 | 2006 | 2013 => Failure::unavailable(message),
                1049 => Failure::permanent(DatabaseFailure::Unavailable, message),
                _ => Failure::permanent(DatabaseFailure::Query, message),
            }
        }
        // The network or the connection failed: worth another attempt.
        mysql::Error::IoError(_)
        | mysql::Error::CodecError(_)
        | mysql::Error::DriverError(
            DriverError::CouldNotConnect(_)
            | DriverError::ConnectTimeout
            | DriverError::PacketOutOfSync,
        ) => Failure::unavailable(format!("{described}: {e}")),
        _ => Failure::permanent(DatabaseFailure::Unavailable, format!("{described}: {e}")),
    }
}

/// One value as a grid cell; `None` for NULL.
fn cell(
    value: Option<&Value>,
    kind: ColumnType,
    name: &str,
    zones: &Zones,
) -> Result<Option<RawCell>, Failure> {
    let unreadable = |e: String| {
        Failure::permanent(
            DatabaseFailure::Query,
            format!("column {name} ({kind:?}): {e}"),
        )
    };
    let cell = match value {
        None | Some(Value::NULL) => None,
        Some(Value::Int(i)) => Some(RawCell::Int(*i)),
        Some(Value::UInt(u)) => Some(match i64::try_from(*u) {
            Ok(i) => RawCell::Int(i),
            Err(_) => RawCell::Text(u.to_string()),
        }),
        Some(Value::Float(f)) => Some(RawCell::Float(f64::from(*f))),
        Some(Value::Double(f)) => Some(RawCell::Float(*f)),
        // Text, and DECIMAL as its exact digits.
        Some(Value::Bytes(bytes)) => Some(RawCell::Text(
            String::from_utf8(bytes.clone()).map_err(|_| unreadable("not UTF-8 text".into()))?,
        )),
        Some(Value::Date(y, m, d, h, mi, s, us)) => {
            let local = NaiveDate::from_ymd_opt(i32::from(*y), u32::from(*m), u32::from(*d))
                .and_then(|day| {
                    day.and_hms_micro_opt(u32::from(*h), u32::from(*mi), u32::from(*s), *us)
                });
            match local {
                // A zero date ('0000-00-00') stays text, so the contract rejects it visibly.
                None => Some(RawCell::Text(format!("{y:04}-{m:02}-{d:02}"))),
                Some(local) => Some(RawCell::DateTime(
                    convert(local, kind, zones).map_err(unreadable)?,
                )),
            }
        }
        Some(Value::Time(negative, days, h, m, s, us)) => Some(RawCell::Text(format!(
            "{}{}:{m:02}:{s:02}.{us:06}",
            if *negative { "-" } else { "" },
            u32::from(*h) + days * 24
        ))),
    };
    Ok(cell)
}

/// TIMESTAMP columns arrive in the session's UTC; DATETIME columns are wall-clock times in the
/// source zone; DATE columns are days and stay as they are.
fn convert(local: NaiveDateTime, kind: ColumnType, zones: &Zones) -> Result<NaiveDateTime, String> {
    match kind {
        ColumnType::MYSQL_TYPE_TIMESTAMP | ColumnType::MYSQL_TYPE_TIMESTAMP2 => {
            zones.instant_in_target(local.and_utc())
        }
        ColumnType::MYSQL_TYPE_DATE | ColumnType::MYSQL_TYPE_NEWDATE => Ok(local),
        _ => zones.local_in_target(local),
    }
}
