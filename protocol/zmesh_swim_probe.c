/*  zmesh_swim_probe.c: the SWIM core's probing and suspicion (SWIM, Lifeguard; see
    zmesh_swim.h).

    Each probe interval this node pings the next active neighbour of a shuffled round-robin
    list; without an ACK by the probe timeout it pings again and asks a few other neighbours
    to probe for it (PING_REQ, answered by a relayed ACK or a NACK); without an answer by the
    end of the interval the target is suspected (the suspicion timers are the table's, in
    zmesh_swim.c). Lifeguard's local health multiplier (LHM) stretches the intervals when
    this node itself seems slow: failed probes and missing NACKs raise it, successful probes
    lower it (refutations raise it too, in zmesh_swim.c). Reconnect probes ping DEAD members
    to heal partitions. Papers: SWIM (Das, Gupta, Motivala 2002), Lifeguard (Dadgar et al.
    2018).
*/
#include "zmesh_swim_internal.h"

void
zmesh_swim__lhm (zmesh_swim_t *self, int delta)
{
    if (delta > 0 && self->lhm < self->config.lhm_max)
        self->lhm++;
    else if (delta < 0 && self->lhm > 0)
        self->lhm--;
}

//  ---------------------------------------------------------------------------------------------
//  Messages

void
zmesh_swim__on_ping (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg)
{
    if (!zmesh_id_equal (&msg->target, &self->config.id))
        return;  //  meant for someone else (an older address of it)
    zmesh_swim_member_t *sender = zmesh_swim__find (self, from);
    if (sender && sender->view == SWIM_VIEW_ACTIVE)
        sender->checked_ms = self->now_ms;  //  it answers: no need to probe it soon
    zmesh_swim_msg_t *ack = sender ? zmesh_swim__send (self, sender, ZMESH_SWIM_ACK)
                                   : zmesh_swim__send_to (self, from, NULL, ZMESH_SWIM_ACK);
    if (!ack)
        return;
    ack->seq = msg->seq;
    ack->target = self->config.id;
    zmesh_swim__seal (self, ack, from);
    //  A direct probe from a node that is not my active neighbour: its view is one-sided (a
    //  DISCONNECT or an ACCEPT was lost, or this node restarted and forgot it). Say so, so
    //  that it takes another neighbour (or asks this one again, and is learnt); eager pushes
    //  follow active views, and a one-sided link would starve it of them.
    if ((!sender || sender->view != SWIM_VIEW_ACTIVE)
        && !(msg->flags & (ZMESH_SWIM_PING_INDIRECT | ZMESH_SWIM_PING_RECONNECT))) {
        zmesh_swim_msg_t *out = sender
                                    ? zmesh_swim__send (self, sender, ZMESH_SWIM_DISCONNECT)
                                    : zmesh_swim__send_to (self, from, NULL, ZMESH_SWIM_DISCONNECT);
        if (out)
            zmesh_swim__seal (self, out, from);
    }
}

void
zmesh_swim__on_ack (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg)
{
    swim_probe_t *probe = &self->probe;
    zmesh_swim_member_t *sender = zmesh_swim__find (self, from);
    if (sender && sender->view == SWIM_VIEW_ACTIVE && zmesh_id_equal (from, &msg->target))
        sender->checked_ms = self->now_ms;
    if (probe->running && msg->seq == probe->seq && zmesh_id_equal (&msg->target, &probe->id)) {
        if (!zmesh_id_equal (from, &probe->id))
            probe->answers++;
        probe->running = false;
        zmesh_swim__lhm (self, -1);
        return;
    }
    for (uint32_t i = 0; i < ZMESH_SWIM_RELAYS_MAX; i++) {
        swim_relay_t *relay = &self->relays [i];
        if (relay->used && relay->seq == msg->seq && zmesh_id_equal (&relay->target, from)) {
            zmesh_swim_member_t *requester = zmesh_swim__find (self, &relay->requester);
            zmesh_swim_msg_t *out =
                requester ? zmesh_swim__send (self, requester, ZMESH_SWIM_ACK) : NULL;
            if (out) {
                out->seq = relay->requester_seq;
                out->target = relay->target;
                zmesh_swim__seal (self, out, &relay->requester);
            }
            relay->used = false;
            return;
        }
    }
}

//  The answer to a reconnect probe: a member this node held DEAD (a partition, now healed) or
//  LEFT (it came back at a new generation) is alive. Both sides learn (records lead the
//  messages between them); one link per interval joins the overlays. A member that came back
//  at a new generation may have joined through nodes that were not in the mesh either (an
//  island: they joined through each other): pull its table, which brings the island's
//  members here, and theirs learn of this mesh from the link (zmesh_swim__on_neighbor).
void
zmesh_swim__on_heal (zmesh_swim_t *self, zmesh_swim_member_t *m, bool restarted)
{
    if (!m->rec.has_contact || self->now_ms < self->next_heal_link_ms)
        return;
    self->next_heal_link_ms =
        self->now_ms + (uint64_t) SWIM_HEAL_LINK_INTERVALS * self->config.reconnect_interval_ms;
    if (m->view != SWIM_VIEW_ACTIVE)
        zmesh_swim__send_neighbor (self, m, ZMESH_SWIM_NEIGHBOR_REQUEST | ZMESH_SWIM_NEIGHBOR_HIGH);
    if (restarted && !self->bootstrapping)
        zmesh_swim__start_pull (self, m);
}

void
zmesh_swim__on_ping_req (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg)
{
    zmesh_swim_member_t *requester = zmesh_swim__find (self, from);
    zmesh_swim_member_t *target = zmesh_swim__find (self, &msg->target);
    swim_relay_t *relay = NULL;
    for (uint32_t i = 0; i < ZMESH_SWIM_RELAYS_MAX && !relay; i++)
        if (!self->relays [i].used)
            relay = &self->relays [i];
    if (!requester)
        return;
    if (!target || target->view != SWIM_VIEW_ACTIVE || !relay) {
        //  No link of mine to the target: refuse at once rather than open one for a probe.
        zmesh_swim_msg_t *nack = zmesh_swim__send (self, requester, ZMESH_SWIM_NACK);
        if (nack) {
            nack->seq = msg->seq;
            nack->target = msg->target;
            nack->flags = ZMESH_SWIM_NACK_REFUSED;
            zmesh_swim__seal (self, nack, from);
        }
        self->stats.nacks_refused++;
        return;
    }
    zmesh_swim_msg_t *ping = zmesh_swim__send (self, target, ZMESH_SWIM_PING);
    if (!ping)
        return;
    ping->seq = ++self->seq;
    ping->target = target->rec.id;
    ping->flags = ZMESH_SWIM_PING_INDIRECT;
    zmesh_swim__seal (self, ping, &target->rec.id);
    uint64_t window = self->config.probe_interval_ms - self->config.probe_timeout_ms;
    *relay = (swim_relay_t){.used = true,
                            .requester = *from,
                            .target = target->rec.id,
                            .requester_seq = msg->seq,
                            .seq = self->seq,
                            .nack_at_ms = self->now_ms + window * 8 / 10,
                            .expire_ms = self->now_ms + 2 * window};
}

void
zmesh_swim__on_nack (zmesh_swim_t *self, const zmesh_swim_msg_t *msg)
{
    swim_probe_t *probe = &self->probe;
    if (probe->running && msg->seq == probe->seq && zmesh_id_equal (&msg->target, &probe->id))
        probe->answers++;
}

//  What every message says about its sender: it is alive at (generation, incarnation).
//  False when the message is from a generation that left, and must be ignored.
bool
zmesh_swim__on_sender (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg)
{
    zmesh_swim_member_t *m = zmesh_swim__find (self, from);
    if (!m || zmesh_id_equal (from, &self->config.id))
        return true;
    if (msg->generation < m->rec.generation)
        return false;
    if (m->rec.state == ZMESH_SWIM_STATE_LEFT && msg->generation == m->rec.generation)
        return false;
    if (msg->generation > m->rec.generation || msg->incarnation > m->rec.incarnation) {
        zmesh_swim_record_t rec = m->rec;
        rec.generation = msg->generation;
        rec.incarnation = msg->incarnation;
        rec.state = ZMESH_SWIM_STATE_ALIVE;
        rec.has_contact = false;
        if (msg->generation > m->rec.generation) {
            //  A restarted node at an address this node does not know yet: its JOIN or its
            //  ALIVE record brings the contact.
            rec.has_contact = false;
        }
        zmesh_swim__merge (self, &rec);
    }
    if ((m->rec.state == ZMESH_SWIM_STATE_SUSPECT || m->rec.state == ZMESH_SWIM_STATE_DEAD)
        && msg->type != ZMESH_SWIM_PING
        && self->now_ms >= m->told_ms + self->config.probe_interval_ms) {
        //  It does not know what this node holds of it: tell it, so it refutes.
        m->told_ms = self->now_ms;
        zmesh_swim_msg_t *out = zmesh_swim__send (self, m, ZMESH_SWIM_GOSSIP);
        if (out)
            zmesh_swim__seal (self, out, from);
    }
    return true;
}

//  ---------------------------------------------------------------------------------------------
//  Probing (SWIM, Lifeguard)

static uint64_t
s_scaled (const zmesh_swim_t *self, uint32_t ms)
{
    return (uint64_t) ms * (self->lhm + 1);
}

//  The member to probe first (zmesh_swim__probe_first), else the active neighbour checked
//  least recently, or NULL. Both ends of a link probe it, and a PING received answers for
//  the link as well as an ACK does (the sender is alive, and hears this node): each link is
//  checked about twice as often as a round robin of one's own probes would, for the same
//  messages, so a crashed neighbour is first probed sooner. A probed member goes to the end
//  of the line whatever came of it: a suspect is not probed again at every interval.
static zmesh_swim_member_t *
s_next_target (zmesh_swim_t *self)
{
    if (self->probe_first != SWIM_NO_SLOT) {
        zmesh_swim_member_t *m = &self->members [self->probe_first];
        self->probe_first = SWIM_NO_SLOT;
        if (m->view == SWIM_VIEW_ACTIVE
            || (m->rec.has_contact
                && (m->rec.state == ZMESH_SWIM_STATE_ALIVE
                    || m->rec.state == ZMESH_SWIM_STATE_SUSPECT)))
            return m;
    }
    if (self->active_count == 0)
        return NULL;
    //  From a random place, so that ties (new links) are broken at random.
    uint32_t start = zmesh_swim__below (self, self->active_count);
    zmesh_swim_member_t *stalest = NULL;
    for (uint32_t i = 0; i < self->active_count; i++) {
        zmesh_swim_member_t *m = &self->members [self->active [(start + i) % self->active_count]];
        if (!stalest || m->checked_ms < stalest->checked_ms)
            stalest = m;
    }
    return stalest;
}

static void
s_ping (zmesh_swim_t *self, const zmesh_swim_member_t *target, uint64_t seq, uint8_t flags)
{
    zmesh_swim_msg_t *ping = zmesh_swim__send (self, target, ZMESH_SWIM_PING);
    if (!ping)
        return;
    ping->seq = seq;
    ping->target = target->rec.id;
    ping->flags = flags;
    zmesh_swim__seal (self, ping, &target->rec.id);
}

static void
s_probe_indirect (zmesh_swim_t *self, const zmesh_swim_member_t *target)
{
    swim_probe_t *probe = &self->probe;
    probe->indirect_sent = true;
    s_ping (self, target, probe->seq, 0);  //  a second chance over the same link
    probe->retry_ms = self->now_ms + (probe->end_ms - self->now_ms) / 2;
    uint32_t candidates [ZMESH_SWIM_ACTIVE_LIMIT], count = 0;
    for (uint32_t i = 0; i < self->active_count; i++)
        if (self->active [i] != probe->slot)
            candidates [count++] = self->active [i];
    for (uint32_t i = 0; i < count && i < self->config.indirect_probes; i++) {
        uint32_t j = i + zmesh_swim__below (self, count - i);
        uint32_t t = candidates [i];
        candidates [i] = candidates [j];
        candidates [j] = t;
        zmesh_swim_member_t *via = &self->members [candidates [i]];
        zmesh_swim_msg_t *req = zmesh_swim__send (self, via, ZMESH_SWIM_PING_REQ);
        if (!req)
            break;
        req->seq = probe->seq;
        req->target = probe->id;
        zmesh_swim__seal (self, req, &via->rec.id);
        probe->requests++;
        self->stats.indirect_requests++;
    }
}

void
zmesh_swim__probe_tick (zmesh_swim_t *self)
{
    swim_probe_t *probe = &self->probe;
    zmesh_swim_member_t *target = NULL;
    if (probe->running) {
        target = &self->members [probe->slot];
        if (!zmesh_id_equal (&target->rec.id, &probe->id) || target->rec.state == 0)
            target = NULL;
    }
    if (probe->running && !probe->indirect_sent && self->now_ms >= probe->direct_deadline_ms
        && target)
        s_probe_indirect (self, target);
    //  A third direct ping: the intermediaries of a partial view often have no link to the
    //  target (NACK), so under loss the direct path is the one that answers. Each failed
    //  probe costs a suspicion and its refutation flooded to every node.
    if (probe->running && probe->indirect_sent && !probe->retried && self->now_ms >= probe->retry_ms
        && self->now_ms < probe->end_ms && target) {
        probe->retried = true;
        s_ping (self, target, probe->seq, 0);
    }
    if (probe->running && self->now_ms >= probe->end_ms) {
        probe->running = false;
        self->stats.probe_failures++;
        zmesh_swim__lhm (self, +1);
        if (probe->answers < probe->requests)
            zmesh_swim__lhm (self, +1);  //  missing nacks: the fault may be this node's
        if (target
            && (target->rec.state == ZMESH_SWIM_STATE_ALIVE
                || target->rec.state == ZMESH_SWIM_STATE_SUSPECT))
            zmesh_swim__suspect (self, target);
    }
    if (!probe->running && self->now_ms >= self->next_probe_ms) {
        self->next_probe_ms = self->now_ms + s_scaled (self, self->config.probe_interval_ms);
        target = s_next_target (self);
        if (!target)
            return;
        *probe = (swim_probe_t){.running = true,
                                .slot = zmesh_swim__slot (self, target),
                                .id = target->rec.id,
                                .seq = ++self->seq,
                                .direct_deadline_ms =
                                    self->now_ms + s_scaled (self, self->config.probe_timeout_ms),
                                .end_ms = self->next_probe_ms};
        self->stats.probes++;
        target->checked_ms = self->now_ms;
        s_ping (self, target, probe->seq, 0);
    }
}

void
zmesh_swim__relay_tick (zmesh_swim_t *self)
{
    for (uint32_t i = 0; i < ZMESH_SWIM_RELAYS_MAX; i++) {
        swim_relay_t *relay = &self->relays [i];
        if (!relay->used)
            continue;
        if (self->now_ms >= relay->expire_ms)
            relay->used = false;
        else if (!relay->nacked && self->now_ms >= relay->nack_at_ms) {
            relay->nacked = true;
            zmesh_swim_member_t *requester = zmesh_swim__find (self, &relay->requester);
            zmesh_swim_msg_t *nack =
                requester ? zmesh_swim__send (self, requester, ZMESH_SWIM_NACK) : NULL;
            if (nack) {
                nack->seq = relay->requester_seq;
                nack->target = relay->target;
                zmesh_swim__seal (self, nack, &relay->requester);
            }
        }
    }
}

//  A member a reconnect probe may find again: DEAD (maybe only cut off), or LEFT (it may
//  come back at a new generation, at the same address).
static bool
s_tombstone (const zmesh_swim_member_t *m)
{
    return (m->rec.state == ZMESH_SWIM_STATE_DEAD || m->rec.state == ZMESH_SWIM_STATE_LEFT)
           && m->rec.has_contact;
}

void
zmesh_swim__reconnect_tick (zmesh_swim_t *self)
{
    self->next_reconnect_ms = self->now_ms + self->config.reconnect_interval_ms;
    if (!self->reconnect_answered)
        self->reconnect_burst = 0;  //  the burst ends with the first probe not answered
    self->reconnect_answered = false;
    uint32_t dead = 0;
    for (uint32_t i = 0; i < self->tracked_count; i++)
        if (s_tombstone (&self->members [self->tracked [i]]))
            dead++;
    if (dead == 0)
        return;
    uint32_t pick = zmesh_swim__below (self, dead);
    for (uint32_t i = 0; i < self->tracked_count; i++) {
        zmesh_swim_member_t *m = &self->members [self->tracked [i]];
        if (s_tombstone (m) && pick-- == 0) {
            self->reconnect_seq = ++self->seq;
            s_ping (self, m, self->reconnect_seq, ZMESH_SWIM_PING_RECONNECT);
            break;
        }
    }
}
