/*
 * powerloss.so: lets a test take away, after the fact, every write that a process had not forced to
 * the device, as a power loss would. Loaded into a node with LD_PRELOAD; the chaos script's
 * powerloss fault and PowerLossIT use it (dev.bully.tools.chaos.PowerLoss).
 *
 * Every file the process opens under $POWERLOSS_DIR (an absolute path) is tracked. Before a change
 * to a tracked file F -- a write at an offset, or a truncation -- the bytes it overwrites and F's size
 * are appended to F.undo. When the process forces F (fsync or fdatasync), F.undo is emptied once the
 * force returned: what it recorded is on the device now. So at any moment F.undo holds exactly how
 * to turn F back into what the device held at its last force. After the process was killed, the
 * harness applies each F.undo backwards (PowerLoss.rollBack) and F is what a power loss would have
 * left, then starts the process again.
 *
 * The undo record is written before the change it undoes, and a force empties it only after the
 * force returned, both under one lock that every tracked change takes: a kill at any instant leaves
 * an undo log that restores a state the device really held (an incomplete last record belongs to a
 * change that never happened). Only file contents are modelled: a file created since the last force
 * comes back empty rather than missing, and the undo logs themselves, like the node's own log files,
 * are not subject to the loss.
 *
 * Record: "PLU1", then offset, size before, length (little-endian 64-bit each), then the length's
 * old bytes (those of [offset, offset + length) that lay below the size before).
 *
 * Build: gcc -O2 -shared -fPIC -o powerloss.so powerloss.c -ldl -lpthread
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FDS 65536
#define UNDO_SUFFIX ".undo"

/* For a tracked descriptor: its undo log's descriptor and a descriptor to read old bytes with; -1 otherwise. */
static int undo_of[MAX_FDS];
static int reader_of[MAX_FDS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static char dir[PATH_MAX];
static size_t dir_length;

static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_close)(int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static int (*real_ftruncate)(int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);

static void init(void) {
  real_open = dlsym(RTLD_NEXT, "open");
  real_openat = dlsym(RTLD_NEXT, "openat");
  real_close = dlsym(RTLD_NEXT, "close");
  real_write = dlsym(RTLD_NEXT, "write");
  real_pwrite = dlsym(RTLD_NEXT, "pwrite");
  real_writev = dlsym(RTLD_NEXT, "writev");
  real_pwritev = dlsym(RTLD_NEXT, "pwritev");
  real_ftruncate = dlsym(RTLD_NEXT, "ftruncate");
  real_fsync = dlsym(RTLD_NEXT, "fsync");
  real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
  for (int i = 0; i < MAX_FDS; i++) {
    undo_of[i] = -1;
    reader_of[i] = -1;
  }
  const char *configured = getenv("POWERLOSS_DIR");
  if (configured != NULL && configured[0] == '/' && strlen(configured) < sizeof dir - 1) {
    strcpy(dir, configured);
    dir_length = strlen(dir);
    if (dir[dir_length - 1] != '/') {
      dir[dir_length++] = '/';
      dir[dir_length] = '\0';
    }
  }
}

static void ensure_init(void) {
  pthread_once(&once, init);
}

static int tracked(int fd) {
  return fd >= 0 && fd < MAX_FDS && undo_of[fd] >= 0;
}

/* The absolute path of what was opened, from the path and the directory it is relative to. */
static int absolute(int dirfd, const char *path, char *out, size_t size) {
  if (path[0] == '/') {
    return snprintf(out, size, "%s", path) < (int) size ? 0 : -1;
  }
  char base[PATH_MAX];
  if (dirfd == AT_FDCWD) {
    if (getcwd(base, sizeof base) == NULL) {
      return -1;
    }
  } else {
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
    ssize_t n = readlink(link, base, sizeof base - 1);
    if (n < 0) {
      return -1;
    }
    base[n] = '\0';
  }
  return snprintf(out, size, "%s/%s", base, path) < (int) size ? 0 : -1;
}

static void track(int fd, int dirfd, const char *path, int flags) {
  if (fd < 0 || fd >= MAX_FDS || dir_length == 0 || (flags & (O_WRONLY | O_RDWR)) == 0) {
    return;
  }
  char file[PATH_MAX];
  size_t suffix = strlen(UNDO_SUFFIX);
  if (absolute(dirfd, path, file, sizeof file) != 0 || strncmp(file, dir, dir_length) != 0
      || (strlen(file) > suffix && strcmp(file + strlen(file) - suffix, UNDO_SUFFIX) == 0)) {
    return;
  }
  char undo[PATH_MAX + 8];
  snprintf(undo, sizeof undo, "%s%s", file, UNDO_SUFFIX);
  int undo_fd = real_open(undo, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int reader = real_open(file, O_RDONLY | O_CLOEXEC);
  if (undo_fd < 0 || reader < 0) {
    fprintf(stderr, "powerloss: cannot track %s: %s\n", file, strerror(errno));
    abort(); /* a test that silently stopped modelling the loss would pass for the wrong reason */
  }
  pthread_mutex_lock(&lock);
  undo_of[fd] = undo_fd;
  reader_of[fd] = reader;
  pthread_mutex_unlock(&lock);
}

static void write_all(int fd, const void *data, size_t length) {
  const char *p = data;
  while (length > 0) {
    ssize_t n = real_write(fd, p, length);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      fprintf(stderr, "powerloss: cannot write an undo record: %s\n", strerror(errno));
      abort();
    }
    p += n;
    length -= (size_t) n;
  }
}

/* Appends the undo record of a change to [offset, offset + length) of fd's file. Called under the lock. */
static void record(int fd, uint64_t offset, uint64_t length) {
  struct stat st;
  if (fstat(fd, &st) != 0) {
    abort();
  }
  uint64_t size = (uint64_t) st.st_size;
  uint64_t kept = offset >= size ? 0 : (offset + length > size ? size - offset : length);
  unsigned char header[28];
  memcpy(header, "PLU1", 4);
  memcpy(header + 4, &offset, 8);
  memcpy(header + 12, &size, 8);
  memcpy(header + 20, &kept, 8);
  char *old = kept > 0 ? malloc(kept) : NULL;
  for (uint64_t done = 0; done < kept;) {
    ssize_t n = pread(reader_of[fd], old + done, kept - done, (off_t) (offset + done));
    if (n <= 0) {
      abort();
    }
    done += (uint64_t) n;
  }
  /* One write for the header and the bytes, so that a kill leaves at most one incomplete record, the last. */
  struct iovec parts[2] = {{header, sizeof header}, {old, kept}};
  ssize_t total = sizeof header + (ssize_t) kept;
  ssize_t n = real_writev(undo_of[fd], parts, kept > 0 ? 2 : 1);
  if (n != total) {
    if (n < 0) {
      n = 0;
    }
    /* Finish a short write byte by byte rather than leave the record torn. */
    char *flat = malloc((size_t) total);
    memcpy(flat, header, sizeof header);
    if (kept > 0) {
      memcpy(flat + sizeof header, old, kept);
    }
    write_all(undo_of[fd], flat + n, (size_t) (total - n));
    free(flat);
  }
  free(old);
}

static size_t iov_length(const struct iovec *iov, int count) {
  size_t length = 0;
  for (int i = 0; i < count; i++) {
    length += iov[i].iov_len;
  }
  return length;
}

/* Where a write without an offset lands: the end for O_APPEND, else the file position. */
static uint64_t position(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0 && (flags & O_APPEND)) {
    struct stat st;
    return fstat(fd, &st) == 0 ? (uint64_t) st.st_size : 0;
  }
  off_t at = lseek(fd, 0, SEEK_CUR);
  return at < 0 ? 0 : (uint64_t) at;
}

static int forced(int fd, int (*force)(int)) {
  ensure_init();
  if (!tracked(fd)) {
    return force(fd);
  }
  pthread_mutex_lock(&lock);
  int result = force(fd);
  if (result == 0 && real_ftruncate(undo_of[fd], 0) != 0) {
    abort();
  }
  pthread_mutex_unlock(&lock);
  return result;
}

/* ------------------------------------------------------------------ the interposed calls */

static int open_mode(int flags, va_list args) {
  return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(args, int) : 0;
}

int open(const char *path, int flags, ...) {
  ensure_init();
  va_list args;
  va_start(args, flags);
  int mode = open_mode(flags, args);
  va_end(args);
  int fd = real_open(path, flags, mode);
  track(fd, AT_FDCWD, path, flags);
  return fd;
}

int open64(const char *path, int flags, ...) {
  ensure_init();
  va_list args;
  va_start(args, flags);
  int mode = open_mode(flags, args);
  va_end(args);
  int fd = real_open(path, flags | O_LARGEFILE, mode);
  track(fd, AT_FDCWD, path, flags);
  return fd;
}

int openat(int dirfd, const char *path, int flags, ...) {
  ensure_init();
  va_list args;
  va_start(args, flags);
  int mode = open_mode(flags, args);
  va_end(args);
  int fd = real_openat(dirfd, path, flags, mode);
  track(fd, dirfd, path, flags);
  return fd;
}

int openat64(int dirfd, const char *path, int flags, ...) {
  ensure_init();
  va_list args;
  va_start(args, flags);
  int mode = open_mode(flags, args);
  va_end(args);
  int fd = real_openat(dirfd, path, flags | O_LARGEFILE, mode);
  track(fd, dirfd, path, flags);
  return fd;
}

int __open_2(const char *path, int flags) {
  return open(path, flags);
}

int __open64_2(const char *path, int flags) {
  return open64(path, flags);
}

int close(int fd) {
  ensure_init();
  if (tracked(fd)) {
    pthread_mutex_lock(&lock);
    real_close(undo_of[fd]);
    real_close(reader_of[fd]);
    undo_of[fd] = -1;
    reader_of[fd] = -1;
    pthread_mutex_unlock(&lock);
  }
  return real_close(fd);
}

ssize_t write(int fd, const void *data, size_t length) {
  ensure_init();
  if (!tracked(fd)) {
    return real_write(fd, data, length);
  }
  pthread_mutex_lock(&lock);
  record(fd, position(fd), length);
  ssize_t n = real_write(fd, data, length);
  pthread_mutex_unlock(&lock);
  return n;
}

ssize_t pwrite(int fd, const void *data, size_t length, off_t offset) {
  ensure_init();
  if (!tracked(fd)) {
    return real_pwrite(fd, data, length, offset);
  }
  pthread_mutex_lock(&lock);
  record(fd, (uint64_t) offset, length);
  ssize_t n = real_pwrite(fd, data, length, offset);
  pthread_mutex_unlock(&lock);
  return n;
}

ssize_t pwrite64(int fd, const void *data, size_t length, off_t offset) {
  return pwrite(fd, data, length, offset);
}

ssize_t writev(int fd, const struct iovec *iov, int count) {
  ensure_init();
  if (!tracked(fd)) {
    return real_writev(fd, iov, count);
  }
  pthread_mutex_lock(&lock);
  record(fd, position(fd), iov_length(iov, count));
  ssize_t n = real_writev(fd, iov, count);
  pthread_mutex_unlock(&lock);
  return n;
}

ssize_t pwritev(int fd, const struct iovec *iov, int count, off_t offset) {
  ensure_init();
  if (!tracked(fd)) {
    return real_pwritev(fd, iov, count, offset);
  }
  pthread_mutex_lock(&lock);
  record(fd, (uint64_t) offset, iov_length(iov, count));
  ssize_t n = real_pwritev(fd, iov, count, offset);
  pthread_mutex_unlock(&lock);
  return n;
}

ssize_t pwritev64(int fd, const struct iovec *iov, int count, off_t offset) {
  return pwritev(fd, iov, count, offset);
}

int ftruncate(int fd, off_t length) {
  ensure_init();
  if (!tracked(fd)) {
    return real_ftruncate(fd, length);
  }
  pthread_mutex_lock(&lock);
  struct stat st;
  if (fstat(fd, &st) == 0 && (uint64_t) length < (uint64_t) st.st_size) {
    record(fd, (uint64_t) length, (uint64_t) (st.st_size - length));
  } else {
    record(fd, (uint64_t) length, 0);
  }
  int result = real_ftruncate(fd, length);
  pthread_mutex_unlock(&lock);
  return result;
}

int ftruncate64(int fd, off_t length) {
  return ftruncate(fd, length);
}

int fsync(int fd) {
  ensure_init();
  return forced(fd, real_fsync);
}

int fdatasync(int fd) {
  ensure_init();
  return forced(fd, real_fdatasync);
}
