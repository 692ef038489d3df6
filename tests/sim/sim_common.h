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
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

//  ---------------------------------------------------------------------------------------------
//  The event queue every simulator drives: a binary min-heap on (at_ms, seq). A simulator's
//  event struct begins with these two fields (sim_event_head_t, checked where it is defined);
//  seq is the insertion order, so events due at the same time leave in the order they came,
//  in every run. The simulator owns the array and its growth; these move the events.

typedef struct {
    uint64_t at_ms;  //  virtual time the event is due
    uint64_t seq;    //  insertion order: breaks ties
} sim_event_head_t;

#define SIM_EVENT_SIZE_MAX 256  //  bytes of one event struct at most

static inline bool
sim_event_before (const void *a, const void *b)
{
    const sim_event_head_t *x = (const sim_event_head_t *) a;
    const sim_event_head_t *y = (const sim_event_head_t *) b;
    return x->at_ms < y->at_ms || (x->at_ms == y->at_ms && x->seq < y->seq);
}

//  The heap, with room for one more event than count: grown by doubling from first (the
//  caller stores what it returns, and the capacity it set).
static inline void *
sim_heap_room (void *heap, uint32_t count, uint32_t *capacity, size_t size, uint32_t first)
{
    if (count < *capacity)
        return heap;
    uint32_t grown_capacity = *capacity ? 2 * *capacity : first;
    void *grown = realloc (heap, (size_t) grown_capacity * size);
    if (!grown)
        abort ();
    *capacity = grown_capacity;
    return grown;
}

//  Insert event (size bytes, its seq set) into heap [*count], which has room for one more.
static inline void
sim_heap_insert (void *heap, uint32_t *count, size_t size, const void *event)
{
    uint8_t *h = (uint8_t *) heap;
    uint32_t i = (*count)++;
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!sim_event_before (event, h + parent * size))
            break;
        memcpy (h + i * size, h + parent * size, size);
        i = parent;
    }
    memcpy (h + i * size, event, size);
}

//  Take the earliest event of heap [*count], which is not empty, into event.
static inline void
sim_heap_take (void *heap, uint32_t *count, size_t size, void *event)
{
    uint8_t *h = (uint8_t *) heap;
    uint8_t last [SIM_EVENT_SIZE_MAX];
    if (size > sizeof last || *count == 0)
        abort ();
    memcpy (event, h, size);
    memcpy (last, h + (size_t)--(*count) * size, size);
    uint32_t i = 0;
    for (;;) {
        uint32_t child = 2 * i + 1;
        if (child >= *count)
            break;
        if (child + 1 < *count && sim_event_before (h + (child + 1) * size, h + child * size))
            child++;
        if (!sim_event_before (h + child * size, last))
            break;
        memcpy (h + i * size, h + child * size, size);
        i = child;
    }
    if (*count)
        memcpy (h + i * size, last, size);
}

//  An event struct fit for the heap: it begins with at_ms and seq.
#define SIM_EVENT_CHECK(type)                                                      \
    _Static_assert(offsetof (type, at_ms) == offsetof (sim_event_head_t, at_ms)    \
                       && offsetof (type, seq) == offsetof (sim_event_head_t, seq) \
                       && sizeof (type) <= SIM_EVENT_SIZE_MAX,                     \
                   #type " must begin with at_ms and seq")

#endif
