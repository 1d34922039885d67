//! A price ticker for the browser's compression test (tests/browser/
//! compression.test.mjs): `/` is a page whose `EventSource` records each event
//! and when it came, `/ticks` sends `TICKS` events (default 40) 50 ms apart,
//! each carrying when it was sent. `PORT` sets the port; `CODING`, when set,
//! replaces what the browser accepts (`Accept-Encoding`) by that coding, so one
//! browser can be heard over each.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use justsse::http::{HeaderValue, header};
use justsse::prelude::*;
use tower_http::set_header::SetRequestHeaderLayer;

const PAGE: &str = r#"<!doctype html><meta charset="utf-8"><title>ticker</title>
<script>
window.received = [];
const source = new EventSource('/ticks');
source.addEventListener('tick', (event) => {
  window.received.push({ data: event.data, id: event.lastEventId, at: Date.now() });
});
source.addEventListener('done', () => { window.done = true; source.close(); });
</script>"#;

struct Ticker {
    ticks: u32,
}

#[controller("/")]
impl Ticker {
    #[get("/")]
    async fn page(&self) -> Html<&'static str> {
        Html(PAGE)
    }

    #[sse("/ticks")]
    async fn ticks(&self) -> impl EventStream {
        let ticks = self.ticks;
        stream! {
            for n in 0..ticks {
                tokio::time::sleep(Duration::from_millis(50)).await;
                let sent = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
                let data = format!(r#"{{"n":{n},"symbol":"ACME","price":{}.{:02},"sent":{sent}}}"#, 100 + n % 7, n % 100);
                yield Event::named("tick").id(n).data(data);
            }
            yield Event::named("done").data("end");
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), justsse::Error> {
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let ticks = std::env::var("TICKS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(40);
    let mut app = App::new().controller(Ticker { ticks });
    if let Ok(coding) = std::env::var("CODING") {
        let coding = HeaderValue::from_str(&coding).expect("a header value");
        app = app.layer(SetRequestHeaderLayer::overriding(
            header::ACCEPT_ENCODING,
            coding,
        ));
    }
    app.serve(format!("127.0.0.1:{port}")).await
}
