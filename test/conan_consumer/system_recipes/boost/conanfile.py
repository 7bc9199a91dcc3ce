# SPDX-License-Identifier: BSL-1.0
# The system's Boost headers (Debian 12's libboost1.81-dev) as a Conan package,
# versioned with `conan create --version`: unlike a [platform_requires] entry, it has a package_info(), so
# CMakeDeps generates Boost-config.cmake with ConanCenter's names (Boost::boost,
# and the component boost::headers as Boost::headers). scripts/test-conan uses
# it to build singleflight against Conan-generated configs offline.
import os

from conan import ConanFile
from conan.errors import ConanInvalidConfiguration


class BoostSystemConan(ConanFile):
    name = "boost"
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"

    def package_id(self):
        self.info.clear()

    def validate(self):
        if not os.path.isfile("/usr/include/boost/version.hpp"):
            raise ConanInvalidConfiguration("boost (system): /usr/include/boost/version.hpp not found")

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "Boost")
        self.cpp_info.set_property("cmake_target_name", "Boost::boost")
        headers = self.cpp_info.components["headers"]
        headers.set_property("cmake_target_name", "Boost::headers")
        headers.includedirs = []
        headers.libdirs = []
        headers.bindirs = []
