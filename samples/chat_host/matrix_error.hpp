// matrix_error.hpp - a refusal as Matrix clients read it: an HTTP status, an errcode and a
// message. Thrown by handlers and by the input checks; the router turns it into the response.
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace chat {

class MatrixError : public std::runtime_error {
public:
   MatrixError(int status, std::string errcode, const std::string &message,
               nlohmann::json extra = nlohmann::json::object())
      : std::runtime_error(message), status_(status), errcode_(std::move(errcode)), extra_(std::move(extra)) {}
   int status() const { return status_; }
   const std::string &errcode() const { return errcode_; }
   const nlohmann::json &extra() const { return extra_; }

private:
   int status_;
   std::string errcode_;
   nlohmann::json extra_;
};

} // namespace chat
