/*  zmesh_mpack.h: a strict, bounds-checked msgpack reader and a fixed-buffer writer.

    The reader walks a byte buffer it does not own and returns views into it (no allocation),
    so a decoder can validate every field and size before it copies anything. Every read
    checks the remaining length first; a truncated or mistyped object is ZMESH_EPROTO, never
    a crash. The writer packs with msgpack-c's packer into a caller-owned buffer of fixed
    capacity; running out of room is remembered and reported once, at the end, as
    ZMESH_ETOOBIG.
*/
#ifndef ZMESH_MPACK_H_INCLUDED
#define ZMESH_MPACK_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>

//  Nesting limit for zmesh_mp_skip: deeper input is malformed, whatever it says.
#define ZMESH_MP_DEPTH_MAX 16

typedef struct {
    const uint8_t *data;  //  the buffer being read (borrowed)
    size_t size;          //  its length in bytes
    size_t pos;           //  offset of the next unread byte
} zmesh_mp_reader_t;

void zmesh_mp_reader_init (zmesh_mp_reader_t *self, const void *data, size_t size);
//  Bytes not read yet.
size_t zmesh_mp_remaining (const zmesh_mp_reader_t *self);

//  Each returns ZMESH_OK and advances, or ZMESH_EPROTO and leaves the position unspecified.
int zmesh_mp_read_array (zmesh_mp_reader_t *self, uint32_t *count);
int zmesh_mp_read_map (zmesh_mp_reader_t *self, uint32_t *count);
int zmesh_mp_read_uint (zmesh_mp_reader_t *self, uint64_t *value);
int zmesh_mp_read_bool (zmesh_mp_reader_t *self, bool *value);
int zmesh_mp_read_nil (zmesh_mp_reader_t *self);
//  A view of a str / bin inside the buffer: not NUL-terminated.
int zmesh_mp_read_str (zmesh_mp_reader_t *self, const char **str, uint32_t *size);
int zmesh_mp_read_bin (zmesh_mp_reader_t *self, const uint8_t **bin, uint32_t *size);
//  Copy a str into dest (capacity dest_size including NUL); longer than dest_size - 1 is
//  ZMESH_ETOOBIG; an embedded NUL is ZMESH_EPROTO.
int zmesh_mp_read_cstr (zmesh_mp_reader_t *self, char *dest, size_t dest_size);
//  Read a bin of exactly size bytes into dest.
int zmesh_mp_read_bin_exact (zmesh_mp_reader_t *self, uint8_t *dest, size_t size);
//  Skip the elements of an array of `count` beyond the `known` ones a decoder reads: later
//  versions may append fields (forward compatibility).
int zmesh_mp_skip_extra (zmesh_mp_reader_t *self, uint32_t count, uint32_t known);
//  Skip one object of any type, with nesting bounded by ZMESH_MP_DEPTH_MAX.
int zmesh_mp_skip (zmesh_mp_reader_t *self);

typedef struct {
    uint8_t *data;      //  the buffer being written (borrowed)
    size_t capacity;    //  its size in bytes
    size_t size;        //  bytes written so far
    bool overflow;      //  set once a write did not fit; later writes are ignored
    msgpack_packer pk;  //  msgpack-c's packer, writing through s_write
} zmesh_mp_writer_t;

void zmesh_mp_writer_init (zmesh_mp_writer_t *self, void *data, size_t capacity);
//  Pack a NUL-terminated string as a msgpack str (any msgpack-c packer).
void zmesh_mp_pack_cstr (msgpack_packer *pk, const char *str);
//  Append bytes that are already msgpack. ZMESH_ETOOBIG (and the overflow remembered) if they
//  do not fit.
int zmesh_mp_write_raw (zmesh_mp_writer_t *self, const void *data, size_t size);
//  ZMESH_OK with *size the bytes written, or ZMESH_ETOOBIG if anything did not fit.
int zmesh_mp_writer_finish (const zmesh_mp_writer_t *self, size_t *size);
//  ZMESH_OK, or ZMESH_ETOOBIG if anything did not fit.
int zmesh_mp_writer_status (const zmesh_mp_writer_t *self);

#endif
