-- Atomic commit of one or more consumed batches (shared/adapters/redis/model-store.ts builds the
-- call; row layout in row-codec.ts). Everything is computed first and written only when nothing
-- failed, so a commit is all-or-nothing; if any batch does not start at the stored next offset of
-- its partition, the commit is fenced and writes nothing at all.
--
-- KEYS, in order: offsets hashes (one per offset advance), put row keys, delta row keys, counter
--   hashes, history lists, popularity sorted sets, [registry list, registry hash] (when newItems),
--   [change stream] (when changedItems)
-- ARGV: 1 nOffsets, 2 nPuts, 3 nDeltas, 4 nCounters, 5 nHistories, 6 nPopularity, 7 nNewItems,
--   8 nChangedItems, 9 historyLimit, 10 changeStreamLimit, then: (partition, fromOffset,
--   nextOffset) per offset advance, the puts' payloads in one string, the deltas' payloads in one
--   string (each payload preceded by its length as a little-endian u32: thousands of rows cost
--   one argument, not thousands), (field, by) per counter, (count, items...) per history,
--   (member, by) per popularity increment, the new item ids, the changed item ids.
local nOffsets = tonumber(ARGV[1])
local nPuts = tonumber(ARGV[2])
local nDeltas = tonumber(ARGV[3])
local nCounters = tonumber(ARGV[4])
local nHistories = tonumber(ARGV[5])
local nPopularity = tonumber(ARGV[6])
local nNewItems = tonumber(ARGV[7])
local nChanged = tonumber(ARGV[8])
local historyLimit = tonumber(ARGV[9])
local streamLimit = ARGV[10]
local k = 1
local a = 11

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

local putBlob = ARGV[a]
local deltaBlob = ARGV[a + 1]
a = a + 2
local putPos = 1
local deltaPos = 1
local function nextPayload(blob, pos)
  local length = struct.unpack('<I4', blob, pos)
  return string.sub(blob, pos + 4, pos + 3 + length), pos + 4 + length
end

for i = 1, nPuts do
  local key = KEYS[k]
  local payload
  payload, putPos = nextPayload(putBlob, putPos)
  local version = 1
  local old = pending[key]
  if old == nil then old = redis.call('GETRANGE', key, 0, 47) end
  if string.len(old) >= 32 then version = struct.unpack('<d', old, 25) + 1 end
  stage(key, string.sub(payload, 1, 24) .. struct.pack('<d', version) .. string.sub(payload, 33))
  k = k + 1
end

local conflicts = {}
local ZERO_VERSION = struct.pack('<d', 0)
for i = 1, nDeltas do
  local key = KEYS[k]
  local payload
  payload, deltaPos = nextPayload(deltaBlob, deltaPos)
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
  k = k + 1
end

-- Optimistic rows changed by another writer: nothing is written; the adapter resends them as deltas.
if #conflicts > 0 then
  return {'conflict', table.concat(conflicts, ',')}
end

for i = 1, #order do
  redis.call('SET', order[i], pending[order[i]])
end

for i = 1, nCounters do
  redis.call('HINCRBYFLOAT', KEYS[k], ARGV[a], ARGV[a + 1])
  k = k + 1
  a = a + 2
end

for i = 1, nHistories do
  local count = tonumber(ARGV[a])
  a = a + 1
  for j = 1, count do
    redis.call('RPUSH', KEYS[k], ARGV[a])
    a = a + 1
  end
  redis.call('LTRIM', KEYS[k], -historyLimit, -1)
  k = k + 1
end

for i = 1, nPopularity do
  redis.call('ZINCRBY', KEYS[k], ARGV[a + 1], ARGV[a])
  k = k + 1
  a = a + 2
end

if nNewItems > 0 then
  local list = KEYS[k]
  local known = KEYS[k + 1]
  for i = 1, nNewItems do
    local id = ARGV[a]
    if redis.call('HSETNX', known, id, redis.call('LLEN', list)) == 1 then
      redis.call('RPUSH', list, id)
    end
    a = a + 1
  end
  k = k + 2
end

if nChanged > 0 then
  local ids = {}
  for i = 1, nChanged do
    ids[i] = ARGV[a]
    a = a + 1
  end
  redis.call('XADD', KEYS[k], 'MAXLEN', '~', streamLimit, '*', 'items', table.concat(ids, '\n'))
  k = k + 1
end

for i = 1, #advances do
  redis.call('HSET', advances[i][1], advances[i][2], advances[i][3])
end
return {'committed'}
