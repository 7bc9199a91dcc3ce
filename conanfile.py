# SPDX-License-Identifier: BSL-1.0
import os
import re
import textwrap

from conan import ConanFile
from conan.errors import ConanException, ConanInvalidConfiguration
from conan.tools.build import check_min_cppstd
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout
from conan.tools.files import copy, load, rm, save

required_conan_version = ">=2.0"


class SingleflightConan(ConanFile):
    name = "singleflight"
    description = "Go's golang.org/x/sync/singleflight for Boost.Asio coroutines"
    license = "BSL-1.0"
    topics = ("asio", "coroutines", "singleflight", "deduplication", "cache")
    package_type = "library"

    settings = "os", "arch", "compiler", "build_type"
    options = {"shared": [True, False], "fPIC": [True, False]}
    default_options = {"shared": False, "fPIC": True}

    # What the build needs, nothing more: the top-level CMakeLists.txt adds
    # test/, examples/ and bench/ only when their options are on, and the
    # toolchain below turns them off.
    exports_sources = "CMakeLists.txt", "LICENSE", "cmake/*", "include/*", "src/*"

    def set_version(self):
        # One version, the one in CMakeLists.txt's project(VERSION).
        if self.version:
            return
        text = load(self, os.path.join(self.recipe_folder, "CMakeLists.txt"))
        match = re.search(r"project\(\s*singleflight\s+VERSION\s+([0-9][0-9.]*)", text)
        if not match:
            raise ConanException("singleflight: no project(singleflight VERSION x.y.z) in CMakeLists.txt")
        self.version = match.group(1)

    def config_options(self):
        if self.settings.os == "Windows":
            self.options.rm_safe("fPIC")

    def configure(self):
        if self.options.shared:
            self.options.rm_safe("fPIC")

    def layout(self):
        cmake_layout(self)

    def requirements(self):
        # Boost is in our public headers (Asio, System, ContainerHash).
        self.requires("boost/[>=1.81.0 <2]", transitive_headers=True)
        # fmt only in src/: consumers link it (a static archive) but do not
        # see its headers; one that includes <singleflight/fmt.hpp> requires
        # fmt itself.
        self.requires("fmt/[>=9.1.0 <11]", transitive_headers=False)

    def validate(self):
        check_min_cppstd(self, 20)
        if self.options.shared:
            # CMakeLists.txt declares add_library(singleflight STATIC ...), so
            # a shared build would package a static archive under a shared
            # package_id.
            raise ConanInvalidConfiguration(
                f"{self.ref}: shared=True is not supported yet: CMakeLists.txt builds a STATIC library")

    def generate(self):
        tc = CMakeToolchain(self)
        tc.cache_variables["BUILD_TESTING"] = False
        tc.cache_variables["SINGLEFLIGHT_BUILD_EXAMPLES"] = False
        tc.cache_variables["SINGLEFLIGHT_BUILD_BENCH"] = False
        tc.cache_variables["SINGLEFLIGHT_BUILD_FUZZ"] = False
        tc.cache_variables["SINGLEFLIGHT_INSTALL"] = True
        # The recipe declares one component; the Redis tier is not packaged.
        tc.cache_variables["SINGLEFLIGHT_REDIS"] = "OFF"
        tc.generate()
        CMakeDeps(self).generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        cmake = CMake(self)
        cmake.install()
        # CMakeDeps writes the consumers' singleflight-config.cmake from
        # package_info(); drop our own, as ConanCenter does, but keep
        # singleflight_dependencies.cmake: it is the build module below.
        cmake_dir = os.path.join(self.package_folder, "lib", "cmake", "singleflight")
        rm(self, "singleflightConfig*.cmake", cmake_dir)
        rm(self, "singleflightTargets*.cmake", cmake_dir)
        save(self, os.path.join(cmake_dir, self._link_module_name), self._link_module)

    _link_module_name = "singleflight_conan_link.cmake"
    # CMakeDeps defines singleflight::singleflight as an INTERFACE IMPORTED
    # target from package_info(), then includes this build module. A
    # requirement that the profile declares under [platform_requires] (Boost
    # and fmt from the system) gets no Conan-generated config and is left out
    # of that target, which would then not link fmt nor see Boost's headers:
    # find them as the installed CMake config does, and link them.
    _link_module = textwrap.dedent("""\
        include("${CMAKE_CURRENT_LIST_DIR}/singleflight_dependencies.cmake")
        set_property(TARGET singleflight::singleflight APPEND PROPERTY INTERFACE_LINK_LIBRARIES
                     ${SINGLEFLIGHT_BOOST_TARGETS} Threads::Threads $<LINK_ONLY:fmt::fmt>)
        set_property(TARGET singleflight::singleflight APPEND PROPERTY INTERFACE_COMPILE_FEATURES cxx_std_20)
        """)

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "singleflight")
        self.cpp_info.set_property("cmake_target_name", "singleflight::singleflight")
        self.cpp_info.libs = ["singleflight"]
        # Finds Boost and fmt when they are [platform_requires] (no
        # Conan-generated config) and links them to singleflight::singleflight.
        self.cpp_info.set_property("cmake_build_modules", [f"lib/cmake/singleflight/{self._link_module_name}"])
        self.cpp_info.requires = ["boost::headers", "fmt::fmt"]
        if self.settings.os in ("Linux", "FreeBSD"):
            self.cpp_info.system_libs = ["pthread"]
