//! Runs the tickets example: `cargo run -p tickets` (`PORT` defaults to 3000).

#[tokio::main]
async fn main() -> Result<(), justsse::Error> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".to_owned());
    let app = tickets::app();
    println!("tickets example on http://127.0.0.1:{port}\n");
    print!("{}", app.routes());
    app.serve(format!("127.0.0.1:{port}")).await
}
