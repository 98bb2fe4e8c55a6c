/* manifest-keys.c - placeholder, being written */
