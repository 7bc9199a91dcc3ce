# Finds Boost (header-only parts: Asio, System, Unordered, ContainerHash) and
# fmt. Shared by the build and by the installed package config, so that a
# consumer finds the same dependencies, whether Conan generated their config
# files or they come from the system.
include(CMakeFindDependencyMacro)
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_dependency(Threads)
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
