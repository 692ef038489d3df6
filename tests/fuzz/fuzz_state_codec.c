/*  fuzz_state_codec.c: libFuzzer target for the state message decoder (zmesh_state_msg_decode:
    DIGEST, DELTAS, SUMMARY),
    and for the anti-entropy core that consumes what it decodes.

    Whatever the bytes, decoding returns one of the errors the header names, or succeeds; it
    never crashes, reads out of bounds or hangs. A message that decodes is re-encoded, which must
    succeed in exactly zmesh_state_msg_size bytes, no more than the input (the encoding is the
    shortest form); decoding that gives the same message field by field, and encoding it again
    the same bytes (canonical). The decoded message is then fed to a fresh core holding a little
    state, as a RECEIVED event: the core must not crash, and what it sends must keep the rules
    and fit its byte budget.
*/
#include "zmesh_error.h"
#include "zmesh_state.h"
#include "zmesh_state_codec.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
s_assert_same (const zmesh_state_msg_t *a, const zmesh_state_msg_t *b)
{
    ZMESH_ASSERT (a->type == b->type && a->digest_count == b->digest_count);
    ZMESH_ASSERT (a->run_count == b->run_count && a->delta_count == b->delta_count);
    ZMESH_ASSERT (a->summary_count == b->summary_count);
    for (uint32_t i = 0; i < a->summary_count; i++)
        ZMESH_ASSERT (memcmp (&a->summaries [i], &b->summaries [i], sizeof a->summaries [i]) == 0);
    if (a->type == ZMESH_STATE_MSG_DIGEST) {
        ZMESH_ASSERT (memcmp (&a->range_lo, &b->range_lo, sizeof a->range_lo) == 0);
        ZMESH_ASSERT (memcmp (&a->range_hi, &b->range_hi, sizeof a->range_hi) == 0);
    }
    for (uint32_t i = 0; i < a->digest_count; i++)
        ZMESH_ASSERT (memcmp (&a->digest [i], &b->digest [i], sizeof a->digest [i]) == 0);
    for (uint32_t i = 0; i < a->run_count; i++)
        ZMESH_ASSERT (memcmp (&a->runs [i], &b->runs [i], sizeof a->runs [i]) == 0);
    for (uint32_t i = 0; i < a->delta_count; i++) {
        const zmesh_state_delta_t *x = &a->deltas [i], *y = &b->deltas [i];
        ZMESH_ASSERT (x->key_size == y->key_size && memcmp (x->key, y->key, x->key_size) == 0);
        ZMESH_ASSERT (x->version == y->version && x->deleted == y->deleted);
        ZMESH_ASSERT (x->value_size == y->value_size);
        ZMESH_ASSERT (x->value_size == 0 || memcmp (x->value, y->value, x->value_size) == 0);
    }
}

//  A core that knows a few owners (ids 0x00.., 0x33.., 0x44.. and itself, 0x77..).
static void
s_feed_core (const zmesh_state_msg_t *msg)
{
    static zmesh_state_t core;
    zmesh_state_config_t config;
    zmesh_state_config_defaults (&config);
    config.max_owners = 16;
    config.max_keys = 8;
    zmesh_id_t self, peer;
    memset (self.bytes, 0x77, sizeof self.bytes);
    memset (peer.bytes, 0x33, sizeof peer.bytes);
    ZMESH_ASSERT (zmesh_state_init (&core, &config, &self, 2, 0, 1, 0) == ZMESH_OK);
    zmesh_state_update_t update;
    ZMESH_ASSERT (zmesh_state_set (&core, 1, "a", "1", 1, &update) == ZMESH_OK);
    ZMESH_ASSERT (zmesh_state_set (&core, 1, "b", "2", 1, &update) == ZMESH_OK);
    ZMESH_ASSERT (zmesh_state_delete (&core, 1, "a", &update) == ZMESH_OK);
    zmesh_state_event_t event = {
        .type = ZMESH_STATE_RECEIVED, .now_ms = 2, .peer = peer, .msg = msg};
    zmesh_state_step (&core, &event, &update);
    for (uint32_t i = 0; i < update.msg_count; i++) {
        ZMESH_ASSERT (zmesh_state_msg_check (&update.msgs [i].msg) == ZMESH_OK);
        ZMESH_ASSERT (zmesh_state_msg_size (&update.msgs [i].msg) <= config.budget_bytes);
    }
    //  Twice: duplicates are normal on the network.
    zmesh_state_step (&core, &event, &update);
    zmesh_state_event_t tick = {.type = ZMESH_STATE_TICK, .now_ms = 100000};
    zmesh_state_step (&core, &tick, &update);
    zmesh_state_fini (&core);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static zmesh_state_msg_buf_t msg, again;
    static uint8_t buf [ZMESH_STATE_MSG_SIZE_MAX], buf2 [ZMESH_STATE_MSG_SIZE_MAX];
    int rc = zmesh_state_msg_decode (&msg, data, size);
    ZMESH_ASSERT (rc == ZMESH_OK || rc == ZMESH_EPROTO || rc == ZMESH_ETYPE || rc == ZMESH_ETOOBIG
                  || rc == ZMESH_ELIMIT);
    if (rc != ZMESH_OK)
        return 0;
    ZMESH_ASSERT (zmesh_state_msg_check (&msg.msg) == ZMESH_OK);
    size_t encoded = 0, encoded2 = 0;
    ZMESH_ASSERT (zmesh_state_msg_encode (&msg.msg, buf, sizeof buf, &encoded) == ZMESH_OK);
    ZMESH_ASSERT (encoded == zmesh_state_msg_size (&msg.msg));
    ZMESH_ASSERT (encoded <= size);
    ZMESH_ASSERT (zmesh_state_msg_decode (&again, buf, encoded) == ZMESH_OK);
    s_assert_same (&msg.msg, &again.msg);
    ZMESH_ASSERT (zmesh_state_msg_encode (&again.msg, buf2, sizeof buf2, &encoded2) == ZMESH_OK);
    ZMESH_ASSERT (encoded2 == encoded && memcmp (buf, buf2, encoded) == 0);
    s_feed_core (&msg.msg);
    return 0;
}
