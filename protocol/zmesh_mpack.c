/*  zmesh_mpack.c: strict msgpack reader and fixed-buffer writer (see zmesh_mpack.h).

    Format reference: https://github.com/msgpack/msgpack/blob/master/spec.md
*/
#include "zmesh_mpack.h"
#include "zmesh_error.h"
#include <string.h>

void
zmesh_mp_reader_init (zmesh_mp_reader_t *self, const void *data, size_t size)
{
    self->data = (const uint8_t *) data;
    self->size = data ? size : 0;
    self->pos = 0;
}

size_t
zmesh_mp_remaining (const zmesh_mp_reader_t *self)
{
    return self->size - self->pos;
}

//  Read a big-endian unsigned of width bytes (1, 2, 4, 8).
static int
s_read_be (zmesh_mp_reader_t *self, size_t width, uint64_t *value)
{
    if (zmesh_mp_remaining (self) < width)
        return ZMESH_EPROTO;
    uint64_t v = 0;
    for (size_t i = 0; i < width; i++)
        v = (v << 8) | self->data [self->pos + i];
    self->pos += width;
    *value = v;
    return ZMESH_OK;
}

static int
s_read_byte (zmesh_mp_reader_t *self, uint8_t *byte)
{
    if (self->pos >= self->size)
        return ZMESH_EPROTO;
    *byte = self->data [self->pos++];
    return ZMESH_OK;
}

//  Container header: fix form mask/tag, then 16- and 32-bit forms.
static int
s_read_container (
    zmesh_mp_reader_t *self, uint8_t fix_tag, uint8_t tag16, uint8_t tag32, uint32_t *count)
{
    uint8_t b;
    uint64_t v;
    if (s_read_byte (self, &b))
        return ZMESH_EPROTO;
    if ((b & 0xf0) == fix_tag) {
        *count = b & 0x0f;
        return ZMESH_OK;
    }
    if (b == tag16 && s_read_be (self, 2, &v) == 0) {
        *count = (uint32_t) v;
        return ZMESH_OK;
    }
    if (b == tag32 && s_read_be (self, 4, &v) == 0) {
        *count = (uint32_t) v;
        return ZMESH_OK;
    }
    return ZMESH_EPROTO;
}

int
zmesh_mp_read_array (zmesh_mp_reader_t *self, uint32_t *count)
{
    int rc = s_read_container (self, 0x90, 0xdc, 0xdd, count);
    //  Each element takes at least one byte: a count beyond what is left is a lie.
    if (rc == 0 && *count > zmesh_mp_remaining (self))
        return ZMESH_EPROTO;
    return rc;
}

int
zmesh_mp_read_map (zmesh_mp_reader_t *self, uint32_t *count)
{
    int rc = s_read_container (self, 0x80, 0xde, 0xdf, count);
    if (rc == 0 && (uint64_t) *count * 2 > zmesh_mp_remaining (self))
        return ZMESH_EPROTO;
    return rc;
}

int
zmesh_mp_read_uint (zmesh_mp_reader_t *self, uint64_t *value)
{
    uint8_t b;
    if (s_read_byte (self, &b))
        return ZMESH_EPROTO;
    if (b <= 0x7f) {
        *value = b;
        return ZMESH_OK;
    }
    switch (b) {
        case 0xcc:
            return s_read_be (self, 1, value);
        case 0xcd:
            return s_read_be (self, 2, value);
        case 0xce:
            return s_read_be (self, 4, value);
        case 0xcf:
            return s_read_be (self, 8, value);
        default:
            return ZMESH_EPROTO;
    }
}

int
zmesh_mp_read_bool (zmesh_mp_reader_t *self, bool *value)
{
    uint8_t b;
    if (s_read_byte (self, &b) || (b != 0xc2 && b != 0xc3))
        return ZMESH_EPROTO;
    *value = b == 0xc3;
    return ZMESH_OK;
}

int
zmesh_mp_read_nil (zmesh_mp_reader_t *self)
{
    uint8_t b;
    if (s_read_byte (self, &b) || b != 0xc0)
        return ZMESH_EPROTO;
    return ZMESH_OK;
}

//  Length of a str (is_str) or bin object, then check the bytes are there.
static int
s_read_blob (zmesh_mp_reader_t *self, bool is_str, const uint8_t **ptr, uint32_t *size)
{
    uint8_t b;
    uint64_t len;
    if (s_read_byte (self, &b))
        return ZMESH_EPROTO;
    if (is_str && (b & 0xe0) == 0xa0)
        len = b & 0x1f;
    else if (b == (is_str ? 0xd9 : 0xc4)) {
        if (s_read_be (self, 1, &len))
            return ZMESH_EPROTO;
    }
    else if (b == (is_str ? 0xda : 0xc5)) {
        if (s_read_be (self, 2, &len))
            return ZMESH_EPROTO;
    }
    else if (b == (is_str ? 0xdb : 0xc6)) {
        if (s_read_be (self, 4, &len))
            return ZMESH_EPROTO;
    }
    else
        return ZMESH_EPROTO;
    if (len > zmesh_mp_remaining (self))
        return ZMESH_EPROTO;
    *ptr = self->data + self->pos;
    *size = (uint32_t) len;
    self->pos += len;
    return ZMESH_OK;
}

int
zmesh_mp_read_str (zmesh_mp_reader_t *self, const char **str, uint32_t *size)
{
    //  Through a pointer of the right type: writing a `const char *` object through a
    //  `const uint8_t **` breaks strict aliasing, and gcc -O2 then reads *str unset.
    const uint8_t *ptr;
    int rc = s_read_blob (self, true, &ptr, size);
    if (rc == 0)
        *str = (const char *) ptr;
    return rc;
}

int
zmesh_mp_read_bin (zmesh_mp_reader_t *self, const uint8_t **bin, uint32_t *size)
{
    return s_read_blob (self, false, bin, size);
}

int
zmesh_mp_read_cstr (zmesh_mp_reader_t *self, char *dest, size_t dest_size)
{
    const char *str;
    uint32_t size;
    if (zmesh_mp_read_str (self, &str, &size))
        return ZMESH_EPROTO;
    if (size >= dest_size)
        return ZMESH_ETOOBIG;
    if (memchr (str, 0, size))
        return ZMESH_EPROTO;
    memcpy (dest, str, size);
    dest [size] = 0;
    return ZMESH_OK;
}

int
zmesh_mp_read_bin_exact (zmesh_mp_reader_t *self, uint8_t *dest, size_t size)
{
    const uint8_t *bin;
    uint32_t bin_size;
    if (zmesh_mp_read_bin (self, &bin, &bin_size) || bin_size != size)
        return ZMESH_EPROTO;
    memcpy (dest, bin, size);
    return ZMESH_OK;
}

static int
s_skip (zmesh_mp_reader_t *self, int depth)
{
    if (depth > ZMESH_MP_DEPTH_MAX || self->pos >= self->size)
        return ZMESH_EPROTO;
    uint8_t b = self->data [self->pos];
    uint32_t count, size;
    const uint8_t *ptr;
    uint64_t skip = 0;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
        skip = 1;  //  fixint, nil, bool
    else if ((b & 0xf0) == 0x90 || b == 0xdc || b == 0xdd) {
        if (zmesh_mp_read_array (self, &count))
            return ZMESH_EPROTO;
        for (uint32_t i = 0; i < count; i++)
            if (s_skip (self, depth + 1))
                return ZMESH_EPROTO;
        return ZMESH_OK;
    }
    else if ((b & 0xf0) == 0x80 || b == 0xde || b == 0xdf) {
        if (zmesh_mp_read_map (self, &count))
            return ZMESH_EPROTO;
        for (uint32_t i = 0; i < count * 2; i++)
            if (s_skip (self, depth + 1))
                return ZMESH_EPROTO;
        return ZMESH_OK;
    }
    else if ((b & 0xe0) == 0xa0 || b == 0xd9 || b == 0xda || b == 0xdb)
        return s_read_blob (self, true, &ptr, &size);
    else if (b == 0xc4 || b == 0xc5 || b == 0xc6)
        return zmesh_mp_read_bin (self, &ptr, &size);
    else if (b == 0xcc || b == 0xd0)
        skip = 2;
    else if (b == 0xcd || b == 0xd1)
        skip = 3;
    else if (b == 0xce || b == 0xd2 || b == 0xca)
        skip = 5;
    else if (b == 0xcf || b == 0xd3 || b == 0xcb)
        skip = 9;
    else if (b == 0xd4 || b == 0xd5 || b == 0xd6 || b == 0xd7 || b == 0xd8)
        skip = 2 + (1u << (b - 0xd4));  //  fixext: tag, type, 1..16 bytes
    else {
        //  ext 8/16/32: tag, length, type, data
        uint64_t len;
        self->pos++;
        size_t width = b == 0xc7 ? 1 : b == 0xc8 ? 2 : b == 0xc9 ? 4 : 0;
        if (width == 0 || s_read_be (self, width, &len))
            return ZMESH_EPROTO;
        skip = len + 1;
        if (skip > zmesh_mp_remaining (self))
            return ZMESH_EPROTO;
        self->pos += skip;
        return ZMESH_OK;
    }
    if (skip > zmesh_mp_remaining (self))
        return ZMESH_EPROTO;
    self->pos += skip;
    return ZMESH_OK;
}

int
zmesh_mp_skip (zmesh_mp_reader_t *self)
{
    return s_skip (self, 0);
}

//  msgpack-c write callback: copy into the fixed buffer or remember the overflow.
static int
s_write (void *data, const char *buf, size_t len)
{
    zmesh_mp_writer_t *self = (zmesh_mp_writer_t *) data;
    if (self->overflow || len > self->capacity - self->size) {
        self->overflow = true;
        return -1;
    }
    memcpy (self->data + self->size, buf, len);
    self->size += len;
    return 0;
}

void
zmesh_mp_writer_init (zmesh_mp_writer_t *self, void *data, size_t capacity)
{
    self->data = (uint8_t *) data;
    self->capacity = capacity;
    self->size = 0;
    self->overflow = false;
    msgpack_packer_init (&self->pk, self, s_write);
}

int
zmesh_mp_writer_status (const zmesh_mp_writer_t *self)
{
    return self->overflow ? ZMESH_ETOOBIG : ZMESH_OK;
}

void
zmesh_mp_pack_cstr (msgpack_packer *pk, const char *str)
{
    size_t len = strlen (str);
    msgpack_pack_str (pk, len);
    msgpack_pack_str_body (pk, str, len);
}

int
zmesh_mp_write_raw (zmesh_mp_writer_t *self, const void *data, size_t size)
{
    return s_write (self, (const char *) data, size) == 0 ? ZMESH_OK : ZMESH_ETOOBIG;
}

int
zmesh_mp_skip_extra (zmesh_mp_reader_t *self, uint32_t count, uint32_t known)
{
    for (uint32_t i = known; i < count; i++)
        if (zmesh_mp_skip (self))
            return ZMESH_EPROTO;
    return ZMESH_OK;
}

int
zmesh_mp_writer_finish (const zmesh_mp_writer_t *self, size_t *size)
{
    if (self->overflow)
        return ZMESH_ETOOBIG;
    *size = self->size;
    return ZMESH_OK;
}
