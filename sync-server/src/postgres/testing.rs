//! A throwaway PostgreSQL cluster for tests and benchmarks: `initdb` into a temporary folder,
//! the server listening on a Unix socket in that folder only (no TCP), one database per test.
//!
//! It runs the PostgreSQL server binaries installed on the machine (`$FIELDSALES_PG_BIN`, or
//! the newest of Debian's `/usr/lib/postgresql/<version>/bin`). PostgreSQL refuses to run as
//! root, so when the tests run as root (CI does) every PostgreSQL command runs as the
//! `postgres` user through `runuser`, and the folder is handed to that user. A watchdog
//! process stops the cluster and removes the folder when the test process ends, however it
//! ends (a cluster kept in a `static` is never dropped).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Why the cluster could not start.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// No PostgreSQL server binaries were found.
    #[error(
        "no PostgreSQL server binaries (initdb, pg_ctl): install postgresql-15 or set \
         FIELDSALES_PG_BIN"
    )]
    NoBinaries,
    /// A command failed.
    #[error("{command} failed: {detail}")]
    Command {
        /// What ran.
        command: String,
        /// What it said.
        detail: String,
    },
    /// The file system refused.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Connecting or creating a database failed.
    #[error(transparent)]
    Postgres(#[from] tokio_postgres::Error),
}

/// How the cluster writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `fsync` off: tests, where a power cut does not matter.
    Fast,
    /// PostgreSQL's defaults (`fsync`, `synchronous_commit`): benchmarks, to compare with
    /// SQLite's `synchronous = FULL`.
    Durable,
}

/// A running cluster.
#[derive(Debug)]
pub struct LocalCluster {
    root: PathBuf,
    socket_dir: PathBuf,
    as_postgres: bool,
    bin: PathBuf,
    databases: AtomicUsize,
}

fn bin_dir() -> Result<PathBuf, ClusterError> {
    if let Some(dir) = std::env::var_os("FIELDSALES_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| ClusterError::NoBinaries)?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_ctl").is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, b)| b)
        .ok_or(ClusterError::NoBinaries)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .is_some_and(|s| s.trim() == "0")
}

fn uid_gid_of(user: &str) -> Result<(u32, u32), ClusterError> {
    let field = |flag: &str| -> Result<u32, ClusterError> {
        let out = Command::new("id").arg(flag).arg(user).output()?;
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .map_err(|_| ClusterError::Command {
                command: format!("id {flag} {user}"),
                detail: "no such user: PostgreSQL cannot run as root".into(),
            })
    };
    Ok((field("-u")?, field("-g")?))
}

impl LocalCluster {
    /// The cluster shared by every test of this process, started on first use.
    pub fn shared() -> &'static LocalCluster {
        static SHARED: OnceLock<LocalCluster> = OnceLock::new();
        SHARED.get_or_init(|| match LocalCluster::start(Durability::Fast) {
            Ok(cluster) => cluster,
            Err(e) => panic!("cannot start a local PostgreSQL for the tests: {e}"),
        })
    }

    /// Starts a new cluster in a fresh temporary folder.
    pub fn start(durability: Durability) -> Result<LocalCluster, ClusterError> {
        let bin = bin_dir()?;
        let as_postgres = is_root();
        let root = tempfile::Builder::new()
            .prefix("fieldsales-pg-")
            .tempdir()?
            .keep();
        if as_postgres {
            let (uid, gid) = uid_gid_of("postgres")?;
            std::os::unix::fs::chown(&root, Some(uid), Some(gid))?;
        }
        let cluster = LocalCluster {
            socket_dir: root.clone(),
            root,
            as_postgres,
            bin,
            databases: AtomicUsize::new(0),
        };
        let data = cluster.root.join("data");
        cluster.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "-A".as_ref(),
                "trust".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--locale=C".as_ref(),
                "--no-sync".as_ref(),
            ],
        )?;
        let mut settings = format!(
            "-c listen_addresses='' -c unix_socket_directories='{}' -c max_connections=300 \
             -c shared_buffers=128MB",
            cluster.socket_dir.display()
        );
        if durability == Durability::Fast {
            settings.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        let log = cluster.root.join("server.log");
        cluster.run(
            "pg_ctl",
            &[
                "start".as_ref(),
                "-w".as_ref(),
                "-D".as_ref(),
                data.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-o".as_ref(),
                settings.as_ref(),
            ],
        )?;
        cluster.watch()?;
        Ok(cluster)
    }

    /// Runs one of the PostgreSQL programs, as `postgres` when this process is root.
    fn run(&self, program: &str, args: &[&std::ffi::OsStr]) -> Result<(), ClusterError> {
        let path = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let out = command
            .args(args)
            .current_dir(&self.root)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| ClusterError::Command {
                command: program.to_owned(),
                detail: e.to_string(),
            })?;
        if out.status.success() {
            Ok(())
        } else {
            Err(ClusterError::Command {
                command: program.to_owned(),
                detail: format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ),
            })
        }
    }

    /// A watchdog that stops the cluster (immediate shutdown) and removes its folder once this
    /// process is gone.
    fn watch(&self) -> Result<(), ClusterError> {
        let pid_file = self.root.join("data").join("postmaster.pid");
        let postmaster = std::fs::read_to_string(&pid_file)?
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        let script = format!(
            "while kill -0 {me} 2>/dev/null; do sleep 1; done; kill -QUIT {postmaster}; \
             sleep 2; rm -rf '{root}'",
            me = std::process::id(),
            root = self.root.display(),
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        Ok(())
    }

    /// The folder of the server's socket.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// A connection string to `database` on this cluster.
    pub fn url(&self, database: &str) -> String {
        format!(
            "host={} user=postgres dbname={database}",
            self.socket_dir.display()
        )
    }

    /// Creates a fresh, empty database; returns its connection string.
    pub async fn database(&self) -> Result<String, ClusterError> {
        let n = self.databases.fetch_add(1, Ordering::Relaxed);
        let name = format!("test_{}_{n}", std::process::id());
        let (client, connection) =
            tokio_postgres::connect(&self.url("postgres"), tokio_postgres::NoTls).await?;
        let task = tokio::spawn(connection);
        client
            .batch_execute(&format!(
                "CREATE DATABASE {name} TEMPLATE template0 STRATEGY file_copy"
            ))
            .await?;
        drop(client);
        let _ = task.await;
        Ok(self.url(&name))
    }
}
