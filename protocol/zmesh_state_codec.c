/*  zmesh_state_codec.c: DIGEST / DELTAS / SUMMARY codec (see zmesh_state_codec.h).

    The sizes below mirror msgpack-c's packer, which always picks the shortest form: the core
    builds messages against its byte budget with them, and the unit tests check that every
    encoding is exactly zmesh_state_msg_size bytes.
*/
#include "zmesh_state_codec.h"
#include "zmesh_error.h"
#include "zmesh_mpack.h"
#include <sodium.h>
#include <string.h>

size_t
zmesh_state_uint_size (uint64_t value)
{
    return value < 128 ? 1 : value < 256 ? 2 : value < 65536 ? 3 : value <= 0xffffffffull ? 5 : 9;
}

static size_t
s_array_size (uint32_t count)
{
    return count < 16 ? 1 : count < 65536 ? 3 : 5;
}

static size_t
s_str_size (uint32_t size)
{
    return size + (size < 32 ? 1 : size < 256 ? 2 : size < 65536 ? 3 : 5);
}

static size_t
s_bin_size (uint32_t size)
{
    return size + (size < 256 ? 2 : size < 65536 ? 3 : 5);
}

size_t
zmesh_state_digest_entry_size (const zmesh_state_digest_entry_t *entry)
{
    return 1 + s_bin_size (ZMESH_ID_SIZE) + zmesh_state_uint_size (entry->generation)
           + zmesh_state_uint_size (entry->version) + zmesh_state_uint_size (entry->floor);
}

size_t
zmesh_state_run_header_size (const zmesh_state_run_t *run)
{
    return 1 + s_bin_size (ZMESH_ID_SIZE) + zmesh_state_uint_size (run->generation)
           + zmesh_state_uint_size (run->from_version) + zmesh_state_uint_size (run->to_version)
           + zmesh_state_uint_size (run->held_version) + zmesh_state_uint_size (run->floor) + 3;
}

size_t
zmesh_state_delta_size (const zmesh_state_delta_t *delta)
{
    return 1 + s_str_size (delta->key_size) + zmesh_state_uint_size (delta->version)
           + (delta->deleted ? 1 : s_bin_size (delta->value_size));
}

size_t
zmesh_state_summary_size (const zmesh_state_summary_t *summary)
{
    return 1 + 2 * s_bin_size (ZMESH_ID_SIZE) + zmesh_state_uint_size (summary->count)
           + zmesh_state_uint_size (summary->hash);
}

uint64_t
zmesh_state_tuple_hash (const zmesh_id_t *owner, uint64_t generation, uint64_t version)
{
    uint8_t input [ZMESH_ID_SIZE + 16], digest [8];
    memcpy (input, owner->bytes, ZMESH_ID_SIZE);
    for (int i = 0; i < 8; i++) {
        input [ZMESH_ID_SIZE + i] = (uint8_t) (generation >> (56 - 8 * i));
        input [ZMESH_ID_SIZE + 8 + i] = (uint8_t) (version >> (56 - 8 * i));
    }
    crypto_generichash (digest, sizeof digest, input, sizeof input, NULL, 0);
    uint64_t hash = 0;
    for (int i = 7; i >= 0; i--)
        hash = hash << 8 | digest [i];
    return hash;
}

size_t
zmesh_state_msg_size (const zmesh_state_msg_t *msg)
{
    size_t size = 1 + 1;  //  array header (2..4 elements), type
    if (msg->type == ZMESH_STATE_MSG_DIGEST)
        size += 2 * s_bin_size (ZMESH_ID_SIZE);
    size += s_array_size (msg->digest_count);
    for (uint32_t i = 0; i < msg->digest_count; i++)
        size += zmesh_state_digest_entry_size (&msg->digest [i]);
    if (msg->type == ZMESH_STATE_MSG_DIGEST)
        return size;
    if (msg->type == ZMESH_STATE_MSG_SUMMARY) {
        size += s_array_size (msg->summary_count);
        for (uint32_t i = 0; i < msg->summary_count; i++)
            size += zmesh_state_summary_size (&msg->summaries [i]);
        return size;
    }
    size += s_array_size (msg->run_count);
    for (uint32_t i = 0; i < msg->run_count; i++) {
        const zmesh_state_run_t *run = &msg->runs [i];
        size += zmesh_state_run_header_size (run) - 3 + s_array_size (run->delta_count);
        for (uint32_t j = 0; j < run->delta_count; j++)
            size += zmesh_state_delta_size (&msg->deltas [run->first_delta + j]);
    }
    return size;
}

//  ---------------------------------------------------------------------------------------------
//  The rules.

static bool
s_key_valid (const char *key, uint32_t size)
{
    if (!key || size == 0 || size > ZMESH_STATE_KEY_SIZE_LIMIT)
        return false;
    for (uint32_t i = 0; i < size; i++)
        if ((unsigned char) key [i] < 0x20 || (unsigned char) key [i] > 0x7e)
            return false;
    return true;
}

static int
s_check_runs (const zmesh_state_msg_t *msg)
{
    uint32_t next_delta = 0;
    for (uint32_t i = 0; i < msg->run_count; i++) {
        const zmesh_state_run_t *run = &msg->runs [i];
        if (run->from_version > run->to_version || run->to_version > run->held_version
            || run->first_delta != next_delta || run->delta_count > msg->delta_count - next_delta)
            return ZMESH_EPROTO;
        uint64_t previous = run->from_version;
        for (uint32_t j = 0; j < run->delta_count; j++) {
            const zmesh_state_delta_t *delta = &msg->deltas [run->first_delta + j];
            if (delta->version <= previous || delta->version > run->to_version
                || !s_key_valid (delta->key, delta->key_size)
                || delta->value_size > ZMESH_STATE_VALUE_SIZE_LIMIT
                || (delta->deleted && delta->value_size != 0)
                || (delta->value_size > 0 && !delta->value))
                return ZMESH_EPROTO;
            previous = delta->version;
        }
        next_delta += run->delta_count;
    }
    return next_delta == msg->delta_count ? ZMESH_OK : ZMESH_EPROTO;
}

//  Entries in ascending, distinct owner order.
static int
s_check_entries (const zmesh_state_msg_t *msg)
{
    const zmesh_id_t *previous = NULL;
    for (uint32_t i = 0; i < msg->digest_count; i++) {
        const zmesh_id_t *id = &msg->digest [i].owner;
        if (previous && memcmp (previous->bytes, id->bytes, ZMESH_ID_SIZE) >= 0)
            return ZMESH_EPROTO;
        previous = id;
    }
    return ZMESH_OK;
}

//  Summaries: each lo <= hi, ranges ascending and disjoint, hash 0 when count is 0.
static int
s_check_summaries (const zmesh_state_msg_t *msg)
{
    if (msg->summary_count > ZMESH_STATE_MSG_SUMMARIES_MAX)
        return ZMESH_ELIMIT;
    if (msg->summary_count > 0 && !msg->summaries)
        return ZMESH_EPROTO;
    for (uint32_t i = 0; i < msg->summary_count; i++) {
        const zmesh_state_summary_t *summary = &msg->summaries [i];
        if (memcmp (summary->lo.bytes, summary->hi.bytes, ZMESH_ID_SIZE) > 0
            || (summary->count == 0 && summary->hash != 0)
            || (i > 0
                && memcmp (msg->summaries [i - 1].hi.bytes, summary->lo.bytes, ZMESH_ID_SIZE) >= 0))
            return ZMESH_EPROTO;
    }
    return ZMESH_OK;
}

int
zmesh_state_msg_check (const zmesh_state_msg_t *msg)
{
    if (msg->digest_count > ZMESH_STATE_MSG_DIGEST_MAX)
        return ZMESH_ELIMIT;
    if (msg->digest_count > 0 && !msg->digest)
        return ZMESH_EPROTO;
    if (msg->type == ZMESH_STATE_MSG_DIGEST) {
        if (memcmp (msg->range_lo.bytes, msg->range_hi.bytes, ZMESH_ID_SIZE) > 0)
            return ZMESH_EPROTO;
        return s_check_entries (msg);
    }
    if (msg->type == ZMESH_STATE_MSG_SUMMARY) {
        int rc = s_check_summaries (msg);
        return rc ? rc : s_check_entries (msg);
    }
    if (msg->type != ZMESH_STATE_MSG_DELTAS)
        return ZMESH_EPROTO;
    if (msg->run_count > ZMESH_STATE_MSG_RUNS_MAX || msg->delta_count > ZMESH_STATE_MSG_DELTAS_MAX)
        return ZMESH_ELIMIT;
    if ((msg->run_count > 0 && !msg->runs) || (msg->delta_count > 0 && !msg->deltas))
        return ZMESH_EPROTO;
    return s_check_runs (msg);
}

//  ---------------------------------------------------------------------------------------------
//  Encoding.

static void
s_pack_id (msgpack_packer *pk, const zmesh_id_t *id)
{
    msgpack_pack_bin (pk, ZMESH_ID_SIZE);
    msgpack_pack_bin_body (pk, id->bytes, ZMESH_ID_SIZE);
}

static void
s_pack_entries (msgpack_packer *pk, const zmesh_state_msg_t *msg)
{
    msgpack_pack_array (pk, msg->digest_count);
    for (uint32_t i = 0; i < msg->digest_count; i++) {
        const zmesh_state_digest_entry_t *entry = &msg->digest [i];
        msgpack_pack_array (pk, 4);
        s_pack_id (pk, &entry->owner);
        msgpack_pack_uint64 (pk, entry->generation);
        msgpack_pack_uint64 (pk, entry->version);
        msgpack_pack_uint64 (pk, entry->floor);
    }
}

static void
s_pack_run (msgpack_packer *pk, const zmesh_state_msg_t *msg, const zmesh_state_run_t *run)
{
    msgpack_pack_array (pk, 7);
    s_pack_id (pk, &run->owner);
    msgpack_pack_uint64 (pk, run->generation);
    msgpack_pack_uint64 (pk, run->from_version);
    msgpack_pack_uint64 (pk, run->to_version);
    msgpack_pack_uint64 (pk, run->held_version);
    msgpack_pack_uint64 (pk, run->floor);
    msgpack_pack_array (pk, run->delta_count);
    for (uint32_t j = 0; j < run->delta_count; j++) {
        const zmesh_state_delta_t *delta = &msg->deltas [run->first_delta + j];
        msgpack_pack_array (pk, 3);
        msgpack_pack_str (pk, delta->key_size);
        msgpack_pack_str_body (pk, delta->key, delta->key_size);
        msgpack_pack_uint64 (pk, delta->version);
        if (delta->deleted)
            msgpack_pack_nil (pk);
        else {
            msgpack_pack_bin (pk, delta->value_size);
            if (delta->value_size > 0)
                msgpack_pack_bin_body (pk, delta->value, delta->value_size);
        }
    }
}

int
zmesh_state_msg_encode (const zmesh_state_msg_t *msg, uint8_t *buf, size_t capacity, size_t *size)
{
    if (zmesh_state_msg_check (msg) != ZMESH_OK)
        return ZMESH_EINVAL;
    zmesh_mp_writer_t writer;
    zmesh_mp_writer_init (&writer, buf, capacity);
    msgpack_packer *pk = &writer.pk;
    if (msg->type == ZMESH_STATE_MSG_DIGEST) {
        msgpack_pack_array (pk, 4);
        msgpack_pack_uint8 (pk, ZMESH_STATE_MSG_DIGEST);
        s_pack_id (pk, &msg->range_lo);
        s_pack_id (pk, &msg->range_hi);
        s_pack_entries (pk, msg);
    }
    else if (msg->type == ZMESH_STATE_MSG_SUMMARY) {
        msgpack_pack_array (pk, 3);
        msgpack_pack_uint8 (pk, ZMESH_STATE_MSG_SUMMARY);
        s_pack_entries (pk, msg);
        msgpack_pack_array (pk, msg->summary_count);
        for (uint32_t i = 0; i < msg->summary_count; i++) {
            const zmesh_state_summary_t *summary = &msg->summaries [i];
            msgpack_pack_array (pk, 4);
            s_pack_id (pk, &summary->lo);
            s_pack_id (pk, &summary->hi);
            msgpack_pack_uint64 (pk, summary->count);
            msgpack_pack_uint64 (pk, summary->hash);
        }
    }
    else {
        msgpack_pack_array (pk, 3);
        msgpack_pack_uint8 (pk, ZMESH_STATE_MSG_DELTAS);
        s_pack_entries (pk, msg);
        msgpack_pack_array (pk, msg->run_count);
        for (uint32_t i = 0; i < msg->run_count; i++)
            s_pack_run (pk, msg, &msg->runs [i]);
    }
    return zmesh_mp_writer_finish (&writer, size);
}

//  ---------------------------------------------------------------------------------------------
//  Decoding.

static int
s_read_id (zmesh_mp_reader_t *r, zmesh_id_t *id)
{
    return zmesh_mp_read_bin_exact (r, id->bytes, ZMESH_ID_SIZE);
}

static int
s_decode_entries (zmesh_state_msg_buf_t *buf, zmesh_mp_reader_t *r)
{
    uint32_t count, fields;
    if (zmesh_mp_read_array (r, &count))
        return ZMESH_EPROTO;
    if (count > ZMESH_STATE_MSG_DIGEST_MAX)
        return ZMESH_ELIMIT;
    for (uint32_t i = 0; i < count; i++) {
        zmesh_state_digest_entry_t *entry = &buf->digest [i];
        if (zmesh_mp_read_array (r, &fields) || fields < 4 || s_read_id (r, &entry->owner)
            || zmesh_mp_read_uint (r, &entry->generation) || zmesh_mp_read_uint (r, &entry->version)
            || zmesh_mp_read_uint (r, &entry->floor) || zmesh_mp_skip_extra (r, fields, 4))
            return ZMESH_EPROTO;
    }
    buf->msg.digest_count = count;
    return ZMESH_OK;
}

static int
s_decode_delta (zmesh_state_delta_t *delta, zmesh_mp_reader_t *r)
{
    uint32_t fields;
    if (zmesh_mp_read_array (r, &fields) || fields < 3
        || zmesh_mp_read_str (r, &delta->key, &delta->key_size))
        return ZMESH_EPROTO;
    if (delta->key_size > ZMESH_STATE_KEY_SIZE_LIMIT)
        return ZMESH_ETOOBIG;
    if (zmesh_mp_read_uint (r, &delta->version))
        return ZMESH_EPROTO;
    if (zmesh_mp_remaining (r) > 0 && r->data [r->pos] == 0xc0) {
        r->pos++;
        delta->deleted = true;
        delta->value = NULL;
        delta->value_size = 0;
    }
    else {
        delta->deleted = false;
        if (zmesh_mp_read_bin (r, &delta->value, &delta->value_size))
            return ZMESH_EPROTO;
        if (delta->value_size > ZMESH_STATE_VALUE_SIZE_LIMIT)
            return ZMESH_ETOOBIG;
    }
    return zmesh_mp_skip_extra (r, fields, 3);
}

static int
s_decode_runs (zmesh_state_msg_buf_t *buf, zmesh_mp_reader_t *r)
{
    uint32_t count, fields, deltas;
    if (zmesh_mp_read_array (r, &count))
        return ZMESH_EPROTO;
    if (count > ZMESH_STATE_MSG_RUNS_MAX)
        return ZMESH_ELIMIT;
    zmesh_state_msg_t *msg = &buf->msg;
    for (uint32_t i = 0; i < count; i++) {
        zmesh_state_run_t *run = &buf->runs [i];
        if (zmesh_mp_read_array (r, &fields) || fields < 7 || s_read_id (r, &run->owner)
            || zmesh_mp_read_uint (r, &run->generation)
            || zmesh_mp_read_uint (r, &run->from_version)
            || zmesh_mp_read_uint (r, &run->to_version)
            || zmesh_mp_read_uint (r, &run->held_version) || zmesh_mp_read_uint (r, &run->floor)
            || zmesh_mp_read_array (r, &deltas))
            return ZMESH_EPROTO;
        if (deltas > ZMESH_STATE_MSG_DELTAS_MAX - msg->delta_count)
            return ZMESH_ELIMIT;
        run->first_delta = msg->delta_count;
        run->delta_count = deltas;
        for (uint32_t j = 0; j < deltas; j++) {
            int rc = s_decode_delta (&buf->deltas [msg->delta_count], r);
            if (rc)
                return rc;
            msg->delta_count++;
        }
        if (zmesh_mp_skip_extra (r, fields, 7))
            return ZMESH_EPROTO;
        msg->run_count++;
    }
    return ZMESH_OK;
}

static int
s_decode_summaries (zmesh_state_msg_buf_t *buf, zmesh_mp_reader_t *r)
{
    uint32_t count, fields;
    if (zmesh_mp_read_array (r, &count))
        return ZMESH_EPROTO;
    if (count > ZMESH_STATE_MSG_SUMMARIES_MAX)
        return ZMESH_ELIMIT;
    for (uint32_t i = 0; i < count; i++) {
        zmesh_state_summary_t *summary = &buf->summaries [i];
        if (zmesh_mp_read_array (r, &fields) || fields < 4 || s_read_id (r, &summary->lo)
            || s_read_id (r, &summary->hi) || zmesh_mp_read_uint (r, &summary->count)
            || zmesh_mp_read_uint (r, &summary->hash) || zmesh_mp_skip_extra (r, fields, 4))
            return ZMESH_EPROTO;
    }
    buf->msg.summary_count = count;
    return ZMESH_OK;
}

int
zmesh_state_msg_decode (zmesh_state_msg_buf_t *buf, const uint8_t *data, size_t size)
{
    zmesh_state_msg_t *msg = &buf->msg;
    memset (msg, 0, sizeof *msg);
    msg->digest = buf->digest;
    msg->runs = buf->runs;
    msg->deltas = buf->deltas;
    msg->summaries = buf->summaries;
    if (size > ZMESH_STATE_MSG_SIZE_MAX)
        return ZMESH_ETOOBIG;
    zmesh_mp_reader_t r;
    zmesh_mp_reader_init (&r, data, size);
    uint32_t count;
    uint64_t type;
    if (zmesh_mp_read_array (&r, &count) || count < 1 || zmesh_mp_read_uint (&r, &type))
        return ZMESH_EPROTO;
    if (type != ZMESH_STATE_MSG_DIGEST && type != ZMESH_STATE_MSG_DELTAS
        && type != ZMESH_STATE_MSG_SUMMARY)
        return ZMESH_ETYPE;
    msg->type = (zmesh_state_msg_type_t) type;
    int rc;
    if (type == ZMESH_STATE_MSG_DIGEST) {
        if (count < 4 || s_read_id (&r, &msg->range_lo) || s_read_id (&r, &msg->range_hi))
            return ZMESH_EPROTO;
        rc = s_decode_entries (buf, &r);
        if (rc == 0)
            rc = zmesh_mp_skip_extra (&r, count, 4);
    }
    else if (type == ZMESH_STATE_MSG_SUMMARY) {
        if (count < 3)
            return ZMESH_EPROTO;
        rc = s_decode_entries (buf, &r);
        if (rc == 0)
            rc = s_decode_summaries (buf, &r);
        if (rc == 0)
            rc = zmesh_mp_skip_extra (&r, count, 3);
    }
    else {
        if (count < 3)
            return ZMESH_EPROTO;
        rc = s_decode_entries (buf, &r);
        if (rc == 0)
            rc = s_decode_runs (buf, &r);
        if (rc == 0)
            rc = zmesh_mp_skip_extra (&r, count, 3);
    }
    if (rc)
        return rc;
    if (zmesh_mp_remaining (&r) != 0)
        return ZMESH_EPROTO;
    //  Structure is sound; now the rules that span fields (order, ranges, printable keys).
    return zmesh_state_msg_check (msg) == ZMESH_OK ? ZMESH_OK : ZMESH_EPROTO;
}
