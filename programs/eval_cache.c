/* SPDX-License-Identifier: MIT */
/* sgad-eval's cache of feature classifiers (eval_cache.h). */
#include "eval_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bump when what a cached classifier is, or how the key is made, changes:
 * every older entry then misses. */
#define CACHE_FORMAT 1

/* ---- hashing --------------------------------------------------------------- */

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

typedef struct digest {
    uint64_t hash;
    unsigned long long size;
} digest;

static void fnv_bytes(digest *d, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        d->hash = (d->hash ^ b[i]) * FNV_PRIME;
    d->size += n;
}

/* Adds a file's bytes; 0, or -1 (errno set) if it cannot be read. */
static int fnv_file(digest *d, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    static unsigned char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        fnv_bytes(d, buf, n);
    const int bad = ferror(f);
    fclose(f);
    return bad ? -1 : 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A CIFAR-10 directory as the library reads it (src/io/dataset.c): its
 * data_batch_*.bin files in name order, each name then its bytes. */
static int fnv_cifar_dir(digest *d, const char *dir)
{
    DIR *dh = opendir(dir);
    if (!dh)
        return -1;
    char *names[256];
    int n = 0, rc = 0;
    const struct dirent *e;
    while (!rc && (e = readdir(dh))) {
        if (strncmp(e->d_name, "data_batch_", 11) != 0 || !strstr(e->d_name, ".bin"))
            continue;
        if (n == 256 || !(names[n] = strdup(e->d_name))) {
            errno = n == 256 ? EFBIG : ENOMEM;
            rc = -1;
        } else
            n++;
    }
    closedir(dh);
    qsort(names, (size_t)n, sizeof names[0], by_name);
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        fnv_bytes(d, names[i], strlen(names[i]) + 1);
        if (!rc && fnv_file(d, path))
            rc = -1;
        free(names[i]);
    }
    return rc;
}

static int fnv_path(digest *d, const char *path)
{
    struct stat st;
    *d = (digest){FNV_OFFSET, 0};
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return fnv_cifar_dir(d, path);
    return fnv_file(d, path);
}

/* ---- the training split ---------------------------------------------------- */

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static int readable(const char *path)
{
    return access(path, R_OK) == 0;
}

static int is_cifar(const char *path)
{
    struct stat st;
    const size_t n = strlen(path);
    return (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) ||
           (n > 4 && !strcmp(path + n - 4, ".bin"));
}

/* MNIST's and Fashion-MNIST's names: {t10k,train}-images-idx3-ubyte[.gz]
 * and train-labels-idx1-ubyte[.gz]. 1 if `real` is one of their image
 * files and the training images and labels beside it can be read. */
static int idx_split(const char *real, char *images, char *labels, size_t cap)
{
    const char *base = base_name(real);
    const char *rest = !strncmp(base, "t10k-images-", 12)    ? base + 12
                       : !strncmp(base, "train-images-", 13) ? base + 13
                                                             : NULL;
    if (!rest || strncmp(rest, "idx3-", 5) != 0)
        return 0;
    const int dir = (int)(base - real);
    snprintf(images, cap, "%.*strain-images-%s", dir, real, rest);
    snprintf(labels, cap, "%.*strain-labels-idx1-%s", dir, real, rest + 5);
    return readable(images) && readable(labels);
}

/* CIFAR-10's test_batch.bin: the data_batch_*.bin files beside it. */
static int cifar_split(const char *real, char *images, char *labels, size_t cap)
{
    const char *base = base_name(real);
    if (strcmp(base, "test_batch.bin") != 0)
        return 0;
    const int dir = (int)(base - real); /* its directory: real[0, dir - 1), or / or . */
    char probe[4096];
    if (dir == 0)
        snprintf(images, cap, ".");
    else
        snprintf(images, cap, "%.*s", dir > 1 ? dir - 1 : 1, real);
    snprintf(probe, sizeof probe, "%s/data_batch_1.bin", images);
    labels[0] = 0;
    return readable(probe);
}

int eval_cache_split(const char *real, const char *real_labels, const char *train_images,
                     const char *train_labels, char *images, char *labels, size_t cap)
{
    if (train_images) {
        snprintf(images, cap, "%s", train_images);
        snprintf(labels, cap, "%s", train_labels ? train_labels : "");
        return 0;
    }
    if (idx_split(real, images, labels, cap) || cifar_split(real, images, labels, cap))
        return 0;
    if (real_labels || is_cifar(real)) {
        fprintf(stderr,
                "sgad-eval: no training split found beside %s; the classifier is trained "
                "on the real images themselves\n",
                real);
        snprintf(images, cap, "%s", real);
        snprintf(labels, cap, "%s", is_cifar(real) ? "" : real_labels);
        return 0;
    }
    fprintf(stderr,
            "sgad-eval: no --classifier, and no labelled images to train one: %s is not "
            "named like MNIST's or CIFAR-10's test files, and has no --real-labels; give "
            "--classifier, or --train-images and --train-labels\n",
            real);
    return 2;
}

/* ---- the cache ------------------------------------------------------------- */

/* Whether snprintf's result n fitted in cap bytes: a cut path would name
 * another file, so every cache path is checked. */
static int fits(int n, size_t cap)
{
    return n >= 0 && (size_t)n < cap;
}

/* $XDG_CACHE_HOME/sgad, or ~/.cache/sgad; made if missing. The XDG base
 * directory specification ignores a relative XDG_CACHE_HOME. */
static int cache_dir(char *dir, size_t cap)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char parent[4096];
    if (xdg && xdg[0] == '/')
        snprintf(parent, sizeof parent, "%s", xdg);
    else if (home && home[0])
        snprintf(parent, sizeof parent, "%s/.cache", home);
    else {
        fprintf(stderr, "sgad-eval: neither XDG_CACHE_HOME nor HOME is set for the "
                        "classifier cache; give --classifier\n");
        return 1;
    }
    if (!fits(snprintf(dir, cap, "%s/sgad", parent), cap)) {
        fprintf(stderr, "sgad-eval: the classifier cache's path is too long: %s/sgad\n", parent);
        return 1;
    }
    if ((mkdir(parent, 0777) && errno != EEXIST) || (mkdir(dir, 0777) && errno != EEXIST)) {
        fprintf(stderr, "sgad-eval: cannot make the classifier cache %s: %s\n", dir,
                strerror(errno));
        return 1;
    }
    return 0;
}

/* The key text of a request; 0, or nonzero after a message. */
static int key_text(const eval_cache_request *req, char *key, size_t cap)
{
    digest images, labels = {FNV_OFFSET, 0};
    const char *unread = fnv_path(&images, req->images)                  ? req->images
                         : req->labels && fnv_path(&labels, req->labels) ? req->labels
                                                                         : NULL;
    if (unread) {
        fprintf(stderr, "sgad-eval: cannot read the classifier's training data %s: %s\n", unread,
                strerror(errno));
        return 1;
    }
    snprintf(key, cap,
             "sgad-eval classifier cache %d\n"
             "libsgad %s\n"
             "images fnv1a64 %016llx bytes %llu\n"
             "labels fnv1a64 %016llx bytes %llu\n"
             "epochs %lld batch %lld seed %lld\n",
             CACHE_FORMAT, sgad_version_string(), (unsigned long long)images.hash, images.size,
             (unsigned long long)labels.hash, labels.size, req->epochs, req->batch, req->seed);
    return 0;
}

/* The line of a .key file that binds it to its classifier file. */
static int file_line(const char *path, char *line, size_t cap)
{
    digest d;
    if (fnv_path(&d, path))
        return -1;
    snprintf(line, cap, "classifier fnv1a64 %016llx bytes %llu\n", (unsigned long long)d.hash,
             d.size);
    return 0;
}

/* Whether the entry (cls, keyf) is whole and is the one for key: NULL if
 * so, else why not. */
static const char *check_entry(sgad_ctx *ctx, const char *key, const char *cls, const char *keyf)
{
    static char held[8192];
    char line[128];
    FILE *f = fopen(keyf, "r");
    if (!f)
        return "its key file cannot be read";
    const size_t n = fread(held, 1, sizeof held - 1, f);
    fclose(f);
    held[n] = 0;
    const size_t k = strlen(key);
    if (n < k || memcmp(held, key, k) != 0)
        return "its key does not match the data and settings";
    if (file_line(cls, line, sizeof line) || strcmp(held + k, line) != 0)
        return "the classifier file is not the one its key file records";
    sgad_classifier *c;
    if (sgad_classifier_load(ctx, cls, &c) != SGAD_OK)
        return "the library does not load it";
    sgad_classifier_free(c);
    return NULL;
}

/* Writes text to path crash-safely, as the library saves: a temporary
 * file beside it, flushed to disk, then renamed over path. */
static int write_atomic(const char *path, const char *text)
{
    char tmp[4200];
    FILE *f = NULL;
    errno = ENAMETOOLONG;
    if (!fits(snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid()), sizeof tmp) ||
        !(f = fopen(tmp, "w")))
        return -1;
    int bad = fputs(text, f) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

int eval_cache_classifier(sgad_ctx *ctx, const eval_cache_request *req, eval_cache_train train,
                          void *user, char *path, size_t cap)
{
    char dir[4096], key[1024], keyf[4200], line[128];
    if (cache_dir(dir, sizeof dir) || key_text(req, key, sizeof key))
        return 1;
    digest name = {FNV_OFFSET, 0};
    fnv_bytes(&name, key, strlen(key));
    if (!fits(snprintf(path, cap, "%s/classifier-%016llx.safetensors", dir,
                       (unsigned long long)name.hash),
              cap) ||
        !fits(snprintf(keyf, sizeof keyf, "%s/classifier-%016llx.key", dir,
                       (unsigned long long)name.hash),
              sizeof keyf)) {
        fprintf(stderr, "sgad-eval: the classifier cache's path is too long: %s\n", dir);
        return 1;
    }
    const int present = readable(path) || readable(keyf);
    const char *why = present ? check_entry(ctx, key, path, keyf) : "";
    if (!why) {
        fprintf(stderr, "sgad-eval: using the cached classifier %s (trained on %s)\n", path,
                req->images);
        return 0;
    }
    if (present)
        fprintf(stderr, "sgad-eval: the cached classifier %s is damaged (%s); training a new one\n",
                path, why);
    else
        fprintf(stderr,
                "sgad-eval: no --classifier: training one on %s%s%s (%lld epoch%s; about a "
                "minute an epoch on Fashion-MNIST's 60000 images on one core), cached as %s\n",
                req->images, req->labels ? " with " : "", req->labels ? req->labels : "",
                req->epochs, req->epochs == 1 ? "" : "s", path);
    /* the old key goes first: until the new one is written, no entry here
     * can pass check_entry, whatever happens to the process meanwhile */
    if (unlink(keyf) != 0 && errno != ENOENT) {
        fprintf(stderr, "sgad-eval: cannot replace %s: %s\n", keyf, strerror(errno));
        return 1;
    }
    if (train(user, req, path))
        return 1;
    char text[sizeof key + sizeof line];
    if (file_line(path, line, sizeof line) ||
        (snprintf(text, sizeof text, "%s%s", key, line), write_atomic(keyf, text))) {
        fprintf(stderr, "sgad-eval: cannot write %s: %s\n", keyf, strerror(errno));
        return 1;
    }
    fprintf(stderr, "sgad-eval: cached the classifier in %s\n", path);
    return 0;
}
