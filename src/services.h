/* services.h - the services berth manages on this host: directories under /var/lib/berth that
 * have a current release. Each release keeps the manifest it was deployed with. */
#pragma once

#include "manifest.h"

/* Sorted names; an empty list if none. */
int services_list(char ***ret);
/* True if berth manages name (a current release exists). */
bool service_exists(const char *name);
/* The manifest of the current release (/var/lib/berth/NAME/current/manifest.ini). */
int service_load_manifest(const char *name, struct manifest **ret);
