-- What a request needs of one user, in one call: the user's rows, history and catalog record.
-- The history comes as one string joined by newlines (ids have no control characters:
-- shared/schemas/limits.ts): one reply buffer instead of one per item.
--
-- KEYS: n row keys, then the history list, then the user's catalog record
-- ARGV: 1 n
-- Returns: n rows (a missing key is false, sent as a nil element), the joined history, the record
local n = tonumber(ARGV[1])
local out = {}
for i = 1, n do out[i] = redis.call('GET', KEYS[i]) end
out[n + 1] = table.concat(redis.call('LRANGE', KEYS[n + 1], 0, -1), '\n')
out[n + 2] = redis.call('GET', KEYS[n + 2])
return out
