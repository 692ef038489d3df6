/*  test_state.c: the anti-entropy core (zmesh_state), as usage examples.

    A shell writes to its own map with zmesh_state_set / zmesh_state_delete, reads any owner's
    keys with zmesh_state_get / zmesh_state_each, and feeds the core TICK, RECEIVED, PEERS and
    FORGET events; each step's update says what to send and which changes to show watchers.
    These tests wire two or three cores together by hand, passing each message through the
    codec as a real shell would, and check what users rely on: convergence, the byte budget,
    generations, tombstones and their collection (with the resync that makes it safe),
    forgetting, every bound, and the drop counters for bad input.
*/
#include "zmesh_error.h"
#include "zmesh_state.h"
#include "zmesh_state_codec.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#define NODES 3
#define QUEUE 64  //  messages in flight in one exchange, at most

typedef struct {
    zmesh_state_config_t config;
    zmesh_state_t core [NODES];
    zmesh_state_update_t update;
    zmesh_state_msg_buf_t buf;  //  decoding storage
    uint64_t now_ms;
    uint32_t messages;
    size_t largest;
    uint32_t changes [4];    //  changes seen by kind, over every step
    uint32_t drops [NODES];  //  DROP changes seen per receiving node
    uint32_t by_type [4];    //  messages sent, by type
    struct {
        uint32_t from, to;
        size_t size;
        uint8_t data [ZMESH_STATE_MSG_SIZE_MAX];
    } queue [QUEUE];  //  messages in flight, delivered in the order sent
} s_fixture_t;

static zmesh_id_t
s_id (uint32_t node)
{
    zmesh_id_t id;
    memset (id.bytes, 0x10 * (node + 1), sizeof id.bytes);
    return id;
}

static uint32_t
s_node_of (const zmesh_id_t *id)
{
    return (uint32_t) (id->bytes [0] / 0x10 - 1);
}

static void
s_config (zmesh_state_config_t *config)
{
    zmesh_state_config_defaults (config);
    config->tombstone_ttl_ms = 5000;
    config->forget_ttl_ms = 5000;
}

static int
s_init_nodes (s_fixture_t *self)
{
    for (uint32_t n = 0; n < NODES; n++) {
        zmesh_id_t id = s_id (n);
        if (zmesh_state_init (&self->core [n], &self->config, &id, 1, 0, n + 1, 0) != ZMESH_OK)
            return -1;
    }
    return 0;
}

static int
s_setup (void **state)
{
    s_fixture_t *self = calloc (1, sizeof *self);
    if (!self)
        return -1;
    s_config (&self->config);
    if (s_init_nodes (self))
        return -1;
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fixture_t *self = *state;
    for (uint32_t n = 0; n < NODES; n++)
        zmesh_state_fini (&self->core [n]);
    free (self);
    return 0;
}

static void
s_count_changes (s_fixture_t *self, uint32_t node, const zmesh_state_update_t *update)
{
    for (uint32_t i = 0; i < update->change_count; i++) {
        self->changes [update->changes [i].kind]++;
        if (update->changes [i].kind == ZMESH_STATE_CHANGE_DROP)
            self->drops [node]++;
    }
}

//  Encode what node's last step sends (through the codec, as a shell would) into the queue.
static void
s_queue (s_fixture_t *self, uint32_t node, uint32_t *tail)
{
    assert_true (self->update.msg_count <= 2);
    for (uint32_t i = 0; i < self->update.msg_count; i++) {
        const zmesh_state_out_t *out = &self->update.msgs [i];
        assert_true (*tail < QUEUE);
        size_t size = 0;
        assert_int_equal (zmesh_state_msg_encode (&out->msg, self->queue [*tail].data,
                                                  ZMESH_STATE_MSG_SIZE_MAX, &size),
                          ZMESH_OK);
        assert_int_equal (size, zmesh_state_msg_size (&out->msg));
        assert_true (size <= self->config.budget_bytes);
        if (size > self->largest)
            self->largest = size;
        self->messages++;
        self->by_type [out->msg.type]++;
        self->queue [*tail].from = node;
        self->queue [*tail].to = s_node_of (&out->to);
        self->queue [*tail].size = size;
        assert_true (self->queue [*tail].to < NODES);
        (*tail)++;
    }
}

//  Step node with event; then deliver whatever it sends, and whatever that causes, in the
//  order sent, until the exchange is over.
static void
s_step (s_fixture_t *self, uint32_t node, zmesh_state_event_t *event)
{
    event->now_ms = self->now_ms;
    zmesh_state_step (&self->core [node], event, &self->update);
    s_count_changes (self, node, &self->update);
    uint32_t head = 0, tail = 0;
    s_queue (self, node, &tail);
    for (; head < tail; head++) {
        uint32_t to = self->queue [head].to;
        assert_int_equal (
            zmesh_state_msg_decode (&self->buf, self->queue [head].data, self->queue [head].size),
            ZMESH_OK);
        zmesh_state_event_t received = {.type = ZMESH_STATE_RECEIVED,
                                        .now_ms = self->now_ms,
                                        .peer = s_id (self->queue [head].from),
                                        .msg = &self->buf.msg};
        zmesh_state_step (&self->core [to], &received, &self->update);
        s_count_changes (self, to, &self->update);
        s_queue (self, to, &tail);
    }
}

static void
s_exchange (s_fixture_t *self, uint32_t from, uint32_t to)
{
    zmesh_state_event_t event = {.type = ZMESH_STATE_EXCHANGE, .peer = s_id (to)};
    s_step (self, from, &event);
}

static void
s_set (s_fixture_t *self, uint32_t node, const char *key, const char *value)
{
    assert_int_equal (zmesh_state_set (&self->core [node], self->now_ms, key, value,
                                       (uint32_t) strlen (value), &self->update),
                      ZMESH_OK);
    s_count_changes (self, node, &self->update);
}

//  The value node holds for owner's key, or NULL.
static const char *
s_get (s_fixture_t *self, uint32_t node, uint32_t owner, const char *key)
{
    static char text [2048];
    zmesh_state_item_t item;
    zmesh_id_t id = s_id (owner);
    if (zmesh_state_get (&self->core [node], &id, key, &item) != ZMESH_OK)
        return NULL;
    if (item.value_size > 0)
        memcpy (text, item.value, item.value_size);
    text [item.value_size] = 0;
    return text;
}

//  ---------------------------------------------------------------------------------------------

static void
test_state_local_writes (void **state)
{
    s_fixture_t *self = *state;
    zmesh_state_t *core = &self->core [0];
    zmesh_state_update_t *update = &self->update;
    assert_int_equal (zmesh_state_version (core), 0);
    assert_int_equal (zmesh_state_set (core, 1, "cpu.cores", "8", 1, update), ZMESH_OK);
    //  Every write is one change in the update of its step, with the new version.
    assert_int_equal (update->change_count, 1);
    assert_int_equal (update->changes [0].kind, ZMESH_STATE_CHANGE_SET);
    assert_string_equal (update->changes [0].key, "cpu.cores");
    assert_int_equal (update->changes [0].value_size, 1);
    assert_memory_equal (update->changes [0].value, "8", 1);
    assert_int_equal (update->changes [0].version, 1);
    assert_int_equal (zmesh_state_set (core, 2, "cpu.cores", "16", 2, update), ZMESH_OK);
    assert_int_equal (update->changes [0].version, 2);
    assert_string_equal (s_get (self, 0, 0, "cpu.cores"), "16");
    assert_int_equal (zmesh_state_version (core), 2);
    //  A delete is a versioned tombstone: the key reads as absent.
    assert_int_equal (zmesh_state_delete (core, 3, "cpu.cores", update), ZMESH_OK);
    assert_int_equal (update->changes [0].kind, ZMESH_STATE_CHANGE_DELETE);
    assert_int_equal (update->changes [0].version, 3);
    assert_null (s_get (self, 0, 0, "cpu.cores"));
    assert_int_equal (zmesh_state_delete (core, 3, "cpu.cores", update), ZMESH_ENOTFOUND);
    assert_int_equal (zmesh_state_delete (core, 3, "never", update), ZMESH_ENOTFOUND);
    zmesh_state_owner_info_t info;
    zmesh_id_t id = s_id (0);
    assert_int_equal (zmesh_state_owner_info (core, &id, &info), ZMESH_OK);
    assert_int_equal (info.key_count, 0);
    assert_int_equal (info.tombstone_count, 1);
    assert_int_equal (info.version, 3);
    //  An empty value is a value.
    assert_int_equal (zmesh_state_set (core, 4, "flag", NULL, 0, update), ZMESH_OK);
    assert_string_equal (s_get (self, 0, 0, "flag"), "");
}

static void
test_state_local_bounds (void **state)
{
    s_fixture_t *self = *state;
    zmesh_state_fini (&self->core [0]);
    zmesh_state_config_t config = self->config;
    config.max_keys = 3;
    config.key_size_max = 8;
    config.value_size_max = 16;
    config.owner_bytes_max = 40;
    zmesh_id_t id = s_id (0);
    assert_int_equal (zmesh_state_init (&self->core [0], &config, &id, 1, 0, 1, 0), ZMESH_OK);
    zmesh_state_t *core = &self->core [0];
    zmesh_state_update_t *update = &self->update;
    char big [64];
    memset (big, 'x', sizeof big);
    assert_int_equal (zmesh_state_set (core, 1, "", "v", 1, update), ZMESH_EINVAL);
    assert_int_equal (zmesh_state_set (core, 1, "a\tb", "v", 1, update), ZMESH_EINVAL);
    assert_int_equal (zmesh_state_set (core, 1, "key\x7f", "v", 1, update), ZMESH_EINVAL);
    assert_int_equal (zmesh_state_set (core, 1, "ninechars", "v", 1, update), ZMESH_ETOOBIG);
    assert_int_equal (zmesh_state_set (core, 1, "k", big, 17, update), ZMESH_ETOOBIG);
    assert_int_equal (zmesh_state_set (core, 1, "k", NULL, 1, update), ZMESH_EINVAL);
    assert_int_equal (update->change_count, 0);
    assert_int_equal (zmesh_state_version (core), 0);  //  a refused write takes no version
    //  Bytes: keys + values per owner.
    assert_int_equal (zmesh_state_set (core, 1, "a", big, 16, update), ZMESH_OK);
    assert_int_equal (zmesh_state_set (core, 1, "b", big, 16, update), ZMESH_OK);
    assert_int_equal (zmesh_state_set (core, 1, "c", big, 7, update), ZMESH_ELIMIT);
    assert_int_equal (zmesh_state_set (core, 1, "c", big, 5, update), ZMESH_OK);
    //  Keys: tombstones count until they are collected.
    assert_int_equal (zmesh_state_delete (core, 1, "a", update), ZMESH_OK);
    assert_int_equal (zmesh_state_set (core, 2, "d", "v", 1, update), ZMESH_ELIMIT);
    assert_int_equal (zmesh_state_deadline_ms (core), 1 + self->config.tombstone_ttl_ms);
    zmesh_state_event_t tick = {.type = ZMESH_STATE_TICK, .now_ms = 1 + config.tombstone_ttl_ms};
    zmesh_state_step (core, &tick, update);
    assert_int_equal (update->change_count, 0);  //  collecting a tombstone is no change
    assert_int_equal (zmesh_state_set (core, tick.now_ms, "d", "v", 1, update), ZMESH_OK);
    zmesh_state_owner_info_t info;
    assert_int_equal (zmesh_state_owner_info (core, &id, &info), ZMESH_OK);
    assert_int_equal (info.floor, 4);  //  the collected tombstone's version
    assert_int_equal (info.tombstone_count, 0);
    //  FORGET of oneself is refused.
    assert_int_equal (zmesh_state_forget (core, 1, &id, 0, update), ZMESH_EINVAL);
}

static void
test_state_config_check (void **state)
{
    (void) state;
    zmesh_state_config_t config;
    zmesh_state_config_defaults (&config);
    assert_int_equal (zmesh_state_config_check (&config), ZMESH_OK);
    config.budget_bytes = 1000;  //  a 1024-byte value would never fit a message
    assert_int_equal (zmesh_state_config_check (&config), ZMESH_EINVAL);
    zmesh_state_config_defaults (&config);
    config.key_size_max = ZMESH_STATE_KEY_SIZE_LIMIT + 1;
    assert_int_equal (zmesh_state_config_check (&config), ZMESH_EINVAL);
    zmesh_state_config_defaults (&config);
    config.max_owners = 0;
    assert_int_equal (zmesh_state_config_check (&config), ZMESH_EINVAL);
    zmesh_state_config_defaults (&config);
    config.interval_ms = 0;
    assert_int_equal (zmesh_state_config_check (&config), ZMESH_EINVAL);
    zmesh_state_t core;
    zmesh_id_t id = s_id (0);
    assert_int_equal (zmesh_state_init (&core, &config, &id, 1, 0, 1, 0), ZMESH_EINVAL);
}

static void
test_state_exchange_converges (void **state)
{
    s_fixture_t *self = *state;
    s_set (self, 0, "load", "0.5");
    s_set (self, 0, "endpoint", "tcp://10.0.0.1:5670");
    s_set (self, 1, "load", "1.5");
    //  One exchange started by node 0 is push-pull: both learn everything.
    s_exchange (self, 0, 1);
    assert_int_equal (self->messages, 3);  //  SUMMARY, DELTAS + requests, DELTAS
    assert_string_equal (s_get (self, 1, 0, "load"), "0.5");
    assert_string_equal (s_get (self, 1, 0, "endpoint"), "tcp://10.0.0.1:5670");
    assert_string_equal (s_get (self, 0, 1, "load"), "1.5");
    //  Changes from remote writes show in the receiver's update, as watch events.
    assert_int_equal (self->changes [ZMESH_STATE_CHANGE_SET], 3 + 3);
    //  Node 2 learns both maps through node 1 alone (gossip is transitive).
    s_exchange (self, 2, 1);
    assert_string_equal (s_get (self, 2, 0, "endpoint"), "tcp://10.0.0.1:5670");
    assert_string_equal (s_get (self, 2, 1, "load"), "1.5");
    //  Nothing new: the reply to a summary is empty and not sent.
    self->messages = 0;
    s_exchange (self, 2, 0);
    assert_int_equal (self->messages, 1);
    //  An update and a delete travel the same way.
    self->now_ms = 10;
    s_set (self, 0, "load", "0.7");
    assert_int_equal (zmesh_state_delete (&self->core [0], 10, "endpoint", &self->update),
                      ZMESH_OK);
    s_exchange (self, 1, 0);
    assert_string_equal (s_get (self, 1, 0, "load"), "0.7");
    assert_null (s_get (self, 1, 0, "endpoint"));
    assert_int_equal (self->changes [ZMESH_STATE_CHANGE_DELETE], 1);  //  node 1's
}

//  Iterating an owner's keys.
static void
s_visit (const zmesh_state_item_t *item, void *arg)
{
    uint32_t *seen = arg;
    if (!item->deleted)
        seen [0]++;
    else
        seen [1]++;
}

static void
test_state_budget_and_prefix (void **state)
{
    s_fixture_t *self = *state;
    //  100 keys of ~100 bytes: ~10 KB, about nine messages of 1200 bytes.
    char key [16], value [101];
    memset (value, 'v', 100);
    value [100] = 0;
    for (int i = 0; i < 100; i++) {
        snprintf (key, sizeof key, "key.%03d", i);
        value [0] = (char) ('a' + i % 26);
        s_set (self, 0, key, value);
    }
    zmesh_id_t owner = s_id (0);
    uint64_t previous = 0;
    int exchanges = 0;
    for (; exchanges < 30; exchanges++) {
        s_exchange (self, 1, 0);
        zmesh_state_owner_info_t info;
        assert_int_equal (zmesh_state_owner_info (&self->core [1], &owner, &info), ZMESH_OK);
        //  Oldest first: after each exchange node 1 holds exactly the keys up to its version.
        assert_true (info.version > previous);
        assert_int_equal (info.key_count, info.version);
        previous = info.version;
        if (info.version == 100)
            break;
    }
    assert_true (exchanges >= 8 && exchanges < 12);
    assert_true (self->largest <= self->config.budget_bytes);
    assert_true (self->largest > self->config.budget_bytes - 150);  //  messages are filled
    uint32_t seen [2] = {0, 0};
    assert_int_equal (zmesh_state_each (&self->core [1], &owner, true, s_visit, seen), ZMESH_OK);
    assert_int_equal (seen [0], 100);
    value [0] = 'a' + 42 % 26;
    assert_string_equal (s_get (self, 1, 0, "key.042"), value);
    zmesh_id_t unknown = s_id (7);
    assert_int_equal (zmesh_state_each (&self->core [1], &unknown, true, s_visit, seen),
                      ZMESH_ENOTFOUND);
}

static void
test_state_generation_restart (void **state)
{
    s_fixture_t *self = *state;
    s_set (self, 0, "old", "1");
    s_set (self, 0, "kept", "1");
    s_exchange (self, 1, 0);
    assert_string_equal (s_get (self, 1, 0, "old"), "1");
    //  Node 0 restarts: generation 2, an empty map, a new write.
    zmesh_state_fini (&self->core [0]);
    zmesh_id_t id = s_id (0);
    assert_int_equal (zmesh_state_init (&self->core [0], &self->config, &id, 2, 0, 9, 0), ZMESH_OK);
    s_set (self, 0, "kept", "2");
    s_exchange (self, 0, 1);
    //  Node 1 dropped generation 1 (one DROP change) and holds generation 2 only.
    assert_int_equal (self->drops [1], 1);
    assert_null (s_get (self, 1, 0, "old"));
    assert_string_equal (s_get (self, 1, 0, "kept"), "2");
    zmesh_state_owner_info_t info;
    assert_int_equal (zmesh_state_owner_info (&self->core [1], &id, &info), ZMESH_OK);
    assert_int_equal (info.generation, 2);
    //  Node 2 still holds nothing of node 0; a restart with no write yet still spreads.
    zmesh_state_fini (&self->core [0]);
    assert_int_equal (zmesh_state_init (&self->core [0], &self->config, &id, 3, 0, 9, 0), ZMESH_OK);
    s_exchange (self, 1, 0);
    assert_int_equal (zmesh_state_owner_info (&self->core [1], &id, &info), ZMESH_OK);
    assert_int_equal (info.generation, 3);
    assert_int_equal (info.key_count, 0);
    assert_int_equal (self->drops [1], 2);
}

static void
test_state_tombstone_collection_is_safe (void **state)
{
    s_fixture_t *self = *state;
    s_set (self, 0, "gone", "x");
    s_set (self, 0, "stays", "y");
    s_exchange (self, 1, 0);
    s_exchange (self, 2, 0);
    //  Node 0 deletes "gone"; node 1 hears of it, node 2 is partitioned.
    self->now_ms = 100;
    assert_int_equal (zmesh_state_delete (&self->core [0], 100, "gone", &self->update), ZMESH_OK);
    s_exchange (self, 1, 0);
    assert_null (s_get (self, 1, 0, "gone"));
    //  Both collect the tombstone ttl later, and raise their floor.
    self->now_ms = 100 + self->config.tombstone_ttl_ms;
    zmesh_state_event_t tick = {.type = ZMESH_STATE_TICK};
    s_step (self, 0, &tick);
    s_step (self, 1, &tick);
    zmesh_id_t owner = s_id (0);
    zmesh_state_owner_info_t info;
    assert_int_equal (zmesh_state_owner_info (&self->core [1], &owner, &info), ZMESH_OK);
    assert_int_equal (info.tombstone_count, 0);
    assert_int_equal (info.floor, 3);
    //  Node 2 comes back, still holding "gone": the plain run would skip the collected
    //  tombstone, so it is sent a reset run and rebuilds node 0's map.
    assert_string_equal (s_get (self, 2, 0, "gone"), "x");
    s_exchange (self, 2, 1);
    assert_null (s_get (self, 2, 0, "gone"));
    assert_string_equal (s_get (self, 2, 0, "stays"), "y");
    assert_int_equal (self->drops [2], 1);
    assert_int_equal (zmesh_state_owner_info (&self->core [2], &owner, &info), ZMESH_OK);
    assert_int_equal (info.floor, 3);
    assert_int_equal (info.version, 3);
    //  And it does not resync twice.
    s_exchange (self, 2, 0);
    assert_int_equal (self->drops [2], 1);
}

static void
test_state_forget (void **state)
{
    s_fixture_t *self = *state;
    s_set (self, 0, "k", "v");
    s_exchange (self, 1, 0);
    s_exchange (self, 2, 1);
    zmesh_id_t owner = s_id (0);
    zmesh_state_t *core = &self->core [1];
    assert_int_equal (zmesh_state_forget (core, 0, &owner, 0, &self->update), ZMESH_OK);
    assert_int_equal (self->update.change_count, 1);
    assert_int_equal (self->update.changes [0].kind, ZMESH_STATE_CHANGE_DROP);
    assert_int_equal (self->update.changes [0].cause, ZMESH_STATE_CAUSE_FORGOTTEN);
    assert_null (s_get (self, 1, 0, "k"));
    //  Node 2 still has it, but node 1 refuses it: membership said node 0 is gone.
    s_exchange (self, 1, 2);
    assert_null (s_get (self, 1, 0, "k"));
    assert_true (zmesh_state_dropped (core, ZMESH_STATE_DROP_FORGOTTEN) > 0);
    //  Node 0 itself talks to node 1: it is back.
    s_exchange (self, 0, 1);
    assert_string_equal (s_get (self, 1, 0, "k"), "v");
    //  A forgotten owner that restarts (higher generation) is accepted at once.
    assert_int_equal (zmesh_state_forget (core, 0, &owner, 0, &self->update), ZMESH_OK);
    zmesh_state_fini (&self->core [0]);
    assert_int_equal (zmesh_state_init (&self->core [0], &self->config, &owner, 2, 0, 9, 0),
                      ZMESH_OK);
    s_set (self, 0, "k", "new");
    s_exchange (self, 2, 0);
    s_exchange (self, 1, 2);
    assert_string_equal (s_get (self, 1, 0, "k"), "new");
    //  Refusal expires after forget_ttl_ms.
    assert_int_equal (zmesh_state_forget (core, 0, &owner, 0, &self->update), ZMESH_OK);
    self->now_ms = self->config.forget_ttl_ms + 1;
    zmesh_state_event_t tick = {.type = ZMESH_STATE_TICK};
    s_step (self, 1, &tick);
    s_exchange (self, 1, 2);
    assert_string_equal (s_get (self, 1, 0, "k"), "new");
}

//  Hand-made messages: bad input is dropped and counted, never applied.
static void
test_state_bad_input (void **state)
{
    s_fixture_t *self = *state;
    zmesh_state_t *core = &self->core [1];
    zmesh_state_update_t *update = &self->update;
    zmesh_state_delta_t deltas [3] = {
        {.key = "a", .key_size = 1, .value = (const uint8_t *) "1", .value_size = 1, .version = 1},
        {.key = "b", .key_size = 1, .value = (const uint8_t *) "2", .value_size = 1, .version = 2},
        {.key = "c", .key_size = 1, .value = (const uint8_t *) "3", .value_size = 1, .version = 3}};
    zmesh_state_run_t run = {.owner = s_id (0),
                             .generation = 1,
                             .from_version = 0,
                             .to_version = 3,
                             .held_version = 3,
                             .delta_count = 3};
    zmesh_state_msg_t msg = {.type = ZMESH_STATE_MSG_DELTAS,
                             .run_count = 1,
                             .runs = &run,
                             .delta_count = 3,
                             .deltas = deltas};
    zmesh_state_event_t event = {.type = ZMESH_STATE_RECEIVED, .peer = s_id (2), .msg = &msg};
    //  Versions out of order: the whole message is malformed.
    deltas [1].version = 5;
    zmesh_state_step (core, &event, update);
    assert_int_equal (update->dropped [ZMESH_STATE_DROP_MALFORMED], 1);
    assert_int_equal (update->change_count, 0);
    deltas [1].version = 2;
    //  A run that starts after what is held is a gap.
    zmesh_state_run_t gap = {
        .owner = s_id (0), .generation = 1, .from_version = 1, .to_version = 3, .held_version = 3};
    zmesh_state_msg_t gap_msg = {.type = ZMESH_STATE_MSG_DELTAS, .run_count = 1, .runs = &gap};
    event.msg = &gap_msg;
    zmesh_state_step (core, &event, update);
    assert_int_equal (update->dropped [ZMESH_STATE_DROP_GAP], 1);
    event.msg = &msg;
    //  A run about this node's own map is refused.
    run.owner = s_id (1);
    zmesh_state_step (core, &event, update);
    assert_int_equal (update->dropped [ZMESH_STATE_DROP_SELF], 1);
    //  An entry over this node's bounds is dropped alone; the rest applies.
    run.owner = s_id (0);
    char long_key [80];
    memset (long_key, 'k', sizeof long_key);
    deltas [1].key = long_key;
    deltas [1].key_size = self->config.key_size_max + 1;
    zmesh_state_step (core, &event, update);
    assert_int_equal (update->dropped [ZMESH_STATE_DROP_KEY], 1);
    assert_int_equal (update->change_count, 2);
    assert_string_equal (s_get (self, 1, 0, "c"), "3");
    //  The same run again is stale; an older generation too.
    zmesh_state_step (core, &event, update);
    assert_int_equal (update->dropped [ZMESH_STATE_DROP_STALE], 1);
    assert_int_equal (update->change_count, 0);
    run.generation = 0;
    zmesh_state_step (core, &event, update);
    assert_int_equal (update->dropped [ZMESH_STATE_DROP_STALE], 1);
    //  No message at all.
    event.msg = NULL;
    zmesh_state_step (core, &event, update);
    assert_int_equal (update->dropped [ZMESH_STATE_DROP_MALFORMED], 1);
    assert_int_equal (zmesh_state_dropped (core, ZMESH_STATE_DROP_MALFORMED), 2);
    assert_string_equal (zmesh_state_drop_name (ZMESH_STATE_DROP_GAP), "gap");
    assert_string_equal (zmesh_state_change_name (ZMESH_STATE_CHANGE_DROP), "drop");
    //  A digest out of order is malformed too.
    zmesh_state_digest_entry_t entries [2] = {{.owner = s_id (2)}, {.owner = s_id (0)}};
    zmesh_state_msg_t digest = {
        .type = ZMESH_STATE_MSG_DIGEST, .digest_count = 2, .digest = entries};
    memset (digest.range_hi.bytes, 0xff, ZMESH_ID_SIZE);
    event.msg = &digest;
    zmesh_state_step (core, &event, update);
    assert_int_equal (update->dropped [ZMESH_STATE_DROP_MALFORMED], 1);
    assert_int_equal (update->msg_count, 0);
}

static void
test_state_replica_bounds (void **state)
{
    s_fixture_t *self = *state;
    zmesh_state_t *core = &self->core [1];
    zmesh_state_update_t *update = &self->update;
    //  A replica over twice the byte bound is dropped, to be fetched again from scratch.
    static uint8_t big [1024];
    zmesh_state_delta_t deltas [40];
    char keys [40][16];
    for (int i = 0; i < 40; i++) {
        snprintf (keys [i], sizeof keys [i], "k%02d", i);
        deltas [i] = (zmesh_state_delta_t){.key = keys [i],
                                           .key_size = 3,
                                           .value = big,
                                           .value_size = sizeof big,
                                           .version = (uint64_t) i + 1};
    }
    zmesh_state_run_t run = {.owner = s_id (0),
                             .generation = 1,
                             .to_version = 40,
                             .held_version = 40,
                             .delta_count = 40};
    zmesh_state_msg_t msg = {.type = ZMESH_STATE_MSG_DELTAS,
                             .run_count = 1,
                             .runs = &run,
                             .delta_count = 40,
                             .deltas = deltas};
    zmesh_state_event_t event = {.type = ZMESH_STATE_RECEIVED, .peer = s_id (2), .msg = &msg};
    zmesh_state_step (core, &event, update);
    assert_int_equal (update->dropped [ZMESH_STATE_DROP_OWNER_BYTES], 1);
    zmesh_state_owner_info_t info;
    zmesh_id_t owner = s_id (0);
    assert_int_equal (zmesh_state_owner_info (core, &owner, &info), ZMESH_OK);
    assert_int_equal (info.version, 0);
    assert_int_equal (info.key_count, 0);
    //  31 entries (1027 bytes each) fit twice 16 KiB: 31 SETs, then one DROP, in order.
    assert_int_equal (update->change_count, 32);
    assert_int_equal (update->changes [31].kind, ZMESH_STATE_CHANGE_DROP);
    assert_int_equal (update->changes [31].cause, ZMESH_STATE_CAUSE_OVERFLOW);
    //  Values over the configured size are dropped one by one.
    run.delta_count = msg.delta_count = 1;
    deltas [0].value_size = self->config.value_size_max + 1;
    zmesh_state_step (core, &event, update);
    assert_int_equal (update->dropped [ZMESH_STATE_DROP_VALUE], 1);
}

static void
test_state_max_owners (void **state)
{
    s_fixture_t *self = *state;
    zmesh_state_fini (&self->core [2]);
    zmesh_state_config_t config = self->config;
    config.max_owners = 2;  //  itself and one other
    zmesh_id_t id = s_id (2);
    assert_int_equal (zmesh_state_init (&self->core [2], &config, &id, 1, 0, 3, 0), ZMESH_OK);
    s_set (self, 0, "a", "1");
    s_set (self, 1, "b", "2");
    s_exchange (self, 0, 1);
    s_exchange (self, 2, 0);
    assert_int_equal (zmesh_state_owner_count (&self->core [2]), 2);
    assert_true (zmesh_state_dropped (&self->core [2], ZMESH_STATE_DROP_OWNERS) > 0);
    zmesh_state_owner_info_t info;
    assert_int_equal (zmesh_state_owner_at (&self->core [2], 0, &info), ZMESH_OK);
    assert_int_equal (zmesh_state_owner_at (&self->core [2], 2, &info), ZMESH_ENOTFOUND);
}

static void
test_state_ticks_and_peers (void **state)
{
    s_fixture_t *self = *state;
    zmesh_state_t *core = &self->core [0];
    zmesh_state_update_t *update = &self->update;
    //  No peers, no tombstones: nothing to wake up for.
    assert_int_equal (zmesh_state_deadline_ms (core), UINT64_MAX);
    zmesh_id_t peers [3] = {s_id (0), s_id (1), s_id (2)};
    zmesh_state_event_t event = {.type = ZMESH_STATE_PEERS, .peers = peers, .peer_count = 3};
    zmesh_state_step (core, &event, update);
    assert_int_equal (update->error, ZMESH_OK);
    uint64_t deadline = zmesh_state_deadline_ms (core);
    assert_true (deadline < self->config.interval_ms);
    //  Each tick at the deadline sends one SUMMARY to a peer (never to itself), then waits
    //  about an interval (+-10%).
    uint32_t sent [NODES] = {0, 0, 0};
    for (int i = 0; i < 60; i++) {
        zmesh_state_event_t tick = {.type = ZMESH_STATE_TICK, .now_ms = deadline};
        zmesh_state_step (core, &tick, update);
        assert_int_equal (update->msg_count, 1);
        assert_int_equal (update->msgs [0].msg.type, ZMESH_STATE_MSG_SUMMARY);
        sent [s_node_of (&update->msgs [0].to)]++;
        uint64_t next = zmesh_state_deadline_ms (core);
        assert_true (next >= deadline + 900 && next <= deadline + 1100);
        //  A tick before the deadline does nothing.
        tick.now_ms = next - 1;
        zmesh_state_step (core, &tick, update);
        assert_int_equal (update->msg_count, 0);
        deadline = next;
    }
    assert_int_equal (sent [0], 0);
    assert_true (sent [1] > 10 && sent [2] > 10);
    //  More peers than max_peers: ZMESH_ELIMIT, and the first ones are kept.
    zmesh_state_fini (&self->core [1]);
    zmesh_state_config_t config = self->config;
    config.max_peers = 1;
    zmesh_id_t id = s_id (1);
    assert_int_equal (zmesh_state_init (&self->core [1], &config, &id, 1, 0, 3, 0), ZMESH_OK);
    zmesh_state_step (&self->core [1], &event, update);
    assert_int_equal (update->error, ZMESH_ELIMIT);
    assert_int_equal (update->dropped [ZMESH_STATE_DROP_PEERS], 1);
    //  An exchange with oneself is refused.
    zmesh_state_event_t exchange = {.type = ZMESH_STATE_EXCHANGE, .peer = id};
    zmesh_state_step (&self->core [1], &exchange, update);
    assert_int_equal (update->error, ZMESH_EINVAL);
}

//  Teach node 1 count owners 0x80..(batch)(i), at version, by a hand-made DELTAS from node 2.
static void
s_teach_owners (s_fixture_t *self, uint8_t batch, uint32_t count, uint64_t version)
{
    static zmesh_state_run_t runs [200];
    static zmesh_state_delta_t deltas [200];
    for (uint32_t i = 0; i < count; i++) {
        zmesh_id_t owner;
        memset (owner.bytes, 0, sizeof owner.bytes);
        owner.bytes [0] = 0x80;
        owner.bytes [14] = batch;
        owner.bytes [15] = (uint8_t) i;
        runs [i] = (zmesh_state_run_t){.owner = owner,
                                       .generation = 1,
                                       .from_version = version - 1,
                                       .to_version = version,
                                       .held_version = version,
                                       .first_delta = i,
                                       .delta_count = 1};
        deltas [i] = (zmesh_state_delta_t){.key = "k",
                                           .key_size = 1,
                                           .value = (const uint8_t *) "v",
                                           .value_size = 1,
                                           .version = version};
    }
    zmesh_state_msg_t msg = {.type = ZMESH_STATE_MSG_DELTAS,
                             .run_count = count,
                             .runs = runs,
                             .delta_count = count,
                             .deltas = deltas};
    zmesh_state_event_t event = {
        .type = ZMESH_STATE_RECEIVED, .now_ms = self->now_ms, .peer = s_id (2), .msg = &msg};
    zmesh_state_step (&self->core [1], &event, &self->update);
    assert_int_equal (self->update.change_count, count);
}

//  In sync, an exchange is one small SUMMARY: a count and a hash for the whole id space.
static void
test_state_summary_in_sync (void **state)
{
    s_fixture_t *self = *state;
    s_set (self, 0, "load", "0.5");
    s_set (self, 1, "load", "1.5");
    s_set (self, 2, "load", "2.5");
    s_exchange (self, 0, 1);
    s_exchange (self, 2, 1);
    s_exchange (self, 0, 2);
    //  Hot (just changed): listed one by one, so news spreads at every exchange.
    zmesh_state_event_t exchange = {.type = ZMESH_STATE_EXCHANGE, .peer = s_id (1)};
    zmesh_state_step (&self->core [0], &exchange, &self->update);
    assert_int_equal (self->update.msg_count, 1);
    assert_int_equal (self->update.msgs [0].msg.digest_count, 3);
    //  Later, nothing is hot: no entry, one summary of the three owners.
    self->now_ms = self->config.hot_ms;
    exchange.now_ms = self->now_ms;
    zmesh_state_step (&self->core [0], &exchange, &self->update);
    const zmesh_state_msg_t *msg = &self->update.msgs [0].msg;
    assert_int_equal (msg->type, ZMESH_STATE_MSG_SUMMARY);
    assert_int_equal (msg->digest_count, 0);
    assert_int_equal (msg->summary_count, 1);
    assert_int_equal (msg->summaries [0].count, 3);
    uint64_t hash = 0;
    for (uint32_t n = 0; n < NODES; n++) {
        zmesh_id_t id = s_id (n);
        hash += zmesh_state_tuple_hash (&id, 1, 1);
    }
    assert_true (msg->summaries [0].hash == hash);
    assert_true (zmesh_state_msg_size (msg) <= 60);
    //  The digest a shell compares (in SWIM probes) is this summary in one word: the same on
    //  every node that holds the same, by protocol.md 7.5's formula, never 0.
    uint64_t z = hash ^ (NODES * 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    for (uint32_t n = 0; n < NODES; n++)
        assert_true (zmesh_state_digest (&self->core [n]) == (z ? z : 1));

    //  The peer agrees, and says nothing: the exchange is this one message.
    self->messages = 0;
    self->changes [ZMESH_STATE_CHANGE_SET] = 0;
    for (uint32_t from = 0; from < NODES; from++)
        s_exchange (self, from, (from + 1) % NODES);
    assert_int_equal (self->messages, NODES);
    assert_int_equal (self->changes [ZMESH_STATE_CHANGE_SET], 0);
    //  An older peer's DIGEST of everything is still answered: in sync, with nothing.
    zmesh_state_digest_entry_t entries [NODES];
    for (uint32_t n = 0; n < NODES; n++)
        entries [n] = (zmesh_state_digest_entry_t){s_id (n), 1, 1, 0};
    zmesh_state_msg_t digest = {.type = ZMESH_STATE_MSG_DIGEST,
                                .range_hi = s_id (0xf),
                                .digest_count = NODES,
                                .digest = entries};
    memset (digest.range_hi.bytes, 0xff, ZMESH_ID_SIZE);
    zmesh_state_event_t received = {
        .type = ZMESH_STATE_RECEIVED, .now_ms = self->now_ms, .peer = s_id (2), .msg = &digest};
    zmesh_state_step (&self->core [0], &received, &self->update);
    assert_int_equal (self->update.msg_count, 0);
    //  And behind, it asks.
    entries [1].version = 2;
    zmesh_state_step (&self->core [0], &received, &self->update);
    assert_int_equal (self->update.msg_count, 1);
    assert_int_equal (self->update.msgs [0].msg.type, ZMESH_STATE_MSG_DELTAS);
    assert_int_equal (self->update.msgs [0].msg.digest_count, 1);
    //  A write anywhere makes that node's digest differ, until an exchange carries it.
    s_set (self, 2, "load", "2.6");
    assert_true (zmesh_state_digest (&self->core [2]) != zmesh_state_digest (&self->core [0]));
    s_exchange (self, 0, 2);
    assert_true (zmesh_state_digest (&self->core [2]) == zmesh_state_digest (&self->core [0]));
    assert_true (zmesh_state_digest (&self->core [1]) != zmesh_state_digest (&self->core [0]));
}

//  Out of sync on an owner no longer hot: the summaries differ, the peer lists its owners,
//  and the usual requests and runs follow.
static void
test_state_summary_out_of_sync (void **state)
{
    s_fixture_t *self = *state;
    s_set (self, 0, "load", "0.5");
    s_set (self, 2, "load", "2.5");
    s_exchange (self, 0, 1);
    s_exchange (self, 2, 1);
    s_exchange (self, 0, 2);
    //  Node 0 writes while node 1 is away, and node 2 hears of it.
    s_set (self, 0, "load", "0.6");
    s_exchange (self, 0, 2);
    //  Long after, node 1 talks to node 2: nothing is hot, but the whole-space sums differ.
    self->now_ms = self->config.hot_ms;
    memset (self->by_type, 0, sizeof self->by_type);
    s_exchange (self, 1, 2);
    assert_string_equal (s_get (self, 1, 0, "load"), "0.6");
    //  SUMMARY (sums), SUMMARY (node 2 lists its three owners), DELTAS (request), DELTAS (run).
    assert_int_equal (self->by_type [ZMESH_STATE_MSG_SUMMARY], 2);
    assert_int_equal (self->by_type [ZMESH_STATE_MSG_DELTAS], 2);
    //  Both ways: node 2 starts, node 1 is behind and says so with its sums... then the same.
    s_set (self, 2, "load", "2.6");
    self->now_ms = 2 * self->config.hot_ms;
    s_exchange (self, 2, 0);
    s_exchange (self, 0, 1);  //  node 0 lists node 2 as hot: node 1 asks for it
    assert_string_equal (s_get (self, 1, 2, "load"), "2.6");
    //  In sync again: one message an exchange.
    self->now_ms = 4 * self->config.hot_ms;
    self->messages = 0;
    s_exchange (self, 1, 2);
    s_exchange (self, 2, 0);
    assert_int_equal (self->messages, 2);
}

//  Busy (owners hot here): the start lists the hot owners and the others from the cursor, as
//  complete ranges, not a summary of them: a peer with news of an owner not hot here answers
//  at once with the run, without a round of narrowing.
static void
test_state_summary_busy (void **state)
{
    s_fixture_t *self = *state;
    s_set (self, 0, "load", "0.5");
    s_set (self, 2, "load", "2.5");
    s_exchange (self, 0, 1);
    s_exchange (self, 2, 1);
    s_exchange (self, 1, 0);
    s_exchange (self, 1, 2);
    //  Later, node 2 moves on and tells node 1; node 0 writes too (it is busy).
    self->now_ms = 2 * self->config.hot_ms;
    s_set (self, 2, "load", "2.6");
    s_exchange (self, 2, 1);
    s_set (self, 0, "load", "0.6");
    memset (self->by_type, 0, sizeof self->by_type);
    zmesh_state_event_t event = {.type = ZMESH_STATE_EXCHANGE, .peer = s_id (1)};
    zmesh_state_step (&self->core [0], &event, &self->update);
    assert_int_equal (self->update.msg_count, 1);
    const zmesh_state_msg_t *msg = &self->update.msgs [0].msg;
    assert_int_equal (msg->type, ZMESH_STATE_MSG_SUMMARY);
    //  Every owner it holds (its own, hot; node 2's, not hot here: node 1 wrote nothing).
    assert_int_equal (msg->digest_count, zmesh_state_owner_count (&self->core [0]));
    assert_int_equal (msg->digest_count, 2);
    assert_int_equal (msg->summary_count, 1);  //  one complete range: everything
    assert_int_equal (msg->summaries [0].count, 0);
    s_exchange (self, 0, 1);
    assert_string_equal (s_get (self, 0, 2, "load"), "2.6");
    assert_string_equal (s_get (self, 1, 0, "load"), "0.6");
    //  SUMMARY (the listing), DELTAS (node 2's run, node 0's requested), DELTAS (the answer).
    assert_int_equal (self->by_type [ZMESH_STATE_MSG_SUMMARY], 1);
    assert_int_equal (self->by_type [ZMESH_STATE_MSG_DELTAS], 2);
}

//  With hundreds of owners, a range that differs is cut into pieces until the owner that
//  differs is found, and every message keeps to the budget.
static void
test_state_summary_narrowing (void **state)
{
    s_fixture_t *self = *state;
    s_teach_owners (self, 0, 200, 1);
    s_teach_owners (self, 1, 100, 1);
    assert_int_equal (zmesh_state_owner_count (&self->core [1]), 301);
    //  Node 0 knows none of them: each exchange brings it as many as its budget carries.
    int exchanges = 0;
    for (; exchanges < 20 && zmesh_state_owner_count (&self->core [0]) < 301; exchanges++)
        s_exchange (self, 0, 1);
    assert_int_equal (zmesh_state_owner_count (&self->core [0]), 301);
    assert_true (exchanges >= 5 && exchanges <= 12);
    assert_true (self->largest <= self->config.budget_bytes);
    //  One owner among 300 moves on, no longer hot by the time node 0 starts an exchange.
    self->now_ms = self->config.hot_ms;
    s_teach_owners (self, 1, 1, 2);
    self->now_ms = 2 * self->config.hot_ms;
    self->messages = 0;
    self->largest = 0;
    memset (self->by_type, 0, sizeof self->by_type);
    s_exchange (self, 0, 1);
    zmesh_id_t moved;
    memset (moved.bytes, 0, sizeof moved.bytes);
    moved.bytes [0] = 0x80;
    moved.bytes [14] = 1;
    zmesh_state_owner_info_t info;
    assert_int_equal (zmesh_state_owner_info (&self->core [0], &moved, &info), ZMESH_OK);
    assert_int_equal (info.version, 2);
    //  SUMMARY (one range), SUMMARY (8 pieces), SUMMARY (the piece that differs, listed),
    //  DELTAS (the run): far less than listing 300 owners (~7 KB).
    assert_int_equal (self->by_type [ZMESH_STATE_MSG_SUMMARY], 3);
    assert_int_equal (self->by_type [ZMESH_STATE_MSG_DELTAS], 1);
    assert_true (self->largest <= self->config.budget_bytes);
    //  Then in sync: one message.
    self->messages = 0;
    s_exchange (self, 1, 0);
    assert_int_equal (self->messages, 1);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_state_local_writes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_state_local_bounds, s_setup, s_teardown),
        cmocka_unit_test (test_state_config_check),
        cmocka_unit_test_setup_teardown (test_state_exchange_converges, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_state_budget_and_prefix, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_state_generation_restart, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_state_tombstone_collection_is_safe, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_state_forget, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_state_bad_input, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_state_replica_bounds, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_state_max_owners, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_state_ticks_and_peers, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_state_summary_in_sync, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_state_summary_out_of_sync, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_state_summary_busy, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_state_summary_narrowing, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
