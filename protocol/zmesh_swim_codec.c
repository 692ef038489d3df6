/*  zmesh_swim_codec.c: msgpack codec of SWIM messages (see zmesh_swim_codec.h). */
#include "zmesh_swim_codec.h"
#include "zmesh_error.h"
#include "zmesh_mpack.h"
#include "zmesh_wire.h"
#include <string.h>

const char *
zmesh_swim_msg_type_name (int type)
{
    static const char *names [] = {
        "UNKNOWN",  "PING",       "ACK",     "PING_REQ",      "NACK",   "JOIN", "FORWARD_JOIN",
        "NEIGHBOR", "DISCONNECT", "SHUFFLE", "SHUFFLE_REPLY", "GOSSIP", "SYNC", "SYNC_REPLY"};
    if (type < 1 || type > ZMESH_SWIM_TYPE_MAX)
        return "UNKNOWN";
    return names [type];
}

//  msgpack's shortest forms, as msgpack-c's packer writes them.
static size_t
s_uint_size (uint64_t value)
{
    if (value < 128)
        return 1;
    if (value < 256)
        return 2;
    if (value < 65536)
        return 3;
    if (value <= UINT32_MAX)
        return 5;
    return 9;
}

static size_t
s_str_size (size_t length)
{
    if (length < 32)
        return 1 + length;
    if (length < 256)
        return 2 + length;
    return 3 + length;
}

size_t
zmesh_swim_record_size (const zmesh_swim_record_t *record)
{
    size_t size = 1 + 2 + ZMESH_ID_SIZE + s_uint_size (record->generation)
                  + s_uint_size (record->incarnation) + 1;
    if (record->state == ZMESH_SWIM_STATE_ALIVE && record->has_contact)
        size += 1 + 2 + ZMESH_KEY_SIZE + s_str_size (strlen (record->contact.endpoint))
                + (record->contact.name [0] ? s_str_size (strlen (record->contact.name)) : 0);
    else if (record->state == ZMESH_SWIM_STATE_SUSPECT)
        size += 2 + ZMESH_ID_SIZE;
    else
        size += 1;
    return size;
}

static void
s_pack_id (msgpack_packer *pk, const zmesh_id_t *id)
{
    msgpack_pack_bin (pk, ZMESH_ID_SIZE);
    msgpack_pack_bin_body (pk, id->bytes, ZMESH_ID_SIZE);
}

static bool
s_record_valid (const zmesh_swim_record_t *record)
{
    if (record->state < ZMESH_SWIM_STATE_ALIVE || record->state > ZMESH_SWIM_STATE_LEFT)
        return false;
    if (record->state == ZMESH_SWIM_STATE_ALIVE && record->has_contact) {
        size_t length = strnlen (record->contact.endpoint, ZMESH_ENDPOINT_MAX);
        if (length == 0 || length == ZMESH_ENDPOINT_MAX
            || strnlen (record->contact.name, ZMESH_SWIM_NAME_MAX) == ZMESH_SWIM_NAME_MAX)
            return false;
    }
    return true;
}

static void
s_pack_record (msgpack_packer *pk, const zmesh_swim_record_t *record)
{
    msgpack_pack_array (pk, 5);
    s_pack_id (pk, &record->id);
    msgpack_pack_uint64 (pk, record->generation);
    msgpack_pack_uint32 (pk, record->incarnation);
    msgpack_pack_uint8 (pk, record->state);
    if (record->state == ZMESH_SWIM_STATE_ALIVE && record->has_contact) {
        bool named = record->contact.name [0] != 0;
        msgpack_pack_array (pk, named ? 3 : 2);
        msgpack_pack_bin (pk, ZMESH_KEY_SIZE);
        msgpack_pack_bin_body (pk, record->contact.key, ZMESH_KEY_SIZE);
        zmesh_mp_pack_cstr (pk, record->contact.endpoint);
        if (named)
            zmesh_mp_pack_cstr (pk, record->contact.name);
    }
    else if (record->state == ZMESH_SWIM_STATE_SUSPECT)
        s_pack_id (pk, &record->accuser);
    else
        msgpack_pack_nil (pk);
}

static int
s_pack_records (msgpack_packer *pk,
                const zmesh_swim_record_t *records,
                uint32_t count,
                uint32_t max)
{
    if (count > max || (count > 0 && !records))
        return ZMESH_EINVAL;
    for (uint32_t i = 0; i < count; i++)
        if (!s_record_valid (&records [i]))
            return ZMESH_EINVAL;
    msgpack_pack_array (pk, count);
    for (uint32_t i = 0; i < count; i++)
        s_pack_record (pk, &records [i]);
    return ZMESH_OK;
}

static bool
s_buckets_valid (uint32_t count, const uint32_t *buckets)
{
    return count == 0 || (buckets && count <= ZMESH_SWIM_BUCKETS_MAX && (count & (count - 1)) == 0);
}

static void
s_pack_buckets (msgpack_packer *pk, uint32_t count, const uint32_t *buckets)
{
    msgpack_pack_bin (pk, 4 * count);
    for (uint32_t i = 0; i < count; i++) {
        uint8_t bytes [4] = {(uint8_t) (buckets [i] >> 24), (uint8_t) (buckets [i] >> 16),
                             (uint8_t) (buckets [i] >> 8), (uint8_t) buckets [i]};
        msgpack_pack_bin_body (pk, bytes, 4);
    }
}

static int
s_pack_body (const zmesh_swim_msg_t *msg, msgpack_packer *pk)
{
    bool digest = msg->digest != 0, state = msg->state != 0;
    bool buckets = msg->bucket_count > 0;
    if (!s_buckets_valid (msg->bucket_count, msg->buckets))
        return ZMESH_EINVAL;
    switch (msg->type) {
        case ZMESH_SWIM_PING:
        case ZMESH_SWIM_NACK:
            state = state && msg->type == ZMESH_SWIM_PING;
            digest = (digest || state) && msg->type == ZMESH_SWIM_PING;
            msgpack_pack_array (pk, state ? 5 : digest ? 4 : 3);
            msgpack_pack_uint64 (pk, msg->seq);
            s_pack_id (pk, &msg->target);
            msgpack_pack_uint8 (pk, msg->flags);
            if (digest)
                msgpack_pack_uint64 (pk, msg->digest);
            if (state)
                msgpack_pack_uint64 (pk, msg->state);
            return ZMESH_OK;
        case ZMESH_SWIM_ACK:
        case ZMESH_SWIM_PING_REQ:
            state = state && msg->type == ZMESH_SWIM_ACK;
            digest = (digest || state) && msg->type == ZMESH_SWIM_ACK;
            msgpack_pack_array (pk, state ? 4 : digest ? 3 : 2);
            msgpack_pack_uint64 (pk, msg->seq);
            s_pack_id (pk, &msg->target);
            if (digest)
                msgpack_pack_uint64 (pk, msg->digest);
            if (state)
                msgpack_pack_uint64 (pk, msg->state);
            return ZMESH_OK;
        case ZMESH_SWIM_JOIN:
        case ZMESH_SWIM_FORWARD_JOIN:
        case ZMESH_SWIM_NEIGHBOR:
        case ZMESH_SWIM_SHUFFLE:
            if (!s_record_valid (&msg->node))
                return ZMESH_EINVAL;
            msgpack_pack_array (pk, msg->type == ZMESH_SWIM_JOIN      ? 1
                                    : msg->type == ZMESH_SWIM_SHUFFLE ? 3
                                                                      : 2);
            s_pack_record (pk, &msg->node);
            if (msg->type == ZMESH_SWIM_FORWARD_JOIN || msg->type == ZMESH_SWIM_SHUFFLE)
                msgpack_pack_uint8 (pk, msg->ttl);
            if (msg->type == ZMESH_SWIM_NEIGHBOR)
                msgpack_pack_uint8 (pk, msg->flags);
            if (msg->type == ZMESH_SWIM_SHUFFLE)
                return s_pack_records (pk, msg->entries, msg->entry_count, ZMESH_SWIM_ENTRIES_MAX);
            return ZMESH_OK;
        case ZMESH_SWIM_DISCONNECT:
        case ZMESH_SWIM_GOSSIP:
            msgpack_pack_array (pk, 0);
            return ZMESH_OK;
        case ZMESH_SWIM_SHUFFLE_REPLY:
            msgpack_pack_array (pk, 1);
            return s_pack_records (pk, msg->entries, msg->entry_count, ZMESH_SWIM_ENTRIES_MAX);
        case ZMESH_SWIM_SYNC:
            msgpack_pack_array (pk, buckets ? 3 : 2);
            msgpack_pack_uint32 (pk, msg->cursor);
            msgpack_pack_uint8 (pk, msg->flags);
            if (buckets)
                s_pack_buckets (pk, msg->bucket_count, msg->buckets);
            return ZMESH_OK;
        case ZMESH_SWIM_SYNC_REPLY: {
            msgpack_pack_array (pk, buckets ? 3 : 2);
            msgpack_pack_uint32 (pk, msg->cursor);
            int rc = s_pack_records (pk, msg->entries, msg->entry_count, ZMESH_SWIM_ENTRIES_MAX);
            if (rc == ZMESH_OK && buckets)
                s_pack_buckets (pk, msg->bucket_count, msg->buckets);
            return rc;
        }
        default:
            return ZMESH_EINVAL;
    }
}

int
zmesh_swim_msg_encode (const zmesh_swim_msg_t *msg, uint8_t *buf, size_t capacity, size_t *size)
{
    zmesh_mp_writer_t writer;
    zmesh_mp_writer_init (&writer, buf, capacity);
    msgpack_pack_array (&writer.pk, 5);
    msgpack_pack_uint8 (&writer.pk, msg->type);
    msgpack_pack_uint64 (&writer.pk, msg->generation);
    msgpack_pack_uint32 (&writer.pk, msg->incarnation);
    int rc = s_pack_body (msg, &writer.pk);
    if (rc == ZMESH_OK)
        rc = s_pack_records (&writer.pk, msg->updates, msg->update_count, ZMESH_SWIM_UPDATES_MAX);
    if (rc)
        return rc;
    return zmesh_mp_writer_finish (&writer, size);
}

//  ---------------------------------------------------------------------------------------------
//  Decoding

static int
s_read_u32 (zmesh_mp_reader_t *r, uint32_t *value)
{
    uint64_t wide;
    if (zmesh_mp_read_uint (r, &wide) || wide > UINT32_MAX)
        return ZMESH_EPROTO;
    *value = (uint32_t) wide;
    return ZMESH_OK;
}

static int
s_read_u8 (zmesh_mp_reader_t *r, uint8_t *value)
{
    uint64_t wide;
    if (zmesh_mp_read_uint (r, &wide) || wide > 255)
        return ZMESH_EPROTO;
    *value = (uint8_t) wide;
    return ZMESH_OK;
}

static int
s_read_id (zmesh_mp_reader_t *r, zmesh_id_t *id)
{
    return zmesh_mp_read_bin_exact (r, id->bytes, ZMESH_ID_SIZE) ? ZMESH_EPROTO : ZMESH_OK;
}

static int
s_read_contact (zmesh_mp_reader_t *r, zmesh_swim_contact_t *contact)
{
    uint32_t fields;
    if (zmesh_mp_read_array (r, &fields) || fields < 2
        || zmesh_mp_read_bin_exact (r, contact->key, ZMESH_KEY_SIZE)
        || zmesh_mp_read_cstr (r, contact->endpoint, ZMESH_ENDPOINT_MAX) || !contact->endpoint [0])
        return ZMESH_EPROTO;
    memset (contact->name, 0, sizeof contact->name);
    if (fields >= 3 && zmesh_mp_read_cstr (r, contact->name, ZMESH_SWIM_NAME_MAX))
        return ZMESH_EPROTO;
    return zmesh_mp_skip_extra (r, fields, 3);
}

static int
s_read_record (zmesh_mp_reader_t *r, zmesh_swim_record_t *record)
{
    uint32_t fields;
    memset (record, 0, sizeof *record);
    if (zmesh_mp_read_array (r, &fields) || fields < 5 || s_read_id (r, &record->id)
        || zmesh_mp_read_uint (r, &record->generation) || s_read_u32 (r, &record->incarnation)
        || s_read_u8 (r, &record->state) || record->state < ZMESH_SWIM_STATE_ALIVE
        || record->state > ZMESH_SWIM_STATE_LEFT)
        return ZMESH_EPROTO;
    if (record->state == ZMESH_SWIM_STATE_SUSPECT) {
        if (s_read_id (r, &record->accuser))
            return ZMESH_EPROTO;
    }
    else if (record->state == ZMESH_SWIM_STATE_ALIVE && zmesh_mp_remaining (r) > 0
             && r->data [r->pos] != 0xc0) {
        //  ALIVE with something other than nil: it must be a contact.
        if (s_read_contact (r, &record->contact))
            return ZMESH_EPROTO;
        record->has_contact = true;
    }
    else if (zmesh_mp_read_nil (r))
        return ZMESH_EPROTO;
    return zmesh_mp_skip_extra (r, fields, 5);
}

static int
s_read_records (zmesh_mp_reader_t *r, zmesh_swim_record_t *space, uint32_t max, uint32_t *count)
{
    if (zmesh_mp_read_array (r, count) || *count > max)
        return ZMESH_EPROTO;
    for (uint32_t i = 0; i < *count; i++)
        if (s_read_record (r, &space [i]))
            return ZMESH_EPROTO;
    return ZMESH_OK;
}

//  Bucket hashes (a bin of 4 bytes per bucket, a power of two of them) into space.
static int
s_read_buckets (zmesh_swim_msg_t *msg, zmesh_swim_space_t *space, zmesh_mp_reader_t *r)
{
    const uint8_t *bytes;
    uint32_t size;
    if (zmesh_mp_read_bin (r, &bytes, &size) || size % 4 != 0
        || !s_buckets_valid (size / 4, space->buckets) || size == 0)
        return ZMESH_EPROTO;
    msg->bucket_count = size / 4;
    for (uint32_t i = 0; i < msg->bucket_count; i++)
        space->buckets [i] = (uint32_t) bytes [4 * i] << 24 | (uint32_t) bytes [4 * i + 1] << 16
                             | (uint32_t) bytes [4 * i + 2] << 8 | bytes [4 * i + 3];
    msg->buckets = space->buckets;
    return ZMESH_OK;
}

//  The body, whose array header said `count` elements.
static int
s_read_body (zmesh_swim_msg_t *msg, zmesh_swim_space_t *space, zmesh_mp_reader_t *r, uint32_t count)
{
    uint32_t known = 0;
    switch (msg->type) {
        case ZMESH_SWIM_PING:
        case ZMESH_SWIM_NACK:
            known = 3;
            if (count < 3 || zmesh_mp_read_uint (r, &msg->seq) || s_read_id (r, &msg->target)
                || s_read_u8 (r, &msg->flags))
                return ZMESH_EPROTO;
            if (msg->type == ZMESH_SWIM_PING && count >= 4) {
                known = count >= 5 ? 5 : 4;
                if (zmesh_mp_read_uint (r, &msg->digest)
                    || (known == 5 && zmesh_mp_read_uint (r, &msg->state)))
                    return ZMESH_EPROTO;
            }
            break;
        case ZMESH_SWIM_ACK:
        case ZMESH_SWIM_PING_REQ:
            known = 2;
            if (count < 2 || zmesh_mp_read_uint (r, &msg->seq) || s_read_id (r, &msg->target))
                return ZMESH_EPROTO;
            if (msg->type == ZMESH_SWIM_ACK && count >= 3) {
                known = count >= 4 ? 4 : 3;
                if (zmesh_mp_read_uint (r, &msg->digest)
                    || (known == 4 && zmesh_mp_read_uint (r, &msg->state)))
                    return ZMESH_EPROTO;
            }
            break;
        case ZMESH_SWIM_JOIN:
        case ZMESH_SWIM_FORWARD_JOIN:
        case ZMESH_SWIM_NEIGHBOR:
        case ZMESH_SWIM_SHUFFLE:
            known = msg->type == ZMESH_SWIM_JOIN ? 1 : msg->type == ZMESH_SWIM_SHUFFLE ? 3 : 2;
            if (count < known || s_read_record (r, &msg->node))
                return ZMESH_EPROTO;
            if ((msg->type == ZMESH_SWIM_FORWARD_JOIN || msg->type == ZMESH_SWIM_SHUFFLE)
                && s_read_u8 (r, &msg->ttl))
                return ZMESH_EPROTO;
            if (msg->type == ZMESH_SWIM_NEIGHBOR && s_read_u8 (r, &msg->flags))
                return ZMESH_EPROTO;
            if (msg->type == ZMESH_SWIM_SHUFFLE
                && s_read_records (r, space->entries, ZMESH_SWIM_ENTRIES_MAX, &msg->entry_count))
                return ZMESH_EPROTO;
            break;
        case ZMESH_SWIM_SHUFFLE_REPLY:
            known = 1;
            if (count < 1
                || s_read_records (r, space->entries, ZMESH_SWIM_ENTRIES_MAX, &msg->entry_count))
                return ZMESH_EPROTO;
            break;
        case ZMESH_SWIM_SYNC:
            known = 2;
            if (count < 2 || s_read_u32 (r, &msg->cursor) || s_read_u8 (r, &msg->flags))
                return ZMESH_EPROTO;
            if (count >= 3) {
                known = 3;
                if (s_read_buckets (msg, space, r))
                    return ZMESH_EPROTO;
            }
            break;
        case ZMESH_SWIM_SYNC_REPLY:
            known = 2;
            if (count < 2 || s_read_u32 (r, &msg->cursor)
                || s_read_records (r, space->entries, ZMESH_SWIM_ENTRIES_MAX, &msg->entry_count))
                return ZMESH_EPROTO;
            if (count >= 3) {
                known = 3;
                if (s_read_buckets (msg, space, r))
                    return ZMESH_EPROTO;
            }
            break;
        default:  //  DISCONNECT, GOSSIP
            break;
    }
    return zmesh_mp_skip_extra (r, count, known);
}

int
zmesh_swim_msg_decode (zmesh_swim_msg_t *msg,
                       zmesh_swim_space_t *space,
                       const uint8_t *data,
                       size_t size)
{
    memset (msg, 0, sizeof *msg);
    msg->entries = space->entries;
    msg->updates = space->updates;
    if (size > ZMESH_MSG_SIZE_MAX)
        return ZMESH_ETOOBIG;
    zmesh_mp_reader_t r;
    zmesh_mp_reader_init (&r, data, size);
    uint32_t count, body_count;
    if (zmesh_mp_read_array (&r, &count) || count < 5 || s_read_u8 (&r, &msg->type))
        return ZMESH_EPROTO;
    if (msg->type < 1 || msg->type > ZMESH_SWIM_TYPE_MAX)
        return ZMESH_ETYPE;
    if (zmesh_mp_read_uint (&r, &msg->generation) || s_read_u32 (&r, &msg->incarnation)
        || zmesh_mp_read_array (&r, &body_count) || s_read_body (msg, space, &r, body_count)
        || s_read_records (&r, space->updates, ZMESH_SWIM_UPDATES_MAX, &msg->update_count)
        || zmesh_mp_skip_extra (&r, count, 5) || zmesh_mp_remaining (&r) != 0)
        return ZMESH_EPROTO;
    return ZMESH_OK;
}
