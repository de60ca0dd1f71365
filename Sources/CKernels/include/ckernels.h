// Hot elementwise and data-movement loops of the tensor core, in C so that each is compiled
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
/// out = tanh x, within 2 ulp, the same bits on every x86-64 CPU.
void gk_tanh(float *out, const float *x, long n);
/// out = g·(1 − t·t), rounded after each operation: tanh's gradient from its output t.
void gk_tanh_gradient(float *out, const float *g, const float *t, long n);
/// x[i] = x[i] < 0 ? slope·x[i] : x[i] in place, with slope ≥ 0; slope 0 is relu (0, not −0·∞).
void gk_leaky_relu_in_place(float *x, long n, float slope);
/// out[i] = y[i] > 0 ? g[i] : slope·g[i] over rows × cols, and
/// sums[c] = Σ_r out[r·cols + c] added in the order gk_column_sums adds.
void gk_masked_gradient_sums(float *out, float *sums, const float *g, const float *y, long rows, long cols, float slope);
/// gk_leaky_relu_in_place on each of rows rows of cols values, ld apart.
void gk_leaky_relu_rows(float *x, long ld, long rows, long cols, float slope);
/// The first cols of each of `rows` rows of out (ld apart) set to b.
void gk_fill_rows(float *out, long ld, const float *b, long rows, long cols);
/// out[c] = Σ_r x[r·cols + c].
void gk_column_sums(float *out, const float *x, long rows, long cols);
/// Σ x[i]², summed in 16 lanes in a fixed order (the same bits in every copy).
float gk_sum_of_squares(const float *x, long n);
/// 1 when every x[i] is finite, else 0.
int gk_all_finite(const float *x, long n);
/// One Adam update of n weights (PyTorch's formula; weight decay added to the gradient).
void gk_adam(float *w, const float *g, float *m, float *v, long n,
             float beta1, float beta2, float eps, float weightDecay, float stepSize, float c2root);
/// 1 when the Adam update gk_adam would make with these arguments leaves w, m and v finite, else 0 (nothing is written).
int gk_adam_finite(const float *w, const float *g, const float *m, const float *v, long n,
                   float beta1, float beta2, float eps, float weightDecay, float stepSize, float c2root);
/// dst[b, j, i] = src[b, i, j] for b in b0..<b1 of `[batch, rows, cols]` input (8×8 blocks).
void gk_transpose(const float *src, float *dst, long b0, long b1, long rows, long cols);
/// Rows r0..<r1 of (image, output row) pairs of im2col: `[N, C, H, W]` → `[N·OH·OW, C·kh·kw]`,
/// zeros where the kernel lies in the padding.
void gk_im2col(const float *src, float *dst, long r0, long r1, long c, long h, long w, long oh, long ow,
               long kh, long kw, long sh, long sw, long ph, long pw);
/// gk_col2im for the rows of patches r0..<r1 only, read from src (row r0 first).
void gk_col2im_rows(const float *src, float *dst, long r0, long r1, long c, long h, long w, long oh, long ow,
                    long kh, long kw, long sh, long sw, long ph, long pw);
/// Planes p0..<p1 of an [N·C, H, W] batch into [N·C, H+2·ph, W+2·pw], with zeros around.
void gk_pad2d(const float *src, float *dst, long p0, long p1, long h, long w, long ph, long pw);
/// Images b0..<b1 of col2im, the adjoint of im2col: each patch value added into its pixel (dst zeroed first).
void gk_col2im(const float *src, float *dst, long b0, long b1, long c, long h, long w, long oh, long ow,
               long kh, long kw, long sh, long sw, long ph, long pw);
/// For channels k0..<k1 of x viewed as [n, c, s]: mean[k] and squares[k] = Σ (x − mean)², each
/// summed in 16 lanes in a fixed order.
void gk_channel_moments(const float *x, long n, long c, long s, long k0, long k1, float *mean, float *squares);
/// For channels k0..<k1: sumG[k] = Σ g and sumGX[k] = Σ g·(x − mean)·invStd (batch norm's backward).
void gk_batch_norm_sums(const float *x, const float *g, long n, long c, long s, long k0, long k1,
                        const float *mean, const float *invStd, float *sumG, float *sumGX);

/// One chunk of a pool job: called with the job's context and the chunk's index.
typedef void (*gk_chunk_fn)(void *context, long chunk);
/// Runs chunks 0..<chunks of fn, each exactly once, on the calling thread and the
/// pool's helpers (started on first use, one per further CPU); returns when all are done.
/// A call made while a job runs (from a chunk, or another thread) runs its chunks inline.
void gk_pool_run(long chunks, gk_chunk_fn fn, void *context);
/// The threads a pool job runs on: the caller and the helpers.
int gk_pool_threads(void);
/// While on, every job runs all its chunks on the calling thread, in order:
/// the same chunks, so the same numbers, with the helpers left idle.
void gk_pool_set_solo(int on);
int gk_pool_solo(void);
/// Pins the calling process to one CPU (Linux); 0 on success, −1 otherwise.
int gk_pin_to_cpu(int cpu);


/// Whether gk_sgemm runs on this CPU (x86-64 with AVX2 and FMA).
int gk_sgemm_available(void);
/// C ← α·op(A)·op(B) + β·C, row-major, op(A) m×k, op(B) k×n; C is not read
/// when β is 0. With `bias` (n values), C ← α·op(A)·op(B) + bias[j] on
/// column j and β is ignored: the bits of C set to the bias with β = 1, in
/// one pass over C. Every element is summed over k in one order whatever m
/// and n, so blocks of rows or columns of a product give the bits of the
/// whole. Returns 0, or -1 when it cannot run (no AVX2, or out of memory).
int gk_sgemm(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a, long lda,
             const float *b, long ldb, float beta, float *c, long ldc, const float *bias);
/// C ← A·B (+ C when `accumulate`, else + bias[i] on row i when `bias`),
/// over views: element (i, j) of A is a[ra[i] + ca[j]], of B b[rb[i] + cb[j]],
/// of C c[rc[i] + cc[j]]; A is m×k, B k×n. Each element of C is summed over
/// k in the order gk_sgemm sums it. Returns 0, or -1 when it cannot run.
int gk_sgemm_view(long m, long n, long k, const float *a, const long *ra, const long *ca, const float *b,
                  const long *rb, const long *cb, float *c, const long *rc, const long *cc, const float *bias,
                  int accumulate);
/// Whether the products over views run two 6×16 tiles at a time in
/// 16-wide registers (AVX-512F, unless GANS_GEMM_WIDTH=256): the same bits.
int gk_sgemm_view_pairs(void);
/// The rows r0..<r1 of patches A·B (A m×k with m = r1 − r0, B k×n over
/// views, n = channels·kh·kw), folded into the zeroed or partly summed
/// batch `image` as gk_col2im folds them, block by block of rows, so the
/// patches never fill memory. Each value gets the bits of gk_sgemm_view
/// then gk_col2im_rows. Returns 0, or -1 when it cannot run.
int gk_sgemm_view_fold(long m, long n, long k, const float *a, const long *ra, const long *ca, const float *b,
                       const long *rb, const long *cb, float *image, long r0, long c, long h, long w, long oh,
                       long ow, long kh, long kw, long sh, long sw, long ph, long pw);

#endif
