/*  test_swim_codec.c: the SWIM message codec, as usage examples and its negative space.

    Every message type round-trips field by field; every strict prefix of an encoding is
    malformed; one byte short of room is ZMESH_ETOOBIG; record sizes are exact (the core packs
    by them); and bad input - unknown types, bad states, lying counts, trailing bytes, wrong
    sizes - is refused with the right error, while extra trailing array elements are skipped.
*/
#include "zmesh_error.h"
#include "zmesh_swim_codec.h"
#include "zmesh_mpack.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

static zmesh_swim_record_t s_records [ZMESH_SWIM_ENTRIES_MAX];
static zmesh_swim_record_t s_updates [ZMESH_SWIM_UPDATES_MAX];

static void
s_record (zmesh_swim_record_t *rec, uint8_t n, uint8_t state)
{
    memset (rec, 0, sizeof *rec);
    memset (rec->id.bytes, n, ZMESH_ID_SIZE);
    rec->generation = 1000u * n + 7;
    rec->incarnation = n;
    rec->state = state;
    if (state == ZMESH_SWIM_STATE_ALIVE && n % 2 == 0) {
        rec->has_contact = true;
        memset (rec->contact.key, n + 1, ZMESH_KEY_SIZE);
        snprintf (rec->contact.endpoint, ZMESH_ENDPOINT_MAX, "tcp://10.0.0.%u:%u", n, 5670 + n);
    }
    if (state == ZMESH_SWIM_STATE_SUSPECT)
        memset (rec->accuser.bytes, 0xa0 + n, ZMESH_ID_SIZE);
}

static void
s_msg (zmesh_swim_msg_t *msg, uint8_t type, uint32_t entries, uint32_t updates)
{
    memset (msg, 0, sizeof *msg);
    msg->type = type;
    msg->generation = 42;
    msg->incarnation = 3;
    if (type <= ZMESH_SWIM_NACK) {
        msg->seq = 0x123456789ull;
        memset (msg->target.bytes, 0x77, ZMESH_ID_SIZE);
    }
    if (type == ZMESH_SWIM_PING || type == ZMESH_SWIM_NACK || type == ZMESH_SWIM_NEIGHBOR
        || type == ZMESH_SWIM_SYNC)
        msg->flags = 0x05;
    if (type == ZMESH_SWIM_FORWARD_JOIN || type == ZMESH_SWIM_SHUFFLE)
        msg->ttl = 6;
    if (type == ZMESH_SWIM_SYNC || type == ZMESH_SWIM_SYNC_REPLY)
        msg->cursor = 300;
    if (type == ZMESH_SWIM_JOIN || type == ZMESH_SWIM_FORWARD_JOIN || type == ZMESH_SWIM_NEIGHBOR
        || type == ZMESH_SWIM_SHUFFLE)
        s_record (&msg->node, 2, ZMESH_SWIM_STATE_ALIVE);
    if (type == ZMESH_SWIM_SHUFFLE || type == ZMESH_SWIM_SHUFFLE_REPLY
        || type == ZMESH_SWIM_SYNC_REPLY) {
        for (uint32_t i = 0; i < entries; i++)
            s_record (&s_records [i], (uint8_t) i, (uint8_t) (1 + i % 4));
        msg->entries = s_records;
        msg->entry_count = entries;
    }
    for (uint32_t i = 0; i < updates; i++)
        s_record (&s_updates [i], (uint8_t) (i + 10), (uint8_t) (1 + i % 4));
    msg->updates = s_updates;
    msg->update_count = updates;
}

static void
s_assert_record_equal (const zmesh_swim_record_t *a, const zmesh_swim_record_t *b)
{
    assert_memory_equal (a->id.bytes, b->id.bytes, ZMESH_ID_SIZE);
    assert_true (a->generation == b->generation);
    assert_int_equal (a->incarnation, b->incarnation);
    assert_int_equal (a->state, b->state);
    assert_int_equal (a->has_contact, b->has_contact);
    if (a->has_contact) {
        assert_memory_equal (a->contact.key, b->contact.key, ZMESH_KEY_SIZE);
        assert_string_equal (a->contact.endpoint, b->contact.endpoint);
    }
    if (a->state == ZMESH_SWIM_STATE_SUSPECT)
        assert_memory_equal (a->accuser.bytes, b->accuser.bytes, ZMESH_ID_SIZE);
}

static void
s_round_trip (const zmesh_swim_msg_t *msg)
{
    static uint8_t buf [65536];
    static zmesh_swim_space_t space;
    size_t size = 0;
    assert_int_equal (zmesh_swim_msg_encode (msg, buf, sizeof buf, &size), ZMESH_OK);
    zmesh_swim_msg_t out;
    assert_int_equal (zmesh_swim_msg_decode (&out, &space, buf, size), ZMESH_OK);
    assert_int_equal (out.type, msg->type);
    assert_true (out.generation == msg->generation);
    assert_int_equal (out.incarnation, msg->incarnation);
    if (msg->type <= ZMESH_SWIM_NACK) {
        assert_true (out.seq == msg->seq);
        assert_memory_equal (out.target.bytes, msg->target.bytes, ZMESH_ID_SIZE);
    }
    if (msg->type == ZMESH_SWIM_PING || msg->type == ZMESH_SWIM_NACK
        || msg->type == ZMESH_SWIM_NEIGHBOR || msg->type == ZMESH_SWIM_SYNC)
        assert_int_equal (out.flags, msg->flags);
    if (msg->type == ZMESH_SWIM_FORWARD_JOIN || msg->type == ZMESH_SWIM_SHUFFLE)
        assert_int_equal (out.ttl, msg->ttl);
    if (msg->type == ZMESH_SWIM_SYNC || msg->type == ZMESH_SWIM_SYNC_REPLY)
        assert_int_equal (out.cursor, msg->cursor);
    if (msg->type == ZMESH_SWIM_JOIN || msg->type == ZMESH_SWIM_NEIGHBOR)
        s_assert_record_equal (&out.node, &msg->node);
    assert_int_equal (out.entry_count, msg->entry_count);
    for (uint32_t i = 0; i < msg->entry_count; i++)
        s_assert_record_equal (&out.entries [i], &msg->entries [i]);
    assert_int_equal (out.update_count, msg->update_count);
    size_t records = 0;
    for (uint32_t i = 0; i < msg->update_count; i++) {
        s_assert_record_equal (&out.updates [i], &msg->updates [i]);
        records += zmesh_swim_record_size (&msg->updates [i]);
    }
    for (uint32_t i = 0; i < msg->entry_count; i++)
        records += zmesh_swim_record_size (&msg->entries [i]);
    if (msg->type == ZMESH_SWIM_JOIN || msg->type == ZMESH_SWIM_FORWARD_JOIN
        || msg->type == ZMESH_SWIM_NEIGHBOR || msg->type == ZMESH_SWIM_SHUFFLE)
        records += zmesh_swim_record_size (&msg->node);
    //  The bound the core packs by holds.
    assert_true (size <= records + ZMESH_SWIM_MSG_OVERHEAD_MAX);
    for (size_t cut = 0; cut < size; cut++)
        assert_int_equal (zmesh_swim_msg_decode (&out, &space, buf, cut), ZMESH_EPROTO);
    size_t small = 0;
    assert_int_equal (zmesh_swim_msg_encode (msg, buf, size - 1, &small), ZMESH_ETOOBIG);
}

static void
test_every_type_round_trips (void **state)
{
    zmesh_swim_msg_t msg;
    for (uint8_t type = 1; type <= ZMESH_SWIM_TYPE_MAX; type++) {
        s_msg (&msg, type, 0, 0);
        s_round_trip (&msg);
        s_msg (&msg, type, 9, 7);
        s_round_trip (&msg);
    }
    s_msg (&msg, ZMESH_SWIM_SYNC_REPLY, ZMESH_SWIM_ENTRIES_MAX, ZMESH_SWIM_UPDATES_MAX);
    s_round_trip (&msg);
}

//  The digest and the shell's state word of PING / ACK and the bucket hashes of SYNC /
//  SYNC_REPLY travel when set, each without the other, and are absent (decoded as 0 / none)
//  when not; bucket counts that are not a power of two up to
//  ZMESH_SWIM_BUCKETS_MAX are refused.
static void
test_digests_round_trip (void **state)
{
    static uint8_t buf [65536];
    static zmesh_swim_space_t space;
    static const uint8_t types [] = {ZMESH_SWIM_PING, ZMESH_SWIM_ACK, ZMESH_SWIM_SYNC,
                                     ZMESH_SWIM_SYNC_REPLY};
    uint32_t buckets [ZMESH_SWIM_BUCKETS_MAX];
    for (uint32_t b = 0; b < ZMESH_SWIM_BUCKETS_MAX; b++)
        buckets [b] = 0x9e3779b9u * (b + 1);
    for (size_t t = 0; t < sizeof types; t++) {
        zmesh_swim_msg_t msg, out;
        s_msg (&msg, types [t], 3, 2);
        msg.digest = 0xfedcba9876543210ull;
        msg.state = 0x0123456789abcdefull;
        msg.bucket_count = ZMESH_SWIM_BUCKETS_MAX;
        msg.buckets = buckets;
        bool has_digest = types [t] == ZMESH_SWIM_PING || types [t] == ZMESH_SWIM_ACK;
        if (has_digest)
            msg.bucket_count = 0;
        size_t size = 0;
        assert_int_equal (zmesh_swim_msg_encode (&msg, buf, sizeof buf, &size), ZMESH_OK);
        assert_true (size <= 2 * ZMESH_SWIM_MSG_OVERHEAD_MAX + 3 + 4 * ZMESH_SWIM_BUCKETS_MAX
                                 + 3 * 100 + 2 * 100);
        assert_int_equal (zmesh_swim_msg_decode (&out, &space, buf, size), ZMESH_OK);
        if (has_digest) {
            assert_true (out.digest == msg.digest && out.state == msg.state);
            //  Either word alone.
            for (int alone = 0; alone < 2; alone++) {
                zmesh_swim_msg_t one = msg;
                if (alone)
                    one.digest = 0;
                else
                    one.state = 0;
                assert_int_equal (zmesh_swim_msg_encode (&one, buf, sizeof buf, &size), ZMESH_OK);
                assert_int_equal (zmesh_swim_msg_decode (&out, &space, buf, size), ZMESH_OK);
                assert_true (out.digest == one.digest && out.state == one.state);
            }
        }
        else {
            assert_true (out.state == 0);
            assert_int_equal (out.bucket_count, ZMESH_SWIM_BUCKETS_MAX);
            assert_memory_equal (out.buckets, buckets, sizeof buckets);
        }
        //  Without them: the older, shorter body.
        msg.digest = 0;
        msg.state = 0;
        msg.bucket_count = 0;
        assert_int_equal (zmesh_swim_msg_encode (&msg, buf, sizeof buf, &size), ZMESH_OK);
        assert_int_equal (zmesh_swim_msg_decode (&out, &space, buf, size), ZMESH_OK);
        assert_true (out.digest == 0 && out.state == 0 && out.bucket_count == 0);
        if (!has_digest) {
            msg.bucket_count = 3;  //  not a power of two
            msg.buckets = buckets;
            assert_int_equal (zmesh_swim_msg_encode (&msg, buf, sizeof buf, &size), ZMESH_EINVAL);
            msg.bucket_count = 2 * ZMESH_SWIM_BUCKETS_MAX;
            assert_int_equal (zmesh_swim_msg_encode (&msg, buf, sizeof buf, &size), ZMESH_EINVAL);
        }
    }
}

static void
test_record_size_is_exact (void **state)
{
    for (uint8_t n = 0; n < 40; n++) {
        zmesh_swim_record_t rec;
        s_record (&rec, n, (uint8_t) (1 + n % 4));
        rec.generation = n < 20 ? n : 1ull << (n + 10);
        rec.incarnation = n < 10 ? n : 1u << (n % 32);
        zmesh_swim_msg_t a, b;
        s_msg (&a, ZMESH_SWIM_GOSSIP, 0, 0);
        b = a;
        b.updates = &rec;
        b.update_count = 1;
        uint8_t buf_a [512], buf_b [1024];
        size_t size_a = 0, size_b = 0;
        assert_int_equal (zmesh_swim_msg_encode (&a, buf_a, sizeof buf_a, &size_a), ZMESH_OK);
        assert_int_equal (zmesh_swim_msg_encode (&b, buf_b, sizeof buf_b, &size_b), ZMESH_OK);
        assert_int_equal (size_b - size_a, zmesh_swim_record_size (&rec));
    }
}

static void
test_encode_refuses_bad_messages (void **state)
{
    uint8_t buf [65536];
    size_t size;
    zmesh_swim_msg_t msg;
    s_msg (&msg, ZMESH_SWIM_GOSSIP, 0, 1);
    msg.update_count = ZMESH_SWIM_UPDATES_MAX + 1;
    assert_int_equal (zmesh_swim_msg_encode (&msg, buf, sizeof buf, &size), ZMESH_EINVAL);
    s_msg (&msg, ZMESH_SWIM_GOSSIP, 0, 1);
    s_updates [0].state = 9;
    assert_int_equal (zmesh_swim_msg_encode (&msg, buf, sizeof buf, &size), ZMESH_EINVAL);
    s_msg (&msg, ZMESH_SWIM_JOIN, 0, 0);
    msg.node.contact.endpoint [0] = 0;
    assert_int_equal (zmesh_swim_msg_encode (&msg, buf, sizeof buf, &size), ZMESH_EINVAL);
    s_msg (&msg, 99, 0, 0);
    assert_int_equal (zmesh_swim_msg_encode (&msg, buf, sizeof buf, &size), ZMESH_EINVAL);
}

//  Hand-written inputs, with msgpack-c's packer, for what the encoder never writes.
typedef struct {
    uint8_t data [4096];
    zmesh_mp_writer_t writer;
} s_buf_t;

static msgpack_packer *
s_start (s_buf_t *b, uint32_t fields, uint64_t type)
{
    zmesh_mp_writer_init (&b->writer, b->data, sizeof b->data);
    msgpack_pack_array (&b->writer.pk, fields);
    msgpack_pack_uint64 (&b->writer.pk, type);
    msgpack_pack_uint64 (&b->writer.pk, 1);
    msgpack_pack_uint64 (&b->writer.pk, 0);
    return &b->writer.pk;
}

static void
s_pack_record (msgpack_packer *pk, uint64_t state, bool nil_extra)
{
    uint8_t id [ZMESH_ID_SIZE] = {1};
    msgpack_pack_array (pk, 5);
    msgpack_pack_bin (pk, ZMESH_ID_SIZE);
    msgpack_pack_bin_body (pk, id, ZMESH_ID_SIZE);
    msgpack_pack_uint64 (pk, 1);
    msgpack_pack_uint64 (pk, 0);
    msgpack_pack_uint64 (pk, state);
    if (nil_extra)
        msgpack_pack_nil (pk);
    else
        msgpack_pack_bin (pk, 3), msgpack_pack_bin_body (pk, "abc", 3);
}

static int
s_decode (s_buf_t *b)
{
    static zmesh_swim_space_t space;
    zmesh_swim_msg_t msg;
    return zmesh_swim_msg_decode (&msg, &space, b->data, b->writer.size);
}

static void
test_decode_refuses_malformed (void **state)
{
    s_buf_t b;
    //  A GOSSIP with one good update: fine. Then its variations.
    msgpack_packer *pk = s_start (&b, 5, ZMESH_SWIM_GOSSIP);
    msgpack_pack_array (pk, 0);
    msgpack_pack_array (pk, 1);
    s_pack_record (pk, ZMESH_SWIM_STATE_DEAD, true);
    assert_int_equal (s_decode (&b), ZMESH_OK);
    //  Trailing bytes.
    b.data [b.writer.size++] = 0xc0;
    assert_int_equal (s_decode (&b), ZMESH_EPROTO);
    //  Extra trailing elements of the message: skipped.
    pk = s_start (&b, 7, ZMESH_SWIM_GOSSIP);
    msgpack_pack_array (pk, 2);
    msgpack_pack_nil (pk);
    msgpack_pack_str (pk, 1), msgpack_pack_str_body (pk, "x", 1);
    msgpack_pack_array (pk, 0);
    msgpack_pack_uint64 (pk, 7);
    msgpack_pack_map (pk, 0);
    assert_int_equal (s_decode (&b), ZMESH_OK);
    //  Unknown type: the header was read.
    pk = s_start (&b, 5, 77);
    msgpack_pack_array (pk, 0);
    msgpack_pack_array (pk, 0);
    assert_int_equal (s_decode (&b), ZMESH_ETYPE);
    //  Bad state; state with the wrong extra.
    pk = s_start (&b, 5, ZMESH_SWIM_GOSSIP);
    msgpack_pack_array (pk, 0);
    msgpack_pack_array (pk, 1);
    s_pack_record (pk, 5, true);
    assert_int_equal (s_decode (&b), ZMESH_EPROTO);
    pk = s_start (&b, 5, ZMESH_SWIM_GOSSIP);
    msgpack_pack_array (pk, 0);
    msgpack_pack_array (pk, 1);
    s_pack_record (pk, ZMESH_SWIM_STATE_SUSPECT, false);
    assert_int_equal (s_decode (&b), ZMESH_EPROTO);
    //  More updates than the limit (the count is checked before anything is read).
    pk = s_start (&b, 5, ZMESH_SWIM_GOSSIP);
    msgpack_pack_array (pk, 0);
    msgpack_pack_array (pk, ZMESH_SWIM_UPDATES_MAX + 1);
    for (int i = 0; i < ZMESH_SWIM_UPDATES_MAX + 1; i++)
        s_pack_record (pk, ZMESH_SWIM_STATE_DEAD, true);
    assert_int_equal (s_decode (&b), ZMESH_EPROTO);
    //  A PING whose target is 15 bytes; a PING with too few fields.
    pk = s_start (&b, 5, ZMESH_SWIM_PING);
    msgpack_pack_array (pk, 3);
    msgpack_pack_uint64 (pk, 1);
    msgpack_pack_bin (pk, 15), msgpack_pack_bin_body (pk, "123456789012345", 15);
    msgpack_pack_uint64 (pk, 0);
    msgpack_pack_array (pk, 0);
    assert_int_equal (s_decode (&b), ZMESH_EPROTO);
    pk = s_start (&b, 5, ZMESH_SWIM_PING);
    msgpack_pack_array (pk, 1);
    msgpack_pack_uint64 (pk, 1);
    msgpack_pack_array (pk, 0);
    assert_int_equal (s_decode (&b), ZMESH_EPROTO);
    //  A flags value over a byte; an incarnation over 32 bits.
    pk = s_start (&b, 5, ZMESH_SWIM_SYNC);
    msgpack_pack_array (pk, 2);
    msgpack_pack_uint64 (pk, 1);
    msgpack_pack_uint64 (pk, 256);
    msgpack_pack_array (pk, 0);
    assert_int_equal (s_decode (&b), ZMESH_EPROTO);
    zmesh_mp_writer_init (&b.writer, b.data, sizeof b.data);
    msgpack_pack_array (&b.writer.pk, 5);
    msgpack_pack_uint64 (&b.writer.pk, ZMESH_SWIM_GOSSIP);
    msgpack_pack_uint64 (&b.writer.pk, 1);
    msgpack_pack_uint64 (&b.writer.pk, 1ull << 32);
    msgpack_pack_array (&b.writer.pk, 0);
    msgpack_pack_array (&b.writer.pk, 0);
    assert_int_equal (s_decode (&b), ZMESH_EPROTO);
    //  Too few message fields; not an array at all; empty input.
    zmesh_mp_writer_init (&b.writer, b.data, sizeof b.data);
    msgpack_pack_array (&b.writer.pk, 4);
    msgpack_pack_uint64 (&b.writer.pk, ZMESH_SWIM_GOSSIP);
    msgpack_pack_uint64 (&b.writer.pk, 1);
    msgpack_pack_uint64 (&b.writer.pk, 1);
    msgpack_pack_array (&b.writer.pk, 0);
    assert_int_equal (s_decode (&b), ZMESH_EPROTO);
    b.data [0] = 0x01;
    b.writer.size = 1;
    assert_int_equal (s_decode (&b), ZMESH_EPROTO);
    b.writer.size = 0;
    assert_int_equal (s_decode (&b), ZMESH_EPROTO);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_every_type_round_trips),
        cmocka_unit_test (test_digests_round_trip),
        cmocka_unit_test (test_record_size_is_exact),
        cmocka_unit_test (test_encode_refuses_bad_messages),
        cmocka_unit_test (test_decode_refuses_malformed),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
