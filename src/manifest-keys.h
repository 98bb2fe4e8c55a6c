/* manifest-keys.h - placeholder */
#pragma once
