// call_frames.cpp - the thread-local frame and chain behind call_frames.hpp.
#include "call_frames.hpp"

namespace chat {

namespace {
thread_local const ModuleFrame *innermost = nullptr;
thread_local const CallChain *running_chain = nullptr;
const CallChain no_chain;
} // namespace

ModuleFrame::ModuleFrame(const std::string &module, const std::string &callback)
   : module_(module), callback_(callback), outer_(innermost) {
   innermost = this;
}

ModuleFrame::~ModuleFrame() { innermost = outer_; }

const ModuleFrame *ModuleFrame::current() { return innermost; }

ActionScope::ActionScope(const CallChain &chain) : outer_(running_chain) { running_chain = &chain; }

ActionScope::~ActionScope() { running_chain = outer_; }

const CallChain &ActionScope::current() { return running_chain ? *running_chain : no_chain; }

} // namespace chat
