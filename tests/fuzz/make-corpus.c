/*  make-corpus.c: writes the seed corpora of tests/fuzz/corpus/ (not built by CMake).

    The seeds are small files: valid messages of every type and the edge cases around them
    (limits, extra fields, other versions and types, truncation, odd encodings), so that the
    fuzzers start from the interesting places. Keys come from fixed seeds, so a run writes
    the same bytes every time. Regression inputs found by fuzzing are added by hand, next to
    these, named crash-* or regress-*.

    Build and run from the repository root:
        cc -std=c11 -D_GNU_SOURCE -Iprotocol tests/fuzz/make-corpus.c protocol/zmesh_*.c \
           -lmsgpackc -lsodium -o /tmp/make-corpus && /tmp/make-corpus tests/fuzz/corpus
*/
#include "zmesh_beacon_packet.h"
#include "zmesh_error.h"
#include "zmesh_ident.h"
#include "zmesh_mpack.h"
#include "zmesh_task.h"
#include "zmesh_wire.h"
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *s_root;

static void
s_write (const char *corpus, const char *name, const void *data, size_t size)
{
    char path [1024];
    snprintf (path, sizeof path, "%s/%s", s_root, corpus);
    if (mkdir (path, 0755) != 0 && errno != EEXIST) {
        perror (path);
        exit (1);
    }
    snprintf (path, sizeof path, "%s/%s/%s", s_root, corpus, name);
    FILE *file = fopen (path, "wb");
    if (!file || fwrite (data, 1, size, file) != size || fclose (file) != 0) {
        perror (path);
        exit (1);
    }
}

static void
s_keypair (uint8_t seed_byte, uint8_t pk [ZMESH_KEY_SIZE], uint8_t sk [ZMESH_SECRET_SIZE])
{
    uint8_t seed [crypto_sign_SEEDBYTES];
    memset (seed, seed_byte, sizeof seed);
    crypto_sign_seed_keypair (pk, sk, seed);
}

//  ---------------------------------------------------------------------------------------------
//  wire

static void
s_write_msg (const char *name, const zmesh_msg_t *msg)
{
    static uint8_t buf [ZMESH_MSG_SIZE_MAX];
    size_t size;
    ZMESH_ASSERT (zmesh_msg_encode (msg, buf, sizeof buf, &size) == ZMESH_OK);
    s_write ("wire", name, buf, size);
}

static void
s_hello (zmesh_msg_t *msg, uint32_t endpoints)
{
    uint8_t sk [ZMESH_SECRET_SIZE];
    memset (msg, 0, sizeof *msg);
    msg->type = ZMESH_MSG_HELLO;
    memset (msg->sender.bytes, 0x11, ZMESH_ID_SIZE);
    strcpy (msg->body.hello.name, "node-1");
    msg->body.hello.endpoint_count = endpoints;
    static const char *list [] = {"tcp://192.168.1.7:7700", "tcp://[fe80::1]:7700",
                                  "tcp://node-1.example.org:7700", "tcp://10.0.0.1:1"};
    for (uint32_t i = 0; i < endpoints; i++)
        strcpy (msg->body.hello.endpoints [i], list [i]);
    strcpy (msg->body.hello.software, "zmesh 0.1.0");
    msg->body.hello.generation = 3;
    s_keypair (1, msg->body.hello.sign_public, sk);
}

static void
s_wire_valid (void)
{
    zmesh_msg_t msg;
    s_hello (&msg, 1);
    s_write_msg ("hello-one-endpoint", &msg);
    s_hello (&msg, ZMESH_HELLO_ENDPOINTS_MAX);
    msg.body.hello.generation = UINT64_MAX;
    s_write_msg ("hello-four-endpoints", &msg);
    s_hello (&msg, 1);
    memset (msg.body.hello.name, 'n', ZMESH_NAME_MAX - 1);
    memset (msg.body.hello.software, 's', ZMESH_SOFTWARE_MAX - 1);
    s_write_msg ("hello-longest-strings", &msg);

    memset (&msg, 0, sizeof msg);
    msg.type = ZMESH_MSG_PING;
    memset (msg.sender.bytes, 0x22, ZMESH_ID_SIZE);
    s_write_msg ("ping-zero", &msg);
    msg.body.ping.seq = UINT64_MAX;
    msg.body.ping.generation = 1ull << 40;
    s_write_msg ("ping-max", &msg);
    msg.type = ZMESH_MSG_PONG;
    msg.body.ping.seq = 300;
    msg.body.ping.flags = ZMESH_PING_FLAG_NEED_HELLO;
    s_write_msg ("pong", &msg);

    memset (&msg, 0, sizeof msg);
    msg.type = ZMESH_MSG_PEERS;
    s_write_msg ("peers-empty", &msg);
    for (uint32_t i = 0; i < ZMESH_PEERS_MAX; i++) {
        uint8_t sk [ZMESH_SECRET_SIZE];
        s_keypair ((uint8_t) (i + 2), msg.body.peers.peers [i].sign_public, sk);
        snprintf (msg.body.peers.peers [i].endpoint, ZMESH_ENDPOINT_MAX, "tcp://10.0.0.%u:%u",
                  i + 1, 7000 + i);
    }
    msg.body.peers.count = 1;
    s_write_msg ("peers-one", &msg);
    msg.body.peers.count = ZMESH_PEERS_MAX;
    s_write_msg ("peers-full", &msg);

    memset (&msg, 0, sizeof msg);
    msg.type = ZMESH_MSG_LEAVE;
    memset (msg.sender.bytes, 0x33, ZMESH_ID_SIZE);
    s_write_msg ("leave", &msg);
}

//  Envelope header packed by hand, as another implementation would.
static void
s_header (zmesh_mp_writer_t *w, uint32_t fields, uint64_t version, uint64_t type)
{
    uint8_t sender [ZMESH_ID_SIZE];
    memset (sender, 0x44, sizeof sender);
    msgpack_pack_array (&w->pk, fields);
    msgpack_pack_uint64 (&w->pk, version);
    msgpack_pack_uint64 (&w->pk, type);
    msgpack_pack_bin_with_body (&w->pk, sender, sizeof sender);
}

static void
s_wire_edges (void)
{
    static uint8_t buf [4096];
    zmesh_mp_writer_t w;

    zmesh_mp_writer_init (&w, buf, sizeof buf);  //  a later version
    s_header (&w, 4, 2, ZMESH_MSG_PING);
    msgpack_pack_array (&w.pk, 3);
    msgpack_pack_uint64 (&w.pk, 1);
    msgpack_pack_uint64 (&w.pk, 1);
    msgpack_pack_uint64 (&w.pk, 0);
    s_write ("wire", "version-2", buf, w.size);

    zmesh_mp_writer_init (&w, buf, sizeof buf);  //  a type from the future, with a map body
    s_header (&w, 4, 1, 42);
    msgpack_pack_map (&w.pk, 1);
    msgpack_pack_str_with_body (&w.pk, "k", 1);
    msgpack_pack_double (&w.pk, 2.5);
    s_write ("wire", "type-unknown", buf, w.size);

    zmesh_mp_writer_init (&w, buf, sizeof buf);  //  extra fields at every level
    s_header (&w, 5, 1, ZMESH_MSG_PING);
    msgpack_pack_array (&w.pk, 5);
    msgpack_pack_uint64 (&w.pk, 7);
    msgpack_pack_uint64 (&w.pk, 8);
    msgpack_pack_uint64 (&w.pk, 0xfe);
    msgpack_pack_array (&w.pk, 2);
    msgpack_pack_int64 (&w.pk, -1);
    msgpack_pack_nil (&w.pk);
    msgpack_pack_map (&w.pk, 1);
    msgpack_pack_true (&w.pk);
    msgpack_pack_bin_with_body (&w.pk, "x", 1);
    msgpack_pack_ext_with_body (&w.pk, "abc", 3, 5);
    s_write ("wire", "ping-extra-fields", buf, w.size);

    zmesh_mp_writer_init (&w, buf, sizeof buf);  //  a PEERS entry with an extra field
    s_header (&w, 4, 1, ZMESH_MSG_PEERS);
    msgpack_pack_array (&w.pk, 1);
    msgpack_pack_array (&w.pk, 1);
    msgpack_pack_array (&w.pk, 3);
    uint8_t pk [ZMESH_KEY_SIZE], sk [ZMESH_SECRET_SIZE];
    s_keypair (9, pk, sk);
    msgpack_pack_bin_with_body (&w.pk, pk, sizeof pk);
    msgpack_pack_str_with_body (&w.pk, "tcp://[::1]:9", 13);
    msgpack_pack_str_with_body (&w.pk, "tag", 3);
    s_write ("wire", "peers-extra-field", buf, w.size);

    //  Wide forms a minimal writer never uses: uint 16 version, str 16 name, array 32.
    static const uint8_t wide [] = {0xdd, 0, 0, 0,    4,  0xcd, 0,  1,  0xcf, 0,  0,    0, 0, 0,
                                    0,    0, 5, 0xc6, 0,  0,    0,  16, 1,    2,  3,    4, 5, 6,
                                    7,    8, 9, 10,   11, 12,   13, 14, 15,   16, 0xdc, 0, 0};
    s_write ("wire", "leave-wide-forms", wide, sizeof wide);

    zmesh_msg_t msg;
    size_t size;
    memset (&msg, 0, sizeof msg);
    msg.type = ZMESH_MSG_PING;
    ZMESH_ASSERT (zmesh_msg_encode (&msg, buf, sizeof buf, &size) == ZMESH_OK);
    buf [size] = 0xc0;
    s_write ("wire", "ping-trailing-byte", buf, size + 1);
    s_hello (&msg, 2);
    ZMESH_ASSERT (zmesh_msg_encode (&msg, buf, sizeof buf, &size) == ZMESH_OK);
    s_write ("wire", "hello-truncated", buf, size / 2);

    uint8_t deep [64];  //  an extra envelope field nested past the depth limit
    memcpy (deep, "\x95\x01\x05\xc4\x10", 5);
    memset (deep + 5, 0x55, 16);
    deep [21] = 0x90;
    memset (deep + 22, 0x91, sizeof deep - 23);
    deep [sizeof deep - 1] = 0x90;
    s_write ("wire", "leave-deep-extra", deep, sizeof deep);
    s_write ("wire", "empty", "", 0);
}

//  ---------------------------------------------------------------------------------------------
//  beacon

static void
s_beacon (void)
{
    uint8_t sk [ZMESH_SECRET_SIZE];
    zmesh_beacon_t beacon = {.flags = 0, .port = 7700, .generation = 12};
    s_keypair (7, beacon.sign_public, sk);
    uint8_t packet [ZMESH_BEACON_SIZE + 1];
    ZMESH_ASSERT (zmesh_beacon_encode (&beacon, sk, packet) == ZMESH_OK);
    s_write ("beacon", "valid", packet, ZMESH_BEACON_SIZE);
    packet [ZMESH_BEACON_SIZE] = 0;
    s_write ("beacon", "one-byte-long", packet, ZMESH_BEACON_SIZE + 1);
    s_write ("beacon", "one-byte-short", packet, ZMESH_BEACON_SIZE - 1);
    packet [50] ^= 0x10;
    s_write ("beacon", "bad-signature", packet, ZMESH_BEACON_SIZE);

    beacon.flags = ZMESH_BEACON_FLAG_LEAVING;
    beacon.port = 65535;
    beacon.generation = UINT64_MAX;
    ZMESH_ASSERT (zmesh_beacon_encode (&beacon, sk, packet) == ZMESH_OK);
    s_write ("beacon", "valid-leaving", packet, ZMESH_BEACON_SIZE);
    packet [4] = 0x02;
    s_write ("beacon", "unknown-flag", packet, ZMESH_BEACON_SIZE);
    packet [4] = ZMESH_BEACON_FLAG_LEAVING;
    packet [5] = packet [6] = 0;
    s_write ("beacon", "port-zero", packet, ZMESH_BEACON_SIZE);
    packet [3] = 0x02;
    s_write ("beacon", "version-2", packet, ZMESH_BEACON_SIZE);
}

//  ---------------------------------------------------------------------------------------------
//  contact

static void
s_contact_text (const char *name, const char *text)
{
    s_write ("contact", name, text, strlen (text));
}

static void
s_contact (void)
{
    uint8_t pk [ZMESH_KEY_SIZE], sk [ZMESH_SECRET_SIZE];
    s_keypair (3, pk, sk);
    char contact [ZMESH_CONTACT_MAX + 16], hex [ZMESH_KEY_HEX_SIZE];
    zmesh_hex_encode (hex, pk, ZMESH_KEY_SIZE);
    zmesh_contact_format (contact, "tcp://192.168.1.7:7700", pk);
    s_contact_text ("ipv4", contact);
    zmesh_contact_format (contact, "tcp://[fe80::1]:1", pk);
    s_contact_text ("ipv6", contact);
    zmesh_contact_format (contact, "tcp://node-1.example.org:65535", pk);
    s_contact_text ("name", contact);
    char endpoint [ZMESH_ENDPOINT_MAX];
    strcpy (endpoint, "tcp://");
    memset (endpoint + 6, 'h', ZMESH_ENDPOINT_MAX - 1 - 6 - 3);
    strcpy (endpoint + ZMESH_ENDPOINT_MAX - 1 - 3, ":80");
    zmesh_contact_format (contact, endpoint, pk);
    s_contact_text ("longest", contact);
    snprintf (contact, sizeof contact, "tcp://h:1#%s", "00");
    s_contact_text ("short-key", contact);
    snprintf (contact, sizeof contact,
              "tcp://h:1#0000000000000000000000000000000000000000000000000000000000000000");
    s_contact_text ("zero-key", contact);
    snprintf (contact, sizeof contact, "tcp://*:*#%s", hex);
    s_contact_text ("bind-only", contact);
    s_contact_text ("endpoint-bind", "tcp://*:*");
    s_contact_text ("endpoint-v6", "tcp://[::1]:7700");
    s_contact_text ("endpoint-bad-port", "tcp://h:65536");
    s_contact_text ("no-key", "tcp://h:1");
    s_contact_text ("empty", "");
}

//  ---------------------------------------------------------------------------------------------
//  mpack

static void
s_mpack (void)
{
    static uint8_t buf [4096];
    zmesh_mp_writer_t w;
    zmesh_mp_writer_init (&w, buf, sizeof buf);
    msgpack_pack_array (&w.pk, 14);
    msgpack_pack_uint64 (&w.pk, 1);
    msgpack_pack_uint64 (&w.pk, 300);
    msgpack_pack_uint64 (&w.pk, 70000);
    msgpack_pack_uint64 (&w.pk, 1ull << 40);
    msgpack_pack_int64 (&w.pk, -1);
    msgpack_pack_int64 (&w.pk, -200);
    msgpack_pack_int64 (&w.pk, INT64_MIN);
    msgpack_pack_float (&w.pk, 1.5f);
    msgpack_pack_double (&w.pk, -2.5);
    msgpack_pack_nil (&w.pk);
    msgpack_pack_true (&w.pk);
    msgpack_pack_str_with_body (&w.pk, "text", 4);
    msgpack_pack_bin_with_body (&w.pk, "\x00\x01", 2);
    msgpack_pack_map (&w.pk, 2);
    msgpack_pack_str_with_body (&w.pk, "a", 1);
    msgpack_pack_ext_with_body (&w.pk, "12345678", 8, 1);
    msgpack_pack_str_with_body (&w.pk, "b", 1);
    msgpack_pack_ext_with_body (&w.pk, "123", 3, 2);
    ZMESH_ASSERT (zmesh_mp_writer_status (&w) == ZMESH_OK);
    s_write ("mpack", "every-type", buf, w.size);

    static const uint8_t wide [] = {0xdf, 0,    0, 0, 1,   0xd9, 1, 'k', 0xdd, 0,    0, 0,
                                    2,    0xda, 0, 1, 'x', 0xc7, 1, 9,   'e',  0xc5, 0, 0};
    s_write ("mpack", "wide-forms", wide, sizeof wide);
    static const uint8_t lies [] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0xdb, 0xff, 0xff, 0xff, 0xff};
    s_write ("mpack", "lying-lengths", lies, sizeof lies);
    static const uint8_t unused [] = {0x01, 0xc1, 0x02};
    s_write ("mpack", "never-used-byte", unused, sizeof unused);

    uint8_t nested [ZMESH_MP_DEPTH_MAX + 2];
    memset (nested, 0x91, sizeof nested);
    nested [ZMESH_MP_DEPTH_MAX] = 0x90;
    s_write ("mpack", "nested-at-limit", nested, ZMESH_MP_DEPTH_MAX + 1);
    nested [ZMESH_MP_DEPTH_MAX] = 0x91;
    nested [ZMESH_MP_DEPTH_MAX + 1] = 0x90;
    s_write ("mpack", "nested-past-limit", nested, sizeof nested);
    static const uint8_t fixext [] = {0xd8, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
    s_write ("mpack", "fixext16-truncated", fixext, sizeof fixext);
}

//  ---------------------------------------------------------------------------------------------
//  task: the work plane's envelope and the zmesh.work value (fuzz_task tries both decoders on
//  every seed). Each seed is checked to decode as its name says.

static void
s_task_seed (const char *name, const uint8_t *data, size_t size, int envelope_rc, int info_rc)
{
    static zmesh_task_msg_t msg;
    static zmesh_work_info_t info;
    ZMESH_ASSERT (zmesh_task_envelope_decode (&msg, NULL, data, size) == envelope_rc);
    ZMESH_ASSERT (zmesh_work_info_decode (&info, data, size) == info_rc);
    s_write ("task", name, data, size);
}

static void
s_task_item (zmesh_task_item_t *task, uint8_t n, uint8_t owner)
{
    static const uint8_t payload [] = "{\"w\":640,\"h\":480}";
    static const uint8_t checkpoint [] = {1, 2, 3, 4, 5, 6, 7, 8};
    memset (task, 0, sizeof *task);
    memset (task->id.bytes, 0x60 + n, ZMESH_ID_SIZE);
    memset (task->owner.bytes, owner, ZMESH_ID_SIZE);
    task->attempt = 1u + n;
    task->priority = n % 4;
    task->flags = n % 2 ? ZMESH_TASK_FLAG_IDEMPOTENT : 0;
    task->timeout_ms = 30000;
    task->cpu_millicores = 500u * (n + 1u);
    task->memory_bytes = (uint64_t) (n + 1) << 28;
    task->gpus = n == 2;
    strcpy (task->handler, n == 1 ? "hash.sha256" : "image.resize");
    task->payload = payload;
    task->payload_size = n == 2 ? 0 : sizeof payload - 1;
    if (n == 1) {
        task->checkpoint = checkpoint;
        task->checkpoint_size = sizeof checkpoint;
    }
}

//  Offset of the body's kind in an envelope packed by the writer: fixarray, version, type,
//  bin 8 of 16 bytes, the body's fixarray.
#define S_KIND_AT 22

static void
s_task (void)
{
    static uint8_t buf [65536];
    const zmesh_task_load_t load = {4, 3, 10, 6};
    zmesh_id_t sender, thief;
    memset (sender.bytes, 0x44, ZMESH_ID_SIZE);
    memset (thief.bytes, 0x45, ZMESH_ID_SIZE);
    zmesh_task_writer_t w;
    zmesh_task_item_t task;
    size_t size;

    ZMESH_ASSERT (
        zmesh_task_writer_begin (&w, buf, sizeof buf, &sender, ZMESH_TASK_KIND_SUBMIT, &load)
        == ZMESH_OK);
    ZMESH_ASSERT (zmesh_task_writer_finish (&w, &size) == ZMESH_OK);
    s_task_seed ("submit-empty", buf, size, ZMESH_OK, ZMESH_EPROTO);
    s_task_item (&task, 0, 0x44);
    ZMESH_ASSERT (zmesh_task_writer_add_task (&w, &task) == ZMESH_OK);
    ZMESH_ASSERT (zmesh_task_writer_finish (&w, &size) == ZMESH_OK);
    s_task_seed ("submit-one", buf, size, ZMESH_OK, ZMESH_EPROTO);
    for (uint8_t n = 1; n < 3; n++) {
        s_task_item (&task, n, 0x44);
        ZMESH_ASSERT (zmesh_task_writer_add_task (&w, &task) == ZMESH_OK);
    }
    ZMESH_ASSERT (zmesh_task_writer_finish (&w, &size) == ZMESH_OK);
    s_task_seed ("submit-three", buf, size, ZMESH_OK, ZMESH_EPROTO);
    s_task_seed ("submit-truncated", buf, size / 2, ZMESH_EPROTO, ZMESH_EPROTO);
    buf [size] = 0xc0;
    s_task_seed ("submit-trailing-byte", buf, size + 1, ZMESH_EPROTO, ZMESH_EPROTO);
    uint8_t *handler = memmem (buf, size, "hash.sha256", 11);
    ZMESH_ASSERT (handler);
    handler [4] = 0x1b;
    s_task_seed ("submit-handler-escape", buf, size, ZMESH_EPROTO, ZMESH_EPROTO);
    handler [4] = '.';
    buf [1] = 2;
    s_task_seed ("version-2", buf, size, ZMESH_EVERSION, ZMESH_EPROTO);
    buf [1] = 1;
    buf [2] = ZMESH_MSG_TASK - 1;
    s_task_seed ("type-swim", buf, size, ZMESH_ETYPE, ZMESH_EPROTO);
    buf [2] = ZMESH_MSG_TASK;
    buf [S_KIND_AT] = ZMESH_TASK_KIND_MAX + 1;
    s_task_seed ("kind-unknown", buf, size, ZMESH_ETYPE, ZMESH_EPROTO);

    ZMESH_ASSERT (
        zmesh_task_writer_begin (&w, buf, sizeof buf, &sender, ZMESH_TASK_KIND_STOLEN, &load)
        == ZMESH_OK);
    for (uint8_t n = 0; n < 3; n++) {
        s_task_item (&task, n, (uint8_t) (0x50 + n));
        ZMESH_ASSERT (zmesh_task_writer_add_task (&w, &task) == ZMESH_OK);
    }
    ZMESH_ASSERT (zmesh_task_writer_finish (&w, &size) == ZMESH_OK);
    s_task_seed ("stolen", buf, size, ZMESH_OK, ZMESH_EPROTO);
    buf [S_KIND_AT] = ZMESH_TASK_KIND_SUBMIT;  //  a SUBMIT of tasks the sender does not own
    s_task_seed ("submit-other-owner", buf, size, ZMESH_EPROTO, ZMESH_EPROTO);

    ZMESH_ASSERT (
        zmesh_task_writer_begin (&w, buf, sizeof buf, &sender, ZMESH_TASK_KIND_RESULT, &load)
        == ZMESH_OK);
    for (uint8_t status = 0; status <= ZMESH_TASK_STATUS_MAX; status++) {
        zmesh_task_result_item_t result = {.attempt = 1u + status, .status = status};
        memset (result.id.bytes, 0x70 + status, ZMESH_ID_SIZE);
        if (status == ZMESH_TASK_OK) {
            result.output = (const uint8_t *) "resized";
            result.output_size = 7;
        }
        else if (status == ZMESH_TASK_HANDLER_ERROR) {
            result.error = "out of memory";
            result.error_size = 13;
        }
        result.queued_us = 1500u * status;
        result.run_us = status == ZMESH_TASK_OK ? 250000 : 0;
        ZMESH_ASSERT (zmesh_task_writer_add_result (&w, &result) == ZMESH_OK);
        if (status == ZMESH_TASK_OK) {
            ZMESH_ASSERT (zmesh_task_writer_finish (&w, &size) == ZMESH_OK);
            s_task_seed ("result-ok", buf, size, ZMESH_OK, ZMESH_EPROTO);
        }
    }
    ZMESH_ASSERT (zmesh_task_writer_finish (&w, &size) == ZMESH_OK);
    s_task_seed ("result-every-status", buf, size, ZMESH_OK, ZMESH_EPROTO);

    const uint8_t ref_kinds [] = {ZMESH_TASK_KIND_LEASE, ZMESH_TASK_KIND_CANCEL,
                                  ZMESH_TASK_KIND_MOVED};
    const char *ref_names [] = {"lease", "cancel", "moved"};
    for (int k = 0; k < 3; k++) {
        if (ref_kinds [k] == ZMESH_TASK_KIND_MOVED)
            ZMESH_ASSERT (
                zmesh_task_writer_begin_moved (&w, buf, sizeof buf, &sender, &load, &thief)
                == ZMESH_OK);
        else
            ZMESH_ASSERT (
                zmesh_task_writer_begin (&w, buf, sizeof buf, &sender, ref_kinds [k], &load)
                == ZMESH_OK);
        for (uint32_t n = 0; n < 4; n++) {
            zmesh_task_ref_t ref = {.attempt = 1 + n, .running = k == 0 && n % 2};
            memset (ref.id.bytes, (int) (0x60 + n), ZMESH_ID_SIZE);
            ZMESH_ASSERT (zmesh_task_writer_add_ref (&w, &ref) == ZMESH_OK);
        }
        ZMESH_ASSERT (zmesh_task_writer_finish (&w, &size) == ZMESH_OK);
        s_task_seed (ref_names [k], buf, size, ZMESH_OK, ZMESH_EPROTO);
    }
    buf [size - 2] = 0;  //  the last ref's attempt (a fixint before its `running`)
    s_task_seed ("moved-attempt-zero", buf, size, ZMESH_EPROTO, ZMESH_EPROTO);

    ZMESH_ASSERT (zmesh_task_encode_steal (buf, sizeof buf, &sender, &load, 3, &size) == ZMESH_OK);
    s_task_seed ("steal", buf, size, ZMESH_OK, ZMESH_EPROTO);
    buf [size - 1] = 0;
    s_task_seed ("steal-max-zero", buf, size, ZMESH_EPROTO, ZMESH_EPROTO);

    zmesh_task_ref_t ref = {.attempt = 2, .running = true};
    memset (ref.id.bytes, 0x61, ZMESH_ID_SIZE);
    static const uint8_t state [] = "rows 0..4095 done";
    ZMESH_ASSERT (zmesh_task_encode_checkpoint (buf, sizeof buf, &sender, &load, &ref, state,
                                                sizeof state - 1, &size)
                  == ZMESH_OK);
    s_task_seed ("checkpoint", buf, size, ZMESH_OK, ZMESH_EPROTO);

    zmesh_task_call_t call = {.id = 7,
                              .cpu_millicores = 2000,
                              .memory_bytes = 1u << 30,
                              .gpus = 1,
                              .tag_count = 2,
                              .perf_best_us = 12500};
    snprintf (call.handler, sizeof call.handler, "resize");
    snprintf (call.tags [0], sizeof call.tags [0], "gpu");
    snprintf (call.tags [1], sizeof call.tags [1], "zone:eu-1");
    ZMESH_ASSERT (zmesh_task_encode_call (buf, sizeof buf, &sender, &load, &call, &size)
                  == ZMESH_OK);
    s_task_seed ("call", buf, size, ZMESH_OK, ZMESH_EPROTO);
    zmesh_task_bid_t bid = {.call_id = 7, .able = true, .permille = 815};
    ZMESH_ASSERT (zmesh_task_encode_bid (buf, sizeof buf, &sender, &load, &bid, &size) == ZMESH_OK);
    s_task_seed ("bid", buf, size, ZMESH_OK, ZMESH_EPROTO);
    buf [size - 3] = 0xc2;  //  able false with a bid of 815: malformed
    s_task_seed ("bid-unable-with-bid", buf, size, ZMESH_EPROTO, ZMESH_EPROTO);
    bid = (zmesh_task_bid_t){.call_id = 7, .able = false, .permille = 0};
    ZMESH_ASSERT (zmesh_task_encode_bid (buf, sizeof buf, &sender, &load, &bid, &size) == ZMESH_OK);
    s_task_seed ("bid-unable", buf, size, ZMESH_OK, ZMESH_EPROTO);

    //  Packed by hand: a LEASE with extra elements in every array (skipped), wide forms.
    zmesh_mp_writer_t mw;
    zmesh_mp_writer_init (&mw, buf, sizeof buf);
    s_header (&mw, 5, 1, ZMESH_MSG_TASK);
    msgpack_pack_array (&mw.pk, 4);
    msgpack_pack_uint64 (&mw.pk, ZMESH_TASK_KIND_LEASE);
    msgpack_pack_array (&mw.pk, 5);
    for (int i = 0; i < 4; i++)
        msgpack_pack_uint64 (&mw.pk, (uint64_t) i);
    msgpack_pack_nil (&mw.pk);
    static const uint8_t wide_count [] = {0xdc, 0, 1};  //  array 16 of one ref
    zmesh_mp_write_raw (&mw, wide_count, sizeof wide_count);
    msgpack_pack_array (&mw.pk, 4);
    msgpack_pack_bin_with_body (&mw.pk, ref.id.bytes, ZMESH_ID_SIZE);
    static const uint8_t wide_attempt [] = {0xcf, 0, 0, 0, 0, 0, 0, 0, 9};
    zmesh_mp_write_raw (&mw, wide_attempt, sizeof wide_attempt);
    msgpack_pack_true (&mw.pk);
    msgpack_pack_str_with_body (&mw.pk, "later", 5);
    msgpack_pack_map (&mw.pk, 1);
    msgpack_pack_int64 (&mw.pk, -1);
    msgpack_pack_double (&mw.pk, 0.5);
    msgpack_pack_ext_with_body (&mw.pk, "ab", 2, 3);
    ZMESH_ASSERT (zmesh_mp_writer_status (&mw) == ZMESH_OK);
    s_task_seed ("lease-extra-fields", buf, mw.size, ZMESH_OK, ZMESH_EPROTO);

    //  The zmesh.work value.
    static zmesh_work_info_t info;
    memset (&info, 0, sizeof info);
    strcpy (info.worker_endpoint, "tcp://10.0.0.7:7710");
    info.tag_count = 2;
    strcpy (info.tags [0], "gpu");
    strcpy (info.tags [1], "zone:eu-1");
    info.handler_count = 2;
    strcpy (info.handlers [0], "image.resize");
    strcpy (info.handlers [1], "hash.sha256");
    info.load = load;
    ZMESH_ASSERT (zmesh_work_info_encode (&info, buf, sizeof buf, &size) == ZMESH_OK);
    s_task_seed ("work-info", buf, size, ZMESH_EPROTO, ZMESH_OK);
    uint8_t *tag = memmem (buf, size, "zone:eu-1", 9);
    ZMESH_ASSERT (tag);
    tag [4] = '/';
    s_task_seed ("work-info-bad-tag", buf, size, ZMESH_EPROTO, ZMESH_EPROTO);
    tag [4] = ':';
    uint8_t *host = memmem (buf, size, "10.0.0.7", 8);
    ZMESH_ASSERT (host);
    host [0] = '*';
    host [1] = 0;  //  a NUL inside the string
    s_task_seed ("work-info-bad-endpoint", buf, size, ZMESH_EPROTO, ZMESH_EPROTO);
    info.tag_count = info.handler_count = ZMESH_TASK_TAGS_MAX;
    for (int i = 0; i < ZMESH_TASK_TAGS_MAX; i++) {
        memset (info.tags [i], 'a' + i, ZMESH_TASK_TAG_MAX - 1);
        memset (info.handlers [i], 'A' + i, ZMESH_TASK_HANDLER_MAX - 1);
    }
    ZMESH_ASSERT (zmesh_work_info_encode (&info, buf, sizeof buf, &size) == ZMESH_OK);
    s_task_seed ("work-info-full", buf, size, ZMESH_EPROTO, ZMESH_OK);
    s_task_seed ("empty", buf, 0, ZMESH_EPROTO, ZMESH_EPROTO);
}

int
main (int argc, char *argv [])
{
    if (argc != 2) {
        fprintf (stderr, "usage: %s CORPUS_ROOT\n", argv [0]);
        return 2;
    }
    if (sodium_init () < 0)
        return 1;
    s_root = argv [1];
    s_wire_valid ();
    s_wire_edges ();
    s_beacon ();
    s_contact ();
    s_mpack ();
    s_task ();
    return 0;
}
