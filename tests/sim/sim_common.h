/*  sim_common.h: what every seeded simulator shares: the PRNG (splitmix64, Steele, Lea and
    Flood 2014), the trace hash (FNV-1a over 64-bit values), the seeds to run, and how a
    failure or an abort is reported. Same seed, same numbers, same
    hash: a run replays exactly from ZMESH_SIM_SEED.
*/
#ifndef SIM_COMMON_H_INCLUDED
#define SIM_COMMON_H_INCLUDED

#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline uint64_t
sim_rand (uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

//  Uniform in [lo, hi] (modulo bias is irrelevant at simulator scale).
static inline uint64_t
sim_range (uint64_t *state, uint64_t lo, uint64_t hi)
{
    return lo + sim_rand (state) % (hi - lo + 1);
}

//  True with probability ppm / 1,000,000.
static inline bool
sim_chance (uint64_t *state, uint32_t ppm)
{
    return sim_rand (state) % 1000000 < ppm;
}

//  Fold a value into a trace hash.
static inline void
sim_hash (uint64_t *hash, uint64_t value)
{
    for (int i = 0; i < 8; i++) {
        *hash ^= (value >> (8 * i)) & 0xff;
        *hash *= 0x100000001b3ull;
    }
}

//  Which seeds to run: ZMESH_SIM_SEED=n (that one, to replay a failure), else
//  ZMESH_SIM_SEEDS=count from 1, else default_count from 1.
static inline void
sim_seed_range (uint32_t default_count, uint32_t *first, uint32_t *count)
{
    const char *one = getenv ("ZMESH_SIM_SEED");
    const char *count_text = getenv ("ZMESH_SIM_SEEDS");
    *first = 1;
    *count = default_count;
    if (one && *one) {
        *first = (uint32_t) strtoul (one, NULL, 10);
        *count = 1;
    }
    else if (count_text && *count_text)
        *count = (uint32_t) strtoul (count_text, NULL, 10);
}

//  The first seed run twice more must give the same trace hash and verdict: say so.
static inline bool
sim_report_determinism (
    const char *name, uint32_t seed, uint64_t a, bool ok_a, uint64_t b, bool ok_b)
{
    bool deterministic = a == b && ok_a == ok_b;
    printf ("%s: seed %u twice: %016" PRIx64 " %016" PRIx64 " (%s)\n", name, seed, a, b,
            deterministic ? "deterministic" : "NOT DETERMINISTIC");
    return deterministic;
}

//  The simulator's name and the seed being run, for the abort handler: set sim_name once,
//  sim_current_seed at each seed.
static const char *sim_name = "sim";
static volatile sig_atomic_t sim_current_seed;

//  An assertion or a sanitizer aborts the process: say which seed to replay first.
static inline void
sim_on_abort (int signum)
{
    char line [96];
    int n = snprintf (line, sizeof line, "%s: aborted; replay: ZMESH_SIM_SEED=%d\n", sim_name,
                      (int) sim_current_seed);
    if (n > 0 && write (STDERR_FILENO, line, (size_t) n) < 0)
        _exit (134);
    signal (signum, SIG_DFL);
    raise (signum);
}

//  The first failure of a seed, on stderr, with how to replay it. *failed: whether the seed
//  already failed (only the first is told); set by the call.
static inline void
sim_fail_report (bool *failed, uint32_t seed, uint64_t now_ms, const char *format, va_list args)
{
    if (*failed)
        return;
    *failed = true;
    fprintf (stderr, "%s: seed %u, t=%" PRIu64 " ms: ", sim_name, seed, now_ms);
    vfprintf (stderr, format, args);
    fprintf (stderr, "\n  replay: ZMESH_SIM_SEED=%u\n", seed);
}

//  The closing line a test runner reads; the exit status.
static inline int
sim_report_result (const char *name, uint32_t passed, uint32_t failed, bool deterministic)
{
    printf ("%s: %u seeds passed, %u failed\n", name, passed, failed);
    return failed == 0 && deterministic ? 0 : 1;
}

#endif
