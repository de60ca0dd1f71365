#include "ckernels.h"

// No fused multiply-adds: every copy computes the bits the baseline one does,
// so a run gives the same numbers on any x86-64 CPU.
#pragma clang fp contract(off)

#if defined(__x86_64__) && defined(__linux__)
// One copy per instruction set; the loader's ifunc picks the widest the CPU runs.
#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CLONES
#endif

CLONES void gk_relu(float *restrict out, const float *restrict x, long n) {
    for (long i = 0; i < n; i++) out[i] = x[i] < 0 ? 0 : x[i];
}

CLONES void gk_leaky_relu(float *restrict out, const float *restrict x, long n, float slope) {
    for (long i = 0; i < n; i++) out[i] = x[i] < 0 ? slope * x[i] : x[i];
}

CLONES void gk_masked_gradient(float *restrict out, const float *restrict g, const float *restrict x, long n, float slope) {
    for (long i = 0; i < n; i++) out[i] = x[i] > 0 ? g[i] : slope * g[i];
}

// tanh in a loop the compiler vectorizes (libm's tanhf is a call per value,
// through expm1f): within 2 ulp of the exact value, and the same bits in
// every copy (no fused multiply-adds, rounding by adding 1.5·2²³).
CLONES void gk_tanh(float *restrict out, const float *restrict x, long n) {
    for (long i = 0; i < n; i++) {
        float v = x[i];
        float a = v < 0 ? -v : v;
        // |v| ≥ 0.625: tanh a = 1 − 2/(e^(2a) + 1), e^t = 2^k·e^r with
        // k = round(t/ln 2), r = t − k·ln 2 in [−ln 2/2, ln 2/2] (ln 2 in
        // two parts), e^r by its Taylor series to r⁷. Beyond 9, tanh a
        // rounds to 1, so t stops at 18.
        float t = a < 9.0f ? 2 * a : 18.0f;
        float k = (t * 1.44269504f + 12582912.0f) - 12582912.0f;
        float r = (t - k * 0.693145752f) - k * 1.42860677e-06f;
        float p = 1 + r * (1 + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 +
                  r * (1.0f / 720 + r * (1.0f / 5040)))))));
        int bits = ((int)k + 127) << 23;
        float scale;
        __builtin_memcpy(&scale, &bits, sizeof scale);
        float big = 1 - 2 / (p * scale + 1);
        // |v| < 0.625: tanh's Taylor series to a²¹ (the first term left
        // out is below 10⁻⁸ of tanh a).
        float s2 = a * a;
        float q = -1.0f / 3 + s2 * (2.0f / 15 + s2 * (-17.0f / 315 + s2 * (62.0f / 2835 + s2 * (-1382.0f / 155925 +
                  s2 * (21844.0f / 6081075 + s2 * (-929569.0f / 638512875.0f + s2 * (6404582.0f / 10854718875.0f +
                  s2 * (-443861162.0f / 1856156927625.0f + s2 * (18888466084.0f / 194896477400625.0f)))))))));
        float small = a + a * (s2 * q);
        float y = a < 0.625f ? small : big;
        y = __builtin_copysignf(y, v);
        out[i] = v != v ? v : y;  // NaN stays NaN
    }
}

CLONES void gk_tanh_gradient(float *restrict out, const float *restrict g, const float *restrict t, long n) {
    for (long i = 0; i < n; i++) out[i] = g[i] * (1 - t[i] * t[i]);
}

CLONES void gk_leaky_relu_in_place(float *x, long n, float slope) {
    if (slope == 0) {
        for (long i = 0; i < n; i++) x[i] = x[i] < 0 ? 0 : x[i];
    } else {
        for (long i = 0; i < n; i++) x[i] = x[i] < 0 ? slope * x[i] : x[i];
    }
}

CLONES void gk_masked_gradient_sums(float *restrict out, float *restrict sums, const float *restrict g,
                                    const float *restrict y, long rows, long cols, float slope) {
    for (long c = 0; c < cols; c++) sums[c] = 0;
    for (long r = 0; r < rows; r++) {
        const float *gr = g + r * cols, *yr = y + r * cols;
        float *o = out + r * cols;
        for (long c = 0; c < cols; c++) {
            float v = yr[c] > 0 ? gr[c] : slope * gr[c];
            o[c] = v;
            sums[c] += v;
        }
    }
}

CLONES void gk_leaky_relu_rows(float *x, long ld, long rows, long cols, float slope) {
    for (long r = 0; r < rows; r++) gk_leaky_relu_in_place(x + r * ld, cols, slope);
}

// A vector loop per row: a memcpy call per short row costs more than the copy.
CLONES __attribute__((no_builtin("memcpy")))
void gk_fill_rows(float *restrict out, long ld, const float *restrict b, long rows, long cols) {
    for (long r = 0; r < rows; r++) {
        float *row = out + r * ld;
        for (long c = 0; c < cols; c++) row[c] = b[c];
    }
}

CLONES void gk_column_sums(float *restrict out, const float *restrict x, long rows, long cols) {
    for (long c = 0; c < cols; c++) out[c] = 0;
    for (long r = 0; r < rows; r++) {
        const float *row = x + r * cols;
        for (long c = 0; c < cols; c++) out[c] += row[c];
    }
}

CLONES void gk_adam(float *restrict w, const float *restrict g, float *restrict m, float *restrict v, long n,
                    float beta1, float beta2, float eps, float weightDecay, float stepSize, float c2root) {
    for (long i = 0; i < n; i++) {
        float d = g[i] + weightDecay * w[i];
        float mi = beta1 * m[i] + (1 - beta1) * d;
        float vi = beta2 * v[i] + (1 - beta2) * d * d;
        m[i] = mi;
        v[i] = vi;
        w[i] -= stepSize * mi / (__builtin_sqrtf(vi) / c2root + eps);
    }
}

CLONES int gk_adam_finite(const float *restrict w, const float *restrict g, const float *restrict m,
                          const float *restrict v, long n, float beta1, float beta2, float eps, float weightDecay,
                          float stepSize, float c2root) {
    int bad = 0;
    for (long i = 0; i < n; i++) {
        float d = g[i] + weightDecay * w[i];
        float mi = beta1 * m[i] + (1 - beta1) * d;
        float vi = beta2 * v[i] + (1 - beta2) * d * d;
        float wi = w[i] - stepSize * mi / (__builtin_sqrtf(vi) / c2root + eps);
        // A NaN fails every comparison, an infinity this one.
        bad |= !(__builtin_fabsf(mi) <= 3.4028235e38f) | !(__builtin_fabsf(vi) <= 3.4028235e38f)
             | !(__builtin_fabsf(wi) <= 3.4028235e38f);
    }
    return !bad;
}

// Sixteen partial sums, one per lane, and a tail, combined in a fixed order:
// the copies differ only in how many lanes a vector holds, not in what is
// added to what.
static inline float gk_lanes_total(float acc[16], float tail) {
    for (int w = 8; w >= 1; w /= 2)
        for (int j = 0; j < w; j++) acc[j] += acc[j + w];
    return acc[0] + tail;
}

CLONES float gk_sum_of_squares(const float *restrict x, long n) {
    float acc[16] = {0};
    long i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) acc[j] += x[i + j] * x[i + j];
    float tail = 0;
    for (; i < n; i++) tail += x[i] * x[i];
    return gk_lanes_total(acc, tail);
}

// x·0 is 0 for a finite x and NaN for NaN or ±inf.
CLONES int gk_all_finite(const float *restrict x, long n) {
    float acc[16] = {0};
    long i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) acc[j] += x[i + j] * 0.0f;
    float tail = 0;
    for (; i < n; i++) tail += x[i] * 0.0f;
    for (int j = 0; j < 16; j++) tail += acc[j];
    return tail == 0;
}

// MARK: Data movement of the convolutions

typedef float gk_v8 __attribute__((vector_size(32), aligned(4), may_alias));

// Rows i0..i0+7, columns j0..j0+7 of s (cols wide) into o (rows wide),
// transposed: three rounds of shuffles, lowered per instruction set.
static inline void gk_transpose8x8(const float *restrict s, float *restrict o, long cols, long rows) {
    gk_v8 r0 = *(const gk_v8 *)(s + 0 * cols), r1 = *(const gk_v8 *)(s + 1 * cols);
    gk_v8 r2 = *(const gk_v8 *)(s + 2 * cols), r3 = *(const gk_v8 *)(s + 3 * cols);
    gk_v8 r4 = *(const gk_v8 *)(s + 4 * cols), r5 = *(const gk_v8 *)(s + 5 * cols);
    gk_v8 r6 = *(const gk_v8 *)(s + 6 * cols), r7 = *(const gk_v8 *)(s + 7 * cols);
    gk_v8 t0 = __builtin_shufflevector(r0, r1, 0, 8, 1, 9, 4, 12, 5, 13);
    gk_v8 t1 = __builtin_shufflevector(r0, r1, 2, 10, 3, 11, 6, 14, 7, 15);
    gk_v8 t2 = __builtin_shufflevector(r2, r3, 0, 8, 1, 9, 4, 12, 5, 13);
    gk_v8 t3 = __builtin_shufflevector(r2, r3, 2, 10, 3, 11, 6, 14, 7, 15);
    gk_v8 t4 = __builtin_shufflevector(r4, r5, 0, 8, 1, 9, 4, 12, 5, 13);
    gk_v8 t5 = __builtin_shufflevector(r4, r5, 2, 10, 3, 11, 6, 14, 7, 15);
    gk_v8 t6 = __builtin_shufflevector(r6, r7, 0, 8, 1, 9, 4, 12, 5, 13);
    gk_v8 t7 = __builtin_shufflevector(r6, r7, 2, 10, 3, 11, 6, 14, 7, 15);
    gk_v8 u0 = __builtin_shufflevector(t0, t2, 0, 1, 8, 9, 4, 5, 12, 13);
    gk_v8 u1 = __builtin_shufflevector(t0, t2, 2, 3, 10, 11, 6, 7, 14, 15);
    gk_v8 u2 = __builtin_shufflevector(t1, t3, 0, 1, 8, 9, 4, 5, 12, 13);
    gk_v8 u3 = __builtin_shufflevector(t1, t3, 2, 3, 10, 11, 6, 7, 14, 15);
    gk_v8 u4 = __builtin_shufflevector(t4, t6, 0, 1, 8, 9, 4, 5, 12, 13);
    gk_v8 u5 = __builtin_shufflevector(t4, t6, 2, 3, 10, 11, 6, 7, 14, 15);
    gk_v8 u6 = __builtin_shufflevector(t5, t7, 0, 1, 8, 9, 4, 5, 12, 13);
    gk_v8 u7 = __builtin_shufflevector(t5, t7, 2, 3, 10, 11, 6, 7, 14, 15);
    *(gk_v8 *)(o + 0 * rows) = __builtin_shufflevector(u0, u4, 0, 1, 2, 3, 8, 9, 10, 11);
    *(gk_v8 *)(o + 1 * rows) = __builtin_shufflevector(u1, u5, 0, 1, 2, 3, 8, 9, 10, 11);
    *(gk_v8 *)(o + 2 * rows) = __builtin_shufflevector(u2, u6, 0, 1, 2, 3, 8, 9, 10, 11);
    *(gk_v8 *)(o + 3 * rows) = __builtin_shufflevector(u3, u7, 0, 1, 2, 3, 8, 9, 10, 11);
    *(gk_v8 *)(o + 4 * rows) = __builtin_shufflevector(u0, u4, 4, 5, 6, 7, 12, 13, 14, 15);
    *(gk_v8 *)(o + 5 * rows) = __builtin_shufflevector(u1, u5, 4, 5, 6, 7, 12, 13, 14, 15);
    *(gk_v8 *)(o + 6 * rows) = __builtin_shufflevector(u2, u6, 4, 5, 6, 7, 12, 13, 14, 15);
    *(gk_v8 *)(o + 7 * rows) = __builtin_shufflevector(u3, u7, 4, 5, 6, 7, 12, 13, 14, 15);
}

CLONES void gk_transpose(const float *restrict src, float *restrict dst, long b0, long b1, long rows, long cols) {
    for (long b = b0; b < b1; b++) {
        const float *s = src + b * rows * cols;
        float *o = dst + b * rows * cols;
        long i = 0;
        for (; i + 8 <= rows; i += 8) {
            long j = 0;
            for (; j + 8 <= cols; j += 8) gk_transpose8x8(s + i * cols + j, o + j * rows + i, cols, rows);
            for (; j < cols; j++)
                for (long k = i; k < i + 8; k++) o[j * rows + k] = s[k * cols + j];
        }
        for (; i < rows; i++)
            for (long j = 0; j < cols; j++) o[j * rows + i] = s[i * cols + j];
    }
}

typedef float gk_v4 __attribute__((vector_size(16), aligned(4), may_alias));

// Kernel rows are short (often 4 wide): inline copies, not memcpy calls.
CLONES __attribute__((no_builtin("memcpy", "memset")))
void gk_im2col(const float *restrict src, float *restrict dst, long r0, long r1,
                      long c, long h, long w, long oh, long ow, long kh, long kw,
                      long sh, long sw, long ph, long pw) {
    long cols = c * kh * kw;
    for (long nr = r0; nr < r1; nr++) {
        long b = nr / oh, y = nr % oh;
        for (long xo = 0; xo < ow; xo++) {
            float *row = dst + ((b * oh + y) * ow + xo) * cols;
            long x0 = xo * sw - pw;
            int inside = x0 >= 0 && x0 + kw <= w;
            for (long ch = 0; ch < c; ch++) {
                const float *plane = src + (b * c + ch) * h * w;
                for (long i = 0; i < kh; i++) {
                    long iy = y * sh - ph + i;
                    float *k = row + (ch * kh + i) * kw;
                    if (iy < 0 || iy >= h) {
                        for (long j = 0; j < kw; j++) k[j] = 0;
                    } else if (inside && kw == 4) {
                        *(gk_v4 *)k = *(const gk_v4 *)(plane + iy * w + x0);
                    } else if (inside) {
                        const float *line = plane + iy * w + x0;
                        for (long j = 0; j < kw; j++) k[j] = line[j];
                    } else {
                        const float *line = plane + iy * w;
                        for (long j = 0; j < kw; j++) {
                            long ix = x0 + j;
                            k[j] = ix >= 0 && ix < w ? line[ix] : 0;
                        }
                    }
                }
            }
        }
    }
}

/// gk_col2im for the rows of patches r0..<r1 only (pixels of the batch,
/// in order), read from src, which holds row r0 first.
CLONES __attribute__((no_builtin("memcpy", "memset")))
void gk_col2im_rows(const float *restrict src, float *restrict dst, long r0, long r1,
                    long c, long h, long w, long oh, long ow, long kh, long kw,
                    long sh, long sw, long ph, long pw) {
    long cols = c * kh * kw;
    for (long r = r0; r < r1; r++) {
        long b = r / (oh * ow), y = r / ow % oh, xo = r % ow;
        float *image = dst + b * c * h * w;
        const float *row = src + (r - r0) * cols;
        long x0 = xo * sw - pw;
        int inside = x0 >= 0 && x0 + kw <= w;
        // A 4-wide window that sticks out of the image by 1 to 3 columns on
        // one side: its taps shifted into the 4 columns at that edge, −0
        // (which adds nothing, not even to −0) in the others.
        long edge = 0, shift = 0;
        if (!inside && kw == 4 && w >= 4) {
            if (x0 < 0 && x0 > -4) edge = 0, shift = x0;
            else if (x0 >= 0 && x0 + kw > w && x0 + kw < w + 4) edge = w - 4, shift = x0 - edge;
        }
        for (long ch = 0; ch < c; ch++) {
            float *plane = image + ch * h * w;
            for (long i = 0; i < kh; i++) {
                long iy = y * sh - ph + i;
                if (iy < 0 || iy >= h) continue;
                const float *k = row + (ch * kh + i) * kw;
                if (inside && kw == 4) {
                    gk_v4 *line = (gk_v4 *)(plane + iy * w + x0);
                    *line = *line + *(const gk_v4 *)k;
                } else if (shift != 0) {
                    gk_v4 t = *(const gk_v4 *)k, z = {-0.0f, -0.0f, -0.0f, -0.0f}, v;
                    switch (shift) {  // lane l of v is tap l − shift, where that is a tap
                    case -3: v = __builtin_shufflevector(t, z, 3, 4, 4, 4); break;
                    case -2: v = __builtin_shufflevector(t, z, 2, 3, 4, 4); break;
                    case -1: v = __builtin_shufflevector(t, z, 1, 2, 3, 4); break;
                    case 1: v = __builtin_shufflevector(t, z, 4, 0, 1, 2); break;
                    case 2: v = __builtin_shufflevector(t, z, 4, 4, 0, 1); break;
                    default: v = __builtin_shufflevector(t, z, 4, 4, 4, 0); break;
                    }
                    gk_v4 *line = (gk_v4 *)(plane + iy * w + edge);
                    *line = *line + v;
                } else if (inside) {
                    float *line = plane + iy * w + x0;
                    for (long j = 0; j < kw; j++) line[j] += k[j];
                } else {
                    float *line = plane + iy * w;
                    for (long j = 0; j < kw; j++) {
                        long ix = x0 + j;
                        if (ix >= 0 && ix < w) line[ix] += k[j];
                    }
                }
            }
        }
    }
}

CLONES void gk_pad2d(const float *restrict src, float *restrict dst, long p0, long p1, long h, long w, long ph,
                     long pw) {
    long hp = h + 2 * ph, wp = w + 2 * pw;
    for (long p = p0; p < p1; p++) {
        const float *in = src + p * h * w;
        float *out = dst + p * hp * wp;
        for (long i = 0; i < ph * wp; i++) out[i] = 0;
        for (long y = 0; y < h; y++) {
            float *row = out + (ph + y) * wp;
            if (pw == 1) {
                // The common padding of one: two stores, not two calls of memset.
                row[0] = 0;
                row[wp - 1] = 0;
            } else {
                for (long x = 0; x < pw; x++) row[x] = 0;
                for (long x = pw + w; x < wp; x++) row[x] = 0;
            }
            for (long x = 0; x < w; x++) row[pw + x] = in[y * w + x];
        }
        for (long i = (ph + h) * wp; i < hp * wp; i++) out[i] = 0;
    }
}

CLONES void gk_col2im(const float *restrict src, float *restrict dst, long b0, long b1,
                      long c, long h, long w, long oh, long ow, long kh, long kw,
                      long sh, long sw, long ph, long pw) {
    long plane = oh * ow;
    gk_col2im_rows(src + b0 * plane * c * kh * kw, dst, b0 * plane, b1 * plane, c, h, w, oh, ow, kh, kw, sh, sw,
                   ph, pw);
}

// MARK: Batch-norm reductions over x viewed as [N, C, S]

CLONES void gk_channel_moments(const float *restrict x, long n, long c, long s, long k0, long k1,
                               float *restrict mean, float *restrict squares) {
    float count = (float)(n * s);
    for (long k = k0; k < k1; k++) {
        float acc[16] = {0}, tail = 0;
        for (long i = 0; i < n; i++) {
            const float *b = x + (i * c + k) * s;
            long j = 0;
            for (; j + 16 <= s; j += 16)
                for (int l = 0; l < 16; l++) acc[l] += b[j + l];
            for (; j < s; j++) tail += b[j];
        }
        float m = gk_lanes_total(acc, tail) / count;
        float acc2[16] = {0}, tail2 = 0;
        for (long i = 0; i < n; i++) {
            const float *b = x + (i * c + k) * s;
            long j = 0;
            for (; j + 16 <= s; j += 16)
                for (int l = 0; l < 16; l++) { float d = b[j + l] - m; acc2[l] += d * d; }
            for (; j < s; j++) { float d = b[j] - m; tail2 += d * d; }
        }
        mean[k] = m;
        squares[k] = gk_lanes_total(acc2, tail2);
    }
}

CLONES void gk_batch_norm_sums(const float *restrict x, const float *restrict g, long n, long c, long s, long k0, long k1,
                               const float *restrict mean, const float *restrict invStd,
                               float *restrict sumG, float *restrict sumGX) {
    for (long k = k0; k < k1; k++) {
        float m = mean[k], inv = invStd[k];
        float a1[16] = {0}, a2[16] = {0}, t1 = 0, t2 = 0;
        for (long i = 0; i < n; i++) {
            const float *b = x + (i * c + k) * s, *gr = g + (i * c + k) * s;
            long j = 0;
            for (; j + 16 <= s; j += 16)
                for (int l = 0; l < 16; l++) { a1[l] += gr[j + l]; a2[l] += gr[j + l] * (b[j + l] - m) * inv; }
            for (; j < s; j++) { t1 += gr[j]; t2 += gr[j] * (b[j] - m) * inv; }
        }
        sumG[k] = gk_lanes_total(a1, t1);
        sumGX[k] = gk_lanes_total(a2, t2);
    }
}
