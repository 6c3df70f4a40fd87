#include "json_category.hpp"

#include "config.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace modkit::loader {

namespace {

// Where a callbacks struct's first function pointer sits: after uint32_t struct_size, aligned
// for a pointer (8 on LP64, 4 on 32-bit targets).
constexpr size_t first_slot = std::max(sizeof(uint32_t), alignof(void (*)(void)));

const std::pair<const char *, modkit_combine> combines[] = {
   {"first_non_zero", MODKIT_COMBINE_FIRST_NON_ZERO}, {"all_true", MODKIT_COMBINE_ALL_TRUE},
   {"run_all", MODKIT_COMBINE_RUN_ALL},               {"merge", MODKIT_COMBINE_MERGE},
   {"single", MODKIT_COMBINE_SINGLE},                 {"keyed", MODKIT_COMBINE_KEYED},
   {"chained", MODKIT_COMBINE_CHAINED},
};
const std::pair<const char *, modkit_on_error> on_errors[] = {
   {"fail_open", MODKIT_ON_ERROR_FAIL_OPEN},
   {"fail_closed", MODKIT_ON_ERROR_FAIL_CLOSED},
   {"propagate", MODKIT_ON_ERROR_PROPAGATE},
};

struct Reader {
   std::string &error;

   bool fail(const std::string &pointer, const std::string &message) {
      error = pointer + ": " + message;
      return false;
   }
   bool string(const nlohmann::json &obj, const char *key, const std::string &at, std::string &out, bool required = true) {
      auto it = obj.find(key);
      if (it == obj.end() || it->is_null()) {
         if (!required) return true;
         return fail(at + "/" + key, "missing; expected a string");
      }
      if (!it->is_string() || it->get_ref<const std::string &>().empty())
         return fail(at + "/" + key, "expected a non-empty string, got " + json_type_name(*it));
      out = it->get<std::string>();
      return true;
   }
   bool integer(const nlohmann::json &obj, const char *key, const std::string &at, int64_t lo, int64_t hi,
                int64_t &out, bool required = true) {
      auto it = obj.find(key);
      if (it == obj.end()) {
         if (!required) return true;
         return fail(at + "/" + key, "missing; expected an integer");
      }
      if (!it->is_number_integer() || it->get<int64_t>() < lo || it->get<int64_t>() > hi)
         return fail(at + "/" + key, "expected an integer from " + std::to_string(lo) + " to " + std::to_string(hi) +
                                        ", got " + json_excerpt(*it));
      out = it->get<int64_t>();
      return true;
   }
   template <class T, size_t N>
   bool named(const nlohmann::json &obj, const char *key, const std::string &at, const std::pair<const char *, T> (&table)[N],
              T &out) {
      std::string name;
      if (!string(obj, key, at, name)) return false;
      for (const auto &[n, v] : table) {
         if (name == n) {
            out = v;
            return true;
         }
      }
      std::string known;
      for (const auto &entry : table) known += (known.empty() ? "" : ", ") + std::string(entry.first);
      return fail(at + "/" + key, "unknown \"" + name + "\"; expected one of " + known);
   }
};

} // namespace

bool CategoryStore::add_json(const std::string &text, std::vector<const modkit_category *> &out, std::string &error) {
   const nlohmann::json root = nlohmann::json::parse(text, nullptr, false);
   Reader r{error};
   if (root.is_discarded()) return r.fail("", "categories JSON is not valid JSON");
   if (!root.is_array()) return r.fail("", "expected an array of categories, got " + json_type_name(root));
   std::deque<Built> built;
   for (size_t i = 0; i < root.size(); ++i) {
      const nlohmann::json &c = root[i];
      const std::string at = "/" + std::to_string(i);
      if (!c.is_object()) return r.fail(at, "expected an object, got " + json_type_name(c));
      Built &b = built.emplace_back();
      auto keep = [&b](const std::string &s) { return b.strings.emplace_back(s).c_str(); };
      std::string id;
      int64_t major = 0, minor = 0;
      if (!r.string(c, "id", at, id) || !r.integer(c, "major", at, 0, 65535, major) ||
          !r.integer(c, "minor", at, 0, 65535, minor, false))
         return false;
      auto slots = c.find("slots");
      if (slots == c.end() || !slots->is_array() || slots->empty())
         return r.fail(at + "/slots", "expected a non-empty array of slots");
      for (size_t s = 0; s < slots->size(); ++s) {
         const nlohmann::json &j = (*slots)[s];
         const std::string sat = at + "/slots/" + std::to_string(s);
         if (!j.is_object()) return r.fail(sat, "expected an object");
         modkit_slot_desc d{};
         std::string name, signature, chain;
         int64_t since = 0, out_max = -1;
         if (!r.string(j, "name", sat, name) || !r.string(j, "signature", sat, signature) ||
             !r.named(j, "combine", sat, combines, d.combine) || !r.named(j, "on_error", sat, on_errors, d.on_error) ||
             !r.string(j, "chain_to", sat, chain, false) || !r.integer(j, "since", sat, 0, minor, since, false) ||
             !r.integer(j, "out_max", sat, -1, INT32_MAX, out_max, false))
            return false;
         d.name = keep(name);
         d.signature = keep(signature);
         d.chain_to = chain.empty() ? nullptr : keep(chain);
         d.since_minor = static_cast<uint16_t>(since);
         d.out_max = static_cast<int32_t>(out_max);
         d.offset = static_cast<uint32_t>(first_slot + s * sizeof(void (*)(void)));
         b.slots.push_back(d);
      }
      if (auto types = c.find("types"); types != c.end()) {
         if (!types->is_array()) return r.fail(at + "/types", "expected an array of struct types");
         for (size_t t = 0; t < types->size(); ++t) {
            const nlohmann::json &j = (*types)[t];
            const std::string tat = at + "/types/" + std::to_string(t);
            if (!j.is_object()) return r.fail(tat, "expected an object");
            std::string name;
            int64_t size = 0;
            if (!r.string(j, "name", tat, name) || !r.integer(j, "size", tat, 4, 1 << 16, size)) return false;
            auto fields = j.find("fields");
            if (fields == j.end() || !fields->is_array()) return r.fail(tat + "/fields", "expected an array of fields");
            auto &fs = b.fields.emplace_back();
            for (size_t f = 0; f < fields->size(); ++f) {
               const nlohmann::json &fj = (*fields)[f];
               const std::string fat = tat + "/fields/" + std::to_string(f);
               if (!fj.is_object()) return r.fail(fat, "expected an object");
               std::string fname, ftype;
               int64_t offset = 0;
               if (!r.string(fj, "name", fat, fname) || !r.string(fj, "type", fat, ftype) ||
                   !r.integer(fj, "offset", fat, 4, size - 1, offset))
                  return false;
               fs.push_back({keep(fname), keep(ftype), static_cast<uint32_t>(offset)});
            }
            b.types.push_back({keep(name), static_cast<uint32_t>(size), static_cast<uint32_t>(fs.size()), fs.data()});
         }
      }
      modkit_category &cat = b.category;
      cat.struct_size = sizeof cat;
      cat.major = static_cast<uint16_t>(major);
      cat.minor = static_cast<uint16_t>(minor);
      cat.id = keep(id);
      cat.callbacks_size = static_cast<uint32_t>(first_slot + b.slots.size() * sizeof(void (*)(void)));
      cat.slot_count = static_cast<uint32_t>(b.slots.size());
      cat.slots = b.slots.data();
      cat.type_count = static_cast<uint32_t>(b.types.size());
      cat.types = b.types.empty() ? nullptr : b.types.data();
   }
   for (auto &b : built) {
      built_.push_back(std::move(b));
      out.push_back(&built_.back().category);
   }
   return true;
}

} // namespace modkit::loader
