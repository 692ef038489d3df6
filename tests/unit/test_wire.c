/*  test_wire.c: the envelope codec, as usage examples.

    Every message type makes a round trip; every prefix of every valid message is refused
    (ZMESH_EPROTO, never a crash); the errors a receiver acts on are exact: another version is
    ZMESH_EVERSION, an unknown type ZMESH_ETYPE with the sender filled in, anything malformed
    ZMESH_EPROTO. Hand-made envelopes are packed with zmesh_mp_writer, the way a peer written
    from docs/protocol.md would.
*/
#include "zmesh_error.h"
#include "zmesh_mpack.h"
#include "zmesh_wire.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

static void
s_sender (zmesh_id_t *id, uint8_t first)
{
    for (size_t i = 0; i < ZMESH_ID_SIZE; i++)
        id->bytes [i] = (uint8_t) (first + i);
}

static void
s_hello (zmesh_msg_t *msg)
{
    memset (msg, 0, sizeof *msg);
    msg->type = ZMESH_MSG_HELLO;
    s_sender (&msg->sender, 0xa0);
    strcpy (msg->body.hello.name, "node-1");
    msg->body.hello.endpoint_count = 2;
    strcpy (msg->body.hello.endpoints [0], "tcp://192.168.1.7:7700");
    strcpy (msg->body.hello.endpoints [1], "tcp://[fe80::1]:7700");
    strcpy (msg->body.hello.software, "zmesh 0.1.0");
    msg->body.hello.generation = 1700000000123ull;
    for (size_t i = 0; i < ZMESH_KEY_SIZE; i++)
        msg->body.hello.sign_public [i] = (uint8_t) (0x40 + i);
}

static void
s_ping (zmesh_msg_t *msg, int type, uint64_t seq, uint64_t generation)
{
    memset (msg, 0, sizeof *msg);
    msg->type = (uint8_t) type;
    s_sender (&msg->sender, 0x10);
    msg->body.ping.seq = seq;
    msg->body.ping.generation = generation;
    msg->body.ping.flags = seq & 1 ? ZMESH_PING_FLAG_NEED_HELLO : 0;
}

static void
s_peers (zmesh_msg_t *msg, uint32_t count)
{
    memset (msg, 0, sizeof *msg);
    msg->type = ZMESH_MSG_PEERS;
    s_sender (&msg->sender, 0x20);
    msg->body.peers.count = count;
    for (uint32_t i = 0; i < count; i++) {
        memset (msg->body.peers.peers [i].sign_public, (int) i + 1, ZMESH_KEY_SIZE);
        snprintf (msg->body.peers.peers [i].endpoint, ZMESH_ENDPOINT_MAX, "tcp://10.0.0.%u:%u",
                  i + 1, 7000 + i);
    }
}

static void
s_leave (zmesh_msg_t *msg)
{
    memset (msg, 0, sizeof *msg);
    msg->type = ZMESH_MSG_LEAVE;
    s_sender (&msg->sender, 0x30);
}

//  Field by field, as a receiver sees it (the union's unused bytes do not count).
static void
s_assert_msg_equal (const zmesh_msg_t *a, const zmesh_msg_t *b)
{
    assert_int_equal (a->version, b->version);
    assert_int_equal (a->type, b->type);
    assert_memory_equal (a->sender.bytes, b->sender.bytes, ZMESH_ID_SIZE);
    if (a->type == ZMESH_MSG_HELLO) {
        const zmesh_hello_t *x = &a->body.hello, *y = &b->body.hello;
        assert_string_equal (x->name, y->name);
        assert_int_equal (x->endpoint_count, y->endpoint_count);
        for (uint32_t i = 0; i < x->endpoint_count; i++)
            assert_string_equal (x->endpoints [i], y->endpoints [i]);
        assert_string_equal (x->software, y->software);
        assert_true (x->generation == y->generation);
        assert_memory_equal (x->sign_public, y->sign_public, ZMESH_KEY_SIZE);
    }
    else if (a->type == ZMESH_MSG_PING || a->type == ZMESH_MSG_PONG) {
        assert_true (a->body.ping.seq == b->body.ping.seq);
        assert_true (a->body.ping.generation == b->body.ping.generation);
        assert_int_equal (a->body.ping.flags, b->body.ping.flags);
    }
    else if (a->type == ZMESH_MSG_PEERS) {
        assert_int_equal (a->body.peers.count, b->body.peers.count);
        for (uint32_t i = 0; i < a->body.peers.count; i++) {
            assert_memory_equal (a->body.peers.peers [i].sign_public,
                                 b->body.peers.peers [i].sign_public, ZMESH_KEY_SIZE);
            assert_string_equal (a->body.peers.peers [i].endpoint,
                                 b->body.peers.peers [i].endpoint);
        }
    }
}

//  Encode, decode, compare; then check every strict prefix is refused as malformed.
static void
s_round_trip (const zmesh_msg_t *msg)
{
    uint8_t buf [ZMESH_MSG_SIZE_MAX];
    size_t size = 0;
    assert_int_equal (zmesh_msg_encode (msg, buf, sizeof buf, &size), ZMESH_OK);
    assert_true (size > 0 && size <= sizeof buf);
    zmesh_msg_t decoded;
    memset (&decoded, 0xcc, sizeof decoded);
    assert_int_equal (zmesh_msg_decode (&decoded, buf, size), ZMESH_OK);
    zmesh_msg_t expected = *msg;
    expected.version = ZMESH_WIRE_VERSION;
    s_assert_msg_equal (&decoded, &expected);
    for (size_t cut = 0; cut < size; cut++)
        assert_int_equal (zmesh_msg_decode (&decoded, buf, cut), ZMESH_EPROTO);
    //  Each prefix again, now in a heap block of exactly its size, so ASan sees any overread.
    for (size_t cut = 1; cut < size; cut++) {
        uint8_t *copy = malloc (cut);
        assert_non_null (copy);
        memcpy (copy, buf, cut);
        assert_int_equal (zmesh_msg_decode (&decoded, copy, cut), ZMESH_EPROTO);
        free (copy);
    }
    //  One byte short of room to encode is ZMESH_ETOOBIG; exactly enough room is fine.
    uint8_t small [ZMESH_MSG_SIZE_MAX];
    size_t small_size = 0;
    assert_int_equal (zmesh_msg_encode (msg, small, size - 1, &small_size), ZMESH_ETOOBIG);
    assert_int_equal (zmesh_msg_encode (msg, small, size, &small_size), ZMESH_OK);
    assert_int_equal (small_size, size);
    assert_memory_equal (small, buf, size);
}

static void
test_round_trip_hello (void **state)
{
    zmesh_msg_t msg;
    s_hello (&msg);
    s_round_trip (&msg);
    //  The largest HELLO: every string at its limit, four endpoints.
    memset (msg.body.hello.name, 'n', ZMESH_NAME_MAX - 1);
    msg.body.hello.name [ZMESH_NAME_MAX - 1] = 0;
    memset (msg.body.hello.software, 's', ZMESH_SOFTWARE_MAX - 1);
    msg.body.hello.software [ZMESH_SOFTWARE_MAX - 1] = 0;
    msg.body.hello.endpoint_count = ZMESH_HELLO_ENDPOINTS_MAX;
    for (int i = 0; i < ZMESH_HELLO_ENDPOINTS_MAX; i++) {
        char *endpoint = msg.body.hello.endpoints [i];
        strcpy (endpoint, "tcp://");
        memset (endpoint + 6, 'h', ZMESH_ENDPOINT_MAX - 1 - 6 - 6);
        strcpy (endpoint + ZMESH_ENDPOINT_MAX - 1 - 6, ":65535");
        assert_int_equal (strlen (endpoint), ZMESH_ENDPOINT_MAX - 1);
    }
    msg.body.hello.generation = UINT64_MAX;
    s_round_trip (&msg);
    //  The smallest: one endpoint, empty software string, generation 0.
    s_hello (&msg);
    msg.body.hello.endpoint_count = 1;
    msg.body.hello.software [0] = 0;
    msg.body.hello.generation = 0;
    s_round_trip (&msg);
}

static void
test_round_trip_ping_pong (void **state)
{
    static const uint64_t seqs [] = {0, 1, 127, 128, 65536, UINT64_MAX};
    zmesh_msg_t msg;
    for (size_t i = 0; i < sizeof seqs / sizeof seqs [0]; i++) {
        s_ping (&msg, ZMESH_MSG_PING, seqs [i], seqs [i] / 3);
        s_round_trip (&msg);
        s_ping (&msg, ZMESH_MSG_PONG, seqs [i], UINT64_MAX - seqs [i]);
        s_round_trip (&msg);
    }
}

static void
test_round_trip_peers (void **state)
{
    zmesh_msg_t msg;
    s_peers (&msg, 0);
    s_round_trip (&msg);
    s_peers (&msg, 1);
    s_round_trip (&msg);
    s_peers (&msg, ZMESH_PEERS_MAX);
    s_round_trip (&msg);
}

static void
test_round_trip_leave (void **state)
{
    zmesh_msg_t msg;
    s_leave (&msg);
    s_round_trip (&msg);
}

//  STATE carries another codec's message as its body: bytes in, the same bytes out (a view
//  into the input), and only a msgpack array is accepted as a body.
static void
test_round_trip_state (void **state)
{
    const uint8_t body [] = {0x93, 0x01, 0xa1, 'k', 0xc0};  //  [1, "k", nil]
    zmesh_msg_t msg = {.version = ZMESH_WIRE_VERSION, .type = ZMESH_MSG_STATE};
    memset (msg.sender.bytes, 0x33, ZMESH_ID_SIZE);
    msg.body.state.data = body;
    msg.body.state.size = sizeof body;
    uint8_t buf [256];
    size_t size;
    assert_int_equal (zmesh_msg_encode (&msg, buf, sizeof buf, &size), ZMESH_OK);
    zmesh_msg_t back;
    assert_int_equal (zmesh_msg_decode (&back, buf, size), ZMESH_OK);
    assert_int_equal (back.type, ZMESH_MSG_STATE);
    assert_int_equal (back.body.state.size, sizeof body);
    assert_memory_equal (back.body.state.data, body, sizeof body);
    assert_ptr_equal (back.body.state.data, buf + size - sizeof body);
    assert_string_equal (zmesh_msg_type_name (ZMESH_MSG_STATE), "STATE");
    //  Not an array: refused by the encoder; a truncated body: refused by the decoder.
    const uint8_t scalar [] = {0x01};
    msg.body.state.data = scalar;
    msg.body.state.size = 1;
    assert_int_equal (zmesh_msg_encode (&msg, buf, sizeof buf, &size), ZMESH_EINVAL);
    msg.body.state.data = body;
    msg.body.state.size = sizeof body;
    assert_int_equal (zmesh_msg_encode (&msg, buf, sizeof buf, &size), ZMESH_OK);
    assert_int_equal (zmesh_msg_decode (&back, buf, size - 1), ZMESH_EPROTO);
}

//  What the encoder refuses to put on the wire.
static void
test_encode_refuses_invalid (void **state)
{
    uint8_t buf [ZMESH_MSG_SIZE_MAX];
    size_t size;
    zmesh_msg_t msg;
    s_hello (&msg);
    msg.body.hello.endpoint_count = 0;
    assert_int_equal (zmesh_msg_encode (&msg, buf, sizeof buf, &size), ZMESH_EINVAL);
    msg.body.hello.endpoint_count = ZMESH_HELLO_ENDPOINTS_MAX + 1;
    assert_int_equal (zmesh_msg_encode (&msg, buf, sizeof buf, &size), ZMESH_EINVAL);
    s_hello (&msg);
    msg.body.hello.name [0] = 0;
    assert_int_equal (zmesh_msg_encode (&msg, buf, sizeof buf, &size), ZMESH_EINVAL);
    //  A name is shown to people: no control characters (escape sequences) in it.
    strcpy (msg.body.hello.name, "evil\x1b[2J");
    assert_int_equal (zmesh_msg_encode (&msg, buf, sizeof buf, &size), ZMESH_EINVAL);
    strcpy (msg.body.hello.name, "del\x7f");
    assert_int_equal (zmesh_msg_encode (&msg, buf, sizeof buf, &size), ZMESH_EINVAL);
    strcpy (msg.body.hello.name, "n\xc3\xb8"
                                 "de");  //  UTF-8 is fine
    assert_int_equal (zmesh_msg_encode (&msg, buf, sizeof buf, &size), ZMESH_OK);
    s_peers (&msg, 1);
    msg.body.peers.count = ZMESH_PEERS_MAX + 1;
    assert_int_equal (zmesh_msg_encode (&msg, buf, sizeof buf, &size), ZMESH_EINVAL);
    s_leave (&msg);
    msg.type = 0;
    assert_int_equal (zmesh_msg_encode (&msg, buf, sizeof buf, &size), ZMESH_EINVAL);
    msg.type = ZMESH_MSG_TYPE_MAX + 1;
    assert_int_equal (zmesh_msg_encode (&msg, buf, sizeof buf, &size), ZMESH_EINVAL);
}

//  Pack an envelope header [version, type, sender, ...] with `fields` elements in all.
static void
s_pack_header (zmesh_mp_writer_t *w, uint32_t fields, uint64_t version, uint64_t type)
{
    static const uint8_t sender [ZMESH_ID_SIZE] = {1, 2,  3,  4,  5,  6,  7,  8,
                                                   9, 10, 11, 12, 13, 14, 15, 16};
    msgpack_pack_array (&w->pk, fields);
    msgpack_pack_uint64 (&w->pk, version);
    msgpack_pack_uint64 (&w->pk, type);
    msgpack_pack_bin_with_body (&w->pk, sender, ZMESH_ID_SIZE);
}

static int
s_decode (zmesh_msg_t *msg, const zmesh_mp_writer_t *w)
{
    assert_int_equal (zmesh_mp_writer_status (w), ZMESH_OK);
    memset (msg, 0, sizeof *msg);
    return zmesh_msg_decode (msg, w->data, w->size);
}

static void
test_wrong_version (void **state)
{
    static const uint64_t versions [] = {0, 2, 255, 256, UINT64_MAX};
    static const uint8_t expect [] = {0, 2, 255, 255, 255};
    for (size_t i = 0; i < sizeof versions / sizeof versions [0]; i++) {
        uint8_t buf [128];
        zmesh_mp_writer_t w;
        zmesh_mp_writer_init (&w, buf, sizeof buf);
        s_pack_header (&w, 4, versions [i], ZMESH_MSG_PING);
        msgpack_pack_array (&w.pk, 1);
        msgpack_pack_uint64 (&w.pk, 7);
        zmesh_msg_t msg;
        assert_int_equal (s_decode (&msg, &w), ZMESH_EVERSION);
        //  The version it saw, clamped to a byte, for the log line.
        assert_int_equal (msg.version, expect [i]);
    }
    //  A later version may change everything after the version field: still EVERSION.
    uint8_t buf [16];
    zmesh_mp_writer_t w;
    zmesh_mp_writer_init (&w, buf, sizeof buf);
    msgpack_pack_array (&w.pk, 4);
    msgpack_pack_uint64 (&w.pk, 2);
    msgpack_pack_nil (&w.pk);
    msgpack_pack_nil (&w.pk);
    msgpack_pack_nil (&w.pk);
    zmesh_msg_t msg;
    assert_int_equal (s_decode (&msg, &w), ZMESH_EVERSION);
}

static void
test_unknown_type (void **state)
{
    static const uint64_t types [] = {0, ZMESH_MSG_TYPE_MAX + 1, 200, 255};
    for (size_t i = 0; i < sizeof types / sizeof types [0]; i++) {
        uint8_t buf [128];
        zmesh_mp_writer_t w;
        zmesh_mp_writer_init (&w, buf, sizeof buf);
        s_pack_header (&w, 4, ZMESH_WIRE_VERSION, types [i]);
        //  A body this version cannot know the shape of.
        msgpack_pack_map (&w.pk, 1);
        msgpack_pack_str_with_body (&w.pk, "future", 6);
        msgpack_pack_double (&w.pk, 1.5);
        zmesh_msg_t msg;
        assert_int_equal (s_decode (&msg, &w), ZMESH_ETYPE);
        //  Enough of the header to count the drop per sender and type.
        assert_int_equal (msg.version, ZMESH_WIRE_VERSION);
        assert_int_equal (msg.type, types [i]);
        assert_int_equal (msg.sender.bytes [0], 1);
        assert_int_equal (msg.sender.bytes [15], 16);
        assert_string_equal (zmesh_msg_type_name (msg.type), "UNKNOWN");
    }
    //  A type that does not fit the byte is malformed, not unknown.
    uint8_t buf [128];
    zmesh_mp_writer_t w;
    zmesh_mp_writer_init (&w, buf, sizeof buf);
    s_pack_header (&w, 4, ZMESH_WIRE_VERSION, 256);
    msgpack_pack_array (&w.pk, 0);
    zmesh_msg_t msg;
    assert_int_equal (s_decode (&msg, &w), ZMESH_EPROTO);
}

//  Strings one byte over their limit are refused; at the limit they pass (see round trips).
static void
test_oversized_strings (void **state)
{
    char name [ZMESH_NAME_MAX + 1];
    memset (name, 'n', ZMESH_NAME_MAX);
    name [ZMESH_NAME_MAX] = 0;
    char software [ZMESH_SOFTWARE_MAX + 1];
    memset (software, 's', ZMESH_SOFTWARE_MAX);
    software [ZMESH_SOFTWARE_MAX] = 0;
    char endpoint [ZMESH_ENDPOINT_MAX + 1];
    strcpy (endpoint, "tcp://");
    memset (endpoint + 6, 'h', ZMESH_ENDPOINT_MAX - 6 - 5);
    strcpy (endpoint + ZMESH_ENDPOINT_MAX - 5, ":7000");
    assert_int_equal (strlen (endpoint), ZMESH_ENDPOINT_MAX);

    for (int field = 0; field < 4; field++) {
        uint8_t buf [1024];
        zmesh_mp_writer_t w;
        zmesh_mp_writer_init (&w, buf, sizeof buf);
        if (field < 3) {
            s_pack_header (&w, 4, ZMESH_WIRE_VERSION, ZMESH_MSG_HELLO);
            msgpack_pack_array (&w.pk, 5);
            const char *n = field == 0 ? name : "ok";
            msgpack_pack_str_with_body (&w.pk, n, strlen (n));
            msgpack_pack_array (&w.pk, 1);
            const char *e = field == 1 ? endpoint : "tcp://h:1";
            msgpack_pack_str_with_body (&w.pk, e, strlen (e));
            const char *s = field == 2 ? software : "zmesh";
            msgpack_pack_str_with_body (&w.pk, s, strlen (s));
            msgpack_pack_uint64 (&w.pk, 1);
            uint8_t key [ZMESH_KEY_SIZE] = {0};
            msgpack_pack_bin_with_body (&w.pk, key, sizeof key);
        }
        else {
            s_pack_header (&w, 4, ZMESH_WIRE_VERSION, ZMESH_MSG_PEERS);
            msgpack_pack_array (&w.pk, 1);
            msgpack_pack_array (&w.pk, 1);
            msgpack_pack_array (&w.pk, 2);
            uint8_t key [ZMESH_KEY_SIZE] = {0};
            msgpack_pack_bin_with_body (&w.pk, key, sizeof key);
            msgpack_pack_str_with_body (&w.pk, endpoint, strlen (endpoint));
        }
        zmesh_msg_t msg;
        assert_int_equal (s_decode (&msg, &w), ZMESH_EPROTO);
    }
}

//  A well-formed envelope followed by anything at all is malformed.
static void
test_trailing_bytes (void **state)
{
    zmesh_msg_t msg;
    s_ping (&msg, ZMESH_MSG_PING, 9, 1);
    uint8_t buf [64];
    size_t size;
    assert_int_equal (zmesh_msg_encode (&msg, buf, sizeof buf, &size), ZMESH_OK);
    buf [size] = 0xc0;
    assert_int_equal (zmesh_msg_decode (&msg, buf, size + 1), ZMESH_EPROTO);
    buf [size] = 0x00;
    assert_int_equal (zmesh_msg_decode (&msg, buf, size + 1), ZMESH_EPROTO);
    assert_int_equal (zmesh_msg_decode (&msg, buf, size), ZMESH_OK);
}

//  Forward compatibility: elements a later version appends are skipped, at every level.
static void
test_extra_elements_skipped (void **state)
{
    uint8_t buf [512];
    zmesh_mp_writer_t w;
    zmesh_msg_t msg;

    //  HELLO with two new body fields and a fifth envelope field.
    zmesh_mp_writer_init (&w, buf, sizeof buf);
    s_pack_header (&w, 5, ZMESH_WIRE_VERSION, ZMESH_MSG_HELLO);
    msgpack_pack_array (&w.pk, 7);
    msgpack_pack_str_with_body (&w.pk, "n1", 2);
    msgpack_pack_array (&w.pk, 1);
    msgpack_pack_str_with_body (&w.pk, "tcp://h:1", 9);
    msgpack_pack_str_with_body (&w.pk, "zmesh 9", 7);
    msgpack_pack_uint64 (&w.pk, 3);
    uint8_t hello_key [ZMESH_KEY_SIZE];
    memset (hello_key, 0x5a, sizeof hello_key);
    msgpack_pack_bin_with_body (&w.pk, hello_key, sizeof hello_key);
    msgpack_pack_map (&w.pk, 1);
    msgpack_pack_str_with_body (&w.pk, "gpu", 3);
    msgpack_pack_true (&w.pk);
    msgpack_pack_int64 (&w.pk, -5);
    msgpack_pack_bin_with_body (&w.pk, "sig", 3);
    assert_int_equal (s_decode (&msg, &w), ZMESH_OK);
    assert_string_equal (msg.body.hello.name, "n1");
    assert_string_equal (msg.body.hello.endpoints [0], "tcp://h:1");
    assert_int_equal (msg.body.hello.generation, 3);
    assert_int_equal (msg.body.hello.sign_public [31], 0x5a);

    //  PING with an extra timestamp; PEERS entries with an extra field each; LEAVE with a reason.
    zmesh_mp_writer_init (&w, buf, sizeof buf);
    s_pack_header (&w, 4, ZMESH_WIRE_VERSION, ZMESH_MSG_PING);
    msgpack_pack_array (&w.pk, 4);
    msgpack_pack_uint64 (&w.pk, 77);
    msgpack_pack_uint64 (&w.pk, 4);
    msgpack_pack_uint8 (&w.pk, 0);
    msgpack_pack_double (&w.pk, 0.25);
    assert_int_equal (s_decode (&msg, &w), ZMESH_OK);
    assert_int_equal (msg.body.ping.seq, 77);
    assert_int_equal (msg.body.ping.generation, 4);

    zmesh_mp_writer_init (&w, buf, sizeof buf);
    s_pack_header (&w, 4, ZMESH_WIRE_VERSION, ZMESH_MSG_PEERS);
    msgpack_pack_array (&w.pk, 2);
    msgpack_pack_array (&w.pk, 2);
    for (int i = 0; i < 2; i++) {
        uint8_t key [ZMESH_KEY_SIZE];
        memset (key, i + 1, sizeof key);
        msgpack_pack_array (&w.pk, 3);
        msgpack_pack_bin_with_body (&w.pk, key, sizeof key);
        msgpack_pack_str_with_body (&w.pk, "tcp://h:2", 9);
        msgpack_pack_array (&w.pk, 1);
        msgpack_pack_str_with_body (&w.pk, "tag", 3);
    }
    msgpack_pack_nil (&w.pk);
    assert_int_equal (s_decode (&msg, &w), ZMESH_OK);
    assert_int_equal (msg.body.peers.count, 2);
    assert_int_equal (msg.body.peers.peers [1].sign_public [0], 2);
    assert_string_equal (msg.body.peers.peers [1].endpoint, "tcp://h:2");

    zmesh_mp_writer_init (&w, buf, sizeof buf);
    s_pack_header (&w, 4, ZMESH_WIRE_VERSION, ZMESH_MSG_LEAVE);
    msgpack_pack_array (&w.pk, 1);
    msgpack_pack_str_with_body (&w.pk, "shutdown", 8);
    assert_int_equal (s_decode (&msg, &w), ZMESH_OK);
    assert_int_equal (msg.type, ZMESH_MSG_LEAVE);
}

//  One malformed envelope or body per case, each refused as ZMESH_EPROTO.
static void
test_malformed (void **state)
{
    uint8_t key [ZMESH_KEY_SIZE] = {0};
    for (int which = 0;; which++) {
        uint8_t buf [4096];
        zmesh_mp_writer_t w;
        zmesh_mp_writer_init (&w, buf, sizeof buf);
        msgpack_packer *pk = &w.pk;
        switch (which) {
            case 0:  //  not an array
                msgpack_pack_map (pk, 0);
                break;
            case 1:  //  three envelope fields
                msgpack_pack_array (pk, 3);
                msgpack_pack_uint64 (pk, 1);
                msgpack_pack_uint64 (pk, 2);
                msgpack_pack_bin_with_body (pk, key, ZMESH_ID_SIZE);
                break;
            case 2:  //  version as a negative int
                msgpack_pack_array (pk, 4);
                msgpack_pack_int64 (pk, -1);
                break;
            case 3:  //  sender of 15 bytes
                msgpack_pack_array (pk, 4);
                msgpack_pack_uint64 (pk, 1);
                msgpack_pack_uint64 (pk, 2);
                msgpack_pack_bin_with_body (pk, key, ZMESH_ID_SIZE - 1);
                msgpack_pack_array (pk, 1);
                msgpack_pack_uint64 (pk, 1);
                break;
            case 4:  //  sender as a str
                msgpack_pack_array (pk, 4);
                msgpack_pack_uint64 (pk, 1);
                msgpack_pack_uint64 (pk, 2);
                msgpack_pack_str_with_body (pk, "0123456789abcdef", ZMESH_ID_SIZE);
                msgpack_pack_array (pk, 1);
                msgpack_pack_uint64 (pk, 1);
                break;
            case 5:  //  body not an array
                s_pack_header (&w, 4, 1, ZMESH_MSG_PING);
                msgpack_pack_uint64 (pk, 1);
                break;
            case 6:  //  PING without its seq
                s_pack_header (&w, 4, 1, ZMESH_MSG_PING);
                msgpack_pack_array (pk, 0);
                break;
            case 7:  //  PONG seq as a str
                s_pack_header (&w, 4, 1, ZMESH_MSG_PONG);
                msgpack_pack_array (pk, 3);
                msgpack_pack_str_with_body (pk, "1", 1);
                msgpack_pack_uint64 (pk, 1);
                msgpack_pack_uint64 (pk, 0);
                break;
            case 8:   //  HELLO with four fields (no key)
            case 9:   //  HELLO with an empty name
            case 10:  //  HELLO with no endpoint
            case 11:  //  HELLO with one endpoint too many
            case 12:  //  HELLO with an endpoint that is not tcp
            case 13:  //  HELLO with a NUL inside the name
            case 14:  //  HELLO with a negative generation
            case 22:  //  HELLO with a 31-byte key
            case 23:  //  HELLO with the key as a str
            case 27:  //  HELLO with an escape character in the name
            {
                s_pack_header (&w, 4, 1, ZMESH_MSG_HELLO);
                msgpack_pack_array (pk, which == 8 ? 4 : 5);
                const char *name = which == 9    ? ""
                                   : which == 13 ? "a\0b"
                                   : which == 27 ? "a\x1b"
                                                   "b"
                                                 : "abc";
                msgpack_pack_str_with_body (pk, name, which == 9 ? 0 : 3);
                uint32_t endpoints = which == 10   ? 0
                                     : which == 11 ? ZMESH_HELLO_ENDPOINTS_MAX + 1
                                                   : 1;
                msgpack_pack_array (pk, endpoints);
                for (uint32_t i = 0; i < endpoints; i++) {
                    const char *e = which == 12 ? "udp://h:1" : "tcp://h:1";
                    msgpack_pack_str_with_body (pk, e, 9);
                }
                msgpack_pack_str_with_body (pk, "", 0);
                if (which == 14)
                    msgpack_pack_int64 (pk, -2);
                else
                    msgpack_pack_uint64 (pk, 1);
                if (which == 8)
                    break;
                if (which == 23)
                    msgpack_pack_str_with_body (pk, (const char *) key, ZMESH_KEY_SIZE);
                else
                    msgpack_pack_bin_with_body (pk, key, which == 22 ? 31 : ZMESH_KEY_SIZE);
                break;
            }
            case 15:  //  PEERS with one entry too many
            case 16:  //  PEERS entry with a 31-byte key
            case 17:  //  PEERS entry with one field
            case 18:  //  PEERS entry with a bind-only endpoint
            case 19:  //  PEERS without its list
            {
                s_pack_header (&w, 4, 1, ZMESH_MSG_PEERS);
                if (which == 19) {
                    msgpack_pack_array (pk, 0);
                    break;
                }
                msgpack_pack_array (pk, 1);
                uint32_t entries = which == 15 ? ZMESH_PEERS_MAX + 1 : 1;
                msgpack_pack_array (pk, entries);
                for (uint32_t i = 0; i < entries; i++) {
                    msgpack_pack_array (pk, which == 17 ? 1 : 2);
                    msgpack_pack_bin_with_body (pk, key, which == 16 ? 31 : ZMESH_KEY_SIZE);
                    if (which != 17) {
                        const char *e = which == 18 ? "tcp://*:1" : "tcp://h:1";
                        msgpack_pack_str_with_body (pk, e, 9);
                    }
                }
                break;
            }
            case 20:  //  envelope says five fields, has four
                s_pack_header (&w, 5, 1, ZMESH_MSG_LEAVE);
                msgpack_pack_array (pk, 0);
                break;
            case 21:  //  LEAVE body says one extra element, has none
                s_pack_header (&w, 4, 1, ZMESH_MSG_LEAVE);
                msgpack_pack_array (pk, 1);
                break;
            case 24:  //  PING with its seq but no generation
            case 25:  //  PING without its flags
            case 26:  //  PING with flags that do not fit a byte
                s_pack_header (&w, 4, 1, ZMESH_MSG_PING);
                msgpack_pack_array (pk, (uint32_t) (which - 23));
                msgpack_pack_uint64 (pk, 1);
                if (which >= 25)
                    msgpack_pack_uint64 (pk, 1);
                if (which == 26)
                    msgpack_pack_uint64 (pk, 256);
                break;
            default:
                assert_true (which > 27);
                return;
        }
        zmesh_msg_t msg;
        int rc = s_decode (&msg, &w);
        if (rc != ZMESH_EPROTO)
            fail_msg ("case %d: %s, expected ZMESH_EPROTO", which, zmesh_error_name (rc));
    }
}

//  The hard wire limit is checked before anything is read.
static void
test_too_big (void **state)
{
    size_t size = ZMESH_MSG_SIZE_MAX + 1;
    uint8_t *buf = calloc (1, size);
    assert_non_null (buf);
    zmesh_msg_t msg;
    assert_int_equal (zmesh_msg_decode (&msg, buf, size), ZMESH_ETOOBIG);
    assert_int_equal (zmesh_msg_decode (&msg, buf, ZMESH_MSG_SIZE_MAX), ZMESH_EPROTO);
    free (buf);
    assert_int_equal (zmesh_msg_decode (&msg, NULL, 0), ZMESH_EPROTO);
}

static void
test_type_names (void **state)
{
    assert_string_equal (zmesh_msg_type_name (ZMESH_MSG_HELLO), "HELLO");
    assert_string_equal (zmesh_msg_type_name (ZMESH_MSG_PING), "PING");
    assert_string_equal (zmesh_msg_type_name (ZMESH_MSG_PONG), "PONG");
    assert_string_equal (zmesh_msg_type_name (ZMESH_MSG_PEERS), "PEERS");
    assert_string_equal (zmesh_msg_type_name (ZMESH_MSG_LEAVE), "LEAVE");
    assert_string_equal (zmesh_msg_type_name (0), "UNKNOWN");
    assert_string_equal (zmesh_msg_type_name (-1), "UNKNOWN");
    assert_string_equal (zmesh_strerror (ZMESH_ETYPE), "unknown message type");
    assert_string_equal (zmesh_error_name (ZMESH_EVERSION), "ZMESH_EVERSION");
    assert_string_equal (zmesh_error_name (12345), "ZMESH_E?");
    assert_string_equal (zmesh_strerror (12345), "unknown error");
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_round_trip_hello),
        cmocka_unit_test (test_round_trip_ping_pong),
        cmocka_unit_test (test_round_trip_peers),
        cmocka_unit_test (test_round_trip_leave),
        cmocka_unit_test (test_round_trip_state),
        cmocka_unit_test (test_encode_refuses_invalid),
        cmocka_unit_test (test_wrong_version),
        cmocka_unit_test (test_unknown_type),
        cmocka_unit_test (test_oversized_strings),
        cmocka_unit_test (test_trailing_bytes),
        cmocka_unit_test (test_extra_elements_skipped),
        cmocka_unit_test (test_malformed),
        cmocka_unit_test (test_too_big),
        cmocka_unit_test (test_type_names),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
