//! The Lua scripts of [`RedisInbox`](crate::RedisInbox): every step that changes an entry
//! runs as one script, so an entry is never half-moved between its hash, its stream and its
//! sets, whatever fails between two calls.
//!
//! The keys of one inbox all start with `<prefix>:{<name>}` (`KEYS[1]`, the base): the braces
//! are a hash tag, so every key of the inbox is in one Redis Cluster slot and a script may
//! touch any of them.
//!
//! - `:seq` the id counter; `:e:<id>` an entry's hash; `:d:<dedup key>` its dedup record (the
//!   id); `:all` every id (a sorted set by id).
//! - `:q:<provider>\n<endpoint>` one stream per route, consumer group `workers`: one message
//!   per attempt (the entry's `q` is 1 while its message waits; a claim keeps the message's id
//!   in `msg` until the attempt is settled and the message acknowledged). Acknowledged
//!   messages are trimmed (`XTRIM MINID`) below the oldest one still pending or unread.
//!   `:routes` names the streams a worker has read.
//! - `:delayed` retries by due time; `:done` and `:dead` finished ids by finishing time (for
//!   the retention and the counts); `:dlq` the dead letters' stream; `:o:<key>` the unfinished
//!   ids of an ordering key (only the oldest is ever queued); `:paused`; `:bell` a stream
//!   written when a resume makes entries claimable.
//!
//! Every script makes as few calls as it can: a call from Lua costs about as much as a whole
//! `XADD` from a client.
//!
//! Hand-written, because no crate provides an inbox on Redis Streams with these semantics.

use std::sync::LazyLock;

use redis::Script;

/// Helpers every script starts with.
const PRELUDE: &str = r"
local base = KEYS[1]
-- The server's clock, so that leases do not depend on the workers' clocks agreeing.
local function clock()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local function ekey(id) return base .. ':e:' .. id end
local function stream_of(p, ep) return base .. ':q:' .. p .. '\n' .. ep end

-- Adds an attempt's message to the entry's route stream.
local function queue(id)
  local e = ekey(id)
  local p, ep = unpack(redis.call('HMGET', e, 'p', 'ep'))
  redis.call('XADD', stream_of(p, ep), '*', 'id', id)
  redis.call('HSET', e, 'q', 1)
end

-- Puts a pending entry where it waits: behind the oldest unfinished entry of its ordering
-- key, in the delayed set until `at`, or in its stream.
local function schedule(id, ok, at, now)
  if ok and redis.call('ZRANGE', base .. ':o:' .. ok, 0, 0)[1] ~= id then
    return
  end
  if at > now then
    redis.call('ZADD', base .. ':delayed', at, id)
  else
    queue(id)
  end
end

-- Queues the oldest unfinished entry of ordering key `ok` if it waits for nothing.
local function activate(ok, now)
  local head = redis.call('ZRANGE', base .. ':o:' .. ok, 0, 0)[1]
  if not head then return end
  local st, q, run = unpack(redis.call('HMGET', ekey(head), 'st', 'q', 'run'))
  if st == 'pending' and q ~= '1' and not redis.call('ZSCORE', base .. ':delayed', head) then
    schedule(head, ok, tonumber(run) or now, now)
  end
end

-- The history with one more record.
local function record(hist, attempt, now, outcome, err)
  return (hist or '') .. attempt .. '\31' .. now .. '\31' .. outcome .. '\31' .. (err or '') .. '\30'
end

-- After an entry of ordering key `ok` finished: the next one may run.
local function unblock(id, ok, now)
  if ok then
    redis.call('ZREM', base .. ':o:' .. ok, id)
    activate(ok, now)
  end
end

-- Ends a running entry `dead` (its message already acknowledged): written to the dead
-- letters' stream with its error and history.
local function bury(id, e, n, err, hist, ok, now)
  local letter = redis.call('XADD', base .. ':dlq', '*', 'id', id, 'attempts', n,
    'error', err, 'history', hist)
  redis.call('HSET', e, 'st', 'dead', 'fin', now, 'err', err, 'hist', hist, 'tok', '',
    'dlq', letter)
  redis.call('ZADD', base .. ':dead', now, id)
  unblock(id, ok, now)
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
end
";

fn script(body: &str) -> Script {
    Script::new(&format!("{PRELUDE}{body}"))
}

/// Stores an entry unless its dedup record exists (then counts the copy): `{1, id}` stored,
/// `{0, id}` a duplicate. `ARGV`: dedup key, provider, endpoint, delivery id, event type,
/// ordering key (`''`: none), signed by (`''`: unsigned), headers, body, now (the receiver's
/// clock: only shown, never compared with a lease), `1` to make sure the route's stream has
/// its consumer group (the first entry of a route a process stores).
pub(crate) static ENQUEUE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r"
local dk = base .. ':d:' .. ARGV[1]
local now = ARGV[10]
local id = tostring(redis.call('INCR', base .. ':seq'))
if not redis.call('SET', dk, id, 'NX') then
  local found = redis.call('GET', dk)
  local e = ekey(found)
  redis.call('HINCRBY', e, 'seen', 1)
  redis.call('HSET', e, 'last', now)
  return {0, tonumber(found)}
end
local p, ep, ok = ARGV[2], ARGV[3], ARGV[6]
local fields = {'p', p, 'ep', ep, 'did', ARGV[4], 'dk', ARGV[1], 't', ARGV[5], 'h', ARGV[8],
  'b', ARGV[9], 'st', 'pending', 'n', 0, 'seen', 1, 'rcv', now, 'last', now, 'run', now}
if ARGV[7] ~= '' then
  fields[#fields + 1] = 'sb'
  fields[#fields + 1] = ARGV[7]
end
local queued = true
if ok ~= '' then
  fields[#fields + 1] = 'ok'
  fields[#fields + 1] = ok
  local key = base .. ':o:' .. ok
  redis.call('ZADD', key, id, id)
  queued = redis.call('ZRANGE', key, 0, 0)[1] == id
end
if ARGV[11] == '1' then
  -- An error here is the group existing already.
  redis.pcall('XGROUP', 'CREATE', stream_of(p, ep), 'workers', '0', 'MKSTREAM')
  redis.call('SADD', base .. ':routes', p .. '\n' .. ep)
end
if queued then
  fields[#fields + 1] = 'q'
  fields[#fields + 1] = 1
  redis.call('XADD', stream_of(p, ep), '*', 'id', id)
end
redis.call('HSET', ekey(id), unpack(fields))
redis.call('ZADD', base .. ':all', id, id)
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
local now = clock()
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
    and redis.call('SISMEMBER', paused, 'e\n' .. p .. '\n' .. ep) == 0 then
    local read = redis.pcall('XREADGROUP', 'GROUP', 'workers', consumer,
      'COUNT', limit - #out, 'STREAMS', stream, '>')
    if type(read) == 'table' and read.err then
      -- The first read of this route: its group is created (from the first message).
      read = false
      if redis.call('EXISTS', stream) == 1 then
        redis.call('XGROUP', 'CREATE', stream, 'workers', '0')
        redis.call('SADD', base .. ':routes', p .. '\n' .. ep)
        read = redis.call('XREADGROUP', 'GROUP', 'workers', consumer,
          'COUNT', limit - #out, 'STREAMS', stream, '>')
      end
    end
    if read then
      for _, m in ipairs(read[1][2]) do
        local msg, id = m[1], m[2][2]
        local e = ekey(id)
        local f = redis.call('HMGET', e, 'st', 'q', 'n', 't', 'sb', 'h', 'b', 'rcv')
        if f[1] == 'pending' and f[2] == '1' then
          local n = (tonumber(f[3]) or 0) + 1
          redis.call('HSET', e, 'st', 'running', 'q', 0, 'n', n, 'tok', token,
            'until', lease_until, 'msg', msg)
          out[#out + 1] = {tonumber(id), n, p, ep, f[4] or '', f[5] or '', f[6] or '',
            f[7] or '', tonumber(f[8]) or 0}
        else
          -- A message outlived by its entry's wait (replayed, purged): dropped.
          redis.call('XACK', stream, 'workers', msg)
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
local lease_until = clock() + tonumber(ARGV[1])
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

/// Settles an attempt under its lease: acknowledges its message (`XACK`) in the same step as
/// the entry's new state. 0 when the lease is no longer held. `ARGV`: id, token, kind (`done`,
/// `retry`, `dead`, `release`), delay (ms), error, outcome.
pub(crate) static SETTLE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r"
local id, kind, err = ARGV[1], ARGV[3], ARGV[5]
local e = ekey(id)
local st, tok, n, p, ep, msg, hist, ok =
  unpack(redis.call('HMGET', e, 'st', 'tok', 'n', 'p', 'ep', 'msg', 'hist', 'ok'))
if st ~= 'running' or tok ~= ARGV[2] then return 0 end
local now = clock()
redis.call('XACK', stream_of(p, ep), 'workers', msg)
hist = record(hist, n, now, ARGV[6], err)
if kind == 'done' then
  redis.call('HSET', e, 'st', 'done', 'fin', now, 'hist', hist, 'tok', '')
  redis.call('ZADD', base .. ':done', now, id)
  unblock(id, ok, now)
elseif kind == 'dead' then
  bury(id, e, n, err, hist, ok, now)
else
  local at = now
  if kind == 'retry' then
    at = now + tonumber(ARGV[4])
    redis.call('HSET', e, 'st', 'pending', 'err', err, 'hist', hist, 'tok', '', 'run', at)
  else
    redis.call('HSET', e, 'st', 'pending', 'n', math.max(tonumber(n) - 1, 0), 'hist', hist,
      'tok', '', 'run', at)
  end
  schedule(id, ok or nil, at, now)
end
return 1
",
    )
});

/// The rescuer: takes every route stream's pending messages over with `XAUTOCLAIM`, and puts
/// back the entries whose lease expired (`dead` after the last attempt); trims each stream's
/// acknowledged messages (`XTRIM MINID` below the oldest message still pending or unread);
/// drops consumers idle for an hour with nothing pending. `ARGV`: max attempts, the rescuer's
/// consumer name. Answers how many entries it put back.
pub(crate) static RESCUE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r"
local now = clock()
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
      local st, cur, lease_until, n, hist, ok =
        unpack(redis.call('HMGET', e, 'st', 'msg', 'until', 'n', 'hist', 'ok'))
      if st == 'running' and cur == msg then
        if (tonumber(lease_until) or 0) <= now then
          redis.call('XACK', stream, 'workers', msg)
          hist = record(hist, n, now, 'lease expired', err)
          if tonumber(n) >= max then
            bury(id, e, n, err, hist, ok, now)
          else
            redis.call('HSET', e, 'st', 'pending', 'err', err, 'hist', hist, 'tok', '',
              'run', now)
            schedule(id, ok or nil, now, now)
          end
          rescued = rescued + 1
        end
      else
        redis.call('XACK', stream, 'workers', msg)
      end
    end
  until cursor == '0-0'
  -- Trim what every worker is done with.
  local summary = redis.call('XPENDING', stream, 'workers')
  local keep = summary[2]
  if not keep then
    for _, g in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
      for k = 1, #g, 2 do
        if g[k] == 'last-delivered-id' then keep = g[k + 1] end
      end
    end
  end
  if keep then redis.call('XTRIM', stream, 'MINID', keep) end
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
local now = clock()
local out = {}
for i = 1, #ARGV do
  local id = ARGV[i]
  local e = ekey(id)
  local st, n, ok, letter, hist = unpack(redis.call('HMGET', e, 'st', 'n', 'ok', 'dlq', 'hist'))
  if st and st ~= 'running' then
    redis.call('HSET', e, 'n', 0, 'run', now, 'hist', record(hist, n, now, 'replayed', nil))
    if st == 'pending' then
      if redis.call('ZREM', base .. ':delayed', id) == 1 then queue(id) end
    else
      redis.call('HSET', e, 'st', 'pending')
      redis.call('HDEL', e, 'fin')
      redis.call('ZREM', base .. ':' .. st, id)
      if letter then
        redis.call('XDEL', base .. ':dlq', letter)
        redis.call('HDEL', e, 'dlq')
      end
      if ok then redis.call('ZADD', base .. ':o:' .. ok, id, id) end
      schedule(id, ok or nil, now, now)
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
local now = clock()
local limit = tonumber(ARGV[3])
local states = {'done'}
if ARGV[2] == '1' then states = {'done', 'dead'} end
local n = 0
for _, state in ipairs(states) do
  if n >= limit then break end
  local ids = redis.call('ZRANGEBYSCORE', base .. ':' .. state, '-inf',
    '(' .. (now - tonumber(ARGV[1])), 'LIMIT', 0, limit - n)
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

/// Counts by state (running: the streams' pending messages; pending: the rest of the entries
/// not finished) and the age (ms) of the oldest entry waiting in a stream or for its retry
/// (-1: none).
pub(crate) static STATS: LazyLock<Script> = LazyLock::new(|| {
    script(
        r"
local now = clock()
local all = redis.call('ZCARD', base .. ':all')
local done = redis.call('ZCARD', base .. ':done')
local dead = redis.call('ZCARD', base .. ':dead')
local running = 0
local oldest = -1
local function seen(id)
  local rcv = tonumber(redis.call('HGET', ekey(id), 'rcv'))
  if rcv and (oldest < 0 or rcv < oldest) then oldest = rcv end
end
for _, route in ipairs(redis.call('SMEMBERS', base .. ':routes')) do
  local stream = base .. ':q:' .. route
  running = running + redis.call('XPENDING', stream, 'workers')[1]
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
    for k = 1, #g, 2 do
      if g[k] == 'last-delivered-id' then
        local first = redis.call('XRANGE', stream, '(' .. g[k + 1], '+', 'COUNT', 1)[1]
        if first then seen(first[2][2]) end
      end
    end
  end
end
for _, id in ipairs(redis.call('ZRANGE', base .. ':delayed', 0, 99)) do seen(id) end
local age = -1
if oldest >= 0 then age = math.max(now - oldest, 0) end
return {math.max(all - done - dead - running, 0), running, done, dead, age}
",
    )
});
