//! Which outside components a machine lacks, told to the compiler by a test
//! crate's build script, so that a test needing one is reported `ignored`
//! (with what to install) instead of passing without having run.
//!
//! Under `CI=true` nothing is ever reported missing: the tests run, and the
//! helper starting the component fails them with the same message. A machine
//! that installs a component later reruns the build script (it watches `PATH`
//! and `CI`), so the tests stop being ignored.
//!
//! In a build script: `justsse_probe::report(&[Component::Redis, Component::Nginx])`;
//! in a test: `#[cfg_attr(missing_redis, ignore = "needs redis-server")]`.

use std::path::Path;
use std::process::{Command, Stdio};

/// An outside program some tests need.
#[derive(Clone, Copy, Debug)]
pub enum Component {
    /// `redis-server` and `redis-cli`: cfg `missing_redis`.
    Redis,
    /// PostgreSQL's `initdb` and `postgres`, from `pg_config --bindir` or
    /// Debian's `/usr/lib/postgresql/<v>/bin`: cfg `missing_postgres`.
    Postgres,
    /// `nginx` on the `PATH` or in `/usr/sbin`: cfg `missing_nginx`.
    Nginx,
    /// `npm` (with Node.js): cfg `missing_npm`.
    Npm,
    /// `python3` with its `venv` module: cfg `missing_python`.
    Python,
    /// Debian's Chromium at `/usr/bin/chromium`, and npm to drive it: cfg
    /// `missing_chromium`.
    Chromium,
}

impl Component {
    /// The cfg set when the component is missing.
    pub fn cfg(self) -> &'static str {
        match self {
            Component::Redis => "missing_redis",
            Component::Postgres => "missing_postgres",
            Component::Nginx => "missing_nginx",
            Component::Npm => "missing_npm",
            Component::Python => "missing_python",
            Component::Chromium => "missing_chromium",
        }
    }

    /// Whether this machine has it.
    pub fn present(self) -> bool {
        match self {
            Component::Redis => {
                runs("redis-server", &["--version"]) && runs("redis-cli", &["--version"])
            }
            Component::Postgres => {
                let debian = std::fs::read_dir("/usr/lib/postgresql").is_ok_and(|versions| {
                    versions
                        .flatten()
                        .any(|v| v.path().join("bin/initdb").exists())
                });
                debian || runs("pg_config", &["--bindir"])
            }
            Component::Nginx => runs("nginx", &["-v"]) || runs("/usr/sbin/nginx", &["-v"]),
            Component::Npm => runs("npm", &["--version"]),
            Component::Python => runs("python3", &["-c", "import venv, ensurepip"]),
            Component::Chromium => {
                Path::new("/usr/bin/chromium").exists() && runs("npm", &["--version"])
            }
        }
    }
}

/// Declares the cfgs of `components` and sets those of the missing ones,
/// unless `CI` is set. Call it from a build script.
pub fn report(components: &[Component]) {
    println!("cargo::rerun-if-env-changed=CI");
    println!("cargo::rerun-if-env-changed=PATH");
    let ci = std::env::var_os("CI").is_some();
    for component in components {
        println!("cargo::rustc-check-cfg=cfg({})", component.cfg());
        if !ci && !component.present() {
            println!("cargo::rustc-cfg={}", component.cfg());
        }
    }
}

fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}
