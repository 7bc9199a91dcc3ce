// SPDX-License-Identifier: BSL-1.0
// How the Redis tier reaches Redis, and its timings.
#ifndef SINGLEFLIGHT_REDIS_CONFIG_HPP
#define SINGLEFLIGHT_REDIS_CONFIG_HPP

#include <chrono>
#include <cstdint>
#include <string>

namespace singleflight::redis {

struct config {
  /// A numeric address, or a name resolved with Asio (never by hiredis,
  /// whose resolution blocks).
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  /// Sent with AUTH on each connection when not empty.
  std::string password;
  /// SELECTed on the command connection (pub/sub is not per database: the
  /// prefix keeps fleets apart).
  int database = 0;

  std::chrono::milliseconds connect_timeout{1000};
  /// Per command: past it the caller stops waiting (the late reply is
  /// ignored), the breaker opens and the load goes local.
  std::chrono::milliseconds command_timeout{250};

  /// How long a leader's claim lasts without renewal; it is renewed every
  /// third of it while the loader runs, so a dead leader's claim is taken
  /// over after at most this long.
  std::chrono::milliseconds lease{3000};
  /// A follower's re-check period, doubling from min to max (jittered):
  /// the backstop to the leader's published message. A lost subscriber
  /// connection wakes followers at once and a lease's expiry (a dead leader)
  /// ends their wait too, so the poll only covers a message lost otherwise:
  /// each poll costs a round trip per waiting key.
  std::chrono::milliseconds poll_min{50};
  std::chrono::milliseconds poll_max{500};
  /// A follower that has waited this long, or seen this many leaders fail or
  /// vanish, loads locally.
  std::chrono::milliseconds follow_limit{30000};
  int max_handovers = 3;
  /// How long the breaker stays open after a failure before Redis is tried
  /// again.
  std::chrono::milliseconds breaker_backoff{1000};
  /// Values up to this size travel inside the published message (followers
  /// need no GET).
  std::size_t inline_limit = 16 * 1024;

  /// Prefix of every key and channel: value `<p>{key}`, lease `<p>l:{key}`,
  /// channel `<p>d:{key}`. Must not contain '{'.
  std::string prefix = "sf:";
  /// CLIENT SETNAME of both connections (empty: none).
  std::string client_name;

  /// For tests: a pause between a follower's failed claim and its
  /// subscription (the window in which a wake-up could be lost).
  std::chrono::milliseconds test_delay_before_subscribe{0};
};

}  // namespace singleflight::redis

#endif
