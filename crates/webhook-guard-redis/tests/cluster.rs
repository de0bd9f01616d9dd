//! `RedisStore` on a real three-node Redis Cluster: keys spread over the nodes, and the
//! claim, duplicate and owner-token rules hold. Skipped with a printed reason without
//! `redis-server` / `redis-cli`, unless `REQUIRE_REDIS=1`.

use std::{collections::HashSet, time::Duration};

use webhook_guard::dedup::{Claim, ClaimToken, DedupKey, DedupStore};
use webhook_guard_redis::{RedisStore, test_server::RedisCluster};

#[tokio::test]
async fn the_store_works_on_a_redis_cluster() {
    let Some(cluster) = RedisCluster::start() else {
        return;
    };
    let client = redis::cluster::ClusterClient::new(cluster.urls()).expect("cluster client");
    let connection = client.get_async_connection().await.expect("connected");
    let store = RedisStore::with_connection(connection)
        .with_prefix("cluster")
        .with_timeout(Duration::from_secs(2));
    let lease = Duration::from_secs(60);
    let mut slots = HashSet::new();
    for i in 0..60 {
        let key = DedupKey::new("parallel:default", &format!("msg_{i}"));
        slots.insert(slot(&store.redis_key(key.as_str())));
        let token = ClaimToken::random();
        let Ok(Claim::Claimed) = store.claim(&key, &token, lease).await else {
            panic!("{key}: not claimed");
        };
        assert_eq!(
            store.claim(&key, &ClaimToken::random(), lease).await,
            Ok(Claim::InFlight)
        );
        if i % 2 == 0 {
            store
                .complete(&key, &token, Duration::from_secs(60))
                .await
                .expect("complete");
            assert_eq!(
                store.claim(&key, &ClaimToken::random(), lease).await,
                Ok(Claim::Done)
            );
        } else {
            store.release(&key, &token).await.expect("release");
            assert!(matches!(
                store.claim(&key, &ClaimToken::random(), lease).await,
                Ok(Claim::Claimed)
            ));
        }
    }
    // 60 keys land in many slots, and every node of the three holds some.
    assert!(slots.len() > 30, "{} slots", slots.len());
    for url in cluster.urls() {
        let node = redis::Client::open(url.as_str()).expect("node");
        let mut node = node
            .get_multiplexed_async_connection()
            .await
            .expect("node connection");
        let keys: i64 = redis::cmd("DBSIZE")
            .query_async(&mut node)
            .await
            .expect("DBSIZE");
        assert!(keys > 0, "{url} holds no key");
    }
}

/// The cluster slot of a key: CRC16 (XMODEM) of its hash tag, modulo 16384.
fn slot(key: &str) -> u16 {
    let tagged = key
        .split_once('{')
        .and_then(|(_, rest)| rest.split_once('}'))
        .map_or(key, |(tag, _)| if tag.is_empty() { key } else { tag });
    let mut crc: u16 = 0;
    for byte in tagged.bytes() {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc % 16384
}
