#define BOOST_TEST_MODULE test_cancellation
#include <boost/test/unit_test.hpp>
BOOST_AUTO_TEST_CASE(placeholder_to_be_written) { BOOST_TEST(false); }
