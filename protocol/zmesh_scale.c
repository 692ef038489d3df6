/*  zmesh_scale.c: the scaling decision (see zmesh_scale.h for the design). */
#include "zmesh_scale.h"
#include <math.h>
#include <string.h>

//  A figure a config or an input may hold: finite and not negative (NaN fails both tests).
static bool
s_usable (double x)
{
    return isfinite (x) && x >= 0;
}

void
zmesh_scale_config_defaults (zmesh_scale_config_t *config)
{
    ZMESH_ASSERT (config);
    memset (config, 0, sizeof *config);
    config->queue_weight = ZMESH_SCALE_QUEUE_WEIGHT_DEFAULT;
    config->latency_weight = ZMESH_SCALE_LATENCY_WEIGHT_DEFAULT;
    config->queue_depth_ref = ZMESH_SCALE_QUEUE_DEPTH_REF_DEFAULT;
    config->sla_ms = ZMESH_SCALE_SLA_MS_DEFAULT;
    config->up_threshold = ZMESH_SCALE_UP_THRESHOLD_DEFAULT;
    config->down_threshold = ZMESH_SCALE_DOWN_THRESHOLD_DEFAULT;
    config->cycles = ZMESH_SCALE_CYCLES_DEFAULT;
    config->cooldown_ms = ZMESH_SCALE_COOLDOWN_MS_DEFAULT;
}

int
zmesh_scale_config_check (const zmesh_scale_config_t *config)
{
    if (!config)
        return ZMESH_EINVAL;
    if (!s_usable (config->queue_weight) || !s_usable (config->latency_weight)
        || config->queue_weight + config->latency_weight <= 0)
        return ZMESH_EINVAL;
    //  The two references divide: 0 would make D infinite or NaN.
    if (!s_usable (config->queue_depth_ref) || config->queue_depth_ref <= 0)
        return ZMESH_EINVAL;
    if (!s_usable (config->sla_ms) || config->sla_ms <= 0)
        return ZMESH_EINVAL;
    if (!s_usable (config->down_threshold) || !s_usable (config->up_threshold)
        || config->down_threshold >= config->up_threshold)
        return ZMESH_EINVAL;
    if (config->cycles < 1 || config->cycles > ZMESH_SCALE_CYCLES_LIMIT)
        return ZMESH_EINVAL;
    return ZMESH_OK;
}

int
zmesh_scale_init (zmesh_scale_t *self, const zmesh_scale_config_t *config)
{
    ZMESH_ASSERT (self);
    memset (self, 0, sizeof *self);
    int rc = zmesh_scale_config_check (config);
    if (rc != ZMESH_OK)
        return rc;
    self->config = *config;
    self->pending = ZMESH_SCALE_HOLD;
    return ZMESH_OK;
}

int
zmesh_scale_step (zmesh_scale_t *self,
                  const zmesh_scale_input_t *input,
                  uint64_t now_ms,
                  zmesh_scale_result_t *result)
{
    ZMESH_ASSERT (self && result);
    memset (result, 0, sizeof *result);
    result->decision = ZMESH_SCALE_HOLD;
    result->raw = ZMESH_SCALE_HOLD;
    result->cooldown_until_ms = self->cooldown_until_ms;
    if (!input || !s_usable (input->queue_depth) || !s_usable (input->avg_latency_ms))
        return ZMESH_EINVAL;

    const zmesh_scale_config_t *config = &self->config;
    double d = config->queue_weight * (input->queue_depth / config->queue_depth_ref)
               + config->latency_weight * (input->avg_latency_ms / config->sla_ms);
    //  Finite inputs over positive references can still overflow to infinity: that is a
    //  very large D, and comparisons with it behave, so it stays a valid SCALE_UP.
    zmesh_scale_decision_t raw = ZMESH_SCALE_HOLD;
    if (d > config->up_threshold)
        raw = ZMESH_SCALE_UP;
    else if (d < config->down_threshold)
        raw = ZMESH_SCALE_DOWN;

    if (raw == self->pending) {
        if (self->streak < UINT32_MAX)
            self->streak++;
    }
    else {
        self->pending = raw;
        self->streak = 1;
    }
    bool cooling = now_ms < self->cooldown_until_ms;
    zmesh_scale_decision_t decision = ZMESH_SCALE_HOLD;
    if (raw != ZMESH_SCALE_HOLD && !cooling && self->streak >= config->cycles) {
        decision = raw;
        self->cooldown_until_ms = now_ms + config->cooldown_ms;
        //  The next report of the same decision needs `cycles` steps of its own.
        self->streak = 0;
    }
    result->decision = decision;
    result->raw = raw;
    result->d = d;
    result->streak = self->streak;
    result->cooling = cooling;
    result->cooldown_until_ms = self->cooldown_until_ms;
    return ZMESH_OK;
}

const char *
zmesh_scale_decision_name (zmesh_scale_decision_t decision)
{
    switch (decision) {
        case ZMESH_SCALE_HOLD:
            return "hold";
        case ZMESH_SCALE_UP:
            return "scale_up";
        case ZMESH_SCALE_DOWN:
            return "scale_down";
        default:
            return "?";
    }
}

int
zmesh_scale_mesh_input (const zmesh_id_t *self_id,
                        const zmesh_scale_member_t *members,
                        size_t count,
                        zmesh_scale_mesh_t *mesh)
{
    if (mesh)
        memset (mesh, 0, sizeof *mesh);
    if (!self_id || !mesh || (!members && count))
        return ZMESH_EINVAL;
    double queue = 0, latency = 0;
    bool lowest = true;
    for (size_t i = 0; i < count; i++) {
        const zmesh_scale_member_t *member = &members [i];
        bool counted = member->has_info
                       && (member->self || member->state == ZMESH_PEER_ALIVE
                           || member->state == ZMESH_PEER_SUSPECT);
        if (!counted)
            continue;
        mesh->nodes++;
        queue += member->info.queue_depth;
        if (member->info.latency_ms) {
            latency += member->info.latency_ms;
            mesh->timed++;
        }
        //  Ids are bytes; their hex (lower case, fixed length) sorts the same way.
        if (!member->self && memcmp (member->id.bytes, self_id->bytes, ZMESH_ID_SIZE) < 0)
            lowest = false;
    }
    mesh->decider = lowest;
    mesh->input.queue_depth = mesh->nodes ? queue / mesh->nodes : 0;
    mesh->input.avg_latency_ms = mesh->timed ? latency / mesh->timed : 0;
    return ZMESH_OK;
}
