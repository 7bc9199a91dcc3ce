// SPDX-License-Identifier: BSL-1.0
// Boost.JSON, header-only: its implementation is compiled once, here (Debian
// ships no libboost_json with libboost1.81-all-dev).
#include <boost/json/src.hpp>
