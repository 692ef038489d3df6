/*  zmesh_worker.c: the worker actor: runs tasks owners send it, on a pool of executor threads.

    Sockets. One ROUTER, a CURVE server bound at worker/bind (default: node/bind's host, any
    port), advertised in the node's gossip state as `zmesh.work` with the node's tags, its
    handlers and its load. Owners (balancer actors, this node's included) connect DEALERs to
    it and send SUBMIT and CANCEL; the worker answers on the same connection: RESULT, LEASE,
    CHECKPOINT. A peer's identity is the key CURVE authenticated (the ZAP User-Id); an
    envelope whose sender is not that key's id is dropped and counted, as is anything that
    does not decode (protocol/zmesh_task.h).

    Queue and executors. Tasks wait in a zmesh_taskq (priorities with aging, a CRITICAL
    reserve) guarded by one mutex, which worker/slots executor threads share: an executor
    takes the next task itself (one condition-variable wake-up, no message hop), runs its
    handler, and appends the result to a done list; the first result on an empty list wakes
    the actor through an eventfd, and the actor sends every result of the list, batched by
    owner. Checkpoints take the same path.

    Leases. Every worker/lease_interval_ms the worker tells each owner which of its attempts
    it holds (queued or running): silence means the owner re-dispatches them elsewhere.
*/
#include "zmesh_actors.h"
#include "zmesh_link.h"
#include "zmesh_spin.h"
#include "zmesh_node_ctx.h"
#include "zmesh_taskq.h"
#include "zmesh_work.h"
#include <poll.h>
#include <sodium.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/eventfd.h>
#include <sys/wait.h>

#define S_PUBLISH_MIN_MS      1000  //  least time between two load publications
#define S_RECV_BATCH          256   //  messages read per wake-up before flushing
#define S_SLEEP_CHECKPOINT_MS 500   //  the sleep handler saves its progress this often

typedef struct self_s self_t;

//  One task at this worker (the public zmesh_task_t).
struct _zmesh_task_t {
    self_t *worker;
    zmesh_task_item_t item;  //  payload and checkpoint point at the copies below
    uint8_t *payload;
    uint8_t *resume;
    char id_hex [ZMESH_ID_HEX_SIZE];
    uint64_t received_us;
    uint64_t started_us;
    bool running;   //  an executor has it
    bool finished;  //  the result is set (in the done list or sent)
    volatile bool cancelled;
    //  the result
    uint8_t status;
    uint8_t *output;
    uint32_t output_size;
    char error [ZMESH_TASK_ERROR_MAX];
    uint64_t queued_us, run_us;
    //  the latest checkpoint not sent yet
    uint8_t *checkpoint;
    uint32_t checkpoint_size;
    bool checkpoint_listed;
    struct _zmesh_task_t *done_next;
    struct _zmesh_task_t *ckpt_next;
};
typedef struct _zmesh_task_t w_task_t;

//  An owner we hold tasks for: how to reach it (the routing id of its connection).
typedef struct {
    zmesh_id_t id;
    uint8_t routing [256];
    size_t routing_size;  //  0: not known yet (an owner of stolen tasks that has not spoken)
    bool local;           //  it spoke last on the local (inproc) server: this node's balancer
    uint32_t held;
    w_task_t *waiting;  //  results that wait for the routing id (linked by done_next)
} w_owner_t;

//  A busier worker this one may steal from: a CURVE client of its ROUTER.
typedef struct {
    zmesh_id_t id;
    char endpoint [ZMESH_ENDPOINT_MAX];
    uint8_t curve_public [ZMESH_KEY_SIZE];
    zsock_t *dealer;  //  NULL until the first steal
    void *handle;
} w_victim_t;

struct self_s {
    zmesh_node_ctx_t *ctx;
    const zmesh_config_t *config;
    zsock_t *pipe;
    zsock_t *server;
    void *server_handle;
    zsock_t *local;  //  ROUTER on the inproc endpoint: this node's own balancer
    void *local_handle;
    zmesh_link_monitor_t *monitor;
    char endpoint [ZMESH_ENDPOINT_MAX];
    int event_fd;
    zhashx_t *handler_stats;     //  handler name -> w_handler_stat_t: what its bids say of us
    zmesh_place_config_t place;  //  what its bids are computed with (the balancer's weights)
    uint64_t queued;             //  tasks ever queued (atomic): what a looking executor watches
    bool spinning;               //  an idle executor is looking (changed under lock)
    zmesh_spin_t idle;           //  executors: how long the last one waited for a task (under lock)
    zmesh_spin_t spin;           //  the actor's waits
    zhashx_t *tasks;             //  id (16 bytes) -> w_task_t
    zhashx_t *owners;            //  id (16 bytes) -> w_owner_t
    uint32_t slots;
    //  shared with the executors, under lock
    pthread_mutex_t lock;
    pthread_cond_t wake;
    zmesh_taskq_t queue;
    uint32_t busy;
    bool stopping;
    w_task_t *done_head, *done_tail;
    w_task_t *ckpt_head, *ckpt_tail;
    //  executors
    pthread_t *threads;
    uint32_t thread_count;
    //  outgoing
    uint8_t *out;
    size_t out_capacity;
    zmesh_task_msg_t *msg;  //  decode space
    int64_t lease_at;
    int64_t published_at;
    zmesh_task_load_t published_load;
    char exec_allow [1024];
    //  stealing
    w_victim_t *victims;  //  nodes whose published load says they are worth stealing from
    uint32_t victim_count;
    zhashx_t *dealers;      //  id (16 bytes) -> w_victim_t with a dealer (kept across rebuilds)
    uint64_t view_version;  //  the work version the victims were built from
    bool victims_dirty;     //  membership or work changed since
    int view_fd;
    bool steal_pending;
    int64_t steal_sent;
    zmesh_id_t steal_from;
    int64_t steal_at;
    uint64_t rng;
    int64_t publish_at;  //  a publication held back by S_PUBLISH_MIN_MS, 0 if none
    bool terminated;
};

//  What this worker has seen of one handler, for its bids: run time and outcomes.
typedef struct {
    double run_ms;     //  moving average of the handler's run time here
    uint32_t samples;  //  runs in it
    uint32_t ok;       //  recent runs that ended (kept below S_OUTCOMES_MAX by halving)
    uint32_t failed;   //  recent runs past their time limit
} w_handler_stat_t;

#define S_RUN_ALPHA    0.2  //  weight of a new run in run_ms
#define S_OUTCOMES_MAX 64   //  ok + failed above it: both halved

static void
s_free_item (void **item)
{
    free (*item);
    *item = NULL;
}

static uint64_t
s_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

//  ---------------------------------------------------------------------------------------------
//  Binary id keys for zhashx

static size_t
s_id_hasher (const void *key)
{
    return (size_t) zmesh_id_hash ((const zmesh_id_t *) key);
}

static int
s_id_comparator (const void *a, const void *b)
{
    return memcmp (a, b, ZMESH_ID_SIZE);
}

static void *
s_id_duplicator (const void *key)
{
    void *copy = malloc (ZMESH_ID_SIZE);
    ZMESH_ASSERT (copy);
    memcpy (copy, key, ZMESH_ID_SIZE);
    return copy;
}

static void
s_id_destructor (void **key)
{
    free (*key);
    *key = NULL;
}

static zhashx_t *
s_id_table (void)
{
    zhashx_t *table = zhashx_new ();
    ZMESH_ASSERT (table);
    zhashx_set_key_hasher (table, s_id_hasher);
    zhashx_set_key_comparator (table, s_id_comparator);
    zhashx_set_key_duplicator (table, s_id_duplicator);
    zhashx_set_key_destructor (table, s_id_destructor);
    return table;
}

static void
s_task_free (w_task_t *task)
{
    if (!task)
        return;
    free (task->payload);
    free (task->resume);
    free (task->output);
    free (task->checkpoint);
    free (task);
}

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

static void
s_wake_actor (self_t *self)
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
        s_wake_actor (self);
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
static int
s_exec (zmesh_task_t *task, void *arg)
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
    int to_child [2], from_child [2];
    if (pipe (to_child) || pipe (from_child)) {
        zmesh_task_error (task, "exec: pipe: %s", strerror (errno));
        return -1;
    }
    pid_t pid = fork ();
    if (pid < 0) {
        zmesh_task_error (task, "exec: fork: %s", strerror (errno));
        close (to_child [0]), close (to_child [1]), close (from_child [0]), close (from_child [1]);
        return -1;
    }
    if (pid == 0) {
        dup2 (to_child [0], 0);
        dup2 (from_child [1], 1);
        close (to_child [0]), close (to_child [1]), close (from_child [0]), close (from_child [1]);
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
            if (w < 0 || sent == input_size) {
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

//  ---------------------------------------------------------------------------------------------
//  Executors

static void
s_run (self_t *self, w_task_t *task)
{
    const zmesh_handler_entry_t *handler = zmesh_ctx_handler (self->ctx, task->item.handler);
    uint64_t start = s_now_us ();
    task->started_us = start;
    task->queued_us = start - task->received_us;
    if (!handler) {
        task->status = ZMESH_TASK_NO_HANDLER;
        snprintf (task->error, sizeof task->error, "no handler '%s' on this node",
                  task->item.handler);
        return;
    }
    zmesh_handler_fn *fn = handler->fn;
    void *arg = handler->arg;
    if (fn == s_exec)
        arg = self;
    int rc = fn (task, arg);
    task->run_us = s_now_us () - start;
    if (task->item.timeout_ms && task->run_us > (uint64_t) task->item.timeout_ms * 1000) {
        task->status = ZMESH_TASK_TIMEOUT;
        if (!task->error [0])
            snprintf (task->error, sizeof task->error, "ran %llu ms, past its limit of %u ms",
                      (unsigned long long) (task->run_us / 1000), task->item.timeout_ms);
    }
    else if (rc != 0) {
        task->status = ZMESH_TASK_HANDLER_ERROR;
        if (!task->error [0])
            snprintf (task->error, sizeof task->error, "handler '%s' returned %d",
                      task->item.handler, rc);
    }
    else
        task->status = ZMESH_TASK_OK;
}

//  Append a finished task to the done list (lock held); true if the actor needs waking.
static bool
s_done_push (self_t *self, w_task_t *task)
{
    task->finished = true;
    task->done_next = NULL;
    bool wake = !self->done_head && !self->ckpt_head;
    if (self->done_tail)
        self->done_tail->done_next = task;
    else
        self->done_head = task;
    self->done_tail = task;
    return wake;
}

static void *
s_executor (void *arg)
{
    self_t *self = (self_t *) arg;
    zmesh_actor_name ("exec");
    pthread_mutex_lock (&self->lock);
    int64_t idle_since = 0;  //  when this executor began to wait for a task (0: it has one)
    while (!self->stopping) {
        zmesh_taskq_entry_t entry;
        if (!zmesh_taskq_next (&self->queue, (uint64_t) zclock_mono (), self->busy, &entry)) {
            if (!idle_since)
                idle_since = zclock_usecs ();
            //  One idle executor at a time looks for the next task before it sleeps, while
            //  tasks come close together (zmesh_spin.h).
            if (zmesh_spin_wanted (&self->idle, self->config->spin_us, false) && !self->spinning) {
                self->spinning = true;
                uint64_t seen = __atomic_load_n (&self->queued, __ATOMIC_ACQUIRE);
                pthread_mutex_unlock (&self->lock);
                zmesh_spin_counter (&self->queued, seen, self->config->spin_us);
                pthread_mutex_lock (&self->lock);
                self->spinning = false;
                if (self->stopping || __atomic_load_n (&self->queued, __ATOMIC_ACQUIRE) != seen)
                    continue;  //  a task came (or we stop) while we looked
            }
            pthread_cond_wait (&self->wake, &self->lock);
            continue;
        }
        if (idle_since) {
            self->idle.idle_wait_us = zclock_usecs () - idle_since;
            idle_since = 0;
        }
        w_task_t *task = (w_task_t *) (uintptr_t) entry.handle;
        self->busy++;
        task->running = true;
        pthread_mutex_unlock (&self->lock);
        s_run (self, task);
        pthread_mutex_lock (&self->lock);
        self->busy--;
        task->running = false;
        if (s_done_push (self, task))
            s_wake_actor (self);
    }
    pthread_mutex_unlock (&self->lock);
    return NULL;
}

//  ---------------------------------------------------------------------------------------------
//  Sending

static zmesh_task_load_t
s_load (self_t *self)
{
    //  lock held by the caller
    zmesh_task_load_t load = {.slots = self->slots,
                              .busy = self->busy,
                              .queued = zmesh_taskq_depth (&self->queue),
                              .stealable = zmesh_taskq_stealable (&self->queue)};
    return load;
}

static zmesh_task_load_t
s_load_locked (self_t *self)
{
    pthread_mutex_lock (&self->lock);
    zmesh_task_load_t load = s_load (self);
    pthread_mutex_unlock (&self->lock);
    return load;
}

static void
s_send_to (self_t *self, w_owner_t *owner, const uint8_t *data, size_t size)
{
    void *handle = owner->local ? self->local_handle : self->server_handle;
    if (zmq_send (handle, owner->routing, owner->routing_size, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
        || zmq_send (handle, data, size, ZMQ_DONTWAIT) < 0) {
        zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_SEND_DROPPED, 1);
        return;
    }
    zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_MSG_SENT, 1);
    zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_BYTES_SENT, size);
}

//  A writer per owner while results are batched.
typedef struct {
    w_owner_t *owner;
    zmesh_task_writer_t writer;
    uint8_t kind;
} s_batch_t;

static void
s_batch_flush (self_t *self, s_batch_t *batch)
{
    size_t size;
    if (batch->writer.count && zmesh_task_writer_finish (&batch->writer, &size) == ZMESH_OK)
        s_send_to (self, batch->owner, batch->writer.buf, size);
    batch->owner = NULL;
}

static void
s_batch_begin (
    self_t *self, s_batch_t *batch, w_owner_t *owner, uint8_t kind, const zmesh_task_load_t *load)
{
    batch->owner = owner;
    batch->kind = kind;
    ZMESH_ASSERT (zmesh_task_writer_begin (&batch->writer, self->out, self->out_capacity,
                                           &self->ctx->identity.pub.id, kind, load)
                  == ZMESH_OK);
}

static void
s_batch_result (self_t *self,
                s_batch_t *batch,
                w_owner_t *owner,
                const w_task_t *task,
                const zmesh_task_load_t *load)
{
    if (batch->owner != owner) {
        if (batch->owner)
            s_batch_flush (self, batch);
        s_batch_begin (self, batch, owner, ZMESH_TASK_KIND_RESULT, load);
    }
    zmesh_task_result_item_t item = {
        .id = task->item.id,
        .attempt = task->item.attempt,
        .status = task->status,
        .output = task->status == ZMESH_TASK_OK ? task->output : NULL,
        .output_size = task->status == ZMESH_TASK_OK ? task->output_size : 0,
        .error = task->error,
        .error_size = (uint32_t) strlen (task->error),
        .queued_us = task->queued_us,
        .run_us = task->run_us,
    };
    int rc = zmesh_task_writer_add_result (&batch->writer, &item);
    if (rc == ZMESH_ETOOBIG || rc == ZMESH_ELIMIT) {
        s_batch_flush (self, batch);
        s_batch_begin (self, batch, owner, ZMESH_TASK_KIND_RESULT, load);
        rc = zmesh_task_writer_add_result (&batch->writer, &item);
    }
    if (rc)
        zsys_warning ("worker: a result of %s does not encode: %s", task->id_hex,
                      zmesh_strerror (rc));
}

static w_owner_t *
s_owner (self_t *self, const zmesh_id_t *id)
{
    return (w_owner_t *) zhashx_lookup (self->owners, id);
}

static w_owner_t *
s_owner_get (self_t *self, const zmesh_id_t *id)
{
    w_owner_t *owner = s_owner (self, id);
    if (!owner) {
        owner = (w_owner_t *) calloc (1, sizeof *owner);
        ZMESH_ASSERT (owner);
        owner->id = *id;
        zhashx_insert (self->owners, id, owner);
    }
    return owner;
}

//  Forget a task: out of the table, its owner's count down, freed.
static void
s_forget (self_t *self, w_task_t *task)
{
    w_owner_t *owner = s_owner (self, &task->item.owner);
    if (owner && owner->held)
        owner->held--;
    zhashx_delete (self->tasks, &task->item.id);
    s_task_free (task);
}

//  Results and checkpoints the executors finished: send them, batched by owner.
//  A task of a handler ended here: into the figures this worker bids with.
static void
s_handler_ran (self_t *self, const w_task_t *task)
{
    w_handler_stat_t *stat =
        (w_handler_stat_t *) zhashx_lookup (self->handler_stats, task->item.handler);
    if (!stat) {
        if (zhashx_size (self->handler_stats) >= ZMESH_HANDLERS_MAX)
            return;  //  names no handler here has are not kept without bound
        stat = (w_handler_stat_t *) calloc (1, sizeof *stat);
        ZMESH_ASSERT (stat);
        zhashx_insert (self->handler_stats, task->item.handler, stat);
    }
    double ms = (double) task->run_us / 1000.0;
    stat->run_ms = stat->samples ? stat->run_ms * (1 - S_RUN_ALPHA) + ms * S_RUN_ALPHA : ms;
    stat->samples++;
    if (task->status == ZMESH_TASK_TIMEOUT)
        stat->failed++;
    else
        stat->ok++;
    if (stat->ok + stat->failed > S_OUTCOMES_MAX) {
        stat->ok /= 2;
        stat->failed /= 2;
    }
}

static void
s_flush_done (self_t *self)
{
    uint64_t counter;
    ssize_t rc = read (self->event_fd, &counter, sizeof counter);
    (void) rc;
    pthread_mutex_lock (&self->lock);
    w_task_t *done = self->done_head;
    w_task_t *ckpt = self->ckpt_head;
    self->done_head = self->done_tail = NULL;
    self->ckpt_head = self->ckpt_tail = NULL;
    //  Checkpoints: take each one's bytes while locked (the executor may replace them).
    typedef struct {
        w_task_t *task;
        uint8_t *data;
        uint32_t size;
    } s_ckpt_t;
    s_ckpt_t ckpts [64];
    size_t ckpt_count = 0;
    for (w_task_t *t = ckpt; t; t = t->ckpt_next) {
        t->checkpoint_listed = false;
        if (ckpt_count < 64 && !t->finished) {
            ckpts [ckpt_count].task = t;
            ckpts [ckpt_count].data = t->checkpoint;
            ckpts [ckpt_count].size = t->checkpoint_size;
            ckpt_count++;
            t->checkpoint = NULL;
        }
    }
    zmesh_task_load_t load = s_load (self);
    pthread_mutex_unlock (&self->lock);
    for (size_t i = 0; i < ckpt_count; i++) {
        w_owner_t *owner = s_owner (self, &ckpts [i].task->item.owner);
        zmesh_task_ref_t ref = {.id = ckpts [i].task->item.id,
                                .attempt = ckpts [i].task->item.attempt};
        size_t size;
        if (owner
            && zmesh_task_encode_checkpoint (self->out, self->out_capacity,
                                             &self->ctx->identity.pub.id, &load, &ref,
                                             ckpts [i].data, ckpts [i].size, &size)
                   == ZMESH_OK) {
            s_send_to (self, owner, self->out, size);
            zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_CHECKPOINTS, 1);
        }
        free (ckpts [i].data);
    }
    s_batch_t batch = {0};
    for (w_task_t *task = done, *next; task; task = next) {
        next = task->done_next;
        zmesh_metric_t metric = task->status == ZMESH_TASK_OK           ? ZMESH_M_TASKS_RUN_OK
                                : task->status == ZMESH_TASK_TIMEOUT    ? ZMESH_M_TASKS_RUN_TIMEOUT
                                : task->status == ZMESH_TASK_NO_HANDLER ? ZMESH_M_TASKS_NO_HANDLER
                                                                        : ZMESH_M_TASKS_RUN_ERROR;
        zmesh_metrics_add (&self->ctx->metrics, metric, 1);
        if (task->status != ZMESH_TASK_NO_HANDLER && !task->cancelled)
            s_handler_ran (self, task);
        w_owner_t *owner = s_owner (self, &task->item.owner);
        if (owner && !task->cancelled && !owner->routing_size) {
            //  A stolen task whose owner has not spoken to us yet: its result waits.
            task->done_next = owner->waiting;
            owner->waiting = task;
            continue;
        }
        if (owner && !task->cancelled)
            s_batch_result (self, &batch, owner, task, &load);
        s_forget (self, task);
    }
    if (batch.owner)
        s_batch_flush (self, &batch);
}

//  The owner's routing id is known now: send the results that waited for it.
static void
s_flush_waiting (self_t *self, w_owner_t *owner)
{
    if (!owner->waiting)
        return;
    zmesh_task_load_t load = s_load_locked (self);
    s_batch_t batch = {0};
    w_task_t *task = owner->waiting;
    owner->waiting = NULL;
    while (task) {
        w_task_t *next = task->done_next;
        s_batch_result (self, &batch, owner, task, &load);
        s_forget (self, task);
        task = next;
    }
    if (batch.owner)
        s_batch_flush (self, &batch);
}

//  Refuse one task at once (queue full, stopping): a RESULT with that status.
static void
s_refuse (
    self_t *self, w_owner_t *owner, const zmesh_task_item_t *item, uint8_t status, const char *why)
{
    zmesh_task_load_t load = s_load_locked (self);
    zmesh_task_writer_t writer;
    uint8_t buffer [1024];
    zmesh_task_result_item_t result = {.id = item->id,
                                       .attempt = item->attempt,
                                       .status = status,
                                       .error = why,
                                       .error_size = (uint32_t) strlen (why)};
    size_t size;
    if (zmesh_task_writer_begin (&writer, buffer, sizeof buffer, &self->ctx->identity.pub.id,
                                 ZMESH_TASK_KIND_RESULT, &load)
            == ZMESH_OK
        && zmesh_task_writer_add_result (&writer, &result) == ZMESH_OK
        && zmesh_task_writer_finish (&writer, &size) == ZMESH_OK)
        s_send_to (self, owner, buffer, size);
}

//  ---------------------------------------------------------------------------------------------
//  Receiving

//  SUBMIT from an owner, or STOLEN from a victim: queue the tasks (each with its owner).
static void
s_submit (self_t *self, const zmesh_task_msg_t *msg)
{
    uint64_t now_us = s_now_us ();
    uint32_t added = 0;
    pthread_mutex_lock (&self->lock);
    for (uint32_t i = 0; i < msg->count; i++) {
        const zmesh_task_item_t *item = &msg->u.tasks [i];
        w_task_t *known = (w_task_t *) zhashx_lookup (self->tasks, &item->id);
        if (known) {
            //  Another attempt of a task held here: it answers for the newest.
            if (item->attempt > known->item.attempt)
                known->item.attempt = item->attempt;
            continue;
        }
        w_owner_t *owner = s_owner_get (self, &item->owner);
        if (self->stopping) {
            pthread_mutex_unlock (&self->lock);
            if (owner->routing_size)
                s_refuse (self, owner, item, ZMESH_TASK_REFUSED, "worker stopping");
            pthread_mutex_lock (&self->lock);
            continue;
        }
        w_task_t *task = (w_task_t *) calloc (1, sizeof *task);
        ZMESH_ASSERT (task);
        task->worker = self;
        task->item = *item;
        if (item->payload_size) {
            task->payload = (uint8_t *) malloc (item->payload_size);
            ZMESH_ASSERT (task->payload);
            memcpy (task->payload, item->payload, item->payload_size);
        }
        if (item->checkpoint) {
            task->resume = (uint8_t *) malloc (item->checkpoint_size ? item->checkpoint_size : 1);
            ZMESH_ASSERT (task->resume);
            memcpy (task->resume, item->checkpoint, item->checkpoint_size);
        }
        task->item.payload = task->payload;
        task->item.checkpoint = task->resume;
        zmesh_id_to_hex (&item->id, task->id_hex);
        task->received_us = now_us;
        int rc = zmesh_taskq_push (&self->queue, (uint64_t) zclock_mono (), &item->id,
                                   (zmesh_priority_t) item->priority, (uint64_t) (uintptr_t) task,
                                   item->cpu_millicores);
        if (rc) {
            s_task_free (task);
            pthread_mutex_unlock (&self->lock);
            zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_TASKS_REFUSED_FULL, 1);
            if (owner->routing_size)
                s_refuse (self, owner, item, ZMESH_TASK_REFUSED, "worker queue full");
            pthread_mutex_lock (&self->lock);
            continue;
        }
        zhashx_insert (self->tasks, &item->id, task);
        owner->held++;
        added++;
    }
    if (added)
        __atomic_add_fetch (&self->queued, added, __ATOMIC_RELEASE);
    if (added == 1)
        pthread_cond_signal (&self->wake);
    else if (added > 1)
        pthread_cond_broadcast (&self->wake);
    pthread_mutex_unlock (&self->lock);
}

static void
s_cancel (self_t *self, const zmesh_task_msg_t *msg)
{
    for (uint32_t i = 0; i < msg->count; i++) {
        w_task_t *task = (w_task_t *) zhashx_lookup (self->tasks, &msg->u.refs [i].id);
        if (!task)
            continue;
        pthread_mutex_lock (&self->lock);
        bool removed =
            zmesh_taskq_remove (&self->queue, (uint64_t) zclock_mono (), &task->item.id, NULL)
            == ZMESH_OK;
        task->cancelled = true;
        pthread_mutex_unlock (&self->lock);
        if (removed) {
            zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_TASKS_CANCELLED, 1);
            s_forget (self, task);
        }
    }
}

//  A thief asks for up to max queued tasks: give up to half of what may be stolen (the
//  queue's rule), tell each task's owner where it went (MOVED, before the thief can answer
//  for it), then hand the tasks over (STOLEN) and forget them.
static void
s_give (self_t *self, w_owner_t *thief, uint32_t max)
{
    zmesh_taskq_entry_t *entries =
        (zmesh_taskq_entry_t *) malloc (ZMESH_TASK_BATCH_MAX * sizeof *entries);
    ZMESH_ASSERT (entries);
    if (max > ZMESH_TASK_BATCH_MAX)
        max = ZMESH_TASK_BATCH_MAX;
    pthread_mutex_lock (&self->lock);
    size_t count = zmesh_taskq_steal (&self->queue, (uint64_t) zclock_mono (), max, entries);
    zmesh_task_load_t load = s_load (self);
    pthread_mutex_unlock (&self->lock);
    //  MOVED, one message per owner.
    for (size_t i = 0; i < count; i++) {
        w_task_t *task = (w_task_t *) (uintptr_t) entries [i].handle;
        bool first = true;
        for (size_t j = 0; j < i && first; j++)
            first = !zmesh_id_equal (&((w_task_t *) (uintptr_t) entries [j].handle)->item.owner,
                                     &task->item.owner);
        w_owner_t *owner = s_owner (self, &task->item.owner);
        if (!first || !owner || !owner->routing_size)
            continue;
        zmesh_task_writer_t writer;
        zmesh_task_writer_begin_moved (&writer, self->out, self->out_capacity,
                                       &self->ctx->identity.pub.id, &load, &thief->id);
        for (size_t j = i; j < count; j++) {
            w_task_t *other = (w_task_t *) (uintptr_t) entries [j].handle;
            if (!zmesh_id_equal (&other->item.owner, &task->item.owner))
                continue;
            zmesh_task_ref_t ref = {.id = other->item.id, .attempt = other->item.attempt};
            zmesh_task_writer_add_ref (&writer, &ref);
        }
        size_t size;
        if (zmesh_task_writer_finish (&writer, &size) == ZMESH_OK)
            s_send_to (self, owner, self->out, size);
    }
    //  STOLEN to the thief (maybe empty: it then knows to look elsewhere).
    zmesh_task_writer_t writer;
    zmesh_task_writer_begin (&writer, self->out, self->out_capacity, &self->ctx->identity.pub.id,
                             ZMESH_TASK_KIND_STOLEN, &load);
    size_t given = 0;
    for (size_t i = 0; i < count; i++) {
        w_task_t *task = (w_task_t *) (uintptr_t) entries [i].handle;
        if (zmesh_task_writer_add_task (&writer, &task->item) == ZMESH_OK)
            given++;
        //  One that does not fit is dropped here: its owner's lease finds it missing.
        s_forget (self, task);
    }
    size_t size;
    if (zmesh_task_writer_finish (&writer, &size) == ZMESH_OK)
        s_send_to (self, thief, self->out, size);
    zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_TASKS_STOLEN_OUT, given);
    free (entries);
}

//  The nodes worth stealing from, from their published zmesh.work (rebuilt when the view moves).
static void
s_victims_rebuild (self_t *self)
{
    //  Who is worth stealing from changes with the zmesh.work values and with membership;
    //  the eventfd says "membership or work" (victims_dirty), the work version the rest.
    uint64_t version = zmesh_ctx_work_version (self->ctx);
    if (version == self->view_version && !self->victims_dirty)
        return;
    self->view_version = version;
    self->victims_dirty = false;
    size_t count;
    zmesh_member_t *members = zmesh_ctx_members (self->ctx, &count);
    free (self->victims);
    self->victims = (w_victim_t *) calloc (count ? count : 1, sizeof *self->victims);
    ZMESH_ASSERT (self->victims);
    self->victim_count = 0;
    for (size_t i = 0; i < count; i++) {
        const zmesh_member_t *member = &members [i];
        zmesh_work_info_t work;
        uint8_t sign_public [ZMESH_KEY_SIZE];
        zmesh_public_t pub;
        if (member->self || !streq (member->state, "alive")
            || !zmesh_ctx_member_work (self->ctx, member->id, &work)
            || zmesh_work_load_band (&work.load, (uint32_t) self->config->worker_steal_threshold)
                   != 2
            || zmesh_hex_decode (sign_public, ZMESH_KEY_SIZE, member->public_key)
            || zmesh_public_from_sign_key (&pub, sign_public))
            continue;
        w_victim_t *victim = &self->victims [self->victim_count++];
        victim->id = pub.id;
        snprintf (victim->endpoint, sizeof victim->endpoint, "%s", work.worker_endpoint);
        memcpy (victim->curve_public, pub.curve_public, ZMESH_KEY_SIZE);
    }
    free (members);
}

//  Short of work: a slot free, or about to be (fewer tasks queued than slots). Asking before
//  the queue is empty hides the steal's round trip behind the tasks still running.
static bool
s_idle (self_t *self)
{
    pthread_mutex_lock (&self->lock);
    bool idle = self->busy + zmesh_taskq_depth (&self->queue) < 2 * self->slots
                && zmesh_taskq_depth (&self->queue) < self->slots;
    pthread_mutex_unlock (&self->lock);
    return idle;
}

//  An idle worker asks one busy node (drawn at random) for work; one request at a time.
static void
s_steal (self_t *self, int64_t now)
{
    if (!self->config->worker_steal || now < self->steal_at)
        return;
    if (self->steal_pending && now - self->steal_sent < 1000)
        return;
    if (self->steal_pending) {
        //  No answer in a second: that node is gone or stuck; look elsewhere until the view
        //  says otherwise.
        for (uint32_t i = 0; i < self->victim_count; i++)
            if (zmesh_id_equal (&self->victims [i].id, &self->steal_from))
                self->victims [i--] = self->victims [--self->victim_count];
    }
    self->steal_pending = false;
    s_victims_rebuild (self);
    if (!self->victim_count || !s_idle (self))
        return;
    self->rng = zmesh_mix64 (self->rng + 0x9e3779b97f4a7c15ull);
    w_victim_t *pick = &self->victims [self->rng % self->victim_count];
    w_victim_t *victim = (w_victim_t *) zhashx_lookup (self->dealers, &pick->id);
    if (victim && strcmp (victim->endpoint, pick->endpoint) != 0) {
        zhashx_delete (self->dealers, &pick->id);
        victim = NULL;
    }
    if (!victim) {
        victim = (w_victim_t *) calloc (1, sizeof *victim);
        ZMESH_ASSERT (victim);
        *victim = *pick;
        zmesh_link_config_t link = {
            .max_message_bytes = ZMESH_TASK_MSG_MAX, .linger_ms = 0, .queue_early = true};
        victim->dealer = zmesh_link_client_new (&self->ctx->identity, victim->curve_public,
                                                victim->endpoint, &link);
        if (!victim->dealer) {
            free (victim);
            self->steal_at = now + 1000;
            return;
        }
        victim->handle = zsock_resolve (victim->dealer);
        zhashx_insert (self->dealers, &victim->id, victim);
    }
    uint8_t buffer [256];
    size_t size;
    zmesh_task_load_t load = s_load_locked (self);
    uint32_t want = 2 * self->slots;
    if (zmesh_task_encode_steal (buffer, sizeof buffer, &self->ctx->identity.pub.id, &load,
                                 want > ZMESH_TASK_BATCH_MAX ? ZMESH_TASK_BATCH_MAX : want, &size)
            == ZMESH_OK
        && zmq_send (victim->handle, buffer, size, ZMQ_DONTWAIT) >= 0) {
        self->steal_pending = true;
        self->steal_sent = now;
        self->steal_from = victim->id;
        zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_STEAL_REQUESTS, 1);
    }
    self->steal_at = now + self->config->worker_steal_interval_ms;
}

//  STOLEN from a victim: queue the tasks; ask again at once if it has more and we are idle.
static void
s_handle_victim (self_t *self, w_victim_t *victim)
{
    for (int n = 0; n < 16; n++) {
        zmq_msg_t payload;
        zmq_msg_init (&payload);
        if (zmq_msg_recv (&payload, victim->handle, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&payload);
            break;
        }
        if (zmesh_work_recv_from (&self->ctx->metrics, &payload, &victim->id, self->msg) == ZMESH_OK
            && self->msg->kind == ZMESH_TASK_KIND_STOLEN) {
            self->steal_pending = false;
            s_submit (self, self->msg);
            zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_TASKS_STOLEN_IN, self->msg->count);
            int64_t now = zclock_mono ();
            //  More there: ask again as soon as our queue runs short; nothing now (its queue
            //  is filling, or draining): ask again after steal_interval_ms.
            self->steal_at = self->msg->count && self->msg->load.stealable
                                 ? now
                                 : now + self->config->worker_steal_interval_ms;
        }
        zmq_msg_close (&payload);
    }
}

static void
s_victim_destroy (void **item)
{
    w_victim_t *victim = (w_victim_t *) *item;
    if (victim) {
        zsock_destroy (&victim->dealer);
        free (victim);
        *item = NULL;
    }
}

static void s_bid (self_t *self, w_owner_t *owner, const zmesh_task_call_t *call);

//  Messages on the CURVE server (local false), or on the inproc one from this node's own
//  balancer (local true: no CURVE there, so the sender must be this node).
static void
s_handle_server (self_t *self, bool local)
{
    void *handle = local ? self->local_handle : self->server_handle;
    for (int n = 0; n < S_RECV_BATCH; n++) {
        zmq_msg_t routing, payload;
        zmq_msg_init (&routing);
        if (zmq_msg_recv (&routing, handle, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&routing);
            break;
        }
        zmq_msg_init (&payload);
        if (!zmq_msg_more (&routing) || zmq_msg_recv (&payload, handle, 0) < 0
            || zmq_msg_more (&payload) || zmq_msg_size (&routing) > 255) {
            zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_DROP_MALFORMED, 1);
            //  drain the rest of a multipart message
            while (zmq_msg_more (&payload) && zmq_msg_recv (&payload, handle, ZMQ_DONTWAIT) >= 0)
                ;
            zmq_msg_close (&payload);
            zmq_msg_close (&routing);
            continue;
        }
        zmesh_id_t sender = self->ctx->identity.pub.id;
        int rc = local ? zmesh_work_recv_from (&self->ctx->metrics, &payload, &sender, self->msg)
                       : zmesh_work_recv_check (&self->ctx->metrics, &payload, self->msg, &sender);
        if (rc == ZMESH_OK) {
            w_owner_t *owner = s_owner_get (self, &sender);
            owner->local = local;
            owner->routing_size = zmq_msg_size (&routing);
            memcpy (owner->routing, zmq_msg_data (&routing), owner->routing_size);
            s_flush_waiting (self, owner);
            if (self->msg->kind == ZMESH_TASK_KIND_SUBMIT)
                s_submit (self, self->msg);
            else if (self->msg->kind == ZMESH_TASK_KIND_CANCEL)
                s_cancel (self, self->msg);
            else if (self->msg->kind == ZMESH_TASK_KIND_STEAL)
                s_give (self, owner, self->msg->max);
            else if (self->msg->kind == ZMESH_TASK_KIND_CALL)
                s_bid (self, owner, &self->msg->call);
            else
                zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_DROP_UNKNOWN_TYPE, 1);
        }
        zmq_msg_close (&payload);
        zmq_msg_close (&routing);
    }
}

//  ---------------------------------------------------------------------------------------------
//  Leases and publication

static void
s_leases (self_t *self)
{
    //  Group the held tasks by owner: one LEASE (or more, if large) per owner.
    zlistx_t *order = zlistx_new ();
    pthread_mutex_lock (&self->lock);
    zmesh_task_load_t load = s_load (self);
    for (w_task_t *task = (w_task_t *) zhashx_first (self->tasks); task;
         task = (w_task_t *) zhashx_next (self->tasks))
        if (!task->finished)
            zlistx_add_end (order, task);
    //  Running flags are read under the lock, into the refs below.
    size_t count = zlistx_size (order);
    typedef struct {
        zmesh_id_t owner;
        zmesh_task_ref_t ref;
    } s_held_t;
    s_held_t *held = count ? (s_held_t *) malloc (count * sizeof *held) : NULL;
    size_t n = 0;
    for (w_task_t *task = (w_task_t *) zlistx_first (order); task && held;
         task = (w_task_t *) zlistx_next (order)) {
        held [n].owner = task->item.owner;
        held [n].ref.id = task->item.id;
        held [n].ref.attempt = task->item.attempt;
        held [n].ref.running = task->running;
        n++;
    }
    pthread_mutex_unlock (&self->lock);
    zlistx_destroy (&order);
    //  One pass per owner (owners are few).
    for (w_owner_t *owner = (w_owner_t *) zhashx_first (self->owners); owner;
         owner = (w_owner_t *) zhashx_next (self->owners)) {
        if (!owner->held)
            continue;
        zmesh_task_writer_t writer;
        bool begun = false;
        for (size_t i = 0; i < n; i++) {
            if (!zmesh_id_equal (&held [i].owner, &owner->id))
                continue;
            if (!begun) {
                zmesh_task_writer_begin (&writer, self->out, self->out_capacity,
                                         &self->ctx->identity.pub.id, ZMESH_TASK_KIND_LEASE, &load);
                begun = true;
            }
            int rc = zmesh_task_writer_add_ref (&writer, &held [i].ref);
            if (rc == ZMESH_ETOOBIG || rc == ZMESH_ELIMIT) {
                size_t size;
                if (zmesh_task_writer_finish (&writer, &size) == ZMESH_OK)
                    s_send_to (self, owner, self->out, size);
                zmesh_task_writer_begin (&writer, self->out, self->out_capacity,
                                         &self->ctx->identity.pub.id, ZMESH_TASK_KIND_LEASE, &load);
                zmesh_task_writer_add_ref (&writer, &held [i].ref);
            }
        }
        size_t size;
        if (begun && zmesh_task_writer_finish (&writer, &size) == ZMESH_OK)
            s_send_to (self, owner, self->out, size);
    }
    free (held);
}

//  What this worker offers (zmesh.work), with load; its profile into *profile_out if not
//  NULL. False if it is not profiled yet.
static bool
s_work_info (self_t *self,
             zmesh_work_info_t *out,
             const zmesh_task_load_t *load,
             zmesh_profile_t *profile_out)
{
    zmesh_work_info_t info;
    memset (&info, 0, sizeof info);
    snprintf (info.worker_endpoint, sizeof info.worker_endpoint, "%s", self->endpoint);
    char tags [512];
    snprintf (tags, sizeof tags, "%s", self->config->worker_tags);
    char *save = NULL;
    for (char *word = strtok_r (tags, " ,", &save); word && info.tag_count < ZMESH_TASK_TAGS_MAX;
         word = strtok_r (NULL, " ,", &save))
        snprintf (info.tags [info.tag_count++], ZMESH_TASK_TAG_MAX, "%s", word);
    zmesh_profile_t profile;
    uint64_t at;
    bool profiled = zmesh_ctx_profile (self->ctx, &profile, &at);
    if (profiled && profile.gpu_count && info.tag_count < ZMESH_TASK_TAGS_MAX)
        snprintf (info.tags [info.tag_count++], ZMESH_TASK_TAG_MAX, "gpu");
    for (size_t i = 0; i < self->ctx->handler_count && info.handler_count < ZMESH_TASK_TAGS_MAX;
         i++) {
        if (streq (self->ctx->handlers [i].name, "exec") && !self->exec_allow [0])
            continue;
        snprintf (info.handlers [info.handler_count++], ZMESH_TASK_HANDLER_MAX, "%s",
                  self->ctx->handlers [i].name);
    }
    info.load = *load;
    info.cost_permille = (uint32_t) self->config->worker_cost;
    *out = info;
    if (profile_out && profiled)
        *profile_out = profile;
    return profiled;
}

//  A CALL from an owner: this worker's bid for tasks like the one described, from what it
//  offers and its load now, its own run times of the handler and its outcomes, by the same
//  function owners use for the nodes that do not answer (zmesh_place_bid).
static void
s_bid (self_t *self, w_owner_t *owner, const zmesh_task_call_t *call)
{
    pthread_mutex_lock (&self->lock);
    zmesh_task_load_t load = s_load (self);
    bool stopping = self->stopping;
    pthread_mutex_unlock (&self->lock);
    zmesh_work_info_t *info = (zmesh_work_info_t *) malloc (sizeof *info);
    zmesh_place_node_t *node = (zmesh_place_node_t *) calloc (1, sizeof *node);
    ZMESH_ASSERT (info && node);
    zmesh_profile_t profile;
    bool profiled = s_work_info (self, info, &load, &profile);
    zmesh_work_place_node (node, info, profiled ? &profile : NULL);
    node->id = self->ctx->identity.pub.id;
    node->is_self = true;
    node->eligible = true;
    w_handler_stat_t *stat =
        (w_handler_stat_t *) zhashx_lookup (self->handler_stats, call->handler);
    if (stat) {
        node->perf_ms = stat->run_ms;
        node->perf_samples = stat->samples;
        node->outcomes_ok = stat->ok;
        node->outcomes_failed = stat->failed;
    }
    zmesh_place_request_t request;
    zmesh_place_request_init (&request);
    snprintf (request.handler, sizeof request.handler, "%s", call->handler);
    request.tag_count = call->tag_count;
    memcpy (request.tags, call->tags, sizeof request.tags);
    request.cpu_millicores = call->cpu_millicores;
    request.memory_bytes = call->memory_bytes;
    request.gpus = call->gpus;
    request.strategy = ZMESH_PLACE_AUCTION;
    double figure = -1;
    bool able = !stopping
                && zmesh_place_bid (&self->place, &request, node,
                                    (double) call->perf_best_us / 1000.0, &figure)
                       == ZMESH_OK;
    free (info);
    free (node);
    zmesh_task_bid_t bid = {.call_id = call->id, .able = able, .permille = 0};
    if (able)
        bid.permille = figure >= 1 ? 1000 : figure <= 0 ? 0 : (uint32_t) (figure * 1000.0 + 0.5);
    size_t size;
    if (zmesh_task_encode_bid (self->out, self->out_capacity, &self->ctx->identity.pub.id, &load,
                               &bid, &size)
        == ZMESH_OK)
        s_send_to (self, owner, self->out, size);
    zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_TASKS_BIDS, 1);
}

//  Publish zmesh.work: where this worker listens, its tags and handlers, its load.
static void
s_publish (self_t *self, bool force)
{
    zmesh_task_load_t load = s_load_locked (self);
    int64_t now = zclock_mono ();
    //  Load moves all the time; the mesh hears of it only when it crosses a band (idle,
    //  busy, worth stealing from), at most every S_PUBLISH_MIN_MS.
    uint32_t band_now =
        zmesh_work_load_band (&load, (uint32_t) self->config->worker_steal_threshold);
    uint32_t band_then = zmesh_work_load_band (&self->published_load,
                                               (uint32_t) self->config->worker_steal_threshold);
    if (!force && band_now == band_then) {
        self->publish_at = 0;
        return;
    }
    if (!force && now - self->published_at < S_PUBLISH_MIN_MS) {
        self->publish_at = self->published_at + S_PUBLISH_MIN_MS;  //  held back: a timer
        return;
    }
    self->publish_at = 0;
    zmesh_work_info_t info;
    s_work_info (self, &info, &load, NULL);
    uint8_t encoded [1024];
    size_t size;
    int rc = zmesh_work_info_encode (&info, encoded, sizeof encoded, &size);
    if (rc == ZMESH_ETOOBIG) {
        //  Too many handlers to list: publish none (placement then assumes any).
        info.handler_count = 0;
        rc = zmesh_work_info_encode (&info, encoded, sizeof encoded, &size);
    }
    if (rc) {
        zsys_warning ("worker: cannot encode zmesh.work: %s", zmesh_strerror (rc));
        return;
    }
    self->published_at = now;
    self->published_load = load;
    zmesh_ctx_set_work (self->ctx, encoded, size);
    zmesh_ctx_view_changed (self->ctx, ZMESH_VIEW_WORK);
    zsock_send (self->pipe, "sssb", "ROUTE", "gossip", "WORK", encoded, size);
}

//  ---------------------------------------------------------------------------------------------
//  Life

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (!self)
        return;
    //  Tasks still queued go back to their owners at once (REFUSED), rather than when their
    //  leases expire.
    if (self->tasks && self->server) {
        for (w_task_t *task = (w_task_t *) zhashx_first (self->tasks); task;
             task = (w_task_t *) zhashx_next (self->tasks)) {
            pthread_mutex_lock (&self->lock);
            bool queued = !task->running && !task->finished
                          && zmesh_taskq_remove (&self->queue, (uint64_t) zclock_mono (),
                                                 &task->item.id, NULL)
                                 == ZMESH_OK;
            if (queued)
                task->finished = true;  //  freed with the table below
            pthread_mutex_unlock (&self->lock);
            w_owner_t *owner = s_owner (self, &task->item.owner);
            if (queued && owner && owner->routing_size)
                s_refuse (self, owner, &task->item, ZMESH_TASK_REFUSED, "worker stopping");
        }
    }
    pthread_mutex_lock (&self->lock);
    self->stopping = true;
    pthread_cond_broadcast (&self->wake);
    pthread_mutex_unlock (&self->lock);
    for (uint32_t i = 0; i < self->thread_count; i++)
        pthread_join (self->threads [i], NULL);
    free (self->threads);
    if (self->tasks) {
        for (w_task_t *task = (w_task_t *) zhashx_first (self->tasks); task;
             task = (w_task_t *) zhashx_next (self->tasks))
            s_task_free (task);
        zhashx_destroy (&self->tasks);
    }
    zhashx_destroy (&self->handler_stats);
    if (self->owners) {
        for (w_owner_t *owner = (w_owner_t *) zhashx_first (self->owners); owner;
             owner = (w_owner_t *) zhashx_next (self->owners)) {
            free (owner);  //  its waiting results are in the task table, freed above
        }
        zhashx_destroy (&self->owners);
    }
    zmesh_link_monitor_destroy (&self->monitor);
    zsock_destroy (&self->server);
    zsock_destroy (&self->local);
    zhashx_destroy (&self->dealers);
    free (self->victims);
    if (self->view_fd >= 0) {
        zmesh_ctx_view_watch (self->ctx, 0, -1, 0);
        close (self->view_fd);
    }
    if (self->event_fd >= 0)
        close (self->event_fd);
    zmesh_taskq_fini (&self->queue);
    pthread_cond_destroy (&self->wake);
    pthread_mutex_destroy (&self->lock);
    free (self->out);
    free (self->msg);
    free (self);
    *self_p = NULL;
}

static self_t *
s_self_new (zsock_t *pipe, zmesh_node_ctx_t *ctx, char *err, size_t err_size)
{
    self_t *self = (self_t *) calloc (1, sizeof *self);
    ZMESH_ASSERT (self);
    self->ctx = ctx;
    self->config = &ctx->config;
    self->pipe = pipe;
    self->event_fd = -1;
    self->view_fd = -1;
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->wake, NULL);
    snprintf (self->exec_allow, sizeof self->exec_allow, "%s", self->config->worker_exec_allow);
    self->tasks = s_id_table ();
    self->owners = s_id_table ();
    zmesh_work_place_config (self->config, &self->place);
    self->handler_stats = zhashx_new ();
    ZMESH_ASSERT (self->handler_stats);
    zhashx_set_destructor (self->handler_stats, s_free_item);
    self->out_capacity = ZMESH_TASK_MSG_MAX;
    self->out = (uint8_t *) malloc (self->out_capacity);
    self->msg = (zmesh_task_msg_t *) malloc (sizeof *self->msg);
    self->event_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
    self->view_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
    self->dealers = s_id_table ();
    zhashx_set_destructor (self->dealers, s_victim_destroy);
    randombytes_buf (&self->rng, sizeof self->rng);
    if (!self->out || !self->msg || self->event_fd < 0 || self->view_fd < 0) {
        snprintf (err, err_size, "worker: out of memory or file descriptors");
        s_self_destroy (&self);
        return NULL;
    }
    //  Slots: worker/slots, or one per core.
    self->slots = (uint32_t) self->config->worker_slots;
    if (!self->slots) {
        long cores = sysconf (_SC_NPROCESSORS_ONLN);
        self->slots = cores > 0 ? (uint32_t) cores : 1;
    }
    zmesh_taskq_config_t q;
    zmesh_taskq_config_defaults (&q);
    q.capacity = (uint32_t) self->config->worker_queue;
    q.aging_ms = (uint32_t) self->config->worker_aging_ms;
    q.slots = self->slots;
    //  At most a quarter of the slots are kept for CRITICAL work: on a node of 2 or 3 slots,
    //  keeping one idle for it would halve what the rest of the work gets.
    q.critical_reserve = (uint32_t) self->config->worker_critical_reserve;
    if (q.critical_reserve > q.slots / 4)
        q.critical_reserve = q.slots / 4;
    if (zmesh_taskq_init (&self->queue, &q, (uint64_t) zclock_mono ())) {
        snprintf (err, err_size, "worker: cannot create the queue (worker/queue %d)",
                  self->config->worker_queue);
        s_self_destroy (&self);
        return NULL;
    }
    //  Bind: worker/bind, or node/bind's host with any port; a restart binds the same.
    char bind [ZMESH_ENDPOINT_MAX];
    if (ctx->worker_bound [0])
        snprintf (bind, sizeof bind, "%s", ctx->worker_bound);
    else if (self->config->worker_bind [0])
        snprintf (bind, sizeof bind, "%s", self->config->worker_bind);
    else
        zmesh_work_endpoint_with_port (bind, ctx->bound [0] ? ctx->bound : self->config->bind, "*");
    zmesh_link_config_t link = {.max_message_bytes = ZMESH_TASK_MSG_MAX, .linger_ms = 0};
    char bound [ZMESH_ENDPOINT_MAX];
    self->server = zmesh_link_server_rebind (&ctx->identity, ctx->identity.id_hex, bind, &link,
                                             ctx->worker_bound [0] != 0, bound, err, err_size);
    if (!self->server) {
        s_self_destroy (&self);
        return NULL;
    }
    zsock_set_sndhwm (self->server, 100000);
    zsock_set_rcvhwm (self->server, 100000);
    self->server_handle = zsock_resolve (self->server);
    snprintf (ctx->worker_bound, sizeof ctx->worker_bound, "%s", bound);
    //  The inproc server for this node's own balancer. A restart binds the name again once
    //  libzmq has let go of the previous run's socket (in its reaper thread, a moment later).
    char local [ZMESH_ENDPOINT_MAX];
    zmesh_work_local_endpoint (local, ctx->identity.id_hex);
    self->local = zsock_new (ZMQ_ROUTER);
    ZMESH_ASSERT (self->local);
    zsock_set_sndhwm (self->local, 100000);
    zsock_set_rcvhwm (self->local, 100000);
    int bound_local = -1;
    for (int attempt = 0; attempt < ZMESH_LINK_REBIND_ATTEMPTS && bound_local != 0; attempt++) {
        bound_local = zsock_bind (self->local, "%s", local);
        if (bound_local != 0)
            zclock_sleep (ZMESH_LINK_REBIND_PAUSE_MS);
    }
    if (bound_local != 0) {
        snprintf (err, err_size, "worker: cannot bind %s", local);
        s_self_destroy (&self);
        return NULL;
    }
    self->local_handle = zsock_resolve (self->local);
    self->monitor = zmesh_link_monitor_new (self->server);
    //  Advertise: worker/advertise, or the gossip endpoint's host with our port.
    if (self->config->worker_advertise [0])
        snprintf (self->endpoint, sizeof self->endpoint, "%s", self->config->worker_advertise);
    else {
        char gossip [ZMESH_ENDPOINT_MAX];
        zmesh_ctx_endpoint (ctx, gossip);
        const char *port = strrchr (bound, ':');
        zmesh_work_endpoint_with_port (self->endpoint, gossip [0] ? gossip : bound,
                                       port ? port + 1 : "*");
    }
    zmesh_ctx_view_watch (ctx, 0, self->view_fd, ZMESH_VIEW_MEMBERS | ZMESH_VIEW_WORK);
    self->threads = (pthread_t *) calloc (self->slots, sizeof *self->threads);
    ZMESH_ASSERT (self->threads);
    for (uint32_t i = 0; i < self->slots; i++) {
        if (pthread_create (&self->threads [i], NULL, s_executor, self) != 0) {
            snprintf (err, err_size, "worker: cannot start executor thread %u", i);
            s_self_destroy (&self);
            return NULL;
        }
        self->thread_count++;
    }
    return self;
}

void
zmesh_worker_actor (zsock_t *pipe, void *args)
{
    zsock_signal (pipe, 0);
    zmesh_actor_name ("worker");
    char err [512] = "";
    zmesh_node_ctx_t *ctx = (zmesh_node_ctx_t *) args;
    self_t *self = s_self_new (pipe, ctx, err, sizeof err);
    if (!self) {
        zmesh_actor_failed (pipe, err);
        return;
    }
    zsys_info ("worker: %u slots, taking tasks on %s", self->slots, self->endpoint);
    zmesh_actor_ready (pipe);
    s_publish (self, true);
    zmq_pollitem_t *items = NULL;
    w_victim_t **item_victims = NULL;
    size_t capacity = 0;
    while (!self->terminated) {
        //  Poll the pipe, the server, the executors' eventfd, the view's, the monitor, and
        //  the victims we steal from.
        size_t needed = 6 + zhashx_size (self->dealers);
        if (capacity < needed) {
            capacity = needed * 2;
            items = (zmq_pollitem_t *) realloc (items, capacity * sizeof *items);
            item_victims = (w_victim_t **) realloc (item_victims, capacity * sizeof *item_victims);
            ZMESH_ASSERT (items && item_victims);
        }
        size_t n = 0;
        items [n++] = (zmq_pollitem_t){zsock_resolve (pipe), 0, ZMQ_POLLIN, 0};
        items [n++] = (zmq_pollitem_t){self->server_handle, 0, ZMQ_POLLIN, 0};
        items [n++] = (zmq_pollitem_t){NULL, self->event_fd, ZMQ_POLLIN, 0};
        items [n++] = (zmq_pollitem_t){NULL, self->view_fd, ZMQ_POLLIN, 0};
        items [n++] = (zmq_pollitem_t){self->local_handle, 0, ZMQ_POLLIN, 0};
        size_t monitor_at = n;
        if (self->monitor)
            items [n++] = (zmq_pollitem_t){zsock_resolve (self->monitor->events), 0, ZMQ_POLLIN, 0};
        size_t victims_at = n;
        for (w_victim_t *victim = (w_victim_t *) zhashx_first (self->dealers); victim;
             victim = (w_victim_t *) zhashx_next (self->dealers)) {
            item_victims [n] = victim;
            items [n++] = (zmq_pollitem_t){victim->handle, 0, ZMQ_POLLIN, 0};
        }
        //  Timers: leases while tasks are held, a held-back publication, the next steal
        //  while idle with somewhere to steal from. None at all on an idle node.
        int64_t now = zclock_mono ();
        int64_t next = INT64_MAX;
        if (zhashx_size (self->tasks))
            next = self->lease_at;
        if (self->publish_at && self->publish_at < next)
            next = self->publish_at;
        if (self->config->worker_steal && self->victim_count) {
            int64_t at = self->steal_pending ? self->steal_sent + 1000 : self->steal_at;
            if (at < next)
                next = at;
        }
        long timeout = next == INT64_MAX ? -1 : next > now ? (long) (next - now) : 0;
        if (zmesh_poll_spin (items, (int) n, timeout, self->config->spin_us, &self->spin,
                             zhashx_size (self->tasks) > 0)
                < 0
            && zmq_errno () != EINTR)
            break;
        if (items [0].revents & ZMQ_POLLIN) {
            zmsg_t *msg = zmsg_recv (pipe);
            char *command = msg ? zmsg_popstr (msg) : NULL;
            bool fault = command && streq (command, "FAULT");
            if (!command || streq (command, "$TERM") || fault)
                self->terminated = true;
            zstr_free (&command);
            zmsg_destroy (&msg);
            if (fault)
                break;  //  as if crashed: the supervisor restarts us
        }
        if (items [1].revents & ZMQ_POLLIN)
            s_handle_server (self, false);
        if (items [4].revents & ZMQ_POLLIN)
            s_handle_server (self, true);
        if (items [2].revents & ZMQ_POLLIN)
            s_flush_done (self);
        if (items [3].revents & ZMQ_POLLIN) {
            uint64_t counter;
            ssize_t rc = read (self->view_fd, &counter, sizeof counter);
            (void) rc;
            self->victims_dirty = true;
            s_victims_rebuild (self);
        }
        if (self->monitor && (items [monitor_at].revents & ZMQ_POLLIN))
            zmesh_link_monitor_handle (self->monitor, &self->ctx->metrics);
        for (size_t i = victims_at; i < n; i++)
            if (items [i].revents & ZMQ_POLLIN)
                s_handle_victim (self, item_victims [i]);
        now = zclock_mono ();
        if (!zhashx_size (self->tasks))
            self->lease_at = now + self->config->worker_lease_interval_ms;
        else if (now >= self->lease_at) {
            self->lease_at = now + self->config->worker_lease_interval_ms;
            s_leases (self);
        }
        s_publish (self, false);
        if (self->victim_count)
            s_steal (self, now);
    }
    free (items);
    free (item_victims);
    s_self_destroy (&self);
}

void
zmesh_worker_builtins (zmesh_node_ctx_t *ctx)
{
    static const struct {
        const char *name;
        zmesh_handler_fn *fn;
    } builtins [] = {{"echo", s_echo}, {"sleep", s_sleep}, {"exec", s_exec}};
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
