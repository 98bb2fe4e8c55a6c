/* fuzz-elf.c - the ELF and Go build-info reader never reads outside the buffer and never
 * crashes; what it accepts is self-consistent. */
#include <errno.h>
#include <string.h>

#include "elf.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf_info info;
	/* a copy of exactly size bytes: ASan sees any read past the end */
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	int r = elf_inspect(copy, size, &info);
	fuzz_assert(r == 0 || r == -ENOEXEC || r == -EBADMSG || r == -ENOMEM);
	if (r == 0) {
		fuzz_assert(info.elf_class == 32 || info.elf_class == 64);
		fuzz_assert(!info.is_go || info.go.go_version);
		elf_info_release(&info);
		elf_info_release(&info); /* twice: it leaves the struct zeroed */
	}
	free(copy);
	return 0;
}
