//! Resume ids: any `Last-Event-ID` given to a hub (one topic, or the cursor of
//! several) resumes or gets a `resync` first, never panics and never skips
//! silently: the first event after an unknown id is a resync, and a known id
//! resumes right after itself.
#![no_main]

use justsse::Event;
use justsse::hub::{Hub, RESYNC};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|id: &str| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let hub: Hub<&str> = Hub::new();
        let mut sent = Vec::new();
        for n in 0..3 {
            let event = hub.publish(&"a", Event::new().data(n.to_string())).await.expect("published");
            sent.push(event.id_str().unwrap_or_default().to_owned());
        }
        hub.publish(&"b", Event::new().data("b")).await.expect("published");

        let mut one = hub.subscribe(&"a", Some(id)).await;
        match sent.iter().position(|s| s == id) {
            Some(i) if i + 1 < sent.len() => {
                let next = one.next().await.expect("the next event");
                assert_eq!(next.id_str(), Some(sent[i + 1].as_str()), "{id:?}");
            }
            Some(_) => {}
            None => {
                let first = one.next().await.expect("a resync");
                assert_eq!(first.name(), Some(RESYNC), "{id:?} resumed");
            }
        }

        // A cursor over two topics: whatever it says, the first event is
        // data of a topic or a resync, and reading does not hang.
        let mut both = hub.subscribe_all(&["a", "b"], Some(id)).await;
        hub.publish(&"b", Event::new().data("live")).await.expect("published");
        let first = both.next().await.expect("an event");
        assert!(first.data_str().is_some(), "{id:?}");
    });
});
