/*  zmesh_breaker.c: a circuit breaker per peer (see zmesh_breaker.h for the design).

    The table is a dense array of entries (so scans touch only peers in use) and an open
    addressing index over it with linear probing and backward-shift deletion (no tombstones,
    so a table that churns never slows down). The index has at least twice as many slots as
    the table has entries, so probes stay short.
*/
#include "zmesh_breaker.h"
#include <stdlib.h>
#include <string.h>

#define S_EMPTY UINT32_MAX

struct zmesh_breaker_entry_s {
    zmesh_id_t id;
    uint64_t last_used_ms;     //  last allow or record: the LRU order of eviction
    uint64_t open_until_ms;    //  OPEN: when it becomes HALF_OPEN
    uint64_t window_bits;      //  ring of the last outcomes, bit set = system failure
    uint32_t open_ms;          //  the open time of the current or next opening
    uint32_t failures_in_row;  //  CLOSED: consecutive system failures
    uint32_t trials;           //  HALF_OPEN: trial tasks in flight
    uint8_t state;             //  zmesh_breaker_state_t
    uint8_t window_count;      //  outcomes in the ring, 0..window_size
    uint8_t window_head;       //  where the next outcome goes
    uint8_t window_failures;   //  set bits among the window_count in the ring
};

static uint32_t
s_home (const zmesh_breaker_t *self, const zmesh_id_t *id)
{
    return (uint32_t) zmesh_id_hash (id) & self->index_mask;
}

//  The index slot that holds this id, or the empty slot where it would go.
static uint32_t
s_slot (const zmesh_breaker_t *self, const zmesh_id_t *id)
{
    uint32_t slot = s_home (self, id);
    while (self->index [slot] != S_EMPTY
           && !zmesh_id_equal (&self->entries [self->index [slot]].id, id))
        slot = (slot + 1) & self->index_mask;
    return slot;
}

static zmesh_breaker_entry_t *
s_find (const zmesh_breaker_t *self, const zmesh_id_t *id)
{
    uint32_t number = self->index [s_slot (self, id)];
    return number == S_EMPTY ? NULL : &self->entries [number];
}

//  Removes entry number `number`: its index slot (shifting back the slots after it that
//  probed past it), then the last entry moves into its place so the array stays dense.
static void
s_remove (zmesh_breaker_t *self, uint32_t number)
{
    uint32_t hole = s_slot (self, &self->entries [number].id);
    ZMESH_ASSERT (self->index [hole] == number);
    self->index [hole] = S_EMPTY;
    for (uint32_t next = (hole + 1) & self->index_mask; self->index [next] != S_EMPTY;
         next = (next + 1) & self->index_mask) {
        uint32_t home = s_home (self, &self->entries [self->index [next]].id);
        //  The entry at `next` may move into the hole only if its home is not in (hole, next].
        bool stays = hole <= next ? (home > hole && home <= next) : (home > hole || home <= next);
        if (!stays) {
            self->index [hole] = self->index [next];
            self->index [next] = S_EMPTY;
            hole = next;
        }
    }
    uint32_t last = self->peer_count - 1;
    if (number != last) {
        uint32_t slot = s_slot (self, &self->entries [last].id);
        ZMESH_ASSERT (self->index [slot] == last);
        self->entries [number] = self->entries [last];
        self->index [slot] = number;
    }
    self->peer_count--;
}

//  Makes room for one more peer: the least recently used CLOSED one goes.
static int
s_evict (zmesh_breaker_t *self)
{
    uint32_t victim = S_EMPTY;
    for (uint32_t i = 0; i < self->peer_count; i++) {
        const zmesh_breaker_entry_t *entry = &self->entries [i];
        if (entry->state == ZMESH_BREAKER_CLOSED
            && (victim == S_EMPTY || entry->last_used_ms < self->entries [victim].last_used_ms))
            victim = i;
    }
    if (victim == S_EMPTY)
        return ZMESH_ELIMIT;
    s_remove (self, victim);
    self->evicted_total++;
    return ZMESH_OK;
}

static int
s_insert (zmesh_breaker_t *self, const zmesh_id_t *id, zmesh_breaker_entry_t **entry_p)
{
    if (self->peer_count == self->config.peers_max) {
        int rc = s_evict (self);
        if (rc != ZMESH_OK)
            return rc;
    }
    uint32_t number = self->peer_count++;
    zmesh_breaker_entry_t *entry = &self->entries [number];
    memset (entry, 0, sizeof *entry);
    entry->id = *id;
    entry->state = ZMESH_BREAKER_CLOSED;
    entry->open_ms = self->config.open_base_ms;
    self->index [s_slot (self, id)] = number;
    *entry_p = entry;
    return ZMESH_OK;
}

static void
s_window_clear (zmesh_breaker_entry_t *entry)
{
    entry->window_bits = 0;
    entry->window_count = 0;
    entry->window_head = 0;
    entry->window_failures = 0;
    entry->failures_in_row = 0;
}

static void
s_window_push (const zmesh_breaker_t *self, zmesh_breaker_entry_t *entry, bool failure)
{
    uint64_t bit = 1ull << entry->window_head;
    //  A full ring forgets its oldest outcome, which sits where the new one goes.
    if (entry->window_count == self->config.window_size) {
        if (entry->window_bits & bit)
            entry->window_failures--;
    }
    else
        entry->window_count++;
    if (failure) {
        entry->window_bits |= bit;
        entry->window_failures++;
    }
    else
        entry->window_bits &= ~bit;
    entry->window_head = (uint8_t) ((entry->window_head + 1) % self->config.window_size);
}

static void
s_report (zmesh_breaker_update_t *update,
          const zmesh_breaker_entry_t *entry,
          zmesh_breaker_state_t from)
{
    ZMESH_ASSERT (update->change_count < ZMESH_BREAKER_CHANGES_MAX);
    zmesh_breaker_change_t *change = &update->changes [update->change_count++];
    change->peer = entry->id;
    change->from = from;
    change->to = (zmesh_breaker_state_t) entry->state;
    change->open_until_ms = entry->state == ZMESH_BREAKER_OPEN ? entry->open_until_ms : 0;
}

static void
s_open (zmesh_breaker_t *self,
        zmesh_breaker_entry_t *entry,
        uint32_t open_ms,
        uint64_t now_ms,
        zmesh_breaker_update_t *update)
{
    zmesh_breaker_state_t from = (zmesh_breaker_state_t) entry->state;
    entry->state = ZMESH_BREAKER_OPEN;
    entry->open_ms = open_ms;
    entry->open_until_ms = now_ms + open_ms;
    entry->trials = 0;
    s_window_clear (entry);
    self->opened_total++;
    s_report (update, entry, from);
}

//  OPEN with its time over becomes HALF_OPEN, whichever call notices first.
static void
s_due (zmesh_breaker_entry_t *entry, uint64_t now_ms, zmesh_breaker_update_t *update)
{
    if (entry->state == ZMESH_BREAKER_OPEN && now_ms >= entry->open_until_ms) {
        entry->state = ZMESH_BREAKER_HALF_OPEN;
        entry->trials = 0;
        s_report (update, entry, ZMESH_BREAKER_OPEN);
    }
}

void
zmesh_breaker_config_defaults (zmesh_breaker_config_t *config)
{
    ZMESH_ASSERT (config);
    memset (config, 0, sizeof *config);
    config->peers_max = ZMESH_BREAKER_PEERS_MAX_DEFAULT;
    config->failures_in_row = ZMESH_BREAKER_FAILURES_IN_ROW_DEFAULT;
    config->window_size = ZMESH_BREAKER_WINDOW_SIZE_DEFAULT;
    config->min_outcomes = ZMESH_BREAKER_MIN_OUTCOMES_DEFAULT;
    config->failure_rate_pct = ZMESH_BREAKER_FAILURE_RATE_PCT_DEFAULT;
    config->open_base_ms = ZMESH_BREAKER_OPEN_BASE_MS_DEFAULT;
    config->open_max_ms = ZMESH_BREAKER_OPEN_MAX_MS_DEFAULT;
    config->half_open_trials = ZMESH_BREAKER_HALF_OPEN_TRIALS_DEFAULT;
}

int
zmesh_breaker_config_check (const zmesh_breaker_config_t *config)
{
    if (!config)
        return ZMESH_EINVAL;
    if (config->peers_max < 1 || config->peers_max > ZMESH_BREAKER_PEERS_LIMIT)
        return ZMESH_EINVAL;
    if (config->failures_in_row < 1)
        return ZMESH_EINVAL;
    if (config->window_size < 1 || config->window_size > ZMESH_BREAKER_WINDOW_LIMIT)
        return ZMESH_EINVAL;
    if (config->min_outcomes < 1 || config->min_outcomes > config->window_size)
        return ZMESH_EINVAL;
    if (config->failure_rate_pct < 1 || config->failure_rate_pct > 100)
        return ZMESH_EINVAL;
    if (config->open_base_ms < 1 || config->open_max_ms < config->open_base_ms)
        return ZMESH_EINVAL;
    if (config->half_open_trials < 1
        || config->half_open_trials > ZMESH_BREAKER_HALF_OPEN_TRIALS_LIMIT)
        return ZMESH_EINVAL;
    return ZMESH_OK;
}

int
zmesh_breaker_init (zmesh_breaker_t *self, const zmesh_breaker_config_t *config)
{
    ZMESH_ASSERT (self);
    memset (self, 0, sizeof *self);
    int rc = zmesh_breaker_config_check (config);
    if (rc != ZMESH_OK)
        return rc;
    self->config = *config;
    uint32_t slots = 2;
    while (slots < 2 * config->peers_max)
        slots *= 2;
    self->entries = calloc (config->peers_max, sizeof *self->entries);
    self->index = malloc (slots * sizeof *self->index);
    if (!self->entries || !self->index) {
        zmesh_breaker_fini (self);
        return ZMESH_ENOMEM;
    }
    memset (self->index, 0xFF, slots * sizeof *self->index);  //  every slot S_EMPTY
    self->index_mask = slots - 1;
    return ZMESH_OK;
}

void
zmesh_breaker_fini (zmesh_breaker_t *self)
{
    if (!self)
        return;
    free (self->entries);
    free (self->index);
    memset (self, 0, sizeof *self);
}

bool
zmesh_breaker_allow (zmesh_breaker_t *self,
                     const zmesh_id_t *peer,
                     uint64_t now_ms,
                     zmesh_breaker_update_t *update)
{
    ZMESH_ASSERT (self && self->entries && peer && update);
    update->change_count = 0;
    zmesh_breaker_entry_t *entry = s_find (self, peer);
    if (!entry)
        return true;  //  never failed: CLOSED, and no slot spent on it
    entry->last_used_ms = now_ms;
    s_due (entry, now_ms, update);
    switch (entry->state) {
        case ZMESH_BREAKER_CLOSED:
            return true;
        case ZMESH_BREAKER_HALF_OPEN:
            if (entry->trials < self->config.half_open_trials) {
                entry->trials++;
                return true;
            }
            return false;
        default:
            return false;
    }
}

void
zmesh_breaker_cancel (zmesh_breaker_t *self, const zmesh_id_t *peer)
{
    ZMESH_ASSERT (self && self->entries && peer);
    zmesh_breaker_entry_t *entry = s_find (self, peer);
    if (entry && entry->state == ZMESH_BREAKER_HALF_OPEN && entry->trials > 0)
        entry->trials--;
}

//  CLOSED: into the window; a system failure may open the breaker.
static void
s_record_closed (zmesh_breaker_t *self,
                 zmesh_breaker_entry_t *entry,
                 bool failure,
                 uint64_t now_ms,
                 zmesh_breaker_update_t *update)
{
    s_window_push (self, entry, failure);
    if (!failure) {
        entry->failures_in_row = 0;
        return;
    }
    entry->failures_in_row++;
    bool in_row = entry->failures_in_row >= self->config.failures_in_row;
    //  Integer percent: failures / count >= pct / 100, without rounding.
    bool rate = entry->window_count >= self->config.min_outcomes
                && (uint32_t) entry->window_failures * 100
                       >= self->config.failure_rate_pct * (uint32_t) entry->window_count;
    if (in_row || rate)
        s_open (self, entry, self->config.open_base_ms, now_ms, update);
}

int
zmesh_breaker_record (zmesh_breaker_t *self,
                      const zmesh_id_t *peer,
                      zmesh_breaker_outcome_t outcome,
                      uint64_t now_ms,
                      zmesh_breaker_update_t *update)
{
    ZMESH_ASSERT (self && self->entries && peer && update);
    update->change_count = 0;
    if (outcome != ZMESH_BREAKER_SUCCESS && outcome != ZMESH_BREAKER_SYSTEM_FAILURE
        && outcome != ZMESH_BREAKER_TASK_ERROR)
        return ZMESH_EINVAL;
    bool failure = outcome == ZMESH_BREAKER_SYSTEM_FAILURE;
    zmesh_breaker_entry_t *entry = s_find (self, peer);
    if (!entry) {
        int rc = s_insert (self, peer, &entry);
        if (rc != ZMESH_OK) {
            self->refused_total++;
            return rc;
        }
    }
    entry->last_used_ms = now_ms;
    s_due (entry, now_ms, update);
    switch (entry->state) {
        case ZMESH_BREAKER_CLOSED:
            s_record_closed (self, entry, failure, now_ms, update);
            break;
        case ZMESH_BREAKER_HALF_OPEN:
            //  Any outcome ends HALF_OPEN, and both ways out reset the trial slots.
            if (failure) {
                uint64_t doubled = 2 * (uint64_t) entry->open_ms;
                uint32_t max = self->config.open_max_ms;
                s_open (self, entry, doubled < max ? (uint32_t) doubled : max, now_ms, update);
            }
            else {
                //  The next opening, from CLOSED, starts again at open_base_ms.
                entry->state = ZMESH_BREAKER_CLOSED;
                entry->trials = 0;
                s_window_clear (entry);
                self->closed_total++;
                s_report (update, entry, ZMESH_BREAKER_HALF_OPEN);
            }
            break;
        default:
            break;  //  OPEN: the outcome of a task sent before it opened
    }
    return ZMESH_OK;
}

void
zmesh_breaker_tick (zmesh_breaker_t *self, uint64_t now_ms, zmesh_breaker_update_t *update)
{
    ZMESH_ASSERT (self && update);
    update->change_count = 0;
    for (uint32_t i = 0; i < self->peer_count; i++) {
        if (update->change_count == ZMESH_BREAKER_CHANGES_MAX)
            break;  //  the rest at the next tick: deadline_ms is still <= now_ms
        s_due (&self->entries [i], now_ms, update);
    }
}

uint64_t
zmesh_breaker_deadline_ms (const zmesh_breaker_t *self)
{
    ZMESH_ASSERT (self);
    uint64_t deadline = UINT64_MAX;
    for (uint32_t i = 0; i < self->peer_count; i++) {
        const zmesh_breaker_entry_t *entry = &self->entries [i];
        if (entry->state == ZMESH_BREAKER_OPEN && entry->open_until_ms < deadline)
            deadline = entry->open_until_ms;
    }
    return deadline;
}

void
zmesh_breaker_forget (zmesh_breaker_t *self, const zmesh_id_t *peer)
{
    ZMESH_ASSERT (self && self->entries && peer);
    uint32_t number = self->index [s_slot (self, peer)];
    if (number != S_EMPTY)
        s_remove (self, number);
}

static zmesh_breaker_state_t
s_state_at (const zmesh_breaker_entry_t *entry, uint64_t now_ms)
{
    if (entry->state == ZMESH_BREAKER_OPEN && now_ms >= entry->open_until_ms)
        return ZMESH_BREAKER_HALF_OPEN;
    return (zmesh_breaker_state_t) entry->state;
}

zmesh_breaker_state_t
zmesh_breaker_state (const zmesh_breaker_t *self, const zmesh_id_t *peer, uint64_t now_ms)
{
    ZMESH_ASSERT (self && self->entries && peer);
    const zmesh_breaker_entry_t *entry = s_find (self, peer);
    return entry ? s_state_at (entry, now_ms) : ZMESH_BREAKER_CLOSED;
}

bool
zmesh_breaker_available (const zmesh_breaker_t *self, const zmesh_id_t *peer, uint64_t now_ms)
{
    ZMESH_ASSERT (self && self->entries && peer);
    const zmesh_breaker_entry_t *entry = s_find (self, peer);
    if (!entry)
        return true;
    switch (s_state_at (entry, now_ms)) {
        case ZMESH_BREAKER_CLOSED:
            return true;
        case ZMESH_BREAKER_HALF_OPEN:
            //  An OPEN entry whose time is over has trials 0 (s_open reset it): all free.
            return entry->trials < self->config.half_open_trials;
        default:
            return false;
    }
}

void
zmesh_breaker_counts (const zmesh_breaker_t *self, uint64_t now_ms, zmesh_breaker_counts_t *counts)
{
    ZMESH_ASSERT (self && counts);
    memset (counts, 0, sizeof *counts);
    counts->peers = self->peer_count;
    for (uint32_t i = 0; i < self->peer_count; i++) {
        switch (s_state_at (&self->entries [i], now_ms)) {
            case ZMESH_BREAKER_CLOSED:
                counts->closed++;
                break;
            case ZMESH_BREAKER_OPEN:
                counts->open++;
                break;
            default:
                counts->half_open++;
                break;
        }
    }
    counts->opened_total = self->opened_total;
    counts->closed_total = self->closed_total;
    counts->evicted_total = self->evicted_total;
    counts->refused_total = self->refused_total;
}

const char *
zmesh_breaker_state_name (zmesh_breaker_state_t state)
{
    switch (state) {
        case ZMESH_BREAKER_CLOSED:
            return "CLOSED";
        case ZMESH_BREAKER_OPEN:
            return "OPEN";
        case ZMESH_BREAKER_HALF_OPEN:
            return "HALF_OPEN";
        default:
            return "?";
    }
}
