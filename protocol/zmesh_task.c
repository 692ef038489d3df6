/*  zmesh_task.c: the work plane's codec (see zmesh_task.h and docs/protocol.md 7.7).

    Writing. Every append packs its item after the bytes already written, through a
    zmesh_mp_writer over the room left; only if all of it fit does the message's size move
    past it. So a failed append leaves the message exactly as it was: the bytes it may have
    written lie beyond `size`, outside the message. Validation comes first, so nothing is
    written for an item the wire does not allow.

    Reading. One pass over the input with the strict reader of zmesh_mpack; payloads, outputs,
    checkpoints and error texts stay where they are (views), ids and handlers are copied.
    Nothing is cleared but the fields ahead of the item union: every field of an item is set
    as it is read.
*/
#include "zmesh_task.h"
#include "zmesh_mpack.h"
#include "zmesh_wire.h"
#include <string.h>

//  The envelope as the writer packs it starts with fixarray 4, version 1, type 8, bin 8 of
//  16 bytes: the sender is at this offset.
#define S_SENDER_AT 5

//  What the items of a kind are.
typedef enum { S_ITEMS_NONE, S_ITEMS_TASKS, S_ITEMS_RESULTS, S_ITEMS_REFS } s_items_t;

static s_items_t
s_items_of (uint8_t kind)
{
    switch (kind) {
        case ZMESH_TASK_KIND_SUBMIT:
        case ZMESH_TASK_KIND_STOLEN:
            return S_ITEMS_TASKS;
        case ZMESH_TASK_KIND_RESULT:
            return S_ITEMS_RESULTS;
        case ZMESH_TASK_KIND_LEASE:
        case ZMESH_TASK_KIND_MOVED:
        case ZMESH_TASK_KIND_CANCEL:
            return S_ITEMS_REFS;
        default:
            return S_ITEMS_NONE;
    }
}

const char *
zmesh_task_status_name (int status)
{
    static const char *names [] = {"ok",      "handler_error", "no_handler",
                                   "timeout", "refused",       "cancelled"};
    if (status < 0 || status > ZMESH_TASK_STATUS_MAX)
        return "?";
    return names [status];
}

//  ---------------------------------------------------------------------------------------------
//  The rules, shared by writer and reader.

static bool
s_attempt_valid (uint64_t attempt)
{
    return attempt >= 1 && attempt <= ZMESH_TASK_ATTEMPTS_MAX;
}

bool
zmesh_task_handler_valid (const char *name, size_t size)
{
    if (size < 1 || size >= ZMESH_TASK_HANDLER_MAX)
        return false;
    for (size_t i = 0; i < size; i++)
        if ((unsigned char) name [i] < 0x20 || (unsigned char) name [i] > 0x7e)
            return false;
    return true;
}

bool
zmesh_task_tag_valid (const char *tag, size_t size)
{
    if (size < 1 || size >= ZMESH_TASK_TAG_MAX)
        return false;
    for (size_t i = 0; i < size; i++) {
        char c = tag [i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
              || c == '_' || c == ':' || c == '-'))
            return false;
    }
    return true;
}

//  Bytes of a payload, output or checkpoint: within the limit, and there if not empty.
static bool
s_bytes_valid (const uint8_t *data, uint32_t size)
{
    return size <= ZMESH_TASK_PAYLOAD_MAX && (data || size == 0);
}

static bool
s_task_valid (const zmesh_task_item_t *task)
{
    return s_attempt_valid (task->attempt) && task->priority <= 3
           && zmesh_task_handler_valid (task->handler,
                                        strnlen (task->handler, ZMESH_TASK_HANDLER_MAX))
           && s_bytes_valid (task->payload, task->payload_size)
           && (task->checkpoint ? task->checkpoint_size <= ZMESH_TASK_PAYLOAD_MAX
                                : task->checkpoint_size == 0);
}

static bool
s_result_valid (const zmesh_task_result_item_t *result)
{
    return s_attempt_valid (result->attempt) && result->status <= ZMESH_TASK_STATUS_MAX
           && s_bytes_valid (result->output, result->output_size)
           && result->error_size < ZMESH_TASK_ERROR_MAX
           && (result->error_size == 0
               || (result->error && !memchr (result->error, 0, result->error_size)));
}

//  ---------------------------------------------------------------------------------------------
//  Writing

static size_t
s_limit (size_t capacity)
{
    return capacity < ZMESH_TASK_MSG_MAX ? capacity : ZMESH_TASK_MSG_MAX;
}

static void
s_pack_id (msgpack_packer *pk, const zmesh_id_t *id)
{
    msgpack_pack_bin (pk, ZMESH_ID_SIZE);
    msgpack_pack_bin_body (pk, id->bytes, ZMESH_ID_SIZE);
}

static void
s_pack_bin (msgpack_packer *pk, const uint8_t *data, uint32_t size)
{
    msgpack_pack_bin (pk, size);
    if (size > 0)
        msgpack_pack_bin_body (pk, data, size);
}

static void
s_pack_load (msgpack_packer *pk, const zmesh_task_load_t *load)
{
    static const zmesh_task_load_t zero;
    if (!load)
        load = &zero;
    msgpack_pack_array (pk, 4);
    msgpack_pack_uint32 (pk, load->slots);
    msgpack_pack_uint32 (pk, load->busy);
    msgpack_pack_uint32 (pk, load->queued);
    msgpack_pack_uint32 (pk, load->stealable);
}

static void
s_pack_ref (msgpack_packer *pk, const zmesh_task_ref_t *ref)
{
    msgpack_pack_array (pk, 3);
    s_pack_id (pk, &ref->id);
    msgpack_pack_uint32 (pk, ref->attempt);
    if (ref->running)
        msgpack_pack_true (pk);
    else
        msgpack_pack_false (pk);
}

static void
s_pack_task (msgpack_packer *pk, const zmesh_task_item_t *task)
{
    size_t handler_size = strlen (task->handler);
    msgpack_pack_array (pk, 12);
    s_pack_id (pk, &task->id);
    s_pack_id (pk, &task->owner);
    msgpack_pack_uint32 (pk, task->attempt);
    msgpack_pack_uint8 (pk, task->priority);
    msgpack_pack_uint8 (pk, task->flags);
    msgpack_pack_uint32 (pk, task->timeout_ms);
    msgpack_pack_uint32 (pk, task->cpu_millicores);
    msgpack_pack_uint64 (pk, task->memory_bytes);
    msgpack_pack_uint32 (pk, task->gpus);
    msgpack_pack_str (pk, handler_size);
    msgpack_pack_str_body (pk, task->handler, handler_size);
    s_pack_bin (pk, task->payload, task->payload_size);
    if (task->checkpoint)
        s_pack_bin (pk, task->checkpoint, task->checkpoint_size);
    else
        msgpack_pack_nil (pk);
}

static void
s_pack_result (msgpack_packer *pk, const zmesh_task_result_item_t *result)
{
    msgpack_pack_array (pk, 7);
    s_pack_id (pk, &result->id);
    msgpack_pack_uint32 (pk, result->attempt);
    msgpack_pack_uint8 (pk, result->status);
    s_pack_bin (pk, result->output, result->output_size);
    msgpack_pack_str (pk, result->error_size);
    if (result->error_size > 0)
        msgpack_pack_str_body (pk, result->error, result->error_size);
    msgpack_pack_uint64 (pk, result->queued_us);
    msgpack_pack_uint64 (pk, result->run_us);
}

//  The envelope, the body's array header (count elements), its kind and the load.
static void
s_pack_head (msgpack_packer *pk,
             const zmesh_id_t *sender,
             uint8_t kind,
             uint32_t count,
             const zmesh_task_load_t *load)
{
    msgpack_pack_array (pk, 4);
    msgpack_pack_uint8 (pk, ZMESH_WIRE_VERSION);
    msgpack_pack_uint8 (pk, ZMESH_MSG_TASK);
    s_pack_id (pk, sender);
    msgpack_pack_array (pk, count);
    msgpack_pack_uint8 (pk, kind);
    s_pack_load (pk, load);
}

static int
s_begin (zmesh_task_writer_t *self,
         uint8_t *buf,
         size_t capacity,
         const zmesh_id_t *sender,
         uint8_t kind,
         const zmesh_task_load_t *load,
         const zmesh_id_t *thief)
{
    memset (self, 0, sizeof *self);  //  kind 0: appends and finish refuse
    if (!buf || !sender)
        return ZMESH_EINVAL;
    zmesh_mp_writer_t writer;
    zmesh_mp_writer_init (&writer, buf, s_limit (capacity));
    s_pack_head (&writer.pk, sender, kind, thief ? 4 : 3, load);
    if (thief)
        s_pack_id (&writer.pk, thief);
    size_t count_at = writer.size + 1;
    static const uint8_t array32 [5] = {0xdd, 0, 0, 0, 0};
    zmesh_mp_write_raw (&writer, array32, sizeof array32);
    if (zmesh_mp_writer_status (&writer))
        return ZMESH_ETOOBIG;
    self->buf = buf;
    self->capacity = s_limit (capacity);
    self->size = writer.size;
    self->count_at = count_at;
    self->kind = kind;
    return ZMESH_OK;
}

int
zmesh_task_writer_begin (zmesh_task_writer_t *self,
                         uint8_t *buf,
                         size_t capacity,
                         const zmesh_id_t *sender,
                         uint8_t kind,
                         const zmesh_task_load_t *load)
{
    if (s_items_of (kind) == S_ITEMS_NONE || kind == ZMESH_TASK_KIND_MOVED) {
        memset (self, 0, sizeof *self);
        return ZMESH_EINVAL;
    }
    return s_begin (self, buf, capacity, sender, kind, load, NULL);
}

int
zmesh_task_writer_begin_moved (zmesh_task_writer_t *self,
                               uint8_t *buf,
                               size_t capacity,
                               const zmesh_id_t *sender,
                               const zmesh_task_load_t *load,
                               const zmesh_id_t *thief)
{
    if (!thief) {
        memset (self, 0, sizeof *self);
        return ZMESH_EINVAL;
    }
    return s_begin (self, buf, capacity, sender, ZMESH_TASK_KIND_MOVED, load, thief);
}

//  May an item of this sort be appended? ZMESH_EINVAL for another sort (or no message
//  begun), ZMESH_ELIMIT when the batch is full.
static int
s_may_append (const zmesh_task_writer_t *self, s_items_t items)
{
    if (self->kind == 0 || s_items_of (self->kind) != items)
        return ZMESH_EINVAL;
    return self->count < ZMESH_TASK_BATCH_MAX ? ZMESH_OK : ZMESH_ELIMIT;
}

//  A writer over the room left after the message so far.
static void
s_open (const zmesh_task_writer_t *self, zmesh_mp_writer_t *writer)
{
    zmesh_mp_writer_init (writer, self->buf + self->size, self->capacity - self->size);
}

//  The item is in the message if all of it fit; else the message stays as it was.
static int
s_commit (zmesh_task_writer_t *self, const zmesh_mp_writer_t *writer)
{
    if (zmesh_mp_writer_status (writer))
        return ZMESH_ETOOBIG;
    self->size += writer->size;
    self->count++;
    return ZMESH_OK;
}

int
zmesh_task_writer_add_task (zmesh_task_writer_t *self, const zmesh_task_item_t *task)
{
    int rc = s_may_append (self, S_ITEMS_TASKS);
    if (rc)
        return rc;
    if (!s_task_valid (task)
        || (self->kind == ZMESH_TASK_KIND_SUBMIT
            && memcmp (task->owner.bytes, self->buf + S_SENDER_AT, ZMESH_ID_SIZE) != 0))
        return ZMESH_EINVAL;
    zmesh_mp_writer_t writer;
    s_open (self, &writer);
    s_pack_task (&writer.pk, task);
    return s_commit (self, &writer);
}

int
zmesh_task_writer_add_result (zmesh_task_writer_t *self, const zmesh_task_result_item_t *result)
{
    int rc = s_may_append (self, S_ITEMS_RESULTS);
    if (rc)
        return rc;
    if (!s_result_valid (result))
        return ZMESH_EINVAL;
    zmesh_mp_writer_t writer;
    s_open (self, &writer);
    s_pack_result (&writer.pk, result);
    return s_commit (self, &writer);
}

int
zmesh_task_writer_add_ref (zmesh_task_writer_t *self, const zmesh_task_ref_t *ref)
{
    int rc = s_may_append (self, S_ITEMS_REFS);
    if (rc)
        return rc;
    if (!s_attempt_valid (ref->attempt))
        return ZMESH_EINVAL;
    zmesh_mp_writer_t writer;
    s_open (self, &writer);
    s_pack_ref (&writer.pk, ref);
    return s_commit (self, &writer);
}

int
zmesh_task_writer_finish (zmesh_task_writer_t *self, size_t *size)
{
    if (self->kind == 0)
        return ZMESH_EINVAL;
    uint8_t *count = self->buf + self->count_at;
    count [0] = (uint8_t) (self->count >> 24);
    count [1] = (uint8_t) (self->count >> 16);
    count [2] = (uint8_t) (self->count >> 8);
    count [3] = (uint8_t) self->count;
    *size = self->size;
    return ZMESH_OK;
}

int
zmesh_task_encode_steal (uint8_t *buf,
                         size_t capacity,
                         const zmesh_id_t *sender,
                         const zmesh_task_load_t *load,
                         uint32_t max,
                         size_t *size)
{
    if (!buf || !sender || max < 1 || max > ZMESH_TASK_BATCH_MAX)
        return ZMESH_EINVAL;
    zmesh_mp_writer_t writer;
    zmesh_mp_writer_init (&writer, buf, s_limit (capacity));
    s_pack_head (&writer.pk, sender, ZMESH_TASK_KIND_STEAL, 3, load);
    msgpack_pack_uint32 (&writer.pk, max);
    return zmesh_mp_writer_finish (&writer, size);
}

int
zmesh_task_encode_checkpoint (uint8_t *buf,
                              size_t capacity,
                              const zmesh_id_t *sender,
                              const zmesh_task_load_t *load,
                              const zmesh_task_ref_t *ref,
                              const uint8_t *checkpoint,
                              uint32_t checkpoint_size,
                              size_t *size)
{
    if (!buf || !sender || !ref || !s_attempt_valid (ref->attempt)
        || !s_bytes_valid (checkpoint, checkpoint_size))
        return ZMESH_EINVAL;
    zmesh_mp_writer_t writer;
    zmesh_mp_writer_init (&writer, buf, s_limit (capacity));
    s_pack_head (&writer.pk, sender, ZMESH_TASK_KIND_CHECKPOINT, 4, load);
    s_pack_ref (&writer.pk, ref);
    s_pack_bin (&writer.pk, checkpoint, checkpoint_size);
    return zmesh_mp_writer_finish (&writer, size);
}

static bool
s_call_valid (const zmesh_task_call_t *call)
{
    if (!zmesh_task_handler_valid (call->handler, strnlen (call->handler, ZMESH_TASK_HANDLER_MAX))
        || call->tag_count > ZMESH_TASK_TAGS_MAX)
        return false;
    for (uint32_t i = 0; i < call->tag_count; i++)
        if (!zmesh_task_tag_valid (call->tags [i], strnlen (call->tags [i], ZMESH_TASK_TAG_MAX)))
            return false;
    return true;
}

int
zmesh_task_encode_call (uint8_t *buf,
                        size_t capacity,
                        const zmesh_id_t *sender,
                        const zmesh_task_load_t *load,
                        const zmesh_task_call_t *call,
                        size_t *size)
{
    if (!buf || !sender || !call || !s_call_valid (call))
        return ZMESH_EINVAL;
    zmesh_mp_writer_t writer;
    zmesh_mp_writer_init (&writer, buf, s_limit (capacity));
    msgpack_packer *pk = &writer.pk;
    s_pack_head (pk, sender, ZMESH_TASK_KIND_CALL, 3, load);
    msgpack_pack_array (pk, 7);
    msgpack_pack_uint32 (pk, call->id);
    zmesh_mp_pack_cstr (pk, call->handler);
    msgpack_pack_uint32 (pk, call->cpu_millicores);
    msgpack_pack_uint64 (pk, call->memory_bytes);
    msgpack_pack_uint32 (pk, call->gpus);
    msgpack_pack_array (pk, call->tag_count);
    for (uint32_t i = 0; i < call->tag_count; i++)
        zmesh_mp_pack_cstr (pk, call->tags [i]);
    msgpack_pack_uint64 (pk, call->perf_best_us);
    return zmesh_mp_writer_finish (&writer, size);
}

int
zmesh_task_encode_bid (uint8_t *buf,
                       size_t capacity,
                       const zmesh_id_t *sender,
                       const zmesh_task_load_t *load,
                       const zmesh_task_bid_t *bid,
                       size_t *size)
{
    if (!buf || !sender || !bid || bid->permille > 1000 || (!bid->able && bid->permille))
        return ZMESH_EINVAL;
    zmesh_mp_writer_t writer;
    zmesh_mp_writer_init (&writer, buf, s_limit (capacity));
    msgpack_packer *pk = &writer.pk;
    s_pack_head (pk, sender, ZMESH_TASK_KIND_BID, 3, load);
    msgpack_pack_array (pk, 3);
    msgpack_pack_uint32 (pk, bid->call_id);
    if (bid->able)
        msgpack_pack_true (pk);
    else
        msgpack_pack_false (pk);
    msgpack_pack_uint32 (pk, bid->permille);
    return zmesh_mp_writer_finish (&writer, size);
}

//  ---------------------------------------------------------------------------------------------
//  Reading. Every helper returns ZMESH_OK or ZMESH_EPROTO.

static int
s_read_u32 (zmesh_mp_reader_t *r, uint32_t *value)
{
    uint64_t wide;
    if (zmesh_mp_read_uint (r, &wide) || wide > UINT32_MAX)
        return ZMESH_EPROTO;
    *value = (uint32_t) wide;
    return ZMESH_OK;
}

//  An unsigned integer of 0..max (max at most 255).
static int
s_read_u8 (zmesh_mp_reader_t *r, uint8_t max, uint8_t *value)
{
    uint64_t wide;
    if (zmesh_mp_read_uint (r, &wide) || wide > max)
        return ZMESH_EPROTO;
    *value = (uint8_t) wide;
    return ZMESH_OK;
}

static int
s_read_attempt (zmesh_mp_reader_t *r, uint32_t *attempt)
{
    uint64_t wide;
    if (zmesh_mp_read_uint (r, &wide) || !s_attempt_valid (wide))
        return ZMESH_EPROTO;
    *attempt = (uint32_t) wide;
    return ZMESH_OK;
}

static int
s_read_id (zmesh_mp_reader_t *r, zmesh_id_t *id)
{
    return zmesh_mp_read_bin_exact (r, id->bytes, ZMESH_ID_SIZE) ? ZMESH_EPROTO : ZMESH_OK;
}

//  A payload, output or checkpoint: a view of 0..ZMESH_TASK_PAYLOAD_MAX bytes.
static int
s_read_bytes (zmesh_mp_reader_t *r, const uint8_t **data, uint32_t *size)
{
    if (zmesh_mp_read_bin (r, data, size) || *size > ZMESH_TASK_PAYLOAD_MAX)
        return ZMESH_EPROTO;
    return ZMESH_OK;
}

//  A handler name, checked and copied with its NUL.
static int
s_read_handler (zmesh_mp_reader_t *r, char *dest)
{
    const char *name;
    uint32_t size;
    if (zmesh_mp_read_str (r, &name, &size) || !zmesh_task_handler_valid (name, size))
        return ZMESH_EPROTO;
    memcpy (dest, name, size);
    dest [size] = 0;
    return ZMESH_OK;
}

static int
s_read_load (zmesh_mp_reader_t *r, zmesh_task_load_t *load)
{
    uint32_t fields;
    if (zmesh_mp_read_array (r, &fields) || fields < 4 || s_read_u32 (r, &load->slots)
        || s_read_u32 (r, &load->busy) || s_read_u32 (r, &load->queued)
        || s_read_u32 (r, &load->stealable))
        return ZMESH_EPROTO;
    return zmesh_mp_skip_extra (r, fields, 4);
}

static int
s_read_ref (zmesh_mp_reader_t *r, zmesh_task_ref_t *ref)
{
    uint32_t fields;
    if (zmesh_mp_read_array (r, &fields) || fields < 3 || s_read_id (r, &ref->id)
        || s_read_attempt (r, &ref->attempt) || zmesh_mp_read_bool (r, &ref->running))
        return ZMESH_EPROTO;
    return zmesh_mp_skip_extra (r, fields, 3);
}

//  A task; owner, if not NULL, is the one it must have (SUBMIT: the sender).
static int
s_read_task (zmesh_mp_reader_t *r, zmesh_task_item_t *task, const zmesh_id_t *owner)
{
    uint32_t fields;
    if (zmesh_mp_read_array (r, &fields) || fields < 12 || s_read_id (r, &task->id)
        || s_read_id (r, &task->owner) || (owner && !zmesh_id_equal (owner, &task->owner))
        || s_read_attempt (r, &task->attempt) || s_read_u8 (r, 3, &task->priority)
        || s_read_u8 (r, 255, &task->flags) || s_read_u32 (r, &task->timeout_ms)
        || s_read_u32 (r, &task->cpu_millicores) || zmesh_mp_read_uint (r, &task->memory_bytes)
        || s_read_u32 (r, &task->gpus) || s_read_handler (r, task->handler)
        || s_read_bytes (r, &task->payload, &task->payload_size))
        return ZMESH_EPROTO;
    if (zmesh_mp_remaining (r) > 0 && r->data [r->pos] == 0xc0) {
        r->pos++;
        task->checkpoint = NULL;
        task->checkpoint_size = 0;
    }
    else if (s_read_bytes (r, &task->checkpoint, &task->checkpoint_size))
        return ZMESH_EPROTO;
    return zmesh_mp_skip_extra (r, fields, 12);
}

static int
s_read_result (zmesh_mp_reader_t *r, zmesh_task_result_item_t *result)
{
    uint32_t fields;
    if (zmesh_mp_read_array (r, &fields) || fields < 7 || s_read_id (r, &result->id)
        || s_read_attempt (r, &result->attempt)
        || s_read_u8 (r, ZMESH_TASK_STATUS_MAX, &result->status)
        || s_read_bytes (r, &result->output, &result->output_size)
        || zmesh_mp_read_str (r, &result->error, &result->error_size)
        || result->error_size >= ZMESH_TASK_ERROR_MAX
        || memchr (result->error, 0, result->error_size)
        || zmesh_mp_read_uint (r, &result->queued_us) || zmesh_mp_read_uint (r, &result->run_us))
        return ZMESH_EPROTO;
    return zmesh_mp_skip_extra (r, fields, 7);
}

//  The item array of a SUBMIT, STOLEN, RESULT, LEASE, MOVED or CANCEL.
static int
s_read_items (zmesh_mp_reader_t *r, zmesh_task_msg_t *msg, const zmesh_id_t *sender)
{
    uint32_t count;
    if (zmesh_mp_read_array (r, &count) || count > ZMESH_TASK_BATCH_MAX)
        return ZMESH_EPROTO;
    const zmesh_id_t *owner = msg->kind == ZMESH_TASK_KIND_SUBMIT ? sender : NULL;
    s_items_t items = s_items_of (msg->kind);
    for (uint32_t i = 0; i < count; i++) {
        int rc = items == S_ITEMS_TASKS     ? s_read_task (r, &msg->u.tasks [i], owner)
                 : items == S_ITEMS_RESULTS ? s_read_result (r, &msg->u.results [i])
                                            : s_read_ref (r, &msg->u.refs [i]);
        if (rc)
            return ZMESH_EPROTO;
    }
    msg->count = count;
    return ZMESH_OK;
}

static int s_read_tag (zmesh_mp_reader_t *r, char *dest);

//  A CALL's call: [ id, handler, cpu, memory, gpus, [ tag, ... ], perf_best_us, ... ].
static int
s_read_call (zmesh_mp_reader_t *r, zmesh_task_call_t *call)
{
    uint32_t fields;
    if (zmesh_mp_read_array (r, &fields) || fields < 7 || s_read_u32 (r, &call->id)
        || s_read_handler (r, call->handler) || s_read_u32 (r, &call->cpu_millicores)
        || zmesh_mp_read_uint (r, &call->memory_bytes) || s_read_u32 (r, &call->gpus)
        || zmesh_mp_read_array (r, &call->tag_count) || call->tag_count > ZMESH_TASK_TAGS_MAX)
        return ZMESH_EPROTO;
    for (uint32_t i = 0; i < call->tag_count; i++)
        if (s_read_tag (r, call->tags [i]))
            return ZMESH_EPROTO;
    if (zmesh_mp_read_uint (r, &call->perf_best_us))
        return ZMESH_EPROTO;
    return zmesh_mp_skip_extra (r, fields, 7);
}

//  A BID's bid: [ call_id, able, permille, ... ]; not able means permille 0.
static int
s_read_bid (zmesh_mp_reader_t *r, zmesh_task_bid_t *bid)
{
    uint32_t fields;
    if (zmesh_mp_read_array (r, &fields) || fields < 3 || s_read_u32 (r, &bid->call_id)
        || zmesh_mp_read_bool (r, &bid->able) || s_read_u32 (r, &bid->permille)
        || bid->permille > 1000 || (!bid->able && bid->permille))
        return ZMESH_EPROTO;
    return zmesh_mp_skip_extra (r, fields, 3);
}

//  The body after its kind, whose array header said `count` elements.
static int
s_read_body (zmesh_mp_reader_t *r, zmesh_task_msg_t *msg, const zmesh_id_t *sender, uint32_t count)
{
    uint32_t known =
        msg->kind == ZMESH_TASK_KIND_MOVED || msg->kind == ZMESH_TASK_KIND_CHECKPOINT ? 4 : 3;
    if (count < known || s_read_load (r, &msg->load))
        return ZMESH_EPROTO;
    switch (msg->kind) {
        case ZMESH_TASK_KIND_STEAL:
            if (s_read_u32 (r, &msg->max) || msg->max < 1 || msg->max > ZMESH_TASK_BATCH_MAX)
                return ZMESH_EPROTO;
            break;
        case ZMESH_TASK_KIND_CHECKPOINT:
            if (s_read_ref (r, &msg->checkpoint_of)
                || s_read_bytes (r, &msg->checkpoint, &msg->checkpoint_size))
                return ZMESH_EPROTO;
            break;
        case ZMESH_TASK_KIND_MOVED:
            if (s_read_id (r, &msg->thief) || s_read_items (r, msg, sender))
                return ZMESH_EPROTO;
            break;
        case ZMESH_TASK_KIND_CALL:
            if (s_read_call (r, &msg->call))
                return ZMESH_EPROTO;
            break;
        case ZMESH_TASK_KIND_BID:
            if (s_read_bid (r, &msg->bid))
                return ZMESH_EPROTO;
            break;
        default:  //  SUBMIT, RESULT, LEASE, STOLEN, CANCEL
            if (s_read_items (r, msg, sender))
                return ZMESH_EPROTO;
            break;
    }
    return zmesh_mp_skip_extra (r, count, known);
}

int
zmesh_task_envelope_decode (zmesh_task_msg_t *msg,
                            zmesh_id_t *sender,
                            const uint8_t *data,
                            size_t size)
{
    //  The fields ahead of the items: the items are set as they are read.
    memset (msg, 0, offsetof (zmesh_task_msg_t, u));
    if (size > ZMESH_TASK_MSG_MAX)
        return ZMESH_ETOOBIG;
    zmesh_mp_reader_t r;
    zmesh_mp_reader_init (&r, data, size);
    uint32_t count, body_count;
    uint64_t version, type, kind;
    zmesh_id_t from;
    if (zmesh_mp_read_array (&r, &count) || count < 4 || zmesh_mp_read_uint (&r, &version))
        return ZMESH_EPROTO;
    if (version != ZMESH_WIRE_VERSION)
        return ZMESH_EVERSION;
    if (zmesh_mp_read_uint (&r, &type) || type > 255 || s_read_id (&r, &from))
        return ZMESH_EPROTO;
    if (sender)
        *sender = from;
    if (type != ZMESH_MSG_TASK)
        return ZMESH_ETYPE;
    if (zmesh_mp_read_array (&r, &body_count) || body_count < 1 || zmesh_mp_read_uint (&r, &kind)
        || kind > 255)
        return ZMESH_EPROTO;
    msg->kind = (uint8_t) kind;
    if (kind < 1 || kind > ZMESH_TASK_KIND_MAX)
        return ZMESH_ETYPE;
    //  Envelope elements beyond the four of version 1 are skipped; trailing bytes are not.
    if (s_read_body (&r, msg, &from, body_count) || zmesh_mp_skip_extra (&r, count, 4)
        || zmesh_mp_remaining (&r) != 0)
        return ZMESH_EPROTO;
    return ZMESH_OK;
}

//  ---------------------------------------------------------------------------------------------
//  The zmesh.work value

//  An endpoint as the value carries it: NUL-terminated within its buffer, a connect endpoint.
static bool
s_endpoint_valid (const char *endpoint)
{
    return strnlen (endpoint, ZMESH_ENDPOINT_MAX) < ZMESH_ENDPOINT_MAX
           && zmesh_endpoint_check (endpoint, false) == ZMESH_OK;
}

int
zmesh_work_info_encode (const zmesh_work_info_t *info, uint8_t *buf, size_t capacity, size_t *size)
{
    if (!s_endpoint_valid (info->worker_endpoint) || info->tag_count > ZMESH_TASK_TAGS_MAX
        || info->handler_count > ZMESH_TASK_TAGS_MAX || info->cost_permille > 1000)
        return ZMESH_EINVAL;
    for (uint32_t i = 0; i < info->tag_count; i++)
        if (!zmesh_task_tag_valid (info->tags [i], strnlen (info->tags [i], ZMESH_TASK_TAG_MAX)))
            return ZMESH_EINVAL;
    for (uint32_t i = 0; i < info->handler_count; i++)
        if (!zmesh_task_handler_valid (info->handlers [i],
                                       strnlen (info->handlers [i], ZMESH_TASK_HANDLER_MAX)))
            return ZMESH_EINVAL;
    zmesh_mp_writer_t writer;
    zmesh_mp_writer_init (&writer, buf, capacity);
    msgpack_packer *pk = &writer.pk;
    msgpack_pack_array (pk, 5);
    zmesh_mp_pack_cstr (pk, info->worker_endpoint);
    msgpack_pack_array (pk, info->tag_count);
    for (uint32_t i = 0; i < info->tag_count; i++)
        zmesh_mp_pack_cstr (pk, info->tags [i]);
    msgpack_pack_array (pk, info->handler_count);
    for (uint32_t i = 0; i < info->handler_count; i++)
        zmesh_mp_pack_cstr (pk, info->handlers [i]);
    s_pack_load (pk, &info->load);
    msgpack_pack_uint32 (pk, info->cost_permille);
    return zmesh_mp_writer_finish (&writer, size);
}

static int
s_read_endpoint (zmesh_mp_reader_t *r, char *dest)
{
    if (zmesh_mp_read_cstr (r, dest, ZMESH_ENDPOINT_MAX) || zmesh_endpoint_check (dest, false))
        return ZMESH_EPROTO;
    return ZMESH_OK;
}

static int
s_read_tag (zmesh_mp_reader_t *r, char *dest)
{
    const char *tag;
    uint32_t size;
    if (zmesh_mp_read_str (r, &tag, &size) || !zmesh_task_tag_valid (tag, size))
        return ZMESH_EPROTO;
    memcpy (dest, tag, size);
    dest [size] = 0;
    return ZMESH_OK;
}

int
zmesh_work_info_decode (zmesh_work_info_t *info, const uint8_t *data, size_t size)
{
    memset (info, 0, sizeof *info);
    zmesh_mp_reader_t r;
    zmesh_mp_reader_init (&r, data, size);
    uint32_t count;
    if (zmesh_mp_read_array (&r, &count) || count < 4 || s_read_endpoint (&r, info->worker_endpoint)
        || zmesh_mp_read_array (&r, &info->tag_count) || info->tag_count > ZMESH_TASK_TAGS_MAX)
        return ZMESH_EPROTO;
    for (uint32_t i = 0; i < info->tag_count; i++)
        if (s_read_tag (&r, info->tags [i]))
            return ZMESH_EPROTO;
    if (zmesh_mp_read_array (&r, &info->handler_count) || info->handler_count > ZMESH_TASK_TAGS_MAX)
        return ZMESH_EPROTO;
    for (uint32_t i = 0; i < info->handler_count; i++)
        if (s_read_handler (&r, info->handlers [i]))
            return ZMESH_EPROTO;
    if (s_read_load (&r, &info->load))
        return ZMESH_EPROTO;
    //  Element 4, the cost (since 0.1): an unsigned integer up to 1000; anything else there is
    //  skipped as an element this version does not know, and the cost is 0.
    if (count > 4) {
        zmesh_mp_reader_t peek = r;
        uint64_t cost;
        if (zmesh_mp_read_uint (&peek, &cost) == ZMESH_OK && cost <= 1000) {
            info->cost_permille = (uint32_t) cost;
            r = peek;
        }
        else if (zmesh_mp_skip (&r))
            return ZMESH_EPROTO;
    }
    if (zmesh_mp_skip_extra (&r, count, count > 4 ? 5 : 4) || zmesh_mp_remaining (&r) != 0)
        return ZMESH_EPROTO;
    return ZMESH_OK;
}

int
zmesh_scale_info_encode (const zmesh_scale_info_t *info,
                         uint8_t *buf,
                         size_t capacity,
                         size_t *size)
{
    zmesh_mp_writer_t writer;
    zmesh_mp_writer_init (&writer, buf, capacity);
    msgpack_pack_array (&writer.pk, 2);
    msgpack_pack_uint32 (&writer.pk, info->queue_depth);
    msgpack_pack_uint32 (&writer.pk, info->latency_ms);
    return zmesh_mp_writer_finish (&writer, size);
}

int
zmesh_scale_info_decode (zmesh_scale_info_t *info, const uint8_t *data, size_t size)
{
    memset (info, 0, sizeof *info);
    zmesh_mp_reader_t r;
    zmesh_mp_reader_init (&r, data, size);
    uint32_t count;
    uint64_t queue_depth, latency_ms;
    if (zmesh_mp_read_array (&r, &count) || count < 2 || zmesh_mp_read_uint (&r, &queue_depth)
        || queue_depth > UINT32_MAX || zmesh_mp_read_uint (&r, &latency_ms)
        || latency_ms > UINT32_MAX || zmesh_mp_skip_extra (&r, count, 2)
        || zmesh_mp_remaining (&r) != 0)
        return ZMESH_EPROTO;
    info->queue_depth = (uint32_t) queue_depth;
    info->latency_ms = (uint32_t) latency_ms;
    return ZMESH_OK;
}
