// abi_json.hpp - the ABI description as JSON (the `modkit abi dump` document) and back.
#pragma once

#include "abi_model.hpp"
#include "abi_text.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace modkit::cli {

// The value of the document's "format" key; bumped if the document's shape ever changes.
inline constexpr const char abi_format[] = "modkit-abi/1";

nlohmann::json abi_to_json(const AbiModel &model);

// Why a document is not an ABI description: the JSON pointer of the offending value and what
// was expected there.
class AbiFormatError : public std::runtime_error {
public:
   using std::runtime_error::runtime_error;
};

// Reads a document abi_to_json wrote; throws AbiFormatError. Keys it does not know are ignored,
// so later modkit versions may add some.
AbiModel abi_from_json(const nlohmann::json &doc);

} // namespace modkit::cli
