/*  fuzz_mpack.c: libFuzzer target for the msgpack reader's skip (zmesh_mp_skip).

    zmesh_mp_skip steps over a newer peer's unknown fields, so it sees arbitrary bytes. Over
    the whole input, object after object: it never crashes or reads out of bounds, never
    moves backwards or past the end, and is consistent with the shape of msgpack: an object
    it skips is skipped again from a copy of exactly its bytes (no dependence on what
    follows), and no strict prefix of it is an object (msgpack is prefix-free).
*/
#include "zmesh_error.h"
#include "zmesh_mpack.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

//  Skip one object in exactly [data, data + size); the bytes it covered, or -1.
static long
s_skip_exact (const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc (size ? size : 1);
    ZMESH_ASSERT (copy);
    if (size)
        memcpy (copy, data, size);
    zmesh_mp_reader_t reader;
    zmesh_mp_reader_init (&reader, copy, size);
    long covered = zmesh_mp_skip (&reader) == ZMESH_OK ? (long) reader.pos : -1;
    ZMESH_ASSERT (reader.pos <= size);
    free (copy);
    return covered;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    zmesh_mp_reader_t reader;
    zmesh_mp_reader_init (&reader, data, size);
    int checked = 0;
    while (zmesh_mp_remaining (&reader) > 0) {
        size_t start = reader.pos;
        int rc = zmesh_mp_skip (&reader);
        ZMESH_ASSERT (rc == ZMESH_OK || rc == ZMESH_EPROTO);
        ZMESH_ASSERT (reader.pos <= size);
        if (rc != ZMESH_OK)
            break;
        size_t length = reader.pos - start;
        ZMESH_ASSERT (length >= 1);
        //  The copies cost O(length) each: check the first few objects only.
        if (checked++ < 4) {
            ZMESH_ASSERT (s_skip_exact (data + start, length) == (long) length);
            ZMESH_ASSERT (s_skip_exact (data + start, length - 1) == -1);
        }
    }
    return 0;
}
