/* Worker threads: a job runs on its own detached thread and comes back to
 * the lws thread as a pointer written to a pipe, whose read end lws polls as
 * a raw file (PROTO_JOBS). No other state is shared between threads. */
#include "web/server.h"
#include "common/log.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JOBS_MAX 32

static int pipe_fd[2] = { -1, -1 };
static int running;             /* lws thread only */

void job_free(struct job *j)
{
    if (j->fd >= 0)
        close(j->fd);
    free(j->rs.body);
    free(j->path);
    free(j->body);
    free(j);
}

static void *worker(void *arg)
{
    struct job *j = arg;
    j->run(j);
    /* A pointer is less than PIPE_BUF: the write is atomic. */
    while (write(pipe_fd[1], &j, sizeof(j)) < 0 && errno == EINTR)
        ;
    return NULL;
}

int jobs_start(struct job *j)
{
    if (running >= JOBS_MAX)
        return -1;
    pthread_attr_t a;
    pthread_t t;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t, &a, worker, j);
    pthread_attr_destroy(&a);
    if (rc)
        return -1;
    running++;
    return 0;
}

void jobs_orphan(struct job *j)
{
    j->wsi = NULL;
}

int jobs_init(void)
{
    if (pipe2(pipe_fd, O_CLOEXEC) < 0)
        return -1;
    fcntl(pipe_fd[0], F_SETFL, O_NONBLOCK);
    lws_sock_file_fd_type fd = { .filefd = pipe_fd[0] };
    struct lws_vhost *vh = srv.tcp ? srv.tcp : srv.unix_vh;
    return lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, fd, PROTO_JOBS, NULL) ? 0 : -1;
}

int jobs_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                  size_t len)
{
    if (reason != LWS_CALLBACK_RAW_RX_FILE)
        return 0;
    struct job *done[64];
    ssize_t n;
    while ((n = read(pipe_fd[0], done, sizeof(done))) > 0)
        for (size_t i = 0; i < (size_t)n / sizeof(done[0]); i++) {
            struct job *j = done[i];
            running--;
            if (j->wsi)
                j->finish(j);
            else
                job_free(j);
        }
    return 0;
}
