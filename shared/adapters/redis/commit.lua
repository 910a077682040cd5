-- Atomic commit of one batch (shared/adapters/redis/model-store.ts builds the call; row layout in
-- row-codec.ts). Everything is computed first and written only when nothing failed, so a batch is
-- all-or-nothing; a batch whose fromOffset is not the stored next offset is fenced and writes
-- nothing at all.
--
-- KEYS, in order: [offsets hash] (when hasOffset), put row keys, delta row keys, counter hashes,
--   history lists, popularity sorted sets, [registry list, registry hash] (when newItems),
--   [change stream] (when changedItems)
-- ARGV: 1 hasOffset, 2 partition, 3 fromOffset, 4 nextOffset, 5 nPuts, 6 nDeltas, 7 nCounters,
--   8 nHistories, 9 nPopularity, 10 nNewItems, 11 nChangedItems, 12 historyLimit,
--   13 changeStreamLimit, then: one payload per put, one per delta, (field, by) per counter,
--   (count, items...) per history, (member, by) per popularity increment, the new item ids,
--   the changed item ids.
local hasOffset = ARGV[1] == '1'
local partition = ARGV[2]
local fromOffset = tonumber(ARGV[3])
local nextOffset = ARGV[4]
local nPuts = tonumber(ARGV[5])
local nDeltas = tonumber(ARGV[6])
local nCounters = tonumber(ARGV[7])
local nHistories = tonumber(ARGV[8])
local nPopularity = tonumber(ARGV[9])
local nNewItems = tonumber(ARGV[10])
local nChanged = tonumber(ARGV[11])
local historyLimit = tonumber(ARGV[12])
local streamLimit = ARGV[13]
local k = 1
local a = 14

if hasOffset then
  local stored = redis.call('HGET', KEYS[1], partition)
  if stored and tonumber(stored) ~= fromOffset then
    return {'fenced', stored}
  end
  k = 2
end

local HEADER = 48
-- Values computed so far, by key, so that two writes to one key in a batch see each other.
local pending = {}
local order = {}
local function stage(key, value)
  if pending[key] == nil then order[#order + 1] = key end
  pending[key] = value
end

for i = 1, nPuts do
  local key = KEYS[k]
  local payload = ARGV[a]
  local version = 1
  local old = pending[key]
  if old == nil then old = redis.call('GETRANGE', key, 0, 47) end
  if string.len(old) >= 32 then version = struct.unpack('<d', old, 25) + 1 end
  stage(key, string.sub(payload, 1, 24) .. struct.pack('<d', version) .. string.sub(payload, 33))
  k = k + 1
  a = a + 1
end

for i = 1, nDeltas do
  local key = KEYS[k]
  local payload = ARGV[a]
  local n = struct.unpack('<I4', payload, 5)
  local s = struct.unpack('<I4', payload, 41)
  local width = n + s
  local rowFmt = '<' .. string.rep('f', width)
  local dBias, dCount, dVersion, dTime = struct.unpack('<dddd', payload, 9)
  local delta = { struct.unpack('<' .. string.rep('d', width), payload, HEADER + 1) }
  local existing = pending[key]
  if existing == nil then
    existing = redis.call('GET', key)
  end
  local base
  local bias, count, version, updatedAt = 0, 0, 0, 0
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
  local out = {}
  for j = 1, width do out[j] = base[j] + delta[j] end
  if dTime > updatedAt then updatedAt = dTime end
  stage(key, struct.pack('<I4I4ddddI4I4', 2, n, bias + dBias, count + dCount, version + 1, updatedAt, s, 0)
    .. struct.pack(rowFmt, unpack(out)))
  k = k + 1
  a = a + 1
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

if hasOffset then
  redis.call('HSET', KEYS[1], partition, nextOffset)
end
return {'committed'}
