#ifndef FEEDSPOOL_CMALLOC_H
#define FEEDSPOOL_CMALLOC_H

#include <stddef.h>

/* glibc's malloc tunables and trim (malloc.h, which Swift's Glibc module leaves
   out). Elsewhere they do nothing and return 0 (-1 for a count). */

/* Free memory kept at the top of an arena before it goes back to the kernel
   (M_TRIM_THRESHOLD), and the size from which an allocation is an mmap of its
   own (M_MMAP_THRESHOLD, at most 32 MiB). 1 when glibc took both. */
int fs_malloc_keep(int trim_threshold, int mmap_threshold);

/* With eagerly nonzero, glibc's default trim threshold (128 KiB) until called
   again with 0, which restores what fs_malloc_keep set. */
void fs_malloc_trim_eagerly(int eagerly);

/* malloc_trim(0): the free pages inside every arena's heaps and the top of the
   main arena go back to the kernel, not the top of a thread's arena (glibc
   trims that only in free(), above the trim threshold). 1 when some went back. */
int fs_malloc_trim(void);

/* Frees a large block from the calling thread's arena, which makes glibc trim
   that arena's top down to the trim threshold. */
void fs_malloc_trim_thread_arena(void);

/* How many arenas malloc has (malloc_info's heaps), -1 when it cannot tell; and
   in *big_tops (when not NULL) how many of them have a free top of big_top
   bytes or more. */
long fs_malloc_arenas(size_t big_top, long *big_tops);

#endif
