/*  zmesh_json.c: msgpack objects as JSON text (see zmesh_json.h).

    A recursive walk over msgpack-c's unpacked object tree, writing to a stdio stream; the
    string form goes through open_memstream. UTF-8 is checked by the rules of RFC 3629
    section 4 (the Unicode "well-formed" table), so the output is valid JSON (RFC 8259) for
    any input, including strings a remote node put in its name.
*/
#include "zmesh_json.h"
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

size_t
zmesh_json_utf8_next (const uint8_t *s, size_t size, uint32_t *code_point)
{
    if (size == 0)
        return 0;
    uint8_t lead = s [0];
    if (lead < 0x80) {
        *code_point = lead;
        return 1;
    }
    size_t length;
    uint32_t value;
    uint8_t low = 0x80;   //  range of the second byte, narrowed for the lead bytes that
    uint8_t high = 0xBF;  //  would otherwise allow overlongs, surrogates or > U+10FFFF
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
        value = lead & 0x1F;
    }
    else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        value = lead & 0x0F;
        if (lead == 0xE0)
            low = 0xA0;
        else if (lead == 0xED)
            high = 0x9F;
    }
    else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        value = lead & 0x07;
        if (lead == 0xF0)
            low = 0x90;
        else if (lead == 0xF4)
            high = 0x8F;
    }
    else
        return 0;
    if (size < length)
        return 0;
    for (size_t i = 1; i < length; i++) {
        uint8_t byte = s [i];
        if (i == 1 ? byte < low || byte > high : byte < 0x80 || byte > 0xBF)
            return 0;
        value = value << 6 | (byte & 0x3F);
    }
    *code_point = value;
    return length;
}

void
zmesh_json_write_string (FILE *out, const char *text, size_t size)
{
    const uint8_t *s = (const uint8_t *) text;
    fputc ('"', out);
    size_t i = 0;
    while (i < size) {
        uint32_t code_point;
        size_t length = zmesh_json_utf8_next (s + i, size - i, &code_point);
        if (length == 0) {
            fputs ("\\ufffd", out);
            i++;
            continue;
        }
        switch (code_point) {
            case '"':
                fputs ("\\\"", out);
                break;
            case '\\':
                fputs ("\\\\", out);
                break;
            case '\b':
                fputs ("\\b", out);
                break;
            case '\f':
                fputs ("\\f", out);
                break;
            case '\n':
                fputs ("\\n", out);
                break;
            case '\r':
                fputs ("\\r", out);
                break;
            case '\t':
                fputs ("\\t", out);
                break;
            default:
                if (code_point < 0x20 || (code_point >= 0x7F && code_point <= 0x9F))
                    fprintf (out, "\\u%04" PRIx32, code_point);
                else
                    fwrite (s + i, 1, length, out);
        }
        i += length;
    }
    fputc ('"', out);
}

static void
s_write_hex (FILE *out, const char *data, size_t size)
{
    static const char digits [] = "0123456789abcdef";
    fputc ('"', out);
    for (size_t i = 0; i < size; i++) {
        uint8_t byte = (uint8_t) data [i];
        fputc (digits [byte >> 4], out);
        fputc (digits [byte & 15], out);
    }
    fputc ('"', out);
}

//  The shortest decimal form (up to 9 digits for a float32, 17 for a float64) that reads back
//  as the same value, so 0.1f prints as 0.1 and not as its double expansion.
static void
s_write_double (FILE *out, double value, bool single)
{
    if (!isfinite (value)) {
        fputs ("null", out);
        return;
    }
    char text [40];
    for (int digits = single ? 6 : 15; digits <= (single ? 9 : 17); digits++) {
        snprintf (text, sizeof text, "%.*g", digits, value);
        double back = strtod (text, NULL);
        if (single ? (float) back == (float) value : back == value)
            break;
    }
    fputs (text, out);
}

static void s_write_value (FILE *out, const msgpack_object *obj, int depth);

//  A map key: strings as they are, anything else as the string of its JSON text.
static void
s_write_key (FILE *out, const msgpack_object *key, int depth)
{
    if (key->type == MSGPACK_OBJECT_STR) {
        zmesh_json_write_string (out, key->via.str.ptr, key->via.str.size);
        return;
    }
    char *text = NULL;
    size_t size = 0;
    FILE *memory = open_memstream (&text, &size);
    if (memory) {
        s_write_value (memory, key, depth);
        if (fclose (memory) == 0 && text) {
            zmesh_json_write_string (out, text, size);
            free (text);
            return;
        }
        free (text);
    }
    fputs ("\"\"", out);  //  out of memory: still valid JSON
}

static void
s_write_value (FILE *out, const msgpack_object *obj, int depth)
{
    if (depth >= ZMESH_JSON_DEPTH_MAX) {
        fputs ("null", out);
        return;
    }
    switch (obj->type) {
        case MSGPACK_OBJECT_NIL:
            fputs ("null", out);
            break;
        case MSGPACK_OBJECT_BOOLEAN:
            fputs (obj->via.boolean ? "true" : "false", out);
            break;
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            fprintf (out, "%" PRIu64, obj->via.u64);
            break;
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            fprintf (out, "%" PRId64, obj->via.i64);
            break;
        case MSGPACK_OBJECT_FLOAT32:
            s_write_double (out, obj->via.f64, true);
            break;
        case MSGPACK_OBJECT_FLOAT64:
            s_write_double (out, obj->via.f64, false);
            break;
        case MSGPACK_OBJECT_STR:
            zmesh_json_write_string (out, obj->via.str.ptr, obj->via.str.size);
            break;
        case MSGPACK_OBJECT_BIN:
            s_write_hex (out, obj->via.bin.ptr, obj->via.bin.size);
            break;
        case MSGPACK_OBJECT_EXT:
            fprintf (out, "{\"ext\":%d,\"data\":", (int) obj->via.ext.type);
            s_write_hex (out, obj->via.ext.ptr, obj->via.ext.size);
            fputc ('}', out);
            break;
        case MSGPACK_OBJECT_ARRAY:
            fputc ('[', out);
            for (uint32_t i = 0; i < obj->via.array.size; i++) {
                if (i)
                    fputc (',', out);
                s_write_value (out, &obj->via.array.ptr [i], depth + 1);
            }
            fputc (']', out);
            break;
        case MSGPACK_OBJECT_MAP:
            fputc ('{', out);
            for (uint32_t i = 0; i < obj->via.map.size; i++) {
                if (i)
                    fputc (',', out);
                s_write_key (out, &obj->via.map.ptr [i].key, depth + 1);
                fputc (':', out);
                s_write_value (out, &obj->via.map.ptr [i].val, depth + 1);
            }
            fputc ('}', out);
            break;
        default:
            fputs ("null", out);  //  a type newer than this code
    }
}

int
zmesh_json_write (FILE *out, const msgpack_object *obj)
{
    s_write_value (out, obj, 0);
    return ferror (out) ? -1 : 0;
}

char *
zmesh_json_string (const msgpack_object *obj)
{
    char *text = NULL;
    size_t size = 0;
    FILE *memory = open_memstream (&text, &size);
    if (!memory)
        return NULL;
    int rc = zmesh_json_write (memory, obj);
    if (fclose (memory) || rc) {
        free (text);
        return NULL;
    }
    return text;
}
