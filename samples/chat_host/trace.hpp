// trace.hpp - what the modules did for one request: the callbacks that ran, on which modules,
// what each answered and which module decided. The scenario runner prints it; HTTP clients
// never see it.
#pragma once

#include <string>
#include <vector>

namespace chat {

struct ModuleAnswer {
   std::string module;
   std::string answer; // "not_spam", "M_FORBIDDEN", "error internal", "" for notifications
};

struct CallbackRun {
   std::string callback;              // "spam_checker.check_event_for_spam"
   std::vector<ModuleAnswer> answers; // every module called, in call order
   std::string decided_by;            // the module whose answer decided; empty if none did
   std::string outcome;               // "no objection", "decided: M_FORBIDDEN", "error: internal"
};

struct Trace {
   std::vector<CallbackRun> runs;
   std::vector<std::string> notes; // host-side facts worth showing (who received a presence update)
   void note(std::string text) { notes.push_back(std::move(text)); }
};

// Passed down every handler: the request ID modules see, and where their calls are recorded.
struct CallContext {
   std::string request_id;
   Trace *trace = nullptr;
};

} // namespace chat
