//! Compile time of a generated application, justsse beside its axum twin:
//! N controllers x M routes (a `uses` auth middleware on every route, a guard
//! on every other SSE route, JSON and SSE routes with a path parameter), the
//! same routes in axum 0.8 (`from_fn` auth, `Path`, `Extension`, `Sse`).
//!
//! ```text
//! cargo run --release -p bench --bin compile-time            # 240 and 60 routes, 3 runs
//! cargo run --release -p bench --bin compile-time -- 10 8 1  # controllers, routes, runs
//! ```
//!
//! Both apps live in one generated workspace under `target/compile-time`
//! (its own `Cargo.lock`, copied from this workspace's, so the versions
//! match). Dependencies are built first; each measured run then cleans only
//! the app crate and times `cargo check` and `cargo build` (debug), with
//! peak memory from `/usr/bin/time`, then an incremental `cargo check` after
//! a one-line change in one handler (what rust-analyzer runs on a save), in
//! the app written as one file and as one file a controller. The two apps
//! take turns run by run, so that the machine's drift falls on both.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// An application's source in parts: what every controller uses, one text
/// per controller, and `main`; written as one file or one file a controller.
struct Parts {
    header: String,
    controllers: Vec<String>,
    main: String,
}

fn justsse_app(controllers: usize, routes: usize) -> Parts {
    let header = String::from(
        r#"use justsse::prelude::*;

#[derive(Clone)]
struct User {
    admin: bool,
}

async fn auth(head: &RequestHead) -> Result<User, HttpError> {
    match head.header("authorization") {
        Some(token) => Ok(User { admin: token == "Bearer admin" }),
        None => Err(HttpError::unauthorized("no token")),
    }
}
"#,
    );
    let mut parts = Vec::new();
    for c in 0..controllers {
        let mut src = String::new();
        let _ = writeln!(
            src,
            "\npub(crate) struct C{c};\n\n#[controller(\"/c{c}\")]\n#[uses(auth)]\nimpl C{c} {{"
        );
        for r in 0..routes {
            if r % 2 == 0 {
                let _ = writeln!(
                    src,
                    "    #[get(\"/r{r}/:id\")]\n    async fn r{r}(&self, id: u32, user: User) -> Json<(u32, bool)> {{\n        Json((id + {r}, user.admin))\n    }}\n"
                );
            } else {
                let guard = match r % 4 {
                    1 => "    #[guard(|user: &User| user.admin)]\n",
                    _ => "",
                };
                let _ = writeln!(
                    src,
                    "    #[sse(\"/r{r}/:id\")]\n{guard}    async fn r{r}(&self, id: u32, last: LastEventId) -> impl EventStream {{\n        stream! {{\n            yield Event::named(\"n\").id(id + {r}).data(last.as_deref().unwrap_or_default());\n        }}\n    }}\n"
                );
            }
        }
        src.push_str("}\n");
        parts.push(src);
    }
    let mut main = String::from("\nfn main() {\n    let app = App::new()");
    for c in 0..controllers {
        let _ = write!(main, "\n        .controller(C{c})");
    }
    main.push_str(";\n    print!(\"{}\", app.routes());\n}\n");
    Parts {
        header,
        controllers: parts,
        main,
    }
}

fn axum_app(controllers: usize, routes: usize) -> Parts {
    let header = String::from(
        r#"use std::convert::Infallible;

use axum::extract::{Path, Request};
use axum::http::StatusCode;
use axum::middleware::{Next, from_fn};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use futures_util::Stream;

#[derive(Clone)]
struct User {
    admin: bool,
}

async fn auth(mut req: Request, next: Next) -> Response {
    let user = match req.headers().get("authorization").and_then(|v| v.to_str().ok()) {
        Some(token) => User { admin: token == "Bearer admin" },
        None => return StatusCode::UNAUTHORIZED.into_response(),
    };
    req.extensions_mut().insert(user);
    next.run(req).await
}

fn last_id(headers: &axum::http::HeaderMap) -> String {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
"#,
    );
    let mut router = String::from("    let app: Router = Router::new()");
    let mut parts = Vec::new();
    for c in 0..controllers {
        let mut src = String::new();
        for r in 0..routes {
            if r % 2 == 0 {
                let _ = writeln!(
                    src,
                    "\npub(crate) async fn c{c}_r{r}(Path(id): Path<u32>, Extension(user): Extension<User>) -> Json<(u32, bool)> {{\n    Json((id + {r}, user.admin))\n}}"
                );
            } else {
                let guard = match r % 4 {
                    1 => {
                        "    if !user.admin {\n        return Err(StatusCode::FORBIDDEN);\n    }\n"
                    }
                    _ => "    let _ = user;\n",
                };
                let _ = writeln!(
                    src,
                    "\npub(crate) async fn c{c}_r{r}(\n    Path(id): Path<u32>,\n    Extension(user): Extension<User>,\n    headers: axum::http::HeaderMap,\n) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, StatusCode> {{\n{guard}    let last = last_id(&headers);\n    Ok(Sse::new(futures_util::stream::once(async move {{\n        Ok(Event::default().event(\"n\").id((id + {r}).to_string()).data(last))\n    }})))\n}}"
                );
            }
            let _ = write!(
                router,
                "\n        .route(\"/c{c}/r{r}/{{id}}\", get(c{c}_r{r}))"
            );
        }
        parts.push(src);
    }
    router.push_str("\n        .route_layer(from_fn(auth));\n");
    Parts {
        header,
        controllers: parts,
        main: format!("\nfn main() {{\n{router}    drop(app);\n}}\n"),
    }
}

impl Parts {
    /// One file, every controller at its root.
    fn one_file(&self) -> String {
        self.header.clone() + &self.controllers.concat() + &self.main
    }

    /// `src/main.rs` and one module `src/cN.rs` a controller.
    fn files(&self) -> Vec<(String, String)> {
        let mut main = self.header.clone();
        let mut files = Vec::new();
        for (c, controller) in self.controllers.iter().enumerate() {
            let _ = writeln!(main, "mod c{c};\nuse c{c}::*;");
            files.push((format!("c{c}.rs"), format!("use super::*;\n{controller}")));
        }
        files.push(("main.rs".to_owned(), main + &self.main));
        files
    }
}

/// Writes the generated workspace; returns its directory. Each application
/// twice: in one file (`justsse-app`, `axum-app`), and one file a controller
/// (`justsse-files`, `axum-files`), the layout of the examples, where an edit
/// moves the source positions of its own file only.
fn generate(root: &Path, controllers: usize, routes: usize) -> std::io::Result<PathBuf> {
    let dir = root.join("target/compile-time");
    let justsse = root.join("justsse");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("Cargo.toml"),
        format!("[workspace]\nresolver = \"3\"\nmembers = {APPS:?}\n"),
    )?;
    let justsse_dependency = format!(
        "justsse = {{ path = {:?} }}\n",
        justsse.display().to_string()
    );
    let axum_dependency = "axum = \"0.8\"\nfutures-util = \"0.3\"\n";
    let (ours, theirs) = (
        justsse_app(controllers, routes),
        axum_app(controllers, routes),
    );
    for app in APPS {
        let src = dir.join(app).join("src");
        // A size generated before may have left other files.
        let _ = std::fs::remove_dir_all(&src);
        std::fs::create_dir_all(&src)?;
        let (parts, dependency) = match app.starts_with("justsse") {
            true => (&ours, justsse_dependency.as_str()),
            false => (&theirs, axum_dependency),
        };
        std::fs::write(
            dir.join(app).join("Cargo.toml"),
            format!(
                "[package]\nname = \"{app}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\n{dependency}"
            ),
        )?;
        match app.ends_with("-files") {
            true => {
                for (name, text) in parts.files() {
                    std::fs::write(src.join(name), text)?;
                }
            }
            false => std::fs::write(src.join("main.rs"), parts.one_file())?,
        }
    }
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock"))?;
    Ok(dir)
}

/// The generated applications: one file each, then one file a controller.
const APPS: [&str; 4] = ["justsse-app", "axum-app", "justsse-files", "axum-files"];

/// Runs `cargo <args>` in `dir` under `/usr/bin/time`: seconds and peak KiB.
fn timed(dir: &Path, args: &[&str]) -> std::io::Result<(f64, u64)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let report = dir.join("time.txt");
    let started = Instant::now();
    let status = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&report)
        .arg(cargo)
        .args(args)
        .current_dir(dir)
        .env_remove("CARGO_TARGET_DIR")
        .status()?;
    let seconds = started.elapsed().as_secs_f64();
    if !status.success() {
        return Err(std::io::Error::other(format!("cargo {args:?} failed")));
    }
    let peak = std::fs::read_to_string(&report)?
        .trim()
        .lines()
        .last()
        .and_then(|line| line.trim().parse().ok())
        .unwrap_or(0);
    Ok((seconds, peak))
}

/// One app's timings over the runs.
#[derive(Default)]
struct Samples {
    check: Vec<f64>,
    again: Vec<f64>,
    again_split: Vec<f64>,
    build: Vec<f64>,
    check_mem: u64,
    build_mem: u64,
}

impl Samples {
    /// One run of `app`: a clean check, the check after a one-line change
    /// (in the one-file app and in the file-a-controller one), a debug build.
    fn run(&mut self, dir: &Path, app: &str) -> std::io::Result<()> {
        let split = app.replace("-app", "-files");
        timed(dir, &["clean", "--quiet", "-p", app])?;
        let (seconds, peak) = timed(dir, &["check", "--quiet", "-p", app])?;
        self.check.push(seconds);
        self.check_mem = self.check_mem.max(peak);
        edit_one_handler(dir, app)?;
        self.again
            .push(timed(dir, &["check", "--quiet", "-p", app])?.0);
        timed(dir, &["check", "--quiet", "-p", &split])?;
        edit_one_handler(dir, &split)?;
        self.again_split
            .push(timed(dir, &["check", "--quiet", "-p", &split])?.0);
        timed(dir, &["clean", "--quiet", "-p", app])?;
        let (seconds, peak) = timed(dir, &["build", "--quiet", "-p", app])?;
        self.build.push(seconds);
        self.build_mem = self.build_mem.max(peak);
        Ok(())
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Changes one line of the first handler of `app` (its `id + 0` becomes
/// `id + 1000`, or back), so that the next check is incremental.
fn edit_one_handler(dir: &Path, app: &str) -> std::io::Result<()> {
    let main = match app.ends_with("-files") {
        true => dir.join(app).join("src/c0.rs"),
        false => dir.join(app).join("src/main.rs"),
    };
    let src = std::fs::read_to_string(&main)?;
    let changed = match src.contains("id + 1000") {
        true => src.replacen("id + 1000", "id + 0", 1),
        false => src.replacen("id + 0", "id + 1000", 1),
    };
    std::fs::write(main, changed)
}

fn main() -> std::io::Result<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let runs = args.get(2).copied().unwrap_or(3).max(1);
    let sizes = match (args.first(), args.get(1)) {
        (Some(&controllers), Some(&routes)) => vec![(controllers, routes)],
        _ => vec![(30, 8), (15, 4)],
    };
    for (controllers, routes) in sizes {
        measure(controllers, routes, runs)?;
    }
    Ok(())
}

fn measure(controllers: usize, routes: usize, runs: usize) -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_owned();
    let dir = generate(&root, controllers, routes)?;
    eprintln!("building dependencies in {}", dir.display());
    timed(&dir, &["build", "--quiet"])?;
    timed(&dir, &["check", "--quiet"])?;
    println!(
        "\n{controllers} controllers x {routes} routes = {} routes, median of {runs} interleaved runs\n",
        controllers * routes
    );
    println!(
        "| app | cargo check, s | check after a one-line change (one file / one file a controller), s | debug build, s | peak memory (check / build), MB |"
    );
    println!("| --- | ---: | ---: | ---: | ---: |");
    // The apps take turns within each run, so that the machine's drift over
    // the minutes of a run falls on both alike.
    let apps = ["justsse-app", "axum-app"];
    let mut samples: Vec<Samples> = apps.iter().map(|_| Samples::default()).collect();
    for _ in 0..runs {
        for (app, samples) in apps.iter().zip(&mut samples) {
            samples.run(&dir, app)?;
        }
    }
    let mut figures = Vec::new();
    for (app, samples) in apps.iter().zip(samples) {
        let (check, again, again_split, build) = (
            median(samples.check),
            median(samples.again),
            median(samples.again_split),
            median(samples.build),
        );
        println!(
            "| {app} | {check:.2} | {again:.2} / {again_split:.2} | {build:.2} | {} / {} |",
            samples.check_mem / 1024,
            samples.build_mem / 1024
        );
        figures.push((check, again, again_split, build, samples.check_mem));
    }
    let (ours, theirs) = (figures[0], figures[1]);
    println!(
        "\njustsse / axum: check {:.2}x, incremental check {:.2}x (one file) / {:.2}x (one file a controller), build {:.2}x, check peak memory {:.2}x",
        ours.0 / theirs.0,
        ours.1 / theirs.1,
        ours.2 / theirs.2,
        ours.3 / theirs.3,
        ours.4 as f64 / theirs.4 as f64
    );
    Ok(())
}
