#ifndef FEEDSPOOL_CBYTESCAN_H
#define FEEDSPOOL_CBYTESCAN_H

#include <stddef.h>
#include <stdint.h>

/// The length of the run of text at `p` (at most `n` bytes) that the HTML
/// renderer copies as it is: bytes other than controls (below 0x20), `&`, `<`,
/// `>` and the bytes of U+00A0 (0xC2, 0xA0), with single spaces between two such
/// bytes. A space at `p[0]`, at `p[n - 1]` or before another space or any of
/// those bytes ends the run.
size_t feedspool_plain_text_run(const uint8_t *p, size_t n);

/// 1 when the `n` bytes at `p` are printable ASCII (0x21-0x7F) with single
/// spaces between them: no other white space, no control or non-ASCII byte,
/// no space at either end, no two spaces in a row. Else 0. Empty text is 1.
int feedspool_is_collapsed_ascii(const uint8_t *p, size_t n);

/// 1 when the `n` bytes at `p` are printable ASCII (0x20-0x7E) without `&` or
/// `<`: text that HTML rendering would leave as it is but for its spaces. Else 0.
int feedspool_is_ascii_without_markup(const uint8_t *p, size_t n);

/// 1 when none of the `n` bytes at `p` is below 0x20 or one of `&`, `<`, `>`
/// and `"`: an attribute value the HTML renderer writes as it is. Else 0.
int feedspool_is_plain_attribute_value(const uint8_t *p, size_t n);

/// 1 when the `n` bytes at `p` are well-formed UTF-8: no overlong forms, no
/// surrogates, nothing past U+10FFFF, every sequence complete. Else 0.
/// ASCII is skipped sixteen bytes at a time.
int feedspool_utf8_is_valid(const uint8_t *p, size_t n);

/// How many of the `n` bytes at `p` are complete, well-formed UTF-8 that XML
/// allows as they are: printable ASCII, tab, LF, CR and multi-byte sequences
/// other than U+FFFE and U+FFFF. Stops at the first control character or at a
/// byte that starts an invalid or unfinished sequence. `*multibyte` is set to 1
/// when that stretch holds a multi-byte sequence (else left as it was).
size_t feedspool_xml_clean_utf8_prefix(const uint8_t *p, size_t n, int *multibyte);

/// How many Unicode scalars the `n` bytes of UTF-8 at `p` hold (every byte but a
/// continuation byte, 10xxxxxx, starts one), but at most `limit`: it stops
/// counting once the bytes read hold that many (SIZE_MAX: all of them).
size_t feedspool_scalar_count_up_to(const uint8_t *p, size_t n, size_t limit);

/// How many of the `n` bytes at `p` are `{` or `}`, but at most `limit` (it stops there).
size_t feedspool_brace_count(const uint8_t *p, size_t n, size_t limit);

/// Asks the CPU to bring the cache line at `p` in for a write, without waiting
/// for it: for a table slot that will be read and written a little later.
static inline void feedspool_prefetch_for_write(const void *p) { __builtin_prefetch(p, 1, 3); }

#endif
