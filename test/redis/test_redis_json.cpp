// SPDX-License-Identifier: BSL-1.0
// <singleflight/json_codec.hpp>: a struct with Boost.JSON conversions crosses
// processes through the Redis tier with no codec of its own.
#define BOOST_TEST_MODULE redis_json
#include <singleflight/json_codec.hpp>

#include "redis_server.hpp"

#include <singleflight/cache.hpp>
#include <singleflight/redis.hpp>

#include "support/fixture.hpp"

// Boost.JSON in header-only mode (one TU), so the test needs no libboost_json.
#include <boost/json/src.hpp>

#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace json = boost::json;
namespace redis = singleflight::redis;
using namespace std::chrono_literals;

namespace shop {

// A value type of a user's, converted by tag_invoke overloads found by ADL.
struct item {
  std::string name;
  int stock = 0;
  std::vector<std::string> tags;
  bool operator==(const item&) const = default;
};

void tag_invoke(json::value_from_tag, json::value& jv, const item& i) {
  jv = {{"name", i.name}, {"stock", i.stock}, {"tags", json::value_from(i.tags)}};
}

item tag_invoke(json::value_to_tag<item>, const json::value& jv) {
  const json::object& o = jv.as_object();
  return {json::value_to<std::string>(o.at("name")), json::value_to<int>(o.at("stock")),
          json::value_to<std::vector<std::string>>(o.at("tags"))};
}

std::ostream& operator<<(std::ostream& os, const item& i) { return os << i.name << "/" << i.stock; }

}  // namespace shop

using item_cache = singleflight::Cache<std::string, shop::item>;

static_assert(singleflight::has_codec<shop::item>);
static_assert(singleflight::has_codec<std::vector<int>>);

namespace {

struct item_loader {
  std::atomic<int>* loads;
  shop::item value;
  asio::awaitable<shop::item> operator()() const { return run(loads, value); }
  static asio::awaitable<shop::item> run(std::atomic<int>* loads, shop::item value) {
    ++*loads;
    asio::steady_timer t(co_await asio::this_coro::executor, 100ms);
    co_await t.async_wait(asio::use_awaitable);
    co_return value;
  }
};

struct fleet : sftest::io_fixture {
  sftest::redis_server server;
  redis::config cfg() const {
    redis::config c;
    c.port = server.port();
    c.lease = 5s;
    c.prefix = "j:";
    return c;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(redis_json, fleet)

BOOST_AUTO_TEST_CASE(struct_with_json_conversions_crosses_two_tiers) {
  auto ta = redis::tier::make(ioc.get_executor(), cfg());
  singleflight::CacheOptions oa, ob;
  oa.remote = ta;
  ob.remote = redis::tier::make(ioc.get_executor(), cfg());
  item_cache a(ioc.get_executor(), oa), b(ioc.get_executor(), ob);
  std::atomic<int> loads{0};
  const shop::item lamp{"lamp \"deluxe\"", 3, {"home", "light"}};
  auto ra = sftest::spawn(ioc.get_executor(), a.get("lamp", item_loader{&loads, lamp}));
  BOOST_REQUIRE(run_until([&] { return ta->stats().leads == 1; }));  // A loads, B follows
  auto rb = sftest::spawn(ioc.get_executor(), b.get("lamp", item_loader{&loads, shop::item{"wrong", 0, {}}}));
  BOOST_REQUIRE(run_until([&] { return ra->done.load() && rb->done.load(); }));
  BOOST_REQUIRE(!ra->error);
  BOOST_REQUIRE(!rb->error);
  BOOST_TEST(loads.load() == 1);
  BOOST_TEST(*ra->value == lamp);
  BOOST_TEST(*rb->value == lamp);
  // In Redis as JSON (after the tier's kind byte 'v').
  const std::string stored = server.admin({"GET", "j:{lamp}"});
  BOOST_REQUIRE(stored.size() > 1);
  BOOST_TEST(stored[0] == 'v');
  BOOST_TEST(json::parse(stored.substr(1)) == json::parse(R"({"name":"lamp \"deluxe\"","stock":3,"tags":["home","light"]})"));
}

// std::string keeps its own codec: its bytes as they are, not a JSON string.
BOOST_AUTO_TEST_CASE(strings_keep_their_own_codec) {
  BOOST_TEST(singleflight::codec<std::string>::encode("a\"b") == "a\"b");
  BOOST_TEST(singleflight::codec<std::vector<std::string>>::encode({"a"}) == R"(["a"])");
}

BOOST_AUTO_TEST_CASE(decode_rejects_what_is_not_the_type) {
  using codec = singleflight::codec<shop::item>;
  BOOST_TEST(codec::decode(codec::encode({"a", 1, {"x"}})) == (shop::item{"a", 1, {"x"}}));
  BOOST_CHECK_THROW(codec::decode("not json"), boost::system::system_error);
  BOOST_CHECK_THROW(codec::decode(R"({"name":"a"})"), std::exception);  // no "stock"
}

BOOST_AUTO_TEST_SUITE_END()
