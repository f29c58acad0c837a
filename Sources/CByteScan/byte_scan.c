// Byte classification sixteen bytes at a time (SSE2: compare, then one bit per
// byte with movemask). Swift's SIMD types compile these compares lane by lane,
// and word-at-a-time tricks in Swift still branch on every space of a text;
// the portable loop below is the path on every other CPU and for the tail.
#include "CByteScan.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static inline int is_plain(uint8_t c) {
    return c > 0x20 && c != '&' && c != '<' && c != '>' && c != 0xC2 && c != 0xA0;
}

size_t feedspool_plain_text_run(const uint8_t *p, size_t n) {
    size_t j = 0;
#if defined(__SSE2__)
    const __m128i c1f = _mm_set1_epi8(0x1F), space = _mm_set1_epi8(0x20);
    const __m128i amp = _mm_set1_epi8('&'), lt = _mm_set1_epi8('<'), gt = _mm_set1_epi8('>');
    const __m128i c2 = _mm_set1_epi8((char)0xC2), a0 = _mm_set1_epi8((char)0xA0);
    while (j + 16 <= n) {
        const __m128i v = _mm_loadu_si128((const __m128i *)(p + j));
        const __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(v, c1f), c1f);  // v <= 0x1F
        const __m128i marks = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, amp), _mm_cmpeq_epi8(v, lt)),
                                           _mm_or_si128(_mm_cmpeq_epi8(v, gt), _mm_cmpeq_epi8(v, c2)));
        const unsigned other = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_or_si128(control, marks), _mm_cmpeq_epi8(v, a0)));
        const unsigned spaces = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, space));
        // Whether the byte after each one is not plain: the next block's first
        // byte for the last one (the end of the text counts as not plain).
        const unsigned next_is_not_plain = (j + 16 < n) ? !is_plain(p[j + 16]) : 1u;
        const unsigned after = ((other | spaces) >> 1) | (next_is_not_plain << 15);
        unsigned ends = other | (spaces & after);
        if (j == 0) ends |= spaces & 1u;
        if (ends != 0) return j + (size_t)__builtin_ctz(ends);
        j += 16;
    }
#endif
    for (; j < n; j++) {
        const uint8_t c = p[j];
        if (is_plain(c)) continue;
        if (c == 0x20 && j > 0 && j + 1 < n && is_plain(p[j + 1])) {
            j++;  // the space and the plain byte after it
            continue;
        }
        return j;
    }
    return n;
}

int feedspool_is_collapsed_ascii(const uint8_t *p, size_t n) {
    if (n == 0) return 1;
    if (p[0] == 0x20 || p[n - 1] == 0x20) return 0;
    size_t j = 0;
    unsigned previous_space = 0;  // whether the byte before the block is a space
#if defined(__SSE2__)
    const __m128i c1f = _mm_set1_epi8(0x1F), space = _mm_set1_epi8(0x20);
    while (j + 16 <= n) {
        const __m128i v = _mm_loadu_si128((const __m128i *)(p + j));
        const unsigned high = (unsigned)_mm_movemask_epi8(v);  // bytes >= 0x80
        const unsigned control = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(v, c1f), c1f));
        const unsigned spaces = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, space));
        if ((high | control | (spaces & ((spaces << 1) | previous_space))) != 0) return 0;
        previous_space = spaces >> 15;
        j += 16;
    }
#endif
    for (; j < n; j++) {
        const uint8_t c = p[j];
        if (c > 0x20 && c < 0x80) { previous_space = 0; continue; }
        if (c != 0x20 || previous_space) return 0;
        previous_space = 1;
    }
    return 1;
}

int feedspool_is_ascii_without_markup(const uint8_t *p, size_t n) {
    size_t j = 0;
#if defined(__SSE2__)
    const __m128i c1f = _mm_set1_epi8(0x1F), del = _mm_set1_epi8(0x7F);
    const __m128i amp = _mm_set1_epi8('&'), lt = _mm_set1_epi8('<');
    while (j + 16 <= n) {
        const __m128i v = _mm_loadu_si128((const __m128i *)(p + j));
        const unsigned high = (unsigned)_mm_movemask_epi8(v);  // bytes >= 0x80
        const __m128i bad = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(_mm_max_epu8(v, c1f), c1f), _mm_cmpeq_epi8(v, del)),  // <= 0x1F, 0x7F
            _mm_or_si128(_mm_cmpeq_epi8(v, amp), _mm_cmpeq_epi8(v, lt)));
        if ((high | (unsigned)_mm_movemask_epi8(bad)) != 0) return 0;
        j += 16;
    }
#endif
    for (; j < n; j++) {
        const uint8_t c = p[j];
        if (c < 0x20 || c >= 0x7F || c == '&' || c == '<') return 0;
    }
    return 1;
}

int feedspool_is_plain_attribute_value(const uint8_t *p, size_t n) {
    size_t j = 0;
#if defined(__SSE2__)
    const __m128i c1f = _mm_set1_epi8(0x1F);
    const __m128i amp = _mm_set1_epi8('&'), lt = _mm_set1_epi8('<'), gt = _mm_set1_epi8('>'), quote = _mm_set1_epi8('"');
    while (j + 16 <= n) {
        const __m128i v = _mm_loadu_si128((const __m128i *)(p + j));
        const __m128i bad = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(_mm_max_epu8(v, c1f), c1f), _mm_cmpeq_epi8(v, amp)),  // <= 0x1F, '&'
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, lt), _mm_cmpeq_epi8(v, gt)), _mm_cmpeq_epi8(v, quote)));
        if (_mm_movemask_epi8(bad) != 0) return 0;
        j += 16;
    }
#endif
    // Values are short (most end here): one table load a byte.
    static const uint8_t not_plain[256] = {
        [0 ... 0x1F] = 1, ['&'] = 1, ['<'] = 1, ['>'] = 1, ['"'] = 1,
    };
    for (; j < n; j++) {
        if (not_plain[p[j]]) return 0;
    }
    return 1;
}

/// The length (2-4) of the well-formed sequence at p[i], or 0. The second
/// byte's range rules out overlong forms, surrogates and scalars past U+10FFFF.
/// (The same rule as `UTF8String.sequenceLength` in Content, for the loops here.)
static inline size_t sequence_length(const uint8_t *p, size_t i, size_t n) {
    const uint8_t c = p[i];
    size_t need;
    uint8_t low = 0x80, high = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) need = 1;
    else if (c == 0xE0) { need = 2; low = 0xA0; }
    else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) need = 2;
    else if (c == 0xED) { need = 2; high = 0x9F; }
    else if (c == 0xF0) { need = 3; low = 0x90; }
    else if (c >= 0xF1 && c <= 0xF3) need = 3;
    else if (c == 0xF4) { need = 3; high = 0x8F; }
    else return 0;
    if (i + need >= n || p[i + 1] < low || p[i + 1] > high) return 0;
    for (size_t k = 2; k <= need; k++) {
        if ((p[i + k] & 0xC0) != 0x80) return 0;
    }
    return need + 1;
}

int feedspool_utf8_is_valid(const uint8_t *p, size_t n) {
    size_t i = 0;
    while (i < n) {
#if defined(__SSE2__)
        if (i + 16 <= n) {
            const unsigned high = (unsigned)_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(p + i)));
            if (high == 0) { i += 16; continue; }
            i += (size_t)__builtin_ctz(high);
        } else
#endif
        if (p[i] < 0x80) { i++; continue; }
        const size_t length = sequence_length(p, i, n);
        if (length == 0) return 0;
        i += length;
    }
    return 1;
}

size_t feedspool_xml_clean_utf8_prefix(const uint8_t *p, size_t n, int *multibyte) {
    size_t i = 0;
    while (i < n) {
#if defined(__SSE2__)
        if (i + 16 <= n) {
            const __m128i v = _mm_loadu_si128((const __m128i *)(p + i));
            const __m128i c1f = _mm_set1_epi8(0x1F);
            const __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(v, c1f), c1f);  // v <= 0x1F
            const __m128i allowed = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(0x09)),
                                                 _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(0x0A)),
                                                              _mm_cmpeq_epi8(v, _mm_set1_epi8(0x0D))));
            const unsigned stop = (unsigned)_mm_movemask_epi8(_mm_or_si128(v, _mm_andnot_si128(allowed, control)));
            if (stop == 0) { i += 16; continue; }
            i += (size_t)__builtin_ctz(stop);
        } else
#endif
        {
            const uint8_t c = p[i];
            if (c >= 0x20 && c < 0x80) { i++; continue; }
            if (c == 0x09 || c == 0x0A || c == 0x0D) { i++; continue; }
        }
        if (p[i] < 0x80) return i;  // a control character
        const size_t length = sequence_length(p, i, n);
        if (length == 0) return i;
        if (length == 3 && p[i] == 0xEF && p[i + 1] == 0xBF && p[i + 2] >= 0xBE) return i;  // U+FFFE, U+FFFF
        *multibyte = 1;
        i += length;
    }
    return n;
}

size_t feedspool_scalar_count_up_to(const uint8_t *p, size_t n, size_t limit) {
    // Scalars in the first j bytes: j less the continuation bytes among them.
    size_t continuations = 0, j = 0;
#if defined(__SSE2__)
    const __m128i below_c0 = _mm_set1_epi8((char)0xC0);
    while (j + 16 <= n) {
        if (j - continuations >= limit) return limit;
        const __m128i v = _mm_loadu_si128((const __m128i *)(p + j));
        continuations += (size_t)__builtin_popcount((unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(v, below_c0)));
        j += 16;
    }
#endif
    for (; j < n; j++) continuations += (p[j] & 0xC0) == 0x80;
    const size_t count = n - continuations;
    return count < limit ? count : limit;
}

size_t feedspool_brace_count(const uint8_t *p, size_t n, size_t limit) {
    size_t count = 0, j = 0;
#if defined(__SSE2__)
    const __m128i open = _mm_set1_epi8('{'), close = _mm_set1_epi8('}');
    while (j + 16 <= n) {
        const __m128i v = _mm_loadu_si128((const __m128i *)(p + j));
        const unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, open), _mm_cmpeq_epi8(v, close)));
        if (m != 0) {
            count += (size_t)__builtin_popcount(m);
            if (count >= limit) return limit;
        }
        j += 16;
    }
#endif
    for (; j < n; j++) {
        if (p[j] == '{' || p[j] == '}') {
            if (++count >= limit) return limit;
        }
    }
    return count;
}
