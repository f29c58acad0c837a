#include "CMalloc.h"

#if defined(__linux__)
#include <malloc.h>  /* defines __GLIBC__ (through features.h) when it is glibc's */
#endif

#if defined(__GLIBC__)

int fs_malloc_keep(int trim_threshold, int mmap_threshold) {
    int trim = mallopt(M_TRIM_THRESHOLD, trim_threshold);
    int mmap = mallopt(M_MMAP_THRESHOLD, mmap_threshold);
    return trim && mmap;
}

int fs_malloc_trim(void) { return malloc_trim(0); }

#else

int fs_malloc_keep(int trim_threshold, int mmap_threshold) {
    (void)trim_threshold;
    (void)mmap_threshold;
    return 0;
}

int fs_malloc_trim(void) { return 0; }

#endif
