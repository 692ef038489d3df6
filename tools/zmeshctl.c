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
*/
#include "zmesh.h"
#include "zmesh_json.h"
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#ifndef ZMESH_VERSION
#define ZMESH_VERSION ZMESH_API_VERSION
#endif

#define S_EXIT_OK            0
#define S_EXIT_FAIL          1
#define S_EXIT_USAGE         2
#define S_TIMEOUT_MS_DEFAULT 3000
#define S_TIMEOUT_MS_MAX     3600000
#define S_ANSWER_BYTES_MAX   (64 * 1024 * 1024)  //  a larger answer is refused by libzmq
#define S_ARG_BYTES_MAX      4096                //  longer than any contact or key: a mistake
#define S_CELL_MAX           256                 //  bytes of one table cell, NUL included
#define S_WORK_TIMEOUT_MS    60000               //  submit, map: default wait for a result
#define S_PAYLOAD_MAX        (1024 * 1024)       //  bytes of a task's payload (zmesh.h)
#define S_TAGS_MAX           16                  //  --require, at most (zmesh.h)
#define S_MAP_WINDOW         1000                //  map: tasks in flight at most
#define S_PROGRESS_MS        100                 //  map: progress line refreshed at most this often
#define S_PATH_MAX           sizeof (((struct sockaddr_un *) 0)->sun_path)

typedef struct {
    const char *data;     //  the node's data directory
    int timeout_ms;       //  how long to wait for the answer
    bool json;            //  print the payload as JSON
    const char *command;  //  the command word
    char *const *args;    //  its arguments
    int arg_count;
    char path [S_PATH_MAX];  //  DATA/control.sock
    bool dot;                //  topology: print Graphviz DOT
    long count;              //  watch: stop after this many events (0: no limit)
    long for_ms;             //  watch: stop after this long (0: no limit)
    bool timeout_given;      //  --timeout was given
    //  submit and map
    bool task_options;       //  one of the options below was given
    const char *payload;     //  --payload TEXT or @FILE; NULL: none
    bool payload_stdin;      //  submit HANDLER -
    msgpack_sbuffer spec;    //  the options frame's entries, `spec_count` key/value pairs
    msgpack_packer spec_pk;  //  writes into spec
    uint32_t spec_count;
    const char *tags [S_TAGS_MAX];
    int tag_count;
    char *task_data;  //  the payload, once read (malloc'd)
    size_t task_size;
} s_options_t;

typedef int (s_print_fn) (const msgpack_object *payload);

//  ---------------------------------------------------------------------------------------------
//  Text for people

//  Copy of text fit for a terminal: well-formed UTF-8 kept, control characters (C0, DEL, C1)
//  and malformed bytes as '?'. Truncated to dest_size - 1 bytes on a character boundary.
static void
s_sanitize (char *dest, size_t dest_size, const char *text, size_t size)
{
    const uint8_t *s = (const uint8_t *) text;
    size_t in = 0, out = 0;
    while (in < size) {
        uint32_t code_point;
        size_t length = zmesh_json_utf8_next (s + in, size - in, &code_point);
        bool control = code_point < 0x20 || (code_point >= 0x7F && code_point <= 0x9F);
        if (length == 0 || control) {
            if (out + 1 >= dest_size)
                break;
            dest [out++] = '?';
            in += length ? length : 1;
            continue;
        }
        if (out + length >= dest_size)
            break;
        memcpy (dest + out, s + in, length);
        out += length;
        in += length;
    }
    dest [out] = 0;
}

//  Columns a sanitized string takes on a terminal (one per code point: good enough for names).
static size_t
s_width (const char *text)
{
    size_t width = 0;
    for (const uint8_t *s = (const uint8_t *) text; *s; s++)
        width += (*s & 0xC0) != 0x80;
    return width;
}

static void
s_pad (const char *text, size_t width)
{
    fputs (text, stdout);
    for (size_t used = s_width (text); used < width; used++)
        fputc (' ', stdout);
}

//  "850ms", "4.2s", "3m07s", "2h05m", "3d04h".
static void
s_duration (char *dest, size_t size, uint64_t ms)
{
    uint64_t s = ms / 1000;
    if (ms < 1000)
        snprintf (dest, size, "%" PRIu64 "ms", ms);
    else if (ms < 60000)
        snprintf (dest, size, "%.1fs", (double) ms / 1000);
    else if (s < 3600)
        snprintf (dest, size, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
    else if (s < 86400)
        snprintf (dest, size, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s / 60 % 60);
    else
        snprintf (dest, size, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s / 3600 % 24);
}

//  A scalar as text for a person (sanitized); anything else as its JSON text.
static void
s_text (char *dest, size_t size, const msgpack_object *obj)
{
    switch (obj->type) {
        case MSGPACK_OBJECT_STR:
            s_sanitize (dest, size, obj->via.str.ptr, obj->via.str.size);
            break;
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            snprintf (dest, size, "%" PRIu64, obj->via.u64);
            break;
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            snprintf (dest, size, "%" PRId64, obj->via.i64);
            break;
        case MSGPACK_OBJECT_BOOLEAN:
            snprintf (dest, size, "%s", obj->via.boolean ? "yes" : "no");
            break;
        case MSGPACK_OBJECT_NIL:
            snprintf (dest, size, "-");
            break;
        default: {
            char *json = zmesh_json_string (obj);
            s_sanitize (dest, size, json ? json : "?", json ? strlen (json) : 1);
            free (json);
        }
    }
}

//  The value of a string key in a map; NULL if obj is no map or has no such key.
static const msgpack_object *
s_get (const msgpack_object *obj, const char *key)
{
    if (obj->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t length = strlen (key);
    for (uint32_t i = 0; i < obj->via.map.size; i++) {
        const msgpack_object *k = &obj->via.map.ptr [i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == length
            && memcmp (k->via.str.ptr, key, length) == 0)
            return &obj->via.map.ptr [i].val;
    }
    return NULL;
}

static void
s_get_text (char *dest, size_t size, const msgpack_object *map, const char *key)
{
    const msgpack_object *value = s_get (map, key);
    if (value)
        s_text (dest, size, value);
    else
        snprintf (dest, size, "-");
}

static uint64_t
s_get_uint (const msgpack_object *map, const char *key)
{
    const msgpack_object *value = s_get (map, key);
    return value && value->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? value->via.u64 : 0;
}

static int
s_unexpected (void)
{
    fprintf (stderr, "zmeshctl: unexpected answer from the node (see it with --json)\n");
    return S_EXIT_FAIL;
}

//  ---------------------------------------------------------------------------------------------
//  Printers, one per command

//  "key: value" lines for the scalars of a map, values aligned. Arrays are left out.
static void
s_print_fields (const msgpack_object *map)
{
    size_t width = 0;
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_kv *kv = &map->via.map.ptr [i];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->val.type != MSGPACK_OBJECT_ARRAY
            && kv->val.type != MSGPACK_OBJECT_MAP && kv->key.via.str.size > width)
            width = kv->key.via.str.size;
    }
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_kv *kv = &map->via.map.ptr [i];
        if (kv->val.type == MSGPACK_OBJECT_ARRAY || kv->val.type == MSGPACK_OBJECT_MAP)
            continue;  //  shown as tables or sections by the caller
        char key [64], value [S_CELL_MAX * 2];
        s_text (key, sizeof key, &kv->key);
        s_text (value, sizeof value, &kv->val);
        printf ("%s:", key);
        for (size_t used = s_width (key); used <= width; used++)
            fputc (' ', stdout);
        if (strcmp (key, "uptime_s") == 0 && kv->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
            char duration [32];
            s_duration (duration, sizeof duration, kv->val.via.u64 * 1000);
            printf ("%s (%s)\n", value, duration);
        }
        else
            printf ("%s\n", value);
    }
}

//  A column-aligned table: cells row-major, rows x columns, S_CELL_MAX each; the last column
//  is not padded.
static void
s_print_table (const char *const *headers, size_t columns, char (*cells) [S_CELL_MAX], size_t rows)
{
    size_t widths [8] = {0};
    for (size_t c = 0; c < columns; c++) {
        widths [c] = s_width (headers [c]);
        for (size_t r = 0; r < rows; r++) {
            size_t width = s_width (cells [r * columns + c]);
            widths [c] = width > widths [c] ? width : widths [c];
        }
    }
    for (size_t r = 0; r <= rows; r++)
        for (size_t c = 0; c < columns; c++) {
            const char *text = r == 0 ? headers [c] : cells [(r - 1) * columns + c];
            if (c + 1 < columns) {
                s_pad (text, widths [c]);
                fputs (c == 0 && widths [0] == 1 ? " " : "  ", stdout);
            }
            else
                printf ("%s\n", text);
        }
}

static double
s_get_double (const msgpack_object *map, const char *key)
{
    const msgpack_object *value = s_get (map, key);
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
    char model [S_CELL_MAX], a [32], b [32];
    s_get_text (model, sizeof model, res, "cpu_model");
    const msgpack_object *util = s_get (res, "cpu_util_percent");
    printf ("\nRESOURCES\n  cpu:     %" PRIu64 " cores%s%s%s, load %.2f %.2f %.2f",
            s_get_uint (res, "cpu_cores"), model [0] ? " (" : "", model, model [0] ? ")" : "",
            s_get_double (res, "load_avg1"), s_get_double (res, "load_avg5"),
            s_get_double (res, "load_avg15"));
    if (util && util->type != MSGPACK_OBJECT_NIL)
        printf (", %.1f%% busy", s_get_double (res, "cpu_util_percent"));
    s_bytes (a, sizeof a, s_get_double (res, "mem_available_bytes"));
    s_bytes (b, sizeof b, s_get_double (res, "mem_total_bytes"));
    printf ("\n  memory:  %s available of %s\n", a, b);
    const msgpack_object *disks = s_get (res, "disks");
    for (uint32_t i = 0; disks && disks->type == MSGPACK_OBJECT_ARRAY && i < disks->via.array.size;
         i++) {
        const msgpack_object *disk = &disks->via.array.ptr [i];
        char mount [S_CELL_MAX], fstype [32];
        s_get_text (mount, sizeof mount, disk, "mount");
        s_get_text (fstype, sizeof fstype, disk, "fstype");
        s_bytes (a, sizeof a, s_get_double (disk, "free_bytes"));
        s_bytes (b, sizeof b, s_get_double (disk, "total_bytes"));
        printf ("  disk:    %s (%s) %s free of %s\n", mount, fstype, a, b);
    }
    const msgpack_object *gpus = s_get (res, "gpus");
    size_t gpu_count = gpus && gpus->type == MSGPACK_OBJECT_ARRAY ? gpus->via.array.size : 0;
    printf ("  gpus:    %zu\n", gpu_count);
    const msgpack_object *bench = s_get (res, "bench");
    if (bench && bench->type == MSGPACK_OBJECT_MAP) {
        s_bytes (a, sizeof a, s_get_double (bench, "hash_bytes_per_s"));
        s_bytes (b, sizeof b, s_get_double (bench, "mem_copy_bytes_per_s"));
        printf ("  bench:   BLAKE2b %s/s, memcpy %s/s (one core)\n", a, b);
    }
}

static int
s_print_status (const msgpack_object *payload)
{
    if (payload->type != MSGPACK_OBJECT_MAP)
        return s_unexpected ();
    s_print_fields (payload);
    const msgpack_object *actors = s_get (payload, "actors");
    if (!actors || actors->type != MSGPACK_OBJECT_ARRAY || actors->via.array.size == 0)
        return S_EXIT_OK;
    size_t rows = actors->via.array.size;
    char (*cells) [S_CELL_MAX] = calloc (rows * 3, S_CELL_MAX);
    if (!cells)
        return S_EXIT_FAIL;
    for (size_t r = 0; r < rows; r++) {
        const msgpack_object *actor = &actors->via.array.ptr [r];
        s_get_text (cells [r * 3], S_CELL_MAX, actor, "name");
        s_get_text (cells [r * 3 + 1], S_CELL_MAX, actor, "state");
        s_get_text (cells [r * 3 + 2], S_CELL_MAX, actor, "restarts");
    }
    static const char *const headers [] = {"ACTOR", "STATE", "RESTARTS"};
    printf ("\n");
    s_print_table (headers, 3, cells, rows);
    free (cells);
    const msgpack_object *resources = s_get (payload, "resources");
    if (resources && resources->type == MSGPACK_OBJECT_MAP)
        s_print_resources (resources);
    return S_EXIT_OK;
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
            s_get_text (state, sizeof state, &members->via.array.ptr [i], "state");
            count += strcmp (state, states [s]) == 0;
        }
        if (count) {
            printf ("%s%zu %s", separator, count, states [s]);
            separator = ", ";
        }
    }
    printf ("\n");
}

static int
s_print_members (const msgpack_object *payload)
{
    if (payload->type != MSGPACK_OBJECT_ARRAY)
        return s_unexpected ();
    enum { MARK, NAME, ID, ENDPOINT, STATE, VIEW, SILENT, COLUMNS };
    size_t rows = payload->via.array.size;
    char (*cells) [S_CELL_MAX] = calloc (rows * COLUMNS + 1, S_CELL_MAX);
    if (!cells)
        return S_EXIT_FAIL;
    for (size_t r = 0; r < rows; r++) {
        const msgpack_object *member = &payload->via.array.ptr [r];
        char (*row) [S_CELL_MAX] = cells + r * COLUMNS;
        const msgpack_object *self = s_get (member, "self");
        bool is_self = self && self->type == MSGPACK_OBJECT_BOOLEAN && self->via.boolean;
        snprintf (row [MARK], S_CELL_MAX, "%s", is_self ? "*" : " ");
        s_get_text (row [NAME], S_CELL_MAX, member, "name");
        s_get_text (row [ID], S_CELL_MAX, member, "id");
        if (strlen (row [ID]) > 12)
            row [ID][12] = 0;
        s_get_text (row [ENDPOINT], S_CELL_MAX, member, "endpoint");
        s_get_text (row [STATE], S_CELL_MAX, member, "state");
        s_get_text (row [VIEW], S_CELL_MAX, member, "view");
        if (is_self || s_get_uint (member, "silent_ms") == 0)
            snprintf (row [SILENT], S_CELL_MAX, "-");
        else
            s_duration (row [SILENT], S_CELL_MAX, s_get_uint (member, "silent_ms"));
    }
    static const char *const headers [] = {" ",     "NAME", "ID",    "ENDPOINT",
                                           "STATE", "VIEW", "SILENT"};
    s_print_table (headers, COLUMNS, cells, rows);
    s_print_member_counts (payload);
    free (cells);
    return S_EXIT_OK;
}

static int
s_print_keys (const msgpack_object *payload)
{
    if (payload->type != MSGPACK_OBJECT_MAP)
        return s_unexpected ();
    s_print_fields (payload);
    return S_EXIT_OK;
}

static int
s_print_join (const msgpack_object *payload)
{
    char contact [S_CELL_MAX * 2];
    s_get_text (contact, sizeof contact, payload, "joining");
    printf ("joining %s (watch it come up with 'zmeshctl members')\n", contact);
    return S_EXIT_OK;
}

static int
s_print_trust (const msgpack_object *payload)
{
    char key [S_CELL_MAX], id [S_CELL_MAX];
    s_get_text (key, sizeof key, payload, "trusted");
    s_get_text (id, sizeof id, payload, "id");
    printf ("trusted %s (node id %s)\n", key, id);
    return S_EXIT_OK;
}

//  state set / del: {version}
static int
s_print_state_version (const msgpack_object *payload)
{
    printf ("ok (version %" PRIu64 ")\n", s_get_uint (payload, "version"));
    return S_EXIT_OK;
}

//  state get: the value, as it is, then a newline if it is text without one.
static int
s_print_state_value (const msgpack_object *payload)
{
    const msgpack_object *value = s_get (payload, "value");
    if (!value || value->type != MSGPACK_OBJECT_BIN)
        return s_unexpected ();
    fwrite (value->via.bin.ptr, 1, value->via.bin.size, stdout);
    if (value->via.bin.size == 0 || value->via.bin.ptr [value->via.bin.size - 1] != '\n')
        fputc ('\n', stdout);
    return S_EXIT_OK;
}

//  state keys: a table of KEY VERSION SIZE.
static int
s_print_state_keys (const msgpack_object *payload)
{
    if (payload->type != MSGPACK_OBJECT_ARRAY)
        return s_unexpected ();
    size_t rows = payload->via.array.size;
    char (*cells) [S_CELL_MAX] = calloc (rows ? rows * 3 : 1, S_CELL_MAX);
    if (!cells)
        return S_EXIT_FAIL;
    for (size_t r = 0; r < rows; r++) {
        const msgpack_object *item = &payload->via.array.ptr [r];
        s_get_text (cells [r * 3], S_CELL_MAX, item, "key");
        s_get_text (cells [r * 3 + 1], S_CELL_MAX, item, "version");
        s_get_text (cells [r * 3 + 2], S_CELL_MAX, item, "size");
    }
    static const char *const headers [] = {"KEY", "VERSION", "SIZE"};
    s_print_table (headers, 3, cells, rows);
    printf ("%zu key%s\n", rows, rows == 1 ? "" : "s");
    free (cells);
    return S_EXIT_OK;
}

//  The mesh's figures, then one row per node.
static int
s_print_topology (const msgpack_object *payload)
{
    const msgpack_object *nodes = s_get (payload, "nodes");
    if (payload->type != MSGPACK_OBJECT_MAP || !nodes || nodes->type != MSGPACK_OBJECT_ARRAY)
        return s_unexpected ();
    printf ("nodes:            %u in %" PRIu64 " component%s\n", nodes->via.array.size,
            s_get_uint (payload, "components"), s_get_uint (payload, "components") == 1 ? "" : "s");
    printf ("links:            %u\n",
            s_get (payload, "edges") ? s_get (payload, "edges")->via.array.size : 0);
    printf ("degree:           min %" PRIu64 ", avg %.2f, max %" PRIu64 "\n",
            s_get_uint (payload, "degree_min"), s_get_double (payload, "degree_avg"),
            s_get_uint (payload, "degree_max"));
    printf ("diameter:         %" PRIu64 " hops\n", s_get_uint (payload, "diameter"));
    printf ("avg path length:  %.2f hops\n", s_get_double (payload, "avg_path_length"));
    printf ("clustering:       %.3f\n", s_get_double (payload, "clustering"));
    printf ("cut points:       %" PRIu64 "\n", s_get_uint (payload, "articulation_points"));
    printf ("partition risk:   %.1f%% (the worst single failure isolates this share)\n\n",
            100 * s_get_double (payload, "partition_risk"));
    size_t rows = nodes->via.array.size;
    char (*cells) [S_CELL_MAX] = calloc (rows ? rows * 4 : 1, S_CELL_MAX);
    if (!cells)
        return S_EXIT_FAIL;
    for (size_t r = 0; r < rows; r++) {
        const msgpack_object *node = &nodes->via.array.ptr [r];
        s_get_text (cells [r * 4], S_CELL_MAX, node, "name");
        s_get_text (cells [r * 4 + 1], S_CELL_MAX, node, "id");
        cells [r * 4 + 1][12] = 0;
        s_get_text (cells [r * 4 + 2], S_CELL_MAX, node, "degree");
        const msgpack_object *cut = s_get (node, "articulation");
        snprintf (cells [r * 4 + 3], S_CELL_MAX, "%s",
                  cut && cut->type == MSGPACK_OBJECT_BOOLEAN && cut->via.boolean ? "yes" : "");
    }
    static const char *const headers [] = {"NAME", "ID", "DEGREE", "CUT POINT"};
    s_print_table (headers, 4, cells, rows);
    free (cells);
    return S_EXIT_OK;
}

//  Graphviz: `zmeshctl topology --dot | dot -Tsvg > mesh.svg`.
static int
s_print_dot (const msgpack_object *payload)
{
    const msgpack_object *nodes = s_get (payload, "nodes");
    const msgpack_object *edges = s_get (payload, "edges");
    if (!nodes || nodes->type != MSGPACK_OBJECT_ARRAY || !edges
        || edges->type != MSGPACK_OBJECT_ARRAY)
        return s_unexpected ();
    printf ("graph zmesh {\n");
    for (uint32_t i = 0; i < nodes->via.array.size; i++) {
        char name [S_CELL_MAX], id [40];
        s_get_text (name, sizeof name, &nodes->via.array.ptr [i], "name");
        s_get_text (id, sizeof id, &nodes->via.array.ptr [i], "id");
        const msgpack_object *cut = s_get (&nodes->via.array.ptr [i], "articulation");
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
    return S_EXIT_OK;
}

//  The answer to "watch" is the lease; the events follow (s_watch).
static int
s_print_watch (const msgpack_object *payload)
{
    return S_EXIT_OK;
}

static int
s_print_fault (const msgpack_object *payload)
{
    char actor [S_CELL_MAX];
    s_get_text (actor, sizeof actor, payload, "fault");
    printf ("fault injected: the %s actor returns as if it had crashed\n", actor);
    return S_EXIT_OK;
}

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
static int
s_print_metrics (const msgpack_object *payload)
{
    if (payload->type != MSGPACK_OBJECT_ARRAY)
        return s_unexpected ();
    const msgpack_object *metrics = payload->via.array.ptr;
    uint32_t count = payload->via.array.size;
    for (uint32_t i = 0; i < count; i++) {
        const msgpack_object *name = s_get (&metrics [i], "name");
        if (!name || name->type != MSGPACK_OBJECT_STR)
            return s_unexpected ();
        bool seen = false;
        for (uint32_t j = 0; j < i && !seen; j++)
            seen = s_same_str (name, s_get (&metrics [j], "name"));
        if (seen)
            continue;
        char text [S_CELL_MAX], help [S_CELL_MAX], type [32];
        s_text (text, sizeof text, name);
        s_get_text (help, sizeof help, &metrics [i], "help");
        s_get_text (type, sizeof type, &metrics [i], "type");
        printf ("# HELP %s ", text);
        s_print_help_text (help);
        printf ("\n# TYPE %s %s\n", text, type);
        for (uint32_t j = i; j < count; j++) {
            if (!s_same_str (name, s_get (&metrics [j], "name")))
                continue;
            char labels [S_CELL_MAX], value [64];
            s_get_text (labels, sizeof labels, &metrics [j], "labels");
            s_get_text (value, sizeof value, &metrics [j], "value");
            if (labels [0] && strcmp (labels, "-") != 0)
                printf ("%s{%s} %s\n", text, labels, value);
            else
                printf ("%s %s\n", text, value);
        }
    }
    return S_EXIT_OK;
}

//  ---------------------------------------------------------------------------------------------
//  Work: results and task lists

static const char *const s_priorities [] = {"low", "normal", "high", "critical"};

//  Text zmeshctl shows as it is: well-formed UTF-8 without control characters other than tab
//  and newline. A task's output that is not is shown in base64.
static bool
s_is_text (const char *data, size_t size)
{
    const uint8_t *s = (const uint8_t *) data;
    size_t at = 0;
    while (at < size) {
        uint32_t code_point;
        size_t length = zmesh_json_utf8_next (s + at, size - at, &code_point);
        if (length == 0)
            return false;
        if ((code_point < 0x20 && code_point != '\t' && code_point != '\n')
            || (code_point >= 0x7F && code_point <= 0x9F))
            return false;
        at += length;
    }
    return true;
}

//  Standard base64 (RFC 4648), with padding.
static void
s_base64_write (FILE *out, const char *data, size_t size)
{
    static const char alphabet [] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const uint8_t *s = (const uint8_t *) data;
    for (size_t i = 0; i < size; i += 3) {
        uint32_t chunk = (uint32_t) s [i] << 16;
        if (i + 1 < size)
            chunk |= (uint32_t) s [i + 1] << 8;
        if (i + 2 < size)
            chunk |= s [i + 2];
        fputc (alphabet [chunk >> 18 & 63], out);
        fputc (alphabet [chunk >> 12 & 63], out);
        fputc (i + 1 < size ? alphabet [chunk >> 6 & 63] : '=', out);
        fputc (i + 2 < size ? alphabet [chunk & 63] : '=', out);
    }
}

//  A result's output: its bytes, or NULL if it has none (an empty bin is not NULL).
static const msgpack_object *
s_output (const msgpack_object *result, const char **data, size_t *size)
{
    const msgpack_object *output = s_get (result, "output");
    if (!output || output->type != MSGPACK_OBJECT_BIN)
        return NULL;
    *data = output->via.bin.ptr;
    *size = output->via.bin.size;
    return output;
}

static bool
s_succeeded (const msgpack_object *result)
{
    const msgpack_object *success = s_get (result, "success");
    return success && success->type == MSGPACK_OBJECT_BOOLEAN && success->via.boolean;
}

//  A result as one JSON document on one line: its fields, "line" first when it is a map's
//  (its input line), and the output as "output" (text) or "output_b64".
static void
s_write_result_json (const msgpack_object *result, uint64_t line)
{
    bool first = true;
    fputc ('{', stdout);
    if (line) {
        printf ("\"line\":%" PRIu64, line);
        first = false;
    }
    for (uint32_t i = 0; i < result->via.map.size; i++) {
        const msgpack_object_kv *kv = &result->via.map.ptr [i];
        if (kv->key.type == MSGPACK_OBJECT_STR
            && ((kv->key.via.str.size == 3 && memcmp (kv->key.via.str.ptr, "seq", 3) == 0)
                || (kv->key.via.str.size == 6 && memcmp (kv->key.via.str.ptr, "output", 6) == 0)))
            continue;
        if (!first)
            fputc (',', stdout);
        first = false;
        zmesh_json_write (stdout, &kv->key);
        fputc (':', stdout);
        zmesh_json_write (stdout, &kv->val);
    }
    const char *data;
    size_t size;
    if (s_output (result, &data, &size)) {
        if (!first)
            fputc (',', stdout);
        if (s_is_text (data, size)) {
            fputs ("\"output\":", stdout);
            zmesh_json_write_string (stdout, data, size);
        }
        else {
            fputs ("\"output_b64\":\"", stdout);
            s_base64_write (stdout, data, size);
            fputc ('"', stdout);
        }
    }
    fputs ("}\n", stdout);
}

//  submit: "key: value" lines for the fields, then the output (text as it is, anything else
//  in base64). Exit status 0 if the task succeeded, 1 if it failed.
static int
s_print_result (const msgpack_object *payload)
{
    static const char *const fields [] = {"task_id",           "task_type",     "selected_node",
                                          "cost_optimal_node", "dispatched_to", "circuit_state",
                                          "success",           "status",        "error",
                                          "latency_ms",        "attempts",      "disagreements"};
    if (payload->type != MSGPACK_OBJECT_MAP || !s_get (payload, "success"))
        return s_unexpected ();
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        char key [32], value [S_CELL_MAX * 2];
        snprintf (key, sizeof key, "%s:", fields [i]);
        s_get_text (value, sizeof value, payload, fields [i]);
        printf ("%-18s %s\n", key, value);
    }
    const char *data;
    size_t size;
    if (s_output (payload, &data, &size)) {
        if (s_is_text (data, size)) {
            printf ("%-18s ", "output:");
            fwrite (data, 1, size, stdout);
            if (size == 0 || data [size - 1] != '\n')
                fputc ('\n', stdout);
        }
        else {
            printf ("%-18s ", "output_base64:");
            s_base64_write (stdout, data, size);
            fputc ('\n', stdout);
        }
    }
    return s_succeeded (payload) ? S_EXIT_OK : S_EXIT_FAIL;
}

//  tasks: one row per task this node owns, oldest first, then the owner's figures.
static int
s_print_tasks (const msgpack_object *payload)
{
    const msgpack_object *tasks = s_get (payload, "tasks");
    if (payload->type != MSGPACK_OBJECT_MAP || !tasks || tasks->type != MSGPACK_OBJECT_ARRAY)
        return s_unexpected ();
    enum { ID, HANDLER, PRIORITY, ATTEMPTS, AGE, NODE, COLUMNS };
    size_t rows = tasks->via.array.size;
    char (*cells) [S_CELL_MAX] = calloc (rows * COLUMNS + 1, S_CELL_MAX);
    if (!cells)
        return S_EXIT_FAIL;
    for (size_t r = 0; r < rows; r++) {
        const msgpack_object *task = &tasks->via.array.ptr [r];
        char (*row) [S_CELL_MAX] = cells + r * COLUMNS;
        s_get_text (row [ID], S_CELL_MAX, task, "id");
        row [ID][12] = 0;
        s_get_text (row [HANDLER], S_CELL_MAX, task, "handler");
        uint64_t priority = s_get_uint (task, "priority");
        snprintf (row [PRIORITY], S_CELL_MAX, "%s", priority < 4 ? s_priorities [priority] : "?");
        s_get_text (row [ATTEMPTS], S_CELL_MAX, task, "attempts");
        s_duration (row [AGE], S_CELL_MAX, s_get_uint (task, "age_ms"));
        const msgpack_object *pending = s_get (task, "pending");
        if (pending && pending->type == MSGPACK_OBJECT_BOOLEAN && pending->via.boolean)
            snprintf (row [NODE], S_CELL_MAX, "pending");
        else {
            s_get_text (row [NODE], S_CELL_MAX, task, "node_name");
            if (!row [NODE][0] || strcmp (row [NODE], "?") == 0) {
                s_get_text (row [NODE], S_CELL_MAX, task, "node");
                row [NODE][12] = 0;
            }
        }
    }
    static const char *const headers [] = {"ID", "HANDLER", "PRIORITY", "ATTEMPTS", "AGE", "NODE"};
    if (rows)
        s_print_table (headers, COLUMNS, cells, rows);
    free (cells);
    uint64_t owned = s_get_uint (payload, "owned");
    printf ("%" PRIu64 " owned, %" PRIu64 " pending, %" PRIu64 " in flight", owned,
            s_get_uint (payload, "pending"), s_get_uint (payload, "in_flight"));
    if (owned > rows)
        printf (" (the oldest %zu shown)", rows);
    printf ("\n");
    return S_EXIT_OK;
}

//  ---------------------------------------------------------------------------------------------
//  Commands and usage

static const struct {
    const char *name;
    int args;           //  arguments after the command, exactly
    const char *first;  //  the first argument when it is a fixed word ("add"), else NULL
    const char *usage;  //  the command with its arguments
    s_print_fn *print;
} s_commands [] = {
    {"status", 0, NULL, "status", s_print_status},
    {"members", 0, NULL, "members", s_print_members},
    {"keys", 0, NULL, "keys", s_print_keys},
    {"join", 1, NULL, "join CONTACT", s_print_join},
    {"trust", 2, "add", "trust add KEY", s_print_trust},
    {"metrics", 0, NULL, "metrics", s_print_metrics},
    {"watch", 0, NULL, "watch", s_print_watch},
    {"topology", 0, NULL, "topology", s_print_topology},
    {"submit", 1, NULL, "submit HANDLER [-] [TASK OPTIONS]", s_print_result},
    {"map", 1, NULL, "map HANDLER [TASK OPTIONS] < INPUTS", NULL},  //  s_map prints
    {"tasks", 0, NULL, "tasks", s_print_tasks},
    {"state-set", 2, NULL, "state set KEY VALUE", s_print_state_version},
    {"state-del", 1, NULL, "state del KEY", s_print_state_version},
    {"state-get", 2, NULL, "state get KEY [NODE]", s_print_state_value},
    {"state-keys", 1, NULL, "state keys [NODE]", s_print_state_keys},
    {"fault", 1, NULL, "fault ACTOR", s_print_fault},  //  test hook, see zmeshctl(8)
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
             S_TIMEOUT_MS_DEFAULT, S_WORK_TIMEOUT_MS, S_TAGS_MAX);
}

static int
s_usage_error (const char *format, const char *detail)
{
    fprintf (stderr, "zmeshctl: ");
    fprintf (stderr, format, detail);
    fprintf (stderr, "\n\n");
    s_usage (stderr);
    return S_EXIT_USAGE;
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
s_parse_state (s_options_t *options)
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
        return s_usage_error ("%s", "state set KEY VALUE | state get KEY [NODE] | state del KEY"
                                    " | state keys [NODE]");
    snprintf (command, sizeof command, "state-%s", sub);
    options->command = command;
    options->args = args;
    options->arg_count = strcmp (sub, "set") == 0 || strcmp (sub, "get") == 0 ? 2 : 1;
    return S_EXIT_OK;
}

//  ---------------------------------------------------------------------------------------------
//  Task options

enum {
    S_OPT_PAYLOAD = 256,
    S_OPT_PRIORITY,
    S_OPT_CPU,
    S_OPT_MEMORY,
    S_OPT_GPUS,
    S_OPT_REQUIRE,
    S_OPT_REDUNDANCY,
    S_OPT_STRATEGY,
    S_OPT_TIMEOUT_TASK,
    S_OPT_RETRIES
};

//  A whole number of digits only, at most max.
static bool
s_parse_uint (const char *text, uint64_t max, uint64_t *value)
{
    if (!text [0] || strspn (text, "0123456789") != strlen (text))
        return false;
    errno = 0;
    unsigned long long parsed = strtoull (text, NULL, 10);
    if (errno || parsed > max)
        return false;
    *value = parsed;
    return true;
}

//  CPU: cores as a decimal number ("2", "0.5") or millicores ("500m"); at most 2^32-1 m.
static bool
s_parse_cpu (const char *text, uint64_t *millicores)
{
    size_t length = strlen (text);
    if (length > 1 && text [length - 1] == 'm') {
        char digits [32];
        if (length - 1 >= sizeof digits)
            return false;
        memcpy (digits, text, length - 1);
        digits [length - 1] = 0;
        return s_parse_uint (digits, UINT32_MAX, millicores);
    }
    if (!text [0] || strspn (text, "0123456789.") != length
        || strchr (text, '.') != strrchr (text, '.'))
        return false;
    char *end;
    double cores = strtod (text, &end);
    if (*end || cores * 1000 > UINT32_MAX)
        return false;
    *millicores = (uint64_t) (cores * 1000 + 0.5);
    return true;
}

//  Bytes: a whole number, optionally with K, M, G or T (powers of 1024), then "i", "iB" or "B".
static bool
s_parse_bytes (const char *text, uint64_t *bytes)
{
    size_t digits = strspn (text, "0123456789");
    if (digits == 0 || digits > 19)
        return false;
    char number [20];
    memcpy (number, text, digits);
    number [digits] = 0;
    uint64_t value;
    if (!s_parse_uint (number, UINT64_MAX, &value))
        return false;
    const char *suffix = text + digits;
    static const char units [] = "KMGT";
    unsigned shift = 0;
    const char *unit = *suffix ? strchr (units, toupper ((unsigned char) *suffix)) : NULL;
    if (unit) {
        shift = 10 * (unsigned) (unit - units + 1);
        suffix++;
    }
    if (*suffix && strcmp (suffix, "i") != 0 && strcmp (suffix, "iB") != 0
        && strcmp (suffix, "B") != 0)
        return false;
    if (shift && value > (UINT64_MAX >> shift))
        return false;
    *bytes = value << shift;
    return true;
}

//  A capability tag: 1..31 bytes of [A-Za-z0-9._:-].
static bool
s_tag_valid (const char *tag)
{
    size_t length = strlen (tag);
    if (length < 1 || length > 31)
        return false;
    for (size_t i = 0; i < length; i++)
        if (!isalnum ((unsigned char) tag [i]) && !strchr ("._:-", tag [i]))
            return false;
    return true;
}

//  One entry of the options frame.
static void
s_spec_uint (s_options_t *options, const char *key, uint64_t value)
{
    msgpack_pack_str_with_body (&options->spec_pk, key, strlen (key));
    msgpack_pack_uint64 (&options->spec_pk, value);
    options->spec_count++;
}

static void
s_spec_str (s_options_t *options, const char *key, const char *value)
{
    msgpack_pack_str_with_body (&options->spec_pk, key, strlen (key));
    msgpack_pack_str_with_body (&options->spec_pk, value, strlen (value));
    options->spec_count++;
}

//  A task option from the command line: into the options frame. 0, or a usage error.
static int
s_parse_task_option (s_options_t *options, int option, const char *value)
{
    uint64_t number = 0;
    options->task_options = true;
    switch (option) {
        case S_OPT_PAYLOAD:
            options->payload = value;
            return 0;
        case S_OPT_PRIORITY:
            number = 4;
            for (uint64_t p = 0; p < 4; p++)
                if (strcmp (value, s_priorities [p]) == 0)
                    number = p;
            if (number == 4 && !s_parse_uint (value, 3, &number))
                return s_usage_error ("--priority: '%s' is not low, normal, high or critical",
                                      value);
            s_spec_uint (options, "priority", number);
            return 0;
        case S_OPT_CPU:
            if (!s_parse_cpu (value, &number))
                return s_usage_error ("--cpu: '%s' is not cores (0.5, 2) or millicores (500m)",
                                      value);
            s_spec_uint (options, "cpu_millicores", number);
            return 0;
        case S_OPT_MEMORY:
            if (!s_parse_bytes (value, &number))
                return s_usage_error ("--memory: '%s' is not bytes (a number, or with K, M, G, T)",
                                      value);
            s_spec_uint (options, "memory_bytes", number);
            return 0;
        case S_OPT_GPUS:
            if (!s_parse_uint (value, UINT32_MAX, &number))
                return s_usage_error ("--gpus: '%s' is not a whole number", value);
            s_spec_uint (options, "gpus", number);
            return 0;
        case S_OPT_REQUIRE:
            if (!s_tag_valid (value))
                return s_usage_error (
                    "--require: '%s' is not a tag (1..31 characters of A-Z a-z 0-9 . _ : -)",
                    value);
            if (options->tag_count == S_TAGS_MAX)
                return s_usage_error ("--require: '%s' is one tag too many (at most 16)", value);
            options->tags [options->tag_count++] = value;
            return 0;
        case S_OPT_REDUNDANCY:
            if (!s_parse_uint (value, UINT32_MAX, &number) || number == 0)
                return s_usage_error ("--redundancy: '%s' is not a number of nodes (1 or more)",
                                      value);
            s_spec_uint (options, "redundancy", number);
            return 0;
        case S_OPT_STRATEGY:
            if (strcmp (value, "score") && strcmp (value, "auction") && strcmp (value, "hash")
                && strcmp (value, "local"))
                return s_usage_error ("--strategy: '%s' is not score, auction, hash or local",
                                      value);
            s_spec_str (options, "strategy", value);
            return 0;
        case S_OPT_TIMEOUT_TASK:
            if (!s_parse_uint (value, UINT32_MAX, &number))
                return s_usage_error ("--timeout-task: '%s' is not milliseconds", value);
            s_spec_uint (options, "timeout_ms", number);
            return 0;
        case S_OPT_RETRIES:
            if (!s_parse_uint (value, 100, &number))
                return s_usage_error ("--retries: '%s' is not a number of retries (0..100)", value);
            s_spec_uint (options, "max_retries", number);
            return 0;
        default:
            return s_usage_error ("unknown option '%s'", value);
    }
}

//  All of a stream, up to max bytes: 0, -1 if it could not be read, 1 if it is longer.
static int
s_read_all (FILE *in, size_t max, char **data, size_t *size)
{
    size_t capacity = 65536, used = 0;
    char *buffer = malloc (capacity);
    while (buffer) {
        used += fread (buffer + used, 1, capacity - used, in);
        if (used < capacity)
            break;
        if (used > max) {
            free (buffer);
            return 1;
        }
        char *bigger = realloc (buffer, capacity * 2);
        if (!bigger)
            free (buffer);
        buffer = bigger;
        capacity *= 2;
    }
    if (!buffer || ferror (in)) {
        free (buffer);
        return -1;
    }
    if (used > max) {
        free (buffer);
        return 1;
    }
    *data = buffer;
    *size = used;
    return 0;
}

//  submit HANDLER [-] and map HANDLER: the handler, the payload, the options frame.
static int
s_parse_work (s_options_t *options)
{
    bool map = strcmp (options->command, "map") == 0;
    if (!map && options->arg_count == 2 && strcmp (options->args [1], "-") == 0) {
        options->payload_stdin = true;
        options->arg_count = 1;
    }
    if (options->arg_count != 1)
        return s_usage_error ("wrong number of arguments: the command is '%s'",
                              map ? "map HANDLER < INPUTS" : "submit HANDLER [-]");
    if (map && options->payload)
        return s_usage_error ("%s", "map: --payload does not apply (each input line is one)");
    if (options->payload && options->payload_stdin)
        return s_usage_error ("%s", "submit: give --payload or -, not both");
    const char *handler = options->args [0];
    bool valid = strlen (handler) >= 1 && strlen (handler) <= 63;
    for (const char *c = handler; *c && valid; c++)
        valid = *c >= 0x20 && *c <= 0x7e;
    if (!valid)
        return s_usage_error ("not a handler name: '%.40s' (1..63 printable ASCII characters)",
                              handler);
    s_spec_str (options, "handler", handler);
    if (options->tag_count) {
        msgpack_pack_str_with_body (&options->spec_pk, "tags", 4);
        msgpack_pack_array (&options->spec_pk, (uint32_t) options->tag_count);
        for (int i = 0; i < options->tag_count; i++)
            msgpack_pack_str_with_body (&options->spec_pk, options->tags [i],
                                        strlen (options->tags [i]));
        options->spec_count++;
    }
    if (!options->timeout_given)
        options->timeout_ms = S_WORK_TIMEOUT_MS;
    //  The payload.
    FILE *in = options->payload_stdin ? stdin : NULL;
    const char *name = "standard input";
    if (options->payload && options->payload [0] == '@') {
        name = options->payload + 1;
        in = fopen (name, "rb");
        if (!in) {
            fprintf (stderr, "zmeshctl: cannot read %s: %s\n", name, strerror (errno));
            return S_EXIT_FAIL;
        }
    }
    else if (options->payload) {
        options->task_size = strlen (options->payload);
        if (options->task_size > S_PAYLOAD_MAX)
            return s_usage_error ("%s", "--payload: longer than 1 MiB");
        options->task_data = strdup (options->payload);
        return options->task_data ? S_EXIT_OK : S_EXIT_FAIL;
    }
    if (!in)
        return S_EXIT_OK;  //  no payload
    int rc = s_read_all (in, S_PAYLOAD_MAX, &options->task_data, &options->task_size);
    if (in != stdin)
        fclose (in);
    if (rc < 0) {
        fprintf (stderr, "zmeshctl: cannot read %s\n", name);
        return S_EXIT_FAIL;
    }
    if (rc > 0)
        return s_usage_error ("the payload in %s is larger than 1 MiB", name);
    return S_EXIT_OK;
}

//  Parse the command line. -1 when done (help, version), else an exit status (OK to go on).
static int
s_parse (int argc, char *argv [], s_options_t *options)
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
        {"payload", required_argument, NULL, S_OPT_PAYLOAD},
        {"priority", required_argument, NULL, S_OPT_PRIORITY},
        {"cpu", required_argument, NULL, S_OPT_CPU},
        {"memory", required_argument, NULL, S_OPT_MEMORY},
        {"gpus", required_argument, NULL, S_OPT_GPUS},
        {"require", required_argument, NULL, S_OPT_REQUIRE},
        {"redundancy", required_argument, NULL, S_OPT_REDUNDANCY},
        {"strategy", required_argument, NULL, S_OPT_STRATEGY},
        {"timeout-task", required_argument, NULL, S_OPT_TIMEOUT_TASK},
        {"retries", required_argument, NULL, S_OPT_RETRIES},
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
                    return s_usage_error ("--timeout: '%s' is not milliseconds (1..3600000)",
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
                    return s_usage_error (option == 'n' ? "--count: '%s' is not a whole number"
                                                        : "--for: '%s' is not milliseconds",
                                          optarg);
                *(option == 'n' ? &options->count : &options->for_ms) = value;
                break;
            }
            case S_OPT_PAYLOAD:
            case S_OPT_PRIORITY:
            case S_OPT_CPU:
            case S_OPT_MEMORY:
            case S_OPT_GPUS:
            case S_OPT_REQUIRE:
            case S_OPT_REDUNDANCY:
            case S_OPT_STRATEGY:
            case S_OPT_TIMEOUT_TASK:
            case S_OPT_RETRIES: {
                int rc = s_parse_task_option (options, option, optarg);
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
                return s_usage_error ("%s needs a value", s_option_name (argv [optind - 1], name));
            default:
                return s_usage_error ("unknown option '%s'",
                                      s_option_name (argv [optind - 1], name));
        }
    }
    if (!options->data || !options->data [0])
        return s_usage_error ("%s", "--data DIR is required: the node's data directory");
    if (optind >= argc)
        return s_usage_error ("%s", "no command given");
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
        return s_usage_error ("%s", "task options (--payload, --priority, --require...) are for "
                                    "submit and map");
    for (int i = 0; i < options->arg_count; i++)
        if (strlen (options->args [i]) > S_ARG_BYTES_MAX)
            return s_usage_error ("argument '%.40s...' is too long", options->args [i]);
    for (size_t i = 0; i < S_COMMAND_COUNT; i++) {
        if (strcmp (options->command, s_commands [i].name) != 0)
            continue;
        if (s_commands [i].first && options->arg_count >= 1
            && strcmp (options->args [0], s_commands [i].first) != 0)
            return s_usage_error ("unknown subcommand '%s'", options->args [0]);
        if (work) {
            int rc = s_parse_work (options);
            if (rc)
                return rc;
        }
        if (options->arg_count != s_commands [i].args)
            return s_usage_error ("wrong number of arguments: the command is '%s'",
                                  s_commands [i].usage);
        int length =
            snprintf (options->path, sizeof options->path, "%s/control.sock", options->data);
        if (length < 0 || (size_t) length >= sizeof options->path) {
            fprintf (stderr, "zmeshctl: %s/control.sock is too long for a unix socket path\n",
                     options->data);
            return S_EXIT_FAIL;
        }
        return S_EXIT_OK;
    }
    return s_usage_error ("unknown command '%s'", options->command);
}

//  ---------------------------------------------------------------------------------------------
//  Talking to the node

//  Is there a node behind the socket file? Says why not, at once, rather than after a timeout.
static int
s_check_socket (const s_options_t *options)
{
    struct stat info;
    if (stat (options->path, &info)) {
        if (errno == ENOENT)
            fprintf (stderr,
                     "zmeshctl: no control socket at %s (is zmeshd running with --data %s?)\n",
                     options->path, options->data);
        else
            fprintf (stderr, "zmeshctl: cannot reach %s: %s\n", options->path, strerror (errno));
        return S_EXIT_FAIL;
    }
    if (!S_ISSOCK (info.st_mode)) {
        fprintf (stderr, "zmeshctl: %s is not a socket\n", options->path);
        return S_EXIT_FAIL;
    }
    int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return S_EXIT_OK;  //  let libzmq try
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    snprintf (address.sun_path, sizeof address.sun_path, "%s", options->path);
    int rc = connect (fd, (struct sockaddr *) &address, sizeof address);
    int error = errno;
    close (fd);
    if (rc == 0 || error == EAGAIN || error == EINPROGRESS)
        return S_EXIT_OK;
    if (error == ECONNREFUSED)
        fprintf (stderr,
                 "zmeshctl: nothing listens on %s: the node is not running (stale socket file)\n",
                 options->path);
    else if (error == EACCES || error == EPERM)
        fprintf (stderr, "zmeshctl: permission denied on %s: run zmeshctl as the node's user\n",
                 options->path);
    else
        fprintf (stderr, "zmeshctl: cannot connect to %s: %s\n", options->path, strerror (error));
    return S_EXIT_FAIL;
}

//  ["submit"][options][payload], the options with the map's sequence number when has_seq.
//  0, or -1 (zmq_errno says why).
static int
s_send_submit (void *socket,
               const s_options_t *options,
               bool has_seq,
               uint64_t seq,
               const char *payload,
               size_t size,
               int flags)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, options->spec_count + (has_seq ? 1 : 0));
    if (has_seq) {
        msgpack_pack_str_with_body (&pk, "seq", 3);
        msgpack_pack_uint64 (&pk, seq);
    }
    msgpack_sbuffer_write (&buffer, options->spec.data, options->spec.size);
    int rc = zmq_send (socket, "submit", 6, ZMQ_SNDMORE | flags);
    if (rc >= 0)
        rc = zmq_send (socket, buffer.data, buffer.size, ZMQ_SNDMORE | flags);
    if (rc >= 0)
        rc = zmq_send (socket, size ? payload : "", size, flags);
    msgpack_sbuffer_destroy (&buffer);
    return rc < 0 ? -1 : 0;
}

//  Send the request and wait for [status][payload]. 0 with both frames initialised, else an
//  exit status (the reason printed).
static int
s_exchange (void *socket, const s_options_t *options, zmq_msg_t *status, zmq_msg_t *payload)
{
    int rc;
    if (strcmp (options->command, "submit") == 0)
        rc = s_send_submit (socket, options, false, 0, options->task_data, options->task_size,
                            ZMQ_DONTWAIT);
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
        return S_EXIT_FAIL;
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
        return S_EXIT_FAIL;
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
        return s_unexpected ();
    }
    return 0;
}

static bool
s_frame_is (zmq_msg_t *frame, const char *text)
{
    return zmq_msg_size (frame) == strlen (text)
           && memcmp (zmq_msg_data (frame), text, strlen (text)) == 0;
}

//  Print the answer: the payload for "ok", the message for "error".
static int
s_show (const s_options_t *options, size_t command, zmq_msg_t *status, zmq_msg_t *payload)
{
    if (s_frame_is (status, "error")) {
        char message [1024];
        s_sanitize (message, sizeof message, zmq_msg_data (payload), zmq_msg_size (payload));
        fprintf (stderr, "zmeshctl: %s\n", message);
        return S_EXIT_FAIL;
    }
    if (!s_frame_is (status, "ok"))
        return s_unexpected ();
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    int rc = S_EXIT_FAIL;
    if (msgpack_unpack_next (&unpacked, zmq_msg_data (payload), zmq_msg_size (payload), &offset)
            != MSGPACK_UNPACK_SUCCESS
        || offset != zmq_msg_size (payload))
        rc = s_unexpected ();
    else if (options->dot && strcmp (options->command, "topology") == 0)
        rc = s_print_dot (&unpacked.data);
    else if (options->json && strcmp (options->command, "submit") == 0) {
        if (unpacked.data.type != MSGPACK_OBJECT_MAP || !s_get (&unpacked.data, "success"))
            rc = s_unexpected ();
        else {
            s_write_result_json (&unpacked.data, 0);
            rc = s_succeeded (&unpacked.data) ? S_EXIT_OK : S_EXIT_FAIL;
        }
    }
    else if (options->json && strcmp (options->command, "watch") != 0) {
        zmesh_json_write (stdout, &unpacked.data);
        fputc ('\n', stdout);
        rc = S_EXIT_OK;
    }
    else
        rc = s_commands [command].print (&unpacked.data);
    msgpack_unpacked_destroy (&unpacked);
    return rc;
}

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

//  The lease and tick period from the answer to "watch".
static void
s_watch_terms (zmq_msg_t *payload, uint64_t *lease_ms, uint64_t *tick_ms)
{
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    if (msgpack_unpack_next (&unpacked, zmq_msg_data (payload), zmq_msg_size (payload), &offset)
        == MSGPACK_UNPACK_SUCCESS) {
        *lease_ms = s_get_uint (&unpacked.data, "lease_ms");
        *tick_ms = s_get_uint (&unpacked.data, "tick_ms");
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
s_print_event (const s_options_t *options, const msgpack_object *event)
{
    if (options->json) {
        zmesh_json_write (stdout, event);
        fputc ('\n', stdout);
    }
    else {
        char type [16], name [S_CELL_MAX], id [40], from [16], to [16], endpoint [S_CELL_MAX];
        s_get_text (type, sizeof type, event, "type");
        s_get_text (name, sizeof name, event, "name");
        s_get_text (id, sizeof id, event, "id");
        s_get_text (from, sizeof from, event, "from");
        s_get_text (to, sizeof to, event, "to");
        s_get_text (endpoint, sizeof endpoint, event, "endpoint");
        char stamp [32];
        time_t now = time (NULL);
        strftime (stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", localtime (&now));
        if (s_get (event, "key")) {  //  a node-state change
            char key [S_CELL_MAX], value [S_CELL_MAX];
            s_get_text (key, sizeof key, event, "key");
            s_get_text (value, sizeof value, event, "value");
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
static int
s_watch (void *socket, const s_options_t *options, uint64_t lease_ms, uint64_t tick_ms)
{
    int64_t start = s_now_ms (), last_heard = start, renewed = start;
    long events = 0;
    while (!options->count || events < options->count) {
        int64_t now = s_now_ms ();
        if (options->for_ms && now - start >= options->for_ms)
            return S_EXIT_OK;
        if (now - last_heard > (int64_t) tick_ms * 3) {
            fprintf (stderr, "zmeshctl: the node at %s stopped answering\n", options->path);
            return S_EXIT_FAIL;
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
            last_heard = s_now_ms ();
            msgpack_unpacked unpacked;
            msgpack_unpacked_init (&unpacked);
            size_t offset = 0;
            if (s_frame_is (&kind, "event")
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
    return S_EXIT_OK;
}

//  map: one task read and not printed yet.
typedef struct {
    int state;      //  0 empty, 1 answered (msg), 2 refused here (error)
    zmq_msg_t msg;  //  the answer's payload
    const char *error;
} s_slot_t;

//  map: the state of one run.
typedef struct {
    const s_options_t *options;
    void *socket;
    s_slot_t slots [S_MAP_WINDOW];  //  by seq % S_MAP_WINDOW
    uint64_t read;                  //  lines read: the next seq
    uint64_t printed;               //  lines printed: the oldest seq not printed
    uint64_t waiting;               //  submits sent, not answered
    uint64_t failed;
    bool eof;
    bool progress;       //  a progress line on stderr (a terminal)
    int64_t last_heard;  //  last answer (or first submit after none were waiting)
    int64_t last_shown;  //  last progress line
    int64_t started;
} s_map_t;

static void
s_map_progress (s_map_t *m, bool force)
{
    int64_t now = s_now_ms ();
    if (!m->progress || (!force && now - m->last_shown < S_PROGRESS_MS))
        return;
    m->last_shown = now;
    fputs ("\r\033[K", stderr);
    double seconds = (double) (now - m->started) / 1000;
    if (m->eof && m->read) {
        int width = 30, filled = (int) (m->printed * (uint64_t) width / m->read);
        fputc ('[', stderr);
        for (int i = 0; i < width; i++)
            fputc (i < filled ? '=' : i == filled ? '>' : ' ', stderr);
        fprintf (stderr, "] %" PRIu64 "/%" PRIu64 " (%" PRIu64 "%%)", m->printed, m->read,
                 100 * m->printed / m->read);
    }
    else
        fprintf (stderr, "map: %" PRIu64 " done", m->printed);
    fprintf (stderr, ", %" PRIu64 " in flight, %" PRIu64 " failed, %.1f s", m->waiting, m->failed,
             seconds);
}

//  An error line on stderr, off the progress line.
static void s_map_error (s_map_t *m, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));
static void
s_map_error (s_map_t *m, const char *format, ...)
{
    if (m->progress)
        fputs ("\r\033[K", stderr);
    fflush (stdout);
    va_list args;
    va_start (args, format);
    fputs ("zmeshctl: ", stderr);
    vfprintf (stderr, format, args);
    fputc ('\n', stderr);
    va_end (args);
    m->last_shown = 0;  //  redraw the progress line at once
}

//  Print one task's outcome: its output (a line), or a line on stderr if it failed; with
//  --json its result as one JSON document.
static void
s_map_print (s_map_t *m, uint64_t seq)
{
    uint64_t line = seq + 1;
    bool json = m->options->json;
    s_slot_t *slot = &m->slots [seq % S_MAP_WINDOW];
    if (slot->state == 2) {
        m->failed++;
        if (json) {
            printf ("{\"line\":%" PRIu64 ",\"success\":false,\"status\":\"invalid\",\"error\":",
                    line);
            zmesh_json_write_string (stdout, slot->error, strlen (slot->error));
            fputs ("}\n", stdout);
        }
        else
            s_map_error (m, "line %" PRIu64 ": %s", line, slot->error);
        slot->state = 0;
        return;
    }
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    msgpack_unpack_next (&unpacked, zmq_msg_data (&slot->msg), zmq_msg_size (&slot->msg), &offset);
    const msgpack_object *result = &unpacked.data;
    bool success = s_succeeded (result);
    m->failed += !success;
    if (json)
        s_write_result_json (result, line);
    else if (success) {
        const char *data = "";
        size_t size = 0;
        s_output (result, &data, &size);
        if (s_is_text (data, size)) {
            if (size && data [size - 1] == '\n')
                size--;  //  one line per task
            fwrite (data, 1, size, stdout);
        }
        else {
            fputs ("base64:", stdout);
            s_base64_write (stdout, data, size);
        }
        fputc ('\n', stdout);
    }
    else {
        char status [64], error [S_CELL_MAX * 2], id [64];
        s_get_text (status, sizeof status, result, "status");
        s_get_text (error, sizeof error, result, "error");
        s_get_text (id, sizeof id, result, "task_id");
        s_map_error (m, "line %" PRIu64 ": task %s failed: %s%s%s", line, id, status,
                     error [0] ? ": " : "", error);
    }
    msgpack_unpacked_destroy (&unpacked);
    zmq_msg_close (&slot->msg);
    slot->state = 0;
}

//  Read the answers that arrived. 0, or an exit status (the reason printed).
static int
s_map_receive (s_map_t *m)
{
    while (true) {
        zmq_msg_t status, payload;
        zmq_msg_init (&status);
        zmq_msg_init (&payload);
        if (zmq_msg_recv (&status, m->socket, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&status);
            zmq_msg_close (&payload);
            return zmq_errno () == EAGAIN ? 0 : s_unexpected ();
        }
        bool two = zmq_msg_more (&status) && zmq_msg_recv (&payload, m->socket, 0) >= 0
                   && !zmq_msg_more (&payload);
        int rc = 0;
        if (!two)
            rc = s_unexpected ();
        else if (s_frame_is (&status, "error")) {
            char message [1024];
            s_sanitize (message, sizeof message, zmq_msg_data (&payload), zmq_msg_size (&payload));
            s_map_error (m, "%s", message);
            rc = S_EXIT_FAIL;
        }
        else {
            msgpack_unpacked unpacked;
            msgpack_unpacked_init (&unpacked);
            size_t offset = 0;
            const msgpack_object *seq = NULL;
            if (s_frame_is (&status, "ok")
                && msgpack_unpack_next (&unpacked, zmq_msg_data (&payload), zmq_msg_size (&payload),
                                        &offset)
                       == MSGPACK_UNPACK_SUCCESS)
                seq = s_get (&unpacked.data, "seq");
            if (!seq || seq->type != MSGPACK_OBJECT_POSITIVE_INTEGER || seq->via.u64 < m->printed
                || seq->via.u64 >= m->read || m->slots [seq->via.u64 % S_MAP_WINDOW].state != 0)
                rc = s_unexpected ();
            else {
                s_slot_t *slot = &m->slots [seq->via.u64 % S_MAP_WINDOW];
                zmq_msg_init (&slot->msg);
                zmq_msg_move (&slot->msg, &payload);
                slot->state = 1;
                m->waiting--;
                m->last_heard = s_now_ms ();
            }
            msgpack_unpacked_destroy (&unpacked);
        }
        zmq_msg_close (&status);
        zmq_msg_close (&payload);
        if (rc)
            return rc;
    }
}

//  map HANDLER < INPUTS: a task per line, at most S_MAP_WINDOW read and not yet printed;
//  outputs in input order. Exit status 1 if any task failed.
static int
s_map (void *socket, const s_options_t *options)
{
    s_map_t *m = (s_map_t *) calloc (1, sizeof *m);
    if (!m)
        return S_EXIT_FAIL;
    m->options = options;
    m->socket = socket;
    m->progress = isatty (STDERR_FILENO);
    m->started = m->last_heard = s_now_ms ();
    char *line = NULL;
    size_t capacity = 0;
    int rc = 0;
    while (rc == 0 && !(m->eof && m->printed == m->read)) {
        //  Read and send while there is room.
        while (!m->eof && m->read - m->printed < S_MAP_WINDOW) {
            ssize_t length = getline (&line, &capacity, stdin);
            if (length < 0) {
                m->eof = true;
                if (ferror (stdin)) {
                    s_map_error (m, "cannot read standard input: %s", strerror (errno));
                    rc = S_EXIT_FAIL;
                }
                break;
            }
            if (length && line [length - 1] == '\n')
                length--;
            s_slot_t *slot = &m->slots [m->read % S_MAP_WINDOW];
            if ((size_t) length > S_PAYLOAD_MAX) {
                slot->state = 2;
                slot->error = "longer than 1 MiB, the largest payload: not submitted";
            }
            else if (s_send_submit (socket, options, true, m->read, line, (size_t) length, 0)) {
                s_map_error (m, "cannot send to %s: %s", options->path,
                             zmq_strerror (zmq_errno ()));
                rc = S_EXIT_FAIL;
                break;
            }
            else {
                if (m->waiting++ == 0)
                    m->last_heard = s_now_ms ();
            }
            m->read++;
        }
        //  Print what is done, in order.
        while (rc == 0 && m->printed < m->read && m->slots [m->printed % S_MAP_WINDOW].state)
            s_map_print (m, m->printed++);
        s_map_progress (m, false);
        if (rc || (m->eof && m->printed == m->read))
            break;
        //  Wait for answers.
        zmq_pollitem_t item = {socket, 0, ZMQ_POLLIN, 0};
        int ready = zmq_poll (&item, 1, m->progress ? S_PROGRESS_MS : 1000);
        if (ready < 0 && zmq_errno () != EINTR) {
            s_map_error (m, "%s", zmq_strerror (zmq_errno ()));
            rc = S_EXIT_FAIL;
        }
        else if (ready > 0)
            rc = s_map_receive (m);
        else if (m->waiting && s_now_ms () - m->last_heard > options->timeout_ms) {
            s_map_error (m,
                         "no result from the node at %s for %d ms, with %" PRIu64
                         " tasks waiting (--timeout)",
                         options->path, options->timeout_ms, m->waiting);
            rc = S_EXIT_FAIL;
        }
    }
    if (m->progress) {
        s_map_progress (m, true);
        fputc ('\n', stderr);
    }
    for (size_t i = 0; i < S_MAP_WINDOW; i++)
        if (m->slots [i].state == 1)
            zmq_msg_close (&m->slots [i].msg);
    if (rc == 0 && m->failed)
        rc = S_EXIT_FAIL;
    free (line);
    free (m);
    return rc;
}

static int
s_run (const s_options_t *options)
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
        return S_EXIT_FAIL;
    }
    int linger = 0;
    int64_t max_bytes = S_ANSWER_BYTES_MAX;
    zmq_setsockopt (socket, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (socket, ZMQ_MAXMSGSIZE, &max_bytes, sizeof max_bytes);
    char endpoint [S_PATH_MAX + 8];
    snprintf (endpoint, sizeof endpoint, "ipc://%s", options->path);
    if (zmq_connect (socket, endpoint)) {
        fprintf (stderr, "zmeshctl: cannot connect to %s: %s\n", endpoint,
                 zmq_strerror (zmq_errno ()));
        rc = S_EXIT_FAIL;
    }
    else if (strcmp (options->command, "map") == 0)
        rc = s_map (socket, options);
    else {
        zmq_msg_t status, payload;
        rc = s_exchange (socket, options, &status, &payload);
        if (rc == 0) {
            rc = s_show (options, command, &status, &payload);
            uint64_t lease_ms = 0, tick_ms = 0;
            if (rc == 0 && strcmp (options->command, "watch") == 0)
                s_watch_terms (&payload, &lease_ms, &tick_ms);
            zmq_msg_close (&status);
            zmq_msg_close (&payload);
            if (rc == 0 && lease_ms && tick_ms)
                rc = s_watch (socket, options, lease_ms, tick_ms);
        }
    }
    zmq_close (socket);
    zmq_ctx_term (context);
    return rc;
}

int
main (int argc, char *argv [])
{
    s_options_t options = {0};
    int rc = s_parse (argc, argv, &options);
    if (rc == 0)
        rc = s_run (&options);
    else
        rc = rc < 0 ? S_EXIT_OK : rc;
    msgpack_sbuffer_destroy (&options.spec);
    free (options.task_data);
    if (fflush (stdout) != 0 || ferror (stdout)) {
        fprintf (stderr, "zmeshctl: cannot write the output: %s\n", strerror (errno));
        return S_EXIT_FAIL;
    }
    return rc;
}
