/*  test_node_handler.c: registering task handlers with the C API (zmesh_node_handler).

    Names follow the wire's rule (1..63 bytes of printable ASCII, space included): what the
    wire would carry is taken, anything else refused. A built-in may be replaced once; a name
    registered already is refused. A real node (its data directory in ZMESH_TEST_TMP), never
    started.
*/
#include "zmesh.h"
#include <czmq.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

static char s_dir [256];

static int
s_upper (zmesh_task_t *task, void *arg)
{
    (void) task;
    (void) arg;
    return 0;
}

static zmesh_node_t *
s_node (void)
{
    const char *tmp = getenv ("ZMESH_TEST_TMP") ? getenv ("ZMESH_TEST_TMP") : "/tmp";
    zsys_dir_create ("%s", tmp);
    snprintf (s_dir, sizeof s_dir, "%s/test_node_handler_%d_XXXXXX", tmp, (int) getpid ());
    assert_non_null (mkdtemp (s_dir));
    char err [256];
    zmesh_config_t *config = zmesh_config_new ();
    assert_int_equal (zmesh_config_set (config, "node/data", s_dir, err, sizeof err), 0);
    assert_int_equal (zmesh_config_set (config, "node/bind", "tcp://127.0.0.1:*", err, sizeof err),
                      0);
    assert_int_equal (zmesh_config_set (config, "node/actors", "gossip worker", err, sizeof err),
                      0);
    assert_int_equal (zmesh_config_set (config, "trust/mode", "open", err, sizeof err), 0);
    zmesh_node_t *node = zmesh_node_new (config, err, sizeof err);
    zmesh_config_destroy (&config);
    if (!node)
        fail_msg ("zmesh_node_new: %s", err);
    return node;
}

static void
s_node_destroy (zmesh_node_t **node)
{
    zmesh_node_destroy (node);
    zsys_dir_delete ("%s", s_dir);  //  best effort; the test directory is scratch
}

static void
test_names (void **state)
{
    (void) state;
    zmesh_node_t *node = s_node ();
    char longest [64], too_long [65];
    memset (longest, 'h', 63);
    longest [63] = 0;
    memset (too_long, 'h', 64);
    too_long [64] = 0;
    assert_int_equal (zmesh_node_handler (node, "image resize", s_upper, NULL), ZMESH_OK);
    assert_int_equal (zmesh_node_handler (node, "x", s_upper, NULL), ZMESH_OK);
    assert_int_equal (zmesh_node_handler (node, longest, s_upper, NULL), ZMESH_OK);
    assert_int_equal (zmesh_node_handler (node, "~!", s_upper, NULL), ZMESH_OK);
    const char *bad [] = {"", too_long, "tab\there", "nl\n", "del\x7f", "high\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++)
        assert_int_equal (zmesh_node_handler (node, bad [i], s_upper, NULL), ZMESH_EINVAL);
    assert_int_equal (zmesh_node_handler (node, NULL, s_upper, NULL), ZMESH_EINVAL);
    assert_int_equal (zmesh_node_handler (node, "nofn", NULL, NULL), ZMESH_EINVAL);
    assert_int_equal (zmesh_node_handler (NULL, "x", s_upper, NULL), ZMESH_EINVAL);
    s_node_destroy (&node);
}

static void
test_twice (void **state)
{
    (void) state;
    zmesh_node_t *node = s_node ();
    assert_int_equal (zmesh_node_handler (node, "upper", s_upper, NULL), ZMESH_OK);
    assert_int_equal (zmesh_node_handler (node, "upper", s_upper, NULL), ZMESH_EINVAL);
    //  A built-in is replaced once; then its name is registered like any other.
    assert_int_equal (zmesh_node_handler (node, "echo", s_upper, NULL), ZMESH_OK);
    assert_int_equal (zmesh_node_handler (node, "echo", s_upper, NULL), ZMESH_EINVAL);
    assert_int_equal (zmesh_node_handler (node, "sleep", s_upper, NULL), ZMESH_OK);
    s_node_destroy (&node);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_names),
        cmocka_unit_test (test_twice),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    zsys_shutdown ();
    return rc;
}
