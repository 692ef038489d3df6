/*  fuzz_wire.c: libFuzzer target for the envelope decoder (zmesh_msg_decode).

    Whatever the bytes, decoding returns one of the errors the header names, or succeeds;
    it never crashes, reads out of bounds or hangs. A message that decodes is re-encoded,
    which must succeed (a decoded message is always encodable), and decoded again, which
    must give the same message field by field; encoding that again must give the same bytes
    (the encoding of a message is canonical).
*/
#include "zmesh_error.h"
#include "zmesh_wire.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

//  Field by field: the union's unused bytes and the bytes after each string's NUL do not
//  belong to the message.
static void
s_assert_same (const zmesh_msg_t *a, const zmesh_msg_t *b)
{
    ZMESH_ASSERT (a->version == b->version && a->type == b->type);
    ZMESH_ASSERT (zmesh_id_equal (&a->sender, &b->sender));
    if (a->type == ZMESH_MSG_HELLO) {
        const zmesh_hello_t *x = &a->body.hello, *y = &b->body.hello;
        ZMESH_ASSERT (strcmp (x->name, y->name) == 0);
        ZMESH_ASSERT (x->endpoint_count == y->endpoint_count);
        for (uint32_t i = 0; i < x->endpoint_count; i++)
            ZMESH_ASSERT (strcmp (x->endpoints [i], y->endpoints [i]) == 0);
        ZMESH_ASSERT (strcmp (x->software, y->software) == 0);
        ZMESH_ASSERT (x->generation == y->generation);
        ZMESH_ASSERT (memcmp (x->sign_public, y->sign_public, ZMESH_KEY_SIZE) == 0);
    }
    else if (a->type == ZMESH_MSG_PING || a->type == ZMESH_MSG_PONG) {
        ZMESH_ASSERT (a->body.ping.seq == b->body.ping.seq);
        ZMESH_ASSERT (a->body.ping.generation == b->body.ping.generation);
        ZMESH_ASSERT (a->body.ping.flags == b->body.ping.flags);
    }
    else if (a->type == ZMESH_MSG_PEERS) {
        ZMESH_ASSERT (a->body.peers.count == b->body.peers.count);
        for (uint32_t i = 0; i < a->body.peers.count; i++) {
            const zmesh_peer_info_t *x = &a->body.peers.peers [i], *y = &b->body.peers.peers [i];
            ZMESH_ASSERT (memcmp (x->sign_public, y->sign_public, ZMESH_KEY_SIZE) == 0);
            ZMESH_ASSERT (strcmp (x->endpoint, y->endpoint) == 0);
        }
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static zmesh_msg_t msg, again;
    static uint8_t buf [ZMESH_MSG_SIZE_MAX], buf2 [ZMESH_MSG_SIZE_MAX];
    int rc = zmesh_msg_decode (&msg, data, size);
    ZMESH_ASSERT (rc == ZMESH_OK || rc == ZMESH_EPROTO || rc == ZMESH_EVERSION || rc == ZMESH_ETYPE
                  || rc == ZMESH_ETOOBIG);
    if (rc == ZMESH_ETYPE)  //  the header was decoded: the type is really unknown
        ZMESH_ASSERT (msg.version == ZMESH_WIRE_VERSION
                      && (msg.type < 1 || msg.type > ZMESH_MSG_TYPE_MAX));
    if (rc == ZMESH_EVERSION)
        ZMESH_ASSERT (msg.version != ZMESH_WIRE_VERSION);
    if (rc != ZMESH_OK)
        return 0;
    ZMESH_ASSERT (msg.version == ZMESH_WIRE_VERSION);
    ZMESH_ASSERT (msg.type >= 1 && msg.type <= ZMESH_MSG_TYPE_MAX);
    size_t encoded = 0, encoded2 = 0;
    ZMESH_ASSERT (zmesh_msg_encode (&msg, buf, sizeof buf, &encoded) == ZMESH_OK);
    //  Never longer than the input: the encoder writes each value in its shortest form and
    //  drops what it does not know.
    ZMESH_ASSERT (encoded <= size);
    ZMESH_ASSERT (zmesh_msg_decode (&again, buf, encoded) == ZMESH_OK);
    s_assert_same (&msg, &again);
    ZMESH_ASSERT (zmesh_msg_encode (&again, buf2, sizeof buf2, &encoded2) == ZMESH_OK);
    ZMESH_ASSERT (encoded2 == encoded && memcmp (buf, buf2, encoded) == 0);
    return 0;
}
