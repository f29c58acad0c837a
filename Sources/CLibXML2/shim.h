#ifndef FEEDSPOOL_CLIBXML2_SHIM_H
#define FEEDSPOOL_CLIBXML2_SHIM_H

/* Debian builds libxml2 with ICU; its encoding.h then pulls in <unicode/ucnv.h>,
   whose types clash with Foundation's own ICU module. We never touch the ICU
   fields of xmlCharEncodingHandler, so hide them (NOTES-C-INTEROP.md section 5). */
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlmemory.h>

/* xmlFree is a C global variable: Swift 6 refuses to touch it. */
static inline void fs_xml_free(void *p) { xmlFree(p); }

#endif
