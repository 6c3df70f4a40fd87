// modkit/sdk/callback.hpp - one optional C++ callback of a category, set like a keyword argument.
//
//    modkit::SpamCheckerCallbacks callbacks;
//    callbacks.check_event_for_spam = {this, &SpamFilter::check_event_for_spam};
//    callbacks.user_may_invite = [](std::string_view inviter, std::string_view invitee,
//                                   std::string_view room_id) { ... };
//
// A callable may take modkit::Call & as its first parameter to see the request ID, deadline
// and cancellation; the SDK passes it when the callable accepts it. Unset callbacks stay null
// and are not registered.
#pragma once

#include <modkit/sdk/call.hpp>

#include <cstddef>
#include <functional>
#include <type_traits>
#include <utility>

namespace modkit {

namespace detail {

template <class>
inline constexpr bool always_false = false;

// obj->*method as a callable whose call operator drops out of overload resolution when the
// arguments do not fit, so Callback can ask whether the method takes a modkit::Call &.
template <class T, class Method>
struct BoundMethod {
   T *object;
   Method method;

   template <class... A>
   auto operator()(A &&...args) const
      -> decltype(std::invoke(std::declval<Method>(), std::declval<T *>(), std::forward<A>(args)...)) {
      return std::invoke(method, object, std::forward<A>(args)...);
   }
};

} // namespace detail

template <class Signature>
class Callback;

// Thread rule: set it before registration (in the constructor); the host may then call it
// from several threads at once when the category says so (every standard category does), so
// what it captures must be safe to use concurrently.
template <class R, class... Args>
class Callback<R(Args...)> {
public:
   using result_type = R;
   using function_type = std::function<R(Call &, Args...)>;

   Callback() noexcept = default;
   Callback(std::nullptr_t) noexcept {}

   // Any callable taking (Call &, Args...) or (Args...) and returning something R converts from.
   template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, Callback> &&
                                               !std::is_same_v<std::decay_t<F>, std::nullptr_t>>>
   Callback(F &&f) : fn_(adapt(std::forward<F>(f))) {}

   // A member function of object: {this, &Module::method}. object must outlive the
   // registration, which it does when it is the module instance.
   template <class T, class Method, class = std::enable_if_t<std::is_member_function_pointer_v<Method>>>
   Callback(T *object, Method method) : fn_(adapt(detail::BoundMethod<T, Method>{object, method})) {}

   explicit operator bool() const noexcept { return static_cast<bool>(fn_); }

   R operator()(Call &call, Args... args) const { return fn_(call, std::forward<Args>(args)...); }

private:
   template <class F>
   static function_type adapt(F &&f) {
      using Fn = std::decay_t<F>;
      if constexpr (std::is_invocable_r_v<R, Fn &, Call &, Args...>) {
         return function_type(std::forward<F>(f));
      } else if constexpr (std::is_invocable_r_v<R, Fn &, Args...>) {
         return function_type([g = Fn(std::forward<F>(f))](Call &, Args... args) mutable -> R {
            return g(std::forward<Args>(args)...);
         });
      } else {
         static_assert(detail::always_false<F>,
                       "modkit::Callback: the callable must take the callback's parameters "
                       "(optionally preceded by modkit::Call &) and return its result type");
         return function_type();
      }
   }

   function_type fn_;
};

} // namespace modkit
