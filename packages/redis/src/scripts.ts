import { lua } from './connection.js'

/**
 * The Lua scripts of the revocation store: each runs atomically in Redis, so a write and its
 * announcement, and a load of both lists with their version, are never seen half done.
 * Needs Redis >= 6.2 (`ZADD GT`, `ZRANGE BYSCORE`).
 */

/**
 * @internal Records one revocation, never shortening an earlier one of the same token or subject,
 * drops expired entries, bounds the keys' lifetime, bumps the version and announces it.
 *
 * KEYS: the sorted set (tokens or subjects), the version counter.
 * ARGV: hash, score (expiry or `before`, ms), prune below (ms), TTL (ms), channel, kind (`j`/`s`).
 */
export const WRITE = lua(`
local set, version = KEYS[1], KEYS[2]
local member, score, prune, ttl = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
redis.call('ZADD', set, 'GT', score, member)
redis.call('ZREMRANGEBYSCORE', set, '-inf', '(' .. prune)
local kept = redis.call('ZSCORE', set, member)
if redis.call('PTTL', set) < ttl then redis.call('PEXPIRE', set, ttl) end
local v = redis.call('INCR', version)
if redis.call('PTTL', version) < ttl then redis.call('PEXPIRE', version, ttl) end
redis.call('PUBLISH', ARGV[5], ARGV[6] .. '|' .. v .. '|' .. member .. '|' .. kept)
return v
`)

/**
 * @internal Reads the version and every live revocation, as one snapshot.
 *
 * KEYS: tokens, subjects, version. ARGV: now (ms), the oldest live subject `before` (ms).
 * Returns `[version or nil, [hash, expiresAt, …], [hash, before, …]]`.
 */
export const LOAD = lua(`
return {
  redis.call('GET', KEYS[3]),
  redis.call('ZRANGE', KEYS[1], '(' .. ARGV[1], '+inf', 'BYSCORE', 'WITHSCORES'),
  redis.call('ZRANGE', KEYS[2], '(' .. ARGV[2], '+inf', 'BYSCORE', 'WITHSCORES')
}
`)

/**
 * @internal Claims an issuer's unknown-kid refetch for the fleet: sets the claim if nobody holds
 * it, and then forgets what the previous winner published, atomically.
 *
 * KEYS: the claim, the published kids. ARGV: TTL (ms). Returns 1 when this call won, else 0.
 */
export const CLAIM_REFETCH = lua(`
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  redis.call('DEL', KEYS[2])
  return 1
end
return 0
`)

/**
 * @internal Claims a replay id once, unless it was issued before this Redis's memory begins.
 * The epoch key (no TTL) is set when a store connects, so a Redis that lost its data (restarted
 * without persistence) has a new, later epoch: ids issued before it may have been claimed in the
 * lost data, and are refused rather than accepted a second time. Compared in whole seconds, the
 * resolution of a proof's `iat`: an id issued in the epoch's own second is accepted.
 *
 * KEYS: the id's key, the epoch key. ARGV: TTL (ms), issued at (ms, or empty), now (ms).
 * Returns 1 (claimed now), 0 (claimed before) or -1 (issued before the epoch).
 */
export const CLAIM_ONCE = lua(`
local epoch = tonumber(redis.call('GET', KEYS[2]))
if not epoch then
  redis.call('SET', KEYS[2], ARGV[3])
  epoch = tonumber(ARGV[3])
end
if ARGV[2] ~= '' and math.floor(tonumber(ARGV[2]) / 1000) < math.floor(epoch / 1000) then
  return -1
end
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 1 end
return 0
`)
