/*  bench_profile.c: this machine's profile, its baseline benchmark, and what a read costs.

    Usage: bench_profile [budget_ms] [reads]
      budget_ms  the benchmark's time budget (default ZMESH_PROFILE_BENCH_BUDGET_MS_DEFAULT)
      reads      profile reads timed for the per-read figure (default 200)

    Prints the profile as the gossip state map would carry it (key=value), the benchmark
    figures, then the cost of zmesh_profile_read, zmesh_profile_refresh and of the codecs,
    measured in this run.
*/
#include "zmesh_error.h"
#include "zmesh_profile.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t
s_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static void
s_print_kv (const zmesh_profile_t *profile)
{
    static zmesh_profile_kv_t kv [ZMESH_PROFILE_KV_MAX];
    size_t count;
    int rc =
        zmesh_profile_to_kv (profile, ZMESH_PROFILE_SECTION_ALL, kv, ZMESH_PROFILE_KV_MAX, &count);
    printf ("profile (%zu pairs%s):\n", count, rc ? ", truncated" : "");
    for (size_t i = 0; i < count; i++)
        printf ("  %s=%s\n", kv [i].key, kv [i].value);
}

int
main (int argc, char *argv [])
{
    uint32_t budget_ms = argc > 1 ? (uint32_t) strtoul (argv [1], NULL, 10) : 0;
    int reads = argc > 2 ? atoi (argv [2]) : 200;
    if (reads < 1)
        reads = 1;

    //  Two reads a moment apart give a utilisation figure; the benchmark runs between them.
    static zmesh_profile_t profile;
    zmesh_profile_read (&profile, NULL, NULL);
    uint64_t start = s_now_ns ();
    int rc = zmesh_profile_bench (&profile.bench, budget_ms);
    uint64_t bench_ns = s_now_ns () - start;
    if (rc)
        fprintf (stderr, "bench_profile: benchmark: %s\n", zmesh_strerror (rc));
    zmesh_profile_read (&profile, NULL, &profile);
    s_print_kv (&profile);

    const zmesh_profile_bench_t *b = &profile.bench;
    printf ("\nbaseline benchmark (budget %u ms, took %.1f ms wall):\n",
            budget_ms ? budget_ms : ZMESH_PROFILE_BENCH_BUDGET_MS_DEFAULT, (double) bench_ns / 1e6);
    printf ("  BLAKE2b hash     %10.1f MB/s  (one core)\n", (double) b->hash_bytes_per_s / 1e6);
    printf ("  xorshift64* int  %10.1f M ops/s  (one core, dependent chain)\n",
            (double) b->int_ops_per_s / 1e6);
    printf ("  memcpy 64 MiB    %10.2f GB/s  (bytes copied per second)\n",
            (double) b->mem_copy_bytes_per_s / 1e9);

    //  The cost of a read, with statvfs as the health actor would do it.
    static zmesh_profile_t again;
    start = s_now_ns ();
    for (int i = 0; i < reads; i++)
        zmesh_profile_read (&again, NULL, &again);
    uint64_t read_ns = (s_now_ns () - start) / (uint64_t) reads;
    //  And of a refresh, what the health actor does between two full reads.
    start = s_now_ns ();
    for (int i = 0; i < reads; i++)
        zmesh_profile_refresh (&again, NULL, 0);
    uint64_t refresh_ns = (s_now_ns () - start) / (uint64_t) reads;

    static uint8_t buf [ZMESH_PROFILE_ENCODED_MAX];
    size_t size = 0;
    start = s_now_ns ();
    for (int i = 0; i < reads; i++)
        rc = zmesh_profile_encode (&profile, buf, sizeof buf, &size);
    uint64_t encode_ns = (s_now_ns () - start) / (uint64_t) reads;
    start = s_now_ns ();
    for (int i = 0; i < reads && rc == 0; i++)
        rc = zmesh_profile_decode (&again, buf, size);
    uint64_t decode_ns = (s_now_ns () - start) / (uint64_t) reads;
    if (rc)
        fprintf (stderr, "bench_profile: codec: %s\n", zmesh_strerror (rc));

    printf ("\ncost (mean of %d):\n", reads);
    printf ("  zmesh_profile_read    %8.1f us\n", (double) read_ns / 1e3);
    printf ("  zmesh_profile_refresh %8.1f us  (dynamic figures only)\n",
            (double) refresh_ns / 1e3);
    printf ("  zmesh_profile_encode  %8.1f us  (%zu bytes)\n", (double) encode_ns / 1e3, size);
    printf ("  zmesh_profile_decode  %8.1f us\n", (double) decode_ns / 1e3);
    return rc ? 1 : 0;
}
