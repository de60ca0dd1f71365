// A stress driver for the worker pool (Sources/CKernels/pool.c), built with
// ThreadSanitizer by scripts/check-pool: many jobs of 1 to 7 chunks, with
// pauses long enough for the helpers to fall asleep, and nested jobs. Each
// chunk must run exactly once, and TSan must find no data race.
#include <stdio.h>
#include <unistd.h>
#include "ckernels.h"

static int counts[8];
static float data[8][256];
static float nested_data[2][3];

static void body(void *context, long i) {
    (void)context;
    counts[i]++;
    for (int j = 0; j < 256; j++) data[i][j] += 1.0f;
}

static void inner(void *context, long j) { ((float *)context)[j] += 1.0f; }

static void outer(void *context, long i) {
    (void)context;
    gk_pool_run(3, inner, nested_data[i]);
}

int main(void) {
    for (int round = 0; round < 20000; round++) {
        long n = 1 + round % 7;
        for (long i = 0; i < n; i++) counts[i] = 0;
        gk_pool_run(n, body, NULL);
        for (long i = 0; i < n; i++) {
            if (counts[i] != 1) {
                printf("pool: chunk %ld of %ld ran %d times in round %d\n", i, n, counts[i], round);
                return 1;
            }
        }
        if (round % 5000 == 0) usleep(5000);   // the helpers sleep after 2 ms
    }
    gk_pool_run(2, outer, NULL);
    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 3; j++) {
            if (nested_data[i][j] != 1.0f) { printf("pool: nested chunk %d.%d ran %g times\n", i, j, nested_data[i][j]); return 1; }
        }
    }
    printf("pool: 20,000 jobs and a nested one, every chunk once, on %d threads\n", gk_pool_threads());
    return 0;
}
