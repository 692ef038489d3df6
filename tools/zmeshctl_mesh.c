/*  zmeshctl_mesh.c: the node and mesh commands of zmeshctl, and watch.

    One printer per command (status with the health actor's resources, members, keys, join,
    trust add, state set/get/del/keys, topology as a table or Graphviz DOT, fault, metrics as
    Prometheus text), each taking the "ok" answer's msgpack object and returning an exit
    status; zmeshctl.c calls them through its command table. watch is the one command that
    outlives its answer: the answer is a lease, and the loop here prints the events the node
    streams, renews the lease at half its length, and gives up on a node that stays silent
    for three tick periods.
*/
#include "zmeshctl.h"
#include "zmesh_json.h"
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  ---------------------------------------------------------------------------------------------
//  Printers, one per command

static double
s_get_double (const msgpack_object *map, const char *key)
{
    const msgpack_object *value = zmeshctl_get (map, key);
    if (!value)
        return 0;
    if (value->type == MSGPACK_OBJECT_FLOAT64 || value->type == MSGPACK_OBJECT_FLOAT32)
        return value->via.f64;
    if (value->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        return (double) value->via.u64;
    return 0;
}

//  "12.3 GB" from bytes (powers of 1000, as disks and links are sold).
static void
s_bytes (char *dest, size_t size, double bytes)
{
    static const char *units [] = {"B", "kB", "MB", "GB", "TB", "PB"};
    size_t unit = 0;
    while (bytes >= 1000 && unit + 1 < sizeof units / sizeof *units) {
        bytes /= 1000;
        unit++;
    }
    snprintf (dest, size, unit ? "%.1f %s" : "%.0f %s", bytes, units [unit]);
}

//  The health actor's figures, for a person.
static void
s_print_resources (const msgpack_object *res)
{
    char model [ZMESHCTL_CELL_MAX], a [32], b [32];
    zmeshctl_get_text (model, sizeof model, res, "cpu_model");
    const msgpack_object *util = zmeshctl_get (res, "cpu_util_percent");
    printf ("\nRESOURCES\n  cpu:     %" PRIu64 " cores%s%s%s, load %.2f %.2f %.2f",
            zmeshctl_get_uint (res, "cpu_cores"), model [0] ? " (" : "", model,
            model [0] ? ")" : "", s_get_double (res, "load_avg1"), s_get_double (res, "load_avg5"),
            s_get_double (res, "load_avg15"));
    if (util && util->type != MSGPACK_OBJECT_NIL)
        printf (", %.1f%% busy", s_get_double (res, "cpu_util_percent"));
    s_bytes (a, sizeof a, s_get_double (res, "mem_available_bytes"));
    s_bytes (b, sizeof b, s_get_double (res, "mem_total_bytes"));
    printf ("\n  memory:  %s available of %s\n", a, b);
    const msgpack_object *disks = zmeshctl_get (res, "disks");
    for (uint32_t i = 0; disks && disks->type == MSGPACK_OBJECT_ARRAY && i < disks->via.array.size;
         i++) {
        const msgpack_object *disk = &disks->via.array.ptr [i];
        char mount [ZMESHCTL_CELL_MAX], fstype [32];
        zmeshctl_get_text (mount, sizeof mount, disk, "mount");
        zmeshctl_get_text (fstype, sizeof fstype, disk, "fstype");
        s_bytes (a, sizeof a, s_get_double (disk, "free_bytes"));
        s_bytes (b, sizeof b, s_get_double (disk, "total_bytes"));
        printf ("  disk:    %s (%s) %s free of %s\n", mount, fstype, a, b);
    }
    const msgpack_object *gpus = zmeshctl_get (res, "gpus");
    size_t gpu_count = gpus && gpus->type == MSGPACK_OBJECT_ARRAY ? gpus->via.array.size : 0;
    printf ("  gpus:    %zu\n", gpu_count);
    const msgpack_object *bench = zmeshctl_get (res, "bench");
    if (bench && bench->type == MSGPACK_OBJECT_MAP) {
        s_bytes (a, sizeof a, s_get_double (bench, "hash_bytes_per_s"));
        s_bytes (b, sizeof b, s_get_double (bench, "mem_copy_bytes_per_s"));
        printf ("  bench:   BLAKE2b %s/s, memcpy %s/s (one core)\n", a, b);
    }
}

int
zmeshctl_print_status (const msgpack_object *payload)
{
    if (payload->type != MSGPACK_OBJECT_MAP)
        return zmeshctl_unexpected ();
    zmeshctl_print_fields (payload);
    const msgpack_object *actors = zmeshctl_get (payload, "actors");
    if (!actors || actors->type != MSGPACK_OBJECT_ARRAY || actors->via.array.size == 0)
        return ZMESHCTL_EXIT_OK;
    size_t rows = actors->via.array.size;
    char (*cells) [ZMESHCTL_CELL_MAX] = calloc (rows * 3, ZMESHCTL_CELL_MAX);
    if (!cells)
        return ZMESHCTL_EXIT_FAIL;
    for (size_t r = 0; r < rows; r++) {
        const msgpack_object *actor = &actors->via.array.ptr [r];
        zmeshctl_get_text (cells [r * 3], ZMESHCTL_CELL_MAX, actor, "name");
        zmeshctl_get_text (cells [r * 3 + 1], ZMESHCTL_CELL_MAX, actor, "state");
        zmeshctl_get_text (cells [r * 3 + 2], ZMESHCTL_CELL_MAX, actor, "restarts");
    }
    static const char *const headers [] = {"ACTOR", "STATE", "RESTARTS"};
    printf ("\n");
    zmeshctl_print_table (headers, 3, cells, rows);
    free (cells);
    const msgpack_object *resources = zmeshctl_get (payload, "resources");
    if (resources && resources->type == MSGPACK_OBJECT_MAP)
        s_print_resources (resources);
    return ZMESHCTL_EXIT_OK;
}

//  The closing line: "5 members: 4 alive, 1 dead".
static void
s_print_member_counts (const msgpack_object *members)
{
    static const char *states [] = {"alive", "suspect", "dead", "left"};
    size_t total = members->via.array.size;
    printf ("%zu member%s:", total, total == 1 ? "" : "s");
    const char *separator = " ";
    for (size_t s = 0; s < sizeof states / sizeof *states; s++) {
        size_t count = 0;
        for (size_t i = 0; i < total; i++) {
            char state [16];
            zmeshctl_get_text (state, sizeof state, &members->via.array.ptr [i], "state");
            count += strcmp (state, states [s]) == 0;
        }
        if (count) {
            printf ("%s%zu %s", separator, count, states [s]);
            separator = ", ";
        }
    }
    printf ("\n");
}

int
zmeshctl_print_members (const msgpack_object *payload)
{
    if (payload->type != MSGPACK_OBJECT_ARRAY)
        return zmeshctl_unexpected ();
    enum { MARK, NAME, ID, ENDPOINT, STATE, VIEW, SILENT, COLUMNS };
    size_t rows = payload->via.array.size;
    char (*cells) [ZMESHCTL_CELL_MAX] = calloc (rows * COLUMNS + 1, ZMESHCTL_CELL_MAX);
    if (!cells)
        return ZMESHCTL_EXIT_FAIL;
    for (size_t r = 0; r < rows; r++) {
        const msgpack_object *member = &payload->via.array.ptr [r];
        char (*row) [ZMESHCTL_CELL_MAX] = cells + r * COLUMNS;
        const msgpack_object *self = zmeshctl_get (member, "self");
        bool is_self = self && self->type == MSGPACK_OBJECT_BOOLEAN && self->via.boolean;
        snprintf (row [MARK], ZMESHCTL_CELL_MAX, "%s", is_self ? "*" : " ");
        zmeshctl_get_text (row [NAME], ZMESHCTL_CELL_MAX, member, "name");
        zmeshctl_get_text (row [ID], ZMESHCTL_CELL_MAX, member, "id");
        if (strlen (row [ID]) > 12)
            row [ID][12] = 0;
        zmeshctl_get_text (row [ENDPOINT], ZMESHCTL_CELL_MAX, member, "endpoint");
        zmeshctl_get_text (row [STATE], ZMESHCTL_CELL_MAX, member, "state");
        zmeshctl_get_text (row [VIEW], ZMESHCTL_CELL_MAX, member, "view");
        if (is_self || zmeshctl_get_uint (member, "silent_ms") == 0)
            snprintf (row [SILENT], ZMESHCTL_CELL_MAX, "-");
        else
            zmeshctl_duration (row [SILENT], ZMESHCTL_CELL_MAX,
                               zmeshctl_get_uint (member, "silent_ms"));
    }
    static const char *const headers [] = {" ",     "NAME", "ID",    "ENDPOINT",
                                           "STATE", "VIEW", "SILENT"};
    zmeshctl_print_table (headers, COLUMNS, cells, rows);
    s_print_member_counts (payload);
    free (cells);
    return ZMESHCTL_EXIT_OK;
}

int
zmeshctl_print_keys (const msgpack_object *payload)
{
    if (payload->type != MSGPACK_OBJECT_MAP)
        return zmeshctl_unexpected ();
    zmeshctl_print_fields (payload);
    return ZMESHCTL_EXIT_OK;
}

int
zmeshctl_print_join (const msgpack_object *payload)
{
    char contact [ZMESHCTL_CELL_MAX * 2];
    zmeshctl_get_text (contact, sizeof contact, payload, "joining");
    printf ("joining %s (watch it come up with 'zmeshctl members')\n", contact);
    return ZMESHCTL_EXIT_OK;
}

int
zmeshctl_print_trust (const msgpack_object *payload)
{
    char key [ZMESHCTL_CELL_MAX], id [ZMESHCTL_CELL_MAX];
    zmeshctl_get_text (key, sizeof key, payload, "trusted");
    zmeshctl_get_text (id, sizeof id, payload, "id");
    printf ("trusted %s (node id %s)\n", key, id);
    return ZMESHCTL_EXIT_OK;
}

//  state set / del: {version}
int
zmeshctl_print_state_version (const msgpack_object *payload)
{
    printf ("ok (version %" PRIu64 ")\n", zmeshctl_get_uint (payload, "version"));
    return ZMESHCTL_EXIT_OK;
}

//  state get: the value, as it is, then a newline if it is text without one.
int
zmeshctl_print_state_value (const msgpack_object *payload)
{
    const msgpack_object *value = zmeshctl_get (payload, "value");
    if (!value || value->type != MSGPACK_OBJECT_BIN)
        return zmeshctl_unexpected ();
    fwrite (value->via.bin.ptr, 1, value->via.bin.size, stdout);
    if (value->via.bin.size == 0 || value->via.bin.ptr [value->via.bin.size - 1] != '\n')
        fputc ('\n', stdout);
    return ZMESHCTL_EXIT_OK;
}

//  state keys: a table of KEY VERSION SIZE.
int
zmeshctl_print_state_keys (const msgpack_object *payload)
{
    if (payload->type != MSGPACK_OBJECT_ARRAY)
        return zmeshctl_unexpected ();
    size_t rows = payload->via.array.size;
    char (*cells) [ZMESHCTL_CELL_MAX] = calloc (rows ? rows * 3 : 1, ZMESHCTL_CELL_MAX);
    if (!cells)
        return ZMESHCTL_EXIT_FAIL;
    for (size_t r = 0; r < rows; r++) {
        const msgpack_object *item = &payload->via.array.ptr [r];
        zmeshctl_get_text (cells [r * 3], ZMESHCTL_CELL_MAX, item, "key");
        zmeshctl_get_text (cells [r * 3 + 1], ZMESHCTL_CELL_MAX, item, "version");
        zmeshctl_get_text (cells [r * 3 + 2], ZMESHCTL_CELL_MAX, item, "size");
    }
    static const char *const headers [] = {"KEY", "VERSION", "SIZE"};
    zmeshctl_print_table (headers, 3, cells, rows);
    printf ("%zu key%s\n", rows, rows == 1 ? "" : "s");
    free (cells);
    return ZMESHCTL_EXIT_OK;
}

//  The mesh's figures, then one row per node.
int
zmeshctl_print_topology (const msgpack_object *payload)
{
    const msgpack_object *nodes = zmeshctl_get (payload, "nodes");
    if (payload->type != MSGPACK_OBJECT_MAP || !nodes || nodes->type != MSGPACK_OBJECT_ARRAY)
        return zmeshctl_unexpected ();
    printf ("nodes:            %u in %" PRIu64 " component%s\n", nodes->via.array.size,
            zmeshctl_get_uint (payload, "components"),
            zmeshctl_get_uint (payload, "components") == 1 ? "" : "s");
    printf ("links:            %u\n",
            zmeshctl_get (payload, "edges") ? zmeshctl_get (payload, "edges")->via.array.size : 0);
    printf ("degree:           min %" PRIu64 ", avg %.2f, max %" PRIu64 "\n",
            zmeshctl_get_uint (payload, "degree_min"), s_get_double (payload, "degree_avg"),
            zmeshctl_get_uint (payload, "degree_max"));
    printf ("diameter:         %" PRIu64 " hops\n", zmeshctl_get_uint (payload, "diameter"));
    printf ("avg path length:  %.2f hops\n", s_get_double (payload, "avg_path_length"));
    printf ("clustering:       %.3f\n", s_get_double (payload, "clustering"));
    printf ("cut points:       %" PRIu64 "\n", zmeshctl_get_uint (payload, "articulation_points"));
    printf ("partition risk:   %.1f%% (the worst single failure isolates this share)\n\n",
            100 * s_get_double (payload, "partition_risk"));
    size_t rows = nodes->via.array.size;
    char (*cells) [ZMESHCTL_CELL_MAX] = calloc (rows ? rows * 4 : 1, ZMESHCTL_CELL_MAX);
    if (!cells)
        return ZMESHCTL_EXIT_FAIL;
    for (size_t r = 0; r < rows; r++) {
        const msgpack_object *node = &nodes->via.array.ptr [r];
        zmeshctl_get_text (cells [r * 4], ZMESHCTL_CELL_MAX, node, "name");
        zmeshctl_get_text (cells [r * 4 + 1], ZMESHCTL_CELL_MAX, node, "id");
        cells [r * 4 + 1][12] = 0;
        zmeshctl_get_text (cells [r * 4 + 2], ZMESHCTL_CELL_MAX, node, "degree");
        const msgpack_object *cut = zmeshctl_get (node, "articulation");
        snprintf (cells [r * 4 + 3], ZMESHCTL_CELL_MAX, "%s",
                  cut && cut->type == MSGPACK_OBJECT_BOOLEAN && cut->via.boolean ? "yes" : "");
    }
    static const char *const headers [] = {"NAME", "ID", "DEGREE", "CUT POINT"};
    zmeshctl_print_table (headers, 4, cells, rows);
    free (cells);
    return ZMESHCTL_EXIT_OK;
}

//  Graphviz: `zmeshctl topology --dot | dot -Tsvg > mesh.svg`.
int
zmeshctl_print_dot (const msgpack_object *payload)
{
    const msgpack_object *nodes = zmeshctl_get (payload, "nodes");
    const msgpack_object *edges = zmeshctl_get (payload, "edges");
    if (!nodes || nodes->type != MSGPACK_OBJECT_ARRAY || !edges
        || edges->type != MSGPACK_OBJECT_ARRAY)
        return zmeshctl_unexpected ();
    printf ("graph zmesh {\n");
    for (uint32_t i = 0; i < nodes->via.array.size; i++) {
        char name [ZMESHCTL_CELL_MAX], id [40];
        zmeshctl_get_text (name, sizeof name, &nodes->via.array.ptr [i], "name");
        zmeshctl_get_text (id, sizeof id, &nodes->via.array.ptr [i], "id");
        const msgpack_object *cut = zmeshctl_get (&nodes->via.array.ptr [i], "articulation");
        bool is_cut = cut && cut->type == MSGPACK_OBJECT_BOOLEAN && cut->via.boolean;
        for (char *c = name; *c; c++)
            if (*c == '"' || *c == '\\')
                *c = '_';
        printf ("  n%u [label=\"%s\\n%.12s\"%s];\n", i, name, id, is_cut ? ", color=red" : "");
    }
    for (uint32_t i = 0; i < edges->via.array.size; i++) {
        const msgpack_object *edge = &edges->via.array.ptr [i];
        if (edge->type == MSGPACK_OBJECT_ARRAY && edge->via.array.size == 2
            && edge->via.array.ptr [0].type == MSGPACK_OBJECT_POSITIVE_INTEGER
            && edge->via.array.ptr [1].type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            printf ("  n%" PRIu64 " -- n%" PRIu64 ";\n", edge->via.array.ptr [0].via.u64,
                    edge->via.array.ptr [1].via.u64);
    }
    printf ("}\n");
    return ZMESHCTL_EXIT_OK;
}

//  The answer to "watch" is the lease; the events follow (zmeshctl_watch).
int
zmeshctl_print_watch (const msgpack_object *payload)
{
    return ZMESHCTL_EXIT_OK;
}

int
zmeshctl_print_fault (const msgpack_object *payload)
{
    char actor [ZMESHCTL_CELL_MAX];
    zmeshctl_get_text (actor, sizeof actor, payload, "fault");
    printf ("fault injected: the %s actor returns as if it had crashed\n", actor);
    return ZMESHCTL_EXIT_OK;
}

//  ---------------------------------------------------------------------------------------------
//  Metrics

//  # HELP text: backslash and newline escaped, as the exposition format asks.
static void
s_print_help_text (const char *text)
{
    for (; *text; text++)
        if (*text == '\\')
            fputs ("\\\\", stdout);
        else if (*text == '\n')
            fputs ("\\n", stdout);
        else
            fputc (*text, stdout);
}

static bool
s_same_str (const msgpack_object *a, const msgpack_object *b)
{
    return a && b && a->type == MSGPACK_OBJECT_STR && b->type == MSGPACK_OBJECT_STR
           && a->via.str.size == b->via.str.size
           && memcmp (a->via.str.ptr, b->via.str.ptr, a->via.str.size) == 0;
}

//  Prometheus text exposition format: samples grouped by metric name, in the order the names
//  first appear, each group under one # HELP and one # TYPE line.
int
zmeshctl_print_metrics (const msgpack_object *payload)
{
    if (payload->type != MSGPACK_OBJECT_ARRAY)
        return zmeshctl_unexpected ();
    const msgpack_object *metrics = payload->via.array.ptr;
    uint32_t count = payload->via.array.size;
    for (uint32_t i = 0; i < count; i++) {
        const msgpack_object *name = zmeshctl_get (&metrics [i], "name");
        if (!name || name->type != MSGPACK_OBJECT_STR)
            return zmeshctl_unexpected ();
        bool seen = false;
        for (uint32_t j = 0; j < i && !seen; j++)
            seen = s_same_str (name, zmeshctl_get (&metrics [j], "name"));
        if (seen)
            continue;
        char text [ZMESHCTL_CELL_MAX], help [ZMESHCTL_CELL_MAX], type [32];
        zmeshctl_text (text, sizeof text, name);
        zmeshctl_get_text (help, sizeof help, &metrics [i], "help");
        zmeshctl_get_text (type, sizeof type, &metrics [i], "type");
        printf ("# HELP %s ", text);
        s_print_help_text (help);
        printf ("\n# TYPE %s %s\n", text, type);
        for (uint32_t j = i; j < count; j++) {
            if (!s_same_str (name, zmeshctl_get (&metrics [j], "name")))
                continue;
            char labels [ZMESHCTL_CELL_MAX], value [64];
            zmeshctl_get_text (labels, sizeof labels, &metrics [j], "labels");
            zmeshctl_get_text (value, sizeof value, &metrics [j], "value");
            if (labels [0] && strcmp (labels, "-") != 0)
                printf ("%s{%s} %s\n", text, labels, value);
            else
                printf ("%s %s\n", text, value);
        }
    }
    return ZMESHCTL_EXIT_OK;
}

//  ---------------------------------------------------------------------------------------------
//  Watch

//  The lease and tick period from the answer to "watch".
void
zmeshctl_watch_terms (zmq_msg_t *payload, uint64_t *lease_ms, uint64_t *tick_ms)
{
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    if (msgpack_unpack_next (&unpacked, zmq_msg_data (payload), zmq_msg_size (payload), &offset)
        == MSGPACK_UNPACK_SUCCESS) {
        *lease_ms = zmeshctl_get_uint (&unpacked.data, "lease_ms");
        *tick_ms = zmeshctl_get_uint (&unpacked.data, "tick_ms");
    }
    msgpack_unpacked_destroy (&unpacked);
}

static bool
streq_text (const char *a, const char *b)
{
    return strcmp (a, b) == 0;
}

//  Print one event: a line a person reads, or one JSON document per line.
static void
s_print_event (const zmeshctl_options_t *options, const msgpack_object *event)
{
    if (options->json) {
        zmesh_json_write (stdout, event);
        fputc ('\n', stdout);
    }
    else {
        char type [16], name [ZMESHCTL_CELL_MAX], id [40], from [16], to [16],
            endpoint [ZMESHCTL_CELL_MAX];
        zmeshctl_get_text (type, sizeof type, event, "type");
        zmeshctl_get_text (name, sizeof name, event, "name");
        zmeshctl_get_text (id, sizeof id, event, "id");
        zmeshctl_get_text (from, sizeof from, event, "from");
        zmeshctl_get_text (to, sizeof to, event, "to");
        zmeshctl_get_text (endpoint, sizeof endpoint, event, "endpoint");
        char stamp [32];
        time_t now = time (NULL);
        strftime (stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", localtime (&now));
        if (zmeshctl_get (event, "key")) {  //  a node-state change
            char key [ZMESHCTL_CELL_MAX], value [ZMESHCTL_CELL_MAX];
            zmeshctl_get_text (key, sizeof key, event, "key");
            zmeshctl_get_text (value, sizeof value, event, "value");
            printf ("%s  %-9s %s (%.12s) %s%s%s\n", stamp, type, name, id, key,
                    streq_text (type, "set") ? " = " : "", streq_text (type, "set") ? value : "");
        }
        else
            printf ("%s  %-9s %s (%.12s) %s -> %s  %s\n", stamp, type, name, id, from, to,
                    endpoint);
    }
    fflush (stdout);
}

//  After "watch" was accepted: print events until --count or --for is reached, renewing the
//  lease; a node that sends nothing (not even its ticks) for three tick periods has gone.
int
zmeshctl_watch (void *socket,
                const zmeshctl_options_t *options,
                uint64_t lease_ms,
                uint64_t tick_ms)
{
    int64_t start = zmeshctl_now_ms (), last_heard = start, renewed = start;
    long events = 0;
    while (!options->count || events < options->count) {
        int64_t now = zmeshctl_now_ms ();
        if (options->for_ms && now - start >= options->for_ms)
            return ZMESHCTL_EXIT_OK;
        if (now - last_heard > (int64_t) tick_ms * 3) {
            fprintf (stderr, "zmeshctl: the node at %s stopped answering\n", options->path);
            return ZMESHCTL_EXIT_FAIL;
        }
        if (now - renewed >= (int64_t) lease_ms / 2) {
            zmq_send (socket, "watch", 5, ZMQ_DONTWAIT);
            renewed = now;
        }
        zmq_pollitem_t item = {socket, 0, ZMQ_POLLIN, 0};
        if (zmq_poll (&item, 1, 200) <= 0)
            continue;
        zmq_msg_t kind, payload;
        zmq_msg_init (&kind);
        zmq_msg_init (&payload);
        if (zmq_msg_recv (&kind, socket, 0) >= 0 && zmq_msg_more (&kind)
            && zmq_msg_recv (&payload, socket, 0) >= 0) {
            last_heard = zmeshctl_now_ms ();
            msgpack_unpacked unpacked;
            msgpack_unpacked_init (&unpacked);
            size_t offset = 0;
            if (zmeshctl_frame_is (&kind, "event")
                && msgpack_unpack_next (&unpacked, zmq_msg_data (&payload), zmq_msg_size (&payload),
                                        &offset)
                       == MSGPACK_UNPACK_SUCCESS
                && unpacked.data.type == MSGPACK_OBJECT_MAP) {
                s_print_event (options, &unpacked.data);
                events++;
            }
            msgpack_unpacked_destroy (&unpacked);
        }
        zmq_msg_close (&kind);
        zmq_msg_close (&payload);
    }
    return ZMESHCTL_EXIT_OK;
}
