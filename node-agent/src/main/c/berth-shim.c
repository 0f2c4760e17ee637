/*
 * berth-shim: the per-container helper of the Berth node agent.
 *
 * The agent runs in a multithreaded JVM, where the steps between clone() and execve() (pivot_root, mounting /proc in
 * the new PID namespace, dropping capabilities, changing user) and setns() into a mount namespace cannot be done. This
 * helper does exactly those steps, then stays alive as the container's parent: it records the output in Docker's
 * json-file format, serves attach clients on a unix socket and writes the exit status to a file, so a container keeps
 * running, logging and being reaped while the agent is down. See docs/adr/0005-node-shim.md for the protocol.
 *
 *   berth-shim run  <bundle-dir>   start the container described by <bundle-dir>/config
 *   berth-shim exec <exec-dir>     run a process inside a running container, described by <exec-dir>/config
 *
 * Both daemonize (the invoking process exits at once) and talk to the agent through the inherited stdin/stdout:
 *   shim -> agent: "ready <pid>\n"    the process is set up and waits before execve
 *   agent -> shim: "go\n"             attach clients are connected; execve now
 *   shim -> agent: "started <pid>\n"  or "error <code> <message>\n" (code 126/127 as Docker's exec failures)
 * A closed stdin before "go" aborts the start.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define MAX_CLIENTS 32
#define CLIENT_BUF_MAX (4 * 1024 * 1024)
#define STDIN_BUF_MAX (1024 * 1024)
#define LINE_MAX_BYTES (16 * 1024)

/* ------------------------------------------------------------------------------------------------ utilities */

static void logmsg(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "berth-shim[%d]: ", getpid());
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void *xmalloc(size_t n) {
    void *p = calloc(1, n ? n : 1);
    if (!p) {
        logmsg("out of memory");
        _exit(1);
    }
    return p;
}

static int write_full(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += n;
        len -= (size_t) n;
    }
    return 0;
}

static ssize_t read_full(int fd, void *buf, size_t len) {
    char *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, p + got, len - got);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (n == 0) break;
        got += (size_t) n;
    }
    return (ssize_t) got;
}

/* Go's error strings (which Docker's messages carry) are strerror() with a lower-case first letter. */
static const char *errtext(int err) {
    static char buf[128];
    snprintf(buf, sizeof buf, "%s", strerror(err));
    if (buf[0] >= 'A' && buf[0] <= 'Z') buf[0] = (char) (buf[0] - 'A' + 'a');
    return buf;
}

static void rfc3339nano(char *out, size_t len) {
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char base[32], frac[16];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    /* Go's RFC3339Nano drops trailing zeros of the fraction, and the fraction altogether when it is zero. */
    snprintf(frac, sizeof frac, "%09ld", ts.tv_nsec);
    int n = 9;
    while (n > 0 && frac[n - 1] == '0') n--;
    frac[n] = 0;
    if (n > 0)
        snprintf(out, len, "%s.%sZ", base, frac);
    else
        snprintf(out, len, "%sZ", base);
}

/* Writes a file atomically (temporary file, then rename), so a reader never sees half of it. */
static int write_file_atomic(const char *path, const char *content) {
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    if (write_full(fd, content, strlen(content)) < 0 || fsync(fd) < 0) {
        close(fd);
        return -1;
    }
    close(fd);
    return rename(tmp, path);
}

static int mkdir_p(const char *path, mode_t mode) {
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int) sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, mode) < 0 && errno != EEXIST) return -1;
            *p = '/';
        }
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST) return -1;
    return 0;
}

/* ------------------------------------------------------------------------------------------------ config */

typedef struct {
    char **v;
    int n, cap;
} strv;

static void strv_push(strv *s, char *x) {
    if (s->n + 2 > s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        char **nv = realloc(s->v, sizeof(char *) * (size_t) s->cap);
        if (!nv) {
            logmsg("out of memory");
            _exit(1);
        }
        s->v = nv;
    }
    s->v[s->n++] = x;
    s->v[s->n] = NULL;
}

struct mountspec {
    char *type; /* "bind" or "tmpfs" */
    char *src, *dst, *opts;
};

struct rlim {
    int resource;
    unsigned long long soft, hard;
};

struct config {
    char *rootfs, *hostname, *cwd, *netns, *log_path;
    long long log_max_size;
    int log_max_files;
    strv args, env, procs, masked, readonly, files_dst, files_src;
    unsigned uid, gid;
    gid_t groups[NGROUPS_MAX > 256 ? 256 : NGROUPS_MAX];
    int ngroups;
    int tty, open_stdin, stdin_once, no_new_privs, readonly_rootfs, init, sys_rw;
    unsigned long long caps;
    struct mountspec mounts[128];
    int nmounts;
    struct rlim rlimits[32];
    int nrlimits;
    int target_pid; /* exec: the container's init */
    unsigned short rows, cols;
};

/* Splits the value on literal TABs and unescapes each field (\\, \n, \t); returns the field count or -1. */
static int split_fields(char *value, char **fields, int max) {
    int n = 0;
    char *p = value;
    for (;;) {
        if (n == max) return -1;
        fields[n++] = p;
        char *tab = strchr(p, '\t');
        if (tab) *tab = 0;
        char *w = p;
        for (char *r = p; *r; r++) {
            if (*r == '\\') {
                r++;
                if (*r == '\\') *w++ = '\\';
                else if (*r == 'n') *w++ = '\n';
                else if (*r == 't') *w++ = '\t';
                else return -1;
            } else {
                *w++ = *r;
            }
        }
        *w = 0;
        if (!tab) break;
        p = tab + 1;
    }
    return n;
}

static int parse_ull(const char *s, unsigned long long *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end) return -1;
    *out = v;
    return 0;
}

static int load_config(const char *path, struct config *c, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    c->cwd = "/";
    c->log_max_files = 1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "open `%s`: %s", path, errtext(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size > 16 * 1024 * 1024) {
        snprintf(err, errlen, "config `%s` unreadable or too large", path);
        close(fd);
        return -1;
    }
    char *data = xmalloc((size_t) st.st_size + 1);
    if (read_full(fd, data, (size_t) st.st_size) != st.st_size) {
        snprintf(err, errlen, "read `%s`: short read", path);
        close(fd);
        return -1;
    }
    close(fd);
    int lineno = 0;
    for (char *line = data, *next; line && *line; line = next) {
        lineno++;
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        if (!*line || *line == '#') continue;
        char *value = strchr(line, ' ');
        if (!value) {
            snprintf(err, errlen, "config line %d: no value", lineno);
            return -1;
        }
        *value++ = 0;
        char *f[8];
        int nf = split_fields(value, f, 8);
        unsigned long long u = 0;
#define BAD(what) do { snprintf(err, errlen, "config line %d (%s): %s", lineno, line, what); return -1; } while (0)
        if (nf < 1) BAD("bad escape or too many fields");
        const char *k = line;
        if (!strcmp(k, "rootfs")) c->rootfs = f[0];
        else if (!strcmp(k, "hostname")) c->hostname = f[0];
        else if (!strcmp(k, "cwd")) c->cwd = f[0];
        else if (!strcmp(k, "netns")) c->netns = f[0];
        else if (!strcmp(k, "arg")) strv_push(&c->args, f[0]);
        else if (!strcmp(k, "env")) strv_push(&c->env, f[0]);
        else if (!strcmp(k, "cgroup_procs")) strv_push(&c->procs, f[0]);
        else if (!strcmp(k, "masked")) strv_push(&c->masked, f[0]);
        else if (!strcmp(k, "readonly")) strv_push(&c->readonly, f[0]);
        else if (!strcmp(k, "file")) {
            if (nf != 2) BAD("want <container path>\\t<host file>");
            strv_push(&c->files_dst, f[0]);
            strv_push(&c->files_src, f[1]);
        } else if (!strcmp(k, "user")) {
            unsigned long long g;
            if (nf != 2 || parse_ull(f[0], &u) || parse_ull(f[1], &g) || u > 0xfffffffeULL || g > 0xfffffffeULL)
                BAD("want <uid>\\t<gid>");
            c->uid = (unsigned) u;
            c->gid = (unsigned) g;
        } else if (!strcmp(k, "group")) {
            if (parse_ull(f[0], &u) || u > 0xfffffffeULL) BAD("bad gid");
            if (c->ngroups >= (int) (sizeof c->groups / sizeof c->groups[0])) BAD("too many groups");
            c->groups[c->ngroups++] = (gid_t) u;
        } else if (!strcmp(k, "caps")) {
            if (parse_ull(f[0], &u)) BAD("bad mask");
            c->caps = u;
        } else if (!strcmp(k, "tty")) c->tty = !strcmp(f[0], "1");
        else if (!strcmp(k, "stdin")) c->open_stdin = !strcmp(f[0], "1");
        else if (!strcmp(k, "stdin_once")) c->stdin_once = !strcmp(f[0], "1");
        else if (!strcmp(k, "no_new_privs")) c->no_new_privs = !strcmp(f[0], "1");
        else if (!strcmp(k, "readonly_rootfs")) c->readonly_rootfs = !strcmp(f[0], "1");
        else if (!strcmp(k, "init")) c->init = !strcmp(f[0], "1");
        else if (!strcmp(k, "sys_rw")) c->sys_rw = !strcmp(f[0], "1");
        else if (!strcmp(k, "pid")) {
            if (parse_ull(f[0], &u) || u < 1 || u > INT_MAX) BAD("bad pid");
            c->target_pid = (int) u;
        } else if (!strcmp(k, "tty_size")) {
            unsigned long long cols;
            if (nf != 2 || parse_ull(f[0], &u) || parse_ull(f[1], &cols) || u > 65535 || cols > 65535)
                BAD("want <rows>\\t<cols>");
            c->rows = (unsigned short) u;
            c->cols = (unsigned short) cols;
        } else if (!strcmp(k, "log")) {
            unsigned long long files;
            if (nf != 3 || parse_ull(f[1], &u) || parse_ull(f[2], &files) || files < 1 || files > 1000)
                BAD("want <path>\\t<max-size>\\t<max-files>");
            c->log_path = f[0];
            c->log_max_size = (long long) u;
            c->log_max_files = (int) files;
        } else if (!strcmp(k, "rlimit")) {
            unsigned long long res, soft, hard;
            if (nf != 3 || parse_ull(f[0], &res) || parse_ull(f[1], &soft) || parse_ull(f[2], &hard) || res > 64)
                BAD("want <resource>\\t<soft>\\t<hard>");
            if (c->nrlimits == 32) BAD("too many rlimits");
            c->rlimits[c->nrlimits++] = (struct rlim){(int) res, soft, hard};
        } else if (!strcmp(k, "mount")) {
            if (c->nmounts == 128) BAD("too many mounts");
            struct mountspec *m = &c->mounts[c->nmounts];
            if (!strcmp(f[0], "bind") && nf == 4) *m = (struct mountspec){f[0], f[1], f[2], f[3]};
            else if (!strcmp(f[0], "tmpfs") && nf == 3) *m = (struct mountspec){f[0], NULL, f[1], f[2]};
            else BAD("want bind\\t<src>\\t<dst>\\t<opts> or tmpfs\\t<dst>\\t<opts>");
            if (m->dst[0] != '/') BAD("mount destination must be absolute");
            c->nmounts++;
        } else if (!strcmp(k, "version") || !strcmp(k, "id")) {
            /* informational */
        } else {
            BAD("unknown key");
        }
#undef BAD
    }
    if (c->args.n == 0) {
        snprintf(err, errlen, "config `%s`: no command given", path);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------------ child side */

static int g_sync = -1;    /* the child's end of the sync socket */
static int g_done_fd = -1; /* closed after the last report: lets the agent's child exit only then */

/* Reports a failure to the shim, which passes it to the agent, and ends the child with Docker's exit code. */
__attribute__((noreturn, format(printf, 2, 3))) static void child_fail(int code, const char *fmt, ...) {
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    uint32_t c = (uint32_t) code;
    uint16_t len = (uint16_t) strlen(msg);
    char hdr[7];
    hdr[0] = 'E';
    memcpy(hdr + 1, &c, 4);
    memcpy(hdr + 5, &len, 2);
    if (g_sync >= 0) {
        write_full(g_sync, hdr, sizeof hdr);
        write_full(g_sync, msg, len);
    }
    _exit(code);
}

#define FAIL(...) child_fail(1, __VA_ARGS__)

static void sync_expect(char want) {
    char b;
    if (read_full(g_sync, &b, 1) != 1) _exit(1); /* the shim went away: nothing to report to */
    if (b != want) FAIL("sync: expected '%c', got '%c'", want, b);
}

/*
 * Resolves a path inside the rootfs the way the kernel would after chroot, so a symlink in the image (absolute or
 * with "..") cannot lead a mount out of the rootfs. Components that do not exist yet are appended as they are.
 */
static void secure_join(const char *root, const char *unsafe, char *out, size_t outlen) {
    char rest[PATH_MAX * 2];
    char cur[PATH_MAX] = "";
    int links = 0;
    snprintf(rest, sizeof rest, "%s", unsafe);
    char *p = rest;
    while (*p) {
        while (*p == '/') p++;
        if (!*p) break;
        char *slash = strchr(p, '/');
        size_t len = slash ? (size_t) (slash - p) : strlen(p);
        char comp[NAME_MAX + 1];
        if (len > NAME_MAX) FAIL("path `%s` has a component longer than %d", unsafe, NAME_MAX);
        memcpy(comp, p, len);
        comp[len] = 0;
        p += len;
        if (!strcmp(comp, ".")) continue;
        if (!strcmp(comp, "..")) {
            char *last = strrchr(cur, '/');
            if (last) *last = 0;
            continue;
        }
        char cand[PATH_MAX], full[PATH_MAX];
        snprintf(cand, sizeof cand, "%s/%s", cur, comp);
        snprintf(full, sizeof full, "%s%s", root, cand);
        struct stat st;
        if (lstat(full, &st) == 0 && S_ISLNK(st.st_mode)) {
            if (++links > 40) FAIL("resolve `%s` in rootfs: %s", unsafe, errtext(ELOOP));
            char target[PATH_MAX];
            ssize_t n = readlink(full, target, sizeof target - 1);
            if (n < 0) FAIL("readlink `%s`: %s", full, errtext(errno));
            target[n] = 0;
            char joined[PATH_MAX * 2];
            snprintf(joined, sizeof joined, "%s/%s", target, p);
            snprintf(rest, sizeof rest, "%s", joined);
            p = rest;
            if (target[0] == '/') cur[0] = 0;
            continue;
        }
        snprintf(cur, sizeof cur, "%s", cand);
    }
    snprintf(out, outlen, "%s%s", root, cur[0] ? cur : "/");
}

static void do_mount(const char *src, const char *dst, const char *type, unsigned long flags, const char *data) {
    if (mount(src, dst, type, flags, data) < 0)
        FAIL("mount `%s` to `%s` (type %s, flags 0x%lx, data %s): %s", src ? src : "none", dst, type ? type : "none",
             flags, data ? data : "none", errtext(errno));
}

/* Flags a read-only remount must keep, or the kernel refuses it (EPERM for locked nosuid/nodev/noexec). */
static unsigned long locked_flags(const char *path) {
    struct statvfs sv;
    unsigned long f = 0;
    if (statvfs(path, &sv) == 0) {
        if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
        if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
        if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
    }
    return f;
}

static void remount_ro(const char *path) {
    do_mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(path), NULL);
}

/* Splits "ro,nosuid,size=64m" into mount flags and the filesystem's own data. */
static unsigned long parse_mount_opts(const char *opts, char *data, size_t datalen, int *ro) {
    static const struct { const char *name; unsigned long set, clear; } known[] = {
        {"ro", MS_RDONLY, 0}, {"rw", 0, MS_RDONLY}, {"nosuid", MS_NOSUID, 0}, {"suid", 0, MS_NOSUID},
        {"nodev", MS_NODEV, 0}, {"dev", 0, MS_NODEV}, {"noexec", MS_NOEXEC, 0}, {"exec", 0, MS_NOEXEC},
        {"sync", MS_SYNCHRONOUS, 0}, {"noatime", MS_NOATIME, 0}, {"nodiratime", MS_NODIRATIME, 0},
        {"relatime", MS_RELATIME, 0}, {"strictatime", MS_STRICTATIME, 0}, {"rbind", MS_REC, 0}, {"bind", 0, 0},
        {"rprivate", 0, 0}, {"private", 0, 0},
    };
    unsigned long flags = 0;
    char copy[4096];
    data[0] = 0;
    snprintf(copy, sizeof copy, "%s", opts ? opts : "");
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        size_t i;
        for (i = 0; i < sizeof known / sizeof known[0]; i++) {
            if (!strcmp(tok, known[i].name)) {
                flags = (flags | known[i].set) & ~known[i].clear;
                break;
            }
        }
        if (i == sizeof known / sizeof known[0]) {
            size_t used = strlen(data);
            snprintf(data + used, datalen - used, "%s%s", used ? "," : "", tok);
        }
    }
    *ro = (flags & MS_RDONLY) != 0;
    return flags;
}

static void ensure_file(const char *path) {
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = 0;
        if (mkdir_p(dir, 0755) < 0) FAIL("mkdir `%s`: %s", dir, errtext(errno));
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 && errno != EISDIR) FAIL("create `%s`: %s", path, errtext(errno));
    if (fd >= 0) close(fd);
}

static void mk_dev(const char *dev, const char *name, int major, int minor) {
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", dev, name);
    if (mknod(p, S_IFCHR | 0666, makedev(major, minor)) < 0) FAIL("mknod `%s`: %s", p, errtext(errno));
    if (chmod(p, 0666) < 0) FAIL("chmod `%s`: %s", p, errtext(errno));
}

static void mk_link(const char *target, const char *dev, const char *name) {
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", dev, name);
    if (symlink(target, p) < 0 && errno != EEXIST) FAIL("symlink `%s` -> `%s`: %s", p, target, errtext(errno));
}

/* Passes a descriptor to the shim over the sync socket (SCM_RIGHTS), as message type 't'. */
static void send_fd(char type, int fd) {
    char b = type;
    struct iovec iov = {&b, 1};
    char ctl[CMSG_SPACE(sizeof(int))];
    memset(ctl, 0, sizeof ctl);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    if (sendmsg(g_sync, &msg, 0) < 0) FAIL("send the pty to the shim: %s", errtext(errno));
}

/*
 * A terminal from the container's own devpts (as runc does), so the process sees /dev/pts/0: the slave becomes
 * stdio, the master goes to the shim. {@code pts} is the devpts directory as seen now; returns the slave's path.
 */
static void open_container_pty(const char *pts, unsigned uid, char *slave_path, size_t len) {
    char ptmx[PATH_MAX];
    snprintf(ptmx, sizeof ptmx, "%s/ptmx", pts);
    int master = open(ptmx, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) FAIL("open `%s`: %s", ptmx, errtext(errno));
    int unlock = 0, n = -1;
    if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &n) < 0)
        FAIL("unlock pty `%s`: %s", ptmx, errtext(errno));
    snprintf(slave_path, len, "%s/%d", pts, n);
    int slave = open(slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0) FAIL("open `%s`: %s", slave_path, errtext(errno));
    if (fchown(slave, uid, (gid_t) -1) < 0) FAIL("fchown `%s`: %s", slave_path, errtext(errno));
    if (dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0) FAIL("dup2: %s", errtext(errno));
    close(slave);
    send_fd('T', master);
    close(master);
}

static void setup_dev(const char *root, struct config *c) {
    char dev[PATH_MAX], p[PATH_MAX];
    secure_join(root, "/dev", dev, sizeof dev);
    if (mkdir_p(dev, 0755) < 0) FAIL("mkdir `%s`: %s", dev, errtext(errno));
    do_mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
    mk_dev(dev, "null", 1, 3);
    mk_dev(dev, "zero", 1, 5);
    mk_dev(dev, "full", 1, 7);
    mk_dev(dev, "random", 1, 8);
    mk_dev(dev, "urandom", 1, 9);
    mk_dev(dev, "tty", 5, 0);
    snprintf(p, sizeof p, "%s/pts", dev);
    if (mkdir(p, 0755) < 0) FAIL("mkdir `%s`: %s", p, errtext(errno));
    do_mount("devpts", p, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5");
    mk_link("pts/ptmx", dev, "ptmx");
    snprintf(p, sizeof p, "%s/shm", dev);
    if (mkdir(p, 01777) < 0) FAIL("mkdir `%s`: %s", p, errtext(errno));
    do_mount("shm", p, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k");
    snprintf(p, sizeof p, "%s/mqueue", dev);
    if (mkdir(p, 0755) < 0) FAIL("mkdir `%s`: %s", p, errtext(errno));
    do_mount("mqueue", p, "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mk_link("/proc/self/fd", dev, "fd");
    mk_link("/proc/self/fd/0", dev, "stdin");
    mk_link("/proc/self/fd/1", dev, "stdout");
    mk_link("/proc/self/fd/2", dev, "stderr");
    mk_link("/proc/kcore", dev, "core");
    if (c->tty) {
        char pts[PATH_MAX], slave[PATH_MAX];
        snprintf(pts, sizeof pts, "%s/pts", dev);
        open_container_pty(pts, c->uid, slave, sizeof slave);
        snprintf(p, sizeof p, "%s/console", dev);
        ensure_file(p);
        do_mount(slave, p, NULL, MS_BIND, NULL);
    }
}

static void setup_rootfs(struct config *c) {
    char root[PATH_MAX], p[PATH_MAX];
    if (!realpath(c->rootfs, root)) FAIL("rootfs `%s`: %s", c->rootfs, errtext(errno));
    do_mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
    do_mount(root, root, NULL, MS_BIND | MS_REC, NULL);

    secure_join(root, "/proc", p, sizeof p);
    if (mkdir_p(p, 0555) < 0) FAIL("mkdir `%s`: %s", p, errtext(errno));
    do_mount("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);

    setup_dev(root, c);

    secure_join(root, "/sys", p, sizeof p);
    if (mkdir_p(p, 0555) < 0) FAIL("mkdir `%s`: %s", p, errtext(errno));
    unsigned long sysflags = MS_NOSUID | MS_NODEV | MS_NOEXEC | (c->sys_rw ? 0 : MS_RDONLY);
    if (mount("sysfs", p, "sysfs", sysflags, NULL) < 0) {
        /* Sharing the host's network namespace can forbid a fresh sysfs; the host's, read-only, is what Docker shows. */
        do_mount("/sys", p, NULL, MS_BIND | MS_REC, NULL);
        if (!c->sys_rw) remount_ro(p);
    }

    for (int i = 0; i < c->nmounts; i++) {
        struct mountspec *m = &c->mounts[i];
        char data[4096];
        int ro;
        unsigned long flags = parse_mount_opts(m->opts, data, sizeof data, &ro);
        secure_join(root, m->dst, p, sizeof p);
        if (!strcmp(m->type, "bind")) {
            struct stat st;
            if (stat(m->src, &st) < 0) FAIL("bind mount source `%s`: %s", m->src, errtext(errno));
            if (S_ISDIR(st.st_mode)) {
                if (mkdir_p(p, 0755) < 0) FAIL("mkdir `%s`: %s", p, errtext(errno));
            } else {
                ensure_file(p);
            }
            do_mount(m->src, p, NULL, MS_BIND | MS_REC, NULL);
            if (ro) remount_ro(p);
        } else {
            if (mkdir_p(p, 0755) < 0) FAIL("mkdir `%s`: %s", p, errtext(errno));
            do_mount("tmpfs", p, "tmpfs", flags & ~(unsigned long) MS_REC, data[0] ? data : NULL);
        }
    }

    for (int i = 0; i < c->files_dst.n; i++) {
        secure_join(root, c->files_dst.v[i], p, sizeof p);
        ensure_file(p);
        do_mount(c->files_src.v[i], p, NULL, MS_BIND, NULL);
    }

    char devnull[PATH_MAX];
    snprintf(devnull, sizeof devnull, "%s/dev/null", root);
    for (int i = 0; i < c->masked.n; i++) {
        struct stat st;
        secure_join(root, c->masked.v[i], p, sizeof p);
        if (lstat(p, &st) < 0) {
            if (errno == ENOENT) continue;
            FAIL("stat `%s`: %s", p, errtext(errno));
        }
        if (S_ISDIR(st.st_mode))
            do_mount("tmpfs", p, "tmpfs", MS_RDONLY, NULL);
        else
            do_mount(devnull, p, NULL, MS_BIND, NULL);
    }
    for (int i = 0; i < c->readonly.n; i++) {
        struct stat st;
        secure_join(root, c->readonly.v[i], p, sizeof p);
        if (lstat(p, &st) < 0) {
            if (errno == ENOENT) continue;
            FAIL("stat `%s`: %s", p, errtext(errno));
        }
        do_mount(p, p, NULL, MS_BIND | MS_REC, NULL);
        remount_ro(p);
    }

    /* The working directory is created as root, as Docker does, before the user changes. */
    secure_join(root, c->cwd, p, sizeof p);
    if (mkdir_p(p, 0755) < 0) FAIL("mkdir working directory `%s`: %s", p, errtext(errno));

    if (chdir(root) < 0) FAIL("chdir `%s`: %s", root, errtext(errno));
    if (syscall(SYS_pivot_root, ".", ".") < 0) FAIL("pivot_root `%s`: %s", root, errtext(errno));
    if (umount2(".", MNT_DETACH) < 0) FAIL("umount2 old root: %s", errtext(errno));
    if (chdir("/") < 0) FAIL("chdir `/`: %s", errtext(errno));
    if (c->readonly_rootfs) remount_ro("/");
}

static int last_cap(void) {
    int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    char buf[16] = {0};
    if (fd < 0) return 40;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n > 0 ? atoi(buf) : 40;
}

/* User, groups and capabilities, in the only order that works: bounding set, keep caps, ids, then capset. */
static void apply_identity(struct config *c, int lastcap) {
    for (int cap = 0; cap <= lastcap; cap++) {
        if (!(c->caps & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
            FAIL("prctl(PR_CAPBSET_DROP, %d): %s", cap, errtext(errno));
    }
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) FAIL("prctl(PR_SET_KEEPCAPS): %s", errtext(errno));
    if (setgroups((size_t) c->ngroups, c->groups) < 0) FAIL("setgroups: %s", errtext(errno));
    if (setresgid(c->gid, c->gid, c->gid) < 0) FAIL("setresgid %u: %s", c->gid, errtext(errno));
    if (setresuid(c->uid, c->uid, c->uid) < 0) FAIL("setresuid %u: %s", c->uid, errtext(errno));
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) FAIL("prctl(PR_SET_KEEPCAPS): %s", errtext(errno));
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    data[0].effective = data[0].permitted = (uint32_t) (c->caps & 0xffffffffULL);
    data[1].effective = data[1].permitted = (uint32_t) (c->caps >> 32);
    /* Inheritable stays empty, as in Docker since 20.10.14 (CVE-2022-24769). */
    if (syscall(SYS_capset, &hdr, data) < 0) FAIL("capset 0x%llx: %s", c->caps, errtext(errno));
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        FAIL("prctl(PR_CAP_AMBIENT_CLEAR_ALL): %s", errtext(errno));
    if (c->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        FAIL("prctl(PR_SET_NO_NEW_PRIVS): %s", errtext(errno));
}

static void apply_rlimits(struct config *c) {
    static const char *names[] = {"RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE",
                                  "RLIMIT_RSS", "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS",
                                  "RLIMIT_LOCKS", "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE", "RLIMIT_NICE",
                                  "RLIMIT_RTPRIO", "RLIMIT_RTTIME"};
    for (int i = 0; i < c->nrlimits; i++) {
        struct rlim *r = &c->rlimits[i];
        struct rlimit rl = {(rlim_t) r->soft, (rlim_t) r->hard};
        if (setrlimit(r->resource, &rl) < 0) {
            struct rlimit cur;
            getrlimit(r->resource, &cur);
            FAIL("setrlimit %s soft=%llu hard=%llu (the host allows hard=%llu): %s",
                 r->resource < 16 ? names[r->resource] : "?", r->soft, r->hard, (unsigned long long) cur.rlim_max,
                 errtext(errno));
        }
    }
}

/* Go's exec.LookPath, whose errors Docker passes on verbatim: 127 for "not found", 126 for "permission denied". */
static void lookup_and_exec(struct config *c) {
    const char *name = c->args.v[0];
    char found[PATH_MAX];
    struct stat st;
    if (strchr(name, '/')) {
        if (stat(name, &st) < 0) child_fail(127, "exec: \"%s\": stat %s: %s", name, name, errtext(errno));
        if (S_ISDIR(st.st_mode) || access(name, X_OK) < 0) child_fail(126, "exec: \"%s\": permission denied", name);
        snprintf(found, sizeof found, "%s", name);
    } else {
        const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        for (int i = 0; i < c->env.n; i++)
            if (!strncmp(c->env.v[i], "PATH=", 5)) path = c->env.v[i] + 5;
        int ok = 0;
        char copy[8192];
        snprintf(copy, sizeof copy, "%s", path);
        char *save = NULL, *dir = copy;
        for (char *p = copy;; p++) {
            if (*p == ':' || *p == 0) {
                char end = *p;
                *p = 0;
                snprintf(found, sizeof found, "%s/%s", *dir ? dir : ".", name);
                if (stat(found, &st) == 0 && !S_ISDIR(st.st_mode) && access(found, X_OK) == 0) {
                    ok = 1;
                    break;
                }
                if (!end) break;
                dir = p + 1;
            }
        }
        (void) save;
        if (!ok) child_fail(127, "exec: \"%s\": executable file not found in $PATH", name);
    }
    execve(found, c->args.v, c->env.v);
    int e = errno;
    child_fail(e == ENOENT ? 127 : (e == EACCES || e == EISDIR || e == EPERM) ? 126 : 128, "exec %s: %s", found,
               errtext(e));
}

static const int forwarded[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM, SIGCONT,
                                SIGTSTP, SIGTTIN, SIGTTOU, SIGPWR};

/*
 * --init: PID 1 stays this code (no binary needs to exist in the image), forwards signals to the command and reaps
 * every orphan; it exits with the command's status (128+n when killed by signal n), as tini and docker-init do.
 */
static void run_with_init(struct config *c) {
    sigset_t all, old;
    sigemptyset(&all);
    for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) sigaddset(&all, forwarded[i]);
    sigaddset(&all, SIGCHLD);
    sigprocmask(SIG_BLOCK, &all, &old);
    pid_t child = fork();
    if (child < 0) FAIL("fork: %s", errtext(errno));
    if (child == 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        lookup_and_exec(c);
    }
    close(g_sync);
    g_sync = -1;
    for (;;) {
        siginfo_t si;
        if (sigwaitinfo(&all, &si) < 0) continue;
        if (si.si_signo != SIGCHLD) {
            kill(child, si.si_signo);
            continue;
        }
        int st;
        pid_t p;
        while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
            if (p == child) _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
        }
    }
}

struct child_io {
    int in, out, err; /* pipes, when there is no tty */
};

/* Pipes as stdio; a TTY is made later, inside the container's devpts (open_container_pty). */
static void setup_stdio(struct child_io *io, int tty) {
    if (!tty && (dup2(io->in, 0) < 0 || dup2(io->out, 1) < 0 || dup2(io->err, 2) < 0))
        FAIL("dup2: %s", errtext(errno));
}

static void take_controlling_tty(int tty) {
    if (!tty) return;
    if (setsid() < 0) FAIL("setsid: %s", errtext(errno));
    if (ioctl(0, TIOCSCTTY, 0) < 0) FAIL("ioctl(TIOCSCTTY): %s", errtext(errno));
}

static void finish_process(struct config *c, int lastcap) {
    if (chdir(c->cwd) < 0) FAIL("chdir to cwd (\"%s\") set in config failed: %s", c->cwd, errtext(errno));
    apply_identity(c, lastcap);
    if (write_full(g_sync, "R", 1) < 0) _exit(1);
    sync_expect('G');
    umask(022);
    if (c->init) run_with_init(c);
    lookup_and_exec(c);
}

/* The container's first process: runs in the new namespaces, prepares the rootfs, becomes the command. */
static void container_child(struct config *c, struct child_io *io, int netns_fd) {
    close(g_done_fd);
    umask(0);
    sync_expect('C'); /* now in the cgroup, so the cgroup namespace gets rooted there */
    int lastcap = last_cap();
    setup_stdio(io, c->tty);
    if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) FAIL("close_range: %s", errtext(errno));
    if (unshare(CLONE_NEWCGROUP) < 0) FAIL("unshare(CLONE_NEWCGROUP): %s", errtext(errno));
    if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) < 0) FAIL("setns `%s`: %s", c->netns, errtext(errno));
    setup_rootfs(c);
    take_controlling_tty(c->tty);
    if (c->hostname && sethostname(c->hostname, strlen(c->hostname)) < 0)
        FAIL("sethostname `%s`: %s", c->hostname, errtext(errno));
    apply_rlimits(c);
    finish_process(c, lastcap);
}

/* ------------------------------------------------------------------------------------------------ shim side */

struct client {
    int fd;
    char mode; /* 0 until the hello byte arrives; 'a' attach, 'w' wait */
    char *buf;
    size_t len;
    int in_closed;
};

struct logstream {
    char buf[LINE_MAX_BYTES];
    size_t len;
    const char *name;
};

static struct {
    struct config cfg;
    const char *dir;
    int report; /* fd to the agent, until started */
    int listen_fd;
    struct client clients[MAX_CLIENTS];
    int nclients;
    int log_fd;
    long long log_size;
    struct logstream ls[2];
    int stdin_w;  /* pipe to the container's stdin, or the pty master, or -1 */
    char *stdin_buf;
    size_t stdin_len;
    int stdin_closing;
    int pty_master;
} S;

static void report(const char *fmt, ...) {
    if (S.report < 0) return;
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    /* One line per report: newlines inside a message become spaces. */
    for (char *p = buf; *p; p++)
        if (*p == '\n' && p[1]) *p = ' ';
    write_full(S.report, buf, strlen(buf));
}

static void log_open(void) {
    S.log_fd = open(S.cfg.log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (S.log_fd < 0) {
        logmsg("open log `%s`: %s", S.cfg.log_path, strerror(errno));
        return;
    }
    struct stat st;
    S.log_size = fstat(S.log_fd, &st) == 0 ? st.st_size : 0;
}

/* Docker's rotation: <log>.1 is the newest rotated file; max-file counts the live one too. */
static void log_rotate(void) {
    char from[PATH_MAX], to[PATH_MAX];
    close(S.log_fd);
    if (S.cfg.log_max_files <= 1) {
        if (truncate(S.cfg.log_path, 0) < 0) logmsg("truncate `%s`: %s", S.cfg.log_path, strerror(errno));
    } else {
        snprintf(to, sizeof to, "%s.%d", S.cfg.log_path, S.cfg.log_max_files - 1);
        unlink(to);
        for (int i = S.cfg.log_max_files - 2; i >= 1; i--) {
            snprintf(from, sizeof from, "%s.%d", S.cfg.log_path, i);
            snprintf(to, sizeof to, "%s.%d", S.cfg.log_path, i + 1);
            rename(from, to);
        }
        snprintf(to, sizeof to, "%s.1", S.cfg.log_path);
        if (rename(S.cfg.log_path, to) < 0) logmsg("rename `%s`: %s", S.cfg.log_path, strerror(errno));
    }
    log_open();
}

/* JSON string body as Go's encoding/json writes it: HTML-safe, invalid UTF-8 replaced by U+FFFD. */
static size_t json_escape(const unsigned char *s, size_t n, char *out) {
    size_t o = 0;
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n;) {
        unsigned char ch = s[i];
        if (ch < 0x80) {
            if (ch == '"' || ch == '\\') {
                out[o++] = '\\';
                out[o++] = (char) ch;
            } else if (ch == '\n') {
                out[o++] = '\\';
                out[o++] = 'n';
            } else if (ch == '\r') {
                out[o++] = '\\';
                out[o++] = 'r';
            } else if (ch == '\t') {
                out[o++] = '\\';
                out[o++] = 't';
            } else if (ch < 0x20 || ch == '<' || ch == '>' || ch == '&') {
                memcpy(out + o, "\\u00", 4);
                o += 4;
                out[o++] = hex[ch >> 4];
                out[o++] = hex[ch & 15];
            } else {
                out[o++] = (char) ch;
            }
            i++;
            continue;
        }
        int len = ch >= 0xf0 && ch < 0xf5 ? 4 : ch >= 0xe0 ? 3 : ch >= 0xc2 && ch < 0xe0 ? 2 : 0;
        int valid = len > 0 && i + (size_t) len <= n;
        for (int k = 1; valid && k < len; k++)
            if ((s[i + k] & 0xc0) != 0x80) valid = 0;
        if (valid) {
            uint32_t cp = len == 2 ? (uint32_t) (ch & 0x1f) : len == 3 ? (uint32_t) (ch & 0x0f) : (uint32_t) (ch & 0x07);
            for (int k = 1; k < len; k++) cp = (cp << 6) | (s[i + k] & 0x3f);
            if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
                valid = 0;
            else if (cp == 0x2028 || cp == 0x2029) {
                o += (size_t) sprintf(out + o, "\\u%04x", cp);
                i += (size_t) len;
                continue;
            }
        }
        if (!valid) {
            memcpy(out + o, "\\ufffd", 6);
            o += 6;
            i++;
            continue;
        }
        memcpy(out + o, s + i, (size_t) len);
        o += (size_t) len;
        i += (size_t) len;
    }
    return o;
}

static void log_entry(struct logstream *ls, const char *data, size_t n) {
    if (S.log_fd < 0 || n == 0) return;
    static char line[LINE_MAX_BYTES * 6 + 256];
    char ts[64];
    rfc3339nano(ts, sizeof ts);
    size_t o = (size_t) sprintf(line, "{\"log\":\"");
    o += json_escape((const unsigned char *) data, n, line + o);
    o += (size_t) sprintf(line + o, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", ls->name, ts);
    if (S.cfg.log_max_size > 0 && S.log_size > 0 && S.log_size + (long long) o > S.cfg.log_max_size) log_rotate();
    if (S.log_fd >= 0 && write_full(S.log_fd, line, o) == 0) S.log_size += (long long) o;
}

/* Lines (with their newline) become entries; a line longer than 16 KiB is split, as Docker does. */
static void log_feed(struct logstream *ls, const char *data, size_t n) {
    for (size_t i = 0; i < n; i++) {
        ls->buf[ls->len++] = data[i];
        if (data[i] == '\n' || ls->len == sizeof ls->buf) {
            log_entry(ls, ls->buf, ls->len);
            ls->len = 0;
        }
    }
}

static void log_flush(struct logstream *ls) {
    log_entry(ls, ls->buf, ls->len);
    ls->len = 0;
}

static void client_drop(int i) {
    close(S.clients[i].fd);
    free(S.clients[i].buf);
    S.clients[i] = S.clients[--S.nclients];
}

static int client_queue(struct client *cl, const char *data, size_t n) {
    if (cl->len + n > CLIENT_BUF_MAX) return -1; /* a reader this slow is dropped, not waited for */
    char *nb = realloc(cl->buf, cl->len + n);
    if (!nb) return -1;
    cl->buf = nb;
    memcpy(cl->buf + cl->len, data, n);
    cl->len += n;
    return 0;
}

/* Output to attach clients in Docker's stdcopy framing: [stream,0,0,0,len(be32)] + payload. */
static void broadcast(int stream, const char *data, size_t n) {
    unsigned char hdr[8] = {(unsigned char) stream, 0, 0, 0, (unsigned char) (n >> 24), (unsigned char) (n >> 16),
                            (unsigned char) (n >> 8), (unsigned char) n};
    for (int i = 0; i < S.nclients; i++) {
        struct client *cl = &S.clients[i];
        if (cl->mode != 'a') continue;
        if (client_queue(cl, (char *) hdr, 8) < 0 || client_queue(cl, data, n) < 0) {
            logmsg("attach client too slow, dropped");
            client_drop(i--);
        }
    }
}

static void client_flush(int i) {
    struct client *cl = &S.clients[i];
    while (cl->len > 0) {
        ssize_t n = send(cl->fd, cl->buf, cl->len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) return;
            client_drop(i);
            return;
        }
        memmove(cl->buf, cl->buf + n, cl->len - (size_t) n);
        cl->len -= (size_t) n;
    }
}

static void close_stdin(void) {
    if (S.stdin_w < 0) return;
    if (S.pty_master >= 0) {
        /* A terminal has no half-close: end-of-file is the EOF character at the start of a line. */
        static const char eot = 4;
        if (write(S.pty_master, &eot, 1) < 0) logmsg("write EOT: %s", strerror(errno));
    } else {
        close(S.stdin_w);
    }
    S.stdin_w = -1;
}

static void client_read(int i) {
    struct client *cl = &S.clients[i];
    char buf[65536];
    size_t room = STDIN_BUF_MAX - S.stdin_len;
    if (cl->mode == 'a' && room == 0) return;
    ssize_t n = recv(cl->fd, buf, cl->mode == 'a' && room < sizeof buf ? room : sizeof buf, MSG_DONTWAIT);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        client_drop(i);
        return;
    }
    if (n == 0) {
        cl->in_closed = 1;
        if (cl->mode == 'a' && S.cfg.stdin_once) S.stdin_closing = 1;
        if (cl->mode == 0) client_drop(i);
        return;
    }
    size_t off = 0;
    if (cl->mode == 0) {
        cl->mode = buf[0] == 'w' ? 'w' : 'a';
        off = 1;
    }
    if (cl->mode == 'a' && S.stdin_w >= 0 && (size_t) n > off) {
        memcpy(S.stdin_buf + S.stdin_len, buf + off, (size_t) n - off);
        S.stdin_len += (size_t) n - off;
    }
}

static void stdin_pump(void) {
    while (S.stdin_len > 0 && S.stdin_w >= 0) {
        ssize_t n = write(S.stdin_w, S.stdin_buf, S.stdin_len);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) return;
            S.stdin_len = 0; /* the process closed its stdin */
            close_stdin();
            return;
        }
        memmove(S.stdin_buf, S.stdin_buf + n, S.stdin_len - (size_t) n);
        S.stdin_len -= (size_t) n;
    }
    if (S.stdin_len == 0 && S.stdin_closing) close_stdin();
}

static void accept_clients(void) {
    for (;;) {
        int fd = accept4(S.listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) return;
        if (S.nclients == MAX_CLIENTS) {
            close(fd);
            continue;
        }
        S.clients[S.nclients++] = (struct client){fd, 0, NULL, 0, 0};
        /* A client connected before "go" has already sent its hello byte: take it now, before any output. */
        client_read(S.nclients - 1);
    }
}

static void set_nonblock(int fd) {
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int make_listener(const char *name) {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", name);
    unlink(name);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen(fd, 64) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The container (or exec) process has exited: pass on the last output, record the status, close everything. */
__attribute__((noreturn)) static void finish(int status, int out_fd, int err_fd) {
    char buf[65536];
    int fds[2] = {out_fd, err_fd};
    /* The pipes close once every process of the container is gone; give stragglers a bounded moment. */
    for (int k = 0; k < 2; k++) {
        if (fds[k] < 0) continue;
        for (int rounds = 0; rounds < 200; rounds++) {
            struct pollfd pf = {fds[k], POLLIN, 0};
            if (poll(&pf, 1, 10) <= 0) {
                if (rounds > 50) break;
                continue;
            }
            ssize_t n = read(fds[k], buf, sizeof buf);
            if (n <= 0) break;
            int stream = S.pty_master >= 0 ? 1 : k + 1;
            if (S.cfg.log_path) log_feed(&S.ls[k], buf, (size_t) n);
            broadcast(stream, buf, (size_t) n);
        }
    }
    if (S.cfg.log_path) {
        log_flush(&S.ls[0]);
        log_flush(&S.ls[1]);
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    char ts[64], content[256];
    rfc3339nano(ts, sizeof ts);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    snprintf(content, sizeof content, "exit_code %d\nsignal %d\nfinished %s\nfinished_ns %lld\n", code,
             WIFSIGNALED(status) ? WTERMSIG(status) : 0, ts, (long long) now.tv_sec * 1000000000LL + now.tv_nsec);
    if (write_file_atomic("exit", content) < 0) logmsg("write exit file: %s", strerror(errno));
    /* Attach clients get what is queued (bounded wait), then the end of the stream. */
    for (int rounds = 0; rounds < 500; rounds++) {
        int pending = 0;
        for (int i = 0; i < S.nclients; i++) {
            client_flush(i);
            if (i < S.nclients && S.clients[i].len) pending = 1;
        }
        if (!pending) break;
        poll(NULL, 0, 10);
    }
    for (int i = 0; i < S.nclients; i++) {
        shutdown(S.clients[i].fd, SHUT_RDWR);
        close(S.clients[i].fd);
    }
    unlink("attach");
    _exit(0);
}

/* Reads one message of the child: 'R', 'P'+pid, 'E'+code+message; returns the type, 0 on EOF. */
static char read_sync(int fd, int *num, char *msg, size_t msglen) {
    char t;
    struct iovec iov = {&t, 1};
    char ctl[CMSG_SPACE(sizeof(int))];
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    ssize_t n;
    do {
        n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return 0;
    if (t == 'T') {
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        if (!cm || cm->cmsg_type != SCM_RIGHTS) return 0;
        memcpy(num, CMSG_DATA(cm), sizeof(int));
    } else if (t == 'P') {
        if (read_full(fd, num, 4) != 4) return 0;
    } else if (t == 'E') {
        char hdr[6];
        uint16_t len;
        if (read_full(fd, hdr, 6) != 6) return 0;
        memcpy(num, hdr, 4);
        memcpy(&len, hdr + 4, 2);
        size_t take = len < msglen - 1 ? len : msglen - 1;
        if (read_full(fd, msg, take) != (ssize_t) take) return 0;
        msg[take] = 0;
    }
    return t;
}

static void join_cgroup(pid_t pid) {
    char num[32];
    snprintf(num, sizeof num, "%d", pid);
    for (int i = 0; i < S.cfg.procs.n; i++) {
        int fd = open(S.cfg.procs.v[i], O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write_full(fd, num, strlen(num)) < 0) {
            int e = errno;
            if (fd >= 0) close(fd);
            report("error 1 join cgroup: write %s to `%s`: %s\n", num, S.cfg.procs.v[i], errtext(e));
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            _exit(1);
        }
        close(fd);
    }
}

/* Cleans up first, then reports: once the agent reads the error, nothing of this start is left. */
static void fail_start(pid_t pid, int code, const char *msg) {
    logmsg("start failed: %s", msg);
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    unlink("attach");
    report("error %d %s\n", code, msg);
    _exit(1);
}

/* Waits for "go" from the agent; EOF or anything else aborts. */
static int wait_go(void) {
    char line[16] = {0};
    size_t n = 0;
    while (n < sizeof line - 1) {
        ssize_t r = read(0, line + n, 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        if (line[n] == '\n') break;
        n++;
    }
    line[n] = 0;
    return strcmp(line, "go") == 0 ? 0 : -1;
}

static void write_pidfile(const char *name, pid_t pid) {
    char buf[32];
    snprintf(buf, sizeof buf, "%d\n", pid);
    if (write_file_atomic(name, buf) < 0) logmsg("write `%s`: %s", name, strerror(errno));
}

static void apply_winsize(void) {
    if (S.pty_master < 0) return;
    int fd = open("winsize", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    char buf[64] = {0};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    unsigned rows, cols;
    if (n > 0 && sscanf(buf, "%u %u", &rows, &cols) == 2) {
        struct winsize ws = {(unsigned short) rows, (unsigned short) cols, 0, 0};
        ioctl(S.pty_master, TIOCSWINSZ, &ws);
    }
}

static int shim_main(int exec_mode) {
    char err[4096];
    struct config *c = &S.cfg;
    if (load_config("config", c, err, sizeof err) < 0) {
        report("error 1 %s\n", err);
        return 1;
    }
    if (exec_mode && !c->target_pid) {
        report("error 1 config: exec needs the container's pid\n");
        return 1;
    }
    S.ls[0].name = "stdout";
    S.ls[1].name = "stderr";
    S.pty_master = -1;
    S.stdin_w = -1;
    S.log_fd = -1;
    S.stdin_buf = xmalloc(STDIN_BUF_MAX);
    if (c->log_path) log_open();

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGWINCH);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);

    struct child_io io = {-1, -1, -1};
    int out_r = -1, err_r = -1;
    if (!c->tty) {
        int po[2], pe[2], pi[2];
        if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
            report("error 1 pipe: %s\n", errtext(errno));
            return 1;
        }
        out_r = po[0];
        err_r = pe[0];
        io.out = po[1];
        io.err = pe[1];
        if (c->open_stdin) {
            if (pipe2(pi, O_CLOEXEC) < 0) {
                report("error 1 pipe: %s\n", errtext(errno));
                return 1;
            }
            io.in = pi[0];
            S.stdin_w = pi[1];
            set_nonblock(S.stdin_w);
        } else {
            io.in = open("/dev/null", O_RDONLY | O_CLOEXEC);
        }
    }

    S.listen_fd = make_listener("attach");
    if (S.listen_fd < 0) {
        report("error 1 listen on `%s/attach`: %s\n", S.dir, errtext(errno));
        return 1;
    }

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        report("error 1 socketpair: %s\n", errtext(errno));
        return 1;
    }
    pid_t pid, helper = -1;
    if (!exec_mode) {
        int netns_fd = -1;
        unsigned long flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC;
        if (!c->netns || !strcmp(c->netns, "new")) flags |= CLONE_NEWNET;
        else if (strcmp(c->netns, "host") != 0) {
            netns_fd = open(c->netns, O_RDONLY | O_CLOEXEC);
            if (netns_fd < 0) {
                report("error 1 open network namespace `%s`: %s\n", c->netns, errtext(errno));
                return 1;
            }
        }
        pid = (pid_t) syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
        if (pid < 0) {
            report("error 1 clone(0x%lx): %s\n", flags, errtext(errno));
            return 1;
        }
        if (pid == 0) {
            close(sv[0]);
            g_sync = sv[1];
            container_child(c, &io, netns_fd);
        }
        if (netns_fd >= 0) close(netns_fd);
    } else {
        /* Namespaces of the running container, opened while its init is known to be that process. */
        static const struct { const char *name; int type; } ns[] = {
            {"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
            {"net", CLONE_NEWNET},       {"pid", CLONE_NEWPID}, {"mnt", CLONE_NEWNS}};
        int nsfd[6];
        for (int i = 0; i < 6; i++) {
            char p[64];
            snprintf(p, sizeof p, "/proc/%d/ns/%s", c->target_pid, ns[i].name);
            nsfd[i] = open(p, O_RDONLY | O_CLOEXEC);
            if (nsfd[i] < 0) {
                report("error 1 open `%s`: %s (is the container running?)\n", p, errtext(errno));
                return 1;
            }
        }
        helper = fork();
        if (helper < 0) {
            report("error 1 fork: %s\n", errtext(errno));
            return 1;
        }
        if (helper == 0) {
            close(g_done_fd);
            close(sv[0]);
            g_sync = sv[1];
            umask(0);
            sync_expect('C');
            int lastcap = last_cap();
            setup_stdio(&io, c->tty);
            for (int i = 0; i < 6; i++) {
                if (setns(nsfd[i], ns[i].type) < 0)
                    FAIL("setns %s of pid %d: %s", ns[i].name, c->target_pid, errtext(errno));
            }
            if (c->tty) {
                char slave[PATH_MAX];
                open_container_pty("/dev/pts", c->uid, slave, sizeof slave);
            }
            /* A new PID namespace applies to children only; CLONE_PARENT makes the shim their parent. */
            pid_t gc = (pid_t) syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);
            if (gc < 0) FAIL("clone into the container: %s", errtext(errno));
            if (gc > 0) {
                char msg[5] = {'P'};
                memcpy(msg + 1, &gc, 4);
                write_full(g_sync, msg, 5);
                _exit(0);
            }
            take_controlling_tty(c->tty);
            if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) FAIL("close_range: %s", errtext(errno));
            finish_process(c, lastcap);
        }
        for (int i = 0; i < 6; i++) close(nsfd[i]);
        pid = helper;
    }
    close(sv[1]);
    if (io.in >= 0) close(io.in);
    if (io.out >= 0) close(io.out);
    if (io.err >= 0) close(io.err);

    join_cgroup(pid);
    if (write_full(sv[0], "C", 1) < 0) fail_start(pid, 1, "the container process died during setup");
    int num = 0;
    char msg[2048] = "";
    char t;
    /* Before 'R': the pty master ('T', exec: also the process's PID 'P'). */
    while ((t = read_sync(sv[0], &num, msg, sizeof msg)) == 'T' || t == 'P') {
        if (t == 'T') {
            S.pty_master = num;
            out_r = num;
            if (c->open_stdin) S.stdin_w = num;
            if (c->rows && c->cols) {
                struct winsize ws = {c->rows, c->cols, 0, 0};
                ioctl(num, TIOCSWINSZ, &ws);
            }
        } else {
            waitpid(helper, NULL, 0);
            pid = num;
        }
    }
    if (t == 'E') fail_start(pid, num, msg);
    if (t != 'R') fail_start(pid, 1, "the container process died during setup");
    write_pidfile(exec_mode ? "pid" : "init.pid", pid);
    report("ready %d\n", pid);
    if (wait_go() < 0) fail_start(pid, 1, "aborted by the agent before start");
    accept_clients();
    if (write_full(sv[0], "G", 1) < 0) fail_start(pid, 1, "the container process died before exec");
    t = read_sync(sv[0], &num, msg, sizeof msg);
    if (t == 'E') {
        /* The process exits with Docker's code: record it as the exit status too, as Docker does. */
        int st;
        waitpid(pid, &st, 0);
        char content[2400];
        snprintf(content, sizeof content, "exit_code %d\nsignal 0\nstart_error %s\n", num, msg);
        write_file_atomic("exit", content);
        unlink("attach");
        report("error %d %s\n", num, msg);
        _exit(1);
    }
    close(sv[0]);
    report("started %d\n", pid);
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    dup2(devnull, 0);
    dup2(devnull, 1);
    close(devnull);
    S.report = -1;
    close(g_done_fd);

    if (out_r >= 0) set_nonblock(out_r);
    if (err_r >= 0) set_nonblock(err_r);
    int status = 0, exited = 0;
    for (;;) {
        struct pollfd pf[4 + MAX_CLIENTS];
        int n = 0;
        pf[n++] = (struct pollfd){sigfd, POLLIN, 0};
        pf[n++] = (struct pollfd){S.listen_fd, POLLIN, 0};
        pf[n++] = (struct pollfd){out_r, POLLIN, 0};
        pf[n++] = (struct pollfd){err_r, POLLIN, 0};
        int stdin_pf = -1;
        if (S.stdin_w >= 0 && S.stdin_len > 0 && S.pty_master < 0) {
            stdin_pf = n;
            pf[n++] = (struct pollfd){S.stdin_w, POLLOUT, 0};
        }
        int base = n;
        for (int i = 0; i < S.nclients; i++) {
            /* While the process does not take its stdin, stop reading attach clients instead of spinning. */
            int full = S.clients[i].mode == 'a' && S.stdin_len >= STDIN_BUF_MAX;
            short ev = S.clients[i].in_closed || full ? 0 : POLLIN;
            if (S.clients[i].len) ev |= POLLOUT;
            pf[n++] = (struct pollfd){S.clients[i].fd, ev, 0};
        }
        int timeout = S.stdin_len > 0 && S.pty_master >= 0 ? 10 : -1;
        if (poll(pf, (nfds_t) n, timeout) < 0) {
            if (errno == EINTR) continue;
            logmsg("poll: %s", strerror(errno));
            continue;
        }
        if (pf[0].revents) {
            struct signalfd_siginfo si;
            while (read(sigfd, &si, sizeof si) == sizeof si) {
                if (si.ssi_signo == SIGWINCH) apply_winsize();
            }
            int st;
            pid_t w;
            while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
                if (w == pid) {
                    status = st;
                    exited = 1;
                }
            }
        }
        if (exited) finish(status, out_r, err_r);
        /* Clients first, so output produced at once after exec still finds those connected before "go". */
        if (pf[1].revents) accept_clients();
        for (int k = 0; k < 2; k++) {
            if (!(pf[2 + k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[65536];
            ssize_t r = read(pf[2 + k].fd, buf, sizeof buf);
            if (r > 0) {
                if (c->log_path) log_feed(&S.ls[k], buf, (size_t) r);
                broadcast(k + 1, buf, (size_t) r);
            } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                /* EOF (or EIO on a pty whose last slave closed): stop polling it. */
                if (k == 0) out_r = -1;
                else err_r = -1;
            }
        }
        (void) stdin_pf;
        for (int i = S.nclients - 1; i >= 0; i--) {
            short re = pf[base + i].revents;
            if (re & POLLOUT) client_flush(i);
            if (i < S.nclients && (re & (POLLIN | POLLHUP | POLLERR))) client_read(i);
        }
        stdin_pump();
    }
}

/* The agent's child exits at once; the shim lives on in its own session, re-parented to init (or a subreaper). */
int main(int argc, char **argv) {
    if (argc != 3 || (strcmp(argv[1], "run") != 0 && strcmp(argv[1], "exec") != 0)) {
        fprintf(stderr, "usage: berth-shim run <bundle-dir> | berth-shim exec <exec-dir>\n");
        return 2;
    }
    S.dir = argv[2];
    S.report = 1;
    if (chdir(S.dir) < 0) {
        printf("error 1 chdir `%s`: %s\n", S.dir, errtext(errno));
        return 1;
    }
    /*
     * The agent's child must outlive the conversation: Java drains and closes a child's pipes as soon as it exits.
     * It waits for EOF on this pipe, whose write end only the shim keeps until its last report.
     */
    int done[2];
    if (pipe2(done, O_CLOEXEC) < 0) {
        printf("error 1 pipe: %s\n", errtext(errno));
        return 1;
    }
    pid_t first = fork();
    if (first < 0) {
        printf("error 1 fork: %s\n", errtext(errno));
        return 1;
    }
    if (first > 0) {
        close(done[1]);
        char b;
        while (read(done[0], &b, 1) < 0 && errno == EINTR) {
        }
        int st;
        waitpid(first, &st, 0);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
    }
    close(done[0]);
    g_done_fd = done[1];
    if (setsid() < 0) _exit(1);
    pid_t second = fork();
    if (second < 0) {
        printf("error 1 fork: %s\n", errtext(errno));
        _exit(1);
    }
    if (second > 0) _exit(0);
    write_pidfile("shim.pid", getpid());
    _exit(shim_main(strcmp(argv[1], "exec") == 0));
}
