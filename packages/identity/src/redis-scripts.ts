// Lua scripts of the Redis store. Every key of a cluster carries the cluster's hash tag
// (`{<cluster>}`, redis-keys.ts), so each script below touches ONE hash slot: it runs
// unchanged on Redis Cluster, and each write is one atomic step. That is the point of the
// layout (docs/adr/0002-redis-key-layout.md): a pod entry and the IP index that finds it are
// written together, under the writer-epoch check, so no interleaving of two writers (an old
// leader's write in flight across a handover, ADR 0003) can leave an IP naming a pod that the
// pod entry no longer lists. Lookups verify it anyway (LOOKUP), so a claim without its entry
// is never an identity. `cmp` mirrors compareResourceVersions in resource-version.ts.
import { EPOCH_FIELD, SYNC_FIELD } from './store.js';

/** The error a script replies with when the writer's epoch is below the cluster's. */
export const FENCED_REPLY = 'PODGATE_FENCED';

/** The error a script replies with when the cluster's sync marker (SYNC_FIELD) is gone. */
export const DATA_LOST_REPLY = 'PODGATE_DATA_LOST';

/** Shared rules: KEYS are always pods:{c} (the entries) and claims:{c} (IP -> uids). */
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
-- writing script checks it first, so a deposed writer's write is refused atomically with it.
-- A writer's epoch above the stored one means the stored one was lost (Redis restarted
-- empty, or failed over to a replica that lagged): it is written back, so the fence holds
-- again from this write on (a writer only has an epoch once its fence was accepted).
local function check_epoch(pods, epoch)
  local stored = tonumber(redis.call('HGET', pods, '${EPOCH_FIELD}') or '0') or 0
  local mine = tonumber(epoch) or 0
  if mine < stored then
    return redis.error_reply('${FENCED_REPLY} ' .. string.format('%d', stored))
  end
  if mine > stored then redis.call('HSET', pods, '${EPOCH_FIELD}', string.format('%d', mine)) end
  return nil
end
-- rv, tombstone?, comma-joined IPs of a stored entry. The encoder (claim.ts) writes v, g, i
-- first, so the pattern reads them without decoding the annotations; anything else is decoded.
local function meta(text)
  if type(text) ~= 'string' then return nil, false, '' end
  local v, g, i = string.match(text, '^{"v":"([^"\\\\]*)","g":(%d),"i":"([^"\\\\]*)"')
  if v then return v, g == '1', i end
  local ok, e = pcall(cjson.decode, text)
  if ok and type(e) == 'table' then
    return e.v, e.g == 1, (type(e.i) == 'string' and e.i or '')
  end
  return nil, false, ''
end
local function has_ip(list, ip)
  return string.find(',' .. list .. ',', ',' .. ip .. ',', 1, true) ~= nil
end
-- The uids indexed under one IP (a JSON array; anything else, an object included, = none,
-- and is replaced by the next write of that IP).
local function uids_at(claims, ip)
  local cur = redis.call('HGET', claims, ip)
  if not cur or string.sub(cur, 1, 1) ~= '[' then return {} end
  local ok, d = pcall(cjson.decode, cur)
  if ok and type(d) == 'table' then return d end
  return {}
end
local function store_uids(claims, ip, uids)
  if #uids == 0 then redis.call('HDEL', claims, ip) else redis.call('HSET', claims, ip, cjson.encode(uids)) end
end
local function index_add(claims, ip, uid)
  local uids = uids_at(claims, ip)
  for _, u in ipairs(uids) do if u == uid then return end end
  uids[#uids + 1] = uid
  store_uids(claims, ip, uids)
end
-- Returns how many memberships were removed (0 or 1).
local function index_remove(claims, ip, uid)
  local uids = uids_at(claims, ip)
  local keep = {}
  for _, u in ipairs(uids) do if u ~= uid then keep[#keep + 1] = u end end
  if #keep == #uids then return 0 end
  store_uids(claims, ip, keep)
  return #uids - #keep
end
-- The pod-level gate and the IP index in one step. Refuses (false) an older rv, or an equal
-- one over a tombstone. Otherwise stores \`json\` (whose v, g, i are rv, gone, list) and moves
-- the pod's index memberships from the IPs its previous live entry listed to \`list\`.
local function set_pod(pods, claims, uid, rv, list, gone, json)
  local cur = redis.call('HGET', pods, uid)
  local old = ''
  if cur then
    local v, g, i = meta(cur)
    local c = cmp(rv, v)
    if c ~= nil and (c < 0 or (c == 0 and g)) then return false end
    if not g then old = i end
  end
  redis.call('HSET', pods, uid, json)
  for ip in string.gmatch(old, '[^,]+') do
    if gone == '1' or not has_ip(list, ip) then index_remove(claims, ip, uid) end
  end
  if gone ~= '1' then
    for ip in string.gmatch(list, '[^,]+') do index_add(claims, ip, uid) end
  end
  return true
end
-- Drops an entry (live or tombstone) unless it is newer than \`bound\`, with its index
-- memberships. Returns dropped (0/1) and the memberships removed.
local function drop_pod(pods, claims, uid, bound)
  local cur = redis.call('HGET', pods, uid)
  if not cur then return 0, 0 end
  local v, g, i = meta(cur)
  local c = cmp(bound, v)
  if c ~= nil and c < 0 then return 0, 0 end
  redis.call('HDEL', pods, uid)
  local removed = 0
  if not g then
    for ip in string.gmatch(i, '[^,]+') do removed = removed + index_remove(claims, ip, uid) end
  end
  return 1, removed
end
`;

/**
 * One pod write (claim or release). KEYS: pods:{c}, claims:{c}. ARGV: writer epoch, uid, rv,
 * comma-joined IPs, gone ('1' = release tombstone), the entry JSON. Replies FENCED_REPLY when
 * the epoch is below the cluster's; 1 when written, 0 when refused as older.
 */
export const WRITE_POD = `${RULES}
local fenced = check_epoch(KEYS[1], ARGV[1])
if fenced then return fenced end
if set_pod(KEYS[1], KEYS[2], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]) then return 1 end
return 0
`;

/**
 * A batch of claims (reconcile). KEYS: pods:{c}, claims:{c}. ARGV: writer epoch, then per pod:
 * uid, rv, comma-joined IPs, entry JSON. The whole batch is refused when fenced (checked once:
 * the script is atomic). Returns how many were written.
 */
export const WRITE_PODS = `${RULES}
local fenced = check_epoch(KEYS[1], ARGV[1])
if fenced then return fenced end
local written = 0
for a = 2, #ARGV, 4 do
  if set_pod(KEYS[1], KEYS[2], ARGV[a], ARGV[a + 1], ARGV[a + 2], '0', ARGV[a + 3]) then
    written = written + 1
  end
end
return written
`;

/**
 * Drops entries the listing did not contain (reconcile). KEYS: pods:{c}, claims:{c}. ARGV:
 * writer epoch, bound rv, then uids. Each entry goes unless newer than the bound, with its
 * index memberships. Returns {dropped, memberships removed}.
 */
export const DROP_PODS = `${RULES}
local fenced = check_epoch(KEYS[1], ARGV[1])
if fenced then return fenced end
local dropped, removed = 0, 0
for a = 3, #ARGV do
  local d, r = drop_pod(KEYS[1], KEYS[2], ARGV[a], ARGV[2])
  dropped = dropped + d
  removed = removed + r
end
return {dropped, removed}
`;

/**
 * One page of the IP index (reconcile's consistency sweep). KEYS: pods:{c}, claims:{c}. ARGV:
 * writer epoch, HSCAN cursor, COUNT. Removes every membership whose entry is gone, a tombstone,
 * or does not list the IP (the writes above never leave one; data from elsewhere might).
 * Returns {next cursor, memberships removed}.
 */
export const SWEEP_INDEX = `${RULES}
local fenced = check_epoch(KEYS[1], ARGV[1])
if fenced then return fenced end
local page = redis.call('HSCAN', KEYS[2], ARGV[2], 'COUNT', ARGV[3])
local items = page[2]
local removed = 0
for n = 1, #items, 2 do
  local ip = items[n]
  local ok, uids = pcall(cjson.decode, items[n + 1])
  if not ok or type(uids) ~= 'table' or string.sub(items[n + 1], 1, 1) ~= '[' then uids = {false} end
  local keep = {}
  for _, uid in ipairs(uids) do
    local entry = type(uid) == 'string' and redis.call('HGET', KEYS[1], uid)
    local _, g, i = meta(entry)
    if entry and not g and has_ip(i, ip) then keep[#keep + 1] = uid end
  end
  if #keep ~= #uids then
    removed = removed + #uids - #keep
    store_uids(KEYS[2], ip, keep)
  end
end
return {page[1], removed}
`;

/**
 * The lookup. KEYS: claims:{c}, pods:{c}. ARGV: IP. Returns `[uid, entry JSON, ...]` for the
 * pods indexed under the IP whose entry is live and lists it: the entry is the truth, so an
 * index membership without it (which no write leaves) is never an identity. Read-only, and
 * on every connection's hot path: it defines no functions (each would be a closure made per
 * call) and reads v, g, i by pattern, as `meta` does (RULES), decoding only what the pattern
 * does not match.
 */
export const LOOKUP = `
local ip = ARGV[1]
local cur = redis.call('HGET', KEYS[1], ip)
if not cur then return {} end
local uids
local one = string.match(cur, '^%["([^"\\\\]*)"%]$')
if one then uids = {one} else
  -- Only a JSON array is an index value (an object decodes to a table too).
  local ok, d = pcall(cjson.decode, cur)
  if not ok or type(d) ~= 'table' or string.sub(cur, 1, 1) ~= '[' then
    return redis.error_reply('PODGATE_UNREADABLE index entry')
  end
  uids = d
end
local out = {}
for _, u in ipairs(uids) do
  local entry = type(u) == 'string' and redis.call('HGET', KEYS[2], u)
  if entry then
    local g, i = string.match(entry, '^{"v":"[^"\\\\]*","g":(%d),"i":"([^"\\\\]*)"')
    if not g then
      local ok, e = pcall(cjson.decode, entry)
      if ok and type(e) == 'table' then g = tostring(e.g); i = type(e.i) == 'string' and e.i or '' end
    end
    if g == '0' and string.find(',' .. i .. ',', ',' .. ip .. ',', 1, true) then
      out[#out + 1] = u
      out[#out + 1] = entry
    end
  end
end
return out
`;

/**
 * KEYS: hb:{cluster}, pods:{cluster} (one hash tag). ARGV: value, TTL ms, writer epoch,
 * '1' when the writer has completed a reconcile of the cluster (then it vouches for data
 * that must still be there). The heartbeat, refused (FENCED_REPLY) like any write when the
 * epoch is below the cluster's, and refused (DATA_LOST_REPLY, hb:{c} left alone) when it
 * vouches for data whose sync marker is gone: a Redis that restarted empty between two
 * heartbeats must not be marked fresh before the watcher has rewritten its claims.
 */
export const HEARTBEAT = `${RULES}
local fenced = check_epoch(KEYS[2], ARGV[3])
if fenced then return fenced end
if ARGV[4] == '1' and redis.call('HEXISTS', KEYS[2], '${SYNC_FIELD}') == 0 then
  return redis.error_reply('${DATA_LOST_REPLY} sync marker missing')
end
return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
`;

/**
 * A reconcile's first and last step. KEYS: pods:{cluster}. ARGV: writer epoch, 'begin' or
 * 'end', the reconcile's bound. Fenced like any write. 'begin' sets the sync marker; 'end'
 * requires it (DATA_LOST_REPLY when the data was lost meanwhile: the writes before the loss
 * are gone, so the reconcile must run again) and sets it again. Returns 1.
 */
export const SYNC_MARK = `${RULES}
local fenced = check_epoch(KEYS[1], ARGV[1])
if fenced then return fenced end
if ARGV[2] == 'end' and redis.call('HEXISTS', KEYS[1], '${SYNC_FIELD}') == 0 then
  return redis.error_reply('${DATA_LOST_REPLY} sync marker missing')
end
redis.call('HSET', KEYS[1], '${SYNC_FIELD}', ARGV[3])
return 1
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
