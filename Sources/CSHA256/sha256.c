// SHA-256's compression function on the x86 SHA extensions (sha256rnds2,
// sha256msg1, sha256msg2): about a tenth of the instructions of the portable
// Swift rounds in FeedspoolModel, which remain the path on every other CPU.
#include "CSHA256.h"

// FIPS 180-4 section 4.2.2: the one copy, for both the Swift rounds and these.
const uint32_t feedspool_sha256_round_constants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

int feedspool_sha256_accelerated(void) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    const int ssse3 = (ecx >> 9) & 1, sse41 = (ecx >> 19) & 1;
    if (__get_cpuid_max(0, 0) < 7) return 0;
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    const int sha = (ebx >> 29) & 1;
    return ssse3 && sse41 && sha;
}


__attribute__((target("sha,sse4.1,ssse3")))
void feedspool_sha256_blocks(uint32_t state[8], const uint8_t *data, size_t blocks) {
    // Message words are big-endian: reverse the bytes of each 32-bit lane.
    const __m128i big_endian = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);

    // sha256rnds2 keeps the state as two vectors: lanes (3..0) = A B E F and C D G H.
    const __m128i abcd = _mm_loadu_si128((const __m128i *)&state[0]);  // lanes 0..3: a b c d
    const __m128i efgh = _mm_loadu_si128((const __m128i *)&state[4]);  // lanes 0..3: e f g h
    const __m128i badc = _mm_shuffle_epi32(abcd, 0xB1);                // lanes 0..3: b a d c
    const __m128i hgfe = _mm_shuffle_epi32(efgh, 0x1B);                // lanes 0..3: h g f e
    __m128i abef = _mm_alignr_epi8(badc, hgfe, 8);                     // lanes 0..3: f e b a
    __m128i cdgh = _mm_blend_epi16(hgfe, badc, 0xF0);                  // lanes 0..3: h g d c

    for (; blocks > 0; blocks--, data += 64) {
        const __m128i abef_before = abef, cdgh_before = cdgh;
        // The schedule, four words a group, kept in a ring of four groups.
        __m128i w[4];
        for (int g = 0; g < 4; g++) {
            w[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16 * g)), big_endian);
        }
        for (int g = 0; g < 16; g++) {
            __m128i wk = _mm_add_epi32(w[g & 3], _mm_loadu_si128((const __m128i *)&feedspool_sha256_round_constants[4 * g]));
            // Two rounds per instruction; after each, the vector that held A B E F holds C D G H.
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
            wk = _mm_shuffle_epi32(wk, 0x0E);
            abef = _mm_sha256rnds2_epu32(abef, cdgh, wk);
            if (g < 12) {
                // Group g+4 from groups g..g+3: W[t-16] + s0(W[t-15]) + W[t-7] + s1(W[t-2]).
                __m128i next = _mm_sha256msg1_epu32(w[g & 3], w[(g + 1) & 3]);
                next = _mm_add_epi32(next, _mm_alignr_epi8(w[(g + 3) & 3], w[(g + 2) & 3], 4));
                w[g & 3] = _mm_sha256msg2_epu32(next, w[(g + 3) & 3]);
            }
        }
        abef = _mm_add_epi32(abef, abef_before);
        cdgh = _mm_add_epi32(cdgh, cdgh_before);
    }

    const __m128i feba = _mm_shuffle_epi32(abef, 0x1B);  // lanes 0..3: a b e f
    const __m128i ghcd = _mm_shuffle_epi32(cdgh, 0xB1);  // lanes 0..3: g h c d
    _mm_storeu_si128((__m128i *)&state[0], _mm_blend_epi16(feba, ghcd, 0xF0));  // a b c d
    _mm_storeu_si128((__m128i *)&state[4], _mm_alignr_epi8(ghcd, feba, 8));     // e f g h
}

#else

int feedspool_sha256_accelerated(void) { return 0; }

void feedspool_sha256_blocks(uint32_t state[8], const uint8_t *data, size_t blocks) {
    (void)state; (void)data; (void)blocks;
}

#endif
