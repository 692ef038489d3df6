/*  zmesh_control_work.c: the control actor's commands that go through the node's balancer
    (see zmesh_control.c): submit (its options), tasks and metrics (the work plane's gauges),
    the DEALER to the balancer, the submits waiting for their result and the tasks and metrics
    requests waiting for its list.

    Work. submit, tasks and metrics talk to the node's balancer (zmesh_balancer.h) through a
    DEALER of this actor, made at the first need, polled with the ROUTER. They are answered
    asynchronously, so the actor never waits on the balancer: a submit when its task's one
    result comes (the table `submits` maps the task id to the requester's routing id; a result
    whose requester went away is dropped by the ROUTER, and freed like every other), tasks and
    metrics when the balancer's LIST answer comes, or after S_LIST_WAIT_MS without one.
*/
#include "zmesh_balancer.h"
#include "zmesh_control_internal.h"
#include "zmesh_mpack.h"
#include "zmesh_work.h"
#include <inttypes.h>
#include <string.h>

#define S_LIST_WAIT_MS  2000  //  how long they wait for its answer
#define S_WORK_CHECK_MS 1000  //  while submits wait, how often the balancer is checked on

//  A submit waiting for its result.
typedef struct {
    uint8_t peer [ZMESH_CONTROL_ROUTING_ID_MAX];  //  the requester's routing id
    size_t peer_size;
    uint64_t seq;  //  the requester's number for it (map), echoed in the answer
    bool has_seq;
    char handler [ZMESH_TASK_HANDLER_MAX];
} s_submit_t;

//  ---------------------------------------------------------------------------------------------
//  Metrics

//  One sample of the metrics answer, {name, labels, help, type, value}, up to its value: the
//  caller packs that.
static void
s_pack_metric_head (
    msgpack_packer *pk, const char *name, const char *labels, const char *help, const char *type)
{
    msgpack_pack_map (pk, 5);
    zmesh_control__pack_kv_str (pk, "name", name);
    zmesh_control__pack_kv_str (pk, "labels", labels);
    zmesh_control__pack_kv_str (pk, "help", help);
    zmesh_control__pack_kv_str (pk, "type", type);
    zmesh_mp_pack_cstr (pk, "value");
}

#define S_WORK_GAUGES 16  //  samples s_metrics_pack adds from the balancer's list

//  A scaling decision as three samples of one gauge, labelled by decision: 1 for the one in
//  force, 0 for the others.
static void
s_pack_decision (msgpack_packer *pk,
                 const char *name,
                 const char *help,
                 const zmesh_scale_result_t *scale)
{
    static const zmesh_scale_decision_t decisions [] = {ZMESH_SCALE_HOLD, ZMESH_SCALE_UP,
                                                        ZMESH_SCALE_DOWN};
    for (size_t i = 0; i < sizeof decisions / sizeof decisions [0]; i++) {
        char labels [48];
        snprintf (labels, sizeof labels, "decision=\"%s\"",
                  zmesh_scale_decision_name (decisions [i]));
        s_pack_metric_head (pk, name, labels, help, "gauge");
        msgpack_pack_uint32 (pk, scale->decision == decisions [i]);
    }
}

//  Counters of the table as they are, then gauges computed now: members and uptime, and the
//  work plane's from the balancer's list (NULL: the node runs no balancer, or it did not
//  answer in time).
static int
s_metrics_pack (zmesh_control_t *self, zmesh_control_reply_t *reply, const zmesh_work_list_t *list)
{
    static const char *states [] = {"alive", "suspect", "dead", "left"};
    const size_t state_count = sizeof states / sizeof *states;
    size_t member_count;
    zmesh_member_t *members = zmesh_control__members (self, &member_count);
    if (!members)
        return zmesh_control__fail (reply, "out of memory");

    msgpack_packer *pk = &reply->pk;
    msgpack_pack_array (pk, ZMESH_M_COUNT + state_count + 1 + (list ? S_WORK_GAUGES : 0));
    for (int metric = 0; metric < ZMESH_M_COUNT; metric++) {
        const zmesh_metric_info_t *info = zmesh_metric_info ((zmesh_metric_t) metric);
        s_pack_metric_head (pk, info->name, info->labels, info->help, "counter");
        msgpack_pack_uint64 (pk, zmesh_metrics_get (&self->ctx->metrics, (zmesh_metric_t) metric));
    }
    for (size_t i = 0; i < state_count; i++) {
        char labels [32];
        snprintf (labels, sizeof labels, "state=\"%s\"", states [i]);
        s_pack_metric_head (pk, "zmesh_members", labels, "Members known to this node, by state",
                            "gauge");
        msgpack_pack_uint64 (pk, zmesh_control__count_state (members, member_count, states [i]));
    }
    s_pack_metric_head (pk, "zmesh_uptime_seconds", "", "Seconds since the node started", "gauge");
    msgpack_pack_uint64 (pk, zmesh_control__uptime_s (self->ctx));
    free (members);
    if (!list)
        return 0;
    s_pack_metric_head (pk, "zmesh_nodes_active", "",
                        "Nodes alive that offer work, as this node's balancer sees them", "gauge");
    msgpack_pack_uint32 (pk, list->nodes_active);
    s_pack_metric_head (pk, "zmesh_circuit_breakers_open", "",
                        "Peers whose circuit breaker is open or half-open", "gauge");
    msgpack_pack_uint32 (pk, list->breakers_open);
    s_pack_metric_head (pk, "zmesh_queue_depth", "",
                        "Tasks waiting: this node's tasks not placed yet, plus its worker's queue",
                        "gauge");
    msgpack_pack_uint64 (pk, (uint64_t) list->stats.pending + zmesh_work_own_queued (self->ctx));
    s_pack_metric_head (pk, "zmesh_tasks_in_flight", "",
                        "Attempts of this node's tasks open on workers", "gauge");
    msgpack_pack_uint32 (pk, list->stats.in_flight);
    s_pack_metric_head (pk, "zmesh_tasks_owned", "",
                        "Tasks this node owns: submitted here, no result yet", "gauge");
    msgpack_pack_uint32 (pk, list->stats.owned);
    s_pack_metric_head (pk, "zmesh_avg_latency_ms", "",
                        "Moving average of this node's task latency, submit to result", "gauge");
    msgpack_pack_double (pk, list->latency_ms);
    s_pack_decision (pk, "zmesh_scaling_decision",
                     "The balancer's last scaling decision: 1 for the one in force", &list->scale);
    s_pack_metric_head (pk, "zmesh_scaling_d", "", "The figure D of the last scaling decision",
                        "gauge");
    msgpack_pack_double (pk, list->scale.d);
    s_pack_decision (pk, "zmesh_scaling_mesh_decision",
                     "The mesh-wide scaling decision, over every node's published figures: 1 "
                     "for the one in force",
                     &list->mesh_scale);
    s_pack_metric_head (pk, "zmesh_scaling_mesh_d", "",
                        "The figure D of the mesh-wide decision (mean queue depth per node, mean "
                        "latency)",
                        "gauge");
    msgpack_pack_double (pk, list->mesh_scale.d);
    s_pack_metric_head (pk, "zmesh_scaling_mesh_nodes", "",
                        "Nodes whose figures the mesh-wide decision was computed from", "gauge");
    msgpack_pack_uint32 (pk, list->mesh_nodes);
    s_pack_metric_head (pk, "zmesh_scaling_mesh_decider", "",
                        "1 if this node acts on the mesh-wide decision (the lowest id among them)",
                        "gauge");
    msgpack_pack_uint32 (pk, list->mesh_decider);
    return 0;
}

//  ---------------------------------------------------------------------------------------------
//  Work: submit, tasks and the metrics' gauges, through the balancer

//  The balancer's row of the actor table; false if it has none yet.
static bool
s_balancer_status (zmesh_control_t *self, zmesh_actor_status_t *status)
{
    zmesh_actor_status_t actors [ZMESH_ACTORS_MAX];
    size_t count = zmesh_ctx_actors (self->ctx, actors, ZMESH_ACTORS_MAX);
    for (size_t i = 0; i < count; i++)
        if (streq (actors [i].name, "balancer")) {
            *status = actors [i];
            return true;
        }
    return false;
}

//  A task's result as zmeshctl gets it: a map; output as bin.
static void
s_pack_result (msgpack_packer *pk, const s_submit_t *entry, const zmesh_task_result_t *result)
{
    msgpack_pack_map (pk, entry->has_seq ? 14 : 13);
    if (entry->has_seq)
        zmesh_control__pack_kv_uint (pk, "seq", entry->seq);
    zmesh_control__pack_kv_str (pk, "task_id", result->task_id);
    zmesh_control__pack_kv_str (pk, "task_type", result->task_type);
    zmesh_control__pack_kv_str (pk, "selected_node", result->selected_node);
    zmesh_control__pack_kv_str (pk, "cost_optimal_node", result->cost_optimal_node);
    zmesh_control__pack_kv_str (pk, "dispatched_to", result->dispatched_to);
    zmesh_control__pack_kv_str (pk, "circuit_state", result->circuit_state);
    zmesh_mp_pack_cstr (pk, "success");
    result->success ? msgpack_pack_true (pk) : msgpack_pack_false (pk);
    zmesh_control__pack_kv_str (pk, "status", result->status);
    zmesh_control__pack_kv_str (pk, "error", result->error);
    zmesh_control__pack_kv_uint (pk, "latency_ms", result->latency_ms);
    zmesh_control__pack_kv_uint (pk, "attempts", result->attempts);
    zmesh_control__pack_kv_uint (pk, "disagreements", result->disagreements);
    zmesh_mp_pack_cstr (pk, "output");
    msgpack_pack_bin (pk, result->output_size);
    msgpack_pack_bin_body (pk, result->output, result->output_size);
}

//  Answer the submit of task `id` with this result, and forget it.
static void
s_answer_result (zmesh_control_t *self, const char *id, const zmesh_task_result_t *result)
{
    s_submit_t *entry = (s_submit_t *) zhashx_lookup (self->submits, id);
    if (!entry)
        return;  //  only this actor's submits come back on its socket: cannot happen
    zmesh_control_reply_t reply;
    zmesh_control__reply_init (&reply);
    s_pack_result (&reply.pk, entry, result);
    zmesh_control__answer (self, entry->peer, entry->peer_size, 0, &reply);
    msgpack_sbuffer_destroy (&reply.buffer);
    zhashx_delete (self->submits, id);
}

//  Task lists are shown oldest first.
static int
s_task_age_compare (const void *x, const void *y)
{
    const zmesh_owner_task_info_t *a = (const zmesh_owner_task_info_t *) x;
    const zmesh_owner_task_info_t *b = (const zmesh_owner_task_info_t *) y;
    return a->age_ms != b->age_ms ? (a->age_ms > b->age_ms ? -1 : 1)
                                  : memcmp (a->id.bytes, b->id.bytes, ZMESH_ID_SIZE);
}

//  The answer to tasks: the figures of the owner, and its tasks (up to ZMESH_WORK_LIST_MAX).
static int
s_tasks_pack (zmesh_control_t *self, zmesh_control_reply_t *reply, zmesh_work_list_t *list)
{
    size_t member_count = 0;
    zmesh_member_t *members = zmesh_control__members (self, &member_count);
    qsort (list->tasks, list->count, sizeof *list->tasks, s_task_age_compare);
    msgpack_packer *pk = &reply->pk;
    msgpack_pack_map (pk, 4);
    zmesh_control__pack_kv_uint (pk, "owned", list->stats.owned);
    zmesh_control__pack_kv_uint (pk, "pending", list->stats.pending);
    zmesh_control__pack_kv_uint (pk, "in_flight", list->stats.in_flight);
    zmesh_mp_pack_cstr (pk, "tasks");
    msgpack_pack_array (pk, list->count);
    for (uint32_t i = 0; i < list->count; i++) {
        const zmesh_owner_task_info_t *task = &list->tasks [i];
        char id [ZMESH_ID_HEX_SIZE], node [ZMESH_ID_HEX_SIZE] = "";
        const char *name = "";
        zmesh_id_to_hex (&task->id, id);
        if (!task->pending) {
            zmesh_id_to_hex (&task->node, node);
            for (size_t m = 0; members && m < member_count; m++)
                if (streq (members [m].id, node))
                    name = members [m].name;
        }
        msgpack_pack_map (pk, 8);
        zmesh_control__pack_kv_str (pk, "id", id);
        zmesh_control__pack_kv_str (pk, "handler", task->handler);
        zmesh_control__pack_kv_uint (pk, "priority", task->priority);
        zmesh_control__pack_kv_uint (pk, "attempts", task->attempts);
        zmesh_control__pack_kv_uint (pk, "age_ms", task->age_ms);
        zmesh_mp_pack_cstr (pk, "pending");
        task->pending ? msgpack_pack_true (pk) : msgpack_pack_false (pk);
        zmesh_control__pack_kv_str (pk, "node", node);
        zmesh_control__pack_kv_str (pk, "node_name", name);
    }
    free (members);
    return 0;
}

//  Answer the oldest tasks or metrics request waiting for the balancer: with its list, or
//  without (list NULL: it did not answer within S_LIST_WAIT_MS). Any LIST answer will do, as
//  each is the state of the moment: the answer to a request that timed out serves the next.
static void
s_waiter_answer (zmesh_control_t *self, zmesh_work_list_t *list)
{
    if (!self->waiter_count)
        return;  //  late: its requester was answered without it
    uint8_t id [ZMESH_CONTROL_ROUTING_ID_MAX];
    size_t id_size = self->waiters [0].id_size;
    char command = self->waiters [0].command;
    memcpy (id, self->waiters [0].id, id_size);
    self->waiter_count--;
    memmove (&self->waiters [0], &self->waiters [1], self->waiter_count * sizeof self->waiters [0]);
    zmesh_control_reply_t reply;
    zmesh_control__reply_init (&reply);
    int rc;
    if (command == 'm')
        rc = s_metrics_pack (self, &reply, list);
    else if (list)
        rc = s_tasks_pack (self, &reply, list);
    else
        rc = zmesh_control__fail (&reply, "the balancer did not answer within %d ms",
                                  S_LIST_WAIT_MS);
    zmesh_control__answer (self, id, id_size, rc, &reply);
    msgpack_sbuffer_destroy (&reply.buffer);
}

//  Read what the balancer sent: results and lists. Returns how many were read.
int
zmesh_control__work_read (zmesh_control_t *self)
{
    int n = 0;
    for (; self->work && n < ZMESH_CONTROL_RECV_BATCH; n++) {
        zmesh_work_reply_t reply;
        int size = zmq_recv (zsock_resolve (self->work), &reply, sizeof reply, ZMQ_DONTWAIT);
        if (size < 0)
            break;
        if (size != (int) sizeof reply)
            continue;  //  the balancer sends nothing else: cannot happen
        if (reply.kind == 'R' && reply.result)
            s_answer_result (self, reply.result->task_id, reply.result);
        else if (reply.kind == 'L' && reply.list)
            s_waiter_answer (self, reply.list);
        zmesh_task_result_destroy (&reply.result);
        free (reply.list);
    }
    return n;
}

//  Drop the DEALER and everything that waits on it, after the balancer died: what it sent
//  before is answered as usual; every other submit with a failed result ("lost": the task may
//  or may not have run), every tasks or metrics request as if the balancer had not answered.
static void
s_work_reset (zmesh_control_t *self)
{
    if (self->work) {
        while (zmesh_control__work_read (self) == ZMESH_CONTROL_RECV_BATCH)
            ;
        zpoller_remove (self->poller, self->work);
        zsock_destroy (&self->work);
    }
    for (s_submit_t *entry = (s_submit_t *) zhashx_first (self->submits); entry;
         entry = (s_submit_t *) zhashx_next (self->submits)) {
        zmesh_task_result_t lost;
        memset (&lost, 0, sizeof lost);
        snprintf (lost.task_id, sizeof lost.task_id, "%s",
                  (const char *) zhashx_cursor (self->submits));
        snprintf (lost.task_type, sizeof lost.task_type, "%s", entry->handler);
        snprintf (lost.status, sizeof lost.status, "lost");
        snprintf (lost.error, sizeof lost.error,
                  "the balancer of this node restarted: the task's result is lost (it may or "
                  "may not have run)");
        zmesh_control_reply_t reply;
        zmesh_control__reply_init (&reply);
        s_pack_result (&reply.pk, entry, &lost);
        zmesh_control__answer (self, entry->peer, entry->peer_size, 0, &reply);
        msgpack_sbuffer_destroy (&reply.buffer);
    }
    zhashx_purge (self->submits);
    while (self->waiter_count)
        s_waiter_answer (self, NULL);
}

//  Work to check on at each wake-up: tasks and metrics requests that waited too long, and
//  (every S_WORK_CHECK_MS) whether the balancer restarted under what waits for it.
void
zmesh_control__work_watch (zmesh_control_t *self)
{
    int64_t now = zclock_mono ();
    while (self->waiter_count && self->waiters [0].expires_ms <= now)
        s_waiter_answer (self, NULL);
    if (!self->work || now < self->next_work_check_ms)
        return;
    self->next_work_check_ms = now + S_WORK_CHECK_MS;
    zmesh_actor_status_t status;
    if (!s_balancer_status (self, &status) || status.restarts != self->balancer_restarts
        || !streq (status.state, "running")) {
        if (zhashx_size (self->submits))
            zsys_warning ("control: the balancer restarted; %zu submits lost",
                          zhashx_size (self->submits));
        s_work_reset (self);
    }
}

//  The DEALER to the balancer, made if need be: 0, or -1 with the reason in reply.
static int
s_work_socket (zmesh_control_t *self, zmesh_control_reply_t *reply)
{
    if (!zmesh_config_has_actor (&self->ctx->config, "balancer"))
        return zmesh_control__fail (reply, "this node runs no balancer (node/actors)");
    zmesh_actor_status_t status;
    if (!s_balancer_status (self, &status) || !streq (status.state, "running"))
        return zmesh_control__fail (reply, "the balancer of this node is %s; try again in a moment",
                                    s_balancer_status (self, &status) ? status.state
                                                                      : "not started");
    if (self->work && status.restarts != self->balancer_restarts)
        s_work_reset (self);
    if (self->work)
        return 0;
    self->work = zsock_new (ZMQ_DEALER);
    if (!self->work)
        return zmesh_control__fail (reply, "cannot create a socket to the balancer");
    zsock_set_linger (self->work, 0);
    zsock_set_sndhwm (self->work, ZMESH_CONTROL_SUBMITS_MAX + ZMESH_CONTROL_WAITERS_MAX);
    zsock_set_rcvhwm (self->work, 0);  //  results are never dropped: they hold memory
    if (zsock_connect (self->work, "%s", self->ctx->balancer_endpoint) != 0
        || zpoller_add (self->poller, self->work) != 0) {
        zsock_destroy (&self->work);
        return zmesh_control__fail (reply, "cannot connect to the balancer at %s",
                                    self->ctx->balancer_endpoint);
    }
    self->balancer_restarts = status.restarts;
    self->next_work_check_ms = zclock_mono () + S_WORK_CHECK_MS;
    return 0;
}

//  Ask the balancer for its list, for a tasks ('t') or metrics ('m') request:
//  ZMESH_CONTROL_DEFERRED, or -1 with the reason.
static int
s_list_request (zmesh_control_t *self, char command, zmesh_control_reply_t *reply)
{
    if (s_work_socket (self, reply))
        return -1;
    size_t size = zframe_size (self->peer);
    if (size > ZMESH_CONTROL_ROUTING_ID_MAX)
        return zmesh_control__fail (reply, "routing id too long");
    if (self->waiter_count == ZMESH_CONTROL_WAITERS_MAX)
        return zmesh_control__fail (reply, "%d requests wait for the balancer already; try again",
                                    ZMESH_CONTROL_WAITERS_MAX);
    zmesh_work_request_t request = {.kind = 'L', .submit = NULL};
    if (zmq_send (zsock_resolve (self->work), &request, sizeof request, ZMQ_DONTWAIT)
        != (int) sizeof request)
        return zmesh_control__fail (reply, "the balancer takes no requests now: %s",
                                    zmq_strerror (zmq_errno ()));
    memcpy (self->waiters [self->waiter_count].id, zframe_data (self->peer), size);
    self->waiters [self->waiter_count].id_size = size;
    self->waiters [self->waiter_count].command = command;
    self->waiters [self->waiter_count].expires_ms = zclock_mono () + S_LIST_WAIT_MS;
    self->waiter_count++;
    return ZMESH_CONTROL_DEFERRED;
}

int
zmesh_control__cmd_metrics (zmesh_control_t *self,
                            char args [][ZMESH_CONTROL_ARG_MAX],
                            zmesh_control_reply_t *reply)
{
    //  With the balancer's gauges when the node runs one; without, if it cannot be asked.
    if (zmesh_config_has_actor (&self->ctx->config, "balancer")
        && s_list_request (self, 'm', reply) == ZMESH_CONTROL_DEFERRED)
        return ZMESH_CONTROL_DEFERRED;
    reply->error [0] = 0;
    return s_metrics_pack (self, reply, NULL);
}

int
zmesh_control__cmd_tasks (zmesh_control_t *self,
                          char args [][ZMESH_CONTROL_ARG_MAX],
                          zmesh_control_reply_t *reply)
{
    return s_list_request (self, 't', reply);
}

//  What a submit's options hold besides the spec's fields.
typedef struct {
    char handler [ZMESH_TASK_HANDLER_MAX];
    char tags [ZMESH_TASK_TAGS_MAX][ZMESH_TASK_TAG_MAX];
    const char *tag_list [ZMESH_TASK_TAGS_MAX];
    char strategy [16];
    uint64_t seq;
    bool has_seq;
} s_submit_options_t;

//  An unsigned option: into the spec (or the seq), if within its range.
static int
s_submit_uint (zmesh_task_spec_t *spec,
               s_submit_options_t *o,
               const char *name,
               uint64_t value,
               zmesh_control_reply_t *reply)
{
    static const struct {
        const char *name;
        uint64_t max;
    } ranges [] = {{"priority", ZMESH_CRITICAL}, {"cpu_millicores", UINT32_MAX},
                   {"memory_bytes", UINT64_MAX}, {"gpus", UINT32_MAX},
                   {"redundancy", UINT32_MAX},   {"timeout_ms", UINT32_MAX},
                   {"max_retries", 100},         {"seq", UINT64_MAX}};
    for (size_t i = 0; i < sizeof ranges / sizeof *ranges; i++)
        if (streq (name, ranges [i].name) && value > ranges [i].max)
            return zmesh_control__fail (
                reply, "submit: %s %" PRIu64 " is out of range (at most %" PRIu64 ")", name, value,
                ranges [i].max);
    if (streq (name, "priority"))
        spec->priority = (int) value;
    else if (streq (name, "cpu_millicores"))
        spec->cpu_millicores = (uint32_t) value;
    else if (streq (name, "memory_bytes"))
        spec->memory_bytes = value;
    else if (streq (name, "gpus"))
        spec->gpus = (uint32_t) value;
    else if (streq (name, "redundancy"))
        spec->redundancy = (uint32_t) value;
    else if (streq (name, "timeout_ms"))
        spec->timeout_ms = (uint32_t) value;
    else if (streq (name, "max_retries"))
        spec->max_retries = (int) value;
    else {
        o->seq = value;
        o->has_seq = true;
    }
    return 0;
}

//  The options map of a submit: {handler: str, priority, cpu_millicores, memory_bytes, gpus,
//  redundancy, timeout_ms, max_retries, seq: uint, tags: [str], strategy: str}; handler is
//  required. Unknown keys and wrong types are refused.
static int
s_submit_options (zframe_t *frame,
                  zmesh_task_spec_t *spec,
                  s_submit_options_t *o,
                  zmesh_control_reply_t *reply)
{
    static const char *uints [] = {"priority",   "cpu_millicores", "memory_bytes", "gpus",
                                   "redundancy", "timeout_ms",     "max_retries",  "seq"};
    zmesh_mp_reader_t r;
    zmesh_mp_reader_init (&r, zframe_data (frame), zframe_size (frame));
    uint32_t count;
    if (zmesh_mp_read_map (&r, &count))
        return zmesh_control__fail (reply, "submit: the options (frame 2) are not a msgpack map");
    for (uint32_t i = 0; i < count; i++) {
        const char *key, *text;
        uint32_t key_size, text_size, tag_count;
        char name [32], shown [64];
        if (zmesh_mp_read_str (&r, &key, &key_size) || key_size >= sizeof name)
            return zmesh_control__fail (
                reply, "submit: option %u has no name (a str of 1..31 bytes)", i + 1);
        memcpy (name, key, key_size);
        name [key_size] = 0;
        bool is_uint = false;
        for (size_t u = 0; u < sizeof uints / sizeof *uints; u++)
            is_uint |= streq (name, uints [u]);
        int rc = 0;
        if (is_uint) {
            uint64_t value;
            if ((rc = zmesh_mp_read_uint (&r, &value)) == 0
                && s_submit_uint (spec, o, name, value, reply))
                return -1;
        }
        else if (streq (name, "handler")) {
            if ((rc = zmesh_mp_read_str (&r, &text, &text_size)) == 0) {
                if (!zmesh_task_handler_valid (text, text_size))
                    return zmesh_control__fail (
                        reply, "submit: a handler name is 1..%d printable ASCII bytes",
                        ZMESH_TASK_HANDLER_MAX - 1);
                memcpy (o->handler, text, text_size);
                o->handler [text_size] = 0;
            }
        }
        else if (streq (name, "strategy")) {
            if ((rc = zmesh_mp_read_str (&r, &text, &text_size)) == 0) {
                if (text_size >= sizeof o->strategy || memchr (text, 0, text_size))
                    return zmesh_control__fail (
                        reply, "submit: strategy is score, auction, hash or local");
                memcpy (o->strategy, text, text_size);
                o->strategy [text_size] = 0;
                spec->strategy = o->strategy;  //  checked by zmesh_work_submit_new
            }
        }
        else if (streq (name, "tags")) {
            if ((rc = zmesh_mp_read_array (&r, &tag_count)) == 0) {
                if (tag_count > ZMESH_TASK_TAGS_MAX)
                    return zmesh_control__fail (reply, "submit: %u required tags; at most %d",
                                                tag_count, ZMESH_TASK_TAGS_MAX);
                for (uint32_t t = 0; t < tag_count; t++) {
                    if (zmesh_mp_read_str (&r, &text, &text_size)
                        || !zmesh_task_tag_valid (text, text_size))
                        return zmesh_control__fail (
                            reply, "submit: tag %u is not 1..%d bytes of A-Z a-z 0-9 . _ : -",
                            t + 1, ZMESH_TASK_TAG_MAX - 1);
                    memcpy (o->tags [t], text, text_size);
                    o->tags [t][text_size] = 0;
                    o->tag_list [t] = o->tags [t];
                }
                spec->tags = o->tag_list;
                spec->tag_count = tag_count;
            }
        }
        else
            return zmesh_control__fail (reply, "submit: unknown option '%s'",
                                        zmesh_control__printable (shown, sizeof shown, name));
        if (rc)
            return zmesh_control__fail (reply, "submit: option '%s' has the wrong type", name);
    }
    if (zmesh_mp_remaining (&r))
        return zmesh_control__fail (reply, "submit: bytes after the options map");
    if (!o->handler [0])
        return zmesh_control__fail (reply, "submit: no handler given");
    spec->handler = o->handler;
    return 0;
}


//  ["submit"][options][payload]: hand the task to the balancer; the answer is its result.
int
zmesh_control__cmd_submit (zmesh_control_t *self,
                           zframe_t *options,
                           zframe_t *payload,
                           zmesh_control_reply_t *reply)
{
    if (s_work_socket (self, reply))
        return -1;
    if (zhashx_size (self->submits) >= ZMESH_CONTROL_SUBMITS_MAX)
        return zmesh_control__fail (reply,
                                    "%d submits wait for their results already; try again later",
                                    ZMESH_CONTROL_SUBMITS_MAX);
    size_t peer_size = zframe_size (self->peer);
    if (peer_size > ZMESH_CONTROL_ROUTING_ID_MAX)
        return zmesh_control__fail (reply, "routing id too long");
    zmesh_task_spec_t spec;
    zmesh_task_spec_init (&spec);
    s_submit_options_t o;
    memset (&o, 0, sizeof o);
    if (s_submit_options (options, &spec, &o, reply))
        return -1;
    spec.payload = zframe_data (payload);
    spec.payload_size = zframe_size (payload);
    char id [ZMESH_ID_HEX_SIZE], err [256];
    zmesh_work_submit_t *submit = zmesh_work_submit_new (&spec, id, err, sizeof err);
    if (!submit)
        return zmesh_control__fail (reply, "submit: %s", err);
    s_submit_t *entry = (s_submit_t *) calloc (1, sizeof *entry);
    if (!entry || zhashx_insert (self->submits, id, entry) != 0) {
        free (entry);
        zmesh_work_submit_destroy (&submit);
        return zmesh_control__fail (reply, "out of memory");
    }
    memcpy (entry->peer, zframe_data (self->peer), peer_size);
    entry->peer_size = peer_size;
    entry->seq = o.seq;
    entry->has_seq = o.has_seq;
    snprintf (entry->handler, sizeof entry->handler, "%s", o.handler);
    zmesh_work_request_t request = {.kind = 'S', .submit = submit};
    if (zmq_send (zsock_resolve (self->work), &request, sizeof request, ZMQ_DONTWAIT)
        != (int) sizeof request) {
        zmesh_work_submit_destroy (&submit);
        zhashx_delete (self->submits, id);
        return zmesh_control__fail (reply, "the balancer takes no tasks now: %s",
                                    zmq_strerror (zmq_errno ()));
    }
    return ZMESH_CONTROL_DEFERRED;
}
