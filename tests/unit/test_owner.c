/*  test_owner.c: the owner's side of a task (zmesh_owner.h), rule by rule.

    A fixture plays the shell: a list of nodes with the membership view (alive or not), a
    chooser that takes the nodes in list order that are alive, not avoided and available
    (zmesh_owner_node_available), like the balancer's (0 when live nodes exist but none may
    take the task now, ZMESH_ENOTFOUND when no node is alive), and logs of what the core
    sent, cancelled, delivered and reported. Time is the fixture's `now`, moved by hand or by
    s_run_until, which ticks at every deadline the core asks for.
*/
#include "zmesh_error.h"
#include "zmesh_owner.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_NODES   40
#define S_LOG_MAX 512
#define S_T0      1000  //  the fixture's clock starts here
#define S_LEASE   ZMESH_OWNER_LEASE_TIMEOUT_MS_DEFAULT

typedef struct {
    zmesh_id_t node;
    zmesh_id_t id;
    uint32_t attempt;
    uint8_t priority;
    bool has_checkpoint;
    char checkpoint [64];
    uint64_t at_ms;
} s_sent_t;

typedef struct {
    zmesh_id_t id;
    bool success;
    uint8_t status;
    char error [ZMESH_TASK_ERROR_MAX];
    char output [64];
    zmesh_id_t dispatched_to;
    zmesh_id_t selected;
    uint32_t attempts;
    uint32_t disagreements;
    uint64_t latency_ms;
    uint64_t at_ms;
} s_done_t;

typedef struct {
    zmesh_owner_t *owner;
    uint64_t now;
    uint32_t node_count;
    zmesh_id_t nodes [S_NODES];
    bool alive [S_NODES];
    char lacks [S_NODES][16];  //  a handler the node does not have ("" none)
    bool strict;               //  choose: ZMESH_ENOTFOUND when only avoided nodes are left
    uint32_t choose_calls;
    uint32_t sent_count, cancel_count, done_count, disagree_count;
    s_sent_t sent [S_LOG_MAX];
    zmesh_id_t cancel_node [S_LOG_MAX];
    zmesh_task_ref_t cancel_ref [S_LOG_MAX];
    s_done_t done [S_LOG_MAX];
    zmesh_id_t disagree_node [S_LOG_MAX];
} s_fx_t;

static zmesh_id_t
s_node_id (uint32_t n)
{
    zmesh_id_t id;
    memset (&id, 0, sizeof id);
    id.bytes [0] = 0xA0;
    id.bytes [1] = (uint8_t) n;
    id.bytes [15] = 0x5A;
    return id;
}

static zmesh_id_t
s_task_id (uint32_t n)
{
    zmesh_id_t id;
    memset (&id, 0, sizeof id);
    id.bytes [0] = 0x7A;
    id.bytes [2] = (uint8_t) n;
    id.bytes [3] = (uint8_t) (n >> 8);
    id.bytes [14] = 0x11;
    return id;
}

//  Index of a node id in the fixture's list.
static uint32_t
s_index (const s_fx_t *fx, const zmesh_id_t *id)
{
    for (uint32_t i = 0; i < fx->node_count; i++)
        if (zmesh_id_equal (&fx->nodes [i], id))
            return i;
    return UINT32_MAX;
}

static int
s_choose (void *arg,
          zmesh_owner_t *owner,
          const zmesh_owner_choice_t *choice,
          zmesh_id_t *chosen,
          zmesh_id_t *optimal)
{
    s_fx_t *fx = (s_fx_t *) arg;
    fx->choose_calls++;
    uint32_t count = 0;
    bool possible = false;
    for (uint32_t i = 0; i < fx->node_count; i++) {
        if (!fx->alive [i] || strcmp (fx->lacks [i], choice->task->handler) == 0)
            continue;
        bool avoided = false;
        for (uint32_t j = 0; j < choice->avoid_count; j++)
            avoided = avoided || zmesh_id_equal (&choice->avoid [j], &fx->nodes [i]);
        possible = possible || !avoided || !fx->strict;
        if (avoided || !zmesh_owner_node_available (owner, &fx->nodes [i], fx->now))
            continue;
        if (count < choice->want)
            chosen [count++] = fx->nodes [i];
    }
    if (!possible)
        return ZMESH_ENOTFOUND;
    *optimal = fx->nodes [0];
    return (int) count;
}

static void
s_send (void *arg, const zmesh_owner_send_t *send)
{
    s_fx_t *fx = (s_fx_t *) arg;
    assert_true (fx->sent_count < S_LOG_MAX);
    s_sent_t *sent = &fx->sent [fx->sent_count++];
    sent->node = send->node;
    sent->id = send->item.id;
    sent->attempt = send->item.attempt;
    sent->priority = send->item.priority;
    sent->has_checkpoint = send->item.checkpoint != NULL;
    memset (sent->checkpoint, 0, sizeof sent->checkpoint);
    if (send->item.checkpoint) {
        assert_true (send->item.checkpoint_size < sizeof sent->checkpoint);
        memcpy (sent->checkpoint, send->item.checkpoint, send->item.checkpoint_size);
    }
    sent->at_ms = fx->now;
}

static void
s_cancel (void *arg, const zmesh_id_t *node, const zmesh_task_ref_t *ref)
{
    s_fx_t *fx = (s_fx_t *) arg;
    assert_true (fx->cancel_count < S_LOG_MAX);
    fx->cancel_node [fx->cancel_count] = *node;
    fx->cancel_ref [fx->cancel_count++] = *ref;
}

static void
s_done (void *arg, const zmesh_owner_result_t *result)
{
    s_fx_t *fx = (s_fx_t *) arg;
    assert_true (fx->done_count < S_LOG_MAX);
    //  Exactly one result per task: never a second one for the same id.
    for (uint32_t i = 0; i < fx->done_count; i++)
        assert_false (zmesh_id_equal (&fx->done [i].id, &result->task_id));
    s_done_t *done = &fx->done [fx->done_count++];
    memset (done, 0, sizeof *done);
    done->id = result->task_id;
    done->success = result->success;
    done->status = result->status;
    snprintf (done->error, sizeof done->error, "%s", result->error);
    assert_true (result->output_size < sizeof done->output);
    if (result->output_size)
        memcpy (done->output, result->output, result->output_size);
    done->dispatched_to = result->dispatched_to;
    done->selected = result->selected_node;
    done->attempts = result->attempts;
    done->disagreements = result->disagreements;
    done->latency_ms = result->latency_ms;
    done->at_ms = fx->now;
    assert_true (result->success == (result->status == ZMESH_TASK_OK));
    assert_true (result->success == (result->error [0] == 0));
}

static void
s_disagree (void *arg, const zmesh_id_t *node, const zmesh_id_t *task_id)
{
    s_fx_t *fx = (s_fx_t *) arg;
    (void) task_id;
    fx->disagree_node [fx->disagree_count++] = *node;
}

static s_fx_t *
s_fx_new (uint32_t nodes, const zmesh_owner_config_t *config)
{
    s_fx_t *fx = (s_fx_t *) calloc (1, sizeof *fx);
    assert_non_null (fx);
    fx->now = S_T0;
    fx->node_count = nodes;
    for (uint32_t i = 0; i < nodes; i++) {
        fx->nodes [i] = s_node_id (i);
        fx->alive [i] = true;
    }
    zmesh_owner_callbacks_t callbacks = {.arg = fx,
                                         .choose = s_choose,
                                         .send = s_send,
                                         .cancel = s_cancel,
                                         .done = s_done,
                                         .disagree = s_disagree};
    fx->owner = zmesh_owner_new (config, &callbacks, 42, fx->now);
    assert_non_null (fx->owner);
    return fx;
}

//  The fixture's stats are consistent whatever happened.
static void
s_check_stats (s_fx_t *fx)
{
    zmesh_owner_stats_t stats;
    zmesh_owner_stats (fx->owner, fx->now, &stats);
    assert_int_equal (stats.owned, stats.submitted - stats.completed);
    assert_int_equal (stats.completed, stats.succeeded + stats.failed);
    assert_int_equal (stats.completed, fx->done_count);
    uint32_t sum = 0;
    for (uint32_t i = 0; i < fx->node_count; i++)
        sum += zmesh_owner_node_in_flight (fx->owner, &fx->nodes [i]);
    assert_int_equal (stats.in_flight, sum);
    assert_true (stats.pending <= stats.owned);
}

static void
s_fx_destroy (s_fx_t **fx_p)
{
    s_check_stats (*fx_p);
    zmesh_owner_destroy (&(*fx_p)->owner);
    assert_null ((*fx_p)->owner);
    free (*fx_p);
    *fx_p = NULL;
}

static zmesh_owner_task_t
s_spec (uint32_t n)
{
    zmesh_owner_task_t spec;
    memset (&spec, 0, sizeof spec);
    spec.id = s_task_id (n);
    snprintf (spec.handler, sizeof spec.handler, "echo");
    spec.payload = (const uint8_t *) "payload";
    spec.payload_size = 7;
    spec.priority = ZMESH_PRIORITY_NORMAL;
    spec.flags = ZMESH_TASK_FLAG_IDEMPOTENT;
    spec.max_retries = 3;
    spec.redundancy = 1;
    spec.client = n;
    return spec;
}

static void
s_submit (s_fx_t *fx, const zmesh_owner_task_t *spec)
{
    assert_int_equal (zmesh_owner_submit (fx->owner, fx->now, spec), ZMESH_OK);
}

//  A result from node `node` for task n's attempt.
static void
s_result (s_fx_t *fx, uint32_t node, uint32_t n, uint32_t attempt, uint8_t status, const char *out)
{
    zmesh_task_result_item_t item;
    memset (&item, 0, sizeof item);
    item.id = s_task_id (n);
    item.attempt = attempt;
    item.status = status;
    item.output = (const uint8_t *) out;
    item.output_size = out ? (uint32_t) strlen (out) : 0;
    const char *error = status == ZMESH_TASK_HANDLER_ERROR ? "it broke" : "";
    item.error = error;
    item.error_size = (uint32_t) strlen (error);
    zmesh_owner_heard (fx->owner, fx->now, &fx->nodes [node]);
    zmesh_owner_result (fx->owner, fx->now, &fx->nodes [node], &item);
    s_check_stats (fx);
}

static void
s_lease (s_fx_t *fx, uint32_t node, const zmesh_task_ref_t *refs, uint32_t count)
{
    zmesh_owner_lease (fx->owner, fx->now, &fx->nodes [node], refs, count);
    s_check_stats (fx);
}

static zmesh_task_ref_t
s_ref (uint32_t n, uint32_t attempt, bool running)
{
    zmesh_task_ref_t ref = {.id = s_task_id (n), .attempt = attempt, .running = running};
    return ref;
}

//  Tick at every deadline up to t; now = t at the end.
static void
s_run_until (s_fx_t *fx, uint64_t t)
{
    for (int guard = 0; guard < 100000; guard++) {
        uint64_t deadline = zmesh_owner_deadline_ms (fx->owner);
        if (deadline > t)
            break;
        if (deadline > fx->now)
            fx->now = deadline;
        zmesh_owner_tick (fx->owner, fx->now);
        s_check_stats (fx);
        //  The deadline of a tick done must lie ahead (nothing left for now).
        assert_true (zmesh_owner_deadline_ms (fx->owner) > fx->now);
    }
    fx->now = t;
    zmesh_owner_tick (fx->owner, fx->now);
    s_check_stats (fx);
}

static const s_sent_t *
s_last_sent (const s_fx_t *fx)
{
    assert_true (fx->sent_count > 0);
    return &fx->sent [fx->sent_count - 1];
}

static zmesh_owner_stats_t
s_stats (s_fx_t *fx)
{
    zmesh_owner_stats_t stats;
    zmesh_owner_stats (fx->owner, fx->now, &stats);
    return stats;
}

//  ---------------------------------------------------------------------------------------------

static void
test_config (void **state)
{
    (void) state;
    zmesh_owner_config_t config;
    zmesh_owner_config_defaults (&config);
    assert_int_equal (zmesh_owner_config_check (&config), ZMESH_OK);
    config.window = 0;
    assert_int_equal (zmesh_owner_config_check (&config), ZMESH_ECONFIG);
    zmesh_owner_config_defaults (&config);
    config.retry_max_ms = config.retry_base_ms - 1;
    assert_int_equal (zmesh_owner_config_check (&config), ZMESH_ECONFIG);
    zmesh_owner_config_defaults (&config);
    config.max_tasks = ZMESH_OWNER_MAX_TASKS_LIMIT + 1;
    assert_int_equal (zmesh_owner_config_check (&config), ZMESH_ECONFIG);
    zmesh_owner_callbacks_t none;
    memset (&none, 0, sizeof none);
    assert_null (zmesh_owner_new (NULL, &none, 1, 0));
    config.max_tasks = 0;
    zmesh_owner_callbacks_t callbacks = {.choose = s_choose, .send = s_send, .done = s_done};
    assert_null (zmesh_owner_new (&config, &callbacks, 1, 0));
    zmesh_owner_t *owner = zmesh_owner_new (NULL, &callbacks, 1, 0);
    assert_non_null (owner);
    assert_int_equal (zmesh_owner_deadline_ms (owner), UINT64_MAX);
    zmesh_owner_destroy (&owner);
    zmesh_owner_destroy (&owner);
}

//  One result per task: the first completes it; the same result again is a duplicate.
static void
test_one_result (void **state)
{
    (void) state;
    s_fx_t *fx = s_fx_new (2, NULL);
    zmesh_owner_task_t spec = s_spec (1);
    s_submit (fx, &spec);
    assert_int_equal (fx->sent_count, 1);
    assert_true (zmesh_id_equal (&fx->sent [0].node, &fx->nodes [0]));
    assert_int_equal (fx->sent [0].attempt, 1);
    assert_int_equal (s_stats (fx).in_flight, 1);
    assert_int_equal (zmesh_owner_node_in_flight (fx->owner, &fx->nodes [0]), 1);
    fx->now += 25;
    s_result (fx, 0, 1, 1, ZMESH_TASK_OK, "out");
    assert_int_equal (fx->done_count, 1);
    assert_true (fx->done [0].success);
    assert_string_equal (fx->done [0].output, "out");
    assert_true (zmesh_id_equal (&fx->done [0].dispatched_to, &fx->nodes [0]));
    assert_true (zmesh_id_equal (&fx->done [0].selected, &fx->nodes [0]));
    assert_int_equal (fx->done [0].attempts, 1);
    assert_int_equal (fx->done [0].latency_ms, 25);
    s_result (fx, 0, 1, 1, ZMESH_TASK_OK, "out");
    s_result (fx, 1, 1, 1, ZMESH_TASK_OK, "other");
    s_result (fx, 0, 99, 1, ZMESH_TASK_OK, "unknown");
    assert_int_equal (fx->done_count, 1);
    zmesh_owner_stats_t stats = s_stats (fx);
    assert_int_equal (stats.duplicates, 3);
    assert_int_equal (stats.owned, 0);
    assert_int_equal (stats.in_flight, 0);
    assert_int_equal (stats.succeeded, 1);
    assert_int_equal (stats.dispatched, 1);
    assert_int_equal (zmesh_owner_deadline_ms (fx->owner), UINT64_MAX);
    s_fx_destroy (&fx);
}

//  A lease expires: the attempt is re-dispatched to another node after a back-off; the late
//  result of the first attempt (redundancy 1) is still the answer, and the second attempt
//  is cancelled then.
static void
test_lease_expiry_and_late_result (void **state)
{
    (void) state;
    s_fx_t *fx = s_fx_new (2, NULL);
    zmesh_owner_task_t spec = s_spec (1);
    s_submit (fx, &spec);
    uint64_t sent_at = fx->now;
    //  Node 0 says nothing: its lease runs out at sent_at + lease_timeout, not before.
    s_run_until (fx, sent_at + S_LEASE - 1);
    assert_int_equal (s_stats (fx).lost, 0);
    s_run_until (fx, sent_at + S_LEASE);
    assert_int_equal (s_stats (fx).lost, 1);
    assert_int_equal (s_stats (fx).retried, 1);
    assert_int_equal (s_stats (fx).in_flight, 0);
    //  Node 0 takes nothing new until it is heard again (or the exclusion ends).
    assert_false (zmesh_owner_node_available (fx->owner, &fx->nodes [0], fx->now));
    s_run_until (fx, fx->now + ZMESH_OWNER_RETRY_BASE_MS_DEFAULT);
    assert_int_equal (fx->sent_count, 2);
    assert_true (zmesh_id_equal (&fx->sent [1].node, &fx->nodes [1]));
    assert_int_equal (fx->sent [1].attempt, 2);
    //  The late answer of attempt 1 wins; attempt 2 is no longer needed.
    fx->now += 10;
    s_result (fx, 0, 1, 1, ZMESH_TASK_OK, "late");
    assert_int_equal (fx->done_count, 1);
    assert_string_equal (fx->done [0].output, "late");
    assert_true (zmesh_id_equal (&fx->done [0].dispatched_to, &fx->nodes [0]));
    assert_int_equal (fx->done [0].attempts, 2);
    assert_int_equal (fx->cancel_count, 1);
    assert_true (zmesh_id_equal (&fx->cancel_node [0], &fx->nodes [1]));
    assert_int_equal (fx->cancel_ref [0].attempt, 2);
    s_result (fx, 1, 1, 2, ZMESH_TASK_OK, "late");
    assert_int_equal (s_stats (fx).duplicates, 1);
    //  Heard again: node 0 may take attempts.
    assert_true (zmesh_owner_node_available (fx->owner, &fx->nodes [0], fx->now));
    s_fx_destroy (&fx);
}

//  Leases renew: a node that speaks keeps its attempts as long as its leases list them.
//  An attempt its leases stop listing is lost 2 x lease_timeout after it was last listed
//  (found by a scan every lease_timeout / 2).
static void
test_missing_from_leases (void **state)
{
    (void) state;
    s_fx_t *fx = s_fx_new (2, NULL);
    zmesh_owner_task_t a = s_spec (1), b = s_spec (2);
    s_submit (fx, &a);
    s_submit (fx, &b);
    assert_int_equal (s_stats (fx).in_flight, 2);
    uint32_t on0 = zmesh_owner_node_in_flight (fx->owner, &fx->nodes [0]);
    assert_int_equal (on0, 2);
    //  Leases every 500 ms list task 1 only, for 10 s.
    uint64_t start = fx->now;
    uint64_t lost_at = 0;
    for (uint64_t t = start + 500; t <= start + 10000; t += 500) {
        s_run_until (fx, t);
        zmesh_task_ref_t ref = s_ref (1, 1, true);
        zmesh_owner_heard (fx->owner, fx->now, &fx->nodes [0]);
        s_lease (fx, 0, &ref, 1);
        //  Node 1, once it has task 2's second attempt, lists it.
        zmesh_task_ref_t second = s_ref (2, 2, false);
        zmesh_owner_heard (fx->owner, fx->now, &fx->nodes [1]);
        s_lease (fx, 1, &second, 1);
        if (!lost_at && s_stats (fx).lost)
            lost_at = t;
    }
    assert_int_equal (s_stats (fx).lost, 1);
    assert_true (lost_at >= start + 2 * S_LEASE);
    assert_true (lost_at <= start + 2 * S_LEASE + S_LEASE / 2 + 500);
    //  Task 2 went again elsewhere; task 1 is still open on node 0.
    assert_int_equal (zmesh_owner_node_in_flight (fx->owner, &fx->nodes [0]), 1);
    assert_int_equal (zmesh_owner_node_in_flight (fx->owner, &fx->nodes [1]), 1);
    assert_int_equal (fx->sent [2].attempt, 2);
    assert_true (zmesh_id_equal (&fx->sent [2].id, &b.id));
    s_fx_destroy (&fx);
}

//  Membership says a node is dead: its attempts go elsewhere after a back-off.
static void
test_node_down (void **state)
{
    (void) state;
    s_fx_t *fx = s_fx_new (3, NULL);
    for (uint32_t n = 1; n <= 3; n++) {
        zmesh_owner_task_t spec = s_spec (n);
        s_submit (fx, &spec);
    }
    assert_int_equal (zmesh_owner_node_in_flight (fx->owner, &fx->nodes [0]), 3);
    fx->now += 100;
    fx->alive [0] = false;
    zmesh_owner_node_down (fx->owner, fx->now, &fx->nodes [0]);
    assert_int_equal (s_stats (fx).lost, 3);
    assert_int_equal (s_stats (fx).in_flight, 0);
    assert_int_equal (s_stats (fx).owned, 3);
    s_run_until (fx, fx->now + 1000);
    assert_int_equal (fx->sent_count, 6);
    for (uint32_t i = 3; i < 6; i++) {
        assert_true (zmesh_id_equal (&fx->sent [i].node, &fx->nodes [1]));
        assert_int_equal (fx->sent [i].attempt, 2);
    }
    for (uint32_t n = 1; n <= 3; n++)
        s_result (fx, 1, n, 2, ZMESH_TASK_OK, "ok");
    assert_int_equal (s_stats (fx).succeeded, 3);
    s_fx_destroy (&fx);
}

//  A node that was lost and came back but holds nothing of ours never speaks to us: it must
//  not be shut out for ever. It is excluded for lease_timeout_ms (or until heard), doubled
//  for each loss since it was last heard, then on probation: one attempt at a time.
static void
test_lost_node_comes_back (void **state)
{
    (void) state;
    s_fx_t *fx = s_fx_new (1, NULL);
    zmesh_owner_task_t a = s_spec (1);
    s_submit (fx, &a);
    fx->now += 10;
    uint64_t down_at = fx->now;
    zmesh_owner_node_down (fx->owner, fx->now, &fx->nodes [0]);
    assert_false (zmesh_owner_node_available (fx->owner, &fx->nodes [0], fx->now));
    //  The only node: the retry waits for it (choose says 0: alive, but not available).
    s_run_until (fx, down_at + S_LEASE - 1);
    assert_int_equal (fx->sent_count, 1);
    assert_false (zmesh_owner_node_available (fx->owner, &fx->nodes [0], fx->now));
    //  The deadline wakes the shell when the exclusion ends, and the task goes out.
    assert_int_equal (zmesh_owner_deadline_ms (fx->owner), down_at + S_LEASE);
    s_run_until (fx, down_at + S_LEASE);
    assert_int_equal (fx->sent_count, 2);
    assert_int_equal (fx->sent [1].attempt, 2);
    //  On probation: that one attempt, no other until the node speaks.
    assert_false (zmesh_owner_node_available (fx->owner, &fx->nodes [0], fx->now));
    //  The same after a lease expiry of a node that restarted empty, shut out twice as long.
    uint64_t sent_at = fx->now;
    s_run_until (fx, sent_at + S_LEASE);
    assert_int_equal (s_stats (fx).lost, 2);
    s_run_until (fx, sent_at + 3 * S_LEASE - 1);
    assert_int_equal (fx->sent_count, 2);
    s_run_until (fx, sent_at + 3 * S_LEASE);
    assert_int_equal (fx->sent_count, 3);
    s_result (fx, 0, 1, 3, ZMESH_TASK_OK, "ok");
    assert_int_equal (s_stats (fx).succeeded, 1);
    s_fx_destroy (&fx);
}

//  A retry goes before the tasks that wait behind a full window: a frozen worker's task runs
//  as soon as its back-off allows, not after the backlog.
static void
test_retry_goes_first (void **state)
{
    (void) state;
    zmesh_owner_config_t config;
    zmesh_owner_config_defaults (&config);
    config.window = 1;
    s_fx_t *fx = s_fx_new (2, &config);
    for (uint32_t n = 1; n <= 4; n++) {
        zmesh_owner_task_t spec = s_spec (n);
        s_submit (fx, &spec);
    }
    //  Window 1 on each of 2 nodes: tasks 1 and 2 out, 3 and 4 wait.
    assert_int_equal (fx->sent_count, 2);
    uint32_t first_node = zmesh_id_equal (&fx->sent [0].node, &fx->nodes [0]) ? 0 : 1;
    //  The node of task 1 dies; the other answers task 2, and task 3 takes its window.
    fx->now += 10;
    fx->alive [first_node] = false;
    zmesh_owner_node_down (fx->owner, fx->now, &fx->nodes [first_node]);
    s_result (fx, 1 - first_node, 2, 1, ZMESH_TASK_OK, "ok");
    assert_int_equal (fx->sent_count, 3);
    //  After task 1's back-off (at most retry_base_ms), the next window that frees goes to
    //  task 1, not to task 4.
    s_run_until (fx, fx->now + 2 * config.retry_base_ms);
    assert_int_equal (fx->sent_count, 3);
    s_result (fx, 1 - first_node, 3, 1, ZMESH_TASK_OK, "ok");
    assert_int_equal (fx->sent_count, 4);
    assert_true (zmesh_id_equal (&s_last_sent (fx)->id, &fx->sent [0].id));
    assert_int_equal (s_last_sent (fx)->attempt, 2);
    s_fx_destroy (&fx);
}

//  A task without the IDEMPOTENT flag that was running when its worker was lost is not run
//  again; one that was only queued is.
static void
test_not_idempotent (void **state)
{
    (void) state;
    s_fx_t *fx = s_fx_new (2, NULL);
    zmesh_owner_task_t a = s_spec (1), b = s_spec (2);
    a.flags = 0;
    b.flags = 0;
    s_submit (fx, &a);
    s_submit (fx, &b);
    zmesh_task_ref_t refs [2] = {s_ref (1, 1, true), s_ref (2, 1, false)};
    fx->now += 500;
    s_lease (fx, 0, refs, 2);
    fx->now += 100;
    zmesh_owner_node_down (fx->owner, fx->now, &fx->nodes [0]);
    assert_int_equal (fx->done_count, 1);
    assert_true (zmesh_id_equal (&fx->done [0].id, &a.id));
    assert_false (fx->done [0].success);
    assert_non_null (strstr (fx->done [0].error, "lost while running"));
    s_run_until (fx, fx->now + 1000);
    assert_int_equal (fx->sent_count, 3);
    assert_true (zmesh_id_equal (&fx->sent [2].id, &b.id));
    //  Lease expiry too: task 2, queued then running on node 1, is lost there.
    zmesh_task_ref_t ref = s_ref (2, 2, true);
    s_lease (fx, 1, &ref, 1);
    s_run_until (fx, fx->now + S_LEASE);
    assert_int_equal (fx->done_count, 2);
    assert_non_null (strstr (fx->done [1].error, "lost while running"));
    assert_int_equal (fx->sent_count, 3);
    s_fx_destroy (&fx);
}

//  HANDLER_ERROR is the task's failure: not retried unless retry_on_error.
static void
test_handler_error (void **state)
{
    (void) state;
    s_fx_t *fx = s_fx_new (2, NULL);
    zmesh_owner_task_t a = s_spec (1), b = s_spec (2);
    b.retry_on_error = true;
    b.max_retries = 1;
    s_submit (fx, &a);
    s_submit (fx, &b);
    s_result (fx, 0, 1, 1, ZMESH_TASK_HANDLER_ERROR, NULL);
    assert_int_equal (fx->done_count, 1);
    assert_false (fx->done [0].success);
    assert_int_equal (fx->done [0].status, ZMESH_TASK_HANDLER_ERROR);
    assert_string_equal (fx->done [0].error, "it broke");
    //  The breaker counts it as a success: the node is healthy.
    assert_int_equal (zmesh_owner_breaker_state (fx->owner, &fx->nodes [0], fx->now),
                      ZMESH_BREAKER_CLOSED);
    s_result (fx, 0, 2, 1, ZMESH_TASK_HANDLER_ERROR, NULL);
    assert_int_equal (fx->done_count, 1);
    s_run_until (fx, fx->now + 1000);
    assert_int_equal (fx->sent_count, 3);
    assert_int_equal (fx->sent [2].attempt, 2);
    //  A handler's error does not make its node one to avoid: the node is healthy.
    assert_true (zmesh_id_equal (&fx->sent [2].node, &fx->nodes [0]));
    //  No retry left: the second error ends it.
    s_result (fx, 0, 2, 2, ZMESH_TASK_HANDLER_ERROR, NULL);
    assert_int_equal (fx->done_count, 2);
    assert_int_equal (fx->done [1].status, ZMESH_TASK_HANDLER_ERROR);
    assert_int_equal (fx->done [1].attempts, 2);
    s_fx_destroy (&fx);
}

//  REFUSED, NO_HANDLER and TIMEOUT are retried after a back-off of retry_base x 2^(n-1),
//  capped at retry_max, times a jitter in [0.5, 1); max_retries exhausted ends the task with
//  the last error.
static void
test_backoff (void **state)
{
    (void) state;
    zmesh_owner_config_t config;
    zmesh_owner_config_defaults (&config);
    config.retry_base_ms = 100;
    config.retry_max_ms = 1000;
    config.breaker.failures_in_row = 100;  //  the breaker stays out of it
    config.breaker.min_outcomes = 64;
    config.breaker.window_size = 64;
    config.breaker.failure_rate_pct = 100;
    s_fx_t *fx = s_fx_new (2, &config);
    const uint8_t statuses [3] = {ZMESH_TASK_REFUSED, ZMESH_TASK_NO_HANDLER, ZMESH_TASK_TIMEOUT};
    uint64_t delays [40];
    uint32_t delay_count = 0;
    for (uint32_t n = 1; n <= 8; n++) {
        zmesh_owner_task_t spec = s_spec (n);
        spec.max_retries = 6;
        s_submit (fx, &spec);
        for (uint32_t retry = 1; retry <= 7; retry++) {
            const s_sent_t *sent = s_last_sent (fx);
            assert_true (zmesh_id_equal (&sent->id, &spec.id));
            assert_int_equal (sent->attempt, retry);
            uint32_t node = s_index (fx, &sent->node);
            fx->now += 5;
            uint32_t before = fx->sent_count;
            s_result (fx, node, n, retry, statuses [(n + retry) % 3], NULL);
            if (retry == 7)
                break;
            uint64_t failed_at = fx->now;
            uint64_t deadline = zmesh_owner_deadline_ms (fx->owner);
            //  Nothing goes before the deadline; at the deadline it goes.
            fx->now = deadline - 1;
            zmesh_owner_tick (fx->owner, fx->now);
            assert_int_equal (fx->sent_count, before);
            fx->now = deadline;
            zmesh_owner_tick (fx->owner, fx->now);
            assert_int_equal (fx->sent_count, before + 1);
            //  Another node than the one that failed.
            assert_int_not_equal (s_index (fx, &s_last_sent (fx)->node), node);
            uint64_t base = 100ull << (retry - 1);
            if (base > 1000)
                base = 1000;
            uint64_t delay = deadline - failed_at;
            assert_true (delay >= base / 2);
            assert_true (delay < base);
            if (retry == 5 && delay_count < 40)
                delays [delay_count++] = delay;
        }
        assert_int_equal (fx->done_count, n);
        assert_false (fx->done [n - 1].success);
        assert_int_equal (fx->done [n - 1].status, statuses [(n + 7) % 3]);
        assert_string_equal (fx->done [n - 1].error,
                             zmesh_task_status_name (statuses [(n + 7) % 3]));
        assert_int_equal (fx->done [n - 1].attempts, 7);
    }
    //  Jittered: the capped back-offs are not all the same.
    bool varied = false;
    for (uint32_t i = 1; i < delay_count; i++)
        varied = varied || delays [i] != delays [0];
    assert_true (varied);
    assert_int_equal (s_stats (fx).retried, 8 * 6);
    s_fx_destroy (&fx);
}

//  Retries avoid every node the task failed on lately, not only the last one: two nodes
//  that cannot run it must not take turns while a third could.
static void
test_retry_avoids_failed_nodes (void **state)
{
    (void) state;
    s_fx_t *fx = s_fx_new (3, NULL);
    zmesh_owner_task_t a = s_spec (1);
    s_submit (fx, &a);
    s_result (fx, 0, 1, 1, ZMESH_TASK_NO_HANDLER, NULL);
    s_run_until (fx, fx->now + 1000);
    assert_int_equal (s_index (fx, &s_last_sent (fx)->node), 1);
    s_result (fx, 1, 1, 2, ZMESH_TASK_NO_HANDLER, NULL);
    s_run_until (fx, fx->now + 1000);
    assert_int_equal (s_index (fx, &s_last_sent (fx)->node), 2);
    //  Node 2 too: then a node that failed is better than none, but not the last one.
    s_result (fx, 2, 1, 3, ZMESH_TASK_NO_HANDLER, NULL);
    s_run_until (fx, fx->now + 1000);
    assert_int_equal (fx->sent_count, 4);
    assert_int_equal (s_index (fx, &s_last_sent (fx)->node), 0);
    s_fx_destroy (&fx);
    //  Failures are forgiven oldest first: failed on 1, then 0, then 2: next is 1.
    fx = s_fx_new (3, NULL);
    fx->alive [0] = fx->alive [2] = false;
    zmesh_owner_task_t b = s_spec (2);
    s_submit (fx, &b);
    fx->alive [0] = fx->alive [2] = true;
    const uint32_t order [3] = {1, 0, 2};
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal (s_index (fx, &s_last_sent (fx)->node), order [i]);
        s_result (fx, order [i], 2, i + 1, ZMESH_TASK_REFUSED, NULL);
        s_run_until (fx, fx->now + 1000);
    }
    assert_int_equal (fx->sent_count, 4);
    assert_int_equal (s_index (fx, &s_last_sent (fx)->node), 1);
    s_fx_destroy (&fx);
}

//  At most `window` attempts open per node; the rest wait and go out by priority (then in
//  submission order) as results free windows.
static void
test_window_and_priority (void **state)
{
    (void) state;
    zmesh_owner_config_t config;
    zmesh_owner_config_defaults (&config);
    config.window = 2;
    s_fx_t *fx = s_fx_new (1, &config);
    const uint8_t priorities [7] = {
        ZMESH_PRIORITY_NORMAL, ZMESH_PRIORITY_NORMAL,   ZMESH_PRIORITY_LOW, ZMESH_PRIORITY_NORMAL,
        ZMESH_PRIORITY_HIGH,   ZMESH_PRIORITY_CRITICAL, ZMESH_PRIORITY_HIGH};
    for (uint32_t n = 1; n <= 7; n++) {
        zmesh_owner_task_t spec = s_spec (n);
        spec.priority = priorities [n - 1];
        s_submit (fx, &spec);
        fx->now += 1;
    }
    assert_int_equal (fx->sent_count, 2);
    assert_int_equal (zmesh_owner_node_in_flight (fx->owner, &fx->nodes [0]), 2);
    assert_false (zmesh_owner_node_available (fx->owner, &fx->nodes [0], fx->now));
    assert_int_equal (s_stats (fx).pending, 5);
    //  Expected order of the rest: 6 (critical), 5, 7 (high), 4 (normal), 3 (low).
    const uint32_t order [5] = {6, 5, 7, 4, 3};
    uint32_t finished = 0;
    for (uint32_t i = 0; i < 5; i++) {
        const s_sent_t *oldest = &fx->sent [finished];
        uint32_t n = oldest->id.bytes [2];
        s_result (fx, 0, n, oldest->attempt, ZMESH_TASK_OK, "ok");
        finished++;
        assert_int_equal (fx->sent_count, 2 + i + 1);
        assert_int_equal (s_last_sent (fx)->id.bytes [2], order [i]);
        assert_true (zmesh_owner_node_in_flight (fx->owner, &fx->nodes [0]) <= 2);
    }
    assert_int_equal (s_stats (fx).pending, 0);
    s_fx_destroy (&fx);
}

//  Aging: a LOW task waiting 2 x aging_ms goes before a HIGH task queued after that.
static void
test_pending_aging (void **state)
{
    (void) state;
    zmesh_owner_config_t config;
    zmesh_owner_config_defaults (&config);
    config.window = 1;
    config.aging_ms = 100;
    s_fx_t *fx = s_fx_new (1, &config);
    zmesh_owner_task_t first = s_spec (1), low = s_spec (2), high = s_spec (3);
    low.priority = ZMESH_PRIORITY_LOW;
    high.priority = ZMESH_PRIORITY_HIGH;
    s_submit (fx, &first);
    s_submit (fx, &low);
    fx->now += 201;
    s_submit (fx, &high);
    s_result (fx, 0, 1, 1, ZMESH_TASK_OK, "ok");
    assert_int_equal (s_last_sent (fx)->id.bytes [2], 2);
    s_fx_destroy (&fx);
}

//  A task that must wait does not hold up the tasks behind it that other nodes can run now
//  (no head-of-line blocking); a run of waiting tasks of one kind costs one choose call.
static void
test_no_head_of_line (void **state)
{
    (void) state;
    zmesh_owner_config_t config;
    zmesh_owner_config_defaults (&config);
    config.window = 1;
    s_fx_t *fx = s_fx_new (2, &config);
    snprintf (fx->lacks [1], sizeof fx->lacks [1], "gpu");
    for (uint32_t n = 1; n <= 30; n++) {
        zmesh_owner_task_t spec = s_spec (n);
        snprintf (spec.handler, sizeof spec.handler, "gpu");
        spec.priority = ZMESH_PRIORITY_HIGH;
        s_submit (fx, &spec);
    }
    assert_int_equal (fx->sent_count, 1);
    assert_int_equal (s_stats (fx).pending, 29);
    uint32_t calls = fx->choose_calls;
    zmesh_owner_task_t echo = s_spec (100);
    s_submit (fx, &echo);
    assert_int_equal (fx->sent_count, 2);
    assert_true (zmesh_id_equal (&fx->sent [1].id, &echo.id));
    assert_int_equal (s_index (fx, &fx->sent [1].node), 1);
    assert_true (fx->choose_calls - calls <= 3);
    //  Node 0 frees: the oldest gpu task goes.
    s_result (fx, 0, 1, 1, ZMESH_TASK_OK, "ok");
    assert_int_equal (fx->sent_count, 3);
    assert_int_equal (fx->sent [2].id.bytes [2], 2);
    s_fx_destroy (&fx);
}

//  choose says no node could take it: the task is parked, tried again every
//  ZMESH_OWNER_PARK_RETRY_MS, and fails place_timeout_ms after it was parked, exactly.
static void
test_parked (void **state)
{
    (void) state;
    zmesh_owner_config_t config;
    zmesh_owner_config_defaults (&config);
    config.place_timeout_ms = 1750;
    s_fx_t *fx = s_fx_new (2, &config);
    fx->alive [0] = fx->alive [1] = false;
    zmesh_owner_task_t a = s_spec (1), b = s_spec (2);
    s_submit (fx, &a);
    uint64_t parked_at = fx->now;
    assert_int_equal (s_stats (fx).pending, 1);
    assert_int_equal (fx->sent_count, 0);
    assert_int_equal (zmesh_owner_deadline_ms (fx->owner), parked_at + ZMESH_OWNER_PARK_RETRY_MS);
    fx->now += 600;
    s_submit (fx, &b);
    uint32_t calls = fx->choose_calls;
    s_run_until (fx, parked_at + 1749);
    assert_true (fx->choose_calls > calls);
    assert_int_equal (fx->done_count, 0);
    assert_int_equal (zmesh_owner_deadline_ms (fx->owner), parked_at + 1750);
    s_run_until (fx, parked_at + 1750);
    assert_int_equal (fx->done_count, 1);
    assert_int_equal (fx->done [0].at_ms, parked_at + 1750);
    assert_false (fx->done [0].success);
    assert_int_equal (fx->done [0].status, ZMESH_TASK_REFUSED);
    assert_non_null (strstr (fx->done [0].error, "no eligible node"));
    //  A node appears: the other parked task goes at the next retry (or at a kick).
    fx->alive [1] = true;
    zmesh_owner_kick (fx->owner, fx->now);
    assert_int_equal (fx->sent_count, 1);
    assert_true (zmesh_id_equal (&fx->sent [0].node, &fx->nodes [1]));
    assert_int_equal (s_stats (fx).pending, 0);
    s_fx_destroy (&fx);
}

//  A parked task that ends otherwise (here by a late answer) leaves no park retry behind:
//  the deadline must not stay in the past.
static void
test_parked_then_answered (void **state)
{
    (void) state;
    s_fx_t *fx = s_fx_new (1, NULL);
    zmesh_owner_task_t a = s_spec (1);
    s_submit (fx, &a);
    fx->now += 10;
    fx->alive [0] = false;
    zmesh_owner_node_down (fx->owner, fx->now, &fx->nodes [0]);
    s_run_until (fx, fx->now + 200);
    assert_int_equal (s_stats (fx).pending, 1);  //  parked: no node alive
    assert_true (zmesh_owner_deadline_ms (fx->owner) <= fx->now + ZMESH_OWNER_PARK_RETRY_MS);
    s_result (fx, 0, 1, 1, ZMESH_TASK_OK, "late");
    assert_int_equal (fx->done_count, 1);
    assert_int_equal (zmesh_owner_deadline_ms (fx->owner), UINT64_MAX);
    s_fx_destroy (&fx);
}

//  MOVED: the attempt is the thief's now; the thief's result is accepted and its leases
//  renew the attempt, while the victim's silence no longer matters.
static void
test_moved (void **state)
{
    (void) state;
    s_fx_t *fx = s_fx_new (3, NULL);
    zmesh_owner_task_t a = s_spec (1), b = s_spec (2);
    s_submit (fx, &a);
    s_submit (fx, &b);
    fx->now += 100;
    zmesh_task_ref_t refs [2] = {s_ref (1, 1, false), s_ref (2, 1, false)};
    zmesh_owner_moved (fx->owner, fx->now, &fx->nodes [0], &fx->nodes [2], refs, 2);
    s_check_stats (fx);
    assert_int_equal (s_stats (fx).moved, 2);
    assert_int_equal (zmesh_owner_node_in_flight (fx->owner, &fx->nodes [0]), 0);
    assert_int_equal (zmesh_owner_node_in_flight (fx->owner, &fx->nodes [2]), 2);
    //  The thief speaks, the victim does not: nothing is lost.
    uint64_t moved_at = fx->now;
    for (uint64_t t = moved_at + 500; t <= moved_at + 4 * S_LEASE; t += 500) {
        s_run_until (fx, t);
        s_lease (fx, 2, refs, 2);
    }
    assert_int_equal (s_stats (fx).lost, 0);
    s_result (fx, 2, 1, 1, ZMESH_TASK_OK, "thief");
    assert_int_equal (fx->done_count, 1);
    assert_true (zmesh_id_equal (&fx->done [0].dispatched_to, &fx->nodes [2]));
    //  The thief falls silent: its lease expires.
    uint64_t quiet = fx->now;
    s_run_until (fx, quiet + S_LEASE);
    assert_int_equal (s_stats (fx).lost, 1);
    s_fx_destroy (&fx);
}

//  A MOVED lost on the way: the thief's lease, listing the attempt, moves it all the same
//  (and says it runs, which matters to a task that is not idempotent).
static void
test_lease_from_thief (void **state)
{
    (void) state;
    s_fx_t *fx = s_fx_new (3, NULL);
    zmesh_owner_task_t a = s_spec (1);
    a.flags = 0;
    s_submit (fx, &a);
    fx->now += 100;
    zmesh_task_ref_t ref = s_ref (1, 1, true);
    s_lease (fx, 2, &ref, 1);
    assert_int_equal (zmesh_owner_node_in_flight (fx->owner, &fx->nodes [2]), 1);
    assert_int_equal (zmesh_owner_node_in_flight (fx->owner, &fx->nodes [0]), 0);
    //  The thief dies: lost while running, not re-run.
    fx->now += 100;
    zmesh_owner_node_down (fx->owner, fx->now, &fx->nodes [2]);
    assert_int_equal (fx->done_count, 1);
    assert_non_null (strstr (fx->done [0].error, "lost while running"));
    s_fx_destroy (&fx);
}

//  Checkpoints: the latest one of an open attempt is kept and goes with the next attempt;
//  one from an attempt that is no longer open is ignored.
static void
test_checkpoint (void **state)
{
    (void) state;
    s_fx_t *fx = s_fx_new (3, NULL);
    zmesh_owner_task_t a = s_spec (1);
    s_submit (fx, &a);
    assert_false (fx->sent [0].has_checkpoint);
    zmesh_task_ref_t ref = s_ref (1, 1, false);
    fx->now += 100;
    zmesh_owner_checkpoint (fx->owner, fx->now, &fx->nodes [0], &ref, (const uint8_t *) "c1", 2);
    zmesh_owner_checkpoint (fx->owner, fx->now, &fx->nodes [0], &ref, (const uint8_t *) "c2", 2);
    assert_int_equal (s_stats (fx).checkpoints, 2);
    zmesh_owner_node_down (fx->owner, fx->now, &fx->nodes [0]);
    s_run_until (fx, fx->now + 1000);
    assert_int_equal (fx->sent_count, 2);
    assert_true (fx->sent [1].has_checkpoint);
    assert_string_equal (fx->sent [1].checkpoint, "c2");
    //  A stale checkpoint of attempt 1 (its worker came back) does not replace it.
    zmesh_owner_checkpoint (fx->owner, fx->now, &fx->nodes [0], &ref, (const uint8_t *) "old", 3);
    ref.attempt = 2;
    zmesh_owner_checkpoint (fx->owner, fx->now, &fx->nodes [1], &ref, (const uint8_t *) "c3", 2);
    zmesh_owner_node_down (fx->owner, fx->now, &fx->nodes [1]);
    s_run_until (fx, fx->now + 1000);
    assert_int_equal (fx->sent_count, 3);
    assert_string_equal (fx->sent [2].checkpoint, "c3");
    assert_int_equal (s_stats (fx).checkpoints, 3);
    s_fx_destroy (&fx);
}

//  A redundant task keeps no checkpoint: a replica that replaces a lost one starts from the
//  beginning, whatever another replica (a Byzantine one, say) saved.
static void
test_checkpoint_redundant (void **state)
{
    (void) state;
    s_fx_t *fx = s_fx_new (4, NULL);
    zmesh_owner_task_t a = s_spec (1);
    a.redundancy = 2;
    s_submit (fx, &a);
    assert_int_equal (fx->sent_count, 2);
    fx->now += 100;
    for (uint32_t i = 0; i < 2; i++) {
        zmesh_task_ref_t ref = s_ref (1, fx->sent [i].attempt, false);
        uint32_t node = s_index (fx, &fx->sent [i].node);
        zmesh_owner_checkpoint (fx->owner, fx->now, &fx->nodes [node], &ref,
                                (const uint8_t *) "steer", 5);
    }
    assert_int_equal (s_stats (fx).checkpoints, 0);
    zmesh_owner_node_down (fx->owner, fx->now, &fx->sent [0].node);
    s_run_until (fx, fx->now + 1000);
    assert_int_equal (fx->sent_count, 3);
    assert_false (fx->sent [2].has_checkpoint);
    s_fx_destroy (&fx);
}

//  Redundancy 3: replicas on 3 distinct nodes; 2 equal digests win; the odd one is a
//  disagreement.
static void
test_quorum (void **state)
{
    (void) state;
    s_fx_t *fx = s_fx_new (4, NULL);
    zmesh_owner_task_t a = s_spec (1);
    a.redundancy = 3;
    a.priority = ZMESH_PRIORITY_CRITICAL;
    s_submit (fx, &a);
    assert_int_equal (fx->sent_count, 3);
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal (s_index (fx, &fx->sent [i].node), i);
        assert_int_equal (fx->sent [i].attempt, i + 1);
    }
    s_result (fx, 0, 1, 1, ZMESH_TASK_OK, "right");
    s_result (fx, 1, 1, 2, ZMESH_TASK_OK, "wrong");
    assert_int_equal (fx->done_count, 0);
    s_result (fx, 2, 1, 3, ZMESH_TASK_OK, "right");
    assert_int_equal (fx->done_count, 1);
    assert_true (fx->done [0].success);
    assert_string_equal (fx->done [0].output, "right");
    assert_int_equal (fx->done [0].disagreements, 1);
    uint32_t winner = s_index (fx, &fx->done [0].dispatched_to);
    assert_true (winner == 0 || winner == 2);
    assert_int_equal (fx->disagree_count, 1);
    assert_true (zmesh_id_equal (&fx->disagree_node [0], &fx->nodes [1]));
    assert_int_equal (s_stats (fx).disagreements, 1);
    //  Two agree at once: the third is cancelled, no disagreement.
    zmesh_owner_task_t b = s_spec (2);
    b.redundancy = 3;
    s_submit (fx, &b);
    assert_int_equal (fx->sent_count, 6);
    s_result (fx, 0, 2, 1, ZMESH_TASK_OK, "x");
    s_result (fx, 1, 2, 2, ZMESH_TASK_OK, "x");
    assert_int_equal (fx->done_count, 2);
    assert_int_equal (fx->done [1].disagreements, 0);
    assert_int_equal (fx->cancel_count, 1);
    assert_true (zmesh_id_equal (&fx->cancel_node [0], &fx->nodes [2]));
    s_result (fx, 2, 2, 3, ZMESH_TASK_OK, "x");
    assert_int_equal (s_stats (fx).duplicates, 1);
    //  No quorum possible: three different answers.
    zmesh_owner_task_t c = s_spec (3);
    c.redundancy = 3;
    s_submit (fx, &c);
    s_result (fx, 0, 3, 1, ZMESH_TASK_OK, "p");
    s_result (fx, 1, 3, 2, ZMESH_TASK_OK, "q");
    s_result (fx, 2, 3, 3, ZMESH_TASK_OK, "r");
    assert_int_equal (fx->done_count, 3);
    assert_false (fx->done [2].success);
    assert_non_null (strstr (fx->done [2].error, "no quorum"));
    s_fx_destroy (&fx);
}

//  A replica retried avoids the nodes of the other replicas, those that answered included,
//  while another node is there.
static void
test_replicas_distinct (void **state)
{
    (void) state;
    s_fx_t *fx = s_fx_new (4, NULL);
    zmesh_owner_task_t a = s_spec (1);
    a.redundancy = 3;
    a.max_retries = 2;
    s_submit (fx, &a);
    s_result (fx, 1, 1, 2, ZMESH_TASK_OK, "x");
    s_result (fx, 0, 1, 1, ZMESH_TASK_REFUSED, NULL);
    s_run_until (fx, fx->now + 1000);
    assert_int_equal (fx->sent_count, 4);
    assert_int_equal (s_index (fx, &fx->sent [3].node), 3);
    //  Nodes 1 and 2 disagree; nodes 0 and 3 are gone: the replica waits, for a node that
    //  answered already could give no vote.
    s_result (fx, 3, 1, 4, ZMESH_TASK_REFUSED, NULL);
    s_result (fx, 2, 1, 3, ZMESH_TASK_OK, "y");
    fx->alive [0] = fx->alive [3] = false;
    s_run_until (fx, fx->now + 1000);
    assert_int_equal (fx->sent_count, 4);
    assert_int_equal (fx->done_count, 0);
    //  Node 3 comes back: it breaks the tie.
    fx->alive [3] = true;
    zmesh_owner_kick (fx->owner, fx->now);
    assert_int_equal (fx->sent_count, 5);
    assert_int_equal (s_index (fx, &fx->sent [4].node), 3);
    s_result (fx, 3, 1, 5, ZMESH_TASK_OK, "x");
    assert_int_equal (fx->done_count, 1);
    assert_true (fx->done [0].success);
    assert_string_equal (fx->done [0].output, "x");
    assert_int_equal (fx->done [0].disagreements, 1);
    s_fx_destroy (&fx);
}

//  One node, one vote: a replica stolen by a node that answered another replica already
//  (a Byzantine thief) does not give that node a second vote; the replica runs again
//  elsewhere.
static void
test_one_vote_per_node (void **state)
{
    (void) state;
    s_fx_t *fx = s_fx_new (4, NULL);
    zmesh_owner_task_t a = s_spec (1);
    a.redundancy = 3;
    s_submit (fx, &a);
    s_result (fx, 0, 1, 1, ZMESH_TASK_OK, "bad");
    zmesh_task_ref_t ref = s_ref (1, 2, false);
    zmesh_owner_moved (fx->owner, fx->now, &fx->nodes [1], &fx->nodes [0], &ref, 1);
    s_result (fx, 0, 1, 2, ZMESH_TASK_OK, "bad");
    assert_int_equal (fx->done_count, 0);
    s_run_until (fx, fx->now + 1000);
    assert_int_equal (fx->sent_count, 4);
    uint32_t node = s_index (fx, &fx->sent [3].node);
    assert_true (node == 1 || node == 3);
    s_result (fx, node, 1, 4, ZMESH_TASK_OK, "good");
    s_result (fx, 2, 1, 3, ZMESH_TASK_OK, "good");
    assert_int_equal (fx->done_count, 1);
    assert_true (fx->done [0].success);
    assert_string_equal (fx->done [0].output, "good");
    assert_int_equal (fx->done [0].disagreements, 1);
    assert_true (zmesh_id_equal (&fx->disagree_node [0], &fx->nodes [0]));
    s_fx_destroy (&fx);
}

//  Redundancy 3 on a mesh of two nodes, with a chooser that says no node could take the
//  third replica: it is parked, but the task does not fail while the other two are open;
//  their agreement ends it. With no replica open, the park times out as usual.
static void
test_parked_replica (void **state)
{
    (void) state;
    zmesh_owner_config_t config;
    zmesh_owner_config_defaults (&config);
    config.place_timeout_ms = 1000;
    config.lease_timeout_ms = 60000;  //  the nodes say nothing meanwhile
    s_fx_t *fx = s_fx_new (2, &config);
    fx->strict = true;
    zmesh_owner_task_t a = s_spec (1);
    a.redundancy = 3;
    s_submit (fx, &a);
    assert_int_equal (fx->sent_count, 2);
    assert_int_equal (s_stats (fx).pending, 1);
    s_run_until (fx, fx->now + 3000);
    assert_int_equal (fx->done_count, 0);
    s_result (fx, 0, 1, 1, ZMESH_TASK_OK, "x");
    s_result (fx, 1, 1, 2, ZMESH_TASK_OK, "x");
    assert_int_equal (fx->done_count, 1);
    assert_true (fx->done [0].success);
    //  They disagree: no quorum can come from two nodes; the parked replica times out.
    zmesh_owner_task_t b = s_spec (2);
    b.redundancy = 3;
    s_submit (fx, &b);
    s_result (fx, 0, 2, 1, ZMESH_TASK_OK, "x");
    s_result (fx, 1, 2, 2, ZMESH_TASK_OK, "y");
    assert_int_equal (fx->done_count, 1);
    s_run_until (fx, fx->now + 1000);
    assert_int_equal (fx->done_count, 2);
    assert_false (fx->done [1].success);
    assert_non_null (strstr (fx->done [1].error, "no eligible node"));
    s_fx_destroy (&fx);
}

//  The breaker: consecutive system failures open it, and the node is not available; after
//  the open time a few trials go; a trial moved away gives its slot back.
static void
test_breaker (void **state)
{
    (void) state;
    zmesh_owner_config_t config;
    zmesh_owner_config_defaults (&config);
    config.breaker.open_base_ms = 5000;
    s_fx_t *fx = s_fx_new (2, &config);
    fx->alive [1] = false;
    for (uint32_t n = 1; n <= 5; n++) {
        zmesh_owner_task_t spec = s_spec (n);
        spec.max_retries = 0;
        s_submit (fx, &spec);
        s_result (fx, 0, n, 1, ZMESH_TASK_REFUSED, NULL);
    }
    assert_int_equal (fx->done_count, 5);
    assert_int_equal (zmesh_owner_breaker_state (fx->owner, &fx->nodes [0], fx->now),
                      ZMESH_BREAKER_OPEN);
    assert_false (zmesh_owner_node_available (fx->owner, &fx->nodes [0], fx->now));
    //  Tasks wait (node 0 is alive, just not available) and go to node 1 when it appears.
    fx->alive [1] = true;
    for (uint32_t n = 6; n <= 8; n++) {
        zmesh_owner_task_t spec = s_spec (n);
        s_submit (fx, &spec);
        assert_true (zmesh_id_equal (&s_last_sent (fx)->node, &fx->nodes [1]));
        s_result (fx, 1, n, 1, ZMESH_TASK_OK, "ok");
    }
    //  HALF_OPEN at the end of the open time: three trials go to node 0.
    fx->alive [1] = false;
    for (uint32_t n = 9; n <= 12; n++) {
        zmesh_owner_task_t spec = s_spec (n);
        s_submit (fx, &spec);
    }
    assert_int_equal (fx->sent_count, 8);
    assert_int_equal (zmesh_owner_deadline_ms (fx->owner), S_T0 + 5000);
    fx->now = S_T0 + 5000;
    zmesh_owner_tick (fx->owner, fx->now);
    assert_int_equal (fx->sent_count, 11);
    assert_false (zmesh_owner_node_available (fx->owner, &fx->nodes [0], fx->now));
    //  The trials are stolen by node 1: their slots come back, the last task goes.
    zmesh_task_ref_t refs [3] = {s_ref (9, 1, false), s_ref (10, 1, false), s_ref (11, 1, false)};
    zmesh_owner_moved (fx->owner, fx->now, &fx->nodes [0], &fx->nodes [1], refs, 3);
    assert_int_equal (fx->sent_count, 12);
    assert_true (zmesh_id_equal (&s_last_sent (fx)->node, &fx->nodes [0]));
    //  A trial that succeeds closes the breaker.
    s_result (fx, 0, 12, 1, ZMESH_TASK_OK, "ok");
    assert_int_equal (zmesh_owner_breaker_state (fx->owner, &fx->nodes [0], fx->now),
                      ZMESH_BREAKER_CLOSED);
    s_fx_destroy (&fx);
}

//  A trial cancelled because its task finished elsewhere gives its slot back too.
static void
test_breaker_trial_cancelled (void **state)
{
    (void) state;
    zmesh_owner_config_t config;
    zmesh_owner_config_defaults (&config);
    config.breaker.open_base_ms = 5000;
    config.breaker.half_open_trials = 1;
    s_fx_t *fx = s_fx_new (3, &config);
    fx->alive [1] = fx->alive [2] = false;
    for (uint32_t n = 1; n <= 5; n++) {
        zmesh_owner_task_t spec = s_spec (n);
        spec.max_retries = 0;
        s_submit (fx, &spec);
        s_result (fx, 0, n, 1, ZMESH_TASK_REFUSED, NULL);
    }
    fx->now += 5000;
    fx->alive [1] = fx->alive [2] = true;
    //  Redundancy 3: node 0's replica is its one trial.
    zmesh_owner_task_t spec = s_spec (6);
    spec.redundancy = 3;
    s_submit (fx, &spec);
    assert_int_equal (fx->sent_count, 8);
    assert_int_equal (s_index (fx, &fx->sent [5].node), 0);
    assert_false (zmesh_owner_node_available (fx->owner, &fx->nodes [0], fx->now));
    //  Nodes 1 and 2 agree: node 0's attempt is cancelled, and its trial slot is free.
    s_result (fx, 1, 6, 2, ZMESH_TASK_OK, "x");
    s_result (fx, 2, 6, 3, ZMESH_TASK_OK, "x");
    assert_int_equal (fx->done_count, 6);
    assert_int_equal (fx->cancel_count, 1);
    assert_true (zmesh_owner_node_available (fx->owner, &fx->nodes [0], fx->now));
    s_fx_destroy (&fx);
}

//  max_tasks owned at most; ESTATE for an id owned already; EINVAL for bad specs.
static void
test_submit_errors (void **state)
{
    (void) state;
    zmesh_owner_config_t config;
    zmesh_owner_config_defaults (&config);
    config.max_tasks = 2;
    s_fx_t *fx = s_fx_new (1, &config);
    zmesh_owner_task_t a = s_spec (1), b = s_spec (2), c = s_spec (3);
    s_submit (fx, &a);
    assert_int_equal (zmesh_owner_submit (fx->owner, fx->now, &a), ZMESH_ESTATE);
    s_submit (fx, &b);
    assert_int_equal (zmesh_owner_submit (fx->owner, fx->now, &c), ZMESH_ELIMIT);
    s_result (fx, 0, 1, 1, ZMESH_TASK_OK, "ok");
    s_submit (fx, &c);
    //  Bad specs.
    zmesh_owner_task_t bad = s_spec (9);
    bad.redundancy = 0;
    assert_int_equal (zmesh_owner_submit (fx->owner, fx->now, &bad), ZMESH_EINVAL);
    bad = s_spec (9);
    bad.redundancy = ZMESH_OWNER_REDUNDANCY_MAX + 1;
    assert_int_equal (zmesh_owner_submit (fx->owner, fx->now, &bad), ZMESH_EINVAL);
    bad = s_spec (9);
    bad.priority = ZMESH_PRIORITY_COUNT;
    assert_int_equal (zmesh_owner_submit (fx->owner, fx->now, &bad), ZMESH_EINVAL);
    bad = s_spec (9);
    bad.strategy = 200;
    assert_int_equal (zmesh_owner_submit (fx->owner, fx->now, &bad), ZMESH_EINVAL);
    bad = s_spec (9);
    bad.payload_size = ZMESH_TASK_PAYLOAD_MAX + 1;
    assert_int_equal (zmesh_owner_submit (fx->owner, fx->now, &bad), ZMESH_EINVAL);
    bad = s_spec (9);
    bad.payload = NULL;
    assert_int_equal (zmesh_owner_submit (fx->owner, fx->now, &bad), ZMESH_EINVAL);
    bad = s_spec (9);
    bad.handler [0] = 0;
    assert_int_equal (zmesh_owner_submit (fx->owner, fx->now, &bad), ZMESH_EINVAL);
    bad = s_spec (9);
    memset (bad.handler, 'h', sizeof bad.handler);
    assert_int_equal (zmesh_owner_submit (fx->owner, fx->now, &bad), ZMESH_EINVAL);
    bad = s_spec (9);
    bad.handler [1] = '\n';  //  the wire takes printable ASCII only
    assert_int_equal (zmesh_owner_submit (fx->owner, fx->now, &bad), ZMESH_EINVAL);
    bad = s_spec (9);
    bad.tag_count = ZMESH_TASK_TAGS_MAX + 1;
    assert_int_equal (zmesh_owner_submit (fx->owner, fx->now, &bad), ZMESH_EINVAL);
    bad = s_spec (9);
    bad.affinity_size = ZMESH_OWNER_AFFINITY_MAX + 1;
    assert_int_equal (zmesh_owner_submit (fx->owner, fx->now, &bad), ZMESH_EINVAL);
    bad = s_spec (9);
    bad.max_retries = ZMESH_TASK_ATTEMPTS_MAX;
    assert_int_equal (zmesh_owner_submit (fx->owner, fx->now, &bad), ZMESH_EINVAL);
    assert_int_equal (zmesh_owner_submit (fx->owner, fx->now, NULL), ZMESH_EINVAL);
    assert_int_equal (s_stats (fx).submitted, 3);
    s_fx_destroy (&fx);
}

//  deadline_ms: a tick before it changes nothing, a tick at it does the work.
static void
test_deadline (void **state)
{
    (void) state;
    s_fx_t *fx = s_fx_new (2, NULL);
    assert_int_equal (zmesh_owner_deadline_ms (fx->owner), UINT64_MAX);
    zmesh_owner_task_t a = s_spec (1);
    s_submit (fx, &a);
    uint64_t deadline = zmesh_owner_deadline_ms (fx->owner);
    assert_true (deadline > fx->now && deadline <= fx->now + S_LEASE);
    //  Ticks at each deadline with the lease renewed: nothing is lost, ever.
    for (int i = 0; i < 20; i++) {
        deadline = zmesh_owner_deadline_ms (fx->owner);
        assert_true (deadline > fx->now);
        fx->now = deadline;
        zmesh_task_ref_t ref = s_ref (1, 1, false);
        s_lease (fx, 0, &ref, 1);
        zmesh_owner_tick (fx->owner, fx->now);
    }
    assert_int_equal (s_stats (fx).lost, 0);
    //  Silence: the lease deadline is exact.
    uint64_t heard = fx->now;
    fx->now = heard + S_LEASE - 1;
    zmesh_owner_tick (fx->owner, fx->now);
    assert_int_equal (s_stats (fx).lost, 0);
    assert_int_equal (zmesh_owner_deadline_ms (fx->owner), heard + S_LEASE);
    fx->now = heard + S_LEASE;
    zmesh_owner_tick (fx->owner, fx->now);
    assert_int_equal (s_stats (fx).lost, 1);
    //  The back-off's end is the next deadline.
    deadline = zmesh_owner_deadline_ms (fx->owner);
    assert_true (deadline >= fx->now + ZMESH_OWNER_RETRY_BASE_MS_DEFAULT / 2);
    assert_true (deadline < fx->now + ZMESH_OWNER_RETRY_BASE_MS_DEFAULT);
    fx->now = deadline;
    zmesh_owner_tick (fx->owner, fx->now);
    assert_int_equal (fx->sent_count, 2);
    s_fx_destroy (&fx);
}

//  list: what zmeshctl shows.
static void
test_list (void **state)
{
    (void) state;
    zmesh_owner_config_t config;
    zmesh_owner_config_defaults (&config);
    config.window = 1;
    s_fx_t *fx = s_fx_new (1, &config);
    zmesh_owner_task_t a = s_spec (1), b = s_spec (2);
    s_submit (fx, &a);
    s_submit (fx, &b);
    fx->now += 30;
    zmesh_owner_task_info_t info [4];
    assert_int_equal (zmesh_owner_list (fx->owner, fx->now, info, 4), 2);
    for (uint32_t i = 0; i < 2; i++) {
        bool first = zmesh_id_equal (&info [i].id, &a.id);
        assert_int_equal (info [i].pending, !first);
        assert_int_equal (info [i].attempts, first ? 1 : 0);
        assert_int_equal (info [i].age_ms, 30);
        assert_string_equal (info [i].handler, "echo");
        if (first)
            assert_true (zmesh_id_equal (&info [i].node, &fx->nodes [0]));
    }
    assert_int_equal (zmesh_owner_list (fx->owner, fx->now, info, 1), 1);
    s_fx_destroy (&fx);
}

//  Many tasks, many nodes (the node table grows): every task gets its one result.
static void
test_many (void **state)
{
    (void) state;
    zmesh_owner_config_t config;
    zmesh_owner_config_defaults (&config);
    config.window = 5;
    s_fx_t *fx = s_fx_new (S_NODES, &config);
    for (uint32_t n = 1; n <= 400; n++) {
        zmesh_owner_task_t spec = s_spec (n);
        spec.priority = (uint8_t) (n % ZMESH_PRIORITY_COUNT);
        s_submit (fx, &spec);
    }
    assert_int_equal (s_stats (fx).in_flight, S_NODES * 5);
    assert_int_equal (s_stats (fx).pending, 400 - S_NODES * 5);
    //  Answer whatever was sent, in order: each answer frees a window for the next.
    for (uint32_t i = 0; i < fx->sent_count; i++) {
        uint32_t node = s_index (fx, &fx->sent [i].node);
        uint32_t n = fx->sent [i].id.bytes [2] | (uint32_t) fx->sent [i].id.bytes [3] << 8;
        s_result (fx, node, n, fx->sent [i].attempt, ZMESH_TASK_OK, "ok");
    }
    assert_int_equal (fx->sent_count, 400);
    assert_int_equal (fx->done_count, 400);
    assert_int_equal (s_stats (fx).owned, 0);
    s_fx_destroy (&fx);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_config),
        cmocka_unit_test (test_one_result),
        cmocka_unit_test (test_lease_expiry_and_late_result),
        cmocka_unit_test (test_missing_from_leases),
        cmocka_unit_test (test_node_down),
        cmocka_unit_test (test_lost_node_comes_back),
        cmocka_unit_test (test_retry_goes_first),
        cmocka_unit_test (test_not_idempotent),
        cmocka_unit_test (test_handler_error),
        cmocka_unit_test (test_backoff),
        cmocka_unit_test (test_retry_avoids_failed_nodes),
        cmocka_unit_test (test_window_and_priority),
        cmocka_unit_test (test_pending_aging),
        cmocka_unit_test (test_no_head_of_line),
        cmocka_unit_test (test_parked),
        cmocka_unit_test (test_parked_then_answered),
        cmocka_unit_test (test_moved),
        cmocka_unit_test (test_lease_from_thief),
        cmocka_unit_test (test_checkpoint),
        cmocka_unit_test (test_checkpoint_redundant),
        cmocka_unit_test (test_quorum),
        cmocka_unit_test (test_replicas_distinct),
        cmocka_unit_test (test_one_vote_per_node),
        cmocka_unit_test (test_parked_replica),
        cmocka_unit_test (test_breaker),
        cmocka_unit_test (test_breaker_trial_cancelled),
        cmocka_unit_test (test_submit_errors),
        cmocka_unit_test (test_deadline),
        cmocka_unit_test (test_list),
        cmocka_unit_test (test_many),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
