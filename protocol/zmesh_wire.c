/*  zmesh_wire.c: envelope codec (see zmesh_wire.h and docs/protocol.md). */
#include "zmesh_wire.h"
#include "zmesh_error.h"
#include "zmesh_mpack.h"
#include <string.h>

//  A name shown to people: no control characters (C0, DEL), so no escape sequences reach a
//  terminal or a log.
static bool
s_printable (const char *text)
{
    for (const unsigned char *p = (const unsigned char *) text; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

const char *
zmesh_msg_type_name (int type)
{
    switch (type) {
        case ZMESH_MSG_HELLO:
            return "HELLO";
        case ZMESH_MSG_PING:
            return "PING";
        case ZMESH_MSG_PONG:
            return "PONG";
        case ZMESH_MSG_PEERS:
            return "PEERS";
        case ZMESH_MSG_LEAVE:
            return "LEAVE";
        case ZMESH_MSG_STATE:
            return "STATE";
        case ZMESH_MSG_SWIM:
            return "SWIM";
        default:
            return "UNKNOWN";
    }
}

static int
s_encode_body (const zmesh_msg_t *msg, msgpack_packer *pk)
{
    switch (msg->type) {
        case ZMESH_MSG_HELLO: {
            const zmesh_hello_t *hello = &msg->body.hello;
            if (hello->endpoint_count < 1 || hello->endpoint_count > ZMESH_HELLO_ENDPOINTS_MAX
                || !hello->name [0] || !s_printable (hello->name))
                return ZMESH_EINVAL;
            msgpack_pack_array (pk, 5);
            zmesh_mp_pack_cstr (pk, hello->name);
            msgpack_pack_array (pk, hello->endpoint_count);
            for (uint32_t i = 0; i < hello->endpoint_count; i++)
                zmesh_mp_pack_cstr (pk, hello->endpoints [i]);
            zmesh_mp_pack_cstr (pk, hello->software);
            msgpack_pack_uint64 (pk, hello->generation);
            msgpack_pack_bin (pk, ZMESH_KEY_SIZE);
            msgpack_pack_bin_body (pk, hello->sign_public, ZMESH_KEY_SIZE);
            return ZMESH_OK;
        }
        case ZMESH_MSG_PING:
        case ZMESH_MSG_PONG:
            msgpack_pack_array (pk, 3);
            msgpack_pack_uint64 (pk, msg->body.ping.seq);
            msgpack_pack_uint64 (pk, msg->body.ping.generation);
            msgpack_pack_uint8 (pk, msg->body.ping.flags);
            return ZMESH_OK;
        case ZMESH_MSG_PEERS: {
            const zmesh_peers_t *peers = &msg->body.peers;
            if (peers->count > ZMESH_PEERS_MAX)
                return ZMESH_EINVAL;
            msgpack_pack_array (pk, 1);
            msgpack_pack_array (pk, peers->count);
            for (uint32_t i = 0; i < peers->count; i++) {
                msgpack_pack_array (pk, 2);
                msgpack_pack_bin (pk, ZMESH_KEY_SIZE);
                msgpack_pack_bin_body (pk, peers->peers [i].sign_public, ZMESH_KEY_SIZE);
                zmesh_mp_pack_cstr (pk, peers->peers [i].endpoint);
            }
            return ZMESH_OK;
        }
        case ZMESH_MSG_LEAVE:
            msgpack_pack_array (pk, 0);
            return ZMESH_OK;
        case ZMESH_MSG_STATE:
        case ZMESH_MSG_SWIM: {
            //  Already msgpack (an array): copied as it is. The two share one layout.
            const zmesh_raw_body_t *raw = &msg->body.state;
            if (!raw->data || raw->size == 0
                || ((raw->data [0] & 0xf0) != 0x90 && raw->data [0] != 0xdc
                    && raw->data [0] != 0xdd))
                return ZMESH_EINVAL;
            return zmesh_mp_write_raw ((zmesh_mp_writer_t *) pk->data, raw->data, raw->size);
        }
        default:
            return ZMESH_EINVAL;
    }
}

int
zmesh_msg_encode (const zmesh_msg_t *msg, uint8_t *buf, size_t capacity, size_t *size)
{
    zmesh_mp_writer_t writer;
    zmesh_mp_writer_init (&writer, buf, capacity);
    msgpack_pack_array (&writer.pk, 4);
    msgpack_pack_uint8 (&writer.pk, ZMESH_WIRE_VERSION);
    msgpack_pack_uint8 (&writer.pk, msg->type);
    msgpack_pack_bin (&writer.pk, ZMESH_ID_SIZE);
    msgpack_pack_bin_body (&writer.pk, msg->sender.bytes, ZMESH_ID_SIZE);
    int rc = s_encode_body (msg, &writer.pk);
    if (rc)
        return rc;
    return zmesh_mp_writer_finish (&writer, size);
}

static int
s_decode_hello (zmesh_hello_t *hello, zmesh_mp_reader_t *r, uint32_t count)
{
    uint32_t endpoints;
    if (count < 5 || zmesh_mp_read_cstr (r, hello->name, sizeof hello->name) || !hello->name [0]
        || !s_printable (hello->name) || zmesh_mp_read_array (r, &endpoints) || endpoints < 1
        || endpoints > ZMESH_HELLO_ENDPOINTS_MAX)
        return ZMESH_EPROTO;
    hello->endpoint_count = endpoints;
    for (uint32_t i = 0; i < endpoints; i++)
        if (zmesh_mp_read_cstr (r, hello->endpoints [i], ZMESH_ENDPOINT_MAX)
            || zmesh_endpoint_check (hello->endpoints [i], false))
            return ZMESH_EPROTO;
    if (zmesh_mp_read_cstr (r, hello->software, sizeof hello->software)
        || zmesh_mp_read_uint (r, &hello->generation)
        || zmesh_mp_read_bin_exact (r, hello->sign_public, ZMESH_KEY_SIZE))
        return ZMESH_EPROTO;
    return zmesh_mp_skip_extra (r, count, 5);
}

static int
s_decode_ping (zmesh_ping_t *ping, zmesh_mp_reader_t *r, uint32_t count)
{
    uint64_t flags;
    if (count < 3 || zmesh_mp_read_uint (r, &ping->seq) || zmesh_mp_read_uint (r, &ping->generation)
        || zmesh_mp_read_uint (r, &flags) || flags > 0xff)
        return ZMESH_EPROTO;
    ping->flags = (uint8_t) flags;
    return zmesh_mp_skip_extra (r, count, 3);
}

static int
s_decode_peers (zmesh_peers_t *peers, zmesh_mp_reader_t *r, uint32_t count)
{
    uint32_t entries;
    if (count < 1 || zmesh_mp_read_array (r, &entries) || entries > ZMESH_PEERS_MAX)
        return ZMESH_EPROTO;
    peers->count = entries;
    for (uint32_t i = 0; i < entries; i++) {
        uint32_t fields;
        zmesh_peer_info_t *peer = &peers->peers [i];
        if (zmesh_mp_read_array (r, &fields) || fields < 2
            || zmesh_mp_read_bin_exact (r, peer->sign_public, ZMESH_KEY_SIZE)
            || zmesh_mp_read_cstr (r, peer->endpoint, ZMESH_ENDPOINT_MAX)
            || zmesh_endpoint_check (peer->endpoint, false) || zmesh_mp_skip_extra (r, fields, 2))
            return ZMESH_EPROTO;
    }
    return zmesh_mp_skip_extra (r, count, 1);
}

int
zmesh_msg_decode (zmesh_msg_t *msg, const uint8_t *data, size_t size)
{
    if (size > ZMESH_MSG_SIZE_MAX)
        return ZMESH_ETOOBIG;
    zmesh_mp_reader_t r;
    zmesh_mp_reader_init (&r, data, size);
    uint32_t count;
    uint64_t version, type;
    if (zmesh_mp_read_array (&r, &count) || count < 4 || zmesh_mp_read_uint (&r, &version))
        return ZMESH_EPROTO;
    if (version != ZMESH_WIRE_VERSION) {
        msg->version = version > 255 ? 255 : (uint8_t) version;
        return ZMESH_EVERSION;
    }
    if (zmesh_mp_read_uint (&r, &type) || type > 255
        || zmesh_mp_read_bin_exact (&r, msg->sender.bytes, ZMESH_ID_SIZE))
        return ZMESH_EPROTO;
    msg->version = (uint8_t) version;
    msg->type = (uint8_t) type;
    if (type < 1 || type > ZMESH_MSG_TYPE_MAX)
        return ZMESH_ETYPE;
    uint32_t body_count;
    size_t body_start = r.pos;
    if (zmesh_mp_read_array (&r, &body_count))
        return ZMESH_EPROTO;
    int rc;
    switch (type) {
        case ZMESH_MSG_HELLO:
            rc = s_decode_hello (&msg->body.hello, &r, body_count);
            break;
        case ZMESH_MSG_PING:
        case ZMESH_MSG_PONG:
            rc = s_decode_ping (&msg->body.ping, &r, body_count);
            break;
        case ZMESH_MSG_PEERS:
            rc = s_decode_peers (&msg->body.peers, &r, body_count);
            break;
        case ZMESH_MSG_STATE:
        case ZMESH_MSG_SWIM:
            rc = zmesh_mp_skip_extra (&r, body_count, 0);
            msg->body.state.data = data + body_start;
            msg->body.state.size = r.pos - body_start;
            break;
        default:  //  LEAVE
            rc = zmesh_mp_skip_extra (&r, body_count, 0);
            break;
    }
    //  Envelope fields beyond the four of version 1 are skipped; trailing bytes are not.
    if (rc == 0)
        rc = zmesh_mp_skip_extra (&r, count, 4);
    if (rc == 0 && zmesh_mp_remaining (&r) != 0)
        rc = ZMESH_EPROTO;
    return rc;
}
