-- Deletes an item's catalog record and, when it existed, appends its id to the catalog change
-- stream in the same step (serving instances follow it).
--
-- KEYS: 1 the item's record, 2 the set of catalog item ids, 3 the catalog change stream
-- ARGV: 1 the item id, 2 the change stream's approximate length limit
-- Returns: 1 when the record existed, else 0
local deleted = redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
if deleted > 0 then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], '*', 'items', ARGV[1])
end
return deleted
