# SPDX-License-Identifier: BSL-1.0
# The system's fmt (Debian's libfmt-dev, 9.1.0 on Debian 12) as a Conan
# package, versioned with `conan create --version`: unlike a [platform_requires]
# entry, it has a package_info(), so CMakeDeps generates
# fmt-config.cmake with ConanCenter's names (fmt::fmt). scripts/test-conan
# uses it to build singleflight against Conan-generated configs offline.
import os

from conan import ConanFile
from conan.errors import ConanInvalidConfiguration


class FmtSystemConan(ConanFile):
    name = "fmt"
    package_type = "shared-library"
    settings = "os", "arch", "compiler", "build_type"

    def package_id(self):
        self.info.clear()

    def validate(self):
        if not os.path.isfile("/usr/include/fmt/format.h"):
            raise ConanInvalidConfiguration("fmt (system): /usr/include/fmt/format.h not found: install libfmt-dev")

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "fmt")
        self.cpp_info.set_property("cmake_target_name", "fmt::fmt")
        self.cpp_info.includedirs = []
        self.cpp_info.libdirs = []
        self.cpp_info.bindirs = []
        self.cpp_info.system_libs = ["fmt"]
        self.cpp_info.defines = ["FMT_SHARED"]
