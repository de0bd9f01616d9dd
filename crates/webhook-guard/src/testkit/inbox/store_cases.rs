//! The store's cases: what [`InboxStore`](crate::inbox::InboxStore) calls must do.

use std::{
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};

use super::{LEASE, PROVIDER, entry, receiver, request, send, state, stored};
use crate::{
    StandardWebhooks,
    adapter::Runtime,
    inbox::{Cancel, EntryId, EntryState, Filter, Inbox, PauseScope, Settlement, Throttle},
    receiver::RejectionKind,
};
use bytes::Bytes;

/// 202 after the commit; a copy is 200 with the duplicate header and counted; a bad
/// signature stores nothing.
pub async fn accept_and_duplicate(inbox: Inbox) {
    let receiver = receiver(&inbox);
    let answer = send(&receiver, "msg_accept", "user.created").await;
    assert_eq!(answer.kind(), &RejectionKind::Queued, "{answer}");
    assert_eq!(answer.status(), http::StatusCode::ACCEPTED);
    // A second receiver (another replica) has no memory of it: the store answers.
    let replica = self::receiver(&inbox);
    let copy = send(&replica, "msg_accept", "user.created").await;
    assert_eq!(copy.kind(), &RejectionKind::Duplicate, "{copy}");
    assert!(
        copy.headers()
            .contains_key(crate::receiver::DUPLICATE_HEADER)
    );
    let listed = inbox
        .store()
        .list(&Filter::default(), None, 10)
        .await
        .expect("list");
    assert_eq!(listed.len(), 1, "one entry for two copies");
    let entry = inbox
        .store()
        .get(listed[0].id)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(entry.times_seen, 2);
    assert_eq!(entry.event_type, "user.created");
    assert_eq!(entry.delivery_id, "msg_accept");
    assert_eq!(entry.state, EntryState::Pending);
    assert!(
        crate::headers::Headers::entry(
            &entry.headers,
            &crate::headers::HeaderName::from_static("webhook-signature")
        ) != crate::headers::HeaderEntry::Absent,
        "the signature header is stored, to verify again"
    );
    // Not authentic: refused, nothing stored.
    let verifier = StandardWebhooks::new("whsec_AbCdEfGhIjKlMnOpQrStUvWxYz123456").expect("valid");
    let body = br#"{"type":"x"}"#;
    let headers = verifier
        .sign_headers("msg_forged", crate::scheme::unix_now(), body)
        .expect("signs")
        .to_header_map();
    let forged = receiver
        .run(&headers, Bytes::from_static(body), Runtime::TOKIO)
        .await;
    assert!(matches!(forged.map(drop), Err(r) if r.status() == http::StatusCode::UNAUTHORIZED));
    let stats = inbox.store().stats().await.expect("stats");
    assert_eq!(
        (stats.pending, stats.running, stats.done, stats.dead),
        (1, 0, 0, 0)
    );
}

/// Two workers claiming at once never get the same entry; each claim counts an attempt.
pub async fn claims_are_exclusive(inbox: Inbox) {
    for n in 0..20 {
        stored(&inbox, &entry(&format!("x{n}"))).await;
    }
    let (first, second) = (request(15, "a"), request(15, "b"));
    let (a, b) = tokio::join!(inbox.store().claim(&first), inbox.store().claim(&second));
    let (a, b) = (a.expect("claim a"), b.expect("claim b"));
    assert_eq!(a.len() + b.len(), 20, "every entry claimed once");
    let mut ids: Vec<EntryId> = a.iter().chain(&b).map(|e| e.lease.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 20, "no entry claimed twice");
    assert!(a.iter().chain(&b).all(|e| e.attempt == 1));
    assert!(
        inbox
            .store()
            .claim(&request(5, "c"))
            .await
            .expect("claim")
            .is_empty()
    );
    // Another route's entries are not claimed.
    let mut other = request(5, "d");
    other.routes = vec![("someone-else".to_owned(), "default".to_owned())];
    stored(&inbox, &entry("y")).await;
    assert!(inbox.store().claim(&other).await.expect("claim").is_empty());
}

/// After a lease expires and the entry is rescued and claimed again, the first worker can
/// neither renew nor settle it.
pub async fn settling_is_fenced_by_the_lease(inbox: Inbox) {
    let id = stored(&inbox, &entry("fenced")).await;
    let first = inbox
        .store()
        .claim(&request(1, "first"))
        .await
        .expect("claim");
    let lease = first[0].lease.clone();
    let renewed = inbox
        .store()
        .renew(std::slice::from_ref(&lease), LEASE)
        .await;
    assert_eq!(renewed.expect("renew"), vec![id]);
    tokio::time::sleep(LEASE + Duration::from_millis(200)).await;
    assert_eq!(inbox.store().rescue(5).await.expect("rescue"), 1);
    assert_eq!(state(&inbox, id).await, EntryState::Pending);
    let second = inbox
        .store()
        .claim(&request(1, "second"))
        .await
        .expect("claim");
    assert_eq!(second[0].attempt, 2, "the cut-off attempt counts");
    let settled = inbox.store().settle(&lease, &Settlement::Done).await;
    assert!(
        !settled.expect("settle"),
        "a taken-over lease settles nothing"
    );
    let renewed = inbox
        .store()
        .renew(std::slice::from_ref(&lease), LEASE)
        .await;
    assert!(renewed.expect("renew").is_empty());
    assert_eq!(state(&inbox, id).await, EntryState::Running);
    let done = inbox
        .store()
        .settle(&second[0].lease, &Settlement::Done)
        .await;
    assert!(done.expect("settle"));
    assert_eq!(state(&inbox, id).await, EntryState::Done);
}

/// A retry is not due before its time; the last attempt's failure is dead, with the history
/// kept; a replay runs it again from attempt 1 (even when done), never while running.
pub async fn retry_then_dead_then_replay(inbox: Inbox) {
    let id = stored(&inbox, &entry("retried")).await;
    let claimed = inbox.store().claim(&request(1, "t1")).await.expect("claim");
    let retry = Settlement::Retry {
        after: Duration::from_millis(300),
        error: "first failure".to_owned(),
    };
    assert!(
        inbox
            .store()
            .settle(&claimed[0].lease, &retry)
            .await
            .expect("settle")
    );
    assert!(
        inbox
            .store()
            .claim(&request(1, "t2"))
            .await
            .expect("claim")
            .is_empty(),
        "not due yet"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let again = inbox.store().claim(&request(1, "t3")).await.expect("claim");
    assert_eq!(again.len(), 1, "due after its delay");
    assert_eq!(again[0].attempt, 2);
    let running = inbox.store().replay(&[id]).await.expect("replay");
    assert!(running.is_empty(), "a running entry is not replayed");
    let dead = Settlement::Dead {
        error: "second failure".to_owned(),
    };
    assert!(
        inbox
            .store()
            .settle(&again[0].lease, &dead)
            .await
            .expect("settle")
    );
    let entry = inbox.store().get(id).await.expect("get").expect("exists");
    assert_eq!(entry.state, EntryState::Dead);
    assert_eq!(entry.last_error.as_deref(), Some("second failure"));
    let errors: Vec<_> = entry.history.iter().map(|a| a.error.clone()).collect();
    assert_eq!(
        errors,
        [
            Some("first failure".to_owned()),
            Some("second failure".to_owned())
        ]
    );
    assert_eq!(inbox.store().replay(&[id]).await.expect("replay"), vec![id]);
    let replayed = inbox.store().claim(&request(1, "t4")).await.expect("claim");
    assert_eq!(replayed[0].attempt, 1, "a replay starts over");
    assert!(
        inbox
            .store()
            .settle(&replayed[0].lease, &Settlement::Done)
            .await
            .expect("settle")
    );
    assert_eq!(
        inbox.store().replay(&[id]).await.expect("replay"),
        vec![id],
        "done entries replay too"
    );
    assert_eq!(state(&inbox, id).await, EntryState::Pending);
}

/// A bulk replay of dead entries, cancelled halfway, replays whole entries only and leaves
/// the rest dead; entries outside the filter are not touched.
pub async fn bulk_replay_cancelled_halfway(inbox: Inbox) {
    for n in 0..100 {
        stored(&inbox, &entry(&format!("dead{n}"))).await;
    }
    let other = stored(&inbox, &entry("left-pending")).await;
    let claimed = inbox
        .store()
        .claim(&request(100, "bulk"))
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 100);
    for entry in &claimed {
        let dead = Settlement::Dead {
            error: "down".to_owned(),
        };
        assert!(
            inbox
                .store()
                .settle(&entry.lease, &dead)
                .await
                .expect("settle")
        );
    }
    // `other` was the 101st: still pending.
    assert_eq!(state(&inbox, other).await, EntryState::Pending);
    let cancel = Cancel::new();
    let steps = AtomicU32::new(0);
    let filter = Filter {
        state: Some(EntryState::Dead),
        ..Filter::default()
    };
    let report = inbox
        .replay_matching(
            &filter,
            Throttle::new(10, Duration::ZERO),
            &cancel,
            async |_| {
                if steps.fetch_add(1, Ordering::SeqCst) + 1 == 5 {
                    cancel.cancel();
                }
            },
        )
        .await
        .expect("replay");
    assert!(report.cancelled);
    assert_eq!(report.replayed, 50);
    let stats = inbox.store().stats().await.expect("stats");
    assert_eq!((stats.pending, stats.dead), (51, 50), "{stats:?}");
    let listed = inbox.store().list(&filter, None, 1000).await.expect("list");
    assert!(
        listed.iter().all(|e| e.attempts == 1),
        "dead entries untouched"
    );
    let replayed = Filter {
        state: Some(EntryState::Pending),
        ..Filter::default()
    };
    let pending = inbox
        .store()
        .list(&replayed, None, 1000)
        .await
        .expect("list");
    assert!(
        pending.iter().all(|e| e.attempts == 0),
        "replayed entries whole"
    );
    // Finished: the rest.
    let rest = inbox
        .replay_matching(&filter, Throttle::default(), &Cancel::new(), async |_| {})
        .await
        .expect("replay");
    assert_eq!((rest.replayed, rest.cancelled), (50, false));
}

/// A paused provider's entries are stored but not claimed; resuming releases them.
pub async fn pause_and_resume(inbox: Inbox) {
    let scope = PauseScope {
        provider: PROVIDER.to_owned(),
        endpoint: None,
    };
    inbox.store().pause(&scope).await.expect("pause");
    assert_eq!(
        inbox.store().paused().await.expect("paused"),
        vec![scope.clone()]
    );
    let receiver = receiver(&inbox);
    let answer = send(&receiver, "msg_paused", "user.created").await;
    assert_eq!(
        answer.kind(),
        &RejectionKind::Queued,
        "deliveries keep being accepted"
    );
    assert!(
        inbox
            .store()
            .claim(&request(5, "p"))
            .await
            .expect("claim")
            .is_empty()
    );
    // Another endpoint's pause does not cover it.
    assert!(inbox.store().resume(&scope).await.expect("resume"));
    let other = PauseScope {
        provider: PROVIDER.to_owned(),
        endpoint: Some("elsewhere".to_owned()),
    };
    inbox.store().pause(&other).await.expect("pause");
    assert_eq!(
        inbox
            .store()
            .claim(&request(5, "q"))
            .await
            .expect("claim")
            .len(),
        1
    );
    assert!(
        !inbox.store().resume(&scope).await.expect("resume"),
        "not paused any more"
    );
}

/// Entries sharing an ordering key run one at a time in id order; others run beside them.
pub async fn ordering_key(inbox: Inbox) {
    let mut ids = Vec::new();
    for n in 0..3 {
        let mut keyed = entry(&format!("ordered{n}"));
        keyed.ordering_key = Some("repo-1".to_owned());
        ids.push(stored(&inbox, &keyed).await);
    }
    let free = stored(&inbox, &entry("unordered")).await;
    for (step, &expected) in ids.iter().enumerate() {
        let claimed = inbox
            .store()
            .claim(&request(10, &format!("o{step}")))
            .await
            .expect("claim");
        let mut got: Vec<EntryId> = claimed.iter().map(|e| e.lease.id).collect();
        got.sort_unstable();
        let mut want = vec![expected];
        if step == 0 {
            want.push(free);
        }
        assert_eq!(
            got, want,
            "step {step}: only the key's oldest unfinished entry"
        );
        // A retry keeps its place: the next one waits for it.
        let keyed = claimed
            .iter()
            .find(|e| e.lease.id == expected)
            .expect("claimed");
        if step == 1 {
            let retry = Settlement::Retry {
                after: Duration::ZERO,
                error: "again".to_owned(),
            };
            assert!(
                inbox
                    .store()
                    .settle(&keyed.lease, &retry)
                    .await
                    .expect("settle")
            );
            let again = inbox
                .store()
                .claim(&request(10, "o-retry"))
                .await
                .expect("claim");
            assert_eq!(
                again.iter().map(|e| e.lease.id).collect::<Vec<_>>(),
                vec![expected]
            );
            assert!(
                inbox
                    .store()
                    .settle(&again[0].lease, &Settlement::Done)
                    .await
                    .expect("settle")
            );
        } else {
            assert!(
                inbox
                    .store()
                    .settle(&keyed.lease, &Settlement::Done)
                    .await
                    .expect("settle")
            );
        }
    }
}

/// Purging done entries frees their dedup keys; forgetting works on finished entries only.
pub async fn purge_and_forget(inbox: Inbox) {
    let new = entry("purged");
    let id = stored(&inbox, &new).await;
    let pending = stored(&inbox, &entry("kept")).await;
    assert!(
        !inbox
            .store()
            .forget(&entry("kept").dedup_key)
            .await
            .expect("forget"),
        "pending kept"
    );
    let claimed = inbox.store().claim(&request(1, "pg")).await.expect("claim");
    assert_eq!(claimed[0].lease.id, id);
    assert!(
        inbox
            .store()
            .settle(&claimed[0].lease, &Settlement::Done)
            .await
            .expect("settle")
    );
    assert_eq!(
        inbox
            .store()
            .purge(Duration::from_secs(3600), false, 10)
            .await
            .expect("purge"),
        0
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        inbox
            .store()
            .purge(Duration::ZERO, false, 10)
            .await
            .expect("purge"),
        1
    );
    assert!(inbox.store().get(id).await.expect("get").is_none());
    assert!(inbox.store().get(pending).await.expect("get").is_some());
    let again = stored(&inbox, &new).await;
    assert!(again > id, "a purged key is stored anew");
    let claimed = inbox
        .store()
        .claim(&request(2, "pg2"))
        .await
        .expect("claim");
    for entry in &claimed {
        assert!(
            inbox
                .store()
                .settle(&entry.lease, &Settlement::Done)
                .await
                .expect("settle")
        );
    }
    assert!(inbox.store().forget(&new.dedup_key).await.expect("forget"));
    assert!(inbox.store().get(again).await.expect("get").is_none());
}
