/*  test_config.c: node configuration, as a C developer and an operator meet it.

    Every key goes through one table: set, get, load from ZPL, validate. Bad values are
    refused with ZMESH_ECONFIG and a message naming the key (and, from a file, the line);
    nothing a user writes reaches an assertion.
*/
#include "zmesh_config.h"
#include <czmq.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

static char s_err [1024];

//  Write text to a fresh file in the test's scratch directory; returns its path (static).
static const char *
s_file (const char *text)
{
    static char path [256];
    static int count;
    const char *dir = getenv ("ZMESH_TEST_TMP") ? getenv ("ZMESH_TEST_TMP") : "/tmp";
    zsys_dir_create ("%s", dir);
    snprintf (path, sizeof path, "%s/test_config_%d_%d.cfg", dir, (int) getpid (), count++);
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    fputs (text, file);
    fclose (file);
    return path;
}

//  Defaults are what docs/config.md says; get returns them as text.
static void
test_defaults (void **state)
{
    zmesh_config_t *config = zmesh_config_new ();
    char *value = zmesh_config_get (config, "gossip/suspicion_max_ms");
    assert_string_equal (value, "6000");
    free (value);
    value = zmesh_config_get (config, "node/bind");
    assert_string_equal (value, "tcp://*:*");
    free (value);
    value = zmesh_config_get (config, "trust/mode");
    assert_string_equal (value, "trusted");
    free (value);
    assert_null (zmesh_config_get (config, "gossip/nonsense"));
    //  node/data has no default: a config without it is not valid.
    assert_int_equal (zmesh_config_validate (config, s_err, sizeof s_err), ZMESH_ECONFIG);
    assert_non_null (strstr (s_err, "node/data"));
    zmesh_config_destroy (&config);
    assert_null (config);
}

//  Every kind of bad value is refused, naming the key; the old value stays.
static void
test_set_refuses_bad_values (void **state)
{
    zmesh_config_t *config = zmesh_config_new ();
    struct {
        const char *key, *value;
    } bad [] = {{"gossip/probe_interval_ms", "soon"},
                {"gossip/probe_interval_ms", "10"},
                {"gossip/probe_interval_ms", "99999999"},
                {"gossip/probe_interval_ms", ""},
                {"beacon/port", "0"},
                {"beacon/enabled", "2"},
                {"trust/mode", "paranoid"},
                {"node/bind", "udp://x:1"},
                {"node/bind", "tcp://h:99999"},
                {"node/advertise", "tcp://*:7"},
                {"node/actors", "gossip teleport"},
                {"node/name", "a\033[2Jb"},
                {"nonsense/key", "1"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        s_err [0] = 0;
        assert_int_equal (
            zmesh_config_set (config, bad [i].key, bad [i].value, s_err, sizeof s_err),
            ZMESH_ECONFIG);
        assert_non_null (strstr (s_err, bad [i].key));
    }
    char *value = zmesh_config_get (config, "gossip/probe_interval_ms");
    assert_string_equal (value, "1000");
    free (value);
    //  Good ones are taken.
    assert_int_equal (
        zmesh_config_set (config, "gossip/probe_interval_ms", "200", s_err, sizeof s_err), 0);
    assert_int_equal (
        zmesh_config_set (config, "node/bind", "tcp://[::1]:7000", s_err, sizeof s_err), 0);
    zmesh_config_destroy (&config);
}

//  Seeds and trusted keys are checked as they are added; both are bounded.
static void
test_seeds_and_keys (void **state)
{
    zmesh_config_t *config = zmesh_config_new ();
    assert_int_equal (zmesh_config_add_seed (config, "tcp://127.0.0.1:7000", s_err, sizeof s_err),
                      ZMESH_ECONFIG);  //  no key
    assert_non_null (strstr (s_err, "PUBLICKEY"));
    uint8_t pk [32], sk [64];
    crypto_sign_keypair (pk, sk);
    char hex [65], contact [400];
    for (int i = 0; i < 32; i++)
        sprintf (hex + 2 * i, "%02x", pk [i]);
    snprintf (contact, sizeof contact, "tcp://127.0.0.1:7000#%s", hex);
    for (int i = 0; i < ZMESH_CONFIG_SEEDS_MAX; i++)
        assert_int_equal (zmesh_config_add_seed (config, contact, s_err, sizeof s_err), 0);
    assert_int_equal (zmesh_config_add_seed (config, contact, s_err, sizeof s_err), ZMESH_ELIMIT);
    assert_int_equal (zmesh_config_add_trusted (config, hex, s_err, sizeof s_err), 0);
    assert_int_equal (zmesh_config_add_trusted (config, "abcd", s_err, sizeof s_err),
                      ZMESH_ECONFIG);
    //  Through the generic setter too.
    assert_int_equal (zmesh_config_set (config, "trust/keys/alpha", hex, s_err, sizeof s_err), 0);
    assert_int_equal (config->trusted_count, 2);
    zmesh_config_destroy (&config);
}

//  A ZPL file: values apply; errors name file, line and key.
static void
test_load (void **state)
{
    zmesh_config_t *config = zmesh_config_new ();
    const char *good = s_file ("#   a node\n"
                               "node\n"
                               "    name = alpha\n"
                               "    data = /var/lib/zmesh\n"
                               "gossip\n"
                               "    probe_interval_ms = 1500\n");
    assert_int_equal (zmesh_config_load (config, good, s_err, sizeof s_err), 0);
    assert_string_equal (config->name, "alpha");
    assert_int_equal (config->probe_interval_ms, 1500);
    assert_int_equal (zmesh_config_validate (config, s_err, sizeof s_err), 0);
    unlink (good);

    const char *bad = s_file ("node\n    name = alpha\ngossip\n    probe_interval_ms = fast\n");
    assert_int_equal (zmesh_config_load (config, bad, s_err, sizeof s_err), ZMESH_ECONFIG);
    assert_non_null (strstr (s_err, ":4: gossip/probe_interval_ms"));
    unlink (bad);

    const char *unknown = s_file ("beacon\n    colour = blue\n");
    assert_int_equal (zmesh_config_load (config, unknown, s_err, sizeof s_err), ZMESH_ECONFIG);
    assert_non_null (strstr (s_err, ":2: unknown key 'beacon/colour'"));
    unlink (unknown);

    const char *top = s_file ("name = alpha\n");
    assert_int_equal (zmesh_config_load (config, top, s_err, sizeof s_err), ZMESH_ECONFIG);
    assert_non_null (strstr (s_err, ":1: 'name' is not inside a section"));
    unlink (top);

    assert_int_equal (zmesh_config_load (config, "/nonexistent/zmesh.cfg", s_err, sizeof s_err),
                      ZMESH_ECONFIG);
    assert_non_null (strstr (s_err, "cannot read"));
    zmesh_config_destroy (&config);
}

//  Checks across keys: timeouts in order, gossip present, room for the control socket.
static void
test_validate (void **state)
{
    zmesh_config_t *config = zmesh_config_new ();
    assert_int_equal (zmesh_config_set (config, "node/data", "/tmp/x", s_err, sizeof s_err), 0);
    assert_int_equal (zmesh_config_validate (config, s_err, sizeof s_err), 0);

    zmesh_config_set (config, "gossip/suspicion_min_ms", "7000", s_err, sizeof s_err);
    assert_int_equal (zmesh_config_validate (config, s_err, sizeof s_err), ZMESH_ECONFIG);
    assert_non_null (strstr (s_err, "gossip/suspicion_max_ms"));
    zmesh_config_set (config, "gossip/suspicion_min_ms", "4200", s_err, sizeof s_err);

    zmesh_config_set (config, "gossip/probe_interval_ms", "200", s_err, sizeof s_err);
    assert_int_equal (zmesh_config_validate (config, s_err, sizeof s_err), ZMESH_ECONFIG);
    assert_non_null (strstr (s_err, "gossip/probe_interval_ms"));
    zmesh_config_set (config, "gossip/probe_interval_ms", "500", s_err, sizeof s_err);

    zmesh_config_set (config, "node/actors", "beacon control", s_err, sizeof s_err);
    assert_int_equal (zmesh_config_validate (config, s_err, sizeof s_err), ZMESH_ECONFIG);
    assert_non_null (strstr (s_err, "gossip"));
    zmesh_config_set (config, "node/actors", "gossip control", s_err, sizeof s_err);
    assert_true (zmesh_config_has_actor (config, "control"));
    assert_false (zmesh_config_has_actor (config, "beacon"));

    char longdir [200];
    memset (longdir, 'd', sizeof longdir - 1);
    longdir [0] = '/';
    longdir [sizeof longdir - 1] = 0;
    zmesh_config_set (config, "node/data", longdir, s_err, sizeof s_err);
    assert_int_equal (zmesh_config_validate (config, s_err, sizeof s_err), ZMESH_ECONFIG);
    assert_non_null (strstr (s_err, "control socket"));
    zmesh_config_destroy (&config);
}

int
main (void)
{
    if (sodium_init () < 0)
        return 1;
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_defaults),       cmocka_unit_test (test_set_refuses_bad_values),
        cmocka_unit_test (test_seeds_and_keys), cmocka_unit_test (test_load),
        cmocka_unit_test (test_validate),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
