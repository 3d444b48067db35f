# Cross-compiling leakguard for arm64 (Debian's crossbuild-essential-arm64) against the sysroot that
# scripts/arm64-sysroot.sh assembles from Debian's arm64 packages (LEAKGUARD_SYSROOT, default
# build-arm64/sysroot). Nothing of the amd64 system's libraries or headers is used; the arch-all
# llhttp sources (/usr/share/llhttp) are the one exception, being C sources, not objects.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

if(NOT LEAKGUARD_SYSROOT)
  set(LEAKGUARD_SYSROOT "${CMAKE_CURRENT_LIST_DIR}/../build-arm64/sysroot")
endif()
get_filename_component(LEAKGUARD_SYSROOT "${LEAKGUARD_SYSROOT}" ABSOLUTE)
set(CMAKE_SYSROOT "${LEAKGUARD_SYSROOT}")
# Debian's cross gcc looks for crt1.o and friends in its own tree unless told the sysroot's.
set(LEAKGUARD_SYSROOT_LIBDIR "${LEAKGUARD_SYSROOT}/usr/lib/aarch64-linux-gnu")
set(CMAKE_C_FLAGS_INIT "-B${LEAKGUARD_SYSROOT_LIBDIR}")
set(CMAKE_CXX_FLAGS_INIT "-B${LEAKGUARD_SYSROOT_LIBDIR}")
set(CMAKE_EXE_LINKER_FLAGS_INIT
    "-B${LEAKGUARD_SYSROOT_LIBDIR} -Wl,-rpath-link,${LEAKGUARD_SYSROOT_LIBDIR}:${LEAKGUARD_SYSROOT}/lib/aarch64-linux-gnu")

set(CMAKE_FIND_ROOT_PATH "${LEAKGUARD_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config reads only the sysroot's .pc files and prefixes their paths with it.
set(ENV{PKG_CONFIG_LIBDIR} "${LEAKGUARD_SYSROOT_LIBDIR}/pkgconfig:${LEAKGUARD_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${LEAKGUARD_SYSROOT}")
set(ENV{PKG_CONFIG_PATH} "")

# ctest runs the arm64 test binaries through qemu-user with the sysroot's loader and libraries.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L "${LEAKGUARD_SYSROOT}")
