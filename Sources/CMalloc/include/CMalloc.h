#ifndef FEEDSPOOL_CMALLOC_H
#define FEEDSPOOL_CMALLOC_H

/* glibc's malloc tunables and trim (malloc.h, which Swift's Glibc module leaves
   out). Elsewhere they do nothing and return 0. */

/* Free memory kept at the top of an arena before it goes back to the kernel
   (M_TRIM_THRESHOLD), and the size from which an allocation is an mmap of its
   own (M_MMAP_THRESHOLD, at most 32 MiB). 1 when glibc took both. */
int fs_malloc_keep(int trim_threshold, int mmap_threshold);

/* Gives the free memory of every arena back to the kernel (malloc_trim(0));
   1 when some was given back. */
int fs_malloc_trim(void);

#endif
