//! Where a topic's keys live.
//!
//! On one node a topic's stream is `<prefix><topic>` and one reader follows
//! every topic. A Redis Cluster refuses a command naming keys of different
//! hash slots (`CROSSSLOT`), so one `XREAD` cannot follow topics spread over
//! the cluster. There the topics are spread over a fixed number of shards, each
//! a hash tag of its own slot (`<prefix>{<tag>}<topic>`): one blocking reader
//! per shard follows all of its topics, whatever their number. The tags split
//! the slot space evenly, so the shards spread evenly over masters that split it
//! evenly (what `redis-cli --cluster create` does). Every instance computes the
//! same tags from the same shard count, whatever the cluster's topology, so a
//! resharding or a failover never renames a key.

/// The slots of a Redis Cluster.
const SLOTS: usize = 16384;

/// The most shards: each instance may run a reader per shard, and finding
/// the tags takes about `count²` hashes at connect (a million at most).
const MAX_SHARDS: usize = 1024;

/// How topics map to keys and shards.
#[derive(Debug)]
pub(super) struct Shards {
    prefix: String,
    /// One hash tag per shard, `{..}`; one empty tag on a single node.
    tags: Vec<String>,
}

impl Shards {
    /// One node: one shard, keys without a tag.
    pub(super) fn node(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
            tags: vec![String::new()],
        }
    }

    /// A cluster: `count` shards (at least 1, at most [`MAX_SHARDS`]).
    pub(super) fn cluster(prefix: &str, count: usize) -> Self {
        let count = count.clamp(1, MAX_SHARDS);
        Self {
            prefix: prefix.to_owned(),
            tags: (0..count).map(|shard| tag(shard, count)).collect(),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.tags.len()
    }

    /// The shard following `topic`.
    pub(super) fn of(&self, topic: &str) -> usize {
        usize::from(crc16(topic.as_bytes())) % self.tags.len()
    }

    /// The stream key of `topic`: `t:` before the name and `p:` before a
    /// presence hash's keep the two key spaces apart, whatever a topic is named.
    pub(super) fn key(&self, topic: &str) -> String {
        format!("{}{}t:{topic}", self.prefix, self.tags[self.of(topic)])
    }

    /// The hash of `topic`'s presence announcements, in the stream's slot.
    pub(super) fn presence_key(&self, topic: &str) -> String {
        format!("{}{}p:{topic}", self.prefix, self.tags[self.of(topic)])
    }
}

/// The first tag `{s<shard>-<n>}` whose slot lies in the shard's part of the
/// slot space (about `count` tries).
fn tag(shard: usize, count: usize) -> String {
    let wanted = shard * SLOTS / count..(shard + 1) * SLOTS / count;
    (0u64..)
        .map(|n| format!("s{shard}-{n}"))
        .find(|tag| wanted.contains(&slot(tag)))
        .map(|tag| format!("{{{tag}}}"))
        .unwrap_or_default()
}

/// A key's hash slot (of the whole key: tags here have no braces inside).
fn slot(key: &str) -> usize {
    usize::from(crc16(key.as_bytes())) % SLOTS
}

/// The CRC16 (XMODEM) Redis Cluster hashes keys with.
fn crc16(bytes: &[u8]) -> u16 {
    crc16::State::<crc16::XMODEM>::calculate(bytes)
}

#[cfg(test)]
mod tests {
    use super::{SLOTS, Shards, slot};

    #[test]
    fn one_node_keeps_plain_keys() {
        let shards = Shards::node("justsse:");
        assert_eq!(shards.len(), 1);
        assert_eq!(shards.key("tickets:7"), "justsse:t:tickets:7");
        assert_eq!(shards.presence_key("tickets:7"), "justsse:p:tickets:7");
        // A topic named like another's presence hash has a key of its own
        // (it once was that hash's key, and publishing to it failed).
        assert_ne!(shards.key("p:zz"), shards.presence_key("zz"));
    }

    #[test]
    fn cluster_tags_split_the_slot_space_evenly() {
        let shards = Shards::cluster("justsse:", 16);
        for (shard, tag) in shards.tags.iter().enumerate() {
            let inner = tag.trim_start_matches('{').trim_end_matches('}');
            let at = slot(inner);
            assert!(
                (shard * SLOTS / 16..(shard + 1) * SLOTS / 16).contains(&at),
                "shard {shard}'s tag {tag} is in slot {at}"
            );
        }
        // Redis's own reference value: CLUSTER KEYSLOT 123456789 = 12739.
        assert_eq!(slot("123456789"), 12739);
    }

    #[test]
    fn a_topic_and_its_presence_share_a_slot() {
        let shards = Shards::cluster("justsse:", 16);
        let key = shards.key("tickets:7");
        let presence = shards.presence_key("tickets:7");
        let tag = |k: &str| k[k.find('{').unwrap()..=k.find('}').unwrap()].to_owned();
        assert_eq!(tag(&key), tag(&presence));
        assert!(key.ends_with("}t:tickets:7"), "{key}");
    }
}
