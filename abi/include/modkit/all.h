// modkit/all.h - the stable ABI plus every standard category.
#pragma once

#include "modkit.h"

#include "categories/objects.h"
#include "categories/spam_checker.h"
