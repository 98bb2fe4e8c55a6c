/* fuzz-load.c - fuzz input as a manifest file berth can open by path (a memfd) */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "manifest.h"

int fuzz_manifest_load(const uint8_t *data, size_t size, struct manifest **ret, struct manifest_diags *diags);

int fuzz_manifest_load(const uint8_t *data, size_t size, struct manifest **ret, struct manifest_diags *diags)
{
	char path[64];
	int fd = memfd_create("fuzz.ini", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return -EIO;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int r = manifest_load(path, ret, diags);
	close(fd);
	return r;
}

