/*  zmeshctl_text.c: msgpack values as text for a person, for zmeshctl's printers.

    The node's answers are msgpack maps and arrays; the printers pick fields by name
    (zmeshctl_get and its typed forms, which answer "-" or 0 for a missing field rather than
    fail) and lay them out as "key: value" lines or column-aligned tables. Every string is
    sanitized on the way: names and endpoints come from other nodes, and a peer must not be
    able to write escape sequences to an operator's terminal. Widths count code points, which
    is good enough for names.
*/
#include "zmeshctl.h"
#include "zmesh_json.h"
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

//  ---------------------------------------------------------------------------------------------
//  Text for people

//  Copy of text fit for a terminal: well-formed UTF-8 kept, control characters (C0, DEL, C1)
//  and malformed bytes as '?'. Truncated to dest_size - 1 bytes on a character boundary.
void
zmeshctl_sanitize (char *dest, size_t dest_size, const char *text, size_t size)
{
    const uint8_t *s = (const uint8_t *) text;
    size_t in = 0, out = 0;
    while (in < size) {
        uint32_t code_point;
        size_t length = zmesh_json_utf8_next (s + in, size - in, &code_point);
        bool control = code_point < 0x20 || (code_point >= 0x7F && code_point <= 0x9F);
        if (length == 0 || control) {
            if (out + 1 >= dest_size)
                break;
            dest [out++] = '?';
            in += length ? length : 1;
            continue;
        }
        if (out + length >= dest_size)
            break;
        memcpy (dest + out, s + in, length);
        out += length;
        in += length;
    }
    dest [out] = 0;
}

//  Columns a sanitized string takes on a terminal (one per code point: good enough for names).
static size_t
s_width (const char *text)
{
    size_t width = 0;
    for (const uint8_t *s = (const uint8_t *) text; *s; s++)
        width += (*s & 0xC0) != 0x80;
    return width;
}

static void
s_pad (const char *text, size_t width)
{
    fputs (text, stdout);
    for (size_t used = s_width (text); used < width; used++)
        fputc (' ', stdout);
}

//  "850ms", "4.2s", "3m07s", "2h05m", "3d04h".
void
zmeshctl_duration (char *dest, size_t size, uint64_t ms)
{
    uint64_t s = ms / 1000;
    if (ms < 1000)
        snprintf (dest, size, "%" PRIu64 "ms", ms);
    else if (ms < 60000)
        snprintf (dest, size, "%.1fs", (double) ms / 1000);
    else if (s < 3600)
        snprintf (dest, size, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
    else if (s < 86400)
        snprintf (dest, size, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s / 60 % 60);
    else
        snprintf (dest, size, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s / 3600 % 24);
}

//  A scalar as text for a person (sanitized); anything else as its JSON text.
void
zmeshctl_text (char *dest, size_t size, const msgpack_object *obj)
{
    switch (obj->type) {
        case MSGPACK_OBJECT_STR:
            zmeshctl_sanitize (dest, size, obj->via.str.ptr, obj->via.str.size);
            break;
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            snprintf (dest, size, "%" PRIu64, obj->via.u64);
            break;
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            snprintf (dest, size, "%" PRId64, obj->via.i64);
            break;
        case MSGPACK_OBJECT_BOOLEAN:
            snprintf (dest, size, "%s", obj->via.boolean ? "yes" : "no");
            break;
        case MSGPACK_OBJECT_NIL:
            snprintf (dest, size, "-");
            break;
        default: {
            char *json = zmesh_json_string (obj);
            zmeshctl_sanitize (dest, size, json ? json : "?", json ? strlen (json) : 1);
            free (json);
        }
    }
}

//  The value of a string key in a map; NULL if obj is no map or has no such key.
const msgpack_object *
zmeshctl_get (const msgpack_object *obj, const char *key)
{
    if (obj->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t length = strlen (key);
    for (uint32_t i = 0; i < obj->via.map.size; i++) {
        const msgpack_object *k = &obj->via.map.ptr [i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == length
            && memcmp (k->via.str.ptr, key, length) == 0)
            return &obj->via.map.ptr [i].val;
    }
    return NULL;
}

void
zmeshctl_get_text (char *dest, size_t size, const msgpack_object *map, const char *key)
{
    const msgpack_object *value = zmeshctl_get (map, key);
    if (value)
        zmeshctl_text (dest, size, value);
    else
        snprintf (dest, size, "-");
}

uint64_t
zmeshctl_get_uint (const msgpack_object *map, const char *key)
{
    const msgpack_object *value = zmeshctl_get (map, key);
    return value && value->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? value->via.u64 : 0;
}

int
zmeshctl_unexpected (void)
{
    fprintf (stderr, "zmeshctl: unexpected answer from the node (see it with --json)\n");
    return ZMESHCTL_EXIT_FAIL;
}

//  "key: value" lines for the scalars of a map, values aligned. Arrays are left out.
void
zmeshctl_print_fields (const msgpack_object *map)
{
    size_t width = 0;
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_kv *kv = &map->via.map.ptr [i];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->val.type != MSGPACK_OBJECT_ARRAY
            && kv->val.type != MSGPACK_OBJECT_MAP && kv->key.via.str.size > width)
            width = kv->key.via.str.size;
    }
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_kv *kv = &map->via.map.ptr [i];
        if (kv->val.type == MSGPACK_OBJECT_ARRAY || kv->val.type == MSGPACK_OBJECT_MAP)
            continue;  //  shown as tables or sections by the caller
        char key [64], value [ZMESHCTL_CELL_MAX * 2];
        zmeshctl_text (key, sizeof key, &kv->key);
        zmeshctl_text (value, sizeof value, &kv->val);
        printf ("%s:", key);
        for (size_t used = s_width (key); used <= width; used++)
            fputc (' ', stdout);
        if (strcmp (key, "uptime_s") == 0 && kv->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
            char duration [32];
            zmeshctl_duration (duration, sizeof duration, kv->val.via.u64 * 1000);
            printf ("%s (%s)\n", value, duration);
        }
        else
            printf ("%s\n", value);
    }
}

//  A column-aligned table: cells row-major, rows x columns, ZMESHCTL_CELL_MAX each; the last column
//  is not padded.
void
zmeshctl_print_table (const char *const *headers,
                      size_t columns,
                      char (*cells) [ZMESHCTL_CELL_MAX],
                      size_t rows)
{
    size_t widths [8] = {0};
    for (size_t c = 0; c < columns; c++) {
        widths [c] = s_width (headers [c]);
        for (size_t r = 0; r < rows; r++) {
            size_t width = s_width (cells [r * columns + c]);
            widths [c] = width > widths [c] ? width : widths [c];
        }
    }
    for (size_t r = 0; r <= rows; r++)
        for (size_t c = 0; c < columns; c++) {
            const char *text = r == 0 ? headers [c] : cells [(r - 1) * columns + c];
            if (c + 1 < columns) {
                s_pad (text, widths [c]);
                fputs (c == 0 && widths [0] == 1 ? " " : "  ", stdout);
            }
            else
                printf ("%s\n", text);
        }
}
