//! The Lua scripts of [`RedisStore`](crate::RedisStore): each store call that must read and
//! write a record in one step, on one key.

use std::sync::LazyLock;

use redis::Script;

/// The value of a completed record.
pub(crate) const DONE: &str = "done";

/// Claim on servers older than Redis 7.0 (which refuse `SET ... NX GET`): record the owner
/// with a lease unless the key exists; answer 0 (claimed, or already this owner's), 1 (in
/// flight) or 2 (done). One round trip.
pub(crate) static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local value = redis.call('GET', KEYS[1])
if not value then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 0
end
if value == ARGV[3] then
  return 2
end
if value == ARGV[1] then
  return 0
end
return 1
",
    )
});

/// Renew: if the owner still holds the claim, set its lease again.
pub(crate) static RENEW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
",
    )
});

/// Complete: if the owner still holds the claim, keep the key as done for the retention.
pub(crate) static COMPLETE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[2])
  return 1
end
return 0
",
    )
});

/// Release: if the owner still holds the claim, delete the key.
pub(crate) static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
",
    )
});
