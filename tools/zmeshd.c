/*  zmeshd: the zmesh node daemon.

    Runs one node in the foreground, logging to stderr, until SIGTERM or SIGINT; then it
    announces LEAVE to its peers and stops its actors in reverse order. Settings come from
    the defaults, then the config file (-c), then the flags, later ones winning.

    Exit status: 0 stopped on a signal; 1 the node could not start (bind, identity, actor);
    2 bad usage, flag value or configuration (the message names the flag or key and line).
*/
#include "zmesh.h"
#include <czmq.h>
#include <getopt.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

static volatile sig_atomic_t s_stop;
//  Self-pipe: the signal handler writes a byte, so that the main thread's wait, which has no
//  timeout, ends even when the signal lands between its check of s_stop and its poll.
static int s_wake [2] = {-1, -1};

static void
s_on_signal (int signum)
{
    (void) signum;
    int saved = errno;
    s_stop = 1;
    if (s_wake [1] >= 0 && write (s_wake [1], "x", 1) < 0) {
        //  Full (EAGAIN): a byte already waits, which is all the reader needs.
    }
    errno = saved;
}

//  Wait for events and log them until a stop signal, without a timeout: an idle node's main
//  thread sleeps until something happens. poll(2) watches the self-pipe and the event socket's
//  ZMQ_FD, which only signals that the socket's state may have changed (edge-triggered): so
//  the queue is drained, and ZMQ_EVENTS asked, before each sleep. Returns early, with a log
//  line, if poll fails, so that the daemon never spins on a dead descriptor.
static void
s_wait_for_stop (zmesh_node_t *node, bool verbose)
{
    void *socket = zmesh_node_event_socket (node);
    struct pollfd fds [] = {{zsock_fd (socket), POLLIN, 0}, {s_wake [0], POLLIN, 0}};
    while (!s_stop) {
        zmesh_event_t event;
        if (zmesh_node_event_recv (node, &event, 0) == 0) {
            if (verbose)
                zsys_debug ("event: %s %.12s %s -> %s", event.name, event.id, event.from, event.to);
            continue;
        }
        if (zsock_events (socket) & ZMQ_POLLIN)
            continue;  //  arrived since the recv; the descriptor will not say so again
        if (poll (fds, 2, -1) < 0 && errno != EINTR) {
            zsys_error ("waiting for events: %s; stopping", strerror (errno));
            return;
        }
    }
}

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: zmeshd --data DIR [-c FILE] [--name NAME] [--bind ENDPOINT]\n"
             "              [--advertise ENDPOINT] [--seed ENDPOINT#KEY]... [--open]\n"
             "              [--beacon-port N | --no-beacon] [--set KEY=VALUE]... [-v]\n"
             "       zmeshd --data DIR --init\n"
             "       zmeshd --config-help | --version\n"
             "\n"
             "  --data DIR          node state: identity, trusted keys, control socket\n"
             "  -c, --config FILE   ZPL config file (keys: zmeshd --config-help)\n"
             "  --name NAME         node name (default: host name)\n"
             "  --bind ENDPOINT     CURVE endpoint to listen on (default tcp://*:*)\n"
             "  --advertise EP      endpoint peers should use, if not the bound one\n"
             "  --seed CONTACT      node to join, tcp://HOST:PORT#PUBLICKEY (repeatable)\n"
             "  --open              trust any key (default: only DATA/trusted/ keys)\n"
             "  --beacon-port N     UDP port of LAN discovery beacons (default 5670)\n"
             "  --no-beacon         no LAN discovery (seeds and join only)\n"
             "  --set KEY=VALUE     any config key, e.g. --set gossip/probe_interval_ms=1000\n"
             "  -v, --verbose       log more\n"
             "  --init              create the identity in DIR if missing, print the public key,\n"
             "                      and exit (to exchange keys before the first start)\n"
             "\nexit status: 0 stopped by a signal, 1 failed to start, 2 bad usage or config\n");
}

static int
s_set (zmesh_config_t *config, const char *flag, const char *key, const char *value)
{
    char err [512];
    if (zmesh_config_set (config, key, value, err, sizeof err) == 0)
        return 0;
    fprintf (stderr, "zmeshd: %s: %s\n", flag, err);
    return -1;
}

//  Apply the command line to config, in two passes so that flags win over the file wherever
//  they stand: files_only loads -c FILE (however getopt spells it), the second pass the rest.
//  Returns 0, or 2 on a bad flag or file.
static int
s_apply_flags (
    zmesh_config_t *config, int argc, char **argv, bool files_only, bool *verbose, bool *init_only)
{
    static const struct option options [] = {{"data", required_argument, 0, 'd'},
                                             {"config", required_argument, 0, 'c'},
                                             {"name", required_argument, 0, 'n'},
                                             {"bind", required_argument, 0, 'b'},
                                             {"advertise", required_argument, 0, 'a'},
                                             {"seed", required_argument, 0, 's'},
                                             {"open", no_argument, 0, 'o'},
                                             {"beacon-port", required_argument, 0, 'p'},
                                             {"no-beacon", no_argument, 0, 'B'},
                                             {"set", required_argument, 0, 'S'},
                                             {"verbose", no_argument, 0, 'v'},
                                             {"init", no_argument, 0, 'I'},
                                             {0, 0, 0, 0}};
    char err [512];
    optind = 1;
    opterr = !files_only;  //  report bad flags once, in the second pass
    int opt;
    while ((opt = getopt_long (argc, argv, "c:v", options, NULL)) != -1) {
        int rc = 0;
        if (files_only) {
            if (opt == 'c' && zmesh_config_load (config, optarg, err, sizeof err)) {
                fprintf (stderr, "zmeshd: %s\n", err);
                return 2;
            }
            continue;
        }
        switch (opt) {
            case 'd':
                rc = s_set (config, "--data", "node/data", optarg);
                break;
            case 'c':
                break;  //  loaded in the first pass
            case 'I':
                *init_only = true;
                break;
            case 'n':
                rc = s_set (config, "--name", "node/name", optarg);
                break;
            case 'b':
                rc = s_set (config, "--bind", "node/bind", optarg);
                break;
            case 'a':
                rc = s_set (config, "--advertise", "node/advertise", optarg);
                break;
            case 's':
                if ((rc = zmesh_config_add_seed (config, optarg, err, sizeof err)) != 0)
                    fprintf (stderr, "zmeshd: --seed: %s\n", err);
                break;
            case 'o':
                rc = s_set (config, "--open", "trust/mode", "open");
                break;
            case 'p':
                rc = s_set (config, "--beacon-port", "beacon/port", optarg);
                break;
            case 'B':
                rc = s_set (config, "--no-beacon", "beacon/enabled", "0");
                break;
            case 'S': {
                char *eq = strchr (optarg, '=');
                if (!eq) {
                    fprintf (stderr, "zmeshd: --set: '%s' is not KEY=VALUE\n", optarg);
                    return 2;
                }
                *eq = 0;
                rc = s_set (config, "--set", optarg, eq + 1);
                *eq = '=';
                break;
            }
            case 'v':
                *verbose = true;
                rc = s_set (config, "-v", "log/verbose", "1");
                break;
            default:
                s_usage (stderr);
                return 2;
        }
        if (rc)
            return 2;
    }
    if (optind < argc) {
        fprintf (stderr, "zmeshd: unexpected argument '%s'\n", argv [optind]);
        s_usage (stderr);
        return 2;
    }
    return 0;
}

//  DATA/contact: how other nodes and scripts reach this one, while it runs.
static void
s_write_contact (const char *data, const char *contact)
{
    char path [1024], tmp [1100];
    snprintf (path, sizeof path, "%s/contact", data);
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    FILE *file = fopen (tmp, "w");
    bool ok = file && fprintf (file, "%s\n", contact) > 0;
    ok = file && fclose (file) == 0 && ok;
    if (!ok || rename (tmp, path) != 0) {
        zsys_warning ("cannot write %s", path);
        unlink (tmp);
    }
}

int
main (int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (streq (argv [i], "--help") || streq (argv [i], "-h")) {
            s_usage (stdout);
            return 0;
        }
        if (streq (argv [i], "--version")) {
            printf ("zmeshd %s\n", ZMESH_API_VERSION);
            return 0;
        }
        if (streq (argv [i], "--config-help")) {
            zmesh_config_print_reference (stdout);
            return 0;
        }
    }
    //  SIGTERM and SIGINT go to this thread alone: blocked here before any thread starts (the
    //  actors and libzmq's inherit the mask), unblocked below once the node runs, so that no
    //  actor's system call is interrupted; the handler wakes this thread through s_wake.
    sigset_t stop_signals;
    sigemptyset (&stop_signals);
    sigaddset (&stop_signals, SIGTERM);
    sigaddset (&stop_signals, SIGINT);
    pthread_sigmask (SIG_BLOCK, &stop_signals, NULL);
    //  Our own signal handling: CZMQ's would stop actor threads on SIGINT behind our back.
    zsys_handler_set (NULL);
    zsys_set_logstream (stderr);
    zsys_set_logident ("zmeshd");
    zsys_init ();
    if (pipe (s_wake) != 0) {
        fprintf (stderr, "zmeshd: cannot create a pipe: %s\n", strerror (errno));
        return 1;
    }
    for (int i = 0; i < 2; i++) {
        fcntl (s_wake [i], F_SETFD, FD_CLOEXEC);
        fcntl (s_wake [i], F_SETFL, O_NONBLOCK);  //  a handler never blocks on a full pipe
    }
    struct sigaction action = {.sa_handler = s_on_signal};
    sigemptyset (&action.sa_mask);
    sigaction (SIGTERM, &action, NULL);
    sigaction (SIGINT, &action, NULL);
    signal (SIGPIPE, SIG_IGN);

    zmesh_config_t *config = zmesh_config_new ();
    bool verbose = false, init_only = false;
    int rc = s_apply_flags (config, argc, argv, true, &verbose, &init_only);
    if (rc == 0)
        rc = s_apply_flags (config, argc, argv, false, &verbose, &init_only);
    if (rc) {
        zmesh_config_destroy (&config);
        return rc;
    }
    char err [1024];
    if (zmesh_config_validate (config, err, sizeof err)) {
        fprintf (stderr, "zmeshd: %s\n", err);
        zmesh_config_destroy (&config);
        return 2;
    }
    zmesh_node_t *node = zmesh_node_new (config, err, sizeof err);
    char *data = zmesh_config_get (config, "node/data");
    zmesh_config_destroy (&config);
    if (!node) {
        fprintf (stderr, "zmeshd: %s\n", err);
        free (data);
        return 1;
    }
    if (init_only) {
        printf ("%s\n", zmesh_node_public_key (node));
        zmesh_node_destroy (&node);
        free (data);
        return 0;
    }
    if (zmesh_node_start (node, err, sizeof err)) {
        fprintf (stderr, "zmeshd: cannot start: %s\n", err);
        zmesh_node_destroy (&node);
        free (data);
        return 1;
    }
    char *contact = zmesh_node_contact (node);
    zsys_info ("node %s (%s) running; contact %s", zmesh_node_name (node), zmesh_node_id (node),
               contact);
    s_write_contact (data, contact);
    free (contact);
    pthread_sigmask (SIG_UNBLOCK, &stop_signals, NULL);
    s_wait_for_stop (node, verbose);
    zsys_info ("stopping: announcing LEAVE");
    zmesh_node_destroy (&node);
    char path [1024];
    snprintf (path, sizeof path, "%s/contact", data);
    unlink (path);
    free (data);
    return 0;
}
