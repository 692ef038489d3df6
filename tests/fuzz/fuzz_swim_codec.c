/*  fuzz_swim_codec.c: libFuzzer target for the SWIM message decoder (zmesh_swim_msg_decode).

    Whatever the bytes, decoding returns ZMESH_OK, ZMESH_EPROTO, ZMESH_ETYPE or ZMESH_ETOOBIG;
    it never crashes, reads out of bounds or hangs. A message that decodes is re-encoded, which
    must succeed and be no longer than the input (shortest forms, unknown trailing elements
    dropped); decoding that again must give the same message field by field, and encoding it
    once more the same bytes (the encoding is canonical). Seed corpus: corpus/swim_codec/.
*/
#include "zmesh_error.h"
#include "zmesh_swim_codec.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
s_assert_record (const zmesh_swim_record_t *a, const zmesh_swim_record_t *b)
{
    ZMESH_ASSERT (zmesh_id_equal (&a->id, &b->id));
    ZMESH_ASSERT (a->generation == b->generation && a->incarnation == b->incarnation);
    ZMESH_ASSERT (a->state == b->state && a->has_contact == b->has_contact);
    if (a->has_contact) {
        ZMESH_ASSERT (memcmp (a->contact.key, b->contact.key, ZMESH_KEY_SIZE) == 0);
        ZMESH_ASSERT (strcmp (a->contact.endpoint, b->contact.endpoint) == 0);
    }
    if (a->state == ZMESH_SWIM_STATE_SUSPECT)
        ZMESH_ASSERT (zmesh_id_equal (&a->accuser, &b->accuser));
}

static void
s_assert_same (const zmesh_swim_msg_t *a, const zmesh_swim_msg_t *b)
{
    ZMESH_ASSERT (a->type == b->type && a->generation == b->generation);
    ZMESH_ASSERT (a->incarnation == b->incarnation && a->seq == b->seq);
    ZMESH_ASSERT (zmesh_id_equal (&a->target, &b->target));
    ZMESH_ASSERT (a->flags == b->flags && a->ttl == b->ttl && a->cursor == b->cursor);
    s_assert_record (&a->node, &b->node);
    ZMESH_ASSERT (a->entry_count == b->entry_count && a->update_count == b->update_count);
    for (uint32_t i = 0; i < a->entry_count; i++)
        s_assert_record (&a->entries [i], &b->entries [i]);
    for (uint32_t i = 0; i < a->update_count; i++)
        s_assert_record (&a->updates [i], &b->updates [i]);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static zmesh_swim_space_t space, space2;
    static uint8_t buf [65536], buf2 [65536];
    zmesh_swim_msg_t msg, again;
    int rc = zmesh_swim_msg_decode (&msg, &space, data, size);
    ZMESH_ASSERT (rc == ZMESH_OK || rc == ZMESH_EPROTO || rc == ZMESH_ETYPE || rc == ZMESH_ETOOBIG);
    if (rc == ZMESH_ETYPE)
        ZMESH_ASSERT (msg.type < 1 || msg.type > ZMESH_SWIM_TYPE_MAX);
    if (rc != ZMESH_OK)
        return 0;
    size_t encoded = 0, encoded2 = 0;
    ZMESH_ASSERT (zmesh_swim_msg_encode (&msg, buf, sizeof buf, &encoded) == ZMESH_OK);
    ZMESH_ASSERT (encoded <= size);
    ZMESH_ASSERT (zmesh_swim_msg_decode (&again, &space2, buf, encoded) == ZMESH_OK);
    s_assert_same (&msg, &again);
    ZMESH_ASSERT (zmesh_swim_msg_encode (&again, buf2, sizeof buf2, &encoded2) == ZMESH_OK);
    ZMESH_ASSERT (encoded2 == encoded && memcmp (buf, buf2, encoded) == 0);
    return 0;
}
