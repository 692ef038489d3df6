/*  embed.c: a service that embeds a zmesh node and prints membership events.

    Build against an installed zmesh:  cc embed.c $(pkg-config --cflags --libs zmesh)
    Run:  zmesh_embed DATA_DIR [SEED_CONTACT] [SECONDS]
    It runs a node in this process (open trust, loopback, no beacon), joins SEED_CONTACT if
    given, puts role=embedded in its node state (which reaches every node), prints its
    contact, then one line per event (membership, and state changes anywhere), for SECONDS
    (default 10), then the member list with each member's "color" key if it has one, and
    stops (announcing LEAVE).
    Work: it registers a task handler, "upper" (the payload in capitals), which the mesh
    learns from its gossip state, so any node can send it "upper" tasks; and it submits one
    itself once it runs, printing "task upper OUTPUT on NODE".
*/
#include <zmesh.h>
#include <stdio.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  A task handler: runs on the node's executor threads, so it touches nothing shared.
static int
s_upper (zmesh_task_t *task, void *arg)
{
    (void) arg;
    size_t size;
    const char *text = (const char *) zmesh_task_payload (task, &size);
    char *out = (char *) malloc (size ? size : 1);
    if (!out) {
        zmesh_task_error (task, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < size; i++)
        out [i] = (char) toupper ((unsigned char) text [i]);
    int rc = zmesh_task_output (task, out, size);
    free (out);
    return rc;
}

static int
s_fail (const char *what, const char *err)
{
    fprintf (stderr, "embed: %s: %s\n", what, err);
    return 1;
}

int
main (int argc, char **argv)
{
    if (argc < 2) {
        fprintf (stderr, "usage: zmesh_embed DATA_DIR [SEED_CONTACT] [SECONDS]\n");
        return 2;
    }
    char err [512];
    zmesh_config_t *config = zmesh_config_new ();
    if (zmesh_config_set (config, "node/data", argv [1], err, sizeof err)
        || zmesh_config_set (config, "node/name", "embedded", err, sizeof err)
        || zmesh_config_set (config, "node/bind", "tcp://127.0.0.1:*", err, sizeof err)
        || zmesh_config_set (config, "node/actors", "gossip worker balancer control", err,
                             sizeof err)
        || zmesh_config_set (config, "trust/mode", "open", err, sizeof err)
        || (argc > 2 && zmesh_config_add_seed (config, argv [2], err, sizeof err)))
        return s_fail ("config", err);
    zmesh_node_t *node = zmesh_node_new (config, err, sizeof err);
    zmesh_config_destroy (&config);
    if (!node)
        return s_fail ("node", err);
    if (zmesh_node_handler (node, "upper", s_upper, NULL) != ZMESH_OK)
        return s_fail ("handler", "cannot register 'upper'");
    if (zmesh_node_start (node, err, sizeof err)) {
        zmesh_node_destroy (&node);
        return s_fail ("start", err);
    }
    if (zmesh_node_state_set (node, "role", "embedded", 8) != ZMESH_OK)
        fprintf (stderr, "embed: cannot set role\n");
    char *contact = zmesh_node_contact (node);
    printf ("contact %s\n", contact);
    fflush (stdout);
    free (contact);

    //  One task of our own: only this node offers "upper", so it runs here.
    zmesh_task_spec_t spec;
    zmesh_task_spec_init (&spec);
    spec.handler = "upper";
    spec.payload = "hello mesh";
    spec.payload_size = strlen ("hello mesh");
    zmesh_task_result_t *result = NULL;
    int submitted = zmesh_node_submit (node, &spec, &result, 10000);
    if (submitted == ZMESH_OK && result->success)
        printf ("task upper %.*s on %.12s\n", (int) result->output_size,
                (const char *) result->output, result->dispatched_to);
    else
        printf ("task upper failed: %s\n", submitted ? zmesh_strerror (submitted) : result->error);
    fflush (stdout);
    zmesh_task_result_destroy (&result);

    int seconds = argc > 3 ? atoi (argv [3]) : 10;
    time_t until = time (NULL) + seconds;
    while (time (NULL) < until) {
        zmesh_event_t event;
        if (zmesh_node_event_recv (node, &event, 200) != ZMESH_OK)
            continue;
        if (event.type == ZMESH_EVENT_STATE_SET)
            printf ("state %s %s = %.*s\n", event.name, event.key,
                    (int) (event.value_size < sizeof event.value ? event.value_size
                                                                 : sizeof event.value),
                    (const char *) event.value);
        else if (event.type == ZMESH_EVENT_STATE_DELETE || event.type == ZMESH_EVENT_STATE_DROP)
            printf ("state %s %s deleted\n", event.name, event.key);
        else
            printf ("event %s %s %s -> %s\n", event.name, event.id, event.from, event.to);
        fflush (stdout);
    }
    zmesh_member_t members [64];
    int count = zmesh_node_members (node, members, 64);
    for (int i = 0; i < count; i++) {
        char color [64];
        size_t size = 0;
        int rc =
            zmesh_node_state_get (node, members [i].id, "color", color, sizeof color - 1, &size);
        color [rc == ZMESH_OK && size < sizeof color ? size : 0] = 0;
        printf ("member %s %s %s%s%s%s\n", members [i].name, members [i].id, members [i].state,
                members [i].self ? " (self)" : "", color [0] ? " color=" : "", color);
    }
    zmesh_node_destroy (&node);
    return 0;
}
