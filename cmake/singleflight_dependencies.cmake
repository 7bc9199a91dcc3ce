# SPDX-License-Identifier: BSL-1.0
# Finds what singleflight::singleflight needs: Boost (header-only parts:
# Asio, System, Unordered, ContainerHash) and Threads, which its headers use,
# and fmt, which only src/ uses: the static archive still needs fmt to link.
# Shared by the build, by the installed package config, and by the Conan
# package's build module, so that a consumer finds the same dependencies,
# whether Conan generated their config files or they come from the system.
include(CMakeFindDependencyMacro)
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_dependency(Threads)
# fmt's own fmt-config.cmake (Debian: libfmt-dev) or Conan's.
find_dependency(fmt)
# Boost 1.81's own BoostConfig.cmake (Debian) or Conan's Boost config.
find_dependency(Boost 1.81 CONFIG)
if(TARGET Boost::headers)
  set(SINGLEFLIGHT_BOOST_TARGETS Boost::headers)
elseif(TARGET Boost::boost)
  set(SINGLEFLIGHT_BOOST_TARGETS Boost::boost)
else()
  message(FATAL_ERROR "singleflight: Boost was found but provides neither Boost::headers nor Boost::boost")
endif()
