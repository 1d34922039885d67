//! Real Redis servers for the tests: one node, or a local Redis Cluster of
//! three masters and three replicas, each on free ports, stopped when dropped.
//! A test needing them carries `#[cfg_attr(missing_redis, ignore = ..)]`: on a
//! machine without `redis-server` it is reported ignored (`justsse_probe`);
//! where it runs, a missing binary fails it. `.ci/run` installs them.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};

use crate::{DEADLINE, listening};

/// Fails the test, saying what to install, when `binary` does not run.
fn require(binary: &str) {
    assert!(
        Command::new(binary).arg("--version").output().is_ok(),
        "{binary} is not installed (apt-get install redis-server)"
    );
}

/// A free port for a server that may be restarted on it. Port 0 would give
/// one from the ephemeral range, where, while the server is down, any
/// outgoing connection of the other tests may take it as its local port; so
/// the ports come from below that range (Linux's starts at 32768), one after
/// another from a start that differs per process, each checked free.
pub(crate) fn free_port() -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let _ = NEXT.compare_exchange(
        0,
        20_000 + (std::process::id() % 1_000) as u16 * 12,
        Ordering::Relaxed,
        Ordering::Relaxed,
    );
    loop {
        let port = NEXT.fetch_add(1, Ordering::Relaxed);
        assert!(port < 32_768, "no free port left below the ephemeral range");
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A `redis-server` of the test's own, on a free port, with no persistence.
pub struct RedisServer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts one; fails the test when `redis-server` is not installed.
    pub async fn start() -> Self {
        require("redis-server");
        let mut server = Self {
            port: free_port(),
            child: None,
        };
        server.spawn().await;
        server
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    async fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        listening(self.port, "redis-server").await;
    }

    /// Kills it (its data is lost).
    pub fn kill(&mut self) {
        crash(&mut self.child);
    }

    /// Starts it again on the same port, empty.
    pub async fn restart(&mut self) {
        self.kill();
        self.spawn().await;
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A Redis Cluster of its own: three masters, one replica each, made by
/// `redis-cli --cluster create`; a node that stops answering for 1 s is
/// failed over to its replica.
pub struct RedisCluster {
    nodes: Vec<Node>,
    dir: PathBuf,
}

/// One node: its port, its cluster bus port, its process while it runs.
struct Node {
    port: u16,
    bus: u16,
    child: Option<Child>,
}

impl RedisCluster {
    /// Starts the six nodes and makes them a cluster, ready when every slot
    /// is served and every replica follows its master; fails the test when
    /// `redis-server` or `redis-cli` is not installed.
    pub async fn start() -> Self {
        require("redis-server");
        require("redis-cli");
        let ports: Vec<u16> = (0..6).map(|_| free_port()).collect();
        let dir = std::env::temp_dir().join(format!(
            "justsse-cluster-{}-{}",
            std::process::id(),
            ports[0]
        ));
        let mut cluster = Self {
            nodes: ports
                .iter()
                .map(|&port| Node {
                    port,
                    bus: free_port(),
                    child: None,
                })
                .collect(),
            dir,
        };
        for &port in &ports {
            cluster.spawn(port).await;
        }
        let created = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(ports.iter().map(|port| format!("127.0.0.1:{port}")))
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdout(Stdio::null())
            .status()
            .expect("redis-cli runs");
        assert!(created.success(), "redis-cli --cluster create failed");
        cluster
            .until("every slot served and every replica in sync", |c| {
                c.healthy(None)
            })
            .await;
        cluster
    }

    /// Starts the node on `port` (again, with the cluster configuration it
    /// saved: a crashed master comes back as a replica of its successor).
    async fn spawn(&mut self, port: u16) {
        let dir = self.dir.join(port.to_string());
        std::fs::create_dir_all(&dir).expect("the node's directory");
        let Some(node) = self.nodes.iter_mut().find(|node| node.port == port) else {
            panic!("no node on {port}");
        };
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--cluster-port", &node.bus.to_string()])
            .args(["--cluster-enabled", "yes", "--cluster-node-timeout", "1000"])
            .args(["--cluster-config-file", "nodes.conf"])
            .arg("--dir")
            .arg(&dir)
            .args(["--save", "", "--appendonly", "no"])
            // A replica syncs at once, not after diskless sync's 5 s wait.
            .args(["--repl-diskless-sync-delay", "0"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        node.child = Some(child);
        listening(port, "a cluster node").await;
    }

    /// Starts a killed node again and waits until it follows its successor.
    pub async fn rejoin(&mut self, port: u16) {
        self.spawn(port).await;
        self.until("the old master back as a replica", |c| c.healthy(None))
            .await;
    }

    /// The URLs of its nodes, for `RedisConfig::cluster`.
    pub fn urls(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|node| format!("redis://127.0.0.1:{}/", node.port))
            .collect()
    }

    /// `redis-cli -p <port> <args>`'s output.
    pub fn cli(&self, port: u16, args: &[&str]) -> String {
        let output = Command::new("redis-cli")
            .args(["-p", &port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// The live masters' ports.
    pub fn masters(&self) -> Vec<u16> {
        self.live()
            .filter(|&port| self.cli(port, &["ROLE"]).starts_with("master"))
            .collect()
    }

    /// The master holding a key that ends with `suffix`.
    pub fn master_holding(&self, suffix: &str) -> Option<u16> {
        let pattern = format!("*{suffix}");
        self.masters().into_iter().find(|&port| {
            !self
                .cli(port, &["--scan", "--pattern", &pattern])
                .trim()
                .is_empty()
        })
    }

    /// The live replica following the master on `port`.
    pub fn replica_of(&self, port: u16) -> Option<u16> {
        self.live().find(|&replica| {
            let role = self.cli(replica, &["ROLE"]);
            let mut lines = role.lines();
            lines.next() == Some("slave") && lines.nth(1) == Some(port.to_string().as_str())
        })
    }

    /// Whether every replica of the master on `port` has all it wrote (`ROLE`:
    /// the master's replication offset, then each replica's).
    pub fn in_sync(&self, port: u16) -> bool {
        let role = self.cli(port, &["ROLE"]);
        let lines: Vec<&str> = role.lines().collect();
        let (Some(&"master"), Some(offset)) = (lines.first(), lines.get(1)) else {
            return false;
        };
        let replicas = &lines[2..];
        !replicas.is_empty()
            && replicas
                .chunks(3)
                .all(|replica| replica.get(2) == Some(offset))
    }

    /// Freezes the node on `port` (SIGSTOP): it takes nothing in, answers
    /// nothing, until [`thaw`](Self::thaw).
    pub fn freeze(&self, port: u16) {
        self.signal(port, "-STOP");
    }

    /// Lets a frozen node go on (SIGCONT).
    pub fn thaw(&self, port: u16) {
        self.signal(port, "-CONT");
    }

    fn signal(&self, port: u16, signal: &str) {
        let node = self.nodes.iter().find(|node| node.port == port);
        let pid = node.and_then(|node| node.child.as_ref()).map(Child::id);
        let pid = pid.unwrap_or_else(|| panic!("no live node on {port}"));
        let sent = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill {signal} {pid}");
    }

    /// Kills the node on `port` as a crash would (SIGKILL).
    pub fn kill(&mut self, port: u16) {
        for node in self.nodes.iter_mut().filter(|node| node.port == port) {
            node.stop();
        }
    }

    /// Whether the cluster serves every slot again without the killed master
    /// `dead`: one of its replicas was promoted.
    pub fn failed_over(&self, dead: u16) -> bool {
        self.healthy(Some(dead))
    }

    fn live(&self) -> impl Iterator<Item = u16> + '_ {
        self.nodes
            .iter()
            .filter(|node| node.child.is_some())
            .map(|node| node.port)
    }

    /// Every live node sees the cluster as ok with three masters serving the
    /// slots (`dead`, if given, flagged failed), and every live replica's link
    /// to its master is up.
    fn healthy(&self, dead: Option<u16>) -> bool {
        self.live().all(|port| {
            let info = self.cli(port, &["CLUSTER", "INFO"]);
            let nodes = self.cli(port, &["CLUSTER", "NODES"]);
            let serving = nodes
                .lines()
                .filter(|line| line.contains("master") && !line.contains("fail"))
                .count();
            let dead_marked = dead.is_none_or(|dead| {
                nodes
                    .lines()
                    .any(|line| line.contains(&format!(":{dead}@")) && line.contains("fail"))
            });
            let role = self.cli(port, &["ROLE"]);
            let synced = !role.starts_with("slave") || role.contains("connected");
            info.contains("cluster_state:ok") && serving == 3 && dead_marked && synced
        })
    }

    async fn until(&self, what: &str, done: impl Fn(&Self) -> bool) {
        let deadline = tokio::time::Instant::now() + DEADLINE * 3;
        while !done(self) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the cluster: {what}"
            );
            // A pause between polls of other processes.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            node.stop();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Node {
    fn stop(&mut self) {
        crash(&mut self.child);
    }
}

/// Kills a server as a crash would (SIGKILL), and reaps it.
fn crash(child: &mut Option<Child>) {
    if let Some(mut child) = child.take() {
        let _ = child.kill();
        let _ = child.wait();
    }
}
