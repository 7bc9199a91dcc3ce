// SPDX-License-Identifier: BSL-1.0
// error_code_of reads the error code out of the exception that a caller of
// the group completes with, whichever system_error carries it.
#define BOOST_TEST_MODULE error_code_of
#include <singleflight/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>
#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <exception>
#include <future>
#include <stdexcept>
#include <system_error>

namespace asio = boost::asio;
using singleflight::error_code_of;

BOOST_AUTO_TEST_CASE(a_null_pointer_has_no_code) { BOOST_TEST(!error_code_of(std::exception_ptr())); }

BOOST_AUTO_TEST_CASE(a_boost_system_error_gives_its_code) {
  const auto aborted = std::make_exception_ptr(boost::system::system_error(asio::error::operation_aborted));
  BOOST_TEST(error_code_of(aborted) == asio::error::operation_aborted);

  const auto rejected = std::make_exception_ptr(boost::system::system_error(singleflight::errc::too_many_flights));
  const boost::system::error_code code = error_code_of(rejected);
  BOOST_TEST(code == singleflight::errc::too_many_flights);
  BOOST_TEST(&code.category() == &singleflight::error_category());
}

BOOST_AUTO_TEST_CASE(a_std_system_error_gives_its_code) {
  const auto e = std::make_exception_ptr(std::system_error(std::make_error_code(std::errc::timed_out)));
  const boost::system::error_code code = error_code_of(e);
  BOOST_TEST((std::error_code(code) == std::make_error_code(std::errc::timed_out)));
  BOOST_TEST(code.value() == static_cast<int>(std::errc::timed_out));
  BOOST_TEST(code == boost::system::errc::timed_out);

  const auto io = std::make_exception_ptr(std::system_error(EIO, std::system_category()));
  BOOST_TEST(error_code_of(io).value() == EIO);
  BOOST_TEST(&error_code_of(io).category() == &boost::system::system_category());
}

BOOST_AUTO_TEST_CASE(a_std_system_error_of_another_category_keeps_it) {
  const auto e = std::make_exception_ptr(std::system_error(std::make_error_code(std::future_errc::broken_promise)));
  BOOST_TEST((std::error_code(error_code_of(e)) == std::make_error_code(std::future_errc::broken_promise)));
}

BOOST_AUTO_TEST_CASE(an_exception_without_a_code_has_none) {
  BOOST_TEST(!error_code_of(std::make_exception_ptr(std::runtime_error("loader failed"))));
  BOOST_TEST(!error_code_of(std::make_exception_ptr(42)));
}
