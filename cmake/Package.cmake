# `cpack -G DEB` from the build dir: bpfnet_<version>_<arch>.deb with
# bpfnetd, bpfnetctl, the systemd unit, /etc/bpfnet/config.json (a conffile),
# man pages (help2man, from each binary's --help) and bash completion.
# Installed under /usr; tests/package/deb.sh builds, lints and installs it.
include(GNUInstallDirs)
set(PKG_DIR ${BPFNET_ROOT}/scripts/packaging)
set(PKG_OUT ${CMAKE_BINARY_DIR}/packaging)

# The unit of scripts/ runs /usr/local/sbin/bpfnetd (a source install); the
# package's runs /usr/sbin/bpfnetd with the packaged config.
file(READ ${BPFNET_ROOT}/scripts/bpfnetd.service unit)
string(REPLACE "/usr/local/sbin/bpfnetd" "/usr/sbin/bpfnetd --config /etc/bpfnet/config.json"
               unit "${unit}")
string(REPLACE "file:///usr/local/share/doc/bpfnet/README.md" "man:bpfnetd(8)" unit "${unit}")
file(WRITE ${PKG_OUT}/bpfnetd.service "${unit}")

find_program(HELP2MAN help2man)
find_program(GZIP gzip REQUIRED)
set(man_pages)
function(bpfnet_man_page prog section summary)
  set(page ${PKG_OUT}/${prog}.${section}.gz)
  if(HELP2MAN)
    add_custom_command(
      OUTPUT ${page}
      COMMAND ${HELP2MAN} --no-info --section=${section} --name=${summary}
              --version-string=${PROJECT_VERSION} $<TARGET_FILE:${prog}> -o ${PKG_OUT}/${prog}.${section}
      COMMAND ${GZIP} -9nf ${PKG_OUT}/${prog}.${section}
      DEPENDS ${prog}
      COMMENT "man page of ${prog}"
      VERBATIM)
    set(man_pages ${man_pages} ${page} PARENT_SCOPE)
    install(FILES ${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
  endif()
endfunction()
bpfnet_man_page(bpfnetd 8 "the eBPF container network daemon")
bpfnet_man_page(bpfnetctl 1 "control bpfnetd with the Docker network verbs")
add_custom_command(
  OUTPUT ${PKG_OUT}/changelog.gz
  COMMAND ${GZIP} -9nc ${PKG_DIR}/changelog > ${PKG_OUT}/changelog.gz
  DEPENDS ${PKG_DIR}/changelog)
add_custom_target(package_files ALL DEPENDS ${man_pages} ${PKG_OUT}/changelog.gz)

install(FILES ${PKG_OUT}/bpfnetd.service DESTINATION lib/systemd/system)
install(FILES ${PKG_DIR}/config.json DESTINATION /etc/bpfnet)
install(FILES ${PKG_DIR}/copyright ${PKG_OUT}/changelog.gz
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${BPFNET_ROOT}/scripts/bpfnetctl.bash-completion
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME bpfnetctl)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME bpfnet)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_CONTACT "bpfnet developers <maintainers@bpfnet.dev>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Docker's network model on an eBPF/XDP datapath")
set(CPACK_PACKAGE_DESCRIPTION
    "bpfnet implements Docker's bridge, host, none and overlay networks,\npublished ports, isolation and load-balanced services in eBPF (tc, XDP\nand cgroup hooks). bpfnetd is the daemon (also a Docker network driver);\nbpfnetctl speaks Docker's network verbs.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/bpfnet/bpfnet")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PKG_DIR}/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_STRIP_FILES ON)
# Only what the package installs: tests and benchmarks install nothing.
set(CPACK_INSTALL_CMAKE_PROJECTS "${CMAKE_BINARY_DIR};bpfnet;ALL;/")
include(CPack)
