/*  zmesh_worker.c: the worker actor: runs tasks owners send it, on a pool of executor threads.

    Sockets. One ROUTER, a CURVE server bound at worker/bind (default: node/bind's host, any
    port), advertised in the node's gossip state as `zmesh.work` with the node's tags, its
    handlers and its load. Owners (balancer actors, this node's included) connect DEALERs to
    it and send SUBMIT and CANCEL; the worker answers on the same connection: RESULT, LEASE,
    CHECKPOINT. A peer's identity is the key CURVE authenticated (the ZAP User-Id); an
    envelope whose sender is not that key's id is dropped and counted, as is anything that
    does not decode (protocol/zmesh_task.h).

    Queue and executors. Tasks wait in a zmesh_taskq (priorities with aging, a CRITICAL
    reserve) guarded by one mutex, which worker/slots executor threads share: an executor
    takes the next task itself (one condition-variable wake-up, no message hop), runs its
    handler, and appends the result to a done list; the first result on an empty list wakes
    the actor through an eventfd, and the actor sends every result of the list, batched by
    owner. Checkpoints take the same path.

    Leases. Every worker/lease_interval_ms the worker tells each owner which of its attempts
    it holds (queued or running): silence means the owner re-dispatches them elsewhere.

    Files. This one is the actor: its sockets and the loop, what arrives on the servers,
    leases, publication, and its life. zmesh_worker_queue.c holds the tasks themselves: the
    queue (SUBMIT, CANCEL), the executors, and the results and checkpoints sent back;
    zmesh_worker_steal.c how work moves between workers (stealing, giving to a thief) and the
    bids for owners' auctions; zmesh_worker_handlers.c the handler API of zmesh.h and the
    built-in handlers. What they share is declared in zmesh_worker_internal.h.
*/
#include "zmesh_worker_internal.h"
#include <sodium.h>
#include <sys/eventfd.h>

#define S_PUBLISH_MIN_MS 1000  //  least time between two load publications
#define S_RECV_BATCH     256   //  messages read per wake-up before flushing

static void
s_free_item (void **item)
{
    free (*item);
    *item = NULL;
}

//  ---------------------------------------------------------------------------------------------
//  Binary id keys for zhashx

static size_t
s_id_hasher (const void *key)
{
    return (size_t) zmesh_id_hash ((const zmesh_id_t *) key);
}

static int
s_id_comparator (const void *a, const void *b)
{
    return memcmp (a, b, ZMESH_ID_SIZE);
}

static void *
s_id_duplicator (const void *key)
{
    void *copy = malloc (ZMESH_ID_SIZE);
    ZMESH_ASSERT (copy);
    memcpy (copy, key, ZMESH_ID_SIZE);
    return copy;
}

static void
s_id_destructor (void **key)
{
    free (*key);
    *key = NULL;
}

static zhashx_t *
s_id_table (void)
{
    zhashx_t *table = zhashx_new ();
    ZMESH_ASSERT (table);
    zhashx_set_key_hasher (table, s_id_hasher);
    zhashx_set_key_comparator (table, s_id_comparator);
    zhashx_set_key_duplicator (table, s_id_duplicator);
    zhashx_set_key_destructor (table, s_id_destructor);
    return table;
}

//  ---------------------------------------------------------------------------------------------
//  Receiving

//  Messages on the CURVE server (local false), or on the inproc one from this node's own
//  balancer (local true: no CURVE there, so the sender must be this node).
static void
s_handle_server (self_t *self, bool local)
{
    void *handle = local ? self->local_handle : self->server_handle;
    for (int n = 0; n < S_RECV_BATCH; n++) {
        zmq_msg_t routing, payload;
        zmq_msg_init (&routing);
        if (zmq_msg_recv (&routing, handle, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&routing);
            break;
        }
        zmq_msg_init (&payload);
        if (!zmq_msg_more (&routing) || zmq_msg_recv (&payload, handle, 0) < 0
            || zmq_msg_more (&payload) || zmq_msg_size (&routing) > 255) {
            zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_DROP_MALFORMED, 1);
            //  drain the rest of a multipart message
            while (zmq_msg_more (&payload) && zmq_msg_recv (&payload, handle, ZMQ_DONTWAIT) >= 0)
                ;
            zmq_msg_close (&payload);
            zmq_msg_close (&routing);
            continue;
        }
        zmesh_id_t sender = self->ctx->identity.pub.id;
        int rc = local ? zmesh_work_recv_from (&self->ctx->metrics, &payload, &sender, self->msg)
                       : zmesh_work_recv_check (&self->ctx->metrics, &payload, self->msg, &sender);
        if (rc == ZMESH_OK) {
            w_owner_t *owner = zmesh_worker__owner_get (self, &sender);
            owner->local = local;
            owner->routing_size = zmq_msg_size (&routing);
            memcpy (owner->routing, zmq_msg_data (&routing), owner->routing_size);
            zmesh_worker__flush_waiting (self, owner);
            if (self->msg->kind == ZMESH_TASK_KIND_SUBMIT)
                zmesh_worker__submit (self, self->msg);
            else if (self->msg->kind == ZMESH_TASK_KIND_CANCEL)
                zmesh_worker__cancel (self, self->msg);
            else if (self->msg->kind == ZMESH_TASK_KIND_STEAL)
                zmesh_worker__give (self, owner, self->msg->max);
            else if (self->msg->kind == ZMESH_TASK_KIND_CALL)
                zmesh_worker__bid (self, owner, &self->msg->call);
            else
                zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_DROP_UNKNOWN_TYPE, 1);
        }
        zmq_msg_close (&payload);
        zmq_msg_close (&routing);
    }
}

//  ---------------------------------------------------------------------------------------------
//  Leases and publication

static void
s_leases (self_t *self)
{
    //  Group the held tasks by owner: one LEASE (or more, if large) per owner.
    zlistx_t *order = zlistx_new ();
    pthread_mutex_lock (&self->lock);
    zmesh_task_load_t load = zmesh_worker__load (self);
    for (w_task_t *task = (w_task_t *) zhashx_first (self->tasks); task;
         task = (w_task_t *) zhashx_next (self->tasks))
        if (!task->finished)
            zlistx_add_end (order, task);
    //  Running flags are read under the lock, into the refs below.
    size_t count = zlistx_size (order);
    typedef struct {
        zmesh_id_t owner;
        zmesh_task_ref_t ref;
    } s_held_t;
    s_held_t *held = count ? (s_held_t *) malloc (count * sizeof *held) : NULL;
    size_t n = 0;
    for (w_task_t *task = (w_task_t *) zlistx_first (order); task && held;
         task = (w_task_t *) zlistx_next (order)) {
        held [n].owner = task->item.owner;
        held [n].ref.id = task->item.id;
        held [n].ref.attempt = task->item.attempt;
        held [n].ref.running = task->running;
        n++;
    }
    pthread_mutex_unlock (&self->lock);
    zlistx_destroy (&order);
    //  One pass per owner (owners are few).
    for (w_owner_t *owner = (w_owner_t *) zhashx_first (self->owners); owner;
         owner = (w_owner_t *) zhashx_next (self->owners)) {
        if (!owner->held)
            continue;
        zmesh_task_writer_t writer;
        bool begun = false;
        for (size_t i = 0; i < n; i++) {
            if (!zmesh_id_equal (&held [i].owner, &owner->id))
                continue;
            if (!begun) {
                zmesh_task_writer_begin (&writer, self->out, self->out_capacity,
                                         &self->ctx->identity.pub.id, ZMESH_TASK_KIND_LEASE, &load);
                begun = true;
            }
            int rc = zmesh_task_writer_add_ref (&writer, &held [i].ref);
            if (rc == ZMESH_ETOOBIG || rc == ZMESH_ELIMIT) {
                size_t size;
                if (zmesh_task_writer_finish (&writer, &size) == ZMESH_OK)
                    zmesh_worker__send_to (self, owner, self->out, size);
                zmesh_task_writer_begin (&writer, self->out, self->out_capacity,
                                         &self->ctx->identity.pub.id, ZMESH_TASK_KIND_LEASE, &load);
                zmesh_task_writer_add_ref (&writer, &held [i].ref);
            }
        }
        size_t size;
        if (begun && zmesh_task_writer_finish (&writer, &size) == ZMESH_OK)
            zmesh_worker__send_to (self, owner, self->out, size);
    }
    free (held);
}

//  Publish zmesh.work: where this worker listens, its tags and handlers, its load.
static void
s_publish (self_t *self, bool force)
{
    zmesh_task_load_t load = zmesh_worker__load_locked (self);
    int64_t now = zclock_mono ();
    //  Load moves all the time; the mesh hears of it only when it crosses a band (idle,
    //  busy, worth stealing from), at most every S_PUBLISH_MIN_MS.
    uint32_t band_now =
        zmesh_work_load_band (&load, (uint32_t) self->config->worker_steal_threshold);
    uint32_t band_then = zmesh_work_load_band (&self->published_load,
                                               (uint32_t) self->config->worker_steal_threshold);
    if (!force && band_now == band_then) {
        self->publish_at = 0;
        return;
    }
    if (!force && now - self->published_at < S_PUBLISH_MIN_MS) {
        self->publish_at = self->published_at + S_PUBLISH_MIN_MS;  //  held back: a timer
        return;
    }
    self->publish_at = 0;
    zmesh_work_info_t info;
    zmesh_worker__work_info (self, &info, &load, NULL);
    uint8_t encoded [1024];
    size_t size;
    int rc = zmesh_work_info_encode (&info, encoded, sizeof encoded, &size);
    if (rc == ZMESH_ETOOBIG) {
        //  Too many handlers to list: publish none (placement then assumes any).
        info.handler_count = 0;
        rc = zmesh_work_info_encode (&info, encoded, sizeof encoded, &size);
    }
    if (rc) {
        zsys_warning ("worker: cannot encode zmesh.work: %s", zmesh_strerror (rc));
        return;
    }
    self->published_at = now;
    self->published_load = load;
    zmesh_ctx_set_work (self->ctx, encoded, size);
    zmesh_ctx_view_changed (self->ctx, ZMESH_VIEW_WORK);
    zsock_send (self->pipe, "sssb", "ROUTE", "gossip", "WORK", encoded, size);
}

//  ---------------------------------------------------------------------------------------------
//  Life

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (!self)
        return;
    //  Tasks still queued go back to their owners at once (REFUSED), rather than when their
    //  leases expire.
    if (self->tasks && self->server) {
        for (w_task_t *task = (w_task_t *) zhashx_first (self->tasks); task;
             task = (w_task_t *) zhashx_next (self->tasks)) {
            pthread_mutex_lock (&self->lock);
            bool queued = !task->running && !task->finished
                          && zmesh_taskq_remove (&self->queue, (uint64_t) zclock_mono (),
                                                 &task->item.id, NULL)
                                 == ZMESH_OK;
            if (queued)
                task->finished = true;  //  freed with the table below
            pthread_mutex_unlock (&self->lock);
            w_owner_t *owner = zmesh_worker__owner (self, &task->item.owner);
            if (queued && owner && owner->routing_size)
                zmesh_worker__refuse (self, owner, &task->item, ZMESH_TASK_REFUSED,
                                      "worker stopping");
        }
    }
    pthread_mutex_lock (&self->lock);
    self->stopping = true;
    pthread_cond_broadcast (&self->wake);
    pthread_mutex_unlock (&self->lock);
    for (uint32_t i = 0; i < self->thread_count; i++)
        pthread_join (self->threads [i], NULL);
    free (self->threads);
    if (self->tasks) {
        for (w_task_t *task = (w_task_t *) zhashx_first (self->tasks); task;
             task = (w_task_t *) zhashx_next (self->tasks))
            zmesh_worker__task_free (task);
        zhashx_destroy (&self->tasks);
    }
    zhashx_destroy (&self->handler_stats);
    if (self->owners) {
        for (w_owner_t *owner = (w_owner_t *) zhashx_first (self->owners); owner;
             owner = (w_owner_t *) zhashx_next (self->owners)) {
            free (owner);  //  its waiting results are in the task table, freed above
        }
        zhashx_destroy (&self->owners);
    }
    zmesh_link_monitor_destroy (&self->monitor);
    zsock_destroy (&self->server);
    zsock_destroy (&self->local);
    zhashx_destroy (&self->dealers);
    free (self->victims);
    if (self->view_fd >= 0) {
        zmesh_ctx_view_watch (self->ctx, 0, -1, 0);
        close (self->view_fd);
    }
    if (self->event_fd >= 0)
        close (self->event_fd);
    zmesh_taskq_fini (&self->queue);
    pthread_cond_destroy (&self->wake);
    pthread_mutex_destroy (&self->lock);
    free (self->out);
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
    self->config = &ctx->config;
    self->pipe = pipe;
    self->event_fd = -1;
    self->view_fd = -1;
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->wake, NULL);
    snprintf (self->exec_allow, sizeof self->exec_allow, "%s", self->config->worker_exec_allow);
    self->tasks = s_id_table ();
    self->owners = s_id_table ();
    zmesh_work_place_config (self->config, &self->place);
    self->handler_stats = zhashx_new ();
    ZMESH_ASSERT (self->handler_stats);
    zhashx_set_destructor (self->handler_stats, s_free_item);
    self->out_capacity = ZMESH_TASK_MSG_MAX;
    self->out = (uint8_t *) malloc (self->out_capacity);
    self->msg = (zmesh_task_msg_t *) malloc (sizeof *self->msg);
    self->event_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
    self->view_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
    self->dealers = s_id_table ();
    zhashx_set_destructor (self->dealers, zmesh_worker__victim_destroy);
    randombytes_buf (&self->rng, sizeof self->rng);
    if (!self->out || !self->msg || self->event_fd < 0 || self->view_fd < 0) {
        snprintf (err, err_size, "worker: out of memory or file descriptors");
        s_self_destroy (&self);
        return NULL;
    }
    //  Slots: worker/slots, or one per core.
    self->slots = (uint32_t) self->config->worker_slots;
    if (!self->slots) {
        long cores = sysconf (_SC_NPROCESSORS_ONLN);
        self->slots = cores > 0 ? (uint32_t) cores : 1;
    }
    zmesh_taskq_config_t q;
    zmesh_taskq_config_defaults (&q);
    q.capacity = (uint32_t) self->config->worker_queue;
    q.aging_ms = (uint32_t) self->config->worker_aging_ms;
    q.slots = self->slots;
    //  At most a quarter of the slots are kept for CRITICAL work: on a node of 2 or 3 slots,
    //  keeping one idle for it would halve what the rest of the work gets.
    q.critical_reserve = (uint32_t) self->config->worker_critical_reserve;
    if (q.critical_reserve > q.slots / 4)
        q.critical_reserve = q.slots / 4;
    if (zmesh_taskq_init (&self->queue, &q, (uint64_t) zclock_mono ())) {
        snprintf (err, err_size, "worker: cannot create the queue (worker/queue %d)",
                  self->config->worker_queue);
        s_self_destroy (&self);
        return NULL;
    }
    //  Bind: worker/bind, or node/bind's host with any port; a restart binds the same.
    char bind [ZMESH_ENDPOINT_MAX];
    if (ctx->worker_bound [0])
        snprintf (bind, sizeof bind, "%s", ctx->worker_bound);
    else if (self->config->worker_bind [0])
        snprintf (bind, sizeof bind, "%s", self->config->worker_bind);
    else
        zmesh_work_endpoint_with_port (bind, ctx->bound [0] ? ctx->bound : self->config->bind, "*");
    zmesh_link_config_t link = {.max_message_bytes = ZMESH_TASK_MSG_MAX, .linger_ms = 0};
    char bound [ZMESH_ENDPOINT_MAX];
    self->server = zmesh_link_server_rebind (&ctx->identity, ctx->identity.id_hex, bind, &link,
                                             ctx->worker_bound [0] != 0, bound, err, err_size);
    if (!self->server) {
        s_self_destroy (&self);
        return NULL;
    }
    zsock_set_sndhwm (self->server, 100000);
    zsock_set_rcvhwm (self->server, 100000);
    self->server_handle = zsock_resolve (self->server);
    snprintf (ctx->worker_bound, sizeof ctx->worker_bound, "%s", bound);
    //  The inproc server for this node's own balancer. A restart binds the name again once
    //  libzmq has let go of the previous run's socket (in its reaper thread, a moment later).
    char local [ZMESH_ENDPOINT_MAX];
    zmesh_work_local_endpoint (local, ctx->identity.id_hex);
    self->local = zsock_new (ZMQ_ROUTER);
    ZMESH_ASSERT (self->local);
    zsock_set_sndhwm (self->local, 100000);
    zsock_set_rcvhwm (self->local, 100000);
    int bound_local = -1;
    for (int attempt = 0; attempt < ZMESH_LINK_REBIND_ATTEMPTS && bound_local != 0; attempt++) {
        bound_local = zsock_bind (self->local, "%s", local);
        if (bound_local != 0)
            zclock_sleep (ZMESH_LINK_REBIND_PAUSE_MS);
    }
    if (bound_local != 0) {
        snprintf (err, err_size, "worker: cannot bind %s", local);
        s_self_destroy (&self);
        return NULL;
    }
    self->local_handle = zsock_resolve (self->local);
    self->monitor = zmesh_link_monitor_new (self->server);
    //  Advertise: worker/advertise, or the gossip endpoint's host with our port.
    if (self->config->worker_advertise [0])
        snprintf (self->endpoint, sizeof self->endpoint, "%s", self->config->worker_advertise);
    else {
        char gossip [ZMESH_ENDPOINT_MAX];
        zmesh_ctx_endpoint (ctx, gossip);
        const char *port = strrchr (bound, ':');
        zmesh_work_endpoint_with_port (self->endpoint, gossip [0] ? gossip : bound,
                                       port ? port + 1 : "*");
    }
    zmesh_ctx_view_watch (ctx, 0, self->view_fd, ZMESH_VIEW_MEMBERS | ZMESH_VIEW_WORK);
    self->threads = (pthread_t *) calloc (self->slots, sizeof *self->threads);
    ZMESH_ASSERT (self->threads);
    for (uint32_t i = 0; i < self->slots; i++) {
        if (pthread_create (&self->threads [i], NULL, zmesh_worker__executor, self) != 0) {
            snprintf (err, err_size, "worker: cannot start executor thread %u", i);
            s_self_destroy (&self);
            return NULL;
        }
        self->thread_count++;
    }
    return self;
}

void
zmesh_worker_actor (zsock_t *pipe, void *args)
{
    zsock_signal (pipe, 0);
    zmesh_actor_name ("worker");
    char err [512] = "";
    zmesh_node_ctx_t *ctx = (zmesh_node_ctx_t *) args;
    self_t *self = s_self_new (pipe, ctx, err, sizeof err);
    if (!self) {
        zmesh_actor_failed (pipe, err);
        return;
    }
    zsys_info ("worker: %u slots, taking tasks on %s", self->slots, self->endpoint);
    zmesh_actor_ready (pipe);
    s_publish (self, true);
    zmq_pollitem_t *items = NULL;
    w_victim_t **item_victims = NULL;
    size_t capacity = 0;
    while (!self->terminated) {
        //  Poll the pipe, the server, the executors' eventfd, the view's, the monitor, and
        //  the victims we steal from.
        size_t needed = 6 + zhashx_size (self->dealers);
        if (capacity < needed) {
            capacity = needed * 2;
            items = (zmq_pollitem_t *) realloc (items, capacity * sizeof *items);
            item_victims = (w_victim_t **) realloc (item_victims, capacity * sizeof *item_victims);
            ZMESH_ASSERT (items && item_victims);
        }
        size_t n = 0;
        items [n++] = (zmq_pollitem_t){zsock_resolve (pipe), 0, ZMQ_POLLIN, 0};
        items [n++] = (zmq_pollitem_t){self->server_handle, 0, ZMQ_POLLIN, 0};
        items [n++] = (zmq_pollitem_t){NULL, self->event_fd, ZMQ_POLLIN, 0};
        items [n++] = (zmq_pollitem_t){NULL, self->view_fd, ZMQ_POLLIN, 0};
        items [n++] = (zmq_pollitem_t){self->local_handle, 0, ZMQ_POLLIN, 0};
        size_t monitor_at = n;
        if (self->monitor)
            items [n++] = (zmq_pollitem_t){zsock_resolve (self->monitor->events), 0, ZMQ_POLLIN, 0};
        size_t victims_at = n;
        for (w_victim_t *victim = (w_victim_t *) zhashx_first (self->dealers); victim;
             victim = (w_victim_t *) zhashx_next (self->dealers)) {
            item_victims [n] = victim;
            items [n++] = (zmq_pollitem_t){victim->handle, 0, ZMQ_POLLIN, 0};
        }
        //  Timers: leases while tasks are held, a held-back publication, the next steal
        //  while idle with somewhere to steal from. None at all on an idle node.
        int64_t now = zclock_mono ();
        int64_t next = INT64_MAX;
        if (zhashx_size (self->tasks))
            next = self->lease_at;
        if (self->publish_at && self->publish_at < next)
            next = self->publish_at;
        if (self->config->worker_steal && self->victim_count) {
            int64_t at = self->steal_pending ? self->steal_sent + 1000 : self->steal_at;
            if (at < next)
                next = at;
        }
        long timeout = next == INT64_MAX ? -1 : next > now ? (long) (next - now) : 0;
        if (zmesh_poll_spin (items, (int) n, timeout, self->config->spin_us, &self->spin,
                             zhashx_size (self->tasks) > 0)
                < 0
            && zmq_errno () != EINTR)
            break;
        if (items [0].revents & ZMQ_POLLIN) {
            zmsg_t *msg = zmsg_recv (pipe);
            char *command = msg ? zmsg_popstr (msg) : NULL;
            bool fault = command && streq (command, "FAULT");
            if (!command || streq (command, "$TERM") || fault)
                self->terminated = true;
            zstr_free (&command);
            zmsg_destroy (&msg);
            if (fault)
                break;  //  as if crashed: the supervisor restarts us
        }
        if (items [1].revents & ZMQ_POLLIN)
            s_handle_server (self, false);
        if (items [4].revents & ZMQ_POLLIN)
            s_handle_server (self, true);
        if (items [2].revents & ZMQ_POLLIN)
            zmesh_worker__flush_done (self);
        if (items [3].revents & ZMQ_POLLIN) {
            uint64_t counter;
            ssize_t rc = read (self->view_fd, &counter, sizeof counter);
            (void) rc;
            self->victims_dirty = true;
            zmesh_worker__victims_rebuild (self);
        }
        if (self->monitor && (items [monitor_at].revents & ZMQ_POLLIN))
            zmesh_link_monitor_handle (self->monitor, &self->ctx->metrics);
        for (size_t i = victims_at; i < n; i++)
            if (items [i].revents & ZMQ_POLLIN)
                zmesh_worker__handle_victim (self, item_victims [i]);
        now = zclock_mono ();
        if (!zhashx_size (self->tasks))
            self->lease_at = now + self->config->worker_lease_interval_ms;
        else if (now >= self->lease_at) {
            self->lease_at = now + self->config->worker_lease_interval_ms;
            s_leases (self);
        }
        s_publish (self, false);
        if (self->victim_count)
            zmesh_worker__steal (self, now);
    }
    free (items);
    free (item_victims);
    s_self_destroy (&self);
}
