#include "CCurlShim.h"
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>

CURLcode fs_easy_setopt_long(CURL *handle, CURLoption option, long value) { return curl_easy_setopt(handle, option, value); }
CURLcode fs_easy_setopt_off(CURL *handle, CURLoption option, curl_off_t value) { return curl_easy_setopt(handle, option, value); }
CURLcode fs_easy_setopt_string(CURL *handle, CURLoption option, const char *value) { return curl_easy_setopt(handle, option, value); }
CURLcode fs_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) { return curl_easy_setopt(handle, option, value); }
CURLcode fs_easy_setopt_data_callback(CURL *handle, CURLoption option, fs_data_callback callback) { return curl_easy_setopt(handle, option, callback); }
CURLcode fs_easy_setopt_opensocket(CURL *handle, fs_opensocket_callback callback) { return curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, callback); }
CURLcode fs_easy_setopt_closesocket(CURL *handle, fs_closesocket_callback callback) { return curl_easy_setopt(handle, CURLOPT_CLOSESOCKETFUNCTION, callback); }

CURLcode fs_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) { return curl_easy_getinfo(handle, info, value); }
CURLcode fs_easy_getinfo_off(CURL *handle, CURLINFO info, curl_off_t *value) { return curl_easy_getinfo(handle, info, value); }
CURLcode fs_easy_getinfo_string(CURL *handle, CURLINFO info, const char **value) { return curl_easy_getinfo(handle, info, value); }
CURLcode fs_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value) { return curl_easy_getinfo(handle, info, value); }

CURLMcode fs_multi_setopt_long(CURLM *handle, CURLMoption option, long value) { return curl_multi_setopt(handle, option, value); }
CURLMcode fs_multi_setopt_pointer(CURLM *handle, CURLMoption option, void *value) { return curl_multi_setopt(handle, option, value); }
CURLMcode fs_multi_setopt_socket_callback(CURLM *handle, fs_socket_callback callback) { return curl_multi_setopt(handle, CURLMOPT_SOCKETFUNCTION, callback); }
CURLMcode fs_multi_setopt_timer_callback(CURLM *handle, fs_timer_callback callback) { return curl_multi_setopt(handle, CURLMOPT_TIMERFUNCTION, callback); }

int fs_sockaddr_family(const struct curl_sockaddr *address) { return address->family; }

int fs_sockaddr_ip(const struct curl_sockaddr *address, unsigned char *out) {
    if (address->family == AF_INET) {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)&address->addr;
        memcpy(out, &in4->sin_addr, 4);
        return 4;
    }
    if (address->family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&address->addr;
        memcpy(out, &in6->sin6_addr, 16);
        return 16;
    }
    return 0;
}

CURLcode fs_msg_result(const CURLMsg *message) { return message->data.result; }

int fs_epoll_open(void) { return epoll_create1(EPOLL_CLOEXEC); }

int fs_epoll_watch(int set, curl_socket_t socket, int what, int known) {
    if (what == CURL_POLL_REMOVE) return known ? epoll_ctl(set, EPOLL_CTL_DEL, socket, NULL) : 0;
    struct epoll_event event;
    memset(&event, 0, sizeof event);
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) event.events |= EPOLLIN;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) event.events |= EPOLLOUT;
    event.data.fd = socket;
    return epoll_ctl(set, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, socket, &event);
}

int fs_epoll_ready(int set, curl_socket_t *sockets, int *masks, int capacity) {
    struct epoll_event events[64];
    if (capacity > 64) capacity = 64;
    int n = epoll_wait(set, events, capacity, 0);
    for (int i = 0; i < n; i++) {
        int mask = 0;
        if (events[i].events & (EPOLLIN | EPOLLHUP)) mask |= CURL_CSELECT_IN;
        if (events[i].events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
        if (events[i].events & EPOLLERR) mask |= CURL_CSELECT_ERR;
        sockets[i] = events[i].data.fd;
        masks[i] = mask;
    }
    return n;
}
