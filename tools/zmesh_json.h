/*  zmesh_json.h: msgpack objects as JSON text, for zmeshctl --json.

    One JSON value per msgpack object: map -> object, array -> array, str -> string, bin ->
    string of lowercase hex, int -> number, float -> number (null when not finite, which JSON
    cannot write), bool -> true/false, nil -> null, ext -> {"ext": type, "data": hex}. Map keys
    that are not strings become strings of their JSON text (an int key 7 -> "7").

    Strings are written as valid UTF-8 whatever the input: well-formed UTF-8 passes through;
    '"', '\\' and control characters (C0, DEL, and the C1 range U+0080..U+009F, which some
    terminals obey) are escaped; a byte that does not start a well-formed sequence becomes
    U+FFFD. The output is one line: the same object always gives the same text.
*/
#ifndef ZMESH_JSON_H_INCLUDED
#define ZMESH_JSON_H_INCLUDED

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ZMESH_JSON_DEPTH_MAX 64  //  deeper nesting is written as null

//  Write obj as JSON to out, without a newline. 0, or -1 if the stream failed.
int zmesh_json_write (FILE *out, const msgpack_object *obj);

//  The JSON text of obj, NUL-terminated; the caller frees it. NULL if out of memory.
char *zmesh_json_string (const msgpack_object *obj);

//  Write size bytes of text as a JSON string literal, quotes included (rules above).
void zmesh_json_write_string (FILE *out, const char *text, size_t size);

//  Length (1..4) of the well-formed UTF-8 sequence at the start of s[0..size), with its code
//  point in *code_point; 0 if the bytes are not one (overlong, surrogate, above U+10FFFF,
//  truncated, stray continuation byte).
size_t zmesh_json_utf8_next (const uint8_t *s, size_t size, uint32_t *code_point);

#endif
