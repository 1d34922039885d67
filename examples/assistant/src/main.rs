//! Runs the assistant example: `cargo run -p assistant` (`PORT` defaults to
//! 3000; `ASSISTANT_API_KEYS`, comma-separated, to `sk-local`, a key for
//! local use only; `ASSISTANT_PACE_MS`, the time per word, to 30; `REDIS_URL`
//! keeps responses in Redis, for several instances).

use std::time::Duration;

use assistant::{Keys, Model, Responses};
use justsse::Hub;
use justsse::hub::{RedisBackend, RedisConfig};

#[tokio::main]
async fn main() -> Result<(), justsse::Error> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".to_owned());
    let keys =
        Keys::parse(&std::env::var("ASSISTANT_API_KEYS").unwrap_or_else(|_| "sk-local".to_owned()));
    let pace = std::env::var("ASSISTANT_PACE_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(30);
    let model = Model::new(Duration::from_millis(pace));
    // REDIS_URL set: responses and their events live in Redis, so any
    // instance behind a load balancer resumes any background response.
    let app = match std::env::var("REDIS_URL") {
        Ok(url) => {
            let backend = match RedisBackend::connect(RedisConfig::new(url.clone())).await {
                Ok(backend) => backend,
                Err(err) => {
                    eprintln!("cannot reach Redis at {url}: {err}");
                    std::process::exit(1);
                }
            };
            println!("responses in Redis at {url}");
            let responses = Responses::Redis(backend.connection());
            assistant::app_with(model, keys, responses, Hub::with_backend(backend))
        }
        Err(_) => assistant::app(model, keys),
    };
    let app = match metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder() {
        Ok(exporter) => assistant::with_metrics(app, exporter),
        Err(err) => {
            eprintln!("no metrics: {err}");
            app
        }
    };
    println!(
        "assistant example on http://127.0.0.1:{port} (model {})\n",
        assistant::MODEL
    );
    print!("{}", app.routes());
    app.serve(format!("127.0.0.1:{port}")).await
}
