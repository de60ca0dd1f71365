// The core's worker pool: the calling thread and one helper per further CPU
// run the chunks of one job, each chunk claimed by whoever is free first.
//
// Helpers spin for a short while after a job (the next product of a training
// step follows within microseconds), then sleep on a condition variable. A
// chunk is claimed with one compare-and-swap on a ticket that holds the
// job's generation, its chunk count and the next chunk, so a helper that
// wakes late cannot claim a chunk of a later job by mistake. When a helper is
// descheduled by the machine, the caller runs the remaining chunks itself.
#define _GNU_SOURCE
#include "ckernels.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

enum { max_helpers = 63, spin_nanoseconds = 2000000 };

static pthread_once_t started = PTHREAD_ONCE_INIT;
static int helpers;
static _Atomic uint64_t ticket;      // generation << 32 | chunk count << 16 | next chunk
static _Atomic long finished;        // chunks of the current job done
static _Atomic int busy;             // a job is running: a nested or concurrent call runs inline
static _Atomic int sleepers;
static _Atomic int solo;             // run every job on the calling thread (gk_pool_set_solo)
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static gk_chunk_fn job_fn;
static void *job_context;

static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static long long nanoseconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static inline uint32_t generation_of(uint64_t t) { return (uint32_t)(t >> 32); }

/// Claims the next chunk of job `generation`; -1 when none is left.
static long claim(uint32_t generation) {
    uint64_t t = atomic_load(&ticket);
    for (;;) {
        if (generation_of(t) != generation) return -1;
        long count = (long)((t >> 16) & 0xffff), next = (long)(t & 0xffff);
        if (next >= count) return -1;
        if (atomic_compare_exchange_weak(&ticket, &t, t + 1)) return next;
    }
}

static void run_claimed(uint32_t generation) {
    long i;
    while ((i = claim(generation)) >= 0) {
        job_fn(job_context, i);
        atomic_fetch_add(&finished, 1);
    }
}

static void *helper(void *unused) {
    (void)unused;
    uint32_t seen = generation_of(atomic_load(&ticket));
    for (;;) {
        long long since = nanoseconds();
        unsigned spins = 0;
        uint32_t g;
        while ((g = generation_of(atomic_load(&ticket))) == seen) {
            relax();
            if ((++spins & 255) == 0) {
                if (nanoseconds() - since > spin_nanoseconds) {
                    pthread_mutex_lock(&lock);
                    atomic_fetch_add(&sleepers, 1);
                    while ((g = generation_of(atomic_load(&ticket))) == seen) pthread_cond_wait(&wake, &lock);
                    atomic_fetch_sub(&sleepers, 1);
                    pthread_mutex_unlock(&lock);
                    break;
                }
                if ((spins & 4095) == 0) sched_yield();
            }
        }
        seen = g;
        run_claimed(g);
    }
    return NULL;
}

static void start(void) {
    long cpus = 1;
#ifdef __linux__
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) cpus = CPU_COUNT(&set);
    else cpus = sysconf(_SC_NPROCESSORS_ONLN);
#else
    cpus = sysconf(_SC_NPROCESSORS_ONLN);
#endif
    // GANS_THREADS caps the threads (a benchmark on one core of two); the
    // numbers never depend on it, only the speed.
    const char *cap = getenv("GANS_THREADS");
    if (cap && atol(cap) > 0 && atol(cap) < cpus) cpus = atol(cap);
    long want = cpus - 1;
    if (want > max_helpers) want = max_helpers;
    for (long i = 0; i < want; i++) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, helper, NULL) == 0) helpers++;
        pthread_attr_destroy(&attr);
    }
}

int gk_pool_threads(void) {
    pthread_once(&started, start);
    return helpers + 1;
}

void gk_pool_run(long chunks, gk_chunk_fn fn, void *context) {
    if (chunks <= 0) return;
    pthread_once(&started, start);
    int expected = 0;
    if (chunks == 1 || helpers == 0 || chunks > 0xffff || atomic_load_explicit(&solo, memory_order_relaxed) ||
        !atomic_compare_exchange_strong(&busy, &expected, 1)) {
        for (long i = 0; i < chunks; i++) fn(context, i);
        return;
    }
    job_fn = fn;
    job_context = context;
    atomic_store(&finished, 0);
    uint32_t generation = generation_of(atomic_load(&ticket)) + 1;
    atomic_store(&ticket, (uint64_t)generation << 32 | (uint64_t)chunks << 16);
    if (atomic_load(&sleepers) > 0) {
        pthread_mutex_lock(&lock);
        pthread_cond_broadcast(&wake);
        pthread_mutex_unlock(&lock);
    }
    run_claimed(generation);
    unsigned spins = 0;
    while (atomic_load(&finished) < chunks) {
        relax();
        if ((++spins & 4095) == 0) sched_yield();   // a helper holding a chunk may need this CPU
    }
    atomic_store(&busy, 0);
}

void gk_pool_set_solo(int on) { atomic_store_explicit(&solo, on != 0, memory_order_relaxed); }

int gk_pool_solo(void) { return atomic_load_explicit(&solo, memory_order_relaxed); }

int gk_pin_to_cpu(int cpu) {
#ifdef __linux__
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : -1;
#else
    (void)cpu;
    return -1;
#endif
}
