#pragma once
// Names for the daemon's threads (as `top -H`, `ps -L` and perf show them) and their share of the CPU.
#include <functional>
#include <string_view>
#include <thread>

namespace leadrelay::util {

// Names the calling thread (at most 15 characters are kept).
void name_this_thread(std::string_view name);

// Background work (moving leads from the intake log into the store, routing, delivery) yields to intake when both
// want the CPU: a background thread's nice value is `steps` above the process's, and with `idle` it runs under
// SCHED_IDLE, only when nothing else wants the CPU. Under a burst, senders are answered first and the backlog waits
// on disk; when the CPU is free, background threads run at full speed. Set once at start, before they begin.
void set_background_priority(int steps, bool idle);
// Called by a background thread as it starts. Lowering one's own priority needs no rights; errors are ignored.
void enter_background();
// Raises the calling thread's nice value by `steps` (from whatever the process runs at); errors are ignored.
void lower_this_thread(int steps);
// A thread named `name` that enters the background, then runs `body`.
std::thread background_thread(std::string_view name, std::function<void()> body);

}  // namespace leadrelay::util
