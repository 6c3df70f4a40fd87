// modkit/modkit.h - the stable ABI: everything a module or a host needs, without categories.
#pragma once

#include "cache.h"
#include "call.h"
#include "category.h"
#include "host.h"
#include "log.h"
#include "manifest.h"
#include "module.h"
#include "status.h"
#include "str.h"
#include "version.h"
#include "web.h"
