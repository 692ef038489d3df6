/*  test_task.c: the work plane's codec (zmesh_task), as usage examples and its negative space.

    Every kind round-trips field by field through the writer and the decoder, with decoded
    bytes as views into the input; a batch fills until ZMESH_ETOOBIG (or ZMESH_ELIMIT at
    ZMESH_TASK_BATCH_MAX + 1) and what was there before the failed append still decodes;
    items the wire does not allow are refused by the writer. Messages packed by hand, as
    another implementation would, are decoded: with every field in its widest form and with
    extra elements in every array (both accepted), and with one thing wrong at a time (each
    refused with its error). The zmesh.work gossip value round-trips and is refused when bad.
*/
#include "zmesh_error.h"
#include "zmesh_mpack.h"
#include "zmesh_task.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_BUF_SIZE (3u * 1024u * 1024u)

static uint8_t s_buf [S_BUF_SIZE];    //  messages written by the tests
static uint8_t s_zeros [S_BUF_SIZE];  //  bytes of large payloads
static zmesh_task_msg_t s_msg;        //  a decoded message (large)
static const zmesh_task_load_t s_load = {8, 2, 3, 1};

static zmesh_id_t
s_id (uint8_t fill)
{
    zmesh_id_t id;
    memset (id.bytes, fill, ZMESH_ID_SIZE);
    return id;
}

static void
s_assert_id (const zmesh_id_t *id, uint8_t fill)
{
    zmesh_id_t expected = s_id (fill);
    assert_memory_equal (id->bytes, expected.bytes, ZMESH_ID_SIZE);
}

static void
s_assert_load (const zmesh_task_load_t *load, const zmesh_task_load_t *expected)
{
    assert_int_equal (load->slots, expected->slots);
    assert_int_equal (load->busy, expected->busy);
    assert_int_equal (load->queued, expected->queued);
    assert_int_equal (load->stealable, expected->stealable);
}

//  A view decoded from buf [0, size): inside it (or empty).
static void
s_assert_view (const uint8_t *view, uint32_t view_size, const uint8_t *buf, size_t size)
{
    if (view_size == 0)
        return;
    assert_true (view >= buf && view + view_size <= buf + size);
}

static void
s_assert_bytes (const uint8_t *a, uint32_t a_size, const uint8_t *b, uint32_t b_size)
{
    assert_int_equal (a_size, b_size);
    if (a_size > 0)
        assert_memory_equal (a, b, a_size);
}

static void
s_decode_ok (const uint8_t *buf, size_t size, uint8_t kind, uint8_t sender)
{
    zmesh_id_t from;
    assert_int_equal (zmesh_task_envelope_decode (&s_msg, &from, buf, size), ZMESH_OK);
    assert_int_equal (s_msg.kind, kind);
    s_assert_id (&from, sender);
}

//  ---------------------------------------------------------------------------------------------
//  Round trips

static const uint8_t s_payload [] = "payload bytes";
static const uint8_t s_checkpoint [] = {0, 1, 2, 0xff};

//  Task n: every field set, extremes for some n.
static void
s_task (zmesh_task_item_t *task, uint32_t n, uint8_t owner)
{
    memset (task, 0, sizeof *task);
    task->id = s_id ((uint8_t) (0x10 + n));
    task->owner = s_id (owner);
    task->attempt = n % 2 ? ZMESH_TASK_ATTEMPTS_MAX : 1 + n;
    task->priority = (uint8_t) (n % 4);
    task->flags = n % 3 ? ZMESH_TASK_FLAG_IDEMPOTENT : 0xff;
    task->timeout_ms = n % 2 ? UINT32_MAX : 250 * n;
    task->cpu_millicores = 1000 + n;
    task->memory_bytes = n % 2 ? UINT64_MAX : (uint64_t) n << 30;
    task->gpus = n % 3;
    if (n == 1)  //  the longest handler name
        memset (task->handler, 'h', ZMESH_TASK_HANDLER_MAX - 1);
    else
        snprintf (task->handler, sizeof task->handler, "image.resize v%u ~", n);
    if (n % 3 != 2) {  //  and some with no payload at all
        task->payload = s_payload;
        task->payload_size = (uint32_t) (n % sizeof s_payload);
    }
    if (n % 3 == 1) {
        task->checkpoint = s_checkpoint;
        task->checkpoint_size = sizeof s_checkpoint;
    }
    else if (n % 3 == 2)
        task->checkpoint = s_checkpoint;  //  an empty checkpoint is not none
}

static void
s_assert_task (const zmesh_task_item_t *a, const zmesh_task_item_t *b)
{
    assert_memory_equal (a->id.bytes, b->id.bytes, ZMESH_ID_SIZE);
    assert_memory_equal (a->owner.bytes, b->owner.bytes, ZMESH_ID_SIZE);
    assert_int_equal (a->attempt, b->attempt);
    assert_int_equal (a->priority, b->priority);
    assert_int_equal (a->flags, b->flags);
    assert_int_equal (a->timeout_ms, b->timeout_ms);
    assert_int_equal (a->cpu_millicores, b->cpu_millicores);
    assert_true (a->memory_bytes == b->memory_bytes);
    assert_int_equal (a->gpus, b->gpus);
    assert_string_equal (a->handler, b->handler);
    s_assert_bytes (a->payload, a->payload_size, b->payload, b->payload_size);
    assert_int_equal (a->checkpoint == NULL, b->checkpoint == NULL);
    s_assert_bytes (a->checkpoint, a->checkpoint_size, b->checkpoint, b->checkpoint_size);
}

static void
s_result (zmesh_task_result_item_t *result, uint32_t n)
{
    static const char error [] = "handler raised: division by zero";
    memset (result, 0, sizeof *result);
    result->id = s_id ((uint8_t) (0x20 + n));
    result->attempt = 1 + n % ZMESH_TASK_ATTEMPTS_MAX;
    result->status = (uint8_t) (n % (ZMESH_TASK_STATUS_MAX + 1));
    if (n % 2) {
        result->output = s_payload;
        result->output_size = sizeof s_payload;
    }
    if (result->status == ZMESH_TASK_HANDLER_ERROR) {
        result->error = error;
        result->error_size = sizeof error - 1;
    }
    result->queued_us = n % 2 ? UINT64_MAX : n;
    result->run_us = 1000000ull * n;
}

static void
s_assert_result (const zmesh_task_result_item_t *a, const zmesh_task_result_item_t *b)
{
    assert_memory_equal (a->id.bytes, b->id.bytes, ZMESH_ID_SIZE);
    assert_int_equal (a->attempt, b->attempt);
    assert_int_equal (a->status, b->status);
    s_assert_bytes (a->output, a->output_size, b->output, b->output_size);
    s_assert_bytes ((const uint8_t *) a->error, a->error_size, (const uint8_t *) b->error,
                    b->error_size);
    assert_true (a->queued_us == b->queued_us && a->run_us == b->run_us);
}

static zmesh_task_ref_t
s_ref (uint32_t n)
{
    zmesh_task_ref_t ref = {s_id ((uint8_t) (0x30 + n)), 1 + n % ZMESH_TASK_ATTEMPTS_MAX, n % 2};
    return ref;
}

static void
s_assert_ref (const zmesh_task_ref_t *a, const zmesh_task_ref_t *b)
{
    assert_memory_equal (a->id.bytes, b->id.bytes, ZMESH_ID_SIZE);
    assert_int_equal (a->attempt, b->attempt);
    assert_int_equal (a->running, b->running);
}

//  Every strict prefix of a message is malformed; one more byte too.
static void
s_assert_cuts (const uint8_t *buf, size_t size)
{
    for (size_t cut = 0; cut < size; cut++)
        assert_int_equal (zmesh_task_envelope_decode (&s_msg, NULL, buf, cut), ZMESH_EPROTO);
    static uint8_t longer [4096];
    assert_true (size < sizeof longer);
    memcpy (longer, buf, size);
    longer [size] = 0xc0;
    assert_int_equal (zmesh_task_envelope_decode (&s_msg, NULL, longer, size + 1), ZMESH_EPROTO);
}

static void
test_status_names (void **state)
{
    assert_string_equal (zmesh_task_status_name (ZMESH_TASK_OK), "ok");
    assert_string_equal (zmesh_task_status_name (ZMESH_TASK_HANDLER_ERROR), "handler_error");
    assert_string_equal (zmesh_task_status_name (ZMESH_TASK_NO_HANDLER), "no_handler");
    assert_string_equal (zmesh_task_status_name (ZMESH_TASK_TIMEOUT), "timeout");
    assert_string_equal (zmesh_task_status_name (ZMESH_TASK_REFUSED), "refused");
    assert_string_equal (zmesh_task_status_name (ZMESH_TASK_CANCELLED), "cancelled");
    assert_string_equal (zmesh_task_status_name (-1), "?");
    assert_string_equal (zmesh_task_status_name (ZMESH_TASK_STATUS_MAX + 1), "?");
}

//  SUBMIT (owner = sender) and STOLEN (any owners) carry tasks.
static void
test_tasks_round_trip (void **state)
{
    const uint8_t kinds [] = {ZMESH_TASK_KIND_SUBMIT, ZMESH_TASK_KIND_STOLEN};
    for (size_t k = 0; k < sizeof kinds; k++) {
        zmesh_id_t sender = s_id (0x51);
        zmesh_task_item_t tasks [6];
        zmesh_task_writer_t writer;
        assert_int_equal (
            zmesh_task_writer_begin (&writer, s_buf, S_BUF_SIZE, &sender, kinds [k], &s_load),
            ZMESH_OK);
        for (uint32_t i = 0; i < 6; i++) {
            s_task (&tasks [i], i, kinds [k] == ZMESH_TASK_KIND_SUBMIT ? 0x51 : (uint8_t) i);
            assert_int_equal (zmesh_task_writer_add_task (&writer, &tasks [i]), ZMESH_OK);
        }
        assert_int_equal (writer.count, 6);
        size_t size = 0;
        assert_int_equal (zmesh_task_writer_finish (&writer, &size), ZMESH_OK);
        assert_int_equal (size, writer.size);
        s_decode_ok (s_buf, size, kinds [k], 0x51);
        s_assert_load (&s_msg.load, &s_load);
        assert_int_equal (s_msg.count, 6);
        for (uint32_t i = 0; i < 6; i++) {
            const zmesh_task_item_t *task = &s_msg.u.tasks [i];
            s_assert_task (task, &tasks [i]);
            //  Bytes are views into the input, not copies.
            s_assert_view (task->payload, task->payload_size, s_buf, size);
            s_assert_view (task->checkpoint, task->checkpoint_size, s_buf, size);
            if (task->checkpoint)
                assert_true (task->checkpoint >= s_buf && task->checkpoint <= s_buf + size);
        }
        s_assert_cuts (s_buf, size);
    }
}

static void
test_results_round_trip (void **state)
{
    zmesh_id_t sender = s_id (0x52);
    zmesh_task_result_item_t results [12];
    zmesh_task_writer_t writer;
    assert_int_equal (
        zmesh_task_writer_begin (&writer, s_buf, S_BUF_SIZE, &sender, ZMESH_TASK_KIND_RESULT, NULL),
        ZMESH_OK);
    for (uint32_t i = 0; i < 12; i++) {
        s_result (&results [i], i);
        assert_int_equal (zmesh_task_writer_add_result (&writer, &results [i]), ZMESH_OK);
    }
    size_t size = 0;
    assert_int_equal (zmesh_task_writer_finish (&writer, &size), ZMESH_OK);
    s_decode_ok (s_buf, size, ZMESH_TASK_KIND_RESULT, 0x52);
    zmesh_task_load_t zero = {0, 0, 0, 0};
    s_assert_load (&s_msg.load, &zero);  //  load NULL: all zero
    assert_int_equal (s_msg.count, 12);
    for (uint32_t i = 0; i < 12; i++) {
        const zmesh_task_result_item_t *result = &s_msg.u.results [i];
        s_assert_result (result, &results [i]);
        s_assert_view (result->output, result->output_size, s_buf, size);
        s_assert_view ((const uint8_t *) result->error, result->error_size, s_buf, size);
    }
    //  The longest error text.
    static char error [ZMESH_TASK_ERROR_MAX - 1];
    memset (error, 'e', sizeof error);
    results [0].error = error;
    results [0].error_size = sizeof error;
    assert_int_equal (zmesh_task_writer_begin (&writer, s_buf, S_BUF_SIZE, &sender,
                                               ZMESH_TASK_KIND_RESULT, &s_load),
                      ZMESH_OK);
    assert_int_equal (zmesh_task_writer_add_result (&writer, &results [0]), ZMESH_OK);
    assert_int_equal (zmesh_task_writer_finish (&writer, &size), ZMESH_OK);
    s_decode_ok (s_buf, size, ZMESH_TASK_KIND_RESULT, 0x52);
    s_assert_result (&s_msg.u.results [0], &results [0]);
    s_assert_cuts (s_buf, size);
}

//  LEASE, CANCEL and MOVED carry refs; MOVED names the thief too.
static void
test_refs_round_trip (void **state)
{
    const uint8_t kinds [] = {ZMESH_TASK_KIND_LEASE, ZMESH_TASK_KIND_CANCEL, ZMESH_TASK_KIND_MOVED};
    for (size_t k = 0; k < sizeof kinds; k++) {
        zmesh_id_t sender = s_id (0x53), thief = s_id (0x77);
        zmesh_task_writer_t writer;
        if (kinds [k] == ZMESH_TASK_KIND_MOVED)
            assert_int_equal (zmesh_task_writer_begin_moved (&writer, s_buf, S_BUF_SIZE, &sender,
                                                             &s_load, &thief),
                              ZMESH_OK);
        else
            assert_int_equal (
                zmesh_task_writer_begin (&writer, s_buf, S_BUF_SIZE, &sender, kinds [k], &s_load),
                ZMESH_OK);
        for (uint32_t i = 0; i < 5; i++) {
            zmesh_task_ref_t ref = s_ref (i);
            assert_int_equal (zmesh_task_writer_add_ref (&writer, &ref), ZMESH_OK);
        }
        size_t size = 0;
        assert_int_equal (zmesh_task_writer_finish (&writer, &size), ZMESH_OK);
        s_decode_ok (s_buf, size, kinds [k], 0x53);
        s_assert_load (&s_msg.load, &s_load);
        assert_int_equal (s_msg.count, 5);
        for (uint32_t i = 0; i < 5; i++) {
            zmesh_task_ref_t ref = s_ref (i);
            s_assert_ref (&s_msg.u.refs [i], &ref);
        }
        if (kinds [k] == ZMESH_TASK_KIND_MOVED)
            s_assert_id (&s_msg.thief, 0x77);
        s_assert_cuts (s_buf, size);
    }
}

static void
test_steal_round_trip (void **state)
{
    zmesh_id_t sender = s_id (0x54);
    const uint32_t maxes [] = {1, 64, ZMESH_TASK_BATCH_MAX};
    size_t size = 0;
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal (
            zmesh_task_encode_steal (s_buf, S_BUF_SIZE, &sender, &s_load, maxes [i], &size),
            ZMESH_OK);
        s_decode_ok (s_buf, size, ZMESH_TASK_KIND_STEAL, 0x54);
        s_assert_load (&s_msg.load, &s_load);
        assert_int_equal (s_msg.max, maxes [i]);
        assert_int_equal (s_msg.count, 0);
        s_assert_cuts (s_buf, size);
        assert_int_equal (
            zmesh_task_encode_steal (s_buf, size - 1, &sender, &s_load, maxes [i], &size),
            ZMESH_ETOOBIG);
    }
    assert_int_equal (zmesh_task_encode_steal (s_buf, S_BUF_SIZE, &sender, NULL, 0, &size),
                      ZMESH_EINVAL);
    assert_int_equal (
        zmesh_task_encode_steal (s_buf, S_BUF_SIZE, &sender, NULL, ZMESH_TASK_BATCH_MAX + 1, &size),
        ZMESH_EINVAL);
    assert_int_equal (zmesh_task_encode_steal (s_buf, S_BUF_SIZE, NULL, NULL, 1, &size),
                      ZMESH_EINVAL);
}

//  CALL and BID (the auction): every field round trips; cut short, each is malformed; the
//  values the wire does not allow are refused by the encoders.
static void
test_call_bid_round_trip (void **state)
{
    (void) state;
    zmesh_id_t sender = s_id (0x56);
    zmesh_task_call_t call = {.id = 0xfffffff0u,
                              .cpu_millicores = 1500,
                              .memory_bytes = UINT64_MAX,
                              .gpus = 2,
                              .tag_count = ZMESH_TASK_TAGS_MAX,
                              .perf_best_us = 123456789};
    snprintf (call.handler, sizeof call.handler, "image resize");
    for (uint32_t i = 0; i < ZMESH_TASK_TAGS_MAX; i++)
        snprintf (call.tags [i], sizeof call.tags [i], "tag-%u", i);
    size_t size = 0;
    assert_int_equal (zmesh_task_encode_call (s_buf, S_BUF_SIZE, &sender, &s_load, &call, &size),
                      ZMESH_OK);
    s_decode_ok (s_buf, size, ZMESH_TASK_KIND_CALL, 0x56);
    s_assert_load (&s_msg.load, &s_load);
    assert_int_equal (s_msg.call.id, call.id);
    assert_string_equal (s_msg.call.handler, "image resize");
    assert_int_equal (s_msg.call.cpu_millicores, 1500);
    assert_true (s_msg.call.memory_bytes == UINT64_MAX);
    assert_int_equal (s_msg.call.gpus, 2);
    assert_int_equal (s_msg.call.tag_count, ZMESH_TASK_TAGS_MAX);
    assert_string_equal (s_msg.call.tags [15], "tag-15");
    assert_int_equal (s_msg.call.perf_best_us, 123456789);
    s_assert_cuts (s_buf, size);
    assert_int_equal (zmesh_task_encode_call (s_buf, size - 1, &sender, &s_load, &call, &size),
                      ZMESH_ETOOBIG);
    zmesh_task_call_t bad = call;
    bad.tag_count = ZMESH_TASK_TAGS_MAX + 1;
    assert_int_equal (zmesh_task_encode_call (s_buf, S_BUF_SIZE, &sender, NULL, &bad, &size),
                      ZMESH_EINVAL);
    bad = call;
    snprintf (bad.tags [3], sizeof bad.tags [3], "two words");
    assert_int_equal (zmesh_task_encode_call (s_buf, S_BUF_SIZE, &sender, NULL, &bad, &size),
                      ZMESH_EINVAL);
    bad = call;
    bad.handler [0] = 0;
    assert_int_equal (zmesh_task_encode_call (s_buf, S_BUF_SIZE, &sender, NULL, &bad, &size),
                      ZMESH_EINVAL);

    zmesh_task_bid_t bids [] = {{1, true, 0}, {2, true, 1000}, {3, false, 0}};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal (
            zmesh_task_encode_bid (s_buf, S_BUF_SIZE, &sender, &s_load, &bids [i], &size),
            ZMESH_OK);
        s_decode_ok (s_buf, size, ZMESH_TASK_KIND_BID, 0x56);
        assert_int_equal (s_msg.bid.call_id, bids [i].call_id);
        assert_int_equal (s_msg.bid.able, bids [i].able);
        assert_int_equal (s_msg.bid.permille, bids [i].permille);
        s_assert_cuts (s_buf, size);
    }
    zmesh_task_bid_t over = {4, true, 1001}, unable = {5, false, 1};
    assert_int_equal (zmesh_task_encode_bid (s_buf, S_BUF_SIZE, &sender, NULL, &over, &size),
                      ZMESH_EINVAL);
    assert_int_equal (zmesh_task_encode_bid (s_buf, S_BUF_SIZE, &sender, NULL, &unable, &size),
                      ZMESH_EINVAL);
    //  A bid over 1000 on the wire (the last byte of a bid of 1000 is its low byte: cd 03 e8).
    zmesh_task_bid_t top = {6, true, 1000};
    assert_int_equal (zmesh_task_encode_bid (s_buf, S_BUF_SIZE, &sender, NULL, &top, &size),
                      ZMESH_OK);
    assert_int_equal (s_buf [size - 1], 0xe8);
    s_buf [size - 1] = 0xe9;
    assert_int_equal (zmesh_task_envelope_decode (&s_msg, NULL, s_buf, size), ZMESH_EPROTO);
}

static void
test_checkpoint_round_trip (void **state)
{
    zmesh_id_t sender = s_id (0x55);
    zmesh_task_ref_t ref = s_ref (3);
    size_t size = 0;
    assert_int_equal (zmesh_task_encode_checkpoint (s_buf, S_BUF_SIZE, &sender, &s_load, &ref,
                                                    s_checkpoint, sizeof s_checkpoint, &size),
                      ZMESH_OK);
    s_decode_ok (s_buf, size, ZMESH_TASK_KIND_CHECKPOINT, 0x55);
    s_assert_load (&s_msg.load, &s_load);
    s_assert_ref (&s_msg.checkpoint_of, &ref);
    s_assert_bytes (s_msg.checkpoint, s_msg.checkpoint_size, s_checkpoint, sizeof s_checkpoint);
    s_assert_view (s_msg.checkpoint, s_msg.checkpoint_size, s_buf, size);
    s_assert_cuts (s_buf, size);
    assert_int_equal (zmesh_task_encode_checkpoint (s_buf, size - 1, &sender, &s_load, &ref,
                                                    s_checkpoint, sizeof s_checkpoint, &size),
                      ZMESH_ETOOBIG);

    //  An empty one, and the largest.
    assert_int_equal (
        zmesh_task_encode_checkpoint (s_buf, S_BUF_SIZE, &sender, NULL, &ref, NULL, 0, &size),
        ZMESH_OK);
    s_decode_ok (s_buf, size, ZMESH_TASK_KIND_CHECKPOINT, 0x55);
    assert_int_equal (s_msg.checkpoint_size, 0);
    assert_int_equal (zmesh_task_encode_checkpoint (s_buf, S_BUF_SIZE, &sender, NULL, &ref, s_zeros,
                                                    ZMESH_TASK_PAYLOAD_MAX, &size),
                      ZMESH_OK);
    s_decode_ok (s_buf, size, ZMESH_TASK_KIND_CHECKPOINT, 0x55);
    assert_int_equal (s_msg.checkpoint_size, ZMESH_TASK_PAYLOAD_MAX);

    //  What the wire does not allow.
    assert_int_equal (zmesh_task_encode_checkpoint (s_buf, S_BUF_SIZE, &sender, NULL, &ref, s_zeros,
                                                    ZMESH_TASK_PAYLOAD_MAX + 1, &size),
                      ZMESH_EINVAL);
    assert_int_equal (
        zmesh_task_encode_checkpoint (s_buf, S_BUF_SIZE, &sender, NULL, &ref, NULL, 1, &size),
        ZMESH_EINVAL);
    ref.attempt = 0;
    assert_int_equal (
        zmesh_task_encode_checkpoint (s_buf, S_BUF_SIZE, &sender, NULL, &ref, NULL, 0, &size),
        ZMESH_EINVAL);
    ref.attempt = ZMESH_TASK_ATTEMPTS_MAX + 1;
    assert_int_equal (
        zmesh_task_encode_checkpoint (s_buf, S_BUF_SIZE, &sender, NULL, &ref, NULL, 0, &size),
        ZMESH_EINVAL);
}

//  A message with no items is valid, of every kind that has items.
static void
test_empty_batches (void **state)
{
    zmesh_id_t sender = s_id (0x56), thief = s_id (0x57);
    const uint8_t kinds [] = {ZMESH_TASK_KIND_SUBMIT, ZMESH_TASK_KIND_RESULT,
                              ZMESH_TASK_KIND_LEASE,  ZMESH_TASK_KIND_MOVED,
                              ZMESH_TASK_KIND_STOLEN, ZMESH_TASK_KIND_CANCEL};
    for (size_t k = 0; k < sizeof kinds; k++) {
        zmesh_task_writer_t writer;
        if (kinds [k] == ZMESH_TASK_KIND_MOVED)
            assert_int_equal (
                zmesh_task_writer_begin_moved (&writer, s_buf, 128, &sender, &s_load, &thief),
                ZMESH_OK);
        else
            assert_int_equal (
                zmesh_task_writer_begin (&writer, s_buf, 128, &sender, kinds [k], &s_load),
                ZMESH_OK);
        size_t size = 0;
        assert_int_equal (zmesh_task_writer_finish (&writer, &size), ZMESH_OK);
        s_decode_ok (s_buf, size, kinds [k], 0x56);
        assert_int_equal (s_msg.count, 0);
        s_assert_load (&s_msg.load, &s_load);
    }
}

//  The bounds docs/protocol.md 7.7.5 gives: what a message takes besides its items (and a
//  CHECKPOINT's bytes), and what an item takes besides its bytes, at their largest.
static void
test_sizes_documented (void **state)
{
    zmesh_id_t sender = s_id (0x5a);
    zmesh_task_load_t load = {UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX};
    zmesh_task_writer_t writer;
    size_t size = 0;
    assert_int_equal (
        zmesh_task_writer_begin_moved (&writer, s_buf, S_BUF_SIZE, &sender, &load, &sender),
        ZMESH_OK);
    assert_int_equal (writer.size, 67);
    zmesh_task_ref_t ref = {sender, ZMESH_TASK_ATTEMPTS_MAX, true};
    assert_int_equal (zmesh_task_writer_add_ref (&writer, &ref), ZMESH_OK);
    assert_int_equal (writer.size, 67 + 23);
    assert_int_equal (
        zmesh_task_encode_steal (s_buf, S_BUF_SIZE, &sender, &load, ZMESH_TASK_BATCH_MAX, &size),
        ZMESH_OK);
    assert_int_equal (size, 47);
    assert_int_equal (zmesh_task_encode_checkpoint (s_buf, S_BUF_SIZE, &sender, &load, &ref,
                                                    s_zeros, ZMESH_TASK_PAYLOAD_MAX, &size),
                      ZMESH_OK);
    assert_int_equal (size, 72 + ZMESH_TASK_PAYLOAD_MAX);

    assert_int_equal (zmesh_task_writer_begin (&writer, s_buf, S_BUF_SIZE, &sender,
                                               ZMESH_TASK_KIND_SUBMIT, &load),
                      ZMESH_OK);
    size_t head = writer.size;
    zmesh_task_item_t task = {.owner = sender,
                              .attempt = ZMESH_TASK_ATTEMPTS_MAX,
                              .priority = 3,
                              .flags = 0xff,
                              .timeout_ms = UINT32_MAX,
                              .cpu_millicores = UINT32_MAX,
                              .memory_bytes = UINT64_MAX,
                              .gpus = UINT32_MAX,
                              .payload = s_zeros,
                              .payload_size = ZMESH_TASK_PAYLOAD_MAX,
                              .checkpoint = s_zeros,
                              .checkpoint_size = ZMESH_TASK_PAYLOAD_MAX};
    memset (task.handler, 'h', ZMESH_TASK_HANDLER_MAX - 1);
    assert_int_equal (zmesh_task_writer_add_task (&writer, &task), ZMESH_OK);
    assert_int_equal (writer.size - head, 142 + 2 * ZMESH_TASK_PAYLOAD_MAX);

    static char error [ZMESH_TASK_ERROR_MAX - 1];
    memset (error, 'e', sizeof error);
    zmesh_task_result_item_t result = {.attempt = ZMESH_TASK_ATTEMPTS_MAX,
                                       .status = ZMESH_TASK_STATUS_MAX,
                                       .output = s_zeros,
                                       .output_size = ZMESH_TASK_PAYLOAD_MAX,
                                       .error = error,
                                       .error_size = sizeof error,
                                       .queued_us = UINT64_MAX,
                                       .run_us = UINT64_MAX};
    assert_int_equal (zmesh_task_writer_begin (&writer, s_buf, S_BUF_SIZE, &sender,
                                               ZMESH_TASK_KIND_RESULT, &load),
                      ZMESH_OK);
    head = writer.size;
    assert_int_equal (zmesh_task_writer_add_result (&writer, &result), ZMESH_OK);
    assert_int_equal (writer.size - head, 48 + ZMESH_TASK_PAYLOAD_MAX + ZMESH_TASK_ERROR_MAX - 1);
}

//  ---------------------------------------------------------------------------------------------
//  Full batches

//  Fill a small buffer: the append that does not fit is ZMESH_ETOOBIG and leaves every byte of
//  the message as it was; a smaller item may still fit after it; what is there decodes.
static void
test_batch_full_rolls_back (void **state)
{
    static uint8_t before [4096];
    zmesh_id_t sender = s_id (0x51);
    zmesh_task_writer_t writer;
    assert_int_equal (
        zmesh_task_writer_begin (&writer, s_buf, 600, &sender, ZMESH_TASK_KIND_SUBMIT, &s_load),
        ZMESH_OK);
    zmesh_task_item_t task;
    s_task (&task, 0, 0x51);
    task.payload = s_zeros;
    task.payload_size = 150;
    uint32_t appended = 0;
    int rc;
    while (true) {
        size_t size_before = writer.size;
        memcpy (before, s_buf, size_before);
        rc = zmesh_task_writer_add_task (&writer, &task);
        if (rc != ZMESH_OK) {
            assert_int_equal (writer.size, size_before);
            assert_memory_equal (s_buf, before, size_before);
            break;
        }
        appended++;
        assert_true (writer.size <= 600);
    }
    assert_int_equal (rc, ZMESH_ETOOBIG);
    assert_int_equal (writer.count, appended);
    assert_true (appended >= 2);
    //  A smaller one fits in what is left.
    zmesh_task_item_t small;
    s_task (&small, 4, 0x51);
    small.payload = NULL;
    small.payload_size = 0;
    small.checkpoint = NULL;
    small.checkpoint_size = 0;
    assert_true (600 - writer.size >= 100);
    assert_int_equal (zmesh_task_writer_add_task (&writer, &small), ZMESH_OK);
    appended++;
    size_t size = 0;
    assert_int_equal (zmesh_task_writer_finish (&writer, &size), ZMESH_OK);
    s_decode_ok (s_buf, size, ZMESH_TASK_KIND_SUBMIT, 0x51);
    assert_int_equal (s_msg.count, appended);
    s_assert_task (&s_msg.u.tasks [0], &task);
}

//  The writer stops at ZMESH_TASK_MSG_MAX whatever the capacity: what it writes always decodes.
static void
test_batch_full_at_message_max (void **state)
{
    size_t capacity = 6u * 1024u * 1024u;
    uint8_t *buf = malloc (capacity);
    assert_non_null (buf);
    zmesh_id_t sender = s_id (0x58);
    zmesh_task_writer_t writer;
    assert_int_equal (
        zmesh_task_writer_begin (&writer, buf, capacity, &sender, ZMESH_TASK_KIND_RESULT, &s_load),
        ZMESH_OK);
    zmesh_task_result_item_t result;
    s_result (&result, 1);
    result.output = s_zeros;
    result.output_size = ZMESH_TASK_PAYLOAD_MAX;
    for (int i = 0; i < 3; i++)
        assert_int_equal (zmesh_task_writer_add_result (&writer, &result), ZMESH_OK);
    size_t size_before = writer.size;
    assert_int_equal (zmesh_task_writer_add_result (&writer, &result), ZMESH_ETOOBIG);
    assert_int_equal (writer.size, size_before);
    //  A smaller one still fits under the limit.
    result.output_size = ZMESH_TASK_MSG_MAX - (uint32_t) size_before - 100;
    assert_int_equal (zmesh_task_writer_add_result (&writer, &result), ZMESH_OK);
    size_t size = 0;
    assert_int_equal (zmesh_task_writer_finish (&writer, &size), ZMESH_OK);
    assert_true (size <= ZMESH_TASK_MSG_MAX);
    assert_int_equal (zmesh_task_envelope_decode (&s_msg, NULL, buf, size), ZMESH_OK);
    assert_int_equal (s_msg.count, 4);
    assert_int_equal (s_msg.u.results [3].output_size, result.output_size);
    //  One byte over the limit is refused before anything is read.
    memset (buf, 0, ZMESH_TASK_MSG_MAX + 1);
    assert_int_equal (zmesh_task_envelope_decode (&s_msg, NULL, buf, ZMESH_TASK_MSG_MAX + 1),
                      ZMESH_ETOOBIG);
    free (buf);
}

//  The (ZMESH_TASK_BATCH_MAX + 1)-th item is ZMESH_ELIMIT and leaves the message as it was.
static void
test_batch_limit (void **state)
{
    zmesh_id_t sender = s_id (0x59);
    zmesh_task_writer_t writer;
    assert_int_equal (zmesh_task_writer_begin (&writer, s_buf, S_BUF_SIZE, &sender,
                                               ZMESH_TASK_KIND_LEASE, &s_load),
                      ZMESH_OK);
    for (uint32_t i = 0; i < ZMESH_TASK_BATCH_MAX; i++) {
        zmesh_task_ref_t ref = s_ref (i);
        assert_int_equal (zmesh_task_writer_add_ref (&writer, &ref), ZMESH_OK);
    }
    size_t size_before = writer.size;
    zmesh_task_ref_t ref = s_ref (0);
    assert_int_equal (zmesh_task_writer_add_ref (&writer, &ref), ZMESH_ELIMIT);
    assert_int_equal (writer.size, size_before);
    assert_int_equal (writer.count, ZMESH_TASK_BATCH_MAX);
    size_t size = 0;
    assert_int_equal (zmesh_task_writer_finish (&writer, &size), ZMESH_OK);
    s_decode_ok (s_buf, size, ZMESH_TASK_KIND_LEASE, 0x59);
    assert_int_equal (s_msg.count, ZMESH_TASK_BATCH_MAX);
    for (uint32_t i = 0; i < ZMESH_TASK_BATCH_MAX; i++) {
        ref = s_ref (i);
        s_assert_ref (&s_msg.u.refs [i], &ref);
    }
}

//  ---------------------------------------------------------------------------------------------
//  What the writer refuses

static void
test_writer_refuses (void **state)
{
    zmesh_id_t sender = s_id (0x51), other = s_id (0x61);
    zmesh_task_writer_t writer;
    //  Kinds without items, unknown kinds, MOVED without its thief, no buffer, no room.
    const uint8_t bad_kinds [] = {0, ZMESH_TASK_KIND_MOVED, ZMESH_TASK_KIND_STEAL,
                                  ZMESH_TASK_KIND_CHECKPOINT, ZMESH_TASK_KIND_MAX + 1};
    for (size_t k = 0; k < sizeof bad_kinds; k++) {
        assert_int_equal (
            zmesh_task_writer_begin (&writer, s_buf, S_BUF_SIZE, &sender, bad_kinds [k], NULL),
            ZMESH_EINVAL);
        zmesh_task_ref_t ref = s_ref (1);
        assert_int_equal (zmesh_task_writer_add_ref (&writer, &ref), ZMESH_EINVAL);
    }
    assert_int_equal (
        zmesh_task_writer_begin_moved (&writer, s_buf, S_BUF_SIZE, &sender, NULL, NULL),
        ZMESH_EINVAL);
    assert_int_equal (
        zmesh_task_writer_begin (&writer, NULL, S_BUF_SIZE, &sender, ZMESH_TASK_KIND_LEASE, NULL),
        ZMESH_EINVAL);
    assert_int_equal (
        zmesh_task_writer_begin (&writer, s_buf, S_BUF_SIZE, NULL, ZMESH_TASK_KIND_LEASE, NULL),
        ZMESH_EINVAL);
    assert_int_equal (
        zmesh_task_writer_begin (&writer, s_buf, 30, &sender, ZMESH_TASK_KIND_LEASE, NULL),
        ZMESH_ETOOBIG);
    size_t size = 0;
    assert_int_equal (zmesh_task_writer_finish (&writer, &size), ZMESH_EINVAL);

    //  Tasks.
    assert_int_equal (
        zmesh_task_writer_begin (&writer, s_buf, S_BUF_SIZE, &sender, ZMESH_TASK_KIND_SUBMIT, NULL),
        ZMESH_OK);
    size_t empty = writer.size;
    zmesh_task_item_t good, task;
    s_task (&good, 2, 0x51);
    zmesh_task_result_item_t result;
    s_result (&result, 1);
    zmesh_task_ref_t ref = s_ref (1);
    assert_int_equal (zmesh_task_writer_add_result (&writer, &result), ZMESH_EINVAL);
    assert_int_equal (zmesh_task_writer_add_ref (&writer, &ref), ZMESH_EINVAL);
    task = good, task.attempt = 0;
    assert_int_equal (zmesh_task_writer_add_task (&writer, &task), ZMESH_EINVAL);
    task = good, task.attempt = ZMESH_TASK_ATTEMPTS_MAX + 1;
    assert_int_equal (zmesh_task_writer_add_task (&writer, &task), ZMESH_EINVAL);
    task = good, task.priority = 4;
    assert_int_equal (zmesh_task_writer_add_task (&writer, &task), ZMESH_EINVAL);
    task = good, task.handler [0] = 0;
    assert_int_equal (zmesh_task_writer_add_task (&writer, &task), ZMESH_EINVAL);
    task = good, memset (task.handler, 'h', ZMESH_TASK_HANDLER_MAX);  //  no NUL: too long
    assert_int_equal (zmesh_task_writer_add_task (&writer, &task), ZMESH_EINVAL);
    task = good, task.handler [1] = '\n';
    assert_int_equal (zmesh_task_writer_add_task (&writer, &task), ZMESH_EINVAL);
    task = good, task.handler [1] = 0x7f;
    assert_int_equal (zmesh_task_writer_add_task (&writer, &task), ZMESH_EINVAL);
    task = good, task.handler [1] = (char) 0xc3;
    assert_int_equal (zmesh_task_writer_add_task (&writer, &task), ZMESH_EINVAL);
    task = good, task.payload = s_zeros, task.payload_size = ZMESH_TASK_PAYLOAD_MAX + 1;
    assert_int_equal (zmesh_task_writer_add_task (&writer, &task), ZMESH_EINVAL);
    task = good, task.payload = NULL, task.payload_size = 1;
    assert_int_equal (zmesh_task_writer_add_task (&writer, &task), ZMESH_EINVAL);
    task = good, task.checkpoint = s_zeros, task.checkpoint_size = ZMESH_TASK_PAYLOAD_MAX + 1;
    assert_int_equal (zmesh_task_writer_add_task (&writer, &task), ZMESH_EINVAL);
    task = good, task.checkpoint = NULL, task.checkpoint_size = 1;
    assert_int_equal (zmesh_task_writer_add_task (&writer, &task), ZMESH_EINVAL);
    task = good, task.owner = other;  //  a SUBMIT's tasks are the sender's
    assert_int_equal (zmesh_task_writer_add_task (&writer, &task), ZMESH_EINVAL);
    assert_int_equal (writer.size, empty);
    assert_int_equal (writer.count, 0);
    assert_int_equal (zmesh_task_writer_add_task (&writer, &good), ZMESH_OK);

    //  A STOLEN's tasks may have any owner.
    assert_int_equal (
        zmesh_task_writer_begin (&writer, s_buf, S_BUF_SIZE, &sender, ZMESH_TASK_KIND_STOLEN, NULL),
        ZMESH_OK);
    task = good, task.owner = other;
    assert_int_equal (zmesh_task_writer_add_task (&writer, &task), ZMESH_OK);

    //  Results.
    assert_int_equal (
        zmesh_task_writer_begin (&writer, s_buf, S_BUF_SIZE, &sender, ZMESH_TASK_KIND_RESULT, NULL),
        ZMESH_OK);
    empty = writer.size;
    static char long_error [ZMESH_TASK_ERROR_MAX];
    memset (long_error, 'e', sizeof long_error);
    zmesh_task_result_item_t bad;
    assert_int_equal (zmesh_task_writer_add_task (&writer, &good), ZMESH_EINVAL);
    assert_int_equal (zmesh_task_writer_add_ref (&writer, &ref), ZMESH_EINVAL);
    bad = result, bad.attempt = 0;
    assert_int_equal (zmesh_task_writer_add_result (&writer, &bad), ZMESH_EINVAL);
    bad = result, bad.status = ZMESH_TASK_STATUS_MAX + 1;
    assert_int_equal (zmesh_task_writer_add_result (&writer, &bad), ZMESH_EINVAL);
    bad = result, bad.output = s_zeros, bad.output_size = ZMESH_TASK_PAYLOAD_MAX + 1;
    assert_int_equal (zmesh_task_writer_add_result (&writer, &bad), ZMESH_EINVAL);
    bad = result, bad.output = NULL, bad.output_size = 1;
    assert_int_equal (zmesh_task_writer_add_result (&writer, &bad), ZMESH_EINVAL);
    bad = result, bad.error = long_error, bad.error_size = ZMESH_TASK_ERROR_MAX;
    assert_int_equal (zmesh_task_writer_add_result (&writer, &bad), ZMESH_EINVAL);
    bad = result, bad.error = "a\0b", bad.error_size = 3;
    assert_int_equal (zmesh_task_writer_add_result (&writer, &bad), ZMESH_EINVAL);
    bad = result, bad.error = NULL, bad.error_size = 1;
    assert_int_equal (zmesh_task_writer_add_result (&writer, &bad), ZMESH_EINVAL);
    assert_int_equal (writer.size, empty);

    //  Refs.
    assert_int_equal (
        zmesh_task_writer_begin (&writer, s_buf, S_BUF_SIZE, &sender, ZMESH_TASK_KIND_CANCEL, NULL),
        ZMESH_OK);
    empty = writer.size;
    assert_int_equal (zmesh_task_writer_add_task (&writer, &good), ZMESH_EINVAL);
    assert_int_equal (zmesh_task_writer_add_result (&writer, &result), ZMESH_EINVAL);
    ref.attempt = 0;
    assert_int_equal (zmesh_task_writer_add_ref (&writer, &ref), ZMESH_EINVAL);
    ref.attempt = ZMESH_TASK_ATTEMPTS_MAX + 1;
    assert_int_equal (zmesh_task_writer_add_ref (&writer, &ref), ZMESH_EINVAL);
    assert_int_equal (writer.size, empty);
}

//  ---------------------------------------------------------------------------------------------
//  Messages packed by hand, as another implementation would, with one thing at a time wrong.

static uint8_t s_raw [S_BUF_SIZE];
static zmesh_mp_writer_t s_w;
static const char *s_bad;  //  what is wrong with the message being packed; "" nothing

static bool
s_is (const char *name)
{
    return strcmp (s_bad, name) == 0;
}

static void
s_raw_be (uint8_t tag, uint64_t value, int width)
{
    uint8_t bytes [9] = {tag};
    for (int i = 0; i < width; i++)
        bytes [1 + i] = (uint8_t) (value >> (8 * (width - 1 - i)));
    zmesh_mp_write_raw (&s_w, bytes, 1 + (size_t) width);
}

//  "wide": every integer, array, str and bin header in its widest form.
static void
s_uint (uint64_t value)
{
    if (s_is ("wide"))
        s_raw_be (0xcf, value, 8);
    else
        msgpack_pack_uint64 (&s_w.pk, value);
}

//  "extra": two more elements in every array, skipped by the reader.
static void
s_array (uint32_t count)
{
    if (s_is ("extra"))
        count += 2;
    if (s_is ("wide"))
        s_raw_be (0xdd, count, 4);
    else
        msgpack_pack_array (&s_w.pk, count);
}

//  An array of items: as long as it says.
static void
s_list (uint32_t count)
{
    if (s_is ("wide"))
        s_raw_be (0xdd, count, 4);
    else
        msgpack_pack_array (&s_w.pk, count);
}

static void
s_extras (void)
{
    if (!s_is ("extra"))
        return;
    msgpack_pack_map (&s_w.pk, 1);
    msgpack_pack_int64 (&s_w.pk, -5);
    msgpack_pack_array (&s_w.pk, 2);
    msgpack_pack_double (&s_w.pk, 1.5);
    msgpack_pack_nil (&s_w.pk);
    msgpack_pack_ext_with_body (&s_w.pk, "xyz", 3, 7);
}

static void
s_str (const char *text, size_t size)
{
    if (s_is ("wide"))
        s_raw_be (0xdb, size, 4);
    else
        msgpack_pack_str (&s_w.pk, size);
    zmesh_mp_write_raw (&s_w, text, size);
}

static void
s_bin (const void *data, size_t size)
{
    if (s_is ("wide"))
        s_raw_be (0xc6, size, 4);
    else
        msgpack_pack_bin (&s_w.pk, size);
    zmesh_mp_write_raw (&s_w, data, size);
}

static void
s_id_of (uint8_t fill, size_t size)
{
    uint8_t id [ZMESH_ID_SIZE + 1];  //  one byte more for "id-size"
    memset (id, fill, sizeof id);
    s_bin (id, size);
}

//  An attempt: 1000 (the largest), or spoiled.
static void
s_attempt (void)
{
    if (s_is ("attempt-zero"))
        s_uint (0);
    else if (s_is ("attempt-big"))
        s_uint (ZMESH_TASK_ATTEMPTS_MAX + 1);
    else if (s_is ("attempt-signed"))
        zmesh_mp_write_raw (&s_w, "\xd1\x00\x01", 3);  //  int 16: 1, but signed
    else if (s_is ("attempt-bool"))
        msgpack_pack_true (&s_w.pk);
    else
        s_uint (ZMESH_TASK_ATTEMPTS_MAX);
}

static void
s_payload_of (const char *text, const char *too_big, const char *as_str)
{
    if (s_is (too_big))
        s_bin (s_zeros, ZMESH_TASK_PAYLOAD_MAX + 1);
    else if (s_is (as_str))
        s_str (text, strlen (text));
    else
        s_bin (text, strlen (text));
}

static void
s_hand_ref (uint32_t i)
{
    s_array (s_is ("ref-short") ? 2 : 3);
    s_id_of ((uint8_t) (0x30 + i), s_is ("id-size") ? ZMESH_ID_SIZE - 1 : ZMESH_ID_SIZE);
    s_attempt ();
    if (s_is ("running-int"))
        s_uint (1);
    else if (!s_is ("ref-short")) {
        if (i % 2)
            msgpack_pack_true (&s_w.pk);
        else
            msgpack_pack_false (&s_w.pk);
    }
    s_extras ();
}

static void
s_hand_task (uint32_t i, uint8_t owner)
{
    s_array (s_is ("task-short") ? 11 : 12);
    s_id_of ((uint8_t) (0x10 + i), s_is ("id-size") ? ZMESH_ID_SIZE + 1 : ZMESH_ID_SIZE);
    s_id_of (s_is ("owner") ? 0x99 : owner, ZMESH_ID_SIZE);
    s_attempt ();
    s_uint (s_is ("priority") ? 4 : 3);
    s_uint (s_is ("flags-big") ? 256 : 0x81);
    s_uint (s_is ("timeout-big") ? 1ull << 32 : UINT32_MAX);
    s_uint (s_is ("cpu-big") ? UINT64_MAX : 1500);
    s_uint (UINT64_MAX);  //  memory_bytes: 64 bits
    s_uint (s_is ("gpus-big") ? 1ull << 32 : 2);
    if (s_is ("handler-empty"))
        s_str ("", 0);
    else if (s_is ("handler-long")) {
        char name [ZMESH_TASK_HANDLER_MAX];  //  one byte too many
        memset (name, 'h', sizeof name);
        s_str (name, sizeof name);
    }
    else if (s_is ("handler-ctrl"))
        s_str ("re\x1bsize", 7);
    else if (s_is ("handler-del"))
        s_str ("re\x7fsize", 7);
    else if (s_is ("handler-high"))
        s_str ("r\xc3\xa9size", 7);
    else if (s_is ("handler-nul"))
        s_str ("re\0size", 7);
    else if (s_is ("handler-bin"))
        s_bin ("resize", 6);
    else
        s_str ("resize", 6);
    s_payload_of ("abc", "payload-big", "payload-str");
    if (i == 0 && !s_is ("checkpoint-big") && !s_is ("checkpoint-str"))
        msgpack_pack_nil (&s_w.pk);
    else
        s_payload_of ("cp", "checkpoint-big", "checkpoint-str");
    s_extras ();
}

static void
s_hand_result (uint32_t i)
{
    s_array (s_is ("result-short") ? 6 : 7);
    s_id_of ((uint8_t) (0x20 + i), ZMESH_ID_SIZE);
    s_attempt ();
    s_uint (s_is ("status") ? ZMESH_TASK_STATUS_MAX + 1 : ZMESH_TASK_STATUS_MAX);
    s_payload_of ("out", "output-big", "output-str");
    if (s_is ("error-long")) {
        static char error [ZMESH_TASK_ERROR_MAX];
        memset (error, 'e', sizeof error);
        s_str (error, sizeof error);
    }
    else if (s_is ("error-nul"))
        s_str ("bo\0om", 5);
    else if (s_is ("error-bin"))
        s_bin ("boom", 4);
    else
        s_str ("boom", 4);
    s_uint (UINT64_MAX);
    s_uint (7);
    s_extras ();
}

//  A whole envelope of `kind`, with two items (or 513 with "items-over"), spoiled as `bad`.
static size_t
s_by_hand (uint8_t kind, const char *bad)
{
    s_bad = bad;
    zmesh_mp_writer_init (&s_w, s_raw, sizeof s_raw);
    s_array (s_is ("envelope-short") ? 3 : 4);
    s_uint (s_is ("version") ? 2 : 1);
    if (s_is ("type-signed"))
        zmesh_mp_write_raw (&s_w, "\xd0\x08", 2);
    else
        s_uint (s_is ("type") ? 7 : s_is ("type-big") ? 264 : ZMESH_MSG_TASK);
    s_id_of (0x51, s_is ("sender-short") ? ZMESH_ID_SIZE - 1 : ZMESH_ID_SIZE);
    uint32_t known = kind == ZMESH_TASK_KIND_MOVED || kind == ZMESH_TASK_KIND_CHECKPOINT ? 4 : 3;
    if (s_is ("body-map"))
        msgpack_pack_map (&s_w.pk, 1);
    else
        s_array (s_is ("body-short") ? known - 1 : known);
    s_uint (s_is ("kind") ? ZMESH_TASK_KIND_MAX + 1 : s_is ("kind-big") ? 256 : kind);
    s_array (s_is ("load-short") ? 3 : 4);
    s_uint (s_is ("load-big") ? 1ull << 32 : 8);
    s_uint (2);
    s_uint (3);
    if (!s_is ("load-short"))
        s_uint (1);
    s_extras ();
    uint32_t items = s_is ("items-over") ? ZMESH_TASK_BATCH_MAX + 1 : 2;
    switch (kind) {
        case ZMESH_TASK_KIND_STEAL:
            s_uint (s_is ("max-zero") ? 0 : s_is ("max-big") ? ZMESH_TASK_BATCH_MAX + 1 : 16);
            break;
        case ZMESH_TASK_KIND_CHECKPOINT:
            s_hand_ref (1);
            s_payload_of ("ckpt!", "checkpoint-big", "checkpoint-str");
            break;
        case ZMESH_TASK_KIND_CALL:
            s_array (s_is ("call-short") ? 6 : 7);
            s_uint (9);
            s_str ("resize", 6);
            s_uint (1500);
            s_uint (UINT64_MAX);
            s_uint (2);
            s_list (s_is ("call-tags-over") ? ZMESH_TASK_TAGS_MAX + 1 : 2);
            for (uint32_t i = 0; i < (s_is ("call-tags-over") ? ZMESH_TASK_TAGS_MAX + 1u : 2u); i++)
                s_str (s_is ("call-tag-bad") ? "a b" : "gpu", 3);
            if (!s_is ("call-short"))
                s_uint (777);
            s_extras ();
            break;
        case ZMESH_TASK_KIND_BID:
            s_array (3);
            s_uint (9);
            if (s_is ("bid-able-int"))
                s_uint (1);
            else if (s_is ("bid-unable"))
                msgpack_pack_false (&s_w.pk);
            else
                msgpack_pack_true (&s_w.pk);
            s_uint (s_is ("bid-over") ? 1001 : 640);
            s_extras ();
            break;
        case ZMESH_TASK_KIND_MOVED:
            s_id_of (0x77, s_is ("thief-short") ? ZMESH_ID_SIZE - 1 : ZMESH_ID_SIZE);
            //  fall through
        case ZMESH_TASK_KIND_LEASE:
        case ZMESH_TASK_KIND_CANCEL:
            s_list (items);
            for (uint32_t i = 0; i < items; i++)
                s_hand_ref (i);
            break;
        case ZMESH_TASK_KIND_RESULT:
            s_list (items);
            for (uint32_t i = 0; i < items; i++)
                s_hand_result (i);
            break;
        default:  //  SUBMIT, STOLEN
            s_list (items);
            for (uint32_t i = 0; i < items; i++)
                s_hand_task (i, 0x51);
            break;
    }
    s_extras ();  //  the body's
    s_extras ();  //  the envelope's
    if (s_is ("trailing"))
        msgpack_pack_nil (&s_w.pk);
    assert_int_equal (zmesh_mp_writer_status (&s_w), ZMESH_OK);
    return s_w.size;
}

//  The values s_by_hand packs, decoded.
static void
s_assert_by_hand (uint8_t kind)
{
    zmesh_task_load_t load = {8, 2, 3, 1};
    s_assert_load (&s_msg.load, &load);
    assert_int_equal (s_msg.kind, kind);
    switch (kind) {
        case ZMESH_TASK_KIND_STEAL:
            assert_int_equal (s_msg.max, 16);
            return;
        case ZMESH_TASK_KIND_CALL:
            assert_int_equal (s_msg.call.id, 9);
            assert_string_equal (s_msg.call.handler, "resize");
            assert_int_equal (s_msg.call.cpu_millicores, 1500);
            assert_true (s_msg.call.memory_bytes == UINT64_MAX);
            assert_int_equal (s_msg.call.gpus, 2);
            assert_int_equal (s_msg.call.tag_count, 2);
            assert_string_equal (s_msg.call.tags [1], "gpu");
            assert_int_equal (s_msg.call.perf_best_us, 777);
            return;
        case ZMESH_TASK_KIND_BID:
            assert_int_equal (s_msg.bid.call_id, 9);
            assert_true (s_msg.bid.able);
            assert_int_equal (s_msg.bid.permille, 640);
            return;
        case ZMESH_TASK_KIND_CHECKPOINT:
            s_assert_id (&s_msg.checkpoint_of.id, 0x31);
            assert_int_equal (s_msg.checkpoint_of.attempt, ZMESH_TASK_ATTEMPTS_MAX);
            assert_true (s_msg.checkpoint_of.running);
            s_assert_bytes (s_msg.checkpoint, s_msg.checkpoint_size, (const uint8_t *) "ckpt!", 5);
            return;
        default:
            break;
    }
    assert_int_equal (s_msg.count, 2);
    if (kind == ZMESH_TASK_KIND_MOVED)
        s_assert_id (&s_msg.thief, 0x77);
    for (uint32_t i = 0; i < 2; i++) {
        if (kind == ZMESH_TASK_KIND_SUBMIT || kind == ZMESH_TASK_KIND_STOLEN) {
            const zmesh_task_item_t *task = &s_msg.u.tasks [i];
            s_assert_id (&task->id, (uint8_t) (0x10 + i));
            s_assert_id (&task->owner, 0x51);
            assert_int_equal (task->attempt, ZMESH_TASK_ATTEMPTS_MAX);
            assert_int_equal (task->priority, 3);
            assert_int_equal (task->flags, 0x81);
            assert_int_equal (task->timeout_ms, UINT32_MAX);
            assert_int_equal (task->cpu_millicores, 1500);
            assert_true (task->memory_bytes == UINT64_MAX);
            assert_int_equal (task->gpus, 2);
            assert_string_equal (task->handler, "resize");
            s_assert_bytes (task->payload, task->payload_size, (const uint8_t *) "abc", 3);
            if (i == 0)
                assert_null (task->checkpoint);
            else
                s_assert_bytes (task->checkpoint, task->checkpoint_size, (const uint8_t *) "cp", 2);
        }
        else if (kind == ZMESH_TASK_KIND_RESULT) {
            const zmesh_task_result_item_t *result = &s_msg.u.results [i];
            s_assert_id (&result->id, (uint8_t) (0x20 + i));
            assert_int_equal (result->attempt, ZMESH_TASK_ATTEMPTS_MAX);
            assert_int_equal (result->status, ZMESH_TASK_STATUS_MAX);
            s_assert_bytes (result->output, result->output_size, (const uint8_t *) "out", 3);
            s_assert_bytes ((const uint8_t *) result->error, result->error_size,
                            (const uint8_t *) "boom", 4);
            assert_true (result->queued_us == UINT64_MAX && result->run_us == 7);
        }
        else {
            const zmesh_task_ref_t *ref = &s_msg.u.refs [i];
            s_assert_id (&ref->id, (uint8_t) (0x30 + i));
            assert_int_equal (ref->attempt, ZMESH_TASK_ATTEMPTS_MAX);
            assert_int_equal (ref->running, i % 2 == 1);
        }
    }
}

typedef struct {
    uint8_t kind;  //  0: every kind
    const char *bad;
    int rc;
} s_case_t;

static const s_case_t s_cases [] = {
    //  Accepted: nothing wrong, the widest forms, extra elements everywhere.
    {0, "", ZMESH_OK},
    {0, "wide", ZMESH_OK},
    {0, "extra", ZMESH_OK},
    //  The envelope and the body.
    {0, "version", ZMESH_EVERSION},
    {0, "type", ZMESH_ETYPE},
    {0, "kind", ZMESH_ETYPE},
    {0, "type-big", ZMESH_EPROTO},
    {0, "type-signed", ZMESH_EPROTO},
    {0, "kind-big", ZMESH_EPROTO},
    {0, "envelope-short", ZMESH_EPROTO},
    {0, "sender-short", ZMESH_EPROTO},
    {0, "body-short", ZMESH_EPROTO},
    {0, "body-map", ZMESH_EPROTO},
    {0, "load-short", ZMESH_EPROTO},
    {0, "load-big", ZMESH_EPROTO},
    {0, "trailing", ZMESH_EPROTO},
    //  Items.
    {ZMESH_TASK_KIND_SUBMIT, "items-over", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_STOLEN, "items-over", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_RESULT, "items-over", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_LEASE, "items-over", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_MOVED, "items-over", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_CANCEL, "items-over", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_CALL, "call-short", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_CALL, "call-tags-over", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_CALL, "call-tag-bad", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_BID, "bid-able-int", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_BID, "bid-unable", ZMESH_EPROTO},  //  not able, yet a bid of 640
    {ZMESH_TASK_KIND_BID, "bid-over", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_SUBMIT, "owner", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_STOLEN, "owner", ZMESH_OK},
    {ZMESH_TASK_KIND_SUBMIT, "task-short", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_STOLEN, "id-size", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_SUBMIT, "attempt-zero", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_SUBMIT, "attempt-big", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_SUBMIT, "attempt-signed", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_SUBMIT, "attempt-bool", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_SUBMIT, "priority", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_SUBMIT, "flags-big", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_SUBMIT, "timeout-big", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_SUBMIT, "cpu-big", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_SUBMIT, "gpus-big", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_SUBMIT, "handler-empty", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_SUBMIT, "handler-long", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_SUBMIT, "handler-ctrl", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_SUBMIT, "handler-del", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_SUBMIT, "handler-high", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_SUBMIT, "handler-nul", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_SUBMIT, "handler-bin", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_SUBMIT, "payload-big", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_SUBMIT, "payload-str", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_STOLEN, "checkpoint-big", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_STOLEN, "checkpoint-str", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_RESULT, "result-short", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_RESULT, "attempt-zero", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_RESULT, "attempt-big", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_RESULT, "status", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_RESULT, "output-big", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_RESULT, "output-str", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_RESULT, "error-long", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_RESULT, "error-nul", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_RESULT, "error-bin", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_LEASE, "ref-short", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_LEASE, "running-int", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_LEASE, "attempt-zero", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_CANCEL, "attempt-big", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_CANCEL, "id-size", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_MOVED, "thief-short", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_MOVED, "attempt-signed", ZMESH_EPROTO},
    //  STEAL and CHECKPOINT.
    {ZMESH_TASK_KIND_STEAL, "max-zero", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_STEAL, "max-big", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_CHECKPOINT, "checkpoint-big", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_CHECKPOINT, "checkpoint-str", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_CHECKPOINT, "attempt-zero", ZMESH_EPROTO},
    {ZMESH_TASK_KIND_CHECKPOINT, "ref-short", ZMESH_EPROTO},
};

static void
test_decode_by_hand (void **state)
{
    for (size_t c = 0; c < sizeof s_cases / sizeof s_cases [0]; c++) {
        const s_case_t *one = &s_cases [c];
        for (uint8_t kind = 1; kind <= ZMESH_TASK_KIND_MAX; kind++) {
            if (one->kind != 0 && one->kind != kind)
                continue;
            size_t size = s_by_hand (kind, one->bad);
            zmesh_id_t sender;
            int rc = zmesh_task_envelope_decode (&s_msg, &sender, s_raw, size);
            if (rc != one->rc)
                fail_msg ("kind %u, \"%s\": %s, expected %s", kind, one->bad, zmesh_error_name (rc),
                          zmesh_error_name (one->rc));
            if (rc == ZMESH_OK) {
                s_assert_id (&sender, 0x51);
                if (strcmp (one->bad, "owner") != 0)
                    s_assert_by_hand (kind);
            }
        }
    }
    //  Not an envelope at all.
    assert_int_equal (zmesh_task_envelope_decode (&s_msg, NULL, NULL, 0), ZMESH_EPROTO);
    assert_int_equal (zmesh_task_envelope_decode (&s_msg, NULL, (const uint8_t *) "\xc0", 1),
                      ZMESH_EPROTO);
}

//  ---------------------------------------------------------------------------------------------
//  The zmesh.work value

static void
s_work_info (zmesh_work_info_t *info, bool longest)
{
    memset (info, 0, sizeof *info);
    strcpy (info->worker_endpoint, "tcp://10.0.0.7:7710");
    info->load = s_load;
    if (!longest) {
        info->tag_count = 3;
        strcpy (info->tags [0], "gpu");
        strcpy (info->tags [1], "zone:eu-west-1.a");
        strcpy (info->tags [2], "SSD_2");
        info->handler_count = 2;
        strcpy (info->handlers [0], "image.resize");
        strcpy (info->handlers [1], "hash file (sha256)");
        info->cost_permille = 250;
        return;
    }
    char *endpoint = info->worker_endpoint;
    strcpy (endpoint, "tcp://");
    memset (endpoint + 6, 'w', ZMESH_ENDPOINT_MAX - 1 - 6 - 6);
    strcpy (endpoint + ZMESH_ENDPOINT_MAX - 1 - 6, ":65535");
    info->tag_count = ZMESH_TASK_TAGS_MAX;
    info->handler_count = ZMESH_TASK_TAGS_MAX;
    for (int i = 0; i < ZMESH_TASK_TAGS_MAX; i++) {
        memset (info->tags [i], 'a' + i, ZMESH_TASK_TAG_MAX - 1);
        memset (info->handlers [i], 'A' + i, ZMESH_TASK_HANDLER_MAX - 1);
    }
    info->load.slots = info->load.busy = info->load.queued = info->load.stealable = UINT32_MAX;
    info->cost_permille = 1000;
}

static void
s_assert_work_info (const zmesh_work_info_t *a, const zmesh_work_info_t *b)
{
    assert_string_equal (a->worker_endpoint, b->worker_endpoint);
    assert_int_equal (a->tag_count, b->tag_count);
    for (uint32_t i = 0; i < a->tag_count; i++)
        assert_string_equal (a->tags [i], b->tags [i]);
    assert_int_equal (a->handler_count, b->handler_count);
    for (uint32_t i = 0; i < a->handler_count; i++)
        assert_string_equal (a->handlers [i], b->handlers [i]);
    s_assert_load (&a->load, &b->load);
    assert_int_equal (a->cost_permille, b->cost_permille);
}

static void
test_work_info_round_trip (void **state)
{
    static zmesh_work_info_t info, out;
    uint8_t buf [ZMESH_WORK_INFO_SIZE_MAX + 16];
    size_t size = 0;
    for (int longest = 0; longest < 2; longest++) {
        s_work_info (&info, longest);
        assert_int_equal (zmesh_work_info_encode (&info, buf, sizeof buf, &size), ZMESH_OK);
        assert_true (size <= ZMESH_WORK_INFO_SIZE_MAX);
        if (longest)  //  the bound is exact
            assert_int_equal (size, ZMESH_WORK_INFO_SIZE_MAX);
        assert_int_equal (zmesh_work_info_decode (&out, buf, size), ZMESH_OK);
        s_assert_work_info (&out, &info);
        for (size_t cut = 0; cut < size; cut++)
            assert_int_equal (zmesh_work_info_decode (&out, buf, cut), ZMESH_EPROTO);
        buf [size] = 0x90;
        assert_int_equal (zmesh_work_info_decode (&out, buf, size + 1), ZMESH_EPROTO);
        assert_int_equal (zmesh_work_info_encode (&info, buf, size - 1, &size), ZMESH_ETOOBIG);
    }
    //  No tags, no handlers.
    s_work_info (&info, false);
    info.tag_count = info.handler_count = 0;
    assert_int_equal (zmesh_work_info_encode (&info, buf, sizeof buf, &size), ZMESH_OK);
    assert_int_equal (zmesh_work_info_decode (&out, buf, size), ZMESH_OK);
    s_assert_work_info (&out, &info);
}

static void
test_work_info_encode_refuses (void **state)
{
    static zmesh_work_info_t good, info;
    uint8_t buf [ZMESH_WORK_INFO_SIZE_MAX];
    size_t size = 0;
    s_work_info (&good, false);
    const char *bad_endpoints [] = {"", "tcp://*:7000", "tcp://h", "udp://h:1", "tcp://h:0"};
    for (size_t i = 0; i < sizeof bad_endpoints / sizeof bad_endpoints [0]; i++) {
        info = good;
        strcpy (info.worker_endpoint, bad_endpoints [i]);
        assert_int_equal (zmesh_work_info_encode (&info, buf, sizeof buf, &size), ZMESH_EINVAL);
    }
    info = good;
    memset (info.worker_endpoint, 'x', ZMESH_ENDPOINT_MAX);  //  not terminated
    assert_int_equal (zmesh_work_info_encode (&info, buf, sizeof buf, &size), ZMESH_EINVAL);
    const char *bad_tags [] = {"", "two words", "gpu!", "é", "tab\t"};
    for (size_t i = 0; i < sizeof bad_tags / sizeof bad_tags [0]; i++) {
        info = good;
        strcpy (info.tags [1], bad_tags [i]);
        assert_int_equal (zmesh_work_info_encode (&info, buf, sizeof buf, &size), ZMESH_EINVAL);
    }
    info = good;
    memset (info.tags [0], 't', ZMESH_TASK_TAG_MAX);  //  32 bytes, no NUL
    assert_int_equal (zmesh_work_info_encode (&info, buf, sizeof buf, &size), ZMESH_EINVAL);
    info = good;
    info.tag_count = ZMESH_TASK_TAGS_MAX + 1;
    assert_int_equal (zmesh_work_info_encode (&info, buf, sizeof buf, &size), ZMESH_EINVAL);
    info = good;
    info.handler_count = ZMESH_TASK_TAGS_MAX + 1;
    assert_int_equal (zmesh_work_info_encode (&info, buf, sizeof buf, &size), ZMESH_EINVAL);
    info = good;
    info.handlers [0][0] = 0;
    assert_int_equal (zmesh_work_info_encode (&info, buf, sizeof buf, &size), ZMESH_EINVAL);
    info = good;
    info.handlers [1][2] = '\r';
    assert_int_equal (zmesh_work_info_encode (&info, buf, sizeof buf, &size), ZMESH_EINVAL);
    info = good;
    info.cost_permille = 1001;
    assert_int_equal (zmesh_work_info_encode (&info, buf, sizeof buf, &size), ZMESH_EINVAL);
}

//  The cost (element 4): read when it is an unsigned integer up to 1000, else skipped as an
//  element this version does not know (cost 0); absent in a 4-element value (cost 0).
static void
test_work_info_cost (void **state)
{
    static zmesh_work_info_t info, out;
    uint8_t buf [ZMESH_WORK_INFO_SIZE_MAX + 16];
    size_t size = 0;
    s_work_info (&info, false);
    assert_int_equal (zmesh_work_info_encode (&info, buf, sizeof buf, &size), ZMESH_OK);
    assert_int_equal (zmesh_work_info_decode (&out, buf, size), ZMESH_OK);
    assert_int_equal (out.cost_permille, 250);
    //  The encoder writes 250 last, as uint 8 (cc fa): make it 1001, then a str.
    assert_int_equal (buf [size - 2], 0xcc);
    assert_int_equal (buf [size - 1], 250);
    uint8_t wide [ZMESH_WORK_INFO_SIZE_MAX + 16];
    memcpy (wide, buf, size);
    //  250 takes 2 bytes (cc fa); 1001 takes 3 (cd 03 e9).
    size_t head = size - 2;
    memcpy (wide + head, "\xcd\x03\xe9", 3);
    assert_int_equal (zmesh_work_info_decode (&out, wide, head + 3), ZMESH_OK);
    assert_int_equal (out.cost_permille, 0);
    memcpy (wide + head, "\xa2hi", 3);
    assert_int_equal (zmesh_work_info_decode (&out, wide, head + 3), ZMESH_OK);
    assert_int_equal (out.cost_permille, 0);
    //  Without it: the array of 4 (0x95 -> 0x94), the cost cut off.
    memcpy (wide, buf, size);
    assert_int_equal (wide [0], 0x95);
    wide [0] = 0x94;
    assert_int_equal (zmesh_work_info_decode (&out, wide, head), ZMESH_OK);
    assert_int_equal (out.cost_permille, 0);
}

//  The zmesh.scale value: round trip at the limits, shortest form, extra elements skipped, and
//  every malformed form refused.
static void
test_scale_info (void **state)
{
    (void) state;
    zmesh_scale_info_t info = {.queue_depth = UINT32_MAX, .latency_ms = 0}, out;
    uint8_t buf [ZMESH_SCALE_INFO_SIZE_MAX];
    size_t size = 0;
    assert_int_equal (zmesh_scale_info_encode (&info, buf, sizeof buf, &size), ZMESH_OK);
    assert_int_equal (size, 7);  //  92 ce ff ff ff ff 00
    assert_int_equal (zmesh_scale_info_decode (&out, buf, size), ZMESH_OK);
    assert_int_equal (out.queue_depth, UINT32_MAX);
    assert_int_equal (out.latency_ms, 0);
    info = (zmesh_scale_info_t){UINT32_MAX, UINT32_MAX};
    assert_int_equal (zmesh_scale_info_encode (&info, buf, sizeof buf, &size), ZMESH_OK);
    assert_int_equal (size, ZMESH_SCALE_INFO_SIZE_MAX);
    assert_int_equal (zmesh_scale_info_encode (&info, buf, sizeof buf - 1, &size), ZMESH_ETOOBIG);
    //  A later version's third element is skipped.
    assert_int_equal (zmesh_scale_info_decode (&out, (const uint8_t *) "\x93\x05\x06\xa1x", 5),
                      ZMESH_OK);
    assert_int_equal (out.queue_depth, 5);
    assert_int_equal (out.latency_ms, 6);
    struct {
        const char *bytes;
        size_t size;
    } bad [] = {
        {"", 0},                                               //  nothing
        {"\x91\x05", 2},                                       //  one element
        {"\x92\x05", 2},                                       //  cut short
        {"\x92\x05\x06\x07", 4},                               //  trailing byte
        {"\x92\xff\x06", 3},                                   //  negative
        {"\x92\x05\xa1x", 3},                                  //  a string
        {"\x92\xcf\x00\x00\x00\x01\x00\x00\x00\x00\x06", 11},  //  2^32
        {"\x92\x05\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00", 11},  //  a double
        {"\x82\x05\x06\x07\x08", 5},                           //  a map
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++)
        assert_int_equal (
            zmesh_scale_info_decode (&out, (const uint8_t *) bad [i].bytes, bad [i].size),
            ZMESH_EPROTO);
}

//  A zmesh.work value packed by hand, spoiled as s_bad says.
static size_t
s_work_by_hand (const char *bad)
{
    s_bad = bad;
    zmesh_mp_writer_init (&s_w, s_raw, sizeof s_raw);
    s_array (s_is ("short") ? 3 : 4);
    if (s_is ("endpoint-bin"))
        s_bin ("tcp://h:1", 9);
    else if (s_is ("endpoint-bind"))
        s_str ("tcp://*:1", 9);
    else if (s_is ("endpoint-nul"))
        s_str ("tcp://h:1\0", 10);
    else
        s_str ("tcp://h:1", 9);
    uint32_t tags = s_is ("tags-over") ? ZMESH_TASK_TAGS_MAX + 1 : 2;
    s_list (tags);
    for (uint32_t i = 0; i < tags; i++) {
        if (i == 1 && s_is ("tag-bad"))
            s_str ("a/b", 3);
        else if (i == 1 && s_is ("tag-long"))
            s_str ("0123456789abcdef0123456789abcdef", 32);
        else
            s_str ("gpu", 3);
    }
    uint32_t handlers = s_is ("handlers-over") ? ZMESH_TASK_TAGS_MAX + 1 : 1;
    s_list (handlers);
    for (uint32_t i = 0; i < handlers; i++)
        s_str (s_is ("handler-ctrl") ? "a\tb" : "a b", 3);
    if (!s_is ("short")) {
        s_array (4);
        s_uint (s_is ("load-big") ? 1ull << 32 : 4);
        s_uint (1);
        s_uint (0);
        s_uint (0);
        s_extras ();
    }
    s_extras ();
    if (s_is ("trailing"))
        msgpack_pack_nil (&s_w.pk);
    return s_w.size;
}

static void
test_work_info_decode_by_hand (void **state)
{
    static zmesh_work_info_t info;
    const char *good [] = {"", "wide", "extra"};
    for (size_t i = 0; i < 3; i++) {
        size_t size = s_work_by_hand (good [i]);
        assert_int_equal (zmesh_work_info_decode (&info, s_raw, size), ZMESH_OK);
        assert_string_equal (info.worker_endpoint, "tcp://h:1");
        assert_int_equal (info.tag_count, 2);
        assert_string_equal (info.tags [1], "gpu");
        assert_int_equal (info.handler_count, 1);
        assert_string_equal (info.handlers [0], "a b");
        assert_int_equal (info.load.slots, 4);
        assert_int_equal (info.load.busy, 1);
    }
    const char *bad [] = {"short",        "endpoint-bin", "endpoint-bind", "endpoint-nul",
                          "tags-over",    "tag-bad",      "tag-long",      "handlers-over",
                          "handler-ctrl", "load-big",     "trailing"};
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        size_t size = s_work_by_hand (bad [i]);
        int rc = zmesh_work_info_decode (&info, s_raw, size);
        if (rc != ZMESH_EPROTO)
            fail_msg ("\"%s\": %s", bad [i], zmesh_error_name (rc));
    }
    assert_int_equal (zmesh_work_info_decode (&info, NULL, 0), ZMESH_EPROTO);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_status_names),
        cmocka_unit_test (test_tasks_round_trip),
        cmocka_unit_test (test_results_round_trip),
        cmocka_unit_test (test_refs_round_trip),
        cmocka_unit_test (test_steal_round_trip),
        cmocka_unit_test (test_checkpoint_round_trip),
        cmocka_unit_test (test_call_bid_round_trip),
        cmocka_unit_test (test_empty_batches),
        cmocka_unit_test (test_sizes_documented),
        cmocka_unit_test (test_batch_full_rolls_back),
        cmocka_unit_test (test_batch_full_at_message_max),
        cmocka_unit_test (test_batch_limit),
        cmocka_unit_test (test_writer_refuses),
        cmocka_unit_test (test_decode_by_hand),
        cmocka_unit_test (test_work_info_round_trip),
        cmocka_unit_test (test_work_info_encode_refuses),
        cmocka_unit_test (test_work_info_decode_by_hand),
        cmocka_unit_test (test_work_info_cost),
        cmocka_unit_test (test_scale_info),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
