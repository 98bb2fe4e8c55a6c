/* binary.c - reading a service binary once, and the rules for accepting it */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "binary.h"
#include "macro.h"
#include "strv.h"

#define READ_CHUNK (1U << 20)

static int write_full(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? negative_errno() : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static bool same_file_state(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

int binary_image_read(const char *path, struct binary_image *ret)
{
	_cleanup_close_ int in = -1, mem = -1;
	_cleanup_free_ uint8_t *buf = NULL;
	struct binary_image img = { .fd = -1 };
	struct sha256_ctx c;
	struct stat after;
	int r;

	if (isempty(path) || !ret)
		return -EINVAL;
	/* O_NONBLOCK: a FIFO planted at path must not hang us; it is refused below */
	in = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (in < 0)
		return negative_errno();
	if (fstat(in, &img.source) < 0)
		return negative_errno();
	if (S_ISDIR(img.source.st_mode))
		return -EISDIR;
	if (!S_ISREG(img.source.st_mode))
		return -EINVAL;
	if ((uint64_t)img.source.st_size > BINARY_SIZE_MAX)
		return -EFBIG;

	mem = memfd_create("berth-binary", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	buf = malloc(READ_CHUNK);
	if (mem < 0 || !buf)
		return mem < 0 ? negative_errno() : -ENOMEM;
	sha256_init(&c);
	for (;;) {
		ssize_t n = read(in, buf, READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negative_errno();
		if (n == 0)
			break;
		img.size += (uint64_t)n;
		if (img.size > BINARY_SIZE_MAX)
			return -EFBIG;
		sha256_update(&c, (size_t)n, buf);
		r = write_full(mem, buf, (size_t)n);
		if (r < 0)
			return r;
	}
	if (fstat(in, &after) < 0)
		return negative_errno();
	if (!same_file_state(&img.source, &after) || img.size != (uint64_t)after.st_size)
		return -ESTALE;
	/* from here on nobody can change these bytes, not even us */
	if (fcntl(mem, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		return negative_errno();
	sha256_hex_digest(&c, img.sha256);
	img.fd = TAKE_FD(mem);
	*ret = img;
	return 0;
}

void binary_image_release(struct binary_image *img)
{
	if (!img)
		return;
	if (img->fd >= 0)
		(void)close(img->fd);
	*img = (struct binary_image){ .fd = -1 };
}

static int refuse(struct binary_verdict *v, const char *fmt, ...) _printf_(2, 3);
static int refuse(struct binary_verdict *v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&v->error, fmt, ap) < 0)
		v->error = NULL;
	va_end(ap);
	return v->error ? 0 : -ENOMEM;
}

/* The rules, on bytes in memory. */
static int judge(const void *data, size_t size, mode_t mode, struct binary_verdict *ret)
{
	struct binary_verdict v = { 0 };
	int r;

	v.warnings = calloc(1, sizeof(char *));
	if (!v.warnings)
		return -ENOMEM;

	r = size == 0 ? -EBADMSG : elf_inspect(data, size, &v.info);
	if (r == -ENOEXEC) {
		r = refuse(&v, "not an ELF executable (a script or a binary for another OS?)");
		goto done;
	}
	if (r == -EBADMSG) {
		r = refuse(&v, "a damaged or truncated ELF file");
		goto done;
	}
	if (r < 0) {
		free(v.warnings);
		return r;
	}

	const char *host = elf_host_arch();
	if (!v.info.arch || !host || !streq(v.info.arch, host)) {
		r = refuse(&v,
			   "built for %s (%s, %d-bit) but this host is %s: rebuild with "
			   "GOOS=linux GOARCH=%s go build",
			   v.info.arch ? v.info.arch : "an unknown architecture",
			   elf_machine_name(v.info.machine), v.info.elf_class, host ? host : "unknown",
			   host ? host : "<arch>");
		goto done;
	}
	if (v.info.is_go && v.info.go.goos && !streq(v.info.go.goos, "linux")) {
		r = refuse(&v, "a Go binary for GOOS=%s: rebuild with GOOS=linux GOARCH=%s go build",
			   v.info.go.goos, host);
		goto done;
	}
	if (v.info.interpreter && access(v.info.interpreter, X_OK) < 0) {
		r = refuse(&v,
			   "dynamically linked against %s, which this host does not have: rebuild "
			   "statically with CGO_ENABLED=0",
			   v.info.interpreter);
		goto done;
	}
	if (!(mode & 0111)) {
		/* installed releases get 0755 anyway; say so but do not refuse */
		r = strv_extend(&v.warnings, "the file is not executable (the installed copy will be)");
		if (r < 0)
			goto done;
	}
	if (!v.info.is_go)
		r = strv_extend(&v.warnings, "not a Go program (no Go build info): the [go] settings are ignored");
	else if (v.info.interpreter)
		r = strv_extend(&v.warnings, "dynamically linked (cgo): it depends on the host's C library");
done:
	if (r < 0) {
		binary_verdict_release(&v);
		return r;
	}
	*ret = v;
	return 0;
}

int binary_judge_image(const struct binary_image *img, struct binary_verdict *ret)
{
	if (!img || img->fd < 0)
		return -EINVAL;
	if (img->size == 0)
		return judge(NULL, 0, img->source.st_mode, ret);
	/* sealed against writes and shrinking: this mapping cannot fault */
	void *data = mmap(NULL, img->size, PROT_READ, MAP_PRIVATE, img->fd, 0);
	if (data == MAP_FAILED)
		return negative_errno();
	int r = judge(data, img->size, img->source.st_mode, ret);
	(void)munmap(data, img->size);
	return r;
}

int binary_read_and_judge(const char *path, struct binary_image *ret_image, struct binary_verdict *ret)
{
	struct binary_image img = { .fd = -1 };
	int r = binary_image_read(path, &img);
	if (r == -EINVAL) {
		/* a FIFO, device or socket: a verdict, not a read error */
		struct binary_verdict v = { .warnings = calloc(1, sizeof(char *)) };
		if (!v.warnings)
			return -ENOMEM;
		r = refuse(&v, "not a regular file");
		if (r < 0) {
			binary_verdict_release(&v);
			return r;
		}
		*ret_image = img;
		*ret = v;
		return 0;
	}
	if (r < 0)
		return r;
	r = binary_judge_image(&img, ret);
	if (r < 0) {
		binary_image_release(&img);
		return r;
	}
	*ret_image = img;
	return 0;
}

int binary_judge(const char *path, struct binary_verdict *ret)
{
	_cleanup_(binary_image_release) struct binary_image img = { .fd = -1 };
	return binary_read_and_judge(path, &img, ret);
}

int binary_judge_release(const char *path, struct binary_verdict *ret)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	if (isempty(path) || !ret)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return negative_errno();
	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((uint64_t)st.st_size > BINARY_SIZE_MAX)
		return -EFBIG;
	if (st.st_size == 0)
		return judge(NULL, 0, st.st_mode, ret);
	void *data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (data == MAP_FAILED)
		return negative_errno();
	r = judge(data, (size_t)st.st_size, st.st_mode, ret);
	(void)munmap(data, (size_t)st.st_size);
	return r;
}

void binary_verdict_release(struct binary_verdict *v)
{
	elf_info_release(&v->info);
	free(v->error);
	v->error = NULL;
	v->warnings = strv_free(v->warnings);
}
