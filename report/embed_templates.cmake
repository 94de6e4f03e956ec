# embed_templates.cmake — turns templates/*.md into a C table (rep_templates[]) so the husai
# binary renders reports without its source tree.  Run by report/CMakeLists.txt:
#   cmake -DOUT=<file.c> -DFILES=<a.md|b.md|...> -P embed_templates.cmake
string(REPLACE "|" ";" files "${FILES}")
set(out "/* generated from the templates/ folder by report/embed_templates.cmake: do not edit */\n")
string(APPEND out "#include <stddef.h>\n\n#include \"internal.h\"\n\n")
set(table "")
set(i 0)
foreach(f ${files})
  get_filename_component(name "${f}" NAME)
  file(READ "${f}" hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(APPEND out "static const unsigned char t${i}[] = { ${bytes}0x00 };\n")
  string(APPEND table "\t{ \"${name}\", t${i} },\n")
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND out "\nconst struct rep_template rep_templates[] = {\n${table}\t{ NULL, NULL },\n};\n")
file(WRITE "${OUT}" "${out}")
