/*  zmeshctl: drive a running zmesh node through its control socket, DATA/control.sock.

    One request, one answer, then exit: a DEALER sends [command][args...] to the node's
    control actor (actors/zmesh_control.c) and waits a bounded time for [status][payload],
    "ok" with one msgpack object or "error" with a sentence. The payload is printed for a
    person (tables, "key: value" lines, Prometheus text for metrics) or, with --json, as one
    JSON document. Text that came from other nodes (names, endpoints) is shown with control
    characters replaced, so a peer cannot write escape sequences to an operator's terminal.

    Work. submit sends ["submit"][options: a msgpack map][payload bytes] and the answer is the
    task's result, when it ends; its output is printed as text if it is text (UTF-8 without
    control characters but tab and newline), else in base64. map sends one submit per input
    line, each with its line number ("seq" in the options, echoed in the result), keeps at
    most S_MAP_WINDOW lines read and not printed, and prints in input order.

    Exit status: 0 ok; 1 the node answered with an error or could not be reached, or a task
    failed; 2 usage.
    Only libzmq and msgpack-c here: the tool must start fast and fail with a clear message.

    Files. This one holds the command line (getopt, the command table, usage), the talk with
    the node (the socket check that says at once why a node cannot be reached, the request,
    the bounded wait for the answer, which printer shows it) and main. The printers are in
    zmeshctl_mesh.c (status, members, keys, join, trust, state, topology, metrics, fault,
    and the watch loop) and zmeshctl_work.c (task options, submit, tasks), map in
    zmeshctl_map.c, and the text helpers they share in zmeshctl_text.c (zmeshctl.h).
*/
#include "zmesh.h"
#include "zmeshctl.h"
#include "zmesh_json.h"
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef ZMESH_VERSION
#define ZMESH_VERSION ZMESH_API_VERSION
#endif

#define S_TIMEOUT_MS_DEFAULT 3000
#define S_TIMEOUT_MS_MAX     3600000
#define S_ANSWER_BYTES_MAX   (64 * 1024 * 1024)  //  a larger answer is refused by libzmq
#define S_ARG_BYTES_MAX      4096                //  longer than any contact or key: a mistake

typedef int (s_print_fn) (const msgpack_object *payload);

//  ---------------------------------------------------------------------------------------------
//  Commands and usage

static const struct {
    const char *name;
    int args;           //  arguments after the command, exactly
    const char *first;  //  the first argument when it is a fixed word ("add"), else NULL
    const char *usage;  //  the command with its arguments
    s_print_fn *print;
} s_commands [] = {
    {"status", 0, NULL, "status", zmeshctl_print_status},
    {"members", 0, NULL, "members", zmeshctl_print_members},
    {"keys", 0, NULL, "keys", zmeshctl_print_keys},
    {"join", 1, NULL, "join CONTACT", zmeshctl_print_join},
    {"trust", 2, "add", "trust add KEY", zmeshctl_print_trust},
    {"metrics", 0, NULL, "metrics", zmeshctl_print_metrics},
    {"watch", 0, NULL, "watch", zmeshctl_print_watch},
    {"topology", 0, NULL, "topology", zmeshctl_print_topology},
    {"submit", 1, NULL, "submit HANDLER [-] [TASK OPTIONS]", zmeshctl_print_result},
    {"map", 1, NULL, "map HANDLER [TASK OPTIONS] < INPUTS", NULL},  //  zmeshctl_map prints
    {"tasks", 0, NULL, "tasks", zmeshctl_print_tasks},
    {"state-set", 2, NULL, "state set KEY VALUE", zmeshctl_print_state_version},
    {"state-del", 1, NULL, "state del KEY", zmeshctl_print_state_version},
    {"state-get", 2, NULL, "state get KEY [NODE]", zmeshctl_print_state_value},
    {"state-keys", 1, NULL, "state keys [NODE]", zmeshctl_print_state_keys},
    {"fault", 1, NULL, "fault ACTOR", zmeshctl_print_fault},  //  test hook, see zmeshctl(8)
};
#define S_COMMAND_COUNT (sizeof s_commands / sizeof *s_commands)

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: zmeshctl --data DIR [--timeout MS] [--json] COMMAND [ARGS]\n"
             "       zmeshctl --data DIR [OPTIONS] submit|map HANDLER [TASK OPTIONS]\n"
             "\n"
             "Drive a running zmesh node through its control socket, DIR/control.sock.\n"
             "\n"
             "commands:\n"
             "  status          the node: id, endpoint, contact, uptime, actors\n"
             "  members         the nodes this node knows, and their state\n"
             "  keys            this node's public key, its contact, the trust mode\n"
             "  join CONTACT    connect to a node: tcp://HOST:PORT#PUBLICKEY\n"
             "  trust add KEY   admit a node's public key (64 hex digits) and remember it\n"
             "  metrics         counters and gauges in Prometheus text format\n"
             "  state set KEY VALUE     set a key of this node's state (reaches every node)\n"
             "  state get KEY [NODE]    a key of a node's state (default: this node)\n"
             "  state del KEY           delete a key of this node's state\n"
             "  state keys [NODE]       the keys of a node's state\n"
             "  topology        the mesh as a graph: links, degree, diameter, cut points\n"
             "                  (--json, or --dot for Graphviz)\n"
             "  watch           membership events as they happen, one per line, until\n"
             "                  interrupted (--count N, --for MS to stop sooner)\n"
             "  submit HANDLER [-]      run one task on the mesh and print its result; the\n"
             "                          payload: --payload, or - to read it from stdin\n"
             "  map HANDLER < INPUTS    one task per input line (the line is its payload);\n"
             "                          outputs in input order, one line each\n"
             "  tasks           the tasks this node owns now: handler, age, where they run\n"
             "\n"
             "options:\n"
             "  -d, --data DIR     the node's data directory (required)\n"
             "  -t, --timeout MS   how long to wait for an answer (default %d; submit and\n"
             "                     map: for a result, default %d)\n"
             "  -j, --json         print the answer as one JSON document (watch, map: one per\n"
             "                     line)\n"
             "  -n, --count N      watch: stop after N events\n"
             "  -f, --for MS       watch: stop after MS milliseconds\n"
             "  -h, --help         print this text\n"
             "  -V, --version      print the version\n"
             "\n"
             "task options (submit, map):\n"
             "  --payload TEXT | --payload @FILE   the input (submit; default: none)\n"
             "  --priority P       low, normal (the default), high or critical\n"
             "  --cpu N            CPU it needs: cores (0.5, 2) or millicores (500m)\n"
             "  --memory BYTES     memory it needs: bytes, or with K, M, G, T (powers of 1024)\n"
             "  --gpus N           GPUs it needs\n"
             "  --require TAG      a capability the node must offer (repeatable, up to %d)\n"
             "  --redundancy R     run it on R nodes; a quorum of equal results wins\n"
             "  --strategy S       placement: score, auction, hash or local\n"
             "  --timeout-task MS  the handler's time limit (default: none)\n"
             "  --retries N        re-dispatches after a node is lost (default: the node's)\n"
             "A task's output is printed as text when it is UTF-8 without control characters\n"
             "(tabs and newlines allowed), else in base64 (map: as base64:DATA).\n"
             "\n"
             "exit status: 0 done, 1 the node refused or did not answer, or a task failed,\n"
             "2 usage error\n",
             S_TIMEOUT_MS_DEFAULT, ZMESHCTL_WORK_TIMEOUT_MS, ZMESHCTL_TAGS_MAX);
}

int
zmeshctl_usage_error (const char *format, const char *detail)
{
    fprintf (stderr, "zmeshctl: ");
    fprintf (stderr, format, detail);
    fprintf (stderr, "\n\n");
    s_usage (stderr);
    return ZMESHCTL_EXIT_USAGE;
}

//  The option getopt complained about, as the user wrote it: "--data" or "-t".
static const char *
s_option_name (const char *word, char name [3])
{
    if (strncmp (word, "--", 2) == 0)
        return word;
    name [0] = '-';
    name [1] = (char) optopt;
    name [2] = 0;
    return name;
}

//  "state SUB ARGS" becomes the control command "state-SUB" with its arguments in the order
//  the node takes them: get KEY [NODE] -> state-get NODE KEY, keys [NODE] -> state-keys NODE.
static int
s_parse_state (zmeshctl_options_t *options)
{
    static char *args [2];
    static char command [16];
    static char empty [] = "";
    char *const *in = options->args;
    int n = options->arg_count;
    const char *sub = n ? in [0] : "";
    if (strcmp (sub, "set") == 0 && n == 3) {
        args [0] = in [1];
        args [1] = in [2];
    }
    else if (strcmp (sub, "get") == 0 && (n == 2 || n == 3)) {
        args [0] = n == 3 ? in [2] : empty;
        args [1] = in [1];
    }
    else if (strcmp (sub, "del") == 0 && n == 2)
        args [0] = in [1];
    else if (strcmp (sub, "keys") == 0 && (n == 1 || n == 2))
        args [0] = n == 2 ? in [1] : empty;
    else
        return zmeshctl_usage_error ("%s",
                                     "state set KEY VALUE | state get KEY [NODE] | state del KEY"
                                     " | state keys [NODE]");
    snprintf (command, sizeof command, "state-%s", sub);
    options->command = command;
    options->args = args;
    options->arg_count = strcmp (sub, "set") == 0 || strcmp (sub, "get") == 0 ? 2 : 1;
    return ZMESHCTL_EXIT_OK;
}

//  Parse the command line. -1 when done (help, version), else an exit status (OK to go on).
static int
s_parse (int argc, char *argv [], zmeshctl_options_t *options)
{
    static const struct option long_options [] = {
        {"data", required_argument, NULL, 'd'},
        {"timeout", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"count", required_argument, NULL, 'n'},
        {"for", required_argument, NULL, 'f'},
        {"dot", no_argument, NULL, 'D'},
        {"payload", required_argument, NULL, ZMESHCTL_OPT_PAYLOAD},
        {"priority", required_argument, NULL, ZMESHCTL_OPT_PRIORITY},
        {"cpu", required_argument, NULL, ZMESHCTL_OPT_CPU},
        {"memory", required_argument, NULL, ZMESHCTL_OPT_MEMORY},
        {"gpus", required_argument, NULL, ZMESHCTL_OPT_GPUS},
        {"require", required_argument, NULL, ZMESHCTL_OPT_REQUIRE},
        {"redundancy", required_argument, NULL, ZMESHCTL_OPT_REDUNDANCY},
        {"strategy", required_argument, NULL, ZMESHCTL_OPT_STRATEGY},
        {"timeout-task", required_argument, NULL, ZMESHCTL_OPT_TIMEOUT_TASK},
        {"retries", required_argument, NULL, ZMESHCTL_OPT_RETRIES},
        {NULL, 0, NULL, 0}};
    options->timeout_ms = S_TIMEOUT_MS_DEFAULT;
    msgpack_sbuffer_init (&options->spec);
    msgpack_packer_init (&options->spec_pk, &options->spec, msgpack_sbuffer_write);
    opterr = 0;
    char name [3];
    int option;
    while ((option = getopt_long (argc, argv, ":d:t:jhVn:f:", long_options, NULL)) != -1) {
        char *end;
        switch (option) {
            case 'd':
                options->data = optarg;
                break;
            case 't': {
                errno = 0;
                long value = strtol (optarg, &end, 10);
                if (errno || end == optarg || *end || value < 1 || value > S_TIMEOUT_MS_MAX)
                    return zmeshctl_usage_error ("--timeout: '%s' is not milliseconds (1..3600000)",
                                                 optarg);
                options->timeout_ms = (int) value;
                options->timeout_given = true;
                break;
            }
            case 'j':
                options->json = true;
                break;
            case 'D':
                options->dot = true;
                break;
            case 'n':
            case 'f': {
                errno = 0;
                long value = strtol (optarg, &end, 10);
                if (errno || end == optarg || *end || value < 1 || value > 1000000000L)
                    return zmeshctl_usage_error (option == 'n'
                                                     ? "--count: '%s' is not a whole number"
                                                     : "--for: '%s' is not milliseconds",
                                                 optarg);
                *(option == 'n' ? &options->count : &options->for_ms) = value;
                break;
            }
            case ZMESHCTL_OPT_PAYLOAD:
            case ZMESHCTL_OPT_PRIORITY:
            case ZMESHCTL_OPT_CPU:
            case ZMESHCTL_OPT_MEMORY:
            case ZMESHCTL_OPT_GPUS:
            case ZMESHCTL_OPT_REQUIRE:
            case ZMESHCTL_OPT_REDUNDANCY:
            case ZMESHCTL_OPT_STRATEGY:
            case ZMESHCTL_OPT_TIMEOUT_TASK:
            case ZMESHCTL_OPT_RETRIES: {
                int rc = zmeshctl_parse_task_option (options, option, optarg);
                if (rc)
                    return rc;
                break;
            }
            case 'h':
                s_usage (stdout);
                return -1;
            case 'V':
                printf ("zmeshctl %s\n", ZMESH_VERSION);
                return -1;
            case ':':
                return zmeshctl_usage_error ("%s needs a value",
                                             s_option_name (argv [optind - 1], name));
            default:
                return zmeshctl_usage_error ("unknown option '%s'",
                                             s_option_name (argv [optind - 1], name));
        }
    }
    if (!options->data || !options->data [0])
        return zmeshctl_usage_error ("%s", "--data DIR is required: the node's data directory");
    if (optind >= argc)
        return zmeshctl_usage_error ("%s", "no command given");
    options->command = argv [optind];
    options->args = argv + optind + 1;
    options->arg_count = argc - optind - 1;
    if (strcmp (options->command, "state") == 0) {
        int rc = s_parse_state (options);
        if (rc)
            return rc;
    }
    bool work = strcmp (options->command, "submit") == 0 || strcmp (options->command, "map") == 0;
    if (!work && options->task_options)
        return zmeshctl_usage_error ("%s",
                                     "task options (--payload, --priority, --require...) are for "
                                     "submit and map");
    for (int i = 0; i < options->arg_count; i++)
        if (strlen (options->args [i]) > S_ARG_BYTES_MAX)
            return zmeshctl_usage_error ("argument '%.40s...' is too long", options->args [i]);
    for (size_t i = 0; i < S_COMMAND_COUNT; i++) {
        if (strcmp (options->command, s_commands [i].name) != 0)
            continue;
        if (s_commands [i].first && options->arg_count >= 1
            && strcmp (options->args [0], s_commands [i].first) != 0)
            return zmeshctl_usage_error ("unknown subcommand '%s'", options->args [0]);
        if (work) {
            int rc = zmeshctl_parse_work (options);
            if (rc)
                return rc;
        }
        if (options->arg_count != s_commands [i].args)
            return zmeshctl_usage_error ("wrong number of arguments: the command is '%s'",
                                         s_commands [i].usage);
        int length =
            snprintf (options->path, sizeof options->path, "%s/control.sock", options->data);
        if (length < 0 || (size_t) length >= sizeof options->path) {
            fprintf (stderr, "zmeshctl: %s/control.sock is too long for a unix socket path\n",
                     options->data);
            return ZMESHCTL_EXIT_FAIL;
        }
        return ZMESHCTL_EXIT_OK;
    }
    return zmeshctl_usage_error ("unknown command '%s'", options->command);
}

//  ---------------------------------------------------------------------------------------------
//  Talking to the node

//  Is there a node behind the socket file? Says why not, at once, rather than after a timeout.
static int
s_check_socket (const zmeshctl_options_t *options)
{
    struct stat info;
    if (stat (options->path, &info)) {
        if (errno == ENOENT)
            fprintf (stderr,
                     "zmeshctl: no control socket at %s (is zmeshd running with --data %s?)\n",
                     options->path, options->data);
        else
            fprintf (stderr, "zmeshctl: cannot reach %s: %s\n", options->path, strerror (errno));
        return ZMESHCTL_EXIT_FAIL;
    }
    if (!S_ISSOCK (info.st_mode)) {
        fprintf (stderr, "zmeshctl: %s is not a socket\n", options->path);
        return ZMESHCTL_EXIT_FAIL;
    }
    int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return ZMESHCTL_EXIT_OK;  //  let libzmq try
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    snprintf (address.sun_path, sizeof address.sun_path, "%s", options->path);
    int rc = connect (fd, (struct sockaddr *) &address, sizeof address);
    int error = errno;
    close (fd);
    if (rc == 0 || error == EAGAIN || error == EINPROGRESS)
        return ZMESHCTL_EXIT_OK;
    if (error == ECONNREFUSED)
        fprintf (stderr,
                 "zmeshctl: nothing listens on %s: the node is not running (stale socket file)\n",
                 options->path);
    else if (error == EACCES || error == EPERM)
        fprintf (stderr, "zmeshctl: permission denied on %s: run zmeshctl as the node's user\n",
                 options->path);
    else
        fprintf (stderr, "zmeshctl: cannot connect to %s: %s\n", options->path, strerror (error));
    return ZMESHCTL_EXIT_FAIL;
}

//  Send the request and wait for [status][payload]. 0 with both frames initialised, else an
//  exit status (the reason printed).
static int
s_exchange (void *socket, const zmeshctl_options_t *options, zmq_msg_t *status, zmq_msg_t *payload)
{
    int rc;
    if (strcmp (options->command, "submit") == 0)
        rc = zmeshctl_send_submit (socket, options, false, 0, options->task_data,
                                   options->task_size, ZMQ_DONTWAIT);
    else {
        rc = zmq_send (socket, options->command, strlen (options->command),
                       ZMQ_DONTWAIT | (options->arg_count ? ZMQ_SNDMORE : 0));
        for (int i = 0; rc >= 0 && i < options->arg_count; i++)
            rc = zmq_send (socket, options->args [i], strlen (options->args [i]),
                           ZMQ_DONTWAIT | (i + 1 < options->arg_count ? ZMQ_SNDMORE : 0));
    }
    if (rc < 0) {
        fprintf (stderr, "zmeshctl: cannot send to %s: %s\n", options->path,
                 zmq_strerror (zmq_errno ()));
        return ZMESHCTL_EXIT_FAIL;
    }
    zmq_pollitem_t item = {socket, 0, ZMQ_POLLIN, 0};
    rc = zmq_poll (&item, 1, options->timeout_ms);
    if (rc <= 0) {
        if (rc == 0)
            fprintf (stderr,
                     "zmeshctl: no answer from the node at %s within %d ms (is zmeshd running?)\n",
                     options->path, options->timeout_ms);
        else
            fprintf (stderr, "zmeshctl: %s\n", zmq_strerror (zmq_errno ()));
        return ZMESHCTL_EXIT_FAIL;
    }
    zmq_msg_init (status);
    zmq_msg_init (payload);
    zmq_msg_t *const expected [2] = {status, payload};
    int frames = 0;
    bool more = true;
    while (more) {
        zmq_msg_t spare;  //  frames beyond two are read to be counted, then dropped
        zmq_msg_init (&spare);
        zmq_msg_t *frame = frames < 2 ? expected [frames] : &spare;
        int received = zmq_msg_recv (frame, socket, 0);
        more = received >= 0 && zmq_msg_more (frame);
        zmq_msg_close (&spare);
        if (received < 0)
            break;
        frames++;
    }
    if (frames != 2 || more) {
        zmq_msg_close (status);
        zmq_msg_close (payload);
        return zmeshctl_unexpected ();
    }
    return 0;
}

bool
zmeshctl_frame_is (zmq_msg_t *frame, const char *text)
{
    return zmq_msg_size (frame) == strlen (text)
           && memcmp (zmq_msg_data (frame), text, strlen (text)) == 0;
}

//  Print the answer: the payload for "ok", the message for "error".
static int
s_show (const zmeshctl_options_t *options, size_t command, zmq_msg_t *status, zmq_msg_t *payload)
{
    if (zmeshctl_frame_is (status, "error")) {
        char message [1024];
        zmeshctl_sanitize (message, sizeof message, zmq_msg_data (payload), zmq_msg_size (payload));
        fprintf (stderr, "zmeshctl: %s\n", message);
        return ZMESHCTL_EXIT_FAIL;
    }
    if (!zmeshctl_frame_is (status, "ok"))
        return zmeshctl_unexpected ();
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    int rc = ZMESHCTL_EXIT_FAIL;
    if (msgpack_unpack_next (&unpacked, zmq_msg_data (payload), zmq_msg_size (payload), &offset)
            != MSGPACK_UNPACK_SUCCESS
        || offset != zmq_msg_size (payload))
        rc = zmeshctl_unexpected ();
    else if (options->dot && strcmp (options->command, "topology") == 0)
        rc = zmeshctl_print_dot (&unpacked.data);
    else if (options->json && strcmp (options->command, "submit") == 0) {
        if (unpacked.data.type != MSGPACK_OBJECT_MAP || !zmeshctl_get (&unpacked.data, "success"))
            rc = zmeshctl_unexpected ();
        else {
            zmeshctl_write_result_json (&unpacked.data, 0);
            rc = zmeshctl_succeeded (&unpacked.data) ? ZMESHCTL_EXIT_OK : ZMESHCTL_EXIT_FAIL;
        }
    }
    else if (options->json && strcmp (options->command, "watch") != 0) {
        zmesh_json_write (stdout, &unpacked.data);
        fputc ('\n', stdout);
        rc = ZMESHCTL_EXIT_OK;
    }
    else
        rc = s_commands [command].print (&unpacked.data);
    msgpack_unpacked_destroy (&unpacked);
    return rc;
}

int64_t
zmeshctl_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
s_run (const zmeshctl_options_t *options)
{
    size_t command = 0;
    while (strcmp (s_commands [command].name, options->command) != 0)
        command++;
    int rc = s_check_socket (options);
    if (rc)
        return rc;
    void *context = zmq_ctx_new ();
    void *socket = context ? zmq_socket (context, ZMQ_DEALER) : NULL;
    if (!socket) {
        fprintf (stderr, "zmeshctl: cannot create a socket: %s\n", zmq_strerror (zmq_errno ()));
        if (context)
            zmq_ctx_term (context);
        return ZMESHCTL_EXIT_FAIL;
    }
    int linger = 0;
    int64_t max_bytes = S_ANSWER_BYTES_MAX;
    zmq_setsockopt (socket, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (socket, ZMQ_MAXMSGSIZE, &max_bytes, sizeof max_bytes);
    char endpoint [ZMESHCTL_PATH_MAX + 8];
    snprintf (endpoint, sizeof endpoint, "ipc://%s", options->path);
    if (zmq_connect (socket, endpoint)) {
        fprintf (stderr, "zmeshctl: cannot connect to %s: %s\n", endpoint,
                 zmq_strerror (zmq_errno ()));
        rc = ZMESHCTL_EXIT_FAIL;
    }
    else if (strcmp (options->command, "map") == 0)
        rc = zmeshctl_map (socket, options);
    else {
        zmq_msg_t status, payload;
        rc = s_exchange (socket, options, &status, &payload);
        if (rc == 0) {
            rc = s_show (options, command, &status, &payload);
            uint64_t lease_ms = 0, tick_ms = 0;
            if (rc == 0 && strcmp (options->command, "watch") == 0)
                zmeshctl_watch_terms (&payload, &lease_ms, &tick_ms);
            zmq_msg_close (&status);
            zmq_msg_close (&payload);
            if (rc == 0 && lease_ms && tick_ms)
                rc = zmeshctl_watch (socket, options, lease_ms, tick_ms);
        }
    }
    zmq_close (socket);
    zmq_ctx_term (context);
    return rc;
}

int
main (int argc, char *argv [])
{
    zmeshctl_options_t options = {0};
    int rc = s_parse (argc, argv, &options);
    if (rc == 0)
        rc = s_run (&options);
    else
        rc = rc < 0 ? ZMESHCTL_EXIT_OK : rc;
    msgpack_sbuffer_destroy (&options.spec);
    free (options.task_data);
    if (fflush (stdout) != 0 || ferror (stdout)) {
        fprintf (stderr, "zmeshctl: cannot write the output: %s\n", strerror (errno));
        return ZMESHCTL_EXIT_FAIL;
    }
    return rc;
}
