#ifndef FEEDSPOOL_CCURL_SHIM_H
#define FEEDSPOOL_CCURL_SHIM_H
#include <curl/curl.h>
#endif
