/*  zmeshctl_map.c: map HANDLER < INPUTS, one task per input line, outputs in input order.

    Each line is submitted with its line number ("seq" in the options, echoed in the result)
    on the one DEALER socket, without waiting: at most S_MAP_WINDOW lines are read and not
    yet printed, held in a ring of slots indexed by seq, and the oldest is printed as soon as
    its result is in, so the output keeps the input's order and memory stays bounded however
    long the input. A line too long to be a payload fails here, in its turn. On a terminal a
    progress line on stderr is redrawn at most every S_PROGRESS_MS; error lines clear it
    first. The run fails if the node is silent for --timeout while tasks wait, and its exit
    status is 1 if any task failed.
*/
#include "zmeshctl.h"
#include "zmesh_json.h"
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_MAP_WINDOW  1000  //  map: tasks in flight at most
#define S_PROGRESS_MS 100   //  map: progress line refreshed at most this often

//  map: one task read and not printed yet.
typedef struct {
    int state;      //  0 empty, 1 answered (msg), 2 refused here (error)
    zmq_msg_t msg;  //  the answer's payload
    const char *error;
} s_slot_t;

//  map: the state of one run.
typedef struct {
    const zmeshctl_options_t *options;
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
    int64_t now = zmeshctl_now_ms ();
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
    bool success = zmeshctl_succeeded (result);
    m->failed += !success;
    if (json)
        zmeshctl_write_result_json (result, line);
    else if (success) {
        const char *data = "";
        size_t size = 0;
        zmeshctl_output (result, &data, &size);
        if (zmeshctl_is_text (data, size)) {
            if (size && data [size - 1] == '\n')
                size--;  //  one line per task
            fwrite (data, 1, size, stdout);
        }
        else {
            fputs ("base64:", stdout);
            zmeshctl_base64_write (stdout, data, size);
        }
        fputc ('\n', stdout);
    }
    else {
        char status [64], error [ZMESHCTL_CELL_MAX * 2], id [64];
        zmeshctl_get_text (status, sizeof status, result, "status");
        zmeshctl_get_text (error, sizeof error, result, "error");
        zmeshctl_get_text (id, sizeof id, result, "task_id");
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
            return zmq_errno () == EAGAIN ? 0 : zmeshctl_unexpected ();
        }
        bool two = zmq_msg_more (&status) && zmq_msg_recv (&payload, m->socket, 0) >= 0
                   && !zmq_msg_more (&payload);
        int rc = 0;
        if (!two)
            rc = zmeshctl_unexpected ();
        else if (zmeshctl_frame_is (&status, "error")) {
            char message [1024];
            zmeshctl_sanitize (message, sizeof message, zmq_msg_data (&payload),
                               zmq_msg_size (&payload));
            s_map_error (m, "%s", message);
            rc = ZMESHCTL_EXIT_FAIL;
        }
        else {
            msgpack_unpacked unpacked;
            msgpack_unpacked_init (&unpacked);
            size_t offset = 0;
            const msgpack_object *seq = NULL;
            if (zmeshctl_frame_is (&status, "ok")
                && msgpack_unpack_next (&unpacked, zmq_msg_data (&payload), zmq_msg_size (&payload),
                                        &offset)
                       == MSGPACK_UNPACK_SUCCESS)
                seq = zmeshctl_get (&unpacked.data, "seq");
            if (!seq || seq->type != MSGPACK_OBJECT_POSITIVE_INTEGER || seq->via.u64 < m->printed
                || seq->via.u64 >= m->read || m->slots [seq->via.u64 % S_MAP_WINDOW].state != 0)
                rc = zmeshctl_unexpected ();
            else {
                s_slot_t *slot = &m->slots [seq->via.u64 % S_MAP_WINDOW];
                zmq_msg_init (&slot->msg);
                zmq_msg_move (&slot->msg, &payload);
                slot->state = 1;
                m->waiting--;
                m->last_heard = zmeshctl_now_ms ();
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
int
zmeshctl_map (void *socket, const zmeshctl_options_t *options)
{
    s_map_t *m = (s_map_t *) calloc (1, sizeof *m);
    if (!m)
        return ZMESHCTL_EXIT_FAIL;
    m->options = options;
    m->socket = socket;
    m->progress = isatty (STDERR_FILENO);
    m->started = m->last_heard = zmeshctl_now_ms ();
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
                    rc = ZMESHCTL_EXIT_FAIL;
                }
                break;
            }
            if (length && line [length - 1] == '\n')
                length--;
            s_slot_t *slot = &m->slots [m->read % S_MAP_WINDOW];
            if ((size_t) length > ZMESHCTL_PAYLOAD_MAX) {
                slot->state = 2;
                slot->error = "longer than 1 MiB, the largest payload: not submitted";
            }
            else if (zmeshctl_send_submit (socket, options, true, m->read, line, (size_t) length,
                                           0)) {
                s_map_error (m, "cannot send to %s: %s", options->path,
                             zmq_strerror (zmq_errno ()));
                rc = ZMESHCTL_EXIT_FAIL;
                break;
            }
            else {
                if (m->waiting++ == 0)
                    m->last_heard = zmeshctl_now_ms ();
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
            rc = ZMESHCTL_EXIT_FAIL;
        }
        else if (ready > 0)
            rc = s_map_receive (m);
        else if (m->waiting && zmeshctl_now_ms () - m->last_heard > options->timeout_ms) {
            s_map_error (m,
                         "no result from the node at %s for %d ms, with %" PRIu64
                         " tasks waiting (--timeout)",
                         options->path, options->timeout_ms, m->waiting);
            rc = ZMESHCTL_EXIT_FAIL;
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
        rc = ZMESHCTL_EXIT_FAIL;
    free (line);
    free (m);
    return rc;
}
