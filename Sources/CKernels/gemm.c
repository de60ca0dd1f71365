// The core's own single-precision GEMM for x86-64 CPUs with AVX2 and FMA
// but no AVX-512, where OpenBLAS's Haswell kernels run the networks'
// mid-sized products (128 to 1,568 rows, 64 to 512 columns) at a third to a
// half of the core's peak.
//
// The layout is the one of BLIS: B is packed into panels of 16 columns
// (KC rows deep, NC columns wide), A into panels of 6 rows (MC rows), and a
// 6×16 micro-kernel keeps its tile of C in twelve 8-wide registers while it
// runs down the K dimension, one broadcast of A and two loads of B feeding
// twelve fused multiply-adds each step. Every element of C is summed over k
// in the same order whatever the blocking of M and N, so a product split
// into blocks of rows or columns gives the bits of the whole call.
#include "ckernels.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

enum { MR = 6, NR = 16, KC = 256, MC = 144, NC = 3072 };

#define AVX2 __attribute__((target("avx2,fma")))

/// Per-thread packing buffers, grown on demand and kept for the next call.
static _Thread_local float *packed_a, *packed_b;
static _Thread_local size_t packed_a_size, packed_b_size;

static float *buffer(float **p, size_t *size, size_t floats) {
    if (*size < floats) {
        free(*p);
        *p = aligned_alloc(64, (floats * sizeof(float) + 63) / 64 * 64);
        *size = *p ? floats : 0;
    }
    return *p;
}

/// Transposes the 8×8 block in r[0..<8] in place: r[i][j] becomes r[j][i].
AVX2 static inline void transpose8(__m256 r[8]) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xee);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xee);
    r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
    r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
    r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

/// Six rows of eight values in t[0..<6] to eight columns of six at dst
/// (an A panel's next eight columns), through one 8×8 transpose.
AVX2 static inline void store_columns_of_six(float *dst, __m256 t[8]) {
    t[6] = t[7] = _mm256_setzero_ps();
    transpose8(t);
    // Each store spills two values into the next column's place, which the
    // next store overwrites; the last one stores six.
    for (int q = 0; q < 7; q++) _mm256_storeu_ps(dst + q * MR, t[q]);
    _mm_storeu_ps(dst + 7 * MR, _mm256_castps256_ps128(t[7]));
    _mm_storel_pi((__m64 *)(dst + 7 * MR + 4), _mm256_extractf128_ps(t[7], 1));
}

/// Packs rows i0..<i0+mc, columns p0..<p0+kc of op(A) into panels of MR
/// rows: panel r holds, for each p, MR consecutive values (zero past m).
/// Packing only moves values, so the products' bits do not depend on how.
AVX2 static void pack_a(float *restrict dst, const float *restrict a, long lda, int trans, long i0, long mc,
                        long p0, long kc) {
    for (long r = 0; r < mc; r += MR) {
        long rows = mc - r < MR ? mc - r : MR, p = 0;
        if (!trans && rows == MR) {
            // Six rows of A, eight columns at a time: one 8×8 transpose
            // (two rows of zeros) gives eight columns of the panel.
            const float *row0 = a + (i0 + r) * lda + p0;
            for (; p + 8 <= kc; p += 8) {
                __m256 t[8];
                for (int i = 0; i < MR; i++) t[i] = _mm256_loadu_ps(row0 + i * lda + p);
                store_columns_of_six(dst, t);
                dst += 8 * MR;
            }
        }
        if (trans && rows == MR) {
            for (; p < kc; p++) {
                const float *src = a + (p0 + p) * lda + i0 + r;
                for (long i = 0; i < MR; i++) dst[i] = src[i];
                dst += MR;
            }
        }
        for (; p < kc; p++) {
            for (long i = 0; i < rows; i++) {
                long row = i0 + r + i, col = p0 + p;
                dst[i] = trans ? a[col * lda + row] : a[row * lda + col];
            }
            for (long i = rows; i < MR; i++) dst[i] = 0;
            dst += MR;
        }
    }
}

/// Packs rows p0..<p0+kc, columns j0..<j0+nc of op(B) into panels of NR
/// columns: panel c holds, for each p, NR consecutive values (zero past n).
AVX2 static void pack_b(float *restrict dst, const float *restrict b, long ldb, int trans, long p0, long kc,
                        long j0, long nc) {
    for (long c = 0; c < nc; c += NR) {
        long cols = nc - c < NR ? nc - c : NR, p = 0;
        if (!trans && cols == NR) {
            for (; p < kc; p++) {
                memcpy(dst, b + (p0 + p) * ldb + j0 + c, NR * sizeof(float));
                dst += NR;
            }
            continue;
        }
        if (trans && cols == NR) {
            // Sixteen rows of the stored Bᵀ, eight columns at a time: two
            // 8×8 transposes give eight rows of the panel.
            const float *row0 = b + (j0 + c) * ldb + p0;
            for (; p + 8 <= kc; p += 8) {
                // One half of the panel's columns at a time, in registers.
                for (int half = 0; half < 2; half++) {
                    __m256 t[8];
                    for (int j = 0; j < 8; j++) t[j] = _mm256_loadu_ps(row0 + (j + 8 * half) * ldb + p);
                    transpose8(t);
                    for (int q = 0; q < 8; q++) _mm256_store_ps(dst + q * NR + 8 * half, t[q]);
                }
                dst += 8 * NR;
            }
        }
        for (; p < kc; p++) {
            for (long j = 0; j < cols; j++) {
                long row = p0 + p, col = j0 + c + j;
                dst[j] = trans ? b[col * ldb + row] : b[row * ldb + col];
            }
            for (long j = cols; j < NR; j++) dst[j] = 0;
            dst += NR;
        }
    }
}

/// The 6×16 tile A panel · B panel, summed down k in twelve registers.
AVX2 static inline __attribute__((always_inline)) void tile_product(long kc, const float *restrict a,
                                                                     const float *restrict b, __m256 acc[MR][2]) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(),
           c11 = _mm256_setzero_ps(), c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(),
           c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps(), c40 = _mm256_setzero_ps(),
           c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (long p = 0; p < kc; p++) {
        __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8), x;
        // Row r of the tile: one broadcast of A, two fused multiply-adds.
#define ROW(r)                                   \
    x = _mm256_broadcast_ss(a + r);              \
    c##r##0 = _mm256_fmadd_ps(x, b0, c##r##0);   \
    c##r##1 = _mm256_fmadd_ps(x, b1, c##r##1);
        ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5)
#undef ROW
        a += MR;
        b += NR;
    }
    acc[0][0] = c00, acc[0][1] = c01, acc[1][0] = c10, acc[1][1] = c11, acc[2][0] = c20, acc[2][1] = c21;
    acc[3][0] = c30, acc[3][1] = c31, acc[4][0] = c40, acc[4][1] = c41, acc[5][0] = c50, acc[5][1] = c51;
}

/// Two 6×16 tiles at once, the A panels a0 and a1 times the same B panel,
/// in twelve 16-wide registers (one load of B and twelve broadcast
/// multiply-adds a step): on CPUs with AVX-512, half the instructions of two
/// `tile_product`s. Each value is the same chain of fused multiply-adds down
/// k, so the bits are those of `tile_product`.
__attribute__((target("avx512f,avx2,fma"))) static void tile_pair(long kc, const float *restrict a0,
                                                                  const float *restrict a1,
                                                                  const float *restrict b, __m256 acc0[MR][2],
                                                                  __m256 acc1[MR][2]) {
    __m512 c0 = _mm512_setzero_ps(), c1 = _mm512_setzero_ps(), c2 = _mm512_setzero_ps(), c3 = _mm512_setzero_ps(),
           c4 = _mm512_setzero_ps(), c5 = _mm512_setzero_ps(), d0 = _mm512_setzero_ps(), d1 = _mm512_setzero_ps(),
           d2 = _mm512_setzero_ps(), d3 = _mm512_setzero_ps(), d4 = _mm512_setzero_ps(), d5 = _mm512_setzero_ps();
    for (long p = 0; p < kc; p++) {
        __m512 x = _mm512_load_ps(b);
        // Row r of each tile: a broadcast of A, one 16-wide fused multiply-add.
#define ROWS(r)                                          \
    c##r = _mm512_fmadd_ps(_mm512_set1_ps(a0[r]), x, c##r); \
    d##r = _mm512_fmadd_ps(_mm512_set1_ps(a1[r]), x, d##r);
        ROWS(0) ROWS(1) ROWS(2) ROWS(3) ROWS(4) ROWS(5)
#undef ROWS
        a0 += MR;
        a1 += MR;
        b += NR;
    }
    __m512 cs[MR] = {c0, c1, c2, c3, c4, c5}, ds[MR] = {d0, d1, d2, d3, d4, d5};
    for (int r = 0; r < MR; r++) {
        acc0[r][0] = _mm512_castps512_ps256(cs[r]);
        acc0[r][1] = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(cs[r]), 1));
        acc1[r][0] = _mm512_castps512_ps256(ds[r]);
        acc1[r][1] = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(ds[r]), 1));
    }
}

/// Whether `tile_pair` runs here (AVX-512F), unless GANS_GEMM_WIDTH=256.
static int pairs_available(void) {
    static int known = -1;
    if (known < 0) {
        __builtin_cpu_init();
        const char *width = getenv("GANS_GEMM_WIDTH");
        known = __builtin_cpu_supports("avx512f") && !(width && strcmp(width, "256") == 0);
    }
    return known;
}

int gk_sgemm_view_pairs(void) { return gk_sgemm_available() && pairs_available(); }

/// C[0..<mr, 0..<nr] ← α·(A panel · B panel) + β·C, with C untouched
/// (not even read) by β when β is 0; with `bias` (nr values), ← α·(A·B) +
/// bias[j] instead, the bits of C set to the bias and β = 1.
AVX2 static void store_tile(__m256 acc[MR][2], float *restrict c, long ldc, float alpha, float beta,
                            const float *restrict bias, long mr, long nr) {
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    if (mr == MR && nr == NR) {
        __m256 b0 = _mm256_setzero_ps(), b1 = b0;
        if (bias) b0 = _mm256_loadu_ps(bias), b1 = _mm256_loadu_ps(bias + 8);
        for (int r = 0; r < MR; r++) {
            float *row = c + r * ldc;
            for (int h = 0; h < 2; h++) {
                __m256 v = _mm256_mul_ps(va, acc[r][h]);
                if (bias) v = _mm256_add_ps(v, h ? b1 : b0);
                else if (beta != 0) v = _mm256_fmadd_ps(vb, _mm256_loadu_ps(row + 8 * h), v);
                _mm256_storeu_ps(row + 8 * h, v);
            }
        }
        return;
    }
    float tile[MR][NR] __attribute__((aligned(32)));
    for (int r = 0; r < MR; r++) {
        _mm256_store_ps(tile[r], _mm256_mul_ps(va, acc[r][0]));
        _mm256_store_ps(tile[r] + 8, _mm256_mul_ps(va, acc[r][1]));
    }
    for (long r = 0; r < mr; r++) {
        float *row = c + r * ldc;
        for (long j = 0; j < nr; j++)
            row[j] = bias ? tile[r][j] + bias[j] : beta != 0 ? __builtin_fmaf(beta, row[j], tile[r][j]) : tile[r][j];
    }
}

AVX2 static void micro_kernel(long kc, const float *restrict a, const float *restrict b, float *restrict c, long ldc,
                              float alpha, float beta, const float *restrict bias, long mr, long nr) {
    __m256 acc[MR][2];
    tile_product(kc, a, b, acc);
    store_tile(acc, c, ldc, alpha, beta, bias, mr, nr);
}

int gk_sgemm_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

int gk_sgemm(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a, long lda,
             const float *b, long ldb, float beta, float *c, long ldc, const float *bias) {
    if (m <= 0 || n <= 0) return 0;
    long kc_max = k < KC ? k : KC, nc_max = n < NC ? n : NC, mc_max = m < MC ? m : MC;
    float *pb = buffer(&packed_b, &packed_b_size, (size_t)kc_max * (size_t)((nc_max + NR - 1) / NR * NR));
    float *pa = buffer(&packed_a, &packed_a_size, (size_t)kc_max * (size_t)((mc_max + MR - 1) / MR * MR));
    if (!pa || !pb) return -1;
    if (k <= 0) {
        for (long i = 0; i < m; i++)
            for (long j = 0; j < n; j++) c[i * ldc + j] = bias ? bias[j] : beta == 0 ? 0 : beta * c[i * ldc + j];
        return 0;
    }
    for (long jc = 0; jc < n; jc += NC) {
        long nc = n - jc < NC ? n - jc : NC;
        for (long pc = 0; pc < k; pc += KC) {
            long kc = k - pc < KC ? k - pc : KC;
            // The first block over k applies β or the bias; the later ones add to it.
            float beta_here = pc == 0 ? beta : 1;
            const float *bias_here = pc == 0 ? bias : NULL;
            pack_b(pb, b, ldb, trans_b, pc, kc, jc, nc);
            for (long ic = 0; ic < m; ic += MC) {
                long mc = m - ic < MC ? m - ic : MC;
                pack_a(pa, a, lda, trans_a, ic, mc, pc, kc);
                for (long jr = 0; jr < nc; jr += NR) {
                    long nr = nc - jr < NR ? nc - jr : NR;
                    for (long ir = 0; ir < mc; ir += MR) {
                        long mr = mc - ir < MR ? mc - ir : MR;
                        micro_kernel(kc, pa + ir * kc, pb + jr * kc, c + (ic + ir) * ldc + jc + jr, ldc, alpha,
                                     beta_here, bias_here ? bias_here + jc + jr : NULL, mr, nr);
                    }
                }
            }
        }
    }
    return 0;
}

// The same blocking and micro-kernel over matrices given by offset tables:
// element (i, j) of a view lives at base[rows[i] + cols[j]]. A strided
// matrix is one such view; so are the columns of a convolution (the row
// term a window's corner in a padded image, the column term a tap's place
// in it) and an NCHW tensor read as [channels, pixels]. Products over them
// need no unfolded copy and no transpose: packing gathers what it needs.

/// Whether v[0..<count] runs by one from v[0].
static inline int runs(const long *v, long count) {
    for (long q = 1; q < count; q++)
        if (v[q] != v[0] + q) return 0;
    return 1;
}

/// Packs rows i0..<i0+mc, columns p0..<p0+kc of the view A into panels of MR rows.
AVX2 static void pack_a_view(float *restrict dst, const float *restrict a, const long *ra, const long *ca, long i0,
                             long mc, long p0, long kc) {
    // Panels of six rows next to each other in memory (A stored by columns,
    // or an NCHW tensor's pixels): each column of such a panel is one run.
    // They are filled column by column across the block, so the reads
    // stream along A's columns instead of jumping between them.
    char running[MC / MR];
    int any = 0;
    for (long r = 0; r + MR <= mc; r += MR) any |= running[r / MR] = (char)runs(ra + i0 + r, MR);
    if (any) {
        for (long p = 0; p < kc; p++) {
            long col = ca[p0 + p];
            for (long r = 0; r + MR <= mc; r += MR) {
                if (!running[r / MR]) continue;
                const float *src = a + ra[i0 + r] + col;
                float *out = dst + r * kc + p * MR;
                _mm_storeu_ps(out, _mm_loadu_ps(src));
                out[4] = src[4];
                out[5] = src[5];
            }
        }
    }
    for (long r = 0; r < mc; r += MR) {
        long rows = mc - r < MR ? mc - r : MR, p = 0;
        const long *rr = ra + i0 + r;
        if (rows == MR && running[r / MR]) {
            dst += MR * kc;
            continue;
        }
        if (rows == MR) {
            // Eight columns at a time where they run by one: an 8×8 transpose.
            while (p < kc) {
                const long *cp = ca + p0 + p;
                if (p + 8 <= kc && runs(cp, 8)) {
                    __m256 t[8];
                    for (int i = 0; i < MR; i++) t[i] = _mm256_loadu_ps(a + rr[i] + cp[0]);
                    store_columns_of_six(dst, t);
                    dst += 8 * MR;
                    p += 8;
                } else {
                    for (long i = 0; i < MR; i++) dst[i] = a[rr[i] + cp[0]];
                    dst += MR;
                    p++;
                }
            }
            continue;
        }
        for (; p < kc; p++) {
            long col = ca[p0 + p];
            for (long i = 0; i < rows; i++) dst[i] = a[rr[i] + col];
            for (long i = rows; i < MR; i++) dst[i] = 0;
            dst += MR;
        }
    }
}

/// Packs rows p0..<p0+kc, columns j0..<j0+nc of the view B into panels of NR columns.
AVX2 static void pack_b_view(float *restrict dst, const float *restrict b, const long *rb, const long *cb, long p0,
                             long kc, long j0, long nc) {
    for (long c = 0; c < nc; c += NR) {
        long cols = nc - c < NR ? nc - c : NR;
        const long *cc = cb + j0 + c;
        if (cols == NR && runs(cc, NR)) {
            for (long p = 0; p < kc; p++) {
                const float *src = b + rb[p0 + p] + cc[0];
                _mm256_store_ps(dst, _mm256_loadu_ps(src));
                _mm256_store_ps(dst + 8, _mm256_loadu_ps(src + 8));
                dst += NR;
            }
            continue;
        }
        if (cols == NR) {
            // Four columns at a time where they run by one (a row of a 4-wide
            // kernel window), one by one elsewhere.
            int quad[4], all = 1;
            for (int q = 0; q < 4; q++) all &= quad[q] = runs(cc + 4 * q, 4);
            for (long p = 0; p < kc; p++) {
                const long *rp = rb + p0 + p;
                if (!all && p + 8 <= kc && runs(rp, 4) && runs(rp + 4, 4)) {
                    // Eight rows in two runs of four (the taps of two rows of a
                    // window): each column gives eight values in two loads, and
                    // two 8×8 transposes give eight rows of the panel.
                    for (int half = 0; half < 2; half++) {
                        __m256 t[8];
                        for (int j = 0; j < 8; j++) {
                            const float *col = b + cc[8 * half + j];
                            t[j] = _mm256_set_m128(_mm_loadu_ps(col + rp[4]), _mm_loadu_ps(col + rp[0]));
                        }
                        transpose8(t);
                        for (int q = 0; q < 8; q++) _mm256_store_ps(dst + q * NR + 8 * half, t[q]);
                    }
                    dst += 8 * NR;
                    p += 7;
                    continue;
                }
                const float *row = b + rp[0];
                for (int q = 0; q < 4; q++) {
                    const long *cq = cc + 4 * q;
                    if (quad[q]) {
                        _mm_store_ps(dst + 4 * q, _mm_loadu_ps(row + cq[0]));
                    } else {
                        for (int j = 0; j < 4; j++) dst[4 * q + j] = row[cq[j]];
                    }
                }
                dst += NR;
            }
            continue;
        }
        for (long p = 0; p < kc; p++) {
            const float *row = b + rb[p0 + p];
            for (long j = 0; j < cols; j++) dst[j] = row[cc[j]];
            for (long j = cols; j < NR; j++) dst[j] = 0;
            dst += NR;
        }
    }
}

/// The tile A panel · B panel into the view C at rows rc[0..<mr], columns
/// cc[0..<nr]: C ← tile + C when `add`, else tile + bias[row] (or the tile).
AVX2 static void store_tile_view(__m256 out[MR][2], float *restrict c, const long *rc, const long *cc,
                                 const float *bias, int add, long mr, long nr, int cols_run) {
    if (nr == NR && cols_run) {
        for (long r = 0; r < mr; r++) {
            float *row = c + rc[r] + cc[0];
            for (int h = 0; h < 2; h++) {
                __m256 v = out[r][h];
                if (add) v = _mm256_add_ps(v, _mm256_loadu_ps(row + 8 * h));
                else if (bias) v = _mm256_add_ps(v, _mm256_set1_ps(bias[r]));
                _mm256_storeu_ps(row + 8 * h, v);
            }
        }
        return;
    }
    float tile[MR][NR] __attribute__((aligned(32)));
    for (int r = 0; r < MR; r++) {
        _mm256_store_ps(tile[r], out[r][0]);
        _mm256_store_ps(tile[r] + 8, out[r][1]);
    }
    for (long r = 0; r < mr; r++) {
        float *row = c + rc[r];
        for (long j = 0; j < nr; j++) {
            float v = tile[r][j];
            row[cc[j]] = add ? v + row[cc[j]] : bias ? v + bias[r] : v;
        }
    }
}

AVX2 static void micro_kernel_view(long kc, const float *restrict a, const float *restrict b, float *restrict c,
                                   const long *rc, const long *cc, const float *bias, int add, long mr, long nr,
                                   int cols_run) {
    __m256 out[MR][2];
    tile_product(kc, a, b, out);
    store_tile_view(out, c, rc, cc, bias, add, mr, nr, cols_run);
}

/// Every panel of the packed A block (mc rows) times one packed panel of B,
/// into the view C at rows rc[0..<mc] and columns ccol[0..<nr]: two panels
/// at a time where `pairs`, the last one alone.
AVX2 static void column_of_tiles(long kc, long mc, const float *pa, const float *pb, float *c, const long *rc,
                                 const long *ccol, const float *bias, int add, long nr, int cols_run, int pairs) {
    long ir = 0;
    if (pairs) {
        // Two panels of A at a time (the last may be padded with zeros).
        for (; ir + MR < mc; ir += 2 * MR) {
            __m256 t0[MR][2], t1[MR][2];
            long mr1 = mc - ir - MR < MR ? mc - ir - MR : MR;
            tile_pair(kc, pa + ir * kc, pa + (ir + MR) * kc, pb, t0, t1);
            store_tile_view(t0, c, rc + ir, ccol, bias ? bias + ir : NULL, add, MR, nr, cols_run);
            store_tile_view(t1, c, rc + ir + MR, ccol, bias ? bias + ir + MR : NULL, add, mr1, nr, cols_run);
        }
    }
    for (; ir < mc; ir += MR) {
        long mr = mc - ir < MR ? mc - ir : MR;
        micro_kernel_view(kc, pa + ir * kc, pb, c, rc + ir, ccol, bias ? bias + ir : NULL, add, mr, nr, cols_run);
    }
}

int gk_sgemm_view(long m, long n, long k, const float *a, const long *ra, const long *ca, const float *b,
                  const long *rb, const long *cb, float *c, const long *rc, const long *cc, const float *bias,
                  int accumulate) {
    if (m <= 0 || n <= 0) return 0;
    if (!gk_sgemm_available()) return -1;
    int pairs = pairs_available();
    long kc_max = k < KC ? k : KC, nc_max = n < NC ? n : NC, mc_max = m < MC ? m : MC;
    if (kc_max < 1) kc_max = 1;
    float *pb = buffer(&packed_b, &packed_b_size, (size_t)kc_max * (size_t)((nc_max + NR - 1) / NR * NR));
    float *pa = buffer(&packed_a, &packed_a_size, (size_t)kc_max * (size_t)((mc_max + MR - 1) / MR * MR));
    if (!pa || !pb) return -1;
    if (k <= 0) {
        for (long i = 0; i < m; i++)
            for (long j = 0; j < n; j++) {
                float *x = c + rc[i] + cc[j];
                *x = accumulate ? *x : bias ? bias[i] : 0;
            }
        return 0;
    }
    for (long jc = 0; jc < n; jc += NC) {
        long nc = n - jc < NC ? n - jc : NC;
        for (long pc = 0; pc < k; pc += KC) {
            long kc = k - pc < KC ? k - pc : KC;
            // The first block over k starts from C, the bias or nothing; the later ones add to it.
            int add = pc > 0 || accumulate;
            pack_b_view(pb, b, rb, cb, pc, kc, jc, nc);
            for (long ic = 0; ic < m; ic += MC) {
                long mc = m - ic < MC ? m - ic : MC;
                pack_a_view(pa, a, ra, ca, ic, mc, pc, kc);
                for (long jr = 0; jr < nc; jr += NR) {
                    long nr = nc - jr < NR ? nc - jr : NR;
                    const long *ccol = cc + jc + jr;
                    int cols_run = nr == NR && runs(ccol, NR);
                    column_of_tiles(kc, mc, pa, pb + jr * kc, c, rc + ic, ccol, bias ? bias + ic : NULL, add, nr,
                                    cols_run, pairs);
                }
            }
        }
    }
    return 0;
}

/// Per-thread buffers of the fold: all of B packed, and one block of rows of C.
static _Thread_local float *packed_all_b, *rows_c;
static _Thread_local size_t packed_all_b_size, rows_c_size;

int gk_sgemm_view_fold(long m, long n, long k, const float *a, const long *ra, const long *ca, const float *b,
                       const long *rb, const long *cb, float *image, long r0, long c, long h, long w, long oh,
                       long ow, long kh, long kw, long sh, long sw, long ph, long pw) {
    if (m <= 0 || n <= 0 || k <= 0) return 0;  // no patches, or patches of zeros: nothing to fold
    if (!gk_sgemm_available()) return -1;
    int pairs = pairs_available();
    long kc_max = k < KC ? k : KC, n16 = (n + NR - 1) / NR * NR;
    float *pb = buffer(&packed_all_b, &packed_all_b_size, (size_t)k * (size_t)n16);
    float *pa = buffer(&packed_a, &packed_a_size, (size_t)kc_max * (size_t)MC);
    float *rows = buffer(&rows_c, &rows_c_size, (size_t)MC * (size_t)n);
    long *column_at = malloc((size_t)n * sizeof(long));
    if (!pa || !pb || !rows || !column_at) {
        free(column_at);
        return -1;
    }
    // The block of rows read as a view: row i at i·n, column j at j.
    long row_at[MC];
    for (long i = 0; i < MC; i++) row_at[i] = i * n;
    for (long j = 0; j < n; j++) column_at[j] = j;
    // B once: its blocks over k, each the panels of every block over n.
    for (long pc = 0; pc < k; pc += KC) {
        long kc = k - pc < KC ? k - pc : KC;
        for (long jc = 0; jc < n; jc += NC) {
            long nc = n - jc < NC ? n - jc : NC;
            pack_b_view(pb + pc * n16 + kc * jc, b, rb, cb, pc, kc, jc, nc);
        }
    }
    for (long ic = 0; ic < m; ic += MC) {
        long mc = m - ic < MC ? m - ic : MC;
        for (long pc = 0; pc < k; pc += KC) {
            long kc = k - pc < KC ? k - pc : KC;
            pack_a_view(pa, a, ra, ca, ic, mc, pc, kc);
            for (long jc = 0; jc < n; jc += NC) {
                long nc = n - jc < NC ? n - jc : NC;
                const float *pbc = pb + pc * n16 + kc * jc;
                for (long jr = 0; jr < nc; jr += NR) {
                    long nr = nc - jr < NR ? nc - jr : NR;
                    column_of_tiles(kc, mc, pa, pbc + jr * kc, rows, row_at, column_at + jc + jr, NULL, pc > 0, nr,
                                    nr == NR, pairs);
                }
            }
        }
        gk_col2im_rows(rows, image, r0 + ic, r0 + ic + mc, c, h, w, oh, ow, kh, kw, sh, sw, ph, pw);
    }
    free(column_at);
    return 0;
}

#else

int gk_sgemm_available(void) { return 0; }

int gk_sgemm(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a, long lda,
             const float *b, long ldb, float beta, float *c, long ldc, const float *bias) {
    (void)trans_a, (void)trans_b, (void)m, (void)n, (void)k, (void)alpha, (void)a, (void)lda, (void)b, (void)ldb,
        (void)beta, (void)c, (void)ldc, (void)bias;
    return -1;
}

int gk_sgemm_view_pairs(void) { return 0; }

int gk_sgemm_view_fold(long m, long n, long k, const float *a, const long *ra, const long *ca, const float *b,
                       const long *rb, const long *cb, float *image, long r0, long c, long h, long w, long oh,
                       long ow, long kh, long kw, long sh, long sw, long ph, long pw) {
    (void)m, (void)n, (void)k, (void)a, (void)ra, (void)ca, (void)b, (void)rb, (void)cb, (void)image, (void)r0,
        (void)c, (void)h, (void)w, (void)oh, (void)ow, (void)kh, (void)kw, (void)sh, (void)sw, (void)ph, (void)pw;
    return -1;
}

int gk_sgemm_view(long m, long n, long k, const float *a, const long *ra, const long *ca, const float *b,
                  const long *rb, const long *cb, float *c, const long *rc, const long *cc, const float *bias,
                  int accumulate) {
    (void)m, (void)n, (void)k, (void)a, (void)ra, (void)ca, (void)b, (void)rb, (void)cb, (void)c, (void)rc, (void)cc,
        (void)bias, (void)accumulate;
    return -1;
}

#endif
