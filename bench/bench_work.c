/*  bench_work: the work plane's figures, with real zmeshd worker processes on 127.0.0.1.

    bench_work [-z ZMESHD] [-s SCENARIO] [-n TASKS] [-S SPIN_US] [-P PLACEMENT] [-t]

    -S: node/spin_us of every node (default: the node's default; 0: threads sleep as soon as
        they have nothing to do).
    -P (rtt and rtt-local): where the processes' threads may run, set before the first round
        trip: `any` (default: wherever the kernel puts them), `one` (every thread of every
        process on CPU 0), `split` (the submitter on CPU 0; the workers and the raw echo
        process on CPU 1). On a machine whose wake-ups across CPUs are slow (bench_wake),
        this shows what they cost a round trip.
    -t (tests): skip the checks that depend on the machine's speed (the share stolen, the 3 s
    of `stop`); what must always hold (every task ends exactly once, successfully) is checked.

    The bench process is the submitter: an embedded node (gossip + balancer, no worker) seeded
    to the first worker, so every task crosses a CURVE tcp link to another process and its
    result comes back the same way. Workers are zmeshd processes (gossip + worker, open trust,
    no beacon), started fresh for each scenario and stopped (SIGTERM, then SIGKILL) after it.
    Scenarios (default: all):
        noop     one submitter, 2 workers x 2 slots: N no-op tasks (echo, empty payload) kept
                 in flight; tasks per second from the first submit to the last result
        rtt      the same mesh, one task at a time: round trip p50 / p99 / max, beside the
                 round trip of raw libzmq CURVE between this process and an echo process of
                 its own (a DEALER and a ROUTER with no zmesh between them), in rounds of 100
                 alternating ABBA, so both see the same machine
        rtt-local  the same, but the submitter runs a worker too and the tasks have strategy
                 local: each runs on the submitting node, reached over inproc (no tcp, no CURVE)
        sleep    2 workers x 2 slots: 2000 tasks of sleep 10 ms; makespan against the ideal
                 (2000 x 10 ms / 4 slots)
        steal    4 workers x 1 slot: 2000 tasks of sleep 10 ms all aimed at one node (strategy
                 hash, one affinity key); share run elsewhere, tasks run twice (must be 0)
        mixed    4 workers x 1 slot: 2000 tasks of 1..50 ms (uniform, seeded); utilisation
                 (busy time / (makespan x slots)) and spread of busy time across nodes
        kill     4 workers x 2 slots: 2000 tasks of sleep 20 ms; SIGKILL of one worker after
                 a quarter of them; every task must end once, successfully
        stop     the same with SIGSTOP: how long until the frozen worker's tasks ran elsewhere
    Each prints one line of figures, then `bench_work: ok` or the failed check.
*/
#include "zmesh.h"
#include <czmq.h>
#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

#define S_WORKERS_MAX 8

typedef struct {
    pid_t pid;
    char dir [220];
} s_worker_t;

static const char *s_zmeshd = "build/zmeshd";
static char s_spin_arg [40] = "node/spin_us=200";  //  -S: node/spin_us of every node
static const char *s_placement = "any";            //  -P: where rtt's threads run
static bool s_submitter_works;                     //  the submitter runs a worker too (rtt-local)
static char s_root [200];
static s_worker_t s_workers [S_WORKERS_MAX];
static int s_worker_count;
static zmesh_node_t *s_node;

static int64_t
s_now_us (void)
{
    return zclock_usecs ();
}

static char *
s_read_file (const char *path)
{
    FILE *file = fopen (path, "r");
    if (!file)
        return NULL;
    char buffer [1024];
    size_t size = fread (buffer, 1, sizeof buffer - 1, file);
    fclose (file);
    buffer [size] = 0;
    while (size && (buffer [size - 1] == '\n' || buffer [size - 1] == ' '))
        buffer [--size] = 0;
    return size ? strdup (buffer) : NULL;
}

//  Start a worker process; returns its contact once it has written it.
static char *
s_worker_start (int index, int slots, const char *seed)
{
    s_worker_t *w = &s_workers [index];
    snprintf (w->dir, sizeof w->dir, "%s/w%d", s_root, index + 1);
    char name [16], slots_arg [64];
    snprintf (name, sizeof name, "w%d", index + 1);
    snprintf (slots_arg, sizeof slots_arg, "worker/slots=%d", slots);
    w->pid = fork ();
    if (w->pid == 0) {
        char log [220];
        snprintf (log, sizeof log, "%s/w%d.log", s_root, index + 1);
        int fd = open (log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2 (fd, 1);
            dup2 (fd, 2);
        }
        const char *argv [32];
        int argc = 0;
        argv [argc++] = s_zmeshd;
        argv [argc++] = "--data";
        argv [argc++] = w->dir;
        argv [argc++] = "--name";
        argv [argc++] = name;
        argv [argc++] = "--bind";
        argv [argc++] = "tcp://127.0.0.1:*";
        argv [argc++] = "--no-beacon";
        argv [argc++] = "--open";
        argv [argc++] = "--set";
        argv [argc++] = "node/actors=gossip worker control";
        argv [argc++] = "--set";
        argv [argc++] = slots_arg;
        argv [argc++] = "--set";
        argv [argc++] = "worker/critical_reserve=0";
        argv [argc++] = "--set";
        argv [argc++] = s_spin_arg;
        if (seed) {
            argv [argc++] = "--seed";
            argv [argc++] = seed;
        }
        argv [argc] = NULL;
        execv (s_zmeshd, (char *const *) argv);
        _exit (127);
    }
    char path [320];
    snprintf (path, sizeof path, "%s/contact", w->dir);
    for (int i = 0; i < 1000; i++) {
        char *contact = s_read_file (path);
        if (contact) {
            //  The id: what `zmeshd --init` would print is the key; the id is in DIR/identity,
            //  which only zmesh reads: results name nodes by id, so learn it from members.
            return contact;
        }
        zclock_sleep (10);
    }
    fprintf (stderr, "bench_work: worker %d did not start (see %s/w%d.log)\n", index + 1, s_root,
             index + 1);
    exit (1);
}

static void
s_worker_signal (int index, int signal)
{
    if (s_workers [index].pid > 0)
        kill (s_workers [index].pid, signal);
}

static void
s_mesh_stop (void)
{
    zmesh_node_destroy (&s_node);
    for (int i = 0; i < s_worker_count; i++) {
        s_worker_signal (i, SIGCONT);
        s_worker_signal (i, SIGTERM);
    }
    for (int i = 0; i < s_worker_count; i++) {
        int status;
        for (int t = 0; t < 300 && waitpid (s_workers [i].pid, &status, WNOHANG) == 0; t++)
            zclock_sleep (10);
        if (waitpid (s_workers [i].pid, &status, WNOHANG) == 0) {
            kill (s_workers [i].pid, SIGKILL);
            waitpid (s_workers [i].pid, &status, 0);
        }
        s_workers [i].pid = 0;
    }
    s_worker_count = 0;
    char command [512];
    snprintf (command, sizeof command, "rm -rf %s/w* %s/submitter", s_root, s_root);
    if (system (command) != 0)
        fprintf (stderr, "bench_work: cannot clean %s\n", s_root);
}

//  Start `workers` workers of `slots` slots and the submitter; wait until the submitter's
//  balancer sees every worker's offer (a task to each of them answers).
static void
s_mesh_start (int workers, int slots)
{
    char *seed = NULL;
    for (int i = 0; i < workers; i++) {
        char *contact = s_worker_start (i, slots, seed);
        if (!seed)
            seed = contact;
        else
            free (contact);
    }
    s_worker_count = workers;
    char err [512], dir [220];
    snprintf (dir, sizeof dir, "%s/submitter", s_root);
    zmesh_config_t *config = zmesh_config_new ();
    zmesh_config_set (config, "node/data", dir, err, sizeof err);
    zmesh_config_set (config, "node/name", "submitter", err, sizeof err);
    zmesh_config_set (config, "node/bind", "tcp://127.0.0.1:*", err, sizeof err);
    zmesh_config_set (config, "node/actors",
                      s_submitter_works ? "gossip balancer worker" : "gossip balancer", err,
                      sizeof err);
    zmesh_config_set (config, "worker/slots", "2", err, sizeof err);
    zmesh_config_set (config, "worker/critical_reserve", "0", err, sizeof err);
    zmesh_config_set (config, "trust/mode", "open", err, sizeof err);
    zmesh_config_set (config, "beacon/enabled", "0", err, sizeof err);
    zmesh_config_set (config, "balancer/window", "4096", err, sizeof err);
    zmesh_config_set (config, "balancer/local_threshold", "0", err, sizeof err);
    zmesh_config_set (config, "node/spin_us", strchr (s_spin_arg, '=') + 1, err, sizeof err);
    zmesh_config_add_seed (config, seed, err, sizeof err);
    free (seed);
    s_node = zmesh_node_new (config, err, sizeof err);
    zmesh_config_destroy (&config);
    if (!s_node || zmesh_node_start (s_node, err, sizeof err)) {
        fprintf (stderr, "bench_work: submitter: %s\n", err);
        exit (1);
    }
    //  Every worker alive in the submitter's members, then its work offer in the view.
    for (int t = 0; t < 3000; t++) {
        zmesh_member_t members [S_WORKERS_MAX + 2];
        int count = zmesh_node_members (s_node, members, S_WORKERS_MAX + 2);
        int alive = 0;
        for (int i = 0; i < count; i++)
            alive += strcmp (members [i].state, "alive") == 0 && !members [i].self;
        if (alive == workers) {
            int with_work = 0;
            for (int i = 0; i < count; i++) {
                char value [2048];
                size_t size;
                if (!members [i].self
                    && zmesh_node_state_get (s_node, members [i].id, "zmesh.work", value,
                                             sizeof value, &size)
                           == ZMESH_OK)
                    with_work++;
            }
            if (with_work == workers)
                break;
        }
        zclock_sleep (10);
    }
    zclock_sleep (300);  //  the balancer rebuilds its view at most every 100 ms
}

static zmesh_task_spec_t
s_spec (const char *handler, const char *payload)
{
    zmesh_task_spec_t spec;
    zmesh_task_spec_init (&spec);
    spec.handler = handler;
    spec.payload = payload;
    spec.payload_size = payload ? strlen (payload) : 0;
    return spec;
}

static int
s_compare_i64 (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

//  Results of one run, by task.
typedef struct {
    int64_t submitted_us;
    int64_t done_us;
    int duration_ms;
    char node [33];
    uint32_t attempts;
    bool success;
    int results;
} s_task_t;

//  Submit count tasks (spec_of gives each one's spec), keep at most window in flight, collect
//  every result. Tasks are numbered by spec.user. Returns the makespan in us.
typedef void (s_spec_fn) (int index, zmesh_task_spec_t *spec, char *payload, int *duration_ms);

static int64_t
s_run (int count, int window, s_spec_fn *spec_of, s_task_t *tasks, int64_t *first_us)
{
    int sent = 0, received = 0;
    int64_t start = s_now_us ();
    if (first_us)
        *first_us = start;
    while (received < count) {
        while (sent < count && sent - received < window) {
            zmesh_task_spec_t spec;
            char payload [32];
            spec_of (sent, &spec, payload, &tasks [sent].duration_ms);
            spec.user = (uint64_t) sent;
            tasks [sent].submitted_us = s_now_us ();
            if (zmesh_node_submit_async (s_node, &spec, NULL, 10000)) {
                fprintf (stderr, "bench_work: submit failed\n");
                exit (1);
            }
            sent++;
        }
        zmesh_task_result_t *result;
        if (zmesh_node_result_recv (s_node, &result, 30000)) {
            fprintf (stderr, "bench_work: no result in 30 s (%d of %d)\n", received, count);
            exit (1);
        }
        s_task_t *task = &tasks [result->user];
        task->results++;
        task->done_us = s_now_us ();
        task->attempts = result->attempts;
        task->success = result->success;
        snprintf (task->node, sizeof task->node, "%s", result->dispatched_to);
        zmesh_task_result_destroy (&result);
        received++;
    }
    return s_now_us () - start;
}

static void
s_noop_spec (int index, zmesh_task_spec_t *spec, char *payload, int *duration_ms)
{
    (void) index, (void) payload;
    *spec = s_spec ("echo", NULL);
    *duration_ms = 0;
}

static void
s_sleep10_spec (int index, zmesh_task_spec_t *spec, char *payload, int *duration_ms)
{
    (void) index;
    snprintf (payload, 32, "10");
    *spec = s_spec ("sleep", payload);
    *duration_ms = 10;
}

static void
s_sleep20_spec (int index, zmesh_task_spec_t *spec, char *payload, int *duration_ms)
{
    (void) index;
    snprintf (payload, 32, "20");
    *spec = s_spec ("sleep", payload);
    *duration_ms = 20;
}

static void
s_aimed_spec (int index, zmesh_task_spec_t *spec, char *payload, int *duration_ms)
{
    s_sleep10_spec (index, spec, payload, duration_ms);
    spec->strategy = "hash";
    spec->affinity = "one-node";
    spec->affinity_size = 8;
}

static void
s_mixed_spec (int index, zmesh_task_spec_t *spec, char *payload, int *duration_ms)
{
    uint64_t x = (uint64_t) index * 0x9e3779b97f4a7c15ull + 12345;
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    int ms = 1 + (int) (x % 50);
    snprintf (payload, 32, "%d", ms);
    *spec = s_spec ("sleep", payload);
    *duration_ms = ms;
}

static int s_failures;
static bool s_no_timing;  //  -t: check only what must hold whatever the machine's speed

static void
s_check (bool ok, const char *what)
{
    if (!ok) {
        printf ("  FAILED: %s\n", what);
        s_failures++;
    }
}

//  Every task ended exactly once, successfully.
static void
s_check_once (const s_task_t *tasks, int count)
{
    int twice = 0, failed = 0;
    for (int i = 0; i < count; i++) {
        twice += tasks [i].results != 1;
        failed += !tasks [i].success;
    }
    s_check (twice == 0, "a task ended other than once");
    s_check (failed == 0, "a task failed");
}

static void
s_noop (int count)
{
    s_mesh_start (2, 2);
    s_task_t *tasks = (s_task_t *) calloc ((size_t) count, sizeof *tasks);
    s_run (1000, 1000, s_noop_spec, tasks, NULL);  //  warm up: links, view
    memset (tasks, 0, (size_t) count * sizeof *tasks);
    int64_t us = s_run (count, 20000, s_noop_spec, tasks, NULL);
    s_check_once (tasks, count);
    printf ("noop:   %d no-op tasks, 1 submitter -> 2 workers: %.0f tasks/s (%.2f s)\n", count,
            count / (us / 1e6), us / 1e6);
    free (tasks);
    s_mesh_stop ();
}

//  -E FILE: the raw baseline's other end, run as a process of its own. A ROUTER (CURVE
//  server, its own zmq context, no ZAP handler) on 127.0.0.1 that sends back every message;
//  its endpoint and public key go to FILE. It ends when its parent does.
static int
s_raw_echo (const char *file)
{
    char public_key [41], secret_key [41], endpoint [256];
    void *context = zmq_ctx_new ();
    void *server = zmq_socket (context, ZMQ_ROUTER);
    int one = 1, timeout = 500;
    size_t size = sizeof endpoint;
    if (zmq_curve_keypair (public_key, secret_key)
        || zmq_setsockopt (server, ZMQ_CURVE_SERVER, &one, sizeof one)
        || zmq_setsockopt (server, ZMQ_CURVE_SECRETKEY, secret_key, 40)
        || zmq_setsockopt (server, ZMQ_RCVTIMEO, &timeout, sizeof timeout)
        || zmq_bind (server, "tcp://127.0.0.1:*")
        || zmq_getsockopt (server, ZMQ_LAST_ENDPOINT, endpoint, &size))
        return 1;
    char temporary [300];
    snprintf (temporary, sizeof temporary, "%s.tmp", file);
    FILE *out = fopen (temporary, "w");
    if (!out || fprintf (out, "%s %s\n", endpoint, public_key) < 0 || fclose (out)
        || rename (temporary, file))
        return 1;
    pid_t parent = getppid ();
    while (getppid () == parent) {
        zmq_msg_t routing, body;
        zmq_msg_init (&routing);
        zmq_msg_init (&body);
        if (zmq_msg_recv (&routing, server, 0) >= 0 && zmq_msg_more (&routing)
            && zmq_msg_recv (&body, server, 0) >= 0) {
            zmq_msg_send (&routing, server, ZMQ_SNDMORE);
            zmq_msg_send (&body, server, 0);
        }
        zmq_msg_close (&routing);
        zmq_msg_close (&body);
    }
    zmq_close (server);
    zmq_ctx_term (context);
    return 0;
}

static const char *s_self_path;

//  The raw baseline's client: a DEALER (CURVE client, own context) connected to a raw echo
//  process. Returns the socket; *context and *pid to release with s_raw_stop.
static void *
s_raw_start (void **context, pid_t *pid)
{
    char file [300];
    snprintf (file, sizeof file, "%s/raw-echo", s_root);
    *pid = fork ();
    if (*pid == 0) {
        execl (s_self_path, s_self_path, "-E", file, (char *) NULL);
        _exit (127);
    }
    char *line = NULL;
    for (int i = 0; i < 500 && !line; i++) {
        line = s_read_file (file);
        if (!line)
            zclock_sleep (10);
    }
    char endpoint [256], server_key [64], public_key [41], secret_key [41];
    if (!line || sscanf (line, "%255s %63s", endpoint, server_key) != 2) {
        fprintf (stderr, "bench_work: rtt: the raw echo process did not start\n");
        exit (1);
    }
    free (line);
    *context = zmq_ctx_new ();
    void *client = zmq_socket (*context, ZMQ_DEALER);
    int timeout = 10000;
    if (zmq_curve_keypair (public_key, secret_key)
        || zmq_setsockopt (client, ZMQ_CURVE_SERVERKEY, server_key, 40)
        || zmq_setsockopt (client, ZMQ_CURVE_PUBLICKEY, public_key, 40)
        || zmq_setsockopt (client, ZMQ_CURVE_SECRETKEY, secret_key, 40)
        || zmq_setsockopt (client, ZMQ_RCVTIMEO, &timeout, sizeof timeout)
        || zmq_connect (client, endpoint)) {
        fprintf (stderr, "bench_work: rtt: raw client: %s\n", zmq_strerror (zmq_errno ()));
        exit (1);
    }
    return client;
}

static void
s_raw_stop (void **context, void *client, pid_t pid)
{
    int linger = 0;
    zmq_setsockopt (client, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close (client);
    zmq_ctx_term (*context);
    kill (pid, SIGTERM);
    waitpid (pid, NULL, 0);
}

//  Pin every thread of process pid to CPU cpu (threads it starts later inherit it).
static void
s_pin_process (pid_t pid, int cpu)
{
    char path [64];
    snprintf (path, sizeof path, "/proc/%d/task", (int) pid);
    DIR *dir = opendir (path);
    if (!dir) {
        fprintf (stderr, "bench_work: cannot list the threads of %d\n", (int) pid);
        exit (1);
    }
    cpu_set_t set;
    CPU_ZERO (&set);
    CPU_SET (cpu, &set);
    for (struct dirent *entry = readdir (dir); entry; entry = readdir (dir))
        if (entry->d_name [0] != '.'
            && sched_setaffinity ((pid_t) atoi (entry->d_name), sizeof set, &set) != 0) {
            fprintf (stderr, "bench_work: cannot pin thread %s to CPU %d\n", entry->d_name, cpu);
            exit (1);
        }
    closedir (dir);
}

//  -P: place the submitter, the workers and the raw echo process.
static void
s_place_processes (pid_t raw_pid)
{
    if (streq (s_placement, "any"))
        return;
    int other = streq (s_placement, "one") ? 0 : 1;
    s_pin_process (getpid (), 0);
    for (int i = 0; i < s_worker_count; i++)
        s_pin_process (s_workers [i].pid, other);
    s_pin_process (raw_pid, other);
}

//  One task at a time, against raw libzmq CURVE between two processes in the same run: rounds
//  of S_RTT_ROUND round trips alternate in ABBA order (raw, zmesh, zmesh, raw...), so the
//  machine's moods fall on both alike.
#define S_RTT_ROUND 100
#define S_RTT_WARM  200

static void
s_rtt (int count, bool local)
{
    s_submitter_works = local;
    s_mesh_start (2, 2);
    void *raw_context;
    pid_t raw_pid;
    void *raw = s_raw_start (&raw_context, &raw_pid);
    s_place_processes (raw_pid);
    count -= count % S_RTT_ROUND;
    int64_t *samples [2];
    samples [0] = (int64_t *) calloc ((size_t) count, sizeof (int64_t));  //  raw
    samples [1] = (int64_t *) calloc ((size_t) count, sizeof (int64_t));  //  zmesh
    zmesh_task_spec_t spec = s_spec ("echo", "x");
    if (local)
        spec.strategy = "local";  //  run by the submitter's own worker
    int rounds = count / S_RTT_ROUND + 2 * (S_RTT_WARM / S_RTT_ROUND);
    int done [2] = {0, 0};
    for (int round = 0; round < 2 * rounds; round++) {
        int side = (round % 4 == 1 || round % 4 == 2);  //  A B B A
        bool warm = round < 2 * 2 * (S_RTT_WARM / S_RTT_ROUND);
        for (int i = 0; i < S_RTT_ROUND; i++) {
            int64_t start = s_now_us ();
            if (side == 0) {
                char message [64];
                memset (message, 'x', 41);  //  about the size of a SUBMIT of echo "x"
                if (zmq_send (raw, message, 41, 0) != 41 || zmq_recv (raw, message, 64, 0) != 41) {
                    fprintf (stderr, "bench_work: rtt: no raw echo\n");
                    exit (1);
                }
            }
            else {
                zmesh_task_result_t *result;
                if (zmesh_node_submit (s_node, &spec, &result, 10000) || !result->success) {
                    fprintf (stderr, "bench_work: rtt: a task failed\n");
                    exit (1);
                }
                zmesh_task_result_destroy (&result);
            }
            if (!warm && done [side] < count)
                samples [side][done [side]++] = s_now_us () - start;
        }
    }
    for (int side = 0; side < 2; side++)
        qsort (samples [side], (size_t) done [side], sizeof (int64_t), s_compare_i64);
    int n = done [1] < done [0] ? done [1] : done [0];
    printf ("%s %d tasks one at a time%s%s: p50 %lld us, p99 %lld us, max %lld us; raw libzmq "
            "CURVE round trip between two processes, same run: p50 %lld us, p99 %lld us "
            "(p50 ratio %.2f)\n",
            local ? "rtt-local:" : "rtt:   ", n, streq (s_placement, "any") ? "" : ", placement ",
            streq (s_placement, "any") ? "" : s_placement, (long long) samples [1][n / 2],
            (long long) samples [1][n * 99 / 100], (long long) samples [1][n - 1],
            (long long) samples [0][n / 2], (long long) samples [0][n * 99 / 100],
            (double) samples [1][n / 2] / (double) (samples [0][n / 2] ? samples [0][n / 2] : 1));
    free (samples [0]);
    free (samples [1]);
    s_raw_stop (&raw_context, raw, raw_pid);
    s_mesh_stop ();
    s_submitter_works = false;
}

static void
s_sleep (void)
{
    int count = 2000;
    s_mesh_start (2, 2);
    s_task_t *tasks = (s_task_t *) calloc ((size_t) count, sizeof *tasks);
    int64_t us = s_run (count, count, s_sleep10_spec, tasks, NULL);
    s_check_once (tasks, count);
    double ideal = count * 10e3 / 4;
    printf ("sleep:  2000 x sleep 10 ms on 2 workers x 2 slots: makespan %.3f s, ideal %.3f s, "
            "%.1f%% of ideal\n",
            us / 1e6, ideal / 1e6, 100 * ideal / (double) us);
    free (tasks);
    s_mesh_stop ();
}

//  Per node: tasks and busy ms, from the results.
static void
s_per_node (const s_task_t *tasks,
            int count,
            int64_t makespan_us,
            int slots_per_node,
            double *utilisation,
            double *spread,
            int *most)
{
    char nodes [S_WORKERS_MAX][33];
    int node_count = 0;
    double busy [S_WORKERS_MAX] = {0};
    int ran [S_WORKERS_MAX] = {0};
    for (int i = 0; i < count; i++) {
        int n = 0;
        while (n < node_count && strcmp (nodes [n], tasks [i].node) != 0)
            n++;
        if (n == node_count && node_count < S_WORKERS_MAX)
            snprintf (nodes [node_count++], 33, "%s", tasks [i].node);
        if (n < S_WORKERS_MAX) {
            busy [n] += tasks [i].duration_ms;
            ran [n]++;
        }
    }
    double total = 0, max = 0, min = 1e18;
    *most = 0;
    for (int n = 0; n < node_count; n++) {
        total += busy [n];
        max = busy [n] > max ? busy [n] : max;
        min = busy [n] < min ? busy [n] : min;
        *most = ran [n] > *most ? ran [n] : *most;
    }
    *utilisation = total / (makespan_us / 1e3 * slots_per_node * s_worker_count);
    *spread = node_count ? (max - min) / (total / node_count) : 0;
}

static void
s_steal (void)
{
    int count = 2000;
    s_mesh_start (4, 1);
    s_task_t *tasks = (s_task_t *) calloc ((size_t) count, sizeof *tasks);
    int64_t us = s_run (count, count, s_aimed_spec, tasks, NULL);
    s_check_once (tasks, count);
    double utilisation, spread;
    int most;
    s_per_node (tasks, count, us, 1, &utilisation, &spread, &most);
    //  The node the hash aimed at runs the most; the others' share was stolen from it.
    int stolen = count - most;
    int twice = 0;
    for (int i = 0; i < count; i++)
        twice += tasks [i].attempts != 1;
    printf ("steal:  2000 x sleep 10 ms aimed at 1 of 4 workers: %.1f%% stolen, %d run twice, "
            "makespan %.3f s (ideal %.3f s)\n",
            100.0 * stolen / count, twice, us / 1e6, count * 10e-3 / 4);
    s_check (s_no_timing || stolen * 10 >= count * 7, "fewer than 70% stolen");
    s_check (twice == 0, "a task was dispatched twice");
    free (tasks);
    s_mesh_stop ();
}

static void
s_mixed (void)
{
    int count = 2000;
    s_mesh_start (4, 1);
    s_task_t *tasks = (s_task_t *) calloc ((size_t) count, sizeof *tasks);
    int64_t us = s_run (count, count, s_mixed_spec, tasks, NULL);
    s_check_once (tasks, count);
    double utilisation, spread;
    int most;
    s_per_node (tasks, count, us, 1, &utilisation, &spread, &most);
    printf ("mixed:  2000 x sleep 1..50 ms on 4 workers x 1 slot: utilisation %.1f%%, busy spread "
            "%.1f%%, makespan %.3f s\n",
            100 * utilisation, 100 * spread, us / 1e6);
    free (tasks);
    s_mesh_stop ();
}

//  SIGKILL or SIGSTOP worker 2 once a quarter of the tasks ended.
static void
s_fault (int signal)
{
    int count = 2000;
    s_mesh_start (4, 2);
    s_task_t *tasks = (s_task_t *) calloc ((size_t) count, sizeof *tasks);
    int sent = 0, received = 0;
    int64_t start = s_now_us (), fault_us = 0, last_redispatched_us = 0;
    int redispatched = 0;
    while (received < count) {
        while (sent < count && sent - received < 400) {
            zmesh_task_spec_t spec;
            char payload [32];
            s_sleep20_spec (sent, &spec, payload, &tasks [sent].duration_ms);
            spec.user = (uint64_t) sent;
            tasks [sent].submitted_us = s_now_us ();
            zmesh_node_submit_async (s_node, &spec, NULL, 10000);
            sent++;
        }
        if (!fault_us && received >= count / 4) {
            s_worker_signal (1, signal);
            fault_us = s_now_us ();
        }
        zmesh_task_result_t *result;
        if (zmesh_node_result_recv (s_node, &result, 30000)) {
            fprintf (stderr, "bench_work: no result in 30 s (%d of %d)\n", received, count);
            exit (1);
        }
        s_task_t *task = &tasks [result->user];
        task->results++;
        task->success = result->success;
        task->attempts = result->attempts;
        task->done_us = s_now_us ();
        if (result->attempts > 1 && fault_us) {
            redispatched++;
            last_redispatched_us = task->done_us;
        }
        zmesh_task_result_destroy (&result);
        received++;
    }
    int64_t us = s_now_us () - start;
    s_check_once (tasks, count);
    //  The frozen or killed worker's tasks ran elsewhere: the last of them ended this long
    //  after the signal (its run time included).
    double after_ms = last_redispatched_us ? (last_redispatched_us - fault_us) / 1e3 : 0;
    printf ("%s: 2000 x sleep 20 ms on 4 workers x 2 slots, worker 2 %s after 500 results: all "
            "%d ended once; %d re-dispatched, the last done %.0f ms after the signal; "
            "makespan %.3f s\n",
            signal == SIGKILL ? "kill" : "stop", signal == SIGKILL ? "SIGKILLed" : "SIGSTOPped",
            count, redispatched, after_ms, us / 1e6);
    if (signal == SIGSTOP)
        s_check (redispatched > 0 && (s_no_timing || after_ms <= 3000),
                 "the frozen worker's tasks were not done elsewhere within 3 s");
    free (tasks);
    s_mesh_stop ();
}

//  However the bench ends (a failed check exits, a signal), no worker process outlives it.
static void
s_kill_all (void)
{
    for (int i = 0; i < S_WORKERS_MAX; i++)
        if (s_workers [i].pid > 0) {
            kill (s_workers [i].pid, SIGKILL);
            waitpid (s_workers [i].pid, NULL, 0);
            s_workers [i].pid = 0;
        }
}

static void
s_on_signal (int signal)
{
    for (int i = 0; i < S_WORKERS_MAX; i++)
        if (s_workers [i].pid > 0)
            kill (s_workers [i].pid, SIGKILL);
    _exit (128 + signal);
}

int
main (int argc, char *argv [])
{
    const char *scenario = "all";
    int count = 200000;
    int option;
    s_self_path = "/proc/self/exe";
    if (argc == 3 && strcmp (argv [1], "-E") == 0)
        return s_raw_echo (argv [2]);
    while ((option = getopt (argc, argv, "z:s:n:S:P:t")) != -1) {
        if (option == 't')
            s_no_timing = true;
        else if (option == 'z')
            s_zmeshd = optarg;
        else if (option == 's')
            scenario = optarg;
        else if (option == 'n')
            count = atoi (optarg);
        else if (option == 'S')
            snprintf (s_spin_arg, sizeof s_spin_arg, "node/spin_us=%d", atoi (optarg));
        else if (option == 'P'
                 && (streq (optarg, "any") || streq (optarg, "one") || streq (optarg, "split")))
            s_placement = optarg;
        else {
            fprintf (stderr, "usage: bench_work [-z ZMESHD] [-s SCENARIO] [-n TASKS] [-S SPIN_US] "
                             "[-P any|one|split] [-t]\n");
            return 2;
        }
    }
    if (!streq (s_placement, "any") && sysconf (_SC_NPROCESSORS_ONLN) < 2) {
        fprintf (stderr, "bench_work: -P %s needs two CPUs\n", s_placement);
        return 2;
    }
    zsys_set_logstream (stderr);  //  the submitter's log; the figures go to stdout
    atexit (s_kill_all);
    signal (SIGTERM, s_on_signal);
    signal (SIGINT, s_on_signal);
    signal (SIGHUP, s_on_signal);
    snprintf (s_root, sizeof s_root, "%s/zmesh-bench-work.%d",
              getenv ("TMPDIR") ? getenv ("TMPDIR") : "/tmp", getpid ());
    zsys_dir_create (s_root);
    bool all = strcmp (scenario, "all") == 0;
    if (all || strcmp (scenario, "noop") == 0)
        s_noop (count);
    if (all || strcmp (scenario, "rtt") == 0)
        s_rtt (count < 20000 ? count : 20000, false);
    if (all || strcmp (scenario, "rtt-local") == 0)
        s_rtt (count < 20000 ? count : 20000, true);
    if (all || strcmp (scenario, "sleep") == 0)
        s_sleep ();
    if (all || strcmp (scenario, "steal") == 0)
        s_steal ();
    if (all || strcmp (scenario, "mixed") == 0)
        s_mixed ();
    if (all || strcmp (scenario, "kill") == 0)
        s_fault (SIGKILL);
    if (all || strcmp (scenario, "stop") == 0)
        s_fault (SIGSTOP);
    zsys_dir_delete (s_root);
    printf ("bench_work: %s\n", s_failures ? "FAILED" : "ok");
    return s_failures ? 1 : 0;
}
