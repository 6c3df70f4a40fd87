// type_names.hpp - the C spelling of a field's type, computed from the type itself, so that a
// retyped field or a parameter added to a function pointer changes the ABI description without
// anyone editing a table. Integers are named by signedness and width ("int32_t"), which is what
// matters across the boundary (modkit_status is int32_t; size_t is uint64_t on LP64).
#pragma once

#include <string>
#include <type_traits>

namespace modkit::cli::detail {

template <class> inline constexpr bool dependent_false = false;

// Names of the ABI's struct and handle types; abi_table.cpp specialises it for every type in
// abi_list.inc. A field of any other type fails to compile here, which is the point.
template <class T>
struct named_type {
   static_assert(dependent_false<T>, "a field uses a type missing from abi/probe/abi_list.inc");
};

template <class T> std::string type_name();

template <class F> struct function_type;
template <class R, class... A>
struct function_type<R(A...)> {
   static std::string pointer_name() {
      std::string params;
      ((params += (params.empty() ? "" : ", ") + type_name<A>()), ...);
      return type_name<R>() + " (*)(" + (params.empty() ? "void" : params) + ")";
   }
};

template <class T>
std::string type_name() {
   if constexpr (std::is_const_v<T>) {
      return "const " + type_name<std::remove_const_t<T>>();
   } else if constexpr (std::is_volatile_v<T>) {
      return "volatile " + type_name<std::remove_volatile_t<T>>();
   } else if constexpr (std::is_pointer_v<T>) {
      using P = std::remove_pointer_t<T>;
      if constexpr (std::is_function_v<P>)
         return function_type<P>::pointer_name();
      else
         return type_name<P>() + " *";
   } else if constexpr (std::is_array_v<T>) {
      return type_name<std::remove_extent_t<T>>() + "[" + std::to_string(std::extent_v<T>) + "]";
   } else if constexpr (std::is_void_v<T>) {
      return "void";
   } else if constexpr (std::is_same_v<T, bool>) {
      return "bool";
   } else if constexpr (std::is_same_v<T, char>) {
      return "char";
   } else if constexpr (std::is_integral_v<T>) {
      return std::string(std::is_signed_v<T> ? "int" : "uint") + std::to_string(8 * sizeof(T)) + "_t";
   } else if constexpr (std::is_floating_point_v<T>) {
      return sizeof(T) == sizeof(double) ? "double" : sizeof(T) == sizeof(float) ? "float" : "long double";
   } else {
      return named_type<T>::name;
   }
}

} // namespace modkit::cli::detail
