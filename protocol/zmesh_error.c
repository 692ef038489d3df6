/*  zmesh_error.c: text for the error table in zmesh_error.h. */
#include "zmesh_error.h"

const char *
zmesh_strerror (int code)
{
    switch (code) {
#define ZMESH_ERROR_TEXT(name, value, text) \
    case value:                             \
        return text;
        ZMESH_ERRORS (ZMESH_ERROR_TEXT)
#undef ZMESH_ERROR_TEXT
    }
    return "unknown error";
}

const char *
zmesh_error_name (int code)
{
    switch (code) {
#define ZMESH_ERROR_NAME(name, value, text) \
    case value:                             \
        return #name;
        ZMESH_ERRORS (ZMESH_ERROR_NAME)
#undef ZMESH_ERROR_NAME
    }
    return "ZMESH_E?";
}
