/*  test_mpack.c: the strict msgpack reader and the fixed-buffer writer, as usage examples.

    The reader never trusts a length or a count it reads: every test of a happy path has a
    twin that feeds it a truncated, mistyped or lying object and expects ZMESH_EPROTO (or
    ZMESH_ETOOBIG when a string does not fit the caller's buffer).
*/
#include "zmesh_error.h"
#include "zmesh_mpack.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

//  Reader over a byte literal: R(reader, 0x92, 0x01, 0x02).
#define READER(r, ...)                                 \
    static const uint8_t r##_bytes [] = {__VA_ARGS__}; \
    zmesh_mp_reader_t r;                               \
    zmesh_mp_reader_init (&r, r##_bytes, sizeof r##_bytes)

//  Writing with msgpack-c's packer into a fixed buffer, then reading it back.
static void
test_write_then_read_every_basic_type (void **state)
{
    uint8_t buf [256];
    zmesh_mp_writer_t w;
    zmesh_mp_writer_init (&w, buf, sizeof buf);
    msgpack_pack_array (&w.pk, 6);
    msgpack_pack_uint64 (&w.pk, 42);
    msgpack_pack_true (&w.pk);
    msgpack_pack_nil (&w.pk);
    msgpack_pack_str_with_body (&w.pk, "hello", 5);
    msgpack_pack_bin_with_body (&w.pk, "\x00\x01\x02", 3);
    msgpack_pack_map (&w.pk, 1);
    msgpack_pack_str_with_body (&w.pk, "k", 1);
    msgpack_pack_uint64 (&w.pk, UINT64_MAX);
    assert_int_equal (zmesh_mp_writer_status (&w), ZMESH_OK);

    zmesh_mp_reader_t r;
    zmesh_mp_reader_init (&r, buf, w.size);
    uint32_t count;
    uint64_t value;
    bool flag;
    const char *str;
    const uint8_t *bin;
    uint32_t size;
    assert_int_equal (zmesh_mp_read_array (&r, &count), ZMESH_OK);
    assert_int_equal (count, 6);
    assert_int_equal (zmesh_mp_read_uint (&r, &value), ZMESH_OK);
    assert_int_equal (value, 42);
    assert_int_equal (zmesh_mp_read_bool (&r, &flag), ZMESH_OK);
    assert_true (flag);
    assert_int_equal (zmesh_mp_read_nil (&r), ZMESH_OK);
    assert_int_equal (zmesh_mp_read_str (&r, &str, &size), ZMESH_OK);
    //  A view into the buffer, not a copy, and not NUL-terminated.
    assert_int_equal (size, 5);
    assert_memory_equal (str, "hello", 5);
    assert_true ((const uint8_t *) str > buf && (const uint8_t *) str < buf + w.size);
    assert_int_equal (zmesh_mp_read_bin (&r, &bin, &size), ZMESH_OK);
    assert_int_equal (size, 3);
    assert_memory_equal (bin, "\x00\x01\x02", 3);
    assert_int_equal (zmesh_mp_read_map (&r, &count), ZMESH_OK);
    assert_int_equal (count, 1);
    char key [2];
    assert_int_equal (zmesh_mp_read_cstr (&r, key, sizeof key), ZMESH_OK);
    assert_string_equal (key, "k");
    assert_int_equal (zmesh_mp_read_uint (&r, &value), ZMESH_OK);
    assert_true (value == UINT64_MAX);
    assert_int_equal (zmesh_mp_remaining (&r), 0);
    //  Reading past the end is an error, not a crash.
    assert_int_equal (zmesh_mp_read_uint (&r, &value), ZMESH_EPROTO);
}

//  Every unsigned width msgpack has, at its boundaries, written and read back.
static void
test_uint_every_width (void **state)
{
    static const uint64_t values [] = {
        0, 1, 127, 128, 255, 256, 65535, 65536, UINT32_MAX, 1ull << 32, UINT64_MAX, UINT64_MAX - 1};
    static const size_t sizes [] = {1, 1, 1, 2, 2, 3, 3, 5, 5, 9, 9, 9};
    for (size_t i = 0; i < sizeof values / sizeof values [0]; i++) {
        uint8_t buf [16];
        zmesh_mp_writer_t w;
        zmesh_mp_writer_init (&w, buf, sizeof buf);
        msgpack_pack_uint64 (&w.pk, values [i]);
        assert_int_equal (w.size, sizes [i]);
        zmesh_mp_reader_t r;
        zmesh_mp_reader_init (&r, buf, w.size);
        uint64_t value;
        assert_int_equal (zmesh_mp_read_uint (&r, &value), ZMESH_OK);
        assert_true (value == values [i]);
        //  Every shorter prefix is truncated.
        for (size_t cut = 0; cut < w.size; cut++) {
            zmesh_mp_reader_init (&r, buf, cut);
            assert_int_equal (zmesh_mp_read_uint (&r, &value), ZMESH_EPROTO);
        }
    }
}

//  A non-minimal encoding is still a valid unsigned (other writers may produce it).
static void
test_uint_accepts_wide_forms (void **state)
{
    READER (r, 0xcd, 0x00, 0x05, 0xcf, 0, 0, 0, 0, 0, 0, 0, 0x07);
    uint64_t value;
    assert_int_equal (zmesh_mp_read_uint (&r, &value), ZMESH_OK);
    assert_int_equal (value, 5);
    assert_int_equal (zmesh_mp_read_uint (&r, &value), ZMESH_OK);
    assert_int_equal (value, 7);
}

//  Negative integers, floats and other types are not unsigned.
static void
test_uint_rejects_other_types (void **state)
{
    static const uint8_t not_uint [][3] = {
        {0xff},        //  negative fixint -1
        {0xd0, 0x01},  //  int 8
        {0xca, 0, 0},  //  float 32 (truncated anyway)
        {0xc0},        //  nil
        {0xc3},        //  true
        {0xa1, 'x'},   //  fixstr
        {0x90},        //  fixarray
        {0xc1},        //  never used
    };
    for (size_t i = 0; i < sizeof not_uint / sizeof not_uint [0]; i++) {
        zmesh_mp_reader_t r;
        zmesh_mp_reader_init (&r, not_uint [i], sizeof not_uint [i]);
        uint64_t value;
        assert_int_equal (zmesh_mp_read_uint (&r, &value), ZMESH_EPROTO);
    }
}

static void
test_bool_and_nil_are_strict (void **state)
{
    READER (r, 0xc2, 0x00, 0x01);
    bool flag = true;
    assert_int_equal (zmesh_mp_read_bool (&r, &flag), ZMESH_OK);
    assert_false (flag);
    //  0 is not false and 1 is not nil.
    assert_int_equal (zmesh_mp_read_bool (&r, &flag), ZMESH_EPROTO);
    assert_int_equal (zmesh_mp_read_nil (&r), ZMESH_EPROTO);
    zmesh_mp_reader_t empty;
    zmesh_mp_reader_init (&empty, NULL, 0);
    assert_int_equal (zmesh_mp_read_bool (&empty, &flag), ZMESH_EPROTO);
    assert_int_equal (zmesh_mp_read_nil (&empty), ZMESH_EPROTO);
}

//  str 8 / 16 / 32 and bin 8 / 16 / 32 are all read; the length is checked against the buffer.
static void
test_str_and_bin_every_form (void **state)
{
    READER (r, 0xd9, 2, 'a', 'b', 0xda, 0, 1, 'c', 0xdb, 0, 0, 0, 0, 0xc4, 1, 9, 0xc5, 0, 0, 0xc6,
            0, 0, 0, 2, 7, 8);
    const char *str;
    const uint8_t *bin;
    uint32_t size;
    assert_int_equal (zmesh_mp_read_str (&r, &str, &size), ZMESH_OK);
    assert_int_equal (size, 2);
    assert_memory_equal (str, "ab", 2);
    assert_int_equal (zmesh_mp_read_str (&r, &str, &size), ZMESH_OK);
    assert_int_equal (size, 1);
    assert_int_equal (zmesh_mp_read_str (&r, &str, &size), ZMESH_OK);
    assert_int_equal (size, 0);
    assert_int_equal (zmesh_mp_read_bin (&r, &bin, &size), ZMESH_OK);
    assert_int_equal (size, 1);
    assert_int_equal (bin [0], 9);
    assert_int_equal (zmesh_mp_read_bin (&r, &bin, &size), ZMESH_OK);
    assert_int_equal (size, 0);
    assert_int_equal (zmesh_mp_read_bin (&r, &bin, &size), ZMESH_OK);
    assert_int_equal (size, 2);
    assert_int_equal (zmesh_mp_remaining (&r), 0);
}

//  str and bin are different types, and a length beyond the buffer is a lie.
static void
test_str_and_bin_negative (void **state)
{
    const char *str;
    const uint8_t *bin;
    uint32_t size;
    {
        READER (r, 0xc4, 1, 'x');  //  bin is not str
        assert_int_equal (zmesh_mp_read_str (&r, &str, &size), ZMESH_EPROTO);
    }
    {
        READER (r, 0xa1, 'x');  //  str is not bin
        assert_int_equal (zmesh_mp_read_bin (&r, &bin, &size), ZMESH_EPROTO);
    }
    {
        READER (r, 0xa5, 'x', 'y');  //  fixstr of 5 with 2 bytes left
        assert_int_equal (zmesh_mp_read_str (&r, &str, &size), ZMESH_EPROTO);
    }
    {
        READER (r, 0xdb, 0xff, 0xff, 0xff, 0xff, 'x');  //  str 32 of 4 GiB
        assert_int_equal (zmesh_mp_read_str (&r, &str, &size), ZMESH_EPROTO);
    }
    {
        READER (r, 0xc6, 0x80, 0, 0, 0);  //  bin 32 of 2 GiB
        assert_int_equal (zmesh_mp_read_bin (&r, &bin, &size), ZMESH_EPROTO);
    }
    {
        READER (r, 0xda, 0x01);  //  str 16 with half its length
        assert_int_equal (zmesh_mp_read_str (&r, &str, &size), ZMESH_EPROTO);
    }
}

//  Copying a str into a C string: exact fit, one byte too long, embedded NUL.
static void
test_read_cstr (void **state)
{
    char dest [4];
    {
        READER (r, 0xa3, 'a', 'b', 'c');
        assert_int_equal (zmesh_mp_read_cstr (&r, dest, sizeof dest), ZMESH_OK);
        assert_string_equal (dest, "abc");
    }
    {
        READER (r, 0xa0);
        assert_int_equal (zmesh_mp_read_cstr (&r, dest, sizeof dest), ZMESH_OK);
        assert_string_equal (dest, "");
    }
    {
        READER (r, 0xa4, 'a', 'b', 'c', 'd');
        assert_int_equal (zmesh_mp_read_cstr (&r, dest, sizeof dest), ZMESH_ETOOBIG);
    }
    {
        READER (r, 0xa3, 'a', 0, 'c');
        assert_int_equal (zmesh_mp_read_cstr (&r, dest, sizeof dest), ZMESH_EPROTO);
    }
    {
        READER (r, 0xc4, 1, 'a');
        assert_int_equal (zmesh_mp_read_cstr (&r, dest, sizeof dest), ZMESH_EPROTO);
    }
}

static void
test_read_bin_exact (void **state)
{
    uint8_t dest [2] = {0, 0};
    {
        READER (r, 0xc4, 2, 5, 6);
        assert_int_equal (zmesh_mp_read_bin_exact (&r, dest, 2), ZMESH_OK);
        assert_int_equal (dest [0], 5);
        assert_int_equal (dest [1], 6);
    }
    {
        READER (r, 0xc4, 1, 5);
        assert_int_equal (zmesh_mp_read_bin_exact (&r, dest, 2), ZMESH_EPROTO);
    }
    {
        READER (r, 0xc4, 3, 5, 6, 7);
        assert_int_equal (zmesh_mp_read_bin_exact (&r, dest, 2), ZMESH_EPROTO);
    }
}

//  Containers: every header form, and counts that cannot fit in what is left.
static void
test_containers (void **state)
{
    uint32_t count;
    {
        //  Counts are checked against the bytes left, so the headers come with room to spare.
        uint8_t room [64] = {0x9f, 0xdc, 0x00, 0x02, 0xdd, 0, 0, 0, 1,
                             0x8f, 0xde, 0,    0,    0xdf, 0, 0, 0, 0};
        zmesh_mp_reader_t r;
        zmesh_mp_reader_init (&r, room, sizeof room);
        assert_int_equal (zmesh_mp_read_array (&r, &count), ZMESH_OK);
        assert_int_equal (count, 15);
        assert_int_equal (zmesh_mp_read_array (&r, &count), ZMESH_OK);
        assert_int_equal (count, 2);
        assert_int_equal (zmesh_mp_read_array (&r, &count), ZMESH_OK);
        assert_int_equal (count, 1);
        assert_int_equal (zmesh_mp_read_map (&r, &count), ZMESH_OK);
        assert_int_equal (count, 15);
        assert_int_equal (zmesh_mp_read_map (&r, &count), ZMESH_OK);
        assert_int_equal (count, 0);
        assert_int_equal (zmesh_mp_read_map (&r, &count), ZMESH_OK);
        assert_int_equal (count, 0);
    }
    {
        READER (r, 0xdd, 0xff, 0xff, 0xff, 0xff, 0x01);  //  4 G elements in 1 byte
        assert_int_equal (zmesh_mp_read_array (&r, &count), ZMESH_EPROTO);
    }
    {
        READER (r, 0x81, 0x01);  //  a map of one pair needs two objects
        assert_int_equal (zmesh_mp_read_map (&r, &count), ZMESH_EPROTO);
    }
    {
        READER (r, 0x81, 0x01);  //  a map is not an array
        assert_int_equal (zmesh_mp_read_array (&r, &count), ZMESH_EPROTO);
    }
    {
        READER (r, 0x91, 0x01);  //  an array is not a map
        assert_int_equal (zmesh_mp_read_map (&r, &count), ZMESH_EPROTO);
    }
    {
        READER (r, 0xdc, 0x00);  //  array 16 with half its count
        assert_int_equal (zmesh_mp_read_array (&r, &count), ZMESH_EPROTO);
    }
}

//  Skip one object; returns the bytes it covered, or -1 on error.
static int
s_skip_size (const uint8_t *data, size_t size)
{
    zmesh_mp_reader_t r;
    zmesh_mp_reader_init (&r, data, size);
    if (zmesh_mp_skip (&r) != ZMESH_OK)
        return -1;
    return (int) r.pos;
}

//  zmesh_mp_skip knows every msgpack type, including the ones zmesh never writes, so that
//  a newer peer's extra fields can be stepped over; each one truncated is an error.
static void
test_skip_every_type (void **state)
{
    static const struct {
        uint8_t bytes [24];
        size_t size;
    } objects [] = {
        {{0x05}, 1},                                                             //  positive fixint
        {{0xe0}, 1},                                                             //  negative fixint
        {{0xc0}, 1},                                                             //  nil
        {{0xc2}, 1},                                                             //  false
        {{0xc3}, 1},                                                             //  true
        {{0xcc, 1}, 2},                                                          //  uint 8
        {{0xcd, 1, 2}, 3},                                                       //  uint 16
        {{0xce, 1, 2, 3, 4}, 5},                                                 //  uint 32
        {{0xcf, 1, 2, 3, 4, 5, 6, 7, 8}, 9},                                     //  uint 64
        {{0xd0, 1}, 2},                                                          //  int 8
        {{0xd1, 1, 2}, 3},                                                       //  int 16
        {{0xd2, 1, 2, 3, 4}, 5},                                                 //  int 32
        {{0xd3, 1, 2, 3, 4, 5, 6, 7, 8}, 9},                                     //  int 64
        {{0xca, 1, 2, 3, 4}, 5},                                                 //  float 32
        {{0xcb, 1, 2, 3, 4, 5, 6, 7, 8}, 9},                                     //  float 64
        {{0xa2, 'h', 'i'}, 3},                                                   //  fixstr
        {{0xd9, 1, 'x'}, 3},                                                     //  str 8
        {{0xda, 0, 1, 'x'}, 4},                                                  //  str 16
        {{0xdb, 0, 0, 0, 1, 'x'}, 6},                                            //  str 32
        {{0xc4, 1, 'x'}, 3},                                                     //  bin 8
        {{0xc5, 0, 1, 'x'}, 4},                                                  //  bin 16
        {{0xc6, 0, 0, 0, 1, 'x'}, 6},                                            //  bin 32
        {{0xd4, 1, 2}, 3},                                                       //  fixext 1
        {{0xd5, 1, 2, 3}, 4},                                                    //  fixext 2
        {{0xd6, 1, 2, 3, 4, 5}, 6},                                              //  fixext 4
        {{0xd7, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 10},                                 //  fixext 8
        {{0xd8, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, 18},  //  fixext 16
        {{0xc7, 2, 1, 'a', 'b'}, 5},                                             //  ext 8
        {{0xc8, 0, 1, 1, 'a'}, 5},                                               //  ext 16
        {{0xc9, 0, 0, 0, 1, 1, 'a'}, 7},                                         //  ext 32
        {{0x92, 0x01, 0xa1, 'x'}, 4},                                            //  fixarray
        {{0xdc, 0, 1, 0xc0}, 4},                                                 //  array 16
        {{0xdd, 0, 0, 0, 1, 0xc0}, 6},                                           //  array 32
        {{0x81, 0x01, 0x02}, 3},                                                 //  fixmap
        {{0xde, 0, 1, 0x01, 0x91, 0x02}, 6},                                     //  map 16
        {{0xdf, 0, 0, 0, 1, 0x01, 0x80}, 7},                                     //  map 32
    };
    for (size_t i = 0; i < sizeof objects / sizeof objects [0]; i++) {
        //  The object alone, then followed by junk it must not swallow.
        assert_int_equal (s_skip_size (objects [i].bytes, objects [i].size), objects [i].size);
        uint8_t padded [32];
        memset (padded, 0xc1, sizeof padded);
        memcpy (padded, objects [i].bytes, objects [i].size);
        assert_int_equal (s_skip_size (padded, sizeof padded), objects [i].size);
        for (size_t cut = 0; cut < objects [i].size; cut++)
            assert_int_equal (s_skip_size (objects [i].bytes, cut), -1);
    }
}

static void
test_skip_negative (void **state)
{
    static const uint8_t never_used [] = {0xc1};
    assert_int_equal (s_skip_size (never_used, 1), -1);
    static const uint8_t bad_in_array [] = {0x92, 0x01, 0xc1};
    assert_int_equal (s_skip_size (bad_in_array, sizeof bad_in_array), -1);
    static const uint8_t ext_lie [] = {0xc9, 0xff, 0xff, 0xff, 0xff, 1};
    assert_int_equal (s_skip_size (ext_lie, sizeof ext_lie), -1);
    static const uint8_t map_lie [] = {0xdf, 0x7f, 0xff, 0xff, 0xff, 1, 2};
    assert_int_equal (s_skip_size (map_lie, sizeof map_lie), -1);
    assert_int_equal (s_skip_size (NULL, 0), -1);
}

//  Nesting is bounded: arrays nested ZMESH_MP_DEPTH_MAX + 1 deep (the innermost at depth
//  ZMESH_MP_DEPTH_MAX) are skipped; one level more is malformed, whatever the rest says.
static void
test_skip_depth_limit (void **state)
{
    uint8_t nested [ZMESH_MP_DEPTH_MAX + 3];
    for (size_t levels = 1; levels <= ZMESH_MP_DEPTH_MAX + 2; levels++) {
        memset (nested, 0x91, levels - 1);  //  [[[ ... []]] : each holds the next
        nested [levels - 1] = 0x90;
        int expect = levels <= ZMESH_MP_DEPTH_MAX + 1 ? (int) levels : -1;
        assert_int_equal (s_skip_size (nested, levels), expect);
    }
    //  Deep input cannot exhaust the stack.
    uint8_t deep [10000];
    memset (deep, 0x91, sizeof deep);
    assert_int_equal (s_skip_size (deep, sizeof deep), -1);
}

//  The writer never writes past its capacity and reports the overflow once, at the end.
static void
test_writer_overflow (void **state)
{
    uint8_t buf [8];
    memset (buf, 0xee, sizeof buf);
    zmesh_mp_writer_t w;
    zmesh_mp_writer_init (&w, buf, 4);
    msgpack_pack_array (&w.pk, 2);
    msgpack_pack_str_with_body (&w.pk, "abcdef", 6);  //  7 bytes: does not fit
    msgpack_pack_uint64 (&w.pk, 1);                   //  would fit, but comes after the overflow
    assert_int_equal (zmesh_mp_writer_status (&w), ZMESH_ETOOBIG);
    assert_true (w.size <= 4);
    assert_int_equal (buf [4], 0xee);
    //  Exactly full is fine.
    zmesh_mp_writer_init (&w, buf, 4);
    msgpack_pack_array (&w.pk, 3);
    msgpack_pack_uint64 (&w.pk, 1);
    msgpack_pack_uint64 (&w.pk, 2);
    msgpack_pack_uint64 (&w.pk, 3);
    assert_int_equal (zmesh_mp_writer_status (&w), ZMESH_OK);
    assert_int_equal (w.size, 4);
    //  Zero capacity: the first byte overflows.
    zmesh_mp_writer_init (&w, buf, 0);
    msgpack_pack_nil (&w.pk);
    assert_int_equal (zmesh_mp_writer_status (&w), ZMESH_ETOOBIG);
    assert_int_equal (w.size, 0);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_write_then_read_every_basic_type),
        cmocka_unit_test (test_uint_every_width),
        cmocka_unit_test (test_uint_accepts_wide_forms),
        cmocka_unit_test (test_uint_rejects_other_types),
        cmocka_unit_test (test_bool_and_nil_are_strict),
        cmocka_unit_test (test_str_and_bin_every_form),
        cmocka_unit_test (test_str_and_bin_negative),
        cmocka_unit_test (test_read_cstr),
        cmocka_unit_test (test_read_bin_exact),
        cmocka_unit_test (test_containers),
        cmocka_unit_test (test_skip_every_type),
        cmocka_unit_test (test_skip_negative),
        cmocka_unit_test (test_skip_depth_limit),
        cmocka_unit_test (test_writer_overflow),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
