# vmmem-conform: the .vmc runner (vmmem_conform.c) and its parts, conform_*.c:
# the architecture parts (conform_<arch>.c, see conform_arch.h) and the
# extension files for fuzz findings (see conform_ext.h). Included from conformance/CMakeLists.txt
# and, in builds without tests (ci/fuzz.sh, ci/mutants.sh), from
# fuzz/CMakeLists.txt: findings are shrunk to .vmc cases and replayed there.
# vmmem_internal: the `pcas` and `pclear` lines call two internal physmem
# functions (conform_phys.c).
file(GLOB VMMEM_CONFORM_PARTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/conform_*.c)
add_executable(vmmem-conform ${CMAKE_CURRENT_LIST_DIR}/vmmem_conform.c ${VMMEM_CONFORM_PARTS})
target_link_libraries(vmmem-conform PRIVATE vmmem_static vmmem_ref vmmem_internal)
