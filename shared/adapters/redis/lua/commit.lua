-- Atomic commit of one or more consumed batches (shared/adapters/redis/commit-args.ts builds the
-- call; row layout in row-codec.ts). Everything is computed first and written only when nothing
-- failed, so a commit is all-or-nothing; if any batch does not start at the stored next offset of
-- its partition, the commit is fenced and writes nothing at all.
--
-- Bulk data travels in "frames": one argument holding many length-prefixed strings (u32
-- little-endian length, then the bytes), so thousands of rows or list items cost one argument.
--
-- KEYS, in order: offsets hashes (one per offset advance), [registry list, registry hash] (when
--   new items), [change stream] (when changed items), [transitions change stream] (when
--   transitions)
-- ARGV: 1 nOffsets, 2 nPuts, 3 nDeltas, 4 nCounterHashes, 5 nHistories, 6 nPopularitySegments,
--   7 nNewItems, 8 changed (0 or 1), 9 historyLimit, 10 changeStreamLimit, 11 nTransitionItems,
--   12 transitionLimit, then (partition, fromOffset, nextOffset) per offset advance, then nine
--   arguments:
--   puts: frames (row key, payload) per row
--   deltas: frames (row key, payload) per row
--   counters: frames (hash key, n, then n times field, increment) per hash
--   histories: frames (list key, n, then n items) per user
--   popularity: frames (sorted set key, n, then n times member, increment) per segment
--   new items: frames (id) per item
--   changed item ids joined by newlines (empty when none)
--   transitions: frames (sorted set key, n, then n times member, increment) per item; the member
--     '' is the item's degree (shared/adapters/transitions.ts)
--   the ids of those items joined by newlines
local nOffsets = tonumber(ARGV[1])
local nPuts = tonumber(ARGV[2])
local nDeltas = tonumber(ARGV[3])
local nCounterHashes = tonumber(ARGV[4])
local nHistories = tonumber(ARGV[5])
local nSegments = tonumber(ARGV[6])
local nNewItems = tonumber(ARGV[7])
local nChanged = tonumber(ARGV[8])
local historyLimit = tonumber(ARGV[9])
local streamLimit = ARGV[10]
local nTransitionItems = tonumber(ARGV[11])
local transitionLimit = tonumber(ARGV[12])
local k = 1
local a = 13

-- Offsets first, in order: a later advance of the same partition starts where an earlier one of
-- this commit ends.
local expected = {}
local advances = {}
for i = 1, nOffsets do
  local key = KEYS[k]
  local partition = ARGV[a]
  local from = tonumber(ARGV[a + 1])
  local id = key .. '|' .. partition
  local stored = expected[id]
  if stored == nil then
    local value = redis.call('HGET', key, partition)
    if value then stored = tonumber(value) end
  end
  if stored ~= nil and stored ~= from then
    local current = redis.call('HGET', key, partition)
    return {'fenced', partition, current or tostring(stored)}
  end
  expected[id] = tonumber(ARGV[a + 2])
  advances[#advances + 1] = { key, partition, ARGV[a + 2] }
  k = k + 1
  a = a + 3
end

local HEADER = 48
-- Values computed so far, by key, so that two writes to one key in a batch see each other.
local pending = {}
local order = {}
local function stage(key, value)
  if pending[key] == nil then order[#order + 1] = key end
  pending[key] = value
end

-- A reader of frames: each call returns the next string.
local function frames(blob)
  local pos = 1
  return function()
    local length = struct.unpack('<I4', blob, pos)
    local value = string.sub(blob, pos + 4, pos + 3 + length)
    pos = pos + 4 + length
    return value
  end
end

local nextPut = frames(ARGV[a])
local nextDelta = frames(ARGV[a + 1])
local nextCounter = frames(ARGV[a + 2])
local nextHistory = frames(ARGV[a + 3])
local nextPopular = frames(ARGV[a + 4])
local nextNew = frames(ARGV[a + 5])
local changedIds = ARGV[a + 6]
local nextTransition = frames(ARGV[a + 7])
local transitionIds = ARGV[a + 8]

for i = 1, nPuts do
  local key = nextPut()
  local payload = nextPut()
  local version = 1
  local old = pending[key]
  if old == nil then old = redis.call('GETRANGE', key, 0, 47) end
  if string.len(old) >= 32 then version = struct.unpack('<d', old, 25) + 1 end
  stage(key, string.sub(payload, 1, 24) .. struct.pack('<d', version) .. string.sub(payload, 33))
end

local conflicts = {}
local ZERO_VERSION = struct.pack('<d', 0)
for i = 1, nDeltas do
  local key = nextDelta()
  local payload = nextDelta()
  if struct.unpack('<I4', payload, 1) == 0x3154504f then
    -- Optimistic: ["OPT1", pad, expected version (8 bytes)][the complete new row]. Written as it
    -- is when the stored version is the expected one (nobody else wrote the row since it was read).
    local stored = pending[key]
    if stored ~= nil then
      stored = string.sub(stored, 25, 32)
    else
      stored = redis.call('GETRANGE', key, 24, 31)
      if stored == '' then stored = ZERO_VERSION end
    end
    if stored == string.sub(payload, 9, 16) then
      stage(key, string.sub(payload, 17))
    else
      conflicts[#conflicts + 1] = tostring(i - 1)
    end
  else
    local n = struct.unpack('<I4', payload, 5)
    local s = struct.unpack('<I4', payload, 41)
    local width = n + s
    local dBias, dCount, unused, dTime = struct.unpack('<dddd', payload, 9)
    local existing = pending[key]
    if existing == nil then existing = redis.call('GET', key) end
    local bias, count, version, updatedAt = 0, 0, 0, 0
    local rowFmt = '<' .. string.rep('f', width)
    local base
    if existing then
      local cn = struct.unpack('<I4', existing, 5)
      local cs = struct.unpack('<I4', existing, 41)
      if cn ~= n or cs ~= s then
        return redis.error_reply('DIMENSION_MISMATCH ' .. key .. ' has ' .. cn .. '+' .. cs .. ' values, delta has ' .. n .. '+' .. s)
      end
      bias, count, version, updatedAt = struct.unpack('<dddd', existing, 9)
      base = { struct.unpack(rowFmt, existing, HEADER + 1) }
    else
      base = {}
      if string.len(payload) >= HEADER + 8 * (width + n) then
        local init = { struct.unpack('<' .. string.rep('d', n), payload, HEADER + 8 * width + 1) }
        for j = 1, n do base[j] = init[j] end
      else
        for j = 1, n do base[j] = 0 end
      end
      for j = n + 1, width do base[j] = 0 end
    end
    if dTime > updatedAt then updatedAt = dTime end
    local delta = { struct.unpack('<' .. string.rep('d', width), payload, HEADER + 1) }
    local out = {}
    for j = 1, width do out[j] = base[j] + delta[j] end
    stage(key, struct.pack('<I4I4ddddI4I4', 2, n, bias + dBias, count + dCount, version + 1, updatedAt, s, 0)
      .. struct.pack(rowFmt, unpack(out)))
  end
end

-- Optimistic rows changed by another writer: nothing is written; the adapter resends them as deltas.
if #conflicts > 0 then
  return {'conflict', table.concat(conflicts, ',')}
end

for i = 1, #order do
  redis.call('SET', order[i], pending[order[i]])
end

for i = 1, nCounterHashes do
  local key = nextCounter()
  for j = 1, tonumber(nextCounter()) do
    redis.call('HINCRBYFLOAT', key, nextCounter(), nextCounter())
  end
end

-- RPUSH takes many values at once; unpack() is bounded by Lua's stack, so at most this many.
local PUSH_CHUNK = 1000
local function pushAll(key, values)
  for from = 1, #values, PUSH_CHUNK do
    redis.call('RPUSH', key, unpack(values, from, math.min(#values, from + PUSH_CHUNK - 1)))
  end
end

for i = 1, nHistories do
  local key = nextHistory()
  local items = {}
  for j = 1, tonumber(nextHistory()) do items[j] = nextHistory() end
  pushAll(key, items)
  redis.call('LTRIM', key, -historyLimit, -1)
end

for i = 1, nSegments do
  local key = nextPopular()
  for j = 1, tonumber(nextPopular()) do
    local member = nextPopular()
    -- Log-domain addition, log2(2^old + 2^by) (shared/model/popularity.ts logAdd2).
    local by = tonumber(nextPopular())
    local old = redis.call('ZSCORE', key, member)
    if old then
      old = tonumber(old)
      local high = math.max(old, by)
      by = high + math.log(1 + 2 ^ (math.min(old, by) - high)) / math.log(2)
    end
    redis.call('ZADD', key, by, member)
  end
end

if nNewItems > 0 then
  local list = KEYS[k]
  local known = KEYS[k + 1]
  -- Registry positions are assigned in order: the list's length, then one more per new id.
  local position = redis.call('LLEN', list)
  local added = {}
  for i = 1, nNewItems do
    local id = nextNew()
    if redis.call('HSETNX', known, id, position) == 1 then
      added[#added + 1] = id
      position = position + 1
    end
  end
  if #added > 0 then pushAll(list, added) end
  k = k + 2
end

if nChanged > 0 then
  redis.call('XADD', KEYS[k], 'MAXLEN', '~', streamLimit, '*', 'items', changedIds)
  k = k + 1
end

-- Past twice the limit, a list keeps its strongest `limit` neighbours. The degree member is the
-- sum of every weight the list ever had (more than any one of them once there are two), so the
-- lowest ranks are always neighbours.
for i = 1, nTransitionItems do
  local key = nextTransition()
  for j = 1, tonumber(nextTransition()) do
    local member = nextTransition()
    redis.call('ZINCRBY', key, nextTransition(), member)
  end
  local size = redis.call('ZCARD', key)
  if size > 2 * transitionLimit + 1 then
    redis.call('ZREMRANGEBYRANK', key, 0, size - transitionLimit - 2)
  end
end
if nTransitionItems > 0 then
  redis.call('XADD', KEYS[k], 'MAXLEN', '~', streamLimit, '*', 'items', transitionIds)
  k = k + 1
end

for i = 1, #advances do
  redis.call('HSET', advances[i][1], advances[i][2], advances[i][3])
end
return {'committed'}
