// Lua scripts of the Redis store. Each per-key rule is one Lua function (RULES); the
// scripts below call them, so a batch (redis-batch-scripts.ts) runs exactly the rules a
// single write runs. Each script here touches the keys of ONE hash slot (one `{tag}`), so
// they run unchanged on Redis Cluster. Layout and rules: docs/adr/0002-redis-key-layout.md.
// `cmp` mirrors compareResourceVersions in resource-version.ts.
import { EPOCH_FIELD } from './store.js';

/** The error a script replies with when the writer's epoch is below the cluster's. */
export const FENCED_REPLY = 'PODGATE_FENCED';

export const RULES = `
local function cmp(a, b)
  if type(a) ~= 'string' or type(b) ~= 'string' then return nil end
  if not string.match(a, '^%d+$') or not string.match(b, '^%d+$') then return nil end
  a = (string.gsub(a, '^0+(%d)', '%1'))
  b = (string.gsub(b, '^0+(%d)', '%1'))
  if #a ~= #b then if #a < #b then return -1 else return 1 end end
  if a == b then return 0 end
  if a < b then return -1 else return 1 end
end
-- The writer epoch (ADR 0003) lives in the pod index under EPOCH_FIELD (store.ts): every
-- script that writes the pod index (or the heartbeat, same hash tag) checks it first, so a
-- deposed writer's write is refused atomically with the write itself.
local function check_epoch(pods, epoch)
  local stored = tonumber(redis.call('HGET', pods, '${EPOCH_FIELD}') or '0') or 0
  if (tonumber(epoch) or 0) < stored then
    return redis.error_reply('PODGATE_FENCED ' .. string.format('%d', stored))
  end
  return nil
end
local function version(text)
  local ok, e = pcall(cjson.decode, text)
  if ok and type(e) == 'table' then return e.v, e end
  return nil, nil
end
-- The pod-level gate: false for an older rv (or an equal one over a tombstone), else the
-- previous entry ('' if none) after storing {v, g, i} and indexing the IPs.
local function set_pod(pods, ips, uid, rv, list, gone)
  local cur = redis.call('HGET', pods, uid)
  if cur then
    local v, e = version(cur)
    local c = cmp(rv, v)
    if c ~= nil and (c < 0 or (c == 0 and e ~= nil and e.g == 1)) then return false end
  end
  redis.call('HSET', pods, uid, cjson.encode({v = rv, g = tonumber(gone), i = list}))
  for ip in string.gmatch(list, '[^,]+') do redis.call('SADD', ips, ip) end
  return cur or ''
end
-- Writes the claim unless the stored one is newer.
local function set_claim(key, field, rv, json)
  local cur = redis.call('HGET', key, field)
  if cur then
    local c = cmp(rv, (version(cur)))
    if c ~= nil and c < 0 then return 0 end
  end
  redis.call('HSET', key, field, json)
  return 1
end
-- Deletes the field (a claim, or a pod entry) unless it is newer than rv.
local function delete_unless_newer(key, field, rv)
  local cur = redis.call('HGET', key, field)
  if not cur then return 0 end
  local c = cmp(rv, (version(cur)))
  if c ~= nil and c < 0 then return 0 end
  redis.call('HDEL', key, field)
  return 1
end
`;

/**
 * The pod-level gate. KEYS: pods:{cluster}, ips:{cluster}. ARGV: uid, rv, comma-joined IPs,
 * gone ('1' = release tombstone), writer epoch. Replies FENCED_REPLY when the epoch is below
 * the cluster's. Refuses (nil) an older rv, or an equal rv over a tombstone; otherwise
 * stores `{v, g, i}`, indexes the IPs, and returns the previous entry ('' if none) so the
 * caller can release the IPs the pod no longer has.
 */
export const SET_POD = `${RULES}
local fenced = check_epoch(KEYS[1], ARGV[5])
if fenced then return fenced end
return set_pod(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
`;

/** KEYS: ip:{ip}. ARGV: field, rv, claim JSON. Writes unless the stored claim is newer. */
export const SET_CLAIM = `${RULES}
return set_claim(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
`;

/** KEYS: ip:{ip}. ARGV: field, rv. Deletes this pod's claim unless it is newer than rv. */
export const DELETE_CLAIM = `${RULES}
return delete_unless_newer(KEYS[1], ARGV[1], ARGV[2])
`;

/**
 * KEYS: pods:{cluster}. ARGV: uid, bound rv, writer epoch. Drops the entry (live or
 * tombstone) unless newer; FENCED_REPLY when the epoch is below the cluster's.
 */
export const DROP_POD = `${RULES}
local fenced = check_epoch(KEYS[1], ARGV[3])
if fenced then return fenced end
return delete_unless_newer(KEYS[1], ARGV[1], ARGV[2])
`;

/**
 * KEYS: hb:{cluster}, pods:{cluster} (one hash tag). ARGV: value, TTL ms, writer epoch.
 * The heartbeat, refused (FENCED_REPLY) like any write when the epoch is below the cluster's.
 */
export const HEARTBEAT = `${RULES}
local fenced = check_epoch(KEYS[2], ARGV[3])
if fenced then return fenced end
return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
`;

/**
 * KEYS: pods:{cluster}. ARGV: epoch. Raises the cluster's writer epoch to ARGV[1] unless
 * the stored one is higher; returns the stored epoch after (as a string: Lua numbers are
 * doubles, exact for any epoch store.ts accepts).
 */
export const RAISE_EPOCH = `
local stored = tonumber(redis.call('HGET', KEYS[1], '${EPOCH_FIELD}') or '0') or 0
local epoch = tonumber(ARGV[1])
if stored > epoch then return string.format('%d', stored) end
redis.call('HSET', KEYS[1], '${EPOCH_FIELD}', ARGV[1])
return ARGV[1]
`;
