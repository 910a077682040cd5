-- Atomic commit of one batch (see shared/adapters/redis/model-store.ts and row-codec.ts).
-- KEYS: [offsets hash?] [put row keys...] [delta row keys...] [counter hash keys...]
-- ARGV: hasOffset partition fromOffset nextOffset nPuts nDeltas nCounters,
--       then one payload per put, one payload per delta, then (field, by) per counter.
-- Everything is computed first and written only if nothing failed, so a batch is all-or-nothing;
-- a batch whose fromOffset is not the stored next offset is fenced and writes nothing.
local hasOffset = ARGV[1] == '1'
local partition = ARGV[2]
local fromOffset = tonumber(ARGV[3])
local nextOffset = ARGV[4]
local nPuts = tonumber(ARGV[5])
local nDeltas = tonumber(ARGV[6])
local nCounters = tonumber(ARGV[7])
local k = 1
local a = 8

if hasOffset then
  local stored = redis.call('HGET', KEYS[1], partition)
  if stored and tonumber(stored) ~= fromOffset then
    return {'fenced', stored}
  end
  k = 2
end

local HEADER = 40
-- Values computed so far, by key, so that two writes to one key in a batch see each other.
local pending = {}
local order = {}
local function stage(key, value)
  if pending[key] == nil then order[#order + 1] = key end
  pending[key] = value
end
local function current(key)
  local value = pending[key]
  if value ~= nil then return value end
  value = redis.call('GET', key)
  if value then return value end
  return nil
end

for i = 1, nPuts do
  local key = KEYS[k]
  local payload = ARGV[a]
  local version = 1
  local old = pending[key]
  if old == nil then old = redis.call('GETRANGE', key, 0, 39) end
  if string.len(old) >= 32 then version = struct.unpack('<d', old, 25) + 1 end
  stage(key, string.sub(payload, 1, 24) .. struct.pack('<d', version) .. string.sub(payload, 33))
  k = k + 1
  a = a + 1
end

for i = 1, nDeltas do
  local key = KEYS[k]
  local payload = ARGV[a]
  local n = struct.unpack('<I4', payload, 5)
  local fmt = '<' .. string.rep('f', n)
  local dBias, dCount, dVersion, dTime = struct.unpack('<dddd', payload, 9)
  local delta = { struct.unpack(fmt, payload, HEADER + 1) }
  local existing = current(key)
  local base
  local bias, count, version, updatedAt = 0, 0, 0, 0
  if existing then
    local cn = struct.unpack('<I4', existing, 5)
    if cn ~= n then
      return redis.error_reply('DIMENSION_MISMATCH ' .. key .. ' has ' .. cn .. ' dimensions, delta has ' .. n)
    end
    bias, count, version, updatedAt = struct.unpack('<dddd', existing, 9)
    base = { struct.unpack(fmt, existing, HEADER + 1) }
  elseif string.len(payload) >= HEADER + 8 * n then
    base = { struct.unpack(fmt, payload, HEADER + 4 * n + 1) }
  else
    base = {}
    for j = 1, n do base[j] = 0 end
  end
  local out = {}
  for j = 1, n do out[j] = base[j] + delta[j] end
  if dTime > updatedAt then updatedAt = dTime end
  stage(key, struct.pack('<I4I4dddd', 1, n, bias + dBias, count + dCount, version + 1, updatedAt)
    .. struct.pack(fmt, unpack(out)))
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

if hasOffset then
  redis.call('HSET', KEYS[1], partition, nextOffset)
end
return {'committed'}
