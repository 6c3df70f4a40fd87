// blocking.hpp - what code says before it waits for another thread.
#pragma once

namespace chat {

// Called just before waiting for something other than this thread's own work: a module's
// suspended call, homeserver actions to end. On the thread that leads the HTTP server's loop
// while it runs a request (loop_threads.hpp), the loop is passed to another thread first, so
// other clients are served meanwhile; anywhere else it does nothing. [any thread]
void will_block() noexcept;

} // namespace chat
