/* elf.c - placeholder, being written */
