// The category samples loaded the way a host loads them: the real loader, every standard
// category, the samples' module directory; slots reached through dispatch_json, and the log
// lines each module writes kept for the tests.
#pragma once

#include <modkit/all.h>
#include <modkit/loader.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace sample_tests {

using nlohmann::json;

class SampleHost {
public:
   // modules: the host config's "modules" array. Throws modkit::LoadError when loading fails.
   explicit SampleHost(const json &modules) : log_(std::make_shared<Log>()), loader_(options(log_)) {
      const json config = {{"module_path", {MODKIT_SAMPLE_MODULE_DIR}}, {"modules", modules}};
      loader_.load(config.dump());
   }
   ~SampleHost() { modkit_loader_buffer_destroy(out_); }
   SampleHost(const SampleHost &) = delete;
   SampleHost &operator=(const SampleHost &) = delete;

   // The dispatch's result document (see modkit_loader_dispatch_json), plus "returned": the
   // status name it returned.
   json dispatch(const char *category, const char *slot, const json &args) {
      const std::string text = args.dump();
      modkit_loader_buffer_clear(out_);
      const modkit_status s =
         modkit_loader_dispatch_json(loader_.get(), category, slot, text.data(), text.size(), nullptr, out_);
      const modkit_str r = modkit_loader_buffer_data(out_);
      json doc = json::parse(std::string(r.data, r.size));
      doc["returned"] = modkit_status_name(s);
      return doc;
   }

   // The deciding module's outputs, or null when nobody decided.
   json answer(const char *category, const char *slot, const json &args) {
      const json doc = dispatch(category, slot, args);
      INFO(doc.dump());
      REQUIRE(doc["returned"] == "ok");
      return doc["answer"];
   }

   // What every module registered (modkit_loader_describe_json).
   json describe() {
      modkit_loader_buffer_clear(out_);
      REQUIRE(modkit_loader_describe_json(loader_.get(), out_) == MODKIT_OK);
      const modkit_str r = modkit_loader_buffer_data(out_);
      return json::parse(std::string(r.data, r.size));
   }

   // True when a module logged a line containing fragment.
   bool logged(const std::string &fragment) const {
      const std::lock_guard<std::mutex> lock(log_->mutex);
      for (const auto &line : log_->lines)
         if (line.find(fragment) != std::string::npos) return true;
      return false;
   }

   // What follows fragment in the first log line containing it; "" when none does.
   std::string logged_after(const std::string &fragment) const {
      const std::lock_guard<std::mutex> lock(log_->mutex);
      for (const auto &line : log_->lines) {
         const size_t at = line.find(fragment);
         if (at != std::string::npos) return line.substr(at + fragment.size());
      }
      return {};
   }

private:
   struct Log {
      std::mutex mutex;
      std::vector<std::string> lines; // "[module] message"
   };

   static modkit::Loader::Options options(std::shared_ptr<Log> log) {
      modkit::Loader::Options o;
      o.categories = {modkit_spam_checker_category(),
                      modkit_third_party_rules_category(),
                      modkit_presence_router_category(),
                      modkit_account_validity_category(),
                      modkit_password_auth_provider_category(),
                      modkit_background_update_controller_category(),
                      modkit_account_data_category(),
                      modkit_extra_unsigned_fields_category(),
                      modkit_media_repository_category(),
                      modkit_ratelimit_category(),
                      modkit_federation_category()};
      o.log = [log](modkit_log_level, const char *module, std::string_view message) {
         const std::lock_guard<std::mutex> lock(log->mutex);
         log->lines.push_back("[" + std::string(module ? module : "") + "] " + std::string(message));
      };
      return o;
   }

   std::shared_ptr<Log> log_;
   modkit::Loader loader_;
   modkit_buffer *out_ = modkit_loader_buffer_create();
};

// The loader's errors for a config that must not load, one line each.
inline std::string load_errors(const json &modules) {
   try {
      SampleHost host(modules);
   } catch (const modkit::LoadError &e) {
      return e.what();
   }
   return "loaded";
}

} // namespace sample_tests
