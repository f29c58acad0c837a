#ifndef FEEDSPOOL_BENCH_LIBXML2_H
#define FEEDSPOOL_BENCH_LIBXML2_H
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#endif
