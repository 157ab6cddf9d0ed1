//! Where a database password comes from when the connection string has none: the source's
//! `password_env` variable, else the client's standard password file (`PGPASSFILE` or
//! `~/.pgpass` for PostgreSQL; `~/.my.cnf`'s `[client]` section for MySQL and MariaDB).
//!
//! In: the source settings (and the parsed PostgreSQL configuration, whose host, port, database
//! and user select the `.pgpass` line). Out: the password, which goes straight to the driver.

use std::path::PathBuf;

use crate::config::DatabaseSource;

fn from_env(db: &DatabaseSource) -> Option<String> {
    db.password_env
        .as_ref()
        .and_then(|name| std::env::var(name).ok())
}

fn home_file(name: &str) -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(name))
}

/// The password for a PostgreSQL connection.
pub(super) fn for_postgres(db: &DatabaseSource, config: &postgres::Config) -> Option<String> {
    if let Some(p) = from_env(db) {
        return Some(p);
    }
    let file = std::env::var_os("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| home_file(".pgpass"))?;
    let text = std::fs::read_to_string(file).ok()?;
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "localhost".to_string(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let user = config.get_user().unwrap_or_default();
    let database = config.get_dbname().unwrap_or(user);
    pgpass_lookup(&text, [&host, &port, database, user])
}

/// The first `.pgpass` line whose host, port, database and user match (`*` matches anything).
fn pgpass_lookup(text: &str, wanted: [&str; 4]) -> Option<String> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .find_map(|line| {
            let fields = split_pgpass(line);
            if fields.len() != 5 {
                return None;
            }
            let matches = fields[..4]
                .iter()
                .zip(wanted)
                .all(|(field, want)| field == "*" || field == want);
            matches.then(|| fields[4].clone())
        })
}

/// Splits a `.pgpass` line at unescaped colons, undoing `\:` and `\\`.
fn split_pgpass(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(next), Some(f)) = (chars.next(), fields.last_mut()) {
                    f.push(next);
                }
            }
            ':' => fields.push(String::new()),
            _ => {
                if let Some(f) = fields.last_mut() {
                    f.push(c);
                }
            }
        }
    }
    fields
}

/// The password for a MySQL or MariaDB connection.
pub(super) fn for_mysql(db: &DatabaseSource) -> Option<String> {
    if let Some(p) = from_env(db) {
        return Some(p);
    }
    let text = std::fs::read_to_string(home_file(".my.cnf")?).ok()?;
    my_cnf_password(&text)
}

/// `password` in the `[client]` section of an option file, quotes removed.
fn my_cnf_password(text: &str) -> Option<String> {
    let mut in_client = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_client = line == "[client]";
            continue;
        }
        if !in_client {
            continue;
        }
        if let Some((key, value)) = line.split_once('=')
            && key.trim() == "password"
        {
            let value = value.trim();
            let unquoted = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(value);
            return Some(unquoted.to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgpass_takes_the_first_matching_line_with_wildcards_and_escapes() {
        let text = "# comment\n\
                    db.example:5432:finance:alice:not-this-one\n\
                    127.0.0.1:5432:*:itvalue:pa\\:ss\\\\word\n\
                    *:*:*:*:fallback\n";
        assert_eq!(
            pgpass_lookup(text, ["127.0.0.1", "5432", "test", "itvalue"]).as_deref(),
            Some("pa:ss\\word")
        );
        assert_eq!(
            pgpass_lookup(text, ["127.0.0.1", "5433", "test", "itvalue"]).as_deref(),
            Some("fallback")
        );
        assert_eq!(pgpass_lookup("h:1:d:u:p\n", ["x", "1", "d", "u"]), None);
    }

    #[test]
    fn my_cnf_reads_the_client_section_only() {
        let text = "[mysqld]\npassword = server\n[client]\nuser = itvalue\npassword = \"s3cret\"\n";
        assert_eq!(my_cnf_password(text).as_deref(), Some("s3cret"));
        assert_eq!(my_cnf_password("[mysql]\npassword=x\n"), None);
    }
}
