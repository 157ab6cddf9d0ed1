//! What `itvalue schedule --print-crontab` and `--print-systemd` print: a crontab line, and a
//! systemd service and timer pair, that wake `itvalue schedule --once` every quarter hour.
//!
//! In: the binary, the configuration file and its folder (absolute), and the jobs' names and
//! cron expressions with the zone, for the comments. Out: text ready to install. The jobs' own
//! times stay in the configuration: the line only wakes itvalue, which runs what is due and
//! catches up what a stopped machine missed, so neither cron's zone nor its missed runs matter.

use std::path::Path;

/// How often the line wakes itvalue, in minutes: a job runs at most this late.
pub const CHECK_MINUTES: u32 = 15;

/// What the printed lines run, and what they say about the jobs.
#[derive(Debug, Clone)]
pub struct Invocation<'a> {
    /// The `itvalue` binary.
    pub exe: &'a Path,
    /// The configuration file.
    pub config: &'a Path,
    /// The folder to run in (the configuration's).
    pub dir: &'a Path,
    /// Each job's name and cron expression.
    pub jobs: Vec<(&'a str, &'a str)>,
    /// The configured zone the expressions are in.
    pub zone: &'a str,
}

/// Quotes text for a POSIX shell.
fn shell(text: &Path) -> String {
    let text = text.display().to_string();
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:=@,".contains(c))
    {
        return text;
    }
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// Quotes a path for a systemd command line or setting.
fn systemd(text: &Path) -> String {
    let text = text.display().to_string();
    if !text.is_empty() && !text.contains([' ', '"', '\\', '\'', '%', '$']) {
        return text;
    }
    format!(
        "\"{}\"",
        text.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('%', "%%")
            .replace('$', "$$")
    )
}

fn jobs(inv: &Invocation) -> String {
    if inv.jobs.is_empty() {
        return "no [[schedule]] job yet: add one to the configuration".to_string();
    }
    let list: Vec<String> = inv
        .jobs
        .iter()
        .map(|(name, cron)| format!("{name} \"{cron}\""))
        .collect();
    format!("{} (in {})", list.join(", "), inv.zone)
}

/// A crontab line, with comments saying what it does.
pub fn crontab(inv: &Invocation) -> String {
    format!(
        "# itvalue: run the due jobs of {config}: {jobs}.\n\
         # The jobs' times are in the configuration; this line only wakes itvalue every {CHECK_MINUTES} minutes.\n\
         # Missed periods (the machine was off) are caught up at the first check after it comes back.\n\
         */{CHECK_MINUTES} * * * * cd {dir} && {exe} --config {config} --quiet schedule --once\n",
        config = shell(inv.config),
        jobs = jobs(inv),
        dir = shell(inv.dir),
        exe = shell(inv.exe),
    )
}

/// A systemd service and timer pair, each headed by the file it goes in.
pub fn systemd_units(inv: &Invocation) -> String {
    format!(
        "# /etc/systemd/system/itvalue-schedule.service\n\
         [Unit]\n\
         Description=itvalue: run the due jobs of {config_text}\n\
         Wants=network-online.target\n\
         After=network-online.target\n\
         \n\
         [Service]\n\
         Type=oneshot\n\
         WorkingDirectory={dir}\n\
         ExecStart={exe} --config {config} schedule --once\n\
         # 75: another run holds the warehouse; the due jobs wait for the next check.\n\
         SuccessExitStatus=75\n\
         \n\
         # /etc/systemd/system/itvalue-schedule.timer\n\
         # Jobs: {jobs}.\n\
         [Unit]\n\
         Description=Wake itvalue every {CHECK_MINUTES} minutes to run its due jobs\n\
         \n\
         [Timer]\n\
         OnCalendar=*:0/{CHECK_MINUTES}\n\
         Persistent=true\n\
         \n\
         [Install]\n\
         WantedBy=timers.target\n\
         \n\
         # Then: systemctl daemon-reload && systemctl enable --now itvalue-schedule.timer\n",
        config_text = inv.config.display(),
        config = systemd(inv.config),
        dir = systemd(inv.dir),
        exe = systemd(inv.exe),
        jobs = jobs(inv),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_with_spaces_and_quotes_are_quoted_for_the_shell_and_for_systemd() {
        let inv = Invocation {
            exe: Path::new("/opt/it value/itvalue"),
            config: Path::new("/srv/finance's/pipeline.toml"),
            dir: Path::new("/srv/finance's"),
            jobs: vec![("monthly-pack", "0 6 2 * *")],
            zone: "Europe/Berlin",
        };
        let line = crontab(&inv);
        assert!(line.ends_with(
            "*/15 * * * * cd '/srv/finance'\\''s' && '/opt/it value/itvalue' --config '/srv/finance'\\''s/pipeline.toml' --quiet schedule --once\n"
        ), "{line}");
        assert!(
            line.contains("monthly-pack \"0 6 2 * *\" (in Europe/Berlin)"),
            "{line}"
        );
        let units = systemd_units(&inv);
        assert!(
            units.contains("ExecStart=\"/opt/it value/itvalue\" --config \"/srv/finance's/pipeline.toml\" schedule --once\n"),
            "{units}"
        );
        assert!(
            units.contains("OnCalendar=*:0/15\nPersistent=true\n"),
            "{units}"
        );
    }
}
