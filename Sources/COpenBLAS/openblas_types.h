/* The C signatures of the few OpenBLAS entry points gans uses.
   OpenBLAS is opened with dlopen at run time, after the kernel family has been
   chosen (OPENBLAS_CORETYPE is read once, when the library loads), so nothing
   here links against it. */
#ifndef GANS_OPENBLAS_TYPES_H
#define GANS_OPENBLAS_TYPES_H

enum { GANS_CBLAS_ROW_MAJOR = 101, GANS_CBLAS_NO_TRANS = 111, GANS_CBLAS_TRANS = 112 };

typedef void (*gans_cblas_sgemm_fn)(int order, int transA, int transB,
                                    int m, int n, int k, float alpha,
                                    const float *a, int lda, const float *b, int ldb,
                                    float beta, float *c, int ldc);
typedef char *(*gans_openblas_get_corename_fn)(void);
typedef void (*gans_openblas_set_num_threads_fn)(int);

#endif
