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
#include <libxml/entities.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlmemory.h>
#include <string.h>
#include <stdlib.h>

/* xmlFree is a C global variable: Swift 6 refuses to touch it. */
static inline void fs_xml_free(void *p) { xmlFree(p); }

/* Build a predefined-type entity that the parser delivers as character data.
   Used for HTML named entities (&nbsp;) that feeds use without declaring them.
   The returned entity is owned by the caller and lives for the whole process. */
static inline xmlEntityPtr fs_make_text_entity(const xmlChar *name, const char *utf8) {
    xmlEntityPtr e = (xmlEntityPtr)calloc(1, sizeof(xmlEntity));
    if (e == NULL) return NULL;
    e->type = XML_ENTITY_DECL;
    e->etype = XML_INTERNAL_PREDEFINED_ENTITY;
    e->name = xmlStrdup(name);
    e->content = xmlStrdup((const xmlChar *)utf8);
    e->orig = xmlStrdup((const xmlChar *)utf8);
    e->length = (int)strlen(utf8);
    return e;
}

static inline void fs_free_text_entity(xmlEntityPtr e) {
    if (e == NULL) return;
    xmlFree((void *)e->name);
    xmlFree(e->content);
    xmlFree(e->orig);
    free(e);
}

#endif
