/*  sim_common.h: what every seeded simulator shares: the PRNG (splitmix64, Steele, Lea and
    Flood 2014) and the trace hash (FNV-1a over 64-bit values). Same seed, same numbers, same
    hash: a run replays exactly from ZMESH_SIM_SEED.
*/
#ifndef SIM_COMMON_H_INCLUDED
#define SIM_COMMON_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

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

#endif
