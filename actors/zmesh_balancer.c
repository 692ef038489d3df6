/*  zmesh_balancer.c: the balancer actor: owns the tasks this node submits (Ray-style).

    It drives the owner core (protocol/zmesh_owner.h): tasks come in from the node's API and
    from zmeshctl on an inproc ROUTER (ctx->balancer_endpoint), are placed by the placement
    core (protocol/zmesh_place.h) over this node's view of the mesh, sent in batches to the
    chosen workers, tracked to their one result, and re-dispatched when a worker is lost.

    Sockets. One DEALER per worker it sends to, a CURVE client of that worker's ROUTER (the
    endpoint and the key come from the worker's `zmesh.work` gossip value and its membership
    record): SUBMIT and CANCEL go out, RESULT, LEASE, CHECKPOINT and MOVED come back on it.

    The view. Candidates are the members alive with a `zmesh.work` value (this node
    included, if it runs a worker), with their profile (cores, CPU use, memory, GPUs) and the
    load their worker last reported: in its gossip value, and fresher in every message it
    sends back. It is rebuilt when the node context's view version moves (at most every
    S_VIEW_MS); members that membership declares dead or left are lost workers for the owner.

    In-process requests (pointers travel, as in CZMQ's zactor; the receiver owns them):
        client -> balancer  "SUBMIT" ptr(zmesh_work_submit_t)   -> later "RESULT" ptr(result)
                            "LIST"                               -> "LIST" ptr(zmesh_work_list_t)
*/
#include "zmesh_actors.h"
#include "zmesh_auction.h"
#include "zmesh_balancer.h"
#include "zmesh_link.h"
#include "zmesh_spin.h"
#include "zmesh_node_ctx.h"
#include "zmesh_owner.h"
#include "zmesh_place.h"
#include "zmesh_scale.h"
#include "zmesh_work.h"
#include <sodium.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/wait.h>

extern char **environ;

#define S_VIEW_MS       100       //  least time between two rebuilds of the view
#define S_PERF_HANDLERS 16        //  handlers whose latency one node keeps
#define S_RECV_BATCH    256       //  messages read from one socket per wake-up
#define S_CLIENTS_MAX   1024      //  API and control connections at once
#define S_LATENCY_ALPHA 0.05      //  weight of a new task latency in the average
#define S_PIPELINE_MS   2.0       //  work kept in flight per slot beyond 2 tasks (late binding)
#define S_RTT_ALPHA     0.2       //  weight of a new round-trip sample in a link's average
#define S_PROBE_LOST_US 10000000  //  a probe without a result this long is given up

typedef struct {
    char handler [ZMESH_TASK_HANDLER_MAX];
    double perf_ms;
    uint32_t samples;
} s_perf_t;

//  A worker this balancer talks to.
typedef struct {
    zmesh_id_t id;
    char endpoint [ZMESH_ENDPOINT_MAX];
    zsock_t *dealer;
    void *handle;
    zmesh_task_writer_t writer;  //  SUBMIT batch being filled
    uint8_t *buf;
    zmesh_task_writer_t cancel;  //  CANCEL batch being filled
    uint8_t *cancel_buf;
    double rtt_us;  //  moving average of (round trip - queue - run); 0 unknown
    //  One task at a time is timed (a probe): when it went, to learn rtt_us from its result.
    bool probing;
    zmesh_id_t probe_id;
    uint64_t probe_sent_us;
    s_perf_t perf [S_PERF_HANDLERS];
    uint32_t perf_count;
    bool dirty;
} s_link_t;

typedef struct {
    zmesh_place_node_t place;
    uint8_t curve_public [ZMESH_KEY_SIZE];
    char endpoint [ZMESH_ENDPOINT_MAX];
    bool alive;
    bool has_work;
    s_link_t *link;  //  once we sent it something
} s_view_node_t;

typedef struct {
    uint8_t routing [256];
    size_t routing_size;
    bool used;
} s_client_t;

typedef struct {
    zmesh_node_ctx_t *ctx;
    const zmesh_config_t *config;
    zsock_t *pipe;
    zsock_t *api;  //  inproc ROUTER
    void *api_handle;
    zmesh_owner_t *owner;
    zmesh_place_config_t place;
    uint64_t rng;
    //  the view
    s_view_node_t *view;
    uint32_t view_count;
    zmesh_place_node_t *candidates;  //  scratch for choose: view's place records
    zmesh_place_ring_t ring;
    bool ring_built;
    uint64_t view_version;
    int64_t view_at;
    int view_fd;      //  eventfd the node context writes when the view changes
    zhashx_t *links;  //  id (hex) -> s_link_t
    zmesh_task_msg_t *msg;
    //  clients by index (the owner core's `client`)
    s_client_t clients [S_CLIENTS_MAX];
    //  submissions waiting because the owner is full
    zlistx_t *backlog;
    //  auctions: the rounds of bids (protocol/zmesh_auction.h, its default limits)
    zmesh_auction_t *auction;
    //  figures
    zmesh_owner_stats_t reported;
    double latency_ms;  //  moving average of task latency
    zmesh_scale_t scale;
    zmesh_scale_result_t scaled;  //  the last decision
    zmesh_scale_t mesh_scale;     //  the same over every node's published figures
    zmesh_scale_result_t mesh_scaled;
    uint32_t mesh_nodes;           //  nodes counted in the last mesh decision
    bool mesh_decider;             //  this node has the lowest id of them: it acts for the mesh
    zmesh_scale_info_t published;  //  our zmesh.scale value as last published
    bool published_once;
    int64_t scale_at;
    pid_t scale_pid [2];  //  the scale/exec command running for the node, the mesh; 0 if none
    zmesh_spin_t spin;    //  its waits (node/spin_us)
    bool terminated;
} self_t;

static uint64_t
s_now (void)
{
    return (uint64_t) zclock_mono ();
}

//  ---------------------------------------------------------------------------------------------
//  Links

static void
s_link_destroy (void **item)
{
    s_link_t *link = (s_link_t *) *item;
    if (link) {
        zsock_destroy (&link->dealer);
        free (link->buf);
        free (link->cancel_buf);
        free (link);
        *item = NULL;
    }
}

static s_view_node_t *
s_view_find (self_t *self, const zmesh_id_t *id)
{
    for (uint32_t i = 0; i < self->view_count; i++)
        if (zmesh_id_equal (&self->view [i].place.id, id))
            return &self->view [i];
    return NULL;
}

static s_link_t *
s_link_find (self_t *self, const zmesh_id_t *id)
{
    char hex [ZMESH_ID_HEX_SIZE];
    zmesh_id_to_hex (id, hex);
    return (s_link_t *) zhashx_lookup (self->links, hex);
}

static zmesh_task_load_t s_zero_load;

//  The link to a worker, made on first use; NULL if we do not know how to reach it.
static s_link_t *
s_link (self_t *self, const zmesh_id_t *id)
{
    s_link_t *link = s_link_find (self, id);
    s_view_node_t *node = s_view_find (self, id);
    if (link && node && strcmp (link->endpoint, node->endpoint) != 0) {
        //  The worker moved (a restart on another port): connect anew.
        char hex [ZMESH_ID_HEX_SIZE];
        zmesh_id_to_hex (id, hex);
        zhashx_delete (self->links, hex);
        link = NULL;
    }
    if (link)
        return link;
    if (!node || !node->has_work)
        return NULL;
    link = (s_link_t *) calloc (1, sizeof *link);
    ZMESH_ASSERT (link);
    link->id = *id;
    snprintf (link->endpoint, sizeof link->endpoint, "%s", node->endpoint);
    zmesh_link_config_t config = {
        .max_message_bytes = ZMESH_TASK_MSG_MAX, .linger_ms = 0, .queue_early = true};
    if (node->place.is_self && zmesh_config_has_actor (self->config, "worker")) {
        //  This node's own worker: over inproc, no tcp and no CURVE (nothing outside the
        //  process can reach it), and none of the I/O threads' hand-offs.
        char local [ZMESH_ENDPOINT_MAX];
        zmesh_work_local_endpoint (local, self->ctx->identity.id_hex);
        link->dealer = zsock_new (ZMQ_DEALER);
        if (link->dealer && zsock_connect (link->dealer, "%s", local) != 0)
            zsock_destroy (&link->dealer);
    }
    else
        link->dealer = zmesh_link_client_new (&self->ctx->identity, node->curve_public,
                                              node->endpoint, &config);
    link->buf = (uint8_t *) malloc (ZMESH_TASK_MSG_MAX);
    link->cancel_buf = (uint8_t *) malloc (64 * 1024);
    if (!link->dealer || !link->buf || !link->cancel_buf) {
        void *item = link;
        s_link_destroy (&item);
        return NULL;
    }
    //  Tasks wait for the handshake (queue_early; the owner's window bounds how many): a new
    //  link must not drop its first batch.
    zsock_set_sndhwm (link->dealer, 100000);
    zsock_set_rcvhwm (link->dealer, 100000);
    link->handle = zsock_resolve (link->dealer);
    char hex [ZMESH_ID_HEX_SIZE];
    zmesh_id_to_hex (id, hex);
    zhashx_insert (self->links, hex, link);
    node->link = link;
    return link;
}

static void
s_link_flush (self_t *self, s_link_t *link)
{
    size_t size;
    if (link->writer.buf && link->writer.count
        && zmesh_task_writer_finish (&link->writer, &size) == ZMESH_OK) {
        if (zmq_send (link->handle, link->buf, size, ZMQ_DONTWAIT) < 0)
            zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_SEND_DROPPED, 1);
        else {
            zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_MSG_SENT, 1);
            zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_BYTES_SENT, size);
        }
    }
    link->writer.buf = NULL;
    if (link->cancel.buf && link->cancel.count
        && zmesh_task_writer_finish (&link->cancel, &size) == ZMESH_OK
        && zmq_send (link->handle, link->cancel_buf, size, ZMQ_DONTWAIT) >= 0)
        zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_MSG_SENT, 1);
    link->cancel.buf = NULL;
    link->dirty = false;
}

static void
s_flush_all (self_t *self)
{
    for (s_link_t *link = (s_link_t *) zhashx_first (self->links); link;
         link = (s_link_t *) zhashx_next (self->links))
        if (link->dirty)
            s_link_flush (self, link);
}

//  ---------------------------------------------------------------------------------------------
//  The owner core's callbacks

static s_perf_t *
s_perf (s_link_t *link, const char *handler, bool add)
{
    for (uint32_t i = 0; i < link->perf_count; i++)
        if (streq (link->perf [i].handler, handler))
            return &link->perf [i];
    if (!add)
        return NULL;
    uint32_t slot = link->perf_count < S_PERF_HANDLERS ? link->perf_count++ : S_PERF_HANDLERS - 1;
    memset (&link->perf [slot], 0, sizeof link->perf [slot]);
    snprintf (link->perf [slot].handler, sizeof link->perf [slot].handler, "%s", handler);
    return &link->perf [slot];
}

//  Tasks worth keeping in flight on a node for one handler: 2 x slots, plus the tasks its slots
//  finish in S_PIPELINE_MS at the handler's measured run time there (none known: no more).
static uint32_t
s_pipeline (const zmesh_place_node_t *node, const s_perf_t *perf)
{
    uint32_t slots = node->slots ? node->slots : 1;
    uint64_t limit = 2ull * slots;
    if (perf && perf->samples)
        limit += (uint64_t) ((double) slots * S_PIPELINE_MS
                             / (perf->perf_ms > 0.001 ? perf->perf_ms : 0.001));
    return limit > UINT32_MAX ? UINT32_MAX : (uint32_t) limit;
}

//  Is the node one this task already uses, or failed on (the owner's avoid list)?
static bool
s_avoided (const zmesh_owner_choice_t *choice, const zmesh_id_t *node)
{
    for (uint32_t i = 0; i < choice->avoid_count; i++)
        if (zmesh_id_equal (&choice->avoid [i], node))
            return true;
    return false;
}

//  ---------------------------------------------------------------------------------------------
//  Auctions: a CALL to every eligible node, their BIDs, the highest wins (protocol.md 8.14)

//  The earliest end of an open round (UINT64_MAX: none).
static uint64_t
s_rounds_deadline (self_t *self)
{
    return zmesh_auction_deadline_ms (self->auction);
}

//  Open rounds whose time is up close, with the bids they have: the waiting tasks go.
static void
s_rounds_tick (self_t *self, uint64_t now)
{
    if (zmesh_auction_tick (self->auction, now))
        zmesh_owner_kick (self->owner, now);
}

//  A BID: into its round; the round closes when every node asked has answered. What the
//  round does not take (malformed, forged, late, duplicate) the core counts and ignores.
static void
s_bid_heard (self_t *self, const zmesh_id_t *from, const zmesh_task_bid_t *bid, uint64_t now)
{
    bool closed = false;
    int rc = zmesh_auction_bid (self->auction, from, bid, now, &closed);
    if (rc != ZMESH_OK)
        zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_TASKS_BIDS_IGNORED, 1);
    else if (closed)
        zmesh_owner_kick (self->owner, now);
}

//  A new round: its CALL to every node that could take the task (alive, offers work, not
//  avoided, passes the filter). Returns the round's state once the CALLs are out.
static zmesh_auction_state_t
s_auction_call (self_t *self,
                const zmesh_owner_choice_t *choice,
                const zmesh_place_request_t *request,
                zmesh_task_call_t *call,
                uint64_t now)
{
    double best_ms = 0;
    for (uint32_t i = 0; i < self->view_count; i++) {
        s_perf_t *perf =
            self->view [i].link ? s_perf (self->view [i].link, choice->task->handler, false) : NULL;
        if (perf && perf->samples && (best_ms == 0 || perf->perf_ms < best_ms))
            best_ms = perf->perf_ms;
    }
    call->perf_best_us = (uint64_t) (best_ms * 1000.0);
    uint8_t buf [2048];
    size_t size;
    bool encoded = zmesh_task_encode_call (buf, sizeof buf, &self->ctx->identity.pub.id,
                                           &s_zero_load, call, &size)
                   == ZMESH_OK;
    for (uint32_t i = 0; i < self->view_count && encoded; i++) {
        s_view_node_t *node = &self->view [i];
        //  The filter alone: a node without window now (late binding, breaker) is asked
        //  too, as its bid serves the round's later tasks.
        zmesh_place_node_t probe = self->candidates [i];
        probe.eligible = true;
        if (!node->alive || !node->has_work || s_avoided (choice, &node->place.id)
            || !zmesh_place_match (&self->place, request, &probe, NULL))
            continue;  //  could not take it as far as we know: not worth a call
        s_link_t *link = s_link (self, &node->place.id);
        if (!link || zmq_send (link->handle, buf, size, ZMQ_DONTWAIT) < 0)
            continue;  //  not asked: its bid is computed here
        zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_TASKS_CALLS, 1);
        //  Beyond the round's node limit its answer would be ignored: computed here too.
        zmesh_auction_ask (self->auction, call->id, &node->place.id);
    }
    zmesh_auction_state_t state = ZMESH_AUCTION_OPEN;
    int rc = zmesh_auction_sent (self->auction, call->id, now, &state);
    ZMESH_ASSERT (rc == ZMESH_OK);
    return state;
}

//  An auction task to place: true to go on with the bids applied to the candidates (those
//  that bid unable are not eligible); false to wait for the bids of a round (just called
//  for, or still open).
static bool
s_auction (self_t *self,
           const zmesh_owner_choice_t *choice,
           const zmesh_place_request_t *request,
           uint64_t now)
{
    const zmesh_owner_task_t *task = choice->task;
    zmesh_task_call_t call;
    memset (&call, 0, sizeof call);
    memcpy (call.handler, task->handler, sizeof call.handler);
    call.cpu_millicores = task->cpu_millicores;
    call.memory_bytes = task->memory_bytes;
    call.gpus = task->gpus;
    call.tag_count = task->tag_count;
    memcpy (call.tags, task->tags, sizeof call.tags [0] * task->tag_count);
    zmesh_auction_round_t round;
    if (zmesh_auction_round (self->auction, &call, now, &round) != ZMESH_OK)
        return true;  //  every round kept is open (ZMESH_ELIMIT): placed on computed bids
    zmesh_auction_state_t state = round.state;
    if (round.opened) {
        call.id = round.call_id;
        state = s_auction_call (self, choice, request, &call, now);
    }
    if (state != ZMESH_AUCTION_CLOSED)
        return false;  //  open: its bids are coming
    zmesh_auction_apply (self->auction, round.call_id, now, self->candidates, self->view_count);
    return true;
}

static int
s_choose (void *arg,
          zmesh_owner_t *owner,
          const zmesh_owner_choice_t *choice,
          zmesh_id_t *chosen,
          zmesh_id_t *optimal)
{
    self_t *self = (self_t *) arg;
    const zmesh_owner_task_t *task = choice->task;
    if (!self->view_count)
        return ZMESH_ENOTFOUND;
    zmesh_place_request_t request;
    zmesh_place_request_init (&request);
    memcpy (request.handler, task->handler, sizeof request.handler);
    request.tag_count = task->tag_count;
    memcpy (request.tags, task->tags, sizeof request.tags);
    request.cpu_millicores = task->cpu_millicores;
    request.memory_bytes = task->memory_bytes;
    request.gpus = task->gpus;
    request.strategy = (zmesh_place_strategy_t) task->strategy;
    request.replicas = choice->want;
    request.task_id = task->id;
    request.affinity_key = task->affinity_size ? task->affinity : NULL;
    request.affinity_key_size = task->affinity_size;
    //  Eligible now: alive, offers work, not avoided, window and breaker room.
    uint64_t now = s_now ();
    uint32_t possible = 0;
    for (uint32_t i = 0; i < self->view_count; i++) {
        s_view_node_t *node = &self->view [i];
        zmesh_place_node_t *candidate = &self->candidates [i];
        *candidate = node->place;
        candidate->eligible = node->alive && node->has_work;
        if (!candidate->eligible)
            continue;
        if (s_avoided (choice, &candidate->id)) {
            candidate->eligible = false;  //  this task already uses it: no use waiting for it
            continue;
        }
        possible++;
        if (!zmesh_owner_node_available (owner, &candidate->id, now))
            candidate->eligible = false;
        //  What this owner has in flight there counts as queued, on top of what it reported.
        uint32_t in_flight = zmesh_owner_node_in_flight (owner, &candidate->id);
        candidate->queued += in_flight;
        s_perf_t *perf = node->link ? s_perf (node->link, task->handler, false) : NULL;
        if (node->link) {
            candidate->rtt_us = (uint32_t) node->link->rtt_us;
            if (perf) {
                candidate->perf_ms = perf->perf_ms;
                candidate->perf_samples = perf->samples;
            }
        }
        //  Late binding for score and auction: keep only as many tasks on a node as keep its
        //  slots busy across a round trip (twice its slots, plus what it runs in
        //  S_PIPELINE_MS), so the rest wait here and go to whichever node frees a slot first.
        //  hash and local name their node: the owner's window alone bounds them, and stealing
        //  evens the load.
        if (candidate->eligible
            && (request.strategy == ZMESH_PLACE_SCORE || request.strategy == ZMESH_PLACE_AUCTION)
            && in_flight >= s_pipeline (candidate, perf))
            candidate->eligible = false;
    }
    if (!possible)
        return ZMESH_ENOTFOUND;
    if (request.strategy == ZMESH_PLACE_AUCTION && !s_auction (self, choice, &request, now))
        return 0;  //  waits for the bids (the round's end kicks the owner)
    zmesh_place_result_t result;
    int rc = zmesh_place_choose (&self->place, &request, self->candidates, self->view_count,
                                 self->ring_built ? &self->ring : NULL, &self->rng, &result);
    if (rc == ZMESH_ENOTFOUND) {
        //  Nothing eligible now: is that for lack of room (wait), or for good (park)?
        for (uint32_t i = 0; i < self->view_count; i++)
            self->candidates [i].eligible = self->view [i].alive && self->view [i].has_work
                                            && !s_avoided (choice, &self->candidates [i].id);
        zmesh_place_result_t any;
        if (zmesh_place_scan (&self->place, &request, self->candidates, self->view_count, &any)
            == ZMESH_OK)
            return 0;
        return ZMESH_ENOTFOUND;
    }
    if (rc)
        return ZMESH_ENOTFOUND;
    for (uint32_t i = 0; i < result.count; i++)
        chosen [i] = self->candidates [result.nodes [i]].id;
    //  The cost-optimal node: a full scan (skipped when the sample was the whole list).
    zmesh_place_result_t best;
    request.replicas = 1;
    if (!result.sampled && request.strategy == ZMESH_PLACE_SCORE && !result.local_preferred)
        *optimal = chosen [0];
    else if (zmesh_place_scan (&self->place, &request, self->candidates, self->view_count, &best)
             == ZMESH_OK)
        *optimal = self->candidates [best.nodes [0]].id;
    return (int) result.count;
}

static void
s_send (void *arg, const zmesh_owner_send_t *send)
{
    self_t *self = (self_t *) arg;
    s_link_t *link = s_link (self, &send->node);
    if (!link)
        return;  //  no way to reach it: the lease will expire and the task go elsewhere
    zmesh_task_item_t item = send->item;
    item.owner = self->ctx->identity.pub.id;
    uint64_t now_us = (uint64_t) zclock_usecs ();
    if (!link->probing || now_us - link->probe_sent_us > S_PROBE_LOST_US) {
        link->probing = true;
        link->probe_id = item.id;
        link->probe_sent_us = now_us;
    }
    if (!link->writer.buf)
        zmesh_task_writer_begin (&link->writer, link->buf, ZMESH_TASK_MSG_MAX,
                                 &self->ctx->identity.pub.id, ZMESH_TASK_KIND_SUBMIT, &s_zero_load);
    int rc = zmesh_task_writer_add_task (&link->writer, &item);
    if (rc == ZMESH_ETOOBIG || rc == ZMESH_ELIMIT) {
        s_link_flush (self, link);
        zmesh_task_writer_begin (&link->writer, link->buf, ZMESH_TASK_MSG_MAX,
                                 &self->ctx->identity.pub.id, ZMESH_TASK_KIND_SUBMIT, &s_zero_load);
        rc = zmesh_task_writer_add_task (&link->writer, &item);
    }
    if (rc)
        zsys_warning ("balancer: a task does not encode: %s", zmesh_strerror (rc));
    link->dirty = true;
}

static void
s_cancel (void *arg, const zmesh_id_t *node, const zmesh_task_ref_t *ref)
{
    self_t *self = (self_t *) arg;
    s_link_t *link = s_link_find (self, node);
    if (!link)
        return;
    if (!link->cancel.buf)
        zmesh_task_writer_begin (&link->cancel, link->cancel_buf, 64 * 1024,
                                 &self->ctx->identity.pub.id, ZMESH_TASK_KIND_CANCEL, &s_zero_load);
    if (zmesh_task_writer_add_ref (&link->cancel, ref) != ZMESH_OK) {
        s_link_flush (self, link);
        zmesh_task_writer_begin (&link->cancel, link->cancel_buf, 64 * 1024,
                                 &self->ctx->identity.pub.id, ZMESH_TASK_KIND_CANCEL, &s_zero_load);
        zmesh_task_writer_add_ref (&link->cancel, ref);
    }
    link->dirty = true;
}

static void
s_done (void *arg, const zmesh_owner_result_t *result)
{
    self_t *self = (self_t *) arg;
    zmesh_task_result_t *out = (zmesh_task_result_t *) calloc (1, sizeof *out);
    ZMESH_ASSERT (out);
    zmesh_id_to_hex (&result->task_id, out->task_id);
    snprintf (out->task_type, sizeof out->task_type, "%s", result->task_type);
    zmesh_id_to_hex (&result->selected_node, out->selected_node);
    zmesh_id_to_hex (&result->cost_optimal_node, out->cost_optimal_node);
    static const zmesh_id_t zero;
    if (!zmesh_id_equal (&result->dispatched_to, &zero))
        zmesh_id_to_hex (&result->dispatched_to, out->dispatched_to);
    snprintf (out->circuit_state, sizeof out->circuit_state, "%s",
              zmesh_breaker_state_name (result->circuit_state));
    out->success = result->success;
    snprintf (out->status, sizeof out->status, "%s", zmesh_task_status_name (result->status));
    snprintf (out->error, sizeof out->error, "%s", result->error);
    if (result->output_size) {
        out->output = (uint8_t *) malloc (result->output_size);
        ZMESH_ASSERT (out->output);
        memcpy (out->output, result->output, result->output_size);
        out->output_size = result->output_size;
    }
    out->latency_ms = result->latency_ms;
    out->attempts = result->attempts;
    out->disagreements = result->disagreements;
    s_link_t *link = s_link_find (self, &result->dispatched_to);
    if (link && result->success) {
        s_perf_t *perf = s_perf (link, result->task_type, true);
        //  Past performance: the handler's run time there (its queue is the load's business).
        zmesh_place_perf_update (&perf->perf_ms, &perf->samples, (double) result->run_us / 1000.0);
    }
    self->latency_ms = self->latency_ms == 0 ? (double) result->latency_ms
                                             : self->latency_ms * (1 - S_LATENCY_ALPHA)
                                                   + (double) result->latency_ms * S_LATENCY_ALPHA;
    //  The user token travels in the client's slot: high 16 bits the client, the rest theirs.
    uint64_t client = result->client >> 48;
    out->user = result->client & 0xffffffffffffull;
    s_client_t *c = client < S_CLIENTS_MAX ? &self->clients [client] : NULL;
    zmesh_work_reply_t reply = {.kind = 'R', .result = out};
    if (!c || !c->used
        || zmq_send (self->api_handle, c->routing, c->routing_size, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
        || zmq_send (self->api_handle, &reply, sizeof reply, ZMQ_DONTWAIT) < 0)
        zmesh_task_result_destroy (&out);  //  the client is gone
}

//  A redundant replica outvoted by the quorum: the node that produced it is named in the log
//  (zmesh_task_disagreements_total counts them).
static void
s_disagree (void *arg, const zmesh_id_t *node, const zmesh_id_t *task_id)
{
    (void) arg;
    char node_hex [ZMESH_ID_HEX_SIZE], task_hex [ZMESH_ID_HEX_SIZE];
    zmesh_id_to_hex (node, node_hex);
    zmesh_id_to_hex (task_id, task_hex);
    zsys_warning ("balancer: node %s returned a result for task %s that the quorum outvoted",
                  node_hex, task_hex);
}

//  ---------------------------------------------------------------------------------------------
//  The view

static void
s_view_rebuild (self_t *self)
{
    uint64_t version = zmesh_ctx_view_version (self->ctx);
    if (version == self->view_version)
        return;
    self->view_version = version;
    size_t count;
    zmesh_member_t *members = zmesh_ctx_members (self->ctx, &count);
    s_view_node_t *view = (s_view_node_t *) calloc (count ? count : 1, sizeof *view);
    zmesh_place_node_t *candidates =
        (zmesh_place_node_t *) calloc (count ? count : 1, sizeof *candidates);
    ZMESH_ASSERT (view && candidates);
    uint32_t n = 0;
    uint64_t now = s_now ();
    for (size_t i = 0; i < count; i++) {
        const zmesh_member_t *member = &members [i];
        s_view_node_t *node = &view [n];
        zmesh_id_t id;
        if (zmesh_hex_decode (id.bytes, ZMESH_ID_SIZE, member->id))
            continue;
        s_view_node_t *old = s_view_find (self, &id);
        bool gone = streq (member->state, "dead") || streq (member->state, "left");
        //  A suspect gets no new tasks (what it holds stays: its lease decides).
        bool suspect = streq (member->state, "suspect");
        if (gone) {
            //  A worker membership lost: what it held is lost.
            if (old)
                zmesh_owner_node_down (self->owner, now, &id);
            continue;
        }
        //  The CURVE key of a node already in the view is the one its id was made from: no
        //  conversion again at every rebuild.
        if (old)
            memcpy (node->curve_public, old->curve_public, ZMESH_KEY_SIZE);
        else if (!zmesh_member_curve_public (member, &id, node->curve_public))
            continue;
        node->place.id = id;
        node->place.is_self = member->self;
        node->alive = !suspect;
        zmesh_work_info_t work;
        bool has_work = false;
        if (member->self) {
            zchunk_t *chunk = zmesh_ctx_work (self->ctx);
            has_work = chunk
                       && zmesh_work_info_decode (&work, zchunk_data (chunk), zchunk_size (chunk))
                              == ZMESH_OK;
            zchunk_destroy (&chunk);
        }
        else
            has_work = zmesh_ctx_member_work (self->ctx, member->id, &work);
        if (!has_work)
            memset (&work, 0, sizeof work);
        else {
            node->has_work = true;
            snprintf (node->endpoint, sizeof node->endpoint, "%s", work.worker_endpoint);
        }
        zmesh_profile_t profile;
        uint64_t at;
        bool has_profile = member->self
                               ? zmesh_ctx_profile (self->ctx, &profile, &at)
                               : zmesh_ctx_member_profile (self->ctx, member->id, &profile);
        zmesh_work_place_node (&node->place, &work, has_profile ? &profile : NULL);
        //  Keep what we learned of it: its fresher load, its link.
        if (old && old->has_work && has_work) {
            node->place.busy = old->place.busy;
            node->place.queued = old->place.queued;
            node->place.slots = old->place.slots ? old->place.slots : node->place.slots;
        }
        node->link = s_link_find (self, &id);
        n++;
    }
    //  Members that vanished from the table (forgotten) while we thought them alive.
    for (uint32_t i = 0; i < self->view_count; i++) {
        bool found = false;
        for (uint32_t j = 0; j < n && !found; j++)
            found = zmesh_id_equal (&view [j].place.id, &self->view [i].place.id);
        if (!found) {
            char hex [ZMESH_ID_HEX_SIZE];
            zmesh_id_to_hex (&self->view [i].place.id, hex);
            bool listed = false;
            for (size_t k = 0; k < count && !listed; k++)
                listed = streq (members [k].id, hex);
            if (!listed)
                zmesh_owner_node_down (self->owner, now, &self->view [i].place.id);
        }
    }
    free (members);
    free (self->view);
    free (self->candidates);
    self->view = view;
    self->candidates = candidates;
    self->view_count = n;
    if (self->ring_built)
        zmesh_place_ring_fini (&self->ring);
    self->ring_built = false;
    for (uint32_t i = 0; i < n; i++)
        candidates [i] = view [i].place;
    if (n && zmesh_place_ring_build (&self->ring, &self->place, candidates, n) == ZMESH_OK)
        self->ring_built = true;
    zmesh_owner_kick (self->owner, now);
}

//  ---------------------------------------------------------------------------------------------
//  Receiving

static void
s_learn_load (self_t *self, const zmesh_id_t *id, const zmesh_task_load_t *load)
{
    s_view_node_t *node = s_view_find (self, id);
    if (node && load->slots) {
        node->place.slots = load->slots;
        node->place.busy = load->busy;
        node->place.queued = load->queued;
    }
}

//  Speak to a worker that holds our tasks by a steal, so that it learns how to reach us
//  (the routing id of our connection): an empty SUBMIT.
static void
s_hello (self_t *self, const zmesh_id_t *node)
{
    s_link_t *link = s_link (self, node);
    if (!link)
        return;
    if (link->writer.buf && link->writer.count) {
        link->dirty = true;  //  a batch is on its way: it says as much
        return;
    }
    zmesh_task_writer_begin (&link->writer, link->buf, ZMESH_TASK_MSG_MAX,
                             &self->ctx->identity.pub.id, ZMESH_TASK_KIND_SUBMIT, &s_zero_load);
    size_t size;
    if (zmesh_task_writer_finish (&link->writer, &size) == ZMESH_OK
        && zmq_send (link->handle, link->buf, size, ZMQ_DONTWAIT) >= 0)
        zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_MSG_SENT, 1);
    link->writer.buf = NULL;
}

//  The result of a link's probe: the round trip less the time the task spent at the worker
//  (queued and running) is the network's and both ends' share, which placement's latency term
//  reads (moving average, weight S_RTT_ALPHA per sample).
static void
s_probe_result (s_link_t *link, const zmesh_task_result_item_t *result)
{
    if (!link->probing || !zmesh_id_equal (&link->probe_id, &result->id))
        return;
    link->probing = false;
    uint64_t round_trip = (uint64_t) zclock_usecs () - link->probe_sent_us;
    uint64_t there = result->queued_us + result->run_us;
    double sample = round_trip > there ? (double) (round_trip - there) : 0.0;
    link->rtt_us =
        link->rtt_us == 0 ? sample : link->rtt_us * (1 - S_RTT_ALPHA) + sample * S_RTT_ALPHA;
    if (link->rtt_us < 1)
        link->rtt_us = 1;  //  0 means unknown
}

static void
s_handle_link (self_t *self, s_link_t *link)
{
    uint64_t now = s_now ();
    for (int n = 0; n < S_RECV_BATCH; n++) {
        zmq_msg_t payload;
        zmq_msg_init (&payload);
        if (zmq_msg_recv (&payload, link->handle, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&payload);
            break;
        }
        zmesh_task_msg_t *msg = self->msg;
        if (zmesh_work_recv_from (&self->ctx->metrics, &payload, &link->id, msg) == ZMESH_OK) {
            s_learn_load (self, &link->id, &msg->load);
            zmesh_owner_heard (self->owner, now, &link->id);
            switch (msg->kind) {
                case ZMESH_TASK_KIND_RESULT:
                    for (uint32_t i = 0; i < msg->count; i++) {
                        s_probe_result (link, &msg->u.results [i]);
                        zmesh_owner_result (self->owner, now, &link->id, &msg->u.results [i]);
                    }
                    break;
                case ZMESH_TASK_KIND_LEASE:
                    zmesh_owner_lease (self->owner, now, &link->id, msg->u.refs, msg->count);
                    break;
                case ZMESH_TASK_KIND_MOVED:
                    zmesh_owner_moved (self->owner, now, &link->id, &msg->thief, msg->u.refs,
                                       msg->count);
                    s_hello (self, &msg->thief);
                    break;
                case ZMESH_TASK_KIND_CHECKPOINT:
                    zmesh_owner_checkpoint (self->owner, now, &link->id, &msg->checkpoint_of,
                                            msg->checkpoint, msg->checkpoint_size);
                    break;
                case ZMESH_TASK_KIND_BID:
                    s_bid_heard (self, &link->id, &msg->bid, now);
                    break;
                default:
                    zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_DROP_UNKNOWN_TYPE, 1);
            }
        }
        zmq_msg_close (&payload);
    }
}

//  A submission from a client: into the owner, or the backlog if the owner is full.
static bool
s_submit (self_t *self, zmesh_work_submit_t *submit, uint32_t client)
{
    submit->task.client = ((uint64_t) client << 48) | (submit->task.client & 0xffffffffffffull);
    if (submit->task.strategy == UINT8_MAX) {
        zmesh_place_strategy_t strategy = ZMESH_PLACE_SCORE;
        zmesh_place_strategy_parse (self->config->balancer_strategy, &strategy);
        submit->task.strategy = (uint8_t) strategy;
    }
    if (submit->task.max_retries == UINT32_MAX)
        submit->task.max_retries = (uint32_t) self->config->balancer_max_retries;
    int rc = zmesh_owner_submit (self->owner, s_now (), &submit->task);
    if (rc == ZMESH_ELIMIT)
        return false;
    if (rc) {
        //  Refused: answer at once with a failed result.
        zmesh_owner_result_t result;
        memset (&result, 0, sizeof result);
        result.task_id = submit->task.id;
        result.task_type = submit->task.handler;
        result.client = submit->task.client;
        result.status = ZMESH_TASK_REFUSED;
        result.error = rc == ZMESH_ESTATE ? "a task with this id is owned already"
                                          : "invalid task (handler, payload or fields)";
        s_done (self, &result);
    }
    zmesh_work_submit_destroy (&submit);
    return true;
}

static uint32_t
s_client (self_t *self, const uint8_t *routing, size_t size)
{
    uint32_t free_slot = S_CLIENTS_MAX;
    for (uint32_t i = 0; i < S_CLIENTS_MAX; i++) {
        if (self->clients [i].used && self->clients [i].routing_size == size
            && memcmp (self->clients [i].routing, routing, size) == 0)
            return i;
        if (!self->clients [i].used && free_slot == S_CLIENTS_MAX)
            free_slot = i;
    }
    if (free_slot == S_CLIENTS_MAX)
        free_slot = 0;  //  full: reuse (a client this old is gone)
    s_client_t *c = &self->clients [free_slot];
    c->used = true;
    c->routing_size = size;
    memcpy (c->routing, routing, size);
    return free_slot;
}

static void
s_handle_api (self_t *self)
{
    for (int n = 0; n < S_RECV_BATCH && zlistx_size (self->backlog) == 0; n++) {
        uint8_t routing [256];
        zmesh_work_request_t request;
        int size = zmq_recv (self->api_handle, routing, sizeof routing, ZMQ_DONTWAIT);
        if (size < 0)
            break;
        int more = 0;
        size_t more_size = sizeof more;
        zmq_getsockopt (self->api_handle, ZMQ_RCVMORE, &more, &more_size);
        if (!more || zmq_recv (self->api_handle, &request, sizeof request, 0) != sizeof request)
            continue;  //  in-process callers send what zmesh_node.c builds: cannot happen
        uint32_t client = s_client (self, routing, (size_t) size);
        if (request.kind == 'S') {
            if (!s_submit (self, request.submit, client))
                zlistx_add_end (self->backlog, request.submit);
        }
        else if (request.kind == 'L') {
            zmesh_work_list_t *list = (zmesh_work_list_t *) calloc (1, sizeof *list);
            ZMESH_ASSERT (list);
            uint64_t now = s_now ();
            list->count = zmesh_owner_list (self->owner, now, list->tasks, ZMESH_WORK_LIST_MAX);
            zmesh_owner_stats (self->owner, now, &list->stats);
            list->breakers_open = 0;
            zmesh_breaker_counts_t counts;
            zmesh_breaker_counts (zmesh_owner_breaker (self->owner), now, &counts);
            list->breakers_open = counts.open + counts.half_open;
            list->latency_ms = self->latency_ms;
            list->nodes_active = 0;
            for (uint32_t i = 0; i < self->view_count; i++)
                if (self->view [i].alive && self->view [i].has_work)
                    list->nodes_active++;
            list->scale = self->scaled;
            list->mesh_scale = self->mesh_scaled;
            list->mesh_nodes = self->mesh_nodes;
            list->mesh_decider = self->mesh_decider;
            zmesh_work_reply_t reply = {.kind = 'L', .list = list};
            if (zmq_send (self->api_handle, routing, (size_t) size, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
                || zmq_send (self->api_handle, &reply, sizeof reply, ZMQ_DONTWAIT) < 0)
                free (list);
        }
    }
}

//  Feed the backlog to the owner as it frees room.
static void
s_backlog (self_t *self)
{
    zmesh_work_submit_t *submit;
    while ((submit = (zmesh_work_submit_t *) zlistx_first (self->backlog))) {
        uint32_t client = (uint32_t) (submit->task.client >> 48);
        if (!s_submit (self, submit, client))
            break;
        zlistx_detach (self->backlog, NULL);
    }
}

//  Counters: the owner's figures since the last report, into the node's metrics.
static void
s_report (self_t *self)
{
    zmesh_owner_stats_t stats;
    zmesh_owner_stats (self->owner, s_now (), &stats);
    zmesh_metrics_t *m = &self->ctx->metrics;
    zmesh_metrics_add (m, ZMESH_M_TASKS_SUBMITTED, stats.submitted - self->reported.submitted);
    zmesh_metrics_add (m, ZMESH_M_TASKS_SUCCEEDED, stats.succeeded - self->reported.succeeded);
    zmesh_metrics_add (m, ZMESH_M_TASKS_FAILED, stats.failed - self->reported.failed);
    zmesh_metrics_add (m, ZMESH_M_TASKS_DISPATCHED, stats.dispatched - self->reported.dispatched);
    zmesh_metrics_add (m, ZMESH_M_TASKS_RETRIED, stats.retried - self->reported.retried);
    zmesh_metrics_add (m, ZMESH_M_TASKS_LOST, stats.lost - self->reported.lost);
    zmesh_metrics_add (m, ZMESH_M_TASKS_DUPLICATE, stats.duplicates - self->reported.duplicates);
    zmesh_metrics_add (m, ZMESH_M_TASKS_DISAGREE,
                       stats.disagreements - self->reported.disagreements);
    self->reported = stats;
}

//  The scaling decision of this cycle (issue 4 point 8): D from the tasks waiting here and

//  Run scale/exec with a decision to act on: DECISION SCOPE ("node" or "mesh").
static void
s_scale_exec (self_t *self, const zmesh_scale_result_t *result, const char *scope)
{
    const char *word = zmesh_scale_decision_name (result->decision);
    zsys_info ("balancer: %s scaling decision %s (D = %.2f)", scope, word, result->d);
    int which = streq (scope, "mesh");
    if (!self->config->scale_exec [0] || self->scale_pid [which] > 0)
        return;
    char *argv [] = {(char *) self->config->scale_exec, (char *) word, (char *) scope, NULL};
    pid_t pid;
    if (posix_spawn (&pid, self->config->scale_exec, NULL, NULL, argv, environ) == 0)
        self->scale_pid [which] = pid;
    else
        zsys_warning ("balancer: cannot run scale/exec %s", self->config->scale_exec);
}

//  A member's state from its name ("alive", "suspect", "dead", "left"; NONE for any other).
static zmesh_peer_state_t
s_member_state (const char *name)
{
    for (int state = ZMESH_PEER_ALIVE; state <= ZMESH_PEER_LEFT; state++)
        if (streq (name, zmesh_peer_state_name ((zmesh_peer_state_t) state)))
            return (zmesh_peer_state_t) state;
    return ZMESH_PEER_NONE;
}

//  The mesh-wide decision: D over the figures of the members alive or suspect that publish
//  them, this node's own included (zmesh_scale_mesh_input). Every node computes it; the one
//  with the lowest id acts on it.
static void
s_scale_mesh (self_t *self, uint64_t now, const zmesh_scale_info_t *own)
{
    size_t count;
    zmesh_member_t *members = zmesh_ctx_members (self->ctx, &count);
    zmesh_scale_member_t *entries =
        (zmesh_scale_member_t *) calloc (count ? count : 1, sizeof *entries);
    ZMESH_ASSERT (entries);
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        const zmesh_member_t *member = &members [i];
        zmesh_scale_member_t *entry = &entries [n];
        if (zmesh_hex_decode (entry->id.bytes, ZMESH_ID_SIZE, member->id))
            continue;  //  the table holds ids it decoded: cannot happen
        entry->state = s_member_state (member->state);
        entry->self = member->self;
        if (member->self) {
            entry->info = *own;
            entry->has_info = true;
        }
        else
            entry->has_info = zmesh_ctx_member_scale (self->ctx, member->id, &entry->info);
        n++;
    }
    free (members);
    zmesh_scale_mesh_t mesh;
    zmesh_scale_mesh_input (&self->ctx->identity.pub.id, entries, n, &mesh);
    free (entries);
    self->mesh_nodes = mesh.nodes;
    self->mesh_decider = mesh.decider;
    zmesh_scale_result_t result;
    if (zmesh_scale_step (&self->mesh_scale, &mesh.input, now, &result))
        return;
    self->mesh_scaled = result;
    if (result.decision != ZMESH_SCALE_HOLD && self->mesh_decider)
        s_scale_exec (self, &result, "mesh");
}

//  Every scale/interval_ms: the decision of this node, from the tasks waiting here (not placed
//  yet, or in its worker's queue) and the latency of this node's tasks; then the mesh's. A
//  decision to act on runs scale/exec with it.
static void
s_scale (self_t *self, uint64_t now)
{
    for (int which = 0; which < 2; which++)
        if (self->scale_pid [which] > 0 && waitpid (self->scale_pid [which], NULL, WNOHANG) != 0)
            self->scale_pid [which] = 0;
    zmesh_owner_stats_t stats;
    zmesh_owner_stats (self->owner, now, &stats);
    uint64_t queued = (uint64_t) stats.pending + zmesh_work_own_queued (self->ctx);
    zmesh_scale_info_t own = {.queue_depth = queued > UINT32_MAX ? UINT32_MAX : (uint32_t) queued,
                              .latency_ms = self->latency_ms >= UINT32_MAX
                                                ? UINT32_MAX
                                                : (uint32_t) (self->latency_ms + 0.5)};
    //  Published when it changed (a restarted gossip publishes the context's copy).
    if (zmesh_config_has_actor (self->config, "gossip")
        && (!self->published_once || own.queue_depth != self->published.queue_depth
            || own.latency_ms != self->published.latency_ms)) {
        uint8_t encoded [ZMESH_SCALE_INFO_SIZE_MAX];
        size_t size;
        if (zmesh_scale_info_encode (&own, encoded, sizeof encoded, &size) == ZMESH_OK) {
            zmesh_ctx_set_scale (self->ctx, encoded, size);
            zsock_send (self->pipe, "sssb", "ROUTE", "gossip", "SCALE", encoded, size);
            self->published = own;
            self->published_once = true;
        }
    }
    zmesh_scale_input_t input = {.queue_depth = (double) queued,
                                 .avg_latency_ms = self->latency_ms};
    zmesh_scale_result_t result;
    if (zmesh_scale_step (&self->scale, &input, now, &result) == ZMESH_OK) {
        self->scaled = result;
        if (result.decision != ZMESH_SCALE_HOLD)
            s_scale_exec (self, &result, "node");
    }
    s_scale_mesh (self, now, &own);
}

//  ---------------------------------------------------------------------------------------------
//  Life

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (!self)
        return;
    if (self->view_fd >= 0) {
        zmesh_ctx_view_watch (self->ctx, 1, -1, 0);
        close (self->view_fd);
    }
    zmesh_owner_destroy (&self->owner);
    zhashx_destroy (&self->links);
    zmesh_auction_destroy (&self->auction);
    if (self->backlog) {
        zmesh_work_submit_t *submit;
        while ((submit = (zmesh_work_submit_t *) zlistx_detach (self->backlog, NULL)))
            zmesh_work_submit_destroy (&submit);
        zlistx_destroy (&self->backlog);
    }
    if (self->ring_built)
        zmesh_place_ring_fini (&self->ring);
    zsock_destroy (&self->api);
    free (self->view);
    free (self->candidates);
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
    self->view_fd = -1;
    self->config = &ctx->config;
    self->pipe = pipe;
    self->links = zhashx_new ();
    zhashx_set_destructor (self->links, s_link_destroy);
    self->backlog = zlistx_new ();
    self->auction = zmesh_auction_new (NULL);
    ZMESH_ASSERT (self->auction);
    self->msg = (zmesh_task_msg_t *) malloc (sizeof *self->msg);
    randombytes_buf (&self->rng, sizeof self->rng);
    zmesh_work_place_config (self->config, &self->place);
    zmesh_owner_config_t config;
    zmesh_owner_config_defaults (&config);
    config.lease_timeout_ms = (uint32_t) self->config->balancer_lease_timeout_ms;
    config.retry_base_ms = (uint32_t) self->config->balancer_retry_base_ms;
    config.retry_max_ms = (uint32_t) self->config->balancer_retry_max_ms;
    config.window = (uint32_t) self->config->balancer_window;
    config.max_tasks = (uint32_t) self->config->balancer_max_tasks;
    config.place_timeout_ms = (uint32_t) self->config->balancer_place_timeout_ms;
    config.breaker.failures_in_row = (uint32_t) self->config->balancer_breaker_failures;
    config.breaker.open_base_ms = (uint32_t) self->config->balancer_breaker_open_ms;
    if (config.breaker.open_max_ms < config.breaker.open_base_ms)
        config.breaker.open_max_ms = config.breaker.open_base_ms;
    zmesh_owner_callbacks_t callbacks = {.arg = self,
                                         .choose = s_choose,
                                         .send = s_send,
                                         .cancel = s_cancel,
                                         .done = s_done,
                                         .disagree = s_disagree};
    uint64_t seed;
    randombytes_buf (&seed, sizeof seed);
    self->owner = zmesh_owner_new (&config, &callbacks, seed, s_now ());
    zmesh_scale_config_t scale;
    zmesh_scale_config_defaults (&scale);
    scale.sla_ms = (uint32_t) self->config->scale_sla_ms;
    scale.cooldown_ms = (uint32_t) self->config->scale_cooldown_ms;
    if (zmesh_place_config_check (&self->place)) {
        snprintf (err, err_size, "balancer: the placement weights are all 0 (balancer/weight_*)");
        s_self_destroy (&self);
        return NULL;
    }
    if (!self->owner || !self->msg || zmesh_scale_init (&self->scale, &scale)
        || zmesh_scale_init (&self->mesh_scale, &scale)) {
        snprintf (err, err_size, "balancer: bad configuration or out of memory");
        s_self_destroy (&self);
        return NULL;
    }
    self->api = zsock_new (ZMQ_ROUTER);
    if (!self->api || zsock_bind (self->api, "%s", ctx->balancer_endpoint) != 0) {
        snprintf (err, err_size, "balancer: cannot bind %s", ctx->balancer_endpoint);
        s_self_destroy (&self);
        return NULL;
    }
    zsock_set_sndhwm (self->api, 0);
    //  A result for a client that went away must fail to send, so that it is freed (it is a
    //  pointer), rather than be dropped silently.
    zsock_set_router_mandatory (self->api, 1);
    self->api_handle = zsock_resolve (self->api);
    self->view_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (self->view_fd < 0) {
        snprintf (err, err_size, "balancer: no eventfd: %s", strerror (errno));
        s_self_destroy (&self);
        return NULL;
    }
    //  Woken when members come, go or change state, and when work offers change; profiles
    //  are read at the next rebuild.
    zmesh_ctx_view_watch (ctx, 1, self->view_fd, ZMESH_VIEW_MEMBERS | ZMESH_VIEW_WORK);
    return self;
}

void
zmesh_balancer_actor (zsock_t *pipe, void *args)
{
    zsock_signal (pipe, 0);
    zmesh_actor_name ("balancer");
    char err [512] = "";
    self_t *self = s_self_new (pipe, (zmesh_node_ctx_t *) args, err, sizeof err);
    if (!self) {
        zmesh_actor_failed (pipe, err);
        return;
    }
    zmesh_actor_ready (pipe);
    zmq_pollitem_t *items = NULL;
    s_link_t **item_links = NULL;
    size_t item_capacity = 0;
    while (!self->terminated) {
        //  Poll the pipe, the API and every link.
        size_t link_count = zhashx_size (self->links);
        if (item_capacity < link_count + 3) {
            item_capacity = (link_count + 3) * 2;
            items = (zmq_pollitem_t *) realloc (items, item_capacity * sizeof *items);
            item_links = (s_link_t **) realloc (item_links, item_capacity * sizeof *item_links);
            ZMESH_ASSERT (items && item_links);
        }
        size_t n = 0;
        items [n++] = (zmq_pollitem_t){zsock_resolve (pipe), 0, ZMQ_POLLIN, 0};
        items [n++] =
            (zmq_pollitem_t){self->api_handle, 0, zlistx_size (self->backlog) ? 0 : ZMQ_POLLIN, 0};
        items [n++] = (zmq_pollitem_t){NULL, self->view_fd, ZMQ_POLLIN, 0};
        for (s_link_t *link = (s_link_t *) zhashx_first (self->links); link;
             link = (s_link_t *) zhashx_next (self->links)) {
            item_links [n] = link;
            items [n++] = (zmq_pollitem_t){link->handle, 0, ZMQ_POLLIN, 0};
        }
        uint64_t now = s_now ();
        uint64_t deadline = zmesh_owner_deadline_ms (self->owner);
        //  The view is rebuilt while this node owns tasks (a lost worker must be seen), or
        //  when a submission comes; an idle balancer does not follow the mesh's every change.
        zmesh_owner_stats_t owned;
        zmesh_owner_stats (self->owner, now, &owned);
        bool view_stale = zmesh_ctx_view_version (self->ctx) != self->view_version;
        uint64_t view_due = (uint64_t) self->view_at + S_VIEW_MS;
        if (view_stale && owned.owned && view_due < deadline)
            deadline = view_due;
        uint64_t scale_due = (uint64_t) self->scale_at + (uint64_t) self->config->scale_interval_ms;
        if (scale_due < deadline)
            deadline = scale_due;
        uint64_t auction_due = s_rounds_deadline (self);
        if (auction_due < deadline)
            deadline = auction_due;
        long timeout = deadline <= now ? 0 : (long) (deadline - now);
        if (zmesh_poll_spin (items, (int) n, timeout, self->config->spin_us, &self->spin,
                             owned.in_flight > 0)
                < 0
            && zmq_errno () != EINTR)
            break;
        if (items [0].revents & ZMQ_POLLIN) {
            char *command = zstr_recv (pipe);
            if (!command || streq (command, "$TERM"))
                self->terminated = true;
            else if (streq (command, "FAULT")) {
                zstr_free (&command);
                break;
            }
            zstr_free (&command);
            if (self->terminated)
                break;
        }
        if (items [2].revents & ZMQ_POLLIN) {
            uint64_t counter;
            ssize_t rc = read (self->view_fd, &counter, sizeof counter);
            (void) rc;  //  the version says what changed; the next rebuild sees it
        }
        now = s_now ();
        if (view_stale && (owned.owned || (items [1].revents & ZMQ_POLLIN))
            && now >= (uint64_t) self->view_at + S_VIEW_MS) {
            self->view_at = (int64_t) now;
            s_view_rebuild (self);
        }
        for (size_t i = 3; i < n; i++)
            if (items [i].revents & ZMQ_POLLIN)
                s_handle_link (self, item_links [i]);
        if (items [1].revents & ZMQ_POLLIN)
            s_handle_api (self);
        now = s_now ();
        if (now >= zmesh_owner_deadline_ms (self->owner))
            zmesh_owner_tick (self->owner, now);
        if (now >= auction_due)
            s_rounds_tick (self, now);
        s_backlog (self);
        s_flush_all (self);
        if (now >= scale_due) {
            self->scale_at = (int64_t) now;
            s_scale (self, now);
        }
        s_report (self);
    }
    free (items);
    free (item_links);
    s_self_destroy (&self);
}
