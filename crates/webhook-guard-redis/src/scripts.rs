//! The Lua scripts of [`RedisStore`](crate::RedisStore): each store call that must read and
//! write a record in one step, on one key.

use std::sync::LazyLock;

use redis::Script;

/// The value of a completed record.
pub(crate) const DONE: &str = "done";

/// The prefix of a fence: the value a release leaves on a key it found empty.
pub(crate) const FENCE_PREFIX: &str = "fence:";

/// How long a fence refuses a late claim of its owner: 60 s.
pub(crate) const FENCE_MILLIS: &str = "60000";

/// Claim by script: on servers older than Redis 7.0 (which refuse `SET ... NX GET`), and
/// when `SET ... NX GET` found a fence. Record the owner with a lease unless the key holds a
/// record (a fence is not one: another owner's is taken over, this owner's own refuses the
/// claim); answer 0 (claimed, or already this owner's), 1 (in flight, or fenced) or 2
/// (done). One round trip. `ARGV`: owner, lease, the done value, this owner's fence.
pub(crate) static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local value = redis.call('GET', KEYS[1])
if value == ARGV[4] then
  return 1
end
if not value or string.sub(value, 1, 6) == 'fence:' then
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

/// Release: if the owner still holds the claim, delete the key; if the key is empty, leave
/// the owner's fence there for [`FENCE_MILLIS`], so a claim of this owner still on its way
/// (sent on a connection the client gave up on) is refused when it arrives. `ARGV`: owner,
/// fence, the fence's time.
pub(crate) static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local value = redis.call('GET', KEYS[1])
if value == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
if not value then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 2
end
return 0
",
    )
});
