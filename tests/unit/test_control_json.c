/*  test_control_json.c: zmeshctl's msgpack -> JSON printer, and the control actor it reads.

    The printer first: every msgpack type, then strings, where it matters most, since names and
    endpoints come from other nodes: escapes, control characters (C0, DEL, C1), well-formed
    UTF-8 passed through, malformed UTF-8 replaced by U+FFFD, so the output is always valid
    JSON. Then the control actor over a real ipc socket with a hand-made node context: each
    command's answer (read back through the printer), the messages it sends the supervisor,
    and the negative space: bad requests are answered with an error and counted, never a crash.
*/
#include "zmesh_actors.h"
#include "zmesh_json.h"
#include "zmesh_node_ctx.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define S_TIMEOUT_MS 3000  //  every wait is bounded

//  ---------------------------------------------------------------------------------------------
//  The printer

//  JSON of a msgpack object packed by the caller: pack into pk, then call s_json_of (&buffer).
static char *
s_json_of (msgpack_sbuffer *buffer)
{
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    assert_int_equal (msgpack_unpack_next (&unpacked, buffer->data, buffer->size, &offset),
                      MSGPACK_UNPACK_SUCCESS);
    char *json = zmesh_json_string (&unpacked.data);
    assert_non_null (json);
    msgpack_unpacked_destroy (&unpacked);
    msgpack_sbuffer_clear (buffer);
    return json;
}

#define ASSERT_JSON(buffer, expected)          \
    do {                                       \
        char *json_ = s_json_of (buffer);      \
        assert_string_equal (json_, expected); \
        free (json_);                          \
    } while (0)

//  A msgpack str of size bytes, then its JSON.
static char *
s_json_of_str (const char *text, size_t size)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    msgpack_pack_str_with_body (&pk, text, size);
    char *json = s_json_of (&buffer);
    msgpack_sbuffer_destroy (&buffer);
    return json;
}

#define ASSERT_STR_JSON(literal, expected)                         \
    do {                                                           \
        char *json_ = s_json_of_str (literal, sizeof literal - 1); \
        assert_string_equal (json_, expected);                     \
        free (json_);                                              \
    } while (0)

static void
test_json_scalars (void **state)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);

    msgpack_pack_array (&pk, 7);
    msgpack_pack_nil (&pk);
    msgpack_pack_true (&pk);
    msgpack_pack_false (&pk);
    msgpack_pack_uint64 (&pk, 0);
    msgpack_pack_uint64 (&pk, UINT64_MAX);
    msgpack_pack_int64 (&pk, -1);
    msgpack_pack_int64 (&pk, INT64_MIN);
    ASSERT_JSON (&buffer, "[null,true,false,0,18446744073709551615,-1,-9223372036854775808]");

    //  Floats: the shortest form that reads back; JSON has no NaN or infinity.
    msgpack_pack_array (&pk, 6);
    msgpack_pack_double (&pk, 0.5);
    msgpack_pack_double (&pk, 0.1);
    msgpack_pack_float (&pk, 0.1f);
    msgpack_pack_double (&pk, -1e300);
    msgpack_pack_double (&pk, NAN);
    msgpack_pack_double (&pk, INFINITY);
    ASSERT_JSON (&buffer, "[0.5,0.1,0.1,-1e+300,null,null]");

    //  bin as hex; ext as an object.
    msgpack_pack_array (&pk, 3);
    msgpack_pack_bin_with_body (&pk, "\x00\x01\xab\xff", 4);
    msgpack_pack_bin_with_body (&pk, "", 0);
    msgpack_pack_ext_with_body (&pk, "\x12", 1, 7);
    ASSERT_JSON (&buffer, "[\"0001abff\",\"\",{\"ext\":7,\"data\":\"12\"}]");
    msgpack_sbuffer_destroy (&buffer);
}

static void
test_json_maps_and_arrays (void **state)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);

    msgpack_pack_map (&pk, 3);
    msgpack_pack_str_with_body (&pk, "actors", 6);
    msgpack_pack_array (&pk, 2);
    msgpack_pack_map (&pk, 1);
    msgpack_pack_str_with_body (&pk, "name", 4);
    msgpack_pack_str_with_body (&pk, "gossip", 6);
    msgpack_pack_map (&pk, 0);
    msgpack_pack_str_with_body (&pk, "empty", 5);
    msgpack_pack_array (&pk, 0);
    msgpack_pack_str_with_body (&pk, "k\"ey", 4);
    msgpack_pack_uint64 (&pk, 1);
    ASSERT_JSON (&buffer, "{\"actors\":[{\"name\":\"gossip\"},{}],\"empty\":[],\"k\\\"ey\":1}");

    //  Keys that are not strings become strings of their JSON text, so the output stays JSON.
    msgpack_pack_map (&pk, 4);
    msgpack_pack_uint64 (&pk, 7);
    msgpack_pack_nil (&pk);
    msgpack_pack_true (&pk);
    msgpack_pack_int64 (&pk, -2);
    msgpack_pack_bin_with_body (&pk, "\xbe\xef", 2);
    msgpack_pack_uint64 (&pk, 3);
    msgpack_pack_array (&pk, 1);
    msgpack_pack_str_with_body (&pk, "a", 1);
    msgpack_pack_uint64 (&pk, 4);
    ASSERT_JSON (&buffer, "{\"7\":null,\"true\":-2,\"\\\"beef\\\"\":3,\"[\\\"a\\\"]\":4}");
    msgpack_sbuffer_destroy (&buffer);
}

static void
test_json_escapes_and_control_characters (void **state)
{
    ASSERT_STR_JSON ("", "\"\"");
    ASSERT_STR_JSON ("plain", "\"plain\"");
    ASSERT_STR_JSON ("q\"b\\s/", "\"q\\\"b\\\\s/\"");
    ASSERT_STR_JSON ("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"");
    //  Other C0 controls, DEL, and an embedded NUL as \u escapes.
    ASSERT_STR_JSON ("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
    ASSERT_STR_JSON ("a\0b", "\"a\\u0000b\"");
    //  A terminal escape sequence in a node name is defused.
    ASSERT_STR_JSON ("gam\x1b[31mma", "\"gam\\u001b[31mma\"");
    //  C1 controls (U+0080..U+009F, e.g. U+009B, the 8-bit CSI) as \u escapes too.
    ASSERT_STR_JSON ("\xc2\x80\xc2\x9b\xc2\x9f", "\"\\u0080\\u009b\\u009f\"");
}

static void
test_json_utf8_passthrough (void **state)
{
    //  2, 3 and 4 byte sequences, U+00A0 just after C1, U+2028, and the largest code point.
    ASSERT_STR_JSON ("h\xc3\xa9llo", "\"h\xc3\xa9llo\"");
    ASSERT_STR_JSON ("\xc2\xa0", "\"\xc2\xa0\"");
    ASSERT_STR_JSON ("\xe2\x9c\x93 \xe2\x80\xa8", "\"\xe2\x9c\x93 \xe2\x80\xa8\"");
    ASSERT_STR_JSON ("\xf0\x9d\x84\x9e", "\"\xf0\x9d\x84\x9e\"");
    ASSERT_STR_JSON ("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");
    ASSERT_STR_JSON ("\xe6\x97\xa5\xe6\x9c\xac", "\"\xe6\x97\xa5\xe6\x9c\xac\"");
}

static void
test_json_malformed_utf8_is_replaced (void **state)
{
    //  Each byte that does not start a well-formed sequence becomes one U+FFFD.
    ASSERT_STR_JSON ("\xff", "\"\\ufffd\"");
    ASSERT_STR_JSON ("a\x80z", "\"a\\ufffdz\"");                    //  stray continuation
    ASSERT_STR_JSON ("\xc0\xaf", "\"\\ufffd\\ufffd\"");             //  overlong '/'
    ASSERT_STR_JSON ("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");  //  overlong, 3 bytes
    ASSERT_STR_JSON ("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");  //  surrogate U+D800
    ASSERT_STR_JSON ("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");  //  > U+10FFFF
    ASSERT_STR_JSON ("\xe2\x9c", "\"\\ufffd\\ufffd\"");    //  truncated at the end
    ASSERT_STR_JSON ("\xe2\x9c!", "\"\\ufffd\\ufffd!\"");  //  truncated in the middle

    uint32_t code_point = 0;
    assert_int_equal (zmesh_json_utf8_next ((const uint8_t *) "\xf4\x8f\xbf\xbf", 4, &code_point),
                      4);
    assert_int_equal (code_point, 0x10FFFF);
    assert_int_equal (zmesh_json_utf8_next ((const uint8_t *) "\xe2\x82\xac", 3, &code_point), 3);
    assert_int_equal (code_point, 0x20AC);
    assert_int_equal (zmesh_json_utf8_next ((const uint8_t *) "\xe2\x82\xac", 2, &code_point), 0);
    assert_int_equal (zmesh_json_utf8_next ((const uint8_t *) "x", 0, &code_point), 0);
}

//  Nesting deeper than ZMESH_JSON_DEPTH_MAX is cut to null, never a stack overflow.
static void
test_json_depth_is_bounded (void **state)
{
    enum { DEPTH = ZMESH_JSON_DEPTH_MAX + 10 };
    msgpack_object objects [DEPTH];
    for (int i = 0; i < DEPTH; i++) {
        objects [i].type = MSGPACK_OBJECT_ARRAY;
        objects [i].via.array.size = i + 1 < DEPTH ? 1 : 0;
        objects [i].via.array.ptr = i + 1 < DEPTH ? &objects [i + 1] : NULL;
    }
    char *json = zmesh_json_string (&objects [0]);
    assert_non_null (json);
    size_t length = strlen (json);
    assert_int_equal (length, 2 * ZMESH_JSON_DEPTH_MAX + 4);
    assert_non_null (strstr (json, "[null]"));
    free (json);
}

//  ---------------------------------------------------------------------------------------------
//  The control actor

typedef struct {
    char dir [80];          //  the node's data directory
    zmesh_node_ctx_t *ctx;  //  hand-made, as zmesh_node.c makes it
    zactor_t *actor;        //  the control actor; the test plays the supervisor
    zsock_t *dealer;        //  the test plays zmeshctl
} s_fixture_t;

static void
s_remove_tree (const char *path)
{
    DIR *dir = opendir (path);
    if (dir) {
        struct dirent *entry;
        while ((entry = readdir (dir)))
            if (strcmp (entry->d_name, ".") && strcmp (entry->d_name, "..")) {
                char child [512];
                snprintf (child, sizeof child, "%s/%s", path, entry->d_name);
                s_remove_tree (child);
            }
        closedir (dir);
        rmdir (path);
    }
    else
        unlink (path);
}

static zmesh_node_ctx_t *
s_ctx_new (const char *dir)
{
    zmesh_node_ctx_t *ctx = (zmesh_node_ctx_t *) calloc (1, sizeof *ctx);
    assert_non_null (ctx);
    zmesh_config_t *config = zmesh_config_new ();
    assert_non_null (config);
    ctx->config = *config;
    zmesh_config_destroy (&config);
    snprintf (ctx->config.data, sizeof ctx->config.data, "%s", dir);
    snprintf (ctx->config.name, sizeof ctx->config.name, "unit");
    zmesh_ctx_init (ctx);
    assert_int_equal (zmesh_identity_generate (&ctx->identity), ZMESH_OK);
    char trusted [160];
    snprintf (trusted, sizeof trusted, "%s/trusted", dir);
    ctx->trust = zmesh_trust_new (trusted, false);
    assert_non_null (ctx->trust);
    ctx->generation = 42;
    ctx->started_mono_ms = zclock_mono ();
    zmesh_ctx_set_endpoint (ctx, "tcp://127.0.0.1:7001");
    return ctx;
}

static void
s_ctx_destroy (zmesh_node_ctx_t **ctx_p)
{
    zmesh_node_ctx_t *ctx = *ctx_p;
    zmesh_trust_destroy (&ctx->trust);
    zmesh_ctx_fini (ctx);
    free (ctx);
    *ctx_p = NULL;
}

//  Start the control actor as the supervisor does: the string after the signal is READY or
//  FAILED + reason. Returns the reason (caller frees) or NULL when READY.
static char *
s_start (s_fixture_t *fixture)
{
    fixture->actor = zactor_new (zmesh_control_actor, fixture->ctx);
    assert_non_null (fixture->actor);
    zsock_set_rcvtimeo (zactor_sock (fixture->actor), S_TIMEOUT_MS);
    char *status = zstr_recv (fixture->actor);
    assert_non_null (status);
    if (streq (status, "READY")) {
        zstr_free (&status);
        return NULL;
    }
    assert_string_equal (status, "FAILED");
    zstr_free (&status);
    char *reason = zstr_recv (fixture->actor);
    assert_non_null (reason);
    zactor_destroy (&fixture->actor);
    return reason;
}

static int
s_setup (void **state)
{
    s_fixture_t *fixture = (s_fixture_t *) calloc (1, sizeof *fixture);
    const char *base = getenv ("ZMESH_TEST_TMP");
    base = base && strlen (base) < 60 ? base : "/tmp";
    mkdir (base, 0700);
    snprintf (fixture->dir, sizeof fixture->dir, "%s/ctl-XXXXXX", base);
    assert_non_null (mkdtemp (fixture->dir));
    fixture->ctx = s_ctx_new (fixture->dir);
    *state = fixture;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fixture_t *fixture = (s_fixture_t *) *state;
    zsock_destroy (&fixture->dealer);
    zactor_destroy (&fixture->actor);
    s_ctx_destroy (&fixture->ctx);
    s_remove_tree (fixture->dir);
    free (fixture);
    return 0;
}

//  Start the actor and connect a DEALER to it.
static s_fixture_t *
s_serve (void **state)
{
    s_fixture_t *fixture = (s_fixture_t *) *state;
    char *reason = s_start (fixture);
    assert_null (reason);
    fixture->dealer = zsock_new (ZMQ_DEALER);
    assert_non_null (fixture->dealer);
    zsock_set_rcvtimeo (fixture->dealer, S_TIMEOUT_MS);
    zsock_set_linger (fixture->dealer, 0);
    assert_int_equal (zsock_connect (fixture->dealer, "ipc://%s/control.sock", fixture->dir), 0);
    return fixture;
}

//  Send a request and return its answer: "ok JSON" or "error MESSAGE" (caller frees).
static char *
s_ask_msg (s_fixture_t *fixture, zmsg_t *request)
{
    assert_int_equal (zmsg_send (&request, fixture->dealer), 0);
    zmsg_t *reply = zmsg_recv (fixture->dealer);
    assert_non_null (reply);
    assert_int_equal (zmsg_size (reply), 2);
    char *status = zmsg_popstr (reply);
    zframe_t *payload = zmsg_pop (reply);
    char *answer = NULL;
    if (streq (status, "ok")) {
        msgpack_unpacked unpacked;
        msgpack_unpacked_init (&unpacked);
        size_t offset = 0;
        assert_int_equal (msgpack_unpack_next (&unpacked, (const char *) zframe_data (payload),
                                               zframe_size (payload), &offset),
                          MSGPACK_UNPACK_SUCCESS);
        assert_int_equal (offset, zframe_size (payload));
        char *json = zmesh_json_string (&unpacked.data);
        answer = zsys_sprintf ("ok %s", json);
        free (json);
        msgpack_unpacked_destroy (&unpacked);
    }
    else {
        assert_string_equal (status, "error");
        char *message = zframe_strdup (payload);
        answer = zsys_sprintf ("error %s", message);
        free (message);
    }
    zstr_free (&status);
    zframe_destroy (&payload);
    zmsg_destroy (&reply);
    return answer;
}

//  Strings as frames, NULL-terminated.
static char *
s_ask (s_fixture_t *fixture, const char *first, ...)
{
    zmsg_t *request = zmsg_new ();
    va_list args;
    va_start (args, first);
    for (const char *frame = first; frame; frame = va_arg (args, const char *))
        zmsg_addstr (request, frame);
    va_end (args);
    return s_ask_msg (fixture, request);
}

#define ASSERT_CONTAINS(text, part)                                  \
    do {                                                             \
        if (!strstr ((text), (part)))                                \
            fail_msg ("'%s' does not contain '%s'", (text), (part)); \
    } while (0)

//  What the actor sent the supervisor, frames joined by spaces (caller frees).
static char *
s_to_supervisor (s_fixture_t *fixture)
{
    zmsg_t *msg = zmsg_recv (fixture->actor);
    assert_non_null (msg);
    char *joined = strdup ("");
    for (char *frame = zmsg_popstr (msg); frame; frame = zmsg_popstr (msg)) {
        char *longer = zsys_sprintf ("%s%s%s", joined, joined [0] ? " " : "", frame);
        free (joined);
        zstr_free (&frame);
        joined = longer;
    }
    zmsg_destroy (&msg);
    return joined;
}

static void
test_control_status (void **state)
{
    s_fixture_t *fixture = s_serve (state);
    struct stat info;
    char path [160];
    snprintf (path, sizeof path, "%s/control.sock", fixture->dir);
    assert_int_equal (stat (path, &info), 0);
    assert_true (S_ISSOCK (info.st_mode));
    assert_int_equal (info.st_mode & 0777, 0600);

    char *answer = s_ask (fixture, "status", NULL);
    char expected [256];
    snprintf (expected, sizeof expected, "ok {\"id\":\"%s\",\"name\":\"unit\",\"version\":\"%s\"",
              fixture->ctx->identity.id_hex, ZMESH_VERSION);
    ASSERT_CONTAINS (answer, expected);
    ASSERT_CONTAINS (answer, "\"endpoint\":\"tcp://127.0.0.1:7001\"");
    snprintf (expected, sizeof expected, "\"contact\":\"tcp://127.0.0.1:7001#%s\"",
              fixture->ctx->identity.key_hex);
    ASSERT_CONTAINS (answer, expected);
    ASSERT_CONTAINS (answer, "\"generation\":42");
    ASSERT_CONTAINS (answer, "\"trust_mode\":\"trusted\"");
    snprintf (expected, sizeof expected, "\"pid\":%d", (int) getpid ());
    ASSERT_CONTAINS (answer, expected);
    //  No snapshot published yet: the node counts itself.
    ASSERT_CONTAINS (answer, "\"actors\":[],\"members_alive\":1}");
    free (answer);

    zmesh_ctx_set_actor (fixture->ctx, "gossip", "running", 0);
    zmesh_ctx_set_actor (fixture->ctx, "control", "running", 2);
    answer = s_ask (fixture, "status", NULL);
    ASSERT_CONTAINS (answer,
                     "\"actors\":[{\"name\":\"gossip\",\"state\":\"running\",\"restarts\":0},"
                     "{\"name\":\"control\",\"state\":\"running\",\"restarts\":2}]");
    free (answer);
}

static void
test_control_members_and_keys (void **state)
{
    s_fixture_t *fixture = s_serve (state);
    char *answer = s_ask (fixture, "members", NULL);
    ASSERT_CONTAINS (answer, "\"name\":\"unit\"");
    ASSERT_CONTAINS (answer, "\"state\":\"alive\",\"self\":true,\"generation\":42,\"incarnation\":"
                             "0,\"view\":\"\",\"silent_ms\":0}]");
    free (answer);

    zmesh_member_t members [3] = {
        {.name = "unit", .state = "alive", .self = true, .generation = 42},
        {.name = "b\x1b[2J",
         .state = "suspect",
         .silent_ms = 1500,
         .incarnation = 3,
         .view = "active"},
        {.name = "c", .state = "dead", .silent_ms = 9000, .generation = 7},
    };
    assert_int_equal (zmesh_ctx_publish_members (fixture->ctx, members, 3), ZMESH_OK);
    answer = s_ask (fixture, "members", NULL);
    ASSERT_CONTAINS (answer, "\"name\":\"b\\u001b[2J\"");
    ASSERT_CONTAINS (answer,
                     "\"state\":\"suspect\",\"self\":false,\"generation\":0,\"incarnation\":3,"
                     "\"view\":\"active\",\"silent_ms\":1500}");
    free (answer);
    answer = s_ask (fixture, "status", NULL);
    ASSERT_CONTAINS (answer, "\"members_alive\":1}");
    free (answer);

    answer = s_ask (fixture, "keys", NULL);
    char expected [256];
    snprintf (expected, sizeof expected, "ok {\"id\":\"%s\",\"public_key\":\"%s\"",
              fixture->ctx->identity.id_hex, fixture->ctx->identity.key_hex);
    ASSERT_CONTAINS (answer, expected);
    ASSERT_CONTAINS (answer, "\"trusted_count\":0}");
    free (answer);
}

static void
test_control_join (void **state)
{
    s_fixture_t *fixture = s_serve (state);
    zmesh_identity_t other;
    assert_int_equal (zmesh_identity_generate (&other), ZMESH_OK);
    char contact [ZMESH_CONTACT_MAX];
    snprintf (contact, sizeof contact, "tcp://127.0.0.1:7002#%s", other.key_hex);

    char *answer = s_ask (fixture, "join", contact, NULL);
    char expected [ZMESH_CONTACT_MAX + 64];
    snprintf (expected, sizeof expected, "ok {\"joining\":\"%s\"}", contact);
    assert_string_equal (answer, expected);
    free (answer);
    char *routed = s_to_supervisor (fixture);
    snprintf (expected, sizeof expected, "ROUTE gossip JOIN %s", contact);
    assert_string_equal (routed, expected);
    free (routed);

    answer = s_ask (fixture, "join", "tcp://127.0.0.1:7002", NULL);
    ASSERT_CONTAINS (answer, "error not a contact: 'tcp://127.0.0.1:7002'");
    free (answer);
    answer = s_ask (fixture, "join", "tcp://127.0.0.1:7002#00ff", NULL);
    ASSERT_CONTAINS (answer, "error not a contact");
    free (answer);
    snprintf (contact, sizeof contact, "tcp://127.0.0.1:7002#%s", fixture->ctx->identity.key_hex);
    answer = s_ask (fixture, "join", contact, NULL);
    assert_string_equal (answer, "error that is this node's own contact");
    free (answer);
}

static void
test_control_trust (void **state)
{
    s_fixture_t *fixture = s_serve (state);
    zmesh_identity_t other;
    assert_int_equal (zmesh_identity_generate (&other), ZMESH_OK);
    char upper [ZMESH_KEY_HEX_SIZE];
    for (size_t i = 0; i < sizeof upper; i++)
        upper [i] = (char) toupper ((unsigned char) other.key_hex [i]);

    char *answer = s_ask (fixture, "trust", "add", upper, NULL);
    char expected [256];
    snprintf (expected, sizeof expected, "ok {\"trusted\":\"%s\",\"id\":\"%s\"}", other.key_hex,
              other.id_hex);
    assert_string_equal (answer, expected);
    free (answer);
    char *routed = s_to_supervisor (fixture);
    assert_string_equal (routed, "ROUTE gossip TRUST");
    free (routed);
    assert_int_equal (zmesh_trust_count (fixture->ctx->trust), 1);
    assert_true (zmesh_trust_allows_curve (fixture->ctx->trust, other.pub.curve_public));
    char path [256];
    snprintf (path, sizeof path, "%s/trusted/%s.key", fixture->dir, other.id_hex);
    assert_int_equal (access (path, F_OK), 0);

    answer = s_ask (fixture, "trust", "remove", other.key_hex, NULL);
    assert_string_equal (answer,
                         "error unknown trust subcommand 'remove' (expected: trust add KEY)");
    free (answer);
    answer = s_ask (fixture, "trust", "add", "abc", NULL);
    assert_string_equal (answer, "error not a public key: 'abc' (expected 64 hex digits)");
    free (answer);
    char bad [65];
    memset (bad, 'f', 64);
    bad [64] = 0;
    answer = s_ask (fixture, "trust", "add", bad, NULL);
    ASSERT_CONTAINS (answer, "error not a valid Ed25519 public key");
    free (answer);
    assert_int_equal (zmesh_trust_count (fixture->ctx->trust), 1);
}

static void
test_control_metrics (void **state)
{
    s_fixture_t *fixture = s_serve (state);
    zmesh_metrics_add (&fixture->ctx->metrics, ZMESH_M_DROP_VERSION, 5);
    zmesh_member_t members [2] = {
        {.name = "unit", .state = "alive", .self = true},
        {.name = "gone", .state = "dead"},
    };
    assert_int_equal (zmesh_ctx_publish_members (fixture->ctx, members, 2), ZMESH_OK);

    char *answer = s_ask (fixture, "metrics", NULL);
    ASSERT_CONTAINS (answer,
                     "{\"name\":\"zmesh_dropped_total\",\"labels\":\"reason=\\\"version\\\"\","
                     "\"help\":\"Inputs dropped\",\"type\":\"counter\",\"value\":5}");
    //  This request is counted before it is answered.
    ASSERT_CONTAINS (answer, "\"name\":\"zmesh_control_requests_total\",\"labels\":\"\","
                             "\"help\":\"zmeshctl requests served\",\"type\":\"counter\","
                             "\"value\":1}");
    ASSERT_CONTAINS (answer, "{\"name\":\"zmesh_members\",\"labels\":\"state=\\\"alive\\\"\","
                             "\"help\":\"Members known to this node, by state\",\"type\":\"gauge\","
                             "\"value\":1}");
    ASSERT_CONTAINS (answer, "\"labels\":\"state=\\\"dead\\\"\",\"help\":\"Members known to this "
                             "node, by state\",\"type\":\"gauge\",\"value\":1}");
    ASSERT_CONTAINS (answer, "\"labels\":\"state=\\\"left\\\"\",\"help\":\"Members known to this "
                             "node, by state\",\"type\":\"gauge\",\"value\":0}");
    ASSERT_CONTAINS (answer, "{\"name\":\"zmesh_uptime_seconds\",\"labels\":\"\"");
    //  One object per counter, four member gauges and the uptime.
    size_t objects = 0;
    for (const char *at = answer; (at = strstr (at, "\"name\":")); at++)
        objects++;
    assert_int_equal (objects, ZMESH_M_COUNT + 5);
    free (answer);
}

//  Bad requests get an error answer and are counted; the actor keeps serving.
static void
test_control_bad_requests (void **state)
{
    s_fixture_t *fixture = s_serve (state);
    char *answer = s_ask (fixture, "reboot", NULL);
    assert_string_equal (answer, "error unknown command 'reboot' (commands: status, members, keys, "
                                 "join, trust, metrics, watch, topology, submit, tasks, state-set, "
                                 "state-get, state-del, state-keys)");
    free (answer);
    answer = s_ask (fixture, "", NULL);
    ASSERT_CONTAINS (answer, "error unknown command ''");
    free (answer);
    answer = s_ask (fixture, "\x1b[2J", NULL);
    ASSERT_CONTAINS (answer, "error unknown command '?[2J'");
    free (answer);
    answer = s_ask (fixture, "status", "extra", NULL);
    assert_string_equal (answer, "error 'status' takes 0 arguments (status), not 1");
    free (answer);
    answer = s_ask (fixture, "join", NULL);
    assert_string_equal (answer, "error 'join' takes 1 argument (join CONTACT), not 0");
    free (answer);
    answer = s_ask (fixture, "trust", "add", NULL);
    assert_string_equal (answer, "error 'trust' takes 2 arguments (trust add KEY), not 1");
    free (answer);
    answer = s_ask (fixture, "status", "1", "2", "3", "4", "5", "6", "7", "8", NULL);
    assert_string_equal (answer, "error request has 9 frames; at most 8");
    free (answer);

    zmsg_t *request = zmsg_new ();
    zmsg_addmem (request, "status\0x", 8);
    answer = s_ask_msg (fixture, request);
    assert_string_equal (answer, "error frame 1 is not text (holds a NUL byte)");
    free (answer);
    char big [4000];
    memset (big, 'a', sizeof big - 1);
    big [sizeof big - 1] = 0;
    answer = s_ask (fixture, "join", big, NULL);
    ASSERT_CONTAINS (answer, "error frame 2 is 3999 bytes; at most");
    free (answer);
    answer = s_ask (fixture, "fault", "mood", NULL);
    assert_string_equal (
        answer,
        "error no actor 'mood' to fault (gossip, health, beacon, control, worker or balancer)");
    free (answer);

    assert_int_equal (zmesh_metrics_get (&fixture->ctx->metrics, ZMESH_M_CONTROL_REQUESTS), 10);
    assert_int_equal (zmesh_metrics_get (&fixture->ctx->metrics, ZMESH_M_CONTROL_ERRORS), 10);
    answer = s_ask (fixture, "keys", NULL);
    ASSERT_CONTAINS (answer, "ok {");
    free (answer);
    assert_int_equal (zmesh_metrics_get (&fixture->ctx->metrics, ZMESH_M_CONTROL_ERRORS), 10);
}

//  fault: the answer first, then the ROUTE; FAULT on the pipe ends the actor like a crash, and
//  the socket file goes with it.
static void
test_control_fault (void **state)
{
    s_fixture_t *fixture = s_serve (state);
    snprintf (fixture->ctx->config.actors, sizeof fixture->ctx->config.actors, "gossip control");
    char *answer = s_ask (fixture, "fault", "beacon", NULL);
    assert_string_equal (answer, "error actor beacon does not run on this node (node/actors)");
    free (answer);
    answer = s_ask (fixture, "fault", "control", NULL);
    assert_string_equal (answer, "ok {\"fault\":\"control\"}");
    free (answer);
    char *routed = s_to_supervisor (fixture);
    assert_string_equal (routed, "ROUTE control FAULT");
    free (routed);

    zstr_send (fixture->actor, "FAULT");
    zsock_set_rcvtimeo (zactor_sock (fixture->actor), S_TIMEOUT_MS);
    assert_int_equal (zsock_wait (fixture->actor), 0);  //  the death signal of a CZMQ actor
    //  zactor_destroy would wait for that signal again: let it give up at once.
    zsock_set_rcvtimeo (zactor_sock (fixture->actor), 0);
    char path [160];
    snprintf (path, sizeof path, "%s/control.sock", fixture->dir);
    assert_int_not_equal (access (path, F_OK), 0);
}

//  A socket file left by a dead node is replaced; one a live process serves is refused.
static void
test_control_socket_file (void **state)
{
    s_fixture_t *fixture = (s_fixture_t *) *state;
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    snprintf (address.sun_path, sizeof address.sun_path, "%s/control.sock", fixture->dir);
    int fd = socket (AF_UNIX, SOCK_STREAM, 0);
    assert_true (fd >= 0);
    assert_int_equal (bind (fd, (struct sockaddr *) &address, sizeof address), 0);
    assert_int_equal (listen (fd, 4), 0);
    char *reason = s_start (fixture);
    assert_non_null (reason);
    ASSERT_CONTAINS (reason, "another process serves");
    free (reason);
    assert_int_equal (access (address.sun_path, F_OK), 0);  //  left alone

    close (fd);  //  now stale: nobody listens
    reason = s_start (fixture);
    assert_null (reason);
    zactor_destroy (&fixture->actor);
    assert_int_not_equal (access (address.sun_path, F_OK), 0);  //  $TERM removes it

    assert_int_equal (mkdir (address.sun_path, 0700), 0);  //  not a socket: not ours to remove
    reason = s_start (fixture);
    assert_non_null (reason);
    ASSERT_CONTAINS (reason, "exists and is not a socket");
    free (reason);
    rmdir (address.sun_path);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_json_scalars),
        cmocka_unit_test (test_json_maps_and_arrays),
        cmocka_unit_test (test_json_escapes_and_control_characters),
        cmocka_unit_test (test_json_utf8_passthrough),
        cmocka_unit_test (test_json_malformed_utf8_is_replaced),
        cmocka_unit_test (test_json_depth_is_bounded),
        cmocka_unit_test_setup_teardown (test_control_status, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_control_members_and_keys, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_control_join, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_control_trust, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_control_metrics, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_control_bad_requests, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_control_fault, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_control_socket_file, s_setup, s_teardown),
    };
    zsys_init ();
    return cmocka_run_group_tests (tests, NULL, NULL);
}
