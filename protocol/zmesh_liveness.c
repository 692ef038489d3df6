/*  zmesh_liveness.c: timeout-based liveness state machine (see zmesh_liveness.h). */
#include "zmesh_liveness.h"
#include "zmesh_error.h"
#include <string.h>

const char *
zmesh_peer_state_name (zmesh_peer_state_t state)
{
    switch (state) {
        case ZMESH_PEER_ALIVE:
            return "alive";
        case ZMESH_PEER_SUSPECT:
            return "suspect";
        case ZMESH_PEER_DEAD:
            return "dead";
        case ZMESH_PEER_LEFT:
            return "left";
        default:
            return "none";
    }
}

void
zmesh_liveness_config_defaults (zmesh_liveness_config_t *config)
{
    config->suspect_timeout_ms = ZMESH_LIVENESS_SUSPECT_TIMEOUT_MS_DEFAULT;
    config->dead_timeout_ms = ZMESH_LIVENESS_DEAD_TIMEOUT_MS_DEFAULT;
    config->reap_after_ms = ZMESH_LIVENESS_REAP_AFTER_MS_DEFAULT;
    config->max_peers = ZMESH_LIVENESS_MAX_PEERS_DEFAULT;
}

int
zmesh_liveness_init (zmesh_liveness_t *self, const zmesh_liveness_config_t *config)
{
    memset (self, 0, sizeof *self);
    //  reap_after_ms 0 would let one tick take a peer ALIVE -> SUSPECT -> DEAD -> NONE: three
    //  changes, where the update has room for two per peer.
    if (config->suspect_timeout_ms == 0 || config->dead_timeout_ms <= config->suspect_timeout_ms
        || config->reap_after_ms == 0 || config->max_peers == 0 || config->max_peers > 1000000)
        return ZMESH_EINVAL;
    self->config = *config;
    self->peers = calloc (config->max_peers, sizeof *self->peers);
    self->changes = calloc ((size_t) config->max_peers * 2, sizeof *self->changes);
    if (!self->peers || !self->changes) {
        zmesh_liveness_fini (self);
        return ZMESH_ENOMEM;
    }
    return ZMESH_OK;
}

void
zmesh_liveness_fini (zmesh_liveness_t *self)
{
    free (self->peers);
    free (self->changes);
    self->peers = NULL;
    self->changes = NULL;
    self->peer_count = 0;
}

static zmesh_liveness_peer_t *
s_find (const zmesh_liveness_t *self, const zmesh_id_t *id)
{
    for (uint32_t i = 0; i < self->peer_count; i++)
        if (zmesh_id_equal (&self->peers [i].id, id))
            return &self->peers [i];
    return NULL;
}

const zmesh_liveness_peer_t *
zmesh_liveness_find (const zmesh_liveness_t *self, const zmesh_id_t *id)
{
    return s_find (self, id);
}

static void
s_transition (zmesh_liveness_t *self,
              zmesh_liveness_update_t *update,
              zmesh_liveness_peer_t *peer,
              zmesh_peer_state_t to,
              uint64_t now_ms)
{
    ZMESH_ASSERT (update->change_count < self->config.max_peers * 2);
    zmesh_liveness_change_t *change = &update->changes [update->change_count++];
    change->id = peer->id;
    change->from = peer->state;
    change->to = to;
    peer->state = to;
    peer->state_since_ms = now_ms;
}

static void
s_heard (zmesh_liveness_t *self,
         const zmesh_liveness_event_t *event,
         zmesh_liveness_update_t *update)
{
    zmesh_liveness_peer_t *peer = s_find (self, &event->id);
    if (!peer) {
        if (self->peer_count == self->config.max_peers) {
            update->error = ZMESH_ELIMIT;
            return;
        }
        peer = &self->peers [self->peer_count++];
        memset (peer, 0, sizeof *peer);
        peer->id = event->id;
        peer->generation = event->generation;
        peer->last_heard_ms = event->now_ms;
        s_transition (self, update, peer, ZMESH_PEER_ALIVE, event->now_ms);
        return;
    }
    if (event->generation < peer->generation)
        return;  //  a message from before the peer restarted
    //  A LEFT peer stays left until it comes back as a new generation: late messages of the
    //  generation that left must not resurrect it.
    if (peer->state == ZMESH_PEER_LEFT && event->generation == peer->generation)
        return;
    peer->generation = event->generation;
    peer->last_heard_ms = event->now_ms;
    if (peer->state != ZMESH_PEER_ALIVE)
        s_transition (self, update, peer, ZMESH_PEER_ALIVE, event->now_ms);
}

static void
s_tick (zmesh_liveness_t *self, uint64_t now_ms, zmesh_liveness_update_t *update)
{
    const zmesh_liveness_config_t *config = &self->config;
    uint32_t i = 0;
    while (i < self->peer_count) {
        zmesh_liveness_peer_t *peer = &self->peers [i];
        uint64_t silent_ms = now_ms > peer->last_heard_ms ? now_ms - peer->last_heard_ms : 0;
        if (peer->state == ZMESH_PEER_ALIVE && silent_ms >= config->suspect_timeout_ms)
            s_transition (self, update, peer, ZMESH_PEER_SUSPECT, now_ms);
        if (peer->state == ZMESH_PEER_SUSPECT && silent_ms >= config->dead_timeout_ms)
            s_transition (self, update, peer, ZMESH_PEER_DEAD, now_ms);
        //  Measured after the transitions above: a peer that became DEAD in this tick has been
        //  DEAD for 0 ms, however long it was ALIVE before.
        uint64_t in_state_ms = now_ms > peer->state_since_ms ? now_ms - peer->state_since_ms : 0;
        if ((peer->state == ZMESH_PEER_DEAD || peer->state == ZMESH_PEER_LEFT)
            && in_state_ms >= config->reap_after_ms) {
            s_transition (self, update, peer, ZMESH_PEER_NONE, now_ms);
            self->peers [i] = self->peers [--self->peer_count];
            continue;
        }
        i++;
    }
}

void
zmesh_liveness_step (zmesh_liveness_t *self,
                     const zmesh_liveness_event_t *event,
                     zmesh_liveness_update_t *update)
{
    update->error = ZMESH_OK;
    update->change_count = 0;
    update->changes = self->changes;
    switch (event->type) {
        case ZMESH_LIVENESS_HEARD:
            s_heard (self, event, update);
            break;
        case ZMESH_LIVENESS_LEAVE: {
            zmesh_liveness_peer_t *peer = s_find (self, &event->id);
            if (!peer || event->generation < peer->generation)
                break;
            if (peer->state != ZMESH_PEER_LEFT)
                s_transition (self, update, peer, ZMESH_PEER_LEFT, event->now_ms);
            else if (event->generation > peer->generation) {
                //  Already LEFT: the peer restarted and left again before we heard its new
                //  generation. Remember that generation, from now, for reap_after_ms: its
                //  late messages must not resurrect the peer, nor re-add it after a reap.
                peer->state_since_ms = event->now_ms;
            }
            peer->generation = event->generation;
            break;
        }
        case ZMESH_LIVENESS_TICK:
            s_tick (self, event->now_ms, update);
            break;
    }
}

uint64_t
zmesh_liveness_deadline_ms (const zmesh_liveness_t *self)
{
    const zmesh_liveness_config_t *config = &self->config;
    uint64_t deadline = UINT64_MAX;
    for (uint32_t i = 0; i < self->peer_count; i++) {
        const zmesh_liveness_peer_t *peer = &self->peers [i];
        uint64_t at;
        if (peer->state == ZMESH_PEER_ALIVE)
            at = peer->last_heard_ms + config->suspect_timeout_ms;
        else if (peer->state == ZMESH_PEER_SUSPECT)
            at = peer->last_heard_ms + config->dead_timeout_ms;
        else
            at = peer->state_since_ms + config->reap_after_ms;
        if (at < deadline)
            deadline = at;
    }
    return deadline;
}
