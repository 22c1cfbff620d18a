# The Debian package: `cpack -G DEB` in the build folder writes
# vigil_VERSION_ARCH.deb. Every install rule but the binary's lives here.

include(GNUInstallDirs)

# /etc/vigil/vigil.ini: conf/vigil.ini with its state folder pinned to the one
# the service's StateDirectory= makes.
file(READ ${CMAKE_SOURCE_DIR}/conf/vigil.ini VIGIL_PACKAGED_INI)
string(REGEX REPLACE "\nstate_dir = [^\n]*" "\nstate_dir = /var/lib/vigil"
       VIGIL_PACKAGED_INI "${VIGIL_PACKAGED_INI}")
file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/packaging/vigil.ini CONTENT "${VIGIL_PACKAGED_INI}"
     @ONLY)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/conf/vigil.ini)

install(FILES ${CMAKE_BINARY_DIR}/packaging/vigil.ini DESTINATION /etc/vigil)
install(DIRECTORY DESTINATION /etc/vigil/conf.d)
install(FILES ${CMAKE_SOURCE_DIR}/systemd/vigil.service DESTINATION /lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/systemd/vigil.sysusers DESTINATION /usr/lib/sysusers.d
        RENAME vigil.conf)
install(FILES ${CMAKE_SOURCE_DIR}/systemd/vigil.tmpfiles DESTINATION /usr/lib/tmpfiles.d
        RENAME vigil.conf)

set(VIGIL_DOC_DIR ${CMAKE_INSTALL_DATAROOTDIR}/doc/vigil)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${VIGIL_DOC_DIR})
install(FILES ${CMAKE_SOURCE_DIR}/packaging/README.md DESTINATION ${VIGIL_DOC_DIR}
        RENAME README.packaging.md)
file(GLOB VIGIL_DOCS ${CMAKE_SOURCE_DIR}/docs/*.md)
install(FILES ${VIGIL_DOCS} DESTINATION ${VIGIL_DOC_DIR})
# Sample checks: each plugin's section (not the test-only plugin), conf/examples,
# and the sidecar configuration.
file(GLOB VIGIL_EXAMPLES ${CMAKE_SOURCE_DIR}/plugins/*/*.ini ${CMAKE_SOURCE_DIR}/conf/examples/*
     ${CMAKE_SOURCE_DIR}/conf/sidecar.ini)
list(FILTER VIGIL_EXAMPLES EXCLUDE REGEX "/testblock/")
install(FILES ${VIGIL_EXAMPLES} DESTINATION ${VIGIL_DOC_DIR}/examples)
if(EXISTS ${CMAKE_SOURCE_DIR}/docs/vigil.1)
  install(FILES ${CMAKE_SOURCE_DIR}/docs/vigil.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()

set(CPACK_PACKAGE_NAME vigil)
set(CPACK_PACKAGE_VENDOR "vigil")
set(CPACK_PACKAGE_CONTACT "vigil maintainers <vigil@example.com>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "lightweight host monitoring agent")
string(CONCAT CPACK_PACKAGE_DESCRIPTION
       "vigil watches CPU, memory, load, disks, log files, the systemd journal,\n"
       "processes, HTTP and TCP endpoints and Nagios-style scripts, turns state changes\n"
       "into events, folds them into deduplicated, escalating incidents, and delivers\n"
       "them over HTTPS, spooled on disk.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/vigil-agent/vigil")
# dpkg-shlibdeps (dpkg-dev) and file work out the exact library versions.
find_program(VIGIL_DPKG_SHLIBDEPS dpkg-shlibdeps)
find_program(VIGIL_FILE file)
if(VIGIL_DPKG_SHLIBDEPS AND VIGIL_FILE)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  # libcurl is opened at run time (dlopen), so dpkg-shlibdeps cannot see it.
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "libcurl4 (>= 7.85.0)")
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
      "libc6, libstdc++6, libuv1, libcurl4 (>= 7.85.0), libinih1, libpcre2-8-0, zlib1g")
endif()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/debian/conffiles ${CMAKE_SOURCE_DIR}/packaging/debian/postinst
    ${CMAKE_SOURCE_DIR}/packaging/debian/prerm ${CMAKE_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_GENERATOR DEB)
set(CPACK_SOURCE_GENERATOR "")
include(CPack)
