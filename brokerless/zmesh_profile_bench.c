/*  zmesh_profile_bench.c: the node's short baseline benchmark (see zmesh_profile.h). */
#include "zmesh_profile.h"
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  --------------------------------------------------------------------------------------------
//  Baseline benchmark

#define S_HASH_BLOCK_BYTES (16u * 1024)  //  one BLAKE2b input
#define S_HASH_BLOCKS      16            //  blocks per timed unit
#define S_INT_STEPS        (1u << 16)    //  xorshift64* steps per timed unit

//  Through a volatile pointer, so that the compiler cannot prove a copy is never read.
//  (Each benchmark stores its last result in a local volatile for the same reason: no state is
//  shared, so two nodes in one process may run it at once.)
static void *(*volatile s_memcpy) (void *, const void *, size_t) = memcpy;

static uint64_t
s_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

//  work units per second, from work done in elapsed_ns.
static uint64_t
s_rate (uint64_t work, uint64_t elapsed_ns)
{
    if (elapsed_ns == 0)
        elapsed_ns = 1;
    return (uint64_t) ((double) work * 1e9 / (double) elapsed_ns);
}

//  BLAKE2b over a fixed block, each digest folded into the next input so no call is idle.
static uint64_t
s_bench_hash (uint64_t budget_ns)
{
    uint8_t block [S_HASH_BLOCK_BYTES];
    for (size_t i = 0; i < sizeof block; i++)
        block [i] = (uint8_t) (i * 131 + 7);
    uint8_t digest [crypto_generichash_BYTES];
    uint64_t bytes = 0, start = s_now_ns (), elapsed;
    do {
        for (int i = 0; i < S_HASH_BLOCKS; i++) {
            crypto_generichash (digest, sizeof digest, block, sizeof block, NULL, 0);
            memcpy (block, digest, sizeof digest);
        }
        bytes += (uint64_t) S_HASH_BLOCKS * S_HASH_BLOCK_BYTES;
        elapsed = s_now_ns () - start;
    } while (elapsed < budget_ns);
    volatile uint8_t sink = block [0];
    (void) sink;
    return s_rate (bytes, elapsed);
}

//  A chain of xorshift64* steps (Vigna 2014): integer shifts, xors and a multiply, each
//  depending on the one before, so the figure is latency-bound and comparable across cores.
static uint64_t
s_bench_int (uint64_t budget_ns)
{
    uint64_t x = 0x9e3779b97f4a7c15ull, sum = 0, ops = 0, start = s_now_ns (), elapsed;
    do {
        for (uint32_t i = 0; i < S_INT_STEPS; i++) {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            sum += x * 0x2545f4914f6cdd1dull;
        }
        ops += S_INT_STEPS;
        elapsed = s_now_ns () - start;
    } while (elapsed < budget_ns);
    volatile uint64_t sink = sum;
    (void) sink;
    return s_rate (ops, elapsed);
}

//  memcpy between the two halves of a buffer larger than any L2 (and most L3) cache, until
//  deadline_ns. The pages are touched first, so page faults are not counted.
static int
s_bench_mem (uint64_t deadline_ns, uint64_t *bytes_per_s)
{
    const size_t half = ZMESH_PROFILE_BENCH_MEM_BYTES / 2;
    uint8_t *buf = malloc (ZMESH_PROFILE_BENCH_MEM_BYTES);
    if (!buf)
        return ZMESH_ENOMEM;
    memset (buf, 0x5a, ZMESH_PROFILE_BENCH_MEM_BYTES);
    uint64_t bytes = 0, round = 0, start = s_now_ns (), elapsed;
    do {
        uint8_t *from = round & 1 ? buf + half : buf, *to = round & 1 ? buf : buf + half;
        s_memcpy (to, from, half);
        bytes += half;
        round++;
        elapsed = s_now_ns () - start;
    } while (start + elapsed < deadline_ns);
    volatile uint8_t sink = buf [half - 1];
    (void) sink;
    free (buf);
    *bytes_per_s = s_rate (bytes, elapsed);
    return ZMESH_OK;
}

int
zmesh_profile_bench (zmesh_profile_bench_t *out, uint32_t budget_ms)
{
    ZMESH_ASSERT (out);
    memset (out, 0, sizeof *out);
    if (sodium_init () < 0)
        return ZMESH_ECRYPTO;
    if (budget_ms == 0)
        budget_ms = ZMESH_PROFILE_BENCH_BUDGET_MS_DEFAULT;
    //  A quarter each to hashing and integers; memory has the rest, its first touch included.
    uint64_t budget_ns = (uint64_t) budget_ms * 1000000u, start = s_now_ns ();
    out->hash_bytes_per_s = s_bench_hash (budget_ns / 4);
    out->int_ops_per_s = s_bench_int (budget_ns / 4);
    int rc = s_bench_mem (start + budget_ns, &out->mem_copy_bytes_per_s);
    out->duration_ms = (uint32_t) ((s_now_ns () - start + 999999) / 1000000);
    out->valid = true;
    return rc;
}
