// modkit/all.h - the stable ABI plus every standard category and standard service.
#pragma once

#include "modkit.h"

#include "categories/objects.h"
#include "categories/spam_checker.h"
#include "categories/third_party_rules.h"
#include "categories/presence_router.h"
#include "categories/account_validity.h"
#include "categories/password_auth_provider.h"
#include "categories/background_update_controller.h"
#include "categories/account_data.h"
#include "categories/extra_unsigned_fields.h"
#include "categories/media_repository.h"
#include "categories/ratelimit.h"
#include "categories/federation.h"

#include "services/timers.h"
#include "services/tasks.h"
#include "services/http.h"
#include "services/storage.h"
#include "services/metrics.h"
