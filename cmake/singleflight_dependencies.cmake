# Finds Boost (header-only parts: Asio, System, Unordered, ContainerHash) and
# fmt. Shared by the build, by the installed package config, and by the Conan
# package (conanfile.py names it as a CMakeDeps build module), so that a
# consumer finds the same dependencies, whether Conan generated their config
# files or they come from the system.
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

# Conan: CMakeDeps defines singleflight::singleflight as an INTERFACE IMPORTED
# target from the recipe's package_info(), then includes this file. A
# requirement that the profile declares under [platform_requires] (Boost and
# fmt from the system) gets no Conan-generated config and is left out of that
# target, which would then not link fmt nor see Boost's headers: link what
# was found above. (Our own target, in the build tree and in the installed
# singleflightTargets.cmake, is a STATIC library defined after this file runs,
# so this does not apply to it.)
if(TARGET singleflight::singleflight)
  get_target_property(_singleflight_type singleflight::singleflight TYPE)
  get_target_property(_singleflight_imported singleflight::singleflight IMPORTED)
  if(_singleflight_imported AND _singleflight_type STREQUAL "INTERFACE_LIBRARY")
    set_property(TARGET singleflight::singleflight APPEND PROPERTY
                 INTERFACE_LINK_LIBRARIES ${SINGLEFLIGHT_BOOST_TARGETS} fmt::fmt Threads::Threads)
    set_property(TARGET singleflight::singleflight APPEND PROPERTY INTERFACE_COMPILE_FEATURES cxx_std_20)
  endif()
  unset(_singleflight_type)
  unset(_singleflight_imported)
endif()
