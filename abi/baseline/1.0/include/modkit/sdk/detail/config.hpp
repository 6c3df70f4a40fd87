// modkit/sdk/detail/config.hpp - how a module class takes its configuration.
//
// A module class may declare
//    static Config parse_config(const nlohmann::json &raw);   // optional
//    static nlohmann::json config_schema();                   // optional
// and its constructor takes (Config, modkit::Api &); without parse_config, Config is
// nlohmann::json (the raw config, as Synapse passes the raw dict).
//
// The parsed config crosses the boundary as JSON text. When Config converts to and from
// nlohmann::json (to_json/from_json), parse_config's result is what the host records and init
// receives, so the host shows the normalised config ("5m" -> 300000). Otherwise the raw config
// goes through and init runs parse_config on it again, which is why parse_config must be pure.
#pragma once

#include <modkit/sdk/error.hpp>
#include <modkit/sdk/str.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <type_traits>
#include <utility>

namespace modkit::detail {

template <class M, class = void>
struct has_parse_config : std::false_type {};
template <class M>
struct has_parse_config<M, std::void_t<decltype(M::parse_config(std::declval<const nlohmann::json &>()))>>
   : std::true_type {};

template <class M, class = void>
struct has_config_schema : std::false_type {};
template <class M>
struct has_config_schema<M, std::void_t<decltype(nlohmann::json(M::config_schema()))>> : std::true_type {};

template <class M, bool = has_parse_config<M>::value>
struct config_of {
   using type = nlohmann::json;
};
template <class M>
struct config_of<M, true> {
   using type = std::decay_t<decltype(M::parse_config(std::declval<const nlohmann::json &>()))>;
};

template <class T, class = void>
struct json_round_trip : std::false_type {};
template <class T>
struct json_round_trip<T, std::void_t<decltype(nlohmann::json(std::declval<const T &>())),
                                      decltype(std::declval<const nlohmann::json &>().template get<T>())>>
   : std::true_type {};

// Runs f, reporting a JSON library exception (a wrong type, a missing key) as a config error:
// reading the config is the only JSON work these steps do.
template <class F>
decltype(auto) as_config_step(F &&f) {
   try {
      return std::forward<F>(f)();
   } catch (const nlohmann::json::exception &e) {
      throw ConfigError(e.what());
   }
}

inline nlohmann::json parse_config_text(modkit_str text) {
   nlohmann::json value = nlohmann::json::parse(to_view(text), nullptr, false);
   if (value.is_discarded()) throw ConfigError("the config is not valid JSON");
   return value;
}

template <class M>
struct ConfigSteps {
   using Config = typename config_of<M>::type;
   static constexpr bool parses = has_parse_config<M>::value;
   static constexpr bool normalises = parses && json_round_trip<Config>::value;

   // parse_config's work: the JSON text init will receive.
   static std::string parse(modkit_str raw_text) {
      if constexpr (parses) {
         const nlohmann::json raw = parse_config_text(raw_text);
         Config config = as_config_step([&] { return M::parse_config(raw); });
         if constexpr (normalises) {
            return nlohmann::json(config).dump();
         } else {
            return std::string(to_view(raw_text));
         }
      } else {
         return std::string(to_view(raw_text));
      }
   }

   // init's work: the Config the constructor receives.
   static Config load(modkit_str text) {
      const nlohmann::json value = parse_config_text(text);
      if constexpr (normalises) {
         return as_config_step([&] { return value.template get<Config>(); });
      } else if constexpr (parses) {
         return as_config_step([&] { return M::parse_config(value); });
      } else {
         return value;
      }
   }
};

} // namespace modkit::detail
