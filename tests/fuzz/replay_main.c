/*  replay_main.c: run a libFuzzer target over a corpus, without libFuzzer.

    For builds without clang's -fsanitize=fuzzer (gcc, or a plain ctest run), each fuzz_X.c is
    linked with this main, which feeds every regular file under the directories (or the
    files) named on the command line to LLVMFuzzerTestOneInput, in name order. The seed
    corpus then works as a regression suite: an input that once crashed a decoder is kept
    there and replayed on every build. A crash is a crash (the target asserts); an input that
    cannot be read counts as failed.

    Usage: fuzz_X CORPUS_DIR_OR_FILE...
*/
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REPLAY_INPUT_MAX (1024 * 1024)  //  larger inputs are refused, not truncated

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int
s_compare_names (const void *a, const void *b)
{
    return strcmp (*(char *const *) a, *(char *const *) b);
}

//  Feed one file; 0 if it ran, -1 if it could not be read.
static int
s_replay_file (const char *path)
{
    FILE *file = fopen (path, "rb");
    if (!file) {
        fprintf (stderr, "fuzz replay: cannot open %s\n", path);
        return -1;
    }
    uint8_t *data = malloc (REPLAY_INPUT_MAX + 1);
    size_t size = data ? fread (data, 1, REPLAY_INPUT_MAX + 1, file) : 0;
    int rc = 0;
    if (!data || ferror (file) || size > REPLAY_INPUT_MAX) {
        fprintf (stderr, "fuzz replay: cannot read %s (or larger than %d bytes)\n", path,
                 REPLAY_INPUT_MAX);
        rc = -1;
    }
    fclose (file);
    if (rc == 0) {
        //  An exact-size copy, so that ASan builds catch any read past the end.
        uint8_t *exact = malloc (size ? size : 1);
        if (!exact)
            rc = -1;
        else {
            memcpy (exact, data, size);
            LLVMFuzzerTestOneInput (exact, size);
            free (exact);
        }
    }
    free (data);
    return rc;
}

//  Feed every regular file of a directory, sorted by name; counts into *passed / *failed.
static void
s_replay_dir (const char *dir_path, int *passed, int *failed)
{
    DIR *dir = opendir (dir_path);
    if (!dir) {
        fprintf (stderr, "fuzz replay: cannot open directory %s\n", dir_path);
        (*failed)++;
        return;
    }
    char **names = NULL;
    size_t count = 0, capacity = 0;
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        if (entry->d_name [0] == '.')
            continue;
        if (count == capacity) {
            capacity = capacity ? 2 * capacity : 64;
            char **grown = realloc (names, capacity * sizeof *names);
            if (!grown)
                break;
            names = grown;
        }
        names [count++] = strdup (entry->d_name);
    }
    closedir (dir);
    if (count)
        qsort (names, count, sizeof *names, s_compare_names);
    for (size_t i = 0; i < count; i++) {
        char path [4096];
        struct stat st;
        if (!names [i]) {
            (*failed)++;  //  out of memory for its name
            continue;
        }
        snprintf (path, sizeof path, "%s/%s", dir_path, names [i]);
        if (stat (path, &st) == 0 && S_ISREG (st.st_mode)) {
            if (s_replay_file (path) == 0)
                (*passed)++;
            else
                (*failed)++;
        }
        free (names [i]);
    }
    free (names);
}

int
main (int argc, char *argv [])
{
    if (argc < 2) {
        fprintf (stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv [0]);
        return 2;
    }
    int passed = 0, failed = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat (argv [i], &st) == 0 && S_ISDIR (st.st_mode))
            s_replay_dir (argv [i], &passed, &failed);
        else if (s_replay_file (argv [i]) == 0)
            passed++;
        else
            failed++;
    }
    printf ("fuzz replay: %d inputs, %d passed, %d failed\n", passed + failed, passed, failed);
    //  An empty corpus is a mistake in the build, not a pass.
    return failed == 0 && passed > 0 ? 0 : 1;
}
