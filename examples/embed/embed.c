/*  embed.c: a service that embeds a zmesh node and prints membership events.

    Build against an installed zmesh:  cc embed.c $(pkg-config --cflags --libs zmesh)
    Run:  zmesh_embed DATA_DIR [SEED_CONTACT] [SECONDS]
    It runs a node in this process (open trust, loopback, no beacon), joins SEED_CONTACT if
    given, puts role=embedded in its node state (which reaches every node), prints its
    contact, then one line per event (membership, and state changes anywhere), for SECONDS
    (default 10), then the member list with each member's "color" key if it has one, and
    stops (announcing LEAVE).
*/
#include <zmesh.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

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
        || zmesh_config_set (config, "node/actors", "gossip control", err, sizeof err)
        || zmesh_config_set (config, "trust/mode", "open", err, sizeof err)
        || (argc > 2 && zmesh_config_add_seed (config, argv [2], err, sizeof err)))
        return s_fail ("config", err);
    zmesh_node_t *node = zmesh_node_new (config, err, sizeof err);
    zmesh_config_destroy (&config);
    if (!node)
        return s_fail ("node", err);
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
