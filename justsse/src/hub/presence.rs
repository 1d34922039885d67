//! Presence: how many subscribers a topic has, on this instance and on every
//! instance sharing the backend.
//!
//! On Redis each instance announces its count per followed topic in the hash
//! `<key_prefix>p:<topic>` (field: the instance, value: `<count>
//! <deadline>`, the deadline in Redis's clock), every
//! [`presence_every`](super::RedisConfig::presence_every), valid for
//! [`presence_ttl`](super::RedisConfig::presence_ttl). A reader counts the live
//! announcements of the other instances beside its own count, so a crashed
//! instance's subscribers stop counting at most `presence_ttl` after its last
//! announcement; another instance sees a change here at most `presence_every`
//! late.

/// How many subscribers a topic has ([`Hub::subscribers`](super::Hub::subscribers)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Presence {
    /// On this instance, exactly.
    pub here: usize,
    /// On every instance: this one's count now, the others' as last announced.
    pub everywhere: usize,
}

/// One instance's announcement, `<count> <deadline ms>`.
#[cfg(feature = "redis")]
pub(crate) fn announcement(count: usize, deadline_ms: u64) -> String {
    format!("{count} {deadline_ms}")
}

/// The subscribers the announcements of other instances still count, at
/// `now_ms`; `own` is this instance, counted by the caller.
#[cfg(feature = "redis")]
pub(crate) fn others(
    announcements: &std::collections::HashMap<String, String>,
    own: &str,
    now_ms: u64,
) -> usize {
    announcements
        .iter()
        .filter(|(instance, _)| instance.as_str() != own)
        .filter_map(|(_, value)| {
            let (count, deadline) = value.split_once(' ')?;
            let deadline: u64 = deadline.parse().ok()?;
            (deadline > now_ms).then(|| count.parse::<usize>().ok())?
        })
        .sum()
}

#[cfg(all(test, feature = "redis"))]
mod tests {
    use std::collections::HashMap;

    use super::{announcement, others};

    #[test]
    fn live_announcements_of_other_instances_count() {
        let mut seen = HashMap::new();
        seen.insert("me".to_owned(), announcement(5, 2_000));
        seen.insert("a".to_owned(), announcement(2, 2_000));
        seen.insert("b".to_owned(), announcement(3, 999));
        seen.insert("c".to_owned(), "garbage".to_owned());
        assert_eq!(
            others(&seen, "me", 1_000),
            2,
            "b expired, c unreadable, me not counted"
        );
        assert_eq!(others(&seen, "me", 500), 5);
    }
}
