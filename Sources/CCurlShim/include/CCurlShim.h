#ifndef FEEDSPOOL_CCURLSHIM_H
#define FEEDSPOOL_CCURLSHIM_H

/* curl_easy_setopt, curl_easy_getinfo and curl_multi_setopt are variadic, which
   Swift cannot call: one typed, non-variadic function per argument kind. With a
   typed function-pointer parameter a non-capturing Swift closure converts to a
   C function pointer by itself. */

#include <curl/curl.h>
#include <sys/socket.h>

typedef size_t (*fs_data_callback)(char *_Nonnull data, size_t size, size_t count, void *_Nullable user);
typedef curl_socket_t (*fs_opensocket_callback)(void *_Nullable user, curlsocktype purpose, struct curl_sockaddr *_Nonnull address);
typedef int (*fs_closesocket_callback)(void *_Nullable user, curl_socket_t socket);
typedef int (*fs_socket_callback)(CURL *_Nonnull easy, curl_socket_t socket, int what, void *_Nullable user, void *_Nullable socketUser);
typedef int (*fs_timer_callback)(CURLM *_Nonnull multi, long timeoutMilliseconds, void *_Nullable user);

CURLcode fs_easy_setopt_long(CURL *_Nonnull handle, CURLoption option, long value);
CURLcode fs_easy_setopt_off(CURL *_Nonnull handle, CURLoption option, curl_off_t value);
CURLcode fs_easy_setopt_string(CURL *_Nonnull handle, CURLoption option, const char *_Nullable value);
CURLcode fs_easy_setopt_pointer(CURL *_Nonnull handle, CURLoption option, void *_Nullable value);
CURLcode fs_easy_setopt_data_callback(CURL *_Nonnull handle, CURLoption option, fs_data_callback _Nonnull callback);
CURLcode fs_easy_setopt_opensocket(CURL *_Nonnull handle, fs_opensocket_callback _Nonnull callback);
CURLcode fs_easy_setopt_closesocket(CURL *_Nonnull handle, fs_closesocket_callback _Nonnull callback);

CURLcode fs_easy_getinfo_long(CURL *_Nonnull handle, CURLINFO info, long *_Nonnull value);
CURLcode fs_easy_getinfo_off(CURL *_Nonnull handle, CURLINFO info, curl_off_t *_Nonnull value);
CURLcode fs_easy_getinfo_string(CURL *_Nonnull handle, CURLINFO info, const char *_Nullable *_Nonnull value);
CURLcode fs_easy_getinfo_pointer(CURL *_Nonnull handle, CURLINFO info, void *_Nullable *_Nonnull value);

CURLMcode fs_multi_setopt_long(CURLM *_Nonnull handle, CURLMoption option, long value);
CURLMcode fs_multi_setopt_pointer(CURLM *_Nonnull handle, CURLMoption option, void *_Nullable value);
CURLMcode fs_multi_setopt_socket_callback(CURLM *_Nonnull handle, fs_socket_callback _Nonnull callback);
CURLMcode fs_multi_setopt_timer_callback(CURLM *_Nonnull handle, fs_timer_callback _Nonnull callback);

/* The address family and the first bytes of the address curl is about to
   connect to. curl_sockaddr.addr is declared as a 16-byte struct sockaddr but
   holds the whole address (an IPv6 one is 28 bytes): read it here, in C. */
int fs_sockaddr_family(const struct curl_sockaddr *_Nonnull address);
/* Copies the raw IP address (4 or 16 bytes) into out; returns its length or 0. */
int fs_sockaddr_ip(const struct curl_sockaddr *_Nonnull address, unsigned char *_Nonnull out);

/* The data.result member of a CURLMsg (a union). */
CURLcode fs_msg_result(const CURLMsg *_Nonnull message);

/* An epoll set of curl's sockets, watched as a whole by one Dispatch read
   source (an epoll descriptor is readable while any socket in it is ready).
   struct epoll_event is packed on x86-64, so it stays on this side. */
int fs_epoll_open(void);
/* Watches socket for curl's CURL_POLL_IN / _OUT / _INOUT (replacing what it watched
   before), or stops watching it for CURL_POLL_REMOVE. Returns 0, or -1 with errno. */
int fs_epoll_watch(int set, curl_socket_t socket, int what, int known);
/* Ready sockets without waiting: fills sockets[i] and masks[i] (CURL_CSELECT_IN,
   _OUT and _ERR bits) and returns how many, or -1 with errno. */
int fs_epoll_ready(int set, curl_socket_t *_Nonnull sockets, int *_Nonnull masks, int capacity);

#endif
