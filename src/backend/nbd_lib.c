/* Loading libnbd at run time (nbd_lib.h). */
#include "backend/nbd_lib.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#define NBD_SONAME "libnbd.so.0"

static struct nbd_lib lib;
static char load_err[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
    void *h = dlopen(NBD_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(load_err, sizeof(load_err), "cannot load %s (Debian package libnbd0): %s",
                 NBD_SONAME, dlerror());
        return;
    }
#define NBD_LIB_SYM(f)                                                        \
    if (!load_err[0] && !(*(void **)&lib.f = dlsym(h, #f)))                   \
        snprintf(load_err, sizeof(load_err), "%s has no %s", NBD_SONAME, #f);
    NBD_LIB_FUNCS(NBD_LIB_SYM)
#undef NBD_LIB_SYM
}

const struct nbd_lib *nbd_lib_load(char *err, size_t errlen)
{
    pthread_once(&once, load);
    if (load_err[0]) {
        snprintf(err, errlen, "%s", load_err);
        return NULL;
    }
    return &lib;
}

const struct nbd_lib *nbd_lib(void)
{
    return &lib;
}
