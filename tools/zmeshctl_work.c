/*  zmeshctl_work.c: the work commands of zmeshctl: task options, submit, tasks.

    The task options (--priority, --cpu, --memory, --require...) are checked as getopt meets
    them and packed at once into the options frame, a msgpack map whose entries zmeshctl
    keeps as bytes, so a submit (and each of map's) only has to prepend its map header and
    "seq". A bad value is a usage error naming the option and the value. submit sends
    ["submit"][options][payload bytes]; the answer is the task's result, when it ends. Its
    output is printed as text if it is text (UTF-8 without control characters but tab and
    newline), else in base64; --json gives the result as one JSON document.
*/
#include "zmeshctl.h"
#include "zmesh_json.h"
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

//  ---------------------------------------------------------------------------------------------
//  Work: results and task lists

static const char *const s_priorities [] = {"low", "normal", "high", "critical"};

//  Text zmeshctl shows as it is: well-formed UTF-8 without control characters other than tab
//  and newline. A task's output that is not is shown in base64.
bool
zmeshctl_is_text (const char *data, size_t size)
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
void
zmeshctl_base64_write (FILE *out, const char *data, size_t size)
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
const msgpack_object *
zmeshctl_output (const msgpack_object *result, const char **data, size_t *size)
{
    const msgpack_object *output = zmeshctl_get (result, "output");
    if (!output || output->type != MSGPACK_OBJECT_BIN)
        return NULL;
    *data = output->via.bin.ptr;
    *size = output->via.bin.size;
    return output;
}

bool
zmeshctl_succeeded (const msgpack_object *result)
{
    const msgpack_object *success = zmeshctl_get (result, "success");
    return success && success->type == MSGPACK_OBJECT_BOOLEAN && success->via.boolean;
}

//  A result as one JSON document on one line: its fields, "line" first when it is a map's
//  (its input line), and the output as "output" (text) or "output_b64".
void
zmeshctl_write_result_json (const msgpack_object *result, uint64_t line)
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
    if (zmeshctl_output (result, &data, &size)) {
        if (!first)
            fputc (',', stdout);
        if (zmeshctl_is_text (data, size)) {
            fputs ("\"output\":", stdout);
            zmesh_json_write_string (stdout, data, size);
        }
        else {
            fputs ("\"output_b64\":\"", stdout);
            zmeshctl_base64_write (stdout, data, size);
            fputc ('"', stdout);
        }
    }
    fputs ("}\n", stdout);
}

//  submit: "key: value" lines for the fields, then the output (text as it is, anything else
//  in base64). Exit status 0 if the task succeeded, 1 if it failed.
int
zmeshctl_print_result (const msgpack_object *payload)
{
    static const char *const fields [] = {"task_id",           "task_type",     "selected_node",
                                          "cost_optimal_node", "dispatched_to", "circuit_state",
                                          "success",           "status",        "error",
                                          "latency_ms",        "attempts",      "disagreements"};
    if (payload->type != MSGPACK_OBJECT_MAP || !zmeshctl_get (payload, "success"))
        return zmeshctl_unexpected ();
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        char key [32], value [ZMESHCTL_CELL_MAX * 2];
        snprintf (key, sizeof key, "%s:", fields [i]);
        zmeshctl_get_text (value, sizeof value, payload, fields [i]);
        printf ("%-18s %s\n", key, value);
    }
    const char *data;
    size_t size;
    if (zmeshctl_output (payload, &data, &size)) {
        if (zmeshctl_is_text (data, size)) {
            printf ("%-18s ", "output:");
            fwrite (data, 1, size, stdout);
            if (size == 0 || data [size - 1] != '\n')
                fputc ('\n', stdout);
        }
        else {
            printf ("%-18s ", "output_base64:");
            zmeshctl_base64_write (stdout, data, size);
            fputc ('\n', stdout);
        }
    }
    return zmeshctl_succeeded (payload) ? ZMESHCTL_EXIT_OK : ZMESHCTL_EXIT_FAIL;
}

//  tasks: one row per task this node owns, oldest first, then the owner's figures.
int
zmeshctl_print_tasks (const msgpack_object *payload)
{
    const msgpack_object *tasks = zmeshctl_get (payload, "tasks");
    if (payload->type != MSGPACK_OBJECT_MAP || !tasks || tasks->type != MSGPACK_OBJECT_ARRAY)
        return zmeshctl_unexpected ();
    enum { ID, HANDLER, PRIORITY, ATTEMPTS, AGE, NODE, COLUMNS };
    size_t rows = tasks->via.array.size;
    char (*cells) [ZMESHCTL_CELL_MAX] = calloc (rows * COLUMNS + 1, ZMESHCTL_CELL_MAX);
    if (!cells)
        return ZMESHCTL_EXIT_FAIL;
    for (size_t r = 0; r < rows; r++) {
        const msgpack_object *task = &tasks->via.array.ptr [r];
        char (*row) [ZMESHCTL_CELL_MAX] = cells + r * COLUMNS;
        zmeshctl_get_text (row [ID], ZMESHCTL_CELL_MAX, task, "id");
        row [ID][12] = 0;
        zmeshctl_get_text (row [HANDLER], ZMESHCTL_CELL_MAX, task, "handler");
        uint64_t priority = zmeshctl_get_uint (task, "priority");
        snprintf (row [PRIORITY], ZMESHCTL_CELL_MAX, "%s",
                  priority < 4 ? s_priorities [priority] : "?");
        zmeshctl_get_text (row [ATTEMPTS], ZMESHCTL_CELL_MAX, task, "attempts");
        zmeshctl_duration (row [AGE], ZMESHCTL_CELL_MAX, zmeshctl_get_uint (task, "age_ms"));
        const msgpack_object *pending = zmeshctl_get (task, "pending");
        if (pending && pending->type == MSGPACK_OBJECT_BOOLEAN && pending->via.boolean)
            snprintf (row [NODE], ZMESHCTL_CELL_MAX, "pending");
        else {
            zmeshctl_get_text (row [NODE], ZMESHCTL_CELL_MAX, task, "node_name");
            if (!row [NODE][0] || strcmp (row [NODE], "?") == 0) {
                zmeshctl_get_text (row [NODE], ZMESHCTL_CELL_MAX, task, "node");
                row [NODE][12] = 0;
            }
        }
    }
    static const char *const headers [] = {"ID", "HANDLER", "PRIORITY", "ATTEMPTS", "AGE", "NODE"};
    if (rows)
        zmeshctl_print_table (headers, COLUMNS, cells, rows);
    free (cells);
    uint64_t owned = zmeshctl_get_uint (payload, "owned");
    printf ("%" PRIu64 " owned, %" PRIu64 " pending, %" PRIu64 " in flight", owned,
            zmeshctl_get_uint (payload, "pending"), zmeshctl_get_uint (payload, "in_flight"));
    if (owned > rows)
        printf (" (the oldest %zu shown)", rows);
    printf ("\n");
    return ZMESHCTL_EXIT_OK;
}

//  ---------------------------------------------------------------------------------------------
//  Task options

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
s_spec_uint (zmeshctl_options_t *options, const char *key, uint64_t value)
{
    msgpack_pack_str_with_body (&options->spec_pk, key, strlen (key));
    msgpack_pack_uint64 (&options->spec_pk, value);
    options->spec_count++;
}

static void
s_spec_str (zmeshctl_options_t *options, const char *key, const char *value)
{
    msgpack_pack_str_with_body (&options->spec_pk, key, strlen (key));
    msgpack_pack_str_with_body (&options->spec_pk, value, strlen (value));
    options->spec_count++;
}

//  A task option from the command line: into the options frame. 0, or a usage error.
int
zmeshctl_parse_task_option (zmeshctl_options_t *options, int option, const char *value)
{
    uint64_t number = 0;
    options->task_options = true;
    switch (option) {
        case ZMESHCTL_OPT_PAYLOAD:
            options->payload = value;
            return 0;
        case ZMESHCTL_OPT_PRIORITY:
            number = 4;
            for (uint64_t p = 0; p < 4; p++)
                if (strcmp (value, s_priorities [p]) == 0)
                    number = p;
            if (number == 4 && !s_parse_uint (value, 3, &number))
                return zmeshctl_usage_error (
                    "--priority: '%s' is not low, normal, high or critical", value);
            s_spec_uint (options, "priority", number);
            return 0;
        case ZMESHCTL_OPT_CPU:
            if (!s_parse_cpu (value, &number))
                return zmeshctl_usage_error (
                    "--cpu: '%s' is not cores (0.5, 2) or millicores (500m)", value);
            s_spec_uint (options, "cpu_millicores", number);
            return 0;
        case ZMESHCTL_OPT_MEMORY:
            if (!s_parse_bytes (value, &number))
                return zmeshctl_usage_error (
                    "--memory: '%s' is not bytes (a number, or with K, M, G, T)", value);
            s_spec_uint (options, "memory_bytes", number);
            return 0;
        case ZMESHCTL_OPT_GPUS:
            if (!s_parse_uint (value, UINT32_MAX, &number))
                return zmeshctl_usage_error ("--gpus: '%s' is not a whole number", value);
            s_spec_uint (options, "gpus", number);
            return 0;
        case ZMESHCTL_OPT_REQUIRE:
            if (!s_tag_valid (value))
                return zmeshctl_usage_error (
                    "--require: '%s' is not a tag (1..31 characters of A-Z a-z 0-9 . _ : -)",
                    value);
            if (options->tag_count == ZMESHCTL_TAGS_MAX)
                return zmeshctl_usage_error ("--require: '%s' is one tag too many (at most 16)",
                                             value);
            options->tags [options->tag_count++] = value;
            return 0;
        case ZMESHCTL_OPT_REDUNDANCY:
            if (!s_parse_uint (value, UINT32_MAX, &number) || number == 0)
                return zmeshctl_usage_error (
                    "--redundancy: '%s' is not a number of nodes (1 or more)", value);
            s_spec_uint (options, "redundancy", number);
            return 0;
        case ZMESHCTL_OPT_STRATEGY:
            if (strcmp (value, "score") && strcmp (value, "auction") && strcmp (value, "hash")
                && strcmp (value, "local"))
                return zmeshctl_usage_error (
                    "--strategy: '%s' is not score, auction, hash or local", value);
            s_spec_str (options, "strategy", value);
            return 0;
        case ZMESHCTL_OPT_TIMEOUT_TASK:
            if (!s_parse_uint (value, UINT32_MAX, &number))
                return zmeshctl_usage_error ("--timeout-task: '%s' is not milliseconds", value);
            s_spec_uint (options, "timeout_ms", number);
            return 0;
        case ZMESHCTL_OPT_RETRIES:
            if (!s_parse_uint (value, 100, &number))
                return zmeshctl_usage_error ("--retries: '%s' is not a number of retries (0..100)",
                                             value);
            s_spec_uint (options, "max_retries", number);
            return 0;
        default:
            return zmeshctl_usage_error ("unknown option '%s'", value);
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
int
zmeshctl_parse_work (zmeshctl_options_t *options)
{
    bool map = strcmp (options->command, "map") == 0;
    if (!map && options->arg_count == 2 && strcmp (options->args [1], "-") == 0) {
        options->payload_stdin = true;
        options->arg_count = 1;
    }
    if (options->arg_count != 1)
        return zmeshctl_usage_error ("wrong number of arguments: the command is '%s'",
                                     map ? "map HANDLER < INPUTS" : "submit HANDLER [-]");
    if (map && options->payload)
        return zmeshctl_usage_error ("%s",
                                     "map: --payload does not apply (each input line is one)");
    if (options->payload && options->payload_stdin)
        return zmeshctl_usage_error ("%s", "submit: give --payload or -, not both");
    const char *handler = options->args [0];
    bool valid = strlen (handler) >= 1 && strlen (handler) <= 63;
    for (const char *c = handler; *c && valid; c++)
        valid = *c >= 0x20 && *c <= 0x7e;
    if (!valid)
        return zmeshctl_usage_error (
            "not a handler name: '%.40s' (1..63 printable ASCII characters)", handler);
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
        options->timeout_ms = ZMESHCTL_WORK_TIMEOUT_MS;
    //  The payload.
    FILE *in = options->payload_stdin ? stdin : NULL;
    const char *name = "standard input";
    if (options->payload && options->payload [0] == '@') {
        name = options->payload + 1;
        in = fopen (name, "rb");
        if (!in) {
            fprintf (stderr, "zmeshctl: cannot read %s: %s\n", name, strerror (errno));
            return ZMESHCTL_EXIT_FAIL;
        }
    }
    else if (options->payload) {
        options->task_size = strlen (options->payload);
        if (options->task_size > ZMESHCTL_PAYLOAD_MAX)
            return zmeshctl_usage_error ("%s", "--payload: longer than 1 MiB");
        options->task_data = strdup (options->payload);
        return options->task_data ? ZMESHCTL_EXIT_OK : ZMESHCTL_EXIT_FAIL;
    }
    if (!in)
        return ZMESHCTL_EXIT_OK;  //  no payload
    int rc = s_read_all (in, ZMESHCTL_PAYLOAD_MAX, &options->task_data, &options->task_size);
    if (in != stdin)
        fclose (in);
    if (rc < 0) {
        fprintf (stderr, "zmeshctl: cannot read %s\n", name);
        return ZMESHCTL_EXIT_FAIL;
    }
    if (rc > 0)
        return zmeshctl_usage_error ("the payload in %s is larger than 1 MiB", name);
    return ZMESHCTL_EXIT_OK;
}

//  ---------------------------------------------------------------------------------------------
//  The submit request

//  ["submit"][options][payload], the options with the map's sequence number when has_seq.
//  0, or -1 (zmq_errno says why).
int
zmeshctl_send_submit (void *socket,
                      const zmeshctl_options_t *options,
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
