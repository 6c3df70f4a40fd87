// call_frames.hpp - which module callback the current thread is running, and on whose behalf:
// what the homeserver API needs to refuse an action that would re-enter the callback that asked
// for it (include/chat_host/homeserver.h, "Re-entry").
//
// Both records are thread-local, so they need no lock: a module callback's frame is pushed by
// the dispatch around the module's synchronous call, and an action's chain is set by the
// homeserver's worker while the action runs. A module that completes a suspended call on a
// thread of its own runs the next modules of that dispatch there, without the chain: re-entry
// is detected for calls made on the thread the host called the module on.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace chat {

// (module, callback): the callback calls an action asked for on the way here.
using CallChain = std::vector<std::pair<std::string, std::string>>;

// Pushed around one module's synchronous callback call.
class ModuleFrame {
public:
   ModuleFrame(const std::string &module, const std::string &callback);
   ~ModuleFrame();
   ModuleFrame(const ModuleFrame &) = delete;
   ModuleFrame &operator=(const ModuleFrame &) = delete;

   // The innermost frame on this thread, or nullptr outside any module callback.
   static const ModuleFrame *current();
   const std::string &module() const { return module_; }
   const std::string &callback() const { return callback_; }

private:
   const std::string &module_, &callback_;
   const ModuleFrame *outer_;
};

// Set by the worker running an action: the chain of callbacks that led to it.
class ActionScope {
public:
   explicit ActionScope(const CallChain &chain);
   ~ActionScope();
   ActionScope(const ActionScope &) = delete;
   ActionScope &operator=(const ActionScope &) = delete;

   // The chain of the action this thread runs (empty when none).
   static const CallChain &current();

private:
   const CallChain *outer_;
};

} // namespace chat
