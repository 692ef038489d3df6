/*  zmesh_control_mesh.c: the control actor's commands about the mesh and this node (see
    zmesh_control.c): status, members, keys, join, trust, state-set, state-del, state-get,
    state-keys, topology, and the test hook fault.

    Each is answered at once. status, members and keys copy what they show out of the node's
    shared state (zmesh_node_ctx.h) under its lock; join, trust and fault change other actors'
    state, so they go to the supervisor as "ROUTE" messages on the pipe (zmesh_actors.h); the
    state-* commands and topology call the gossip actor's state service (zmesh_gossip_state.h),
    a synchronous call bounded by ZMESH_STATE_CALL_TIMEOUT_MS.
*/
#include "zmesh_control_internal.h"
#include "zmesh_gossip_state.h"
#include "zmesh_mpack.h"
#include "zmesh_topology.h"
#include <string.h>
#include <unistd.h>

#ifndef ZMESH_VERSION
#define ZMESH_VERSION ZMESH_API_VERSION
#endif

//  ---------------------------------------------------------------------------------------------
//  Reading the node's state

//  The members snapshot, self first. Before gossip has published one, a table of this node
//  alone, so that status and members always show at least self. NULL if out of memory.
zmesh_member_t *
zmesh_control__members (zmesh_control_t *self, size_t *count)
{
    zmesh_member_t *members = zmesh_ctx_members (self->ctx, count);
    if (members)
        return members;
    members = calloc (1, sizeof *members);
    if (!members)
        return NULL;
    const zmesh_node_ctx_t *ctx = self->ctx;
    snprintf (members->id, sizeof members->id, "%s", ctx->identity.id_hex);
    snprintf (members->name, sizeof members->name, "%s", ctx->config.name);
    zmesh_ctx_endpoint (self->ctx, members->endpoint);
    snprintf (members->public_key, sizeof members->public_key, "%s", ctx->identity.key_hex);
    snprintf (members->state, sizeof members->state, "alive");
    members->self = true;
    members->generation = ctx->generation;
    *count = 1;
    return members;
}

size_t
zmesh_control__count_state (const zmesh_member_t *members, size_t count, const char *state)
{
    size_t matches = 0;
    for (size_t i = 0; i < count; i++)
        if (strcmp (members [i].state, state) == 0)
            matches++;
    return matches;
}

uint64_t
zmesh_control__uptime_s (const zmesh_node_ctx_t *ctx)
{
    int64_t elapsed_ms = zclock_mono () - ctx->started_mono_ms;
    return elapsed_ms > 0 ? (uint64_t) elapsed_ms / 1000 : 0;
}

//  "ENDPOINT#KEYHEX" of this node, "" before it is bound.
static void
s_contact (zmesh_control_t *self, char contact [ZMESH_CONTACT_MAX])
{
    char endpoint [ZMESH_ENDPOINT_MAX];
    zmesh_ctx_endpoint (self->ctx, endpoint);
    contact [0] = 0;
    if (endpoint [0])
        zmesh_contact_format (contact, endpoint, self->ctx->identity.pub.sign_public);
}

//  ---------------------------------------------------------------------------------------------
//  Status, members, keys, join, trust

static void
s_pack_kv_double (msgpack_packer *pk, const char *key, double value)
{
    zmesh_mp_pack_cstr (pk, key);
    msgpack_pack_double (pk, value);
}

//  What the health actor measured: a map, for status and the self row of members.
static void
s_pack_resources (msgpack_packer *pk, const zmesh_profile_t *p, uint64_t age_ms)
{
    msgpack_pack_map (pk, 15);
    zmesh_control__pack_kv_uint (pk, "cpu_cores", p->cpu_cores);
    zmesh_control__pack_kv_str (pk, "cpu_model", p->cpu_model);
    zmesh_control__pack_kv_uint (pk, "cpu_quota_millicores", p->cpu_quota_millicores);
    s_pack_kv_double (pk, "load_avg1", p->load_avg1_milli / 1000.0);
    s_pack_kv_double (pk, "load_avg5", p->load_avg5_milli / 1000.0);
    s_pack_kv_double (pk, "load_avg15", p->load_avg15_milli / 1000.0);
    zmesh_mp_pack_cstr (pk, "cpu_util_percent");
    if (p->cpu_util_valid)
        msgpack_pack_double (pk, p->cpu_util_bp / 100.0);
    else
        msgpack_pack_nil (pk);
    zmesh_control__pack_kv_uint (pk, "mem_total_bytes", p->mem_total_bytes);
    zmesh_control__pack_kv_uint (pk, "mem_available_bytes", p->mem_available_bytes);
    zmesh_control__pack_kv_uint (pk, "mem_limit_bytes", p->mem_limit_bytes);
    zmesh_mp_pack_cstr (pk, "disks");
    msgpack_pack_array (pk, p->disk_count);
    for (uint32_t i = 0; i < p->disk_count; i++) {
        msgpack_pack_map (pk, 4);
        zmesh_control__pack_kv_str (pk, "mount", p->disks [i].mount_path);
        zmesh_control__pack_kv_str (pk, "fstype", p->disks [i].fstype);
        zmesh_control__pack_kv_uint (pk, "total_bytes", p->disks [i].total_bytes);
        zmesh_control__pack_kv_uint (pk, "free_bytes", p->disks [i].free_bytes);
    }
    zmesh_mp_pack_cstr (pk, "nets");
    msgpack_pack_array (pk, p->net_count);
    for (uint32_t i = 0; i < p->net_count; i++) {
        msgpack_pack_map (pk, 4);
        zmesh_control__pack_kv_str (pk, "name", p->nets [i].name);
        zmesh_control__pack_kv_str (pk, "operstate", p->nets [i].operstate);
        zmesh_control__pack_kv_uint (pk, "speed_mbps", p->nets [i].speed_mbps);
        zmesh_control__pack_kv_uint (pk, "mtu_bytes", p->nets [i].mtu_bytes);
    }
    zmesh_mp_pack_cstr (pk, "gpus");
    msgpack_pack_array (pk, p->gpu_count);
    for (uint32_t i = 0; i < p->gpu_count; i++) {
        msgpack_pack_map (pk, 4);
        zmesh_control__pack_kv_str (pk, "vendor", p->gpus [i].vendor);
        zmesh_control__pack_kv_str (pk, "model", p->gpus [i].model);
        zmesh_control__pack_kv_str (pk, "bus", p->gpus [i].bus);
        zmesh_control__pack_kv_uint (pk, "vram_bytes", p->gpus [i].vram_bytes);
    }
    zmesh_mp_pack_cstr (pk, "bench");
    if (p->bench.valid) {
        msgpack_pack_map (pk, 3);
        zmesh_control__pack_kv_uint (pk, "hash_bytes_per_s", p->bench.hash_bytes_per_s);
        zmesh_control__pack_kv_uint (pk, "int_ops_per_s", p->bench.int_ops_per_s);
        zmesh_control__pack_kv_uint (pk, "mem_copy_bytes_per_s", p->bench.mem_copy_bytes_per_s);
    }
    else
        msgpack_pack_nil (pk);
    zmesh_control__pack_kv_uint (pk, "age_ms", age_ms);
}

//  This node's resources, if the health actor has measured them: true and *profile filled.
static bool
s_resources (zmesh_control_t *self, zmesh_profile_t *profile, uint64_t *age_ms)
{
    uint64_t at_ms;
    if (!zmesh_ctx_profile (self->ctx, profile, &at_ms))
        return false;
    uint64_t now = (uint64_t) zclock_mono ();
    *age_ms = now > at_ms ? now - at_ms : 0;
    return true;
}

int
zmesh_control__cmd_status (zmesh_control_t *self,
                           char args [][ZMESH_CONTROL_ARG_MAX],
                           zmesh_control_reply_t *reply)
{
    zmesh_node_ctx_t *ctx = self->ctx;
    size_t member_count;
    zmesh_member_t *members = zmesh_control__members (self, &member_count);
    if (!members)
        return zmesh_control__fail (reply, "out of memory");
    zmesh_actor_status_t actors [ZMESH_ACTORS_MAX];
    size_t actor_count = zmesh_ctx_actors (ctx, actors, ZMESH_ACTORS_MAX);
    char endpoint [ZMESH_ENDPOINT_MAX];
    zmesh_ctx_endpoint (ctx, endpoint);
    char contact [ZMESH_CONTACT_MAX];
    s_contact (self, contact);

    zmesh_profile_t profile;
    uint64_t age_ms = 0;
    bool measured = s_resources (self, &profile, &age_ms);
    msgpack_packer *pk = &reply->pk;
    msgpack_pack_map (pk, measured ? 14 : 13);
    zmesh_control__pack_kv_str (pk, "id", ctx->identity.id_hex);
    zmesh_control__pack_kv_str (pk, "name", ctx->config.name);
    zmesh_control__pack_kv_str (pk, "version", ZMESH_VERSION);
    zmesh_control__pack_kv_str (pk, "endpoint", endpoint);
    zmesh_control__pack_kv_str (pk, "contact", contact);
    zmesh_control__pack_kv_str (pk, "public_key", ctx->identity.key_hex);
    zmesh_control__pack_kv_uint (pk, "uptime_s", zmesh_control__uptime_s (ctx));
    zmesh_control__pack_kv_uint (pk, "generation", ctx->generation);
    zmesh_control__pack_kv_str (pk, "trust_mode", ctx->config.trust_mode);
    zmesh_control__pack_kv_str (pk, "data", ctx->config.data);
    zmesh_control__pack_kv_uint (pk, "pid", (uint64_t) getpid ());
    zmesh_mp_pack_cstr (pk, "actors");
    msgpack_pack_array (pk, actor_count);
    for (size_t i = 0; i < actor_count; i++) {
        msgpack_pack_map (pk, 3);
        zmesh_control__pack_kv_str (pk, "name", actors [i].name);
        zmesh_control__pack_kv_str (pk, "state", actors [i].state);
        zmesh_control__pack_kv_uint (pk, "restarts", actors [i].restarts);
    }
    zmesh_control__pack_kv_uint (pk, "members_alive",
                                 zmesh_control__count_state (members, member_count, "alive"));
    if (measured) {
        zmesh_mp_pack_cstr (pk, "resources");
        s_pack_resources (pk, &profile, age_ms);
    }
    free (members);
    return 0;
}

int
zmesh_control__cmd_members (zmesh_control_t *self,
                            char args [][ZMESH_CONTROL_ARG_MAX],
                            zmesh_control_reply_t *reply)
{
    size_t count;
    zmesh_member_t *members = zmesh_control__members (self, &count);
    if (!members)
        return zmesh_control__fail (reply, "out of memory");
    //  Resources: this node's from the health actor, the others' from the gossip state.
    zmesh_profile_t profile;
    uint64_t age_ms = 0;
    bool measured = s_resources (self, &profile, &age_ms);
    msgpack_packer *pk = &reply->pk;
    msgpack_pack_array (pk, count);
    for (size_t i = 0; i < count; i++) {
        const zmesh_member_t *member = &members [i];
        zmesh_profile_t *shown = NULL, theirs;
        if (member->self && measured)
            shown = &profile;
        else if (!member->self && zmesh_ctx_member_profile (self->ctx, member->id, &theirs))
            shown = &theirs;
        msgpack_pack_map (pk, shown ? 11 : 10);
        zmesh_control__pack_kv_str (pk, "id", member->id);
        zmesh_control__pack_kv_str (pk, "name", member->name);
        zmesh_control__pack_kv_str (pk, "endpoint", member->endpoint);
        zmesh_control__pack_kv_str (pk, "public_key", member->public_key);
        zmesh_control__pack_kv_str (pk, "state", member->state);
        zmesh_mp_pack_cstr (pk, "self");
        if (member->self)
            msgpack_pack_true (pk);
        else
            msgpack_pack_false (pk);
        zmesh_control__pack_kv_uint (pk, "generation", member->generation);
        zmesh_control__pack_kv_uint (pk, "incarnation", member->incarnation);
        zmesh_control__pack_kv_str (pk, "view", member->view);
        zmesh_control__pack_kv_uint (pk, "silent_ms", member->silent_ms);
        if (shown) {
            zmesh_mp_pack_cstr (pk, "resources");
            s_pack_resources (pk, shown, shown == &profile ? age_ms : 0);
        }
    }
    free (members);
    return 0;
}

int
zmesh_control__cmd_keys (zmesh_control_t *self,
                         char args [][ZMESH_CONTROL_ARG_MAX],
                         zmesh_control_reply_t *reply)
{
    zmesh_node_ctx_t *ctx = self->ctx;
    char contact [ZMESH_CONTACT_MAX];
    s_contact (self, contact);
    msgpack_packer *pk = &reply->pk;
    msgpack_pack_map (pk, 5);
    zmesh_control__pack_kv_str (pk, "id", ctx->identity.id_hex);
    zmesh_control__pack_kv_str (pk, "public_key", ctx->identity.key_hex);
    zmesh_control__pack_kv_str (pk, "contact", contact);
    zmesh_control__pack_kv_str (pk, "trust_mode", ctx->config.trust_mode);
    zmesh_control__pack_kv_uint (pk, "trusted_count", zmesh_trust_count (ctx->trust));
    return 0;
}

int
zmesh_control__cmd_join (zmesh_control_t *self,
                         char args [][ZMESH_CONTROL_ARG_MAX],
                         zmesh_control_reply_t *reply)
{
    char endpoint [ZMESH_ENDPOINT_MAX];
    uint8_t key [ZMESH_KEY_SIZE];
    char shown [64];
    if (zmesh_contact_parse (args [0], endpoint, key))
        return zmesh_control__fail (
            reply,
            "not a contact: '%s' (expected tcp://HOST:PORT#KEY, KEY the node's "
            "public key in 64 hex digits, as 'zmeshctl keys' prints it)",
            zmesh_control__printable (shown, sizeof shown, args [0]));
    if (memcmp (key, self->ctx->identity.pub.sign_public, ZMESH_KEY_SIZE) == 0)
        return zmesh_control__fail (reply, "that is this node's own contact");
    char contact [ZMESH_CONTACT_MAX];
    zmesh_contact_format (contact, endpoint, key);
    zstr_sendx (self->pipe, "ROUTE", "gossip", "JOIN", contact, NULL);
    msgpack_pack_map (&reply->pk, 1);
    zmesh_control__pack_kv_str (&reply->pk, "joining", contact);
    return 0;
}

int
zmesh_control__cmd_trust (zmesh_control_t *self,
                          char args [][ZMESH_CONTROL_ARG_MAX],
                          zmesh_control_reply_t *reply)
{
    char shown [64];
    if (strcmp (args [0], "add") != 0)
        return zmesh_control__fail (reply,
                                    "unknown trust subcommand '%s' (expected: trust add KEY)",
                                    zmesh_control__printable (shown, sizeof shown, args [0]));
    uint8_t key [ZMESH_KEY_SIZE];
    if (zmesh_hex_decode (key, ZMESH_KEY_SIZE, args [1]))
        return zmesh_control__fail (reply, "not a public key: '%s' (expected 64 hex digits)",
                                    zmesh_control__printable (shown, sizeof shown, args [1]));
    zmesh_public_t pub;
    if (zmesh_public_from_sign_key (&pub, key))
        return zmesh_control__fail (reply, "not a valid Ed25519 public key: %s", args [1]);
    int rc = zmesh_trust_add (self->ctx->trust, key, true);
    if (rc == ZMESH_ELIMIT)
        return zmesh_control__fail (reply, "cannot trust more keys: the limit is %d",
                                    ZMESH_TRUST_KEYS_MAX);
    if (rc)
        return zmesh_control__fail (reply, "cannot trust the key: %s (writing %s/trusted/)",
                                    zmesh_strerror (rc), self->ctx->config.data);
    zstr_sendx (self->pipe, "ROUTE", "gossip", "TRUST", NULL);

    char key_hex [ZMESH_KEY_HEX_SIZE];
    char id_hex [ZMESH_ID_HEX_SIZE];
    zmesh_hex_encode (key_hex, key, ZMESH_KEY_SIZE);
    zmesh_id_to_hex (&pub.id, id_hex);
    msgpack_pack_map (&reply->pk, 2);
    zmesh_control__pack_kv_str (&reply->pk, "trusted", key_hex);
    zmesh_control__pack_kv_str (&reply->pk, "id", id_hex);
    return 0;
}

//  ---------------------------------------------------------------------------------------------
//  Node state

//  Which node an argument names: "" or "self" (this one), a name, or an id or its prefix.
static int
s_resolve_node (zmesh_control_t *self,
                const char *which,
                char id [ZMESH_ID_HEX_SIZE],
                zmesh_control_reply_t *reply)
{
    if (!which [0] || streq (which, "self")) {
        snprintf (id, ZMESH_ID_HEX_SIZE, "%s", self->ctx->identity.id_hex);
        return 0;
    }
    size_t count, found = 0;
    zmesh_member_t *members = zmesh_control__members (self, &count);
    if (!members)
        return zmesh_control__fail (reply, "out of memory");
    for (size_t i = 0; i < count; i++)
        if (streq (members [i].name, which)
            || strncmp (members [i].id, which, strlen (which)) == 0) {
            if (found++ == 0)
                snprintf (id, ZMESH_ID_HEX_SIZE, "%s", members [i].id);
        }
    free (members);
    char shown [64];
    if (found == 0)
        return zmesh_control__fail (reply, "no member named '%s' (a name, or an id or its prefix)",
                                    zmesh_control__printable (shown, sizeof shown, which));
    if (found > 1)
        return zmesh_control__fail (reply, "'%s' names %zu members: give more of the id",
                                    zmesh_control__printable (shown, sizeof shown, which), found);
    return 0;
}

//  Forward a call to the gossip actor's state service; its answer is the reply.
static int
s_state (zmesh_control_t *self,
         const char *command,
         const char *a,
         const char *b,
         zmesh_control_reply_t *reply)
{
    zframe_t *payload = NULL;
    char why [ZMESH_CONTROL_ERROR_MAX];
    int rc = zmesh_gstate_call (self->ctx->state_endpoint, command, a, b, b ? strlen (b) : 0,
                                &payload, why, sizeof why);
    if (rc)
        return zmesh_control__fail (reply, "%s", why);
    zmesh_control__reply_write (reply, (const char *) zframe_data (payload), zframe_size (payload));
    zframe_destroy (&payload);
    return 0;
}

int
zmesh_control__cmd_state_set (zmesh_control_t *self,
                              char args [][ZMESH_CONTROL_ARG_MAX],
                              zmesh_control_reply_t *reply)
{
    return s_state (self, "set", args [0], args [1], reply);
}

int
zmesh_control__cmd_state_del (zmesh_control_t *self,
                              char args [][ZMESH_CONTROL_ARG_MAX],
                              zmesh_control_reply_t *reply)
{
    return s_state (self, "del", args [0], NULL, reply);
}

//  state-get NODE KEY ("" NODE: this one)
int
zmesh_control__cmd_state_get (zmesh_control_t *self,
                              char args [][ZMESH_CONTROL_ARG_MAX],
                              zmesh_control_reply_t *reply)
{
    char id [ZMESH_ID_HEX_SIZE];
    return s_resolve_node (self, args [0], id, reply) ? -1
                                                      : s_state (self, "get", id, args [1], reply);
}

int
zmesh_control__cmd_state_keys (zmesh_control_t *self,
                               char args [][ZMESH_CONTROL_ARG_MAX],
                               zmesh_control_reply_t *reply)
{
    char id [ZMESH_ID_HEX_SIZE];
    return s_resolve_node (self, args [0], id, reply) ? -1
                                                      : s_state (self, "keys", id, NULL, reply);
}

//  ---------------------------------------------------------------------------------------------
//  Topology

//  The "value" of a state service answer {owner, key, value: bin, version}; false if none.
static bool
s_answer_value (zframe_t *payload, const uint8_t **value, uint32_t *size)
{
    zmesh_mp_reader_t r;
    zmesh_mp_reader_init (&r, zframe_data (payload), zframe_size (payload));
    uint32_t count;
    if (zmesh_mp_read_map (&r, &count))
        return false;
    for (uint32_t i = 0; i < count; i++) {
        const char *name;
        uint32_t name_size;
        if (zmesh_mp_read_str (&r, &name, &name_size))
            return false;
        if (name_size == 5 && memcmp (name, "value", 5) == 0)
            return zmesh_mp_read_bin (&r, value, size) == 0;
        if (zmesh_mp_skip (&r))
            return false;
    }
    return false;
}

static int
s_edge_compare (const void *x, const void *y)
{
    const zmesh_edge_t *a = (const zmesh_edge_t *) x, *b = (const zmesh_edge_t *) y;
    return a->a != b->a ? (a->a < b->a ? -1 : 1) : (a->b < b->b ? -1 : a->b > b->b);
}

//  The links of the live members (each publishes its own in its state, zmesh.links), as
//  distinct undirected edges between member indexes. Returns the count; *edges: caller frees.
static size_t
s_topology_edges (zmesh_control_t *self,
                  const zmesh_member_t *members,
                  size_t count,
                  zmesh_edge_t **edges)
{
    size_t capacity = count * ZMESH_STATE_LINKS_MAX + 1, used = 0;
    *edges = (zmesh_edge_t *) malloc (capacity * sizeof **edges);
    ZMESH_ASSERT (*edges);
    for (size_t i = 0; i < count; i++) {
        zframe_t *payload = NULL;
        const uint8_t *value;
        uint32_t size;
        if (zmesh_gstate_call (self->ctx->state_endpoint, "get", members [i].id,
                               ZMESH_STATE_LINKS_KEY, strlen (ZMESH_STATE_LINKS_KEY), &payload,
                               NULL, 0)
                == 0
            && s_answer_value (payload, &value, &size))
            for (uint32_t at = 0; at + ZMESH_ID_SIZE <= size && used < capacity;
                 at += ZMESH_ID_SIZE) {
                char id_hex [ZMESH_ID_HEX_SIZE];
                zmesh_hex_encode (id_hex, value + at, ZMESH_ID_SIZE);
                for (size_t j = 0; j < count; j++)
                    if (j != i && streq (members [j].id, id_hex)) {
                        (*edges) [used].a = (uint32_t) (i < j ? i : j);
                        (*edges) [used].b = (uint32_t) (i < j ? j : i);
                        used++;
                    }
            }
        zframe_destroy (&payload);
    }
    qsort (*edges, used, sizeof **edges, s_edge_compare);
    size_t unique = 0;
    for (size_t i = 0; i < used; i++)
        if (unique == 0 || s_edge_compare (&(*edges) [unique - 1], &(*edges) [i]) != 0)
            (*edges) [unique++] = (*edges) [i];
    return unique;
}

//  The mesh as a graph: every live member's links and the figures of the whole (degree,
//  diameter, average path, clustering, articulation points, partition risk).
int
zmesh_control__cmd_topology (zmesh_control_t *self,
                             char args [][ZMESH_CONTROL_ARG_MAX],
                             zmesh_control_reply_t *reply)
{
    size_t all;
    zmesh_member_t *members = zmesh_control__members (self, &all);
    if (!members)
        return zmesh_control__fail (reply, "out of memory");
    size_t count = 0;  //  the live ones, first
    for (size_t i = 0; i < all; i++)
        if (streq (members [i].state, "alive") || streq (members [i].state, "suspect"))
            members [count++] = members [i];
    zmesh_edge_t *edges;
    size_t edge_count = s_topology_edges (self, members, count, &edges);
    zmesh_topology_stats_t stats;
    int rc = zmesh_topology_analyse ((uint32_t) count, edges, edge_count, &stats);
    if (rc) {
        free (edges);
        free (members);
        return zmesh_control__fail (reply, "cannot analyse the graph: %s", zmesh_strerror (rc));
    }
    msgpack_packer *pk = &reply->pk;
    msgpack_pack_map (pk, 11);
    zmesh_mp_pack_cstr (pk, "nodes");
    msgpack_pack_array (pk, count);
    for (size_t i = 0; i < count; i++) {
        bool cut = false;
        for (uint32_t k = 0; k < stats.articulation_count; k++)
            cut = cut || stats.articulation [k] == i;
        msgpack_pack_map (pk, 4);
        zmesh_control__pack_kv_str (pk, "id", members [i].id);
        zmesh_control__pack_kv_str (pk, "name", members [i].name);
        zmesh_control__pack_kv_uint (pk, "degree", stats.degree [i]);
        zmesh_mp_pack_cstr (pk, "articulation");
        cut ? msgpack_pack_true (pk) : msgpack_pack_false (pk);
    }
    zmesh_mp_pack_cstr (pk, "edges");
    msgpack_pack_array (pk, edge_count);
    for (size_t i = 0; i < edge_count; i++) {
        msgpack_pack_array (pk, 2);
        msgpack_pack_uint32 (pk, edges [i].a);
        msgpack_pack_uint32 (pk, edges [i].b);
    }
    zmesh_control__pack_kv_uint (pk, "components", stats.components);
    zmesh_control__pack_kv_uint (pk, "degree_min", stats.degree_min);
    zmesh_control__pack_kv_uint (pk, "degree_max", stats.degree_max);
    s_pack_kv_double (pk, "degree_avg", stats.degree_avg);
    zmesh_control__pack_kv_uint (pk, "diameter", stats.diameter);
    s_pack_kv_double (pk, "avg_path_length", stats.avg_path_length);
    s_pack_kv_double (pk, "clustering", stats.clustering);
    zmesh_control__pack_kv_uint (pk, "articulation_points", stats.articulation_count);
    s_pack_kv_double (pk, "partition_risk", stats.partition_risk);
    zmesh_topology_stats_fini (&stats);
    free (edges);
    free (members);
    return 0;
}

//  ---------------------------------------------------------------------------------------------
//  Test hook

//  Test hook: the actor is told to return as if it had crashed, after this reply is sent (the
//  control actor may be the one to die).
int
zmesh_control__cmd_fault (zmesh_control_t *self,
                          char args [][ZMESH_CONTROL_ARG_MAX],
                          zmesh_control_reply_t *reply)
{
    static const char *actors [] = {"gossip", "health", "beacon", "control", "worker", "balancer"};
    bool known = false;
    for (size_t i = 0; i < sizeof actors / sizeof *actors; i++)
        known |= strcmp (args [0], actors [i]) == 0;
    char shown [64];
    if (!known)
        return zmesh_control__fail (
            reply,
            "no actor '%s' to fault (gossip, health, beacon, control, worker or "
            "balancer)",
            zmesh_control__printable (shown, sizeof shown, args [0]));
    if (!zmesh_config_has_actor (&self->ctx->config, args [0]))
        return zmesh_control__fail (reply, "actor %s does not run on this node (node/actors)",
                                    args [0]);
    snprintf (self->fault_actor, sizeof self->fault_actor, "%s", args [0]);
    msgpack_pack_map (&reply->pk, 1);
    zmesh_control__pack_kv_str (&reply->pk, "fault", args [0]);
    return 0;
}
