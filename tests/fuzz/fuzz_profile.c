/*  fuzz_profile.c: libFuzzer target for the node profile decoder (zmesh_profile_decode).

    A profile arrives from other nodes by gossip: the decoder returns ZMESH_OK, ZMESH_EPROTO,
    ZMESH_EVERSION or ZMESH_ETOOBIG and nothing else, never reads past `size`, and whatever it
    accepts encodes again, and that encoding decodes to the same bytes once more (a fixed point
    after one round, since unknown keys are dropped on the way).
*/
#include "zmesh_error.h"
#include "zmesh_profile.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static zmesh_profile_t profile, again;
    static uint8_t first [ZMESH_PROFILE_ENCODED_MAX], second [ZMESH_PROFILE_ENCODED_MAX];
    int rc = zmesh_profile_decode (&profile, data, size);
    ZMESH_ASSERT (rc == ZMESH_OK || rc == ZMESH_EPROTO || rc == ZMESH_EVERSION
                  || rc == ZMESH_ETOOBIG);
    if (rc != ZMESH_OK)
        return 0;
    size_t first_size, second_size;
    ZMESH_ASSERT (zmesh_profile_encode (&profile, first, sizeof first, &first_size) == ZMESH_OK);
    ZMESH_ASSERT (zmesh_profile_decode (&again, first, first_size) == ZMESH_OK);
    ZMESH_ASSERT (zmesh_profile_encode (&again, second, sizeof second, &second_size) == ZMESH_OK);
    ZMESH_ASSERT (first_size == second_size && memcmp (first, second, first_size) == 0);
    return 0;
}
