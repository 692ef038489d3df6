/*  zmesh_profile_read.c: a node's profile from /proc and /sys (see zmesh_profile.h).

    Each source has one function that fills its part of the profile and sets its bit in
    `missing` or `malformed` when it gives up; none of them can fail the whole read. Text from
    the kernel is bounded (lines are read into fixed buffers and the rest of an over-long line
    is discarded) and sanitised to printable ASCII before it is stored, because it travels to
    other nodes and ends up on terminals. Directory listings are sorted so that two reads of the
    same machine give the same arrays in the same order (zmesh_profile_changed compares them
    index by index).
*/
#include "zmesh_profile.h"
#include "zmesh_error.h"
#include "zmesh_mpack.h"
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#define S_PATH_MAX         512  //  root + relative path
#define S_LINE_MAX         512  //  one line of a /proc file (longer ones are cut)
#define S_SMALL_MAX        256  //  a one-value sysfs or cgroup file
#define S_DIR_NAMES_MAX    256  //  entries of /sys/class/net or /sys/class/drm considered
#define S_SOURCE_MAX       256  //  device of a mount, remembered to skip it when mounted again
#define S_CGROUP_DEPTH_MAX 32   //  levels of the cgroup tree walked up for limits
//  A cgroup v1 "unlimited" is about 2^63 rounded to a page; anything this large is no limit.
#define S_UNLIMITED_BYTES (1ull << 62)

//  What a read carries around: where the files are, and what it is filling.
typedef struct {
    char root [S_PATH_MAX / 2];  //  prefix without a trailing '/'; "" for the real machine
    bool root_unusable;          //  the root given does not fit: every source is missing
    uint32_t flags;              //  ZMESH_PROFILE_READ_* bits
    zmesh_profile_t *out;
} s_ctx_t;

//  --------------------------------------------------------------------------------------------
//  Small text helpers

//  root + rel into path; false if it does not fit.
static bool
s_path (const s_ctx_t *ctx, char *path, size_t size, const char *rel)
{
    int len = snprintf (path, size, "%s%s", ctx->root, rel);
    return !ctx->root_unusable && len > 0 && (size_t) len < size;
}

//  dir/name into path; false if it does not fit (then the file is as good as missing).
static bool
s_join (char *path, size_t size, const char *dir, const char *name)
{
    int len = snprintf (path, size, "%s/%s", dir, name);
    return len > 0 && (size_t) len < size;
}

//  Copy text into dest (capacity size) as printable ASCII: anything else becomes '?'. Leading
//  and trailing blanks are dropped.
static void
s_copy_clean (char *dest, size_t size, const char *text, size_t len)
{
    while (len > 0 && isspace ((unsigned char) *text)) {
        text++;
        len--;
    }
    while (len > 0 && isspace ((unsigned char) text [len - 1]))
        len--;
    if (len > size - 1)
        len = size - 1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) text [i];
        dest [i] = c < 0x20 || c >= 0x7f ? '?' : (char) c;
    }
    dest [len] = 0;
}

//  Read one line into line (capacity size), without its newline; the rest of a longer line is
//  discarded. False at end of file.
static bool
s_getline (FILE *file, char *line, size_t size)
{
    if (!fgets (line, (int) size, file))
        return false;
    size_t len = strlen (line);
    if (len > 0 && line [len - 1] == '\n')
        line [len - 1] = 0;
    else {
        int c;
        while ((c = fgetc (file)) != EOF && c != '\n')
            ;
    }
    return true;
}

//  Read a small file whole, trailing blanks removed. -1 if it cannot be opened or read (sysfs
//  refuses to read some attributes, such as the speed of a link that is down).
static int
s_read_small (const s_ctx_t *ctx, const char *rel, char *buf, size_t size)
{
    char path [S_PATH_MAX];
    if (!s_path (ctx, path, sizeof path, rel))
        return -1;
    FILE *file = fopen (path, "r");
    if (!file)
        return -1;
    size_t len = fread (buf, 1, size - 1, file);
    bool failed = ferror (file) != 0;
    fclose (file);
    if (failed)
        return -1;
    buf [len] = 0;
    while (len > 0 && isspace ((unsigned char) buf [len - 1]))
        buf [--len] = 0;
    return (int) len;
}

//  A whole decimal number, optionally followed by blanks: anything else is false.
static bool
s_parse_u64 (const char *text, uint64_t *value)
{
    if (!isdigit ((unsigned char) *text))
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull (text, &end, 10);
    if (errno == ERANGE)
        return false;
    while (isspace ((unsigned char) *end))
        end++;
    if (*end)
        return false;
    *value = v;
    return true;
}

//  "0x10de" (sysfs PCI ids) into a 16-bit value.
static bool
s_parse_pci_id (const char *text, uint16_t *value)
{
    if (text [0] != '0' || (text [1] != 'x' && text [1] != 'X')
        || !isxdigit ((unsigned char) text [2]))
        return false;
    char *end;
    unsigned long v = strtoul (text + 2, &end, 16);
    if (*end || v > 0xffff)
        return false;
    *value = (uint16_t) v;
    return true;
}

//  A load average "12.345" into thousandths, advancing *text past it.
static bool
s_parse_milli (const char **text, uint32_t *value)
{
    const char *p = *text;
    while (*p == ' ')
        p++;
    uint64_t whole = 0, frac = 0, scale = 1000;
    if (!isdigit ((unsigned char) *p))
        return false;
    while (isdigit ((unsigned char) *p) && whole < 1000000)
        whole = whole * 10 + (uint64_t) (*p++ - '0');
    if (*p == '.')
        for (p++; isdigit ((unsigned char) *p); p++)
            if (scale > 1) {
                scale /= 10;
                frac += (uint64_t) (*p - '0') * scale;
            }
    if ((*p && *p != ' ') || whole > 4000000)
        return false;
    *value = (uint32_t) (whole * 1000 + frac);
    *text = p;
    return true;
}

static int
s_compare_names (const void *a, const void *b)
{
    return strcmp ((const char *) a, (const char *) b);
}

//  List a directory's entries (not "." or "..") into names, sorted; *extra counts entries that
//  did not fit. -1 if the directory cannot be opened.
typedef char s_name_t [64];

static int
s_list_dir (const s_ctx_t *ctx, const char *rel, s_name_t *names, size_t max, uint32_t *extra)
{
    char path [S_PATH_MAX];
    DIR *dir = s_path (ctx, path, sizeof path, rel) ? opendir (path) : NULL;
    if (!dir)
        return -1;
    size_t count = 0;
    struct dirent *entry;
    while ((entry = readdir (dir)) != NULL) {
        if (entry->d_name [0] == '.' || strlen (entry->d_name) >= sizeof (s_name_t))
            continue;
        if (count < max)
            strcpy (names [count++], entry->d_name);
        else
            (*extra)++;
    }
    closedir (dir);
    qsort (names, count, sizeof (s_name_t), s_compare_names);
    return (int) count;
}

//  --------------------------------------------------------------------------------------------
//  CPU: cores, model, load, utilisation

//  Count the CPUs of a list like "0-3,8,10-11". False if it is not one.
static bool
s_parse_cpu_list (const char *text, uint32_t *count)
{
    uint64_t total = 0;
    const char *p = text;
    while (*p) {
        char *end;
        if (!isdigit ((unsigned char) *p))
            return false;
        unsigned long first = strtoul (p, &end, 10), last = first;
        if (*end == '-') {
            if (!isdigit ((unsigned char) end [1]))
                return false;
            last = strtoul (end + 1, &end, 10);
        }
        if (last < first || last > (1ul << 20))
            return false;
        total += last - first + 1;
        if (*end == ',')
            end++;
        else if (*end)
            return false;
        p = end;
    }
    if (total == 0 || total > UINT32_MAX)
        return false;
    *count = (uint32_t) total;
    return true;
}

//  The value of a "key<tabs>: value" line of /proc/cpuinfo, or NULL if the key differs.
static const char *
s_cpuinfo_value (const char *line, const char *key)
{
    size_t len = strlen (key);
    if (strncmp (line, key, len) != 0)
        return NULL;
    //  "cpu" must not match "cpu MHz": only blanks may stand between the key and its colon.
    const char *p = line + len;
    while (*p == ' ' || *p == '\t')
        p++;
    return *p == ':' ? p + 1 : NULL;
}

static void
s_read_cpuinfo (s_ctx_t *ctx, uint32_t *processors)
{
    char path [S_PATH_MAX], line [S_LINE_MAX];
    FILE *file = s_path (ctx, path, sizeof path, "/proc/cpuinfo") ? fopen (path, "r") : NULL;
    if (!file) {
        ctx->out->missing |= ZMESH_PROFILE_SRC_CPUINFO;
        return;
    }
    //  x86 says "model name"; other architectures use other keys, best first.
    static const char *model_keys [] = {"model name", "cpu model", "Processor", "cpu"};
    size_t model_rank = sizeof model_keys / sizeof model_keys [0];
    while (s_getline (file, line, sizeof line)) {
        if (s_cpuinfo_value (line, "processor"))
            (*processors)++;
        for (size_t k = 0; k < model_rank; k++) {
            const char *value = s_cpuinfo_value (line, model_keys [k]);
            if (value) {
                s_copy_clean (ctx->out->cpu_model, sizeof ctx->out->cpu_model, value,
                              strlen (value));
                model_rank = k;
                break;
            }
        }
    }
    fclose (file);
    if (*processors == 0 && !ctx->out->cpu_model [0])
        ctx->out->malformed |= ZMESH_PROFILE_SRC_CPUINFO;
}

static void
s_read_cores (s_ctx_t *ctx)
{
    zmesh_profile_t *out = ctx->out;
    uint32_t processors = 0, online = 0;
    s_read_cpuinfo (ctx, &processors);
    char text [S_SMALL_MAX];
    if (s_read_small (ctx, "/sys/devices/system/cpu/online", text, sizeof text) < 0)
        out->missing |= ZMESH_PROFILE_SRC_CPU_ONLINE;
    else if (!s_parse_cpu_list (text, &online))
        out->malformed |= ZMESH_PROFILE_SRC_CPU_ONLINE;
    //  Online CPUs first: cpuinfo lists what is present, which may be more.
    out->cpu_cores = online ? online : processors ? processors : 1;
}

static void
s_read_loadavg (s_ctx_t *ctx)
{
    zmesh_profile_t *out = ctx->out;
    char text [S_SMALL_MAX];
    if (s_read_small (ctx, "/proc/loadavg", text, sizeof text) < 0) {
        out->missing |= ZMESH_PROFILE_SRC_LOADAVG;
        return;
    }
    const char *p = text;
    uint32_t load [3];
    if (!s_parse_milli (&p, &load [0]) || !s_parse_milli (&p, &load [1])
        || !s_parse_milli (&p, &load [2])) {
        out->malformed |= ZMESH_PROFILE_SRC_LOADAVG;
        return;
    }
    out->load_avg1_milli = load [0];
    out->load_avg5_milli = load [1];
    out->load_avg15_milli = load [2];
}

//  The aggregate "cpu" line of /proc/stat: user nice system idle iowait irq softirq steal
//  (guest time is already inside user). Idle time includes iowait.
static void
s_read_stat (s_ctx_t *ctx, uint64_t previous_total, uint64_t previous_idle)
{
    zmesh_profile_t *out = ctx->out;
    char path [S_PATH_MAX], line [S_LINE_MAX];
    FILE *file = s_path (ctx, path, sizeof path, "/proc/stat") ? fopen (path, "r") : NULL;
    if (!file) {
        out->missing |= ZMESH_PROFILE_SRC_STAT;
        return;
    }
    bool read = s_getline (file, line, sizeof line);
    fclose (file);
    uint64_t field [8] = {0}, total = 0;
    int fields = 0;
    if (read && strncmp (line, "cpu ", 4) == 0) {
        const char *p = line + 4;
        for (; fields < 8; fields++) {
            char *end;
            while (*p == ' ')
                p++;
            if (!isdigit ((unsigned char) *p))
                break;
            field [fields] = strtoull (p, &end, 10);
            total += field [fields];
            p = end;
        }
    }
    if (fields < 4) {
        out->malformed |= ZMESH_PROFILE_SRC_STAT;
        return;
    }
    out->cpu_total_ticks = total;
    out->cpu_idle_ticks = field [3] + field [4];
    //  Counters only grow; if they went back (another machine, a fixture), there is no figure.
    if (previous_total == 0 || total <= previous_total || out->cpu_idle_ticks < previous_idle)
        return;
    uint64_t busy_delta = total - previous_total, idle_delta = out->cpu_idle_ticks - previous_idle;
    if (idle_delta > busy_delta)
        idle_delta = busy_delta;
    out->cpu_util_bp = (uint32_t) ((busy_delta - idle_delta) * 10000 / busy_delta);
    out->cpu_util_valid = true;
}

//  --------------------------------------------------------------------------------------------
//  Memory and cgroup limits

static void
s_read_meminfo (s_ctx_t *ctx)
{
    zmesh_profile_t *out = ctx->out;
    char path [S_PATH_MAX], line [S_LINE_MAX];
    FILE *file = s_path (ctx, path, sizeof path, "/proc/meminfo") ? fopen (path, "r") : NULL;
    if (!file) {
        out->missing |= ZMESH_PROFILE_SRC_MEMINFO;
        return;
    }
    static const char *keys [] = {"MemTotal:", "MemAvailable:", "MemFree:", "Buffers:", "Cached:"};
    uint64_t value [5] = {0};
    bool found [5] = {false};
    while (s_getline (file, line, sizeof line)) {
        for (size_t k = 0; k < 5; k++) {
            size_t len = strlen (keys [k]);
            char *end;
            if (strncmp (line, keys [k], len) != 0)
                continue;
            const char *p = line + len;
            while (*p == ' ')
                p++;
            unsigned long long kib = strtoull (p, &end, 10);
            if (end != p && strcmp (end, " kB") == 0 && kib < (UINT64_MAX >> 10)) {
                value [k] = kib * 1024;
                found [k] = true;
            }
        }
    }
    fclose (file);
    if (!found [0] || (!found [1] && !found [2]))
        out->malformed |= ZMESH_PROFILE_SRC_MEMINFO;
    out->mem_total_bytes = value [0];
    //  Kernels before 3.14 have no MemAvailable: estimate it the way free(1) used to.
    out->mem_available_bytes = found [1] ? value [1] : value [2] + value [3] + value [4];
}

//  This process's cgroup paths from /proc/self/cgroup: the v2 one ("0::/path") and the v1
//  ones of the cpu and memory controllers. "/" where the file does not say.
typedef struct {
    char v2 [S_SMALL_MAX];
    char cpu_v1 [S_SMALL_MAX];
    char memory_v1 [S_SMALL_MAX];
} s_cgroup_paths_t;

static bool
s_has_controller (const char *list, size_t len, const char *name)
{
    size_t name_len = strlen (name);
    for (const char *p = list; p < list + len;) {
        const char *comma = memchr (p, ',', (size_t) (list + len - p));
        size_t item = comma ? (size_t) (comma - p) : (size_t) (list + len - p);
        if (item == name_len && memcmp (p, name, item) == 0)
            return true;
        p += item + 1;
    }
    return false;
}

static void
s_read_cgroup_paths (s_ctx_t *ctx, s_cgroup_paths_t *paths)
{
    strcpy (paths->v2, "/");
    strcpy (paths->cpu_v1, "/");
    strcpy (paths->memory_v1, "/");
    char path [S_PATH_MAX], line [S_LINE_MAX];
    FILE *file = s_path (ctx, path, sizeof path, "/proc/self/cgroup") ? fopen (path, "r") : NULL;
    if (!file)
        return;
    while (s_getline (file, line, sizeof line)) {
        char *first = strchr (line, ':');
        char *second = first ? strchr (first + 1, ':') : NULL;
        if (!second || second [1] != '/' || strlen (second + 1) >= S_SMALL_MAX)
            continue;
        const char *list = first + 1, *cgroup = second + 1;
        size_t list_len = (size_t) (second - list);
        if (list_len == 0 && first == line + 1 && line [0] == '0')
            strcpy (paths->v2, cgroup);
        if (s_has_controller (list, list_len, "cpu"))
            strcpy (paths->cpu_v1, cgroup);
        if (s_has_controller (list, list_len, "memory"))
            strcpy (paths->memory_v1, cgroup);
    }
    fclose (file);
}

//  A limit read from one cgroup directory: ZMESH_OK with *value (UINT64_MAX = none),
//  ZMESH_ENOTFOUND if the file is not there, ZMESH_EPROTO if it does not parse.
typedef int (s_limit_fn) (const s_ctx_t *ctx, const char *dir, uint64_t *value);

//  The tightest limit from dir up to the cgroup root: a parent's limit binds its children.
static uint64_t
s_cgroup_limit (s_ctx_t *ctx, const char *mount, const char *cgroup, s_limit_fn *read_limit)
{
    char dir [S_PATH_MAX];
    int len = snprintf (dir, sizeof dir, "%s%s", mount, strcmp (cgroup, "/") ? cgroup : "");
    if (len < 0 || (size_t) len >= sizeof dir)
        return UINT64_MAX;
    size_t mount_len = strlen (mount);
    uint64_t tightest = UINT64_MAX;
    for (int depth = 0; depth < S_CGROUP_DEPTH_MAX; depth++) {
        uint64_t value;
        int rc = read_limit (ctx, dir, &value);
        if (rc == ZMESH_EPROTO)
            ctx->out->malformed |= ZMESH_PROFILE_SRC_CGROUP;
        else if (rc == ZMESH_OK && value < tightest)
            tightest = value;
        char *slash = strrchr (dir, '/');
        if (!slash || (size_t) (slash - dir) < mount_len)
            break;
        *slash = 0;
    }
    return tightest;
}

//  cgroup v2 cpu.max: "max 100000" or "QUOTA PERIOD", in microseconds; value in millicores.
static int
s_cpu_max_v2 (const s_ctx_t *ctx, const char *dir, uint64_t *value)
{
    char rel [S_PATH_MAX], text [S_SMALL_MAX];
    if (!s_join (rel, sizeof rel, dir, "cpu.max") || s_read_small (ctx, rel, text, sizeof text) < 0)
        return ZMESH_ENOTFOUND;
    unsigned long long quota, period;
    if (strncmp (text, "max", 3) == 0 && (text [3] == 0 || text [3] == ' ')) {
        *value = UINT64_MAX;
        return ZMESH_OK;
    }
    if (sscanf (text, "%llu %llu", &quota, &period) != 2 || period == 0 || quota == 0
        || quota > UINT32_MAX)
        return ZMESH_EPROTO;
    *value = quota * 1000 / period;
    return ZMESH_OK;
}

//  cgroup v1 cpu.cfs_quota_us (-1 = none) over cpu.cfs_period_us.
static int
s_cpu_max_v1 (const s_ctx_t *ctx, const char *dir, uint64_t *value)
{
    char rel [S_PATH_MAX], quota_text [S_SMALL_MAX], period_text [S_SMALL_MAX];
    if (!s_join (rel, sizeof rel, dir, "cpu.cfs_quota_us")
        || s_read_small (ctx, rel, quota_text, sizeof quota_text) < 0)
        return ZMESH_ENOTFOUND;
    if (strcmp (quota_text, "-1") == 0) {
        *value = UINT64_MAX;
        return ZMESH_OK;
    }
    uint64_t quota, period;
    if (!s_join (rel, sizeof rel, dir, "cpu.cfs_period_us")
        || s_read_small (ctx, rel, period_text, sizeof period_text) < 0
        || !s_parse_u64 (quota_text, &quota) || !s_parse_u64 (period_text, &period) || period == 0
        || quota == 0 || quota > UINT32_MAX)
        return ZMESH_EPROTO;
    *value = quota * 1000 / period;
    return ZMESH_OK;
}

//  One file holding bytes or "max" (v2 memory.max, v1 memory.limit_in_bytes).
static int
s_bytes_limit (const s_ctx_t *ctx, const char *dir, const char *name, uint64_t *value)
{
    char rel [S_PATH_MAX], text [S_SMALL_MAX];
    if (!s_join (rel, sizeof rel, dir, name) || s_read_small (ctx, rel, text, sizeof text) < 0)
        return ZMESH_ENOTFOUND;
    if (strcmp (text, "max") == 0) {
        *value = UINT64_MAX;
        return ZMESH_OK;
    }
    if (!s_parse_u64 (text, value))
        return ZMESH_EPROTO;
    if (*value >= S_UNLIMITED_BYTES)
        *value = UINT64_MAX;
    return ZMESH_OK;
}

static int
s_memory_max_v2 (const s_ctx_t *ctx, const char *dir, uint64_t *value)
{
    return s_bytes_limit (ctx, dir, "memory.max", value);
}

static int
s_memory_max_v1 (const s_ctx_t *ctx, const char *dir, uint64_t *value)
{
    return s_bytes_limit (ctx, dir, "memory.limit_in_bytes", value);
}

static void
s_read_cgroup (s_ctx_t *ctx)
{
    s_cgroup_paths_t paths;
    s_read_cgroup_paths (ctx, &paths);
    //  v2 (unified) first, then the v1 hierarchies under their usual mount names.
    uint64_t cpu = s_cgroup_limit (ctx, "/sys/fs/cgroup", paths.v2, s_cpu_max_v2);
    if (cpu == UINT64_MAX)
        cpu = s_cgroup_limit (ctx, "/sys/fs/cgroup/cpu", paths.cpu_v1, s_cpu_max_v1);
    if (cpu == UINT64_MAX)
        cpu = s_cgroup_limit (ctx, "/sys/fs/cgroup/cpu,cpuacct", paths.cpu_v1, s_cpu_max_v1);
    uint64_t memory = s_cgroup_limit (ctx, "/sys/fs/cgroup", paths.v2, s_memory_max_v2);
    if (memory == UINT64_MAX)
        memory = s_cgroup_limit (ctx, "/sys/fs/cgroup/memory", paths.memory_v1, s_memory_max_v1);
    ctx->out->cpu_quota_millicores = cpu == UINT64_MAX ? 0 : cpu == 0 ? 1 : (uint32_t) cpu;
    ctx->out->mem_limit_bytes = memory == UINT64_MAX ? 0 : memory;
}

//  --------------------------------------------------------------------------------------------
//  Disks

//  Local filesystems that hold data. Network filesystems are left out on purpose: statvfs on
//  a dead NFS server blocks, and the health actor must not.
static bool
s_disk_type (const char *type)
{
    static const char *types [] = {"ext2",    "ext3",    "ext4",     "xfs",     "btrfs", "zfs",
                                   "f2fs",    "jfs",     "vfat",     "exfat",   "ntfs",  "ntfs3",
                                   "fuseblk", "overlay", "bcachefs", "reiserfs"};
    for (size_t i = 0; i < sizeof types / sizeof types [0]; i++)
        if (strcmp (type, types [i]) == 0)
            return true;
    return false;
}

//  Undo the octal escapes of /proc/self/mounts ("\040" is a space), in place.
static void
s_unescape_mount (char *text)
{
    char *out = text;
    for (char *p = text; *p; p++) {
        if (p [0] == '\\' && p [1] >= '0' && p [1] <= '3' && p [2] >= '0' && p [2] <= '7'
            && p [3] >= '0' && p [3] <= '7') {
            *out++ = (char) ((p [1] - '0') * 64 + (p [2] - '0') * 8 + (p [3] - '0'));
            p += 3;
        }
        else
            *out++ = *p;
    }
    *out = 0;
}

//  Add one mount if it is a new device; sources [] remembers the devices already taken.
typedef char s_source_t [S_SOURCE_MAX];

static void
s_add_disk (s_ctx_t *ctx, const char *source, char *mount, const char *type, s_source_t *sources)
{
    zmesh_profile_t *out = ctx->out;
    for (uint32_t i = 0; i < out->disk_count; i++)
        if (strcmp (sources [i], source) == 0)
            return;  //  the same device mounted again (bind mounts, subvolumes)
    s_unescape_mount (mount);
    if (out->disk_count == ZMESH_PROFILE_DISKS_MAX || strlen (mount) >= ZMESH_PROFILE_MOUNT_MAX
        || strlen (source) >= S_SOURCE_MAX) {
        out->disks_dropped++;
        return;
    }
    zmesh_profile_disk_t *disk = &out->disks [out->disk_count];
    strcpy (sources [out->disk_count++], source);
    s_copy_clean (disk->mount_path, sizeof disk->mount_path, mount, strlen (mount));
    s_copy_clean (disk->fstype, sizeof disk->fstype, type, strlen (type));
    struct statvfs vfs;
    if (!(ctx->flags & ZMESH_PROFILE_READ_NO_STATVFS) && statvfs (mount, &vfs) == 0) {
        disk->total_bytes = (uint64_t) vfs.f_blocks * vfs.f_frsize;
        disk->free_bytes = (uint64_t) vfs.f_bavail * vfs.f_frsize;
    }
}

static void
s_read_mounts (s_ctx_t *ctx)
{
    char path [S_PATH_MAX], line [S_LINE_MAX];
    FILE *file = s_path (ctx, path, sizeof path, "/proc/self/mounts") ? fopen (path, "r") : NULL;
    if (!file) {
        ctx->out->missing |= ZMESH_PROFILE_SRC_MOUNTS;
        return;
    }
    s_source_t sources [ZMESH_PROFILE_DISKS_MAX];
    while (s_getline (file, line, sizeof line)) {
        char *save = NULL;
        char *source = strtok_r (line, " \t", &save);
        char *mount = source ? strtok_r (NULL, " \t", &save) : NULL;
        char *type = mount ? strtok_r (NULL, " \t", &save) : NULL;
        if (!type || mount [0] != '/') {
            ctx->out->malformed |= ZMESH_PROFILE_SRC_MOUNTS;
            continue;
        }
        if (s_disk_type (type))
            s_add_disk (ctx, source, mount, type, sources);
    }
    fclose (file);
}

//  --------------------------------------------------------------------------------------------
//  Network interfaces

static void
s_read_net (s_ctx_t *ctx, const char *name)
{
    zmesh_profile_t *out = ctx->out;
    char rel [S_PATH_MAX], text [S_SMALL_MAX];
    uint64_t value;
    snprintf (rel, sizeof rel, "/sys/class/net/%s/flags", name);
    //  IFF_LOOPBACK is 0x8: loopback devices are not how peers reach this node.
    if (s_read_small (ctx, rel, text, sizeof text) > 0 && (strtoul (text, NULL, 16) & 0x8))
        return;
    if (out->net_count == ZMESH_PROFILE_NETS_MAX) {
        out->nets_dropped++;
        return;
    }
    zmesh_profile_net_t *net = &out->nets [out->net_count++];
    s_copy_clean (net->name, sizeof net->name, name, strlen (name));
    snprintf (rel, sizeof rel, "/sys/class/net/%s/operstate", name);
    if (s_read_small (ctx, rel, text, sizeof text) >= 0)
        s_copy_clean (net->operstate, sizeof net->operstate, text, strlen (text));
    //  speed is -1 or unreadable for virtual links and links that are down: unknown, not wrong.
    snprintf (rel, sizeof rel, "/sys/class/net/%s/speed", name);
    if (s_read_small (ctx, rel, text, sizeof text) > 0 && s_parse_u64 (text, &value)
        && value <= UINT32_MAX)
        net->speed_mbps = (uint32_t) value;
    snprintf (rel, sizeof rel, "/sys/class/net/%s/mtu", name);
    if (s_read_small (ctx, rel, text, sizeof text) >= 0) {
        if (s_parse_u64 (text, &value) && value <= UINT32_MAX)
            net->mtu_bytes = (uint32_t) value;
        else
            out->malformed |= ZMESH_PROFILE_SRC_NET;
    }
    snprintf (rel, sizeof rel, "/sys/class/net/%s/address", name);
    int len = s_read_small (ctx, rel, text, sizeof text);
    if (len >= (int) sizeof net->mac)
        out->malformed |= ZMESH_PROFILE_SRC_NET;
    else if (len > 0)
        s_copy_clean (net->mac, sizeof net->mac, text, (size_t) len);
}

static void
s_read_nets (s_ctx_t *ctx)
{
    s_name_t *names = malloc (S_DIR_NAMES_MAX * sizeof (s_name_t));
    int count =
        names ? s_list_dir (ctx, "/sys/class/net", names, S_DIR_NAMES_MAX, &ctx->out->nets_dropped)
              : -1;
    if (count < 0)
        ctx->out->missing |= ZMESH_PROFILE_SRC_NET;
    for (int i = 0; i < count; i++) {
        char path [S_PATH_MAX], rel [S_PATH_MAX];
        struct stat st;
        snprintf (rel, sizeof rel, "/sys/class/net/%s", names [i]);
        //  Skip files such as bonding_masters; interfaces are (links to) directories.
        if (strcmp (names [i], "lo") == 0 || strlen (names [i]) >= ZMESH_PROFILE_IFNAME_MAX
            || !s_path (ctx, path, sizeof path, rel) || stat (path, &st) != 0
            || !S_ISDIR (st.st_mode))
            continue;
        s_read_net (ctx, names [i]);
    }
    free (names);
}

//  --------------------------------------------------------------------------------------------
//  GPUs

//  Display adapters of virtual machines and server management controllers: a card, not a
//  GPU anyone would schedule work on.
static bool
s_display_only (uint16_t vendor_id)
{
    static const uint16_t ids [] = {0x1af4, 0x1234, 0x15ad, 0x1b36, 0x80ee, 0x1a03, 0x102b};
    for (size_t i = 0; i < sizeof ids / sizeof ids [0]; i++)
        if (vendor_id == ids [i])
            return true;
    return false;
}

static void
s_vendor_name (char *dest, size_t size, uint16_t vendor_id)
{
    const char *name = vendor_id == 0x10de   ? "nvidia"
                       : vendor_id == 0x1002 ? "amd"
                       : vendor_id == 0x8086 ? "intel"
                                             : NULL;
    if (name)
        snprintf (dest, size, "%s", name);
    else
        snprintf (dest, size, "0x%04x", vendor_id);
}

static zmesh_profile_gpu_t *
s_add_gpu (zmesh_profile_t *out)
{
    if (out->gpu_count == ZMESH_PROFILE_GPUS_MAX) {
        out->gpus_dropped++;
        return NULL;
    }
    zmesh_profile_gpu_t *gpu = &out->gpus [out->gpu_count++];
    memset (gpu, 0, sizeof *gpu);
    return gpu;
}

//  One /sys/class/drm/cardN: PCI ids, slot, and video memory where amdgpu says it.
static void
s_read_drm_card (s_ctx_t *ctx, const char *card)
{
    zmesh_profile_t *out = ctx->out;
    char rel [S_PATH_MAX], text [S_SMALL_MAX];
    uint16_t vendor_id, device_id = 0;
    snprintf (rel, sizeof rel, "/sys/class/drm/%s/device/vendor", card);
    if (s_read_small (ctx, rel, text, sizeof text) < 0)
        return;  //  not a PCI device
    if (!s_parse_pci_id (text, &vendor_id)) {
        out->malformed |= ZMESH_PROFILE_SRC_GPU;
        return;
    }
    if (s_display_only (vendor_id))
        return;
    zmesh_profile_gpu_t *gpu = s_add_gpu (out);
    if (!gpu)
        return;
    gpu->vendor_id = vendor_id;
    s_vendor_name (gpu->vendor, sizeof gpu->vendor, vendor_id);
    snprintf (rel, sizeof rel, "/sys/class/drm/%s/device/device", card);
    if (s_read_small (ctx, rel, text, sizeof text) >= 0 && !s_parse_pci_id (text, &device_id))
        out->malformed |= ZMESH_PROFILE_SRC_GPU;
    gpu->device_id = device_id;
    snprintf (rel, sizeof rel, "/sys/class/drm/%s/device/uevent", card);
    char uevent [1024];
    if (s_read_small (ctx, rel, uevent, sizeof uevent) > 0) {
        const char *slot = strstr (uevent, "PCI_SLOT_NAME=");
        if (slot) {
            slot += strlen ("PCI_SLOT_NAME=");
            s_copy_clean (gpu->bus, sizeof gpu->bus, slot, strcspn (slot, "\n"));
        }
    }
    uint64_t vram;
    snprintf (rel, sizeof rel, "/sys/class/drm/%s/device/mem_info_vram_total", card);
    if (s_read_small (ctx, rel, text, sizeof text) > 0 && s_parse_u64 (text, &vram))
        gpu->vram_bytes = vram;
}

//  One /proc/driver/nvidia/gpus/BUS/information: the model name. The same GPU may already be
//  known from DRM (nvidia-drm loaded); then only the model is added.
static void
s_read_nvidia_gpu (s_ctx_t *ctx, const char *bus)
{
    zmesh_profile_t *out = ctx->out;
    char path [S_PATH_MAX], rel [S_PATH_MAX], line [S_LINE_MAX],
        model [ZMESH_PROFILE_MODEL_MAX] = "";
    snprintf (rel, sizeof rel, "/proc/driver/nvidia/gpus/%s/information", bus);
    FILE *file = s_path (ctx, path, sizeof path, rel) ? fopen (path, "r") : NULL;
    if (!file)
        return;
    while (s_getline (file, line, sizeof line))
        if (strncmp (line, "Model:", 6) == 0)
            s_copy_clean (model, sizeof model, line + 6, strlen (line + 6));
    fclose (file);
    if (!model [0])
        out->malformed |= ZMESH_PROFILE_SRC_GPU;
    zmesh_profile_gpu_t *gpu = NULL;
    for (uint32_t i = 0; i < out->gpu_count && !gpu; i++)
        if (strcasecmp (out->gpus [i].bus, bus) == 0)
            gpu = &out->gpus [i];
    if (!gpu && (gpu = s_add_gpu (out)) != NULL) {
        gpu->vendor_id = 0x10de;
        s_vendor_name (gpu->vendor, sizeof gpu->vendor, 0x10de);
        s_copy_clean (gpu->bus, sizeof gpu->bus, bus, strlen (bus));
    }
    if (gpu)
        snprintf (gpu->model, sizeof gpu->model, "%s", model);
}

static void
s_read_gpus (s_ctx_t *ctx)
{
    uint32_t extra = 0;
    s_name_t *names = malloc (S_DIR_NAMES_MAX * sizeof (s_name_t));
    if (!names)
        return;
    int count = s_list_dir (ctx, "/sys/class/drm", names, S_DIR_NAMES_MAX, &extra);
    for (int i = 0; i < count; i++) {
        //  cardN only: cardN-HDMI-A-1 are its connectors, renderDN its render node.
        const char *digits = names [i] + 4;
        if (strncmp (names [i], "card", 4) == 0 && *digits
            && strspn (digits, "0123456789") == strlen (digits))
            s_read_drm_card (ctx, names [i]);
    }
    count = s_list_dir (ctx, "/proc/driver/nvidia/gpus", names, S_DIR_NAMES_MAX, &extra);
    for (int i = 0; i < count; i++)
        s_read_nvidia_gpu (ctx, names [i]);
    free (names);
}

//  --------------------------------------------------------------------------------------------
//  Read

//  Where the files are: root without trailing '/'s ("" or NULL: the real machine).
static void
s_ctx_init (s_ctx_t *ctx, const char *root, uint32_t flags, zmesh_profile_t *out)
{
    *ctx = (s_ctx_t){.flags = flags, .out = out};
    if (root && strcmp (root, "/") != 0) {
        size_t len = strlen (root);
        while (len > 0 && root [len - 1] == '/')
            len--;
        //  A root too long to use is a machine where nothing can be read.
        ctx->root_unusable = len >= sizeof ctx->root;
        if (!ctx->root_unusable) {
            memcpy (ctx->root, root, len);
            ctx->root [len] = 0;
        }
    }
}

void
zmesh_profile_read_flags (zmesh_profile_t *out,
                          const char *root,
                          const zmesh_profile_t *previous,
                          uint32_t flags)
{
    ZMESH_ASSERT (out);
    //  previous may be out itself: take what is needed before clearing.
    uint64_t previous_total = previous ? previous->cpu_total_ticks : 0;
    uint64_t previous_idle = previous ? previous->cpu_idle_ticks : 0;
    zmesh_profile_bench_t bench = {0};
    if (previous)
        bench = previous->bench;
    memset (out, 0, sizeof *out);
    out->bench = bench;

    s_ctx_t ctx;
    s_ctx_init (&ctx, root, flags, out);
    s_read_cores (&ctx);
    s_read_loadavg (&ctx);
    s_read_stat (&ctx, previous_total, previous_idle);
    s_read_meminfo (&ctx);
    s_read_cgroup (&ctx);
    s_read_mounts (&ctx);
    s_read_nets (&ctx);
    s_read_gpus (&ctx);
}

void
zmesh_profile_read (zmesh_profile_t *out, const char *root, const zmesh_profile_t *previous)
{
    zmesh_profile_read_flags (out, root, previous, 0);
}

//  Free bytes of the disks a full read listed. A mount point that now gives another size is
//  another filesystem (the disk went away, its parent shows through): left as it was until the
//  next full read redoes the list, as is one statvfs cannot reach.
static void
s_refresh_disks (s_ctx_t *ctx)
{
    zmesh_profile_t *out = ctx->out;
    if (ctx->flags & ZMESH_PROFILE_READ_NO_STATVFS)
        return;
    for (uint32_t i = 0; i < out->disk_count && i < ZMESH_PROFILE_DISKS_MAX; i++) {
        zmesh_profile_disk_t *disk = &out->disks [i];
        struct statvfs vfs;
        if (statvfs (disk->mount_path, &vfs) == 0
            && (uint64_t) vfs.f_blocks * vfs.f_frsize == disk->total_bytes)
            disk->free_bytes = (uint64_t) vfs.f_bavail * vfs.f_frsize;
    }
}

void
zmesh_profile_refresh (zmesh_profile_t *self, const char *root, uint32_t flags)
{
    ZMESH_ASSERT (self);
    uint64_t previous_total = self->cpu_total_ticks, previous_idle = self->cpu_idle_ticks;
    //  As a full read would leave them if their files failed: defaults, and only these bits.
    self->load_avg1_milli = self->load_avg5_milli = self->load_avg15_milli = 0;
    self->cpu_util_bp = 0;
    self->cpu_util_valid = false;
    self->cpu_total_ticks = self->cpu_idle_ticks = 0;
    self->mem_total_bytes = self->mem_available_bytes = 0;
    uint32_t dynamic =
        ZMESH_PROFILE_SRC_LOADAVG | ZMESH_PROFILE_SRC_STAT | ZMESH_PROFILE_SRC_MEMINFO;
    self->missing &= ~dynamic;
    self->malformed &= ~dynamic;

    s_ctx_t ctx;
    s_ctx_init (&ctx, root, flags, self);
    s_read_loadavg (&ctx);
    s_read_stat (&ctx, previous_total, previous_idle);
    s_read_meminfo (&ctx);  //  MemTotal too: the same file, and a VM's balloon may move it
    s_refresh_disks (&ctx);
}
