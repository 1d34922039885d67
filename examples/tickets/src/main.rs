//! Runs the tickets example: `cargo run -p tickets` (`PORT` defaults to 3000;
//! `TLS_CERT` and `TLS_KEY` serve HTTPS; `REDIS_URL` or `REDIS_CLUSTER_URLS`
//! keep everything in Redis, `DATABASE_URL` in PostgreSQL). `cargo run -p tickets -- routes`
//! prints the route table and exits; `-- routes --json` prints it as JSON.

use justsse::App;
use justsse::Hub;
use justsse::hub::{PostgresBackend, PostgresConfig, RedisBackend, RedisConfig};

#[tokio::main]
async fn main() -> Result<(), justsse::Error> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    if std::env::args().nth(1).as_deref() == Some("routes") {
        let routes = tickets::app().routes();
        if std::env::args().any(|arg| arg == "--json") {
            let json = serde_json::to_string_pretty(&routes).expect("a route table serializes");
            println!("{json}");
        } else {
            print!("{routes}");
        }
        return Ok(());
    }
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".to_owned());
    // REDIS_URL (one node) or REDIS_CLUSTER_URLS (a Redis Cluster, some of
    // its nodes, comma-separated) set: tickets, comments and their streams
    // live in Redis, so instances keep no state: behind a load balancer any
    // of them answers any request, and a browser may reconnect to any.
    let redis = match (
        std::env::var("REDIS_CLUSTER_URLS"),
        std::env::var("REDIS_URL"),
    ) {
        (Ok(urls), _) => {
            let mut config = RedisConfig::cluster(urls.split(',').map(str::trim));
            // An acknowledged comment survives a master's failover.
            config.wait_replicas = 1;
            Some((config, urls))
        }
        (_, Ok(url)) => Some((RedisConfig::new(url.clone()), url)),
        _ => None,
    };
    let app = match (redis, std::env::var("DATABASE_URL")) {
        (None, Ok(url)) => on_postgres(&url).await,
        (Some((config, at)), _) => {
            let backend = match RedisBackend::connect(config).await {
                Ok(backend) => backend,
                Err(err) => {
                    eprintln!("cannot reach Redis at {at}: {err}");
                    std::process::exit(1);
                }
            };
            println!("tickets, comments and their streams in Redis at {at}");
            let records = tickets::Records::redis(&backend);
            tickets::app_with(records, Hub::with_backend(backend))
        }
        (None, Err(_)) => tickets::app(),
    };
    // CORS_ORIGINS=http://localhost:5173,https://app.example lets those pages
    // call the API and open its streams; unset, no CORS headers are sent.
    let app = match std::env::var("CORS_ORIGINS") {
        Ok(origins) => tickets::with_cors(app, &origins),
        Err(_) => app,
    };
    // TLS_CERT and TLS_KEY (PEM files) set: HTTPS, where browsers speak
    // HTTP/2 and every stream of a page shares one connection.
    let (app, scheme) = match justsse::tls::TlsConfig::from_env()? {
        Some(tls) => (app.tls(tls), "https"),
        None => (app, "http"),
    };
    // The metrics facade records into a Prometheus exporter, served at /metrics.
    let app = match metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder() {
        Ok(exporter) => tickets::with_metrics(app, exporter),
        Err(err) => {
            eprintln!("no metrics: {err}");
            app
        }
    };
    println!("tickets example on {scheme}://127.0.0.1:{port}\n");
    print!("{}", app.routes());
    app.serve(format!("127.0.0.1:{port}")).await
}

/// DATABASE_URL set: tickets and comments in tables, their streams on the
/// PostgreSQL hub, each comment and its event one transaction.
async fn on_postgres(url: &str) -> App {
    let backend = match PostgresBackend::connect(PostgresConfig::new(url)).await {
        Ok(backend) => backend,
        Err(err) => {
            eprintln!("cannot use PostgreSQL at {url}: {err}");
            std::process::exit(1);
        }
    };
    let records = match tickets::Records::postgres(url).await {
        Ok(records) => records,
        Err(err) => {
            eprintln!("cannot keep tickets in PostgreSQL at {url}: {err}");
            std::process::exit(1);
        }
    };
    println!("tickets, comments and their streams in PostgreSQL at {url}");
    tickets::app_with(records, Hub::with_backend(backend))
}
