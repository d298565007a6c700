-- STOCK.RESERVE's peer on Redis, for bench/orders_bench.sh: the usual check-and-decrement.
--   EVALSHA <sha> 1 stock:<product> <units>
-- Answers the units left after the reservation, or the error `SOLDOUT <available>` with nothing
-- taken, as Podium's `STOCK.RESERVE <product> <units>` does. The script runs atomically, so the
-- GET and the DECRBY cannot interleave with another client's: no unit is sold twice.
local units = tonumber(ARGV[1])
if units == nil or units < 1 or units > 1000000000000 then
  return redis.error_reply('ERR units ' .. tostring(ARGV[1]) .. ' out of range [1, 1000000000000]')
end
local available = tonumber(redis.call('GET', KEYS[1]))
if available == nil or available < units then
  return redis.error_reply('SOLDOUT ' .. (available or 0))
end
return redis.call('DECRBY', KEYS[1], units)
