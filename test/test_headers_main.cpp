// SPDX-License-Identifier: BSL-1.0
// The headers test passes by compiling: see CMakeLists.txt.
int main() { return 0; }
