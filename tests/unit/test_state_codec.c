/*  test_state_codec.c: the DIGEST / DELTAS / SUMMARY codec (zmesh_state_codec), as usage examples.

    A shell encodes each message the core hands it with zmesh_state_msg_encode and decodes what
    arrives with zmesh_state_msg_decode into a zmesh_state_msg_buf_t it keeps. These tests show
    the round trip, the exact sizes the core budgets with, and the negative space: truncation at
    every offset, wrong types in every field, over-long keys and values, counts over the limits,
    broken ordering rules, extra elements (skipped) and trailing bytes (refused).
*/
#include "zmesh_error.h"
#include "zmesh_state.h"
#include "zmesh_state_codec.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <msgpack.h>
#include <string.h>

static zmesh_state_msg_buf_t s_buf;
static uint8_t s_wire [ZMESH_STATE_MSG_SIZE_MAX + 16];

static zmesh_id_t
s_id (uint8_t fill)
{
    zmesh_id_t id;
    memset (id.bytes, fill, sizeof id.bytes);
    return id;
}

//  A DELTAS message with two runs: a live value, an empty value, a tombstone, large numbers.
static zmesh_state_digest_entry_t s_requests [2];
static zmesh_state_run_t s_runs [2];
static zmesh_state_delta_t s_deltas [3];

static zmesh_state_msg_t
s_sample_deltas (void)
{
    s_requests [0] = (zmesh_state_digest_entry_t){s_id (0x22), 7, 1000, 0};
    s_requests [1] = (zmesh_state_digest_entry_t){s_id (0x11), 1, 0, 0};
    s_runs [0] = (zmesh_state_run_t){.owner = s_id (0x33),
                                     .generation = 1ull << 40,
                                     .from_version = 5,
                                     .to_version = 70000,
                                     .held_version = 80000,
                                     .floor = 3,
                                     .first_delta = 0,
                                     .delta_count = 2};
    s_runs [1] = (zmesh_state_run_t){.owner = s_id (0x44),
                                     .generation = 2,
                                     .from_version = 0,
                                     .to_version = 9,
                                     .held_version = 9,
                                     .first_delta = 2,
                                     .delta_count = 1};
    s_deltas [0] = (zmesh_state_delta_t){.key = "cpu.load",
                                         .key_size = 8,
                                         .value = (const uint8_t *) "\x00\x01\x02",
                                         .value_size = 3,
                                         .version = 6};
    s_deltas [1] = (zmesh_state_delta_t){.key = "gpu", .key_size = 3, .version = 69999};
    s_deltas [2] =
        (zmesh_state_delta_t){.key = "gone", .key_size = 4, .version = 9, .deleted = true};
    zmesh_state_msg_t msg = {.type = ZMESH_STATE_MSG_DELTAS,
                             .digest_count = 2,
                             .digest = s_requests,
                             .run_count = 2,
                             .runs = s_runs,
                             .delta_count = 3,
                             .deltas = s_deltas};
    return msg;
}

static zmesh_state_digest_entry_t s_entries [3];

static zmesh_state_msg_t
s_sample_digest (void)
{
    s_entries [0] = (zmesh_state_digest_entry_t){s_id (0x10), 1, 2, 0};
    s_entries [1] = (zmesh_state_digest_entry_t){s_id (0x20), 3, UINT64_MAX, 17};
    s_entries [2] = (zmesh_state_digest_entry_t){s_id (0x30), 0, 0, 0};
    zmesh_state_msg_t msg = {.type = ZMESH_STATE_MSG_DIGEST,
                             .range_lo = s_id (0x10),
                             .range_hi = s_id (0x80),
                             .digest_count = 3,
                             .digest = s_entries};
    return msg;
}

//  A SUMMARY: one listed entry, a complete range and a summarised one (docs/protocol.md's sums).
static zmesh_state_digest_entry_t s_listed [1];
static zmesh_state_summary_t s_summaries [2];

static zmesh_state_msg_t
s_sample_summary (void)
{
    s_listed [0] = (zmesh_state_digest_entry_t){s_id (0x10), 1, 2, 0};
    s_summaries [0] = (zmesh_state_summary_t){s_id (0x00), s_id (0x0f), 0, 0};
    s_summaries [1] = (zmesh_state_summary_t){s_id (0x20), s_id (0xff), 2, 0xde60da2cdc423600ull};
    zmesh_state_msg_t msg = {.type = ZMESH_STATE_MSG_SUMMARY,
                             .digest_count = 1,
                             .digest = s_listed,
                             .summary_count = 2,
                             .summaries = s_summaries};
    return msg;
}

static void
s_assert_same (const zmesh_state_msg_t *a, const zmesh_state_msg_t *b)
{
    assert_int_equal (a->type, b->type);
    assert_int_equal (a->summary_count, b->summary_count);
    for (uint32_t i = 0; i < a->summary_count; i++)
        assert_memory_equal (&a->summaries [i], &b->summaries [i], sizeof a->summaries [i]);
    assert_int_equal (a->digest_count, b->digest_count);
    assert_int_equal (a->run_count, b->run_count);
    assert_int_equal (a->delta_count, b->delta_count);
    if (a->type == ZMESH_STATE_MSG_DIGEST) {
        assert_memory_equal (a->range_lo.bytes, b->range_lo.bytes, ZMESH_ID_SIZE);
        assert_memory_equal (a->range_hi.bytes, b->range_hi.bytes, ZMESH_ID_SIZE);
    }
    for (uint32_t i = 0; i < a->digest_count; i++)
        assert_memory_equal (&a->digest [i], &b->digest [i], sizeof a->digest [i]);
    for (uint32_t i = 0; i < a->run_count; i++)
        assert_memory_equal (&a->runs [i], &b->runs [i], sizeof a->runs [i]);
    for (uint32_t i = 0; i < a->delta_count; i++) {
        const zmesh_state_delta_t *x = &a->deltas [i], *y = &b->deltas [i];
        assert_int_equal (x->key_size, y->key_size);
        assert_memory_equal (x->key, y->key, x->key_size);
        assert_int_equal (x->version, y->version);
        assert_int_equal (x->deleted, y->deleted);
        assert_int_equal (x->value_size, y->value_size);
        if (x->value_size)
            assert_memory_equal (x->value, y->value, x->value_size);
    }
}

static size_t
s_encode (const zmesh_state_msg_t *msg)
{
    size_t size = 0;
    assert_int_equal (zmesh_state_msg_encode (msg, s_wire, sizeof s_wire, &size), ZMESH_OK);
    assert_int_equal (size, zmesh_state_msg_size (msg));
    return size;
}

static void
test_codec_round_trip (void **state)
{
    (void) state;
    zmesh_state_msg_t samples [3] = {s_sample_digest (), s_sample_deltas (), s_sample_summary ()};
    for (int s = 0; s < 3; s++) {
        size_t size = s_encode (&samples [s]);
        assert_int_equal (zmesh_state_msg_decode (&s_buf, s_wire, size), ZMESH_OK);
        s_assert_same (&samples [s], &s_buf.msg);
        //  Decoded keys and values point into the bytes: no copy, no allocation.
        if (s == 1)
            assert_true ((const uint8_t *) s_buf.msg.deltas [0].key > s_wire
                         && (const uint8_t *) s_buf.msg.deltas [0].key < s_wire + size);
    }
    //  The exact bytes of a small DIGEST: the wire form written down.
    zmesh_state_digest_entry_t entry = {s_id (0xab), 1, 2, 0};
    zmesh_state_msg_t digest = {.type = ZMESH_STATE_MSG_DIGEST,
                                .range_lo = s_id (0),
                                .range_hi = s_id (0xff),
                                .digest_count = 1,
                                .digest = &entry};
    size_t size = s_encode (&digest);
    assert_int_equal (size, 2 + 18 + 18 + 1 + 22);
    uint8_t head [] = {0x94, 0x01, 0xc4, 0x10};
    assert_memory_equal (s_wire, head, sizeof head);
    uint8_t tail [] = {0x91, 0x94, 0xc4, 0x10};
    assert_memory_equal (s_wire + 38, tail, sizeof tail);
    uint8_t numbers [] = {0x01, 0x02, 0x00};
    assert_memory_equal (s_wire + size - 3, numbers, sizeof numbers);
    //  An empty DELTAS is valid (an exchange with nothing to say).
    zmesh_state_msg_t empty = {.type = ZMESH_STATE_MSG_DELTAS};
    size = s_encode (&empty);
    assert_int_equal (size, 4);
    assert_int_equal (zmesh_state_msg_decode (&s_buf, s_wire, size), ZMESH_OK);
}

static void
test_codec_truncation (void **state)
{
    (void) state;
    zmesh_state_msg_t samples [3] = {s_sample_digest (), s_sample_deltas (), s_sample_summary ()};
    for (int s = 0; s < 3; s++) {
        size_t size = s_encode (&samples [s]);
        for (size_t cut = 0; cut < size; cut++)
            assert_int_equal (zmesh_state_msg_decode (&s_buf, s_wire, cut), ZMESH_EPROTO);
        //  One byte more is trailing garbage.
        s_wire [size] = 0xc0;
        assert_int_equal (zmesh_state_msg_decode (&s_buf, s_wire, size + 1), ZMESH_EPROTO);
        assert_int_equal (zmesh_state_msg_decode (&s_buf, s_wire, size), ZMESH_OK);
    }
    assert_int_equal (zmesh_state_msg_decode (&s_buf, NULL, 0), ZMESH_EPROTO);
}

//  ---------------------------------------------------------------------------------------------
//  Hand-built inputs, packed with msgpack-c directly.

typedef struct {
    msgpack_sbuffer sbuf;
    msgpack_packer pk;
} s_pack_t;

static void
s_begin (s_pack_t *p)
{
    msgpack_sbuffer_init (&p->sbuf);
    msgpack_packer_init (&p->pk, &p->sbuf, msgpack_sbuffer_write);
}

static int
s_decode_packed (s_pack_t *p)
{
    int rc = zmesh_state_msg_decode (&s_buf, (const uint8_t *) p->sbuf.data, p->sbuf.size);
    msgpack_sbuffer_destroy (&p->sbuf);
    return rc;
}

static void
s_pack_id (msgpack_packer *pk, uint8_t fill, size_t size)
{
    uint8_t bytes [32];
    memset (bytes, fill, sizeof bytes);
    msgpack_pack_bin (pk, size);
    msgpack_pack_bin_body (pk, bytes, size);
}

//  Fields of a DELTAS with one run of one delta, any of which a test may spoil.
typedef struct {
    int type_as_str;    //  message type packed as a str
    size_t owner_size;  //  bytes of the run's owner id
    int negative_gen;   //  generation as a negative int
    uint64_t from, to;  //  the run's range
    uint64_t held;      //  the sender's version (0: to)
    int key_as_bin;     //  key packed as a bin
    const char *key;    //  the key
    size_t key_size;
    int value_as_str;      //  value packed as a str
    size_t value_size;     //  bytes of the value
    uint64_t version;      //  the delta's version
    uint32_t run_extra;    //  extra elements at the end of the run
    uint32_t delta_extra;  //  ... of the delta
    uint32_t msg_extra;    //  ... of the message
} s_spec_t;

static s_spec_t
s_spec (void)
{
    s_spec_t spec = {.owner_size = 16,
                     .from = 0,
                     .to = 1,
                     .key = "k",
                     .key_size = 1,
                     .value_size = 1,
                     .version = 1};
    return spec;
}

static int
s_decode_spec (const s_spec_t *spec)
{
    static uint8_t value [ZMESH_STATE_VALUE_SIZE_LIMIT + 2];
    s_pack_t p;
    s_begin (&p);
    msgpack_packer *pk = &p.pk;
    msgpack_pack_array (pk, 3 + spec->msg_extra);
    if (spec->type_as_str)
        msgpack_pack_str_with_body (pk, "2", 1);
    else
        msgpack_pack_uint8 (pk, 2);
    msgpack_pack_array (pk, 0);  //  requests
    msgpack_pack_array (pk, 1);  //  runs
    msgpack_pack_array (pk, 7 + spec->run_extra);
    s_pack_id (pk, 0x33, spec->owner_size);
    if (spec->negative_gen)
        msgpack_pack_int64 (pk, -1);
    else
        msgpack_pack_uint64 (pk, 1);
    msgpack_pack_uint64 (pk, spec->from);
    msgpack_pack_uint64 (pk, spec->to);
    msgpack_pack_uint64 (pk, spec->held ? spec->held : spec->to);
    msgpack_pack_uint64 (pk, 0);
    msgpack_pack_array (pk, 1);
    msgpack_pack_array (pk, 3 + spec->delta_extra);
    if (spec->key_as_bin)
        msgpack_pack_bin_with_body (pk, spec->key, spec->key_size);
    else
        msgpack_pack_str_with_body (pk, spec->key, spec->key_size);
    msgpack_pack_uint64 (pk, spec->version);
    if (spec->value_as_str)
        msgpack_pack_str_with_body (pk, value, spec->value_size);
    else
        msgpack_pack_bin_with_body (pk, value, spec->value_size);
    for (uint32_t i = 0; i < spec->delta_extra; i++)
        msgpack_pack_map (pk, 0);
    for (uint32_t i = 0; i < spec->run_extra; i++)
        msgpack_pack_str_with_body (pk, "later", 5);
    for (uint32_t i = 0; i < spec->msg_extra; i++) {
        msgpack_pack_array (pk, 2);
        msgpack_pack_nil (pk);
        msgpack_pack_true (pk);
    }
    return s_decode_packed (&p);
}

static void
test_codec_wrong_fields (void **state)
{
    (void) state;
    s_spec_t spec = s_spec ();
    assert_int_equal (s_decode_spec (&spec), ZMESH_OK);
    //  Each spoiled field, one at a time.
    spec = s_spec (), spec.type_as_str = 1;
    assert_int_equal (s_decode_spec (&spec), ZMESH_EPROTO);
    spec = s_spec (), spec.owner_size = 15;
    assert_int_equal (s_decode_spec (&spec), ZMESH_EPROTO);
    spec = s_spec (), spec.owner_size = 17;
    assert_int_equal (s_decode_spec (&spec), ZMESH_EPROTO);
    spec = s_spec (), spec.negative_gen = 1;
    assert_int_equal (s_decode_spec (&spec), ZMESH_EPROTO);
    spec = s_spec (), spec.key_as_bin = 1;
    assert_int_equal (s_decode_spec (&spec), ZMESH_EPROTO);
    spec = s_spec (), spec.value_as_str = 1;
    assert_int_equal (s_decode_spec (&spec), ZMESH_EPROTO);
    //  Rules across fields: from <= to, versions in (from, to], printable non-empty keys.
    spec = s_spec (), spec.from = 2, spec.to = 1;
    assert_int_equal (s_decode_spec (&spec), ZMESH_EPROTO);
    spec = s_spec (), spec.to = 5, spec.held = 4;
    assert_int_equal (s_decode_spec (&spec), ZMESH_EPROTO);
    spec = s_spec (), spec.version = 2;
    assert_int_equal (s_decode_spec (&spec), ZMESH_EPROTO);
    spec = s_spec (), spec.from = 1, spec.to = 5;
    assert_int_equal (s_decode_spec (&spec), ZMESH_EPROTO);
    spec = s_spec (), spec.key = "a\nb", spec.key_size = 3;
    assert_int_equal (s_decode_spec (&spec), ZMESH_EPROTO);
    spec = s_spec (), spec.key = "", spec.key_size = 0;
    assert_int_equal (s_decode_spec (&spec), ZMESH_EPROTO);
    spec = s_spec (), spec.key = "a\0b", spec.key_size = 3;
    assert_int_equal (s_decode_spec (&spec), ZMESH_EPROTO);
    //  Over-long keys and values.
    static char long_key [ZMESH_STATE_KEY_SIZE_LIMIT + 1];
    memset (long_key, 'k', sizeof long_key);
    spec = s_spec (), spec.key = long_key, spec.key_size = ZMESH_STATE_KEY_SIZE_LIMIT;
    assert_int_equal (s_decode_spec (&spec), ZMESH_OK);
    spec.key_size = ZMESH_STATE_KEY_SIZE_LIMIT + 1;
    assert_int_equal (s_decode_spec (&spec), ZMESH_ETOOBIG);
    spec = s_spec (), spec.value_size = ZMESH_STATE_VALUE_SIZE_LIMIT;
    assert_int_equal (s_decode_spec (&spec), ZMESH_OK);
    spec.value_size = ZMESH_STATE_VALUE_SIZE_LIMIT + 1;
    assert_int_equal (s_decode_spec (&spec), ZMESH_ETOOBIG);
    //  Extra elements, at every level, are skipped (forward compatibility).
    spec = s_spec (), spec.run_extra = 2, spec.delta_extra = 1, spec.msg_extra = 3;
    assert_int_equal (s_decode_spec (&spec), ZMESH_OK);
    assert_int_equal (s_buf.msg.run_count, 1);
    assert_int_equal (s_buf.msg.deltas [0].version, 1);
}

static void
test_codec_digest_rules (void **state)
{
    (void) state;
    //  Unknown message type; a message that is not an array; a type-only message.
    s_pack_t p;
    s_begin (&p);
    msgpack_pack_array (&p.pk, 1);
    msgpack_pack_uint8 (&p.pk, 9);
    assert_int_equal (s_decode_packed (&p), ZMESH_ETYPE);
    s_begin (&p);
    msgpack_pack_map (&p.pk, 0);
    assert_int_equal (s_decode_packed (&p), ZMESH_EPROTO);
    s_begin (&p);
    msgpack_pack_array (&p.pk, 1);
    msgpack_pack_uint8 (&p.pk, 1);
    assert_int_equal (s_decode_packed (&p), ZMESH_EPROTO);
    //  Digest entries out of order or duplicated; lo > hi; then entries outside the range,
    //  which are allowed (the "hot" owners of zmesh_state.h).
    uint8_t orders [4][3] = {
        {0x20, 0x10, 0x30}, {0x10, 0x10, 0x30}, {0x10, 0x20, 0x30}, {0x05, 0x10, 0x20}};
    uint8_t ranges [4][2] = {{0x00, 0xff}, {0x00, 0xff}, {0x40, 0x00}, {0x08, 0x10}};
    for (int c = 0; c < 4; c++) {
        s_begin (&p);
        msgpack_pack_array (&p.pk, 4);
        msgpack_pack_uint8 (&p.pk, 1);
        s_pack_id (&p.pk, ranges [c][0], 16);
        s_pack_id (&p.pk, ranges [c][1], 16);
        msgpack_pack_array (&p.pk, 3);
        for (int i = 0; i < 3; i++) {
            msgpack_pack_array (&p.pk, 4);
            s_pack_id (&p.pk, orders [c][i], 16);
            msgpack_pack_uint8 (&p.pk, 1);
            msgpack_pack_uint8 (&p.pk, 1);
            msgpack_pack_uint8 (&p.pk, 0);
        }
        assert_int_equal (s_decode_packed (&p), c < 3 ? ZMESH_EPROTO : ZMESH_OK);
    }
    //  Too many entries: ZMESH_ELIMIT, not a bigger table.
    s_begin (&p);
    msgpack_pack_array (&p.pk, 4);
    msgpack_pack_uint8 (&p.pk, 1);
    s_pack_id (&p.pk, 0, 16);
    s_pack_id (&p.pk, 0xff, 16);
    msgpack_pack_array (&p.pk, ZMESH_STATE_MSG_DIGEST_MAX + 1);
    for (uint32_t i = 0; i < ZMESH_STATE_MSG_DIGEST_MAX + 1; i++) {
        msgpack_pack_array (&p.pk, 4);
        uint8_t id [16] = {0};
        id [14] = (uint8_t) (i >> 8);
        id [15] = (uint8_t) i;
        msgpack_pack_bin_with_body (&p.pk, id, 16);
        msgpack_pack_uint8 (&p.pk, 1);
        msgpack_pack_uint8 (&p.pk, 1);
        msgpack_pack_uint8 (&p.pk, 0);
    }
    assert_int_equal (s_decode_packed (&p), ZMESH_ELIMIT);
    //  A message over the size limit is refused before it is read.
    assert_int_equal (zmesh_state_msg_decode (&s_buf, s_wire, ZMESH_STATE_MSG_SIZE_MAX + 1),
                      ZMESH_ETOOBIG);
}

static void
test_codec_encoder_refuses (void **state)
{
    (void) state;
    zmesh_state_msg_t msg = s_sample_deltas ();
    size_t size = 0;
    //  Too small a buffer.
    assert_int_equal (zmesh_state_msg_encode (&msg, s_wire, 20, &size), ZMESH_ETOOBIG);
    //  A message that breaks the rules is not sent.
    s_deltas [1].version = 3;  //  not after the previous delta
    assert_int_equal (zmesh_state_msg_encode (&msg, s_wire, sizeof s_wire, &size), ZMESH_EINVAL);
    msg = s_sample_deltas ();
    s_deltas [2].value_size = 1;  //  a tombstone with a value
    assert_int_equal (zmesh_state_msg_encode (&msg, s_wire, sizeof s_wire, &size), ZMESH_EINVAL);
    msg = s_sample_deltas ();
    s_runs [1].first_delta = 1;  //  slices overlap
    assert_int_equal (zmesh_state_msg_encode (&msg, s_wire, sizeof s_wire, &size), ZMESH_EINVAL);
    msg = s_sample_deltas ();
    msg.run_count = ZMESH_STATE_MSG_RUNS_MAX + 1;
    assert_int_equal (zmesh_state_msg_check (&msg), ZMESH_ELIMIT);
    msg = s_sample_deltas ();
    msg.type = 9;
    assert_int_equal (zmesh_state_msg_encode (&msg, s_wire, sizeof s_wire, &size), ZMESH_EINVAL);
}

//  The sizes the core budgets with are exact, across the thresholds of each msgpack form.
static void
test_codec_sizes (void **state)
{
    (void) state;
    uint64_t numbers [] = {0,     127,   128,           255,        256,
                           65535, 65536, 0xffffffffull, 1ull << 32, UINT64_MAX};
    size_t expect [] = {1, 1, 2, 2, 3, 3, 5, 5, 9, 9};
    for (size_t i = 0; i < sizeof numbers / sizeof numbers [0]; i++)
        assert_int_equal (zmesh_state_uint_size (numbers [i]), expect [i]);
    static char key [ZMESH_STATE_KEY_SIZE_LIMIT];
    static uint8_t value [ZMESH_STATE_VALUE_SIZE_LIMIT];
    memset (key, 'k', sizeof key);
    uint32_t key_sizes [] = {1, 31, 32, 255};
    uint32_t value_sizes [] = {0, 255, 256, 65535 < ZMESH_STATE_VALUE_SIZE_LIMIT ? 65535 : 32768};
    for (int k = 0; k < 4; k++)
        for (int v = 0; v < 4; v++) {
            zmesh_state_delta_t delta = {.key = key,
                                         .key_size = key_sizes [k],
                                         .value = value,
                                         .value_size = value_sizes [v],
                                         .version = 1000};
            zmesh_state_run_t run = {.to_version = 1000, .held_version = 1000, .delta_count = 1};
            zmesh_state_msg_t msg = {.type = ZMESH_STATE_MSG_DELTAS,
                                     .run_count = 1,
                                     .runs = &run,
                                     .delta_count = 1,
                                     .deltas = &delta};
            s_encode (&msg);  //  asserts size == zmesh_state_msg_size
            assert_int_equal (zmesh_state_msg_size (&msg),
                              ZMESH_STATE_DELTAS_BASE_SIZE - 4 + zmesh_state_run_header_size (&run)
                                  - 2 + zmesh_state_delta_size (&delta));
        }
}

//  The hash a summary adds up, and the exact bytes of the SUMMARY of a quiet node that holds
//  two owners (the example of docs/protocol.md).
static void
test_codec_summary_wire (void **state)
{
    (void) state;
    zmesh_id_t a = s_id (0x11), b = s_id (0x22);
    assert_true (zmesh_state_tuple_hash (&a, 1, 4) == 0x7eee6820323d0abeull);
    assert_true (zmesh_state_tuple_hash (&b, 3, 7) == 0x5f72720caa052b42ull);
    zmesh_state_summary_t all = {s_id (0), s_id (0xff), 2,
                                 zmesh_state_tuple_hash (&a, 1, 4)
                                     + zmesh_state_tuple_hash (&b, 3, 7)};
    zmesh_state_msg_t msg = {
        .type = ZMESH_STATE_MSG_SUMMARY, .summary_count = 1, .summaries = &all};
    size_t size = s_encode (&msg);
    uint8_t expect [51] = {0x93, 0x03, 0x90, 0x91, 0x94, 0xc4, 0x10};
    expect [23] = 0xc4;
    expect [24] = 0x10;
    memset (expect + 25, 0xff, 16);
    uint8_t numbers [] = {0x02, 0xcf, 0xde, 0x60, 0xda, 0x2c, 0xdc, 0x42, 0x36, 0x00};
    memcpy (expect + 41, numbers, sizeof numbers);
    assert_int_equal (size, sizeof expect);
    assert_memory_equal (s_wire, expect, sizeof expect);
    assert_int_equal (zmesh_state_msg_decode (&s_buf, s_wire, size), ZMESH_OK);
    assert_int_equal (s_buf.msg.summary_count, 1);
    assert_true (s_buf.msg.summaries [0].hash == 0xde60da2cdc423600ull);
    //  Sizes across the forms of count and hash.
    uint64_t numbers2 [] = {1, 200, 70000, 1ull << 40};
    for (int i = 0; i < 4; i++) {
        all.count = numbers2 [i];
        all.hash = numbers2 [3 - i];
        s_encode (&msg);  //  asserts size == zmesh_state_msg_size
        assert_int_equal (zmesh_state_summary_size (&all), 1 + 36
                                                               + zmesh_state_uint_size (all.count)
                                                               + zmesh_state_uint_size (all.hash));
    }
}

//  Pack a SUMMARY of the given summaries (lo, hi fill bytes; count; hash), fields per summary.
static int
s_decode_summaries (uint8_t (*ranges) [2], uint64_t (*sums) [2], uint32_t count, uint32_t fields)
{
    s_pack_t p;
    s_begin (&p);
    msgpack_pack_array (&p.pk, 4);  //  one element more than known: skipped
    msgpack_pack_uint8 (&p.pk, 3);
    msgpack_pack_array (&p.pk, 0);
    msgpack_pack_array (&p.pk, count);
    for (uint32_t i = 0; i < count; i++) {
        msgpack_pack_array (&p.pk, fields);
        s_pack_id (&p.pk, ranges [i][0], 16);
        s_pack_id (&p.pk, ranges [i][1], 16);
        if (fields > 2)
            msgpack_pack_uint64 (&p.pk, sums [i][0]);
        if (fields > 3)
            msgpack_pack_uint64 (&p.pk, sums [i][1]);
        if (fields > 4)
            msgpack_pack_str_with_body (&p.pk, "later", 5);
    }
    msgpack_pack_nil (&p.pk);
    return s_decode_packed (&p);
}

static void
test_codec_summary_rules (void **state)
{
    (void) state;
    uint8_t ranges [2][2] = {{0x00, 0x3f}, {0x40, 0xff}};
    uint64_t sums [2][2] = {{0, 0}, {5, 1234}};
    //  Valid, with extra fields in each summary and in the message (skipped).
    assert_int_equal (s_decode_summaries (ranges, sums, 2, 4), ZMESH_OK);
    assert_int_equal (s_decode_summaries (ranges, sums, 2, 5), ZMESH_OK);
    assert_int_equal (s_buf.msg.summary_count, 2);
    assert_true (s_buf.msg.summaries [1].hash == 1234);
    //  Too few fields.
    assert_int_equal (s_decode_summaries (ranges, sums, 2, 3), ZMESH_EPROTO);
    //  Overlapping, touching at one id, or out of order.
    ranges [1][0] = 0x3f;
    assert_int_equal (s_decode_summaries (ranges, sums, 2, 4), ZMESH_EPROTO);
    ranges [1][0] = 0x10;
    assert_int_equal (s_decode_summaries (ranges, sums, 2, 4), ZMESH_EPROTO);
    //  lo > hi.
    uint8_t backwards [1][2] = {{0x40, 0x3f}};
    assert_int_equal (s_decode_summaries (backwards, sums, 1, 4), ZMESH_EPROTO);
    //  A complete range (count 0) with a hash.
    uint64_t odd [1][2] = {{0, 1}};
    assert_int_equal (s_decode_summaries (ranges, odd, 1, 4), ZMESH_EPROTO);
    //  Too many summaries: ZMESH_ELIMIT.
    s_pack_t p;
    s_begin (&p);
    msgpack_pack_array (&p.pk, 3);
    msgpack_pack_uint8 (&p.pk, 3);
    msgpack_pack_array (&p.pk, 0);
    msgpack_pack_array (&p.pk, ZMESH_STATE_MSG_SUMMARIES_MAX + 1);
    for (uint32_t i = 0; i < ZMESH_STATE_MSG_SUMMARIES_MAX + 1; i++) {
        uint8_t id [16] = {0};
        id [14] = (uint8_t) (i >> 8);
        id [15] = (uint8_t) i;
        msgpack_pack_array (&p.pk, 4);
        msgpack_pack_bin_with_body (&p.pk, id, 16);
        msgpack_pack_bin_with_body (&p.pk, id, 16);
        msgpack_pack_uint8 (&p.pk, 1);
        msgpack_pack_uint8 (&p.pk, 1);
    }
    assert_int_equal (s_decode_packed (&p), ZMESH_ELIMIT);
    //  Too short a SUMMARY; entries out of order.
    s_begin (&p);
    msgpack_pack_array (&p.pk, 2);
    msgpack_pack_uint8 (&p.pk, 3);
    msgpack_pack_array (&p.pk, 0);
    assert_int_equal (s_decode_packed (&p), ZMESH_EPROTO);
    zmesh_state_msg_t msg = s_sample_summary ();
    zmesh_state_digest_entry_t two [2] = {{s_id (0x20), 1, 1, 0}, {s_id (0x10), 1, 1, 0}};
    msg.digest = two;
    msg.digest_count = 2;
    size_t size = 0;
    assert_int_equal (zmesh_state_msg_encode (&msg, s_wire, sizeof s_wire, &size), ZMESH_EINVAL);
    //  The encoder refuses what the decoder would.
    msg = s_sample_summary ();
    s_summaries [1].lo = s_id (0x0f);
    assert_int_equal (zmesh_state_msg_encode (&msg, s_wire, sizeof s_wire, &size), ZMESH_EINVAL);
    msg = s_sample_summary ();
    s_summaries [0].hash = 7;
    assert_int_equal (zmesh_state_msg_check (&msg), ZMESH_EPROTO);
    msg = s_sample_summary ();
    msg.summary_count = ZMESH_STATE_MSG_SUMMARIES_MAX + 1;
    assert_int_equal (zmesh_state_msg_check (&msg), ZMESH_ELIMIT);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_codec_round_trip),      cmocka_unit_test (test_codec_truncation),
        cmocka_unit_test (test_codec_wrong_fields),    cmocka_unit_test (test_codec_digest_rules),
        cmocka_unit_test (test_codec_encoder_refuses), cmocka_unit_test (test_codec_sizes),
        cmocka_unit_test (test_codec_summary_wire),    cmocka_unit_test (test_codec_summary_rules),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
