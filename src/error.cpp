#include <singleflight/error.hpp>

#include <string>

namespace singleflight {

namespace {
class category final : public boost::system::error_category {
 public:
  // A fixed id, so that categories from different copies of the library
  // compare equal (as Boost.System recommends for header-visible categories).
  constexpr category() noexcept : error_category(0x9f3a5c1e0b7d4e21ULL) {}

  const char* name() const noexcept override { return "singleflight"; }

  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::too_many_flights:
        return "too many flights in progress (Options::max_in_flight)";
    }
    return "unknown singleflight error";
  }
};
}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace singleflight
