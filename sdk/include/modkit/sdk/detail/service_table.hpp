// modkit/sdk/detail/service_table.hpp - a standard service's C table, for the wrappers in
// sdk/services/.
#pragma once

#include <modkit/sdk/api.hpp>
#include <modkit/sdk/error.hpp>

#include <cstddef>
#include <string>

namespace modkit::detail {

// The table the host offers under id, when it is at least min_size bytes long (up to the end of
// the last field the wrapper calls); else Error(MODKIT_E_UNSUPPORTED). Owned by the host and
// valid until deinit, like every get_extension answer.
// [thread-safe]
template <class Table>
const Table *service_table(const Api &api, const char *id, std::size_t min_size) {
   const Table *table = api.get_extension<Table>(id);
   if (table == nullptr || table->struct_size < min_size)
      throw Error(MODKIT_E_UNSUPPORTED, std::string("the host offers no ") + id);
   return table;
}

} // namespace modkit::detail
