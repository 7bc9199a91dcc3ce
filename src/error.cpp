// SPDX-License-Identifier: BSL-1.0
#include <singleflight/error.hpp>

#include <boost/system/system_error.hpp>

#include <string>
#include <system_error>

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

// The standard generic and system categories have Boost counterparts, which
// keep value() and compare equal to boost::system::errc; a code of any
// other category is wrapped as Boost.System does (value() is then not the
// original's, but comparisons and the conversion back to std::error_code are).
boost::system::error_code from_std(const std::error_code& code) noexcept {
  if (code.category() == std::generic_category()) return {code.value(), boost::system::generic_category()};
  if (code.category() == std::system_category()) return {code.value(), boost::system::system_category()};
  return code;
}
}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const category instance;
  return instance;
}

boost::system::error_code error_code_of(const std::exception_ptr& e) noexcept {
  if (!e) return {};
  try {
    std::rethrow_exception(e);
  } catch (const boost::system::system_error& err) {
    return err.code();
  } catch (const std::system_error& err) {
    return from_std(err.code());
  } catch (...) {
  }
  return {};
}

}  // namespace singleflight
