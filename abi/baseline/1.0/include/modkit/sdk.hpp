// modkit/sdk.hpp - the C++ SDK for writing modkit modules: include this one header.
#pragma once

#include <modkit/sdk/api.hpp>
#include <modkit/sdk/cached.hpp>
#include <modkit/sdk/call.hpp>
#include <modkit/sdk/callback.hpp>
#include <modkit/sdk/categories/account_data.hpp>
#include <modkit/sdk/categories/account_validity.hpp>
#include <modkit/sdk/categories/background_update_controller.hpp>
#include <modkit/sdk/categories/extra_unsigned_fields.hpp>
#include <modkit/sdk/categories/federation.hpp>
#include <modkit/sdk/categories/media_repository.hpp>
#include <modkit/sdk/categories/objects.hpp>
#include <modkit/sdk/categories/password_auth_provider.hpp>
#include <modkit/sdk/categories/presence_router.hpp>
#include <modkit/sdk/categories/ratelimit.hpp>
#include <modkit/sdk/categories/spam_checker.hpp>
#include <modkit/sdk/categories/third_party_rules.hpp>
#include <modkit/sdk/category.hpp>
#include <modkit/sdk/error.hpp>
#include <modkit/sdk/log.hpp>
#include <modkit/sdk/module.hpp>
#include <modkit/sdk/str.hpp>
#include <modkit/sdk/version.hpp>
#include <modkit/sdk/web.hpp>
