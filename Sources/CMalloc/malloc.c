#include "CMalloc.h"

#if defined(__linux__)
#include <malloc.h>  /* defines __GLIBC__ (through features.h) when it is glibc's */
#endif

#if defined(__GLIBC__)

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The trim threshold fs_malloc_keep set (0: glibc's own, never changed). */
static int kept_trim_threshold = 0;

int fs_malloc_keep(int trim_threshold, int mmap_threshold) {
    int trim = mallopt(M_TRIM_THRESHOLD, trim_threshold);
    int mmap = mallopt(M_MMAP_THRESHOLD, mmap_threshold);
    if (trim) kept_trim_threshold = trim_threshold;
    return trim && mmap;
}

/* M_TRIM_THRESHOLD's documented default. */
enum { default_trim_threshold = 128 * 1024 };

void fs_malloc_trim_eagerly(int eagerly) {
    if (kept_trim_threshold > default_trim_threshold)
        mallopt(M_TRIM_THRESHOLD, eagerly ? default_trim_threshold : kept_trim_threshold);
}

int fs_malloc_trim(void) { return malloc_trim(0); }

void fs_malloc_trim_thread_arena(void) {
    /* Above glibc's FASTBIN_CONSOLIDATION_THRESHOLD (64 KiB): free() then trims
       the top of the arena the block came from (heap_trim), which is this
       thread's, down to the trim threshold. */
    void *block = malloc(256 * 1024);
    free(block);
}

/* The number after `key` in text (which must hold it), e.g. total=" -> 4096. */
static size_t number_after(const char *text, const char *key) {
    const char *at = strstr(text, key);
    return at == NULL ? 0 : strtoull(at + strlen(key), NULL, 10);
}

long fs_malloc_arenas(size_t big_top, long *big_tops) {
    char *text = NULL;
    size_t length = 0;
    FILE *stream = open_memstream(&text, &length);
    if (stream == NULL) return -1;
    int failed = malloc_info(0, stream);
    fclose(stream);
    if (failed || text == NULL) {
        free(text);
        return -1;
    }
    /* Each <heap> element lists its free chunks in bins (<size .../> and
       <unsorted .../>, each with a total="bytes"), then the arena's free bytes
       with the top counted in (<total type="rest" ... size="bytes"/>, plus
       type="fast"): the top is what the bins do not account for. */
    long arenas = 0, big = 0;
    for (char *heap = strstr(text, "<heap nr="); heap != NULL; heap = strstr(heap + 1, "<heap nr=")) {
        char *end = strstr(heap, "</heap>");
        if (end == NULL) break;
        *end = '\0';
        size_t in_bins = 0;
        for (const char *bin = strstr(heap, "<sizes>"); bin != NULL && (bin = strstr(bin + 1, " total=\"")) != NULL;)
            in_bins += strtoull(bin + 8, NULL, 10);
        const char *fast = strstr(heap, "<total type=\"fast\"");
        const char *rest = strstr(heap, "<total type=\"rest\"");
        size_t free_bytes = (fast ? number_after(fast, "size=\"") : 0) + (rest ? number_after(rest, "size=\"") : 0);
        if (free_bytes > in_bins && free_bytes - in_bins >= big_top) big++;
        arenas++;
        *end = '<';
        heap = end;
    }
    free(text);
    if (big_tops != NULL) *big_tops = big;
    return arenas;
}

#else

int fs_malloc_keep(int trim_threshold, int mmap_threshold) {
    (void)trim_threshold;
    (void)mmap_threshold;
    return 0;
}

void fs_malloc_trim_eagerly(int eagerly) { (void)eagerly; }

int fs_malloc_trim(void) { return 0; }

void fs_malloc_trim_thread_arena(void) {}

long fs_malloc_arenas(size_t big_top, long *big_tops) {
    (void)big_top;
    if (big_tops != NULL) *big_tops = 0;
    return -1;
}

#endif
