// SPDX-License-Identifier: BSL-1.0
// The lease protocol's Lua scripts. Keys: 1 value `<p>{k}`, 2 lease
// `<p>l:{k}`, 3 channel `<p>d:{k}` (one hash slot). Stored values and
// messages start with a kind byte: 'v' value, 'e' a loader's error; the
// message 'g' means "look again" (the leader gave up without a result).
#ifndef SINGLEFLIGHT_SRC_REDIS_SCRIPTS_HPP
#define SINGLEFLIGHT_SRC_REDIS_SCRIPTS_HPP

namespace singleflight::redis::detail {

enum class script { acquire, renew, commit, fail, count };

// ARGV: token, lease ms. → {1, value, value pttl} | {2} (leader) | {3, holder, lease pttl}
// SET NX GET answers with the holder: our own token means a retried
// acquire that had in fact succeeded.
inline constexpr const char* acquire_lua = R"(
local v = redis.call('GET', KEYS[1])
if v then return {1, v, redis.call('PTTL', KEYS[1])} end
local cur = redis.call('SET', KEYS[2], ARGV[1], 'NX', 'GET', 'PX', ARGV[2])
if (not cur) or cur == ARGV[1] then return {2} end
return {3, cur, redis.call('PTTL', KEYS[2])}
)";

// ARGV: token, lease ms. → 1 renewed | 0 lost
inline constexpr const char* renew_lua = R"(
if redis.call('GET', KEYS[2]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return 0
)";

// ARGV: token, 'v'..value, ttl ms, inline limit. → 1 stored | 0 lease lost
inline constexpr const char* commit_lua = R"(
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('DEL', KEYS[2])
if #ARGV[2] <= tonumber(ARGV[4]) then redis.call('PUBLISH', KEYS[3], ARGV[2])
else redis.call('PUBLISH', KEYS[3], 'g') end
return 1
)";

// ARGV: token, 'e'..message or 'g', error ttl ms (0: not kept). → 1 | 0
inline constexpr const char* fail_lua = R"(
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2])
if ARGV[2] ~= 'g' and tonumber(ARGV[3]) > 0 then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
redis.call('PUBLISH', KEYS[3], ARGV[2])
return 1
)";

inline constexpr const char* script_source[] = {acquire_lua, renew_lua, commit_lua, fail_lua};

}  // namespace singleflight::redis::detail

#endif
