/*  zmesh_owner.h: the owner's side of a task, as a pure core (issue 4, points 2 and 6).

    The node that submits a task owns it until its result arrives, as in Ray: the balancer
    actor of that node drives this core. The core keeps every task it owns, places each one
    (through the shell's `choose` callback, which runs zmesh_place over the shell's view of the
    mesh), tracks each attempt to a result, re-dispatches what a failed or frozen worker held,
    and hands the shell exactly one result per task, however many times the task ran.

    Attempts. Each dispatch of a task to a worker is an attempt, numbered from 1. A task with
    redundancy r > 1 (CRITICAL work that must be checked) has r replicas, each its own chain
    of attempts on a distinct node. A result names the attempt it ends; a result for an
    attempt still open counts, and so does, for a task without redundancy, an answer (OK or
    HANDLER_ERROR) of an earlier attempt while the task is open: a late answer from a worker
    thought lost is still an answer, and the attempt open then is cancelled (a HANDLER_ERROR
    of an earlier attempt while a retry on error is under way is not news: a duplicate). The
    first result that completes the task wins: later ones are counted as duplicates and
    dropped. That is what makes results exactly-once at the owner while execution is
    at-least-once.

    Failures, and what each does:
    - Lost worker: membership says it is dead or left (node_down), or its lease expired: no
      message from it for lease_timeout_ms while it held attempts of ours. Every open
      attempt there fails as a system failure; the node takes no new attempts until it is
      heard again, or for lease_timeout_ms, doubled for each loss since it was last heard
      (at most 32 x): a worker that restarted empty never speaks to an owner it holds
      nothing for, so it must not be shut out for ever, but a frozen one that stays frozen
      is tried ever more rarely. Once its shut-out ends unheard, it is on probation: one
      open attempt at a time until it speaks.
    - An attempt that no lease has listed for 2 x lease_timeout_ms (since it was sent, moved
      or last listed) while its node speaks: it is gone (the worker restarted, or a message
      was lost); a system failure. A scan every lease_timeout_ms / 2 finds it, so within
      2.5 x lease_timeout_ms.
    - REFUSED, NO_HANDLER, TIMEOUT results: system failures of that attempt.
    - HANDLER_ERROR: the task failed; it is not retried unless the task asked for it
      (retry_on_error); for the breaker it is a success (the peer is healthy).
    A system failure retries the replica, if the task has retries left (max_retries counts
    re-dispatches of the task, all replicas together), after a back-off of
    retry_base_ms x 2^(n-1), capped at retry_max_ms, times a jitter factor drawn in [0.5, 1),
    on another node if there is one: the last 8 distinct nodes the task failed on are
    avoided while another node is eligible; when only they are, the least recent failures
    are forgiven first (not a HANDLER_ERROR: the node is healthy). Without retries left the
    task ends with its last error.
    Every attempt carries the latest checkpoint the owner holds (point 7): a CHECKPOINT of an
    attempt still open replaces it; one of an attempt that is not (a worker thought lost,
    whose progress may lag) is ignored, and so is every checkpoint of a redundant task (its
    replicas must not depend on one another: a Byzantine replica's checkpoint would steer
    every replica re-dispatched after it), whose replicas always start from the beginning.
    Steals. A MOVED from the node an attempt is open on moves it to the thief, whose results
    and leases count from then on. A lease that lists an attempt open on another node moves
    it too (a steal whose MOVED was lost or is late), and says whether it runs.
    Non-idempotent tasks (no ZMESH_TASK_FLAG_IDEMPOTENT) whose attempt was known to be running
    when its worker was lost are not re-run: they end with the error "lost while running".

    Redundancy. The r replicas go to r distinct nodes: a replica is never placed on a node
    where another replica of the task is open or that answered for the task already, and
    avoids the nodes the task failed on unless no other node is left. Each result carries a
    digest of (status, output); the first digest that `quorum` replicas (r/2 + 1) report
    wins. One node, one vote: a second answer from a node that answered for the task
    already (a steal gave it another replica) is no vote; that replica runs again elsewhere,
    as a retry. So a mesh with fewer than `quorum` nodes able to run the task never
    completes it: the replicas wait (choose should say ZMESH_ENOTFOUND when only avoided
    nodes could take it: then the task is parked and fails after place_timeout_ms). A
    replica whose digest differs from the winner is a disagreement: counted, and reported to
    the shell with the node, so a Byzantine worker shows in metrics. If no quorum is
    possible any more, the task fails with "no quorum".

    Flow control. At most `window` attempts are open on one node at once (a steal may move
    more there; it then takes none until it drains); tasks that cannot be placed for lack of
    window wait in the owner's pending queue, by priority with aging (zmesh_taskq's order:
    CRITICAL first, the others by enqueue time + (HIGH - priority) x aging_ms), and go out as
    windows free. A task that must wait keeps its place (a more urgent task submitted later
    goes before it), but does not hold up the tasks behind it that other nodes could run
    now: each pass over the queue looks past it, at up to 256 tasks, of which it tries up to
    8 in vain, and skips a task never dispatched when a task of the same kind (handler,
    tags, resources, LOCAL or not) found no node at all in that pass. A replica whose
    back-off ended goes to the front of its priority's line, ahead of the tasks submitted
    after it: a frozen worker's tasks run elsewhere as soon as their back-off allows, not
    after the whole backlog. At most max_tasks are owned at once: submit beyond is
    ZMESH_ELIMIT (the shell makes the submitter wait).
    Parking. A task that choose says no node could take (ZMESH_ENOTFOUND) is parked: tried
    again every ZMESH_OWNER_PARK_RETRY_MS (and at kick); once some node could take it, it
    goes back in line; place_timeout_ms after it was parked, it fails ("no eligible node",
    REFUSED), unless another replica of it is still open (which may yet make a quorum).
    Breaker. Each node's breaker (zmesh_breaker) hears how every attempt there ended: OK is a
    success, HANDLER_ERROR a task error, the rest and every lost attempt a system failure.
    An attempt that holds a HALF_OPEN trial slot and ends with no outcome recorded there
    (moved away, cancelled, made useless by another answer) gives the slot back.

    Output. The core calls the shell's callbacks synchronously, from within the call that
    decided: `send` (dispatch an attempt), `cancel` (best-effort: drop an attempt that is no
    longer needed), `done` (the one result of a task; its views are valid during the call).
    The callbacks must not call back into the core.

    Time: every call takes now_ms (monotonic ms); tick (at or after deadline_ms) runs lease
    expiry, the scan, back-offs, breaker timers, the ends of exclusions and the parked tasks'
    retries and timeouts; a tick at deadline_ms does all that is due then, so the next
    deadline lies ahead. Randomness (jitter) from a seed at init. No clock, no I/O.
*/
#ifndef ZMESH_OWNER_H_INCLUDED
#define ZMESH_OWNER_H_INCLUDED

#include "zmesh_breaker.h"
#include "zmesh_error.h"
#include "zmesh_ident.h"
#include "zmesh_task.h"
#include "zmesh_taskq.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZMESH_OWNER_REDUNDANCY_MAX           7
#define ZMESH_OWNER_LEASE_TIMEOUT_MS_DEFAULT 2000
#define ZMESH_OWNER_RETRY_BASE_MS_DEFAULT    100
#define ZMESH_OWNER_RETRY_MAX_MS_DEFAULT     5000
#define ZMESH_OWNER_WINDOW_DEFAULT           256
#define ZMESH_OWNER_MAX_TASKS_DEFAULT        65536
#define ZMESH_OWNER_MAX_TASKS_LIMIT          (1u << 20)
#define ZMESH_OWNER_AFFINITY_MAX             64  //  bytes of an affinity key
#define ZMESH_OWNER_DIGEST_SIZE              16
#define ZMESH_OWNER_PLACE_TIMEOUT_MS_DEFAULT 30000
#define ZMESH_OWNER_PARK_RETRY_MS            500

typedef struct {
    uint32_t lease_timeout_ms;  //  silence of a worker holding our attempts that loses them
    uint32_t retry_base_ms;     //  first back-off
    uint32_t retry_max_ms;      //  largest back-off
    uint32_t window;            //  attempts open on one node at most
    uint32_t max_tasks;         //  tasks owned at once at most
    uint32_t aging_ms;          //  aging of the pending queue (zmesh_taskq)
    uint32_t place_timeout_ms;  //  a task no node can take fails after this long
    zmesh_breaker_config_t breaker;
} zmesh_owner_config_t;

//  A task as submitted. The core copies everything it needs.
typedef struct {
    zmesh_id_t id;  //  chosen by the shell, unique
    char handler [ZMESH_TASK_HANDLER_MAX];
    const uint8_t *payload;
    uint32_t payload_size;
    uint8_t priority;  //  zmesh_priority_t
    uint8_t flags;     //  ZMESH_TASK_FLAG_*
    uint32_t timeout_ms;
    uint32_t cpu_millicores;
    uint64_t memory_bytes;
    uint32_t gpus;
    uint32_t tag_count;
    char tags [ZMESH_TASK_TAGS_MAX][ZMESH_TASK_TAG_MAX];
    uint32_t max_retries;  //  re-dispatches allowed
    uint32_t redundancy;   //  replicas, 1..ZMESH_OWNER_REDUNDANCY_MAX
    bool retry_on_error;   //  retry a HANDLER_ERROR too
    uint8_t strategy;      //  zmesh_place_strategy_t (zmesh_place.h)
    uint8_t affinity [ZMESH_OWNER_AFFINITY_MAX];
    uint32_t affinity_size;  //  0: none (hash uses the task id)
    uint64_t client;         //  the shell's: who gets the result
} zmesh_owner_task_t;

//  The one result of a task (the fields of issue 4 point 2).
typedef struct {
    zmesh_id_t task_id;
    const char *task_type;  //  the handler
    uint64_t client;
    zmesh_id_t selected_node;             //  the first placement's choice
    zmesh_id_t cost_optimal_node;         //  what a full scan would have chosen at that time
    zmesh_id_t dispatched_to;             //  the node whose result won (zero id if none)
    zmesh_breaker_state_t circuit_state;  //  that node's breaker when the result came
    bool success;
    uint8_t status;     //  zmesh_task_status_t of the winning (or last) attempt
    const char *error;  //  "" on success; NUL-terminated
    const uint8_t *output;
    uint32_t output_size;
    uint64_t latency_ms;     //  submit to result
    uint64_t queued_us;      //  the winning attempt's wait in the worker's queue
    uint64_t run_us;         //  and its handler's run time
    uint32_t attempts;       //  dispatches, all replicas
    uint32_t disagreements;  //  replicas whose digest differed from the winner
} zmesh_owner_result_t;

//  The shell's view of one attempt to send.
typedef struct {
    zmesh_task_item_t item;  //  ready for zmesh_task_writer_add_task (views valid in the call)
    zmesh_id_t node;
} zmesh_owner_send_t;

//  Placement request handed to choose: pick up to want distinct nodes not in avoid[], each
//  with window left and allowed by the breaker (zmesh_owner_node_available); best first.
typedef struct {
    const zmesh_owner_task_t *task;
    const zmesh_id_t *avoid;  //  nodes this task already uses or failed on
    uint32_t avoid_count;
    uint32_t want;
} zmesh_owner_choice_t;

typedef struct zmesh_owner_s zmesh_owner_t;

typedef struct {
    void *arg;
    //  Fill chosen[0..return) (at most want), and *optimal (the full scan's best, or zero if
    //  not computed). 0: eligible nodes exist but none has window or breaker room now (the
    //  task waits for a window); ZMESH_ENOTFOUND: no node could ever take it as things are
    //  (the task is parked, retried every ZMESH_OWNER_PARK_RETRY_MS, and fails after
    //  place_timeout_ms). Whether it finds a node at all must depend on the task's needs
    //  (handler, tags, resources, strategy LOCAL or not) and on avoid[], not on the task's
    //  id: within one pass, the core skips fresh tasks of a kind that found none.
    int (*choose) (void *arg,
                   zmesh_owner_t *owner,
                   const zmesh_owner_choice_t *choice,
                   zmesh_id_t *chosen,
                   zmesh_id_t *optimal);
    void (*send) (void *arg, const zmesh_owner_send_t *send);
    void (*cancel) (void *arg, const zmesh_id_t *node, const zmesh_task_ref_t *ref);
    void (*done) (void *arg, const zmesh_owner_result_t *result);
    //  A replica disagreed with the quorum (may be NULL).
    void (*disagree) (void *arg, const zmesh_id_t *node, const zmesh_id_t *task_id);
} zmesh_owner_callbacks_t;

typedef struct {
    uint64_t submitted, completed, succeeded, failed;
    uint64_t dispatched;     //  attempts sent
    uint64_t retried;        //  re-dispatches after a system failure
    uint64_t lost;           //  attempts lost with their worker (dead, lease, missing)
    uint64_t duplicates;     //  results after the task had its result, or for unknown tasks
    uint64_t disagreements;  //  redundant replicas outvoted
    uint64_t moved;          //  attempts a steal moved to another node
    uint64_t checkpoints;    //  checkpoints kept
    uint32_t owned;          //  tasks owned now
    uint32_t pending;        //  of which waiting to be placed
    uint32_t in_flight;      //  attempts open on workers
} zmesh_owner_stats_t;

void zmesh_owner_config_defaults (zmesh_owner_config_t *config);
int zmesh_owner_config_check (const zmesh_owner_config_t *config);

//  NULL if the config is bad or memory short.
zmesh_owner_t *zmesh_owner_new (const zmesh_owner_config_t *config,
                                const zmesh_owner_callbacks_t *callbacks,
                                uint64_t seed,
                                uint64_t now_ms);
void zmesh_owner_destroy (zmesh_owner_t **self_p);

//  Take a task: ZMESH_OK (placed now, pending or parked), ZMESH_ELIMIT (max_tasks owned),
//  ZMESH_ESTATE (that id is owned already), ZMESH_EINVAL (bad fields: redundancy, priority,
//  strategy, payload, tag or affinity sizes, max_retries out of range; a handler that is not
//  1..63 printable ASCII bytes, NUL-terminated).
int zmesh_owner_submit (zmesh_owner_t *self, uint64_t now_ms, const zmesh_owner_task_t *task);

//  A RESULT item from `from`. digest: of (status, output), computed by zmesh_owner_digest.
void zmesh_owner_result (zmesh_owner_t *self,
                         uint64_t now_ms,
                         const zmesh_id_t *from,
                         const zmesh_task_result_item_t *result);
//  Any message from a worker renews its lease on what it holds for us.
void zmesh_owner_heard (zmesh_owner_t *self, uint64_t now_ms, const zmesh_id_t *from);
//  A LEASE: the attempts `from` holds for us (running: refs with running set). Listing an
//  attempt open on another node moves it to `from`.
void zmesh_owner_lease (zmesh_owner_t *self,
                        uint64_t now_ms,
                        const zmesh_id_t *from,
                        const zmesh_task_ref_t *refs,
                        uint32_t count);
//  A MOVED: `from` gave these attempts to `thief`.
void zmesh_owner_moved (zmesh_owner_t *self,
                        uint64_t now_ms,
                        const zmesh_id_t *from,
                        const zmesh_id_t *thief,
                        const zmesh_task_ref_t *refs,
                        uint32_t count);
//  A CHECKPOINT of an open attempt: kept (the latest replaces the previous); of any other
//  attempt: ignored.
void zmesh_owner_checkpoint (zmesh_owner_t *self,
                             uint64_t now_ms,
                             const zmesh_id_t *from,
                             const zmesh_task_ref_t *ref,
                             const uint8_t *data,
                             uint32_t size);
//  Membership: the node is dead or left; its attempts are lost, and it takes none for
//  lease_timeout_ms unless heard.
void zmesh_owner_node_down (zmesh_owner_t *self, uint64_t now_ms, const zmesh_id_t *node);
//  The view changed (a node joined, a breaker closed, load fell): try the pending tasks.
void zmesh_owner_kick (zmesh_owner_t *self, uint64_t now_ms);
//  Lease expiry, back-offs, breaker timers, pending retries. Call at deadline_ms.
void zmesh_owner_tick (zmesh_owner_t *self, uint64_t now_ms);
uint64_t zmesh_owner_deadline_ms (const zmesh_owner_t *self);

//  May choose pick this node now (window left, breaker allows, not shut out after a loss)?
bool
zmesh_owner_node_available (const zmesh_owner_t *self, const zmesh_id_t *node, uint64_t now_ms);
//  Attempts open on a node.
uint32_t zmesh_owner_node_in_flight (const zmesh_owner_t *self, const zmesh_id_t *node);
zmesh_breaker_state_t
zmesh_owner_breaker_state (const zmesh_owner_t *self, const zmesh_id_t *node, uint64_t now_ms);
void zmesh_owner_stats (const zmesh_owner_t *self, uint64_t now_ms, zmesh_owner_stats_t *stats);
const zmesh_breaker_t *zmesh_owner_breaker (const zmesh_owner_t *self);

//  Visit the tasks owned (for `zmeshctl tasks`): up to max, in no particular order.
typedef struct {
    zmesh_id_t id;
    char handler [ZMESH_TASK_HANDLER_MAX];
    uint8_t priority;
    uint32_t attempts;
    uint64_t age_ms;
    bool pending;     //  not on any worker now
    zmesh_id_t node;  //  where its first open attempt is (zero if pending)
} zmesh_owner_task_info_t;
uint32_t zmesh_owner_list (const zmesh_owner_t *self,
                           uint64_t now_ms,
                           zmesh_owner_task_info_t *out,
                           uint32_t max);

//  BLAKE2b-128 of (status, output): what redundant replicas compare.
void zmesh_owner_digest (uint8_t status,
                         const uint8_t *output,
                         uint32_t size,
                         uint8_t digest [ZMESH_OWNER_DIGEST_SIZE]);

#endif
