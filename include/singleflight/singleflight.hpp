// SPDX-License-Identifier: BSL-1.0
// Umbrella header of the singleflight library.
#ifndef SINGLEFLIGHT_SINGLEFLIGHT_HPP
#define SINGLEFLIGHT_SINGLEFLIGHT_HPP

#include <singleflight/async_group.hpp>
#include <singleflight/cache.hpp>
#include <singleflight/cache_options.hpp>
#include <singleflight/cache_stats.hpp>
#include <singleflight/coarse_clock.hpp>
#include <singleflight/error.hpp>
#include <singleflight/hash.hpp>
#include <singleflight/options.hpp>
#include <singleflight/shared.hpp>
#include <singleflight/stats.hpp>

#endif
