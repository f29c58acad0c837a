#include "CCurlShim.h"
#include <netinet/in.h>
#include <string.h>

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
