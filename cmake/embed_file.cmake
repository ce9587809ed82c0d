# Embed one file into the redress library as a C array, with a strong ETag
# of its SHA-256, in the form of a console file (src/http/ui.h), for the
# server to answer from memory. Run by the build (CMakeLists.txt) as
#   cmake -DIN=<file> -DNAME=<served name> -DSYMBOL=<C name> -DOUT=<file.c>
#         -P embed_file.cmake
# Used for the API's own contract, docs/openapi.yaml, served at
# GET /openapi.yaml, so that the served document is the one the binary
# was built with.
if(NOT IN OR NOT NAME OR NOT SYMBOL OR NOT OUT)
  message(FATAL_ERROR "embed_file.cmake needs -DIN, -DNAME, -DSYMBOL and -DOUT")
endif()

include("${CMAKE_CURRENT_LIST_DIR}/embed_common.cmake")

embed_bytes("${IN}" hex size tag)
set(body "/* Generated from ${NAME} by cmake/embed_file.cmake: do not edit. */\n")
string(APPEND body "#include \"http/ui.h\"\n\n")
string(APPEND body "static const unsigned char bytes[] = {\n\t${hex}0x00\n};\n\n")
string(APPEND body "const http_ui_asset ${SYMBOL} = {\n\t\"${NAME}\", bytes, ${size}, \"\\\"${tag}\\\"\"\n};\n")
write_if_changed("${OUT}" "${body}")
