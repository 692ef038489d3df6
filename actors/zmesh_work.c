/*  zmesh_work.c: helpers of the worker and balancer actors. See zmesh_work.h. */
#include "zmesh_work.h"
#include "zmesh_error.h"

#include "zmesh_link.h"

int
zmesh_work_recv_check (zmesh_metrics_t *metrics,
                       zmq_msg_t *payload,
                       zmesh_task_msg_t *msg,
                       zmesh_id_t *sender)
{
    size_t size = zmq_msg_size (payload);
    zmesh_metrics_add (metrics, ZMESH_M_BYTES_RECEIVED, size);
    uint8_t curve_public [ZMESH_KEY_SIZE];
    zmesh_id_t authenticated;
    if (zmesh_link_peer (payload, curve_public, &authenticated, metrics))
        return ZMESH_ECRYPTO;
    int rc =
        zmesh_task_envelope_decode (msg, sender, (const uint8_t *) zmq_msg_data (payload), size);
    if (rc) {
        zmesh_metrics_add (metrics, zmesh_link_drop_metric (rc), 1);
        return rc;
    }
    if (!zmesh_id_equal (&authenticated, sender)) {
        zmesh_metrics_add (metrics, ZMESH_M_DROP_SENDER_MISMATCH, 1);
        return ZMESH_ECRYPTO;
    }
    zmesh_metrics_add (metrics, ZMESH_M_MSG_RECEIVED, 1);
    return ZMESH_OK;
}

int
zmesh_work_recv_from (zmesh_metrics_t *metrics,
                      zmq_msg_t *payload,
                      const zmesh_id_t *expect,
                      zmesh_task_msg_t *msg)
{
    size_t size = zmq_msg_size (payload);
    zmesh_metrics_add (metrics, ZMESH_M_BYTES_RECEIVED, size);
    zmesh_id_t sender;
    int rc =
        zmesh_task_envelope_decode (msg, &sender, (const uint8_t *) zmq_msg_data (payload), size);
    if (rc) {
        zmesh_metrics_add (metrics, zmesh_link_drop_metric (rc), 1);
        return rc;
    }
    //  A CURVE client authenticated the server's key when it connected: the only node that
    //  can speak on this socket is the one it connected to.
    if (!zmesh_id_equal (expect, &sender)) {
        zmesh_metrics_add (metrics, ZMESH_M_DROP_SENDER_MISMATCH, 1);
        return ZMESH_ECRYPTO;
    }
    zmesh_metrics_add (metrics, ZMESH_M_MSG_RECEIVED, 1);
    return ZMESH_OK;
}

uint32_t
zmesh_work_load_band (const zmesh_task_load_t *load, uint32_t threshold_permille)
{
    if (load->busy < load->slots && load->queued == 0)
        return 0;
    uint64_t permille =
        load->slots ? 1000ull * ((uint64_t) load->busy + load->queued) / load->slots : 0;
    //  Worth a steal's round trip: a backlog of at least twice its slots that a steal may
    //  take (a thief holding one or two stolen tasks is not a victim).
    if (permille >= threshold_permille && load->stealable >= 2ull * (load->slots ? load->slots : 1))
        return 2;
    return 1;
}

void
zmesh_work_endpoint_with_port (char *out, const char *endpoint, const char *port)
{
    const char *colon = strrchr (endpoint, ':');
    size_t host = colon ? (size_t) (colon - endpoint) : strlen (endpoint);
    snprintf (out, ZMESH_ENDPOINT_MAX, "%.*s:%s", (int) host, endpoint, port);
}

//  ---------------------------------------------------------------------------------------------
//  Submissions (zmesh_balancer.h)

#include "zmesh_balancer.h"
#include "zmesh_place.h"
#include <sodium.h>

zmesh_work_submit_t *
zmesh_work_submit_new (const zmesh_task_spec_t *spec, char *id_hex, char *err, size_t err_size)
{
    if (!spec || !spec->handler || !*spec->handler
        || strlen (spec->handler) >= ZMESH_TASK_HANDLER_MAX) {
        snprintf (err, err_size, "a task needs a handler name of 1..%d bytes",
                  ZMESH_TASK_HANDLER_MAX - 1);
        return NULL;
    }
    if (spec->payload_size > ZMESH_TASK_PAYLOAD_MAX || (spec->payload_size && !spec->payload)) {
        snprintf (err, err_size, "payload larger than %u bytes", ZMESH_TASK_PAYLOAD_MAX);
        return NULL;
    }
    if (spec->priority < ZMESH_LOW || spec->priority > ZMESH_CRITICAL) {
        snprintf (err, err_size, "priority %d out of range (0 low .. 3 critical)", spec->priority);
        return NULL;
    }
    if (spec->tag_count > ZMESH_TASK_TAGS_MAX || (spec->tag_count && !spec->tags)) {
        snprintf (err, err_size, "more than %d required tags", ZMESH_TASK_TAGS_MAX);
        return NULL;
    }
    if (spec->redundancy < 1 || spec->redundancy > ZMESH_OWNER_REDUNDANCY_MAX) {
        snprintf (err, err_size, "redundancy %u out of range (1..%d)", spec->redundancy,
                  ZMESH_OWNER_REDUNDANCY_MAX);
        return NULL;
    }
    if (spec->affinity_size > ZMESH_OWNER_AFFINITY_MAX) {
        snprintf (err, err_size, "affinity key longer than %d bytes", ZMESH_OWNER_AFFINITY_MAX);
        return NULL;
    }
    if (spec->max_retries > 100) {
        snprintf (err, err_size, "max_retries %d out of range (-1..100)", spec->max_retries);
        return NULL;
    }
    zmesh_place_strategy_t strategy = ZMESH_PLACE_SCORE;
    if (spec->strategy && zmesh_place_strategy_parse (spec->strategy, &strategy)) {
        snprintf (err, err_size, "strategy '%.32s' is not score, auction, hash or local",
                  spec->strategy);
        return NULL;
    }
    zmesh_work_submit_t *self = (zmesh_work_submit_t *) calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_size, "out of memory");
        return NULL;
    }
    zmesh_owner_task_t *task = &self->task;
    for (size_t i = 0; i < spec->tag_count; i++) {
        const char *tag = spec->tags [i];
        if (!tag || !*tag || strlen (tag) >= ZMESH_TASK_TAG_MAX) {
            snprintf (err, err_size, "tag %zu is empty or longer than %d bytes", i,
                      ZMESH_TASK_TAG_MAX - 1);
            free (self);
            return NULL;
        }
        snprintf (task->tags [i], ZMESH_TASK_TAG_MAX, "%s", tag);
    }
    task->tag_count = (uint32_t) spec->tag_count;
    if (spec->payload_size) {
        self->payload = (uint8_t *) malloc (spec->payload_size);
        if (!self->payload) {
            snprintf (err, err_size, "out of memory");
            free (self);
            return NULL;
        }
        memcpy (self->payload, spec->payload, spec->payload_size);
    }
    randombytes_buf (task->id.bytes, ZMESH_ID_SIZE);
    if (id_hex)
        zmesh_id_to_hex (&task->id, id_hex);
    snprintf (task->handler, sizeof task->handler, "%s", spec->handler);
    task->payload = self->payload;
    task->payload_size = (uint32_t) spec->payload_size;
    task->priority = (uint8_t) spec->priority;
    task->flags = spec->idempotent ? ZMESH_TASK_FLAG_IDEMPOTENT : 0;
    task->timeout_ms = spec->timeout_ms;
    task->cpu_millicores = spec->cpu_millicores;
    task->memory_bytes = spec->memory_bytes;
    task->gpus = spec->gpus;
    task->max_retries = spec->max_retries < 0 ? UINT32_MAX : (uint32_t) spec->max_retries;
    task->redundancy = spec->redundancy;
    task->retry_on_error = spec->retry_on_error;
    task->strategy = spec->strategy ? (uint8_t) strategy : UINT8_MAX;
    if (spec->affinity_size && spec->affinity)
        memcpy (task->affinity, spec->affinity, spec->affinity_size);
    task->affinity_size = spec->affinity ? (uint32_t) spec->affinity_size : 0;
    task->client = spec->user & 0xffffffffffffull;
    return self;
}

void
zmesh_work_submit_destroy (zmesh_work_submit_t **self_p)
{
    if (self_p && *self_p) {
        free ((*self_p)->payload);
        free (*self_p);
        *self_p = NULL;
    }
}

void
zmesh_work_place_config (const zmesh_config_t *config, zmesh_place_config_t *place)
{
    zmesh_place_config_defaults (place);
    place->sample = (uint32_t) config->balancer_sample;
    place->match_threshold_permille = (uint32_t) config->balancer_match_threshold;
    place->local_threshold_permille = (uint32_t) config->balancer_local_threshold;
    const int *w = config->balancer_weights;
    place->weight_queue = (uint32_t) w [0];
    place->weight_cpu = (uint32_t) w [1];
    place->weight_perf = (uint32_t) w [2];
    place->weight_latency = (uint32_t) w [3];
    place->weight_memory = (uint32_t) w [4];
    place->weight_cost = (uint32_t) w [5];
    place->weight_match = (uint32_t) w [6];
    place->weight_gpu = (uint32_t) w [7];
}

void
zmesh_work_place_node (zmesh_place_node_t *node,
                       const zmesh_work_info_t *work,
                       const zmesh_profile_t *profile)
{
    node->tag_count = work->tag_count;
    memcpy (node->tags, work->tags, sizeof node->tags);
    node->handler_count = work->handler_count;
    memcpy (node->handlers, work->handlers, sizeof node->handlers);
    node->all_handlers = work->handler_count == 0;
    node->cost_permille = work->cost_permille;
    node->slots = work->load.slots;
    node->busy = work->load.busy;
    node->queued = work->load.queued;
    if (profile) {
        node->cpu_cores = profile->cpu_cores;
        node->cpu_util_bp = profile->cpu_util_valid ? profile->cpu_util_bp : 0;
        node->mem_available_bytes = profile->mem_available_bytes;
        node->gpu_count = profile->gpu_count;
    }
    else {
        node->cpu_cores = 1;
        node->mem_available_bytes = UINT64_MAX / 2;
    }
}

void
zmesh_work_local_endpoint (char *out, const char *id_hex)
{
    snprintf (out, ZMESH_ENDPOINT_MAX, "inproc://zmesh-work-%s", id_hex);
}

uint32_t
zmesh_work_own_queued (zmesh_node_ctx_t *ctx)
{
    zchunk_t *chunk = zmesh_ctx_work (ctx);
    if (!chunk)
        return 0;
    zmesh_work_info_t *info = (zmesh_work_info_t *) malloc (sizeof *info);
    ZMESH_ASSERT (info);
    uint32_t queued =
        zmesh_work_info_decode (info, zchunk_data (chunk), zchunk_size (chunk)) == ZMESH_OK
            ? info->load.queued
            : 0;
    free (info);
    zchunk_destroy (&chunk);
    return queued;
}
