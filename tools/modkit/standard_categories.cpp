#include "standard_categories.hpp"

#include <modkit/all.h>

namespace modkit::cli {

const std::vector<StandardCategory> &standard_categories() {
   // One line per category header in modkit/all.h.
   static const std::vector<StandardCategory> categories = {
      {"modkit/categories/spam_checker.h", modkit_spam_checker_category},
      {"modkit/categories/third_party_rules.h", modkit_third_party_rules_category},
      {"modkit/categories/presence_router.h", modkit_presence_router_category},
      {"modkit/categories/account_validity.h", modkit_account_validity_category},
      {"modkit/categories/password_auth_provider.h", modkit_password_auth_provider_category},
      {"modkit/categories/background_update_controller.h", modkit_background_update_controller_category},
      {"modkit/categories/account_data.h", modkit_account_data_category},
      {"modkit/categories/extra_unsigned_fields.h", modkit_extra_unsigned_fields_category},
      {"modkit/categories/media_repository.h", modkit_media_repository_category},
      {"modkit/categories/ratelimit.h", modkit_ratelimit_category},
      {"modkit/categories/federation.h", modkit_federation_category},
   };
   return categories;
}

std::vector<const modkit_category *> standard_category_descriptors() {
   std::vector<const modkit_category *> out;
   for (const StandardCategory &c : standard_categories()) out.push_back(c.descriptor());
   return out;
}

} // namespace modkit::cli
