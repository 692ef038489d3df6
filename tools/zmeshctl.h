/*  zmeshctl.h: what the files of zmeshctl share; the tool has no API of its own.

    zmeshctl.c (the command line, the command table, usage, the control socket: one request,
    one answer, main), zmeshctl_text.c (msgpack values as text for a terminal: sanitized
    strings, "key: value" fields, aligned tables), zmeshctl_mesh.c (the node and mesh
    commands' printers, metrics, the watch loop), zmeshctl_work.c (submit and tasks: task
    options, the submit request, results) and zmeshctl_map.c (map: many submits in flight,
    outputs in input order, the progress line). Functions here are named zmeshctl_<verb>;
    what a single file uses alone stays static there, named s_<verb>.
*/
#ifndef ZMESHCTL_H_INCLUDED
#define ZMESHCTL_H_INCLUDED

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/un.h>
#include <zmq.h>

#define ZMESHCTL_EXIT_OK         0
#define ZMESHCTL_EXIT_FAIL       1
#define ZMESHCTL_EXIT_USAGE      2
#define ZMESHCTL_CELL_MAX        256            //  bytes of one table cell, NUL included
#define ZMESHCTL_WORK_TIMEOUT_MS 60000          //  submit, map: default wait for a result
#define ZMESHCTL_PAYLOAD_MAX     (1024 * 1024)  //  bytes of a task's payload (zmesh.h)
#define ZMESHCTL_TAGS_MAX        16             //  --require, at most (zmesh.h)
#define ZMESHCTL_PATH_MAX        sizeof (((struct sockaddr_un *) 0)->sun_path)

//  getopt_long values of the task options (submit, map), past any single-character option.
enum {
    ZMESHCTL_OPT_PAYLOAD = 256,
    ZMESHCTL_OPT_PRIORITY,
    ZMESHCTL_OPT_CPU,
    ZMESHCTL_OPT_MEMORY,
    ZMESHCTL_OPT_GPUS,
    ZMESHCTL_OPT_REQUIRE,
    ZMESHCTL_OPT_REDUNDANCY,
    ZMESHCTL_OPT_STRATEGY,
    ZMESHCTL_OPT_TIMEOUT_TASK,
    ZMESHCTL_OPT_RETRIES
};

typedef struct {
    const char *data;     //  the node's data directory
    int timeout_ms;       //  how long to wait for the answer
    bool json;            //  print the payload as JSON
    const char *command;  //  the command word
    char *const *args;    //  its arguments
    int arg_count;
    char path [ZMESHCTL_PATH_MAX];  //  DATA/control.sock
    bool dot;                       //  topology: print Graphviz DOT
    long count;                     //  watch: stop after this many events (0: no limit)
    long for_ms;                    //  watch: stop after this long (0: no limit)
    bool timeout_given;             //  --timeout was given
    //  submit and map
    bool task_options;       //  one of the options below was given
    const char *payload;     //  --payload TEXT or @FILE; NULL: none
    bool payload_stdin;      //  submit HANDLER -
    msgpack_sbuffer spec;    //  the options frame's entries, `spec_count` key/value pairs
    msgpack_packer spec_pk;  //  writes into spec
    uint32_t spec_count;
    const char *tags [ZMESHCTL_TAGS_MAX];
    int tag_count;
    char *task_data;  //  the payload, once read (malloc'd)
    size_t task_size;
} zmeshctl_options_t;

//  zmeshctl.c: usage and the control socket

//  "zmeshctl: " and the message (format with one %s), then the usage, on stderr. Returns
//  ZMESHCTL_EXIT_USAGE.
int zmeshctl_usage_error (const char *format, const char *detail);
//  The frame holds exactly text.
bool zmeshctl_frame_is (zmq_msg_t *frame, const char *text);
//  Milliseconds of CLOCK_MONOTONIC.
int64_t zmeshctl_now_ms (void);

//  zmeshctl_text.c: text for people

void zmeshctl_sanitize (char *dest, size_t dest_size, const char *text, size_t size);
void zmeshctl_duration (char *dest, size_t size, uint64_t ms);
void zmeshctl_text (char *dest, size_t size, const msgpack_object *obj);
const msgpack_object *zmeshctl_get (const msgpack_object *obj, const char *key);
void zmeshctl_get_text (char *dest, size_t size, const msgpack_object *map, const char *key);
uint64_t zmeshctl_get_uint (const msgpack_object *map, const char *key);
//  Says the answer was not what the command expects. Returns ZMESHCTL_EXIT_FAIL.
int zmeshctl_unexpected (void);
void zmeshctl_print_fields (const msgpack_object *map);
void zmeshctl_print_table (const char *const *headers,
                           size_t columns,
                           char (*cells) [ZMESHCTL_CELL_MAX],
                           size_t rows);

//  zmeshctl_mesh.c: printers of the node and mesh commands (an exit status each), and watch

int zmeshctl_print_status (const msgpack_object *payload);
int zmeshctl_print_members (const msgpack_object *payload);
int zmeshctl_print_keys (const msgpack_object *payload);
int zmeshctl_print_join (const msgpack_object *payload);
int zmeshctl_print_trust (const msgpack_object *payload);
int zmeshctl_print_state_version (const msgpack_object *payload);
int zmeshctl_print_state_value (const msgpack_object *payload);
int zmeshctl_print_state_keys (const msgpack_object *payload);
int zmeshctl_print_topology (const msgpack_object *payload);
int zmeshctl_print_dot (const msgpack_object *payload);
int zmeshctl_print_watch (const msgpack_object *payload);
int zmeshctl_print_fault (const msgpack_object *payload);
int zmeshctl_print_metrics (const msgpack_object *payload);
void zmeshctl_watch_terms (zmq_msg_t *payload, uint64_t *lease_ms, uint64_t *tick_ms);
int zmeshctl_watch (void *socket,
                    const zmeshctl_options_t *options,
                    uint64_t lease_ms,
                    uint64_t tick_ms);

//  zmeshctl_work.c: task options, the submit request, results

int zmeshctl_parse_task_option (zmeshctl_options_t *options, int option, const char *value);
int zmeshctl_parse_work (zmeshctl_options_t *options);
int zmeshctl_send_submit (void *socket,
                          const zmeshctl_options_t *options,
                          bool has_seq,
                          uint64_t seq,
                          const char *payload,
                          size_t size,
                          int flags);
bool zmeshctl_is_text (const char *data, size_t size);
void zmeshctl_base64_write (FILE *out, const char *data, size_t size);
const msgpack_object *
zmeshctl_output (const msgpack_object *result, const char **data, size_t *size);
bool zmeshctl_succeeded (const msgpack_object *result);
void zmeshctl_write_result_json (const msgpack_object *result, uint64_t line);
int zmeshctl_print_result (const msgpack_object *payload);
int zmeshctl_print_tasks (const msgpack_object *payload);

//  zmeshctl_map.c

int zmeshctl_map (void *socket, const zmeshctl_options_t *options);

#endif
