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

// A vector loop per row: a memcpy call per short row costs more than the copy.
CLONES __attribute__((no_builtin("memcpy")))
void gk_fill_rows(float *restrict out, const float *restrict b, long rows, long cols) {
    for (long r = 0; r < rows; r++) {
        float *row = out + r * cols;
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

// Sixteen partial sums, one per lane, combined in a fixed order: the copies
// differ only in how many lanes a vector holds, not in what is added to what.
CLONES float gk_sum_of_squares(const float *restrict x, long n) {
    float acc[16] = {0};
    long i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) acc[j] += x[i + j] * x[i + j];
    float tail = 0;
    for (; i < n; i++) tail += x[i] * x[i];
    for (int w = 8; w >= 1; w /= 2)
        for (int j = 0; j < w; j++) acc[j] += acc[j + w];
    return acc[0] + tail;
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
