/*  zmesh_worker_internal.h: what the worker actor's files share: zmesh_worker.c (the actor:
    sockets, the loop, leases, publication, life), zmesh_worker_queue.c (the queue, the
    executors, results), zmesh_worker_steal.c (stealing, bids) and zmesh_worker_handlers.c
    (the handler API of zmesh.h, the built-in handlers). Not for other actors: use zmesh_work.h.
*/
#ifndef ZMESH_WORKER_INTERNAL_H_INCLUDED
#define ZMESH_WORKER_INTERNAL_H_INCLUDED

#include "zmesh_actors.h"
#include "zmesh_link.h"
#include "zmesh_node_ctx.h"
#include "zmesh_spin.h"
#include "zmesh_taskq.h"
#include "zmesh_work.h"

//  The worker actor's state (struct zmesh_worker_s below), named self_t as in every actor.
typedef struct zmesh_worker_s self_t;

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

struct zmesh_worker_s {
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

//  ---------------------------------------------------------------------------------------------
//  The queue, the executors, results (zmesh_worker_queue.c)

//  Free a task and what it holds.
void zmesh_worker__task_free (w_task_t *task);

//  An executor thread (arg: the self_t): takes tasks from the queue until the worker stops.
void *zmesh_worker__executor (void *arg);

//  The load now (lock held by the caller), and the same taking the lock.
zmesh_task_load_t zmesh_worker__load (self_t *self);
zmesh_task_load_t zmesh_worker__load_locked (self_t *self);

//  Send one message to an owner (or a thief) on the server it last spoke on.
void zmesh_worker__send_to (self_t *self, w_owner_t *owner, const uint8_t *data, size_t size);

//  The owner of that id, or NULL; the same, added if new.
w_owner_t *zmesh_worker__owner (self_t *self, const zmesh_id_t *id);
w_owner_t *zmesh_worker__owner_get (self_t *self, const zmesh_id_t *id);

//  Forget a task: out of the table, its owner's count down, freed.
void zmesh_worker__forget (self_t *self, w_task_t *task);

//  Send the results and checkpoints the executors finished (the eventfd woke the actor).
void zmesh_worker__flush_done (self_t *self);

//  The owner's routing id is known now: send the results that waited for it.
void zmesh_worker__flush_waiting (self_t *self, w_owner_t *owner);

//  Refuse one task at once (queue full, stopping): a RESULT with that status.
void zmesh_worker__refuse (
    self_t *self, w_owner_t *owner, const zmesh_task_item_t *item, uint8_t status, const char *why);

//  SUBMIT from an owner, or STOLEN from a victim: queue the tasks (each with its owner).
void zmesh_worker__submit (self_t *self, const zmesh_task_msg_t *msg);

//  CANCEL from an owner: take the tasks out of the queue, or mark them if they run.
void zmesh_worker__cancel (self_t *self, const zmesh_task_msg_t *msg);

//  ---------------------------------------------------------------------------------------------
//  Stealing and bids (zmesh_worker_steal.c)

//  A thief asks for up to max queued tasks: MOVED to their owners, STOLEN to the thief.
void zmesh_worker__give (self_t *self, w_owner_t *thief, uint32_t max);

//  Rebuild the victims from the view, if membership or work values moved since.
void zmesh_worker__victims_rebuild (self_t *self);

//  While idle, ask one victim for work (one request at a time).
void zmesh_worker__steal (self_t *self, int64_t now);

//  Messages from a victim: STOLEN tasks to queue.
void zmesh_worker__handle_victim (self_t *self, w_victim_t *victim);

//  zhashx destructor of the dealers table: the victim and its DEALER.
void zmesh_worker__victim_destroy (void **item);

//  A task of a handler ended here: into the figures this worker bids with.
void zmesh_worker__handler_ran (self_t *self, const w_task_t *task);

//  What this worker offers (zmesh.work), with load; its profile into *profile_out if not
//  NULL. False if it is not profiled yet.
bool zmesh_worker__work_info (self_t *self,
                              zmesh_work_info_t *out,
                              const zmesh_task_load_t *load,
                              zmesh_profile_t *profile_out);

//  A CALL from an owner: answer with this worker's bid.
void zmesh_worker__bid (self_t *self, w_owner_t *owner, const zmesh_task_call_t *call);

//  ---------------------------------------------------------------------------------------------
//  The handler API and the built-in handlers (zmesh_worker_handlers.c)

//  Wake the actor (its eventfd): results or checkpoints wait on lists that were empty.
void zmesh_worker__wake_actor (self_t *self);

//  The exec built-in; its arg is the worker (for worker/exec_allow), not the registered one.
int zmesh_worker__exec (zmesh_task_t *task, void *arg);

#endif
