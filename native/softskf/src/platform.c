/* platform.c - OS abstraction for softskf. See platform.h. */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#endif

#include "platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
/* ------------------------------------------------------------------ Win32 */
#include <windows.h>
#include <direct.h>
#include <io.h>
#include <sys/stat.h>

static SRWLOCK g_lock = SRWLOCK_INIT;
static SRWLOCK g_wait_lock = SRWLOCK_INIT;
static CONDITION_VARIABLE g_wait_cond = CONDITION_VARIABLE_INIT;

void sskf_lock(void) { AcquireSRWLockExclusive(&g_lock); }
void sskf_unlock(void) { ReleaseSRWLockExclusive(&g_lock); }
void sskf_wait_lock(void) { AcquireSRWLockExclusive(&g_wait_lock); }
void sskf_wait_unlock(void) { ReleaseSRWLockExclusive(&g_wait_lock); }
void sskf_wait_timed(unsigned ms) { SleepConditionVariableSRW(&g_wait_cond, &g_wait_lock, ms, 0); }
void sskf_wait_broadcast(void) { WakeAllConditionVariable(&g_wait_cond); }
void sskf_sleep_ms(unsigned ms) { Sleep(ms); }
uint64_t sskf_now_ms(void) { return (uint64_t)GetTickCount64(); }

int sskf_file_exists(const char *path)
{
    return GetFileAttributesA(path) != INVALID_FILE_ATTRIBUTES;
}
int sskf_dir_exists(const char *path)
{
    DWORD a = GetFileAttributesA(path);
    return a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_DIRECTORY);
}
int sskf_mkdir(const char *path)
{
    if (CreateDirectoryA(path, NULL)) return 0;
    return GetLastError() == ERROR_ALREADY_EXISTS ? 0 : -1;
}
int sskf_unlink(const char *path) { return DeleteFileA(path) ? 0 : -1; }
long long sskf_file_size(const char *path)
{
    struct __stat64 st;
    if (_stat64(path, &st) != 0) return -1;
    return (long long)st.st_size;
}
int sskf_rename_replace(const char *from, const char *to)
{
    return MoveFileExA(from, to, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH) ? 0 : -1;
}
int sskf_fsync_file(void *fp)
{
    if (fflush((FILE *)fp) != 0) return -1;
    return _commit(_fileno((FILE *)fp));
}
int sskf_listdir(const char *path, sskf_dir_cb cb, void *ctx)
{
    char pat[MAX_PATH * 2];
    WIN32_FIND_DATAA fd;
    HANDLE h;
    snprintf(pat, sizeof pat, "%s\\*", path);
    h = FindFirstFileA(pat, &fd);
    if (h == INVALID_HANDLE_VALUE) return -1;
    do {
        if (!strcmp(fd.cFileName, ".") || !strcmp(fd.cFileName, "..")) continue;
        if (cb(fd.cFileName, (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0, ctx)) break;
    } while (FindNextFileA(h, &fd));
    FindClose(h);
    return 0;
}
char *sskf_default_store(void)
{
    const char *appdata = getenv("APPDATA");
    size_t n;
    char *p;
    if (!appdata || !*appdata) appdata = ".";
    n = strlen(appdata) + 32;
    p = malloc(n);
    if (p) snprintf(p, n, "%s\\BidSeal\\softskf", appdata);
    return p;
}
#else
/* ------------------------------------------------------------------ POSIX */
#include <dirent.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t g_wait_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_wait_cond = PTHREAD_COND_INITIALIZER;

void sskf_lock(void) { pthread_mutex_lock(&g_lock); }
void sskf_unlock(void) { pthread_mutex_unlock(&g_lock); }
void sskf_wait_lock(void) { pthread_mutex_lock(&g_wait_lock); }
void sskf_wait_unlock(void) { pthread_mutex_unlock(&g_wait_lock); }
void sskf_wait_timed(unsigned ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&g_wait_cond, &g_wait_lock, &ts);
}
void sskf_wait_broadcast(void) { pthread_cond_broadcast(&g_wait_cond); }
void sskf_sleep_ms(unsigned ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}
uint64_t sskf_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
int sskf_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}
int sskf_dir_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}
int sskf_mkdir(const char *path)
{
    if (mkdir(path, 0700) == 0) return 0;
    return (errno == EEXIST && sskf_dir_exists(path)) ? 0 : -1;
}
int sskf_unlink(const char *path) { return unlink(path); }
long long sskf_file_size(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) return -1;
    return (long long)st.st_size;
}
int sskf_rename_replace(const char *from, const char *to) { return rename(from, to); }
int sskf_fsync_file(void *fp)
{
    if (fflush((FILE *)fp) != 0) return -1;
    return fsync(fileno((FILE *)fp));
}
int sskf_listdir(const char *path, sskf_dir_cb cb, void *ctx)
{
    DIR *d = opendir(path);
    struct dirent *e;
    if (!d) return -1;
    while ((e = readdir(d)) != NULL) {
        char full[4096];
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(full, sizeof full, "%s/%s", path, e->d_name);
        if (cb(e->d_name, sskf_dir_exists(full), ctx)) break;
    }
    closedir(d);
    return 0;
}
char *sskf_default_store(void)
{
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    size_t n;
    char *p;
    if (xdg && *xdg) {
        n = strlen(xdg) + 32;
        p = malloc(n);
        if (p) snprintf(p, n, "%s/bidseal/softskf", xdg);
        return p;
    }
    if (!home || !*home) home = ".";
    n = strlen(home) + 48;
    p = malloc(n);
    if (p) snprintf(p, n, "%s/.local/share/bidseal/softskf", home);
    return p;
}
#endif

/* ------------------------------------------------------------- portable */
int sskf_mkdirs(const char *path)
{
    char buf[4096];
    size_t i, n = strlen(path);
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, path, n + 1);
    for (i = 1; i < n; i++) {
        if (buf[i] == '/' || buf[i] == '\\') {
            char c = buf[i];
#ifdef _WIN32
            if (i == 2 && buf[1] == ':') continue;
#endif
            buf[i] = 0;
            if (!sskf_dir_exists(buf) && sskf_mkdir(buf) != 0) return -1;
            buf[i] = c;
        }
    }
    return sskf_mkdir(buf);
}

struct rm_ctx {
    const char *base;
    int rc;
};

static int rm_cb(const char *name, int is_dir, void *vctx)
{
    struct rm_ctx *c = vctx;
    char full[4096];
    snprintf(full, sizeof full, "%s%c%s", c->base, SSKF_PATHSEP, name);
    if (is_dir) {
        if (sskf_rmtree(full) != 0) c->rc = -1;
    } else if (sskf_unlink(full) != 0) {
        c->rc = -1;
    }
    return 0;
}

int sskf_rmtree(const char *path)
{
    struct rm_ctx c;
    c.base = path;
    c.rc = 0;
    if (!sskf_dir_exists(path)) return sskf_file_exists(path) ? sskf_unlink(path) : 0;
    sskf_listdir(path, rm_cb, &c);
#ifdef _WIN32
    if (!RemoveDirectoryA(path)) c.rc = -1;
#else
    if (rmdir(path) != 0) c.rc = -1;
#endif
    return c.rc;
}
