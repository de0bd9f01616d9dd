//! The Lua scripts of [`RedisInbox`](crate::RedisInbox): every step that changes an entry
//! runs as one script, so an entry is never half-moved between its hash, its stream and its
//! sets, whatever fails between two calls.
//!
//! The keys of one inbox all start with `<prefix>:{<name>}` (`KEYS[1]`, the base): the braces
//! are a hash tag, so every key of the inbox is in one Redis Cluster slot and a script may
//! touch any of them.
//!
//! - `:seq` the id counter; `:e:<id>` an entry's hash; `:d:<dedup key>` its dedup record (the
//!   id); `:all` every id (a sorted set by id); `:open` pending and running ids.
//! - `:q:<provider>\n<endpoint>` one stream per route, consumer group `workers`: one message
//!   per attempt waiting or running (the message's id is in the entry's `msg` field); `:routes`
//!   names them.
//! - `:delayed` retries by due time; `:done` and `:dead` finished ids by finishing time (for
//!   the retention); `:dlq` the dead letters' stream; `:o:<key>` the unfinished ids of an
//!   ordering key (only the oldest is ever queued); `:paused`; `:counts` by state; `:bell` a
//!   stream written when a resume makes entries claimable.
//!
//! Hand-written, because no crate provides an inbox on Redis Streams with these semantics.

use std::sync::LazyLock;

use redis::Script;

/// Helpers every script starts with.
const PRELUDE: &str = r"
local base = KEYS[1]
-- The server's clock, so that leases do not depend on the workers' clocks agreeing.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local function ekey(id) return base .. ':e:' .. id end
local function count(state, by) redis.call('HINCRBY', base .. ':counts', state, by) end
local function stream_of(p, ep) return base .. ':q:' .. p .. '\n' .. ep end

-- Adds an attempt's message to the entry's route stream.
local function queue(id)
  local e = ekey(id)
  local p, ep = unpack(redis.call('HMGET', e, 'p', 'ep'))
  local stream = stream_of(p, ep)
  if redis.call('EXISTS', stream) == 0 then
    redis.call('XGROUP', 'CREATE', stream, 'workers', '0', 'MKSTREAM')
    redis.call('SADD', base .. ':routes', p .. '\n' .. ep)
  end
  redis.call('HSET', e, 'msg', redis.call('XADD', stream, '*', 'id', id))
end

-- Acknowledges and deletes the entry's message, if it has one.
local function unqueue(e)
  local p, ep, msg = unpack(redis.call('HMGET', e, 'p', 'ep', 'msg'))
  if msg then
    local stream = stream_of(p, ep)
    redis.call('XACK', stream, 'workers', msg)
    redis.call('XDEL', stream, msg)
    redis.call('HDEL', e, 'msg')
  end
end

-- Puts a pending entry where it waits: behind the oldest unfinished entry of its ordering
-- key, in the delayed set until `at`, or in its stream.
local function schedule(id, at, now)
  local e = ekey(id)
  redis.call('HSET', e, 'run', at)
  local ok = redis.call('HGET', e, 'ok')
  if ok and redis.call('ZRANGE', base .. ':o:' .. ok, 0, 0)[1] ~= id then
    return
  end
  if at > now then
    redis.call('ZADD', base .. ':delayed', at, id)
  else
    queue(id)
  end
end

-- Queues the oldest unfinished entry of ordering key `ok` if it is pending and not queued.
local function activate(ok, now)
  local head = redis.call('ZRANGE', base .. ':o:' .. ok, 0, 0)[1]
  if not head then return end
  local st, msg, run = unpack(redis.call('HMGET', ekey(head), 'st', 'msg', 'run'))
  if st == 'pending' and not msg and not redis.call('ZSCORE', base .. ':delayed', head) then
    schedule(head, tonumber(run) or now, now)
  end
end

local function history(e, attempt, now, outcome, err)
  local h = redis.call('HGET', e, 'hist') or ''
  redis.call('HSET', e, 'hist',
    h .. attempt .. '\31' .. now .. '\31' .. outcome .. '\31' .. (err or '') .. '\30')
end

-- Ends an entry `done` or `dead`; a dead one is written to the dead letters' stream.
local function finish(id, e, state, now)
  redis.call('HSET', e, 'st', state, 'fin', now)
  count(state, 1)
  redis.call('ZREM', base .. ':open', id)
  redis.call('ZADD', base .. ':' .. state, now, id)
  if state == 'dead' then
    local n, err, hist = unpack(redis.call('HMGET', e, 'n', 'err', 'hist'))
    local letter = redis.call('XADD', base .. ':dlq', '*', 'id', id, 'attempts', n,
      'error', err or '', 'history', hist or '')
    redis.call('HSET', e, 'dlq', letter)
  end
  local ok = redis.call('HGET', e, 'ok')
  if ok then
    redis.call('ZREM', base .. ':o:' .. ok, id)
    activate(ok, now)
  end
end

-- Deletes a finished entry and its dedup record.
local function remove(id, state)
  local e = ekey(id)
  local dk, letter = unpack(redis.call('HMGET', e, 'dk', 'dlq'))
  if dk then redis.call('DEL', base .. ':d:' .. dk) end
  if letter then redis.call('XDEL', base .. ':dlq', letter) end
  redis.call('DEL', e)
  redis.call('ZREM', base .. ':all', id)
  redis.call('ZREM', base .. ':' .. state, id)
  count(state, -1)
end
";

fn script(body: &str) -> Script {
    Script::new(&format!("{PRELUDE}{body}"))
}

/// Stores an entry unless its dedup record exists (then counts the copy): `{1, id}` stored,
/// `{0, id}` a duplicate. `ARGV`: dedup key, provider, endpoint, delivery id, event type,
/// ordering key (`''`: none), signed by (`''`: unsigned), headers, body.
pub(crate) static ENQUEUE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r"
local dk = base .. ':d:' .. ARGV[1]
local found = redis.call('GET', dk)
if found then
  local e = ekey(found)
  redis.call('HINCRBY', e, 'seen', 1)
  redis.call('HSET', e, 'last', now)
  return {0, tonumber(found)}
end
local id = tostring(redis.call('INCR', base .. ':seq'))
local e = ekey(id)
redis.call('HSET', e, 'p', ARGV[2], 'ep', ARGV[3], 'did', ARGV[4], 'dk', ARGV[1],
  't', ARGV[5], 'h', ARGV[8], 'b', ARGV[9], 'st', 'pending', 'n', 0, 'seen', 1,
  'rcv', now, 'last', now, 'run', now)
if ARGV[6] ~= '' then
  redis.call('HSET', e, 'ok', ARGV[6])
  redis.call('ZADD', base .. ':o:' .. ARGV[6], id, id)
end
if ARGV[7] ~= '' then redis.call('HSET', e, 'sb', ARGV[7]) end
redis.call('SET', dk, id)
redis.call('ZADD', base .. ':all', id, id)
redis.call('ZADD', base .. ':open', id, id)
count('pending', 1)
schedule(id, now, now)
return {1, tonumber(id)}
",
    )
});

/// Moves due retries to their streams, then reads new messages of the routes given (those not
/// paused) with `XREADGROUP` and marks their entries running under the lease. Answers one
/// array per entry: id, attempt, provider, endpoint, event type, signed by, headers, body,
/// received. `ARGV`: lease (ms), token, consumer, limit, then provider and endpoint of each
/// route.
pub(crate) static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    script(
        r"
local lease_until = now + tonumber(ARGV[1])
local token, consumer, limit = ARGV[2], ARGV[3], tonumber(ARGV[4])
local delayed = base .. ':delayed'
for _, id in ipairs(redis.call('ZRANGEBYSCORE', delayed, '-inf', now, 'LIMIT', 0, 1000)) do
  redis.call('ZREM', delayed, id)
  queue(id)
end
local paused = base .. ':paused'
local out = {}
local i = 5
while i < #ARGV and #out < limit do
  local p, ep = ARGV[i], ARGV[i + 1]
  i = i + 2
  local stream = stream_of(p, ep)
  if redis.call('SISMEMBER', paused, 'a\n' .. p) == 0
    and redis.call('SISMEMBER', paused, 'e\n' .. p .. '\n' .. ep) == 0
    and redis.call('EXISTS', stream) == 1 then
    local read = redis.call('XREADGROUP', 'GROUP', 'workers', consumer,
      'COUNT', limit - #out, 'STREAMS', stream, '>')
    if read then
      for _, m in ipairs(read[1][2]) do
        local msg, id = m[1], m[2][2]
        local e = ekey(id)
        local st, cur = unpack(redis.call('HMGET', e, 'st', 'msg'))
        if st == 'pending' and cur == msg then
          local n = redis.call('HINCRBY', e, 'n', 1)
          redis.call('HSET', e, 'st', 'running', 'tok', token, 'until', lease_until)
          count('pending', -1)
          count('running', 1)
          local f = redis.call('HMGET', e, 't', 'sb', 'h', 'b', 'rcv')
          out[#out + 1] = {tonumber(id), n, p, ep, f[1] or '', f[2] or '', f[3] or '',
            f[4] or '', tonumber(f[5]) or 0}
        else
          -- A message outlived by its entry (replayed, purged): dropped.
          redis.call('XACK', stream, 'workers', msg)
          redis.call('XDEL', stream, msg)
        end
      end
    end
  end
end
return out
",
    )
});

/// Extends the leases still held. `ARGV`: the lease (ms), then id and token of each lease.
/// Answers the ids renewed.
pub(crate) static RENEW: LazyLock<Script> = LazyLock::new(|| {
    script(
        r"
local out = {}
local lease_until = now + tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  local e = ekey(ARGV[i])
  local st, tok = unpack(redis.call('HMGET', e, 'st', 'tok'))
  if st == 'running' and tok == ARGV[i + 1] then
    redis.call('HSET', e, 'until', lease_until)
    out[#out + 1] = tonumber(ARGV[i])
  end
end
return out
",
    )
});

/// Settles an attempt under its lease: acknowledges and deletes its message (`XACK`, `XDEL`)
/// in the same step as the entry's new state. 0 when the lease is no longer held. `ARGV`: id,
/// token, kind (`done`, `retry`, `dead`, `release`), delay (ms), error, outcome.
pub(crate) static SETTLE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r"
local id, kind, err = ARGV[1], ARGV[3], ARGV[5]
local e = ekey(id)
local st, tok, n = unpack(redis.call('HMGET', e, 'st', 'tok', 'n'))
if st ~= 'running' or tok ~= ARGV[2] then return 0 end
unqueue(e)
redis.call('HDEL', e, 'tok', 'until')
history(e, n, now, ARGV[6], err)
count('running', -1)
if kind == 'done' then
  finish(id, e, 'done', now)
elseif kind == 'dead' then
  redis.call('HSET', e, 'err', err)
  finish(id, e, 'dead', now)
elseif kind == 'retry' then
  redis.call('HSET', e, 'st', 'pending', 'err', err)
  count('pending', 1)
  schedule(id, now + tonumber(ARGV[4]), now)
else
  redis.call('HSET', e, 'st', 'pending', 'n', math.max(tonumber(n) - 1, 0))
  count('pending', 1)
  schedule(id, now, now)
end
return 1
",
    )
});

/// The rescuer: takes every route stream's pending messages over with `XAUTOCLAIM`, and puts
/// back the entries whose lease expired (`dead` after the last attempt). Also drops consumers
/// idle for an hour with nothing pending. `ARGV`: max attempts, the rescuer's consumer name.
/// Answers how many entries it put back.
pub(crate) static RESCUE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r"
local max, rescuer = tonumber(ARGV[1]), ARGV[2]
local rescued = 0
local err = 'the lease expired: the worker stopped or stalled'
for _, route in ipairs(redis.call('SMEMBERS', base .. ':routes')) do
  local stream = base .. ':q:' .. route
  local cursor = '0-0'
  repeat
    local r = redis.call('XAUTOCLAIM', stream, 'workers', rescuer, 0, cursor, 'COUNT', 100)
    cursor = r[1]
    for _, m in ipairs(r[2]) do
      -- Redis 6.2 answers a deleted message without fields.
      local msg, id = m[1], m[2] and m[2][2] or '0'
      local e = ekey(id)
      local st, cur, lease_until, n = unpack(redis.call('HMGET', e, 'st', 'msg', 'until', 'n'))
      if st == 'running' and cur == msg then
        if (tonumber(lease_until) or 0) <= now then
          unqueue(e)
          redis.call('HDEL', e, 'tok', 'until')
          count('running', -1)
          history(e, n, now, 'lease expired', err)
          redis.call('HSET', e, 'err', err)
          if tonumber(n) >= max then
            finish(id, e, 'dead', now)
          else
            redis.call('HSET', e, 'st', 'pending')
            count('pending', 1)
            schedule(id, now, now)
          end
          rescued = rescued + 1
        end
      elseif cur ~= msg then
        redis.call('XACK', stream, 'workers', msg)
        redis.call('XDEL', stream, msg)
      end
    end
  until cursor == '0-0'
  for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', stream, 'workers')) do
    local fields = {}
    for k = 1, #c, 2 do fields[c[k]] = c[k + 1] end
    if fields['pending'] == 0 and (fields['idle'] or 0) > 3600000 then
      redis.call('XGROUP', 'DELCONSUMER', stream, 'workers', fields['name'])
    end
  end
end
return rescued
",
    )
});

/// Replays entries that are not running: pending again from attempt 0, due now, history
/// kept. `ARGV`: the ids. Answers the ids replayed.
pub(crate) static REPLAY: LazyLock<Script> = LazyLock::new(|| {
    script(
        r"
local out = {}
for i = 1, #ARGV do
  local id = ARGV[i]
  local e = ekey(id)
  local st, n, ok, letter = unpack(redis.call('HMGET', e, 'st', 'n', 'ok', 'dlq'))
  if st and st ~= 'running' then
    history(e, n, now, 'replayed', nil)
    redis.call('HSET', e, 'n', 0, 'run', now)
    if st == 'pending' then
      if redis.call('ZREM', base .. ':delayed', id) == 1 then queue(id) end
    else
      redis.call('HSET', e, 'st', 'pending')
      redis.call('HDEL', e, 'fin')
      count(st, -1)
      count('pending', 1)
      redis.call('ZREM', base .. ':' .. st, id)
      redis.call('ZADD', base .. ':open', id, id)
      if letter then
        redis.call('XDEL', base .. ':dlq', letter)
        redis.call('HDEL', e, 'dlq')
      end
      if ok then redis.call('ZADD', base .. ':o:' .. ok, id, id) end
      schedule(id, now, now)
    end
    out[#out + 1] = tonumber(id)
  end
end
return out
",
    )
});

/// Deletes up to `limit` finished entries (and their dedup records) that finished before a
/// given age. `ARGV`: the age (ms), `1` to include dead ones, the limit. Answers how many.
pub(crate) static PURGE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r"
local limit = tonumber(ARGV[3])
local states = {'done'}
if ARGV[2] == '1' then states = {'done', 'dead'} end
local n = 0
for _, state in ipairs(states) do
  if n >= limit then break end
  local ids = redis.call('ZRANGEBYSCORE', base .. ':' .. state, '-inf',
    '(' .. (now - tonumber(ARGV[1])),
    'LIMIT', 0, limit - n)
  for _, id in ipairs(ids) do
    remove(id, state)
    n = n + 1
  end
end
return n
",
    )
});

/// Deletes the entry of a dedup key if it is finished. `ARGV`: the dedup key. 1 if deleted.
pub(crate) static FORGET: LazyLock<Script> = LazyLock::new(|| {
    script(
        r"
local id = redis.call('GET', base .. ':d:' .. ARGV[1])
if not id then return 0 end
local st = redis.call('HGET', ekey(id), 'st')
if st == 'done' or st == 'dead' then
  remove(id, st)
  return 1
end
return 0
",
    )
});

/// Counts by state and the age (ms) of the oldest pending entry (-1: none).
pub(crate) static STATS: LazyLock<Script> = LazyLock::new(|| {
    script(
        r"
local c = redis.call('HMGET', base .. ':counts', 'pending', 'running', 'done', 'dead')
local oldest = -1
local offset = 0
while oldest < 0 do
  local ids = redis.call('ZRANGE', base .. ':open', offset, offset + 99)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    local st, rcv = unpack(redis.call('HMGET', ekey(id), 'st', 'rcv'))
    if st == 'pending' then
      oldest = tonumber(rcv)
      break
    end
  end
  offset = offset + 100
end
local age = -1
if oldest >= 0 then age = math.max(now - oldest, 0) end
return {tonumber(c[1]) or 0, tonumber(c[2]) or 0, tonumber(c[3]) or 0, tonumber(c[4]) or 0,
  age}
",
    )
});
