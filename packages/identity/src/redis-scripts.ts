// Lua scripts of the Redis store. Each touches the keys of ONE hash slot (one `{tag}`), so
// they run unchanged on Redis Cluster. Layout and rules: docs/adr/0002-redis-key-layout.md.
// `cmp` mirrors compareResourceVersions in resource-version.ts.

const CMP = `
local function cmp(a, b)
  if type(a) ~= 'string' or type(b) ~= 'string' then return nil end
  if not string.match(a, '^%d+$') or not string.match(b, '^%d+$') then return nil end
  a = (string.gsub(a, '^0+(%d)', '%1'))
  b = (string.gsub(b, '^0+(%d)', '%1'))
  if #a ~= #b then if #a < #b then return -1 else return 1 end end
  if a == b then return 0 end
  if a < b then return -1 else return 1 end
end
local function version(text)
  local ok, e = pcall(cjson.decode, text)
  if ok and type(e) == 'table' then return e.v, e end
  return nil, nil
end
`;

/**
 * The pod-level gate. KEYS: pods:{cluster}, ips:{cluster}. ARGV: uid, rv, comma-joined IPs,
 * gone ('1' = release tombstone). Refuses (nil) an older rv, or an equal rv over a
 * tombstone; otherwise stores `{v, g, i}`, indexes the IPs, and returns the previous
 * entry ('' if none) so the caller can release the IPs the pod no longer has.
 */
export const SET_POD = `${CMP}
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local v, e = version(cur)
  local c = cmp(ARGV[2], v)
  if c ~= nil and (c < 0 or (c == 0 and e ~= nil and e.g == 1)) then return false end
end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode({v = ARGV[2], g = tonumber(ARGV[4]), i = ARGV[3]}))
for ip in string.gmatch(ARGV[3], '[^,]+') do redis.call('SADD', KEYS[2], ip) end
return cur or ''
`;

/** KEYS: ip:{ip}. ARGV: field, rv, claim JSON. Writes unless the stored claim is newer. */
export const SET_CLAIM = `${CMP}
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local c = cmp(ARGV[2], (version(cur)))
  if c ~= nil and c < 0 then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
`;

/** KEYS: ip:{ip}. ARGV: field, rv. Deletes this pod's claim unless it is newer than rv. */
export const DELETE_CLAIM = `${CMP}
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return 0 end
local c = cmp(ARGV[2], (version(cur)))
if c ~= nil and c < 0 then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
`;

/** KEYS: pods:{cluster}. ARGV: uid, bound rv. Drops the entry (live or tombstone) unless newer. */
export const DROP_POD = `${CMP}
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return 0 end
local c = cmp(ARGV[2], (version(cur)))
if c ~= nil and c < 0 then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
`;
