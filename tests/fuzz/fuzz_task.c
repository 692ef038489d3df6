/*  fuzz_task.c: libFuzzer target for the work plane's decoders (zmesh_task_envelope_decode,
    zmesh_work_info_decode, zmesh_scale_info_decode).

    Whatever the bytes, the envelope decoder returns ZMESH_OK, ZMESH_EPROTO, ZMESH_ETYPE,
    ZMESH_EVERSION or ZMESH_ETOOBIG, and the work-info decoder ZMESH_OK or ZMESH_EPROTO; they
    never crash, read out of bounds or hang, and every view a decoded message holds lies
    inside the input. A message that decodes is written again with the writer (or the STEAL /
    CHECKPOINT encoder), which must succeed: no longer than the input but for the item array's
    count, which the writer always packs as array 32 (4 bytes more than a fixarray at most).
    Decoding that must give the same message field by field, and writing it once more the same
    bytes (the writer is canonical). The same for a work-info value, whose encoding is no
    longer than the input. Seed corpus: corpus/task/.
*/
#include "zmesh_error.h"
#include "zmesh_task.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define S_OUT_MAX (1024u * 1024u + 4096u)  //  inputs are at most 1 MiB (replay) or 70000 bytes

static zmesh_task_msg_t s_msg, s_again;
static uint8_t s_out [S_OUT_MAX], s_out2 [S_OUT_MAX];

static void
s_assert_view (const void *view, uint32_t view_size, const uint8_t *data, size_t size)
{
    if (view_size > 0)
        ZMESH_ASSERT ((const uint8_t *) view >= data
                      && (const uint8_t *) view + view_size <= data + size);
}

static void
s_assert_bytes (const void *a, uint32_t a_size, const void *b, uint32_t b_size)
{
    ZMESH_ASSERT (a_size == b_size && (a_size == 0 || memcmp (a, b, a_size) == 0));
}

static void
s_assert_ref (const zmesh_task_ref_t *a, const zmesh_task_ref_t *b)
{
    ZMESH_ASSERT (zmesh_id_equal (&a->id, &b->id) && a->attempt == b->attempt);
    ZMESH_ASSERT (a->running == b->running);
}

static void
s_assert_task (const zmesh_task_item_t *a, const zmesh_task_item_t *b)
{
    ZMESH_ASSERT (zmesh_id_equal (&a->id, &b->id) && zmesh_id_equal (&a->owner, &b->owner));
    ZMESH_ASSERT (a->attempt == b->attempt && a->priority == b->priority);
    ZMESH_ASSERT (a->flags == b->flags && a->timeout_ms == b->timeout_ms);
    ZMESH_ASSERT (a->cpu_millicores == b->cpu_millicores && a->memory_bytes == b->memory_bytes);
    ZMESH_ASSERT (a->gpus == b->gpus && strcmp (a->handler, b->handler) == 0);
    s_assert_bytes (a->payload, a->payload_size, b->payload, b->payload_size);
    ZMESH_ASSERT ((a->checkpoint == NULL) == (b->checkpoint == NULL));
    s_assert_bytes (a->checkpoint, a->checkpoint_size, b->checkpoint, b->checkpoint_size);
}

static void
s_assert_result (const zmesh_task_result_item_t *a, const zmesh_task_result_item_t *b)
{
    ZMESH_ASSERT (zmesh_id_equal (&a->id, &b->id) && a->attempt == b->attempt);
    ZMESH_ASSERT (a->status == b->status);
    s_assert_bytes (a->output, a->output_size, b->output, b->output_size);
    s_assert_bytes (a->error, a->error_size, b->error, b->error_size);
    ZMESH_ASSERT (a->queued_us == b->queued_us && a->run_us == b->run_us);
}

static void
s_assert_same (const zmesh_task_msg_t *a, const zmesh_task_msg_t *b)
{
    ZMESH_ASSERT (a->kind == b->kind && a->count == b->count);
    ZMESH_ASSERT (memcmp (&a->load, &b->load, sizeof a->load) == 0);
    ZMESH_ASSERT (zmesh_id_equal (&a->thief, &b->thief) && a->max == b->max);
    s_assert_ref (&a->checkpoint_of, &b->checkpoint_of);
    s_assert_bytes (a->checkpoint, a->checkpoint_size, b->checkpoint, b->checkpoint_size);
    //  The decoder zeroes both whole (padding and the bytes after each name's NUL included).
    ZMESH_ASSERT (memcmp (&a->call, &b->call, sizeof a->call) == 0);
    ZMESH_ASSERT (memcmp (&a->bid, &b->bid, sizeof a->bid) == 0);
    for (uint32_t i = 0; i < a->count; i++) {
        if (a->kind == ZMESH_TASK_KIND_SUBMIT || a->kind == ZMESH_TASK_KIND_STOLEN)
            s_assert_task (&a->u.tasks [i], &b->u.tasks [i]);
        else if (a->kind == ZMESH_TASK_KIND_RESULT)
            s_assert_result (&a->u.results [i], &b->u.results [i]);
        else
            s_assert_ref (&a->u.refs [i], &b->u.refs [i]);
    }
}

//  Every view of a decoded message lies inside its input.
static void
s_assert_views (const zmesh_task_msg_t *msg, const uint8_t *data, size_t size)
{
    s_assert_view (msg->checkpoint, msg->checkpoint_size, data, size);
    for (uint32_t i = 0; i < msg->count; i++) {
        if (msg->kind == ZMESH_TASK_KIND_SUBMIT || msg->kind == ZMESH_TASK_KIND_STOLEN) {
            const zmesh_task_item_t *task = &msg->u.tasks [i];
            s_assert_view (task->payload, task->payload_size, data, size);
            s_assert_view (task->checkpoint, task->checkpoint_size, data, size);
        }
        else if (msg->kind == ZMESH_TASK_KIND_RESULT) {
            const zmesh_task_result_item_t *result = &msg->u.results [i];
            s_assert_view (result->output, result->output_size, data, size);
            s_assert_view (result->error, result->error_size, data, size);
        }
    }
}

//  Write msg again into out (capacity S_OUT_MAX); the writer must take all of it.
static size_t
s_encode (const zmesh_task_msg_t *msg, const zmesh_id_t *sender, uint8_t *out)
{
    size_t size = 0;
    zmesh_task_writer_t writer;
    switch (msg->kind) {
        case ZMESH_TASK_KIND_STEAL:
            ZMESH_ASSERT (
                zmesh_task_encode_steal (out, S_OUT_MAX, sender, &msg->load, msg->max, &size)
                == ZMESH_OK);
            return size;
        case ZMESH_TASK_KIND_CHECKPOINT:
            ZMESH_ASSERT (zmesh_task_encode_checkpoint (out, S_OUT_MAX, sender, &msg->load,
                                                        &msg->checkpoint_of, msg->checkpoint,
                                                        msg->checkpoint_size, &size)
                          == ZMESH_OK);
            return size;
        case ZMESH_TASK_KIND_CALL:
            ZMESH_ASSERT (
                zmesh_task_encode_call (out, S_OUT_MAX, sender, &msg->load, &msg->call, &size)
                == ZMESH_OK);
            return size;
        case ZMESH_TASK_KIND_BID:
            ZMESH_ASSERT (
                zmesh_task_encode_bid (out, S_OUT_MAX, sender, &msg->load, &msg->bid, &size)
                == ZMESH_OK);
            return size;
        case ZMESH_TASK_KIND_MOVED:
            ZMESH_ASSERT (zmesh_task_writer_begin_moved (&writer, out, S_OUT_MAX, sender,
                                                         &msg->load, &msg->thief)
                          == ZMESH_OK);
            break;
        default:
            ZMESH_ASSERT (
                zmesh_task_writer_begin (&writer, out, S_OUT_MAX, sender, msg->kind, &msg->load)
                == ZMESH_OK);
            break;
    }
    for (uint32_t i = 0; i < msg->count; i++) {
        int rc;
        if (msg->kind == ZMESH_TASK_KIND_SUBMIT || msg->kind == ZMESH_TASK_KIND_STOLEN)
            rc = zmesh_task_writer_add_task (&writer, &msg->u.tasks [i]);
        else if (msg->kind == ZMESH_TASK_KIND_RESULT)
            rc = zmesh_task_writer_add_result (&writer, &msg->u.results [i]);
        else
            rc = zmesh_task_writer_add_ref (&writer, &msg->u.refs [i]);
        ZMESH_ASSERT (rc == ZMESH_OK);
    }
    ZMESH_ASSERT (zmesh_task_writer_finish (&writer, &size) == ZMESH_OK);
    return size;
}

static void
s_fuzz_envelope (const uint8_t *data, size_t size)
{
    zmesh_id_t sender, sender2;
    int rc = zmesh_task_envelope_decode (&s_msg, &sender, data, size);
    ZMESH_ASSERT (rc == ZMESH_OK || rc == ZMESH_EPROTO || rc == ZMESH_ETYPE || rc == ZMESH_EVERSION
                  || rc == ZMESH_ETOOBIG);
    if (rc != ZMESH_OK || size > S_OUT_MAX - 4)
        return;
    s_assert_views (&s_msg, data, size);
    ZMESH_ASSERT (s_msg.count <= ZMESH_TASK_BATCH_MAX);
    size_t encoded = s_encode (&s_msg, &sender, s_out);
    ZMESH_ASSERT (encoded <= size + 4);
    ZMESH_ASSERT (zmesh_task_envelope_decode (&s_again, &sender2, s_out, encoded) == ZMESH_OK);
    ZMESH_ASSERT (zmesh_id_equal (&sender, &sender2));
    s_assert_same (&s_msg, &s_again);
    size_t encoded2 = s_encode (&s_again, &sender2, s_out2);
    ZMESH_ASSERT (encoded2 == encoded && memcmp (s_out, s_out2, encoded) == 0);
}

static void
s_assert_same_info (const zmesh_work_info_t *a, const zmesh_work_info_t *b)
{
    ZMESH_ASSERT (strcmp (a->worker_endpoint, b->worker_endpoint) == 0);
    ZMESH_ASSERT (a->tag_count == b->tag_count && a->handler_count == b->handler_count);
    for (uint32_t i = 0; i < a->tag_count; i++)
        ZMESH_ASSERT (strcmp (a->tags [i], b->tags [i]) == 0);
    for (uint32_t i = 0; i < a->handler_count; i++)
        ZMESH_ASSERT (strcmp (a->handlers [i], b->handlers [i]) == 0);
    ZMESH_ASSERT (memcmp (&a->load, &b->load, sizeof a->load) == 0);
    ZMESH_ASSERT (a->cost_permille == b->cost_permille);
}

static void
s_fuzz_work_info (const uint8_t *data, size_t size)
{
    static zmesh_work_info_t info, again;
    static uint8_t buf [ZMESH_WORK_INFO_SIZE_MAX], buf2 [ZMESH_WORK_INFO_SIZE_MAX];
    int rc = zmesh_work_info_decode (&info, data, size);
    ZMESH_ASSERT (rc == ZMESH_OK || rc == ZMESH_EPROTO);
    if (rc != ZMESH_OK)
        return;
    size_t encoded = 0, encoded2 = 0;
    ZMESH_ASSERT (zmesh_work_info_encode (&info, buf, sizeof buf, &encoded) == ZMESH_OK);
    //  Shortest forms, so never longer than the input, but for the cost element (one byte for
    //  cost 0) that a 4-element input lacked, or had as something skipped.
    ZMESH_ASSERT (encoded <= size + 1);
    ZMESH_ASSERT (zmesh_work_info_decode (&again, buf, encoded) == ZMESH_OK);
    s_assert_same_info (&info, &again);
    ZMESH_ASSERT (zmesh_work_info_encode (&again, buf2, sizeof buf2, &encoded2) == ZMESH_OK);
    ZMESH_ASSERT (encoded2 == encoded && memcmp (buf, buf2, encoded) == 0);
}

//  The zmesh.scale value: OK or EPROTO; what decodes encodes again (shortest forms: never
//  longer than the input) and decodes to the same figures.
static void
s_fuzz_scale_info (const uint8_t *data, size_t size)
{
    zmesh_scale_info_t info, again;
    uint8_t buf [ZMESH_SCALE_INFO_SIZE_MAX];
    int rc = zmesh_scale_info_decode (&info, data, size);
    ZMESH_ASSERT (rc == ZMESH_OK || rc == ZMESH_EPROTO);
    if (rc != ZMESH_OK)
        return;
    size_t encoded = 0;
    ZMESH_ASSERT (zmesh_scale_info_encode (&info, buf, sizeof buf, &encoded) == ZMESH_OK);
    ZMESH_ASSERT (encoded <= size);
    ZMESH_ASSERT (zmesh_scale_info_decode (&again, buf, encoded) == ZMESH_OK);
    ZMESH_ASSERT (again.queue_depth == info.queue_depth && again.latency_ms == info.latency_ms);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_fuzz_envelope (data, size);
    s_fuzz_work_info (data, size);
    s_fuzz_scale_info (data, size);
    ZMESH_ASSERT (zmesh_task_status_name ((int) (size % 8) - 1) != NULL);
    return 0;
}
