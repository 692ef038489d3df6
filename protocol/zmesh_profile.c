/*  zmesh_profile.c: a node profile's wire form, its key/value pairs for the gossip state, and
    change detection (see zmesh_profile.h). Pure: the reading and the benchmark, which touch the
    machine, are in brokerless/zmesh_profile_read.c and zmesh_profile_bench.c.

    Wire layout (format version 1): a msgpack map with unsigned integer keys; key 0, the
    version, comes first. Fields that are 0 or "" are left out, so a small machine's profile
    is small; a decoder starts from zeros. Keys it does not know are skipped (forward
    compatibility); a duplicate key is malformed. The key numbers are the S_KEY_* below; array
    elements are arrays themselves so that later versions can append fields.
*/
#include "zmesh_profile.h"
#include "zmesh_error.h"
#include "zmesh_mpack.h"
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  --------------------------------------------------------------------------------------------
//  msgpack codec

#define S_FORMAT_VERSION 1

enum {
    S_KEY_VERSION = 0,
    S_KEY_CPU_CORES = 1,
    S_KEY_CPU_MODEL = 2,
    S_KEY_CPU_QUOTA = 3,
    S_KEY_LOAD1 = 4,
    S_KEY_LOAD5 = 5,
    S_KEY_LOAD15 = 6,
    S_KEY_CPU_UTIL = 7,  //  present only if cpu_util_valid
    S_KEY_MEM_TOTAL = 8,
    S_KEY_MEM_AVAILABLE = 9,
    S_KEY_MEM_LIMIT = 10,
    S_KEY_DISKS = 11,  //  [[mount_path, fstype, total_bytes, free_bytes], ...]
    S_KEY_DISKS_DROPPED = 12,
    S_KEY_NETS = 13,  //  [[name, operstate, mac, speed_mbps, mtu_bytes], ...]
    S_KEY_NETS_DROPPED = 14,
    S_KEY_GPUS = 15,  //  [[vendor, model, bus, vendor_id, device_id, vram_bytes], ...]
    S_KEY_GPUS_DROPPED = 16,
    S_KEY_BENCH = 17,  //  [hash_bytes_per_s, int_ops_per_s, mem_copy_bytes_per_s,
                       //   duration_ms], present only if bench.valid
    S_KEY_MISSING = 18,
    S_KEY_MALFORMED = 19,
    S_KEY_COUNT
};

//  A map entry under construction: the entries are counted first, then packed.
typedef struct {
    msgpack_packer *pk;  //  NULL while counting
    uint32_t count;
} s_enc_t;

static void
s_enc_uint (s_enc_t *enc, int key, uint64_t value)
{
    if (value == 0)
        return;
    enc->count++;
    if (enc->pk) {
        msgpack_pack_uint8 (enc->pk, (uint8_t) key);
        msgpack_pack_uint64 (enc->pk, value);
    }
}

static void
s_enc_str (s_enc_t *enc, int key, const char *value)
{
    if (!value [0])
        return;
    enc->count++;
    if (enc->pk) {
        msgpack_pack_uint8 (enc->pk, (uint8_t) key);
        zmesh_mp_pack_cstr (enc->pk, value);
    }
}

static void
s_enc_arrays (s_enc_t *enc, const zmesh_profile_t *self)
{
    msgpack_packer *pk = enc->pk;
    enc->count += (self->disk_count > 0) + (self->net_count > 0) + (self->gpu_count > 0);
    if (!pk)
        return;
    if (self->disk_count) {
        msgpack_pack_uint8 (pk, S_KEY_DISKS);
        msgpack_pack_array (pk, self->disk_count);
        for (uint32_t i = 0; i < self->disk_count; i++) {
            const zmesh_profile_disk_t *disk = &self->disks [i];
            msgpack_pack_array (pk, 4);
            zmesh_mp_pack_cstr (pk, disk->mount_path);
            zmesh_mp_pack_cstr (pk, disk->fstype);
            msgpack_pack_uint64 (pk, disk->total_bytes);
            msgpack_pack_uint64 (pk, disk->free_bytes);
        }
    }
    if (self->net_count) {
        msgpack_pack_uint8 (pk, S_KEY_NETS);
        msgpack_pack_array (pk, self->net_count);
        for (uint32_t i = 0; i < self->net_count; i++) {
            const zmesh_profile_net_t *net = &self->nets [i];
            msgpack_pack_array (pk, 5);
            zmesh_mp_pack_cstr (pk, net->name);
            zmesh_mp_pack_cstr (pk, net->operstate);
            zmesh_mp_pack_cstr (pk, net->mac);
            msgpack_pack_uint32 (pk, net->speed_mbps);
            msgpack_pack_uint32 (pk, net->mtu_bytes);
        }
    }
    if (self->gpu_count) {
        msgpack_pack_uint8 (pk, S_KEY_GPUS);
        msgpack_pack_array (pk, self->gpu_count);
        for (uint32_t i = 0; i < self->gpu_count; i++) {
            const zmesh_profile_gpu_t *gpu = &self->gpus [i];
            msgpack_pack_array (pk, 6);
            zmesh_mp_pack_cstr (pk, gpu->vendor);
            zmesh_mp_pack_cstr (pk, gpu->model);
            zmesh_mp_pack_cstr (pk, gpu->bus);
            msgpack_pack_uint16 (pk, gpu->vendor_id);
            msgpack_pack_uint16 (pk, gpu->device_id);
            msgpack_pack_uint64 (pk, gpu->vram_bytes);
        }
    }
}

static void
s_enc_fields (s_enc_t *enc, const zmesh_profile_t *self)
{
    s_enc_uint (enc, S_KEY_CPU_CORES, self->cpu_cores);
    s_enc_str (enc, S_KEY_CPU_MODEL, self->cpu_model);
    s_enc_uint (enc, S_KEY_CPU_QUOTA, self->cpu_quota_millicores);
    s_enc_uint (enc, S_KEY_LOAD1, self->load_avg1_milli);
    s_enc_uint (enc, S_KEY_LOAD5, self->load_avg5_milli);
    s_enc_uint (enc, S_KEY_LOAD15, self->load_avg15_milli);
    if (self->cpu_util_valid) {  //  0% busy is a figure, not an absence
        enc->count++;
        if (enc->pk) {
            msgpack_pack_uint8 (enc->pk, S_KEY_CPU_UTIL);
            msgpack_pack_uint32 (enc->pk, self->cpu_util_bp);
        }
    }
    s_enc_uint (enc, S_KEY_MEM_TOTAL, self->mem_total_bytes);
    s_enc_uint (enc, S_KEY_MEM_AVAILABLE, self->mem_available_bytes);
    s_enc_uint (enc, S_KEY_MEM_LIMIT, self->mem_limit_bytes);
    s_enc_arrays (enc, self);
    s_enc_uint (enc, S_KEY_DISKS_DROPPED, self->disks_dropped);
    s_enc_uint (enc, S_KEY_NETS_DROPPED, self->nets_dropped);
    s_enc_uint (enc, S_KEY_GPUS_DROPPED, self->gpus_dropped);
    if (self->bench.valid) {
        enc->count++;
        if (enc->pk) {
            msgpack_pack_uint8 (enc->pk, S_KEY_BENCH);
            msgpack_pack_array (enc->pk, 4);
            msgpack_pack_uint64 (enc->pk, self->bench.hash_bytes_per_s);
            msgpack_pack_uint64 (enc->pk, self->bench.int_ops_per_s);
            msgpack_pack_uint64 (enc->pk, self->bench.mem_copy_bytes_per_s);
            msgpack_pack_uint32 (enc->pk, self->bench.duration_ms);
        }
    }
    s_enc_uint (enc, S_KEY_MISSING, self->missing);
    s_enc_uint (enc, S_KEY_MALFORMED, self->malformed);
}


//  Text a peer will show: NUL-terminated within its field, no control characters, and not
//  empty where a name is required. What the decoder refuses, the encoder refuses too.
static bool
s_text_ok (const char *text, size_t size, bool required)
{
    size_t len = strnlen (text, size);
    if (len == size || (required && len == 0))
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char) text [i] < 0x20 || text [i] == 0x7f)
            return false;
    return true;
}

static bool
s_profile_ok (const zmesh_profile_t *self)
{
    if (self->cpu_cores == 0 || self->cpu_util_bp > 10000
        || self->disk_count > ZMESH_PROFILE_DISKS_MAX || self->net_count > ZMESH_PROFILE_NETS_MAX
        || self->gpu_count > ZMESH_PROFILE_GPUS_MAX
        || !s_text_ok (self->cpu_model, sizeof self->cpu_model, false))
        return false;
    for (uint32_t i = 0; i < self->disk_count; i++) {
        const zmesh_profile_disk_t *disk = &self->disks [i];
        if (!s_text_ok (disk->mount_path, sizeof disk->mount_path, true)
            || !s_text_ok (disk->fstype, sizeof disk->fstype, true))
            return false;
    }
    for (uint32_t i = 0; i < self->net_count; i++) {
        const zmesh_profile_net_t *net = &self->nets [i];
        if (!s_text_ok (net->name, sizeof net->name, true)
            || !s_text_ok (net->operstate, sizeof net->operstate, false)
            || !s_text_ok (net->mac, sizeof net->mac, false))
            return false;
    }
    for (uint32_t i = 0; i < self->gpu_count; i++) {
        const zmesh_profile_gpu_t *gpu = &self->gpus [i];
        if (!s_text_ok (gpu->vendor, sizeof gpu->vendor, true)
            || !s_text_ok (gpu->model, sizeof gpu->model, false)
            || !s_text_ok (gpu->bus, sizeof gpu->bus, false))
            return false;
    }
    return true;
}

int
zmesh_profile_encode (const zmesh_profile_t *self, uint8_t *buf, size_t capacity, size_t *size)
{
    ZMESH_ASSERT (self && buf && size);
    if (!s_profile_ok (self))
        return ZMESH_EINVAL;
    s_enc_t enc = {NULL, 1};  //  the version entry
    s_enc_fields (&enc, self);
    zmesh_mp_writer_t writer;
    zmesh_mp_writer_init (&writer, buf, capacity);
    msgpack_pack_map (&writer.pk, enc.count);
    msgpack_pack_uint8 (&writer.pk, S_KEY_VERSION);
    msgpack_pack_uint8 (&writer.pk, S_FORMAT_VERSION);
    uint32_t counted = enc.count;
    enc = (s_enc_t){&writer.pk, 1};
    s_enc_fields (&enc, self);
    ZMESH_ASSERT (enc.count == counted);
    if (zmesh_mp_writer_status (&writer))
        return ZMESH_ETOOBIG;
    *size = writer.size;
    return ZMESH_OK;
}

//  An unsigned of at most max.
static int
s_dec_uint (zmesh_mp_reader_t *r, uint64_t max, uint64_t *value)
{
    if (zmesh_mp_read_uint (r, value) || *value > max)
        return ZMESH_EPROTO;
    return ZMESH_OK;
}

static int
s_dec_u32 (zmesh_mp_reader_t *r, uint64_t max, uint32_t *value)
{
    uint64_t v;
    if (s_dec_uint (r, max, &v))
        return ZMESH_EPROTO;
    *value = (uint32_t) v;
    return ZMESH_OK;
}

static int
s_dec_text (zmesh_mp_reader_t *r, char *dest, size_t size, bool required)
{
    if (zmesh_mp_read_cstr (r, dest, size) || !s_text_ok (dest, size, required))
        return ZMESH_EPROTO;
    return ZMESH_OK;
}

//  The header of an array of entries, each an array of at least `fields` elements.
static int
s_dec_entries (zmesh_mp_reader_t *r, uint32_t max, uint32_t *count)
{
    if (zmesh_mp_read_array (r, count) || *count > max)
        return ZMESH_EPROTO;
    return ZMESH_OK;
}

//  Open one entry and report how many trailing elements (from a later version) to skip.
static int
s_dec_entry (zmesh_mp_reader_t *r, uint32_t fields, uint32_t *extra)
{
    uint32_t count;
    if (zmesh_mp_read_array (r, &count) || count < fields)
        return ZMESH_EPROTO;
    *extra = count - fields;
    return ZMESH_OK;
}

static int
s_dec_skip (zmesh_mp_reader_t *r, uint32_t extra)
{
    for (uint32_t i = 0; i < extra; i++)
        if (zmesh_mp_skip (r))
            return ZMESH_EPROTO;
    return ZMESH_OK;
}

static int
s_dec_disks (zmesh_mp_reader_t *r, zmesh_profile_t *out)
{
    if (s_dec_entries (r, ZMESH_PROFILE_DISKS_MAX, &out->disk_count))
        return ZMESH_EPROTO;
    for (uint32_t i = 0; i < out->disk_count; i++) {
        zmesh_profile_disk_t *disk = &out->disks [i];
        uint32_t extra;
        if (s_dec_entry (r, 4, &extra)
            || s_dec_text (r, disk->mount_path, sizeof disk->mount_path, true)
            || s_dec_text (r, disk->fstype, sizeof disk->fstype, true)
            || s_dec_uint (r, UINT64_MAX, &disk->total_bytes)
            || s_dec_uint (r, disk->total_bytes, &disk->free_bytes) || s_dec_skip (r, extra))
            return ZMESH_EPROTO;
    }
    return ZMESH_OK;
}

static int
s_dec_nets (zmesh_mp_reader_t *r, zmesh_profile_t *out)
{
    if (s_dec_entries (r, ZMESH_PROFILE_NETS_MAX, &out->net_count))
        return ZMESH_EPROTO;
    for (uint32_t i = 0; i < out->net_count; i++) {
        zmesh_profile_net_t *net = &out->nets [i];
        uint32_t extra;
        if (s_dec_entry (r, 5, &extra) || s_dec_text (r, net->name, sizeof net->name, true)
            || s_dec_text (r, net->operstate, sizeof net->operstate, false)
            || s_dec_text (r, net->mac, sizeof net->mac, false)
            || s_dec_u32 (r, UINT32_MAX, &net->speed_mbps)
            || s_dec_u32 (r, UINT32_MAX, &net->mtu_bytes) || s_dec_skip (r, extra))
            return ZMESH_EPROTO;
    }
    return ZMESH_OK;
}

static int
s_dec_gpus (zmesh_mp_reader_t *r, zmesh_profile_t *out)
{
    if (s_dec_entries (r, ZMESH_PROFILE_GPUS_MAX, &out->gpu_count))
        return ZMESH_EPROTO;
    for (uint32_t i = 0; i < out->gpu_count; i++) {
        zmesh_profile_gpu_t *gpu = &out->gpus [i];
        uint32_t extra, vendor_id, device_id;
        if (s_dec_entry (r, 6, &extra) || s_dec_text (r, gpu->vendor, sizeof gpu->vendor, true)
            || s_dec_text (r, gpu->model, sizeof gpu->model, false)
            || s_dec_text (r, gpu->bus, sizeof gpu->bus, false) || s_dec_u32 (r, 0xffff, &vendor_id)
            || s_dec_u32 (r, 0xffff, &device_id) || s_dec_uint (r, UINT64_MAX, &gpu->vram_bytes)
            || s_dec_skip (r, extra))
            return ZMESH_EPROTO;
        gpu->vendor_id = (uint16_t) vendor_id;
        gpu->device_id = (uint16_t) device_id;
    }
    return ZMESH_OK;
}

static int
s_dec_bench (zmesh_mp_reader_t *r, zmesh_profile_bench_t *bench)
{
    uint32_t extra;
    if (s_dec_entry (r, 4, &extra) || s_dec_uint (r, UINT64_MAX, &bench->hash_bytes_per_s)
        || s_dec_uint (r, UINT64_MAX, &bench->int_ops_per_s)
        || s_dec_uint (r, UINT64_MAX, &bench->mem_copy_bytes_per_s)
        || s_dec_u32 (r, UINT32_MAX, &bench->duration_ms) || s_dec_skip (r, extra))
        return ZMESH_EPROTO;
    bench->valid = true;
    return ZMESH_OK;
}

//  One value of the map, by key.
static int
s_dec_value (zmesh_mp_reader_t *r, uint64_t key, zmesh_profile_t *out)
{
    switch (key) {
        case S_KEY_CPU_CORES:
            return s_dec_u32 (r, UINT32_MAX, &out->cpu_cores);
        case S_KEY_CPU_MODEL:
            return s_dec_text (r, out->cpu_model, sizeof out->cpu_model, false);
        case S_KEY_CPU_QUOTA:
            return s_dec_u32 (r, UINT32_MAX, &out->cpu_quota_millicores);
        case S_KEY_LOAD1:
            return s_dec_u32 (r, UINT32_MAX, &out->load_avg1_milli);
        case S_KEY_LOAD5:
            return s_dec_u32 (r, UINT32_MAX, &out->load_avg5_milli);
        case S_KEY_LOAD15:
            return s_dec_u32 (r, UINT32_MAX, &out->load_avg15_milli);
        case S_KEY_CPU_UTIL:
            out->cpu_util_valid = true;
            return s_dec_u32 (r, 10000, &out->cpu_util_bp);
        case S_KEY_MEM_TOTAL:
            return s_dec_uint (r, UINT64_MAX, &out->mem_total_bytes);
        case S_KEY_MEM_AVAILABLE:
            return s_dec_uint (r, UINT64_MAX, &out->mem_available_bytes);
        case S_KEY_MEM_LIMIT:
            return s_dec_uint (r, UINT64_MAX, &out->mem_limit_bytes);
        case S_KEY_DISKS:
            return s_dec_disks (r, out);
        case S_KEY_DISKS_DROPPED:
            return s_dec_u32 (r, UINT32_MAX, &out->disks_dropped);
        case S_KEY_NETS:
            return s_dec_nets (r, out);
        case S_KEY_NETS_DROPPED:
            return s_dec_u32 (r, UINT32_MAX, &out->nets_dropped);
        case S_KEY_GPUS:
            return s_dec_gpus (r, out);
        case S_KEY_GPUS_DROPPED:
            return s_dec_u32 (r, UINT32_MAX, &out->gpus_dropped);
        case S_KEY_BENCH:
            return s_dec_bench (r, &out->bench);
        case S_KEY_MISSING:
            return s_dec_u32 (r, UINT32_MAX, &out->missing);
        case S_KEY_MALFORMED:
            return s_dec_u32 (r, UINT32_MAX, &out->malformed);
        default:  //  a later version's field
            return zmesh_mp_skip (r) ? ZMESH_EPROTO : ZMESH_OK;
    }
}

int
zmesh_profile_decode (zmesh_profile_t *out, const uint8_t *data, size_t size)
{
    ZMESH_ASSERT (out);
    if (size > ZMESH_PROFILE_ENCODED_MAX)
        return ZMESH_ETOOBIG;
    memset (out, 0, sizeof *out);
    zmesh_mp_reader_t r;
    zmesh_mp_reader_init (&r, data, size);
    uint32_t entries;
    uint64_t key, version;
    if (zmesh_mp_read_map (&r, &entries) || entries < 1 || zmesh_mp_read_uint (&r, &key)
        || key != S_KEY_VERSION || zmesh_mp_read_uint (&r, &version))
        return ZMESH_EPROTO;
    if (version != S_FORMAT_VERSION)
        return ZMESH_EVERSION;
    uint32_t seen = 1u << S_KEY_VERSION;
    for (uint32_t i = 1; i < entries; i++) {
        if (zmesh_mp_read_uint (&r, &key))
            return ZMESH_EPROTO;
        if (key < S_KEY_COUNT) {
            if (seen & (1u << key))
                return ZMESH_EPROTO;  //  a duplicate would let two readers disagree
            seen |= 1u << key;
        }
        if (s_dec_value (&r, key, out))
            return ZMESH_EPROTO;
    }
    if (zmesh_mp_remaining (&r) != 0 || out->cpu_cores == 0)
        return ZMESH_EPROTO;
    return ZMESH_OK;
}

//  --------------------------------------------------------------------------------------------
//  Key / value pairs

typedef struct {
    zmesh_profile_kv_t *kv;
    size_t max;
    size_t count;
    bool overflow;
} s_kv_t;

static void s_kv_add (s_kv_t *self, const char *value, const char *key_format, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
s_kv_add (s_kv_t *self, const char *value, const char *key_format, ...)
{
    if (self->count == self->max) {
        self->overflow = true;
        return;
    }
    zmesh_profile_kv_t *pair = &self->kv [self->count++];
    va_list args;
    va_start (args, key_format);
    int len = vsnprintf (pair->key, sizeof pair->key, key_format, args);
    va_end (args);
    //  Keys are ours and short; values are fields no longer than ZMESH_PROFILE_KV_VALUE_MAX.
    ZMESH_ASSERT (len > 0 && (size_t) len < sizeof pair->key);
    ZMESH_ASSERT (strlen (value) < sizeof pair->value);
    strcpy (pair->value, value);
}

//  The same with a decimal value.
static void s_kv_uint (s_kv_t *self, uint64_t value, const char *key_format, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
s_kv_uint (s_kv_t *self, uint64_t value, const char *key_format, ...)
{
    char key [ZMESH_PROFILE_KV_KEY_MAX + 1], text [24];
    va_list args;
    va_start (args, key_format);
    int len = vsnprintf (key, sizeof key, key_format, args);
    va_end (args);
    ZMESH_ASSERT (len > 0 && (size_t) len < sizeof key);
    snprintf (text, sizeof text, "%" PRIu64, value);
    s_kv_add (self, text, "%s", key);
}

static void
s_kv_arrays (s_kv_t *kv, const zmesh_profile_t *self, uint32_t sections)
{
    char text [24];
    if (sections & ZMESH_PROFILE_SECTION_DISKS) {
        s_kv_uint (kv, self->disk_count, "disk.count");
        s_kv_uint (kv, self->disks_dropped, "disk.dropped");
    }
    for (uint32_t i = 0; i < self->disk_count; i++) {
        const zmesh_profile_disk_t *disk = &self->disks [i];
        if (sections & ZMESH_PROFILE_SECTION_DISKS) {
            s_kv_add (kv, disk->mount_path, "disk.%u.mount", i);
            s_kv_add (kv, disk->fstype, "disk.%u.fstype", i);
            s_kv_uint (kv, disk->total_bytes, "disk.%u.total_bytes", i);
        }
        if (sections & ZMESH_PROFILE_SECTION_DISK_FREE)
            s_kv_uint (kv, disk->free_bytes, "disk.%u.free_bytes", i);
    }
    if (sections & ZMESH_PROFILE_SECTION_NETS) {
        s_kv_uint (kv, self->net_count, "net.count");
        s_kv_uint (kv, self->nets_dropped, "net.dropped");
        for (uint32_t i = 0; i < self->net_count; i++) {
            const zmesh_profile_net_t *net = &self->nets [i];
            s_kv_add (kv, net->name, "net.%u.name", i);
            s_kv_add (kv, net->operstate, "net.%u.state", i);
            s_kv_add (kv, net->mac, "net.%u.mac", i);
            s_kv_uint (kv, net->speed_mbps, "net.%u.speed_mbps", i);
            s_kv_uint (kv, net->mtu_bytes, "net.%u.mtu_bytes", i);
        }
    }
    if (sections & ZMESH_PROFILE_SECTION_GPUS) {
        s_kv_uint (kv, self->gpu_count, "gpu.count");
        s_kv_uint (kv, self->gpus_dropped, "gpu.dropped");
        for (uint32_t i = 0; i < self->gpu_count; i++) {
            const zmesh_profile_gpu_t *gpu = &self->gpus [i];
            s_kv_add (kv, gpu->vendor, "gpu.%u.vendor", i);
            snprintf (text, sizeof text, "0x%04x:0x%04x", gpu->vendor_id, gpu->device_id);
            s_kv_add (kv, text, "gpu.%u.pci_id", i);
            s_kv_add (kv, gpu->model, "gpu.%u.model", i);
            s_kv_add (kv, gpu->bus, "gpu.%u.bus", i);
            s_kv_uint (kv, gpu->vram_bytes, "gpu.%u.vram_bytes", i);
        }
    }
}

int
zmesh_profile_to_kv (const zmesh_profile_t *self,
                     uint32_t sections,
                     zmesh_profile_kv_t *kv,
                     size_t kv_max,
                     size_t *count)
{
    ZMESH_ASSERT (self && count && (kv || kv_max == 0));
    s_kv_t out = {kv, kv_max, 0, false};
    if (sections & ZMESH_PROFILE_SECTION_CPU) {
        s_kv_uint (&out, self->cpu_cores, "cpu.cores");
        s_kv_add (&out, self->cpu_model, "cpu.model");
        s_kv_uint (&out, self->cpu_quota_millicores, "cpu.quota_millicores");
    }
    if (sections & ZMESH_PROFILE_SECTION_LOAD) {
        s_kv_uint (&out, self->load_avg1_milli, "load.avg1_milli");
        s_kv_uint (&out, self->load_avg5_milli, "load.avg5_milli");
        s_kv_uint (&out, self->load_avg15_milli, "load.avg15_milli");
    }
    //  No figure yet is an empty value, not 0% busy.
    if (sections & ZMESH_PROFILE_SECTION_UTIL) {
        if (self->cpu_util_valid)
            s_kv_uint (&out, self->cpu_util_bp, "cpu.util_bp");
        else
            s_kv_add (&out, "", "cpu.util_bp");
    }
    if (sections & ZMESH_PROFILE_SECTION_MEM) {
        s_kv_uint (&out, self->mem_total_bytes, "mem.total_bytes");
        s_kv_uint (&out, self->mem_limit_bytes, "mem.limit_bytes");
    }
    if (sections & ZMESH_PROFILE_SECTION_MEM_AVAIL)
        s_kv_uint (&out, self->mem_available_bytes, "mem.available_bytes");
    s_kv_arrays (&out, self, sections);
    if ((sections & ZMESH_PROFILE_SECTION_BENCH) && self->bench.valid) {
        s_kv_uint (&out, self->bench.hash_bytes_per_s, "bench.hash_bytes_per_s");
        s_kv_uint (&out, self->bench.int_ops_per_s, "bench.int_ops_per_s");
        s_kv_uint (&out, self->bench.mem_copy_bytes_per_s, "bench.mem_copy_bytes_per_s");
        s_kv_uint (&out, self->bench.duration_ms, "bench.duration_ms");
    }
    if (sections & ZMESH_PROFILE_SECTION_STATUS) {
        s_kv_uint (&out, self->missing, "profile.missing");
        s_kv_uint (&out, self->malformed, "profile.malformed");
    }
    *count = out.count;
    return out.overflow ? ZMESH_ELIMIT : ZMESH_OK;
}

//  --------------------------------------------------------------------------------------------
//  Change detection

void
zmesh_profile_thresholds_default (zmesh_profile_thresholds_t *self)
{
    self->load_milli = 250;
    self->cpu_util_bp = 1000;
    self->mem_available_bp = 500;
    self->disk_free_bp = 100;
}

//  |a - b| >= threshold (any change when threshold is 0).
static bool
s_moved (uint64_t a, uint64_t b, uint64_t threshold)
{
    uint64_t delta = a > b ? a - b : b - a;
    return delta > 0 && delta >= threshold;
}

//  threshold_bp basis points of whole, rounded down, in whole's unit.
static uint64_t
s_share (uint64_t whole, uint32_t threshold_bp)
{
    return whole / 10000 * threshold_bp + whole % 10000 * threshold_bp / 10000;
}

static uint32_t
s_changed_arrays (const zmesh_profile_t *a,
                  const zmesh_profile_t *b,
                  const zmesh_profile_thresholds_t *t)
{
    uint32_t changed = 0;
    if (a->disk_count != b->disk_count || a->disks_dropped != b->disks_dropped)
        changed |= ZMESH_PROFILE_SECTION_DISKS | ZMESH_PROFILE_SECTION_DISK_FREE;
    for (uint32_t i = 0; i < a->disk_count && i < b->disk_count; i++) {
        const zmesh_profile_disk_t *da = &a->disks [i], *db = &b->disks [i];
        if (strcmp (da->mount_path, db->mount_path) || strcmp (da->fstype, db->fstype)
            || da->total_bytes != db->total_bytes)
            changed |= ZMESH_PROFILE_SECTION_DISKS;
        if (s_moved (da->free_bytes, db->free_bytes, s_share (db->total_bytes, t->disk_free_bp)))
            changed |= ZMESH_PROFILE_SECTION_DISK_FREE;
    }
    if (a->net_count != b->net_count || a->nets_dropped != b->nets_dropped)
        changed |= ZMESH_PROFILE_SECTION_NETS;
    for (uint32_t i = 0; i < a->net_count && i < b->net_count; i++) {
        const zmesh_profile_net_t *na = &a->nets [i], *nb = &b->nets [i];
        if (strcmp (na->name, nb->name) || strcmp (na->operstate, nb->operstate)
            || strcmp (na->mac, nb->mac) || na->speed_mbps != nb->speed_mbps
            || na->mtu_bytes != nb->mtu_bytes)
            changed |= ZMESH_PROFILE_SECTION_NETS;
    }
    if (a->gpu_count != b->gpu_count || a->gpus_dropped != b->gpus_dropped)
        changed |= ZMESH_PROFILE_SECTION_GPUS;
    for (uint32_t i = 0; i < a->gpu_count && i < b->gpu_count; i++) {
        const zmesh_profile_gpu_t *ga = &a->gpus [i], *gb = &b->gpus [i];
        if (strcmp (ga->vendor, gb->vendor) || strcmp (ga->model, gb->model)
            || strcmp (ga->bus, gb->bus) || ga->vendor_id != gb->vendor_id
            || ga->device_id != gb->device_id || ga->vram_bytes != gb->vram_bytes)
            changed |= ZMESH_PROFILE_SECTION_GPUS;
    }
    return changed;
}

uint32_t
zmesh_profile_changed (const zmesh_profile_t *a,
                       const zmesh_profile_t *b,
                       const zmesh_profile_thresholds_t *thresholds)
{
    ZMESH_ASSERT (a && b);
    zmesh_profile_thresholds_t t;
    if (thresholds)
        t = *thresholds;
    else
        zmesh_profile_thresholds_default (&t);
    uint32_t changed = 0;
    if (a->cpu_cores != b->cpu_cores || strcmp (a->cpu_model, b->cpu_model)
        || a->cpu_quota_millicores != b->cpu_quota_millicores)
        changed |= ZMESH_PROFILE_SECTION_CPU;
    if (s_moved (a->load_avg1_milli, b->load_avg1_milli, t.load_milli)
        || s_moved (a->load_avg5_milli, b->load_avg5_milli, t.load_milli)
        || s_moved (a->load_avg15_milli, b->load_avg15_milli, t.load_milli))
        changed |= ZMESH_PROFILE_SECTION_LOAD;
    if (a->cpu_util_valid != b->cpu_util_valid
        || s_moved (a->cpu_util_bp, b->cpu_util_bp, t.cpu_util_bp))
        changed |= ZMESH_PROFILE_SECTION_UTIL;
    if (a->mem_total_bytes != b->mem_total_bytes || a->mem_limit_bytes != b->mem_limit_bytes)
        changed |= ZMESH_PROFILE_SECTION_MEM;
    if (s_moved (a->mem_available_bytes, b->mem_available_bytes,
                 s_share (b->mem_total_bytes, t.mem_available_bp)))
        changed |= ZMESH_PROFILE_SECTION_MEM_AVAIL;
    changed |= s_changed_arrays (a, b, &t);
    const zmesh_profile_bench_t *ba = &a->bench, *bb = &b->bench;
    if (ba->valid != bb->valid || ba->hash_bytes_per_s != bb->hash_bytes_per_s
        || ba->int_ops_per_s != bb->int_ops_per_s
        || ba->mem_copy_bytes_per_s != bb->mem_copy_bytes_per_s
        || ba->duration_ms != bb->duration_ms)
        changed |= ZMESH_PROFILE_SECTION_BENCH;
    if (a->missing != b->missing || a->malformed != b->malformed)
        changed |= ZMESH_PROFILE_SECTION_STATUS;
    return changed;
}

//  threshold x ZMESH_PROFILE_LARGE_FACTOR, saturated: a huge threshold stays huge.
static uint32_t
s_large (uint32_t threshold)
{
    return threshold > UINT32_MAX / ZMESH_PROFILE_LARGE_FACTOR
               ? UINT32_MAX
               : threshold * ZMESH_PROFILE_LARGE_FACTOR;
}

uint32_t
zmesh_profile_publish_due (const zmesh_profile_t *published,
                           const zmesh_profile_t *current,
                           const zmesh_profile_thresholds_t *thresholds,
                           uint64_t since_published_ms,
                           uint64_t min_interval_ms)
{
    ZMESH_ASSERT (published && current);
    zmesh_profile_thresholds_t t;
    if (thresholds)
        t = *thresholds;
    else
        zmesh_profile_thresholds_default (&t);
    uint32_t changed = zmesh_profile_changed (published, current, &t);
    //  Every node stores and floods each publication: a busy machine's load, which never
    //  settles, would otherwise go out every few reads. What the machine is goes out at once.
    if (!changed || (changed & ~ZMESH_PROFILE_SECTIONS_DYNAMIC)
        || since_published_ms >= min_interval_ms)
        return changed;
    zmesh_profile_thresholds_t large = {s_large (t.load_milli), s_large (t.cpu_util_bp),
                                        s_large (t.mem_available_bp), s_large (t.disk_free_bp)};
    //  A move past the large thresholds is past the plain ones too: changed covers it.
    return zmesh_profile_changed (published, current, &large) ? changed : 0;
}
