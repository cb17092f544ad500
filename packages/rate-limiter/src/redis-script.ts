import { createHash } from 'node:crypto';

/**
 * One script decides every limit of a request atomically. It is a transcription of `algorithms.ts` (same
 * operations in the same order, so the same IEEE doubles), and stored numbers are those doubles packed
 * little-endian (`struct.pack('<d', …)`, 8 bytes each): exact, where Lua's own `tostring` keeps only 14 digits, and
 * a quarter of the cost of `%.17g` text.
 *
 * KEYS: for each limit in order, its state key, then its penalty key if it has a penalty (blockMs > 0); all
 *       hash-tagged on the request key so they share one cluster slot.
 * ARGV: op ('c' consume, 'p' peek, 'r' refund, 'x' reset), now in ms ('' = Redis TIME), cost, and the limits as
 *       one space-separated string of five numbers per limit: algorithm code, limit, windowMs, burst, blockMs (one
 *       argument instead of five per limit: encoding arguments is most of the client's cost per call).
 * Returns, for consume and peek, four integers per limit: allowed (1/0), remaining, resetMs and retryAfterMs in
 * whole ms rounded up (-1: never); for refund and reset, nothing.
 * Batch: ARGV = 'batch' followed by several requests' four args, KEYS = their keys in order; the reply is their
 * replies concatenated. Spread batch, for keys of several slots on one Cluster node: ARGV = 'spread', the key count,
 * the keys, then the requests' args; KEYS = one key, for routing (see the end of the script).
 */
export const RATE_LIMIT_SCRIPT = `
-- Redis < 5 replicates scripts verbatim and refuses writes after TIME unless told to replicate effects.
if redis.replicate_commands then redis.replicate_commands() end
local EPS_MS = 0.001
local EPS_COUNT = 1e-9
local INF = 1/0
local floor, max, min, ceil = math.floor, math.max, math.min, math.ceil

local tunpack = unpack
local pack, unpack = struct.pack, struct.unpack

-- Every key's value, read before the run writes anything (MGET: one redis.call for many keys costs the script less
-- than a GET per key), then kept current as the run writes, so a key that two calls of a batch share is read as the
-- first left it. K: the run's keys, KEYS, or for a spread batch the keys passed in ARGV (see the end of the script).
local values = {}
local K = KEYS
local function read(from, to)
  -- MGET in slices: unpack is bounded by Lua's C stack
  for first = from, to, 512 do
    local last = min(to, first + 511)
    local got = redis.call('MGET', tunpack(K, first, last))
    for i = first, last do values[K[i]] = got[i - first + 1] end
  end
end

-- Whole ms rounded up, as decision.ts roundUpMs does; -1 for never. Integer replies cost no formatting or parsing.
local function wholeMs(x)
  if x == INF then return -1 end
  return max(0, ceil(x - EPS_MS))
end

-- A key's state: one, two or three packed doubles (by algorithm), or none.
local function parse(v)
  if not v then return false, 0, 0, 0 end
  local len = #v
  if len == 8 then return true, (unpack('<d', v)), 0, 0 end
  if len == 16 then
    local a, b = unpack('<dd', v)
    return true, a, b, 0
  end
  local a, b, c = unpack('<ddd', v)
  return true, a, b, c
end

local function evaluate(code, limit, windowMs, burst, has, s0, s1, s2, now, cost)
  if code == 1 then
    local interval = windowMs / limit
    local tolerance = interval * burst
    local tat = now
    if has and s0 > now then tat = s0 end
    local nxt = tat + interval * cost
    if nxt - now <= tolerance + EPS_MS then
      return true, max(0, floor((tolerance - (nxt - now) + EPS_MS) / interval)), nxt - now, 0, nxt, 0, 0, nxt - now
    end
    local retry = nxt - tolerance - now
    if cost > burst then retry = INF end
    return false, max(0, floor((tolerance - (tat - now) + EPS_MS) / interval)), tat - now, retry, tat, 0, 0, tat - now
  elseif code == 2 then
    local interval = windowMs / limit
    local tokens = burst
    if has then
      local elapsed = 0
      if now > s1 then elapsed = now - s1 end
      tokens = min(burst, s0 + elapsed / interval)
    end
    if tokens + EPS_MS / interval >= cost then
      local left = tokens - cost
      return true, max(0, floor(left + EPS_MS / interval)), (burst - left) * interval, 0, left, now, 0, (burst - left) * interval
    end
    local retry = (cost - tokens) * interval
    if cost > burst then retry = INF end
    return false, max(0, floor(tokens + EPS_MS / interval)), (burst - tokens) * interval, retry, tokens, now, 0, (burst - tokens) * interval
  elseif code == 3 then
    local start, count = now, 0
    if has and now < s0 + windowMs then start, count = s0, s1 end
    local resetMs = start + windowMs - now
    if count + cost <= limit + EPS_COUNT then
      return true, max(0, floor(limit - count - cost + EPS_COUNT)), resetMs, 0, start, count + cost, 0, resetMs
    end
    local retry = resetMs
    if cost > limit then retry = INF end
    return false, max(0, floor(limit - count + EPS_COUNT)), resetMs, retry, start, count, 0, resetMs
  else
    local window = floor(now / windowMs)
    local prev, cur = 0, 0
    if has then
      if s0 >= window then
        window, prev, cur = s0, s1, s2
      elseif s0 == window - 1 then
        prev = s2
      end
    end
    local start = window * windowMs
    local elapsed = 0
    if now > start then elapsed = now - start end
    local weight = 1 - elapsed / windowMs
    local estimate = prev * weight + cur
    local allowed, remaining, retry, n2
    if estimate + cost <= limit + EPS_COUNT then
      allowed, remaining, retry, n2 = true, max(0, floor(limit - estimate - cost + EPS_COUNT)), 0, cur + cost
    else
      allowed, remaining, n2 = false, max(0, floor(limit - estimate + EPS_COUNT)), cur
      if cost > limit then
        retry = INF
      elseif cur + cost <= limit + EPS_COUNT then
        retry = start + windowMs * (1 - (limit - cur - cost) / prev) - now
      else
        retry = start + windowMs + windowMs * max(0, 1 - (limit - cost) / cur) - now
      end
    end
    local last = now
    if n2 > 0 then last = start + 2 * windowMs elseif prev > 0 then last = start + windowMs end
    return allowed, remaining, last - now, retry, window, prev, n2, last - now
  end
end

local function refund(code, limit, windowMs, burst, s0, s1, s2, now, cost)
  if code == 1 then
    local tat = s0 - (windowMs / limit) * cost
    return tat, 0, 0, tat - now
  elseif code == 2 then
    local interval = windowMs / limit
    local elapsed = 0
    if now > s1 then elapsed = now - s1 end
    local tokens = min(burst, s0 + elapsed / interval + cost)
    return tokens, now, 0, (burst - tokens) * interval
  elseif code == 3 then
    if now >= s0 + windowMs then return 0, 0, 0, 0 end
    return s0, max(0, s1 - cost), 0, s0 + windowMs - now
  else
    local window = floor(now / windowMs)
    local w, prev, cur = s0, s1, s2
    if s0 < window then
      w, prev, cur = window, 0, 0
      if s0 == window - 1 then prev = s2 end
    end
    cur = max(0, cur - cost)
    local start = w * windowMs
    local last = now
    if cur > 0 then last = start + 2 * windowMs elseif prev > 0 then last = start + windowMs end
    return w, prev, cur, last - now
  end
end

-- TTLs. A key must live until its state is back at its initial value. With Redis time on Redis >= 7 (PXAT and
-- KEEPTTL; older versions cannot be told apart from inside a script), a key expires at that moment rounded up to a
-- whole second, and a write whose state needs no later second keeps the key's TTL: setting an expiry is about half
-- of a write's cost to Redis, and a busy key then sets it once a second rather than on every request. A key lives at
-- most a second longer than it must. Otherwise (and always with an app-supplied clock) the TTL is set on every write.
local EXPIRY_GRID_MS = 1000
local ON_GRID = (redis.REDIS_VERSION_NUM or 0) >= 0x070000

-- The expiry on the grid for a state: the moment it is back at its initial value (the TTL \`evaluate\` gives, as an
-- absolute time, from the state alone), rounded up to a whole second.
local function gridExpiry(code, limit, windowMs, burst, s0, s1, s2)
  local at
  if code == 1 then at = s0
  elseif code == 2 then at = s1 + (burst - s0) * (windowMs / limit)
  elseif code == 3 then at = s0 + windowMs
  elseif s2 > 0 then at = (s0 + 2) * windowMs
  else at = (s0 + 1) * windowMs end
  return ceil(at / EXPIRY_GRID_MS) * EXPIRY_GRID_MS
end

-- Writes a key's new state with its TTL (or deletes a state back at its initial value). \`v\`, \`b\`: the limit's
-- numbers in its spec; \`was\`: the grid expiry of the key's current state (false: no state, or not on the grid) — the
-- key's TTL reaches at least that far.
local function store(v, b, key, n0, n1, n2, ttl, slack, was)
  if ttl <= 0 then
    redis.call('DEL', key)
    values[key] = false
    return
  end
  local code = v[b + 1]
  local value
  if code == 1 then value = pack('<d', n0)
  elseif code == 4 then value = pack('<ddd', n0, n1, n2)
  else value = pack('<dd', n0, n1) end
  if slack == 0 and ON_GRID then
    local at = gridExpiry(code, v[b + 2], v[b + 3], v[b + 4], n0, n1, n2)
    if was and at <= was then
      redis.call('SET', key, value, 'KEEPTTL')
    else
      redis.call('SET', key, value, 'PXAT', at)
    end
  else
    redis.call('SET', key, value, 'PX', ceil(ttl) + slack)
  end
  values[key] = value
end

-- The grid expiry of a key's current state, or false.
local function wasOf(has, v, b, s0, s1, s2, slack)
  if has and slack == 0 and ON_GRID then return gridExpiry(v[b + 1], v[b + 2], v[b + 3], v[b + 4], s0, s1, s2) end
  return false
end

-- Redis time in ms, read once per script run (a script runs atomically, so one reading serves every decision).
local redisNow
local function clock()
  if not redisNow then
    local t = redis.call('TIME')
    redisNow = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
  end
  return redisNow
end

-- Limit specs parsed once per script run: the calls of a batch almost always share one (parsing it was a third
-- of a decision's time). A spec: the numbers, the limit count, each limit's state and penalty key positions, and
-- how many keys a request has.
local specs = {}
local function specOf(text)
  local spec = specs[text]
  if spec then return spec end
  local v = {}
  for x in string.gmatch(text, '%S+') do v[#v + 1] = tonumber(x) end
  local n = #v / 5
  local stateAt, blockAt = {}, {}
  local k = 0
  for i = 1, n do
    k = k + 1
    stateAt[i] = k
    if v[i * 5] > 0 then
      k = k + 1
      blockAt[i] = k
    end
  end
  spec = { v = v, n = n, stateAt = stateAt, blockAt = blockAt, keys = k }
  specs[text] = spec
  return spec
end

-- Each limit's decision while a request's limits are decided, eleven slots a limit, reused by every request of a run
-- (a table per limit per request was garbage the script paid to make and collect).
local D = {}

-- One request: its keys are K[ko + 1 ...] and its four args ARGV[ao + 1 ...] (a batch passes offsets rather
-- than copies). Appends its reply to \`out\` and returns how many keys it used.
local function decide(out, ko, ao)
  local op = ARGV[ao + 1]
  local spec = specOf(ARGV[ao + 4])
  local v, n, stateAt, blockAt = spec.v, spec.n, spec.stateAt, spec.blockAt
  if op == 'x' then
    for i = 1, spec.keys do
      redis.call('DEL', K[ko + i])
      values[K[ko + i]] = false
    end
    return spec.keys
  end

  local now
  -- With an app-supplied clock (tests), Redis TTLs run in real time while the decisions use that clock: keep keys a
  -- minute longer so they never vanish early. A state past its time decides exactly like a missing one.
  local slack = 0
  if ARGV[ao + 2] == '' then
    now = clock()
  else
    now = tonumber(ARGV[ao + 2])
    slack = 60000
  end
  local cost = tonumber(ARGV[ao + 3])

  if op == 'r' then
    for i = 1, n do
      local b = (i - 1) * 5
      local code = v[b + 1]
      local key = K[ko + stateAt[i]]
      local has, s0, s1, s2 = parse(values[key])
      if has then
        local n0, n1, n2, ttl = refund(code, v[b + 2], v[b + 3], v[b + 4], s0, s1, s2, now, cost)
        store(v, b, key, n0, n1, n2, ttl, slack, wasOf(true, v, b, s0, s1, s2, slack))
      end
    end
    return spec.keys
  end

  local all = true
  for i = 1, n do
    local b = (i - 1) * 5
    local code, blockMs = v[b + 1], v[b + 5]
    local has, s0, s1, s2 = parse(values[K[ko + stateAt[i]]])
    local allowed, remaining, resetMs, retry, n0, n1, n2, ttl =
      evaluate(code, v[b + 2], v[b + 3], v[b + 4], has, s0, s1, s2, now, cost)
    local blocked = false
    if blockMs > 0 then
      local raw = values[K[ko + blockAt[i]]]
      local untilMs = raw and (unpack('<d', raw))
      if untilMs and untilMs > now then
        allowed, remaining, retry, blocked = false, 0, max(retry, untilMs - now), true
      end
    end
    if not allowed then all = false end
    local d = (i - 1) * 11
    D[d + 1], D[d + 2], D[d + 3], D[d + 4], D[d + 5], D[d + 6] = allowed, remaining, resetMs, retry, n0, n1
    D[d + 7], D[d + 8], D[d + 9], D[d + 10], D[d + 11] = n2, ttl, wasOf(has, v, b, s0, s1, s2, slack), blockMs, blocked
  end

  for i = 1, n do
    local d = (i - 1) * 11
    local allowed, remaining, retry, blockMs = D[d + 1], D[d + 2], D[d + 4], D[d + 10]
    if op == 'c' then
      if all then
        store(v, (i - 1) * 5, K[ko + stateAt[i]], D[d + 5], D[d + 6], D[d + 7], D[d + 8], slack, D[d + 9])
      elseif not allowed and blockMs > 0 and not D[d + 11] then
        local value = pack('<d', now + blockMs)
        redis.call('SET', K[ko + blockAt[i]], value, 'PX', ceil(blockMs) + slack)
        values[K[ko + blockAt[i]]] = value
        remaining = 0
        retry = max(retry, blockMs)
      end
    end
    local allowedFlag = 0
    if allowed then allowedFlag = 1 end
    -- a limit that would have admitted a refused request reports its quota without it
    if allowed and not all then remaining = floor(remaining + cost) end
    local o = #out
    out[o + 1], out[o + 2], out[o + 3], out[o + 4] = allowedFlag, remaining, wholeMs(D[d + 3]), wholeMs(retry)
  end
  return spec.keys
end

-- A batch on one Redis: ARGV = 'batch', then four args per request; KEYS = every request's keys in order.
-- A spread batch, for a Redis Cluster node: ARGV = 'spread', the key count, the keys, then four args per request;
-- KEYS = one of them, which routes the call to the node. Keys of several slots cannot meet in one MGET, so each
-- request's keys (one slot: they share a hash tag) are read by an MGET of their own, all before the first write: a
-- key this node does not serve fails the run before it has changed anything, and the caller decides the requests
-- one by one. The reply is every request's, in order, in one flat array (nested arrays cost Redis more to send).
local out = {}
if ARGV[1] == 'batch' then
  read(1, #K)
  local ko = 0
  for ao = 1, #ARGV - 1, 4 do ko = ko + decide(out, ko, ao) end
elseif ARGV[1] == 'spread' then
  local n = tonumber(ARGV[2])
  K = {}
  for i = 1, n do K[i] = ARGV[2 + i] end
  local ko = 0
  for ao = 2 + n, #ARGV - 1, 4 do
    local used = specOf(ARGV[ao + 4]).keys
    read(ko + 1, ko + used)
    ko = ko + used
  end
  ko = 0
  for ao = 2 + n, #ARGV - 1, 4 do ko = ko + decide(out, ko, ao) end
else
  read(1, #K)
  decide(out, 0, 0)
end
return out
`;

/** SHA-1 of {@link RATE_LIMIT_SCRIPT}, for EVALSHA. */
export const RATE_LIMIT_SCRIPT_SHA = createHash('sha1').update(RATE_LIMIT_SCRIPT).digest('hex');
