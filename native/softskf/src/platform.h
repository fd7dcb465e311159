/* platform.h - OS abstraction for softskf (POSIX and Win32).
 * Deliberately does not include skf.h: on Windows, <windows.h> typedefs
 * (ULONG = unsigned long, ...) clash with the standard's fixed-width ones,
 * so platform.c includes windows.h and nothing from SKF. */
#ifndef SOFTSKF_PLATFORM_H
#define SOFTSKF_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#ifdef _WIN32
#define SSKF_PATHSEP '\\'
#else
#define SSKF_PATHSEP '/'
#endif

/* the one global library mutex, initialised statically or at load */
void sskf_lock(void);
void sskf_unlock(void);

/* wait/cancel support for SKF_WaitForDevEvent */
void sskf_wait_lock(void);
void sskf_wait_unlock(void);
/* waits up to ms on the wait condition; must hold wait lock */
void sskf_wait_timed(unsigned ms);
void sskf_wait_broadcast(void);

void sskf_sleep_ms(unsigned ms);
uint64_t sskf_now_ms(void);

int sskf_file_exists(const char *path);  /* regular file or anything */
int sskf_dir_exists(const char *path);
int sskf_mkdir(const char *path);         /* 0 ok or already exists */
int sskf_mkdirs(const char *path);        /* mkdir -p */
int sskf_unlink(const char *path);        /* 0 ok */
int sskf_rename_replace(const char *from, const char *to); /* atomic replace */
int sskf_rmtree(const char *path);        /* 0 ok */
int sskf_fsync_file(void *fp);            /* fflush + fsync of FILE* */
long long sskf_file_size(const char *path); /* -1 if missing */

/* list directory entries (excluding . and ..); callback returns 0 to continue */
typedef int (*sskf_dir_cb)(const char *name, int is_dir, void *ctx);
int sskf_listdir(const char *path, sskf_dir_cb cb, void *ctx);

/* default store root (malloc'd) when SOFTSKF_STORE is unset */
char *sskf_default_store(void);

#endif
