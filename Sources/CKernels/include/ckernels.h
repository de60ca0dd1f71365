// Hot elementwise loops of the tensor core, in C so that each is compiled
// for several instruction sets (AVX-512, AVX2, baseline) and the widest the
// CPU has is picked when the program loads. Plain loops; the compiler
// vectorises them.
#ifndef GANS_CKERNELS_H
#define GANS_CKERNELS_H

#include <stddef.h>

/// out[i] = x[i] < 0 ? 0 : x[i] (NaN passes through).
void gk_relu(float *out, const float *x, long n);
/// out[i] = x[i] < 0 ? slope·x[i] : x[i].
void gk_leaky_relu(float *out, const float *x, long n, float slope);
/// out[i] = x[i] > 0 ? g[i] : slope·g[i]: the backward of relu and leaky relu.
void gk_masked_gradient(float *out, const float *g, const float *x, long n, float slope);
/// Each of `rows` rows of out (cols wide) set to b.
void gk_fill_rows(float *out, const float *b, long rows, long cols);
/// out[c] = Σ_r x[r·cols + c].
void gk_column_sums(float *out, const float *x, long rows, long cols);
/// Σ x[i]², summed in 16 lanes in a fixed order (the same bits in every copy).
float gk_sum_of_squares(const float *x, long n);
/// 1 when every x[i] is finite, else 0.
int gk_all_finite(const float *x, long n);
/// One Adam update of n weights (PyTorch's formula; weight decay added to the gradient).
void gk_adam(float *w, const float *g, float *m, float *v, long n,
             float beta1, float beta2, float eps, float weightDecay, float stepSize, float c2root);

#endif
