//! `RedisInbox` against what a careful user writes by hand, side by side on one Redis (AOF,
//! `appendfsync everysec`), through one client; prints the ratios (the targets in
//! brackets) and the memory an entry takes.
//!
//! 1. Ack: a delivery through a receiver in inbox mode (verify, parse, the enqueue script:
//!    dedup record, entry, `XADD`) against a plain `XADD` of the same bytes (body and headers)
//!    through the same connection manager, at concurrency 16 and 64 [≥ 0.6x], and against the
//!    hand-written script a careful user needs for the same guarantee (`SET NX` of the dedup
//!    record, then `XADD`); the ack's p99 latency at 16; the server time per call of each
//!    (`INFO commandstats`).
//! 2. Workers: entries handled by a `Worker` of 16 handlers with a no-op handler (claim script
//!    with `XREADGROUP`, settle script with `XACK`) against 16 hand-written loops of
//!    `XREADGROUP … COUNT 1` + `XACK` on a stream of the same entries [≥ 0.5x].
//! 3. Memory: `used_memory` per entry, pending and done, for the Parallel fixture.
//!
//! Run: `cargo bench -p webhook-guard-redis --bench inbox` (needs `redis-server`; skipped with
//! a printed reason without it).

use std::{
    future::Future,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Instant,
};

use bytes::Bytes;
use redis::aio::ConnectionManager;
use webhook_guard::{
    Receiver, adapter, fixtures,
    inbox::{Inbox, MemoryInbox, NewEntry, StoredHeaders, Verdict},
    parallel::Parallel,
    receiver::RejectionKind,
    scheme::unix_now,
};
use webhook_guard_redis::{RedisInbox, test_server::RedisServer};

mod common;
use common::median;

type Op = Arc<dyn Fn(usize) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

const ROUNDS: usize = 5;
const ENTRIES: usize = 4000;

const TOKIO: adapter::Runtime = adapter::Runtime {
    spawn: |task| drop(tokio::spawn(task)),
    background: |task| drop(tokio::spawn(task)),
    sleep: |after| Box::pin(tokio::time::sleep(after)),
};

/// Runs `op(0..count)` with `concurrency` tasks; operations per second.
async fn rate(op: &Op, concurrency: usize, count: usize) -> f64 {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (op, next) = (Arc::clone(op), Arc::clone(&next));
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        return;
                    }
                    op(i).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    count as f64 / started.elapsed().as_secs_f64()
}

fn signed_headers(body: &[u8]) -> StoredHeaders {
    let secret = fixtures::demo::secret("parallel").expect("demo secret");
    let signed = fixtures::sign("parallel", secret, "x", unix_now(), body).expect("signed");
    StoredHeaders::from_request(&signed)
}

fn encoded(headers: &StoredHeaders) -> Vec<u8> {
    headers
        .pairs()
        .iter()
        .flat_map(|(n, v)| [n.as_bytes(), b": ", v, b"\n"].concat())
        .collect()
}

async fn ack(connection: &ConnectionManager, inbox: &Inbox) {
    println!(
        "Ack: a delivery stored by a receiver in inbox mode against a plain XADD of the same bytes"
    );
    println!(
        "| concurrency | acks/s | XADDs/s | ratio | target | hand-written SET NX + XADD script/s | ratio |"
    );
    println!("|---|---|---|---|---|---|---|");
    let secret = fixtures::demo::secret("parallel").expect("demo secret");
    let receiver = Receiver::builder(Parallel::new(secret).expect("parallel"))
        .inbox(inbox)
        .build()
        .expect("receiver");
    let body = Bytes::from_static(fixtures::of("parallel").next().expect("fixture").body);
    let round = Arc::new(AtomicUsize::new(0));
    let ours: Op = {
        let (receiver, body, round) = (receiver.clone(), body.clone(), Arc::clone(&round));
        Arc::new(move |i| {
            let (receiver, body) = (receiver.clone(), body.clone());
            let id = format!("ack-{}-{i}", round.load(Ordering::Relaxed));
            Box::pin(async move {
                let headers = fixtures::sign("parallel", secret, &id, unix_now(), &body)
                    .expect("signed")
                    .to_header_map();
                let answer = adapter::accept(&receiver, &headers, body, TOKIO).await;
                let Err(answer) = answer else {
                    panic!("an inbox receiver handed the delivery to a handler")
                };
                assert_eq!(answer.kind(), &RejectionKind::Queued, "{answer}");
            })
        })
    };
    let baseline: Op = {
        let (connection, body) = (connection.clone(), body.clone());
        let headers = Bytes::from(encoded(&signed_headers(&body)));
        Arc::new(move |i| {
            let (mut connection, body, headers) =
                (connection.clone(), body.clone(), headers.clone());
            Box::pin(async move {
                let _: String = redis::cmd("XADD")
                    .arg("bench:plain")
                    .arg("*")
                    .arg("delivery_id")
                    .arg(format!("plain-{i}"))
                    .arg("headers")
                    .arg(&headers[..])
                    .arg("body")
                    .arg(&body[..])
                    .query_async(&mut connection)
                    .await
                    .expect("xadd");
            })
        })
    };
    // What a careful user writes by hand for the same guarantee (no entry stored twice, the
    // dedup record and the message in one step): a script of SET NX and XADD.
    let atomic: Op = {
        let (connection, body, round) = (connection.clone(), body.clone(), Arc::clone(&round));
        let headers = Bytes::from(encoded(&signed_headers(&body)));
        let script = redis::Script::new(
            "if redis.call('SET', KEYS[1], 1, 'NX') then \
               return redis.call('XADD', KEYS[2], '*', 'delivery_id', ARGV[1], \
                 'headers', ARGV[2], 'body', ARGV[3]) end return false",
        );
        Arc::new(move |i| {
            let (mut connection, body, headers, script) = (
                connection.clone(),
                body.clone(),
                headers.clone(),
                script.clone(),
            );
            let key = format!("bench:{{hand}}:d:{}-{i}", round.load(Ordering::Relaxed));
            Box::pin(async move {
                let _: Option<String> = script
                    .key(key)
                    .key("bench:{hand}:stream")
                    .arg(format!("hand-{i}"))
                    .arg(&headers[..])
                    .arg(&body[..])
                    .invoke_async(&mut connection)
                    .await
                    .expect("script");
            })
        })
    };
    for concurrency in [16, 64] {
        let count = if concurrency == 16 { 6000 } else { 12_000 };
        let (mut a, mut b, mut c, mut ratios, mut fair) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            round.fetch_add(1, Ordering::Relaxed);
            let x = rate(&ours, concurrency, count).await;
            let y = rate(&baseline, concurrency, count).await;
            let z = rate(&atomic, concurrency, count).await;
            a.push(x);
            b.push(y);
            c.push(z);
            ratios.push(x / y);
            fair.push(x / z);
        }
        println!(
            "| {concurrency} | {:.0} | {:.0} | {:.2}x | ≥ 0.6x | {:.0} | {:.2}x |",
            median(a),
            median(b),
            median(ratios),
            median(c),
            median(fair)
        );
    }
    let mut c = connection.clone();
    let stats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut c)
        .await
        .expect("info");
    for line in stats
        .lines()
        .filter(|l| l.starts_with("cmdstat_xadd:") || l.starts_with("cmdstat_evalsha:"))
    {
        let per_call = line
            .split(',')
            .find_map(|f| f.strip_prefix("usec_per_call="));
        println!(
            "Server time per call, {}: {} µs",
            line.split(':').next().unwrap_or(""),
            per_call.unwrap_or("?")
        );
    }
    let mut latencies = Vec::new();
    round.fetch_add(1, Ordering::Relaxed);
    let timed: Vec<_> = (0..16)
        .map(|t| {
            let ours = Arc::clone(&ours);
            tokio::spawn(async move {
                let mut own = Vec::new();
                for i in 0..250 {
                    let started = Instant::now();
                    ours(1_000_000 + t * 1000 + i).await;
                    own.push(started.elapsed());
                }
                own
            })
        })
        .collect();
    for task in timed {
        latencies.extend(task.await.expect("task"));
    }
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "\nAck latency at concurrency 16 ({} acks): p50 {:.2} ms, p99 {:.2} ms\n",
        latencies.len(),
        at(0.5).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0
    );
}

fn entry(n: usize, body: &Bytes, headers: &StoredHeaders) -> NewEntry {
    let id = format!("work-{n}");
    let mut new = NewEntry::new(
        "parallel",
        "default",
        &id,
        &format!("parallel:default:{id}"),
    );
    new.event_type = "task_run.status".to_owned();
    new.signed_by = Some(0);
    new.headers = headers.clone();
    new.body = body.clone();
    new
}

/// Stores `count` entries from `first` on, 64 at a time.
async fn fill(inbox: &Inbox, first: usize, count: usize) {
    let body = Bytes::from_static(fixtures::of("parallel").next().expect("fixture").body);
    let headers = signed_headers(&body);
    let mut chunk = Vec::new();
    for n in first..first + count {
        let (inbox, new) = (inbox.clone(), entry(n, &body, &headers));
        chunk.push(tokio::spawn(async move {
            inbox.store().enqueue(&new).await.expect("stored")
        }));
        if chunk.len() == 64 {
            for task in chunk.drain(..) {
                task.await.expect("task");
            }
        }
    }
    for task in chunk {
        task.await.expect("task");
    }
}

/// Runs a worker of 16 no-op handlers until `count` entries are done; entries/s.
async fn run_worker(inbox: &Inbox, count: usize) -> f64 {
    let secret = fixtures::demo::secret("parallel").expect("demo secret");
    let receiver = Receiver::builder(Parallel::new(secret).expect("parallel"))
        .inbox(inbox)
        .build()
        .expect("receiver");
    let done = Arc::new(AtomicUsize::new(0));
    let all = Arc::new(tokio::sync::Notify::new());
    let worker = {
        let (done, all) = (Arc::clone(&done), Arc::clone(&all));
        inbox
            .worker()
            .concurrency(16)
            .route(&receiver, move |_delivery, attempt| {
                let (done, all) = (Arc::clone(&done), Arc::clone(&all));
                async move {
                    attempt.on_done(move || {
                        if done.fetch_add(1, Ordering::SeqCst) + 1 == count {
                            all.notify_one();
                        }
                    });
                    Verdict::Done
                }
            })
    };
    let started = Instant::now();
    let stop = Arc::clone(&all);
    tokio::spawn(worker.run_until(async move { stop.notified().await }))
        .await
        .expect("worker");
    assert_eq!(done.load(Ordering::SeqCst), count);
    count as f64 / started.elapsed().as_secs_f64()
}

/// 16 loops of `XREADGROUP … COUNT 1` + `XACK` over `count` messages; messages/s.
async fn hand_written(connection: &ConnectionManager, run: usize, count: usize) -> f64 {
    let stream = format!("bench:jobs:{run}");
    let body = Bytes::from_static(fixtures::of("parallel").next().expect("fixture").body);
    let headers = encoded(&signed_headers(&body));
    let mut setup = connection.clone();
    let _: () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&stream)
        .arg("g")
        .arg("0")
        .arg("MKSTREAM")
        .query_async(&mut setup)
        .await
        .expect("group");
    for chunk in (0..count).collect::<Vec<_>>().chunks(500) {
        let mut pipe = redis::pipe();
        for i in chunk {
            pipe.cmd("XADD")
                .arg(&stream)
                .arg("*")
                .arg("delivery_id")
                .arg(format!("job-{i}"))
                .arg("headers")
                .arg(&headers[..])
                .arg("body")
                .arg(&body[..])
                .ignore();
        }
        let _: () = pipe.query_async(&mut setup).await.expect("jobs");
    }
    let started = Instant::now();
    let loops: Vec<_> = (0..16)
        .map(|t| {
            let (mut connection, stream) = (connection.clone(), stream.clone());
            tokio::spawn(async move {
                loop {
                    let read: redis::Value = redis::cmd("XREADGROUP")
                        .arg("GROUP")
                        .arg("g")
                        .arg(format!("c{t}"))
                        .arg("COUNT")
                        .arg(1)
                        .arg("STREAMS")
                        .arg(&stream)
                        .arg(">")
                        .query_async(&mut connection)
                        .await
                        .expect("read");
                    let Some(id) = first_id(&read) else { return };
                    let _: i64 = redis::cmd("XACK")
                        .arg(&stream)
                        .arg("g")
                        .arg(id)
                        .query_async(&mut connection)
                        .await
                        .expect("ack");
                }
            })
        })
        .collect();
    for task in loops {
        task.await.expect("loop");
    }
    count as f64 / started.elapsed().as_secs_f64()
}

/// The first message id of an `XREADGROUP` answer.
fn first_id(read: &redis::Value) -> Option<String> {
    let redis::Value::Array(streams) = read else {
        return None;
    };
    let redis::Value::Array(stream) = streams.first()? else {
        return None;
    };
    let redis::Value::Array(messages) = stream.get(1)? else {
        return None;
    };
    let redis::Value::Array(message) = messages.first()? else {
        return None;
    };
    match message.first()? {
        redis::Value::BulkString(id) => Some(String::from_utf8_lossy(id).into_owned()),
        _ => None,
    }
}

async fn workers(connection: &ConnectionManager, store: &Inbox) {
    println!(
        "Workers: a no-op handler against 16 hand-written XREADGROUP COUNT 1 + XACK loops (16 at once, {ENTRIES} entries a run)"
    );
    println!("| run | worker entries/s | hand-written messages/s | ratio |");
    println!("|---|---|---|---|");
    let mut ratios = Vec::new();
    for run in 0..ROUNDS {
        fill(store, run * ENTRIES + 10_000_000, ENTRIES).await;
        let mut c = connection.clone();
        let _: () = redis::cmd("CONFIG")
            .arg("RESETSTAT")
            .query_async(&mut c)
            .await
            .expect("reset");
        let ours = run_worker(store, ENTRIES).await;
        if std::env::var_os("INBOX_BENCH_PROBE").is_some() {
            let stats: String = redis::cmd("INFO")
                .arg("commandstats")
                .query_async(&mut c)
                .await
                .expect("info");
            for line in stats.lines().filter(|l| l.starts_with("cmdstat_")) {
                println!("  {line}");
            }
        }
        let theirs = hand_written(connection, run, ENTRIES).await;
        ratios.push(ours / theirs);
        println!(
            "| {run} | {ours:.0} | {theirs:.0} | {:.2}x |",
            ours / theirs
        );
    }
    println!("Median ratio: {:.2}x (target ≥ 0.5x)\n", median(ratios));
}

async fn used_memory(connection: &ConnectionManager) -> i64 {
    common::used_memory(&mut connection.clone()).await
}

async fn memory(connection: &ConnectionManager, store: &Inbox) {
    const COUNT: usize = 20_000;
    let body = fixtures::of("parallel").next().expect("fixture").body;
    let headers = signed_headers(body);
    println!(
        "Memory per entry ({COUNT} entries; body {} B, stored headers {} B)",
        body.len(),
        headers.byte_len()
    );
    let before = used_memory(connection).await;
    fill(store, 50_000_000, COUNT).await;
    let pending = used_memory(connection).await;
    let done = run_worker(store, COUNT).await;
    let after = used_memory(connection).await;
    println!(
        "| pending: {} B | done (kept for the retention): {} B | (worker drained them at {done:.0}/s) |\n",
        (pending - before) / COUNT as i64,
        (after - before) / COUNT as i64
    );
}

/// What the receiver and the worker reach on this machine with a store that costs nothing
/// (`MemoryInbox`): the ceiling of the pipeline itself (verify, parse, the worker's slots).
async fn ceilings() {
    let inbox = Inbox::new(MemoryInbox::new());
    let secret = fixtures::demo::secret("parallel").expect("demo secret");
    let receiver = Receiver::builder(Parallel::new(secret).expect("parallel"))
        .inbox(&inbox)
        .build()
        .expect("receiver");
    let body = Bytes::from_static(fixtures::of("parallel").next().expect("fixture").body);
    let ours: Op = Arc::new(move |i| {
        let (receiver, body) = (receiver.clone(), body.clone());
        Box::pin(async move {
            let headers = fixtures::sign("parallel", secret, &format!("c-{i}"), unix_now(), &body)
                .expect("signed")
                .to_header_map();
            let answer = adapter::accept(&receiver, &headers, body, TOKIO).await;
            assert!(matches!(answer, Err(a) if a.kind() == &RejectionKind::Queued));
        })
    });
    let acks = rate(&ours, 16, 12_000).await;
    let fresh = Inbox::new(MemoryInbox::new());
    fill(&fresh, 0, ENTRIES).await;
    let worked = run_worker(&fresh, ENTRIES).await;
    println!(
        "Ceilings with a store that costs nothing (MemoryInbox): receiver {acks:.0} acks/s at c=16 (signing included), worker {worked:.0} entries/s"
    );
}

fn main() {
    let Some(server) = RedisServer::start_everysec() else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = redis::Client::open(server.url()).expect("client");
        let connection = ConnectionManager::new(client).await.expect("connected");
        let store = |name: &str| {
            RedisInbox::with_connection(connection.clone())
                .with_name("bench", name)
                .with_wake_ups(redis::Client::open(server.url()).expect("client"))
        };
        println!("Redis on loopback, AOF appendfsync everysec; {ROUNDS} alternating rounds per line, medians\n");
        ack(&connection, &Inbox::new(store("acks"))).await;
        workers(&connection, &Inbox::new(store("work"))).await;
        memory(&connection, &Inbox::new(store("memory"))).await;
        ceilings().await;
    });
}
