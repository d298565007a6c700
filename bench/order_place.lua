-- ORDER.PLACE's peer on Redis, for bench/orders_bench.sh: the same all-or-nothing checks and the
-- same writes as Podium's `ORDER.PLACE order user hold_ms n product qty ... [COUPON c] [POINTS p]`
-- (docs/orders.md), in one script so that nothing interleaves with it.
--
--   EVALSHA <sha> <5 + 2n [+ 1]>
--     KEYS: order:<order_id>  points:<user>  orders:<user>  order:deadlines  stock:held
--           stock:<product_1> .. stock:<product_n>  product:<product_1> .. product:<product_n>
--           [coupon:<coupon_id>]
--     ARGV: user  hold_ms  n  product_1 qty_1 .. product_n qty_n  points
--
-- The order id and the coupon id are read from their keys (after `order:` / `coupon:`), so that
-- each is written once in the command (redis-benchmark gives every `__rand_int__` of a command its
-- own value) and every key the script touches is still declared in KEYS.
--
-- Data, as the benchmark's setup writes it:
--   product:<id>   hash, field `price` (and brand, name) -- the catalog (Podium: PRODUCT.PUT)
--   stock:<id>     integer, units available               (Podium: STOCK.SET)
--   stock:held     hash, product -> units held by pending orders (Podium: STOCK.GET p WITHHELD)
--   points:<user>  integer, the balance                   (Podium: POINTS.CHARGE)
--   coupon:<id>    hash: user, kind FIXED|PERCENT, value, state AVAILABLE|HELD|USED, order
--   order:<id>     hash: user, status, total, discount, points, pay, coupon, created_ms,
--                  expires_ms, items ("product:qty:unit_price,..."), request (for idempotency)
--   orders:<user>  list of the user's order ids, in placement order (Podium: ORDER.LIST)
--   order:deadlines  zset, order id by expires_ms (what an expiry sweep would pop)
--
-- In Podium's order, and with its replies:
--   0. an order id already used: the same request answers the stored reply (status PENDING, as
--      Podium's "original placement reply"), nothing taken; other contents: ERR;
--   1. checks: hold_ms 1..24h, 1..32 items, quantities 1..10^6, items distinct, each product in
--      the catalog (NOTFOUND product <id>), total <= 10^12, the coupon exists (NOTFOUND coupon
--      <id>), is the user's and AVAILABLE, points 0..10^12, within the balance and within
--      total - discount; any failure is an error and nothing has changed;
--   2. every item's stock is checked before anything is taken (the script is atomic, so check
--      then take equals Podium's compare-and-swap with roll-back): SOLDOUT <product> <available>;
--   3. the writes: each stock DECRBY qty, each product's held units HINCRBY qty, the points
--      DECRBY, the coupon HELD by this order, the order hash (PENDING, expiry now + hold_ms),
--      the id pushed on the user's list and added to the deadline zset.
-- Reply: order, <id>, status, PENDING, total, t, discount, d, points, p, pay, y, expires_ms, e.
local order_key = KEYS[1]
local order_id = string.sub(order_key, 7)                       -- after 'order:'
local points_key, user_orders_key, deadlines_key, held_key = KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local user = ARGV[1]
local hold_ms = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local amount_max = 1000000000000

local function int(x) return string.format('%d', x) end

if n == nil or n < 1 or n > 32 then
  return redis.error_reply('ERR an order has 1 to 32 items')
end
if #ARGV ~= 4 + 2 * n or (#KEYS ~= 5 + 2 * n and #KEYS ~= 6 + 2 * n) then
  return redis.error_reply('ERR wrong number of keys or arguments for ' .. n .. ' items')
end
local coupon_key = KEYS[6 + 2 * n]                             -- nil: no coupon
local coupon_id = coupon_key and string.sub(coupon_key, 8) or '' -- after 'coupon:'
local points = tonumber(ARGV[4 + 2 * n])

-- The request, as idempotency compares it: user, hold, items, coupon, points.
local request = {user, ARGV[2]}
for i = 1, n do request[#request + 1] = ARGV[2 + 2 * i] .. ':' .. ARGV[3 + 2 * i] end
request[#request + 1] = coupon_id
request[#request + 1] = ARGV[4 + 2 * n]
request = table.concat(request, '|')

-- 0. Idempotency.
local stored = redis.call('HMGET', order_key, 'request', 'total', 'discount', 'points', 'pay',
                          'expires_ms')
if stored[1] then
  if stored[1] ~= request then
    return redis.error_reply('ERR order ' .. order_id .. ' exists with other contents')
  end
  return {'order', order_id, 'status', 'PENDING', 'total', tonumber(stored[2]),
          'discount', tonumber(stored[3]), 'points', tonumber(stored[4]),
          'pay', tonumber(stored[5]), 'expires_ms', tonumber(stored[6])}
end

-- 1. Checks.
if hold_ms == nil or hold_ms < 1 or hold_ms > 86400000 then
  return redis.error_reply('ERR hold_ms ' .. tostring(ARGV[2]) .. ' out of range [1, 86400000]')
end
local seen, quantities, prices, items = {}, {}, {}, {}
local total = 0
for i = 1, n do
  local product, qty = ARGV[2 + 2 * i], tonumber(ARGV[3 + 2 * i])
  if qty == nil or qty < 1 or qty > 1000000 then
    return redis.error_reply('ERR quantity ' .. tostring(ARGV[3 + 2 * i]) .. ' of product ' ..
                             product .. ' out of range [1, 1000000]')
  end
  if seen[product] then
    return redis.error_reply('ERR product ' .. product .. ' appears twice in the order')
  end
  seen[product] = true
  local price = tonumber(redis.call('HGET', KEYS[5 + n + i], 'price'))
  if price == nil then return redis.error_reply('NOTFOUND product ' .. product) end
  total = total + qty * price
  if total > amount_max then
    return redis.error_reply('LIMIT order total passes ' .. int(amount_max))
  end
  quantities[i], prices[i] = qty, price
  items[i] = product .. ':' .. ARGV[3 + 2 * i] .. ':' .. int(price)
end
local discount = 0
if coupon_key then
  local coupon = redis.call('HMGET', coupon_key, 'user', 'kind', 'value', 'state')
  if not coupon[1] then return redis.error_reply('NOTFOUND coupon ' .. coupon_id) end
  if coupon[1] ~= user then
    return redis.error_reply('ERR coupon ' .. coupon_id .. ' belongs to another user')
  end
  if coupon[4] ~= 'AVAILABLE' then
    return redis.error_reply('ERR coupon ' .. coupon_id .. ' is ' .. coupon[4])
  end
  local value = tonumber(coupon[3])
  if coupon[2] == 'FIXED' then
    discount = math.min(value, total)
  else
    discount = math.floor(total * value / 100)
  end
end
if points == nil or points < 0 or points > amount_max then
  return redis.error_reply('ERR points ' .. tostring(ARGV[4 + 2 * n]) ..
                           ' out of range [0, 1000000000000]')
end
local balance = tonumber(redis.call('GET', points_key)) or 0
if points > balance then
  return redis.error_reply('ERR not enough points: balance ' .. int(balance) .. ', asked ' ..
                           int(points))
end
if points > total - discount then
  return redis.error_reply('ERR points ' .. int(points) .. ' exceed the amount due ' ..
                           int(total - discount))
end

-- 2. Stock: all items or none.
for i = 1, n do
  local available = tonumber(redis.call('GET', KEYS[5 + i]))
  if available == nil or available < quantities[i] then
    return redis.error_reply('SOLDOUT ' .. ARGV[2 + 2 * i] .. ' ' .. int(available or 0))
  end
end

-- 3. Writes.
local now = redis.call('TIME')
local created_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local expires_ms = created_ms + hold_ms
for i = 1, n do
  redis.call('DECRBY', KEYS[5 + i], ARGV[3 + 2 * i])
  redis.call('HINCRBY', held_key, ARGV[2 + 2 * i], ARGV[3 + 2 * i])
end
if points > 0 then redis.call('DECRBY', points_key, ARGV[4 + 2 * n]) end
if coupon_key then redis.call('HSET', coupon_key, 'state', 'HELD', 'order', order_id) end
local pay = total - discount - points
redis.call('HSET', order_key, 'user', user, 'status', 'PENDING', 'total', int(total),
           'discount', int(discount), 'points', int(points), 'pay', int(pay),
           'coupon', coupon_id, 'created_ms', int(created_ms), 'expires_ms', int(expires_ms),
           'items', table.concat(items, ','), 'request', request)
redis.call('RPUSH', user_orders_key, order_id)
redis.call('ZADD', deadlines_key, expires_ms, order_id)
return {'order', order_id, 'status', 'PENDING', 'total', total, 'discount', discount,
        'points', points, 'pay', pay, 'expires_ms', expires_ms}
