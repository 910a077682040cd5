-- Many users' histories in one command (a pipeline of LRANGEs costs a promise and a parse each).
--
-- KEYS: the history lists, one per user
-- ARGV: none
-- Returns: one array of items per key, oldest first ([] for a missing key)
local out = {}
for i = 1, #KEYS do out[i] = redis.call('LRANGE', KEYS[i], 0, -1) end
return out
