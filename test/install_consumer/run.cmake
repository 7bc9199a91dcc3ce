# SPDX-License-Identifier: BSL-1.0
# Builds and installs singleflight into a fresh prefix, then configures,
# builds and runs a consumer that finds it with find_package. WITH_REDIS:
# whether the package has its component redis (the Redis tier), which the
# consumer then links too; without it, asking for it must fail clearly.
foreach(var SOURCE_DIR WORK_DIR CXX_COMPILER WITH_REDIS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run.cmake: ${var} is not set")
  endif()
endforeach()
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${cmd}")
  endif()
endfunction()

run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/lib -G Ninja
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=Release
    -DBUILD_TESTING=OFF -DSINGLEFLIGHT_BUILD_EXAMPLES=OFF -DSINGLEFLIGHT_BUILD_BENCH=OFF
    -DCMAKE_INSTALL_PREFIX=${prefix})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/lib)
run(${CMAKE_COMMAND} --install ${WORK_DIR}/lib)
foreach(f include/singleflight/async_group.hpp lib/cmake/singleflight/singleflightConfig.cmake
          lib/cmake/singleflight/singleflightConfigVersion.cmake lib/libsingleflight.a)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()
if(WITH_REDIS)
  foreach(f lib/libsingleflight_redis.a lib/cmake/singleflight/singleflightRedisTargets.cmake
            include/singleflight/redis.hpp)
    if(NOT EXISTS ${prefix}/${f})
      message(FATAL_ERROR "not installed: ${f}")
    endif()
  endforeach()
endif()
run(${CMAKE_COMMAND} -S ${CMAKE_CURRENT_LIST_DIR} -B ${WORK_DIR}/consumer -G Ninja
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_PREFIX_PATH=${prefix}
    -DSINGLEFLIGHT_CONSUMER_REDIS=${WITH_REDIS})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer)
run(${WORK_DIR}/consumer/consumer)
run(${WORK_DIR}/consumer/conventions)
if(WITH_REDIS)
  run(${WORK_DIR}/consumer/redis_consumer)
endif()

# A component the package lacks fails at find_package, saying which and why.
function(expect_missing component expected)
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${CMAKE_CURRENT_LIST_DIR}/component -B ${WORK_DIR}/component-${component}
                          -G Ninja -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_PREFIX_PATH=${prefix}
                          -DCOMPONENT=${component}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  string(REGEX REPLACE "[ \t\r\n]+" " " said "${out}${err}")  # CMake wraps its messages
  if(rc EQUAL 0 OR NOT said MATCHES "${expected}")
    message(FATAL_ERROR "find_package(singleflight COMPONENTS ${component}) should fail with \"${expected}\":\n${out}${err}")
  endif()
endfunction()
expect_missing(no_such_component "singleflight has no component 'no_such_component'")
if(NOT WITH_REDIS)
  expect_missing(redis "singleflight component redis: this singleflight was installed without it")
endif()
