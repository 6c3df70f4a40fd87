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
//
// In a module compiled as C++20, the callable may also be a coroutine returning
// modkit::task<R> instead of R (see task.hpp); registration is the same:
//    callbacks.check_event_for_spam = [this](const modkit::Event &e) -> modkit::task<modkit::SpamResult> {
//       co_return co_await classify(e);
//    };
// Its parameters (the Call, the event, every string) stay valid until the coroutine ends.
#pragma once

#include <modkit/sdk/call.hpp>
#include <modkit/sdk/task.hpp>

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
#if MODKIT_SDK_HAS_COROUTINES
   using coroutine_type = std::function<task<R>(Call &, Args...)>;
#endif

   Callback() noexcept = default;
   Callback(std::nullptr_t) noexcept {}

   // Any callable taking (Call &, Args...) or (Args...) and returning something R converts
   // from, or (C++20) a coroutine taking them and returning modkit::task<R>.
   template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, Callback> &&
                                               !std::is_same_v<std::decay_t<F>, std::nullptr_t>>>
   Callback(F &&f) {
      set(std::forward<F>(f));
   }

   // A member function of object: {this, &Module::method}. object must outlive the
   // registration, which it does when it is the module instance.
   template <class T, class Method, class = std::enable_if_t<std::is_member_function_pointer_v<Method>>>
   Callback(T *object, Method method) {
      set(detail::BoundMethod<T, Method>{object, method});
   }

   explicit operator bool() const noexcept {
#if MODKIT_SDK_HAS_COROUTINES
      if (co_fn_) return true;
#endif
      return static_cast<bool>(fn_);
   }

   // Calls it and gives its answer. A coroutine callback is run to its end first, this thread
   // waiting for it (the SDK's trampolines start it without waiting when the host can suspend).
   R operator()(Call &call, Args... args) const {
#if MODKIT_SDK_HAS_COROUTINES
      if (co_fn_) return detail::run_blocking(co_fn_(call, std::forward<Args>(args)...));
#endif
      return fn_(call, std::forward<Args>(args)...);
   }

#if MODKIT_SDK_HAS_COROUTINES
   // True when the callable is a coroutine (returns modkit::task<R>).
   bool is_coroutine() const noexcept { return static_cast<bool>(co_fn_); }

   // A coroutine callback's task, not yet started. Requires is_coroutine().
   task<R> start(Call &call, Args... args) const { return co_fn_(call, std::forward<Args>(args)...); }
#endif

private:
   template <class F>
   void set(F &&f) {
      using Fn = std::decay_t<F>;
#if MODKIT_SDK_HAS_COROUTINES
      // Checked first: every type converts to void, so a task<void> would pass as a void result.
      if constexpr (returns_task<Fn, Call &, Args...>()) {
         co_fn_ = coroutine_type(std::forward<F>(f));
         return;
      } else if constexpr (returns_task<Fn, Args...>()) {
         co_fn_ = coroutine_type([g = Fn(std::forward<F>(f))](Call &, Args... args) mutable -> task<R> {
            return g(std::forward<Args>(args)...);
         });
         return;
      } else
#endif
      if constexpr (std::is_invocable_r_v<R, Fn &, Call &, Args...>) {
         fn_ = function_type(std::forward<F>(f));
      } else if constexpr (std::is_invocable_r_v<R, Fn &, Args...>) {
         fn_ = function_type([g = Fn(std::forward<F>(f))](Call &, Args... args) mutable -> R {
            return g(std::forward<Args>(args)...);
         });
      } else {
         static_assert(detail::always_false<F>,
                       "modkit::Callback: the callable must take the callback's parameters "
                       "(optionally preceded by modkit::Call &) and return its result type "
                       "(or, in C++20, modkit::task of it)");
      }
   }

#if MODKIT_SDK_HAS_COROUTINES
   template <class Fn, class... P>
   static constexpr bool returns_task() {
      if constexpr (std::is_invocable_v<Fn &, P...>)
         return std::is_same_v<std::invoke_result_t<Fn &, P...>, task<R>>;
      else
         return false;
   }

   coroutine_type co_fn_;
#endif
   function_type fn_;
};

} // namespace modkit
