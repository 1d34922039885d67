//! A real PostgreSQL for the tests: `initdb` into a directory of its own,
//! then `postgres` on a free port (trust authentication, no durability
//! settings a test needs), stopped and removed when dropped. As root (CI),
//! both run as the `postgres` system user, since PostgreSQL refuses root.
//! Debian's `postgresql` package puts them in `/usr/lib/postgresql/<v>/bin`,
//! off the `PATH`; they are found there too. A test needing one carries
//! `#[cfg_attr(missing_postgres, ignore = ..)]`; where it runs, a missing
//! binary fails it. `.ci/run` installs the package.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use justsse::hub::tokio_postgres::{self, NoTls};

use crate::DEADLINE;
use crate::redis::free_port;

/// A PostgreSQL server of the test's own.
pub struct PostgresServer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    dir: PathBuf,
    bin: PathBuf,
    user: Option<(u32, u32)>,
    settings: Vec<String>,
    child: Option<Child>,
}

/// The directory of `initdb` and `postgres`: on the `PATH`, or the newest of
/// Debian's.
fn bin_dir() -> PathBuf {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return dir;
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    found.sort_by_key(|bin| {
        bin.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
    });
    found
        .pop()
        .expect("PostgreSQL is not installed (apt-get install postgresql)")
}

/// The `postgres` system user's uid and gid, when running as root.
fn system_user() -> Option<(u32, u32)> {
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").expect("/etc/passwd");
    let line = passwd
        .lines()
        .find(|line| line.starts_with("postgres:"))
        .expect("running as root, PostgreSQL needs the postgres user (apt-get install postgresql)");
    let fields: Vec<&str> = line.split(':').collect();
    Some((
        fields[2].parse().expect("a uid"),
        fields[3].parse().expect("a gid"),
    ))
}

impl PostgresServer {
    /// Makes a database cluster and starts it; fails the test when
    /// PostgreSQL is not installed.
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// The same, with more server settings (`name=value`, as `-c` takes).
    pub async fn start_with(settings: &[&str]) -> Self {
        let bin = bin_dir();
        let user = system_user();
        let dir =
            std::env::temp_dir().join(format!("justsse-pg-{}-{}", std::process::id(), free_port()));
        std::fs::create_dir_all(&dir).expect("a directory for the cluster");
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).expect("chown the directory");
        }
        let mut server = Self {
            port: free_port(),
            dir,
            bin,
            user,
            settings: settings.iter().map(|s| (*s).to_owned()).collect(),
            child: None,
        };
        let made = server
            .command("initdb")
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "-D",
            ])
            .arg(server.dir.join("data"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .expect("initdb runs");
        assert!(
            made.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&made.stderr)
        );
        server.spawn().await;
        server
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin.join(program));
        if let Some((uid, gid)) = self.user {
            command.uid(uid).gid(gid);
        }
        command
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// A connection of the test's own (its connection task spawned).
    pub async fn client(&self) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(&self.url(), NoTls)
            .await
            .expect("connect to the test's PostgreSQL");
        tokio::spawn(connection);
        client
    }

    async fn spawn(&mut self) {
        let child = self
            .command("postgres")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-p", &self.port.to_string(), "-k"])
            .arg(&self.dir)
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
            .args(["-c", "full_page_writes=off", "-c", "max_connections=200"])
            .args(self.settings.iter().flat_map(|s| ["-c", s.as_str()]))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("postgres starts");
        self.child = Some(child);
        let deadline = tokio::time::Instant::now() + DEADLINE;
        // Listening is not enough: it refuses connections while it starts up.
        while tokio_postgres::connect(&self.url(), NoTls).await.is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "postgres did not accept connections on {}",
                self.port
            );
            // A pause between connection attempts to another process.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops it (a fast shutdown: connections are closed, data kept).
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + DEADLINE;
        while child.try_wait().ok().flatten().is_none() {
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.wait();
    }

    /// Starts it again on the same port, with its data.
    pub async fn restart(&mut self) {
        self.stop();
        self.spawn().await;
    }

    /// Where its cluster is.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
