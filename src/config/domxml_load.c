/* domxml_read: loads the XML module (domxml_module.h) on first use. */
#include "config/domxml_module.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static int (*parse)(struct domcfg *, const char *, size_t, const char *, enum native_fmt,
                    struct cfg_diag *);
static char load_error[512];

/* The installed module first, then the one in the build tree (tests). */
static void load(void)
{
    static const char *const dirs[] = { DOMXML_MODULE_DIRS };
    size_t used = 0;
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && !parse; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dirs[i], DOMXML_MODULE);
        void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (h)
            *(void **)&parse = dlsym(h, "domxml_parse");
        const char *why = h ? (parse ? NULL : "no domxml_parse in it") : dlerror();
        if (why && used < sizeof(load_error))
            used += (size_t)snprintf(load_error + used, sizeof(load_error) - used, "%s%s",
                                     used ? "; " : "", why);
    }
}

int domxml_read(struct domcfg *dc, const char *xml, size_t len, const char *file,
                enum native_fmt fmt, struct cfg_diag *d)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, load);
    if (parse)
        return parse(dc, xml, len, file, fmt, d);
    domcfg_init(dc);
    diag_error(d, (struct cfg_loc){ file, 0 }, "cannot load xenkvm's domain XML support: %s",
               load_error[0] ? load_error : "not found");
    return -1;
}
