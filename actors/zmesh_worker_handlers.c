/*  zmesh_worker_handlers.c: the worker's handler API (zmesh.h) and its built-in handlers.

    A handler runs on an executor thread with a zmesh_task_t (the worker's w_task_t): it reads
    the payload and any checkpoint to resume from, and sets the output or an error, on the
    task itself, without the worker's lock. A checkpoint is the exception: the task joins the
    worker's checkpoint list under the lock, and the first entry on empty lists wakes the
    actor (its eventfd), which sends it. The built-ins: echo (the payload back), sleep
    (milliseconds, checkpointed as it goes) and exec (a command of worker/exec_allow, killed at
    the task's time limit).
*/
#include "zmesh_worker_internal.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>

#define S_SLEEP_CHECKPOINT_MS 500  //  the sleep handler saves its progress this often

//  ---------------------------------------------------------------------------------------------
//  The handler API (zmesh.h), called on executor threads

const void *
zmesh_task_payload (zmesh_task_t *task, size_t *size)
{
    if (size)
        *size = task->item.payload_size;
    return task->payload ? task->payload : (const void *) "";
}

const void *
zmesh_task_resume (zmesh_task_t *task, size_t *size)
{
    if (size)
        *size = task->resume ? task->item.checkpoint_size : 0;
    return task->resume;
}

const char *
zmesh_task_id (zmesh_task_t *task)
{
    return task->id_hex;
}

uint32_t
zmesh_task_attempt (zmesh_task_t *task)
{
    return task->item.attempt;
}

uint32_t
zmesh_task_timeout_ms (zmesh_task_t *task)
{
    return task->item.timeout_ms;
}

int
zmesh_task_output (zmesh_task_t *task, const void *data, size_t size)
{
    if (size > ZMESH_TASK_PAYLOAD_MAX || (size && !data))
        return ZMESH_ETOOBIG;
    uint8_t *copy = size ? (uint8_t *) malloc (size) : NULL;
    if (size && !copy)
        return ZMESH_ENOMEM;
    if (size)
        memcpy (copy, data, size);
    free (task->output);
    task->output = copy;
    task->output_size = (uint32_t) size;
    return ZMESH_OK;
}

int
zmesh_task_error (zmesh_task_t *task, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (task->error, sizeof task->error, format, args);
    va_end (args);
    return ZMESH_OK;
}

void
zmesh_worker__wake_actor (self_t *self)
{
    uint64_t one = 1;
    ssize_t rc = write (self->event_fd, &one, sizeof one);
    (void) rc;
}

int
zmesh_task_checkpoint (zmesh_task_t *task, const void *data, size_t size)
{
    if (size > ZMESH_TASK_PAYLOAD_MAX || (size && !data))
        return ZMESH_ETOOBIG;
    uint8_t *copy = (uint8_t *) malloc (size ? size : 1);
    if (!copy)
        return ZMESH_ENOMEM;
    if (size)
        memcpy (copy, data, size);
    self_t *self = task->worker;
    bool wake = false;
    pthread_mutex_lock (&self->lock);
    free (task->checkpoint);
    task->checkpoint = copy;
    task->checkpoint_size = (uint32_t) size;
    if (!task->checkpoint_listed) {
        task->checkpoint_listed = true;
        task->ckpt_next = NULL;
        wake = !self->ckpt_head && !self->done_head;
        if (self->ckpt_tail)
            self->ckpt_tail->ckpt_next = task;
        else
            self->ckpt_head = task;
        self->ckpt_tail = task;
    }
    pthread_mutex_unlock (&self->lock);
    if (wake)
        zmesh_worker__wake_actor (self);
    return ZMESH_OK;
}

bool
zmesh_task_cancelled (zmesh_task_t *task)
{
    return task->cancelled || task->worker->stopping;
}

//  ---------------------------------------------------------------------------------------------
//  Built-in handlers

static int
s_echo (zmesh_task_t *task, void *arg)
{
    (void) arg;
    size_t size;
    const void *data = zmesh_task_payload (task, &size);
    return zmesh_task_output (task, data, size);
}

//  Parse a decimal number of at most 9 digits from bytes; -1 if it is not one.
static long
s_parse_ms (const void *data, size_t size)
{
    const char *text = (const char *) data;
    long value = 0;
    size_t digits = 0;
    for (size_t i = 0; i < size; i++) {
        if (text [i] >= '0' && text [i] <= '9' && digits < 9) {
            value = value * 10 + (text [i] - '0');
            digits++;
        }
        else if (text [i] == '\n' || text [i] == ' ' || text [i] == '\r')
            continue;
        else
            return -1;
    }
    return digits ? value : -1;
}

//  sleep: the payload is milliseconds as text; checkpoints the time slept so far every
//  S_SLEEP_CHECKPOINT_MS, and resumes from it. Output: "slept N ms".
static int
s_sleep (zmesh_task_t *task, void *arg)
{
    (void) arg;
    size_t size;
    const void *data = zmesh_task_payload (task, &size);
    long total = s_parse_ms (data, size);
    if (total < 0) {
        zmesh_task_error (task, "sleep: the payload must be milliseconds, as digits");
        return -1;
    }
    long done = 0;
    size_t resume_size;
    const void *resume = zmesh_task_resume (task, &resume_size);
    if (resume) {
        long from = s_parse_ms (resume, resume_size);
        if (from > 0 && from <= total)
            done = from;
    }
    int64_t start = zclock_usecs ();
    long base = done;
    while (done < total && !zmesh_task_cancelled (task)) {
        long step = total - done < S_SLEEP_CHECKPOINT_MS ? total - done : S_SLEEP_CHECKPOINT_MS;
        //  Sleep to an absolute target so that many short sleeps do not drift.
        int64_t target = start + (int64_t) (done - base + step) * 1000;
        int64_t now = zclock_usecs ();
        if (target > now) {
            struct timespec ts = {(time_t) ((target - now) / 1000000),
                                  (long) ((target - now) % 1000000) * 1000};
            nanosleep (&ts, NULL);
        }
        done += step;
        if (done < total) {
            char text [24];
            int n = snprintf (text, sizeof text, "%ld", done);
            zmesh_task_checkpoint (task, text, (size_t) n);
        }
    }
    char text [48];
    int n = snprintf (text, sizeof text, "slept %ld ms", total);
    if (base)
        n = snprintf (text, sizeof text, "slept %ld ms (resumed at %ld)", total, base);
    return zmesh_task_output (task, text, (size_t) n);
}

//  exec: the payload's first line names a command of worker/exec_allow (NAME=PATH); the rest
//  goes to its stdin; its stdout (up to 1 MiB) is the output. A non-zero exit is a handler
//  error. The command is killed at the task's timeout.
int
zmesh_worker__exec (zmesh_task_t *task, void *arg)
{
    self_t *self = (self_t *) arg;
    size_t size;
    const char *data = (const char *) zmesh_task_payload (task, &size);
    const char *newline = (const char *) memchr (data, '\n', size);
    size_t name_size = newline ? (size_t) (newline - data) : size;
    char name [64];
    if (name_size == 0 || name_size >= sizeof name) {
        zmesh_task_error (task, "exec: the payload's first line must name a command");
        return -1;
    }
    memcpy (name, data, name_size);
    name [name_size] = 0;
    //  Find NAME=PATH in the allow list.
    char path [512] = "";
    char list [1024];
    snprintf (list, sizeof list, "%s", self->exec_allow);
    char *save = NULL;
    for (char *word = strtok_r (list, " ", &save); word; word = strtok_r (NULL, " ", &save)) {
        char *eq = strchr (word, '=');
        if (eq && (size_t) (eq - word) == name_size && memcmp (word, name, name_size) == 0)
            snprintf (path, sizeof path, "%s", eq + 1);
    }
    if (!path [0]) {
        zmesh_task_error (task, "exec: '%s' is not in worker/exec_allow", name);
        return -1;
    }
    const char *input = newline ? newline + 1 : data + size;
    size_t input_size = (size_t) (data + size - input);
    //  Close-on-exec, so that a child another executor starts at the same moment does not
    //  inherit this one's pipes (and hold them open).
    int to_child [2], from_child [2];
    if (pipe2 (to_child, O_CLOEXEC)) {
        zmesh_task_error (task, "exec: pipe: %s", strerror (errno));
        return -1;
    }
    if (pipe2 (from_child, O_CLOEXEC)) {
        zmesh_task_error (task, "exec: pipe: %s", strerror (errno));
        close (to_child [0]), close (to_child [1]);
        return -1;
    }
    //  The input is written without blocking: a child that writes its output while it still
    //  reads its input fills both pipes, and a blocking write would then wait forever (past
    //  the time limit, and past the node's stop).
    fcntl (to_child [1], F_SETFL, fcntl (to_child [1], F_GETFL) | O_NONBLOCK);
    //  A child that exits before it read all its input makes the write fail with EPIPE; the
    //  SIGPIPE that comes with it must not end an embedding process that did not ignore it.
    sigset_t pipe_signal, old_mask;
    sigemptyset (&pipe_signal);
    sigaddset (&pipe_signal, SIGPIPE);
    pthread_sigmask (SIG_BLOCK, &pipe_signal, &old_mask);
    pid_t pid = fork ();
    if (pid < 0) {
        zmesh_task_error (task, "exec: fork: %s", strerror (errno));
        close (to_child [0]), close (to_child [1]), close (from_child [0]), close (from_child [1]);
        pthread_sigmask (SIG_SETMASK, &old_mask, NULL);
        return -1;
    }
    if (pid == 0) {
        sigprocmask (SIG_SETMASK, &old_mask, NULL);  //  the command gets the usual signals
        dup2 (to_child [0], 0);
        dup2 (from_child [1], 1);
        execl (path, path, (char *) NULL);
        _exit (127);
    }
    close (to_child [0]);
    close (from_child [1]);
    size_t sent = 0, got = 0, capacity = 65536;
    uint8_t *output = (uint8_t *) malloc (capacity);
    bool too_big = false;
    int64_t deadline = task->item.timeout_ms ? zclock_mono () + task->item.timeout_ms : 0;
    bool timed_out = false;
    int in_fd = input_size ? to_child [1] : -1;
    if (in_fd < 0)
        close (to_child [1]);
    int out_fd = from_child [0];
    while (out_fd >= 0 && output) {
        struct pollfd fds [2];
        int n = 0;
        fds [n++] = (struct pollfd){.fd = out_fd, .events = POLLIN};
        if (in_fd >= 0)
            fds [n++] = (struct pollfd){.fd = in_fd, .events = POLLOUT};
        int wait = 200;
        if (deadline) {
            int64_t left = deadline - zclock_mono ();
            if (left <= 0) {
                timed_out = true;
                break;
            }
            wait = left < wait ? (int) left : wait;
        }
        if (poll (fds, (nfds_t) n, wait) < 0 && errno != EINTR)
            break;
        if (zmesh_task_cancelled (task)) {
            timed_out = true;
            break;
        }
        if (n == 2 && (fds [1].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = write (in_fd, input + sent, input_size - sent);
            if (w > 0)
                sent += (size_t) w;
            if ((w < 0 && errno != EAGAIN && errno != EINTR) || sent == input_size) {
                close (in_fd);
                in_fd = -1;
            }
        }
        if (fds [0].revents & (POLLIN | POLLHUP | POLLERR)) {
            if (got == capacity) {
                if (capacity >= ZMESH_TASK_PAYLOAD_MAX) {
                    too_big = true;
                    break;
                }
                capacity *= 2;
                uint8_t *bigger = (uint8_t *) realloc (output, capacity);
                if (!bigger)
                    break;
                output = bigger;
            }
            ssize_t r = read (out_fd, output + got, capacity - got);
            if (r > 0)
                got += (size_t) r;
            else if (r == 0 || errno != EINTR) {
                close (out_fd);
                out_fd = -1;
            }
        }
    }
    if (in_fd >= 0)
        close (in_fd);
    if (out_fd >= 0)
        close (out_fd);
    if (timed_out || too_big)
        kill (pid, SIGKILL);
    int status = 0;
    waitpid (pid, &status, 0);
    //  Take a SIGPIPE the writes raised before this thread's mask is restored.
    struct timespec none = {0, 0};
    while (sigtimedwait (&pipe_signal, NULL, &none) == SIGPIPE)
        ;
    pthread_sigmask (SIG_SETMASK, &old_mask, NULL);
    int rc = -1;
    if (timed_out)
        zmesh_task_error (task, "exec: %s killed at the time limit", name);
    else if (too_big)
        zmesh_task_error (task, "exec: %s wrote more than 1 MiB", name);
    else if (!output)
        zmesh_task_error (task, "exec: out of memory");
    else if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
        zmesh_task_error (task, "exec: %s exited with status %d", name,
                          WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status));
    else
        rc = zmesh_task_output (task, output, got);
    free (output);
    return rc;
}

void
zmesh_worker_builtins (zmesh_node_ctx_t *ctx)
{
    static const struct {
        const char *name;
        zmesh_handler_fn *fn;
    } builtins [] = {{"echo", s_echo}, {"sleep", s_sleep}, {"exec", zmesh_worker__exec}};
    for (size_t i = 0; i < sizeof builtins / sizeof builtins [0]; i++)
        if (!zmesh_ctx_handler (ctx, builtins [i].name)
            && ctx->handler_count < ZMESH_HANDLERS_MAX) {
            zmesh_handler_entry_t *entry = &ctx->handlers [ctx->handler_count++];
            snprintf (entry->name, sizeof entry->name, "%s", builtins [i].name);
            entry->fn = builtins [i].fn;
            entry->arg = NULL;
            entry->builtin = true;
        }
}
