// Reconcile's batches on ONE Redis server: each script touches the keys of many hash slots
// (the pod index and many `ip:{...}` hashes), which Redis Cluster refuses, so the cluster
// path keeps the one-slot scripts of redis-scripts.ts. Each batch calls the same Lua rule
// functions (RULES) as those scripts, in the order a single write would, so the rules
// (version order, tombstones, only this pod's field, the listing's bound) cannot drift.
// Every key a script touches is passed in KEYS.
import { RULES } from './redis-scripts.js';

/**
 * Claims a batch of pods. KEYS: pods:{c}, ips:{c}, then every pod's `ip:{...}` keys in
 * order. ARGV: cluster, writer epoch, then per pod: uid, rv, comma-joined IPs, IP count,
 * claim JSON. The whole batch is refused (FENCED_REPLY) when the epoch is below the
 * cluster's: checked once, the script being atomic.
 * Per pod: SET_POD, then SET_CLAIM on each of its IPs, as `claim` does. The re-read of the
 * pod entry that `claim` does after its IP writes is not needed here: the script is atomic,
 * so no other writer can store a newer entry (and release these IPs) between SET_POD and
 * SET_CLAIM; the entry read back would list exactly these IPs.
 * Returns `[index, previous entry, ...]` for the accepted pods whose previous live entry
 * listed other IPs: the caller releases those (DELETE_CLAIM, outside: their keys are only
 * known now).
 */
export const CLAIM_BATCH = `${RULES}
local fenced = check_epoch(KEYS[1], ARGV[2])
if fenced then return fenced end
local out = {}
local k = 3
local n = 0
for a = 3, #ARGV, 5 do
  local uid, rv, list, count, json = ARGV[a], ARGV[a + 1], ARGV[a + 2], tonumber(ARGV[a + 3]), ARGV[a + 4]
  local cur = set_pod(KEYS[1], KEYS[2], uid, rv, list, '0')
  if cur then
    -- claimField in claim.ts: '<cluster>/<uid>'.
    local field = ARGV[1] .. '/' .. uid
    for j = k, k + count - 1 do set_claim(KEYS[j], field, rv, json) end
    if cur ~= '' then
      local _, e = version(cur)
      if e ~= nil and e.g ~= 1 and e.i ~= list then
        out[#out + 1] = n
        out[#out + 1] = cur
      end
    end
  end
  k = k + count
  n = n + 1
end
return out
`;

/**
 * Sweeps a batch of the IPs in ips:{c}. KEYS: ips:{c}, then each IP's `ip:{...}` key.
 * ARGV: cluster, bound rv, then per IP: the IP, the count of listed pods that list it, their
 * uids. Deletes (DELETE_CLAIM at the bound) every claim of the cluster on the IP by a pod not
 * listed with it, and removes the IP from ips:{c} when no claim of the cluster is left.
 * Returns the number of claims deleted.
 */
export const SWEEP_BATCH = `${RULES}
local owner = ARGV[1] .. '/'
local bound = ARGV[2]
local removed = 0
local a = 3
for k = 2, #KEYS do
  local ip, count = ARGV[a], tonumber(ARGV[a + 1])
  local first, last = a + 2, a + 1 + count
  a = last + 1
  local remaining = 0
  for _, field in ipairs(redis.call('HKEYS', KEYS[k])) do
    if string.sub(field, 1, #owner) == owner then
      local uid = string.sub(field, #owner + 1)
      local listed = false
      for j = first, last do if ARGV[j] == uid then listed = true end end
      if listed then
        remaining = remaining + 1
      elseif delete_unless_newer(KEYS[k], field, bound) == 1 then
        removed = removed + 1
      else
        remaining = remaining + 1
      end
    end
  end
  if remaining == 0 then redis.call('SREM', KEYS[1], ip) end
end
return removed
`;
